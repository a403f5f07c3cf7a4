/* From a change set to the EPP commands that carry it, in the order an EPP
 * server accepts them (RFC 5731, RFC 5732): for NS changes with host
 * objects, hosts are created or given their new addresses before the domain
 * points to them, and deleted only after it no longer does.  The change
 * set's operations are already in that order (policy/change.c); the plan
 * turns them into documents and says how to check each one is in place. */
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The state a step must leave: items normalised (no trailing dot on
 * names, as EPP writes them), sorted, joined by ','. */
int cds_epp_want(const char *const *items, size_t n, bool names, char **out)
{
	const char **v = calloc(n ? n : 1, sizeof(*v));
	size_t len = 1;
	if (!v)
		return CDS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = items[i];
		len += strlen(items[i]) + 1;
	}
	qsort(v, n, sizeof(v[0]), cmp_str);
	char *s = malloc(len), *p = s;
	if (!s) {
		free(v);
		return CDS_ENOMEM;
	}
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (names && l > 1 && v[i][l - 1] == '.')
			l--;
		p += sprintf(p, "%s%.*s", i ? "," : "", (int)l, v[i]);
	}
	free(v);
	*out = s;
	return 0;
}

static int want_of(const struct cds_strlist *l, bool names, char **out)
{
	return cds_epp_want((const char *const *)l->v, l->n, names, out);
}

static int plan_ds(const struct cds_change_set *cs, const struct cds_epp_profile *pr,
		   struct cds_epp_plan *p)
{
	bool key_data = pr->ds_interface == CDS_KEY_DATA;
	struct cds_epp_ds_change c = {
		.domain = cs->domain, .cltrid = cs->cltrid,
		.remove_all = cs->action == CDS_ACTION_DELETE,
		.add = (const char *const *)cs->add.v, .nadd = cs->add.n,
		.rem = (const char *const *)cs->rem.v, .nrem = cs->rem.n,
		.key_data = key_data, .had_ds = cs->action != CDS_ACTION_BOOTSTRAP,
		.keys = (const char *const *)cs->keys.v, .nkeys = cs->keys.n};
	struct cds_epp_step *s = step_new(p, 0, cs->cltrid, "domain:update (DS)", cs->domain);
	int r = s ? cds_epp_ds_update(&c, &s->xml, &s->len) : CDS_ENOMEM;
	if (r != 0)
		return r;
	/* In place: the proposed DS set (keys for keyData; none after a
	 * delete). */
	static const struct cds_strlist none;
	s->check = key_data ? CDS_EPP_CHECK_KEYS : CDS_EPP_CHECK_DS;
	return want_of(c.remove_all ? &none : key_data ? &cs->keys : &cs->proposed, false,
		       &s->want);
}

static int host_step(struct cds_epp_plan *p, int role, const struct cds_change_set *cs,
		     enum cds_epp_host_op op, const struct cds_ns_op *o)
{
	static const char *const what[] = {"host:create", "host:update", "host:delete"};
	struct cds_epp_step *s = step_new(p, role, cs->cltrid, what[op], o->name);
	if (!s)
		return CDS_ENOMEM;
	struct cds_epp_host_change c = {.op = op, .host = o->name, .cltrid = s->cltrid,
					.add = (const char *const *)o->add.v, .nadd = o->add.n,
					.rem = (const char *const *)o->rem.v, .nrem = o->rem.n};
	s->host_op = op;
	snprintf(s->host, sizeof(s->host), "%s", o->name);
	int r = cds_epp_host_command(&c, &s->xml, &s->len);
	if (r != 0)
		return r;
	/* In place: the host's addresses as the change wants them (glue), or
	 * the host gone. */
	static const struct cds_verdict_glue none;
	const struct cds_verdict_glue *g = cds_verdict_glue_find(cs->glue, cs->glue_count, o->name);
	s->check = op == CDS_EPP_HOST_DELETE ? CDS_EPP_CHECK_GONE : CDS_EPP_CHECK_HOST;
	return want_of(&(g ? g : &none)->addresses, false, &s->want);
}

/* The name servers of a domain update, with their addresses for hostAttr
 * (from the proposed glue).  A host whose addresses change is removed and
 * added again (no host objects to update). */
struct ns_lists {
	struct cds_epp_host *add, *rem;
	size_t nadd, nrem;
};

static int ns_host(struct cds_epp_host **arr, size_t *n, const char *name,
		   const struct cds_change_set *cs, bool attrs)
{
	struct cds_epp_host *h = realloc(*arr, (*n + 1) * sizeof(*h));
	if (!h)
		return CDS_ENOMEM;
	*arr = h;
	h = &h[(*n)++];
	*h = (struct cds_epp_host){.name = name};
	const struct cds_verdict_glue *g = cds_verdict_glue_find(cs->glue, cs->glue_count, name);
	if (attrs && g) {
		h->addrs = (const char *const *)g->addresses.v;
		h->naddrs = g->addresses.n;
	}
	return 0;
}

static int ns_lists_of(const struct cds_change_set *cs, bool host_attr, struct ns_lists *l)
{
	int r = 0;
	for (size_t i = 0; i < cs->op_count && r == 0; i++) {
		const struct cds_ns_op *o = &cs->ops[i];
		if (o->kind == CDS_NS_OP_DOMAIN_UPDATE) {
			for (size_t k = 0; k < o->add.n && r == 0; k++)
				r = ns_host(&l->add, &l->nadd, o->add.v[k], cs, host_attr);
			for (size_t k = 0; k < o->rem.n && r == 0; k++)
				r = ns_host(&l->rem, &l->nrem, o->rem.v[k], cs, false);
		} else if (host_attr && o->kind == CDS_NS_OP_HOST_UPDATE) {
			r = ns_host(&l->rem, &l->nrem, o->name, cs, false);
			if (r == 0)
				r = ns_host(&l->add, &l->nadd, o->name, cs, true);
		}
	}
	return r;
}

static int domain_step(struct cds_epp_plan *p, const struct cds_change_set *cs, bool host_attr,
		       const struct ns_lists *l)
{
	struct cds_epp_ns_change c = {.domain = cs->domain, .cltrid = cs->cltrid,
				      .host_attr = host_attr, .add = l->add, .nadd = l->nadd,
				      .rem = l->rem, .nrem = l->nrem};
	struct cds_epp_step *s = step_new(p, 0, cs->cltrid, "domain:update (NS)", cs->domain);
	int r = s ? cds_epp_ns_update(&c, &s->xml, &s->len) : CDS_ENOMEM;
	if (r != 0)
		return r;
	s->check = CDS_EPP_CHECK_NS;
	return want_of(&cs->proposed, true, &s->want);
}

/* The role of a host operation: before the domain update, after it, or
 * (glue changes only: no domain update) the change set's own command. */
static int host_role(const struct cds_change_set *cs, size_t i, bool domain_update)
{
	if (cs->ops[i].kind == CDS_NS_OP_HOST_DELETE)
		return 1;
	if (domain_update)
		return -1;
	for (size_t k = i + 1; k < cs->op_count; k++)
		if (cs->ops[k].kind != CDS_NS_OP_HOST_DELETE)
			return -1;
	return 0; /* the last host command */
}

static int plan_ns(const struct cds_change_set *cs, const struct cds_epp_profile *pr,
		   struct cds_epp_plan *p)
{
	static const enum cds_epp_host_op host_ops[CDS_NS_OP_COUNT] = {
		[CDS_NS_OP_HOST_CREATE] = CDS_EPP_HOST_CREATE,
		[CDS_NS_OP_HOST_UPDATE] = CDS_EPP_HOST_UPDATE,
		[CDS_NS_OP_HOST_DELETE] = CDS_EPP_HOST_DELETE};
	bool host_attr = pr->host_model == CDS_HOST_ATTR;
	struct ns_lists l = {0};
	int r = ns_lists_of(cs, host_attr, &l);
	bool domain_update = l.nadd || l.nrem;
	for (int role = -1; r == 0 && role <= 1; role++) {
		for (size_t i = 0; !host_attr && r == 0 && i < cs->op_count; i++)
			if (cs->ops[i].kind != CDS_NS_OP_DOMAIN_UPDATE &&
			    host_role(cs, i, domain_update) == role)
				r = host_step(p, role, cs, host_ops[cs->ops[i].kind], &cs->ops[i]);
		if (role == 0 && domain_update && r == 0)
			r = domain_step(p, cs, host_attr, &l);
	}
	free(l.add);
	free(l.rem);
	return r == 0 && p->n == 0 ? CDS_EDATA : r; /* a change set with nothing to send */
}

int cds_epp_plan(const struct cds_change_set *cs, const struct cds_epp_profile *pr,
		 struct cds_epp_plan *out)
{
	memset(out, 0, sizeof(*out));
	int r = cs->damaged ? CDS_EDATA
	       : cs->kind == CDS_KIND_NS ? plan_ns(cs, pr, out)
					 : plan_ds(cs, pr, out);
	if (r != 0)
		cds_epp_plan_free(out);
	return r;
}
