/* What the files of src/db share; not part of the interface. */
#pragma once

#include <libpq-fe.h>

struct cds_db {
	PGconn *conn;
};

/* The connection's last error, one line (static buffer per thread). */
const char *cds_db_error_text(const PGconn *conn);

/* A notice processor that drops notices. */
void cds_db_ignore_notice(void *arg, const char *message);

/* PQexecParams with text parameters; on failure err gets the server's
 * message and the return is CDS_EUNAVAIL.  res (may be NULL) gets the
 * result, to PQclear. */
int cds_db_exec(struct cds_db *db, const char *sql, int nparams, const char *const *params,
		PGresult **res, char *err, size_t errlen);

/* ROLLBACK, ignoring the outcome. */
void cds_db_rollback(struct cds_db *db);

/* A timestamptz expression as RFC 3339 text in UTC (NULL stays NULL). */
#define CDS_DB_TIME(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* A delegation (columns prefixed p: "" or "d.") is due when its next scan
 * time has passed and no scanner holds it under a lease (a batch scan's
 * claim of a due row changes the lease alone: 0010_claim_lease_only.sql);
 * the time it is next due, as `domain show` gives it, is the later of the
 * two. */
#define CDS_DB_DUE(p)                                                                      \
	"(" p "next_scan_at <= now() AND (" p "leased_until IS NULL OR " p "leased_until <="    \
	" now()))"
#define CDS_DB_NEXT_SCAN(p) "greatest(" p "next_scan_at, " p "leased_until)"

/* The stored verdict of scan_results row s, as jsonb: the json the scanner
 * wrote (column verdict, since 0011_verdict_json.sql, parsed here on the
 * read instead of at every scan's write) or, for a row written before,
 * verdict_jsonb. */
#define CDS_DB_VERDICT(s) "coalesce(" s ".verdict::jsonb, " s ".verdict_jsonb)"

/* ANALYZE delegations after an import that changed it (import.c). */
struct cds_import_counts;
void cds_db_import_analyze(struct cds_db *db, const struct cds_import_counts *c);

/* RFC 9975 §3, the one place the rule is written: a server_failures row
 * (alias a) whose address has failed for policy.unreachable-after (the
 * parameter p, in seconds; 0: never) is left out of the decision.  An NS
 * name without any address is never left out. */
#define CDS_DB_EXCLUDED(a, p)                                                              \
	"(" a ".address <> '' AND " p "::double precision > 0 AND " a ".first_failed_at <="    \
	" now() - make_interval(secs => " p "::double precision))"

/* Shared by the zone import (import.c) and the portfolio import
 * (portfolio.c), which both stage the file's delegations as the temp table
 * import_deleg (domain, ns, ds, glue) before the upsert: */
/* the DS sets the file changes, as the temp table import_ds_change; */
extern const char cds_db_merge_ds_changes[];
struct cds_import_counts;
/* after the upsert: replay baselines, events, suspensions (import.c). */
int cds_db_merge_state(struct cds_db *db, struct cds_import_counts *out, char *err,
		       size_t errlen);

/* A COPY FROM STDIN in progress, its data sent in chunks. */
struct cds_db_copy {
	PGconn *conn;
	size_t len;          /* octets waiting in data */
	char data[65536];
};
/* Send what waits.  Returns 0 or CDS_EUNAVAIL. */
int cds_db_copy_flush(struct cds_db_copy *b);
/* Append n octets (rows may span chunks).  Returns 0 or CDS_EUNAVAIL. */
int cds_db_copy_put(struct cds_db_copy *b, const char *p, size_t n);
/* End the COPY: completed when r is 0, else aborted.  Returns r, or
 * CDS_EUNAVAIL with err set when the server refused it. */
int cds_db_copy_end(struct cds_db *db, int r, char *err, size_t errlen);

/* Notifications (notice.c): the notification state of each written
 * verdict o[0..n), and a notice where it changed (or a rejection reached
 * repeat scans), in the open transaction.  Returns 0, CDS_ENOMEM or
 * CDS_EUNAVAIL. */
struct cds_db_outcome;
int cds_db_record_notices(struct cds_db *db, const struct cds_db_outcome *o, size_t n,
			  uint32_t repeat, char *err, size_t errlen);

/* A PostgreSQL array literal of n texts, every element quoted and escaped,
 * for a parameter (never pasted into SQL); owned by the caller, NULL on no
 * memory. */
char *cds_db_pg_array(const char *const *v, size_t n);
