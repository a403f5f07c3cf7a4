/* One delegation's scan: a job that runs through its phases (scan_internal.h
 * enum job_phase) — NS addresses, the apex answers at every address, then
 * what the policy layer says the decision will need (the CSYNC data, the
 * RFC 9615 signals) — and hands the result to its callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "scan_internal.h"

static void resolve_start(struct job *j);
static void probe_start(struct job *j);
static void apex_start(struct job *j);
static void csync_gate_start(struct job *j);
static void csync_data_start(struct job *j);
static void csync_after_start(struct job *j);
static void bootstrap_start(struct job *j);

/* The phases in one table: how each starts (sending its queries, each
 * counted with job_step_begin).  When the last of them is in, job_step_done
 * asks next_phase what follows. */
static void (*const phase_start[PHASE_DONE])(struct job *) = {
	[PHASE_RESOLVE] = resolve_start,         [PHASE_PROBE] = probe_start,
	[PHASE_APEX] = apex_start,
	[PHASE_CSYNC_GATE] = csync_gate_start,   [PHASE_CSYNC_DATA] = csync_data_start,
	[PHASE_CSYNC_AFTER] = csync_after_start,
	[PHASE_BOOTSTRAP] = bootstrap_start,
};

/* With every apex answer in: the CSYNC data, the RFC 9615 signals, or
 * nothing more. */
static enum job_phase after_apex(struct job *j)
{
	if (cds_policy_csync_actionable(j->res, j->conf, &j->csync))
		return PHASE_CSYNC_GATE;
	if (cds_policy_bootstrap_wanted(j->res, j->conf))
		return PHASE_BOOTSTRAP;
	return PHASE_DONE;
}

/* What follows phase p for this delegation: the policy layer says whether
 * the decision would act on a CSYNC or on RFC 9615 signals.  Nothing the
 * child's CSYNC or NS set names is asked before both validate (the gate):
 * an unsigned CSYNC must not make the scanner query thousands of names. */
static enum job_phase next_phase(struct job *j)
{
	switch (j->phase) {
	case PHASE_RESOLVE:
		return PHASE_PROBE;
	case PHASE_PROBE:
		/* Issue #20: about 80% of zones publish no signal; their
		 * verdicts need the probe alone (3 queries per address, not 6,
		 * and no signature verification).  scan.full-status asked all
		 * six at once. */
		if (!j->res->apex_asked)
			return cds_policy_apex_wanted(j->res) ? PHASE_APEX : PHASE_DONE;
		return after_apex(j);
	case PHASE_APEX:
		return after_apex(j);
	case PHASE_CSYNC_GATE:
		return j->csync_allowed ? PHASE_CSYNC_DATA : PHASE_DONE;
	case PHASE_CSYNC_DATA:
		return PHASE_CSYNC_AFTER;
	default:
		return PHASE_DONE;
	}
}

static void job_free(struct job *j)
{
	free(j->addrs);
	free(j->addr_count);
	free(j->resolve_status);
	free(j->resolve_why);
	free(j->queries);
	free(j);
}

static void job_done(struct job *j)
{
	struct cds_scan_result *res = j->res;
	cds_scan_cb cb = j->cb;
	void *arg = j->arg;
	job_free(j);
	cb(res, arg);
}

static void job_done_cb(void *arg)
{
	job_done(arg);
}

void job_step_begin(struct job *j)
{
	j->pending++;
}

/* Run phases until one has something in flight.  A phase that sent nothing
 * passes on at once; a job that ends without anything sent at all (no
 * address to ask) ends on the next loop turn, so that the scan callback
 * never runs from inside cds_scanner_scan. */
static void run_phases(struct job *j, bool from_callback)
{
	for (;;) {
		j->phase = next_phase(j);
		if (j->phase == PHASE_DONE)
			break;
		j->pending = 1; /* held while the phase starts */
		phase_start[j->phase](j);
		if (--j->pending > 0)
			return;
	}
	if (from_callback || scan_defer(j->s->loop, job_done_cb, j) != 0)
		job_done(j); /* (no memory for a timer: finish now) */
}

void job_step_done(struct job *j)
{
	if (--j->pending == 0)
		run_phases(j, true);
}

/* ---------------------------------------------------- NS addresses --- */

struct resolve_ctx {
	struct job *job;
	size_t ns;
};

static void job_resolved_cb(int status, const struct cds_addr *addrs, size_t n, const char *why,
			    void *arg)
{
	struct resolve_ctx *rc = arg;
	struct job *j = rc->job;
	size_t i = rc->ns;
	free(rc);
	j->resolve_status[i] = status;
	snprintf(j->resolve_why[i], sizeof(j->resolve_why[i]), "%s", status ? why : "");
	memcpy(j->addrs[i], addrs, n * sizeof(*addrs));
	j->addr_count[i] = n;
	job_step_done(j);
}

/* NS names without glue are looked up through the resolver (cached). */
static void resolve_start(struct job *j)
{
	const struct cds_delegation *d = j->d;
	for (size_t i = 0; i < d->ns_count; i++) {
		if (d->ns[i].addr_count)
			continue;
		struct resolve_ctx *rc = malloc(sizeof(*rc));
		if (rc) {
			*rc = (struct resolve_ctx){.job = j, .ns = i};
			if (cds_scanner_resolve(j->s, d->ns[i].name, job_resolved_cb, rc) == 0) {
				job_step_begin(j);
				continue;
			}
		}
		free(rc);
		j->resolve_status[i] = CDS_ENOMEM;
		snprintf(j->resolve_why[i], sizeof(j->resolve_why[i]), "out of memory");
	}
}

/* --------------------------------------------------- apex answers --- */

static void probe_follow(struct job *j, const struct apex_query *q);

static void apex_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct apex_query *q = arg;
	struct job *j = q->job;
	struct cds_server_result *srv = &j->res->servers[q->server];
	cds_server_take_answer(srv, q->kind, j->d->domain, &j->conf->limits, status, wire, len);
	/* RFC 9567 §5: where this server wants failures reported.  Read
	 * only while reports are made, and once per server. */
	if (status == 0 && j->s->reporter && !srv->report_agent[0] &&
	    cds_answer_report_channel(wire, len, j->s->conf->error_reporting.max_agent_length,
				      srv->report_agent) != 0)
		srv->report_agent[0] = '\0';
	if (j->cds_first && j->phase == PHASE_PROBE)
		probe_follow(j, q);
	job_step_done(j);
}

/* A server entry for an NS name whose addresses are not all known (none
 * found, or a look-up failed): unusable, so the decision says which name
 * could not be asked (RFC 9975 §3: every address of every NS name). */
static void server_unknown(struct cds_server_result *srv, const char *name, size_t found,
			   size_t skipped, int status, const char *why)
{
	snprintf(srv->name, sizeof(srv->name), "%s", name);
	srv->ok = false;
	if (status == 0 && skipped > 0)
		snprintf(srv->error, sizeof(srv->error),
			 "no address of a family resolver.address-families asks");
	else if (status == 0)
		snprintf(srv->error, sizeof(srv->error), "no address for the NS name (no %s)",
			 "A or AAAA record");
	else if (found == 0)
		snprintf(srv->error, sizeof(srv->error), "no address for the NS name (%s)", why);
	else
		snprintf(srv->error, sizeof(srv->error), "%s: not every address of the name is known",
			 why);
}

/* Is addr of a family resolver.address-families asks?  If not, it is
 * recorded as skipped. */
static bool family_asked(struct job *j, const char *name, const struct cds_addr *a)
{
	int fam = a->ss.ss_family == AF_INET6 ? CDS_FAMILY_IPV6 : CDS_FAMILY_IPV4;
	if (j->s->conf->resolver.families[fam])
		return true;
	struct cds_scan_result *res = j->res;
	char txt[64], *line = NULL;
	char **n = realloc(res->skipped, (res->skipped_count + 1) * sizeof(*n));
	cds_addr_format(a, txt, sizeof(txt));
	if (n) {
		res->skipped = n;
		if (asprintf(&line, "%s (%s): %s left out by resolver.address-families", name, txt,
			     fam == CDS_FAMILY_IPV6 ? "IPv6" : "IPv4") >= 0)
			res->skipped[res->skipped_count++] = line;
	}
	j->s->skipped++;
	return false;
}

/* The servers of NS name i: one per address asked, and an unusable one
 * when its addresses are not all known. */
static void add_servers(struct job *j, size_t i)
{
	const struct cds_delegation *d = j->d;
	struct cds_scan_result *res = j->res;
	bool glue = d->ns[i].addr_count > 0;
	const struct cds_addr *addrs = glue ? d->ns[i].addrs : j->addrs[i];
	size_t c = glue ? d->ns[i].addr_count : j->addr_count[i], asked = 0;
	int status = glue ? 0 : j->resolve_status[i];
	for (size_t a = 0; a < c; a++) {
		if (!family_asked(j, d->ns[i].name, &addrs[a]))
			continue;
		struct cds_server_result *srv = &res->servers[res->server_count++];
		snprintf(srv->name, sizeof(srv->name), "%s", d->ns[i].name);
		srv->addr = addrs[a];
		srv->has_addr = true;
		/* An address in special-purpose space is an unusable server
		 * that says why (apex_start asks only usable ones). */
		srv->ok = !scan_addr_refused(j->s, d->domain, d->ns[i].name, &addrs[a], srv->error,
					     sizeof(srv->error));
		asked++;
	}
	if (status != 0 || asked == 0)
		server_unknown(&res->servers[res->server_count++], d->ns[i].name, asked, c - asked,
			       status, glue ? "" : j->resolve_why[i]);
}

/* Every NS name has its addresses (or none): the list of servers, one per
 * address (RFC 9975 §3). */
static int build_servers(struct job *j)
{
	const struct cds_delegation *d = j->d;
	struct cds_scan_result *res = j->res;
	size_t n = 0;
	for (size_t i = 0; i < d->ns_count; i++)
		n += (d->ns[i].addr_count ? d->ns[i].addr_count : j->addr_count[i]) + 1;
	res->servers = calloc(n ? n : 1, sizeof(*res->servers));
	j->queries = calloc((n ? n : 1) * CDS_Q_COUNT, sizeof(*j->queries));
	if (!res->servers || !j->queries)
		return CDS_ENOMEM;
	for (size_t i = 0; i < d->ns_count; i++)
		add_servers(j, i);
	return 0;
}

static int apex_send(struct job *j, size_t server, enum cds_query_kind kind, unsigned flags)
{
	struct apex_query *q = &j->queries[server * CDS_Q_COUNT + (size_t)kind];
	*q = (struct apex_query){.job = j, .server = server, .kind = kind};
	int r = cds_transport_query(j->s->transport, &j->res->servers[server].addr, j->d->domain,
				    cds_query_type(kind), flags, apex_answer_cb, q);
	if (r == 0)
		job_step_begin(j);
	return r;
}

/* The queries of kinds[0..n) at address i while it is usable, each once:
 * one sent before (scan.type-bitmaps asks some early) is not sent again. */
static void apex_send_at(struct job *j, size_t i, const enum cds_query_kind *kinds, size_t n)
{
	struct cds_scan_result *res = j->res;
	for (size_t k = 0; k < n; k++) {
		if (!res->servers[i].has_addr || !res->servers[i].ok)
			break;
		if (j->queries[i * CDS_Q_COUNT + (size_t)kinds[k]].job)
			continue;
		unsigned fl = CDS_QUERY_DO;
		if (res->signal_over_tcp && (kinds[k] == CDS_Q_CDS || kinds[k] == CDS_Q_CDNSKEY))
			fl |= CDS_QUERY_TCP;
		int r = apex_send(j, i, kinds[k], fl);
		if (r != 0)
			scan_server_fail(&res->servers[i], cds_strerror(r));
	}
}

/* The queries of kinds[0..n) at every usable address. */
static void apex_send_all(struct job *j, const enum cds_query_kind *kinds, size_t n)
{
	for (size_t i = 0; i < j->res->server_count; i++)
		apex_send_at(j, i, kinds, n);
}

/* The rest of the apex (SOA, DNSKEY, NS) at every address still usable:
 * one that failed the probe makes the verdict ns-unreachable whatever
 * they would say. */
static const enum cds_query_kind rest_kinds[] = {CDS_Q_SOA, CDS_Q_DNSKEY, CDS_Q_NS};

static void apex_start(struct job *j)
{
	j->res->apex_asked = true;
	apex_send_all(j, rest_kinds, sizeof(rest_kinds) / sizeof(rest_kinds[0]));
}

/*
 * scan.type-bitmaps, after an answer of the probe at one address (a
 * delegation with DS, asked CDS alone first).  After CDS: CDNSKEY and
 * CSYNC, each unless the type bitmap of the apex's own NSEC or NSEC3 in an
 * empty CDS answer leaves it out; one left out is taken as absent, as an
 * empty answer would say (RFC 4034 §4.1.2; validating resolvers synthesise
 * such answers from it, RFC 8198).  The bitmap is no more validated than
 * the empty answer it comes with: it can only make an address look as if
 * it publishes nothing, and nothing is changed unless every address agrees
 * on a signal that validates.
 *
 * The policy wants the rest of the apex (SOA, DNSKEY, NS) everywhere once
 * some address has a signal (cds_policy_apex_wanted), and a bitmap that
 * lists CDNSKEY or CSYNC announces one: from then on the rest is asked at
 * once at every address whose CDS answer is in, and at the others as
 * theirs come, so that a signalling zone takes two round trips, as with
 * all three asked together.  Only a zone whose empty CDS answer has no
 * bitmap to read (no apex NSEC or NSEC3 with it) takes one more.
 */
static void probe_follow(struct job *j, const struct apex_query *q)
{
	static const enum cds_query_kind more[] = {CDS_Q_CDNSKEY, CDS_Q_CSYNC};
	static const uint16_t more_types[] = {CDS_T_CDNSKEY, CDS_T_CSYNC};
	struct cds_scan_result *res = j->res;
	struct cds_server_result *srv = &res->servers[q->server];
	const size_t nrest = sizeof(rest_kinds) / sizeof(rest_kinds[0]);
	bool announced = false;
	if (q->kind == CDS_Q_CDS && srv->ok) {
		const struct cds_rrset *cds = &srv->sets[CDS_Q_CDS];
		bool listed[2] = {true, true};
		if (cds->count > 0 || cds->rcode != 0 || srv->probe_no_soa ||
		    cds_denial_apex_types(j->d->domain, cds, j->conf->limits.nsec3_max_iterations,
					  more_types, 2, listed) != 0)
			listed[0] = listed[1] = true;
		else
			announced = listed[0] || listed[1];
		for (size_t k = 0; k < 2; k++) {
			if (listed[k]) {
				apex_send_at(j, q->server, &more[k], 1);
			} else {
				scan_absent_by_bitmap(srv, more[k]);
				j->s->bitmap_skipped++;
			}
		}
	}
	if (!j->signal_seen && (announced || cds_policy_apex_wanted(res))) {
		j->signal_seen = true;
		for (size_t i = 0; i < res->server_count; i++)
			if (res->servers[i].sets[CDS_Q_CDS].present)
				apex_send_at(j, i, rest_kinds, nrest);
	} else if (j->signal_seen && q->kind == CDS_Q_CDS) {
		apex_send_at(j, q->server, rest_kinds, nrest);
	}
}

/* The signal queries at every address; with scan.full-status (and for
 * `check`) the other three at once, as one round trip. */
static void probe_start(struct job *j)
{
	static const enum cds_query_kind all[] = {CDS_Q_SOA,   CDS_Q_DNSKEY, CDS_Q_CDS,
						  CDS_Q_CDNSKEY, CDS_Q_CSYNC,  CDS_Q_NS};
	static const enum cds_query_kind probe[] = {CDS_Q_CDS, CDS_Q_CDNSKEY, CDS_Q_CSYNC};
	struct cds_scan_result *res = j->res;
	if (build_servers(j) != 0) {
		/* Out of memory mid-scan: report no usable server rather than
		 * lose the delegation. */
		free(res->servers);
		res->servers = NULL;
		res->server_count = 0;
		return;
	}
	/* Accept-after-delay needs the signal of an insecure delegation seen
	 * over TCP (RFC 8078 §3.3: harder to spoof than UDP). */
	res->signal_over_tcp = cds_policy_signal_over_tcp(j->d, j->conf);
	res->apex_asked = j->conf->scan.full_status;
	/* A delegation with DS is signed: its empty CDS answer brings the
	 * apex's NSEC or NSEC3, which says whether CDNSKEY and CSYNC are
	 * worth asking (probe_follow).  One without DS is asked all three at
	 * once: its signals are bootstrapping candidates. */
	j->cds_first = !res->apex_asked && j->conf->scan.type_bitmaps && j->d->ds_count > 0 &&
		       !res->signal_over_tcp;
	if (res->apex_asked)
		apex_send_all(j, all, sizeof(all) / sizeof(all[0]));
	else if (j->cds_first)
		apex_send_all(j, probe, 1);
	else
		apex_send_all(j, probe, sizeof(probe) / sizeof(probe[0]));
}

static void csync_gate_start(struct job *j)
{
	csync_gate(j);
}

static void csync_data_start(struct job *j)
{
	csync_fetch(j);
}

static void csync_after_start(struct job *j)
{
	csync_after(j);
}

static void bootstrap_start(struct job *j)
{
	bootstrap_fetch(j);
}

/* ------------------------------------------------------------ start --- */

int cds_scanner_scan(struct cds_scanner *s, const struct cds_delegation *d,
		     const struct cds_conf *conf, cds_scan_cb cb, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return CDS_ENOMEM;
	size_t nn = d->ns_count ? d->ns_count : 1;
	j->s = s;
	j->d = d;
	j->conf = conf ? conf : s->conf;
	j->cb = cb;
	j->arg = arg;
	j->res = calloc(1, sizeof(*j->res));
	j->addrs = calloc(nn, sizeof(*j->addrs));
	j->addr_count = calloc(nn, sizeof(*j->addr_count));
	j->resolve_status = calloc(nn, sizeof(*j->resolve_status));
	j->resolve_why = calloc(nn, sizeof(*j->resolve_why));
	if (!j->res || !j->addrs || !j->addr_count || !j->resolve_status || !j->resolve_why) {
		free(j->res);
		job_free(j);
		return CDS_ENOMEM;
	}
	j->res->delegation = d;
	j->res->scanned_at = cds_clock();
	s->scans++;
	j->phase = PHASE_RESOLVE;
	j->pending = 1; /* held while the first phase starts */
	resolve_start(j);
	if (--j->pending == 0)
		run_phases(j, false);
	return 0;
}
