/* The verdict and the scan result as data: string lists, a side's
 * decision, glue, and releasing what they own. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/model.h"

int cds_strlist_add(struct cds_strlist *l, const char *s)
{
	return cds_strlist_contains(l, s) ? 0 : cds_strlist_push(l, s);
}

int cds_strlist_push(struct cds_strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return CDS_ENOMEM;
	l->v = v;
	if (!(l->v[l->n] = strdup(s)))
		return CDS_ENOMEM;
	l->n++;
	return 0;
}

int cds_strlist_copy(struct cds_strlist *dst, const struct cds_strlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (cds_strlist_add(dst, src->v[i]) != 0)
			return CDS_ENOMEM;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cds_strlist_sort(struct cds_strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), str_cmp);
}

bool cds_strlist_contains(const struct cds_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

bool cds_strlist_equal(const struct cds_strlist *a, const struct cds_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!cds_strlist_contains(b, a->v[i]))
			return false;
	return true;
}

void cds_strlist_clear(struct cds_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int cds_strlist_minus(const struct cds_strlist *a, const struct cds_strlist *b,
		      struct cds_strlist *out)
{
	cds_strlist_clear(out);
	for (size_t i = 0; i < a->n; i++)
		if (!cds_strlist_contains(b, a->v[i]) && cds_strlist_add(out, a->v[i]) != 0)
			return CDS_ENOMEM;
	cds_strlist_sort(out);
	return 0;
}

struct cds_verdict_side *cds_verdict_side_of(struct cds_verdict *v, enum cds_kind k)
{
	return k == CDS_KIND_NS ? &v->ns_side : &v->ds_side;
}

const struct cds_verdict_side *cds_verdict_side_const(const struct cds_verdict *v,
						      enum cds_kind k)
{
	return k == CDS_KIND_NS ? &v->ns_side : &v->ds_side;
}

bool cds_verdict_any_unusable(const struct cds_verdict *v)
{
	for (size_t s = 0; s < v->server_count; s++)
		if (!v->servers[s].ok)
			return true;
	return false;
}

static void side_clear(struct cds_verdict_side *s)
{
	cds_strlist_clear(&s->current);
	cds_strlist_clear(&s->proposed);
	cds_strlist_clear(&s->add);
	cds_strlist_clear(&s->rem);
}

void cds_verdict_glue_free(struct cds_verdict_glue *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cds_strlist_clear(&g[i].addresses);
	free(g);
}

void cds_verdict_clear(struct cds_verdict *v)
{
	if (!v)
		return;
	cds_strlist_clear(&v->ns);
	cds_strlist_clear(&v->ds);
	for (size_t i = 0; i < v->server_count; i++) {
		cds_strlist_clear(&v->servers[i].cds);
		cds_strlist_clear(&v->servers[i].cdnskey);
		free(v->servers[i].csync);
	}
	free(v->servers);
	cds_verdict_glue_free(v->glue, v->glue_count);
	cds_verdict_glue_free(v->glue_current, v->glue_current_count);
	for (size_t i = 0; i < v->bootstrap.signal_count; i++) {
		cds_strlist_clear(&v->bootstrap.signals[i].cds);
		cds_strlist_clear(&v->bootstrap.signals[i].cdnskey);
	}
	free(v->bootstrap.signals);
	side_clear(&v->ds_side);
	side_clear(&v->ns_side);
	cds_strlist_clear(&v->excluded);
	memset(v, 0, sizeof(*v));
}

struct cds_verdict_glue *cds_verdict_glue_add(struct cds_verdict_glue **arr, size_t *n,
					      const char *name)
{
	struct cds_verdict_glue *g = realloc(*arr, (*n + 1) * sizeof(*g));
	if (!g)
		return NULL;
	*arr = g;
	g = &g[(*n)++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	return g;
}

const struct cds_verdict_glue *cds_verdict_glue_find(const struct cds_verdict_glue *g, size_t n,
						     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	return NULL;
}

void cds_verdict_decide(struct cds_verdict_side *side, enum cds_action action,
			enum cds_reason reason, const char *fmt, ...)
{
	side->action = action;
	if (side->reason_count < CDS_VERDICT_MAX_REASONS)
		side->reasons[side->reason_count++] = reason;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(side->detail, sizeof(side->detail), fmt, ap);
		va_end(ap);
	}
}

int cds_verdict_side_diff(struct cds_verdict_side *side)
{
	if (cds_strlist_minus(&side->proposed, &side->current, &side->add) != 0 ||
	    cds_strlist_minus(&side->current, &side->proposed, &side->rem) != 0)
		return CDS_ENOMEM;
	return 0;
}

void cds_csync_data_free(struct cds_csync_data *c)
{
	if (!c)
		return;
	cds_rrset_clear(&c->ns);
	for (size_t h = 0; h < c->host_count; h++) {
		cds_rrset_clear(&c->hosts[h].a);
		cds_rrset_clear(&c->hosts[h].aaaa);
	}
	free(c->hosts);
	free(c);
}

void cds_scan_result_free(struct cds_scan_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->server_count; i++) {
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&res->servers[i].sets[k]);
		cds_csync_data_free(res->servers[i].csync);
	}
	for (size_t i = 0; i < res->probe_count; i++)
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&res->probes[i].sets[k]);
	for (size_t i = 0; i < res->signal_count; i++)
		for (int k = 0; k < CDS_SIGNAL_TYPES; k++)
			cds_rrset_clear(&res->signals[i].sets[k]);
	for (size_t i = 0; i < res->skipped_count; i++)
		free(res->skipped[i]);
	free(res->skipped);
	free(res->signals);
	free(res->servers);
	free(res->probes);
	free(res);
}

void cds_change_set_clear(struct cds_change_set *cs)
{
	if (!cs)
		return;
	cds_strlist_clear(&cs->add);
	cds_strlist_clear(&cs->rem);
	cds_strlist_clear(&cs->proposed);
	cds_strlist_clear(&cs->keys);
	cds_verdict_glue_free(cs->glue, cs->glue_count);
	for (size_t i = 0; i < cs->op_count; i++) {
		cds_strlist_clear(&cs->ops[i].add);
		cds_strlist_clear(&cs->ops[i].rem);
	}
	free(cs->ops);
	memset(cs, 0, sizeof(*cs));
}

struct cds_ns_op *cds_change_set_add_op(struct cds_change_set *cs, enum cds_ns_op_kind kind,
					const char *name)
{
	struct cds_ns_op *n = realloc(cs->ops, (cs->op_count + 1) * sizeof(*n));
	if (!n)
		return NULL;
	cs->ops = n;
	struct cds_ns_op *op = &n[cs->op_count++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	snprintf(op->name, sizeof(op->name), "%s", name ? name : "");
	return op;
}
