/* What the files of the scan layer share: the scanner, one delegation's
 * job and its phases, the answer judge and the deferral helper. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cdscan/policy.h"
#include "cdscan/scan.h"
#include "cdscan/transport.h"
#include "cdscan/trust.h"

#define SCAN_MAX_RESOLVERS 8

struct addr_cache;

struct cds_scanner {
	uv_loop_t *loop;
	const struct cds_conf *conf;   /* borrowed; the policy of scans without one */
	struct cds_transport *transport;
	struct cds_addr resolvers[SCAN_MAX_RESOLVERS];
	size_t resolver_count;
	struct addr_cache *cache;      /* NS name -> addresses, for the run */
	struct cds_trust *trust;       /* RFC 9615 look-ups, validated */
	uint64_t scans;
	uint64_t skipped;              /* addresses left out by address-families */
	uint64_t bitmap_skipped;       /* queries the apex's type bitmap spared */
	/* RFC 9567 error reports (ereport.c); NULL: error-reporting.enabled
	 * is off */
	struct ereporter *reporter;
	uint64_t report_timeout_ms;    /* error-reporting.timeout */
	struct cds_error_report_stats reports;
	size_t reports_inflight;       /* report queries not yet answered */
	bool free_when_idle;           /* freed while reports were in flight */
};

/* ---------------------------------------------------------- scanner.c --- */

/*
 * Must a nameserver address stay unasked: special-purpose space
 * (cds_addr_special: loopback, private, link-local, documentation, ...)
 * outside resolver.allow-addresses?  A registrant chooses its glue and NS
 * names, and with them where the scanner's queries go.  When refused, why
 * says so ("ADDR: what, not asked (resolver.allow-addresses)"), once
 * logged.  Only addresses learnt from the parent's data or from DNS are
 * judged; the resolver's, configured, are not.
 */
bool scan_addr_refused(const struct cds_scanner *s, const char *domain, const char *name,
		       const struct cds_addr *a, char *why, size_t whylen);

/* ------------------------------------------------------------ defer.c --- */

/* Run cb(arg) on the next loop turn, never from inside the caller (the
 * callback contract of transport.h).  Returns 0, or CDS_ENOMEM and cb never
 * runs. */
int scan_defer(uv_loop_t *loop, void (*cb)(void *arg), void *arg);

/* ----------------------------------------------------------- answer.c --- */

/* How an answer is judged: one of the zone's apex answers (NXDOMAIN means
 * the server does not serve the zone), or data inside the zone read for
 * CSYNC (NXDOMAIN or NODATA is an empty set). */
enum judge_mode { JUDGE_APEX, JUDGE_DATA };

/*
 * Judge an answer to qname/type (status 0 and the message, or the
 * transport's error) and read it into set (cleared first; marked present)
 * under limits (records and RRSIGs per RRset).  Returns true when usable,
 * else false with why in words ("timeout", "REFUSED", "lame: referral
 * instead of an answer", "600 NS records in one RRset;
 * limits.records-per-rrset is 512", ...).
 */
bool scan_judge(enum judge_mode mode, const char *qname, uint16_t type,
		const struct cds_dnssec_limits *limits, int status, const uint8_t *wire, size_t len,
		struct cds_rrset *set, struct cds_answer_info *info, char *why, size_t whylen);

/* Mark srv unusable with why, keeping the first reason. */
void scan_server_fail(struct cds_server_result *srv, const char *why);

/* srv's answer for kind is empty, as the type bitmap of the apex's NSEC or
 * NSEC3 in its empty CDS answer says (scan.type-bitmaps): the set as an
 * empty NOERROR answer would leave it, the CDS set's owner. */
void scan_absent_by_bitmap(struct cds_server_result *srv, enum cds_query_kind kind);

/* -------------------------------------------------------------- job.c --- */

/* The phases of one delegation's scan, in the order they can run; the job
 * driver (job.c) asks the policy layer which one comes next. */
enum job_phase {
	PHASE_RESOLVE = 0, /* A/AAAA of NS names without glue */
	PHASE_PROBE,       /* CDS CDNSKEY CSYNC at every address (with
			      scan.full-status: SOA DNSKEY NS too) */
	PHASE_APEX,        /* SOA DNSKEY NS at every usable address, when some
			      address has a signal (or full-status did it) */
	PHASE_CSYNC_GATE,  /* the CSYNC and NS RRsets validated, off the loop */
	PHASE_CSYNC_DATA,  /* NS, A, AAAA again (RFC 7477 §3.4: after the SOA) */
	PHASE_CSYNC_AFTER, /* the SOA again; probes of addresses a change adds */
	PHASE_BOOTSTRAP,   /* RFC 9615 signals through the resolver, validated */
	PHASE_DONE,
};

struct job;

/* One apex query of a job: which server, which kind. */
struct apex_query {
	struct job *job;
	size_t server;
	enum cds_query_kind kind;
};

struct job {
	struct cds_scanner *s;
	const struct cds_delegation *d;
	const struct cds_conf *conf;  /* the policy this delegation is decided under */
	cds_scan_cb cb;
	void *arg;
	struct cds_scan_result *res;
	enum job_phase phase;
	size_t pending;               /* queries and look-ups of the phase not yet in */
	struct cds_csync csync;       /* the actionable CSYNC (CSYNC phases) */
	uv_work_t gate;               /* PHASE_CSYNC_GATE in the thread pool */
	time_t gate_now;              /* the time the gate validates at */
	bool csync_allowed;           /* the gate passed: fetch the data */
	/* PHASE_RESOLVE: per NS name, the looked-up addresses */
	struct cds_addr (*addrs)[CDS_NS_MAX_ADDRS];
	size_t *addr_count;
	int *resolve_status;
	char (*resolve_why)[64];      /* which look-up failed, and how */
	struct apex_query *queries;   /* PHASE_PROBE, PHASE_APEX: CDS_Q_COUNT per server */
	/* PHASE_PROBE with scan.type-bitmaps: CDS first, the rest of the
	 * probe as the apex's type bitmap says (job.c probe_follow) */
	bool cds_first;
	bool signal_seen;             /* some address has a signal: ask the apex */
};

/* One answer or look-up of the phase is in: the next phase when it was the
 * last. */
void job_step_done(struct job *j);

/* Count a query or look-up of the phase as started (job_step_done when it
 * ends). */
void job_step_begin(struct job *j);

/* -------------------------------------------- phases (csync.c, bootstrap.c) --- */

/* Validate the CSYNC and the child's NS set (cds_policy_csync_fetch_allowed)
 * in libuv's thread pool, a step of the phase; j->csync_allowed says. */
void csync_gate(struct job *j);
void csync_fetch(struct job *j);
void csync_after(struct job *j);
void bootstrap_fetch(struct job *j);

/* --------------------------------------------------------- resolve.c --- */

struct addr_cache *addr_cache_new(void);
void addr_cache_free(struct addr_cache *c);

/* --------------------------------------------------------- ereport.c --- */

/* The dedup memory and per-agent token buckets of RFC 9567 reports. */
struct ereporter;

/* What ereporter_admit says of one report. */
enum er_admit {
	ER_SEND = 0,  /* send it (counted against the agent, remembered) */
	ER_DUPLICATE, /* sent within error-reporting.dedup-window */
	ER_RATE,      /* over error-reporting.per-agent-rate */
	ER_FULL,      /* max-agents or max-remembered reached */
};

/* A reporter under conf's error-reporting settings (copied); NULL on no
 * memory. */
struct ereporter *ereporter_new(const struct cds_conf *conf);
void ereporter_free(struct ereporter *r);

/* May the report qname (to agent) go out at now_ms (a monotonic clock in
 * milliseconds)?  ER_SEND takes a token of the agent's bucket and
 * remembers the report for the window. */
enum er_admit ereporter_admit(struct ereporter *r, const char *agent, const char *qname,
			      uint64_t now_ms);
