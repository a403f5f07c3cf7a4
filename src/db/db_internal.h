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
