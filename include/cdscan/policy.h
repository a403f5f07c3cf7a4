/* The policy layer: from what every nameserver served (the model's
 * cds_scan_result) to a verdict under the policy of the configuration, and
 * from a verdict to the change sets the outbox sends.  Pure functions of
 * their inputs (the clock is a parameter), so tests replay them.  Every rule
 * lives here once: the scan layer asks the predicates below what the
 * decision will need instead of re-deriving them. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/model.h"

/*
 * Decide the DS and NS sides for one scanned delegation at time now and fill
 * v (zeroed first; release with cds_verdict_clear).  Returns 0 or
 * CDS_ENOMEM.
 */
int cds_policy_decide(const struct cds_scan_result *res, const struct cds_conf *conf,
		      time_t now, struct cds_verdict *v);

/*
 * Would the decision act on the CSYNC the apex answers of res show, so that
 * the data it points to (RFC 7477 §3.4) is worth fetching?  True when CSYNC
 * processing is on, the delegation is secure, every address answered with
 * the same single CSYNC record, and that record has known flags with
 * immediate set and names only NS, A or AAAA (at least one).  *out gets the
 * parsed record.
 */
bool cds_policy_csync_actionable(const struct cds_scan_result *res, const struct cds_conf *conf,
				 struct cds_csync *out);

/*
 * May the scan fetch the data the CSYNC of res points to, at time now?
 * The decision's NS-side stages before the data all pass: those of
 * cds_policy_csync_actionable, every address usable, the DNSKEY RRset at
 * every address authenticated by the current DS set, the CSYNC record and
 * the child's NS RRset DNSSEC-valid at every address (RFC 7477 §3.1), the
 * soaminimum rule, and scan.csync-max-ns.  Nothing the child names is
 * asked before this holds.  It checks signatures: call it from a worker
 * thread, not the loop.
 */
bool cds_policy_csync_fetch_allowed(const struct cds_scan_result *res,
				    const struct cds_conf *conf, time_t now);

/*
 * Does what a CSYNC makes the scan ask stay within the limits: the child's
 * NS RRset at every address at most scan.csync-max-ns names; each
 * in-bailiwick host (as servers[0] serves it) and each probed name at most
 * scan.csync-max-addresses addresses; at most scan.csync-max-probes probed
 * addresses in all?  If not, why names the key and the numbers.  The scan
 * asks nothing beyond a limit; the decision rejects (csync-ns-not-serving).
 */
bool cds_policy_csync_within_limits(const struct cds_scan_result *res,
				    const struct cds_conf *conf, char *why, size_t whylen);

/*
 * Is the apex signal the same everywhere: every address usable and serving
 * the same CDS and the same CDNSKEY RRset (RFC 9975 §3)?
 */
bool cds_policy_signal_consistent(const struct cds_scan_result *res);

/* Can RFC 9615 signals decide for res: policy.bootstrap.authenticated, an
 * insecure delegation, and a consistent, non-empty apex signal? */
bool cds_policy_bootstrap_wanted(const struct cds_scan_result *res, const struct cds_conf *conf);

/*
 * After the probe (CDS, CDNSKEY and CSYNC at every address; scan.full-
 * status off): does any verdict need SOA, DNSKEY and NS too?  Yes when any
 * address has a CDS, CDNSKEY or CSYNC record, or a usable one's empty
 * answer lacked the zone's SOA (RFC 2308 §3: only the SOA query tells then
 * whether it serves the zone).  Otherwise the verdict is no-signal and
 * no-csync, or ns-unreachable, from the probe alone; `secure` is then not
 * checked (cds_verdict.secure_checked).
 */
bool cds_policy_apex_wanted(const struct cds_scan_result *res);

/* Must the apex signal of d be read over TCP: an insecure delegation under
 * accept-after-delay (RFC 8078 §3.3: harder to spoof than UDP)? */
bool cds_policy_signal_over_tcp(const struct cds_delegation *d, const struct cds_conf *conf);

/*
 * The change set of side kind of v, for a side whose action changes
 * something (update, delete, bootstrap): what to add and remove, the whole
 * proposed set, for DS the keys (keyData registries), for NS the proposed
 * glue and the host and domain operations in an order an EPP server
 * accepts.  out is zeroed first (release with cds_change_set_clear); its id
 * and clTRID are the store's to give.  Returns 0, CDS_ENOENT (the side
 * changes nothing) or CDS_ENOMEM.
 */
int cds_policy_change_set(const struct cds_verdict *v, enum cds_kind kind,
			  struct cds_change_set *out);

/* ------------------------------------------ vantage agreement --- */

/*
 * What side kind of v observed, as scanners at other vantages compare it
 * (scan.vantages): canonical text of the action and the sorted proposed
 * set (for NS with the proposed glue), "update: 1234 13 2 AB..., ..." or
 * "none: ..." when there is nothing to change.  *out is the caller's to
 * free.  Returns 0, CDS_ENOENT (the side observed nothing comparable:
 * rejected, suspended, waiting for a delay or an approval) or CDS_ENOMEM.
 */
int cds_policy_vantage_fingerprint(const struct cds_verdict *v, enum cds_kind kind, char **out);

/*
 * The agreement rule, for a side that would change something.  self
 * observed fingerprint now; seen[0..n) are the latest observations of every
 * vantage (self's previous one may be among them: it is left out, as are
 * those older than window_s).  Agreed when required distinct vantages, self
 * included, observed the same fingerprint and none a different one;
 * disagreed when one observed a different one; else waiting.  detail gets
 * which vantages saw what, for the verdict.
 */
enum cds_vantage_outcome cds_policy_vantage_agree(const char *self, const char *fingerprint,
						  const struct cds_vantage_seen *seen, size_t n,
						  time_t now, uint64_t window_s, uint32_t required,
						  char *detail, size_t len);

/*
 * Hold side kind of v back: reject with vantage-disagreement and detail,
 * the proposed set (and NS glue) back to the current one, no replay
 * baseline to move, a CSYNC approval not used.  Returns 0 or CDS_ENOMEM.
 */
int cds_policy_vantage_hold(struct cds_verdict *v, enum cds_kind kind, const char *detail);

/* ------------------------------------- RFC 9567 error reports --- */

/* Extended DNS error codes (RFC 8914 §4) cdscan reports. */
enum {
	CDS_EDE_UNSUPPORTED_DNSKEY_ALGORITHM = 1,
	CDS_EDE_UNSUPPORTED_DS_DIGEST = 2,
	CDS_EDE_DNSSEC_BOGUS = 6,
	CDS_EDE_SIGNATURE_EXPIRED = 7,
	CDS_EDE_SIGNATURE_NOT_YET_VALID = 8,
	CDS_EDE_DNSKEY_MISSING = 9,
	CDS_EDE_RRSIGS_MISSING = 10,
};

/* One report: the extended error on the child's apex name and type. */
struct cds_error_report {
	uint16_t qtype;         /* the RR type the error is about (CDS, DNSKEY, ...) */
	uint16_t ede;           /* RFC 8914 code */
	enum cds_reason reason; /* the rejection it reports */
};

/* The extended error a reason is reported as in general (cdscan(8) ERROR
 * REPORTING), or -1: not about the child's DNSSEC data, not reported. */
int cds_policy_reason_ede(enum cds_reason r);

/*
 * The reports the rejections of v warrant, as server srv of the scan
 * served the data, at time now: one per side whose action is reject and
 * whose first reason has a code, into out.  bogus is made precise from
 * what srv served: no DNSKEY RRset is DNSKEY Missing (9) on DNSKEY, the
 * signal's RRSIGs all expired or all not yet valid are 7 or 8 (likewise
 * for csync-bogus on CSYNC).  Returns how many.
 */
size_t cds_policy_error_reports(const struct cds_verdict *v, const struct cds_server_result *srv,
				time_t now, struct cds_error_report out[CDS_KIND_COUNT]);
