/* cdscan daemon (daemon.h): the scheduler.  One loop runs the continuous
 * pipeline, the NOTIFY listener and a tick that paces claims, claims what
 * was notified, writes what has finished and hands change sets to the
 * output adapter (in a worker thread: an EPP session must not hold up the
 * loop).  Reload is parse, validate, swap (STYLE.md, from unwind): the
 * swap waits until no scan runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/notifier.h"
#include "cdscan/outbox.h"
#include "daemon_internal.h"

/* Reachable until the process ends: scans abandoned at the end of the
 * grace period still hold memory the loop owns when the daemon returns. */
static struct daemon *the_daemon;

/* A drain's outcome, from the worker thread to the loop: the change sets
 * handed over, and the notifications delivered (per channel, its name
 * copied: a reload may replace the configuration meanwhile). */
static struct {
	int e;
	struct cds_outbox_result res;
	char err[700];
	char channel[CDS_CONF_MAX_CHANNELS + 1][64];
	uint64_t notes[CDS_CONF_MAX_CHANNELS + 1][3];
} drained;

double daemon_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void conf_free(struct cds_conf *c)
{
	if (!c)
		return;
	cds_conf_deinit(c);
	free(c);
}

/* ------------------------------------------- scanner and pipeline --- */

static int written_cb(const struct cds_pipeline_written *w, void *arg)
{
	struct daemon *d = arg;
	if (!w->v) {
		cds_metrics_skipped(d->metrics);
		return 0;
	}
	cds_metrics_verdict(d->metrics, w->v);
	cds_metrics_decide_time(d->metrics, w->decide_s);
	cds_metrics_change_sets(d->metrics, w->changesets);
	if (w->changesets > 0) {
		d->changes_waiting = true;
		d->changesets += w->changesets;
		cds_log_notice("%s: %u change set%s created", w->domain, w->changesets,
			       w->changesets == 1 ? "" : "s");
	}
	return 0;
}

/* The scanner and the pipeline on d->db under d->conf.  Returns 0, or
 * CDS_ECONFIG / CDS_ENOMEM with why in err. */
static int build(struct daemon *d, char *err, size_t errlen)
{
	const char *resolvers[1] = {d->opts.resolver};
	const struct cds_pipeline_opts po = {.continuous = true};
	if (cds_scanner_new(&d->loop, d->conf, d->opts.resolver ? resolvers : NULL,
			    d->opts.resolver ? 1 : 0, &d->scanner) != 0) {
		snprintf(err, errlen, "no resolver: set resolver.addresses or --resolver");
		return CDS_ECONFIG;
	}
	if (cds_scanner_bootstrap_anchor(d->scanner, d->conf, d->opts.trust_anchor, err, errlen) != 0)
		return CDS_ECONFIG;
	if (cds_pipeline_new(&d->loop, d->conf, d->scanner, d->db, &po, written_cb, d,
			     &d->pipeline) != 0) {
		snprintf(err, errlen, "out of memory");
		return CDS_ENOMEM;
	}
	d->paced_at = daemon_now();
	d->counted_at = 0;
	return 0;
}

/* Add b's RFC 9567 report counts to a. */
static void add_reports(struct cds_error_report_stats *a, const struct cds_error_report_stats *b)
{
	a->sent += b->sent;
	a->duplicates += b->duplicates;
	a->rate_limited += b->rate_limited;
	a->unsendable += b->unsendable;
	a->failed += b->failed;
}

/* Write what waits, free the pipeline and scanner (no scan running). */
static void teardown(struct daemon *d)
{
	char err[700];
	struct cds_scanner_stats ss;
	if (d->pipeline && cds_pipeline_finish(d->pipeline, err, sizeof(err)) != 0)
		cds_log_warning("results not written (%s): due again when their lease ends", err);
	if (d->scanner) { /* the counters outlive a scanner (reload, lost store) */
		cds_scanner_stats(d->scanner, &ss);
		d->scanned.scans += ss.scans;
		d->scanned.queries += ss.queries;
		d->scanned.answers += ss.answers;
		d->scanned.timeouts += ss.timeouts;
		d->scanned.tcp_fallbacks += ss.tcp_fallbacks;
		d->scanned.skipped += ss.skipped;
		add_reports(&d->scanned.reports, &ss.reports);
	}
	cds_pipeline_free(d->pipeline);
	cds_scanner_free(d->scanner);
	d->pipeline = NULL;
	d->scanner = NULL;
}

void daemon_scanner_stats(const struct daemon *d, struct cds_scanner_stats *out)
{
	*out = d->scanned;
	if (!d->scanner)
		return;
	struct cds_scanner_stats now;
	cds_scanner_stats(d->scanner, &now);
	out->scans += now.scans;
	out->queries += now.queries;
	out->answers += now.answers;
	out->timeouts += now.timeouts;
	out->tcp_fallbacks += now.tcp_fallbacks;
	out->skipped += now.skipped;
	add_reports(&out->reports, &now.reports);
}

static uint64_t inflight(const struct daemon *d)
{
	struct cds_pipeline_stats ps;
	if (!d->pipeline)
		return 0;
	cds_pipeline_stats(d->pipeline, &ps);
	return ps.inflight;
}

/* --------------------------------------------------- the database --- */

/* The pipeline stopped on the store's error, or a statement of the
 * intake or the pace found the connection lost: once the running scans are
 * done, drop the connection and reconnect with back-off (1 s doubling to
 * 30 s), while the listener keeps answering (SERVFAIL meanwhile). */
static void check_store(struct daemon *d, double now)
{
	struct cds_pipeline_stats ps = {0};
	char err[700] = "";
	if (!d->db)
		return;
	if (d->pipeline)
		cds_pipeline_stats(d->pipeline, &ps);
	if ((!ps.failed && cds_db_connection_ok(d->db)) || ps.inflight > 0 || d->probing)
		return;
	if (d->pipeline && ps.failed)
		cds_pipeline_finish(d->pipeline, err, sizeof(err));
	cds_log_error("lost the database%s%s%s; %llu claimed delegations are due again when their "
		      "lease ends; reconnecting",
		      err[0] ? " (" : "", err, err[0] ? ")" : "", (unsigned long long)ps.unwritten);
	teardown(d);
	cds_db_close(d->db);
	d->db = NULL;
	d->db_failures = 0;
	d->db_retry_at = now;
}

static void reconnect(struct daemon *d, double now)
{
	char err[700];
	if (d->db || now < d->db_retry_at)
		return;
	if (cds_db_connect(d->conf->database, &d->db, err, sizeof(err)) != 0) {
		unsigned f = ++d->db_failures;
		d->db_retry_at = now + (f >= 5 ? 30.0 : (double)(1u << f));
		cds_log_warning("%s (retrying in %.0fs)", err, d->db_retry_at - now);
		return;
	}
	if (build(d, err, sizeof(err)) != 0) {
		cds_log_error("cannot restart the scan pipeline: %s", err);
		teardown(d);
		cds_db_close(d->db);
		d->db = NULL;
		d->db_retry_at = now + 30.0;
		return;
	}
	cds_log_notice("connected to the database again; scanning resumes");
	d->changes_waiting = true; /* whatever waited meanwhile */
}

/* ------------------------------------------------------- resolver --- */

/* /healthz says whether the resolver answers: the root's NS through it,
 * every 30 s (an answer of any kind is an answer; a timeout is not). */
static void probed(int status, const struct cds_rrset *set, bool ad, void *arg)
{
	struct daemon *d = arg;
	(void)set;
	(void)ad;
	bool ok = status != CDS_ETIMEDOUT && status != CDS_EUNAVAIL;
	if (ok != atomic_load(&d->resolver_ok))
		cds_log_notice("the resolver %s", ok ? "answers again" : "does not answer");
	atomic_store(&d->resolver_ok, ok);
	d->probing = false;
}

static void probe_resolver(struct daemon *d, double now)
{
	if (d->probing || now < d->probed_at + 30.0 || !d->scanner)
		return;
	d->probed_at = now;
	if (cds_scanner_lookup(d->scanner, ".", CDS_T_NS, 0, probed, d) == 0)
		d->probing = true;
}

/* ----------------------------------------------------------- pace --- */

/* Claims at daemon.pace percent of (active delegations / scan.interval)
 * per second: after an import everything is due at once, and the first
 * cycle spreads it over scan.interval; each scan then sets the next one a
 * scan.interval later, so the spread stays.  The credit is capped at one
 * second's worth, so that an idle spell does not save up a herd. */
static void pace(struct daemon *d, double now)
{
	char err[700];
	if (now - d->counted_at >= 60.0 || d->counted_at == 0) {
		if (cds_db_count_active(d->db, &d->active, err, sizeof(err)) != 0)
			return; /* the next claim will see the store is gone */
		d->counted_at = now;
	}
	double rate = (double)d->active * 1000.0 / (double)d->conf->scan.interval_ms *
		      (double)d->conf->daemon.pace_percent / 100.0;
	double dt = now - d->paced_at;
	d->paced_at = now;
	d->credit += rate * dt;
	if (d->credit > rate + 1.0)
		d->credit = rate + 1.0;
	double whole = floor(d->credit);
	if (whole >= 1.0) {
		d->credit -= whole;
		cds_pipeline_allow(d->pipeline, (uint64_t)whole);
	}
}

/* --------------------------------------------------------- output --- */

static void drain_work(uv_work_t *req)
{
	struct daemon *d = req->data;
	struct cds_notifier_stats st = {0};
	memset(&drained, 0, sizeof(drained));
	if (d->drain_changes)
		drained.e = cds_outbox_drain(d->conf, d->conf->output.adapter, NULL, false, 0,
					     &drained.res, drained.err, sizeof(drained.err));
	/* After the change sets: what the registries applied is told at once. */
	cds_notifier_run_once(d->conf, &st);
	for (size_t k = 0; k <= CDS_CONF_MAX_CHANNELS; k++) {
		snprintf(drained.channel[k], sizeof(drained.channel[k]), "%s",
			 k < d->conf->notifications.channel_count
				 ? d->conf->notifications.channels[k].name
				 : "unconfigured");
		memcpy(drained.notes[k], st.n[k], sizeof(drained.notes[k]));
	}
}

static void drain_done(uv_work_t *req, int status)
{
	struct daemon *d = req->data;
	(void)status;
	d->draining = false;
	for (size_t k = 0; k <= CDS_CONF_MAX_CHANNELS; k++)
		for (int o = 0; o < 3; o++)
			cds_metrics_notifications(d->metrics, drained.channel[k], o,
						  drained.notes[k][o]);
	d->epp_errors += drained.res.failed + (drained.e != 0);
	for (uint64_t i = 0; i < drained.res.failed + (drained.e != 0); i++)
		cds_metrics_epp_error(d->metrics);
	if (drained.res.sent || drained.res.failed)
		cds_log_notice("output: %llu change sets handed over, %llu failed",
			       (unsigned long long)drained.res.sent,
			       (unsigned long long)drained.res.failed);
	if (drained.e != 0 || drained.res.waiting > 0) {
		/* Left pending in the store: tried again in 30 s. */
		if (drained.e != 0)
			cds_log_warning("output: %s (trying again in 30s)", drained.err);
		d->changes_waiting = true;
		d->drained_at = daemon_now() + 30.0;
	}
}

/* Change sets go to the output adapter as they are made, or every
 * daemon.output-interval; notifications are delivered after each of those
 * and every notifications.interval (the scans' notices, retries); one
 * drain at a time. */
static void output(struct daemon *d, double now)
{
	double every = (double)d->conf->daemon.output_interval_ms / 1000.0;
	double notes = (double)d->conf->notifications.interval_ms / 1000.0;
	bool changes = d->changes_waiting && now >= d->drained_at + every;
	if (d->draining || (!changes && now < d->noted_at + notes))
		return;
	d->drain_changes = changes;
	if (changes) {
		d->changes_waiting = false;
		d->drained_at = now;
	}
	d->noted_at = now;
	d->draining = true;
	d->drain_req.data = d;
	if (uv_queue_work(&d->loop, &d->drain_req, drain_work, drain_done) != 0)
		d->draining = false;
}

/* --------------------------------------------------------- reload --- */

/* Load the configuration again the way the command line did. */
static struct cds_conf *load_again(const struct daemon *d, char *msg, size_t len)
{
	struct cds_conf *c = calloc(1, sizeof(*c));
	struct cds_conf_error e;
	int r;
	if (!c) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	r = d->opts.config_path ? cds_conf_load_file(d->opts.config_path, c, &e) : cds_conf_init(c);
	if (r == CDS_ECONFIG)
		cds_conf_error_format(&e, msg, len);
	else if (r == 0 && (r = cds_conf_apply_env(c)) != 0)
		snprintf(msg, len, "%s", cds_strerror(r));
	else if (r != 0)
		snprintf(msg, len, "%s", cds_strerror(r));
	if (r != 0) {
		cds_conf_deinit(c);
		free(c);
		return NULL;
	}
	return c;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What a reload cannot change: the sockets are bound once. */
static void warn_restart_only(const struct daemon *d, const struct cds_conf *c)
{
	bool same = c->daemon.listen_count == d->conf->daemon.listen_count &&
		    same_text(c->daemon.http, d->conf->daemon.http);
	for (size_t i = 0; same && i < c->daemon.listen_count; i++)
		same = same_text(c->daemon.listen[i], d->conf->daemon.listen[i]);
	if (!same)
		cds_log_warning("reload: daemon.listen and daemon.http take effect at the next "
				"start; the running sockets stay as they are");
}

/* Whether a scanner starts under c (a resolver, the trust anchor RFC 9615
 * needs): checked before anything of the running one is stopped. */
static bool starts(const struct daemon *d, const struct cds_conf *c, char *msg, size_t len)
{
	struct cds_scanner *s = NULL;
	const char *resolvers[1] = {d->opts.resolver};
	bool ok = cds_scanner_new((uv_loop_t *)&d->loop, c, d->opts.resolver ? resolvers : NULL,
				  d->opts.resolver ? 1 : 0, &s) == 0;
	if (!ok)
		snprintf(msg, len, "no resolver: set resolver.addresses or --resolver");
	else if (cds_scanner_bootstrap_anchor(s, c, d->opts.trust_anchor, msg, len) != 0)
		ok = false;
	cds_scanner_free(s); /* its handles close on the loop's next turn */
	return ok;
}

static void reload_begin(struct daemon *d)
{
	char msg[900], err[700];
	struct cds_conf *c = load_again(d, msg, sizeof(msg));
	if (!c) {
		d->reloads_failed++;
		cds_metrics_config_reload(d->metrics, false);
		cds_log_error("reload: %s; the running configuration stays", msg);
		return;
	}
	if (!starts(d, c, msg, sizeof(msg))) {
		d->reloads_failed++;
		cds_metrics_config_reload(d->metrics, false);
		cds_log_error("reload: %s; the running configuration stays", msg);
		conf_free(c);
		return;
	}
	warn_restart_only(d, c);
	conf_free(d->next);
	d->next = c;
	d->reloading = true;
	/* No new claims; what is claimed and not started goes back. */
	if (d->pipeline && cds_pipeline_stop(d->pipeline, err, sizeof(err)) != 0)
		cds_log_warning("reload: leases not given back (%s): they end by themselves", err);
	cds_log_notice("reload: %s parsed; switching once the %llu scans running are done",
		       d->opts.config_path ? d->opts.config_path : "built-in defaults",
		       (unsigned long long)inflight(d));
}

/* The old configuration back after the new one would not start. */
static void reload_undo(struct daemon *d, struct cds_conf *old, const char *why)
{
	char err[700] = "";
	teardown(d);
	conf_free(d->conf);
	d->conf = old;
	intake_setup(d);
	d->reloads_failed++;
	cds_metrics_config_reload(d->metrics, false);
	cds_log_error("reload: the new configuration does not start (%s); the running "
		      "configuration stays", why);
	if (d->db && build(d, err, sizeof(err)) != 0) {
		cds_log_error("cannot restart the scan pipeline: %s; retrying", err);
		teardown(d);
		cds_db_close(d->db);
		d->db = NULL;
		d->db_retry_at = daemon_now() + 5.0;
	}
}

/* Swap in the new configuration once nothing uses the old one; the old
 * one stays until the new one has started. */
static void reload_step(struct daemon *d)
{
	char err[700] = "out of memory";
	if (inflight(d) > 0 || d->draining || d->probing)
		return;
	teardown(d);
	struct cds_conf *old = d->conf;
	d->conf = d->next;
	d->next = NULL;
	d->reloading = false;
	int r = intake_setup(d);
	if (r == 0 && d->db)
		r = build(d, err, sizeof(err));
	if (r != 0) {
		reload_undo(d, old, err);
		return;
	}
	conf_free(old);
	d->reloads_ok++;
	cds_metrics_config_reload(d->metrics, true);
	d->changes_waiting = true;
	cds_log_notice("reload: the new configuration is in use");
}

/* ----------------------------------------------------------- stop --- */

/* What the daemon did, at its end (for capacity planning and the bench). */
static void log_statistics(const struct daemon *d)
{
	const struct intake_stats *in = &d->in;
	struct cds_scanner_stats ss;
	daemon_scanner_stats(d, &ss);
	cds_log_notice("scan statistics (scans %llu, queries %llu, answers %llu, timeouts %llu, "
		       "tcp fallbacks %llu, change sets %llu, output errors %llu)",
		       (unsigned long long)ss.scans, (unsigned long long)ss.queries,
		       (unsigned long long)ss.answers, (unsigned long long)ss.timeouts,
		       (unsigned long long)ss.tcp_fallbacks, (unsigned long long)d->changesets,
		       (unsigned long long)d->epp_errors);
	cds_log_notice("error report statistics (RFC 9567: sent %llu, duplicates %llu, over "
		       "limits %llu, unsendable %llu, unanswered %llu)",
		       (unsigned long long)ss.reports.sent, (unsigned long long)ss.reports.duplicates,
		       (unsigned long long)ss.reports.rate_limited,
		       (unsigned long long)ss.reports.unsendable,
		       (unsigned long long)ss.reports.failed);
	cds_log_notice("NOTIFY statistics (received %llu, accepted %llu, coalesced %llu, claimed "
		       "%llu, rate-limited by source %llu, by everyone %llu, by domain %llu, queue "
		       "full %llu, refused %llu, notauth %llu, formerr %llu, notimp %llu, servfail "
		       "%llu, dropped %llu)",
		       (unsigned long long)(in->received[0] + in->received[1] + in->received[2] +
					    in->received[3]),
		       (unsigned long long)in->accepted, (unsigned long long)in->coalesced,
		       (unsigned long long)in->claimed, (unsigned long long)in->limited_source,
		       (unsigned long long)in->limited_global,
		       (unsigned long long)in->limited_domain, (unsigned long long)in->limited_queue,
		       (unsigned long long)in->refused, (unsigned long long)in->notauth,
		       (unsigned long long)in->formerr, (unsigned long long)in->notimp,
		       (unsigned long long)in->servfail, (unsigned long long)in->dropped);
	cds_log_notice("listener statistics (UDP messages %llu, TCP messages %llu, TCP connections "
		       "refused %llu, closed idle %llu, closed unread %llu, answers not sent %llu)",
		       (unsigned long long)d->heard.udp_messages,
		       (unsigned long long)d->heard.tcp_messages,
		       (unsigned long long)d->heard.tcp_refused,
		       (unsigned long long)d->heard.tcp_idle_closed,
		       (unsigned long long)d->heard.tcp_unread_closed,
		       (unsigned long long)d->heard.send_failed);
}

static void drop_pending(struct daemon *d)
{
	struct pending *p, *tmp;
	HASH_ITER(hh, d->pending, p, tmp) {
		HASH_DEL(d->pending, p);
		free(p);
	}
	d->npending = 0;
}

/* SIGTERM: take no more NOTIFYs, claim nothing more, give back what is
 * claimed and not started; scans running may finish within daemon.grace. */
static void stop_begin(struct daemon *d)
{
	char err[700];
	if (d->stopping)
		return;
	d->stopping = true;
	d->deadline = daemon_now() + (double)d->conf->daemon.grace_ms / 1000.0;
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
	if (d->listener)
		listener_stats(d->listener, &d->heard);
	listener_close(d->listener);
	d->listener = NULL;
	uv_timer_stop(&d->kick);
	if (d->npending)
		cds_log_notice("stopping: %zu notified delegations not scanned yet (due on their "
			       "schedule)", d->npending);
	drop_pending(d);
	if (d->pipeline && cds_pipeline_stop(d->pipeline, err, sizeof(err)) != 0)
		cds_log_warning("stopping: leases not given back (%s): they end by themselves", err);
	cds_log_notice("stopping: %llu scans running, %.0fs to finish",
		       (unsigned long long)inflight(d), (double)d->conf->daemon.grace_ms / 1000.0);
}

static void close_handles(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->kick, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

/* Each tick while stopping: done when no scan runs (or the grace is
 * over: what is decided is written, the rest's leases given back) and no
 * drain is on its way (an EPP exchange is never cut). */
static void stop_step(struct daemon *d, double now)
{
	char err[700];
	uint64_t n = inflight(d);
	if (((n > 0 || d->probing) && now < d->deadline) || d->draining)
		return;
	log_statistics(d);
	if (n > 0 || d->probing) {
		if (n > 0 && d->pipeline && cds_pipeline_abandon(d->pipeline, err, sizeof(err)) != 0)
			cds_log_warning("stopping: leases not given back (%s)", err);
		if (n > 0)
			cds_log_notice("stopping: grace over, %llu scans abandoned (due again at once)",
				       (unsigned long long)n);
		d->abandoned = true;
	} else {
		teardown(d);
	}
	close_handles(d);
	if (d->abandoned)
		uv_stop(&d->loop); /* the abandoned scans' handles stay */
}

/* ----------------------------------------------------------- tick --- */

/* The scanners' counters into the metrics (the rest is counted as it
 * happens). */
static void publish(struct daemon *d)
{
	struct cds_scanner_stats ss;
	daemon_scanner_stats(d, &ss);
	cds_metrics_scanner(d->metrics, &ss);
}

static void tick_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	double now = daemon_now();
	if (d->stopping) {
		stop_step(d, now);
		return;
	}
	check_store(d, now);
	reconnect(d, now);
	if (d->reloading)
		reload_step(d);
	if (!d->pipeline || d->reloading)
		return;
	probe_resolver(d, now);
	pace(d, now);
	intake_claim(d);
	cds_pipeline_flush(d->pipeline);
	output(d, now);
	publish(d);
}

static void watchdog_cb(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

static void signal_cb(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	if (signum == SIGHUP && !d->stopping)
		reload_begin(d);
	else if (signum != SIGHUP)
		stop_begin(d);
}

/* ---------------------------------------------------------- start --- */

static void init_handles(struct daemon *d)
{
	uv_timer_init(&d->loop, &d->tick);
	uv_timer_init(&d->loop, &d->kick);
	uv_timer_init(&d->loop, &d->watchdog);
	uv_signal_init(&d->loop, &d->sighup);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	d->tick.data = d->kick.data = d->watchdog.data = d;
	d->sighup.data = d->sigterm.data = d->sigint.data = d;
	uv_signal_start(&d->sighup, signal_cb, SIGHUP);
	uv_signal_start(&d->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&d->sigint, signal_cb, SIGINT);
}

/* The command line over the configuration. */
static void apply_opts(struct daemon *d)
{
	if (d->opts.listen_count > 0) {
		for (size_t i = 0; i < d->conf->daemon.listen_count; i++)
			free(d->conf->daemon.listen[i]);
		d->conf->daemon.listen_count = 0;
		for (size_t i = 0; i < d->opts.listen_count && i < CDS_CONF_MAX_LISTEN; i++)
			d->conf->daemon.listen[d->conf->daemon.listen_count++] =
				strdup(d->opts.listen[i]);
	}
	if (d->opts.http) {
		free(d->conf->daemon.http);
		d->conf->daemon.http = strdup(d->opts.http);
	}
}

/* The HTTP endpoint (daemon.http), its own thread and database
 * connection.  Returns an exit code. */
static int start_http(struct daemon *d)
{
	char err[700];
	const struct cds_conf *c = d->conf;
	if (!c->daemon.http)
		return CDS_EXIT_OK;
	const struct cds_http_opts o = {
		.listen = c->daemon.http,
		.conninfo = c->database,
		.metrics = d->metrics,
		.resolver_up = &d->resolver_ok,
		.unreachable_after_s = c->policy.unreachable_after_ms / 1000,
		.max_connections = c->daemon.http_max_connections,
		.per_ip_connections = c->daemon.http_per_ip,
		.timeout_s = (unsigned)((c->daemon.http_timeout_ms + 999) / 1000),
		.max_request_bytes = c->daemon.http_max_request,
		.max_url_bytes = c->daemon.http_max_url,
	};
	int r = cds_http_start(&o, &d->http, err, sizeof(err));
	if (r != 0) {
		cds_log_error("HTTP endpoint %s: %s", c->daemon.http, err);
		return r == CDS_ENOMEM ? CDS_EXIT_SOFTWARE : CDS_EXIT_UNAVAILABLE;
	}
	return CDS_EXIT_OK;
}

/* Connect, make the pipeline, bind the listener.  Returns an exit code. */
static int start(struct daemon *d)
{
	char err[700];
	uint64_t n;
	if (cds_db_connect(d->conf->database, &d->db, err, sizeof(err)) != 0) {
		cds_log_error("%s", err);
		return CDS_EXIT_UNAVAILABLE;
	}
	if (cds_db_count_active(d->db, &n, err, sizeof(err)) != 0) {
		cds_log_error("%s (has 'cdscan db init' been run?)", err);
		return CDS_EXIT_UNAVAILABLE;
	}
	int r = build(d, err, sizeof(err));
	if (r == 0)
		r = intake_setup(d);
	if (r != 0) {
		cds_log_error("%s", r == CDS_ENOMEM ? "out of memory" : err);
		return r == CDS_ENOMEM ? CDS_EXIT_SOFTWARE : CDS_EXIT_CONFIG;
	}
	const struct listener_limits lim = {.tcp_clients = d->conf->daemon.notify.tcp_clients,
					    .tcp_timeout_ms = d->conf->daemon.notify.tcp_timeout_ms};
	if (d->conf->daemon.listen_count > 0 &&
	    (r = listener_start(&d->loop, (const char *const *)d->conf->daemon.listen,
				d->conf->daemon.listen_count, &lim, intake_message, d,
				&d->listener, err, sizeof(err))) != 0) {
		cds_log_error("%s", err);
		return r == CDS_ECONFIG ? CDS_EXIT_CONFIG : CDS_EXIT_UNAVAILABLE;
	}
	if ((r = start_http(d)) != CDS_EXIT_OK)
		return r;
	cds_log_notice("daemon started: %llu delegations, one scan each per %llus, NOTIFY on %zu "
		       "address%s",
		       (unsigned long long)n, (unsigned long long)(d->conf->scan.interval_ms / 1000),
		       d->conf->daemon.listen_count, d->conf->daemon.listen_count == 1 ? "" : "es");
	return CDS_EXIT_OK;
}

static void start_timers(struct daemon *d)
{
	uint64_t usec = 0;
	uv_timer_start(&d->tick, tick_cb, 0, d->conf->daemon.tick_ms);
	/* WatchdogSec= in the unit: prove the loop turns, twice a period. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		uv_timer_start(&d->watchdog, watchdog_cb, usec / 2000, usec / 2000);
}

int cds_daemon_run(struct cds_conf *conf, const struct cds_daemon_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc;
	if (!d || !(d->conf = malloc(sizeof(*d->conf)))) {
		free(d);
		cds_conf_deinit(conf);
		return CDS_EXIT_SOFTWARE;
	}
	the_daemon = d;
	*d->conf = *conf; /* taken over */
	memset(conf, 0, sizeof(*conf));
	d->opts = *o;
	if (o->config_path && !(d->opts.config_path = d->config_path = strdup(o->config_path))) {
		conf_free(d->conf);
		free(d);
		return CDS_EXIT_SOFTWARE;
	}
	apply_opts(d);
	if (!(d->metrics = cds_metrics_new())) {
		conf_free(d->conf);
		free(d->config_path);
		free(d);
		return CDS_EXIT_SOFTWARE;
	}
	uv_loop_init(&d->loop);
	init_handles(d);
	d->changes_waiting = true; /* what an earlier run left pending */
	rc = start(d);
	if (rc == CDS_EXIT_OK) {
		start_timers(d);
		sd_notify(0, "READY=1\nSTATUS=scanning");
		uv_run(&d->loop, UV_RUN_DEFAULT);
	} else {
		listener_close(d->listener);
		teardown(d);
		close_handles(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
	}
	cds_http_stop(d->http); /* its thread reads the metrics */
	d->http = NULL;
	if (d->abandoned)
		return rc; /* the loop still holds the abandoned scans */
	intake_free(d);
	drop_pending(d);
	cds_db_close(d->db);
	uv_loop_close(&d->loop);
	conf_free(d->conf);
	conf_free(d->next);
	cds_metrics_free(d->metrics);
	free(d->config_path);
	free(d);
	the_daemon = NULL;
	cds_log_notice("daemon stopped");
	return rc;
}
