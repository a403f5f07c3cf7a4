/* cdscan check: one delegation scanned, decided and printed.  The
 * delegation comes from --ns/--ds, else from a parent zone file, else from
 * DNS (src/scan/parent.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cdscan/cmd.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/policy.h"
#include "cdscan/report.h"
#include "cdscan/scan.h"

struct check {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	struct cds_conf eff; /* conf with the domain's registry profile applied */
	struct cds_scanner *scanner;
	struct cds_delegation d;
	int lookup_error;    /* DNS mode: the delegation could not be found */
	int exit_code;
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

static void scan_done_cb(struct cds_scan_result *res, void *arg)
{
	struct check *c = arg;
	struct cds_verdict v;
	int r = cds_policy_decide(res, &c->eff, cds_clock(), &v);
	if (r == 0) /* RFC 9567 reports of what was rejected, not waited for */
		cds_scanner_report_errors(c->scanner, res, &v);
	cds_scan_result_free(res);
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
	}
}

static void parent_cb(int status, struct cds_delegation *d, void *arg)
{
	struct check *c = arg;
	c->lookup_error = status;
	if (status == 0)
		start_scan(c);
}

/* The delegation from the arguments, a parent zone file or DNS, then its
 * scan (on the loop).  Returns an exit code. */
static int start(struct check *c)
{
	char err[600];
	int r;
	if (c->cli->parent_zone) {
		r = cds_parent_from_zone(c->cli->parent_zone, &c->d, err, sizeof(err));
		if (r == CDS_EDATA || r == CDS_ENOENT) {
			fprintf(stderr, "cdscan: check: %s\n", err);
			return CDS_EXIT_DATAERR;
		}
	} else if (c->cli->ns_count) {
		r = delegation_from_cli(c->cli, &c->d);
	} else {
		return cds_scanner_parent(c->scanner, &c->d, parent_cb, c) ? CDS_EXIT_SOFTWARE
									   : CDS_EXIT_OK;
	}
	if (r != 0)
		return CDS_EXIT_SOFTWARE;
	start_scan(c);
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
	/* The contract's verdict of `check` says whether the delegation is
	 * secure: always the full status, whatever scan.full-status says. */
	c->eff.scan.full_status = true;
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
