/* The DS set a signal asks for, and the stages every signal passes whatever
 * authenticates it (the current DS set, RFC 9615 signals, or
 * accept-after-delay): CDS/CDNSKEY agreement (RFC 7344 §4.1, RFC 8078 §2),
 * policy on algorithms, digest types and size, and continuity at every
 * address (RFC 8901 §6, RFC 6840 §5.11). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

/* Does the CDNSKEY key cover want (key tag, algorithm, digest)?  A digest
 * type cdscan cannot compute is matched on key tag and algorithm; digest
 * policy rejects it later anyway. */
static bool key_matches(const char *owner, const struct cds_rdata *key, const struct cds_ds *want)
{
	struct cds_ds got;
	if (key->len < 4 || cds_dnskey_keytag(key->data, key->len) != want->keytag ||
	    key->data[3] != want->algorithm)
		return false;
	int r = cds_ds_from_dnskey(owner, key->data, key->len, want->digest_type, &got);
	return r == CDS_EINVAL || (r == 0 && got.digest_len == want->digest_len &&
				   memcmp(got.digest, want->digest, got.digest_len) == 0);
}

/* When both are published, CDS and CDNSKEY must describe the same keys:
 * every CDS is the digest of one CDNSKEY and every CDNSKEY has a CDS.
 * Returns true, or false with why written. */
static bool cds_matches_cdnskey(const char *owner, const struct cds_rrset *cds,
				const struct cds_rrset *cdnskey, bool *covered, char *why,
				size_t whylen)
{
	for (size_t i = 0; i < cds->count; i++) {
		struct cds_ds want;
		if (cds_ds_from_rdata(cds->rdata[i].data, cds->rdata[i].len, &want) != 0) {
			snprintf(why, whylen, "a CDS record is malformed");
			return false;
		}
		bool found = false;
		for (size_t k = 0; k < cdnskey->count; k++)
			if (key_matches(owner, &cdnskey->rdata[k], &want))
				found = covered[k] = true;
		if (!found) {
			char txt[CDS_DS_TEXT_MAX];
			cds_ds_format(&want, txt);
			snprintf(why, whylen, "CDS %s matches no CDNSKEY", txt);
			return false;
		}
	}
	for (size_t k = 0; k < cdnskey->count; k++) {
		if (!covered[k]) {
			snprintf(why, whylen, "CDNSKEY with key tag %u has no CDS",
				 cds_dnskey_keytag(cdnskey->rdata[k].data, cdnskey->rdata[k].len));
			return false;
		}
	}
	return true;
}

static const struct cds_rrset *apex(const struct decision *dc, enum cds_query_kind k)
{
	return &dc->res->servers[0].sets[k];
}

int stage_signal_agrees(struct decision *dc)
{
	const struct cds_rrset *cds = apex(dc, CDS_Q_CDS), *cdnskey = apex(dc, CDS_Q_CDNSKEY);
	char why[256];
	if (!cds->count || !cdnskey->count)
		return STAGE_PASS;
	bool *covered = calloc(cdnskey->count, sizeof(bool));
	if (!covered)
		return CDS_ENOMEM;
	bool ok = cds_matches_cdnskey(dc->d->domain, cds, cdnskey, covered, why, sizeof(why));
	free(covered);
	if (ok)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH, "%s", why);
	return STAGE_DECIDED;
}

/* The DS set the signal asks for, as published: the CDS records (a record
 * that is not a well-formed DS, e.g. a digest of the wrong length for its
 * type, is never proposed), else DS computed from CDNSKEY with every digest
 * type of policy.compute-digests. */
static size_t build_signal(const struct decision *dc, struct cds_ds *out, size_t max)
{
	const struct cds_rrset *cds = apex(dc, CDS_Q_CDS), *cdnskey = apex(dc, CDS_Q_CDNSKEY);
	size_t n = 0;
	for (size_t i = 0; i < cds->count && n < max; i++)
		if (cds_ds_from_rdata(cds->rdata[i].data, cds->rdata[i].len, &out[n]) == 0)
			n++;
	for (size_t i = 0; !cds->count && i < cdnskey->count; i++) {
		for (int dt = 1; dt < 256 && n < max; dt++) {
			if (dc->conf->policy.compute_digests[dt] &&
			    cds_ds_from_dnskey(dc->d->domain, cdnskey->rdata[i].data,
					       cdnskey->rdata[i].len, (uint8_t)dt, &out[n]) == 0)
				n++;
		}
	}
	return n;
}

int signal_ds_texts(const struct decision *dc, struct cds_strlist *out)
{
	struct cds_ds *ds = calloc(CDS_PROPOSED_MAX, sizeof(*ds));
	if (!ds)
		return CDS_ENOMEM;
	size_t n = build_signal(dc, ds, CDS_PROPOSED_MAX);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = ds_text_add(out, &ds[i]);
	free(ds);
	cds_strlist_sort(out);
	return r;
}

/* A CDS record that is no well-formed DS (a digest whose length does not
 * fit its type: SHA-1 20, SHA-256 32, SHA-384 48 octets) is never
 * proposed, and the signal is refused rather than quietly shortened or
 * taken for the DS set it would equal without that record. */
int stage_signal_well_formed(struct decision *dc)
{
	const struct cds_rrset *cds = apex(dc, CDS_Q_CDS);
	for (size_t i = 0; i < cds->count; i++) {
		struct cds_ds ds;
		const struct cds_rdata *rd = &cds->rdata[i];
		if (cds_ds_from_rdata(rd->data, rd->len, &ds) == 0)
			continue;
		unsigned type = rd->len >= 4 ? rd->data[3] : 0;
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_DIGEST_NOT_ALLOWED,
				   "a CDS record is malformed: a digest of %u octets for digest type "
				   "%u (which needs %zu)",
				   rd->len >= 4 ? (unsigned)(rd->len - 4) : 0, type,
				   cds_ds_digest_length((uint8_t)type));
		return STAGE_DECIDED;
	}
	return STAGE_PASS;
}

static int stage_build(struct decision *dc)
{
	dc->nproposed = build_signal(dc, dc->proposed, CDS_PROPOSED_MAX);
	return STAGE_PASS;
}

/* Does a record for the same key (tag and algorithm) with an allowed
 * digest type exist in ds[0..n)? */
static bool key_has_allowed_digest(const struct decision *dc, const struct cds_ds *ds, size_t n,
				   const struct cds_ds *key)
{
	for (size_t i = 0; i < n; i++)
		if (ds[i].keytag == key->keytag && ds[i].algorithm == key->algorithm &&
		    dc->conf->policy.digest_types[ds[i].digest_type])
			return true;
	return false;
}

/* Digest types outside policy.digest-types: such a record is dropped when
 * its key keeps a record with an allowed type (as BIND's dnssec-cds -a
 * filters); a key left with none is digest-not-allowed. */
static int stage_digests(struct decision *dc)
{
	const bool *allowed = dc->conf->policy.digest_types;
	size_t w = 0;
	for (size_t i = 0; i < dc->nproposed; i++) {
		const struct cds_ds *ds = &dc->proposed[i];
		if (allowed[ds->digest_type]) {
			dc->proposed[w++] = *ds;
			continue;
		}
		if (key_has_allowed_digest(dc, dc->proposed, dc->nproposed, ds))
			continue; /* dropped */
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_DIGEST_NOT_ALLOWED,
				   "CDS for key %u (algorithm %u) has only digest type %u, not in "
				   "policy.digest-types",
				   ds->keytag, ds->algorithm, ds->digest_type);
		return STAGE_DECIDED;
	}
	dc->nproposed = w;
	return STAGE_PASS;
}

/* Does the parent hold this DS already? */
static bool held(const struct cds_delegation *d, const struct cds_ds *ds)
{
	for (size_t i = 0; i < d->ds_count; i++)
		if (d->ds[i].keytag == ds->keytag && d->ds[i].algorithm == ds->algorithm &&
		    d->ds[i].digest_type == ds->digest_type &&
		    d->ds[i].digest_len == ds->digest_len &&
		    memcmp(d->ds[i].digest, ds->digest, ds->digest_len) == 0)
			return true;
	return false;
}

/* policy.algorithms applies to the DS records a signal adds: a DS the
 * parent holds already may stay, so that a zone can roll away from a
 * deprecated algorithm (double-DS, RFC 6781 §4.1.4). */
static int stage_algorithms(struct decision *dc)
{
	for (size_t i = 0; i < dc->nproposed; i++) {
		const struct cds_ds *ds = &dc->proposed[i];
		if (dc->conf->policy.algorithms[ds->algorithm] || held(dc->d, ds))
			continue;
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_ALGORITHM_NOT_ALLOWED,
				   "the signal adds a DS for key %u with algorithm %u, not in "
				   "policy.algorithms",
				   ds->keytag, ds->algorithm);
		return STAGE_DECIDED;
	}
	return STAGE_PASS;
}

static int stage_usable(struct decision *dc)
{
	if (dc->nproposed > 0)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BREAKS_CHAIN,
			   "the signal yields no usable DS record");
	return STAGE_DECIDED;
}

static int stage_max_ds(struct decision *dc)
{
	if (dc->nproposed <= dc->conf->policy.max_ds)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_TOO_MANY_DS,
			   "%zu DS records, policy.max-ds is %u", dc->nproposed,
			   dc->conf->policy.max_ds);
	return STAGE_DECIDED;
}

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

/* Continuity (RFC 8901 §6): the new DS set must authenticate the DNSKEY
 * RRset as each provider serves it. */
static int stage_continuity(struct decision *dc)
{
	for (size_t i = 0; i < dc->res->server_count; i++) {
		uint8_t alg = 0;
		if (chain_holds(dc->memo, &dc->res->servers[i], dc->proposed, dc->nproposed, &alg))
			continue;
		/* A work limit leaves it unknown whether the chain holds: bogus,
		 * as every check a limit stops. */
		if (dc->memo->work.limit[0])
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BOGUS,
					   "the proposed DS records of algorithm %u were not checked "
					   "against the DNSKEY RRset at " WHERE_FMT ": %s",
					   alg, WHERE_ARGS(&dc->v->servers[i]), dc->memo->work.limit);
		else
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_BREAKS_CHAIN,
					   "the proposed DS records of algorithm %u do not "
					   "authenticate the DNSKEY RRset at " WHERE_FMT,
					   alg, WHERE_ARGS(&dc->v->servers[i]));
		return STAGE_DECIDED;
	}
	return STAGE_PASS;
}

/* The stages after CDS/CDNSKEY agreement. */
static const stage_fn policy_stages[] = {
	stage_build, stage_digests, stage_algorithms, stage_usable, stage_max_ds, stage_continuity,
};

int propose_agreed(struct decision *dc)
{
	return RUN_STAGES(policy_stages, dc);
}

int propose_ds(struct decision *dc)
{
	int r = stage_signal_well_formed(dc);
	if (r == STAGE_PASS)
		r = stage_signal_agrees(dc);
	return r != STAGE_PASS ? r : propose_agreed(dc);
}

int proposed_texts(const struct decision *dc, struct cds_strlist *out)
{
	for (size_t i = 0; i < dc->nproposed; i++)
		if (ds_text_add(out, &dc->proposed[i]) != 0)
			return CDS_ENOMEM;
	cds_strlist_sort(out);
	return 0;
}
