/* Notifications in the store (sql/0007_notifications.sql): the state change
 * that makes a notice, decided in the transaction that writes the verdict;
 * the routing of notices to channels; the claim and outcome of one
 * delivery at a time. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/db.h"
#include "cdscan/error.h"
#include "db_internal.h"

static bool has_reason(const struct cds_verdict_side *s, enum cds_reason r)
{
	for (size_t i = 0; i < s->reason_count; i++)
		if (s->reasons[i] == r)
			return true;
	return false;
}

/* The rejected side's codes: a different reason is a different state (a
 * new message), the same one again is not. */
static void rejected_codes(const struct cds_verdict *v, char *buf, size_t len)
{
	const struct cds_verdict_side *sides[2] = {&v->ds_side, &v->ns_side};
	size_t o = (size_t)snprintf(buf, len, "rejected:");
	for (int s = 0; s < 2; s++) {
		if (sides[s]->action != CDS_ACTION_REJECT)
			continue;
		for (size_t k = 0; k < sides[s]->reason_count && o < len; k++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s%s",
					      o > strlen("rejected:") ? "," : "",
					      s ? "ns/" : "", cds_reason_code(sides[s]->reasons[k]));
	}
}

void cds_db_notice_state(const struct cds_verdict *v, char *buf, size_t len,
			 enum cds_event *event)
{
	if (has_reason(&v->ds_side, CDS_R_SUSPENDED)) {
		snprintf(buf, len, "suspended");
		*event = CDS_EVENT_SUSPENDED;
	} else if (v->ds_side.action == CDS_ACTION_REJECT ||
		   v->ns_side.action == CDS_ACTION_REJECT) {
		rejected_codes(v, buf, len);
		*event = CDS_EVENT_SIGNAL_REJECTED;
	} else if (has_reason(&v->ds_side, CDS_R_BOOTSTRAP_PENDING)) {
		snprintf(buf, len, "bootstrap-pending");
		*event = CDS_EVENT_BOOTSTRAP_PENDING;
	} else if (v->ds_side.action == CDS_ACTION_BOOTSTRAP) {
		snprintf(buf, len, "bootstrap-accepted");
		*event = CDS_EVENT_BOOTSTRAP_ACCEPTED;
	} else {
		snprintf(buf, len, "ok");
		*event = CDS_EVENT_COUNT;
	}
}

/*
 * "ok" is no row: most delegations are ok, and a scan of millions then
 * costs one index probe each (the DELETE), not a write.  Every other state
 * is upserted under the row's lock; streak 1 means it changed (or is new),
 * which is decided by the one statement, so that two scanners writing the
 * same delegation at once (on any host) make one notice, not two.  The
 * event for entering the state, and rejected-repeatedly when a rejection
 * reaches $5 consecutive scans, are inserted by the same statement.
 */
static const char ok_sql[] =
	"DELETE FROM notice_state WHERE delegation_id = ANY($1::bigint[])";
static const char state_sql[] =
	"WITH t AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
	"           AS t(d, s, e, v)),"
	" up AS (INSERT INTO notice_state AS ns (delegation_id, state, streak)"
	"        SELECT d, s, 1 FROM t"
	"        ON CONFLICT (delegation_id) DO UPDATE SET"
	"          streak = CASE WHEN ns.state = EXCLUDED.state THEN ns.streak + 1 ELSE 1 END,"
	"          changed_at = CASE WHEN ns.state = EXCLUDED.state THEN ns.changed_at"
	"                       ELSE now() END,"
	"          state = EXCLUDED.state"
	"        RETURNING delegation_id, streak)"
	" INSERT INTO notices (delegation_id, event, streak, payload)"
	" SELECT t.d, ev.e, up.streak, t.v::jsonb FROM up JOIN t ON t.d = up.delegation_id"
	" CROSS JOIN LATERAL (SELECT t.e WHERE up.streak = 1"
	"   UNION ALL SELECT 'rejected-repeatedly' WHERE up.streak = $5::integer"
	"   AND t.s LIKE 'rejected:%') AS ev(e)";

struct state_cols {
	const char **ok, **ids, **states, **events, **json;
	char (*idtxt)[24];
	char (*statetxt)[200];
	size_t nok, n;
};

static void state_cols_free(struct state_cols *c)
{
	free(c->ok);
	free(c->ids);
	free(c->states);
	free(c->events);
	free(c->json);
	free(c->idtxt);
	free(c->statetxt);
}

static int state_cols_of(const struct cds_db_outcome *o, size_t n, struct state_cols *c)
{
	size_t m = n ? n : 1;
	c->ok = calloc(m, sizeof(*c->ok));
	c->ids = calloc(m, sizeof(*c->ids));
	c->states = calloc(m, sizeof(*c->states));
	c->events = calloc(m, sizeof(*c->events));
	c->json = calloc(m, sizeof(*c->json));
	c->idtxt = calloc(m, sizeof(*c->idtxt));
	c->statetxt = calloc(m, sizeof(*c->statetxt));
	if (!c->ok || !c->ids || !c->states || !c->events || !c->json || !c->idtxt ||
	    !c->statetxt)
		return CDS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		enum cds_event ev;
		snprintf(c->idtxt[i], sizeof(c->idtxt[i]), "%lld", (long long)o[i].item->id);
		cds_db_notice_state(o[i].v, c->statetxt[i], sizeof(c->statetxt[i]), &ev);
		if (ev == CDS_EVENT_COUNT) {
			c->ok[c->nok++] = c->idtxt[i];
			continue;
		}
		c->ids[c->n] = c->idtxt[i];
		c->states[c->n] = c->statetxt[i];
		c->events[c->n] = cds_event_name(ev);
		c->json[c->n++] = o[i].json;
	}
	return 0;
}

int cds_db_record_notices(struct cds_db *db, const struct cds_db_outcome *o, size_t n,
			  uint32_t repeat, char *err, size_t errlen)
{
	struct state_cols c = {0};
	char *a[5] = {0}, rep[16];
	int r = state_cols_of(o, n, &c);
	if (r != 0)
		goto out;
	snprintf(rep, sizeof(rep), "%u", repeat);
	if (c.nok) {
		if (!(a[0] = cds_db_pg_array(c.ok, c.nok))) {
			r = CDS_ENOMEM;
			goto out;
		}
		const char *p[1] = {a[0]};
		if ((r = cds_db_exec(db, ok_sql, 1, p, NULL, err, errlen)) != 0)
			goto out;
	}
	if (c.n) {
		a[1] = cds_db_pg_array(c.ids, c.n);
		a[2] = cds_db_pg_array(c.states, c.n);
		a[3] = cds_db_pg_array(c.events, c.n);
		a[4] = cds_db_pg_array(c.json, c.n);
		if (!a[1] || !a[2] || !a[3] || !a[4]) {
			r = CDS_ENOMEM;
			goto out;
		}
		const char *p[5] = {a[1], a[2], a[3], a[4], rep};
		r = cds_db_exec(db, state_sql, 5, p, NULL, err, errlen);
	}
out:
	for (int i = 0; i < 5; i++)
		free(a[i]);
	state_cols_free(&c);
	return r;
}

/* ------------------------------------------------------------ routing --- */

static const char unrouted_sql[] =
	"SELECT n.id, n.event, d.domain, coalesce(d.registry, '') FROM notices n"
	" JOIN delegations d ON d.id = n.delegation_id WHERE n.routed_at IS NULL"
	" ORDER BY n.id LIMIT $1::integer FOR UPDATE OF n SKIP LOCKED";
static const char routed_sql[] =
	"WITH i AS (INSERT INTO notice_deliveries (notice_id, channel)"
	"           SELECT * FROM unnest($2::bigint[], $3::text[])"
	"           ON CONFLICT (notice_id, channel) DO NOTHING)"
	" UPDATE notices SET routed_at = now() WHERE id = ANY($1::bigint[])";

#define ROUTE_MAX 16

/* The deliveries of the claimed notices res holds, as arrays. */
static int route_rows(PGresult *res, cds_db_route_cb route, void *arg, char **ids, char **nids,
		      char **chans)
{
	int rows = PQntuples(res);
	size_t cap = (size_t)rows * ROUTE_MAX + 1;
	const char **all = calloc((size_t)rows + 1, sizeof(*all));
	const char **dn = calloc(cap, sizeof(*dn)), **dc = calloc(cap, sizeof(*dc));
	char (*copies)[64] = calloc(cap, sizeof(*copies));
	size_t nd = 0;
	int r = all && dn && dc && copies ? 0 : CDS_ENOMEM;
	for (int i = 0; i < rows && r == 0; i++) {
		enum cds_event ev;
		const char *names[ROUTE_MAX];
		all[i] = PQgetvalue(res, i, 0);
		if (cds_event_parse(PQgetvalue(res, i, 1), &ev) != 0)
			continue; /* a newer binary's event: routed nowhere */
		size_t k = route(arg, ev, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), names,
				 ROUTE_MAX);
		for (size_t j = 0; j < k && j < ROUTE_MAX; j++) {
			snprintf(copies[nd], sizeof(copies[nd]), "%s", names[j]);
			dn[nd] = all[i];
			dc[nd] = copies[nd];
			nd++;
		}
	}
	if (r == 0) {
		*ids = cds_db_pg_array(all, (size_t)rows);
		*nids = cds_db_pg_array(dn, nd);
		*chans = cds_db_pg_array(dc, nd);
		if (!*ids || !*nids || !*chans)
			r = CDS_ENOMEM;
	}
	free(all);
	free(dn);
	free(dc);
	free(copies);
	return r;
}

int cds_db_notices_route(struct cds_db *db, size_t max, cds_db_route_cb route, void *arg,
			 uint64_t *count, char *err, size_t errlen)
{
	PGresult *res = NULL;
	char maxtxt[16], *a[3] = {0};
	int r;
	*count = 0;
	snprintf(maxtxt, sizeof(maxtxt), "%zu", max);
	const char *p[1] = {maxtxt};
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	if ((r = cds_db_exec(db, unrouted_sql, 1, p, &res, err, errlen)) != 0)
		goto out;
	*count = (uint64_t)PQntuples(res);
	if (*count && (r = route_rows(res, route, arg, &a[0], &a[1], &a[2])) == 0)
		r = cds_db_exec(db, routed_sql, 3, (const char *const *)a, NULL, err, errlen);
	if (r == 0)
		r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen);
out:
	if (r != 0)
		cds_db_rollback(db);
	PQclear(res);
	for (int i = 0; i < 3; i++)
		free(a[i]);
	return r;
}

/* --------------------------------------------------------- deliveries --- */

static const char claim_sql[] =
	"SELECT nd.id, n.id, nd.channel, n.event, d.domain, coalesce(d.registry, ''),"
	" coalesce(d.contact, ''), " CDS_DB_TIME("n.created_at") ", nd.attempts, n.streak,"
	" n.payload::text"
	" FROM notice_deliveries nd JOIN notices n ON n.id = nd.notice_id"
	" JOIN delegations d ON d.id = n.delegation_id"
	" WHERE nd.state = 'pending' AND nd.next_attempt_at <= now()"
	" ORDER BY nd.next_attempt_at, nd.id LIMIT 1 FOR UPDATE OF nd SKIP LOCKED";

int cds_db_delivery_claim(struct cds_db *db, struct cds_db_delivery *out, bool *got, char *err,
			  size_t errlen)
{
	PGresult *res = NULL;
	int r;
	memset(out, 0, sizeof(*out));
	*got = false;
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	if ((r = cds_db_exec(db, claim_sql, 0, NULL, &res, err, errlen)) != 0) {
		cds_db_rollback(db);
		return r;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen);
	}
	out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	out->notice_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(out->channel, sizeof(out->channel), "%s", PQgetvalue(res, 0, 2));
	if (cds_event_parse(PQgetvalue(res, 0, 3), &out->event) != 0)
		out->event = CDS_EVENT_COUNT;
	snprintf(out->domain, sizeof(out->domain), "%s", PQgetvalue(res, 0, 4));
	snprintf(out->registry, sizeof(out->registry), "%s", PQgetvalue(res, 0, 5));
	snprintf(out->contact, sizeof(out->contact), "%s", PQgetvalue(res, 0, 6));
	snprintf(out->created_at, sizeof(out->created_at), "%s", PQgetvalue(res, 0, 7));
	out->attempts = atoi(PQgetvalue(res, 0, 8));
	out->streak = atoi(PQgetvalue(res, 0, 9));
	out->payload = strdup(PQgetvalue(res, 0, 10));
	PQclear(res);
	if (!out->payload) {
		cds_db_rollback(db);
		return CDS_ENOMEM;
	}
	*got = true;
	return 0;
}

static const char finish_sql[] =
	"UPDATE notice_deliveries SET attempts = attempts + 1, state = $2,"
	" last_error = $3, sent_at = CASE WHEN $2 = 'sent' THEN now() END,"
	" next_attempt_at = now() + make_interval(secs => $4::double precision)"
	" WHERE id = $1::bigint";

int cds_db_delivery_finish(struct cds_db *db, struct cds_db_delivery *d,
			   enum cds_delivery_outcome outcome, uint64_t retry_s, const char *error,
			   char *err, size_t errlen)
{
	static const char *const states[] = {"sent", "pending", "failed"};
	char id[32], retry[32];
	snprintf(id, sizeof(id), "%lld", (long long)d->id);
	snprintf(retry, sizeof(retry), "%llu",
		 (unsigned long long)(outcome == CDS_DELIVERY_RETRY ? retry_s : 0));
	const char *p[4] = {id, states[outcome], outcome == CDS_DELIVERY_SENT ? NULL : error,
			    retry};
	int r = cds_db_exec(db, finish_sql, 4, p, NULL, err, errlen);
	if (r == 0)
		r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen);
	if (r != 0)
		cds_db_rollback(db);
	free(d->payload);
	d->payload = NULL;
	return r;
}

void cds_db_delivery_abort(struct cds_db *db, struct cds_db_delivery *d)
{
	cds_db_rollback(db);
	free(d->payload);
	d->payload = NULL;
}
