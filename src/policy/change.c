/* From a decided verdict to the change sets the outbox sends: for DS, what
 * to add and remove and the keys; for NS, the proposed set and glue and the
 * host and domain operations in an order an EPP server accepts (RFC 5731,
 * RFC 5732): host objects must exist with their addresses before a domain
 * refers to them, and can go only once no domain does. */
#include <stdio.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

/* host-create for a new in-bailiwick name, host-update for one whose
 * addresses change. */
static int host_op(struct cds_change_set *cs, const struct cds_verdict *v,
		   const struct cds_verdict_glue *now)
{
	static const struct cds_verdict_glue none;
	const struct cds_verdict_glue *was =
		cds_verdict_glue_find(v->glue_current, v->glue_current_count, now->name);
	if (!was)
		was = &none; /* in the NS set without glue: addresses to add */
	struct cds_ns_op *op;
	if (!cds_strlist_contains(&v->ns_side.current, now->name)) {
		if (!(op = cds_change_set_add_op(cs, CDS_NS_OP_HOST_CREATE, now->name)))
			return CDS_ENOMEM;
		return cds_strlist_copy(&op->add, &now->addresses);
	}
	if (cds_strlist_equal(&now->addresses, &was->addresses))
		return 0;
	if (!(op = cds_change_set_add_op(cs, CDS_NS_OP_HOST_UPDATE, now->name)) ||
	    cds_strlist_minus(&now->addresses, &was->addresses, &op->add) != 0 ||
	    cds_strlist_minus(&was->addresses, &now->addresses, &op->rem) != 0)
		return CDS_ENOMEM;
	return 0;
}

static int ns_ops(struct cds_change_set *cs, const struct cds_verdict *v)
{
	const struct cds_verdict_side *s = &v->ns_side;
	for (size_t i = 0; i < v->glue_count; i++)
		if (host_op(cs, v, &v->glue[i]) != 0)
			return CDS_ENOMEM;
	if (s->add.n || s->rem.n) {
		struct cds_ns_op *op = cds_change_set_add_op(cs, CDS_NS_OP_DOMAIN_UPDATE, NULL);
		if (!op || cds_strlist_copy(&op->add, &s->add) != 0 ||
		    cds_strlist_copy(&op->rem, &s->rem) != 0)
			return CDS_ENOMEM;
	}
	for (size_t i = 0; i < s->rem.n; i++)
		if (cds_verdict_glue_find(v->glue_current, v->glue_current_count, s->rem.v[i]) &&
		    !cds_change_set_add_op(cs, CDS_NS_OP_HOST_DELETE, s->rem.v[i]))
			return CDS_ENOMEM;
	return 0;
}

static int ns_glue(struct cds_change_set *cs, const struct cds_verdict *v)
{
	for (size_t i = 0; i < v->glue_count; i++) {
		struct cds_verdict_glue *g =
			cds_verdict_glue_add(&cs->glue, &cs->glue_count, v->glue[i].name);
		if (!g || cds_strlist_copy(&g->addresses, &v->glue[i].addresses) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

static int fill(struct cds_change_set *cs, const struct cds_verdict *v, enum cds_kind kind)
{
	const struct cds_verdict_side *s = cds_verdict_side_const(v, kind);
	snprintf(cs->domain, sizeof(cs->domain), "%s", v->domain);
	cs->kind = kind;
	cs->action = s->action;
	if (cds_strlist_copy(&cs->add, &s->add) != 0 || cds_strlist_copy(&cs->rem, &s->rem) != 0 ||
	    cds_strlist_copy(&cs->proposed, &s->proposed) != 0)
		return CDS_ENOMEM;
	cds_strlist_sort(&cs->proposed);
	if (kind == CDS_KIND_NS)
		return ns_glue(cs, v) ? CDS_ENOMEM : ns_ops(cs, v);
	/* The keys, for registries that take keyData (RFC 5910): the CDNSKEY
	 * every server serves alike (the signal passed consistency). */
	if (v->server_count && cds_strlist_copy(&cs->keys, &v->servers[0].cdnskey) != 0)
		return CDS_ENOMEM;
	cds_strlist_sort(&cs->keys);
	return 0;
}

int cds_policy_change_set(const struct cds_verdict *v, enum cds_kind kind,
			  struct cds_change_set *out)
{
	memset(out, 0, sizeof(*out));
	if (!cds_action_changes(cds_verdict_side_const(v, kind)->action))
		return CDS_ENOENT;
	int r = fill(out, v, kind);
	if (r != 0)
		cds_change_set_clear(out);
	return r;
}
