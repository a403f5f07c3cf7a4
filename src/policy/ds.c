/* DS-side decisions: RFC 7344 (CDS/CDNSKEY), RFC 8078 (delete), RFC 9975
 * (consistency across every nameserver address), RFC 8901 (multi-signer
 * continuity), RFC 6840 §5.11 (every algorithm of the DS set). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/policy.h"
#include "policy_internal.h"

/* RFC 6840 §5.11: for every algorithm in the DS set, the DS records of that
 * algorithm alone must authenticate the DNSKEY RRset. */
static bool chain_holds(struct cds_memo *memo, const struct cds_server_result *sr,
			const struct cds_ds *ds, size_t n, uint8_t *failed_alg)
{
	struct cds_ds subset[64];
	bool seen[256] = {false};
	for (size_t i = 0; i < n; i++) {
		uint8_t alg = ds[i].algorithm;
		if (seen[alg])
			continue;
		seen[alg] = true;
		size_t cnt = 0;
		for (size_t k = 0; k < n && cnt < 64; k++)
			if (ds[k].algorithm == alg)
				subset[cnt++] = ds[k];
		if (!cds_memo_authenticates(memo, sr, subset, cnt)) {
			*failed_alg = alg;
			return false;
		}
	}
	return true;
}

/* When both are published, CDS and CDNSKEY must describe the same keys
 * (RFC 7344 §4.1, RFC 8078 §2): every CDS is the digest of one CDNSKEY and
 * every CDNSKEY has a CDS. */
static bool cds_matches_cdnskey(const char *owner, const struct cds_rrset *cds,
				const struct cds_rrset *cdnskey, char *why, size_t whylen)
{
	bool *covered = calloc(cdnskey->count ? cdnskey->count : 1, sizeof(bool));
	bool ok = covered != NULL;
	for (size_t i = 0; ok && i < cds->count; i++) {
		struct cds_ds want;
		if (cds_ds_from_rdata(cds->rdata[i].data, cds->rdata[i].len, &want) != 0) {
			snprintf(why, whylen, "a CDS record is malformed");
			ok = false;
			break;
		}
		bool found = false;
		for (size_t k = 0; k < cdnskey->count; k++) {
			const struct cds_rdata *key = &cdnskey->rdata[k];
			struct cds_ds got;
			if (key->len < 4 || cds_dnskey_keytag(key->data, key->len) != want.keytag ||
			    key->data[3] != want.algorithm)
				continue;
			int r = cds_ds_from_dnskey(owner, key->data, key->len, want.digest_type, &got);
			/* A digest type cdscan cannot compute is matched on key tag
			 * and algorithm; digest policy rejects it later anyway. */
			if (r == CDS_EINVAL ||
			    (r == 0 && got.digest_len == want.digest_len &&
			     memcmp(got.digest, want.digest, got.digest_len) == 0)) {
				covered[k] = true;
				found = true;
			}
		}
		if (!found) {
			char txt[CDS_DS_TEXT_MAX];
			cds_ds_format(&want, txt);
			snprintf(why, whylen, "CDS %s matches no CDNSKEY", txt);
			ok = false;
		}
	}
	for (size_t k = 0; ok && k < cdnskey->count; k++) {
		if (!covered[k]) {
			snprintf(why, whylen, "CDNSKEY with key tag %u has no CDS",
				 cds_dnskey_keytag(cdnskey->rdata[k].data, cdnskey->rdata[k].len));
			ok = false;
		}
	}
	free(covered);
	return ok;
}

/* The DS side.  Each check is a stage; the first that fails decides. */
int cds_policy_decide_ds(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ds_side;
	time_t now = memo->now;

	for (size_t i = 0; i < d->ds_count; i++) {
		if (cds_ds_text_add(&side->current, &d->ds[i]) != 0 ||
		    cds_ds_text_add(&side->proposed, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	}

	/* secure: the current DS set authenticates the DNSKEY RRset as served
	 * by every nameserver. */
	v->secure = d->ds_count > 0 && res->server_count > 0;
	for (size_t i = 0; i < res->server_count && v->secure; i++)
		v->secure = res->servers[i].ok &&
			    cds_memo_authenticates(memo, &res->servers[i], d->ds, d->ds_count);

	if (d->opted_out) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_OPTED_OUT, NULL);
		return 0;
	}
	if (res->server_count == 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE,
				   "the delegation has no nameserver");
		return 0;
	}
	/* RFC 9975 §3: any unusable address means no action. */
	if (cds_policy_reject_unusable(res, v, side))
		return 0;
	/* Consistency: the same CDS and CDNSKEY RRsets at every address; NODATA
	 * at one and records at another is a disagreement too. */
	const struct cds_server_result *ref = &res->servers[0];
	for (size_t i = 1; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		const char *what = !cds_rrset_equal(&ref->sets[CDS_Q_CDS], &sr->sets[CDS_Q_CDS])
					   ? "CDS"
				   : !cds_rrset_equal(&ref->sets[CDS_Q_CDNSKEY],
						      &sr->sets[CDS_Q_CDNSKEY])
					   ? "CDNSKEY"
					   : NULL;
		if (what) {
			char a[CDS_DNAME_BUFSIZE + 80];
			snprintf(a, sizeof(a), "%s", cds_policy_where(&v->servers[0]));
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_INCONSISTENT,
					   "%s at %s differs from %s at %s", what,
					   cds_policy_where(&v->servers[i]), what, a);
			return 0;
		}
	}
	const struct cds_rrset *cds = &ref->sets[CDS_Q_CDS];
	const struct cds_rrset *cdnskey = &ref->sets[CDS_Q_CDNSKEY];
	if (cds->count == 0 && cdnskey->count == 0) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_NO_SIGNAL, NULL);
		return 0;
	}
	if (d->ds_count == 0)
		return cds_policy_decide_bootstrap(res, conf, memo, v);
	/* RFC 7344 §4.1: the signal must be authenticated by the current DS set:
	 * first the DNSKEY RRset at every server, then the signal's RRSIGs. */
	long bad = cds_policy_first_unauthenticated(memo, res);
	if (bad >= 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BOGUS,
				   "the DNSKEY RRset at %s is not authenticated by the current DS set",
				   cds_policy_where(&v->servers[bad]));
		return 0;
	}
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
			const struct cds_rrset *set = &sr->sets[k];
			const char *name = k == CDS_Q_CDS ? "CDS" : "CDNSKEY";
			if (set->count == 0)
				continue;
			if (set->sig_count == 0) {
				cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NOT_SIGNED,
						   "%s at %s has no RRSIG", name,
						   cds_policy_where(&v->servers[i]));
				return 0;
			}
			enum cds_dnssec_status st =
				cds_memo_validate(memo, set, &sr->sets[CDS_Q_DNSKEY], d->ds, d->ds_count);
			if (st != CDS_DNSSEC_SECURE) {
				bool expired = false, early = false;
				for (size_t s = 0; s < set->sig_count; s++) {
					expired |= cds_sig_time(set->sigs[s].expiration, now) < now;
					early |= cds_sig_time(set->sigs[s].inception, now) > now;
				}
				cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BOGUS,
						   "the RRSIG of %s at %s does not validate with the "
						   "DNSKEY RRset%s",
						   name, cds_policy_where(&v->servers[i]),
						   expired ? " (signature expired)"
						   : early ? " (signature not yet valid)"
							   : " (unknown key or wrong signature)");
				return 0;
			}
		}
	}
	/* RFC 7344 §6.2 replay protection: a signal signed before the parent's
	 * last DS change is an old signal being served again. */
	if (d->has_last_change) {
		for (size_t i = 0; i < res->server_count; i++) {
			for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
				const struct cds_rrset *set = &res->servers[i].sets[k];
				for (size_t s = 0; s < set->sig_count; s++) {
					time_t inc = cds_sig_time(set->sigs[s].inception, now);
					if (inc < d->last_change) {
						char a[32], b[32];
						cds_time_format(inc, a, sizeof(a));
						cds_time_format(d->last_change, b, sizeof(b));
						cds_verdict_decide(
							side, CDS_ACTION_REJECT, CDS_R_STALE_SIGNAL,
							"%s at %s was signed at %s, before the last "
							"DS change at %s",
							k == CDS_Q_CDS ? "CDS" : "CDNSKEY",
							cds_policy_where(&v->servers[i]), a, b);
						return 0;
					}
				}
			}
		}
	}
	int del = cds_policy_delete_signal(res, side);
	if (del == 1)
		return 0;
	if (del == 2) {
		if (!conf->policy.allow_delete) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_DELETE_NOT_ALLOWED,
					   "policy.allow-delete is false");
			return 0;
		}
		cds_strlist_clear(&side->proposed);
		cds_verdict_decide(side, CDS_ACTION_DELETE, CDS_R_DELETE, NULL);
		return cds_verdict_side_diff(side);
	}
	struct cds_ds proposed[CDS_PROPOSED_MAX];
	size_t n = 0;
	int r = cds_policy_propose_ds(res, conf, memo, v, proposed, &n);
	if (r != 0)
		return r == 1 ? 0 : r;
	cds_strlist_clear(&side->proposed);
	for (size_t i = 0; i < n; i++)
		if (cds_ds_text_add(&side->proposed, &proposed[i]) != 0)
			return CDS_ENOMEM;
	if (cds_strlist_equal(&side->proposed, &side->current)) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED, NULL);
		return 0;
	}
	cds_verdict_decide(side, CDS_ACTION_UPDATE, CDS_R_DS_UPDATED, NULL);
	return cds_verdict_side_diff(side);
}

int cds_policy_delete_signal(const struct cds_scan_result *res, struct cds_verdict_side *side)
{
	const struct cds_rrset *cds = &res->servers[0].sets[CDS_Q_CDS];
	const struct cds_rrset *cdnskey = &res->servers[0].sets[CDS_Q_CDNSKEY];
	/* RFC 8078 §4 (erratum 5049): a delete is exactly one record. */
	bool cds_del = false, key_del = false;
	for (size_t i = 0; i < cds->count; i++)
		cds_del |= cds_rdata_is_cds_delete(&cds->rdata[i]);
	for (size_t i = 0; i < cdnskey->count; i++)
		key_del |= cds_rdata_is_cdnskey_delete(&cdnskey->rdata[i]);
	if ((cds_del && cds->count > 1) || (key_del && cdnskey->count > 1)) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_MIXED_DELETE,
				   "the %s RRset holds the delete record and other records",
				   cds_del && cds->count > 1 ? "CDS" : "CDNSKEY");
		return 1;
	}
	if (!cds_del && !key_del)
		return 0;
	if ((cds->count && !cds_del) || (cdnskey->count && !key_del)) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH,
				   "one of CDS and CDNSKEY asks for deletion, the other for keys");
		return 1;
	}
	return 2;
}

int cds_policy_propose_ds(const struct cds_scan_result *res, const struct cds_conf *conf,
			  struct cds_memo *memo, struct cds_verdict *v, struct cds_ds *proposed,
			  size_t *count)
{
	const struct cds_rrset *cds = &res->servers[0].sets[CDS_Q_CDS];
	const struct cds_rrset *cdnskey = &res->servers[0].sets[CDS_Q_CDNSKEY];
	struct cds_verdict_side *side = &v->ds_side;
	const char *owner = res->delegation->domain;
	char why[256];
	if (cds->count && cdnskey->count &&
	    !cds_matches_cdnskey(owner, cds, cdnskey, why, sizeof(why))) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH, "%s", why);
		return 1;
	}
	/* The proposed DS set: the CDS records as published, else DS computed
	 * from CDNSKEY with every digest type of policy.compute-digests. */
	size_t n = 0;
	if (cds->count) {
		for (size_t i = 0; i < cds->count && n < CDS_PROPOSED_MAX; i++)
			if (cds_ds_from_rdata(cds->rdata[i].data, cds->rdata[i].len, &proposed[n]) ==
			    0)
				n++;
	} else {
		for (size_t i = 0; i < cdnskey->count; i++) {
			for (int dt = 1; dt < 256 && n < CDS_PROPOSED_MAX; dt++) {
				if (!conf->policy.compute_digests[dt])
					continue;
				if (cds_ds_from_dnskey(owner, cdnskey->rdata[i].data,
						       cdnskey->rdata[i].len, (uint8_t)dt,
						       &proposed[n]) == 0)
					n++;
			}
		}
	}
	for (size_t i = 0; i < cdnskey->count; i++) {
		uint8_t alg = cdnskey->rdata[i].len >= 4 ? cdnskey->rdata[i].data[3] : 0;
		if (!conf->policy.algorithms[alg]) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_ALGORITHM_NOT_ALLOWED,
					   "CDNSKEY algorithm %u is not in policy.algorithms", alg);
			return 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!conf->policy.algorithms[proposed[i].algorithm]) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_ALGORITHM_NOT_ALLOWED,
					   "CDS for key %u has algorithm %u, not in "
					   "policy.algorithms",
					   proposed[i].keytag, proposed[i].algorithm);
			return 1;
		}
		if (!conf->policy.digest_types[proposed[i].digest_type]) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_DIGEST_NOT_ALLOWED,
					   "CDS for key %u has digest type %u, not in "
					   "policy.digest-types",
					   proposed[i].keytag, proposed[i].digest_type);
			return 1;
		}
	}
	if (n == 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BREAKS_CHAIN,
				   "the signal yields no usable DS record");
		return 1;
	}
	if (n > conf->policy.max_ds) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_TOO_MANY_DS,
				   "%zu DS records, policy.max-ds is %u", n, conf->policy.max_ds);
		return 1;
	}
	/* Continuity (RFC 8901 §6): the new DS set must authenticate the DNSKEY
	 * RRset as each provider serves it. */
	for (size_t i = 0; i < res->server_count; i++) {
		uint8_t alg = 0;
		if (!chain_holds(memo, &res->servers[i], proposed, n, &alg)) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BREAKS_CHAIN,
					   "the proposed DS records of algorithm %u do not "
					   "authenticate the DNSKEY RRset at %s",
					   alg, cds_policy_where(&v->servers[i]));
			return 1;
		}
	}
	*count = n;
	return 0;
}

