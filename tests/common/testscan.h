/* Test helper: scan results made by hand for the policy tests.  What every
 * nameserver address served is a signed answer (testsign.h) read through the
 * DNS layer (cds_answer_parse); the CSYNC data, the probes and the RFC 9615
 * signals are filled the way src/dns/scanner.c fills them.  No scanner, no
 * network.  Not part of cdscan itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/policy.h"
#include "cdscan/model.h"
#include "testsign.h"

/* Most parent NS names, DS records, servers, probes and signals of one
 * scan result. */
#define TSCAN_MAX 8

/* What one nameserver address serves.  Keys are borrowed. */
struct tscan_server {
	const char *name;  /* the NS host name */
	const char *addr;  /* its address; NULL: the name had no address */
	const char *error; /* non-NULL: the address gave no usable answer */
	uint32_t soa_serial;
	const struct ts_key *dnskey[4];  /* the DNSKEY RRset (NULL-terminated) */
	const struct ts_key *signers[4]; /* RRSIGs over SOA, DNSKEY and NS */
	struct ts_rr cds[4], cdnskey[4], csync[2], ns[4];
	size_t ncds, ncdnskey, ncsync, nns;
	const struct ts_key *signal_signers[4]; /* RRSIGs over CDS, CDNSKEY, CSYNC */
	time_t signal_inception;  /* 0: an hour before now */
	time_t signal_expiration; /* 0: 30 days after now */
};

/* One in-bailiwick host name and its addresses as a server serves them. */
struct tscan_host {
	const char *name;
	const char *addrs[4]; /* A and AAAA texts (NULL-terminated) */
};

/*
 * What one server answered for CSYNC processing (scanner.c's csync_fetch
 * and csync_after): the NS RRset again (the server's apex NS RRset), the
 * addresses of the in-bailiwick names, then the SOA again.
 */
struct tscan_csync {
	const char *error;      /* non-NULL: a query failed (ok false) */
	bool ns, a, aaaa;       /* the types the CSYNC bitmap asked for */
	struct tscan_host hosts[4];
	size_t host_count;
	const struct ts_key *signers[4]; /* RRSIGs over NS, A and AAAA */
	uint32_t soa_serial_after;       /* 0: the server's SOA serial */
	/* An empty answer (NODATA) comes with a signed NSEC at the name, as a
	 * signed zone serves it, unless this is set: then without a proof (a
	 * forged or broken NODATA). */
	bool unproven_empty;
};

/* A scan result under construction, with the delegation it is of and the
 * verdict decided on it.  Lives in a tscan_case (it is large for a stack);
 * tscan_free releases what it owns. */
struct tscan {
	const char *zone; /* borrowed: must outlive t */
	time_t now; /* the clock of the answers' RRSIGs and of the decision */
	struct cds_ns_entry ns[TSCAN_MAX];
	struct cds_ds ds[TSCAN_MAX];
	struct cds_delegation d; /* the parent's: ns, ds, opted_out, ... */
	struct cds_server_result servers[TSCAN_MAX];
	struct cds_server_result probes[TSCAN_MAX];
	struct cds_bootstrap_signal signals[TSCAN_MAX];
	struct cds_scan_result res; /* signals_asked, signal_over_tcp, ... */
	struct cds_verdict v;       /* set by tscan_decide */
	/* What probes serve as DNSKEY RRset: the first server's keys and
	 * signers unless the test says otherwise (tscan_probe_keys). */
	const struct ts_key *probe_dnskey[4], *probe_signers[4];
};

/* Keys the policy tests share (testsign: ECDSA P-256 unless said). */
struct tscan_keys {
	struct ts_key ka, kb, kc; /* KSKs (flags 257) */
	struct ts_key zsk;        /* flags 256 */
	struct ts_key ed;         /* Ed25519 (algorithm 15), flags 257 */
};

/* Make the keys.  Returns 0 or -1. */
int tscan_keys_new(struct tscan_keys *k);
void tscan_keys_free(struct tscan_keys *k);

/* What one test works on: a default configuration (cds_conf_init) for it to
 * change, and a scan result (tscan_init it first). */
struct tscan_case {
	struct cds_conf conf;
	struct tscan t;
};

/* cmocka per-test setup and teardown: *state becomes a new tscan_case, and
 * is freed with everything it owns even when the test failed. */
int tscan_case_setup(void **state);
int tscan_case_teardown(void **state);

/* Start t (zeroed or freed) for zone (normalised) at time now: no NS, no
 * DS, no server. */
void tscan_init(struct tscan *t, const char *zone, time_t now);

/* The parent holds NS name, with the glue addresses glue[0..) (NULL, or
 * NULL-terminated texts). */
void tscan_parent_ns(struct tscan *t, const char *name, const char *const *glue);

/* The parent holds DS ds. */
void tscan_parent_ds(struct tscan *t, const struct cds_ds *ds);

/* Add a server that served sp; with cs non-NULL, also its CSYNC data.
 * Returns the result (owned by t) for the test to change further. */
struct cds_server_result *tscan_add_server(struct tscan *t, const struct tscan_server *sp,
					   const struct tscan_csync *cs);

/* Add a probe (scan/csync.c's csync_after): address addr of name, asked for
 * the SOA, answered with serial, and for the DNSKEY RRset, answered with
 * the probe keys; error non-NULL: no usable answer (and addr NULL: no
 * address). */
void tscan_add_probe(struct tscan *t, const char *name, const char *addr, uint32_t serial,
		     const char *error);

/* What the probes added from now on serve as DNSKEY RRset: keys, signed by
 * signers (NULL-terminated arrays of at most 4; borrowed). */
void tscan_probe_keys(struct tscan *t, const struct ts_key *const *keys,
		      const struct ts_key *const *signers);

/*
 * Add the RFC 9615 signal under NS host name ns (in zone ns_zone), as
 * scanner.c's signal_cb fills it: the CDS and CDNSKEY records at
 * _dsboot.<zone>._signal.<ns>, both and the zone SECURE; an empty type is
 * missing (NODATA).  Marks the signals as asked.  Returns the entry for the
 * test to change further.
 */
struct cds_bootstrap_signal *tscan_add_signal(struct tscan *t, const char *ns,
					      const char *ns_zone, const struct ts_rr *cds,
					      size_t ncds, const struct ts_rr *cdnskey,
					      size_t ncdnskey);

/* cds_policy_decide on what t holds, into t->v (a previous verdict is
 * cleared first).  Returns what cds_policy_decide returns.  With TSCAN_DUMP
 * in the environment, the verdict is printed as JSON to stderr. */
int tscan_decide(struct tscan *t, const struct cds_conf *conf);

/* Release everything t owns, the verdict included. */
void tscan_free(struct tscan *t);

/* DS of key k at zone with digest type dt, in presentation form. */
void tscan_ds_text(const struct ts_key *k, const char *zone, uint8_t dt,
		   char buf[CDS_DS_TEXT_MAX]);

/* 0 when side decided action with the reason code as its first reason and,
 * with detail non-NULL, a detail that holds detail; else -1 and why in msg. */
int tscan_side_check(const struct cds_verdict_side *side, enum cds_action action,
		     const char *code, const char *detail, char *msg, size_t len);

/* 0 when l holds exactly the strings want[0..) (NULL-terminated), in any
 * order; else -1 and why in msg. */
int tscan_list_check(const struct cds_strlist *l, const char *const *want, char *msg,
		     size_t len);

/* In cmocka tests: fail unless side decided action/code (detail: a
 * substring of its detail, or NULL). */
#define TSCAN_EXPECT(side, action, code, detail)                                            \
	do {                                                                                \
		char tscan_msg_[1024];                                                      \
		if (tscan_side_check((side), (action), (code), (detail), tscan_msg_,         \
				     sizeof(tscan_msg_)) != 0)                              \
			fail_msg("%s", tscan_msg_);                                         \
	} while (0)

/* In cmocka tests: fail unless list holds exactly the strings given
 * (TSCAN_EXPECT_LIST(l, NULL) for an empty list). */
#define TSCAN_EXPECT_LIST(list, ...)                                                        \
	do {                                                                                \
		char tscan_msg_[2048];                                                      \
		const char *const tscan_want_[] = {__VA_ARGS__, NULL};                      \
		if (tscan_list_check((list), tscan_want_, tscan_msg_, sizeof(tscan_msg_)))  \
			fail_msg("%s", tscan_msg_);                                         \
	} while (0)
