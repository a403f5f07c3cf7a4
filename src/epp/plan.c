/* From a change set to the EPP commands that carry it, in the order an EPP
 * server accepts them (RFC 5731, RFC 5732): for NS changes with host
 * objects, hosts are created or given their new addresses before the domain
 * points to them, and deleted only after it no longer does. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/epp.h"
#include "cdscan/error.h"

void cds_epp_plan_free(struct cds_epp_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].xml);
		free(p->steps[i].want);
	}
	free(p->steps);
	memset(p, 0, sizeof(*p));
}

static struct cds_epp_step *step_new(struct cds_epp_plan *p, int role, const char *cltrid,
				     const char *what, const char *name)
{
	struct cds_epp_step *n = realloc(p->steps, (p->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->steps = n;
	struct cds_epp_step *s = &n[p->n++];
	memset(s, 0, sizeof(*s));
	s->role = role;
	snprintf(s->what, sizeof(s->what), "%s %s", what, name);
	/* The clTRID of each command is stable across resends: the change
	 * set's, with the step for host commands. */
	if (role == 0) {
		snprintf(s->cltrid, sizeof(s->cltrid), "%s", cltrid);
	} else {
		unsigned k = 0;
		for (size_t i = 0; i + 1 < p->n; i++)
			k += p->steps[i].role == role;
		snprintf(s->cltrid, sizeof(s->cltrid), "%s-%s%u", cltrid, role < 0 ? "b" : "a",
			 k + 1);
		snprintf(s->suffix, sizeof(s->suffix), "%s-%u", role < 0 ? "before" : "after", k + 1);
	}
	return s;
}

/* The strings of a JSON array (borrowed from the object). */
static size_t strings(json_object *arr, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; arr && i < json_object_array_length(arr) && n < max; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
		if (t)
			out[n++] = t;
	}
	return n;
}

#define MAX_ITEMS 64

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The state a step must leave: items normalised (no trailing dot on
 * names, as EPP writes them), sorted, joined by ','. */
int cds_epp_want(const char *const *items, size_t n, bool names, char **out)
{
	const char *v[MAX_ITEMS];
	size_t len = 1;
	if (n > MAX_ITEMS)
		n = MAX_ITEMS;
	for (size_t i = 0; i < n; i++) {
		v[i] = items[i];
		len += strlen(items[i]) + 1;
	}
	qsort(v, n, sizeof(v[0]), cmp_str);
	char *s = malloc(len), *p = s;
	if (!s)
		return CDS_ENOMEM;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (names && l > 1 && v[i][l - 1] == '.')
			l--;
		p += sprintf(p, "%s%.*s", i ? "," : "", (int)l, v[i]);
	}
	*out = s;
	return 0;
}

static int plan_ds(const struct cds_epp_change_in *in, struct cds_epp_plan *p)
{
	const char *keys[MAX_ITEMS];
	size_t nkeys = 0;
	json_object *o = in->payload ? json_tokener_parse(in->payload) : NULL, *arr;
	if (o && json_object_object_get_ex(o, "keys", &arr))
		nkeys = strings(arr, keys, MAX_ITEMS);
	struct cds_epp_ds_change c = {
		.domain = in->domain, .cltrid = in->cltrid,
		.remove_all = strcmp(in->action, "delete") == 0,
		.add = in->add, .nadd = in->nadd, .rem = in->rem, .nrem = in->nrem,
		.key_data = in->key_data, .had_ds = strcmp(in->action, "bootstrap") != 0,
		.keys = keys, .nkeys = nkeys};
	struct cds_epp_step *s = step_new(p, 0, in->cltrid, "domain:update (DS)", in->domain);
	int r = s ? cds_epp_ds_update(&c, &s->xml, &s->len) : CDS_ENOMEM;
	if (r == 0) {
		/* In place: the proposed DS set (keys for keyData; none after a
		 * delete). */
		const char *prop[MAX_ITEMS];
		size_t np = 0;
		if (o && json_object_object_get_ex(o, "proposed", &arr))
			np = strings(arr, prop, MAX_ITEMS);
		s->check = in->key_data ? CDS_EPP_CHECK_KEYS : CDS_EPP_CHECK_DS;
		if (c.remove_all)
			r = cds_epp_want(NULL, 0, false, &s->want);
		else if (in->key_data)
			r = cds_epp_want(keys, nkeys, false, &s->want);
		else
			r = cds_epp_want(prop, np, false, &s->want);
	}
	json_object_put(o);
	return r;
}

static int host_step(struct cds_epp_plan *p, int role, const char *cltrid,
		     enum cds_epp_host_op op, const char *name, json_object *add, json_object *rem,
		     json_object *glue)
{
	static const char *const what[] = {"host:create", "host:update", "host:delete"};
	const char *a[MAX_ITEMS], *b[MAX_ITEMS];
	struct cds_epp_host_change c = {.op = op, .host = name,
					.add = a, .nadd = strings(add, a, MAX_ITEMS),
					.rem = b, .nrem = strings(rem, b, MAX_ITEMS)};
	struct cds_epp_step *s = step_new(p, role, cltrid, what[op], name);
	if (!s)
		return CDS_ENOMEM;
	c.cltrid = s->cltrid;
	s->host_op = (int)op;
	snprintf(s->host, sizeof(s->host), "%s", name);
	int r = cds_epp_host_command(&c, &s->xml, &s->len);
	if (r != 0)
		return r;
	/* In place: the host's addresses as the change wants them (glue), or
	 * the host gone. */
	s->check = op == CDS_EPP_HOST_DELETE ? CDS_EPP_CHECK_GONE : CDS_EPP_CHECK_HOST;
	const char *g[MAX_ITEMS];
	size_t ng = 0;
	json_object *addrs = NULL;
	if (glue && json_object_object_get_ex(glue, name, &addrs))
		ng = strings(addrs, g, MAX_ITEMS);
	return cds_epp_want(g, ng, false, &s->want);
}

/* A host command waiting for its place in the plan. */
struct host_op {
	int role;
	enum cds_epp_host_op op;
	const char *name;
	json_object *add, *rem;
};

static int plan_ns(const struct cds_epp_change_in *in, struct cds_epp_plan *p)
{
	json_object *o = in->payload ? json_tokener_parse(in->payload) : NULL;
	json_object *ops = NULL, *glue = NULL;
	if (!o || !json_object_object_get_ex(o, "ops", &ops) ||
	    !json_object_is_type(ops, json_type_array)) {
		json_object_put(o);
		return CDS_EDATA;
	}
	json_object_object_get_ex(o, "glue", &glue);
	struct cds_epp_host add[MAX_ITEMS], rem[MAX_ITEMS];
	const char *addrs[MAX_ITEMS][16];
	struct host_op hops[MAX_ITEMS];
	size_t nadd = 0, nrem = 0, nh = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(ops); i++) {
		json_object *op = json_object_array_get_idx(ops, i), *v;
		const char *kind = json_object_object_get_ex(op, "op", &v) ? json_object_get_string(v)
									    : "";
		const char *name = json_object_object_get_ex(op, "name", &v)
					   ? json_object_get_string(v)
					   : NULL;
		json_object *a = NULL, *b = NULL;
		json_object_object_get_ex(op, "add", &a);
		json_object_object_get_ex(op, "rem", &b);
		if (strcmp(kind, "domain-update") == 0) {
			const char *names[MAX_ITEMS];
			size_t n = strings(a, names, MAX_ITEMS);
			for (size_t k = 0; k < n && nadd < MAX_ITEMS; k++)
				add[nadd++] = (struct cds_epp_host){.name = names[k]};
			n = strings(b, names, MAX_ITEMS);
			for (size_t k = 0; k < n && nrem < MAX_ITEMS; k++)
				rem[nrem++] = (struct cds_epp_host){.name = names[k]};
		} else if (!name || nh >= MAX_ITEMS) {
			r = CDS_EDATA;
		} else if (in->host_attr) {
			/* No host objects: a host whose addresses change is
			 * removed and added again with the new ones. */
			if (strcmp(kind, "host-update") == 0 && nadd < MAX_ITEMS && nrem < MAX_ITEMS) {
				rem[nrem++] = (struct cds_epp_host){.name = name};
				add[nadd++] = (struct cds_epp_host){.name = name};
			}
		} else if (strcmp(kind, "host-create") == 0) {
			json_object *all = NULL;
			json_object_object_get_ex(op, "addrs", &all);
			hops[nh++] = (struct host_op){-1, CDS_EPP_HOST_CREATE, name, all, NULL};
		} else if (strcmp(kind, "host-update") == 0) {
			hops[nh++] = (struct host_op){-1, CDS_EPP_HOST_UPDATE, name, a, b};
		} else if (strcmp(kind, "host-delete") == 0) {
			hops[nh++] = (struct host_op){1, CDS_EPP_HOST_DELETE, name, NULL, NULL};
		} else {
			r = CDS_EDATA;
		}
	}
	/* Without a domain update (glue changes only) the last host command
	 * is the change set's own (its clTRID, the DOMAIN-ID.xml file). */
	bool domain_update = nadd || nrem;
	if (!domain_update && nh)
		hops[nh - 1].role = 0;
	for (size_t k = 0; in->host_attr && k < nadd; k++) {
		json_object *g = NULL;
		if (glue && json_object_object_get_ex(glue, add[k].name, &g)) {
			add[k].naddrs = strings(g, addrs[k], 16);
			add[k].addrs = addrs[k];
		}
	}
	for (int role = -1; r == 0 && role <= 1; role++) {
		for (size_t k = 0; r == 0 && k < nh; k++)
			if (hops[k].role == role)
				r = host_step(p, role, in->cltrid, hops[k].op, hops[k].name,
					      hops[k].add, hops[k].rem, glue);
		if (role == 0 && domain_update && r == 0) {
			struct cds_epp_ns_change c = {.domain = in->domain, .cltrid = in->cltrid,
						      .host_attr = in->host_attr, .add = add,
						      .nadd = nadd, .rem = rem, .nrem = nrem};
			struct cds_epp_step *s =
				step_new(p, 0, in->cltrid, "domain:update (NS)", in->domain);
			r = s ? cds_epp_ns_update(&c, &s->xml, &s->len) : CDS_ENOMEM;
			json_object *prop = NULL;
			const char *names[MAX_ITEMS];
			size_t nn = json_object_object_get_ex(o, "proposed", &prop)
					    ? strings(prop, names, MAX_ITEMS)
					    : 0;
			if (r == 0) {
				s->check = CDS_EPP_CHECK_NS;
				r = cds_epp_want(names, nn, true, &s->want);
			}
		}
	}
	if (r == 0 && p->n == 0)
		r = CDS_EDATA; /* a change set with nothing to send */
	json_object_put(o);
	return r;
}

int cds_epp_plan(const struct cds_epp_change_in *in, struct cds_epp_plan *out)
{
	memset(out, 0, sizeof(*out));
	int r = strcmp(in->kind, "ns") == 0 ? plan_ns(in, out) : plan_ds(in, out);
	if (r != 0)
		cds_epp_plan_free(out);
	return r;
}
