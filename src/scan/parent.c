/* Where `check` finds the delegation when the command line does not give
 * it: a parent zone file, or DNS (the DS set through the validating
 * resolver, the NS set and glue from a referral by one of the parent
 * zone's own servers, asked with RD=0: a resolver would answer with the
 * child's own NS set, which a CSYNC may be about to change). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/zone.h"
#include "scan_internal.h"

/* ------------------------------------------------------- zone file --- */

static int add_ns(struct cds_delegation *d, const char *name)
{
	struct cds_ns_entry *n = realloc(d->ns, (d->ns_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	d->ns = n;
	memset(&d->ns[d->ns_count], 0, sizeof(*n));
	snprintf(d->ns[d->ns_count++].name, CDS_DNAME_BUFSIZE, "%s", name);
	return 0;
}

static int add_ds(struct cds_delegation *d, const struct cds_ds *ds)
{
	struct cds_ds *n = realloc(d->ds, (d->ds_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	d->ds = n;
	d->ds[d->ds_count++] = *ds;
	return 0;
}

/* In-bailiwick NS names take their addresses from the glue. */
static void add_glue(struct cds_delegation *d, const struct cds_zone_rr *rr)
{
	for (size_t i = 0; i < d->ns_count; i++)
		if (strcmp(rr->owner, d->ns[i].name) == 0 && d->ns[i].addr_count < CDS_NS_MAX_ADDRS)
			d->ns[i].addrs[d->ns[i].addr_count++] = rr->addr;
}

/* One record of the zone: NS and DS of the domain now, glue for later. */
static int take(struct cds_delegation *d, const struct cds_zone_rr *rr, struct cds_zone_rr **glue,
		size_t *nglue)
{
	if (strcmp(rr->owner, d->domain) == 0 && rr->type == CDS_T_NS)
		return add_ns(d, rr->target);
	if (strcmp(rr->owner, d->domain) == 0 && rr->type == CDS_T_DS)
		return add_ds(d, &rr->ds);
	if ((rr->type != CDS_T_A && rr->type != CDS_T_AAAA) ||
	    !cds_dname_is_subdomain(rr->owner, d->domain))
		return 0;
	struct cds_zone_rr *n = realloc(*glue, (*nglue + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	*glue = n;
	n[(*nglue)++] = *rr;
	return 0;
}

int cds_parent_from_zone(const char *path, struct cds_delegation *d, char *err, size_t errlen)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr, *glue = NULL;
	size_t nglue = 0;
	const char *dot = strchr(d->domain, '.');
	int r = cds_zone_open(path, dot && dot[1] ? dot + 1 : ".", &z, err, errlen);
	if (r != 0)
		return CDS_EDATA;
	while ((r = cds_zone_next(z, &rr, err, errlen)) == 1)
		if ((r = take(d, &rr, &glue, &nglue)) != 0)
			break;
	cds_zone_close(z);
	for (size_t g = 0; r == 0 && g < nglue; g++)
		add_glue(d, &glue[g]);
	free(glue);
	if (r == CDS_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r != 0)
		return r == CDS_ENOMEM ? r : CDS_EDATA;
	if (d->ns_count == 0) {
		snprintf(err, errlen, "%s: no delegation (NS records) for %s", path, d->domain);
		return CDS_ENOENT;
	}
	return 0;
}

/* ------------------------------------------------------------- DNS --- */

/* One delegation looked up in DNS. */
struct parent_lookup {
	struct cds_scanner *s;
	struct cds_delegation *d;
	cds_parent_cb cb;
	void *arg;
	int pending;                     /* the DS and NS look-ups, and the start */
	int error;
	char parent[CDS_DNAME_BUFSIZE];  /* the parent zone sought */
	char pns[16][CDS_DNAME_BUFSIZE]; /* its NS names */
	size_t pns_count, pns_next;
};

static void find_parent(struct parent_lookup *p);
static void try_parent_server(struct parent_lookup *p);

/* One of the two look-ups is done: report when both are. */
static void part_done(struct parent_lookup *p, int error)
{
	if (error && !p->error)
		p->error = error;
	if (--p->pending > 0)
		return;
	p->cb(p->error, p->d, p->arg);
	free(p);
}

/* The delegation as one of the parent's servers refers to it. */
static void referral_cb(int status, const struct cds_referral *ref, void *arg)
{
	struct parent_lookup *p = arg;
	struct cds_delegation *d = p->d;
	if (status != 0) {
		p->pns_next++; /* the next of the parent's servers */
		try_parent_server(p);
		return;
	}
	if (!(d->ns = calloc(ref->ns_count ? ref->ns_count : 1, sizeof(*d->ns)))) {
		part_done(p, CDS_ENOMEM);
		return;
	}
	for (size_t i = 0; i < ref->ns_count; i++) {
		struct cds_ns_entry *e = &d->ns[d->ns_count++];
		snprintf(e->name, sizeof(e->name), "%s", ref->ns[i].name);
		/* Glue only for names inside the child; others are looked up. */
		if (cds_dname_is_subdomain(e->name, d->domain))
			for (size_t a = 0; a < ref->ns[i].addr_count && a < CDS_NS_MAX_ADDRS; a++)
				e->addrs[e->addr_count++] = ref->ns[i].addrs[a];
	}
	part_done(p, 0);
}

static void parent_addr_cb(int status, const struct cds_addr *addrs, size_t n, const char *why,
			   void *arg)
{
	struct parent_lookup *p = arg;
	char refused[128];
	size_t a = 0;
	/* The parent's servers are found through DNS too: never in
	 * special-purpose space unless allowed. */
	while (a < n && scan_addr_refused(p->s, p->d->domain, p->pns[p->pns_next], &addrs[a],
					  refused, sizeof(refused)))
		a++;
	if (a == n || cds_scanner_referral(p->s, &addrs[a], p->d->domain, referral_cb, p) != 0) {
		p->pns_next++;
		try_parent_server(p);
	}
}

static void try_parent_server(struct parent_lookup *p)
{
	while (p->pns_next < p->pns_count) {
		if (cds_scanner_resolve(p->s, p->pns[p->pns_next], parent_addr_cb, p) == 0)
			return;
		p->pns_next++;
	}
	part_done(p, CDS_EUNAVAIL);
}

/* The parent zone's NS set: the nearest ancestor of the domain with one. */
static void parent_ns_cb(int status, const struct cds_rrset *set, bool ad, void *arg)
{
	struct parent_lookup *p = arg;
	if (status == 0 && set && set->count > 0) {
		p->pns_count = 0;
		for (size_t i = 0; i < set->count && p->pns_count < 16; i++)
			if (cds_dname_from_wire(set->rdata[i].data, set->rdata[i].len,
						p->pns[p->pns_count]) == 0)
				p->pns_count++;
		p->pns_next = 0;
		try_parent_server(p);
		return;
	}
	if (status != 0 || strcmp(p->parent, ".") == 0) {
		part_done(p, status ? status : CDS_ENOENT);
		return;
	}
	const char *dot = strchr(p->parent, '.');
	memmove(p->parent, dot[1] ? dot + 1 : ".", strlen(dot[1] ? dot + 1 : ".") + 1);
	find_parent(p);
}

/* The parent's NS set is asked with CD: a zone whose own data is bogus
 * must still be checkable. */
static void find_parent(struct parent_lookup *p)
{
	int r = cds_scanner_lookup(p->s, p->parent, CDS_T_NS, CDS_QUERY_CD, parent_ns_cb, p);
	if (r != 0)
		part_done(p, r);
}

static void ds_cb(int status, const struct cds_rrset *set, bool ad, void *arg)
{
	struct parent_lookup *p = arg;
	struct cds_delegation *d = p->d;
	if (status != 0 || !set || !set->count) {
		part_done(p, status);
		return;
	}
	if (!(d->ds = calloc(set->count, sizeof(*d->ds)))) {
		part_done(p, CDS_ENOMEM);
		return;
	}
	for (size_t i = 0; i < set->count; i++)
		if (cds_ds_from_rdata(set->rdata[i].data, set->rdata[i].len, &d->ds[d->ds_count]) == 0)
			d->ds_count++;
	if (!ad)
		cds_log_warning("the resolver did not validate the DS set of %s (no AD bit): the "
				"verdict rests on an unauthenticated DS set",
				d->domain);
	part_done(p, 0);
}

/* The DS set validated here from the trust anchor (trust.c), the
 * resolver's AD bit not trusted: records that validate, or a validated
 * denial (none), or, in an insecure parent zone, none found.  Anything
 * else is CDS_EDATA, said in the log. */
static void trust_ds_cb(const struct cds_trust_result *r, void *arg)
{
	struct parent_lookup *p = arg;
	struct cds_delegation *d = p->d;
	bool none = r->missing || !r->set || !r->set->count;
	if (r->error) {
		cds_log_warning("%s: the DS look-up failed (%s)", d->domain, r->why ? r->why : "");
		part_done(p, CDS_EUNAVAIL);
		return;
	}
	if (r->status != CDS_DNSSEC_SECURE && !(r->status == CDS_DNSSEC_INSECURE && none)) {
		cds_log_warning("%s: the DS set does not validate (%s)", d->domain,
		                r->why ? r->why : "not secure");
		part_done(p, CDS_EDATA);
		return;
	}
	if (none) {
		part_done(p, 0);
		return;
	}
	if (!(d->ds = calloc(r->set->count, sizeof(*d->ds)))) {
		part_done(p, CDS_ENOMEM);
		return;
	}
	for (size_t i = 0; i < r->set->count; i++)
		if (cds_ds_from_rdata(r->set->rdata[i].data, r->set->rdata[i].len,
		                      &d->ds[d->ds_count]) == 0)
			d->ds_count++;
	part_done(p, 0);
}

static int parent_start(struct cds_scanner *s, struct cds_delegation *d, bool validate,
                        cds_parent_cb cb, void *arg)
{
	struct parent_lookup *p = calloc(1, sizeof(*p));
	if (!p)
		return CDS_ENOMEM;
	const char *dot = strchr(d->domain, '.');
	*p = (struct parent_lookup){.s = s, .d = d, .cb = cb, .arg = arg, .pending = 3};
	snprintf(p->parent, sizeof(p->parent), "%s", dot && dot[1] ? dot + 1 : ".");
	int r = validate ? cds_trust_rrset(s->trust, d->domain, CDS_T_DS, trust_ds_cb, p)
	                 : cds_scanner_lookup(s, d->domain, CDS_T_DS, 0, ds_cb, p);
	if (r != 0) {
		free(p);
		return r;
	}
	find_parent(p);
	/* The third part is this call: cb never runs from inside it, even
	 * when the DS came from the trust cache at once. */
	part_done(p, 0);
	return 0;
}

int cds_scanner_parent_validated(struct cds_scanner *s, struct cds_delegation *d, cds_parent_cb cb,
                                 void *arg)
{
	return parent_start(s, d, true, cb, arg);
}

int cds_scanner_parent(struct cds_scanner *s, struct cds_delegation *d, cds_parent_cb cb, void *arg)
{
	return parent_start(s, d, false, cb, arg);
}
