/* The daemon's HTTP endpoint on its own, for tests/system/http_endpoint_test.py:
 * the real cds_http with a real cds_metrics and a real database, serving
 * until SIGTERM.  The metrics are bumped by a known amount at start and at
 * every SIGUSR1 (from this thread, as the daemon's loop would, while the
 * HTTP thread reads them); SIGUSR2 flips the resolver flag /healthz reads;
 * SIGHUP stops the endpoint and starts it again on the same address.  Each
 * event prints one line on stdout, so the test waits for it instead of
 * sleeping: "listening PORT", "bumped N", "resolver up|down", "restarted
 * PORT", "stopped".
 *
 * Usage: http_serve --listen ADDR --database CONNINFO [--per-ip N]
 *                   [--max-connections N] [--timeout S] [--max-url N]
 *                   [--statement-ms MS] */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/http.h"
#include "cdscan/log.h"
#include "cdscan/metrics.h"
#include "cdscan/scan.h"

/* One round of updates; the test knows these amounts. */
static void bump(struct cds_metrics *m, struct cds_scanner_stats *s)
{
	struct cds_verdict v = {0};
	struct cds_verdict_server srv = {.ok = true};
	v.servers = &srv;
	v.server_count = 1;
	v.ds_side.action = CDS_ACTION_UPDATE;
	v.ds_side.reasons[0] = CDS_R_DS_UPDATED;
	v.ds_side.reason_count = 1;
	v.ns_side.action = CDS_ACTION_NONE;
	v.ns_side.reasons[0] = CDS_R_NO_CSYNC;
	v.ns_side.reason_count = 1;
	cds_metrics_verdict(m, &v);
	srv.ok = false;
	v.ds_side.action = CDS_ACTION_REJECT;
	v.ds_side.reasons[0] = CDS_R_NS_UNREACHABLE;
	cds_metrics_verdict(m, &v);
	cds_metrics_skipped(m);
	cds_metrics_change_sets(m, 2);
	cds_metrics_decide_time(m, 0.003);
	cds_metrics_decide_time(m, 0.7);
	const uint16_t qtypes[] = {CDS_T_CDS, CDS_T_CDNSKEY, CDS_T_CSYNC, CDS_T_SOA};
	for (size_t i = 0; i < 4; i++)
		cds_metrics_notify_received(m, qtypes[i]);
	cds_metrics_notify_accepted(m);
	cds_metrics_notify_rate_limited(m, CDS_METRICS_BY_SOURCE);
	cds_metrics_notify_rate_limited(m, CDS_METRICS_BY_DOMAIN);
	const unsigned rcodes[] = {5, 9, 1, 4};
	for (size_t i = 0; i < 4; i++)
		cds_metrics_notify_refused(m, rcodes[i]);
	cds_metrics_epp_error(m);
	cds_metrics_config_reload(m, true);
	cds_metrics_config_reload(m, false);
	s->queries += 10;
	s->answers += 9;
	s->timeouts += 1;
	s->tcp_fallbacks += 1;
	cds_metrics_scanner(m, s);
}

static int option(int argc, char **argv, struct cds_http_opts *o)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--listen") == 0)
			o->listen = v;
		else if (strcmp(k, "--database") == 0)
			o->conninfo = v;
		else if (strcmp(k, "--per-ip") == 0)
			o->per_ip_connections = (unsigned)atoi(v);
		else if (strcmp(k, "--max-connections") == 0)
			o->max_connections = (unsigned)atoi(v);
		else if (strcmp(k, "--timeout") == 0)
			o->timeout_s = (unsigned)atoi(v);
		else if (strcmp(k, "--max-url") == 0)
			o->max_url_bytes = (size_t)atoi(v);
		else if (strcmp(k, "--statement-ms") == 0)
			o->db_statement_ms = (unsigned)atoi(v);
		else
			return -1;
	}
	return o->listen && o->conninfo && argc % 2 == 1 ? 0 : -1;
}

/* Stop the endpoint and start it again on the same address, as a reload
 * would: its socket and connection must be gone first. */
static int restart(struct cds_http **h, const struct cds_http_opts *o)
{
	char err[512];
	cds_http_stop(*h);
	*h = NULL;
	int r = cds_http_start(o, h, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "http_serve: %s\n", err);
	else
		printf("restarted %u\n", (unsigned)cds_http_port(*h));
	return r;
}

/* Signals wait here; updates run on this thread. */
static int serve(struct cds_http **h, const struct cds_http_opts *o,
		 struct cds_scanner_stats *stats, atomic_bool *resolver_up, const sigset_t *set)
{
	unsigned bumps = 0;
	for (;;) {
		int sig = 0;
		if (sigwait(set, &sig) != 0)
			return 1;
		if (sig == SIGUSR1) {
			bump(o->metrics, stats);
			printf("bumped %u\n", ++bumps);
		} else if (sig == SIGUSR2) {
			bool up = !atomic_load(resolver_up);
			atomic_store(resolver_up, up);
			printf("resolver %s\n", up ? "up" : "down");
		} else if (sig == SIGHUP) {
			if (restart(h, o) != 0)
				return 1;
		} else {
			return 0;
		}
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct cds_http_opts o = {0};
	atomic_bool resolver_up = true;
	char err[512];
	if (option(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: http_serve --listen ADDR --database CONNINFO [--per-ip N] "
				"[--max-connections N] [--timeout S] [--max-url N] "
				"[--statement-ms MS]\n");
		return 64;
	}
	cds_log_setup(CDS_LOG_DEBUG, CDS_LOG_TEXT, NULL);
	/* Blocked before the HTTP thread exists, so that only sigwait sees
	 * them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct cds_metrics *m = cds_metrics_new();
	o.metrics = m;
	o.resolver_up = &resolver_up;
	struct cds_http *h = NULL;
	int r = m ? cds_http_start(&o, &h, err, sizeof(err)) : CDS_ENOMEM;
	if (r != 0) {
		fprintf(stderr, "http_serve: %s\n", m ? err : "out of memory");
		cds_metrics_free(m);
		return cds_error_exit_code(r);
	}
	struct cds_scanner_stats stats = {0};
	bump(m, &stats);
	printf("listening %u\n", (unsigned)cds_http_port(h));
	fflush(stdout);
	r = serve(&h, &o, &stats, &resolver_up, &set);
	cds_http_stop(h);
	cds_metrics_free(m);
	printf("stopped\n");
	return r;
}
