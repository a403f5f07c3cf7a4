/* The DS side of an insecure delegation that publishes a signal: its first
 * DS.  RFC 9615 (authenticated signals under the nameservers' own secure
 * zones) when policy.bootstrap.authenticated is on (the default), and
 * accept-after-delay (RFC 8078 §3.3) when policy.bootstrap.accept-after-delay
 * is on and no authenticated path exists.  The apex signal has passed the
 * consistency stage already (every address, same CDS and CDNSKEY). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/policy.h"
#include "policy_internal.h"

/* What went wrong with the signals, in the order the decision reports it. */
enum signal_fault {
	FAULT_NONE = 0,
	FAULT_NS_INSECURE, /* a host's zone (or the signal's) is not secure */
	FAULT_MISSING,     /* a signaling RRset the apex has is not there */
	FAULT_BOGUS,       /* a signal is there and does not validate */
	FAULT_MISMATCH,    /* a signal differs from the apex */
	FAULT_COUNT,
};

static const char *status_word(enum cds_dnssec_status st)
{
	switch (st) {
	case CDS_DNSSEC_SECURE:
		return "secure";
	case CDS_DNSSEC_INSECURE:
		return "insecure";
	case CDS_DNSSEC_BOGUS:
		return "bogus";
	default:
		return "error";
	}
}

/* The signals as the verdict shows them. */
static int fill_signals(const struct cds_scan_result *res, struct cds_verdict *v)
{
	struct cds_verdict_bootstrap *b = &v->bootstrap;
	if (res->signal_count == 0)
		return 0;
	b->signals = calloc(res->signal_count, sizeof(*b->signals));
	if (!b->signals)
		return CDS_ENOMEM;
	b->signal_count = res->signal_count;
	for (size_t i = 0; i < res->signal_count; i++) {
		const struct cds_bootstrap_signal *sig = &res->signals[i];
		struct cds_verdict_signal *g = &b->signals[i];
		snprintf(g->ns, sizeof(g->ns), "%s", sig->ns);
		snprintf(g->zone, sizeof(g->zone), "%s", sig->zone);
		for (size_t k = 0; k < sig->sets[0].count; k++) {
			struct cds_ds ds;
			if (cds_ds_from_rdata(sig->sets[0].rdata[k].data, sig->sets[0].rdata[k].len,
					      &ds) == 0 &&
			    cds_ds_text_add(&g->cds, &ds) != 0)
				return CDS_ENOMEM;
		}
		for (size_t k = 0; k < sig->sets[1].count; k++) {
			char txt[2048];
			if (cds_dnskey_format(sig->sets[1].rdata[k].data, sig->sets[1].rdata[k].len,
					      txt, sizeof(txt)) == 0 &&
			    cds_strlist_add(&g->cdnskey, txt) != 0)
				return CDS_ENOMEM;
		}
		cds_strlist_sort(&g->cds);
		cds_strlist_sort(&g->cdnskey);
		if (sig->zone_status != CDS_DNSSEC_SECURE) {
			g->status = status_word(sig->zone_status);
			snprintf(g->detail, sizeof(g->detail), "zone: %.180s", sig->zone_why);
			continue;
		}
		g->status = "secure";
		bool missing = true;
		for (int k = 0; k < 2 && g->status[0] == 's'; k++) {
			if (sig->missing[k])
				continue;
			missing = false;
			if (sig->status[k] != CDS_DNSSEC_SECURE) {
				g->status = status_word(sig->status[k]);
				snprintf(g->detail, sizeof(g->detail), "%s: %.180s",
					 k ? "CDNSKEY" : "CDS", sig->why[k]);
			}
		}
		if (missing)
			g->status = "missing";
	}
	return 0;
}

/* Judge the signals against the apex signal (RFC 9615 §4.2 steps 3 and
 * 4): for each fault, the first host that has it, described in why. */
static void judge_signals(const struct cds_scan_result *res, bool fault[FAULT_COUNT],
			  char why[FAULT_COUNT][1024])
{
	const struct cds_rrset *apex[2] = {&res->servers[0].sets[CDS_Q_CDS],
					   &res->servers[0].sets[CDS_Q_CDNSKEY]};
	static const char *const tname[2] = {"CDS", "CDNSKEY"};
	for (size_t i = 0; i < res->signal_count; i++) {
		const struct cds_bootstrap_signal *sig = &res->signals[i];
		enum signal_fault f = FAULT_NONE;
		char w[1024] = "";
		if (sig->zone_status == CDS_DNSSEC_INSECURE || sig->zone_status == CDS_DNSSEC_BOGUS) {
			f = FAULT_NS_INSECURE;
			snprintf(w, sizeof(w), "%s: %s", sig->ns, sig->zone_why);
		} else if (sig->zone_status != CDS_DNSSEC_SECURE) {
			f = FAULT_MISSING;
			snprintf(w, sizeof(w), "%s: the zone of the host name could not be "
					       "looked up (%s)", sig->ns, sig->zone_why);
		}
		if (f != FAULT_NONE) {
			if (!fault[f])
				snprintf(why[f], sizeof(why[f]), "%s", w);
			fault[f] = true;
			continue;
		}
		for (int k = 0; k < 2; k++) {
			f = FAULT_NONE;
			if (sig->missing[k] || sig->error[k]) {
				if (apex[k]->count) {
					f = FAULT_MISSING;
					snprintf(w, sizeof(w), "no %s at the signaling name under %s (%s)",
						 tname[k], sig->ns, sig->why[k]);
				}
			} else if (sig->status[k] == CDS_DNSSEC_INSECURE) {
				f = FAULT_NS_INSECURE;
				snprintf(w, sizeof(w), "the %s signal under %s is not in a secure zone "
						       "(%s)", tname[k], sig->ns, sig->why[k]);
			} else if (sig->status[k] != CDS_DNSSEC_SECURE) {
				f = FAULT_BOGUS;
				snprintf(w, sizeof(w), "the %s signal under %s: %s", tname[k], sig->ns,
					 sig->why[k]);
			} else if (!cds_rrset_equal(&sig->sets[k], apex[k])) {
				f = FAULT_MISMATCH;
				snprintf(w, sizeof(w), "the %s signal under %s differs from the %s "
						       "at the apex", tname[k], sig->ns, tname[k]);
			}
			if (f != FAULT_NONE && !fault[f])
				snprintf(why[f], sizeof(why[f]), "%s", w);
			if (f != FAULT_NONE)
				fault[f] = true;
		}
	}
}

/* Join a sorted DS list with ','. */
static void join(const struct cds_strlist *l, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < l->n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? "," : "", l->v[i]);
}

static int propose_into(const struct cds_scan_result *res, const struct cds_conf *conf,
			struct cds_memo *memo, struct cds_verdict *v, struct cds_strlist *out)
{
	struct cds_ds proposed[CDS_PROPOSED_MAX];
	size_t n = 0;
	int r = cds_policy_propose_ds(res, conf, memo, v, proposed, &n);
	if (r != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (cds_ds_text_add(out, &proposed[i]) != 0)
			return CDS_ENOMEM;
	cds_strlist_sort(out);
	return 0;
}

/* RFC 8078 §3.3: accept only a signal seen unchanged, at every address,
 * over TCP, in policy.bootstrap.delay-scans consecutive scans spanning
 * policy.bootstrap.delay.  The clock is the delegation's last observation;
 * anything but "the same signal again" starts it anew. */
static int after_delay(const struct cds_scan_result *res, const struct cds_conf *conf,
		       struct cds_memo *memo, struct cds_verdict *v, const char *no_auth)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ds_side;
	struct cds_verdict_bootstrap *b = &v->bootstrap;
	time_t now = memo->now;
	if (!res->signal_over_tcp) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_BOOTSTRAP_PENDING,
				   "the signal was not read over TCP; not counted");
		return 0;
	}
	struct cds_strlist cand = {0};
	int r = propose_into(res, conf, memo, v, &cand);
	if (r != 0) {
		cds_strlist_clear(&cand);
		return r == 1 ? 0 : r;
	}
	join(&cand, b->signal, sizeof(b->signal));
	bool same = d->has_observation && strcmp(d->observed_signal, b->signal) == 0;
	b->observed = true;
	b->scans = same ? d->observed_scans + 1 : 1;
	b->first_seen = same ? d->observed_first : now;
	b->scans_needed = conf->policy.bootstrap_delay_scans;
	b->delay_needed_s = conf->policy.bootstrap_delay_ms / 1000;
	uint64_t age = now > b->first_seen ? (uint64_t)(now - b->first_seen) : 0;
	if (b->scans >= b->scans_needed && age >= b->delay_needed_s) {
		cds_strlist_clear(&side->proposed);
		for (size_t i = 0; i < cand.n; i++)
			if (cds_strlist_add(&side->proposed, cand.v[i]) != 0) {
				cds_strlist_clear(&cand);
				return CDS_ENOMEM;
			}
		cds_strlist_clear(&cand);
		cds_verdict_decide(side, CDS_ACTION_BOOTSTRAP, CDS_R_BOOTSTRAP_AFTER_DELAY,
				   "seen unchanged in %u scans over %llu hours", b->scans,
				   (unsigned long long)(age / 3600));
		return cds_verdict_side_diff(side);
	}
	cds_strlist_clear(&cand);
	cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_BOOTSTRAP_PENDING,
			   "%s; seen in %u of %u scans, for %llu of %llu hours%s (no RFC 9615 "
			   "path: %s)",
			   d->has_observation && !same ? "the signal changed, the clock restarts"
						       : "accept-after-delay",
			   b->scans, b->scans_needed, (unsigned long long)(age / 3600),
			   (unsigned long long)(b->delay_needed_s / 3600),
			   res->delegation->has_observation || b->scans > 1 ? "" : " (first sighting)",
			   no_auth);
	return 0;
}

int cds_policy_decide_bootstrap(const struct cds_scan_result *res, const struct cds_conf *conf,
				struct cds_memo *memo, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ds_side;
	int del = cds_policy_delete_signal(res, side);
	if (del == 1)
		return 0;
	if (del == 2) {
		/* The signal asks for what the parent has: no DS. */
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED,
				   "a delete signal, and there is no DS");
		return 0;
	}
	if (fill_signals(res, v) != 0)
		return CDS_ENOMEM;

	bool outside = false;
	for (size_t i = 0; i < d->ns_count && !outside; i++)
		outside = !cds_dname_is_subdomain(d->ns[i].name, d->domain);
	bool fault[FAULT_COUNT] = {false};
	char why[FAULT_COUNT][1024];
	const char *no_auth = NULL;
	if (!conf->policy.bootstrap_authenticated)
		no_auth = "policy.bootstrap.authenticated is false";
	else if (!outside)
		no_auth = "every nameserver is inside the zone; RFC 9615 needs one outside it";
	else if (!res->signals_asked || !res->signals)
		no_auth = "the signaling names were not looked up";
	else {
		/* No signal anywhere: the operator does not use RFC 9615 for
		 * this zone; nothing is wrong, there is just no path. */
		bool any = false;
		for (size_t i = 0; i < res->signal_count; i++)
			for (int k = 0; k < 2; k++)
				any |= !res->signals[i].missing[k] && !res->signals[i].error[k];
		if (any)
			judge_signals(res, fault, why);
		else
			no_auth = "no RFC 9615 signal under any nameserver host name";
	}

	if (!no_auth && !fault[FAULT_NS_INSECURE] && !fault[FAULT_MISSING] && !fault[FAULT_BOGUS] &&
	    !fault[FAULT_MISMATCH]) {
		/* RFC 9615 §4.2 step 5: authenticated; the same checks as for
		 * any signal follow (continuity at every address included). */
		struct cds_strlist cand = {0};
		int r = propose_into(res, conf, memo, v, &cand);
		if (r != 0) {
			cds_strlist_clear(&cand);
			return r == 1 ? 0 : r;
		}
		cds_strlist_clear(&side->proposed);
		side->proposed = cand;
		cds_verdict_decide(side, CDS_ACTION_BOOTSTRAP, CDS_R_BOOTSTRAP_AUTHENTICATED,
				   "signals under %zu nameserver host name%s", res->signal_count,
				   res->signal_count == 1 ? "" : "s");
		return cds_verdict_side_diff(side);
	}
	/* A signal that is there but wrong is never waited out. */
	if (fault[FAULT_BOGUS] || fault[FAULT_MISMATCH]) {
		enum signal_fault f = fault[FAULT_BOGUS] ? FAULT_BOGUS : FAULT_MISMATCH;
		cds_verdict_decide(side, CDS_ACTION_REJECT,
				   f == FAULT_BOGUS ? CDS_R_BOOTSTRAP_SIGNAL_BOGUS
						    : CDS_R_BOOTSTRAP_SIGNAL_MISMATCH,
				   "%s", why[f]);
		return 0;
	}
	enum signal_fault f = fault[FAULT_NS_INSECURE] ? FAULT_NS_INSECURE : FAULT_MISSING;
	if (!no_auth)
		no_auth = why[f];
	if (conf->policy.bootstrap_after_delay)
		return after_delay(res, conf, memo, v, no_auth);
	if (fault[f]) {
		cds_verdict_decide(side, CDS_ACTION_REJECT,
				   f == FAULT_NS_INSECURE ? CDS_R_BOOTSTRAP_NS_INSECURE
							  : CDS_R_BOOTSTRAP_SIGNAL_MISSING,
				   "%s", why[f]);
		return 0;
	}
	cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_INSECURE_NO_BOOTSTRAP, "%s", no_auth);
	return 0;
}
