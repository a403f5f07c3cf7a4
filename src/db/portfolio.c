/* Import of a registrar's portfolio (import --domains): the domains are
 * streamed into a staging table by COPY and merged set-based in the same
 * transaction, as the zone import (import.c) merges a zone's delegations;
 * the DS change bookkeeping is that import's own statements. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

/* A domain twice in the file: the first such, with its first two lines. */
static const char dup_sql[] =
    "SELECT domain, (array_agg(line ORDER BY line))[1], (array_agg(line ORDER BY line))[2] "
    "FROM import_dom GROUP BY domain HAVING count(*) > 1 ORDER BY 3 LIMIT 1";

/* The file's delegations in the form the zone import's statements read. */
static const char prepare_sql[] =
    "CREATE TEMP TABLE import_deleg ON COMMIT DROP AS "
    "SELECT domain, zone, registry, ns, ds, '{}'::jsonb AS glue, status, contact FROM import_dom";

/* Insert new delegations, update changed ones, as the zone import does
 * (merge_upsert there), with each domain's own zone and registry.  A
 * portfolio knows no glue: the resolver finds the nameservers' addresses. */
static const char upsert_sql[] =
    "WITH up AS ("
    "  INSERT INTO delegations AS t (domain, zone, registry, ns, ds, glue, source,"
    "                                registry_status, contact)"
    "  SELECT domain, zone, registry, ns, ds, glue, 'portfolio', status, contact"
    "  FROM import_deleg "
    "  ON CONFLICT (domain) DO UPDATE SET"
    "    zone = EXCLUDED.zone, registry = EXCLUDED.registry, ns = EXCLUDED.ns,"
    "    registry_status = EXCLUDED.registry_status, contact = EXCLUDED.contact,"
    "    ds = EXCLUDED.ds, glue = EXCLUDED.glue, source = 'portfolio',"
    "    removed_at = NULL, updated_at = now(),"
    "    ds_changed_at = CASE WHEN t.ds IS DISTINCT FROM EXCLUDED.ds"
    "                         THEN now() ELSE t.ds_changed_at END,"
    "    ns_changed_at = CASE WHEN t.ns IS DISTINCT FROM EXCLUDED.ns"
    "                           OR t.glue IS DISTINCT FROM EXCLUDED.glue"
    "                         THEN now() ELSE t.ns_changed_at END"
    "  WHERE t.ns IS DISTINCT FROM EXCLUDED.ns OR t.ds IS DISTINCT FROM EXCLUDED.ds"
    "     OR t.glue IS DISTINCT FROM EXCLUDED.glue OR t.removed_at IS NOT NULL"
    "     OR t.zone IS DISTINCT FROM EXCLUDED.zone"
    "     OR t.registry IS DISTINCT FROM EXCLUDED.registry OR t.source <> 'portfolio'"
    "     OR t.registry_status IS DISTINCT FROM EXCLUDED.registry_status"
    "     OR t.contact IS DISTINCT FROM EXCLUDED.contact"
    "  RETURNING (xmax = 0) AS inserted"
    ") "
    "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up";

/* A domain gone from the portfolio has left the registrar: marked, as a
 * delegation gone from a zone file is, but only within what the file
 * covers (the registries it has domains of) and only what a portfolio
 * brought in (sql/0006_portfolio.sql). */
static const char removed_sql[] =
    "UPDATE delegations d SET removed_at = now(), updated_at = now() "
    "WHERE d.source = 'portfolio' AND d.removed_at IS NULL"
    "  AND coalesce(d.registry, '') IN (SELECT DISTINCT coalesce(registry, '') FROM import_deleg)"
    "  AND NOT EXISTS (SELECT 1 FROM import_deleg i WHERE i.domain = d.domain)";

/* The file is the registrar's view of each of its zones now: a change set
 * the registry applied waits for this (sql/0005_zone_imports.sql). */
static const char zones_sql[] =
    "WITH z AS (INSERT INTO zone_imports (zone, imported_at)"
    "           SELECT DISTINCT zone, now() FROM import_deleg"
    "           ON CONFLICT (zone) DO UPDATE SET imported_at = now() RETURNING 1) "
    "SELECT count(*) FROM z";

/* A PostgreSQL array literal of texts; the names and DS texts hold no
 * quote, backslash, tab or newline (normalised, formatted). */
static int put_names(struct cds_db_copy *b, const char (*names)[CDS_DNAME_BUFSIZE], size_t n)
{
	int r = cds_db_copy_put(b, "{", 1);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i)
			r = cds_db_copy_put(b, ",", 1);
		if (r == 0)
			r = cds_db_copy_put(b, names[i], strlen(names[i]));
	}
	return r == 0 ? cds_db_copy_put(b, "}\t", 2) : r;
}

/* One staging row: domain, zone, registry, ns, ds, status, contact, line.
 * The statuses are words of letters, the contact a checked mail address
 * (no tab, newline or backslash): nothing to escape. */
static int put_row(struct cds_db_copy *b, const struct cds_db_portfolio_row *d)
{
	char head[3 * CDS_DNAME_BUFSIZE + 8], ds[CDS_DS_TEXT_MAX], tail[32];
	int r, n = snprintf(head, sizeof(head), "%s\t%s\t%s\t", d->domain, d->zone,
	                    d->registry ? d->registry : "\\N");
	if (n < 0 || (size_t)n >= sizeof(head))
		return CDS_EINTERNAL;
	if ((r = cds_db_copy_put(b, head, (size_t)n)) != 0 ||
	    (r = put_names(b, d->ns, d->ns_count)) != 0 || (r = cds_db_copy_put(b, "{", 1)) != 0)
		return r;
	for (size_t i = 0; i < d->ds_count; i++) {
		cds_ds_format(&d->ds[i], ds);
		if ((i && (r = cds_db_copy_put(b, ",", 1)) != 0) ||
		    (r = cds_db_copy_put(b, "\"", 1)) != 0 ||
		    (r = cds_db_copy_put(b, ds, strlen(ds))) != 0 ||
		    (r = cds_db_copy_put(b, "\"", 1)) != 0)
			return r;
	}
	if ((r = cds_db_copy_put(b, "}\t", 2)) != 0 ||
	    (r = d->status ? cds_db_copy_put(b, "{", 1) : cds_db_copy_put(b, "\\N", 2)) != 0 ||
	    (d->status && ((r = cds_db_copy_put(b, d->status, strlen(d->status))) != 0 ||
	                   (r = cds_db_copy_put(b, "}", 1)) != 0)))
		return r;
	if ((r = cds_db_copy_put(b, "\t", 1)) != 0 ||
	    (r = d->contact ? cds_db_copy_put(b, d->contact, strlen(d->contact))
	                    : cds_db_copy_put(b, "\\N", 2)) != 0)
		return r;
	n = snprintf(tail, sizeof(tail), "\t%lu\n", d->line);
	return cds_db_copy_put(b, tail, (size_t)n);
}

/* Every domain next gives into the COPY; file: the first one's file. */
static int stream(struct cds_db *db, cds_db_portfolio_next_cb next, void *arg, char *file,
                  size_t filelen, struct cds_import_counts *out, char *err, size_t errlen)
{
	struct cds_db_copy *b = malloc(sizeof(*b));
	struct cds_db_portfolio_row d;
	bool copy_failed = false;
	int r;
	if (!b)
		return CDS_ENOMEM;
	b->conn = db->conn;
	b->len = 0;
	while ((r = next(arg, &d, err, errlen)) == 1) {
		if (!out->records)
			snprintf(file, filelen, "%s", d.file ? d.file : "");
		out->records++;
		if ((r = put_row(b, &d)) != 0) {
			copy_failed = true;
			break;
		}
	}
	if (r == 0 && (r = cds_db_copy_flush(b)) != 0)
		copy_failed = true;
	/* An error of next has its message (a registry out of reach is
	 * CDS_EUNAVAIL too); one of the COPY gets the database's. */
	if (copy_failed)
		snprintf(err, errlen, "database error during COPY (%s)",
		         cds_db_error_text(db->conn));
	free(b);
	return r;
}

static int stage(struct cds_db *db, cds_db_portfolio_next_cb next, void *arg,
                 struct cds_import_counts *out, char *err, size_t errlen)
{
	char file[256] = "";
	PGresult *res = NULL;
	int r;
	if ((r = cds_db_exec(
	         db,
	         "CREATE TEMP TABLE import_dom (domain text NOT NULL, zone text NOT NULL,"
	         " registry text, ns text[] NOT NULL, ds text[] NOT NULL,"
	         " status text[], contact text, line bigint NOT NULL) ON COMMIT DROP",
	         0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, "COPY import_dom FROM STDIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	r = stream(db, next, arg, file, sizeof(file), out, err, errlen);
	if ((r = cds_db_copy_end(db, r, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, dup_sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	if (PQntuples(res) > 0) {
		snprintf(err, errlen, "%s:%s: %s is also on line %s", file, PQgetvalue(res, 0, 2),
		         PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		r = CDS_EDATA;
	}
	PQclear(res);
	return r;
}

static uint64_t first_count(PGresult *res, int col)
{
	return PQntuples(res) ? strtoull(PQgetvalue(res, 0, col), NULL, 10) : 0;
}

static int merge(struct cds_db *db, struct cds_import_counts *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r;
	if ((r = cds_db_exec(db, prepare_sql, 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, "CREATE UNIQUE INDEX ON import_deleg (domain)", 0, NULL, NULL, err,
	                     errlen)) != 0 ||
	    (r = cds_db_exec(db, "ANALYZE import_deleg", 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, cds_db_merge_ds_changes, 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, upsert_sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	out->inserted = first_count(res, 0);
	out->changed = first_count(res, 1);
	PQclear(res);
	out->delegations = out->records;
	out->unchanged = out->delegations - out->inserted - out->changed;
	if ((r = cds_db_exec(db, removed_sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	out->removed = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if ((r = cds_db_exec(db, zones_sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	out->zones = first_count(res, 0);
	PQclear(res);
	return cds_db_merge_state(db, out, err, errlen);
}

int cds_db_import_domains(struct cds_db *db, cds_db_portfolio_next_cb next, void *arg,
                          struct cds_import_counts *out, char *err, size_t errlen)
{
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	if ((r = stage(db, next, arg, out, err, errlen)) != 0 ||
	    (r = merge(db, out, err, errlen)) != 0) {
		cds_db_rollback(db);
		return r;
	}
	if ((r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	cds_db_import_analyze(db, out);
	return 0;
}
