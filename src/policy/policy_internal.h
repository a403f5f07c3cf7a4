/* What the DS side (ds.c), the NS side (ns.c) and the decision (policy.c)
 * share inside the policy module. */
#pragma once

#include "cdscan/dns.h"
#include "cdscan/policy.h"

/*
 * Validations of one decision, remembered: the same DNSKEY RRset is checked
 * for `secure`, again for authentication and for the CSYNC data, and the
 * servers of one provider usually serve byte-identical signed RRsets.
 * Signature checks dominate the scan's CPU time (bench/), so each distinct
 * (RRset, DNSKEY RRset, DS set) is validated once.  Entries match on exact
 * content, never on a hash.
 */
#define CDS_MEMO_MAX 32

struct cds_memo {
	const char *owner; /* the zone: owner of the DNSKEY and DS RRsets */
	time_t now;
	size_t count;
	struct {
		const struct cds_rrset *set, *dnskey;
		struct cds_ds ds[16];
		size_t n;
		enum cds_dnssec_status st;
	} e[CDS_MEMO_MAX];
};

/* Validate set with the DNSKEY RRset and the DS records ds[0..n). */
enum cds_dnssec_status cds_memo_validate(struct cds_memo *m, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, const struct cds_ds *ds,
					 size_t n);

/* Does the DS set ds[0..n) authenticate the DNSKEY RRset a server serves? */
bool cds_memo_authenticates(struct cds_memo *m, const struct cds_server_result *sr,
			    const struct cds_ds *ds, size_t n);

/* The first server whose DNSKEY RRset the delegation's current DS set does
 * not authenticate, or -1 when it authenticates them all. */
long cds_policy_first_unauthenticated(struct cds_memo *m, const struct cds_scan_result *res);

/* "NAME (ADDR)" of a server, for detail messages (thread-local buffer). */
const char *cds_policy_where(const struct cds_verdict_server *s);

/* An RRSIG time (32-bit serial, RFC 4034 §3.1.5) as the time closest to now. */
time_t cds_sig_time(uint32_t t, time_t now);

/* Append a DS in presentation form. */
int cds_ds_text_add(struct cds_strlist *l, const struct cds_ds *ds);

int cds_policy_decide_ds(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v);
int cds_policy_decide_ns(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v);
