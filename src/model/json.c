/* The model as JSON (json-c): the verdict of CONTRACT.md, and the change
 * set's payload as the store keeps it and the json adapter writes it.  The
 * only place these JSON forms are written or read. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/model.h"

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Add v to o at key, a string literal and not yet in o (each key is added
 * once): json-c then neither copies the key nor looks it up first, work
 * that a verdict of some forty keys, written for every scanned delegation,
 * does not need. */
static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add_ex(o, key, v,
	                          JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static json_object *json_strlist(const struct cds_strlist *l)
{
	/* Lists are sorted in the output, each string once (CONTRACT.md).
	 * Sorting pointers to the strings leaves the verdict as it is and
	 * copies none of them (copies were most of this function's time in a
	 * scan's profile); most lists have one or two entries. */
	const char *small[8], **p = l->n <= 8 ? small : malloc(l->n * sizeof(*p));
	json_object *a = json_object_new_array();
	if (!p) {
		json_object_put(a);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++)
		p[i] = l->v[i];
	if (l->n > 1)
		qsort(p, l->n, sizeof(*p), str_cmp);
	for (size_t i = 0; a && i < l->n; i++)
		if (i == 0 || strcmp(p[i - 1], p[i]) != 0)
			json_object_array_add(a, json_object_new_string(p[i]));
	if (p != small)
		free(p);
	return a;
}

static json_object *json_glue(const struct cds_verdict_glue *g, size_t n)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; o && i < n; i++)
		json_object_object_add(o, g[i].name, json_strlist(&g[i].addresses));
	return o;
}

/* Added to the contract: "bootstrap" in the DS side of an insecure
 * delegation with a signal: the RFC 9615 signals per NS host name, and the
 * accept-after-delay clock. */
static json_object *json_bootstrap(const struct cds_verdict_bootstrap *b)
{
	json_object *o = json_object_new_object();
	json_object *sigs = json_object_new_array();
	for (size_t i = 0; i < b->signal_count; i++) {
		const struct cds_verdict_signal *g = &b->signals[i];
		json_object *e = json_object_new_object();
		put(e, "ns", json_object_new_string(g->ns));
		put(e, "zone", g->zone[0] ? json_object_new_string(g->zone) : NULL);
		put(e, "status", json_object_new_string(cds_signal_status_name(g->status)));
		put(e, "cds", json_strlist(&g->cds));
		put(e, "cdnskey", json_strlist(&g->cdnskey));
		if (g->detail[0])
			put(e, "detail", json_object_new_string(g->detail));
		json_object_array_add(sigs, e);
	}
	put(o, "signals", sigs);
	if (b->observed) {
		char ts[32];
		json_object *ob = json_object_new_object();
		cds_time_format(b->first_seen, ts, sizeof(ts));
		put(ob, "first_seen", json_object_new_string(ts));
		put(ob, "scans", json_object_new_int64(b->scans));
		put(ob, "required_scans", json_object_new_int64(b->scans_needed));
		put(ob, "required_seconds", json_object_new_int64((int64_t)b->delay_needed_s));
		put(o, "observation", ob);
	}
	return o;
}

static json_object *json_side(const struct cds_verdict_side *s, const struct cds_verdict *v,
			      bool ns)
{
	json_object *o = json_object_new_object();
	json_object *rs = json_object_new_array();
	for (size_t i = 0; i < s->reason_count; i++)
		json_object_array_add(rs, json_object_new_string(cds_reason_code(s->reasons[i])));
	put(o, "action", json_object_new_string(cds_action_name(s->action)));
	put(o, "reasons", rs);
	put(o, "current", json_strlist(&s->current));
	put(o, "proposed", json_strlist(&s->proposed));
	put(o, "add", json_strlist(&s->add));
	put(o, "rem", json_strlist(&s->rem));
	if (ns) {
		put(o, "glue", json_glue(v->glue, v->glue_count));
		/* Added to the contract: the parent's glue, beside the proposed. */
		put(o, "current_glue", json_glue(v->glue_current, v->glue_current_count));
	} else if (v->bootstrap.signal_count || v->bootstrap.observed) {
		put(o, "bootstrap", json_bootstrap(&v->bootstrap));
	}
	if (s->detail[0])
		put(o, "detail", json_object_new_string(s->detail));
	return o;
}

static json_object *verdict_json(const struct cds_verdict *v)
{
	char ts[32];
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	cds_time_format(v->checked_at, ts, sizeof(ts));
	put(o, "domain", json_object_new_string(v->domain));
	put(o, "checked_at", json_object_new_string(ts));
	json_object *del = json_object_new_object();
	put(del, "ns", json_strlist(&v->ns));
	put(del, "ds", json_strlist(&v->ds));
	put(o, "delegation", del);
	put(o, "secure", json_object_new_boolean(v->secure));
	/* Added to the contract: `secure` was not checked (the scan asked no
	 * DNSKEY: no signal anywhere, scan.full-status off).  Only then. */
	if (!v->secure_checked)
		put(o, "secure_checked", json_object_new_boolean(false));
	json_object *servers = json_object_new_array();
	for (size_t i = 0; i < v->server_count; i++) {
		const struct cds_verdict_server *s = &v->servers[i];
		json_object *so = json_object_new_object();
		put(so, "name", json_object_new_string(s->name));
		put(so, "address", s->address[0] ? json_object_new_string(s->address) : NULL);
		put(so, "ok", json_object_new_boolean(s->ok));
		put(so, "error", s->ok ? NULL : json_object_new_string(s->error));
		put(so, "cds", json_strlist(&s->cds));
		put(so, "cdnskey", json_strlist(&s->cdnskey));
		put(so, "csync", s->csync ? json_object_new_string(s->csync) : NULL);
		json_object_array_add(servers, so);
	}
	put(o, "servers", servers);
	/* Added to the contract: addresses left out of the decision (RFC 9975
	 * §3 unreachable ones, resolver.address-families). */
	if (v->excluded.n)
		put(o, "excluded", json_strlist(&v->excluded));
	put(o, "ds", json_side(&v->ds_side, v, false));
	put(o, "ns", json_side(&v->ns_side, v, true));
	return o;
}

char *cds_verdict_to_json(const struct cds_verdict *v, bool pretty)
{
	json_object *o = verdict_json(v);
	if (!o)
		return NULL;
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			    : JSON_C_TO_STRING_PLAIN);
	const char *s = json_object_to_json_string_ext(o, flags);
	char *copy = s ? strdup(s) : NULL;
	json_object_put(o);
	return copy;
}

int cds_verdict_print_json(const struct cds_verdict *v, FILE *f)
{
	char *s = cds_verdict_to_json(v, true);
	if (!s)
		return CDS_ENOMEM;
	fputs(s, f);
	fputc('\n', f);
	free(s);
	return 0;
}


/* ------------------------------------------------------- change set --- */

static json_object *json_op(const struct cds_ns_op *op)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	put(o, "op", json_object_new_string(cds_ns_op_name(op->kind)));
	if (op->kind != CDS_NS_OP_DOMAIN_UPDATE)
		put(o, "name", json_object_new_string(op->name));
	if (op->kind == CDS_NS_OP_HOST_CREATE) {
		put(o, "addrs", json_strlist(&op->add));
	} else if (op->kind != CDS_NS_OP_HOST_DELETE) {
		put(o, "add", json_strlist(&op->add));
		put(o, "rem", json_strlist(&op->rem));
	}
	return o;
}

static json_object *payload_json(const struct cds_change_set *cs)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	put(o, "proposed", json_strlist(&cs->proposed));
	if (cs->kind == CDS_KIND_NS) {
		json_object *ops = json_object_new_array();
		put(o, "glue", json_glue(cs->glue, cs->glue_count));
		for (size_t i = 0; ops && i < cs->op_count; i++)
			json_object_array_add(ops, json_op(&cs->ops[i]));
		put(o, "ops", ops);
	} else if (cs->keys.n) {
		/* The keys, for registries that take keyData (RFC 5910). */
		put(o, "keys", json_strlist(&cs->keys));
	}
	return o;
}

/* o as plain JSON text (a copy owned by the caller); releases o. */
static char *json_text(json_object *o, int flags)
{
	if (!o)
		return NULL;
	const char *txt = json_object_to_json_string_ext(o, flags);
	char *out = txt ? strdup(txt) : NULL;
	json_object_put(o);
	return out;
}

char *cds_change_set_payload(const struct cds_change_set *cs)
{
	return json_text(payload_json(cs), JSON_C_TO_STRING_PLAIN);
}

char *cds_change_set_to_json(const struct cds_change_set *cs)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	put(o, "id", json_object_new_int64(cs->id));
	put(o, "domain", json_object_new_string(cs->domain));
	put(o, "kind", json_object_new_string(cds_kind_name(cs->kind)));
	put(o, "action", json_object_new_string(cds_action_name(cs->action)));
	put(o, "add", json_strlist(&cs->add));
	put(o, "rem", json_strlist(&cs->rem));
	put(o, "cltrid", json_object_new_string(cs->cltrid));
	put(o, "payload", payload_json(cs));
	return json_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The strings of a JSON array into l; anything but an array of strings
 * is CDS_EDATA. */
static int read_array(json_object *arr, struct cds_strlist *l)
{
	if (!json_object_is_type(arr, json_type_array))
		return CDS_EDATA;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(s, json_type_string))
			return CDS_EDATA;
		if (cds_strlist_add(l, json_object_get_string(s)) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* The array at key in o into l; a missing key is an empty list. */
static int read_strings(json_object *o, const char *key, struct cds_strlist *l)
{
	json_object *arr;
	return json_object_object_get_ex(o, key, &arr) ? read_array(arr, l) : 0;
}

static int read_glue(json_object *o, struct cds_change_set *cs)
{
	json_object *glue;
	if (!json_object_object_get_ex(o, "glue", &glue))
		return 0;
	if (!json_object_is_type(glue, json_type_object))
		return CDS_EDATA;
	json_object_object_foreach(glue, name, addrs)
	{
		struct cds_verdict_glue *g = cds_verdict_glue_add(&cs->glue, &cs->glue_count, name);
		if (!g)
			return CDS_ENOMEM;
		int r = read_array(addrs, &g->addresses);
		if (r != 0)
			return r;
	}
	return 0;
}

static int read_op(json_object *jo, struct cds_change_set *cs)
{
	json_object *v;
	const char *kind = json_object_object_get_ex(jo, "op", &v) ? json_object_get_string(v) : NULL;
	const char *name = json_object_object_get_ex(jo, "name", &v) ? json_object_get_string(v)
								     : NULL;
	int k = 0;
	while (k < CDS_NS_OP_COUNT && (!kind || strcmp(cds_ns_op_name(k), kind) != 0))
		k++;
	if (k == CDS_NS_OP_COUNT || (k != CDS_NS_OP_DOMAIN_UPDATE && (!name || !*name)))
		return CDS_EDATA;
	struct cds_ns_op *op = cds_change_set_add_op(cs, (enum cds_ns_op_kind)k, name);
	if (!op)
		return CDS_ENOMEM;
	if (k == CDS_NS_OP_HOST_CREATE)
		return read_strings(jo, "addrs", &op->add);
	int r = read_strings(jo, "add", &op->add);
	return r ? r : read_strings(jo, "rem", &op->rem);
}

static int read_payload(json_object *o, struct cds_change_set *cs)
{
	json_object *ops;
	int r;
	if (!json_object_is_type(o, json_type_object))
		return CDS_EDATA;
	if ((r = read_strings(o, "proposed", &cs->proposed)) != 0 ||
	    (r = read_strings(o, "keys", &cs->keys)) != 0 || (r = read_glue(o, cs)) != 0)
		return r;
	if (!json_object_object_get_ex(o, "ops", &ops))
		return 0;
	if (!json_object_is_type(ops, json_type_array))
		return CDS_EDATA;
	for (size_t i = 0; i < json_object_array_length(ops); i++)
		if ((r = read_op(json_object_array_get_idx(ops, i), cs)) != 0)
			return r;
	return 0;
}

int cds_change_set_read_payload(struct cds_change_set *cs, const char *json)
{
	json_object *o = json ? json_tokener_parse(json) : NULL;
	if (!o)
		return CDS_EDATA;
	int r = read_payload(o, cs);
	json_object_put(o);
	return r;
}
