/* Import of a parent zone's delegations: the zone reader streams NS, DS, A
 * and AAAA records into a staging table by COPY, and SQL merges them set-based
 * in the same transaction, so memory stays flat and nothing is half-applied. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/zone.h"
#include "db_internal.h"

/* The delegations of the file: owners below the apex with NS records, their
 * sorted NS and DS sets, and glue for in-bailiwick NS names. */
static const char merge_prepare[] =
	"CREATE TEMP TABLE import_deleg ON COMMIT DROP AS "
	"WITH d AS ("
	"  SELECT owner AS domain,"
	"         array_agg(DISTINCT data ORDER BY data) FILTER (WHERE type = 2) AS ns,"
	"         coalesce(array_agg(DISTINCT data ORDER BY data) FILTER (WHERE type = 43),"
	"                  '{}') AS ds"
	"  FROM import_rr"
	"  WHERE type IN (2, 43) AND owner <> $1"
	"    AND ($1 = '.' OR right(owner, length($1) + 1) = '.' || $1)"
	"  GROUP BY owner HAVING bool_or(type = 2)"
	"), g AS ("
	"  SELECT d.domain, n.name, array_agg(DISTINCT r.data ORDER BY r.data) AS addrs"
	"  FROM d CROSS JOIN LATERAL unnest(d.ns) AS n(name)"
	"  JOIN import_rr r ON r.owner = n.name AND r.type IN (1, 28)"
	"  WHERE n.name = d.domain OR right(n.name, length(d.domain) + 1) = '.' || d.domain"
	"  GROUP BY d.domain, n.name"
	"), gj AS ("
	"  SELECT domain, jsonb_object_agg(name, to_jsonb(addrs)) AS glue FROM g GROUP BY domain"
	") "
	"SELECT d.domain, d.ns, d.ds, coalesce(gj.glue, '{}'::jsonb) AS glue "
	"FROM d LEFT JOIN gj USING (domain)";

/* Insert new delegations, update changed ones (and note when the parent's
 * DS or NS changed, for replay protection); unchanged rows are not touched.
 * A first import knows no change time: NULL, not now(), or every signal
 * signed before the import would look stale. */
static const char merge_upsert[] =
	"WITH up AS ("
	"  INSERT INTO delegations AS t (domain, zone, ns, ds, glue, source)"
	"  SELECT domain, $1, ns, ds, glue, 'zone' FROM import_deleg "
	"  ON CONFLICT (domain) DO UPDATE SET"
	"    zone = EXCLUDED.zone, ns = EXCLUDED.ns, ds = EXCLUDED.ds, glue = EXCLUDED.glue,"
	"    source = 'zone',"
	"    removed_at = NULL, updated_at = now(),"
	"    ds_changed_at = CASE WHEN t.ds IS DISTINCT FROM EXCLUDED.ds"
	"                         THEN now() ELSE t.ds_changed_at END,"
	"    ns_changed_at = CASE WHEN t.ns IS DISTINCT FROM EXCLUDED.ns"
	"                           OR t.glue IS DISTINCT FROM EXCLUDED.glue"
	"                         THEN now() ELSE t.ns_changed_at END"
	"  WHERE t.ns IS DISTINCT FROM EXCLUDED.ns OR t.ds IS DISTINCT FROM EXCLUDED.ds"
	"     OR t.glue IS DISTINCT FROM EXCLUDED.glue OR t.removed_at IS NOT NULL"
	"     OR t.zone IS DISTINCT FROM EXCLUDED.zone OR t.source <> 'zone'"
	"  RETURNING (xmax = 0) AS inserted"
	") "
	"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),"
	"       (SELECT count(*) FROM import_deleg) FROM up";

/*
 * The DS sets the file changes, before the merge: for each, whether cdscan
 * made the change.  It did when its newest DS change set that has not
 * failed (pending, sent or done) proposed exactly the new set (compared as
 * sorted upper-case texts), or was a delete and the set is now empty.  A
 * change cdscan made keeps the replay baseline the change set set (the
 * inception of the signal it acted on, RFC 7344 §6.2); any other moves it
 * to now, so that no signal signed before this import is acted on; a DS
 * set removed that way suspends the domain: going insecure behind cdscan's
 * back is for an operator to look at before automation acts again.
 */
const char cds_db_merge_ds_changes[] =
	"CREATE TEMP TABLE import_ds_change ON COMMIT DROP AS "
	"SELECT d.id, d.ds AS old_ds, i.ds AS new_ds, c.id AS change_set,"
	"       coalesce(c.caused, false) AS cdscan "
	"FROM import_deleg i JOIN delegations d ON d.domain = i.domain "
	"LEFT JOIN LATERAL ("
	"  SELECT cs.id, (ARRAY(SELECT upper(x) FROM jsonb_array_elements_text("
	"                   coalesce(cs.payload->'proposed', '[]')) AS x ORDER BY 1))"
	"                 = (ARRAY(SELECT upper(x) FROM unnest(i.ds) AS x ORDER BY 1))"
	"             OR (cs.action = 'delete' AND cardinality(i.ds) = 0) AS caused"
	"  FROM change_sets cs WHERE cs.delegation_id = d.id AND cs.kind = 'ds'"
	"    AND cs.state IN ('pending', 'sent', 'done')"
	"  ORDER BY cs.id DESC LIMIT 1) c ON true "
	"WHERE d.ds IS DISTINCT FROM i.ds";

/* After the merge (cds_db_merge_state): the baseline of changes made
 * outside cdscan, and an event for every change, saying which it was. */
static const char merge_baseline[] =
	"WITH b AS (UPDATE delegations d SET signal_baseline = now()"
	"           FROM import_ds_change c WHERE d.id = c.id AND NOT c.cdscan RETURNING d.id) "
	"INSERT INTO domain_events (delegation_id, event, actor, reason) "
	"SELECT c.id, 'ds-changed', 'import', CASE WHEN c.cdscan"
	"  THEN 'the DS set changed as change set ' || c.change_set || ' proposed: replay baseline"
	" kept'"
	"  ELSE 'the DS set changed outside cdscan (' || coalesce(nullif(array_to_string("
	"    c.old_ds, ', '), ''), 'none') || ' -> ' || coalesce(nullif(array_to_string(c.new_ds,"
	"    ', '), ''), 'none') || '): replay baseline set to the import time' END "
	"FROM import_ds_change c";

static const char merge_suspend[] =
	"WITH s AS (UPDATE delegations d SET suspended_at = now(), suspended_by = 'import',"
	"             suspended_reason = 'the DS set was removed outside cdscan (seen by import"
	" at ' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || ')',"
	"             updated_at = now()"
	"           FROM import_ds_change c WHERE d.id = c.id AND NOT c.cdscan"
	"             AND cardinality(c.old_ds) > 0 AND cardinality(c.new_ds) = 0"
	"             AND d.suspended_at IS NULL"
	"           RETURNING d.id, d.domain, d.suspended_reason),"
	" e AS (INSERT INTO domain_events (delegation_id, event, actor, reason)"
	"       SELECT id, 'suspend', 'import', suspended_reason FROM s) "
	"SELECT domain FROM s ORDER BY domain";

/* Delegations of this zone that the file no longer has: marked, not deleted
 * (their history stays, and a return is an update). */
static const char merge_removed[] =
	"UPDATE delegations SET removed_at = now(), updated_at = now() "
	"WHERE zone = $1 AND removed_at IS NULL "
	"  AND NOT EXISTS (SELECT 1 FROM import_deleg i WHERE i.domain = delegations.domain)";

int cds_db_copy_flush(struct cds_db_copy *b)
{
	if (b->len && PQputCopyData(b->conn, b->data, (int)b->len) != 1)
		return CDS_EUNAVAIL;
	b->len = 0;
	return 0;
}

int cds_db_copy_put(struct cds_db_copy *b, const char *p, size_t n)
{
	while (n > 0) {
		if (b->len == sizeof(b->data) && cds_db_copy_flush(b) != 0)
			return CDS_EUNAVAIL;
		size_t k = sizeof(b->data) - b->len < n ? sizeof(b->data) - b->len : n;
		memcpy(b->data + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

int cds_db_copy_end(struct cds_db *db, int r, char *err, size_t errlen)
{
	PGresult *res;
	/* End the COPY either way; with an error message it aborts. */
	if (PQputCopyEnd(db->conn, r == 0 ? NULL : "import aborted") != 1 && r == 0) {
		snprintf(err, errlen, "database error ending COPY (%s)", cds_db_error_text(db->conn));
		r = CDS_EUNAVAIL;
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (r == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "database error in COPY (%s)",
				 PQresultErrorMessage(res));
			r = CDS_EUNAVAIL;
		}
		PQclear(res);
	}
	return r;
}

/* One staging row in COPY text format.  The fields are normalised names,
 * DS text and addresses: no tab, newline or backslash to escape. */
static int copy_row(struct cds_db_copy *b, const char *owner, unsigned type, const char *data)
{
	char row[1024];
	int n = snprintf(row, sizeof(row), "%s\t%u\t%s\n", owner, type, data);
	if (n < 0 || (size_t)n >= sizeof(row))
		return CDS_EDATA;
	if (b->len + (size_t)n > sizeof(b->data) && cds_db_copy_flush(b) != 0)
		return CDS_EUNAVAIL;
	memcpy(b->data + b->len, row, (size_t)n);
	b->len += (size_t)n;
	return 0;
}

/* Stream the file into the COPY.  Returns 0, CDS_EDATA or CDS_EUNAVAIL. */
static int stream_zone(struct cds_db *db, const char *path, const char *origin,
		       struct cds_import_counts *out, char *err, size_t errlen)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	struct cds_db_copy *b = malloc(sizeof(*b));
	int r;

	if (!b)
		return CDS_ENOMEM;
	b->conn = db->conn;
	b->len = 0;
	if ((r = cds_zone_open(path, origin, &z, err, errlen)) != 0) {
		free(b);
		return r;
	}
	if (origin)
		snprintf(out->zone, sizeof(out->zone), "%s", origin);
	while ((r = cds_zone_next(z, &rr, err, errlen)) == 1) {
		char data[CDS_DS_TEXT_MAX + CDS_DNAME_BUFSIZE];
		switch (rr.type) {
		case CDS_T_SOA:
			/* The first SOA names the parent zone, unless --origin did. */
			if (!out->zone[0])
				snprintf(out->zone, sizeof(out->zone), "%s", rr.owner);
			continue;
		case CDS_T_NS:
			snprintf(data, sizeof(data), "%s", rr.target);
			break;
		case CDS_T_DS:
			cds_ds_format(&rr.ds, data);
			break;
		case CDS_T_A:
		case CDS_T_AAAA:
			cds_addr_format(&rr.addr, data, sizeof(data));
			break;
		default:
			continue;
		}
		out->records++;
		if ((r = copy_row(b, rr.owner, rr.type, data)) != 0) {
			if (r == CDS_EDATA)
				snprintf(err, errlen, "%s:%u: record too long", rr.file, rr.line);
			else
				snprintf(err, errlen, "database error during COPY (%s)",
					 cds_db_error_text(db->conn));
			break;
		}
	}
	cds_zone_close(z);
	if (r == 0 && (r = cds_db_copy_flush(b)) != 0)
		snprintf(err, errlen, "database error during COPY (%s)", cds_db_error_text(db->conn));
	free(b);
	if (r == 0 && !out->zone[0]) {
		snprintf(err, errlen, "%s: no SOA record: give the parent zone with --origin", path);
		r = CDS_EDATA;
	}
	return r;
}

/* The file into the staging table import_rr, by COPY. */
static int stage(struct cds_db *db, const char *path, const char *origin,
		 struct cds_import_counts *out, char *err, size_t errlen)
{
	int r;
	if ((r = cds_db_exec(db,
			     "CREATE TEMP TABLE import_rr (owner text NOT NULL,"
			     " type smallint NOT NULL, data text NOT NULL) ON COMMIT DROP",
			     0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, "COPY import_rr (owner, type, data) FROM STDIN", 0, NULL, NULL,
			     err, errlen)) != 0)
		return r;
	r = stream_zone(db, path, origin, out, err, errlen);
	return cds_db_copy_end(db, r, err, errlen);
}

/* A count in column col of a one-row result (0 without a row). */
static uint64_t count_of(PGresult *res, int col)
{
	return PQntuples(res) ? strtoull(PQgetvalue(res, 0, col), NULL, 10) : 0;
}

/* The replay baselines, events and suspensions of the DS changes
 * (merge_ds_changes), each suspended domain named in the log. */
int cds_db_merge_state(struct cds_db *db, struct cds_import_counts *out, char *err,
		       size_t errlen)
{
	PGresult *res = NULL;
	int r;
	if ((r = cds_db_exec(db, merge_baseline, 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db,
			     "SELECT count(*) FILTER (WHERE NOT cdscan), count(*) FILTER (WHERE cdscan)"
			     " FROM import_ds_change",
			     0, NULL, &res, err, errlen)) != 0)
		return r;
	out->ds_outside = count_of(res, 0);
	out->ds_cdscan = count_of(res, 1);
	PQclear(res);
	if ((r = cds_db_exec(db, merge_suspend, 0, NULL, &res, err, errlen)) != 0)
		return r;
	out->suspended = (uint64_t)PQntuples(res);
	for (int i = 0; i < PQntuples(res) && i < 20; i++)
		cds_log_warning("import: %s suspended: its DS set was removed outside cdscan"
				" (cdscan domain resume %s, once that is understood)",
				PQgetvalue(res, i, 0), PQgetvalue(res, i, 0));
	if (PQntuples(res) > 20)
		cds_log_warning("import: %d more domains suspended the same way (cdscan domain show)",
				PQntuples(res) - 20);
	PQclear(res);
	return 0;
}

/* Merge import_rr into the delegations (import_deleg: the file's). */
static int merge(struct cds_db *db, struct cds_import_counts *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	const char *zone[1] = {out->zone};
	int r;
	if ((r = cds_db_exec(db, "CREATE INDEX ON import_rr (owner)", 0, NULL, NULL, err,
			     errlen)) != 0 ||
	    (r = cds_db_exec(db, "ANALYZE import_rr", 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, merge_prepare, 1, zone, NULL, err, errlen)) != 0 ||
	    /* Without an index and statistics the anti-join that marks removed
	     * delegations ran as a nested loop: 3.5 s of a 4 s import of
	     * 10,000 delegations. */
	    (r = cds_db_exec(db, "CREATE UNIQUE INDEX ON import_deleg (domain)", 0, NULL, NULL,
			     err, errlen)) != 0 ||
	    (r = cds_db_exec(db, "ANALYZE import_deleg", 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, cds_db_merge_ds_changes, 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, merge_upsert, 1, zone, &res, err, errlen)) != 0)
		return r;
	out->inserted = count_of(res, 0);
	out->changed = count_of(res, 1);
	PQclear(res);
	/* "SELECT count(*) ... FROM up" has no row count when up is empty:
	 * take the total separately. */
	if ((r = cds_db_exec(db, "SELECT count(*) FROM import_deleg", 0, NULL, &res, err,
			     errlen)) != 0)
		return r;
	out->delegations = count_of(res, 0);
	PQclear(res);
	if ((r = cds_db_exec(db, merge_removed, 1, zone, &res, err, errlen)) != 0)
		return r;
	out->removed = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	out->unchanged = out->delegations - out->inserted - out->changed;
	/* 0005_zone_imports.sql: a done change set waits for this. */
	if ((r = cds_db_exec(db,
			     "INSERT INTO zone_imports (zone, imported_at) VALUES ($1, now())"
			     " ON CONFLICT (zone) DO UPDATE SET imported_at = now()",
			     1, zone, NULL, err, errlen)) != 0)
		return r;
	return cds_db_merge_state(db, out, err, errlen);
}

/*
 * Fresh statistics for the claims, once an import has inserted, changed or
 * removed delegations.  Without them (a table filled a moment ago, before
 * autovacuum's next look) the planner took each claim's due rows through a
 * bitmap scan of delegations_next_scan and sorted them all: 129 ms a claim
 * of 2,000 at 200,000 delegations against 2.9 ms by the primary key with
 * statistics, and a scan claims batch after batch, so the first scan after
 * a large import grew with the square of the table (100 claims: 16.6 s
 * against 5.9 s).  ANALYZE reads a fixed-size sample (0.2 s at 200,000
 * rows) and takes no lock that scanners wait for.  It runs after the
 * import's commit: its failure is logged and undoes nothing.
 */
void cds_db_import_analyze(struct cds_db *db, const struct cds_import_counts *c)
{
	if (c->inserted + c->changed + c->removed == 0)
		return;
	char err[512];
	if (cds_db_exec(db, "ANALYZE delegations", 0, NULL, NULL, err, sizeof(err)) != 0)
		cds_log_warning("import: ANALYZE delegations: %s (the next claims plan without"
				" fresh statistics until autovacuum analyzes the table)",
				err);
}

int cds_db_import_zone(struct cds_db *db, const char *path, const char *origin,
		       struct cds_import_counts *out, char *err, size_t errlen)
{
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	if ((r = stage(db, path, origin, out, err, errlen)) != 0 ||
	    (r = merge(db, out, err, errlen)) != 0) {
		cds_db_rollback(db);
		return r;
	}
	if ((r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	cds_db_import_analyze(db, out);
	return 0;
}
