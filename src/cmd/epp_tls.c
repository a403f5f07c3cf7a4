/* The epp-tls adapter of `cdscan epp send`: pending change sets go to each
 * registry's EPP server in a live session (RFC 5730, RFC 5734).
 *
 * Nothing is applied twice: before a change set's commands go out its
 * attempt count is committed, and whenever the outcome of a command is
 * unknown (a response lost with the connection, or an attempt of an earlier
 * run) an <info> first asks whether the change is already in place; only if
 * not is the command sent again, with the same clTRID.  Result codes: 1000
 * and 1001 are success; 2400 and the 2500 series (and a lost connection) are
 * retried with back-off, up to epp.retries times, then the change set waits
 * for the next run; every other 2xxx fails the change set with the server's
 * message.  One sender per database (an advisory lock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/epp.h"
#include "cdscan/error.h"
#include "cdscan/log.h"

#define LIST_BATCH 100

enum step_result { STEP_OK, STEP_FAILED, STEP_UNAVAILABLE };

struct regsess {
	const struct cds_registry *reg;
	struct cds_epp_session *s;
	char password[512];
	bool unavailable; /* given up for this run */
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
static int check_password(struct regsess *rs, char *err, size_t errlen)
{
	size_t n = strlen(rs->password);
	if (n >= 6 && n <= 16)
		return 0;
	snprintf(err, errlen, "registry %s: the EPP password must have 6 to 16 characters (has %zu)",
		 rs->reg->name, n);
	return CDS_ECONFIG;
}

/* The password from password-file (first line) or password-env. */
static int load_password(struct regsess *rs, char *err, size_t errlen)
{
	const struct cds_registry *reg = rs->reg;
	if (reg->epp.password_env) {
		const char *v = getenv(reg->epp.password_env);
		if (!v) {
			snprintf(err, errlen, "registry %s: environment variable %s is not set",
				 reg->name, reg->epp.password_env);
			return CDS_ECONFIG;
		}
		snprintf(rs->password, sizeof(rs->password), "%s", v);
		return check_password(rs, err, errlen);
	}
	if (!reg->epp.password_file) {
		snprintf(err, errlen, "registry %s: set epp.password-file or epp.password-env",
			 reg->name);
		return CDS_ECONFIG;
	}
	FILE *f = fopen(reg->epp.password_file, "r");
	if (!f || !fgets(rs->password, sizeof(rs->password), f)) {
		snprintf(err, errlen, "registry %s: epp.password-file %s: %s", reg->name,
			 reg->epp.password_file, f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return CDS_ECONFIG;
	}
	fclose(f);
	rs->password[strcspn(rs->password, "\r\n")] = '\0';
	return check_password(rs, err, errlen);
}

static int open_session(struct regsess *rs, char *err, size_t errlen)
{
	const struct cds_registry *reg = rs->reg;
	struct cds_epp_endpoint ep = {
		.server = reg->epp.server, .port = (uint16_t)reg->epp.port,
		.username = reg->epp.username ? reg->epp.username : "",
		.password = rs->password, .client_cert = reg->epp.client_cert,
		.client_key = reg->epp.client_key, .ca_file = reg->epp.ca_file,
		.verify = reg->epp.verify, .timeout_ms = reg->epp.timeout_ms};
	int r = cds_epp_open(&ep, &rs->s, err, errlen);
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

/* Is the step's change in place at the registry?  *yes tells. */
static int in_place(struct regsess *rs, const struct cds_epp_step *st, const char *domain,
		    bool *yes, char *err, size_t errlen)
{
	bool host = st->check == CDS_EPP_CHECK_HOST || st->check == CDS_EPP_CHECK_GONE;
	char cltrid[128], *xml = NULL, *raw = NULL;
	size_t len = 0, rl = 0;
	struct cds_epp_response resp;
	snprintf(cltrid, sizeof(cltrid), "%s-info", st->cltrid);
	*yes = false;
	int r = cds_epp_info(host, host ? st->host : domain, cltrid, &xml, &len);
	if (r == 0)
		r = cds_epp_exchange(rs->s, xml, len, &resp, &raw, &rl, err, errlen);
	free(xml);
	if (r != 0)
		return r;
	if (resp.code == 2303) { /* no such object */
		*yes = st->check == CDS_EPP_CHECK_GONE;
		free(raw);
		return 0;
	}
	if (resp.code != 1000) {
		snprintf(err, errlen, "info: %d %s", resp.code, resp.msg);
		free(raw);
		return CDS_EUNAVAIL;
	}
	struct cds_epp_info *info = malloc(sizeof(*info));
	r = info ? cds_epp_parse_info(raw, rl, info) : CDS_ENOMEM;
	free(raw);
	if (r == 0 && st->check != CDS_EPP_CHECK_GONE) {
		const char *items[CDS_EPP_INFO_MAX];
		size_t n = 0;
		char(*src)[CDS_EPP_INFO_TEXT] = st->check == CDS_EPP_CHECK_DS     ? info->ds
						: st->check == CDS_EPP_CHECK_KEYS ? info->keys
						: st->check == CDS_EPP_CHECK_NS   ? info->ns
										  : info->addrs;
		n = st->check == CDS_EPP_CHECK_DS     ? info->nds
		    : st->check == CDS_EPP_CHECK_KEYS ? info->nkeys
		    : st->check == CDS_EPP_CHECK_NS   ? info->nns
						      : info->naddrs;
		for (size_t i = 0; i < n; i++)
			items[i] = src[i];
		char *have = NULL;
		r = cds_epp_want(items, n, st->check == CDS_EPP_CHECK_NS, &have);
		/* Names compare without case (RFC 4343). */
		*yes = r == 0 && strcasecmp(have, st->want ? st->want : "") == 0;
		free(have);
	}
	free(info);
	return r;
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

/* Send one step until it is done, failed for good, or the registry is out
 * of reach for this run. */
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
			bool yes = false;
			int r = in_place(rs, st, domain, &yes, err, sizeof(err));
			if (r != 0) {
				drop_session(rs);
				continue;
			}
			if (yes) {
				cds_log_notice("%s: %s is already in place (clTRID %s): not sent again",
					       domain, st->what, st->cltrid);
				snprintf(svtrid, svlen, "(already in place)");
				return STEP_OK;
			}
		}
		struct cds_epp_response resp;
		int r = cds_epp_exchange(rs->s, st->xml, st->len, &resp, NULL, NULL, err,
					 sizeof(err));
		if (r != 0) {
			/* Lost with the connection: applied or not, unknown. */
			cds_log_warning("%s: %s (clTRID %s): %s; will check and retry", domain,
					st->what, st->cltrid, err);
			drop_session(rs);
			uncertain = true;
			continue;
		}
		if (resp.code == 2302 && st->host_op == CDS_EPP_HOST_CREATE && st->role < 0) {
			r = host_exists(rs, st, &resp, err, sizeof(err));
			if (r != 0) {
				drop_session(rs);
				uncertain = true;
				continue;
			}
		}
		if (resp.code == 2303 && st->host_op == CDS_EPP_HOST_DELETE && st->role > 0)
			resp.code = 1000; /* already gone */
		if (resp.code == 1000 || resp.code == 1001) {
			snprintf(svtrid, svlen, "%s", resp.svtrid);
			cds_log_info("%s: %s done (clTRID %s, svTRID %s)", domain, st->what,
				     st->cltrid, resp.svtrid);
			return STEP_OK;
		}
		snprintf(err, sizeof(err), "%.80s: %d %.400s", st->what, resp.code, resp.msg);
		if (!retryable(resp.code)) {
			snprintf(why, whylen, "%s", err);
			return STEP_FAILED;
		}
		cds_log_warning("%s: %s; will retry", domain, err);
		if (resp.code >= 2500)
			drop_session(rs); /* the server closes the session */
	}
}

static struct regsess *regsess_for(struct regsess *all, size_t n, const struct cds_registry *r)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].reg == r)
			return &all[i];
	return NULL;
}

int cds_epp_send_tls(const struct cds_conf *conf, bool has_limit, uint64_t limit,
		     struct cds_db *db, uint64_t *sent, uint64_t *failed, char *err, size_t errlen)
{
	bool got = false;
	int e = cds_db_try_lock(db, "cdscan epp send", &got, err, errlen);
	if (e != 0)
		return e;
	if (!got) {
		snprintf(err, errlen, "another 'cdscan epp send' is running on this database");
		return CDS_EUNAVAIL;
	}
	struct regsess *rs = calloc(conf->registry_count ? conf->registry_count : 1, sizeof(*rs));
	if (!rs)
		return CDS_ENOMEM;
	for (size_t i = 0; i < conf->registry_count; i++) {
		rs[i].reg = &conf->registries[i];
		if (!rs[i].reg->epp.server)
			rs[i].unavailable = true;
		else if (load_password(&rs[i], err, errlen) != 0) {
			cds_log_error("%s", err);
			rs[i].unavailable = true;
		}
	}
	int64_t after = 0;
	uint64_t handled = 0, waiting = 0;
	e = 0;
	while (e == 0) {
		struct cds_db_changes ch;
		if ((e = cds_db_changes_list(db, LIST_BATCH, after, &ch, err, errlen)) != 0)
			break;
		if (ch.count == 0) {
			cds_db_changes_free(&ch);
			break;
		}
		for (size_t i = 0; i < ch.count && e == 0; i++) {
			const struct cds_db_change *c = &ch.items[i];
			after = c->id;
			if (has_limit && handled >= limit)
				break;
			const struct cds_registry *reg = cds_conf_registry_for(conf, c->domain);
			struct regsess *r = reg ? regsess_for(rs, conf->registry_count, reg) : NULL;
			if (!r || r->unavailable) {
				waiting++;
				cds_log_warning("change set %lld of %s stays pending: %s",
						(long long)c->id, c->domain,
						!r ? "no registry profile takes it"
						   : !reg->epp.server ? "its registry has no epp.server"
								      : "its registry is out of reach");
				continue;
			}
			handled++;
			struct cds_epp_change_in in = {
				.kind = c->kind, .action = c->action, .domain = c->domain,
				.cltrid = c->cltrid, .add = (const char *const *)c->add,
				.nadd = c->nadd, .rem = (const char *const *)c->rem, .nrem = c->nrem,
				.payload = c->payload, .key_data = reg->ds_interface == 1,
				.host_attr = reg->host_model == 1};
			struct cds_epp_plan plan;
			int pr = cds_epp_plan(&in, &plan);
			if (pr != 0) {
				(*failed)++;
				e = cds_db_change_failed(db, c->id, "cannot be expressed in EPP", err,
							 errlen);
				continue;
			}
			/* On record before anything goes out: a crash from here on
			 * makes the next run check before it resends. */
			if ((e = cds_db_change_attempt(db, c->id, err, errlen)) != 0) {
				cds_epp_plan_free(&plan);
				break;
			}
			bool uncertain = c->attempts > 0;
			char svtrid[128] = "", why[700] = "";
			enum step_result res = STEP_OK;
			for (size_t k = 0; k < plan.n && res == STEP_OK; k++) {
				char sv[128] = "";
				res = run_step(r, c->domain, &plan.steps[k], uncertain, sv, sizeof(sv),
					       why, sizeof(why));
				if (plan.steps[k].role == 0)
					snprintf(svtrid, sizeof(svtrid), "%s", sv);
			}
			cds_epp_plan_free(&plan);
			if (res == STEP_OK) {
				e = cds_db_change_done(db, c->id, svtrid, err, errlen);
				(*sent)++;
			} else if (res == STEP_FAILED) {
				cds_log_error("change set %lld of %s failed: %s", (long long)c->id,
					      c->domain, why);
				e = cds_db_change_failed(db, c->id, why, err, errlen);
				(*failed)++;
			} else {
				cds_log_error("registry %s out of reach (%s): its change sets stay "
					      "pending",
					      reg->name, why);
				r->unavailable = true;
				waiting++;
			}
		}
		cds_db_changes_free(&ch);
		if (has_limit && handled >= limit)
			break;
	}
	for (size_t i = 0; i < conf->registry_count; i++) {
		cds_epp_close(rs[i].s, true);
		memset(rs[i].password, 0, sizeof(rs[i].password));
	}
	free(rs);
	if (e == 0 && waiting) {
		snprintf(err, errlen, "%llu change sets stay pending (see the log)",
			 (unsigned long long)waiting);
		return CDS_EUNAVAIL;
	}
	return e;
}
