/* cdscan scan: claim due delegations in batches, scan and decide them on one
 * loop, write results and change sets per batch in one transaction, and
 * write the operator's report. */
#include <json-c/json.h>
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
#include "cdscan/scan.h"

/* Counts and rows of the report (CONTRACT.md "The scan report"). */
struct report {
	time_t started, finished;
	uint64_t domains;
	uint64_t ds[5], ns[5];      /* per action */
	uint64_t reasons[CDS_R_COUNT];
	uint64_t changesets, rejects;
	json_object *rows;          /* verdicts whose DS or NS action is not none */
};

struct run {
	const struct cds_cli *cli;
	const struct cds_conf *conf;
	struct cds_scanner *scanner;
	uv_loop_t *loop;
	struct cds_db_batch batch;
	struct cds_verdict *verdicts; /* one per batch item */
	bool *decided;
	size_t next, done;            /* within the batch */
	struct report rep;
	uint64_t total;               /* due at the start, for progress */
	struct timespec t0;
	bool tty;
	double last_progress;
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
	uint64_t done = r->rep.domains;
	double rate = s > 0 ? (double)done / s : 0;
	double eta = rate > 0 && r->total > done ? (double)(r->total - done) / rate : 0;
	if (r->tty) {
		fprintf(stderr, "\rscanned %llu/%llu  %.0f/s  ETA %.0fs  rejects %llu   %s",
			(unsigned long long)done, (unsigned long long)r->total, rate, eta,
			(unsigned long long)r->rep.rejects, final ? "\n" : "");
		fflush(stderr);
	} else {
		cds_log_info("progress (scanned %llu of %llu, %.0f/s, eta %.0fs, rejects %llu)",
			     (unsigned long long)done, (unsigned long long)r->total, rate, eta,
			     (unsigned long long)r->rep.rejects);
	}
}

static void start_next(struct run *r);

static void scanned_cb(struct cds_scan_result *res, void *arg)
{
	struct run *r = arg;
	size_t i;
	/* The delegation is embedded in its batch item: find the item. */
	for (i = 0; i < r->batch.count; i++)
		if (&r->batch.items[i].d == res->delegation)
			break;
	if (i < r->batch.count && cds_policy_decide(res, r->conf, time(NULL), &r->verdicts[i]) == 0)
		r->decided[i] = true;
	cds_scan_result_free(res);
	r->done++;
	start_next(r);
}

static void start_next(struct run *r)
{
	while (r->next < r->batch.count) {
		size_t i = r->next++;
		if (cds_scanner_scan(r->scanner, &r->batch.items[i].d, scanned_cb, r) == 0)
			return;
		r->done++; /* no memory to scan it: it stays undecided */
	}
}

static void tick_cb(uv_timer_t *t)
{
	progress(t->data, false);
}

static void count_verdict(struct run *r, const struct cds_verdict *v, bool changeset)
{
	struct report *rep = &r->rep;
	rep->domains++;
	rep->ds[v->ds_side.action]++;
	rep->ns[v->ns_side.action]++;
	for (size_t k = 0; k < v->ds_side.reason_count; k++)
		rep->reasons[v->ds_side.reasons[k]]++;
	for (size_t k = 0; k < v->ns_side.reason_count; k++)
		rep->reasons[v->ns_side.reasons[k]]++;
	rep->changesets += changeset;
	rep->rejects += v->ds_side.action == CDS_ACTION_REJECT ||
			v->ns_side.action == CDS_ACTION_REJECT;
	if (v->ds_side.action != CDS_ACTION_NONE || v->ns_side.action != CDS_ACTION_NONE) {
		char *s = cds_verdict_to_json(v, false);
		json_object *o = s ? json_tokener_parse(s) : NULL;
		if (o)
			json_object_array_add(rep->rows, o);
		free(s);
	}
}

/* Write the batch's verdicts in its transaction and commit. */
static int write_batch(struct run *r, struct cds_db *db, char *err, size_t errlen)
{
	uint64_t interval_s = r->conf->scan.interval_ms / 1000;
	for (size_t i = 0; i < r->batch.count; i++) {
		if (!r->decided[i])
			continue;
		struct cds_verdict *v = &r->verdicts[i];
		const char *reasons[2 * CDS_VERDICT_MAX_REASONS];
		size_t nr = 0;
		for (size_t k = 0; k < v->ds_side.reason_count; k++)
			reasons[nr++] = cds_reason_code(v->ds_side.reasons[k]);
		for (size_t k = 0; k < v->ns_side.reason_count; k++)
			reasons[nr++] = cds_reason_code(v->ns_side.reasons[k]);
		char *json = cds_verdict_to_json(v, false);
		if (!json)
			return CDS_ENOMEM;
		bool failed = false, changeset = false;
		for (size_t s = 0; s < v->server_count; s++)
			failed |= !v->servers[s].ok;
		cds_strlist_sort(&v->ds_side.proposed);
		int rc = cds_db_record(db, &r->batch.items[i], json, cds_action_name(v->ds_side.action),
				       cds_action_name(v->ns_side.action), reasons, nr,
				       (const char *const *)v->ds_side.proposed.v,
				       v->ds_side.proposed.n, (const char *const *)v->ds_side.add.v,
				       v->ds_side.add.n, (const char *const *)v->ds_side.rem.v,
				       v->ds_side.rem.n, r->cli->dry_run, failed, interval_s,
				       &changeset, err, errlen);
		free(json);
		if (rc != 0)
			return rc;
		count_verdict(r, v, changeset);
	}
	return cds_db_batch_commit(db, &r->batch, err, errlen);
}

static void clear_verdicts(struct run *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r->decided[i])
			cds_verdict_clear(&r->verdicts[i]);
	free(r->verdicts);
	free(r->decided);
	r->verdicts = NULL;
	r->decided = NULL;
}

static int write_report(const struct run *r, char *err, size_t errlen)
{
	const struct report *rep = &r->rep;
	FILE *f = strcmp(r->cli->report_file, "-") == 0 ? stdout : fopen(r->cli->report_file, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot write the report", r->cli->report_file);
		return CDS_EDATA;
	}
	char a[32], b[32];
	cds_time_format(rep->started, a, sizeof(a));
	cds_time_format(rep->finished, b, sizeof(b));
	if (r->cli->report_format == CDS_REPORT_JSON) {
		json_object *o = json_object_new_object(), *sum = json_object_new_object();
		json_object *ds = json_object_new_object(), *ns = json_object_new_object();
		json_object *reasons = json_object_new_object();
		json_object_object_add(o, "started_at", json_object_new_string(a));
		json_object_object_add(o, "finished_at", json_object_new_string(b));
		json_object_object_add(o, "dry_run", json_object_new_boolean(r->cli->dry_run));
		json_object_object_add(sum, "domains", json_object_new_int64((int64_t)rep->domains));
		for (int k = 0; k < 5; k++) {
			if (rep->ds[k])
				json_object_object_add(ds, cds_action_name((enum cds_action)k),
						       json_object_new_int64((int64_t)rep->ds[k]));
			if (rep->ns[k])
				json_object_object_add(ns, cds_action_name((enum cds_action)k),
						       json_object_new_int64((int64_t)rep->ns[k]));
		}
		for (int k = 0; k < CDS_R_COUNT; k++)
			if (rep->reasons[k])
				json_object_object_add(reasons, cds_reason_code((enum cds_reason)k),
						       json_object_new_int64((int64_t)rep->reasons[k]));
		json_object_object_add(sum, "ds", ds);
		json_object_object_add(sum, "ns", ns);
		json_object_object_add(sum, "reasons", reasons);
		json_object_object_add(o, "summary", sum);
		json_object_object_add(o, "domains", json_object_get(rep->rows));
		fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_SPACED |
								JSON_C_TO_STRING_NOSLASHESCAPE),
		      f);
		fputc('\n', f);
		json_object_put(o);
	} else {
		fprintf(f, "cdscan scan report%s\nstarted %s, finished %s\n\n",
			r->cli->dry_run ? " (dry run: no change set was created)" : "", a, b);
		fprintf(f, "domains scanned: %llu, change sets created: %llu\n",
			(unsigned long long)rep->domains, (unsigned long long)rep->changesets);
		fprintf(f, "DS actions:");
		for (int k = 0; k < 5; k++)
			if (rep->ds[k])
				fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
					(unsigned long long)rep->ds[k]);
		fprintf(f, "\nNS actions:");
		for (int k = 0; k < 5; k++)
			if (rep->ns[k])
				fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
					(unsigned long long)rep->ns[k]);
		fprintf(f, "\n\nreasons:\n");
		for (int k = 0; k < CDS_R_COUNT; k++)
			if (rep->reasons[k])
				fprintf(f, "  %8llu  %-24s %s\n", (unsigned long long)rep->reasons[k],
					cds_reason_code((enum cds_reason)k),
					cds_reason_text((enum cds_reason)k));
		fprintf(f, "\ndomains with an action or a rejection:\n");
		for (size_t i = 0; i < json_object_array_length(rep->rows); i++) {
			json_object *v = json_object_array_get_idx(rep->rows, i), *d, *side, *act,
				    *rs;
			json_object_object_get_ex(v, "domain", &d);
			json_object_object_get_ex(v, "ds", &side);
			json_object_object_get_ex(side, "action", &act);
			json_object_object_get_ex(side, "reasons", &rs);
			const char *code = json_object_get_string(json_object_array_get_idx(rs, 0));
			const char *text = "";
			for (int k = 0; k < CDS_R_COUNT; k++)
				if (strcmp(cds_reason_code((enum cds_reason)k), code) == 0)
					text = cds_reason_text((enum cds_reason)k);
			fprintf(f, "  %-32s DS %-7s %-24s %s\n", json_object_get_string(d),
				json_object_get_string(act), code, text);
		}
	}
	if (f != stdout && fclose(f) != 0) {
		snprintf(err, errlen, "%s: cannot write the report", r->cli->report_file);
		return CDS_EDATA;
	}
	return 0;
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

	if (cli->has_output || cli->spool_dir)
		cds_log_notice("no output adapter in this version: change sets stay pending in the "
			       "database");
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
	uv_timer_init(&loop, &tick);
	tick.data = &r;
	/* Progress must not keep the loop running once the batch is done. */
	uv_unref((uv_handle_t *)&tick);
	r.rep.rows = json_object_new_array();
	r.rep.started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	/* --domain names as the array of strings the claim takes. */
	char **names = calloc(cli->domain_count ? cli->domain_count : 1, sizeof(*names));
	for (size_t i = 0; names && i < cli->domain_count; i++)
		names[i] = (char *)cli->domains[i];
	int64_t after = 0;
	for (;;) {
		size_t want = conf->scan.batch_size;
		if (cli->has_limit && cli->limit - r.rep.domains < want)
			want = (size_t)(cli->limit - r.rep.domains);
		if (want == 0)
			break;
		e = names ? cds_db_claim(db, want, after, names, cli->domain_count, &r.batch, err,
					 sizeof(err))
			  : CDS_ENOMEM;
		if (e != 0)
			break;
		if (r.batch.count == 0)
			break;
		after = r.batch.last_id;
		r.verdicts = calloc(r.batch.count, sizeof(*r.verdicts));
		r.decided = calloc(r.batch.count, sizeof(*r.decided));
		if (!r.verdicts || !r.decided) {
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
		e = write_batch(&r, db, err, sizeof(err));
		clear_verdicts(&r, n);
		if (e != 0) {
			/* Nothing of this batch is written: its rows stay due. */
			cds_db_batch_abort(db, &r.batch);
			break;
		}
		progress(&r, false);
	}
	free(names);
	r.rep.finished = time(NULL);
	progress(&r, true);
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
	       (unsigned long long)r.rep.domains, cli->dry_run ? " (dry run)" : "",
	       (unsigned long long)r.rep.ds[CDS_ACTION_UPDATE],
	       (unsigned long long)r.rep.ds[CDS_ACTION_DELETE],
	       (unsigned long long)r.rep.ds[CDS_ACTION_BOOTSTRAP],
	       (unsigned long long)r.rep.ds[CDS_ACTION_REJECT],
	       (unsigned long long)r.rep.ds[CDS_ACTION_NONE], (unsigned long long)r.rep.changesets,
	       elapsed(&r));
	json_object_put(r.rep.rows);
	uv_close((uv_handle_t *)&tick, NULL);
	cds_scanner_free(r.scanner);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	cds_db_close(db);
	return rc;
}
