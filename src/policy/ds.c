/* DS-side decisions: RFC 7344 (CDS/CDNSKEY), RFC 8078 (delete), RFC 9975
 * (consistency across every nameserver address), RFC 8901 (multi-signer
 * continuity), RFC 6840 §5.11 (every algorithm of the DS set). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/policy.h"

/* Where a server is, for detail messages. */
static const char *where(const struct cds_verdict_server *s)
{
	static __thread char buf[CDS_DNAME_BUFSIZE + 80];
	snprintf(buf, sizeof(buf), "%s (%s)", s->name, s->address[0] ? s->address : "no address");
	return buf;
}

/* RRSIG times are 32-bit serial numbers (RFC 4034 §3.1.5, RFC 1982): take
 * the value closest to now. */
static time_t sig_time(uint32_t t, time_t now)
{
	return now + (int32_t)(t - (uint32_t)now);
}

static int ds_text_add(struct cds_strlist *l, const struct cds_ds *ds)
{
	char txt[CDS_DS_TEXT_MAX];
	cds_ds_format(ds, txt);
	return cds_strlist_add(l, txt);
}

/* Copy what each server served into the verdict. */
static int fill_servers(const struct cds_scan_result *res, struct cds_verdict *v)
{
	v->servers = calloc(res->server_count ? res->server_count : 1, sizeof(*v->servers));
	if (!v->servers)
		return CDS_ENOMEM;
	v->server_count = res->server_count;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		struct cds_verdict_server *s = &v->servers[i];
		snprintf(s->name, sizeof(s->name), "%s", sr->name);
		if (sr->has_addr)
			cds_addr_format(&sr->addr, s->address, sizeof(s->address));
		s->ok = sr->ok;
		snprintf(s->error, sizeof(s->error), "%s", sr->error);
		s->soa = sr->sets[CDS_Q_SOA].count == 1;
		s->soa_serial = sr->soa_serial;
		s->dnskey_count = sr->sets[CDS_Q_DNSKEY].count;
		const struct cds_rrset *cds = &sr->sets[CDS_Q_CDS];
		for (size_t k = 0; k < cds->count; k++) {
			struct cds_ds ds;
			char txt[CDS_DS_TEXT_MAX];
			if (cds_ds_from_rdata(cds->rdata[k].data, cds->rdata[k].len, &ds) == 0)
				cds_ds_format(&ds, txt);
			else
				snprintf(txt, sizeof(txt), "(malformed CDS)");
			if (cds_strlist_add(&s->cds, txt) != 0)
				return CDS_ENOMEM;
		}
		const struct cds_rrset *ck = &sr->sets[CDS_Q_CDNSKEY];
		for (size_t k = 0; k < ck->count; k++) {
			char txt[2048];
			if (cds_dnskey_format(ck->rdata[k].data, ck->rdata[k].len, txt, sizeof(txt)))
				snprintf(txt, sizeof(txt), "(malformed CDNSKEY)");
			if (cds_strlist_add(&s->cdnskey, txt) != 0)
				return CDS_ENOMEM;
		}
		const struct cds_rrset *cs = &sr->sets[CDS_Q_CSYNC];
		if (cs->count > 0) {
			char txt[1024];
			if (cds_csync_format(cs->rdata[0].data, cs->rdata[0].len, txt, sizeof(txt)))
				snprintf(txt, sizeof(txt), "(malformed CSYNC)");
			if (!(s->csync = strdup(txt)))
				return CDS_ENOMEM;
		}
	}
	return 0;
}

/*
 * Validations of one decision, remembered: the same DNSKEY RRset is checked
 * for `secure` and again for authentication, and the servers of one provider
 * usually serve byte-identical signed RRsets.  Signature checks dominate the
 * scan's CPU time (bench/), so each distinct (RRset, DNSKEY RRset, DS set)
 * is validated once.  Entries match on exact content, never on a hash.
 */
#define MEMO_MAX 32

struct memo {
	const char *owner;
	time_t now;
	size_t count;
	struct {
		const struct cds_rrset *set, *dnskey;
		struct cds_ds ds[16];
		size_t n;
		enum cds_dnssec_status st;
	} e[MEMO_MAX];
};

static enum cds_dnssec_status validate(struct memo *m, const struct cds_rrset *set,
				       const struct cds_rrset *dnskey, const struct cds_ds *ds,
				       size_t n)
{
	for (size_t i = 0; i < m->count; i++) {
		if (m->e[i].n == n && memcmp(m->e[i].ds, ds, n * sizeof(*ds)) == 0 &&
		    cds_rrset_identical(m->e[i].set, set) &&
		    cds_rrset_identical(m->e[i].dnskey, dnskey))
			return m->e[i].st;
	}
	enum cds_dnssec_status st = cds_dnssec_validate(m->owner, set, dnskey, ds, n, m->now);
	if (m->count < MEMO_MAX && n <= 16) {
		m->e[m->count].set = set;
		m->e[m->count].dnskey = dnskey;
		memcpy(m->e[m->count].ds, ds, n * sizeof(*ds));
		m->e[m->count].n = n;
		m->e[m->count].st = st;
		m->count++;
	}
	return st;
}

/* Does the DS subset ds[0..n) authenticate the DNSKEY RRset a server serves? */
static bool authenticates(struct memo *m, const struct cds_server_result *sr,
			  const struct cds_ds *ds, size_t n)
{
	const struct cds_rrset *dnskey = &sr->sets[CDS_Q_DNSKEY];
	return validate(m, dnskey, dnskey, ds, n) == CDS_DNSSEC_SECURE;
}

/* RFC 6840 §5.11: for every algorithm in the DS set, the DS records of that
 * algorithm alone must authenticate the DNSKEY RRset. */
static bool chain_holds(struct memo *memo, const struct cds_server_result *sr,
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
		if (!authenticates(memo, sr, subset, cnt)) {
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

static int decide_ds_stages(const struct cds_scan_result *res, const struct cds_conf *conf,
			    struct memo *memo, struct cds_verdict *v);

/* The DS side.  Each check is a stage; the first that fails decides. */
static int decide_ds(const struct cds_scan_result *res, const struct cds_conf *conf, time_t now,
		     struct cds_verdict *v)
{
	/* Only count needs a value: the entries are written before read. */
	struct memo *memo = malloc(sizeof(*memo));
	if (!memo)
		return CDS_ENOMEM;
	memo->count = 0;
	memo->owner = res->delegation->domain;
	memo->now = now;
	int r = decide_ds_stages(res, conf, memo, v);
	free(memo);
	return r;
}

static int decide_ds_stages(const struct cds_scan_result *res, const struct cds_conf *conf,
			    struct memo *memo, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ds_side;
	const char *owner = d->domain;
	time_t now = memo->now;

	for (size_t i = 0; i < d->ds_count; i++) {
		if (ds_text_add(&side->current, &d->ds[i]) != 0 ||
		    ds_text_add(&side->proposed, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	}

	/* secure: the current DS set authenticates the DNSKEY RRset as served
	 * by every nameserver. */
	v->secure = d->ds_count > 0 && res->server_count > 0;
	for (size_t i = 0; i < res->server_count && v->secure; i++)
		v->secure = res->servers[i].ok &&
			    authenticates(memo, &res->servers[i], d->ds, d->ds_count);

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
	for (size_t i = 0; i < res->server_count; i++) {
		if (!res->servers[i].ok) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE, "%s: %s",
					   where(&v->servers[i]), res->servers[i].error);
			return 0;
		}
	}
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
			snprintf(a, sizeof(a), "%s", where(&v->servers[0]));
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_INCONSISTENT,
					   "%s at %s differs from %s at %s", what,
					   where(&v->servers[i]), what, a);
			return 0;
		}
	}
	const struct cds_rrset *cds = &ref->sets[CDS_Q_CDS];
	const struct cds_rrset *cdnskey = &ref->sets[CDS_Q_CDNSKEY];
	if (cds->count == 0 && cdnskey->count == 0) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_NO_SIGNAL, NULL);
		return 0;
	}
	if (d->ds_count == 0) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_INSECURE_NO_BOOTSTRAP,
				   "no DS at the parent; the signal cannot be authenticated by "
				   "the chain of trust");
		return 0;
	}
	/* RFC 7344 §4.1: the signal must be authenticated by the current DS set:
	 * first the DNSKEY RRset at every server, then the signal's RRSIGs. */
	for (size_t i = 0; i < res->server_count; i++) {
		if (!authenticates(memo, &res->servers[i], d->ds, d->ds_count)) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BOGUS,
					   "the DNSKEY RRset at %s is not authenticated by the "
					   "current DS set",
					   where(&v->servers[i]));
			return 0;
		}
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
						   where(&v->servers[i]));
				return 0;
			}
			enum cds_dnssec_status st =
				validate(memo, set, &sr->sets[CDS_Q_DNSKEY], d->ds, d->ds_count);
			if (st != CDS_DNSSEC_SECURE) {
				bool expired = false, early = false;
				for (size_t s = 0; s < set->sig_count; s++) {
					expired |= sig_time(set->sigs[s].expiration, now) < now;
					early |= sig_time(set->sigs[s].inception, now) > now;
				}
				cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BOGUS,
						   "the RRSIG of %s at %s does not validate with the "
						   "DNSKEY RRset%s",
						   name, where(&v->servers[i]),
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
					time_t inc = sig_time(set->sigs[s].inception, now);
					if (inc < d->last_change) {
						char a[32], b[32];
						cds_time_format(inc, a, sizeof(a));
						cds_time_format(d->last_change, b, sizeof(b));
						cds_verdict_decide(
							side, CDS_ACTION_REJECT, CDS_R_STALE_SIGNAL,
							"%s at %s was signed at %s, before the last "
							"DS change at %s",
							k == CDS_Q_CDS ? "CDS" : "CDNSKEY",
							where(&v->servers[i]), a, b);
						return 0;
					}
				}
			}
		}
	}
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
		return 0;
	}
	if (cds_del || key_del) {
		if ((cds->count && !cds_del) || (cdnskey->count && !key_del)) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH,
					   "one of CDS and CDNSKEY asks for deletion, the other "
					   "for keys");
			return 0;
		}
		if (!conf->policy.allow_delete) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_DELETE_NOT_ALLOWED,
					   "policy.allow-delete is false");
			return 0;
		}
		cds_strlist_clear(&side->proposed);
		cds_verdict_decide(side, CDS_ACTION_DELETE, CDS_R_DELETE, NULL);
		return cds_verdict_side_diff(side);
	}
	char why[256];
	if (cds->count && cdnskey->count &&
	    !cds_matches_cdnskey(owner, cds, cdnskey, why, sizeof(why))) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CDS_CDNSKEY_MISMATCH, "%s", why);
		return 0;
	}
	/* The proposed DS set: the CDS records as published, else DS computed
	 * from CDNSKEY with every digest type of policy.compute-digests. */
	struct cds_ds proposed[128];
	size_t n = 0;
	if (cds->count) {
		for (size_t i = 0; i < cds->count && n < 128; i++)
			if (cds_ds_from_rdata(cds->rdata[i].data, cds->rdata[i].len, &proposed[n]) ==
			    0)
				n++;
	} else {
		for (size_t i = 0; i < cdnskey->count; i++) {
			for (int dt = 1; dt < 256 && n < 128; dt++) {
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
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!conf->policy.algorithms[proposed[i].algorithm]) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_ALGORITHM_NOT_ALLOWED,
					   "CDS for key %u has algorithm %u, not in "
					   "policy.algorithms",
					   proposed[i].keytag, proposed[i].algorithm);
			return 0;
		}
		if (!conf->policy.digest_types[proposed[i].digest_type]) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_DIGEST_NOT_ALLOWED,
					   "CDS for key %u has digest type %u, not in "
					   "policy.digest-types",
					   proposed[i].keytag, proposed[i].digest_type);
			return 0;
		}
	}
	if (n > conf->policy.max_ds) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_TOO_MANY_DS,
				   "%zu DS records, policy.max-ds is %u", n, conf->policy.max_ds);
		return 0;
	}
	/* Continuity (RFC 8901 §6): the new DS set must authenticate the DNSKEY
	 * RRset as each provider serves it. */
	for (size_t i = 0; i < res->server_count; i++) {
		uint8_t alg = 0;
		if (!chain_holds(memo, &res->servers[i], proposed, n, &alg)) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_BREAKS_CHAIN,
					   "the proposed DS records of algorithm %u do not "
					   "authenticate the DNSKEY RRset at %s",
					   alg, where(&v->servers[i]));
			return 0;
		}
	}
	cds_strlist_clear(&side->proposed);
	for (size_t i = 0; i < n; i++)
		if (ds_text_add(&side->proposed, &proposed[i]) != 0)
			return CDS_ENOMEM;
	if (cds_strlist_equal(&side->proposed, &side->current)) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_SIGNAL_UNCHANGED, NULL);
		return 0;
	}
	cds_verdict_decide(side, CDS_ACTION_UPDATE, CDS_R_DS_UPDATED, NULL);
	return cds_verdict_side_diff(side);
}

/* The NS side until CSYNC processing lands: report whether a CSYNC is
 * published, and change nothing. */
static int decide_ns(const struct cds_scan_result *res, const struct cds_conf *conf,
		     struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ns_side;
	for (size_t i = 0; i < d->ns_count; i++) {
		if (cds_strlist_add(&side->current, d->ns[i].name) != 0 ||
		    cds_strlist_add(&side->proposed, d->ns[i].name) != 0)
			return CDS_ENOMEM;
	}
	bool csync = false;
	for (size_t i = 0; i < res->server_count; i++)
		csync |= res->servers[i].sets[CDS_Q_CSYNC].count > 0;
	if (!csync)
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_NO_CSYNC, NULL);
	else
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_CSYNC_NOT_PROCESSED,
				   "%s", conf->policy.csync ? "CSYNC processing is not part of "
							      "this version"
							    : "policy.csync is false");
	return 0;
}

int cds_policy_decide(const struct cds_scan_result *res, const struct cds_conf *conf,
		      time_t now, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->domain, sizeof(v->domain), "%s", d->domain);
	v->checked_at = now;
	for (size_t i = 0; i < d->ns_count; i++)
		if (cds_strlist_add(&v->ns, d->ns[i].name) != 0)
			return CDS_ENOMEM;
	for (size_t i = 0; i < d->ds_count; i++)
		if (ds_text_add(&v->ds, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	/* Glue the parent holds: addresses of in-bailiwick NS names. */
	for (size_t i = 0; i < d->ns_count; i++) {
		if (!cds_dname_is_subdomain(d->ns[i].name, d->domain) || !d->ns[i].addr_count)
			continue;
		struct cds_verdict_glue *g = realloc(v->glue, (v->glue_count + 1) * sizeof(*g));
		if (!g)
			return CDS_ENOMEM;
		v->glue = g;
		g = &v->glue[v->glue_count++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", d->ns[i].name);
		for (size_t a = 0; a < d->ns[i].addr_count; a++) {
			char txt[64];
			cds_addr_format(&d->ns[i].addrs[a], txt, sizeof(txt));
			if (cds_strlist_add(&g->addresses, txt) != 0)
				return CDS_ENOMEM;
		}
	}
	if ((r = fill_servers(res, v)) != 0 || (r = decide_ds(res, conf, now, v)) != 0 ||
	    (r = decide_ns(res, conf, v)) != 0) {
		cds_verdict_clear(v);
		return r;
	}
	return 0;
}
