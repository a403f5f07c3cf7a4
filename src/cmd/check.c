/* cdscan check: scan one delegation and print its verdict.  The delegation
 * comes from --ns/--ds, or from DNS through the resolver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cdscan/cmd.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/policy.h"
#include "cdscan/report.h"
#include "cdscan/scan.h"
#include "cdscan/transport.h"
#include "cdscan/zone.h"

struct check {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	struct cds_conf eff; /* conf with the domain's registry profile applied */
	struct cds_scanner *scanner;
	struct cds_delegation d;
	int lookups;     /* real-DNS mode: NS and DS look-ups outstanding */
	int lookup_error;
	bool ds_ad;      /* the resolver validated the DS answer */
	char parent[CDS_DNAME_BUFSIZE]; /* real-DNS mode: the parent zone sought */
	char pns[16][CDS_DNAME_BUFSIZE]; /* its NS names */
	size_t pns_count, pns_next;
	int exit_code;
	bool done;
};

/* Group --ns NAME@ADDR arguments by name (RFC 9975 §3: each address of each
 * name is a server to ask). */
static int delegation_from_cli(const struct cds_cli *cli, struct cds_delegation *d)
{
	d->ns = calloc(cli->ns_count ? cli->ns_count : 1, sizeof(*d->ns));
	if (!d->ns)
		return CDS_ENOMEM;
	for (size_t i = 0; i < cli->ns_count; i++) {
		struct cds_ns_entry *e = NULL;
		for (size_t k = 0; k < d->ns_count; k++)
			if (strcmp(d->ns[k].name, cli->ns[i].name) == 0)
				e = &d->ns[k];
		if (!e) {
			e = &d->ns[d->ns_count++];
			snprintf(e->name, sizeof(e->name), "%s", cli->ns[i].name);
		}
		if (cli->ns[i].has_addr && e->addr_count < CDS_NS_MAX_ADDRS)
			e->addrs[e->addr_count++] = cli->ns[i].addr;
	}
	if (cli->ds_count) {
		d->ds = calloc(cli->ds_count, sizeof(*d->ds));
		if (!d->ds)
			return CDS_ENOMEM;
		memcpy(d->ds, cli->ds, cli->ds_count * sizeof(*d->ds));
		d->ds_count = cli->ds_count;
	}
	return 0;
}

/* The delegation of domain in a parent zone file: its NS, its DS, and the
 * glue the zone holds for its NS names.  The origin defaults to the parent
 * of domain.  Returns an exit code. */
static int delegation_from_zone(const char *path, struct cds_delegation *d)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	char err[600];
	const char *dot = strchr(d->domain, '.');
	const char *origin = dot && dot[1] ? dot + 1 : ".";
	int r = cds_zone_open(path, origin, &z, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "cdscan: check: %s\n", err);
		return CDS_EXIT_DATAERR;
	}
	struct cds_zone_rr *glue = NULL;
	size_t nglue = 0;
	while ((r = cds_zone_next(z, &rr, err, sizeof(err))) == 1) {
		if (strcmp(rr.owner, d->domain) == 0 && rr.type == CDS_T_NS) {
			struct cds_ns_entry *n = realloc(d->ns, (d->ns_count + 1) * sizeof(*n));
			if (!n)
				break;
			d->ns = n;
			memset(&d->ns[d->ns_count], 0, sizeof(*n));
			snprintf(d->ns[d->ns_count++].name, CDS_DNAME_BUFSIZE, "%s", rr.target);
		} else if (strcmp(rr.owner, d->domain) == 0 && rr.type == CDS_T_DS) {
			struct cds_ds *n = realloc(d->ds, (d->ds_count + 1) * sizeof(*n));
			if (!n)
				break;
			d->ds = n;
			d->ds[d->ds_count++] = rr.ds;
		} else if ((rr.type == CDS_T_A || rr.type == CDS_T_AAAA) &&
			   cds_dname_is_subdomain(rr.owner, d->domain)) {
			struct cds_zone_rr *n = realloc(glue, (nglue + 1) * sizeof(*n));
			if (!n)
				break;
			glue = n;
			glue[nglue++] = rr;
		}
	}
	cds_zone_close(z);
	if (r < 0 || r == 1) {
		fprintf(stderr, "cdscan: check: %s\n", r == 1 ? "out of memory" : err);
		free(glue);
		return r == 1 ? CDS_EXIT_SOFTWARE : CDS_EXIT_DATAERR;
	}
	/* In-bailiwick NS names take their addresses from the glue. */
	for (size_t i = 0; i < d->ns_count; i++)
		for (size_t g = 0; g < nglue; g++)
			if (strcmp(glue[g].owner, d->ns[i].name) == 0 &&
			    d->ns[i].addr_count < CDS_NS_MAX_ADDRS)
				d->ns[i].addrs[d->ns[i].addr_count++] = glue[g].addr;
	free(glue);
	if (d->ns_count == 0) {
		fprintf(stderr, "cdscan: check: %s: no delegation (NS records) for %s\n", path,
			d->domain);
		return CDS_EXIT_DATAERR;
	}
	return CDS_EXIT_OK;
}

static void scan_done_cb(struct cds_scan_result *res, void *arg)
{
	struct check *c = arg;
	struct cds_verdict v;
	int r = cds_policy_decide(res, &c->eff, cds_clock(), &v);
	cds_scan_result_free(res);
	c->done = true;
	if (r != 0) {
		cds_log_error("cannot decide (%s)", cds_strerror(r));
		c->exit_code = CDS_EXIT_SOFTWARE;
		return;
	}
	if (c->cli->json)
		r = cds_verdict_print_json(&v, stdout);
	else
		cds_verdict_print_text(&v, stdout);
	fflush(stdout);
	cds_verdict_clear(&v);
	c->exit_code = r == 0 ? CDS_EXIT_OK : CDS_EXIT_SOFTWARE;
}

static void start_scan(struct check *c)
{
	int r = cds_scanner_scan(c->scanner, &c->d, &c->eff, scan_done_cb, c);
	if (r != 0) {
		cds_log_error("cannot start the scan (%s)", cds_strerror(r));
		c->exit_code = CDS_EXIT_SOFTWARE;
		c->done = true;
	}
}

/* One look-up of the real-DNS mode is done: scan when both are. */
static void lookup_done(struct check *c)
{
	if (--c->lookups == 0) {
		if (c->lookup_error)
			c->done = true;
		else
			start_scan(c);
	}
}

static void find_parent(struct check *c);
static void try_parent_server(struct check *c);

/* The delegation as one of the parent's servers refers to it. */
static void referral_cb(int status, const struct cds_referral *ref, void *arg)
{
	struct check *c = arg;
	if (status != 0) {
		c->pns_next++; /* the next of the parent's servers */
		try_parent_server(c);
		return;
	}
	c->d.ns = calloc(ref->ns_count, sizeof(*c->d.ns));
	if (!c->d.ns) {
		c->lookup_error = CDS_ENOMEM;
		lookup_done(c);
		return;
	}
	for (size_t i = 0; i < ref->ns_count; i++) {
		struct cds_ns_entry *e = &c->d.ns[c->d.ns_count++];
		snprintf(e->name, sizeof(e->name), "%s", ref->ns[i].name);
		/* Glue only for names inside the child; others are looked up. */
		if (cds_dname_is_subdomain(e->name, c->d.domain))
			for (size_t a = 0; a < ref->ns[i].addr_count && a < CDS_NS_MAX_ADDRS; a++)
				e->addrs[e->addr_count++] = ref->ns[i].addrs[a];
	}
	lookup_done(c);
}

static void parent_addr_cb(int status, const struct cds_addr *addrs, size_t n, const char *why,
			   void *arg)
{
	struct check *c = arg;
	if (status != 0 || n == 0 ||
	    cds_scanner_referral(c->scanner, &addrs[0], c->d.domain, referral_cb, c) != 0) {
		c->pns_next++;
		try_parent_server(c);
	}
}

static void try_parent_server(struct check *c)
{
	while (c->pns_next < c->pns_count) {
		if (cds_scanner_resolve(c->scanner, c->pns[c->pns_next], parent_addr_cb, c) == 0)
			return;
		c->pns_next++;
	}
	c->lookup_error = CDS_EUNAVAIL;
	lookup_done(c);
}

/* The parent zone's NS set: the nearest ancestor of the domain with one. */
static void parent_ns_cb(int status, const struct cds_rrset *set, bool ad, void *arg)
{
	struct check *c = arg;
	(void)ad;
	if (status == 0 && set && set->count > 0) {
		c->pns_count = 0;
		for (size_t i = 0; i < set->count && c->pns_count < 16; i++)
			if (cds_dname_from_wire(set->rdata[i].data, set->rdata[i].len,
						c->pns[c->pns_count]) == 0)
				c->pns_count++;
		c->pns_next = 0;
		try_parent_server(c);
		return;
	}
	if (status != 0 || strcmp(c->parent, ".") == 0) {
		c->lookup_error = status ? status : CDS_ENOENT;
		lookup_done(c);
		return;
	}
	const char *dot = strchr(c->parent, '.');
	memmove(c->parent, dot[1] ? dot + 1 : ".", strlen(dot[1] ? dot + 1 : ".") + 1);
	find_parent(c);
}

static void find_parent(struct check *c)
{
	int r = cds_scanner_lookup(c->scanner, c->parent, CDS_T_NS, CDS_QUERY_CD, parent_ns_cb, c);
	if (r != 0) {
		c->lookup_error = r;
		lookup_done(c);
	}
}

static void lookup_ds_cb(int status, const struct cds_rrset *set, bool ad, void *arg)
{
	struct check *c = arg;
	if (status != 0) {
		c->lookup_error = status;
	} else if (set && set->count) {
		c->d.ds = calloc(set->count, sizeof(*c->d.ds));
		if (!c->d.ds) {
			c->lookup_error = CDS_ENOMEM;
		} else {
			for (size_t i = 0; i < set->count; i++)
				if (cds_ds_from_rdata(set->rdata[i].data, set->rdata[i].len,
						      &c->d.ds[c->d.ds_count]) == 0)
					c->d.ds_count++;
		}
		c->ds_ad = ad;
		if (!ad)
			cds_log_warning("the resolver did not validate the DS set of %s (no AD "
					"bit): the verdict rests on an unauthenticated DS set",
					c->d.domain);
	}
	lookup_done(c);
}

/* Real-DNS mode: the DS through the validating resolver; the NS set from a
 * referral by one of the parent zone's servers (a resolver answers with
 * the child's own NS set, which a CSYNC may be about to change).  The
 * parent's NS set is asked with CD: a zone whose own data is bogus must
 * still be checkable. */
static int start_real_dns(struct check *c)
{
	const char *dot = strchr(c->d.domain, '.');
	snprintf(c->parent, sizeof(c->parent), "%s", dot && dot[1] ? dot + 1 : ".");
	c->lookups = 2;
	int r = cds_scanner_lookup(c->scanner, c->d.domain, CDS_T_DS, 0, lookup_ds_cb, c);
	if (r == 0)
		find_parent(c);
	else
		c->lookups = 0;
	return r;
}

/* The delegation from the arguments, a parent zone file or DNS, then its
 * scan.  Returns an exit code (the run's outcome comes later). */
static int start(struct check *c)
{
	int r;
	if (c->cli->parent_zone) {
		int rc = delegation_from_zone(c->cli->parent_zone, &c->d);
		if (rc != CDS_EXIT_OK)
			return rc;
		start_scan(c);
		return CDS_EXIT_OK;
	}
	r = c->cli->ns_count ? delegation_from_cli(c->cli, &c->d) : start_real_dns(c);
	if (r == 0 && c->cli->ns_count)
		start_scan(c);
	if (r != 0) {
		cds_log_error("check: %s", cds_strerror(r));
		c->done = true;
	}
	return CDS_EXIT_OK;
}

/* A look-up of the delegation through the resolver failed: say so. */
static int lookup_failed(const struct check *c)
{
	fprintf(stderr, "cdscan: check: cannot look up the delegation of %s through the "
			"resolver (%s)\n",
		c->d.domain,
		c->lookup_error == CDS_ETIMEDOUT ? "timeout"
		: c->lookup_error == CDS_ENOENT  ? "no NS records"
						 : cds_strerror(c->lookup_error));
	return c->lookup_error == CDS_ENOENT ? CDS_EXIT_DATAERR : CDS_EXIT_UNAVAILABLE;
}

/* The scanner for this check, with the trust anchor RFC 9615 needs.
 * Returns an exit code. */
static int make_scanner(struct check *c, uv_loop_t *loop)
{
	const char *resolvers[1] = {c->cli->resolver};
	char taerr[512];
	int r = cds_scanner_new(loop, c->conf, c->cli->resolver ? resolvers : NULL,
				c->cli->resolver ? 1 : 0, &c->scanner);
	if (r != 0) {
		fprintf(stderr, "cdscan: check: %s\n",
			r == CDS_ECONFIG ? "no resolver: set resolver.addresses or --resolver"
					 : cds_strerror(r));
		return r == CDS_ECONFIG ? CDS_EXIT_CONFIG : CDS_EXIT_SOFTWARE;
	}
	if (cds_scanner_bootstrap_anchor(c->scanner, c->conf, c->cli->trust_anchor, taerr,
					 sizeof(taerr)) != 0) {
		fprintf(stderr, "cdscan: check: %s\n", taerr);
		return CDS_EXIT_CONFIG;
	}
	return CDS_EXIT_OK;
}

int cds_cmd_check(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct check *c = calloc(1, sizeof(*c));
	uv_loop_t loop;
	int rc;
	if (!c)
		return CDS_EXIT_SOFTWARE;
	if (uv_loop_init(&loop) != 0) {
		free(c);
		return CDS_EXIT_SOFTWARE;
	}
	*c = (struct check){.cli = cli, .conf = conf, .exit_code = CDS_EXIT_SOFTWARE};
	snprintf(c->d.domain, sizeof(c->d.domain), "%s", cli->domain);
	c->d.has_last_change = cli->has_last_change;
	c->d.last_change = cli->last_change;
	/* A registry profile's policy overrides apply to its delegations. */
	cds_conf_effective(conf, cds_conf_registry_for(conf, c->d.domain), &c->eff);
	if ((rc = make_scanner(c, &loop)) != CDS_EXIT_OK || (rc = start(c)) != CDS_EXIT_OK)
		goto out;
	uv_run(&loop, UV_RUN_DEFAULT);
	struct cds_scanner_stats st;
	cds_scanner_stats(c->scanner, &st);
	cds_log_debug("check done (queries %llu, answers %llu, tcp fallbacks %llu)",
		      (unsigned long long)st.queries, (unsigned long long)st.answers,
		      (unsigned long long)st.tcp_fallbacks);
	rc = c->lookup_error ? lookup_failed(c) : c->exit_code;
out:
	cds_scanner_free(c->scanner);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	free(c->d.ns);
	free(c->d.ds);
	free(c);
	return rc;
}
