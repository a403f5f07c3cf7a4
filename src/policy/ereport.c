/* Which RFC 8914 extended DNS error a rejection is, for RFC 9567 error
 * reports to the agent a child's nameserver names: the one table of it. */
#include <string.h>

#include "cdscan/policy.h"
#include "policy_internal.h"

/* Reasons that are about the child's DNSSEC data or signals, and the
 * extended error each is in general (the man page's table).  The others
 * (a server that does not answer, servers that disagree, the parent's own
 * policy: delete-not-allowed, too-many-ds, stale-signal, signer-not-in-ds,
 * ...) have no code that fits, and are not reported. */
static const struct {
	enum cds_reason reason;
	uint16_t ede;
} reason_ede[] = {
	{CDS_R_NOT_SIGNED, CDS_EDE_RRSIGS_MISSING},
	{CDS_R_BOGUS, CDS_EDE_DNSSEC_BOGUS},
	{CDS_R_BREAKS_CHAIN, CDS_EDE_DNSKEY_MISSING},
	{CDS_R_ALGORITHM_NOT_ALLOWED, CDS_EDE_UNSUPPORTED_DNSKEY_ALGORITHM},
	{CDS_R_DIGEST_NOT_ALLOWED, CDS_EDE_UNSUPPORTED_DS_DIGEST},
	{CDS_R_CSYNC_NOT_SIGNED, CDS_EDE_RRSIGS_MISSING},
	{CDS_R_CSYNC_BOGUS, CDS_EDE_DNSSEC_BOGUS},
};

int cds_policy_reason_ede(enum cds_reason r)
{
	for (size_t i = 0; i < sizeof(reason_ede) / sizeof(reason_ede[0]); i++)
		if (reason_ede[i].reason == r)
			return reason_ede[i].ede;
	return -1;
}

/* A bogus RRset's signatures more precisely, from their validity window
 * (RFC 4034 §3.1.5): every RRSIG expired (7), every one not yet valid (8),
 * else bogus (6). */
static uint16_t sig_window_ede(const struct cds_rrset *set, time_t now)
{
	size_t expired = 0, early = 0;
	for (size_t s = 0; s < set->sig_count; s++) {
		expired += sig_time(set->sigs[s].expiration, now) < now;
		early += sig_time(set->sigs[s].inception, now) > now;
	}
	if (set->sig_count && expired == set->sig_count)
		return CDS_EDE_SIGNATURE_EXPIRED;
	if (set->sig_count && early == set->sig_count)
		return CDS_EDE_SIGNATURE_NOT_YET_VALID;
	return CDS_EDE_DNSSEC_BOGUS;
}

/* The signal RRset the server served: CDS, else CDNSKEY (NULL: neither). */
static const struct cds_rrset *signal_set(const struct cds_server_result *srv)
{
	if (srv->sets[CDS_Q_CDS].count)
		return &srv->sets[CDS_Q_CDS];
	if (srv->sets[CDS_Q_CDNSKEY].count)
		return &srv->sets[CDS_Q_CDNSKEY];
	return NULL;
}

/* One rejection of the DS side as srv served the data. */
static bool ds_report(enum cds_reason r, const struct cds_server_result *srv, time_t now,
		      struct cds_error_report *out)
{
	const struct cds_rrset *sig = signal_set(srv);
	out->qtype = sig ? sig->type : CDS_T_CDS;
	out->ede = (uint16_t)cds_policy_reason_ede(r);
	if (r == CDS_R_BOGUS && srv->sets[CDS_Q_DNSKEY].count == 0) {
		out->qtype = CDS_T_DNSKEY;
		out->ede = CDS_EDE_DNSKEY_MISSING;
	} else if (r == CDS_R_BOGUS && sig) {
		out->ede = sig_window_ede(sig, now);
	} else if (r == CDS_R_DIGEST_NOT_ALLOWED) {
		out->qtype = CDS_T_CDS; /* digest types are the CDS's */
	}
	return true;
}

size_t cds_policy_error_reports(const struct cds_verdict *v, const struct cds_server_result *srv,
				time_t now, struct cds_error_report out[CDS_KIND_COUNT])
{
	size_t n = 0;
	for (int k = 0; k < CDS_KIND_COUNT; k++) {
		const struct cds_verdict_side *side = cds_verdict_side_const(v, (enum cds_kind)k);
		if (side->action != CDS_ACTION_REJECT || side->reason_count == 0 ||
		    cds_policy_reason_ede(side->reasons[0]) < 0)
			continue;
		struct cds_error_report *rep = &out[n];
		rep->reason = side->reasons[0];
		if (k == CDS_KIND_DS) {
			n += ds_report(rep->reason, srv, now, rep);
			continue;
		}
		rep->qtype = CDS_T_CSYNC;
		rep->ede = rep->reason == CDS_R_CSYNC_BOGUS
				   ? sig_window_ede(&srv->sets[CDS_Q_CSYNC], now)
				   : (uint16_t)cds_policy_reason_ede(rep->reason);
		n++;
	}
	return n;
}
