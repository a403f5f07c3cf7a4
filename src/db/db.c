/* PostgreSQL connection and forward-only migrations (libpq). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

/* pg_advisory_xact_lock key of migrations: "cdscan" in ASCII. */
#define MIGRATE_LOCK "109283083772270"

/* Take a connection libpq made (or failed to make) into *out. */
static int take_conn(PGconn *conn, struct cds_db **out, char *err, size_t errlen)
{
	struct cds_db *db = NULL;
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names host and reason, not the password. */
		snprintf(err, errlen, "cannot connect to the database (%s)",
			 conn ? cds_db_error_text(conn) : "out of memory");
		PQfinish(conn);
		return CDS_EUNAVAIL;
	}
	if (!(db = calloc(1, sizeof(*db)))) {
		PQfinish(conn);
		return CDS_ENOMEM;
	}
	db->conn = conn;
	/* Notices ("table exists, skipping") are not the operator's concern. */
	PQsetNoticeProcessor(db->conn, cds_db_ignore_notice, NULL);
	*out = db;
	return 0;
}

int cds_db_connect(const char *conninfo, struct cds_db **out, char *err, size_t errlen)
{
	return take_conn(PQconnectdb(conninfo), out, err, errlen);
}

int cds_db_connect_bounded(const char *conninfo, const char *app, unsigned connect_s,
			   unsigned statement_ms, struct cds_db **out, char *err, size_t errlen)
{
	char timeout[16], ms[16];
	snprintf(timeout, sizeof(timeout), "%u", connect_s);
	snprintf(ms, sizeof(ms), "%u", statement_ms);
	/* Keywords are applied in order and the last value wins; dbname,
	 * expanded as a whole connection string, comes last, so that what the
	 * operator wrote there overrides these defaults. */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const values[] = {timeout, app, conninfo, NULL};
	struct cds_db *db = NULL;
	int r = take_conn(PQconnectdbParams(keys, values, 1), &db, err, errlen);
	if (r != 0)
		return r;
	/* A session setting, so that it also holds after a ROLLBACK. */
	const char *p[1] = {ms};
	r = cds_db_exec(db, "SELECT set_config('statement_timeout', $1, false)", 1, p, NULL, err,
			errlen);
	if (r != 0) {
		cds_db_close(db);
		return r;
	}
	*out = db;
	return 0;
}

bool cds_db_connection_ok(const struct cds_db *db)
{
	return PQstatus(db->conn) == CONNECTION_OK;
}

void cds_db_close(struct cds_db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

void cds_db_ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

const char *cds_db_error_text(const PGconn *conn)
{
	static __thread char buf[512];
	snprintf(buf, sizeof(buf), "%s", PQerrorMessage(conn));
	size_t n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

int cds_db_exec(struct cds_db *db, const char *sql, int nparams, const char *const *params,
		PGresult **res, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_IN) {
		/* The server's message ends in a newline, inside the parentheses. */
		const char *msg = r ? PQresultErrorMessage(r) : cds_db_error_text(db->conn);
		size_t n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		snprintf(err, errlen, "database error (%.*s)", (int)n, msg);
		PQclear(r);
		return CDS_EUNAVAIL;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

void cds_db_rollback(struct cds_db *db)
{
	PQclear(PQexec(db->conn, "ROLLBACK"));
}

int cds_db_migrate(struct cds_db *db, int *from, int *to, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int latest = cds_migration_count ? cds_migrations[cds_migration_count - 1].version : 0;
	int r;

	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	/* Concurrent `db init` runs wait here for each other. */
	if ((r = cds_db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", 0, NULL, NULL,
			     err, errlen)) != 0 ||
	    (r = cds_db_exec(db,
			     "CREATE TABLE IF NOT EXISTS schema_version ("
			     " version integer PRIMARY KEY, name text NOT NULL,"
			     " applied_at timestamptz NOT NULL DEFAULT now())",
			     0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL,
			     &res, err, errlen)) != 0)
		goto fail;
	int current = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	*from = current;
	if (current > latest) {
		snprintf(err, errlen,
			 "the database schema is version %d, newer than this cdscan knows (%d): "
			 "upgrade cdscan",
			 current, latest);
		cds_db_rollback(db);
		return CDS_EDATA;
	}
	for (size_t i = 0; i < cds_migration_count; i++) {
		const struct cds_migration *m = &cds_migrations[i];
		if (m->version <= current)
			continue;
		/* The migration text is part of the binary, never data: it runs
		 * as one multi-statement script. */
		PGresult *mr = PQexec(db->conn, m->sql);
		if (PQresultStatus(mr) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "migration %s failed (%s)", m->name,
				 PQresultErrorMessage(mr));
			PQclear(mr);
			r = CDS_EUNAVAIL;
			goto fail;
		}
		PQclear(mr);
		char version[16];
		snprintf(version, sizeof(version), "%d", m->version);
		const char *params[2] = {version, m->name};
		if ((r = cds_db_exec(db, "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
				     2, params, NULL, err, errlen)) != 0)
			goto fail;
		current = m->version;
	}
	if ((r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	*to = current;
	return 0;
fail:
	cds_db_rollback(db);
	return r;
}
