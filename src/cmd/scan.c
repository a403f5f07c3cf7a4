/* cdscan scan: claim due delegations under a lease, scan and decide them on
 * one loop with at most scan.concurrency in flight (refilled as each one
 * ends, across claims), write results, change sets and schedule a group at
 * a time, and write the operator's report. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/policy.h"
#include "cdscan/report.h"
#include "cdscan/scan.h"

/* One claimed delegation, from its start to its write: its own copy, so
 * that a slow delegation (a lame nameserver's timeouts) keeps only itself
 * in memory, not the batch it was claimed with. */
struct work {
	struct run *r;
	struct cds_db_item item;
	const struct cds_registry *reg; /* its profile, or NULL */
	bool skipped;                   /* the registry scans CDS itself */
};

/* A delegation scanned (or skipped), waiting for the next write: at most
 * scan.batch-size of them. */
struct finished {
	struct work *w;
	bool decided;
	struct cds_verdict v;
};

struct run {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	struct cds_scanner *scanner;
	struct cds_db *db;
	uv_loop_t *loop;
	struct cds_db_batch batch;    /* the last claim */
	size_t next;                  /* its first delegation not started */
	struct finished *fin;         /* up to scan.batch-size */
	size_t nfin;
	size_t inflight;              /* scans running */
	int64_t after;                /* the claim cursor */
	uint64_t claimed, unwritten;
	char **names;                 /* --domain, as the claim takes them */
	bool exhausted, pumping;
	struct cds_conf *effective;   /* per profile: policy with its overrides */
	struct cds_report *rep;
	uint64_t total;               /* due at the start, for progress */
	struct timespec t0;
	bool tty;
	double last_progress;
	double decide_s, db_s; /* time spent deciding, and in the database */
	int error;
	char errmsg[700];
};

static double elapsed(const struct run *r)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

/* A progress line on a terminal, a log line every few seconds otherwise. */
static void progress(struct run *r, bool final)
{
	double s = elapsed(r);
	if (!final && s - r->last_progress < (r->tty ? 0.5 : 5.0))
		return;
	r->last_progress = s;
	uint64_t done = cds_report_domains(r->rep);
	double rate = s > 0 ? (double)done / s : 0;
	double eta = rate > 0 && r->total > done ? (double)(r->total - done) / rate : 0;
	if (r->tty) {
		fprintf(stderr, "\rscanned %llu/%llu  %.0f/s  ETA %.0fs  rejects %llu   %s",
			(unsigned long long)done, (unsigned long long)r->total, rate, eta,
			(unsigned long long)cds_report_rejects(r->rep), final ? "\n" : "");
		fflush(stderr);
	} else {
		cds_log_info("progress (scanned %llu of %llu, %.0f/s, eta %.0fs, rejects %llu)",
			     (unsigned long long)done, (unsigned long long)r->total, rate, eta,
			     (unsigned long long)cds_report_rejects(r->rep));
	}
}

/* The policy a delegation is decided under: its registry profile's
 * overrides. */
static const struct cds_conf *conf_of(const struct run *r, const struct work *w)
{
	return w->reg ? &r->effective[w->reg - r->conf->registries] : r->conf;
}

static void free_work(struct work *w)
{
	free(w->item.d.ns);
	free(w->item.d.ds);
	free(w);
}

/* Drop what cannot be written any more (after a database error). */
static void drop_finished(struct run *r)
{
	for (size_t k = 0; k < r->nfin; k++) {
		struct finished *f = &r->fin[k];
		if (f->decided)
			cds_verdict_clear(&f->v);
		f->decided = false;
		r->unwritten++;
		free_work(f->w);
	}
	r->nfin = 0;
}

/* Write the finished delegations in one transaction, then report them. */
static int flush(struct run *r)
{
	uint64_t interval_s = r->conf->scan.interval_ms / 1000;
	size_t n = 0, nskip = 0;
	int rc = 0;
	if (r->nfin == 0)
		return 0;
	struct cds_db_outcome *o = calloc(r->nfin, sizeof(*o));
	const struct cds_db_item **skip = calloc(r->nfin, sizeof(*skip));
	if (!o || !skip)
		rc = CDS_ENOMEM;
	for (size_t k = 0; k < r->nfin && rc == 0; k++) {
		struct work *w = r->fin[k].w;
		if (w->skipped) {
			skip[nskip++] = &w->item;
			continue;
		}
		if (!r->fin[k].decided)
			continue; /* no memory to scan it: due again after the lease */
		struct cds_verdict *v = &r->fin[k].v;
		struct cds_db_outcome *x = &o[n];
		x->item = &w->item;
		x->v = v;
		if (!(x->json = cds_verdict_to_json(v, false))) {
			rc = CDS_ENOMEM;
			break;
		}
		n++;
		for (size_t s = 0; s < v->server_count; s++)
			x->failed |= !v->servers[s].ok;
		/* With registry profiles, a delegation under none of them is
		 * decided and reported, but nobody is told: no change set. */
		x->no_changes = r->conf->registry_count > 0 && !w->reg;
	}
	double t0 = elapsed(r);
	if (rc == 0)
		rc = cds_db_write_results(r->db, o, n, skip, nskip, r->cli->dry_run, interval_s,
					  r->errmsg, sizeof(r->errmsg));
	r->db_s += elapsed(r) - t0;
	for (size_t k = 0; k < r->nfin && rc == 0; k++)
		if (r->fin[k].w->skipped)
			rc = cds_report_skip(r->rep, r->fin[k].w->reg->name);
	for (size_t k = 0; k < n && rc == 0; k++) {
		const struct cds_verdict *v = o[k].v;
		unsigned failures = o[k].failed ? (unsigned)o[k].item->failures + 1 : 0;
		rc = cds_report_add(r->rep, v, failures, o[k].changesets > 0);
		if (rc == 0 && o[k].no_changes &&
		    (v->ds_side.action != CDS_ACTION_NONE || v->ns_side.action != CDS_ACTION_NONE))
			rc = cds_report_unrouted(r->rep, v->domain);
	}
	for (size_t k = 0; o && k < n; k++)
		free((char *)o[k].json);
	free(o);
	free(skip);
	if (rc != 0) {
		if (!r->errmsg[0] || rc == CDS_ENOMEM)
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", cds_strerror(rc));
		r->error = rc;
		drop_finished(r);
		return rc;
	}
	for (size_t k = 0; k < r->nfin; k++) {
		struct finished *f = &r->fin[k];
		if (f->decided)
			cds_verdict_clear(&f->v);
		f->decided = false;
		free_work(f->w);
	}
	r->nfin = 0;
	progress(r, false);
	return 0;
}

/* Claim the next batch into r->batch.  Returns false when nothing is left
 * or on an error (r->error). */
static bool claim(struct run *r)
{
	size_t want = r->conf->scan.batch_size;
	cds_db_batch_free(&r->batch);
	r->next = 0;
	if (r->cli->has_limit && r->cli->limit - r->claimed < want)
		want = (size_t)(r->cli->limit - r->claimed);
	if (want == 0) {
		r->exhausted = true;
		return false;
	}
	double t0 = elapsed(r);
	uint64_t lease_s = r->cli->dry_run ? 0 : (r->conf->scan.lease_ms + 999) / 1000;
	int e = cds_db_claim(r->db, want, r->after, r->names, r->cli->domain_count, lease_s,
			     &r->batch, r->errmsg, sizeof(r->errmsg));
	r->db_s += elapsed(r) - t0;
	if (e != 0) {
		r->error = e;
		return false;
	}
	if (r->batch.count == 0) {
		r->exhausted = true;
		return false;
	}
	r->after = r->batch.last_id;
	r->claimed += r->batch.count;
	return true;
}

static void pump(struct run *r);

/* The next place in the finished list (there is always one: it is written
 * out when full). */
static struct finished *next_finished(struct run *r, struct work *w)
{
	struct finished *f = &r->fin[r->nfin];
	f->w = w;
	f->decided = false;
	return f;
}

/* The place next_finished gave is taken: write out a full list. */
static void add_finished(struct run *r)
{
	r->nfin++;
	if (r->error)
		drop_finished(r);
	else if (r->nfin >= r->conf->scan.batch_size)
		flush(r);
}

static void scanned_cb(struct cds_scan_result *res, void *arg)
{
	struct work *w = arg;
	struct run *r = w->r;
	struct finished *f = next_finished(r, w);
	double t0 = elapsed(r);
	f->decided = !r->error &&
		     cds_policy_decide(res, conf_of(r, w), cds_clock(), &f->v) == 0;
	r->decide_s += elapsed(r) - t0;
	cds_scan_result_free(res);
	r->inflight--;
	add_finished(r);
	pump(r);
}

/*
 * Keep scan.concurrency delegations in flight: start the next claimed one
 * as each ends, and claim more when none is left, so that a slow
 * delegation (a lame nameserver's timeouts) holds only its own place.
 * When nothing runs and nothing is left, the last results are written.
 */
static void pump(struct run *r)
{
	if (r->pumping)
		return; /* the outer call goes on */
	r->pumping = true;
	while (!r->error && r->inflight < r->conf->scan.concurrency) {
		if (r->next == r->batch.count && (r->exhausted || !claim(r)))
			break;
		struct cds_db_item *it = &r->batch.items[r->next++];
		struct work *w = calloc(1, sizeof(*w));
		if (!w) {
			r->error = CDS_ENOMEM;
			snprintf(r->errmsg, sizeof(r->errmsg), "out of memory");
			r->unwritten++;
			break;
		}
		/* The delegation's lists move to the work. */
		w->r = r;
		w->item = *it;
		it->d.ns = NULL;
		it->d.ds = NULL;
		w->reg = cds_conf_registry_for(r->conf, w->item.d.domain);
		if (w->reg && w->reg->scans_cds_itself) {
			w->skipped = true; /* not ours to scan */
			next_finished(r, w);
			add_finished(r);
		} else if (cds_scanner_scan(r->scanner, &w->item.d, scanned_cb, w) == 0) {
			r->inflight++;
		} else {
			next_finished(r, w); /* no memory to scan it: undecided */
			add_finished(r);
		}
	}
	if (r->inflight == 0 && !r->error && r->exhausted)
		flush(r);
	if (r->error) {
		/* Nothing more is written: what is claimed and not started is
		 * left to its lease. */
		drop_finished(r);
		r->unwritten += r->batch.count - r->next;
		r->next = r->batch.count;
	}
	r->pumping = false;
}

static void tick_cb(uv_timer_t *t)
{
	progress(t->data, false);
}
static int write_report(const struct run *r, char *err, size_t errlen)
{
	FILE *f = strcmp(r->cli->report_file, "-") == 0 ? stdout : fopen(r->cli->report_file, "w");
	int rc = f ? cds_report_write(r->rep, r->cli->report_format, f) : CDS_EDATA;
	if (f && f != stdout && fclose(f) != 0)
		rc = CDS_EDATA;
	if (rc != 0)
		snprintf(err, errlen, "%s: cannot write the report", r->cli->report_file);
	return rc;
}

int cds_cmd_scan(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct run r = {.cli = cli, .conf = conf, .tty = isatty(STDERR_FILENO)};
	struct cds_db *db = NULL;
	char err[700];
	const char *resolvers[1] = {cli->resolver};
	uv_loop_t loop;
	uv_timer_t tick;
	int rc = CDS_EXIT_OK;

	int e = cds_db_connect(conf->database, &db, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "cdscan: scan: %s\n", err);
		return cds_error_exit_code(e);
	}
	if (!cli->domain_count && cds_db_count_due(db, &r.total, err, sizeof(err)) != 0) {
		fprintf(stderr, "cdscan: scan: %s (has 'cdscan db init' been run?)\n", err);
		cds_db_close(db);
		return CDS_EXIT_UNAVAILABLE;
	}
	if (cli->domain_count)
		r.total = cli->domain_count;
	if (cli->has_limit && cli->limit < r.total)
		r.total = cli->limit;
	uv_loop_init(&loop);
	r.loop = &loop;
	e = cds_scanner_new(&loop, conf, cli->resolver ? resolvers : NULL, cli->resolver ? 1 : 0,
			    &r.scanner);
	if (e != 0) {
		fprintf(stderr, "cdscan: scan: no resolver: set resolver.addresses or --resolver\n");
		cds_db_close(db);
		uv_loop_close(&loop);
		return CDS_EXIT_CONFIG;
	}
	char taerr[512];
	if (cds_scanner_bootstrap_anchor(r.scanner, conf, cli->trust_anchor, taerr,
					 sizeof(taerr)) != 0) {
		fprintf(stderr, "cdscan: scan: %s\n", taerr);
		cds_scanner_free(r.scanner);
		uv_run(&loop, UV_RUN_DEFAULT);
		cds_db_close(db);
		uv_loop_close(&loop);
		return CDS_EXIT_CONFIG;
	}
	uv_timer_init(&loop, &tick);
	tick.data = &r;
	/* Progress must not keep the loop running once the batch is done. */
	uv_unref((uv_handle_t *)&tick);
	r.rep = cds_report_new(cli->dry_run, conf->scan.flag_unreachable_after);
	if (!r.rep) {
		cds_scanner_free(r.scanner);
		cds_db_close(db);
		return CDS_EXIT_SOFTWARE;
	}
	r.effective = calloc(conf->registry_count ? conf->registry_count : 1, sizeof(*r.effective));
	if (!r.effective) {
		cds_report_free(r.rep);
		cds_scanner_free(r.scanner);
		cds_db_close(db);
		return CDS_EXIT_SOFTWARE;
	}
	for (size_t i = 0; i < conf->registry_count; i++)
		cds_conf_effective(conf, &conf->registries[i], &r.effective[i]);
	time_t started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	/* --domain names as the array of strings the claim takes. */
	r.names = calloc(cli->domain_count ? cli->domain_count : 1, sizeof(*r.names));
	r.fin = calloc(conf->scan.batch_size, sizeof(*r.fin));
	r.db = db;
	for (size_t i = 0; r.names && i < cli->domain_count; i++)
		r.names[i] = (char *)cli->domains[i];
	if (!r.names || !r.fin) {
		r.error = CDS_ENOMEM;
		snprintf(r.errmsg, sizeof(r.errmsg), "out of memory");
	} else {
		pump(&r);
		uv_timer_start(&tick, tick_cb, 1000, 1000);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_timer_stop(&tick);
		if (!r.error)
			flush(&r);
	}
	e = r.error;
	snprintf(err, sizeof(err), "%s", r.errmsg);
	cds_db_batch_free(&r.batch);
	free(r.fin);
	free(r.names);
	cds_report_times(r.rep, started, time(NULL));
	progress(&r, true);
	uint64_t queries = 0, answers = 0;
	cds_scanner_counts(r.scanner, &queries, &answers);
	double wall = elapsed(&r);
	/* For the benchmark and for capacity planning: where the time went. */
	cds_log_notice("scan statistics (queries %llu, answers %llu, tcp fallbacks %llu, wall "
		       "%.2fs, deciding %.2fs, database %.2fs, waiting for DNS %.2fs)",
		       (unsigned long long)queries, (unsigned long long)answers,
		       (unsigned long long)cds_scanner_tcp_fallbacks(r.scanner), wall, r.decide_s,
		       r.db_s, wall - r.decide_s - r.db_s > 0 ? wall - r.decide_s - r.db_s : 0);
	/* Scan results older than scan.results-retention go. */
	if (e == 0 && !cli->dry_run &&
	    cds_db_prune_results(db, conf->scan.results_retention_ms / 1000, err, sizeof(err)) != 0)
		cds_log_warning("could not remove old scan results (%s)", err);
	if (e != 0) {
		fprintf(stderr,
			"cdscan: scan: %s; %llu claimed delegations were not written (due again when "
			"their scan.lease ends)\n",
			err, (unsigned long long)r.unwritten);
		rc = cds_error_exit_code(e);
	}
	if (cli->report_file && write_report(&r, err, sizeof(err)) != 0) {
		fprintf(stderr, "cdscan: scan: %s\n", err);
		rc = CDS_EXIT_SOFTWARE;
	}
	printf("scanned %llu delegations%s: DS update %llu, delete %llu, bootstrap %llu, reject "
	       "%llu, none %llu; %llu change sets created (%.1f s)\n",
	       (unsigned long long)cds_report_domains(r.rep), cli->dry_run ? " (dry run)" : "",
	       (unsigned long long)cds_report_ds_count(r.rep, CDS_ACTION_UPDATE),
	       (unsigned long long)cds_report_ds_count(r.rep, CDS_ACTION_DELETE),
	       (unsigned long long)cds_report_ds_count(r.rep, CDS_ACTION_BOOTSTRAP),
	       (unsigned long long)cds_report_ds_count(r.rep, CDS_ACTION_REJECT),
	       (unsigned long long)cds_report_ds_count(r.rep, CDS_ACTION_NONE),
	       (unsigned long long)cds_report_changesets(r.rep), elapsed(&r));
	/* --output or --spool-dir: hand the change sets over now, as epp send
	 * would (a dry run has none). */
	if (rc == CDS_EXIT_OK && !cli->dry_run && (cli->has_output || cli->spool_dir)) {
		int x = cds_epp_drain(conf, cli->has_output ? cli->output : conf->output.adapter,
				      cli->spool_dir, false, 0);
		if (x != CDS_EXIT_OK)
			rc = x;
	}
	cds_report_free(r.rep);
	free(r.effective);
	uv_close((uv_handle_t *)&tick, NULL);
	cds_scanner_free(r.scanner);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	cds_db_close(db);
	return rc;
}
