/* Unit tests of the metrics registry (src/daemon/metrics.c): verdicts,
 * decide times, NOTIFYs, the scanner's cumulative counts and the store's
 * gauges go in; the Prometheus text that comes out is parsed back here
 * (format 0.0.4: HELP and TYPE before a family's samples, label escaping,
 * counters ending in _total, cumulative histogram buckets) and its values
 * checked; and updates from two threads while a third renders. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/metrics.h"
#include "cdscan/scan.h"
#include "cdscan/version.h"

/* ------------------------------------------- a parser of the format --- */

#define MAX_SAMPLES  512
#define MAX_FAMILIES 64

struct sample {
	char name[96];
	char labels[4][2][128]; /* name, value (unescaped) */
	int nlabels;
	double value;
};

struct family {
	char name[96];
	char type[16];
	bool help;
};

struct exposition {
	struct sample s[MAX_SAMPLES];
	int n;
	struct family f[MAX_FAMILIES];
	int nf;
};

static struct family *family_of(struct exposition *e, const char *name)
{
	for (int i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return &e->f[i];
	return NULL;
}

/* "# HELP name text" or "# TYPE name type": declared once, HELP first. */
static void parse_comment(struct exposition *e, const char *line)
{
	char kind[8], name[96], rest[256] = "";
	assert_true(sscanf(line, "# %7s %95s %255[^\n]", kind, name, rest) >= 2);
	struct family *f = family_of(e, name);
	if (strcmp(kind, "HELP") == 0) {
		assert_null(f); /* one HELP per family, before its TYPE */
		assert_true(e->nf < MAX_FAMILIES);
		f = &e->f[e->nf++];
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->help = rest[0] != '\0';
		return;
	}
	assert_string_equal(kind, "TYPE");
	assert_non_null(f);
	assert_string_equal(f->type, "");
	assert_true(strlen(rest) < sizeof(f->type));
	memcpy(f->type, rest, strlen(rest) + 1);
}

/* A label value up to its closing quote, unescaped (\\, \", \n); returns
 * the position after the quote. */
static const char *parse_value(const char *p, char *out, size_t len)
{
	size_t o = 0;
	for (; *p != '"'; p++) {
		assert_true(*p != '\0' && *p != '\n' && o + 1 < len);
		if (*p == '\\') {
			p++;
			assert_true(*p == '\\' || *p == '"' || *p == 'n');
			out[o++] = *p == 'n' ? '\n' : *p;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return p + 1;
}

/* The family a sample belongs to: its name, or without the histogram
 * suffixes. */
static struct family *sample_family(struct exposition *e, const char *name)
{
	struct family *f = family_of(e, name);
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	for (size_t i = 0; !f && i < 3; i++) {
		size_t n = strlen(name), k = strlen(suffixes[i]);
		char base[96];
		if (n > k && strcmp(name + n - k, suffixes[i]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
			f = family_of(e, base);
			if (f)
				assert_string_equal(f->type, "histogram");
		}
	}
	return f;
}

static void parse_sample(struct exposition *e, const char *line)
{
	assert_true(e->n < MAX_SAMPLES);
	struct sample *s = &e->s[e->n++];
	size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz_0123456789");
	assert_true(n > 0 && n < sizeof(s->name));
	memcpy(s->name, line, n);
	const char *p = line + n;
	if (*p == '{') {
		for (p++; *p != '}';) {
			assert_true(s->nlabels < 4);
			size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
			assert_true(k > 0 && p[k] == '=' && p[k + 1] == '"');
			snprintf(s->labels[s->nlabels][0], 128, "%.*s", (int)k, p);
			p = parse_value(p + k + 2, s->labels[s->nlabels][1], 128);
			s->nlabels++;
			if (*p == ',')
				p++;
		}
		p++;
	}
	assert_true(*p == ' ');
	char *end = NULL;
	s->value = strtod(p + 1, &end);
	assert_true(end != p + 1 && *end == '\0');
	/* Its family was declared before it. */
	struct family *f = sample_family(e, s->name);
	assert_non_null(f);
	assert_true(f->help && f->type[0]);
}

static void parse(const char *text, struct exposition *e)
{
	memset(e, 0, sizeof(*e));
	char *copy = strdup(text), *save = NULL;
	assert_non_null(copy);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			parse_comment(e, line);
		else
			parse_sample(e, line);
	}
	free(copy);
	/* Counters end in _total; no series twice. */
	for (int i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].type, "counter") == 0)
			assert_non_null(strstr(e->f[i].name, "_total"));
	for (int i = 0; i < e->n; i++)
		for (int j = i + 1; j < e->n; j++)
			assert_false(strcmp(e->s[i].name, e->s[j].name) == 0 &&
				     e->s[i].nlabels == e->s[j].nlabels &&
				     memcmp(e->s[i].labels, e->s[j].labels,
					    sizeof(e->s[i].labels)) == 0);
}

/* The value of the series name{k1=v1,k2=v2} (k NULL: fewer labels);
 * NAN when there is none. */
static double value(const struct exposition *e, const char *name, const char *k1, const char *v1,
		    const char *k2, const char *v2)
{
	int want = (k1 != NULL) + (k2 != NULL);
	for (int i = 0; i < e->n; i++) {
		const struct sample *s = &e->s[i];
		if (strcmp(s->name, name) != 0 || s->nlabels != want)
			continue;
		if (k1 && (strcmp(s->labels[0][0], k1) || strcmp(s->labels[0][1], v1)))
			continue;
		if (k2 && (strcmp(s->labels[1][0], k2) || strcmp(s->labels[1][1], v2)))
			continue;
		return s->value;
	}
	return NAN;
}

static int count_series(const struct exposition *e, const char *name)
{
	int n = 0;
	for (int i = 0; i < e->n; i++)
		n += strcmp(e->s[i].name, name) == 0;
	return n;
}

static char *render(const struct cds_metrics *m, const struct cds_db_gauges *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cds_metrics_render(m, g, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The histogram's buckets: bounds rising to +Inf, counts cumulative, the
 * +Inf bucket equal to _count.  Returns _count. */
static double check_histogram(const struct exposition *e, const char *name)
{
	char bucket[96], count[96];
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(count, sizeof(count), "%s_count", name);
	double last_le = -1, last_n = 0;
	int buckets = 0;
	for (int i = 0; i < e->n; i++) {
		const struct sample *s = &e->s[i];
		if (strcmp(s->name, bucket) != 0)
			continue;
		assert_int_equal(s->nlabels, 1);
		assert_string_equal(s->labels[0][0], "le");
		double le = strcmp(s->labels[0][1], "+Inf") == 0 ? INFINITY
								 : strtod(s->labels[0][1], NULL);
		assert_true(le > last_le);
		assert_true(s->value >= last_n);
		last_le = le;
		last_n = s->value;
		buckets++;
	}
	assert_true(buckets > 2 && isinf(last_le));
	assert_true(last_n == value(e, count, NULL, NULL, NULL, NULL));
	return last_n;
}

/* A verdict as policy leaves it: DS update (ds-updated), NS none
 * (no-csync), one server unusable when bad. */
static void fake_verdict(struct cds_verdict *v, struct cds_verdict_server *srv, bool bad)
{
	memset(v, 0, sizeof(*v));
	memset(srv, 0, sizeof(*srv));
	snprintf(v->domain, sizeof(v->domain), "child.test.");
	v->ds_side.action = CDS_ACTION_UPDATE;
	v->ds_side.reasons[0] = CDS_R_DS_UPDATED;
	v->ds_side.reason_count = 1;
	v->ns_side.action = CDS_ACTION_NONE;
	v->ns_side.reasons[0] = CDS_R_NO_CSYNC;
	v->ns_side.reasons[1] = CDS_R_SUSPENDED;
	v->ns_side.reason_count = 2;
	srv->ok = !bad;
	v->servers = srv;
	v->server_count = 1;
}

static void feed(struct cds_metrics *m)
{
	struct cds_verdict v;
	struct cds_verdict_server srv;
	fake_verdict(&v, &srv, false);
	cds_metrics_verdict(m, &v);
	fake_verdict(&v, &srv, true);
	v.ds_side.action = CDS_ACTION_REJECT;
	v.ds_side.reasons[0] = CDS_R_NS_UNREACHABLE;
	cds_metrics_verdict(m, &v);
	cds_metrics_skipped(m);
	cds_metrics_change_sets(m, 3);
	const double times[] = {0.0001, 0.0005, 0.3, 5, -1, NAN, 2};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		cds_metrics_decide_time(m, times[i]);
	cds_metrics_notify_received(m, CDS_T_CDS);
	cds_metrics_notify_received(m, CDS_T_CSYNC);
	cds_metrics_notify_received(m, CDS_T_CSYNC);
	cds_metrics_notify_received(m, CDS_T_A);
	cds_metrics_notify_accepted(m);
	cds_metrics_notify_rate_limited(m, CDS_METRICS_BY_DOMAIN);
	cds_metrics_notify_refused(m, 5);
	cds_metrics_notify_refused(m, 9);
	cds_metrics_notify_refused(m, 2); /* SERVFAIL: other */
	cds_metrics_epp_error(m);
	cds_metrics_config_reload(m, true);
	cds_metrics_config_reload(m, false);
	cds_metrics_config_reload(m, false);
}

static void test_render(void **state)
{
	struct cds_metrics *m = cds_metrics_new();
	assert_non_null(m);
	feed(m);
	struct cds_db_gauges g = {
		.delegations = 10, .due = 2, .oldest_due_s = 12.5, .suspended = 1};
	const char *states[] = {"pending", "sent", "done", "failed", "we\"ird\\na\nme"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(g.states[i].name, sizeof(g.states[i].name), "%s", states[i]);
		g.states[i].count = i + 1;
	}
	g.state_count = 5;
	char *text = render(m, &g);
	static struct exposition e;
	parse(text, &e);
	assert_non_null(strstr(text, "we\\\"ird\\\\na\\nme")); /* escaped on the wire */
	free(text);

#define V1(n, k, v) value(&e, n, k, v, NULL, NULL)
#define V0(n)       value(&e, n, NULL, NULL, NULL, NULL)
	assert_true(value(&e, "cdscan_scans_total", "side", "ds", "action", "update") == 1);
	assert_true(value(&e, "cdscan_scans_total", "side", "ds", "action", "reject") == 1);
	assert_true(value(&e, "cdscan_scans_total", "side", "ns", "action", "none") == 2);
	assert_true(value(&e, "cdscan_scans_total", "side", "ns", "action", "update") == 0);
	assert_int_equal(count_series(&e, "cdscan_scans_total"), 2 * CDS_ACTION_COUNT);
	assert_true(value(&e, "cdscan_scan_reasons_total", "side", "ds", "reason", "ds-updated") ==
		    1);
	assert_true(value(&e, "cdscan_scan_reasons_total", "side", "ds", "reason",
			  "ns-unreachable") == 1);
	assert_true(value(&e, "cdscan_scan_reasons_total", "side", "ns", "reason", "suspended") ==
		    2);
	assert_true(value(&e, "cdscan_scan_reasons_total", "side", "ns", "reason", "bogus") == 0);
	assert_int_equal(count_series(&e, "cdscan_scan_reasons_total"), 2 * CDS_R_COUNT);
	assert_true(V0("cdscan_scans_unusable_total") == 1);
	assert_true(V0("cdscan_scans_skipped_total") == 1);
	assert_true(V0("cdscan_change_sets_created_total") == 3);
	/* 0.0001, 0.0005 (on the bound), -1 and NaN (as 0) in the first
	 * bucket; 0.3 in 0.5; 2 on the last bound; 5 only in +Inf. */
	assert_true(V1("cdscan_decide_seconds_bucket", "le", "0.0005") == 4);
	assert_true(V1("cdscan_decide_seconds_bucket", "le", "0.25") == 4);
	assert_true(V1("cdscan_decide_seconds_bucket", "le", "0.5") == 5);
	assert_true(V1("cdscan_decide_seconds_bucket", "le", "2") == 6);
	assert_true(check_histogram(&e, "cdscan_decide_seconds") == 7);
	assert_true(fabs(V0("cdscan_decide_seconds_sum") - 7.3006) < 1e-6);
	assert_true(V1("cdscan_notify_received_total", "qtype", "CSYNC") == 2);
	assert_true(V1("cdscan_notify_received_total", "qtype", "CDNSKEY") == 0);
	assert_true(V1("cdscan_notify_received_total", "qtype", "other") == 1);
	assert_true(V0("cdscan_notify_accepted_total") == 1);
	assert_true(V1("cdscan_notify_rate_limited_total", "by", "domain") == 1);
	assert_true(V1("cdscan_notify_rate_limited_total", "by", "source") == 0);
	assert_true(V1("cdscan_notify_refused_total", "rcode", "REFUSED") == 1);
	assert_true(V1("cdscan_notify_refused_total", "rcode", "NOTAUTH") == 1);
	assert_true(V1("cdscan_notify_refused_total", "rcode", "FORMERR") == 0);
	assert_true(V1("cdscan_notify_refused_total", "rcode", "other") == 1);
	assert_true(V0("cdscan_epp_errors_total") == 1);
	assert_true(V1("cdscan_config_reloads_total", "result", "error") == 2);
	/* The gauges, the hostile state name read back as it was. */
	assert_true(V0("cdscan_database_up") == 1);
	assert_true(V0("cdscan_delegations") == 10);
	assert_true(V0("cdscan_queue_depth") == 2);
	assert_true(V0("cdscan_oldest_due_seconds") == 12.5);
	assert_true(V0("cdscan_suspended_delegations") == 1);
	assert_true(V1("cdscan_change_sets", "state", "failed") == 4);
	assert_true(V1("cdscan_change_sets", "state", "we\"ird\\na\nme") == 5);
	assert_true(V1("cdscan_build_info", "version", CDSCAN_VERSION) == 1);
	assert_true(V0("cdscan_start_time_seconds") > 1.7e9);
	assert_string_equal(family_of(&e, "cdscan_queue_depth")->type, "gauge");
	assert_string_equal(family_of(&e, "cdscan_dns_queries_total")->type, "counter");
	cds_metrics_free(m);
}

/* Without the store: its gauges left out, database_up 0. */
static void test_render_without_database(void **state)
{
	struct cds_metrics *m = cds_metrics_new();
	char *text = render(m, NULL);
	static struct exposition e;
	parse(text, &e);
	free(text);
	assert_true(V0("cdscan_database_up") == 0);
	assert_true(isnan(V0("cdscan_delegations")));
	assert_null(family_of(&e, "cdscan_change_sets"));
	assert_true(V0("cdscan_scans_unusable_total") == 0);
	assert_true(check_histogram(&e, "cdscan_decide_seconds") == 0);
	cds_metrics_free(m);
}

static double dns_value(const struct cds_metrics *m, const char *name)
{
	char *text = render(m, NULL);
	static struct exposition e;
	parse(text, &e);
	free(text);
	return V0(name);
}

/* The scanner's cumulative counts never go down: not when a scanner is
 * replaced unannounced (a lower value), nor after cds_metrics_scanner_done. */
static void test_scanner(void **state)
{
	struct cds_metrics *m = cds_metrics_new();
	struct cds_scanner_stats s = {
		.queries = 10, .answers = 8, .timeouts = 2, .tcp_fallbacks = 1};
	cds_metrics_scanner(m, &s);
	assert_true(dns_value(m, "cdscan_dns_queries_total") == 10);
	assert_true(dns_value(m, "cdscan_dns_timeouts_total") == 2);
	s.queries = 20;
	cds_metrics_scanner(m, &s);
	assert_true(dns_value(m, "cdscan_dns_queries_total") == 20);
	s.queries = 5; /* a new scanner */
	cds_metrics_scanner(m, &s);
	assert_true(dns_value(m, "cdscan_dns_queries_total") == 25);
	s.queries = 7;
	cds_metrics_scanner_done(m, &s);
	assert_true(dns_value(m, "cdscan_dns_queries_total") == 27);
	s = (struct cds_scanner_stats){.queries = 3, .answers = 1, .tcp_fallbacks = 1};
	cds_metrics_scanner(m, &s); /* the next scanner, from 0 */
	assert_true(dns_value(m, "cdscan_dns_queries_total") == 30);
	assert_true(dns_value(m, "cdscan_dns_answers_total") == 8 + 1);
	assert_true(dns_value(m, "cdscan_dns_tcp_fallbacks_total") == 1 + 1);
	assert_true(dns_value(m, "cdscan_dns_timeouts_total") == 2 + 0);
	cds_metrics_free(m);
}

/* RFC 9567 reports, by outcome, from the scanner's counts (every outcome
 * a series from the start). */
static void test_error_reports(void **state)
{
	(void)state;
	struct cds_metrics *m = cds_metrics_new();
	static struct exposition e;
	char *text = render(m, NULL);
	parse(text, &e);
	free(text);
	assert_true(V1("cdscan_error_reports_total", "outcome", "sent") == 0);
	assert_true(V1("cdscan_error_reports_total", "outcome", "unsendable") == 0);
	struct cds_scanner_stats s = {.reports = {.sent = 3, .duplicates = 2, .rate_limited = 1,
						  .unsendable = 4, .failed = 1}};
	cds_metrics_scanner(m, &s);
	text = render(m, NULL);
	parse(text, &e);
	free(text);
	assert_true(V1("cdscan_error_reports_total", "outcome", "sent") == 3);
	assert_true(V1("cdscan_error_reports_total", "outcome", "duplicate") == 2);
	assert_true(V1("cdscan_error_reports_total", "outcome", "rate_limited") == 1);
	assert_true(V1("cdscan_error_reports_total", "outcome", "unsendable") == 4);
	cds_metrics_free(m);
}

/* ------------------------------------------------------- two threads --- */

#define ROUNDS 50000
/* Set after the first scrape: the writers wait for it, so that on a busy
 * machine they cannot finish before a scrape sees them at work. */
static atomic_int first_scrape;

static void *writer(void *arg)
{
	struct cds_metrics *m = arg;
	struct cds_verdict v;
	struct cds_verdict_server srv;
	fake_verdict(&v, &srv, false);
	while (!atomic_load(&first_scrape))
		sched_yield();
	for (int i = 0; i < ROUNDS; i++) {
		cds_metrics_verdict(m, &v);
		cds_metrics_decide_time(m, (i % 7) * 0.001);
		cds_metrics_notify_received(m, CDS_T_CDNSKEY);
	}
	return NULL;
}

/* Two threads update while this one renders: every series only grows from
 * one scrape to the next, every histogram stays cumulative with _count at
 * +Inf, and nothing is lost in the end. */
static void test_threads(void **state)
{
	struct cds_metrics *m = cds_metrics_new();
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, m), 0);
	static struct exposition e, prev;
	int scrapes = 0;
	double last = 0;
	while (last < 2 * ROUNDS) {
		char *text = render(m, NULL);
		parse(text, &e);
		free(text);
		check_histogram(&e, "cdscan_decide_seconds");
		for (int i = 0; scrapes > 0 && i < e.n; i++)
			assert_true(strcmp(e.s[i].name, "cdscan_start_time_seconds") == 0 ||
				    e.s[i].value >= prev.s[i].value);
		prev = e;
		last = V1("cdscan_notify_received_total", "qtype", "CDNSKEY");
		scrapes++;
		atomic_store(&first_scrape, 1);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	char *text = render(m, NULL);
	parse(text, &e);
	free(text);
	assert_true(value(&e, "cdscan_scans_total", "side", "ds", "action", "update") ==
		    2 * ROUNDS);
	assert_true(value(&e, "cdscan_scan_reasons_total", "side", "ns", "reason", "no-csync") ==
		    2 * ROUNDS);
	assert_true(check_histogram(&e, "cdscan_decide_seconds") == 2 * ROUNDS);
	assert_true(scrapes > 1);
	cds_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_without_database),
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_error_reports),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
