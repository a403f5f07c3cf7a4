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

/* RFC 9975 §3, the one place the rule is written: a server_failures row
 * (alias a) whose address has failed for policy.unreachable-after (the
 * parameter p, in seconds; 0: never) is left out of the decision.  An NS
 * name without any address is never left out. */
#define CDS_DB_EXCLUDED(a, p)                                                              \
	"(" a ".address <> '' AND " p "::double precision > 0 AND " a ".first_failed_at <="    \
	" now() - make_interval(secs => " p "::double precision))"
