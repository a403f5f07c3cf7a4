/* The operator's report of a scan (CONTRACT.md "The scan report"): counts
 * per action and reason, and one row per domain with an action or a
 * rejection, as text, JSON, or one self-contained HTML file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cdscan/model.h"

/* The formats of the report. */
enum cds_report_format {
	CDS_REPORT_TEXT = 0,
	CDS_REPORT_JSON,
	CDS_REPORT_HTML,
};

struct cds_report;

/* A new, empty report.  flag_after: consecutive failed scans after which a
 * domain's unreachable nameserver is flagged.  NULL on no memory. */
struct cds_report *cds_report_new(bool dry_run, unsigned flag_after);

/* Count one verdict, in the whole run's counts and in those of registry
 * profile registry (NULL: under none; borrowed); keep it as a row of that
 * profile if its DS or NS action is not none.  previous: the delegation's
 * previous result (borrowed), for the trends: a new rejection (rejected
 * now, and not before or for other reasons; a first scan's rejection
 * too), fixed (rejected before, not now), still rejected; NULL: no trends.
 * failures: consecutive scans with an unusable server, this one included.
 * changeset: a change set was created for it.  Returns 0, CDS_ENOMEM,
 * CDS_EINVAL (more profiles than a configuration has, CDS_CONF_MAX_REGISTRIES),
 * or a negative errno when a temporary file cannot be written. */
int cds_report_add(struct cds_report *r, const struct cds_verdict *v, const char *registry,
		   const struct cds_verdict_previous *previous, unsigned failures, bool changeset);

/* A delegation not scanned because its registry scans CDS itself. */
int cds_report_skip(struct cds_report *r, const char *registry);

/* A delegation with an action but under no registry profile (no change
 * set was made for it). */
int cds_report_unrouted(struct cds_report *r, const char *domain);

/* Domains counted, rejects among them, change sets created. */
uint64_t cds_report_domains(const struct cds_report *r);
uint64_t cds_report_rejects(const struct cds_report *r);
uint64_t cds_report_changesets(const struct cds_report *r);
/* Domains with DS action a. */
uint64_t cds_report_ds_count(const struct cds_report *r, enum cds_action a);

/* Set the start and end times. */
void cds_report_times(struct cds_report *r, time_t started, time_t finished);

/* Progress of a run of total delegations after elapsed_s seconds: a line
 * rewritten in place on a terminal (tty), a log line otherwise; final ends
 * the terminal line. */
void cds_report_progress(const struct cds_report *r, uint64_t total, double elapsed_s, bool tty,
			 bool final);

/* The one-line summary of a scan ("scanned N delegations: ...") to f. */
void cds_report_summary(const struct cds_report *r, double elapsed_s, FILE *f);

/* Write the report to f in format.  Returns 0 or CDS_ENOMEM. */
int cds_report_write(const struct cds_report *r, enum cds_report_format format, FILE *f);

/* Free.  Accepts NULL. */
void cds_report_free(struct cds_report *r);

/*
 * One domain's state as a small self-contained HTML page (no script, no
 * external resource; the daemon's /status/DOMAIN for a browser): json is
 * what cds_db_domain_public_json gives (borrowed).  Every text from it is
 * escaped.  Returns 0, CDS_EDATA (json is no JSON object) or CDS_ENOMEM
 * (writing to f failed).
 */
int cds_report_status_html(const char *json, FILE *f);

/* What the domain holder or its DNS operator can do about a verdict
 * reason (a code such as "breaks-chain"), in plain words; "" for an
 * unknown code. */
const char *cds_report_reason_advice(const char *code);

/* A verdict in words: one line per server, then the decisions. */
void cds_verdict_print_text(const struct cds_verdict *v, FILE *f);
