/* cdscan scan: claim due delegations in batches, scan and decide them on one
 * loop, write results and change sets per batch in one transaction, and
 * write the operator's report. */
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

struct run {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	struct cds_scanner *scanner;
	uv_loop_t *loop;
	struct cds_db_batch batch;
	struct cds_verdict *verdicts; /* one per batch item */
	bool *decided;
	const struct cds_registry **regs; /* per batch item: its profile, or NULL */
	bool *skipped;                /* the registry scans CDS itself */
	struct cds_conf *effective;   /* per profile: policy with its overrides */
	size_t next, done;            /* within the batch */
	struct cds_report *rep;
	uint64_t total;               /* due at the start, for progress */
	struct timespec t0;
	bool tty;
	double last_progress;
	double decide_s, db_s; /* time spent deciding, and in the database */
	int error;
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

static void start_next(struct run *r);

/* The policy an item is decided under: its registry profile's overrides. */
static const struct cds_conf *conf_of(const struct run *r, size_t i)
{
	const struct cds_registry *reg = r->regs[i];
	return reg ? &r->effective[reg - r->conf->registries] : r->conf;
}

static void scanned_cb(struct cds_scan_result *res, void *arg)
{
	struct run *r = arg;
	/* The delegation is embedded in its batch item: its container. */
	const struct cds_db_item *item =
		(const struct cds_db_item *)((const char *)res->delegation -
					     offsetof(struct cds_db_item, d));
	size_t i = (size_t)(item - r->batch.items);
	double t0 = elapsed(r);
	if (i < r->batch.count &&
	    cds_policy_decide(res, conf_of(r, i), cds_clock(), &r->verdicts[i]) == 0)
		r->decided[i] = true;
	r->decide_s += elapsed(r) - t0;
	cds_scan_result_free(res);
	r->done++;
	start_next(r);
}

static void start_next(struct run *r)
{
	while (r->next < r->batch.count) {
		size_t i = r->next++;
		r->regs[i] = cds_conf_registry_for(r->conf, r->batch.items[i].d.domain);
		if (r->regs[i] && r->regs[i]->scans_cds_itself) {
			r->skipped[i] = true; /* not ours to scan */
			r->done++;
			continue;
		}
		if (cds_scanner_scan(r->scanner, &r->batch.items[i].d, scanned_cb, r) == 0)
			return;
		r->done++; /* no memory to scan it: it stays undecided */
	}
}

static void tick_cb(uv_timer_t *t)
{
	progress(t->data, false);
}

/* Write the batch's verdicts in its transaction and commit. */
static int write_batch(struct run *r, struct cds_db *db, char *err, size_t errlen)
{
	uint64_t interval_s = r->conf->scan.interval_ms / 1000;
	struct cds_db_outcome *o = calloc(r->batch.count ? r->batch.count : 1, sizeof(*o));
	size_t n = 0;
	int rc = o ? 0 : CDS_ENOMEM;
	for (size_t i = 0; i < r->batch.count && rc == 0; i++) {
		if (r->skipped[i]) {
			if (!r->cli->dry_run)
				rc = cds_db_skip(db, &r->batch.items[i], interval_s, err, errlen);
			if (rc == 0)
				rc = cds_report_skip(r->rep, r->regs[i]->name);
			continue;
		}
		if (!r->decided[i])
			continue;
		struct cds_verdict *v = &r->verdicts[i];
		struct cds_db_outcome *x = &o[n];
		x->item = &r->batch.items[i];
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
		x->no_changes = r->conf->registry_count > 0 && !r->regs[i];
	}
	if (rc == 0)
		rc = cds_db_record_batch(db, o, n, r->cli->dry_run, interval_s, err, errlen);
	for (size_t k = 0; k < n && rc == 0; k++) {
		const struct cds_verdict *v = o[k].v;
		unsigned failures = o[k].failed ? (unsigned)o[k].item->failures + 1 : 0;
		rc = cds_report_add(r->rep, v, failures, o[k].changesets > 0);
		if (rc == 0 && o[k].no_changes &&
		    (v->ds_side.action != CDS_ACTION_NONE || v->ns_side.action != CDS_ACTION_NONE))
			rc = cds_report_unrouted(r->rep, v->domain);
	}
	for (size_t k = 0; k < n; k++)
		free((char *)o[k].json);
	free(o);
	if (rc != 0)
		return rc;
	return cds_db_batch_commit(db, &r->batch, err, errlen);
}

static void clear_verdicts(struct run *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r->decided[i])
			cds_verdict_clear(&r->verdicts[i]);
	free(r->verdicts);
	free(r->decided);
	free(r->regs);
	free(r->skipped);
	r->verdicts = NULL;
	r->decided = NULL;
	r->regs = NULL;
	r->skipped = NULL;
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
	char **names = calloc(cli->domain_count ? cli->domain_count : 1, sizeof(*names));
	for (size_t i = 0; names && i < cli->domain_count; i++)
		names[i] = (char *)cli->domains[i];
	int64_t after = 0;
	for (;;) {
		size_t want = conf->scan.batch_size;
		if (cli->has_limit && cli->limit - cds_report_domains(r.rep) < want)
			want = (size_t)(cli->limit - cds_report_domains(r.rep));
		if (want == 0)
			break;
		double t_db = elapsed(&r);
		e = names ? cds_db_claim(db, want, after, names, cli->domain_count, &r.batch, err,
					 sizeof(err))
			  : CDS_ENOMEM;
		r.db_s += elapsed(&r) - t_db;
		if (e != 0)
			break;
		if (r.batch.count == 0)
			break;
		after = r.batch.last_id;
		r.verdicts = calloc(r.batch.count, sizeof(*r.verdicts));
		r.decided = calloc(r.batch.count, sizeof(*r.decided));
		r.regs = calloc(r.batch.count, sizeof(*r.regs));
		r.skipped = calloc(r.batch.count, sizeof(*r.skipped));
		if (!r.verdicts || !r.decided || !r.regs || !r.skipped) {
			cds_db_batch_abort(db, &r.batch);
			e = CDS_ENOMEM;
			break;
		}
		r.next = r.done = 0;
		/* At most scan.concurrency delegations in flight; each finished
		 * one starts the next. */
		for (size_t i = 0; i < conf->scan.concurrency && r.next < r.batch.count; i++)
			start_next(&r);
		uv_timer_start(&tick, tick_cb, 1000, 1000);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_timer_stop(&tick);
		size_t n = r.batch.count;
		t_db = elapsed(&r);
		e = write_batch(&r, db, err, sizeof(err));
		r.db_s += elapsed(&r) - t_db;
		clear_verdicts(&r, n);
		if (e != 0) {
			/* Nothing of this batch is written: its rows stay due. */
			cds_db_batch_abort(db, &r.batch);
			break;
		}
		progress(&r, false);
	}
	free(names);
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
		fprintf(stderr, "cdscan: scan: %s; the current batch was not written\n", err);
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
