/* DS-side decisions: RFC 7344 (CDS/CDNSKEY), RFC 8078 (delete), RFC 9975
 * (consistency across every nameserver address), RFC 8901 (multi-signer
 * continuity), RFC 6840 §5.11 (every algorithm of the DS set).  Each rule
 * is a stage; the first that decides ends the side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

/* The current DS set, as current and (until something is proposed)
 * proposed; and `secure`: the current DS set authenticates the DNSKEY RRset
 * as served by every nameserver. */
static int ds_setup(struct decision *dc)
{
	const struct cds_delegation *d = dc->d;
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < d->ds_count; i++) {
		if (ds_text_add(&dc->side->current, &d->ds[i]) != 0 ||
		    ds_text_add(&dc->side->proposed, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	}
	dc->v->secure = d->ds_count > 0 && res->server_count > 0;
	dc->v->secure_checked = true;
	for (size_t i = 0; i < res->server_count && dc->v->secure; i++)
		dc->v->secure = res->servers[i].ok;
	if (dc->v->secure && !res->apex_asked) {
		/* The scan did not ask for the DNSKEY RRsets (no signal at any
		 * address, scan.full-status off): not known, not claimed. */
		dc->v->secure = false;
		dc->v->secure_checked = false;
	}
	for (size_t i = 0; i < res->server_count && dc->v->secure; i++)
		dc->v->secure = cds_memo_authenticates(dc->memo, &res->servers[i], d->ds, d->ds_count);
	return 0;
}

static int stage_has_servers(struct decision *dc)
{
	if (dc->res->server_count > 0)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE, "%s",
			   dc->v->excluded.n ? "no address is left to ask (see the excluded ones)"
					     : "the delegation has no nameserver");
	return STAGE_DECIDED;
}

/* The same CDS and CDNSKEY RRsets at every address; NODATA at one and
 * records at another is a disagreement too (RFC 9975 §3). */
static int stage_consistent(struct decision *dc)
{
	const char *what = NULL;
	long i = first_signal_mismatch(dc->res, &what);
	if (i < 0)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_NS_INCONSISTENT,
			   "%s at " WHERE_FMT " differs from %s at " WHERE_FMT, what,
			   WHERE_ARGS(&dc->v->servers[i]), what, WHERE_ARGS(&dc->v->servers[0]));
	return STAGE_DECIDED;
}

static int stage_has_signal(struct decision *dc)
{
	const struct cds_server_result *ref = &dc->res->servers[0];
	if (ref->sets[CDS_Q_CDS].count || ref->sets[CDS_Q_CDNSKEY].count)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_NO_SIGNAL, NULL);
	return STAGE_DECIDED;
}

/* An insecure delegation's first DS: bootstrap.c decides. */
static int stage_insecure(struct decision *dc)
{
	if (dc->d->ds_count > 0)
		return STAGE_PASS;
	int r = decide_bootstrap(dc);
	return r < 0 ? r : STAGE_DECIDED;
}

/* RFC 7344 §4.1: the signal must be authenticated by the current DS set:
 * first the DNSKEY RRset at every server (a work limit that stopped the
 * validation is the detail, before any list of keys could crowd it out)
 * ... */
static int stage_dnskey_authenticated(struct decision *dc)
{
	long bad = first_unauthenticated(dc);
	char keys[128], ds[128];
	if (bad < 0)
		return STAGE_PASS;
	if (dc->memo->work.limit[0]) {
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOGUS,
				   "the DNSKEY RRset at " WHERE_FMT
				   " is not authenticated by the current DS set: %s",
				   WHERE_ARGS(&dc->v->servers[bad]), dc->memo->work.limit);
		return STAGE_DECIDED;
	}
	key_tags(&dc->res->servers[bad].sets[CDS_Q_DNSKEY], keys, sizeof(keys));
	ds_tags(dc->d, ds, sizeof(ds));
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOGUS,
			   "the DNSKEY RRset at " WHERE_FMT
			   " (keys %s) is not authenticated by the current DS set (DS for keys "
			   "%s)",
			   WHERE_ARGS(&dc->v->servers[bad]), keys[0] ? keys : "none", ds);
	return STAGE_DECIDED;
}

/* Why a signature does not validate, from its validity window, with the
 * key tags of the RRSIGs. */
static void sig_trouble(const struct cds_rrset *set, time_t now, char *out, size_t len)
{
	bool expired = false, early = false;
	size_t o = 0;
	for (size_t s = 0; s < set->sig_count; s++) {
		expired |= sig_time(set->sigs[s].expiration, now) < now;
		early |= sig_time(set->sigs[s].inception, now) > now;
	}
	o = (size_t)snprintf(out, len, " (%s; RRSIG by key",
			     expired ? "signature expired"
			     : early ? "signature not yet valid"
				     : "unknown key or wrong signature");
	for (size_t s = 0; s < set->sig_count && o < len; s++)
		o += (size_t)snprintf(out + o, len - o, " %u", set->sigs[s].key_tag);
	if (o < len)
		snprintf(out + o, len - o, ")");
}

/* ... then the signal's RRSIGs, at every server. */
static int stage_signal_valid(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
			const struct cds_rrset *set = &sr->sets[k];
			if (set->count == 0)
				continue;
			if (set->sig_count == 0) {
				cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_NOT_SIGNED,
						   "%s at " WHERE_FMT " has no RRSIG", cds_query_name(k),
						   WHERE_ARGS(&dc->v->servers[i]));
				return STAGE_DECIDED;
			}
			if (cds_memo_validate(dc->memo, set, &sr->sets[CDS_Q_DNSKEY], dc->d->ds,
					      dc->d->ds_count) != CDS_DNSSEC_SECURE) {
				char why[160] = "";
				if (!dc->memo->work.limit[0])
					sig_trouble(set, dc->now, why, sizeof(why));
				cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOGUS,
						   "the RRSIG of %s at " WHERE_FMT
						   " does not validate with the DNSKEY RRset%s" LIMIT_FMT,
						   cds_query_name(k), WHERE_ARGS(&dc->v->servers[i]), why,
						   LIMIT_ARGS(dc->memo));
				return STAGE_DECIDED;
			}
		}
	}
	return STAGE_PASS;
}

/* RFC 7344 §4.1: the CDS/CDNSKEY RRset must be signed by a key that is in
 * the DNSKEY RRset and referenced by the current DS set (a ZSK's signature
 * alone is not the zone's word).  RFC 9615 bootstrapping is the exception
 * RFC 7344 names; it never gets here. */
static int stage_signer_in_ds(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
			uint16_t tag = 0;
			if (sr->sets[k].count == 0 ||
			    cds_memo_ds_signer(dc->memo, &sr->sets[k], &sr->sets[CDS_Q_DNSKEY], dc->d->ds,
					       dc->d->ds_count, &tag) == CDS_DNSSEC_SECURE)
				continue;
			if (dc->memo->work.limit[0]) {
				/* Stopped by a limit: which key signed is not known. */
				cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOGUS,
						   "%s at " WHERE_FMT " was not checked for a signer "
						   "the DS set references: %s",
						   cds_query_name(k), WHERE_ARGS(&dc->v->servers[i]),
						   dc->memo->work.limit);
				return STAGE_DECIDED;
			}
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_SIGNER_NOT_IN_DS,
					   "%s at " WHERE_FMT " is signed by key %u, which no DS of "
					   "the delegation references (RFC 7344 §4.1: sign it with "
					   "a key the DS set names, e.g. the KSK)",
					   cds_query_name(k), WHERE_ARGS(&dc->v->servers[i]), tag);
			return STAGE_DECIDED;
		}
	}
	return STAGE_PASS;
}

/* A delete signal (RFC 8078 §4), or keys; a malformed delete decides. */
static int stage_delete_form(struct decision *dc)
{
	switch (delete_signal(dc)) {
	case DELETE_MALFORMED:
		return STAGE_DECIDED;
	case DELETE_ASKED:
		dc->is_delete = true;
		return STAGE_PASS;
	default:
		return STAGE_PASS;
	}
}

/* The signal as published asks for exactly the DS set the parent holds:
 * nothing to do, whatever the policy thinks of its records and however old
 * its signatures (a steady state is not a replay). */
static int stage_as_published(struct decision *dc)
{
	struct cds_strlist asked = {0};
	if (dc->is_delete)
		return STAGE_PASS;
	int r = signal_ds_texts(dc, &asked);
	bool same = r == 0 && cds_strlist_equal(&asked, &dc->side->current);
	cds_strlist_clear(&asked);
	if (r != 0)
		return r;
	if (!same)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED, NULL);
	return STAGE_DECIDED;
}

static int stage_well_formed(struct decision *dc)
{
	return dc->is_delete ? STAGE_PASS : stage_signal_well_formed(dc);
}

static int stage_agrees(struct decision *dc)
{
	return dc->is_delete ? STAGE_PASS : stage_signal_agrees(dc);
}

static int stage_propose(struct decision *dc)
{
	return dc->is_delete ? STAGE_PASS : propose_agreed(dc);
}

/* The proposal after policy (records of disallowed digest types dropped)
 * against the current set. */
static int stage_unchanged(struct decision *dc)
{
	struct cds_strlist proposal = {0};
	if (dc->is_delete)
		return STAGE_PASS;
	int r = proposed_texts(dc, &proposal);
	bool same = r == 0 && cds_strlist_equal(&proposal, &dc->side->current);
	cds_strlist_clear(&proposal);
	if (r != 0)
		return r;
	if (!same)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED,
			   "the signal, with the records policy drops, equals the current DS set");
	return STAGE_DECIDED;
}

/* RFC 7344 §6.2 replay protection: a signal that would change the DS set
 * and was signed before the baseline (the inception of the last signal the
 * parent acted on, or when a change made outside cdscan was seen) is an
 * old signal being served again. */
static int stage_replay(struct decision *dc)
{
	const struct cds_delegation *d = dc->d;
	if (!d->has_last_change)
		return STAGE_PASS;
	for (size_t i = 0; i < dc->res->server_count; i++) {
		for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
			const struct cds_rrset *set = &dc->res->servers[i].sets[k];
			for (size_t s = 0; s < set->sig_count; s++) {
				time_t inc = sig_time(set->sigs[s].inception, dc->now);
				if (inc >= d->last_change)
					continue;
				char a[32], b[32];
				cds_time_format(inc, a, sizeof(a));
				cds_time_format(d->last_change, b, sizeof(b));
				cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_STALE_SIGNAL,
						   "%s at " WHERE_FMT " (RRSIG by key %u) was signed "
						   "at %s, before the replay baseline %s",
						   cds_query_name(k), WHERE_ARGS(&dc->v->servers[i]),
						   set->sigs[s].key_tag, a, b);
				return STAGE_DECIDED;
			}
		}
	}
	return STAGE_PASS;
}

/* The change: a delete (RFC 8078 §4, if policy allows going insecure) or
 * an update.  The signal's newest inception becomes the replay baseline
 * once the parent acts on it. */
static int stage_change(struct decision *dc)
{
	struct cds_verdict_side *side = dc->side;
	if (dc->is_delete && !dc->conf->policy.allow_delete) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_DELETE_NOT_ALLOWED,
				   "policy.allow-delete is false");
		return STAGE_DECIDED;
	}
	dc->v->signal_inception = signal_inception(dc);
	cds_strlist_clear(&side->proposed);
	if (dc->is_delete) {
		cds_verdict_decide(side, CDS_ACTION_DELETE, CDS_R_DELETE, NULL);
	} else {
		if (proposed_texts(dc, &side->proposed) != 0)
			return CDS_ENOMEM;
		cds_verdict_decide(side, CDS_ACTION_UPDATE, CDS_R_DS_UPDATED, NULL);
	}
	int r = cds_verdict_side_diff(side);
	return r ? r : STAGE_DECIDED;
}

static const stage_fn ds_stages[] = {
	stage_suspended,	    stage_opted_out,	stage_has_servers,
	stage_all_usable,	    stage_consistent,	stage_has_signal,
	stage_insecure,		    stage_dnskey_authenticated,
	stage_signal_valid,	    stage_signer_in_ds, stage_delete_form,
	stage_well_formed,
	stage_agrees,		    stage_as_published, stage_propose,
	stage_unchanged,
	stage_replay,		    stage_change,
};

int decide_ds(struct decision *dc)
{
	int r = ds_setup(dc);
	return r ? r : RUN_STAGES(ds_stages, dc);
}

enum delete_kind delete_signal(struct decision *dc)
{
	const struct cds_rrset *cds = &dc->res->servers[0].sets[CDS_Q_CDS];
	const struct cds_rrset *cdnskey = &dc->res->servers[0].sets[CDS_Q_CDNSKEY];
	/* RFC 8078 §4 (erratum 5049): a delete is exactly one record. */
	bool cds_del = false, key_del = false;
	for (size_t i = 0; i < cds->count; i++)
		cds_del |= cds_rdata_is_cds_delete(&cds->rdata[i]);
	for (size_t i = 0; i < cdnskey->count; i++)
		key_del |= cds_rdata_is_cdnskey_delete(&cdnskey->rdata[i]);
	if ((cds_del && cds->count > 1) || (key_del && cdnskey->count > 1)) {
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_MIXED_DELETE,
				   "the %s RRset holds the delete record and other records",
				   cds_del && cds->count > 1 ? "CDS" : "CDNSKEY");
		return DELETE_MALFORMED;
	}
	if (!cds_del && !key_del)
		return DELETE_NONE;
	if ((cds->count && !cds_del) || (cdnskey->count && !key_del)) {
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH,
				   "one of CDS and CDNSKEY asks for deletion, the other for keys");
		return DELETE_MALFORMED;
	}
	return DELETE_ASKED;
}
