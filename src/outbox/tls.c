/* The epp-tls adapter: change sets go to each registry's EPP server in a
 * live session (RFC 5730, RFC 5734).
 *
 * Nothing is applied twice: the drain records a change set's attempt before
 * its commands go out (outbox.c), and whenever the outcome of a command is
 * unknown (a response lost with the connection, or an attempt of an earlier
 * run) an <info> first asks whether the change is already in place; only if
 * not is the command sent again, with the same clTRID.  Result codes: 1000
 * and 1001 are success; 2400 and the 2500 series (and a lost connection) are
 * retried with back-off, up to epp.retries times, then the registry waits
 * for the next run; 2304 to the domain update (and an <info> showing
 * clientUpdateProhibited or serverUpdateProhibited where the change is not
 * in place) is a registry lock: the change set fails and the drain
 * suspends the domain; every other 2xxx fails the change set with the
 * server's message. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "outbox_internal.h"

/* STEP_LOCKED: the registry forbids updates of the domain (RFC 5731
 * §2.3 clientUpdateProhibited or serverUpdateProhibited, or a 2304 answer
 * to the domain update). */
enum step_result { STEP_OK, STEP_FAILED, STEP_UNAVAILABLE, STEP_LOCKED, STEP_SEND };

struct regsess {
	const struct cds_registry *reg;
	struct cds_epp_session *s;
	char password[512]; /* wiped with OPENSSL_cleanse at the end */
	bool unavailable;   /* given up for this run */
};

/* The adapter's state: a session per registry profile. */
struct tls {
	struct regsess *rs;
	size_t n;
};

static void backoff(unsigned tries)
{
	unsigned ms = 100u << (tries < 5 ? tries : 5);
	if (ms > 2000)
		ms = 2000;
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* RFC 5730 pwType: 6 to 16 characters; anything else is refused before it
 * is sent (and not shown). */
static int check_password(const struct cds_registry *reg, const char *password, char *err,
			  size_t errlen)
{
	size_t n = strlen(password);
	if (n >= 6 && n <= 16)
		return 0;
	snprintf(err, errlen, "registry %s: the EPP password must have 6 to 16 characters (has %zu)",
		 reg->name, n);
	return CDS_ECONFIG;
}

int cds_outbox_epp_password(const struct cds_registry *reg, char *out, size_t outlen, char *err,
			    size_t errlen)
{
	if (reg->epp.password_env) {
		const char *v = getenv(reg->epp.password_env);
		if (!v) {
			snprintf(err, errlen, "registry %s: environment variable %s is not set",
				 reg->name, reg->epp.password_env);
			return CDS_ECONFIG;
		}
		snprintf(out, outlen, "%s", v);
		return check_password(reg, out, err, errlen);
	}
	if (!reg->epp.password_file) {
		snprintf(err, errlen, "registry %s: set epp.password-file or epp.password-env",
			 reg->name);
		return CDS_ECONFIG;
	}
	FILE *f = fopen(reg->epp.password_file, "r");
	if (!f || !fgets(out, (int)outlen, f)) {
		snprintf(err, errlen, "registry %s: epp.password-file %s: %s", reg->name,
			 reg->epp.password_file, f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return CDS_ECONFIG;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return check_password(reg, out, err, errlen);
}

/* The password from password-file (first line) or password-env. */
static int load_password(struct regsess *rs, char *err, size_t errlen)
{
	return cds_outbox_epp_password(rs->reg, rs->password, sizeof(rs->password), err, errlen);
}

int cds_outbox_epp_open(const struct cds_registry *reg, const char *password,
			struct cds_epp_session **out, char *err, size_t errlen)
{
	struct cds_epp_endpoint ep = {
		.server = reg->epp.server, .port = (uint16_t)reg->epp.port,
		.username = reg->epp.username ? reg->epp.username : "",
		.password = password, .client_cert = reg->epp.client_cert,
		.client_key = reg->epp.client_key, .ca_file = reg->epp.ca_file,
		.verify = reg->epp.verify, .timeout_ms = reg->epp.timeout_ms};
	return cds_epp_open(&ep, out, err, errlen);
}

static int open_session(struct regsess *rs, char *err, size_t errlen)
{
	const struct cds_registry *reg = rs->reg;
	int r = cds_outbox_epp_open(reg, rs->password, &rs->s, err, errlen);
	if (r == 0)
		cds_log_info("registry %s: EPP session open (%s port %u)", reg->name, reg->epp.server,
			     reg->epp.port);
	return r;
}

static void drop_session(struct regsess *rs)
{
	cds_epp_close(rs->s, false);
	rs->s = NULL;
}

/* An <info> of the domain or host name: its result code into *code and,
 * with 1000, what it says into *info (malloc'd, the caller frees it). */
static int fetch_info(struct regsess *rs, bool host, const char *name, const char *cltrid,
		      int *code, struct cds_epp_info **info, char *err, size_t errlen)
{
	char *xml = NULL, *raw = NULL;
	size_t len = 0, rl = 0;
	struct cds_epp_response resp;
	*info = NULL;
	int r = cds_epp_info(host, name, cltrid, &xml, &len);
	if (r == 0)
		r = cds_epp_exchange(rs->s, xml, len, &resp, &raw, &rl, err, errlen);
	free(xml);
	if (r != 0)
		return r;
	*code = resp.code;
	if (resp.code == 1000) {
		*info = malloc(sizeof(**info));
		r = *info ? cds_epp_parse_info(raw, rl, *info) : CDS_ENOMEM;
	} else {
		snprintf(err, errlen, "info: %d %s", resp.code, resp.msg);
	}
	free(raw);
	return r;
}

/* Does the info show the step's change in place? */
static bool shows_step(const struct cds_epp_info *info, const struct cds_epp_step *st)
{
	const char *items[CDS_EPP_INFO_MAX];
	const char(*src)[CDS_EPP_INFO_TEXT] = st->check == CDS_EPP_CHECK_DS     ? info->ds
					      : st->check == CDS_EPP_CHECK_KEYS ? info->keys
					      : st->check == CDS_EPP_CHECK_NS   ? info->ns
										: info->addrs;
	size_t n = st->check == CDS_EPP_CHECK_DS     ? info->nds
		   : st->check == CDS_EPP_CHECK_KEYS ? info->nkeys
		   : st->check == CDS_EPP_CHECK_NS   ? info->nns
						     : info->naddrs;
	for (size_t i = 0; i < n; i++)
		items[i] = src[i];
	char *have = NULL;
	int r = cds_epp_want(items, n, st->check == CDS_EPP_CHECK_NS, &have);
	/* Names compare without case (RFC 4343). */
	bool yes = r == 0 && strcasecmp(have, st->want ? st->want : "") == 0;
	free(have);
	return yes;
}

/* Is the step's change in place at the registry?  *yes tells; when it is
 * not and the domain's status forbids updates, locked gets those statuses
 * (else it is empty). */
static int in_place(struct regsess *rs, const struct cds_epp_step *st, const char *domain,
		    bool *yes, char *locked, size_t lockedlen, char *err, size_t errlen)
{
	bool host = st->check == CDS_EPP_CHECK_HOST || st->check == CDS_EPP_CHECK_GONE;
	char cltrid[128];
	struct cds_epp_info *info = NULL;
	int code = 0;
	snprintf(cltrid, sizeof(cltrid), "%s-info", st->cltrid);
	*yes = false;
	locked[0] = '\0';
	int r = fetch_info(rs, host, host ? st->host : domain, cltrid, &code, &info, err, errlen);
	if (r == 0 && code == 2303) /* no such object */
		*yes = st->check == CDS_EPP_CHECK_GONE;
	else if (r == 0 && code != 1000)
		r = CDS_EUNAVAIL;
	else if (r == 0 && st->check != CDS_EPP_CHECK_GONE)
		*yes = shows_step(info, st);
	if (r == 0 && !*yes && !host)
		cds_epp_info_update_prohibited(info, locked, lockedlen);
	free(info);
	return r;
}

/* After a 2304 to a domain update: which statuses lock it, for the
 * operator (best effort: empty when the <info> says nothing). */
static void lock_statuses(struct regsess *rs, const struct cds_epp_step *st, const char *domain,
			  char *which, size_t len)
{
	char cltrid[128], err[300];
	struct cds_epp_info *info = NULL;
	int code = 0;
	snprintf(cltrid, sizeof(cltrid), "%s-status", st->cltrid);
	which[0] = '\0';
	if (fetch_info(rs, false, domain, cltrid, &code, &info, err, sizeof(err)) == 0 && info)
		cds_epp_info_update_prohibited(info, which, len);
	free(info);
}

/* RFC 5732 §3.2.1: a host:create of an existing object fails (2302): bring
 * its addresses to what the change wants with a host:update instead. */
static int host_exists(struct regsess *rs, const struct cds_epp_step *st,
		       struct cds_epp_response *resp, char *err, size_t errlen)
{
	char cltrid[128], *xml = NULL, *raw = NULL;
	size_t len = 0, rl = 0;
	snprintf(cltrid, sizeof(cltrid), "%s-info", st->cltrid);
	int r = cds_epp_info(true, st->host, cltrid, &xml, &len);
	if (r == 0)
		r = cds_epp_exchange(rs->s, xml, len, resp, &raw, &rl, err, errlen);
	free(xml);
	if (r != 0 || resp->code != 1000) {
		free(raw);
		return r;
	}
	struct cds_epp_info *info = malloc(sizeof(*info));
	r = info ? cds_epp_parse_info(raw, rl, info) : CDS_ENOMEM;
	free(raw);
	if (r != 0) {
		free(info);
		return r;
	}
	/* want: the addresses, joined by ','. */
	const char *add[CDS_EPP_INFO_MAX], *rem[CDS_EPP_INFO_MAX];
	char wantbuf[4096];
	snprintf(wantbuf, sizeof(wantbuf), "%s", st->want ? st->want : "");
	size_t nadd = 0, nrem = 0;
	for (char *save = NULL, *a = strtok_r(wantbuf, ",", &save); a && nadd < CDS_EPP_INFO_MAX;
	     a = strtok_r(NULL, ",", &save)) {
		bool have = false;
		for (size_t i = 0; i < info->naddrs && !have; i++)
			have = strcmp(info->addrs[i], a) == 0;
		if (!have)
			add[nadd++] = a;
	}
	for (size_t i = 0; i < info->naddrs && nrem < CDS_EPP_INFO_MAX; i++) {
		char needle[CDS_EPP_INFO_TEXT + 2], hay[4100];
		snprintf(needle, sizeof(needle), ",%s,", info->addrs[i]);
		snprintf(hay, sizeof(hay), ",%s,", st->want ? st->want : "");
		if (!strstr(hay, needle))
			rem[nrem++] = info->addrs[i];
	}
	if (nadd == 0 && nrem == 0) {
		resp->code = 1000; /* already as wanted */
		free(info);
		return 0;
	}
	snprintf(cltrid, sizeof(cltrid), "%s-u", st->cltrid);
	struct cds_epp_host_change c = {.op = CDS_EPP_HOST_UPDATE, .host = st->host,
					.cltrid = cltrid, .add = add, .nadd = nadd,
					.rem = rem, .nrem = nrem};
	r = cds_epp_host_command(&c, &xml, &len);
	if (r == 0)
		r = cds_epp_exchange(rs->s, xml, len, resp, NULL, NULL, err, errlen);
	free(xml);
	free(info);
	return r;
}

static bool retryable(int code)
{
	return code == 2400 || (code >= 2500 && code <= 2502);
}

/* What a step's answer comes to: done, failed, locked, or to be tried again
 * (STEP_UNAVAILABLE; err says why). */
static enum step_result answered(struct regsess *rs, const char *domain,
				 const struct cds_epp_step *st, const struct cds_epp_response *resp,
				 char *svtrid, size_t svlen, char *why, size_t whylen, char *err,
				 size_t errlen)
{
	if (resp->code == 1000 || resp->code == 1001) {
		snprintf(svtrid, svlen, "%s", resp->svtrid);
		cds_log_info("%s: %s done (clTRID %s, svTRID %s)", domain, st->what, st->cltrid,
			     resp->svtrid);
		return STEP_OK;
	}
	snprintf(err, errlen, "%.80s: %d %.400s", st->what, resp->code, resp->msg);
	if (resp->code == 2304 && st->role == 0) {
		/* RFC 5730 §3: "object status prohibits operation".  The domain
		 * is locked at the registry: no retry will pass until someone
		 * lifts the lock, so automation stops for it. */
		char which[128];
		lock_statuses(rs, st, domain, which, sizeof(which));
		snprintf(why, whylen, "%.80s: %d %.300s%s%s%s", st->what, resp->code, resp->msg,
			 which[0] ? " (status " : "", which, which[0] ? ")" : "");
		return STEP_LOCKED;
	}
	if (!retryable(resp->code)) {
		snprintf(why, whylen, "%s", err);
		return STEP_FAILED;
	}
	cds_log_warning("%s: %s; will retry", domain, err);
	if (resp->code >= 2500)
		drop_session(rs); /* the server closes the session */
	return STEP_UNAVAILABLE;
}

/* After an unknown outcome: is the step's change already in place?
 * STEP_OK (it is), STEP_LOCKED (it is not and cannot be: why says so),
 * STEP_SEND (it is not: send it), STEP_UNAVAILABLE (no answer). */
static enum step_result check_first(struct regsess *rs, const char *domain,
				    const struct cds_epp_step *st, char *svtrid, size_t svlen,
				    char *why, size_t whylen, char *err, size_t errlen)
{
	bool yes = false;
	char locked[128];
	if (in_place(rs, st, domain, &yes, locked, sizeof(locked), err, errlen) != 0) {
		drop_session(rs);
		return STEP_UNAVAILABLE;
	}
	if (yes) {
		cds_log_notice("%s: %s is already in place (clTRID %s): not sent again", domain,
			       st->what, st->cltrid);
		snprintf(svtrid, svlen, "(already in place)");
		return STEP_OK;
	}
	if (locked[0] && st->role == 0) {
		snprintf(why, whylen, "%.80s: not in place, and the domain's status forbids "
				      "updates (status %s)",
			 st->what, locked);
		return STEP_LOCKED;
	}
	return STEP_SEND;
}

/* Send one step until it is done, failed for good, locked, or the
 * registry is out of reach for this run. */
static enum step_result run_step(struct regsess *rs, const char *domain,
				 const struct cds_epp_step *st, bool uncertain, char *svtrid,
				 size_t svlen, char *why, size_t whylen)
{
	const struct cds_registry *reg = rs->reg;
	char err[600] = "";
	for (unsigned tries = 0;; tries++) {
		if (tries > reg->epp.retries) {
			snprintf(why, whylen, "%s", err);
			return STEP_UNAVAILABLE;
		}
		if (tries)
			backoff(tries);
		if (!rs->s) {
			int r = open_session(rs, err, sizeof(err));
			if (r == CDS_ECONFIG) {
				snprintf(why, whylen, "%s", err);
				rs->unavailable = true;
				return STEP_UNAVAILABLE;
			}
			if (r != 0)
				continue;
		}
		if (uncertain) {
			enum step_result c = check_first(rs, domain, st, svtrid, svlen, why, whylen,
							 err, sizeof(err));
			if (c == STEP_UNAVAILABLE)
				continue;
			if (c != STEP_SEND)
				return c;
		}
		struct cds_epp_response resp;
		int r = cds_epp_exchange(rs->s, st->xml, st->len, &resp, NULL, NULL, err,
					 sizeof(err));
		if (r == 0 && resp.code == 2302 && st->host_op == CDS_EPP_HOST_CREATE && st->role < 0)
			r = host_exists(rs, st, &resp, err, sizeof(err));
		if (r != 0) {
			/* Lost with the connection: applied or not, unknown. */
			cds_log_warning("%s: %s (clTRID %s): %s; will check and retry", domain,
					st->what, st->cltrid, err);
			drop_session(rs);
			uncertain = true;
			continue;
		}
		if (resp.code == 2303 && st->host_op == CDS_EPP_HOST_DELETE && st->role > 0)
			resp.code = 1000; /* already gone */
		enum step_result a = answered(rs, domain, st, &resp, svtrid, svlen, why, whylen, err,
					      sizeof(err));
		if (a != STEP_UNAVAILABLE)
			return a;
	}
}

static struct regsess *regsess_for(struct tls *t, const struct cds_registry *r)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rs[i].reg == r)
			return &t->rs[i];
	return NULL;
}

static int tls_open(const struct cds_conf *conf, const char *spool_dir, void **state, char *err,
		    size_t errlen)
{
	bool any = false;
	for (size_t i = 0; i < conf->registry_count; i++)
		any |= conf->registries[i].epp.server != NULL;
	if (!any) {
		snprintf(err, errlen, "the epp-tls adapter needs a registry profile with epp.server "
				      "(registries in cdscan.yaml(5))");
		return CDS_ECONFIG;
	}
	struct tls *t = calloc(1, sizeof(*t));
	if (!t || !(t->rs = calloc(conf->registry_count, sizeof(*t->rs)))) {
		free(t);
		return CDS_ENOMEM;
	}
	t->n = conf->registry_count;
	for (size_t i = 0; i < t->n; i++) {
		char why[400];
		t->rs[i].reg = &conf->registries[i];
		if (!t->rs[i].reg->epp.server)
			t->rs[i].unavailable = true;
		else if (load_password(&t->rs[i], why, sizeof(why)) != 0) {
			cds_log_error("%s", why);
			t->rs[i].unavailable = true;
		}
	}
	*state = t;
	return 0;
}

static const char *tls_blocked(void *state, const struct cds_registry *reg)
{
	struct regsess *r = regsess_for(state, reg);
	if (!r)
		return "no registry profile takes it";
	if (!reg->epp.server)
		return "its registry has no epp.server";
	return r->unavailable ? "its registry is out of reach" : NULL;
}

static int tls_send(void *state, const struct outgoing *o, enum send_status *st, char *svtrid,
		    size_t svlen, char *why, size_t whylen)
{
	struct regsess *r = regsess_for(state, o->reg);
	const struct cds_change_set *cs = o->cs;
	bool uncertain = cs->attempts > 0;
	enum step_result res = STEP_OK;
	for (size_t k = 0; k < o->plan->n && res == STEP_OK; k++) {
		char sv[128] = "";
		res = run_step(r, cs->domain, &o->plan->steps[k], uncertain, sv, sizeof(sv), why,
			       whylen);
		if (o->plan->steps[k].role == 0)
			snprintf(svtrid, svlen, "%s", sv);
	}
	*st = res == STEP_OK       ? SEND_OK
	      : res == STEP_FAILED ? SEND_FAILED
	      : res == STEP_LOCKED ? SEND_LOCKED
				   : SEND_LATER;
	if (res == STEP_UNAVAILABLE) {
		cds_log_error("registry %s out of reach (%s): its change sets stay pending",
			      o->reg->name, why);
		r->unavailable = true;
	}
	return 0;
}

static const char *tls_destination(void *state)
{
	return "the registries";
}

static void tls_close(void *state)
{
	struct tls *t = state;
	for (size_t i = 0; i < t->n; i++) {
		cds_epp_close(t->rs[i].s, true);
		OPENSSL_cleanse(t->rs[i].password, sizeof(t->rs[i].password));
	}
	free(t->rs);
	free(t);
}

const struct adapter cds_tls_adapter = {
	.name = "epp-tls", .durable = false, .epp = true, .routed = true,
	.open = tls_open, .blocked = tls_blocked, .send = tls_send,
	.destination = tls_destination, .close = tls_close,
};
