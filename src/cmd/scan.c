/* cdscan scan: the scan pipeline (src/pipeline) over the delegations that
 * are due, with progress on the terminal or in the log, the operator's
 * report, and with --output or --spool-dir the outbox drained at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cdscan/cmd.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/notifier.h"
#include "cdscan/pipeline.h"
#include "cdscan/report.h"

struct run {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	uv_loop_t loop;
	uv_timer_t tick;
	struct cds_db *db;
	struct cds_scanner *scanner;
	struct cds_pipeline *pipeline;
	struct cds_report *rep;
	uint64_t total; /* due at the start, for progress */
	struct timespec t0;
	bool tty;
	double last_progress;
};

static double elapsed(const struct run *r)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void progress(struct run *r, bool final)
{
	double s = elapsed(r);
	if (!final && s - r->last_progress < (r->tty ? 0.5 : 5.0))
		return;
	r->last_progress = s;
	cds_report_progress(r->rep, r->total, s, r->tty, final);
}

static void tick_cb(uv_timer_t *t)
{
	progress(t->data, false);
}

/* Each written delegation goes into the report. */
static int written_cb(const struct cds_pipeline_written *w, void *arg)
{
	struct run *r = arg;
	int rc;
	if (!w->v)
		return cds_report_skip(r->rep, w->reg->name);
	rc = cds_report_add(r->rep, w->v, w->reg ? w->reg->name : NULL, w->previous, w->failures,
			    w->changesets > 0);
	if (rc == 0 && w->unrouted)
		rc = cds_report_unrouted(r->rep, w->domain);
	progress(r, false);
	return rc;
}

static int write_report(const struct run *r)
{
	const char *path = r->cli->report_file;
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	int rc = f ? cds_report_write(r->rep, r->cli->report_format, f) : CDS_EDATA;
	if (f && f != stdout && fclose(f) != 0)
		rc = CDS_EDATA;
	if (rc != 0)
		fprintf(stderr, "cdscan: scan: %s: cannot write the report\n", path);
	return rc;
}

/* For the benchmark and for capacity planning: where the time went. */
static void log_statistics(struct run *r)
{
	struct cds_scanner_stats ss;
	struct cds_pipeline_stats ps;
	cds_scanner_stats(r->scanner, &ss);
	cds_pipeline_stats(r->pipeline, &ps);
	/* Deciding runs in the thread pool beside the loop: the loop's time is
	 * the store's and the wait for answers. */
	double wall = elapsed(r), dns = wall - ps.db_s;
	cds_log_notice("scan statistics (queries %llu, answers %llu, tcp fallbacks %llu, wall "
		       "%.2fs, deciding %.2fs, database %.2fs, waiting for DNS %.2fs, "
		       "signature checks %llu, dnskey cache hits %llu, added %llu, timeouts %llu, "
		       "window cuts %llu, datagrams sent in %llu calls, %llu received in %llu "
		       "calls, claims %llu, %llu of them ahead, %llu waited for, queries spared "
		       "by type bitmaps %llu)",
		       (unsigned long long)ss.queries, (unsigned long long)ss.answers,
		       (unsigned long long)ss.tcp_fallbacks, wall, ps.decide_s, ps.db_s,
		       dns > 0 ? dns : 0, (unsigned long long)ps.verifications,
		       (unsigned long long)ps.sigcache_hits, (unsigned long long)ps.sigcache_added,
		       (unsigned long long)ss.timeouts, (unsigned long long)ss.window_cuts,
		       (unsigned long long)ss.send_calls, (unsigned long long)ss.received,
		       (unsigned long long)ss.recv_calls, (unsigned long long)ps.claims,
		       (unsigned long long)ps.claims_ahead, (unsigned long long)ps.claim_waits,
		       (unsigned long long)ss.bitmap_skipped);
	if (ss.reports.sent || ss.reports.duplicates || ss.reports.rate_limited ||
	    ss.reports.unsendable)
		cds_log_info("error reports (RFC 9567): %llu sent, %llu suppressed as duplicates, "
			     "%llu over error-reporting limits, %llu unsendable, %llu unanswered",
			     (unsigned long long)ss.reports.sent,
			     (unsigned long long)ss.reports.duplicates,
			     (unsigned long long)ss.reports.rate_limited,
			     (unsigned long long)ss.reports.unsendable,
			     (unsigned long long)ss.reports.failed);
}

/* Connect, count what is due, make the scanner (with its trust anchor).
 * Returns an exit code. */
static int setup(struct run *r)
{
	const struct cds_cli *cli = r->cli;
	const char *resolvers[1] = {cli->resolver};
	char err[700];
	int e = cds_db_connect(r->conf->database, &r->db, err, sizeof(err));
	if (e != 0) {
		fprintf(stderr, "cdscan: scan: %s\n", err);
		return cds_error_exit_code(e);
	}
	if (!cli->domain_count && cds_db_count_due(r->db, &r->total, err, sizeof(err)) != 0) {
		fprintf(stderr, "cdscan: scan: %s (has 'cdscan db init' been run?)\n", err);
		return CDS_EXIT_UNAVAILABLE;
	}
	if (cli->domain_count)
		r->total = cli->domain_count;
	if (cli->has_limit && cli->limit < r->total)
		r->total = cli->limit;
	if (cds_scanner_new(&r->loop, r->conf, cli->resolver ? resolvers : NULL,
			    cli->resolver ? 1 : 0, &r->scanner) != 0) {
		fprintf(stderr, "cdscan: scan: no resolver: set resolver.addresses or --resolver\n");
		return CDS_EXIT_CONFIG;
	}
	if (cds_scanner_bootstrap_anchor(r->scanner, r->conf, cli->trust_anchor, err,
					 sizeof(err)) != 0) {
		fprintf(stderr, "cdscan: scan: %s\n", err);
		return CDS_EXIT_CONFIG;
	}
	return CDS_EXIT_OK;
}

/* The pipeline on the loop until nothing is due.  Returns an exit code. */
static int run_pipeline(struct run *r)
{
	const struct cds_cli *cli = r->cli;
	const char **names = calloc(cli->domain_count ? cli->domain_count : 1, sizeof(*names));
	char err[700];
	int rc = CDS_EXIT_OK;
	for (size_t i = 0; names && i < cli->domain_count; i++)
		names[i] = cli->domains[i];
	/* A report shows trends: each result is written with its
	 * delegation's previous one read back (not needed otherwise). */
	struct cds_pipeline_opts opts = {.dry_run = cli->dry_run, .has_limit = cli->has_limit,
					 .limit = cli->limit, .domains = names,
					 .domain_count = cli->domain_count,
					 .previous = cli->report_file != NULL};
	if (!names || cds_pipeline_new(&r->loop, r->conf, r->scanner, r->db, &opts, written_cb, r,
				       &r->pipeline) != 0) {
		free(names);
		fprintf(stderr, "cdscan: scan: out of memory\n");
		return CDS_EXIT_SOFTWARE;
	}
	time_t started = time(NULL);
	cds_pipeline_start(r->pipeline);
	uv_timer_start(&r->tick, tick_cb, 1000, 1000);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&r->tick);
	int e = cds_pipeline_finish(r->pipeline, err, sizeof(err));
	cds_report_times(r->rep, started, time(NULL));
	progress(r, true);
	log_statistics(r);
	/* Scan results older than scan.results-retention go. */
	if (e == 0 && !cli->dry_run &&
	    cds_db_prune_results(r->db, r->conf->scan.results_retention_ms / 1000, err,
				 sizeof(err)) != 0)
		cds_log_warning("could not remove old scan results (%s)", err);
	if (e != 0) {
		struct cds_pipeline_stats ps;
		cds_pipeline_stats(r->pipeline, &ps);
		fprintf(stderr,
			"cdscan: scan: %s; %llu claimed delegations were not written (due again when "
			"their scan.lease ends)\n",
			err, (unsigned long long)ps.unwritten);
		rc = cds_error_exit_code(e);
	}
	free(names);
	return rc;
}

int cds_cmd_scan(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct run r = {.cli = cli, .conf = conf, .tty = isatty(STDERR_FILENO)};
	int rc;
	if (uv_loop_init(&r.loop) != 0) {
		fprintf(stderr, "cdscan: scan: cannot create the event loop\n");
		return CDS_EXIT_SOFTWARE;
	}
	uv_timer_init(&r.loop, &r.tick);
	r.tick.data = &r;
	/* Progress must not keep the loop running once the work is done. */
	uv_unref((uv_handle_t *)&r.tick);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	if ((rc = setup(&r)) != CDS_EXIT_OK)
		goto out;
	if (!(r.rep = cds_report_new(cli->dry_run, conf->scan.flag_unreachable_after))) {
		rc = CDS_EXIT_SOFTWARE;
		goto out;
	}
	rc = run_pipeline(&r);
	if (cli->report_file && write_report(&r) != 0)
		rc = CDS_EXIT_SOFTWARE;
	cds_report_summary(r.rep, elapsed(&r), stdout);
	/* --output or --spool-dir: hand the change sets over now, as epp send
	 * would (a dry run has none). */
	if (rc == CDS_EXIT_OK && !cli->dry_run && (cli->has_output || cli->spool_dir))
		rc = cds_cmd_drain(conf, cli->has_output ? cli->output : conf->output.adapter,
				   cli->spool_dir, false, 0);
	/* The notices this scan committed (and any left from before). */
	if (!cli->dry_run && r.db)
		cds_notifier_run_once(conf, NULL);
out:
	cds_pipeline_free(r.pipeline);
	cds_report_free(r.rep);
	uv_close((uv_handle_t *)&r.tick, NULL);
	cds_scanner_free(r.scanner);
	uv_run(&r.loop, UV_RUN_DEFAULT);
	uv_loop_close(&r.loop);
	cds_db_close(r.db);
	return rc;
}
