/* The scan's side of the store: claiming due delegations (FOR UPDATE SKIP
 * LOCKED, so several scanners share one database) under a lease, and
 * writing results, change sets and schedule, a group at a time, each group
 * in one transaction. */
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdscan/db.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "db_internal.h"

/*
 * The claim leases the rows it takes: leased_until a lease ahead, in the
 * same statement, committed at once, so no transaction stays open while
 * they are scanned (a batch held open until its slowest delegation
 * answered kept the scanner waiting out every lame delegation's timeouts;
 * bench/RESULTS.md).  A delegation is due when next_scan_at has passed and
 * no lease holds it (CDS_DB_DUE).  For a due row the claim changes only
 * the lease, an unindexed column, so the update can stay on its page
 * without index entries (0010_claim_lease_only.sql: PostgreSQL compares an
 * indexed column's old and new value); a row taken before it is due (a
 * NOTIFY, scan --domain) also gets its next scan brought to the lease's
 * end.  The result's write sets the next due time and clears the lease; a
 * scanner that stops before it leaves the rows due when the lease ends.
 * $4: policy.unreachable-after in seconds, $5: the lease in seconds.
 */
#define CLAIM_WHERE                                                                        \
	"WHERE removed_at IS NULL AND id > $1::bigint"                                      \
	"  AND (($3::text[] IS NULL AND " CDS_DB_DUE("") ") OR domain = ANY($3::text[])) "
/* The daemon's out-of-turn claim (a NOTIFY): the named delegations, due or
 * not, but none that another scanner holds under a lease. */
#define CLAIM_FREE "  AND ($6::boolean IS NOT TRUE OR leased_until IS NULL OR leased_until <= now()) "
/* The replay baseline is signal_baseline (0003_domain_state.sql), not
 * ds_changed_at.  Failing addresses come in one probe of server_failures'
 * primary key: how many, and those failing for unreachable-after (RFC 9975
 * §3), which the decision leaves out. */
#define CLAIM_COLUMNS(t)                                                                   \
	"SELECT " t ".id, " t ".domain, array_to_string(" t ".ns, ' '),"                    \
	"       array_to_string(" t ".ds, ','), " t ".glue::text,"                           \
	"       coalesce(floor(extract(epoch FROM " t ".signal_baseline))::bigint, 0),"       \
	"       " t ".opted_out, " t ".consecutive_failures, o.delegation_id IS NOT NULL,"     \
	"       coalesce(array_to_string(o.signal, ','), ''),"                                 \
	"       coalesce(extract(epoch FROM o.first_seen)::bigint, 0),"                        \
	"       coalesce(o.consistent_scans, 0), " t ".suspended_at IS NOT NULL,"              \
	"       coalesce(" t ".suspended_reason, ''), coalesce(" t ".csync_approved_serial, -1),"\
	"       f.n, f.excluded, coalesce(array_to_string(" t ".registry_status, ' '), ''),"      \
	"       k.entries "
#define CLAIM_FAILURES_P(t, unreach)                                                       \
	" CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(string_agg(sf.ns_name || ' ' ||" \
	"   sf.address, ',' ORDER BY sf.ns_name, sf.address)"                                \
	"   FILTER (WHERE " CDS_DB_EXCLUDED("sf", unreach) "), '') AS excluded"               \
	"   FROM server_failures sf WHERE sf.delegation_id = " t ".id) f "
#define CLAIM_FAILURES(t) CLAIM_FAILURES_P(t, "$4")
static const char claim_sql[] =
	"WITH c AS (SELECT id FROM delegations " CLAIM_WHERE CLAIM_FREE
	"           ORDER BY id LIMIT $2::integer FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE delegations AS d"
	"       SET leased_until = now() + make_interval(secs => $5::double precision),"
	"           next_scan_at = least(next_scan_at,"
	"                                now() + make_interval(secs => $5::double precision))"
	"       FROM c WHERE d.id = c.id RETURNING d.*) "
	CLAIM_COLUMNS("u")
	"FROM u LEFT JOIN bootstrap_observations o ON o.delegation_id = u.id"
	" LEFT JOIN dnskey_cache k ON k.delegation_id = u.id"
	CLAIM_FAILURES("u") "ORDER BY u.id";
/* The daemon's claim: the due delegations that have waited longest
 * first (delegations_next_scan, 0004_daemon.sql), with no cursor, so that
 * a retry after scan.retry-after is taken when it falls due, not when a
 * pass through the table comes round to it.  It still moves next_scan_at
 * a lease ahead too: what it holds leaves the front of that index, which
 * it reads at every claim (a batch scan's leases, only when one runs
 * beside the daemon, are stepped over).  $1: how many, $2:
 * policy.unreachable-after, $3: the lease, all in seconds. */
static const char claim_due_sql[] =
	"WITH c AS (SELECT id FROM delegations WHERE removed_at IS NULL AND " CDS_DB_DUE("")
	"           ORDER BY next_scan_at LIMIT $1::integer FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE delegations AS d"
	"       SET next_scan_at = now() + make_interval(secs => $3::double precision),"
	"           leased_until = now() + make_interval(secs => $3::double precision)"
	"       FROM c WHERE d.id = c.id RETURNING d.*) "
	CLAIM_COLUMNS("u")
	"FROM u LEFT JOIN bootstrap_observations o ON o.delegation_id = u.id"
	" LEFT JOIN dnskey_cache k ON k.delegation_id = u.id"
	CLAIM_FAILURES_P("u", "$2") "ORDER BY u.id";
/* A dry run takes the rows as they are: no lock, no lease. */
static const char peek_sql[] =
	CLAIM_COLUMNS("delegations")
	"FROM delegations LEFT JOIN bootstrap_observations o ON o.delegation_id = delegations.id"
	" LEFT JOIN dnskey_cache k ON k.delegation_id = delegations.id "
	CLAIM_FAILURES("delegations") CLAIM_WHERE "ORDER BY id LIMIT $2::integer";

/* A PostgreSQL array literal of strings, every element quoted and escaped
 * (passed as a parameter, never pasted into SQL); NULL on no memory. */
char *cds_db_pg_array(const char *const *v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(v[i]) + 3;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

void cds_db_item_clear(struct cds_db_item *it)
{
	free(it->d.ns);
	free(it->d.ds);
	for (size_t i = 0; i < it->d.excluded_count; i++)
		free(it->d.excluded[i]);
	free(it->d.excluded);
	it->d.ns = NULL;
	it->d.ds = NULL;
	it->d.excluded = NULL;
	it->d.ns_count = it->d.ds_count = it->d.excluded_count = 0;
	cds_sigcache_free(it->d.sigcache);
	it->d.sigcache = NULL;
}

static void free_items(struct cds_db_batch *b)
{
	for (size_t i = 0; i < b->count; i++)
		cds_db_item_clear(&b->items[i]);
	free(b->items);
	b->items = NULL;
	b->count = 0;
}

/* The NS names of a row (space-separated) with the glue the parent holds. */
static int parse_ns(const char *ns, const char *glue_json, struct cds_delegation *d)
{
	size_t nns = 1;
	for (const char *p = ns; *p; p++)
		nns += *p == ' ';
	d->ns = calloc(nns, sizeof(*d->ns));
	if (!d->ns)
		return CDS_ENOMEM;
	/* Most delegations have no glue ("{}"): no tokener for them (one
	 * was allocated per claimed row). */
	json_object *glue =
	    glue_json[0] && strcmp(glue_json, "{}") != 0 ? json_tokener_parse(glue_json) : NULL;
	for (const char *p = ns; *p;) {
		size_t l = strcspn(p, " ");
		struct cds_ns_entry *e = &d->ns[d->ns_count];
		char name[CDS_DNAME_BUFSIZE];
		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		if (cds_dname_normalize(name, e->name) == 0) {
			json_object *addrs;
			/* Glue the parent holds is where it sends resolvers: ask those
			 * addresses, not what the name resolves to elsewhere. */
			if (glue && json_object_object_get_ex(glue, e->name, &addrs)) {
				for (size_t a = 0; a < json_object_array_length(addrs) &&
						   e->addr_count < CDS_NS_MAX_ADDRS;
				     a++) {
					const char *txt = json_object_get_string(
						json_object_array_get_idx(addrs, a));
					if (txt && cds_addr_parse(txt, 53, &e->addrs[e->addr_count]) == 0)
						e->addr_count++;
				}
			}
			d->ns_count++;
		}
		p += l;
		while (*p == ' ')
			p++;
	}
	json_object_put(glue);
	return 0;
}

/* The DS texts of a row, joined by ','. */
static int parse_ds(const char *ds, struct cds_delegation *d)
{
	size_t nds = 1;
	for (const char *p = ds; *p; p++)
		nds += *p == ',';
	d->ds = calloc(nds, sizeof(*d->ds));
	if (!d->ds)
		return CDS_ENOMEM;
	for (const char *p = ds; *p;) {
		size_t l = strcspn(p, ",");
		char txt[CDS_DS_TEXT_MAX + 8];
		snprintf(txt, sizeof(txt), "%.*s", (int)l, p);
		if (cds_ds_parse(txt, &d->ds[d->ds_count]) == 0)
			d->ds_count++;
		p += l + (p[l] == ',');
	}
	return 0;
}

/* The excluded addresses of a row: "NAME ADDR" texts joined by ','. */
static int parse_excluded(const char *s, struct cds_delegation *d)
{
	size_t n = *s ? 1 : 0;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n == 0)
		return 0;
	if (!(d->excluded = calloc(n, sizeof(*d->excluded))))
		return CDS_ENOMEM;
	for (const char *p = s; *p;) {
		size_t l = strcspn(p, ",");
		if (!(d->excluded[d->excluded_count] = strndup(p, l)))
			return CDS_ENOMEM;
		d->excluded_count++;
		p += l + (p[l] == ',');
	}
	return 0;
}

/* The delegation's remembered verifications (dnskey_cache, 0008): a stored
 * form that does not read is logged and dropped (verified afresh, and
 * replaced at the write). */
static int load_sigcache(PGresult *res, int row, const struct cds_db_claim_opts *o,
			 struct cds_delegation *d)
{
	if (!o->sigcache)
		return 0;
	if (cds_sigcache_new(o->sigcache_max_entries, o->sigcache_max_bytes, &d->sigcache) != 0)
		return CDS_ENOMEM;
	if (PQgetisnull(res, row, 18))
		return 0;
	size_t len = 0;
	unsigned char *blob = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 18), &len);
	if (!blob)
		return CDS_ENOMEM;
	if (cds_sigcache_load(d->sigcache, blob, len) != 0)
		cds_log_warning("dnskey cache of %s unreadable, ignored (dnskey_cache row)", d->domain);
	PQfreemem(blob);
	return 0;
}

/* Fill one item from a claimed row (CLAIM_COLUMNS). */
static int item_from_row(PGresult *res, int row, const struct cds_db_claim_opts *o,
			 struct cds_db_item *it)
{
	struct cds_delegation *d = &it->d;
	memset(it, 0, sizeof(*it));
	it->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	snprintf(d->domain, sizeof(d->domain), "%s", PQgetvalue(res, row, 1));
	long long baseline = strtoll(PQgetvalue(res, row, 5), NULL, 10);
	d->has_last_change = baseline > 0;
	d->last_change = (time_t)baseline;
	d->opted_out = PQgetvalue(res, row, 6)[0] == 't';
	it->failures = atoi(PQgetvalue(res, row, 7));
	d->has_observation = PQgetvalue(res, row, 8)[0] == 't';
	snprintf(d->observed_signal, sizeof(d->observed_signal), "%s", PQgetvalue(res, row, 9));
	d->observed_first = (time_t)strtoll(PQgetvalue(res, row, 10), NULL, 10);
	d->observed_scans = (uint32_t)strtoul(PQgetvalue(res, row, 11), NULL, 10);
	d->suspended = PQgetvalue(res, row, 12)[0] == 't';
	snprintf(d->suspended_reason, sizeof(d->suspended_reason), "%s", PQgetvalue(res, row, 13));
	long long serial = strtoll(PQgetvalue(res, row, 14), NULL, 10);
	d->csync_approved = serial >= 0 && serial <= UINT32_MAX;
	d->csync_approved_serial = d->csync_approved ? (uint32_t)serial : 0;
	it->failing = (size_t)strtoull(PQgetvalue(res, row, 15), NULL, 10);
	int r = parse_ns(PQgetvalue(res, row, 2), PQgetvalue(res, row, 4), d);
	if (r == 0)
		r = parse_ds(PQgetvalue(res, row, 3), d);
	if (r == 0)
		r = parse_excluded(PQgetvalue(res, row, 16), d);
	/* Longer than any import stores (CDS_EPP_STATUS_MAX of them): a
	 * lock could be in what does not fit, so the pipeline holds it. */
	const char *st = PQgetvalue(res, row, 17);
	if (strlen(st) >= sizeof(it->registry_status))
		it->registry_status_unreadable = true;
	else
		memcpy(it->registry_status, st, strlen(st) + 1);
	if (r == 0)
		r = load_sigcache(res, row, o, d);
	return r;
}

int cds_db_claim(struct cds_db *db, const struct cds_db_claim_opts *o, struct cds_db_batch *out,
		 char *err, size_t errlen)
{
	PGresult *res = NULL;
	char after_txt[32], max_txt[16], lease_txt[32], unreach_txt[32];
	char *names = o->ndomains ? cds_db_pg_array((const char *const *)o->domains, o->ndomains) : NULL;
	const char *params[6] = {after_txt, max_txt, names, unreach_txt, lease_txt,
				 o->skip_leased ? "true" : "false"};
	int r;

	memset(out, 0, sizeof(*out));
	out->last_id = o->after;
	snprintf(after_txt, sizeof(after_txt), "%lld", (long long)o->after);
	snprintf(max_txt, sizeof(max_txt), "%zu", o->max);
	snprintf(lease_txt, sizeof(lease_txt), "%llu", (unsigned long long)o->lease_s);
	snprintf(unreach_txt, sizeof(unreach_txt), "%llu",
		 (unsigned long long)o->unreachable_after_s);
	if (o->ndomains && !names)
		return CDS_ENOMEM;
	const char *due_params[3] = {max_txt, unreach_txt, lease_txt};
	if (o->oldest_first && o->lease_s && !o->ndomains)
		r = cds_db_exec(db, claim_due_sql, 3, due_params, &res, err, errlen);
	else
		r = cds_db_exec(db, o->lease_s ? claim_sql : peek_sql, o->lease_s ? 6 : 4, params,
				&res, err, errlen);
	free(names);
	if (r != 0)
		return r;
	int rows = PQntuples(res);
	if (rows == 0) {
		PQclear(res);
		return 0;
	}
	out->items = calloc((size_t)rows, sizeof(*out->items));
	if (!out->items) {
		PQclear(res);
		return CDS_ENOMEM;
	}
	for (int i = 0; i < rows; i++) {
		if (item_from_row(res, i, o, &out->items[i]) != 0) {
			out->count = (size_t)i + 1;
			free_items(out);
			PQclear(res);
			return CDS_ENOMEM;
		}
		out->count++;
		out->last_id = out->items[i].id;
	}
	PQclear(res);
	return 0;
}

/* A change set, unless one is open for the domain and kind. */
/* 0005_zone_imports.sql: the registry applied a change set of this
 * delegation (done) after the last import of its parent zone finished: the
 * table still holds the parent as it was before, and every decision rests
 * on it.  No new change set, of either kind, until an import has finished
 * since: an NS change must not rest on a DS the registry took but the
 * parent zone may not serve yet, and the same change proposed again would
 * reach the registry twice.  A zone never imported (no row) has no wait.
 * $1: the delegation id. */
#define AWAITING_IMPORT                                                                   \
	"EXISTS (SELECT 1 FROM change_sets c JOIN delegations d ON d.id = c.delegation_id"  \
	"  JOIN zone_imports z ON z.zone = d.zone WHERE c.delegation_id = $1::bigint"        \
	"  AND c.state = 'done' AND c.updated_at > z.imported_at)"
/* Taken first, in the same transaction: a sender marking an open change
 * set done commits before the insert's check reads it, or after the insert
 * (which then meets the open one): never between the two. */
static const char lock_open_sql[] = "SELECT 1 FROM change_sets WHERE delegation_id = $1::bigint"
				    " AND state IN ('pending', 'sent') FOR UPDATE";
static const char insert_change_sql[] =
	"INSERT INTO change_sets (delegation_id, scan_result_id, kind, action, add, rem, payload,"
	" cltrid)"
	" SELECT $1::bigint, $2::bigint, $7::text, $3::text, $4::text[], $5::text[], $6::jsonb,"
	" 'cdscan-' || $7::text || '-' || $2::text WHERE NOT " AWAITING_IMPORT
	" ON CONFLICT (delegation_id, kind) WHERE state IN ('pending', 'sent') DO NOTHING"
	" RETURNING id";

static int record_change(struct cds_db *db, const char *id, const char *result_id,
			 const struct cds_change_set *cs, bool *created, char *err,
			 size_t errlen)
{
	PGresult *res = NULL;
	*created = false;
	char *payload = cds_change_set_payload(cs);
	char *add_arr = cds_db_pg_array((const char *const *)cs->add.v, cs->add.n);
	char *rem_arr = cds_db_pg_array((const char *const *)cs->rem.v, cs->rem.n);
	const char *kind = cds_kind_name(cs->kind);
	const char *p[7] = {id, result_id, cds_action_name(cs->action), add_arr, rem_arr,
			    payload, kind};
	/* The partial unique index allows one open change set per domain and
	 * kind: while one is pending or sent, a new one waits.  One the
	 * registry applied makes every new one wait for the parent zone's
	 * import (AWAITING_IMPORT).
	 * The clTRID is derived from the scan result, so it is stable across
	 * resends. */
	int r = (payload && add_arr && rem_arr)
			? cds_db_exec(db, lock_open_sql, 1, p, NULL, err, errlen)
			: CDS_ENOMEM;
	if (r == 0)
		r = cds_db_exec(db, insert_change_sql, 7, p, &res, err, errlen);
	free(payload);
	free(add_arr);
	free(rem_arr);
	if (r != 0)
		return r;
	*created = PQntuples(res) == 1;
	PQclear(res);
	return 0;
}

/* Accept-after-delay's clock (RFC 8078 §3.3): keep the observation the
 * decision made, or forget the old one (a changed, inconsistent or failed
 * signal, a secure delegation, a bootstrap done): the clock restarts. */
static int record_observation(struct cds_db *db, const char *id, const struct cds_db_item *item,
			      const struct cds_verdict *v, char *err, size_t errlen)
{
	const struct cds_verdict_bootstrap *b = &v->bootstrap;
	if (!b->observed || v->ds_side.action == CDS_ACTION_BOOTSTRAP) {
		if (!item->d.has_observation)
			return 0;
		const char *p[1] = {id};
		return cds_db_exec(db, "DELETE FROM bootstrap_observations WHERE delegation_id = $1",
				   1, p, NULL, err, errlen);
	}
	char first[32], last[32], scans[16];
	snprintf(first, sizeof(first), "%lld", (long long)b->first_seen);
	snprintf(last, sizeof(last), "%lld", (long long)v->checked_at);
	snprintf(scans, sizeof(scans), "%u", b->scans);
	const char *p[5] = {id, b->signal, first, last, scans};
	return cds_db_exec(db,
			   "INSERT INTO bootstrap_observations (delegation_id, signal, first_seen,"
			   " last_seen, consistent_scans, over_tcp)"
			   " VALUES ($1, string_to_array($2, ','), to_timestamp($3::bigint),"
			   " to_timestamp($4::bigint), $5::integer, true)"
			   " ON CONFLICT (delegation_id) DO UPDATE SET signal = EXCLUDED.signal,"
			   " first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen,"
			   " consistent_scans = EXCLUDED.consistent_scans, over_tcp = true",
			   5, p, NULL, err, errlen);
}

/* Outcomes are in claim order, which is id order: find one by id. */
static struct cds_db_outcome *outcome_by_id(struct cds_db_outcome *o, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o[mid].item->id == id)
			return &o[mid];
		if (o[mid].item->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The batch as array parameters, one per column (one statement for the
 * whole batch: a statement per row was a fifth of the scan's time). */
struct columns {
	char *ids, *dsa, *nsa, *reasons, *json, *fails, *held;
};

static void columns_free(struct columns *c)
{
	free(c->ids);
	free(c->dsa);
	free(c->nsa);
	free(c->reasons);
	free(c->json);
	free(c->fails);
	free(c->held);
}

/* The reason codes of both sides, joined by ','. */
static void reasons_of(const struct cds_verdict *v, char *buf, size_t len)
{
	size_t o = 0;
	const struct cds_verdict_side *sides[2] = {&v->ds_side, &v->ns_side};
	buf[0] = '\0';
	for (int s = 0; s < 2; s++)
		for (size_t k = 0; k < sides[s]->reason_count && o < len; k++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
					      cds_reason_code(sides[s]->reasons[k]));
}

/* One column's array literal from n texts made by cell(o, i, buf). */
static char *column(const struct cds_db_outcome *o, size_t n,
		    const char *(*cell)(const struct cds_db_outcome *, char *, size_t))
{
	const char **v = calloc(n, sizeof(*v));
	char (*bufs)[2 * CDS_VERDICT_MAX_REASONS * 32] = calloc(n, sizeof(*bufs));
	char *out = NULL;
	if (v && bufs) {
		for (size_t i = 0; i < n; i++)
			v[i] = cell(&o[i], bufs[i], sizeof(bufs[i]));
		out = cds_db_pg_array(v, n);
	}
	free(v);
	free(bufs);
	return out;
}

static const char *cell_id(const struct cds_db_outcome *o, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)o->item->id);
	return buf;
}

static const char *cell_ds_action(const struct cds_db_outcome *o, char *buf, size_t len)
{
	return cds_action_name(o->v->ds_side.action);
}

static const char *cell_ns_action(const struct cds_db_outcome *o, char *buf, size_t len)
{
	return cds_action_name(o->v->ns_side.action);
}

static const char *cell_reasons(const struct cds_db_outcome *o, char *buf, size_t len)
{
	reasons_of(o->v, buf, len);
	return buf;
}

static const char *cell_json(const struct cds_db_outcome *o, char *buf, size_t len)
{
	return o->json;
}

/* Consecutive failures, this scan included (0: every server answered). */
static const char *cell_failures(const struct cds_db_outcome *o, char *buf, size_t len)
{
	snprintf(buf, len, "%d", o->failed ? o->item->failures + 1 : 0);
	return buf;
}

/* A side waits for other vantages (cds_db_vantage): due again soon. */
static const char *cell_held(const struct cds_db_outcome *o, char *buf, size_t len)
{
	return o->held ? "t" : "f";
}

static int columns_of(const struct cds_db_outcome *o, size_t n, struct columns *c)
{
	c->ids = column(o, n, cell_id);
	c->dsa = column(o, n, cell_ds_action);
	c->nsa = column(o, n, cell_ns_action);
	c->reasons = column(o, n, cell_reasons);
	c->json = column(o, n, cell_json);
	c->fails = column(o, n, cell_failures);
	c->held = column(o, n, cell_held);
	return c->ids && c->dsa && c->nsa && c->reasons && c->json && c->fails && c->held
		       ? 0
		       : CDS_ENOMEM;
}

/* The replay baseline (RFC 7344 §6.2) moves to the newest RRSIG inception
 * of the signal a new DS change set rests on: a later signal must not be
 * signed before it.  It never moves back. */
static int record_baseline(struct cds_db *db, const char *id, const struct cds_verdict *v,
			   char *err, size_t errlen)
{
	char inception[32];
	snprintf(inception, sizeof(inception), "%lld", (long long)v->signal_inception);
	const char *p[2] = {id, inception};
	return cds_db_exec(db,
			   "UPDATE delegations SET signal_baseline = greatest(signal_baseline,"
			   " to_timestamp($2::bigint)), updated_at = now() WHERE id = $1::bigint",
			   2, p, NULL, err, errlen);
}

/* An operator's CSYNC approval is good for one decision (RFC 7477 §2.1.1.2
 * leaves a CSYNC without the immediate flag to the operator, one CSYNC at a
 * time): forgotten once used, which the history shows. */
static int record_approval_used(struct cds_db *db, const char *id, const struct cds_verdict *v,
				char *err, size_t errlen)
{
	char why[128];
	snprintf(why, sizeof(why), "the approved CSYNC was processed (NS action %s)",
		 cds_action_name(v->ns_side.action));
	const char *p[2] = {id, why};
	return cds_db_exec(db,
			   "WITH u AS (UPDATE delegations SET csync_approved_serial = NULL,"
			   " updated_at = now() WHERE id = $1::bigint RETURNING id)"
			   " INSERT INTO domain_events (delegation_id, event, actor, reason)"
			   " SELECT id, 'csync-approval-used', 'scan', $2 FROM u",
			   2, p, NULL, err, errlen);
}

/* What one written delegation changes besides its result: observation,
 * change sets, baseline, approval.  Only the few that have one query. */
static int record_one(struct cds_db *db, struct cds_db_outcome *x, const char *result_id,
		      char *err, size_t errlen)
{
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)x->item->id);
	int r = record_observation(db, id, x->item, x->v, err, errlen);
	for (int k = 0; k < CDS_KIND_COUNT && r == 0; k++) {
		bool created = false;
		if (!x->changes[k])
			continue;
		r = record_change(db, id, result_id, x->changes[k], &created, err, errlen);
		x->changesets += created;
		if (r == 0 && created && k == CDS_KIND_DS && x->v->signal_inception > 0)
			r = record_baseline(db, id, x->v, err, errlen);
	}
	if (r == 0 && x->v->csync_approval_used)
		r = record_approval_used(db, id, x->v, err, errlen);
	return r;
}

/* Change sets and the rest of record_one.  res: the inserted results (id,
 * delegation id). */
static int record_changes(struct cds_db *db, PGresult *res, struct cds_db_outcome *o, size_t n,
			  char *err, size_t errlen)
{
	int r = 0;
	for (int row = 0; row < PQntuples(res) && r == 0; row++) {
		struct cds_db_outcome *x =
			outcome_by_id(o, n, strtoll(PQgetvalue(res, row, 1), NULL, 10));
		if (x)
			r = record_one(db, x, PQgetvalue(res, row, 0), err, errlen);
	}
	return r;
}

/* The failing addresses of a batch as array parameters, and the
 * delegations whose earlier failures are to be settled. */
struct failing {
	size_t n, nclean;
	char (*ids)[24];           /* text of each delegation id */
	const char **d, **name, **addr, **error; /* the failing servers */
	const char **clean;        /* delegations that had rows at the claim */
};

static void failing_free(struct failing *f)
{
	free(f->ids);
	free(f->d);
	free(f->name);
	free(f->addr);
	free(f->error);
	free(f->clean);
}

static int failing_of(const struct cds_db_outcome *o, size_t n, struct failing *f)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += o[i].v->server_count;
	f->ids = calloc(n ? n : 1, sizeof(*f->ids));
	f->clean = calloc(n ? n : 1, sizeof(*f->clean));
	f->d = calloc(total + 1, sizeof(*f->d));
	f->name = calloc(total + 1, sizeof(*f->name));
	f->addr = calloc(total + 1, sizeof(*f->addr));
	f->error = calloc(total + 1, sizeof(*f->error));
	if (!f->ids || !f->clean || !f->d || !f->name || !f->addr || !f->error)
		return CDS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "%lld", (long long)o[i].item->id);
		if (o[i].item->failing)
			f->clean[f->nclean++] = f->ids[i];
		for (size_t k = 0; k < o[i].v->server_count; k++) {
			const struct cds_verdict_server *s = &o[i].v->servers[k];
			if (s->ok)
				continue;
			f->d[f->n] = f->ids[i];
			f->name[f->n] = s->name;
			f->addr[f->n] = s->address;
			f->error[f->n++] = s->error;
		}
	}
	return 0;
}

/* Failing addresses (RFC 9975 §3): a row per address that gave no usable
 * answer, counted on while it keeps failing, gone once it answers (or is no
 * longer asked).  Two statements for the whole batch, each skipped when
 * it has nothing to do (most batches). */
static int record_failures(struct cds_db *db, const struct cds_db_outcome *o, size_t n,
			   char *err, size_t errlen)
{
	struct failing f = {0};
	char *a[5] = {0};
	int r = failing_of(o, n, &f);
	if (r != 0 || (f.n == 0 && f.nclean == 0))
		goto out;
	a[0] = cds_db_pg_array(f.clean, f.nclean);
	a[1] = cds_db_pg_array(f.d, f.n);
	a[2] = cds_db_pg_array(f.name, f.n);
	a[3] = cds_db_pg_array(f.addr, f.n);
	a[4] = cds_db_pg_array(f.error, f.n);
	if (!a[0] || !a[1] || !a[2] || !a[3] || !a[4]) {
		r = CDS_ENOMEM;
		goto out;
	}
	if (f.nclean)
		r = cds_db_exec(db,
				"DELETE FROM server_failures sf WHERE sf.delegation_id = ANY($1::bigint[])"
				" AND NOT EXISTS (SELECT 1 FROM unnest($2::bigint[], $3::text[], $4::text[])"
				"   AS s(d, n, a) WHERE s.d = sf.delegation_id AND s.n = sf.ns_name"
				"   AND s.a = sf.address)",
				4, (const char *const *)a, NULL, err, errlen);
	if (r == 0 && f.n)
		r = cds_db_exec(db,
				"INSERT INTO server_failures AS sf (delegation_id, ns_name, address,"
				" first_failed_at, last_failed_at, failures, last_error)"
				" SELECT DISTINCT ON (d, n, a) d, n, a, now(), now(), 1, e"
				" FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
				"   AS s(d, n, a, e)"
				" ON CONFLICT (delegation_id, ns_name, address) DO UPDATE SET"
				" last_failed_at = now(), failures = sf.failures + 1,"
				" last_error = EXCLUDED.last_error",
				4, (const char *const *)a + 1, NULL, err, errlen);
out:
	for (int i = 0; i < 5; i++)
		free(a[i]);
	failing_free(&f);
	return r;
}

/* The next due time of every written delegation: scan.interval after a
 * scan in which every server answered; after one with an unusable server
 * (RFC 9975 §3: retry an unresponsive server with exponential back-off
 * before giving up on it) retry-after, doubled for each consecutive such
 * scan, at most max(max-backoff, interval). */
static int record_schedule(struct cds_db *db, const struct columns *c,
			   const struct cds_db_schedule *sched, char *err, size_t errlen)
{
	char interval[32], retry[32], cap[32];
	snprintf(interval, sizeof(interval), "%llu", (unsigned long long)sched->interval_s);
	snprintf(retry, sizeof(retry), "%llu", (unsigned long long)sched->retry_after_s);
	snprintf(cap, sizeof(cap), "%llu", (unsigned long long)sched->max_backoff_s);
	const char *p[6] = {c->ids, interval, c->fails, retry, cap, c->held};
	return cds_db_exec(db,
			   "UPDATE delegations AS d SET consecutive_failures = t.f,"
			   " leased_until = NULL,"
			   " next_scan_at = now() + make_interval(secs => CASE"
			   "   WHEN t.f = 0 AND t.h THEN least($4::double precision, $2::double precision)"
			   "   WHEN t.f = 0 THEN $2::double precision"
			   "   ELSE least($4::double precision * power(2, least(t.f - 1, 60)),"
			   "              greatest($5::double precision, $2::double precision)) END),"
			   " updated_at = now()"
			   " FROM unnest($1::bigint[], $3::integer[], $6::boolean[]) AS t(id, f, h)"
			   " WHERE d.id = t.id",
			   6, p, NULL, err, errlen);
}

/* The results of a batch in one statement (a statement per row was a fifth
 * of the scan's time). */
#define INSERT_RESULTS                                                                      \
	"INSERT INTO scan_results (delegation_id, scanned_at, dry_run, ds_action,"            \
	" ns_action, reasons, verdict, scanner)"                                              \
	" SELECT t.d, now(), $2::boolean, t.a, t.b, string_to_array(t.r, ','),"               \
	" t.v::json, $7"                                                                      \
	" FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])"          \
	"   AS t(d, a, b, r, v)"                                                              \
	" RETURNING id, delegation_id"
static const char insert_results_sql[] = INSERT_RESULTS;
/*
 * The same, returning each delegation's previous result beside the new one
 * (the report's trends): one probe of scan_results_delegation per row, in
 * the same round trip.  The sub-statements of a WITH share one snapshot, so
 * the look-up does not see the rows the insert adds.  A dry run ($2)
 * compares with the newest result of any kind, a real scan with the newest
 * real one.  The reject reasons are read from the stored verdict only for a
 * side that was rejected (the reasons column mixes both sides' codes).
 * Ordered by scanned_at alone, the index's order, so the probe stops at
 * the first row that passes: an id tie-break made it an incremental sort
 * that read every row of the newest time, verdicts and all (twice the
 * time, bench/RESULTS.md), for a tie that only two results of one
 * delegation in one transaction could make.
 */
static const char insert_previous_sql[] =
	"WITH n AS (" INSERT_RESULTS ")"
	" SELECT n.id, n.delegation_id, p.dry_run,"
	" floor(extract(epoch FROM p.scanned_at))::bigint, p.ds_action, p.ns_action, p.rejected"
	" FROM n LEFT JOIN LATERAL (SELECT s.dry_run, s.scanned_at, s.ds_action, s.ns_action,"
	"   (SELECT string_agg(e.x, ',' ORDER BY e.i) FROM jsonb_array_elements_text("
	"      CASE WHEN s.ds_action = 'reject' THEN "
	"        " CDS_DB_VERDICT("s") "->'ds'->'reasons'"
	"           ELSE '[]'::jsonb END ||"
	"      CASE WHEN s.ns_action = 'reject' THEN "
	"        " CDS_DB_VERDICT("s") "->'ns'->'reasons'"
	"           ELSE '[]'::jsonb END) WITH ORDINALITY AS e(x, i)) AS rejected"
	"   FROM scan_results s WHERE s.delegation_id = n.delegation_id"
	"     AND ($2::boolean OR NOT s.dry_run)"
	"   ORDER BY s.scanned_at DESC LIMIT 1) p ON true";

/* One row of insert_previous_sql into p.  At most rejected's size of
 * reasons are kept (a verdict has no more), unknown codes left out. */
static void previous_of(PGresult *res, int row, struct cds_verdict_previous *p)
{
	memset(p, 0, sizeof(*p));
	if (PQgetisnull(res, row, 2))
		return; /* no earlier result */
	p->known = true;
	p->dry_run = PQgetvalue(res, row, 2)[0] == 't';
	p->scanned_at = (time_t)strtoll(PQgetvalue(res, row, 3), NULL, 10);
	if (cds_action_parse(PQgetvalue(res, row, 4), &p->ds_action) != 0)
		p->ds_action = CDS_ACTION_NONE;
	if (cds_action_parse(PQgetvalue(res, row, 5), &p->ns_action) != 0)
		p->ns_action = CDS_ACTION_NONE;
	size_t max = sizeof(p->rejected) / sizeof(p->rejected[0]);
	for (const char *s = PQgetvalue(res, row, 6); *s && p->rejected_count < max;) {
		char code[64];
		size_t l = strcspn(s, ",");
		snprintf(code, sizeof(code), "%.*s", (int)(l < sizeof(code) ? l : 0), s);
		if (cds_reason_parse(code, &p->rejected[p->rejected_count]) == 0)
			p->rejected_count++;
		s += l + (s[l] == ',');
	}
}

/* The previous results insert_previous_sql returned, into o. */
static void record_previous(PGresult *res, struct cds_db_outcome *o, size_t n)
{
	for (int row = 0; row < PQntuples(res); row++) {
		struct cds_db_outcome *x =
			outcome_by_id(o, n, strtoll(PQgetvalue(res, row, 1), NULL, 10));
		if (x)
			previous_of(res, row, &x->previous);
	}
}

/* The results of o[0..n) (in id order) in the open transaction. */
/* Each delegation's remembered verifications replaced by what its scan
 * made or reused (0008_dnskey_cache.sql), in one statement, only for those
 * whose set changed: an unchanged signed zone costs no write. */
static const char sigcache_sql[] =
	"WITH gone AS (DELETE FROM dnskey_cache WHERE delegation_id = ANY($3::bigint[])) "
	"INSERT INTO dnskey_cache (delegation_id, entries)"
	" SELECT t.id, decode(t.h, 'hex') FROM unnest($1::bigint[], $2::text[]) AS t(id, h)"
	" ON CONFLICT (delegation_id) DO UPDATE SET entries = EXCLUDED.entries, updated_at = now()";

/* Append to a growing PostgreSQL array literal ("{" first). */
static int lit_add(char **buf, size_t *len, size_t *cap, const char *s, size_t slen)
{
	if (*len + slen + 3 > *cap) {
		size_t nc = (*cap + slen + 3) * 2;
		char *g = realloc(*buf, nc);
		if (!g)
			return CDS_ENOMEM;
		*buf = g;
		*cap = nc;
	}
	char sep = *len ? ',' : '{';
	(*buf)[(*len)++] = sep;
	memcpy(*buf + *len, s, slen);
	*len += slen;
	(*buf)[*len] = '\0';
	return 0;
}

static int record_sigcache(struct cds_db *db, const struct cds_db_outcome *o, size_t n,
			   char *err, size_t errlen)
{
	struct lit {
		char *b;
		size_t len, cap;
	} ids = {0}, hex = {0}, gone = {0};
	int r = 0;
	size_t writes = 0, deletes = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct cds_sigcache *c = o[i].item->d.sigcache;
		uint8_t *blob = NULL;
		size_t blen = 0;
		bool changed = false;
		if (!c || (r = cds_sigcache_save(c, &blob, &blen, &changed)) != 0 || !changed) {
			free(blob); /* (NULL: nothing to write) */
			continue;
		}
		char id[24];
		int il = snprintf(id, sizeof(id), "%lld", (long long)o[i].item->id);
		if (!blob) {
			r = lit_add(&gone.b, &gone.len, &gone.cap, id, (size_t)il);
			deletes++;
			continue;
		}
		/* Hex by table: a first scan writes a few KB per signed zone,
		 * and snprintf per octet cost more than the verifications
		 * (decode(..., 'hex') takes either case). */
		char *h = malloc(2 * blen + 1);
		r = h ? 0 : CDS_ENOMEM;
		if (h)
			cds_hex_upper(blob, blen, h);
		if (r == 0 && (r = lit_add(&ids.b, &ids.len, &ids.cap, id, (size_t)il)) == 0)
			r = lit_add(&hex.b, &hex.len, &hex.cap, h, 2 * blen);
		writes++;
		free(h);
		free(blob);
	}
	if (r == 0 && (writes || deletes)) {
		const char *p[3] = {writes ? ids.b : "{}", writes ? hex.b : "{}",
				    deletes ? gone.b : "{}"};
		/* lit_add leaves the closing brace to here. */
		if (writes) {
			ids.b[ids.len] = '}';
			hex.b[hex.len] = '}';
			ids.b[ids.len + 1] = hex.b[hex.len + 1] = '\0';
		}
		if (deletes) {
			gone.b[gone.len] = '}';
			gone.b[gone.len + 1] = '\0';
		}
		r = cds_db_exec(db, sigcache_sql, 3, p, NULL, err, errlen);
	}
	free(ids.b);
	free(hex.b);
	free(gone.b);
	return r;
}

static int record_batch(struct cds_db *db, struct cds_db_outcome *o, size_t n, bool dry_run,
			bool previous, const struct cds_db_schedule *sched, char *err,
			size_t errlen)
{
	char scanner[300], host[256] = "?";
	struct columns c = {0};
	PGresult *res = NULL;
	int r;

	if (n == 0)
		return 0;
	gethostname(host, sizeof(host) - 1);
	snprintf(scanner, sizeof(scanner), "%s:%ld", host, (long)getpid());
	for (size_t i = 0; i < n; i++)
		o[i].changesets = 0;
	if ((r = columns_of(o, n, &c)) != 0)
		goto out;
	const char *p1[7] = {c.ids, dry_run ? "true" : "false", c.dsa, c.nsa, c.reasons, c.json,
			     scanner};
	r = cds_db_exec(db, previous ? insert_previous_sql : insert_results_sql, 7, p1, &res, err,
			errlen);
	if (r == 0 && previous)
		record_previous(res, o, n);
	/* A pure cryptographic fact, not state a decision reads: kept by dry
	 * runs too. */
	if (r == 0)
		r = record_sigcache(db, o, n, err, errlen);
	/* A dry run decides and reports: the state the next decision reads
	 * (change sets, baseline, failures, schedule) stays as it was. */
	if (r != 0 || dry_run || (r = record_changes(db, res, o, n, err, errlen)) != 0 ||
	    (r = record_failures(db, o, n, err, errlen)) != 0)
		goto out;
	r = record_schedule(db, &c, sched, err, errlen);
	if (r == 0 && sched->notices)
		r = cds_db_record_notices(db, o, n, sched->notice_repeat, err, errlen);
out:
	PQclear(res);
	columns_free(&c);
	return r;
}

void cds_db_batch_free(struct cds_db_batch *b)
{
	free_items(b);
}

/* The one number a count(*) statement without parameters gives. */
static int count_of(struct cds_db *db, const char *sql, uint64_t *out, char *err, size_t errlen)
{
	PGresult *res = NULL;
	int r = cds_db_exec(db, sql, 0, NULL, &res, err, errlen);
	if (r != 0)
		return r;
	*out = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int cds_db_count_due(struct cds_db *db, uint64_t *out, char *err, size_t errlen)
{
	return count_of(db,
			"SELECT count(*) FROM delegations"
			" WHERE removed_at IS NULL AND " CDS_DB_DUE(""),
			out, err, errlen);
}

int cds_db_prune_results(struct cds_db *db, uint64_t age_s, char *err, size_t errlen)
{
	char age[32];
	snprintf(age, sizeof(age), "%llu", (unsigned long long)age_s);
	const char *params[1] = {age};
	int r = cds_db_exec(db,
			    "DELETE FROM scan_results"
			    " WHERE scanned_at < now() - make_interval(secs => $1::double precision)",
			    1, params, NULL, err, errlen);
	/* Notices as long as results: those routed with no delivery left
	 * pending (their deliveries go with them). */
	if (r == 0)
		r = cds_db_exec(db,
				"DELETE FROM notices n WHERE n.routed_at IS NOT NULL"
				" AND n.created_at < now() - make_interval(secs => $1::double precision)"
				" AND NOT EXISTS (SELECT 1 FROM notice_deliveries nd"
				"   WHERE nd.notice_id = n.id AND nd.state = 'pending')",
				1, params, NULL, err, errlen);
	/* Vantage observations count for nothing beyond scan.vantage-window,
	 * which is at most 30 days (conf.c): older than that and than the
	 * retention, those of a vantage no longer scanning go. */
	if (r == 0)
		r = cds_db_exec(db,
				"DELETE FROM vantage_observations WHERE observed_at < now() -"
				" greatest(make_interval(secs => $1::double precision),"
				"          interval '30 days')",
				1, params, NULL, err, errlen);
	return r;
}

/* A delegation left unscanned (its registry scans CDS itself): only its
 * next due time moves. */
static int skip_one(struct cds_db *db, const struct cds_db_item *item, uint64_t interval_s,
		    char *err, size_t errlen)
{
	char id[32], interval[32];
	snprintf(id, sizeof(id), "%lld", (long long)item->id);
	snprintf(interval, sizeof(interval), "%llu", (unsigned long long)interval_s);
	const char *p[2] = {id, interval};
	return cds_db_exec(db,
			   "UPDATE delegations SET next_scan_at = now() + make_interval(secs =>"
			   " $2::double precision), leased_until = NULL, updated_at = now()"
			   " WHERE id = $1",
			   2, p, NULL, err, errlen);
}

/* ------------------------------------------------ vantage agreement --- */

/* The batch's delegations (outcomes and skipped) as an id array literal. */
static char *batch_ids(const struct cds_db_outcome *o, size_t n,
		       const struct cds_db_item *const *skipped, size_t nskipped)
{
	size_t len = 3 + (n + nskipped) * 21;
	char *arr = malloc(len), *p = arr;
	if (!arr)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n + nskipped; i++) {
		int64_t id = i < n ? o[i].item->id : skipped[i - n]->id;
		p += snprintf(p, len - (size_t)(p - arr), "%s%lld", i ? "," : "", (long long)id);
	}
	snprintf(p, len - (size_t)(p - arr), "}");
	return arr;
}

/* This vantage's observations of the batch (0009_vantages.sql): one row per
 * delegation, side and vantage, replaced by each scan. */
static int vantage_record(struct cds_db *db, const struct cds_db_outcome *o, size_t n,
			  const char *self, char *err, size_t errlen)
{
	size_t m = 0;
	const char **ids = calloc(2 * n + 1, sizeof(*ids)), **kinds = calloc(2 * n + 1, sizeof(*kinds)),
		   **fps = calloc(2 * n + 1, sizeof(*fps));
	char (*idtxt)[24] = calloc(n + 1, sizeof(*idtxt));
	char *a[3] = {0};
	int r = CDS_ENOMEM;
	if (!ids || !kinds || !fps || !idtxt)
		goto out;
	for (size_t i = 0; i < n; i++) {
		snprintf(idtxt[i], sizeof(idtxt[i]), "%lld", (long long)o[i].item->id);
		for (int k = 0; k < CDS_KIND_COUNT; k++) {
			if (!o[i].vantage_fp[k])
				continue;
			ids[m] = idtxt[i];
			kinds[m] = cds_kind_name((enum cds_kind)k);
			fps[m++] = o[i].vantage_fp[k];
		}
	}
	r = 0;
	if (m == 0)
		goto out;
	a[0] = cds_db_pg_array(ids, m);
	a[1] = cds_db_pg_array(kinds, m);
	a[2] = cds_db_pg_array(fps, m);
	if (!a[0] || !a[1] || !a[2]) {
		r = CDS_ENOMEM;
		goto out;
	}
	const char *p[4] = {a[0], a[1], a[2], self};
	r = cds_db_exec(db,
			"INSERT INTO vantage_observations AS v (delegation_id, kind, vantage,"
			" fingerprint, observed_at)"
			" SELECT t.d, t.k, $4, t.f, now()"
			" FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(d, k, f)"
			" ON CONFLICT (delegation_id, kind, vantage) DO UPDATE SET"
			" fingerprint = EXCLUDED.fingerprint, observed_at = EXCLUDED.observed_at",
			4, p, NULL, err, errlen);
out:
	for (int i = 0; i < 3; i++)
		free(a[i]);
	free(ids);
	free(kinds);
	free(fps);
	free(idtxt);
	return r;
}

/* Does a side of x need the vantages' agreement: it observed something and
 * would change something? */
static bool vantage_wanted(const struct cds_db_outcome *x, enum cds_kind k)
{
	return x->vantage_fp[k] && cds_action_changes(cds_verdict_side_const(x->v, k)->action);
}

/* agree_cb for the sides of o[0..n) that need it, with the observations
 * res holds (delegation, kind, vantage, fingerprint, at, now; ordered by
 * delegation and kind). */
static int vantage_decide(struct cds_db_outcome *o, size_t n, PGresult *res,
			  const struct cds_db_vantage *vt)
{
	int rows = PQntuples(res), row = 0, r = 0;
	struct cds_vantage_seen *seen = calloc((size_t)rows + 1, sizeof(*seen));
	if (!seen)
		return CDS_ENOMEM;
	time_t now = rows ? (time_t)strtoll(PQgetvalue(res, 0, 5), NULL, 10) : time(NULL);
	for (size_t i = 0; i < n && r == 0; i++) {
		for (int k = 0; k < CDS_KIND_COUNT && r == 0; k++) {
			if (!vantage_wanted(&o[i], (enum cds_kind)k))
				continue;
			size_t m = 0;
			for (row = 0; row < rows; row++) {
				if (strtoll(PQgetvalue(res, row, 0), NULL, 10) != o[i].item->id ||
				    strcmp(PQgetvalue(res, row, 1), cds_kind_name((enum cds_kind)k)))
					continue;
				seen[m].vantage = PQgetvalue(res, row, 2);
				seen[m].fingerprint = PQgetvalue(res, row, 3);
				seen[m++].at = (time_t)strtoll(PQgetvalue(res, row, 4), NULL, 10);
			}
			r = vt->agree_cb(&o[i], (enum cds_kind)k, seen, m, now, vt->arg);
		}
	}
	free(seen);
	return r;
}

/*
 * The agreement step of cds_db_write_results (struct cds_db_vantage), in
 * its transaction, before anything else is written.  The lock is what
 * makes it atomic with the change set: a second vantage finishing the same
 * delegation at the same moment waits here until the first commits, then
 * reads its observation (READ COMMITTED: each statement sees what was
 * committed before it began) and, if the change set was made, meets it
 * open (one per delegation and kind, change_sets_one_open).  Every row of
 * the batch is locked, in id order, so that the schedule's update later in
 * the transaction takes no lock in another order (no deadlock between two
 * scanners).  A dry run locks and records nothing; it only reads.
 */
static int record_vantages(struct cds_db *db, struct cds_db_outcome *o, size_t n,
			   const struct cds_db_item *const *skipped, size_t nskipped, bool dry_run,
			   const struct cds_db_vantage *vt, char *err, size_t errlen)
{
	PGresult *res = NULL;
	bool any = false, wanted = false;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < CDS_KIND_COUNT; k++) {
			any |= o[i].vantage_fp[k] != NULL;
			wanted |= vantage_wanted(&o[i], (enum cds_kind)k);
		}
	if (!any)
		return 0;
	char *ids = batch_ids(o, n, skipped, dry_run ? 0 : nskipped);
	if (!ids)
		return CDS_ENOMEM;
	const char *p[1] = {ids};
	int r = 0;
	/* The open change sets first, as record_change and a sender (whose
	 * claim holds them while it suspends a domain the registry locked)
	 * take them: before the delegation.  Locked the other way round, a
	 * scan and a sender could wait for each other. */
	if (!dry_run)
		r = cds_db_exec(db,
				"SELECT 1 FROM change_sets WHERE delegation_id = ANY($1::bigint[])"
				" AND state IN ('pending', 'sent') ORDER BY id FOR UPDATE",
				1, p, NULL, err, errlen);
	if (r == 0 && !dry_run)
		r = cds_db_exec(db,
				"SELECT id FROM delegations WHERE id = ANY($1::bigint[])"
				" ORDER BY id FOR UPDATE",
				1, p, NULL, err, errlen);
	if (r == 0 && !dry_run)
		r = vantage_record(db, o, n, vt->self, err, errlen);
	if (r == 0 && wanted)
		r = cds_db_exec(db,
				"SELECT delegation_id, kind, vantage, fingerprint,"
				" floor(extract(epoch FROM observed_at))::bigint,"
				" floor(extract(epoch FROM now()))::bigint"
				" FROM vantage_observations WHERE delegation_id = ANY($1::bigint[])"
				" ORDER BY delegation_id, kind, vantage",
				1, p, &res, err, errlen);
	free(ids);
	if (r == 0 && wanted)
		r = vantage_decide(o, n, res, vt);
	PQclear(res);
	return r;
}

static int outcome_cmp(const void *x, const void *y)
{
	const struct cds_db_outcome *a = x, *b = y;
	return a->item->id < b->item->id ? -1 : a->item->id > b->item->id;
}

int cds_db_write_results(struct cds_db *db, struct cds_db_outcome *o, size_t n,
			 const struct cds_db_item *const *skipped, size_t nskipped, bool dry_run,
			 bool previous, const struct cds_db_schedule *sched,
			 const struct cds_db_vantage *vantage, char *err, size_t errlen)
{
	int r = 0;
	if (n == 0 && (nskipped == 0 || dry_run))
		return 0;
	/* Delegations finish in any order; the results statement maps its
	 * returned ids back by binary search. */
	qsort(o, n, sizeof(*o), outcome_cmp);
	if ((r = cds_db_exec(db, "BEGIN", 0, NULL, NULL, err, errlen)) != 0)
		return r;
	if (vantage)
		r = record_vantages(db, o, n, skipped, nskipped, dry_run, vantage, err, errlen);
	for (size_t i = 0; i < nskipped && !dry_run && r == 0; i++)
		r = skip_one(db, skipped[i], sched->interval_s, err, errlen);
	if (r == 0)
		r = record_batch(db, o, n, dry_run, previous, sched, err, errlen);
	if (r == 0)
		r = cds_db_exec(db, "COMMIT", 0, NULL, NULL, err, errlen);
	if (r != 0)
		cds_db_rollback(db);
	return r;
}

int cds_db_release(struct cds_db *db, const int64_t *ids, size_t n, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	size_t len = 3 + n * 21;
	char *arr = malloc(len), *p = arr;
	if (!arr)
		return CDS_ENOMEM;
	*p++ = '{';
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, len - (size_t)(p - arr), "%s%lld", i ? "," : "", (long long)ids[i]);
	snprintf(p, len - (size_t)(p - arr), "}");
	const char *params[1] = {arr};
	int r = cds_db_exec(db,
			    "UPDATE delegations SET next_scan_at = least(next_scan_at, now()),"
			    " leased_until = NULL"
			    " WHERE id = ANY($1::bigint[]) AND leased_until IS NOT NULL",
			    1, params, NULL, err, errlen);
	free(arr);
	return r;
}

int cds_db_has_domain(struct cds_db *db, const char *domain, bool *found, char *err,
		      size_t errlen)
{
	PGresult *res = NULL;
	const char *params[1] = {domain};
	int r = cds_db_exec(db,
			    "SELECT 1 FROM delegations WHERE domain = $1 AND removed_at IS NULL",
			    1, params, &res, err, errlen);
	if (r != 0)
		return r;
	*found = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

int cds_db_count_active(struct cds_db *db, uint64_t *out, char *err, size_t errlen)
{
	return count_of(db, "SELECT count(*) FROM delegations WHERE removed_at IS NULL", out, err,
			errlen);
}
