/* The scan layer: for one delegation, ask every nameserver address directly
 * (RD=0, DO) for SOA, DNSKEY, CDS, CDNSKEY, CSYNC and NS, collect the
 * answers per address (RFC 9975 §3: every address of every NS name), and
 * fetch what the decision will need beyond that (the CSYNC data, RFC 9615
 * signals) when the policy layer says it would act on it.  Many
 * delegations are in flight at once on one libuv loop; the outcome is the
 * model's cds_scan_result. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cdscan/conf.h"
#include "cdscan/model.h"

/*
 * Judge one apex answer of a server (status 0 and the message, or an error
 * code from the transport) and keep it in srv->sets[kind]: a server is
 * unusable after a timeout, a malformed message, an RRset beyond limits
 * (records or RRSIGs per RRset, the limit named), an RCODE other than
 * NOERROR, a non-authoritative or lame answer, or no SOA at the apex
 * (RFC 9975 §3).  srv->ok must be true before the first answer; the first
 * reason a server is unusable is kept in srv->error.  limits NULL: the
 * defaults.
 */
void cds_server_take_answer(struct cds_server_result *srv, enum cds_query_kind kind,
			    const char *domain, const struct cds_dnssec_limits *limits, int status,
			    const uint8_t *wire, size_t len);

/* Called once per scanned delegation, on the loop thread; the receiver
 * owns res (cds_scan_result_free). */
typedef void (*cds_scan_cb)(struct cds_scan_result *res, void *arg);

struct cds_scanner;

/*
 * Create a scanner on loop with the scan.* and resolver.* settings of conf
 * (borrowed: it must outlive the scanner).  resolvers (ADDR texts) answer
 * the NS address look-ups; NULL or none: conf's resolver.addresses, else
 * /etc/resolv.conf.  Returns 0, CDS_ECONFIG (no usable resolver) or
 * CDS_ENOMEM.
 */
int cds_scanner_new(uv_loop_t *loop, const struct cds_conf *conf, const char *const *resolvers,
		    size_t resolver_count, struct cds_scanner **out);

/*
 * Start scanning d (borrowed until cb runs) under the policy of conf (a
 * registry profile's effective configuration; NULL: the scanner's): the
 * policy decides what beyond the apex answers is fetched.  cb runs once,
 * never from inside this call, when every answer is in.  Returns 0 or
 * CDS_ENOMEM (then cb never runs).
 */
int cds_scanner_scan(struct cds_scanner *s, const struct cds_delegation *d,
		     const struct cds_conf *conf, cds_scan_cb cb, void *arg);

/*
 * Load the trust anchor for validating the resolver's answers (RFC 9615
 * signals): DS or DNSKEY records of one zone, in zone file syntax (the root's
 * /usr/share/dns/root.key, or a lab's).  Returns 0, or CDS_EDATA with
 * "FILE[:LINE]: reason" in err.
 */
int cds_scanner_trust_anchor(struct cds_scanner *s, const char *path, char *err, size_t errlen);

/* The trust anchor RFC 9615 needs, when policy.bootstrap.authenticated is
 * on: path (--trust-anchor), else resolver.trust-anchor.  0 when loaded or
 * not needed; CDS_EDATA with the reason in err. */
int cds_scanner_bootstrap_anchor(struct cds_scanner *s, const struct cds_conf *conf,
				 const char *path, char *err, size_t errlen);

/* RFC 9567 error reports since the scanner was made. */
struct cds_error_report_stats {
	uint64_t sent;         /* report queries sent to the resolver */
	uint64_t duplicates;   /* not sent: the same report within dedup-window */
	uint64_t rate_limited; /* not sent: per-agent-rate, max-agents, max-remembered */
	uint64_t unsendable;   /* not sent: QNAME over 255 octets, or about the agent */
	uint64_t failed;       /* the resolver did not answer (or no memory to ask) */
};

/*
 * Report the rejections of v (decided from res) that have an extended DNS
 * error code (cds_policy_error_reports) to the agent domains res's servers
 * named in their Report-Channel option (RFC 9567): one TXT query per
 * report through the resolver, RD set, one attempt, its answer waited
 * for error-reporting.timeout (by nothing but the loop).  The
 * same report goes once per error-reporting.dedup-window, and at most
 * error-reporting.per-agent-rate a minute per agent.  Nothing when
 * error-reporting.enabled is off.  Loop thread only; res and v are only
 * read during the call.
 */
void cds_scanner_report_errors(struct cds_scanner *s, const struct cds_scan_result *res,
			       const struct cds_verdict *v);

/* What the scanner has done so far. */
struct cds_scanner_stats {
	uint64_t scans;         /* delegations started */
	uint64_t queries;       /* datagrams or TCP messages sent (retries count) */
	uint64_t answers;       /* queries answered */
	uint64_t timeouts;      /* queries that ended in a timeout */
	uint64_t tcp_fallbacks; /* truncated UDP answers asked again over TCP */
	uint64_t skipped;       /* addresses not asked (resolver.address-families) */
	uint64_t window_cuts;   /* a server's congestion window halved */
	uint64_t send_calls;    /* system calls that sent UDP datagrams */
	uint64_t received;      /* UDP datagrams received */
	uint64_t recv_calls;    /* system calls that received them (or none) */
	uint64_t bitmap_skipped; /* CDNSKEY or CSYNC queries not sent: the apex's
				    type bitmap left the type out (scan.type-bitmaps) */
	struct cds_error_report_stats reports; /* RFC 9567 */
};

void cds_scanner_stats(const struct cds_scanner *s, struct cds_scanner_stats *out);

/* Free the scanner (no scan may be pending); run the loop once more after,
 * so that its handles close.  Report queries still in flight are let
 * finish first: the scanner goes when the last is in (the loop must run
 * until then; conf is no longer read).  Accepts NULL. */
void cds_scanner_free(struct cds_scanner *s);

/*
 * Resolve one name's A and AAAA (as resolver.address-families allows)
 * through the scanner's resolver, cached for the scanner's life.  cb gets 0
 * and the addresses (none: the name has none); or an error, with why in
 * words, when a look-up failed (SERVFAIL, a timeout) — then addrs holds
 * what the other look-up gave, but the name's addresses are not all known.
 * cb never runs from inside the call.
 */
typedef void (*cds_resolve_cb)(int status, const struct cds_addr *addrs, size_t n,
			       const char *why, void *arg);
int cds_scanner_resolve(struct cds_scanner *s, const char *name, cds_resolve_cb cb, void *arg);

/*
 * Ask the resolver (RD=1, DO, and the extra transport flags, e.g.
 * CDS_QUERY_CD) for qname/qtype and parse the answer: used for the parent's
 * NS and DS in check's real-DNS mode.  cb gets 0 and the RRset (only valid
 * during the call) and whether the resolver set AD.
 */
typedef void (*cds_lookup_cb)(int status, const struct cds_rrset *set, bool ad, void *arg);
int cds_scanner_lookup(struct cds_scanner *s, const char *qname, uint16_t qtype,
		       unsigned flags, cds_lookup_cb cb, void *arg);

/*
 * Ask a parent's server (RD=0) for domain's NS and parse the referral: the
 * delegation as the parent holds it (the resolver would answer with the
 * child's own NS set).  cb gets 0 and the referral (valid during the call),
 * or an error.
 */
typedef void (*cds_referral_cb)(int status, const struct cds_referral *ref, void *arg);
int cds_scanner_referral(struct cds_scanner *s, const struct cds_addr *server, const char *domain,
			 cds_referral_cb cb, void *arg);

/*
 * The delegation of d->domain as its parent holds it, from DNS, into d (its
 * ns and ds malloc'd; the caller frees them): the DS set through the
 * validating resolver, the NS set and glue from a referral by one of the
 * parent zone's own servers (RD=0).  cb gets 0, or the first error
 * (CDS_ENOENT: no parent zone found, CDS_EUNAVAIL: none of its servers
 * answered, a transport error); it never runs from inside the call.
 * Returns 0 or CDS_ENOMEM (cb never runs).
 */
typedef void (*cds_parent_cb)(int status, struct cds_delegation *d, void *arg);
int cds_scanner_parent(struct cds_scanner *s, struct cds_delegation *d, cds_parent_cb cb,
		       void *arg);

/*
 * As cds_scanner_parent, with the DS set validated by cdscan from the
 * scanner's trust anchor (cds_scanner_trust_anchor), never from the
 * resolver's AD bit: the records when they validate, none when their
 * absence validates or the parent zone is insecure.  cb gets CDS_EDATA
 * when the DS set does not validate (the reason logged).  Import --from
 * dns.
 */
int cds_scanner_parent_validated(struct cds_scanner *s, struct cds_delegation *d,
				 cds_parent_cb cb, void *arg);

/*
 * The delegation of d->domain in a parent zone file (origin: the parent of
 * the domain), into d (ns and ds malloc'd): its NS and DS records and the
 * zone's glue for in-bailiwick NS names.  Returns 0, CDS_EDATA (the file;
 * err names file:line), CDS_ENOENT (no NS for the domain) or CDS_ENOMEM.
 */
int cds_parent_from_zone(const char *path, struct cds_delegation *d, char *err, size_t errlen);
