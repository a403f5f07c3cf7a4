/* The memo of one decision's DNSSEC validations (policy_internal.h). */
#include <string.h>

#include "policy_internal.h"

void cds_memo_init(struct cds_memo *m, const char *owner, const struct cds_dnssec_limits *limits,
		   time_t now)
{
	/* Only the counts need a value: entries are written before read. */
	m->count = 0;
	m->signer_count = 0;
	m->owner = owner;
	cds_dnssec_work_init(&m->work, limits, now);
}

/* The index of the remembered outcome for (set, dnskey, ds[0..n)), or -1. */
static long recall(const struct cds_memo *m, const struct cds_rrset *set,
		   const struct cds_rrset *dnskey, const struct cds_ds *ds, size_t n)
{
	for (size_t i = 0; i < m->count; i++)
		if (m->e[i].n == n && memcmp(m->e[i].ds, ds, n * sizeof(*ds)) == 0 &&
		    cds_rrset_identical(m->e[i].set, set) &&
		    cds_rrset_identical(m->e[i].dnskey, dnskey))
			return (long)i;
	return -1;
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
	memcpy(m->e[m->count].limit, m->work.limit, sizeof(m->work.limit));
	m->count++;
}

enum cds_dnssec_status cds_memo_validate(struct cds_memo *m, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, const struct cds_ds *ds,
					 size_t n)
{
	long known = recall(m, set, dnskey, ds, n);
	if (known >= 0) {
		memcpy(m->work.limit, m->e[known].limit, sizeof(m->work.limit));
		return m->e[known].st;
	}
	enum cds_dnssec_status st;
	if (set == dnskey) {
		st = cds_dnssec_validate(m->owner, set, dnskey, ds, n, &m->work);
	} else {
		/* DS -> DNSKEY once (memoised), then DNSKEY -> set.  A DNSKEY
		 * RRset that failed on a limit leaves that limit as the
		 * set's reason too. */
		st = cds_memo_validate(m, dnskey, dnskey, ds, n);
		if (st == CDS_DNSSEC_SECURE)
			st = cds_dnssec_verify(m->owner, set, dnskey, &m->work);
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
			memcpy(m->work.limit, m->signer[i].limit, sizeof(m->work.limit));
			return m->signer[i].st;
		}
	}
	enum cds_dnssec_status st =
		cds_dnssec_verify_ds_signer(m->owner, set, dnskey, ds, n, &m->work, keytag);
	if (m->signer_count < CDS_MEMO_SIGNER_MAX && n <= CDS_MEMO_MAX_DS) {
		m->signer[m->signer_count].set = set;
		m->signer[m->signer_count].dnskey = dnskey;
		memcpy(m->signer[m->signer_count].ds, ds, n * sizeof(*ds));
		m->signer[m->signer_count].n = n;
		m->signer[m->signer_count].keytag = *keytag;
		m->signer[m->signer_count].st = st;
		memcpy(m->signer[m->signer_count].limit, m->work.limit, sizeof(m->work.limit));
		m->signer_count++;
	}
	return st;
}
