/* One domain's state for operators (`cdscan domain ...`): what the store
 * knows of it, its history, and the commands that change its automation:
 * suspend, resume, approve a CSYNC.  Every change is recorded with who and
 * why in domain_events. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

#define TS(x) "coalesce(" CDS_DB_TIME(x) ", '')"

/* A verdict's actions and reasons in one line (scan_results row s). */
#define VERDICT_TEXT(s)                                                                    \
	"'DS ' || " s ".ds_action || ' (' || array_to_string(ARRAY(SELECT"                     \
	" jsonb_array_elements_text(" CDS_DB_VERDICT(s) "->'ds'->'reasons')), ', ') || '),"      \
	" NS ' || "                                                                            \
	s ".ns_action || ' (' || array_to_string(ARRAY(SELECT"                                  \
	" jsonb_array_elements_text(" CDS_DB_VERDICT(s) "->'ns'->'reasons')), ', ') || ')'"

/* A change set in one line (change_sets row c). */
#define CHANGE_TEXT(c)                                                                     \
	"'#' || " c ".id || ' ' || " c ".kind || ' ' || " c ".action || ': ' || " c ".state"   \
	" || coalesce(' (add ' || nullif(array_to_string(" c ".add, ', '), '') || ')', '')"     \
	" || coalesce(' (remove ' || nullif(array_to_string(" c ".rem, ', '), '') || ')', '')"  \
	" || CASE WHEN " c ".attempts > 0 THEN ', ' || " c ".attempts || ' attempts' ELSE ''"  \
	" END || coalesce(', last error: ' || " c ".last_error, '')"

const char *cds_db_actor_name(enum cds_db_actor a)
{
	static const char *const names[CDS_ACTOR_COUNT] = {"operator", "import", "registry",
							   "scan"};
	return (unsigned)a < CDS_ACTOR_COUNT ? names[a] : "?";
}

void cds_db_domain_clear(struct cds_db_domain *d)
{
	if (!d)
		return;
	struct cds_strlist *lists[] = {&d->ns,      &d->ds,       &d->glue,    &d->failing,
				       &d->excluded, &d->verdicts, &d->changes};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		cds_strlist_clear(lists[i]);
	memset(d, 0, sizeof(*d));
}

/* Each row's first column of a query with parameters p[0..np) into l, in
 * the query's order. */
static int rows_into(struct cds_db *db, const char *sql, int np, const char *const *p,
		     struct cds_strlist *l, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r = cds_db_exec(db, sql, np, p, &res, err, errlen);
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = cds_strlist_push(l, PQgetvalue(res, i, 0));
	PQclear(res);
	return r;
}

/* "a<sep>b<sep>c" into l. */
static int split_into(const char *s, char sep, struct cds_strlist *l)
{
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, (char[]){sep, '\0'});
		char *item = strndup(p, n);
		int r = item ? cds_strlist_push(l, item) : CDS_ENOMEM;
		free(item);
		if (r != 0)
			return r;
		p += n + (p[n] == sep);
	}
	return 0;
}

static const char domain_sql[] =
	"SELECT id, domain, zone, array_to_string(ns, ' '), array_to_string(ds, ','),"
	" " TS("removed_at") ", " TS("signal_baseline") ", " TS("ds_changed_at") ","
	" opted_out, suspended_at IS NOT NULL, " TS("suspended_at") ","
	" coalesce(suspended_by, ''), coalesce(suspended_reason, ''),"
	" coalesce(csync_approved_serial, -1), " TS(CDS_DB_NEXT_SCAN("")) ", " CDS_DB_DUE("") ","
	" consecutive_failures FROM delegations WHERE domain = $1";

/* The delegations row of domain_sql into out. */
static int fill_domain(PGresult *res, struct cds_db_domain *out)
{
	const char *v;
#define COPY(field, col) snprintf(out->field, sizeof(out->field), "%s", PQgetvalue(res, 0, col))
	out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	COPY(domain, 1);
	COPY(zone, 2);
	COPY(removed_at, 5);
	COPY(baseline, 6);
	COPY(ds_changed_at, 7);
	out->opted_out = PQgetvalue(res, 0, 8)[0] == 't';
	out->suspended = PQgetvalue(res, 0, 9)[0] == 't';
	COPY(suspended_at, 10);
	COPY(suspended_by, 11);
	COPY(suspended_reason, 12);
	v = PQgetvalue(res, 0, 13);
	out->csync_approved = v[0] != '-';
	out->csync_approved_serial = out->csync_approved ? (uint32_t)strtoul(v, NULL, 10) : 0;
	COPY(next_scan_at, 14);
	out->due = PQgetvalue(res, 0, 15)[0] == 't';
	out->failures = atoi(PQgetvalue(res, 0, 16));
#undef COPY
	int r = split_into(PQgetvalue(res, 0, 3), ' ', &out->ns);
	return r ? r : split_into(PQgetvalue(res, 0, 4), ',', &out->ds);
}

/* The lists of `domain show`: glue, failing and excluded addresses, the
 * newest verdicts, the open change sets.  $1: the id; the excluded
 * addresses also $2: unreachable-after. */
static const struct {
	const char *sql;
	int np;
} list_sql[] = {
	{"SELECT g.key || ' ' || a FROM delegations d, jsonb_each(d.glue) g,"
	" jsonb_array_elements_text(g.value) a WHERE d.id = $1::bigint"
	" ORDER BY g.key, a", 1},
	{"SELECT f.ns_name || ' ' || CASE WHEN f.address = '' THEN '(no address)' ELSE f.address"
	" END || ': failing since ' || " TS("f.first_failed_at") " || ', ' || f.failures ||"
	" ' scans' || coalesce(' (' || f.last_error || ')', '') FROM server_failures f"
	" WHERE f.delegation_id = $1::bigint ORDER BY f.ns_name, f.address", 1},
	{"SELECT f.ns_name || ' ' || f.address FROM server_failures f"
	" WHERE f.delegation_id = $1::bigint AND " CDS_DB_EXCLUDED("f", "$2")
	" ORDER BY f.ns_name, f.address", 2},
	{"SELECT " TS("s.scanned_at") " || CASE WHEN s.dry_run THEN ' (dry run)' ELSE '' END"
	" || ': ' || " VERDICT_TEXT("s") " FROM scan_results s WHERE s.delegation_id = $1::bigint"
	" ORDER BY s.scanned_at DESC, s.id DESC LIMIT 3", 1},
	{"SELECT " CHANGE_TEXT("c") " || ', created ' || " TS("c.created_at") " FROM change_sets c"
	" WHERE c.delegation_id = $1::bigint AND c.state IN ('pending', 'sent')"
	" ORDER BY c.id", 1},
};

int cds_db_domain_get(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
		      struct cds_db_domain *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	const char *p[1] = {name};
	memset(out, 0, sizeof(*out));
	int r = cds_db_exec(db, domain_sql, 1, p, &res, err, errlen);
	if (r != 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return CDS_ENOENT;
	}
	r = fill_domain(res, out);
	PQclear(res);
	char id[32], unreach[32];
	snprintf(id, sizeof(id), "%lld", (long long)out->id);
	snprintf(unreach, sizeof(unreach), "%llu", (unsigned long long)unreachable_after_s);
	const char *lp[2] = {id, unreach};
	struct cds_strlist *lists[] = {&out->glue, &out->failing, &out->excluded, &out->verdicts,
				       &out->changes};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && r == 0; i++)
		r = rows_into(db, list_sql[i].sql, list_sql[i].np, lp, lists[i], err, errlen);
	return r;
}

/* The same as one JSON document.  $1: the domain, $2: unreachable-after. */
static const char domain_json_sql[] =
	"SELECT jsonb_pretty(jsonb_build_object("
	" 'domain', d.domain, 'zone', d.zone, 'ns', to_jsonb(d.ns), 'ds', to_jsonb(d.ds),"
	" 'glue', d.glue, 'removed_at', " CDS_DB_TIME("d.removed_at") ","
	" 'replay_baseline', " CDS_DB_TIME("d.signal_baseline") ","
	" 'ds_changed_at', " CDS_DB_TIME("d.ds_changed_at") ", 'opted_out', d.opted_out,"
	" 'suspension', CASE WHEN d.suspended_at IS NOT NULL THEN jsonb_build_object("
	"   'since', " CDS_DB_TIME("d.suspended_at") ", 'by', d.suspended_by,"
	"   'reason', d.suspended_reason) END,"
	" 'csync_approved_serial', d.csync_approved_serial,"
	" 'next_scan_at', " CDS_DB_TIME(CDS_DB_NEXT_SCAN("d.")) ","
	" 'consecutive_failures', d.consecutive_failures,"
	" 'failing', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', f.ns_name,"
	"   'address', f.address, 'since', " CDS_DB_TIME("f.first_failed_at") ","
	"   'last', " CDS_DB_TIME("f.last_failed_at") ", 'failures', f.failures,"
	"   'error', f.last_error, 'excluded', " CDS_DB_EXCLUDED("f", "$2") ")"
	"   ORDER BY f.ns_name, f.address), '[]') FROM server_failures f"
	"   WHERE f.delegation_id = d.id),"
	" 'verdicts', (SELECT coalesce(jsonb_agg(jsonb_build_object('scanned_at',"
	"   " CDS_DB_TIME("s.scanned_at") ", 'dry_run', s.dry_run, 'verdict', " CDS_DB_VERDICT("s") ")"
	"   ORDER BY s.scanned_at DESC, s.id DESC), '[]') FROM (SELECT * FROM scan_results"
	"   WHERE delegation_id = d.id ORDER BY scanned_at DESC, id DESC LIMIT 3) s),"
	" 'change_sets', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'kind',"
	"   c.kind, 'action', c.action, 'state', c.state, 'add', to_jsonb(c.add), 'rem',"
	"   to_jsonb(c.rem), 'attempts', c.attempts, 'last_error', c.last_error, 'cltrid',"
	"   c.cltrid, 'created_at', " CDS_DB_TIME("c.created_at") ") ORDER BY c.id), '[]')"
	"   FROM change_sets c WHERE c.delegation_id = d.id AND c.state IN ('pending', 'sent'))"
	")) FROM delegations d WHERE d.domain = $1";

/* The single text of a one-row, one-column result into *json. */
static int json_of(struct cds_db *db, const char *sql, int np, const char *const *p,
		   char **json, char *err, size_t errlen)
{
	PGresult *res = NULL;
	*json = NULL;
	int r = cds_db_exec(db, sql, np, p, &res, err, errlen);
	if (r != 0)
		return r;
	if (PQntuples(res) == 0)
		r = CDS_ENOENT;
	else if (!(*json = strdup(PQgetvalue(res, 0, 0))))
		r = CDS_ENOMEM;
	PQclear(res);
	return r;
}

int cds_db_domain_json(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
		       char **json, char *err, size_t errlen)
{
	char unreach[32];
	snprintf(unreach, sizeof(unreach), "%llu", (unsigned long long)unreachable_after_s);
	const char *p[2] = {name, unreach};
	return json_of(db, domain_json_sql, 2, p, json, err, errlen);
}

/* The domain's state for its holder and DNS operator (the daemon's
 * /status/DOMAIN): what the parent holds, the last verdicts as the
 * nameservers answered them, the last change sets, failing addresses.
 * Nothing internal: no database id, clTRID, attempt count, registry or
 * operator message, replay baseline; a suspension says by whom (operator,
 * import, registry) and, when the registry's lock is the cause, which.
 * $1: the domain, $2: unreachable-after, $3: how many verdicts and change
 * sets. */
static const char domain_public_sql[] =
	"SELECT jsonb_pretty(jsonb_build_object("
	" 'domain', d.domain, 'zone', d.zone, 'ns', to_jsonb(d.ns), 'ds', to_jsonb(d.ds),"
	" 'glue', d.glue, 'removed', d.removed_at IS NOT NULL,"
	" 'automation', CASE WHEN d.opted_out THEN 'opted out'"
	"   WHEN d.suspended_at IS NOT NULL THEN 'suspended' ELSE 'on' END,"
	" 'suspension', CASE WHEN d.suspended_at IS NOT NULL THEN jsonb_build_object("
	"   'since', " CDS_DB_TIME("d.suspended_at") ", 'by', d.suspended_by,"
	"   'registry_status', CASE WHEN d.suspended_by = 'registry' THEN d.suspended_reason END)"
	"   END,"
	" 'registry_status', to_jsonb(d.registry_status),"
	" 'next_scan_at', " CDS_DB_TIME(CDS_DB_NEXT_SCAN("d.")) ","
	" 'consecutive_failures', d.consecutive_failures,"
	" 'failing', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', f.ns_name,"
	"   'address', f.address, 'since', " CDS_DB_TIME("f.first_failed_at") ","
	"   'failures', f.failures, 'error', f.last_error,"
	"   'excluded', " CDS_DB_EXCLUDED("f", "$2") ") ORDER BY f.ns_name, f.address), '[]')"
	"   FROM server_failures f WHERE f.delegation_id = d.id),"
	" 'verdicts', (SELECT coalesce(jsonb_agg(jsonb_build_object('scanned_at',"
	"   " CDS_DB_TIME("s.scanned_at") ", 'dry_run', s.dry_run, 'verdict', " CDS_DB_VERDICT("s") ")"
	"   ORDER BY s.scanned_at DESC, s.id DESC), '[]') FROM (SELECT * FROM scan_results"
	"   WHERE delegation_id = d.id ORDER BY scanned_at DESC, id DESC LIMIT $3::integer) s),"
	" 'change_sets', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', c.kind,"
	"   'action', c.action, 'state', c.state, 'add', to_jsonb(c.add), 'rem', to_jsonb(c.rem),"
	"   'created_at', " CDS_DB_TIME("c.created_at") ","
	"   'updated_at', " CDS_DB_TIME("c.updated_at") ") ORDER BY c.id DESC), '[]')"
	"   FROM (SELECT * FROM change_sets WHERE delegation_id = d.id ORDER BY id DESC"
	"         LIMIT $3::integer) c)"
	")) FROM delegations d WHERE d.domain = $1";

int cds_db_domain_public_json(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
			      unsigned history, char **json, char *err, size_t errlen)
{
	char unreach[32], hist[16];
	snprintf(unreach, sizeof(unreach), "%llu", (unsigned long long)unreachable_after_s);
	snprintf(hist, sizeof(hist), "%u", history);
	const char *p[3] = {name, unreach, hist};
	return json_of(db, domain_public_sql, 3, p, json, err, errlen);
}

/* ---------------------------------------------------------- history --- */

/* Verdicts, change sets and events of one delegation ($1: its id), each
 * branch bounded by the limit ($2) before they are merged. */
#define HISTORY_SQL                                                                        \
	"(SELECT s.scanned_at AS t, s.id AS tie, CASE WHEN s.dry_run THEN 'dry-run'"          \
	"   ELSE 'verdict' END AS what, " VERDICT_TEXT("s") " AS text,"                        \
	"   jsonb_build_object('scan_result', s.id, 'ds', jsonb_build_object('action',"         \
	"   s.ds_action, 'reasons', " CDS_DB_VERDICT("s") "->'ds'->'reasons'), 'ns',"           \
	"   jsonb_build_object('action', s.ns_action, 'reasons', " CDS_DB_VERDICT("s")          \
	"   ->'ns'->'reasons')) AS detail"                                                     \
	"  FROM scan_results s WHERE s.delegation_id = $1::bigint"                              \
	"  ORDER BY s.scanned_at DESC, s.id DESC LIMIT $2::integer)"                            \
	" UNION ALL "                                                                           \
	"(SELECT c.created_at, c.id, 'change-set', " CHANGE_TEXT("c") " || CASE WHEN"           \
	"   c.state <> 'pending' THEN ' (updated ' || " TS("c.updated_at") " ||"                \
	"   coalesce(', svTRID ' || c.svtrid, '') || ')' ELSE '' END,"                         \
	"   jsonb_build_object('change_set', c.id, 'kind', c.kind, 'action', c.action,"         \
	"   'state', c.state, 'add', to_jsonb(c.add), 'rem', to_jsonb(c.rem), 'attempts',"     \
	"   c.attempts, 'last_error', c.last_error, 'svtrid', c.svtrid, 'updated_at', "         \
	CDS_DB_TIME("c.updated_at") ")"                                                        \
	"  FROM change_sets c WHERE c.delegation_id = $1::bigint"                               \
	"  ORDER BY c.created_at DESC, c.id DESC LIMIT $2::integer)"                            \
	" UNION ALL "                                                                           \
	"(SELECT e.at, e.id, e.event, 'by ' || e.actor || coalesce(' (' || e.login || ')', '')"\
	"   || coalesce(': ' || e.reason, ''), jsonb_build_object('event', e.event, 'actor',"   \
	"   e.actor, 'login', e.login, 'reason', e.reason)"                                    \
	"  FROM domain_events e WHERE e.delegation_id = $1::bigint"                             \
	"  ORDER BY e.at DESC, e.id DESC LIMIT $2::integer)"

static const char history_sql[] =
	"SELECT " TS("h.t") ", h.what, h.text FROM (" HISTORY_SQL ") h"
	" ORDER BY h.t DESC, h.tie DESC LIMIT $2::integer";
static const char history_json_sql[] =
	"SELECT jsonb_pretty(coalesce(jsonb_agg(jsonb_build_object('at', " CDS_DB_TIME("h.t") ","
	" 'what', h.what, 'text', h.text) || h.detail ORDER BY h.t DESC, h.tie DESC), '[]'))"
	" FROM (SELECT * FROM (" HISTORY_SQL ") x ORDER BY x.t DESC, x.tie DESC"
	" LIMIT $2::integer) h";

void cds_db_history_free(struct cds_db_history *h)
{
	for (size_t i = 0; h && i < h->count; i++)
		free(h->rows[i].text);
	if (h)
		free(h->rows);
	if (h)
		memset(h, 0, sizeof(*h));
}

/* The id of the delegation named name into *id.  Returns 0, CDS_ENOENT or
 * CDS_EUNAVAIL. */
static int id_of(struct cds_db *db, const char *name, char *id, size_t idlen, char *err,
		 size_t errlen)
{
	PGresult *res = NULL;
	const char *p[1] = {name};
	int r = cds_db_exec(db, "SELECT id FROM delegations WHERE domain = $1", 1, p, &res, err,
			    errlen);
	if (r != 0)
		return r;
	if (PQntuples(res) == 0)
		r = CDS_ENOENT;
	else
		snprintf(id, idlen, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

static int history_rows(PGresult *res, struct cds_db_history *out)
{
	int n = PQntuples(res);
	out->rows = calloc(n ? (size_t)n : 1, sizeof(*out->rows));
	if (!out->rows)
		return CDS_ENOMEM;
	for (int i = 0; i < n; i++) {
		struct cds_db_history_row *row = &out->rows[out->count];
		snprintf(row->at, sizeof(row->at), "%s", PQgetvalue(res, i, 0));
		snprintf(row->what, sizeof(row->what), "%s", PQgetvalue(res, i, 1));
		if (!(row->text = strdup(PQgetvalue(res, i, 2))))
			return CDS_ENOMEM;
		out->count++;
	}
	return 0;
}

int cds_db_domain_history(struct cds_db *db, const char *name, size_t limit,
			  struct cds_db_history *rows, char **json, char *err, size_t errlen)
{
	PGresult *res = NULL;
	char id[32], lim[32];
	int r = id_of(db, name, id, sizeof(id), err, errlen);
	if (r != 0)
		return r;
	snprintf(lim, sizeof(lim), "%zu", limit);
	const char *p[2] = {id, lim};
	if (json)
		return json_of(db, history_json_sql, 2, p, json, err, errlen);
	memset(rows, 0, sizeof(*rows));
	if ((r = cds_db_exec(db, history_sql, 2, p, &res, err, errlen)) != 0)
		return r;
	r = history_rows(res, rows);
	PQclear(res);
	if (r != 0)
		cds_db_history_free(rows);
	return r;
}

/* ---------------------------------------------------------- changes --- */

/* A suspension, unless there is one already: the row is locked first, so
 * that of two at once the second sees the first's. */
static const char suspend_sql[] =
	"WITH d AS (SELECT id, suspended_at, suspended_by, suspended_reason FROM delegations"
	"           WHERE domain = $1 FOR UPDATE),"
	" u AS (UPDATE delegations t SET suspended_at = now(), suspended_by = $2,"
	"         suspended_reason = $3, updated_at = now()"
	"       FROM d WHERE t.id = d.id AND d.suspended_at IS NULL RETURNING t.id),"
	" e AS (INSERT INTO domain_events (delegation_id, event, actor, login, reason)"
	"       SELECT id, 'suspend', $2, $4, $3 FROM u) "
	"SELECT (SELECT count(*) FROM u), " TS("d.suspended_at") ", coalesce(d.suspended_by, ''),"
	"       coalesce(d.suspended_reason, '') FROM d";

/* A resumption makes the domain due at once: automation picks up where it
 * stopped, with a fresh scan (a scan in flight read the suspension when it
 * claimed: its lease is dropped, so the next claim takes it again). */
static const char resume_sql[] =
	"WITH d AS (SELECT id, suspended_at FROM delegations WHERE domain = $1 FOR UPDATE),"
	" u AS (UPDATE delegations t SET suspended_at = NULL, suspended_by = NULL,"
	"         suspended_reason = NULL, next_scan_at = now(), leased_until = NULL,"
	"         updated_at = now()"
	"       FROM d WHERE t.id = d.id AND d.suspended_at IS NOT NULL RETURNING t.id),"
	" e AS (INSERT INTO domain_events (delegation_id, event, actor, login, reason)"
	"       SELECT id, 'resume', 'operator', $3, $2 FROM u) "
	"SELECT (SELECT count(*) FROM u) FROM d";

/* Run a suspend or resume statement; its first column says whether it
 * changed the row, the others (suspend) the suspension there was. */
static int change_row(struct cds_db *db, const char *sql, int np, const char *const *p,
		      struct cds_db_domain_change *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	memset(out, 0, sizeof(*out));
	int r = cds_db_exec(db, sql, np, p, &res, err, errlen);
	if (r != 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return CDS_ENOENT;
	}
	out->changed = PQgetvalue(res, 0, 0)[0] != '0';
	if (PQnfields(res) == 4) {
		snprintf(out->since, sizeof(out->since), "%s", PQgetvalue(res, 0, 1));
		snprintf(out->by, sizeof(out->by), "%s", PQgetvalue(res, 0, 2));
		snprintf(out->reason, sizeof(out->reason), "%s", PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	return 0;
}

int cds_db_domain_suspend(struct cds_db *db, const char *name, enum cds_db_actor by,
			  const char *reason, const char *login, struct cds_db_domain_change *out,
			  char *err, size_t errlen)
{
	const char *p[4] = {name, cds_db_actor_name(by), reason, login};
	return change_row(db, suspend_sql, 4, p, out, err, errlen);
}

int cds_db_domain_resume(struct cds_db *db, const char *name, const char *reason,
			 const char *login, struct cds_db_domain_change *out, char *err,
			 size_t errlen)
{
	const char *p[3] = {name, reason, login};
	return change_row(db, resume_sql, 3, p, out, err, errlen);
}

/* The newest verdict of a domain: whether its NS side waits for an
 * operator (csync-not-immediate), its NS reasons, and the CSYNC a server
 * served (its serial first). */
static const char newest_csync_sql[] =
	"SELECT d.id, s.id IS NOT NULL, coalesce(" CDS_DB_VERDICT("s")
	"       ->'ns'->'reasons'"
	"       ? 'csync-not-immediate', false),"
	"       coalesce(array_to_string(ARRAY(SELECT jsonb_array_elements_text("
	"         " CDS_DB_VERDICT("s") "->'ns'->'reasons')), ', '), ''),"
	"       coalesce((SELECT x->>'csync' FROM jsonb_array_elements("
	"         " CDS_DB_VERDICT("s") "->'servers') x"
	"         WHERE x->>'csync' IS NOT NULL LIMIT 1), ''), " TS("s.scanned_at") " "
	"FROM delegations d LEFT JOIN LATERAL (SELECT id, verdict, verdict_jsonb, scanned_at"
	"  FROM scan_results"
	"  WHERE delegation_id = d.id ORDER BY scanned_at DESC, id DESC LIMIT 1) s ON true "
	"WHERE d.domain = $1";

/* Is the newest verdict a CSYNC waiting for approval?  Its serial into
 * *serial, else why not.  Returns 0, CDS_ENOENT or CDS_EDATA. */
static int approvable(PGresult *res, uint32_t *serial, char *why, size_t whylen)
{
	if (PQntuples(res) == 0)
		return CDS_ENOENT;
	if (PQgetvalue(res, 0, 1)[0] != 't') {
		snprintf(why, whylen, "it has not been scanned yet: nothing to approve");
		return CDS_EDATA;
	}
	if (PQgetvalue(res, 0, 2)[0] != 't') {
		snprintf(why, whylen,
			 "its newest verdict (%s) has NS reasons %s, not csync-not-immediate: "
			 "no CSYNC waits for approval",
			 PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 3));
		return CDS_EDATA;
	}
	/* The CSYNC's presentation form starts with its SOA serial (RFC 7477
	 * §2.1.1); the data is the store's own, checked all the same. */
	const char *csync = PQgetvalue(res, 0, 4);
	char *end = NULL;
	unsigned long long v = strtoull(csync, &end, 10);
	if (end == csync || (*end && *end != ' ') || v > UINT32_MAX) {
		snprintf(why, whylen, "its newest verdict (%s) holds no readable CSYNC serial",
			 PQgetvalue(res, 0, 5));
		return CDS_EDATA;
	}
	*serial = (uint32_t)v;
	return 0;
}

int cds_db_domain_approve_csync(struct cds_db *db, const char *name, const char *login,
				struct cds_db_domain_change *out, char *why, size_t whylen,
				char *err, size_t errlen)
{
	PGresult *res = NULL;
	const char *p[1] = {name};
	char id[32], serial[16], reason[96];
	memset(out, 0, sizeof(*out));
	int r = cds_db_exec(db, newest_csync_sql, 1, p, &res, err, errlen);
	if (r != 0)
		return r;
	r = approvable(res, &out->serial, why, whylen);
	if (r == 0)
		snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (r != 0)
		return r;
	snprintf(serial, sizeof(serial), "%u", out->serial);
	snprintf(reason, sizeof(reason), "CSYNC serial %u approved (RFC 7477 section 2.1.1.2)",
		 out->serial);
	const char *q[4] = {id, serial, login, reason};
	out->changed = true;
	return cds_db_exec(db,
			   "WITH u AS (UPDATE delegations SET csync_approved_serial = $2::bigint,"
			   "  next_scan_at = now(), leased_until = NULL, updated_at = now()"
			   "  WHERE id = $1::bigint"
			   "  RETURNING id)"
			   " INSERT INTO domain_events (delegation_id, event, actor, login, reason)"
			   " SELECT id, 'approve-csync', 'operator', $3, $4 FROM u",
			   4, q, NULL, err, errlen);
}

int cds_db_count_held(struct cds_db *db, uint64_t *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r = cds_db_exec(db,
			    "SELECT count(*) FROM change_sets c JOIN delegations d"
			    " ON d.id = c.delegation_id"
			    " WHERE c.state = 'pending' AND d.suspended_at IS NOT NULL",
			    0, NULL, &res, err, errlen);
	if (r != 0)
		return r;
	*out = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
