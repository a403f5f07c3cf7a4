/* cdscan import --domains: a registrar's portfolio into the delegation
 * table (the portfolio reader, the registry profiles, the store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/error.h"
#include "cdscan/dns.h"
#include "cdscan/log.h"
#include "cdscan/outbox.h"
#include "cdscan/portfolio.h"
#include "cdscan/scan.h"

/* Lines read ahead, for the <domain:info> of those that need it to run
 * in parallel; memory stays bounded by this, not by the file. */
#define BATCH 256

/* The reader behind cds_db_import_domains' callback: lines read BATCH at a
 * time, the NS and DS they lack asked of their registry (--from epp). */
struct feed {
	const struct cds_conf *conf;
	bool from_epp;
	bool from_dns;
	uv_loop_t loop; /* --from dns: the scanner's */
	struct cds_scanner *scanner;
	struct cds_portfolio_reader *reader;
	struct cds_portfolio_entry e[BATCH];
	const struct cds_registry *reg[BATCH];
	bool asked[BATCH]; /* the registry was asked (statuses known) */
	size_t count, pos; /* read, handed on */
	bool end;          /* the reader is at the end */
	char err[600];     /* an info callback's error */
};

/* The registry's answer for one line into its entry: what the line did
 * not give (RFC 5731 §3.1.2 hostObj names, RFC 5910 dsData). */
static int fill_entry(struct cds_portfolio_entry *e, const struct cds_conf *conf, const char *where,
                      int code, const char *msg, const struct cds_epp_info *info, char *err,
                      size_t errlen)
{
	if (code != 1000 || !info->domain) {
		snprintf(err, errlen, "%s:%lu: %s: domain:info at registry %s: %d %s", e->file,
		         e->line, e->domain, where, code, code == 1000 ? "(no infData)" : msg);
		return CDS_EDATA;
	}
	if (!e->has_ns) {
		if (info->nns == 0 || info->nns > conf->import.max_ns) {
			snprintf(err, errlen,
			         "%s:%lu: %s: %zu NS names at the registry (1 to "
			         "import.max-ns, %u)",
			         e->file, e->line, e->domain, info->nns, conf->import.max_ns);
			return CDS_EDATA;
		}
		for (size_t i = 0; i < info->nns; i++)
			if (cds_dname_normalize(info->ns[i], e->ns[i]) != 0) {
				snprintf(err, errlen,
				         "%s:%lu: %s: the registry's NS '%.80s' is not "
				         "a host name",
				         e->file, e->line, e->domain, info->ns[i]);
				return CDS_EDATA;
			}
		e->ns_count = info->nns;
		e->has_ns = true;
	}
	if (!e->has_ds) {
		if ((info->nkeys && !info->nds) || info->nds > conf->import.max_ds) {
			snprintf(err, errlen,
			         "%s:%lu: %s: the registry holds %s: give \"ds\" in the "
			         "line",
			         e->file, e->line, e->domain,
			         info->nds ? "more DS than import.max-ds"
			                   : "keys (keyData), not DS");
			return CDS_EDATA;
		}
		for (size_t i = 0; i < info->nds; i++)
			if (cds_ds_parse(info->ds[i], &e->ds[i]) != 0) {
				snprintf(err, errlen,
				         "%s:%lu: %s: the registry's DS '%.120s' does not "
				         "parse",
				         e->file, e->line, e->domain, info->ds[i]);
				return CDS_EDATA;
			}
		e->ds_count = info->nds;
		e->has_ds = true;
	}
	return cds_portfolio_entry_sort(e);
}

/* The domain's statuses (RFC 5731 §2.3), kept as the registry says them:
 * words of letters, joined by ','; any other text is dropped (it comes
 * from outside and is written into an array literal). */
static void set_status(struct cds_portfolio_entry *e, const struct cds_epp_info *info)
{
	size_t o = 0;
	for (size_t i = 0; i < info->nstatus; i++) {
		const char *s = info->status[i];
		size_t n = strlen(s);
		if (n == 0 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != n ||
		    o + n + 2 > sizeof(e->status))
			continue;
		if (o)
			e->status[o++] = ',';
		memcpy(e->status + o, s, n + 1);
		o += n;
	}
}

/* The info callback: the answer into the entry it was asked for. */
static int info_cb(void *arg, size_t i, int code, const char *msg, const struct cds_epp_info *info)
{
	struct feed *f = ((struct feed **)arg)[0];
	size_t *idx = ((size_t **)arg)[1];
	f->asked[idx[i]] = true;
	if (code == 1000 && info)
		set_status(&f->e[idx[i]], info);
	return fill_entry(&f->e[idx[i]], f->conf, f->reg[idx[i]]->name, code, msg, info, f->err,
	                  sizeof(f->err));
}

/* Ask each registry of the batch for the lines that lack NS or DS. */
static int ask_registries(struct feed *f, char *err, size_t errlen)
{
	const char *names[BATCH];
	size_t idx[BATCH];
	void *ctx[2] = {f, idx};
	for (size_t a = 0; a < f->count; a++) {
		const struct cds_registry *reg = f->reg[a];
		size_t n = 0;
		bool first = true;
		/* Each registry once: at its first line that needs asking. */
		if (f->e[a].has_ns && f->e[a].has_ds)
			continue;
		for (size_t b = 0; b < f->count; b++) {
			if (f->e[b].has_ns && f->e[b].has_ds)
				continue;
			if (f->reg[b] == reg && b < a)
				first = false;
			if (f->reg[b] == reg) {
				idx[n] = b;
				names[n++] = f->e[b].domain;
			}
		}
		if (!first || n == 0)
			continue;
		f->err[0] = '\0';
		int r = cds_outbox_domain_info(reg, names, n, info_cb, ctx, err, errlen);
		if (r != 0) {
			if (f->err[0])
				snprintf(err, errlen, "%s", f->err);
			return r;
		}
	}
	return 0;
}

/* --from dns: one domain's delegation as its parent's servers refer to
 * it, the DS set validated (cds_scanner_parent_validated). */
struct dns_ask {
	size_t i; /* its line in the batch */
	int status;
	struct cds_delegation d; /* ns and ds malloc'd by the scanner */
};

static void dns_cb(int status, struct cds_delegation *d, void *arg)
{
	(void)d;
	((struct dns_ask *)arg)->status = status;
}

static int fill_dns(struct cds_portfolio_entry *e, const struct cds_conf *conf,
                    const struct dns_ask *a, char *err, size_t errlen)
{
	static const char *const why[] = {"no parent zone found", "the DS set does not validate",
	                                  "none of the parent's servers answered"};
	int w = a->status == CDS_ENOENT ? 0 : a->status == CDS_EDATA ? 1 : 2;
	if (a->status == 0 && (a->d.ns_count == 0 || a->d.ns_count > conf->import.max_ns ||
	                       a->d.ds_count > conf->import.max_ds))
		a = NULL;
	if (!a || a->status != 0) {
		snprintf(err, errlen, "%s:%lu: %s: from dns: %s", e->file, e->line, e->domain,
		         !a ? "no NS, or more NS or DS than import.max-ns or -ds" : why[w]);
		return a && a->status != CDS_EDATA && a->status != CDS_ENOENT ? CDS_EUNAVAIL
		                                                              : CDS_EDATA;
	}
	if (!e->has_ns) {
		for (size_t k = 0; k < a->d.ns_count; k++)
			memcpy(e->ns[k], a->d.ns[k].name, sizeof(e->ns[k]));
		e->ns_count = a->d.ns_count;
		e->has_ns = true;
	}
	if (!e->has_ds) {
		for (size_t k = 0; k < a->d.ds_count; k++)
			e->ds[k] = a->d.ds[k];
		e->ds_count = a->d.ds_count;
		e->has_ds = true;
	}
	return cds_portfolio_entry_sort(e);
}

/* Ask DNS for the lines of the batch that lack NS or DS, all at once
 * (the scanner bounds the queries in flight). */
static int ask_dns(struct feed *f, char *err, size_t errlen)
{
	struct dns_ask *asks = calloc(BATCH, sizeof(*asks));
	size_t n = 0;
	int r = asks ? 0 : CDS_ENOMEM;
	for (size_t b = 0; r == 0 && b < f->count; b++) {
		if (f->e[b].has_ns && f->e[b].has_ds)
			continue;
		asks[n].i = b;
		memcpy(asks[n].d.domain, f->e[b].domain, sizeof(asks[n].d.domain));
		if ((r = cds_scanner_parent_validated(f->scanner, &asks[n].d, dns_cb, &asks[n])) ==
		    0)
			n++;
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	for (size_t k = 0; k < n; k++) {
		if (r == 0)
			r = fill_dns(&f->e[asks[k].i], f->conf, &asks[k], err, errlen);
		free(asks[k].d.ns);
		free(asks[k].d.ds);
	}
	free(asks);
	return r;
}

/* One line, checked: its registry, and NS and DS given or to be asked. */
static int read_one(struct feed *f, char *err, size_t errlen)
{
	struct cds_portfolio_entry *e = &f->e[f->count];
	int r = cds_portfolio_next(f->reader, e, err, errlen);
	f->asked[f->count] = false;
	if (r != 1)
		return r;
	if ((r = cds_portfolio_registry(f->conf, e, &f->reg[f->count], err, errlen)) != 0)
		return r;
	/* Without --from, the file is the whole truth: a line that does not
	 * say its NS and DS sets (an empty "ds" says: unsigned) cannot be
	 * taken, or an absent "ds" would read as a DS set removed. */
	if ((!e->has_ns || !e->has_ds) && !f->from_epp && !f->from_dns) {
		snprintf(err, errlen,
		         "%s:%lu: %s: no \"%s\" (give NS and DS in the line, as "
		         "jsonl, or read them with --from dns|epp)",
		         e->file, e->line, e->domain, e->has_ns ? "ds" : "ns");
		return CDS_EDATA;
	}
	if ((!e->has_ns || !e->has_ds) && f->from_epp &&
	    (!f->reg[f->count] || !f->reg[f->count]->epp.server)) {
		snprintf(err, errlen,
		         "%s:%lu: %s: --from epp, but no registry profile with an "
		         "epp.server serves it",
		         e->file, e->line, e->domain);
		return CDS_EDATA;
	}
	f->count++;
	return 1;
}

static int next_domain(void *arg, struct cds_db_portfolio_row *d, char *err, size_t errlen)
{
	struct feed *f = arg;
	int r;
	if (f->pos == f->count) {
		if (f->end)
			return 0;
		f->pos = f->count = 0;
		while (f->count < BATCH && (r = read_one(f, err, errlen)) == 1)
			;
		if (r < 0)
			return r;
		f->end = r == 0;
		if (f->from_epp && (r = ask_registries(f, err, errlen)) != 0)
			return r;
		if (f->from_dns && (r = ask_dns(f, err, errlen)) != 0)
			return r;
		if (f->count == 0)
			return 0;
	}
	const struct cds_portfolio_entry *e = &f->e[f->pos];
	const struct cds_registry *reg = f->reg[f->pos++];
	*d = (struct cds_db_portfolio_row){
	    .domain = e->domain,
	    .zone = e->zone,
	    .registry = reg ? reg->name : NULL,
	    .ns = (const char(*)[CDS_DNAME_BUFSIZE])e->ns,
	    .ns_count = e->ns_count,
	    .ds = e->ds,
	    .ds_count = e->ds_count,
	    .file = e->file,
	    .line = e->line,
	    .status = f->asked[f->pos - 1] ? e->status : NULL,
	    .contact = e->contact[0] ? e->contact : NULL,
	};
	return 1;
}

static void print_counts(const struct cds_cli *cli, const struct cds_import_counts *c, double s)
{
	printf("imported %s: %llu domains in %llu zones: %llu delegations: %llu inserted, "
	       "%llu changed, %llu unchanged, %llu removed, %llu suspended (%.1f s)\n",
	       cli->domains_file, (unsigned long long)c->records, (unsigned long long)c->zones,
	       (unsigned long long)c->delegations, (unsigned long long)c->inserted,
	       (unsigned long long)c->changed, (unsigned long long)c->unchanged,
	       (unsigned long long)c->removed, (unsigned long long)c->suspended, s);
	if (c->ds_outside || c->ds_cdscan)
		cds_log_info("import: %llu DS sets changed outside cdscan (replay baseline set to "
		             "now), %llu as cdscan's change sets proposed (baseline kept)",
		             (unsigned long long)c->ds_outside, (unsigned long long)c->ds_cdscan);
}

static void feed_free(struct feed *f)
{
	if (!f)
		return;
	cds_portfolio_close(f->reader);
	if (f->from_dns) {
		cds_scanner_free(f->scanner);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		uv_loop_close(&f->loop);
	}
	for (size_t i = 0; i < BATCH; i++)
		cds_portfolio_entry_deinit(&f->e[i]);
	free(f);
}

/* --from dns: a scanner on a loop of the feed's own, with the trust
 * anchor the DS sets are validated from. */
static int dns_setup(struct feed *f, const struct cds_conf *conf, char *err, size_t errlen)
{
	if (uv_loop_init(&f->loop) != 0)
		return CDS_ENOMEM;
	f->from_dns = true;
	int r = cds_scanner_new(&f->loop, conf, NULL, 0, &f->scanner);
	if (r == CDS_ECONFIG)
		snprintf(err, errlen, "--from dns: no resolver (resolver.addresses)");
	if (r == 0 && !conf->resolver.trust_anchor) {
		snprintf(err, errlen, "--from dns: no resolver.trust-anchor to validate DS sets");
		r = CDS_ECONFIG;
	}
	if (r == 0 && (r = cds_scanner_trust_anchor(f->scanner, conf->resolver.trust_anchor, err,
	                                            errlen)) != 0)
		r = CDS_ECONFIG;
	return r;
}

static int feed_new(const struct cds_cli *cli, const struct cds_conf *conf, struct feed **out,
                    char *err, size_t errlen)
{
	struct cds_portfolio_limits lim = {conf->import.max_line, conf->import.max_ns,
	                                   conf->import.max_ds, conf->import.max_domains};
	struct feed *f = calloc(1, sizeof(*f));
	int r = f ? 0 : CDS_ENOMEM;
	*out = f;
	if (!f)
		return r;
	f->conf = conf;
	f->from_epp = cli->import_from == CDS_IMPORT_FROM_EPP;
	if (cli->import_from == CDS_IMPORT_FROM_DNS && (r = dns_setup(f, conf, err, errlen)) != 0)
		return r;
	for (size_t i = 0; i < BATCH && r == 0; i++)
		r = cds_portfolio_entry_init(&f->e[i], &lim);
	if (r == 0)
		r = cds_portfolio_open(cli->domains_file,
		                       cli->import_format == CDS_IMPORT_JSONL ? CDS_PORTFOLIO_JSONL
		                                                              : CDS_PORTFOLIO_CSV,
		                       &lim, &f->reader, err, errlen);
	return r;
}

int cds_cmd_import_domains(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct feed *f = NULL;
	struct cds_db *db = NULL;
	struct cds_import_counts c;
	struct timespec t0, t1;
	char err[600];
	int r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((r = feed_new(cli, conf, &f, err, sizeof(err))) != 0 ||
	    (r = cds_db_connect(conf->database, &db, err, sizeof(err))) != 0 ||
	    (r = cds_db_import_domains(db, next_domain, f, &c, err, sizeof(err))) != 0) {
		if (r == CDS_ENOMEM)
			snprintf(err, sizeof(err), "out of memory");
		fprintf(stderr, "cdscan: import: %s\n", err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_counts(cli, &c,
	             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (c.suspended)
		cds_log_warning("import: %llu domains suspended: their DS set was removed outside "
		                "cdscan",
		                (unsigned long long)c.suspended);
out:
	cds_db_close(db);
	feed_free(f);
	return r == 0 ? CDS_EXIT_OK : cds_error_exit_code(r);
}
