/* What the daemon's HTTP endpoint reads from the store at each request:
 * the gauges of a metrics scrape and the health check's trivial query. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

/* The delegations in their parent zone; of those, the due ones (as
 * cds_db_claim sees them) and how long the oldest has waited, and the
 * suspended ones.  One pass over the table: a scrape every 15 s of a
 * registry's million rows costs a sequential scan, which a partial index
 * would not save (most rows are counted). */
static const char delegations_sql[] = "SELECT count(*),"
				      "       count(*) FILTER (WHERE " CDS_DB_DUE("") "),"
				      "       coalesce(extract(epoch FROM now() - min(" CDS_DB_NEXT_SCAN("") ")"
				      "                FILTER (WHERE " CDS_DB_DUE("") ")), 0),"
				      "       count(*) FILTER (WHERE suspended_at IS NOT NULL)"
				      "  FROM delegations WHERE removed_at IS NULL";

/* Every value of the change_state type, in the schema's order, with its
 * change sets (0 for a state none is in): the states come from the schema,
 * so a state a migration adds is reported without a change here. */
static const char states_sql[] =
	"SELECT e.s::text, count(c.id)"
	"  FROM unnest(enum_range(NULL::change_state)) WITH ORDINALITY AS e (s, n)"
	"  LEFT JOIN change_sets c ON c.state = e.s GROUP BY e.s, e.n ORDER BY e.n";

static uint64_t u64(const PGresult *res, int row, int col)
{
	return strtoull(PQgetvalue(res, row, col), NULL, 10);
}

int cds_db_gauges_read(struct cds_db *db, struct cds_db_gauges *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	memset(out, 0, sizeof(*out));
	int r = cds_db_exec(db, delegations_sql, 0, NULL, &res, err, errlen);
	if (r != 0)
		return r;
	out->delegations = u64(res, 0, 0);
	out->due = u64(res, 0, 1);
	out->oldest_due_s = strtod(PQgetvalue(res, 0, 2), NULL);
	out->suspended = u64(res, 0, 3);
	PQclear(res);
	if ((r = cds_db_exec(db, states_sql, 0, NULL, &res, err, errlen)) != 0)
		return r;
	/* More states than fit cannot be: cds_db_migrate refuses a schema
	 * newer than this binary's, and its schema has four. */
	for (int i = 0; i < PQntuples(res) && out->state_count < CDS_DB_MAX_STATES; i++) {
		snprintf(out->states[out->state_count].name, sizeof(out->states[0].name), "%s",
			 PQgetvalue(res, i, 0));
		out->states[out->state_count++].count = u64(res, i, 1);
	}
	PQclear(res);
	return 0;
}

int cds_db_ping(struct cds_db *db, char *err, size_t errlen)
{
	return cds_db_exec(db, "SELECT 1", 0, NULL, NULL, err, errlen);
}
