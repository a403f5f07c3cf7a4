/* The daemon's metrics: counters and one histogram the loop thread updates
 * (C11 atomics, relaxed: no lock on the hot path) and the HTTP thread reads,
 * rendered with the store's gauges in the Prometheus text exposition format
 * 0.0.4.  The metric names and labels are fixed here and listed in
 * cdscan(8), Metrics; every label takes its values from a fixed table, so
 * that no input from outside can grow the set of series. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cdscan/db.h"
#include "cdscan/model.h"

struct cds_scanner_stats; /* cdscan/scan.h */

/* The registry (opaque).  Any thread may update it (atomic additions) and
 * render it, except cds_metrics_scanner: one thread only (the loop's).
 * cds_metrics_free only once no other thread uses it. */
struct cds_metrics;

/* A new registry, every counter 0, the start time now (for
 * cdscan_start_time_seconds).  NULL on no memory. */
struct cds_metrics *cds_metrics_new(void);

/* Free.  Accepts NULL.  No other thread may use m any more. */
void cds_metrics_free(struct cds_metrics *m);

/* ----------------------------------------- the loop thread's updates --- */

/* One written verdict: cdscan_scans_total for the action of each side,
 * cdscan_scan_reasons_total for each reason code of each side, and
 * cdscan_scans_unusable_total when a server gave no usable answer. */
void cds_metrics_verdict(struct cds_metrics *m, const struct cds_verdict *v);

/* A delegation left unscanned because its registry scans CDS itself
 * (cdscan_scans_skipped_total). */
void cds_metrics_skipped(struct cds_metrics *m);

/* n change sets created (cdscan_change_sets_created_total). */
void cds_metrics_change_sets(struct cds_metrics *m, unsigned n);

/* The time validation and decision of one delegation took, in seconds
 * (cdscan_decide_seconds; a negative or NaN time counts as 0). */
void cds_metrics_decide_time(struct cds_metrics *m, double seconds);

/*
 * The scanner's cumulative statistics (cds_scanner_stats): the
 * cdscan_dns_* counters are set to them, plus what earlier scanners
 * counted (cds_metrics_scanner_done).  A value lower than the last one
 * given is taken as a new scanner nobody announced: the counters go on
 * from where they were, so that they never go down.  One thread only.
 */
void cds_metrics_scanner(struct cds_metrics *m, const struct cds_scanner_stats *s);

/* The last statistics of a scanner about to be freed (a reload replaces
 * it): they are kept, and the next scanner's count from 0.  Same thread as
 * cds_metrics_scanner. */
void cds_metrics_scanner_done(struct cds_metrics *m, const struct cds_scanner_stats *s);

/* One NOTIFY received (RFC 9859), by its query type (an RR type number:
 * CDS, CDNSKEY and CSYNC have labels of their own, anything else is
 * "other"). */
void cds_metrics_notify_received(struct cds_metrics *m, uint16_t qtype);

/* A NOTIFY accepted: its delegation is scheduled for a scan. */
void cds_metrics_notify_accepted(struct cds_metrics *m);

/* What a NOTIFY was rate-limited by. */
enum cds_metrics_limit {
	CDS_METRICS_BY_SOURCE = 0, /* its source address */
	CDS_METRICS_BY_DOMAIN,     /* its domain */
	CDS_METRICS_BY_EVERYONE,   /* all sources together */
	CDS_METRICS_BY_QUEUE,      /* the queue of notified delegations is full */
	CDS_METRICS_LIMIT_COUNT
};

/* A NOTIFY dropped by a rate limit. */
void cds_metrics_notify_rate_limited(struct cds_metrics *m, enum cds_metrics_limit by);

/* A NOTIFY answered with an error RCODE (its number: FORMERR 1, NOTIMP 4,
 * REFUSED 5 and NOTAUTH 9 have labels of their own, any other is
 * "other"). */
void cds_metrics_notify_refused(struct cds_metrics *m, unsigned rcode);

/* An EPP command that failed (cdscan_epp_errors_total). */
void cds_metrics_epp_error(struct cds_metrics *m);

/* Notification deliveries (cdscan_notifications_total): n of the channel
 * called channel (a configured name: at most CDS_METRICS_CHANNELS names
 * are kept, the ones after that count as "other") with outcome ("sent",
 * "retry", "failed").  Loop thread only. */
#define CDS_METRICS_CHANNELS 32
void cds_metrics_notifications(struct cds_metrics *m, const char *channel, int outcome,
			       uint64_t n);

/* A configuration reload, and whether the new configuration was taken. */
void cds_metrics_config_reload(struct cds_metrics *m, bool ok);

/* ------------------------------------------------------- rendering --- */

/*
 * Every metric of m in the Prometheus text format 0.0.4 to f, and the
 * store's gauges g (borrowed; read at scrape time by cds_db_gauges_read),
 * or NULL when the store did not answer: then those are left out and
 * cdscan_database_up is 0.  Any thread.  The counters are read one by one,
 * so a scrape during an update may see part of it; a histogram stays
 * consistent (its _count is the sum of its buckets as read).  Returns 0 or
 * CDS_ENOMEM (writing to f failed).
 */
int cds_metrics_render(const struct cds_metrics *m, const struct cds_db_gauges *g, FILE *f);

/* The Content-Type of what cds_metrics_render writes. */
#define CDS_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
