/* The memo of one decision's DNSSEC validations (policy_internal.h). */
#include <string.h>

#include "policy_internal.h"

/* The remembered outcome for (set, dnskey, ds[0..n)), or NULL. */
static const enum cds_dnssec_status *recall(const struct cds_memo *m, const struct cds_rrset *set,
					    const struct cds_rrset *dnskey,
					    const struct cds_ds *ds, size_t n)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->e[i].n == n && memcmp(m->e[i].ds, ds, n * sizeof(*ds)) == 0 &&
		    cds_rrset_identical(m->e[i].set, set) &&
		    cds_rrset_identical(m->e[i].dnskey, dnskey))
			return &m->e[i].st;
	return NULL;
}

static void remember(struct cds_memo *m, const struct cds_rrset *set,
		     const struct cds_rrset *dnskey, const struct cds_ds *ds, size_t n,
		     enum cds_dnssec_status st)
{
	if (m->count >= CDS_MEMO_MAX || n > CDS_MEMO_MAX_DS)
		return;
	m->e[m->count].set = set;
	m->e[m->count].dnskey = dnskey;
	memcpy(m->e[m->count].ds, ds, n * sizeof(*ds));
	m->e[m->count].n = n;
	m->e[m->count].st = st;
	m->count++;
}

enum cds_dnssec_status cds_memo_validate(struct cds_memo *m, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, const struct cds_ds *ds,
					 size_t n)
{
	const enum cds_dnssec_status *known = recall(m, set, dnskey, ds, n);
	if (known)
		return *known;
	enum cds_dnssec_status st;
	if (set == dnskey) {
		st = cds_dnssec_validate(m->owner, set, dnskey, ds, n, m->now);
	} else {
		/* DS -> DNSKEY once (memoised), then DNSKEY -> set. */
		st = cds_memo_validate(m, dnskey, dnskey, ds, n);
		if (st == CDS_DNSSEC_SECURE)
			st = cds_dnssec_verify(m->owner, set, dnskey, m->now);
		else if (set->count == 0 || set->sig_count == 0)
			st = CDS_DNSSEC_INSECURE;
	}
	remember(m, set, dnskey, ds, n, st);
	return st;
}

bool cds_memo_authenticates(struct cds_memo *m, const struct cds_server_result *sr,
			    const struct cds_ds *ds, size_t n)
{
	const struct cds_rrset *dnskey = &sr->sets[CDS_Q_DNSKEY];
	return cds_memo_validate(m, dnskey, dnskey, ds, n) == CDS_DNSSEC_SECURE;
}

enum cds_dnssec_status cds_memo_ds_signer(struct cds_memo *m, const struct cds_rrset *set,
					  const struct cds_rrset *dnskey, const struct cds_ds *ds,
					  size_t n, uint16_t *keytag)
{
	/* Servers of one provider serve byte-identical RRsets: ask once.  The
	 * memo's (set, dnskey, ds) entries hold validations, so the signer
	 * check keeps its own small list. */
	for (size_t i = 0; i < m->signer_count; i++) {
		if (m->signer[i].n == n && memcmp(m->signer[i].ds, ds, n * sizeof(*ds)) == 0 &&
		    cds_rrset_identical(m->signer[i].set, set) &&
		    cds_rrset_identical(m->signer[i].dnskey, dnskey)) {
			*keytag = m->signer[i].keytag;
			return m->signer[i].st;
		}
	}
	enum cds_dnssec_status st =
		cds_dnssec_verify_ds_signer(m->owner, set, dnskey, ds, n, m->now, keytag);
	if (m->signer_count < CDS_MEMO_SIGNER_MAX && n <= CDS_MEMO_MAX_DS) {
		m->signer[m->signer_count].set = set;
		m->signer[m->signer_count].dnskey = dnskey;
		memcpy(m->signer[m->signer_count].ds, ds, n * sizeof(*ds));
		m->signer[m->signer_count].n = n;
		m->signer[m->signer_count].keytag = *keytag;
		m->signer[m->signer_count].st = st;
		m->signer_count++;
	}
	return st;
}
