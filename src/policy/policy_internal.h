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

/* RFC 9975 §3: any unusable address means no action.  Decides side as
 * ns-unreachable (naming the first such address) and returns true, or
 * returns false when every address answered. */
bool cds_policy_reject_unusable(const struct cds_scan_result *res, const struct cds_verdict *v,
				struct cds_verdict_side *side);

/* "NAME (ADDR)" of a server, for detail messages (thread-local buffer). */
const char *cds_policy_where(const struct cds_verdict_server *s);

/* An RRSIG time (32-bit serial, RFC 4034 §3.1.5) as the time closest to now. */
time_t cds_sig_time(uint32_t t, time_t now);

/* Append a DS in presentation form. */
int cds_ds_text_add(struct cds_strlist *l, const struct cds_ds *ds);

/* Most DS records a signal may propose. */
#define CDS_PROPOSED_MAX 128

/* Is the apex signal (servers[0]) a delete (RFC 8078 §4)?  0: no; 1: a
 * malformed delete, decided (mixed-delete, cds-cdnskey-mismatch); 2: yes. */
int cds_policy_delete_signal(const struct cds_scan_result *res, struct cds_verdict_side *side);

/* The DS set the apex signal asks for, through every stage a signal must
 * pass whatever authenticates it: CDS/CDNSKEY agreement, algorithms, digest
 * types, policy.max-ds, continuity at every address.  Returns 0 with
 * proposed[0..*n), 1 when a stage rejected it (decided in v), or CDS_ENOMEM. */
int cds_policy_propose_ds(const struct cds_scan_result *res, const struct cds_conf *conf,
			  struct cds_memo *memo, struct cds_verdict *v, struct cds_ds *proposed,
			  size_t *n);

/* The DS side of an insecure delegation with a signal: RFC 9615, then
 * accept-after-delay (RFC 8078 §3.3), as policy allows. */
int cds_policy_decide_bootstrap(const struct cds_scan_result *res, const struct cds_conf *conf,
				struct cds_memo *memo, struct cds_verdict *v);

int cds_policy_decide_ds(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v);
int cds_policy_decide_ns(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v);
