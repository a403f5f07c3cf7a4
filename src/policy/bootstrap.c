/* The DS side of an insecure delegation that publishes a signal: its first
 * DS.  RFC 9615 (authenticated signals under the nameservers' own secure
 * zones) when policy.bootstrap.authenticated is on (the default), and
 * accept-after-delay (RFC 8078 §3.3) when policy.bootstrap.accept-after-delay
 * is on and no authenticated path exists.  The apex signal has passed the
 * consistency stage already (every address, same CDS and CDNSKEY). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

/* What went wrong with the signals, in the order the decision reports it. */
enum signal_fault {
	FAULT_NS_INSECURE = 0, /* a host's zone (or the signal's) is not secure */
	FAULT_MISSING,         /* a signaling RRset the apex has is not there */
	FAULT_BOGUS,           /* a signal is there and does not validate */
	FAULT_MISMATCH,        /* a signal differs from the apex */
	FAULT_COUNT,
};

/* How the signals were judged (RFC 9615 §4.2 steps 3 and 4). */
struct bootstrap_state {
	const char *no_path;          /* why RFC 9615 offers no path, or NULL */
	bool fault[FAULT_COUNT];
	char why[FAULT_COUNT][1024];  /* the first host with each fault */
};

static const char *const type_name[CDS_SIGNAL_TYPES] = {"CDS", "CDNSKEY"};

static enum cds_signal_status signal_status(enum cds_dnssec_status st)
{
	switch (st) {
	case CDS_DNSSEC_SECURE:
		return CDS_SIGNAL_SECURE;
	case CDS_DNSSEC_INSECURE:
		return CDS_SIGNAL_INSECURE;
	case CDS_DNSSEC_BOGUS:
		return CDS_SIGNAL_BOGUS;
	default:
		return CDS_SIGNAL_ERROR;
	}
}

/* The signal records in presentation form. */
static int signal_texts(const struct cds_bootstrap_signal *sig, struct cds_verdict_signal *g)
{
	const struct cds_rrset *cds = &sig->sets[CDS_SIGNAL_CDS];
	const struct cds_rrset *key = &sig->sets[CDS_SIGNAL_CDNSKEY];
	for (size_t k = 0; k < cds->count; k++) {
		struct cds_ds ds;
		if (cds_ds_from_rdata(cds->rdata[k].data, cds->rdata[k].len, &ds) == 0 &&
		    ds_text_add(&g->cds, &ds) != 0)
			return CDS_ENOMEM;
	}
	for (size_t k = 0; k < key->count; k++) {
		char txt[2048];
		if (cds_dnskey_format(key->rdata[k].data, key->rdata[k].len, txt, sizeof(txt)) == 0 &&
		    cds_strlist_add(&g->cdnskey, txt) != 0)
			return CDS_ENOMEM;
	}
	cds_strlist_sort(&g->cds);
	cds_strlist_sort(&g->cdnskey);
	return 0;
}

/* One signal's status as the verdict shows it. */
static void signal_state(const struct cds_bootstrap_signal *sig, struct cds_verdict_signal *g)
{
	if (sig->zone_status != CDS_DNSSEC_SECURE) {
		g->status = signal_status(sig->zone_status);
		snprintf(g->detail, sizeof(g->detail), "zone: %.180s", sig->zone_why);
		return;
	}
	g->status = CDS_SIGNAL_SECURE;
	bool missing = true;
	for (int k = 0; k < CDS_SIGNAL_TYPES && g->status == CDS_SIGNAL_SECURE; k++) {
		if (sig->missing[k])
			continue;
		missing = false;
		if (sig->status[k] != CDS_DNSSEC_SECURE) {
			g->status = signal_status(sig->status[k]);
			snprintf(g->detail, sizeof(g->detail), "%s: %.180s", type_name[k],
				 sig->why[k]);
		}
	}
	if (missing)
		g->status = CDS_SIGNAL_MISSING;
}

/* The signals as the verdict shows them.  Never decides. */
static int stage_show_signals(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	struct cds_verdict_bootstrap *b = &dc->v->bootstrap;
	if (res->signal_count == 0)
		return STAGE_PASS;
	if (!(b->signals = calloc(res->signal_count, sizeof(*b->signals))))
		return CDS_ENOMEM;
	b->signal_count = res->signal_count;
	for (size_t i = 0; i < res->signal_count; i++) {
		const struct cds_bootstrap_signal *sig = &res->signals[i];
		struct cds_verdict_signal *g = &b->signals[i];
		snprintf(g->ns, sizeof(g->ns), "%s", sig->ns);
		snprintf(g->zone, sizeof(g->zone), "%s", sig->zone);
		if (signal_texts(sig, g) != 0)
			return CDS_ENOMEM;
		signal_state(sig, g);
	}
	return STAGE_PASS;
}

/* Note fault f with its description, keeping the first. */
static void note(struct bootstrap_state *bs, enum signal_fault f, const char *why)
{
	if (!bs->fault[f])
		snprintf(bs->why[f], sizeof(bs->why[f]), "%s", why);
	bs->fault[f] = true;
}

/* The fault of one signal type under one host, if any. */
static void judge_type(struct bootstrap_state *bs, const struct cds_bootstrap_signal *sig, int k,
		       const struct cds_rrset *apex)
{
	char w[1024];
	if (sig->missing[k] || sig->error[k]) {
		if (!apex->count)
			return;
		snprintf(w, sizeof(w), "no %s at the signaling name under %s (%s)", type_name[k],
			 sig->ns, sig->why[k]);
		note(bs, FAULT_MISSING, w);
	} else if (sig->status[k] == CDS_DNSSEC_INSECURE) {
		snprintf(w, sizeof(w), "the %s signal under %s is not in a secure zone (%s)",
			 type_name[k], sig->ns, sig->why[k]);
		note(bs, FAULT_NS_INSECURE, w);
	} else if (sig->status[k] != CDS_DNSSEC_SECURE) {
		snprintf(w, sizeof(w), "the %s signal under %s: %s", type_name[k], sig->ns,
			 sig->why[k]);
		note(bs, FAULT_BOGUS, w);
	} else if (!cds_rrset_equal(&sig->sets[k], apex)) {
		snprintf(w, sizeof(w), "the %s signal under %s differs from the %s at the apex",
			 type_name[k], sig->ns, type_name[k]);
		note(bs, FAULT_MISMATCH, w);
	}
}

/* Judge the signals against the apex signal (RFC 9615 §4.2 steps 3 and 4). */
static void judge_signals(const struct cds_scan_result *res, struct bootstrap_state *bs)
{
	const struct cds_rrset *apex[CDS_SIGNAL_TYPES] = {&res->servers[0].sets[CDS_Q_CDS],
							  &res->servers[0].sets[CDS_Q_CDNSKEY]};
	for (size_t i = 0; i < res->signal_count; i++) {
		const struct cds_bootstrap_signal *sig = &res->signals[i];
		char w[1024];
		if (sig->zone_status == CDS_DNSSEC_INSECURE || sig->zone_status == CDS_DNSSEC_BOGUS) {
			snprintf(w, sizeof(w), "%s: %s", sig->ns, sig->zone_why);
			note(bs, FAULT_NS_INSECURE, w);
		} else if (sig->zone_status != CDS_DNSSEC_SECURE) {
			snprintf(w, sizeof(w), "%s: the zone of the host name could not be looked up "
					       "(%s)", sig->ns, sig->zone_why);
			note(bs, FAULT_MISSING, w);
		} else {
			for (int k = 0; k < CDS_SIGNAL_TYPES; k++)
				judge_type(bs, sig, k, apex[k]);
		}
	}
}

/* Is any signal there at all (neither missing nor failed)? */
/* Is any signal there: records, or an empty answer in a secure zone that
 * is not proven empty (BOGUS: a forged "no signal" must not make RFC 9615
 * look unused and open the accept-after-delay path)?  An empty answer in a
 * zone proven insecure is no signal. */
static bool any_signal(const struct cds_scan_result *res)
{
	for (size_t i = 0; i < res->signal_count; i++) {
		const struct cds_bootstrap_signal *sig = &res->signals[i];
		for (int k = 0; k < CDS_SIGNAL_TYPES; k++)
			if (sig->sets[k].count > 0 ||
			    (!sig->missing[k] && !sig->error[k] && sig->status[k] == CDS_DNSSEC_BOGUS))
				return true;
	}
	return false;
}

/* Does RFC 9615 offer a path at all, and if so, how did the signals fare?
 * Never decides. */
static int stage_judge(struct decision *dc)
{
	const struct cds_delegation *d = dc->d;
	struct bootstrap_state *bs = dc->boot;
	bool outside = false;
	for (size_t i = 0; i < d->ns_count && !outside; i++)
		outside = !cds_dname_is_subdomain(d->ns[i].name, d->domain);
	if (!dc->conf->policy.bootstrap_authenticated)
		bs->no_path = "policy.bootstrap.authenticated is false";
	else if (!outside)
		bs->no_path = "every nameserver is inside the zone; RFC 9615 needs one outside it";
	else if (!dc->res->signals_asked || !dc->res->signals)
		bs->no_path = "the signaling names were not looked up";
	else if (!any_signal(dc->res))
		/* The operator does not use RFC 9615 for this zone: nothing is
		 * wrong, there is just no path. */
		bs->no_path = "no RFC 9615 signal under any nameserver host name";
	else
		judge_signals(dc->res, bs);
	return STAGE_PASS;
}

/* The proposal (every stage a signal passes) into side->proposed. */
static int propose_into_side(struct decision *dc)
{
	int r = propose_ds(dc);
	if (r != STAGE_PASS)
		return r;
	cds_strlist_clear(&dc->side->proposed);
	return proposed_texts(dc, &dc->side->proposed) ? CDS_ENOMEM : STAGE_PASS;
}

/* RFC 9615 §4.2 step 5: authenticated; the same checks as for any signal
 * follow (continuity at every address included). */
static int stage_authenticated(struct decision *dc)
{
	const struct bootstrap_state *bs = dc->boot;
	for (int f = 0; f < FAULT_COUNT; f++)
		if (bs->fault[f])
			return STAGE_PASS;
	if (bs->no_path)
		return STAGE_PASS;
	int r = propose_into_side(dc);
	if (r != STAGE_PASS)
		return r;
	cds_verdict_decide(dc->side, CDS_ACTION_BOOTSTRAP, CDS_R_BOOTSTRAP_AUTHENTICATED,
			   "signals under %zu nameserver host name%s", dc->res->signal_count,
			   dc->res->signal_count == 1 ? "" : "s");
	r = cds_verdict_side_diff(dc->side);
	return r ? r : STAGE_DECIDED;
}

/* A signal that is there but wrong is never waited out. */
static int stage_wrong_signal(struct decision *dc)
{
	const struct bootstrap_state *bs = dc->boot;
	if (!bs->fault[FAULT_BOGUS] && !bs->fault[FAULT_MISMATCH])
		return STAGE_PASS;
	bool bogus = bs->fault[FAULT_BOGUS];
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT,
			   bogus ? CDS_R_BOOTSTRAP_SIGNAL_BOGUS : CDS_R_BOOTSTRAP_SIGNAL_MISMATCH, "%s",
			   bs->why[bogus ? FAULT_BOGUS : FAULT_MISMATCH]);
	return STAGE_DECIDED;
}

/* Why RFC 9615 gives no answer: no path, or the first missing piece. */
static const char *no_auth(const struct bootstrap_state *bs)
{
	if (bs->no_path)
		return bs->no_path;
	return bs->why[bs->fault[FAULT_NS_INSECURE] ? FAULT_NS_INSECURE : FAULT_MISSING];
}

/* Join a sorted DS list with ','. */
static void join(const struct cds_strlist *l, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "", l->v[i]);
}

/* The observation this scan makes: the same signal again extends it,
 * anything else starts it anew.  Returns whether it was the same. */
static bool observe(struct decision *dc, const struct cds_strlist *cand)
{
	const struct cds_delegation *d = dc->d;
	struct cds_verdict_bootstrap *b = &dc->v->bootstrap;
	join(cand, b->signal, sizeof(b->signal));
	bool same = d->has_observation && strcmp(d->observed_signal, b->signal) == 0;
	b->observed = true;
	b->scans = same ? d->observed_scans + 1 : 1;
	b->first_seen = same ? d->observed_first : dc->now;
	b->scans_needed = dc->conf->policy.bootstrap_delay_scans;
	b->delay_needed_s = dc->conf->policy.bootstrap_delay_ms / 1000;
	return same;
}

/* RFC 8078 §3.3: accept only a signal seen unchanged, at every address,
 * over TCP, in policy.bootstrap.delay-scans consecutive scans spanning
 * policy.bootstrap.delay. */
static int stage_after_delay(struct decision *dc)
{
	const struct cds_delegation *d = dc->d;
	struct cds_verdict_bootstrap *b = &dc->v->bootstrap;
	if (!dc->conf->policy.bootstrap_after_delay)
		return STAGE_PASS;
	if (!dc->res->signal_over_tcp) {
		cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_BOOTSTRAP_PENDING,
				   "the signal was not read over TCP; not counted");
		return STAGE_DECIDED;
	}
	int r = propose_ds(dc);
	if (r != STAGE_PASS)
		return r;
	struct cds_strlist cand = {0};
	if (proposed_texts(dc, &cand) != 0) {
		cds_strlist_clear(&cand);
		return CDS_ENOMEM;
	}
	bool same = observe(dc, &cand);
	cds_strlist_clear(&cand);
	uint64_t age = dc->now > b->first_seen ? (uint64_t)(dc->now - b->first_seen) : 0;
	if (b->scans >= b->scans_needed && age >= b->delay_needed_s) {
		cds_strlist_clear(&dc->side->proposed);
		if (proposed_texts(dc, &dc->side->proposed) != 0)
			return CDS_ENOMEM;
		cds_verdict_decide(dc->side, CDS_ACTION_BOOTSTRAP, CDS_R_BOOTSTRAP_AFTER_DELAY,
				   "seen unchanged in %u scans over %llu hours", b->scans,
				   (unsigned long long)(age / 3600));
		r = cds_verdict_side_diff(dc->side);
		return r ? r : STAGE_DECIDED;
	}
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_BOOTSTRAP_PENDING,
			   "%s; seen in %u of %u scans, for %llu of %llu hours%s (no RFC 9615 "
			   "path: %s)",
			   d->has_observation && !same ? "the signal changed, the clock restarts"
						       : "accept-after-delay",
			   b->scans, b->scans_needed, (unsigned long long)(age / 3600),
			   (unsigned long long)(b->delay_needed_s / 3600),
			   d->has_observation || b->scans > 1 ? "" : " (first sighting)",
			   no_auth(dc->boot));
	return STAGE_DECIDED;
}

/* RFC 9615 found something missing or insecure, and nothing waits it out. */
static int stage_fault(struct decision *dc)
{
	const struct bootstrap_state *bs = dc->boot;
	if (bs->fault[FAULT_NS_INSECURE])
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOOTSTRAP_NS_INSECURE, "%s",
				   bs->why[FAULT_NS_INSECURE]);
	else if (bs->fault[FAULT_MISSING])
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOOTSTRAP_SIGNAL_MISSING, "%s",
				   bs->why[FAULT_MISSING]);
	else
		return STAGE_PASS;
	return STAGE_DECIDED;
}

static int stage_no_path(struct decision *dc)
{
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_INSECURE_NO_BOOTSTRAP, "%s",
			   no_auth(dc->boot));
	return STAGE_DECIDED;
}

/* A delete signal asks for what the parent has: no DS. */
static int stage_bootstrap_delete(struct decision *dc)
{
	switch (delete_signal(dc)) {
	case DELETE_NONE:
		return STAGE_PASS;
	case DELETE_MALFORMED:
		return STAGE_DECIDED;
	case DELETE_ASKED:
		break;
	}
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED,
			   "a delete signal, and there is no DS");
	return STAGE_DECIDED;
}

static const stage_fn bootstrap_stages[] = {
	stage_bootstrap_delete, stage_show_signals, stage_judge, stage_authenticated,
	stage_wrong_signal,	stage_after_delay,  stage_fault, stage_no_path,
};

int decide_bootstrap(struct decision *dc)
{
	struct bootstrap_state *bs = calloc(1, sizeof(*bs));
	if (!bs)
		return CDS_ENOMEM;
	dc->boot = bs;
	int r = RUN_STAGES(bootstrap_stages, dc);
	dc->boot = NULL;
	free(bs);
	return r;
}
