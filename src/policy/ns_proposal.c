/* What a processed CSYNC changes (RFC 7477 §3.2): the child's NS set first,
 * then glue for in-bailiwick names, and a new set that must serve the zone
 * before the parent points to it.  Stages, as every decision. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

int ns_proposal_reset(struct cds_verdict *v)
{
	struct cds_verdict_side *side = &v->ns_side;
	cds_verdict_glue_free(v->glue, v->glue_count);
	v->glue = NULL;
	v->glue_count = 0;
	cds_strlist_clear(&side->proposed);
	if (cds_strlist_copy(&side->proposed, &side->current) != 0)
		return CDS_ENOMEM;
	for (size_t i = 0; i < v->glue_current_count; i++) {
		const struct cds_verdict_glue *cur = &v->glue_current[i];
		struct cds_verdict_glue *g = cds_verdict_glue_add(&v->glue, &v->glue_count, cur->name);
		if (!g || cds_strlist_copy(&g->addresses, &cur->addresses) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* A rejected proposal is not shown as proposed. */
static int rejected(struct decision *dc)
{
	return ns_proposal_reset(dc->v) ? CDS_ENOMEM : STAGE_DECIDED;
}

/* NS first (RFC 7477 §3.2.1): the child's NS set as the proposal. */
static int stage_ns_set(struct decision *dc)
{
	struct cds_verdict_side *side = dc->side;
	const struct cds_rrset *ns = &dc->c0->ns;
	if (!dc->cs.ns || dc->ns_kept)
		return STAGE_PASS; /* the parent's NS set stays */
	cds_strlist_clear(&side->proposed);
	for (size_t k = 0; k < ns->count; k++) {
		char name[CDS_DNAME_BUFSIZE];
		if (cds_dname_from_wire(ns->rdata[k].data, ns->rdata[k].len, name) != 0) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_BAD_HOST_NAME,
					   "an NS record of the child names no host name");
			return rejected(dc);
		}
		if (cds_strlist_add(&side->proposed, name) != 0)
			return CDS_ENOMEM;
	}
	if (side->proposed.n == 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_EMPTY_NS,
				   "the child serves no NS RRset");
		return rejected(dc);
	}
	cds_strlist_sort(&side->proposed);
	return STAGE_PASS;
}

/* The addresses of one host as texts, from an A or AAAA set. */
static int addrs_add(struct cds_strlist *l, const struct cds_rrset *set)
{
	for (size_t k = 0; k < set->count; k++) {
		struct cds_addr a;
		char txt[64];
		if (cds_addr_from_rdata(set->rdata[k].data, set->rdata[k].len, 53, &a) != 0)
			continue;
		cds_addr_format(&a, txt, sizeof(txt));
		if (cds_strlist_add(l, txt) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* An address text of one family (IPv6 texts hold a colon). */
static bool is_v6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

/* The glue of one in-bailiwick name: the types in the bitmap as the child
 * serves them, the others as the parent holds them. */
static int glue_of(const struct decision *dc, const char *name, struct cds_strlist *out)
{
	const struct cds_csync_host *h = NULL;
	size_t hi = 0;
	for (size_t i = 0; i < dc->c0->host_count && !h; i++)
		if (strcmp(dc->c0->hosts[i].name, name) == 0)
			h = &dc->c0->hosts[hi = i];
	/* The child's addresses of a type in the bitmap, unless its empty
	 * answer was not proven (kept). */
	bool a = dc->cs.a && h && !dc->kept[2 * hi];
	bool aaaa = dc->cs.aaaa && h && !dc->kept[2 * hi + 1];
	const struct cds_verdict_glue *old = cds_verdict_glue_find(
		dc->v->glue_current, dc->v->glue_current_count, name);
	int rc = 0;
	if (a)
		rc = addrs_add(out, &h->a);
	if (aaaa && rc == 0)
		rc = addrs_add(out, &h->aaaa);
	for (size_t k = 0; old && k < old->addresses.n && rc == 0; k++) {
		bool v6 = is_v6(old->addresses.v[k]);
		if ((v6 && !aaaa) || (!v6 && !a))
			rc = cds_strlist_add(out, old->addresses.v[k]);
	}
	cds_strlist_sort(out);
	return rc;
}

/* ... then glue, for in-bailiwick names only (§3.2.2); out-of-bailiwick
 * names carry none, and sibling glue is not this zone's to change.  The
 * proposal replaces the parent's glue in the verdict. */
static int stage_glue(struct decision *dc)
{
	struct cds_verdict_glue *glue = NULL;
	size_t n = 0;
	const struct cds_strlist *prop = &dc->side->proposed;
	for (size_t k = 0; k < prop->n; k++) {
		if (!cds_dname_is_subdomain(prop->v[k], dc->d->domain))
			continue;
		struct cds_verdict_glue *g = cds_verdict_glue_add(&glue, &n, prop->v[k]);
		if (!g || glue_of(dc, prop->v[k], &g->addresses) != 0) {
			cds_verdict_glue_free(glue, n);
			return CDS_ENOMEM;
		}
		if (g->addresses.n == 0) {
			cds_verdict_glue_free(glue, n);
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CSYNC_NO_GLUE,
					   "%s is in the zone and has no address%s", prop->v[k],
					   dc->cs.a || dc->cs.aaaa ? "" : " at the parent");
			return rejected(dc);
		}
	}
	cds_verdict_glue_free(dc->v->glue, dc->v->glue_count);
	dc->v->glue = glue;
	dc->v->glue_count = n;
	return STAGE_PASS;
}

static int stage_ns_unchanged(struct decision *dc)
{
	const struct cds_verdict *v = dc->v;
	bool same = v->glue_count == v->glue_current_count &&
		    cds_strlist_equal(&dc->side->proposed, &dc->side->current);
	for (size_t i = 0; same && i < v->glue_count; i++) {
		const struct cds_verdict_glue *old =
			cds_verdict_glue_find(v->glue_current, v->glue_current_count, v->glue[i].name);
		same = old && cds_strlist_equal(&old->addresses, &v->glue[i].addresses);
	}
	if (!same)
		return STAGE_PASS;
	/* An approval of a CSYNC that changes nothing is used up all the same. */
	dc->v->csync_approval_used = dc->approved;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_CSYNC_UNCHANGED, dc->kept_note[0] ? "%s" : NULL,
			   dc->kept_note);
	return STAGE_DECIDED;
}

/* Was (name, addr) asked already, in the scan of the current delegation? */
static bool server_asked(const struct cds_verdict *v, const char *name, const char *addr)
{
	for (size_t i = 0; i < v->server_count; i++)
		if (strcmp(v->servers[i].name, name) == 0 &&
		    strcmp(v->servers[i].address, addr) == 0)
			return true;
	return false;
}

/*
 * Does (name, addr) — addr NULL: every address of name — serve the zone:
 * an authoritative answer with the zone's SOA?  Its serial is its own
 * (RFC 9975 §3.2: independent providers keep their own serials).  The scan
 * layer probed every address a CSYNC adds.  On failure, why says so.
 */
static bool probe_ok(const struct cds_scan_result *res, const char *name, const char *addr,
		     char *why, size_t whylen)
{
	bool found = false;
	for (size_t i = 0; i < res->probe_count; i++) {
		const struct cds_server_result *p = &res->probes[i];
		char txt[64] = "";
		if (strcmp(p->name, name) != 0)
			continue;
		if (p->has_addr)
			cds_addr_format(&p->addr, txt, sizeof(txt));
		if (addr && strcmp(txt, addr) != 0)
			continue;
		found = true;
		if (!p->ok || p->sets[CDS_Q_SOA].count != 1) {
			snprintf(why, whylen, "%s (%s): %s", name, txt[0] ? txt : "no address",
				 p->ok ? "no SOA for the zone" : p->error);
			return false;
		}
	}
	if (!found)
		snprintf(why, whylen, "%s%s%s was not asked", name, addr ? " " : "", addr ? addr : "");
	return found;
}

/* Does the proposed name serve the zone (every address not asked yet)? */
static bool name_serves(const struct decision *dc, const char *name, char *why, size_t whylen)
{
	const struct cds_verdict *v = dc->v;
	if (!cds_dname_is_subdomain(name, dc->d->domain))
		return cds_strlist_contains(&dc->side->current, name) ||
		       probe_ok(dc->res, name, NULL, why, whylen);
	const struct cds_verdict_glue *g = cds_verdict_glue_find(v->glue, v->glue_count, name);
	for (size_t a = 0; g && a < g->addresses.n; a++) {
		const char *addr = g->addresses.v[a];
		if (!server_asked(v, name, addr) && !probe_ok(dc->res, name, addr, why, whylen))
			return false;
	}
	return true;
}

/* The new set must serve the zone before the parent points to it: every
 * address not asked already answers with the same SOA serial. */
static int stage_serving(struct decision *dc)
{
	char why[400];
	for (size_t k = 0; k < dc->side->proposed.n; k++) {
		if (name_serves(dc, dc->side->proposed.v[k], why, sizeof(why)))
			continue;
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CSYNC_NS_NOT_SERVING, "%s",
				   why);
		return rejected(dc);
	}
	return STAGE_PASS;
}

/* RFC 9975 §3.2, RFC 8901: every nameserver the update adds must serve a
 * DNSKEY RRset the current DS set authenticates, or resolvers that pick it
 * fail to validate (multi-signer: the DS names the new provider's key
 * first, then the CSYNC adds its nameservers). */
static int stage_new_servers_validate(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < res->probe_count; i++) {
		const struct cds_server_result *p = &res->probes[i];
		char addr[64], tags[128];
		if (!p->has_addr ||
		    cds_memo_authenticates(dc->memo, p, dc->d->ds, dc->d->ds_count))
			continue;
		cds_addr_format(&p->addr, addr, sizeof(addr));
		key_tags(&p->sets[CDS_Q_DNSKEY], tags, sizeof(tags));
		if (dc->memo->work.limit[0]) {
			/* Unknown whether it would: a limit stopped the check. */
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CSYNC_BOGUS,
					   "the DNSKEY RRset %s (%s) serves was not checked against "
					   "the current DS set: %s",
					   p->name, addr, dc->memo->work.limit);
			return rejected(dc);
		}
		cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_CSYNC_BREAKS_CHAIN,
				   "%s (%s) serves DNSKEY RRset [%s], which the current DS set does "
				   "not authenticate: the DS must name that provider's key before "
				   "its nameservers are added",
				   p->name, addr, tags[0] ? tags : "none");
		return rejected(dc);
	}
	return STAGE_PASS;
}

static int stage_ns_updated(struct decision *dc)
{
	if (dc->approved) {
		dc->v->csync_approval_used = true;
		cds_verdict_decide(dc->side, CDS_ACTION_UPDATE, CDS_R_CSYNC_APPROVED,
				   "CSYNC serial %u without the immediate flag, approved by an "
				   "operator",
				   dc->cs.serial);
	} else {
		cds_verdict_decide(dc->side, CDS_ACTION_UPDATE, CDS_R_NS_UPDATED,
				   dc->kept_note[0] ? "%s" : NULL, dc->kept_note);
	}
	int r = cds_verdict_side_diff(dc->side);
	return r ? r : STAGE_DECIDED;
}

static const stage_fn proposal_stages[] = {
	stage_ns_set,  stage_glue, stage_ns_unchanged, stage_serving, stage_new_servers_validate,
	stage_ns_updated,
};

int ns_propose(struct decision *dc)
{
	return RUN_STAGES(proposal_stages, dc);
}
