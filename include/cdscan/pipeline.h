/* The scan pipeline: claim due delegations from the store under a lease,
 * scan and decide them on one loop with at most scan.concurrency in flight
 * (refilled as each one ends, across claims), build their change sets, and
 * write verdicts, change sets and schedule scan.batch-size at a time, each
 * group in one transaction.  A killed process or a lost database leaves
 * nothing half-written: unwritten claims are due again when their lease
 * ends.  Shared by `scan` (until nothing is due) and the daemon. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cdscan/conf.h"
#include "cdscan/db.h"
#include "cdscan/model.h"
#include "cdscan/scan.h"

struct cds_pipeline_opts {
	bool dry_run;                 /* decide and report: no lease, no change set */
	bool has_limit;
	uint64_t limit;               /* at most this many delegations */
	const char *const *domains;   /* these (normalised), due or not */
	size_t domain_count;
	/* The daemon: never done.  Due delegations are claimed only as
	 * cds_pipeline_allow gives budget (its pace), out-of-turn ones
	 * (cds_pipeline_urgent) first; what has finished is written when
	 * nothing runs, when scan.batch-size wait, or on cds_pipeline_flush. */
	bool continuous;
	/* Read each delegation's previous result back with the new one
	 * (cds_db_write_results), for the report's trends. */
	bool previous;
};

/* One delegation written to the store, for the caller's report; valid
 * during the call only. */
struct cds_pipeline_written {
	const char *domain;
	const struct cds_verdict *v;    /* NULL: skipped, its registry scans CDS itself */
	const struct cds_registry *reg; /* its registry profile, or NULL */
	unsigned failures;   /* consecutive scans with an unusable server, this one
				included (0: every server answered) */
	unsigned changesets; /* change sets created */
	bool unrouted;       /* an action, but no registry profile takes it */
	/* With opts.previous: its previous result (known false: none);
	 * otherwise NULL. */
	const struct cds_verdict_previous *previous;
	double decide_s;     /* validating and deciding it took (0: skipped) */
};

/* Called on the loop thread for each written delegation, in the order they
 * are written.  Returns 0, or an error that stops the pipeline. */
typedef int (*cds_pipeline_written_cb)(const struct cds_pipeline_written *w, void *arg);

struct cds_pipeline_stats {
	uint64_t claimed;   /* delegations claimed */
	uint64_t claims;    /* claims made (statements), of them: */
	uint64_t claims_ahead; /* in the pool while a batch was started */
	uint64_t claim_waits;  /* of those, back after their batch before was used up */
	uint64_t urgent;    /* of them out of turn (cds_pipeline_urgent) */
	uint64_t decided;   /* scanned and decided */
	uint64_t unwritten; /* claimed, but not written (left to their lease) */
	uint64_t released;  /* leases given back (cds_pipeline_stop, _abandon) */
	uint64_t inflight;  /* scans running now */
	uint64_t queued;    /* claimed, not started yet */
	uint64_t urgent_active; /* claimed out of turn, not finished yet */
	bool failed;        /* stopped by an error (the store, memory) */
	double decide_s;    /* time spent deciding, summed over the thread pool */
	double db_s;        /* time spent in the store */
	/* Signature checks of the decisions (limits.verifications-*), and of
	 * all checks (also the CSYNC gate's) those scan.dnskey-cache answered
	 * (hits) and the verifications it took in (added) */
	uint64_t verifications;
	uint64_t sigcache_hits;
	uint64_t sigcache_added;
};

struct cds_pipeline;

/*
 * A pipeline on loop: conf (borrowed; registry profiles decide which
 * policy each delegation gets), scanner and db (borrowed, connected).
 * written may be NULL.  Returns 0 or CDS_ENOMEM.
 */
int cds_pipeline_new(uv_loop_t *loop, const struct cds_conf *conf, struct cds_scanner *scanner,
		     struct cds_db *db, const struct cds_pipeline_opts *opts,
		     cds_pipeline_written_cb written, void *arg, struct cds_pipeline **out);

/* Start claiming and scanning; the work runs on the loop until nothing is
 * left (the loop then has nothing more of the pipeline's to run). */
void cds_pipeline_start(struct cds_pipeline *p);

/* After the loop: write what is still waiting.  Returns 0, or the error
 * that stopped the pipeline (CDS_EUNAVAIL: the store; CDS_ENOMEM) with its
 * message in err. */
int cds_pipeline_finish(struct cds_pipeline *p, char *err, size_t errlen);

/* Copy the counters. */
void cds_pipeline_stats(const struct cds_pipeline *p, struct cds_pipeline_stats *out);

/* Continuous mode: n more due delegations may be claimed (what is left
 * unused is kept up to 4n + 1); claim and start what is due now. */
void cds_pipeline_allow(struct cds_pipeline *p, uint64_t n);

/* Claim names (normalised) now, due or not, unless another scanner holds
 * one under a lease, and start them before any due delegation.
 * claimed[i] tells whether names[i] was claimed (false: not in the table,
 * removed, or leased by another scanner).  Returns 0, CDS_EINVAL (stopped)
 * or the error that stops the pipeline (CDS_EUNAVAIL, CDS_ENOMEM). */
int cds_pipeline_urgent(struct cds_pipeline *p, const char *const *names, size_t n,
			bool *claimed);

/* Write what has finished now. */
void cds_pipeline_flush(struct cds_pipeline *p);

/* Stop claiming; give back the leases of what is claimed and not started
 * (due at once for any scanner).  Scans running go on and are written.
 * Returns 0 or the store's error (the leases then simply end). */
int cds_pipeline_stop(struct cds_pipeline *p, char *err, size_t errlen);

/* Write what has finished, then give back the leases of the scans still
 * running, whose results will not be written.  Returns 0 or the store's
 * error. */
int cds_pipeline_abandon(struct cds_pipeline *p, char *err, size_t errlen);

/* Free.  Accepts NULL.  No scan of it may be running. */
void cds_pipeline_free(struct cds_pipeline *p);
