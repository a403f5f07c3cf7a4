/* The change-set outbox: claim pending change sets for an output adapter and
 * mark them sent once the adapter has them durably. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

/* Change sets of a suspended domain are held (left pending, not claimed)
 * until it is resumed: a suspension stops automation, sending included. */
static const char claim_sql[] =
	"SELECT c.id, d.domain, c.action, c.cltrid, array_to_string(c.add, ','),"
	"       array_to_string(c.rem, ','), c.kind, coalesce(c.payload::text, '{}'), c.attempts "
	"FROM change_sets c JOIN delegations d ON d.id = c.delegation_id "
	"WHERE c.state = 'pending' AND d.suspended_at IS NULL "
	"ORDER BY c.id LIMIT $1::integer "
	"FOR UPDATE OF c SKIP LOCKED";

/* "a,b,c" into l; DS texts and names hold no comma. */
static int split(const char *s, struct cds_strlist *l)
{
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, ",");
		char *item = strndup(p, len);
		int r = item ? cds_strlist_add(l, item) : CDS_ENOMEM;
		free(item);
		if (r != 0)
			return r;
		p += len + (p[len] == ',');
	}
	return 0;
}

static void free_changes(struct cds_db_changes *c)
{
	for (size_t i = 0; i < c->count; i++)
		cds_change_set_clear(&c->items[i]);
	free(c->items);
	c->items = NULL;
	c->count = 0;
}

/* One row of a change-set query into cs.  A row the store cannot have
 * written (unknown kind or action, damaged payload) is CDS_EDATA. */
static int fill_change(PGresult *res, int i, struct cds_change_set *cs)
{
	int r;
	cs->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	snprintf(cs->domain, sizeof(cs->domain), "%s", PQgetvalue(res, i, 1));
	snprintf(cs->cltrid, sizeof(cs->cltrid), "%s", PQgetvalue(res, i, 3));
	cs->attempts = atoi(PQgetvalue(res, i, 8));
	if (cds_action_parse(PQgetvalue(res, i, 2), &cs->action) != 0 ||
	    cds_kind_parse(PQgetvalue(res, i, 6), &cs->kind) != 0)
		return CDS_EDATA;
	if ((r = split(PQgetvalue(res, i, 4), &cs->add)) != 0 ||
	    (r = split(PQgetvalue(res, i, 5), &cs->rem)) != 0)
		return r;
	return cds_change_set_read_payload(cs, PQgetvalue(res, i, 7));
}

/* The rows of a change-set query into out.  A damaged row is kept with its
 * id and domain only and payload_error set, so that the sender can fail it
 * alone. */
static int fill_changes(PGresult *res, struct cds_db_changes *out)
{
	int rows = PQntuples(res);
	out->items = calloc(rows ? (size_t)rows : 1, sizeof(*out->items));
	if (!out->items)
		return CDS_ENOMEM;
	for (int i = 0; i < rows; i++) {
		struct cds_change_set *cs = &out->items[out->count++];
		int r = fill_change(res, i, cs);
		if (r == CDS_ENOMEM)
			return r;
		if (r != 0) {
			int64_t id = cs->id;
			cds_change_set_clear(cs);
			cs->id = id;
			snprintf(cs->domain, sizeof(cs->domain), "%s", PQgetvalue(res, i, 1));
			cs->damaged = true;
		}
	}
	return 0;
}

int cds_db_changes_claim(struct cds_db *db, size_t max, struct cds_db_changes *out, char *err,
			 size_t errlen)
{
	PGresult *res = NULL;
	char max_txt[16];
	const char *params[1] = {max_txt};
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(max_txt, sizeof(max_txt), "%zu", max);
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0 ||
	    (r = cds_db_exec(db, claim_sql, 1, params, &res, err, errlen)) != 0) {
		cds_db_rollback(db);
		return r;
	}
	r = fill_changes(res, out);
	PQclear(res);
	if (r != 0)
		cds_db_changes_abort(db, out);
	return r;
}

/* Run an UPDATE of one change set: $1 its id, $2 text when given. */
static int update_one(struct cds_db *db, int64_t id, const char *sql, const char *text,
		      char *err, size_t errlen)
{
	char id_txt[32];
	snprintf(id_txt, sizeof(id_txt), "%lld", (long long)id);
	const char *params[2] = {id_txt, text};
	return cds_db_exec(db, sql, text ? 2 : 1, params, NULL, err, errlen);
}

int cds_db_change_sent(struct cds_db *db, int64_t id, char *err, size_t errlen)
{
	return update_one(db, id,
			  "UPDATE change_sets SET state = 'sent', attempts = attempts + 1,"
			  " updated_at = now() WHERE id = $1::bigint",
			  NULL, err, errlen);
}

/* epp-tls: the pending change sets after id, without a lock or an open
 * transaction (the sender holds the advisory lock; each step commits on
 * its own, so that an attempt is on record before its command is sent). */
static const char list_sql[] =
	"SELECT c.id, d.domain, c.action, c.cltrid, array_to_string(c.add, ','),"
	"       array_to_string(c.rem, ','), c.kind, coalesce(c.payload::text, '{}'), c.attempts "
	"FROM change_sets c JOIN delegations d ON d.id = c.delegation_id "
	"WHERE c.state = 'pending' AND d.suspended_at IS NULL AND c.id > $2::bigint "
	"ORDER BY c.id LIMIT $1::integer";

int cds_db_changes_list(struct cds_db *db, size_t max, int64_t after, struct cds_db_changes *out,
			char *err, size_t errlen)
{
	PGresult *res = NULL;
	char max_txt[16], after_txt[32];
	const char *params[2] = {max_txt, after_txt};
	memset(out, 0, sizeof(*out));
	snprintf(max_txt, sizeof(max_txt), "%zu", max);
	snprintf(after_txt, sizeof(after_txt), "%lld", (long long)after);
	int r = cds_db_exec(db, list_sql, 2, params, &res, err, errlen);
	if (r != 0)
		return r;
	r = fill_changes(res, out);
	PQclear(res);
	return r;
}

void cds_db_changes_free(struct cds_db_changes *c)
{
	free_changes(c);
}

int cds_db_change_attempt(struct cds_db *db, int64_t id, char *err, size_t errlen)
{
	return update_one(db, id,
			  "UPDATE change_sets SET attempts = attempts + 1, updated_at = now()"
			  " WHERE id = $1::bigint",
			  NULL, err, errlen);
}

int cds_db_change_done(struct cds_db *db, int64_t id, const char *svtrid, char *err,
		       size_t errlen)
{
	/* The change-applied notice (sql/0007_notifications.sql) in the same
	 * statement: once, when the change set becomes done (a second done of
	 * the same change set, after a lost answer, adds none).  The state
	 * before comes from a locked read in the UPDATE's own FROM: a
	 * separate WITH reading the row would run after the update and not
	 * see it (a row updated by the same statement is skipped). */
	return update_one(db, id,
			  "WITH u AS (UPDATE change_sets c SET state = 'done', svtrid = $2,"
			  "       last_error = NULL, updated_at = now()"
			  "       FROM (SELECT id, state FROM change_sets WHERE id = $1::bigint"
			  "             FOR UPDATE) o WHERE c.id = o.id"
			  "       RETURNING c.id, c.delegation_id, c.scan_result_id, c.kind, c.action,"
			  "                 c.add, c.rem, o.state AS was)"
			  " INSERT INTO notices (delegation_id, event, payload)"
			  " SELECT u.delegation_id, 'change-applied', jsonb_build_object("
			  "   'change_set', u.id, 'kind', u.kind, 'action', u.action,"
			  "   'add', to_jsonb(u.add), 'rem', to_jsonb(u.rem), 'svtrid', $2::text,"
			  "   'verdict', (SELECT " CDS_DB_VERDICT("s") " FROM scan_results s"
			  "               WHERE s.id = u.scan_result_id))"
			  " FROM u WHERE u.was <> 'done'",
			  svtrid, err, errlen);
}

int cds_db_try_lock(struct cds_db *db, const char *name, bool *got, char *err, size_t errlen)
{
	PGresult *res = NULL;
	const char *params[1] = {name};
	int r = cds_db_exec(db, "SELECT pg_try_advisory_lock(hashtext($1))", 1, params, &res, err,
			    errlen);
	if (r != 0)
		return r;
	*got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return 0;
}

int cds_db_change_failed(struct cds_db *db, int64_t id, const char *why, char *err, size_t errlen)
{
	return update_one(db, id,
			  "UPDATE change_sets SET state = 'failed', attempts = attempts + 1,"
			  " last_error = $2, updated_at = now() WHERE id = $1::bigint",
			  why, err, errlen);
}

int cds_db_changes_commit(struct cds_db *db, struct cds_db_changes *c, char *err, size_t errlen)
{
	free_changes(c);
	return cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen);
}

void cds_db_changes_abort(struct cds_db *db, struct cds_db_changes *c)
{
	free_changes(c);
	cds_db_rollback(db);
}

int cds_db_count_pending(struct cds_db *db, enum cds_kind kind, uint64_t *out, char *err,
			 size_t errlen)
{
	PGresult *res = NULL;
	const char *p[1] = {cds_kind_name(kind)};
	int r = cds_db_exec(db,
			    "SELECT count(*) FROM change_sets WHERE state = 'pending' AND kind = $1",
			    1, p, &res, err, errlen);
	if (r != 0)
		return r;
	*out = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
