/* The daemon's metrics registry and its Prometheus text exposition (format
 * 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/). */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/metrics.h"
#include "cdscan/scan.h"
#include "cdscan/version.h"

/* A counter: updated with relaxed atomic additions, which is all a counter
 * needs (no other memory is published through it), read the same way. */
typedef atomic_uint_fast64_t counter_t;

/* The scanner's counters, in cds_scanner_stats: the DNS queries, then the
 * RFC 9567 error reports by outcome (cdscan_error_reports_total). */
enum dns_counter {
	DNS_QUERIES = 0,
	DNS_ANSWERS,
	DNS_TIMEOUTS,
	DNS_TCP_FALLBACKS,
	ER_SENT,
	ER_DUPLICATE,
	ER_RATE_LIMITED,
	ER_UNSENDABLE,
	DNS_COUNT
};
static const char *const report_outcomes[] = {"sent", "duplicate", "rate_limited", "unsendable"};

/* The query types of a NOTIFY that have a label (RFC 9859 §3: CDS/CDNSKEY
 * and CSYNC), and the rest. */
enum notify_qtype { Q_CDS = 0, Q_CDNSKEY, Q_CSYNC, Q_OTHER, Q_COUNT };
static const char *const qtype_names[Q_COUNT] = {"CDS", "CDNSKEY", "CSYNC", "other"};

/* The RCODEs a NOTIFY listener answers errors with (RFC 1035 §4.1.1,
 * RFC 2136 §2.2), and the rest. */
enum refusal { RC_FORMERR = 0, RC_NOTIMP, RC_REFUSED, RC_NOTAUTH, RC_OTHER, RC_COUNT };
static const struct {
	unsigned rcode;
	const char *name;
} refusals[RC_COUNT] = {
	[RC_FORMERR] = {1, "FORMERR"}, [RC_NOTIMP] = {4, "NOTIMP"}, [RC_REFUSED] = {5, "REFUSED"},
	[RC_NOTAUTH] = {9, "NOTAUTH"}, [RC_OTHER] = {0, "other"},
};

static const char *const limit_names[CDS_METRICS_LIMIT_COUNT] = {"source", "domain", "everyone",
									 "queue"};

/* cdscan_decide_seconds: upper bounds from half a millisecond (a key and a
 * signature or two) to two seconds (key sets at the validation limits);
 * slower goes to +Inf. */
static const struct {
	double le;
	const char *text;
} buckets[] = {
	{0.0005, "0.0005"}, {0.001, "0.001"}, {0.0025, "0.0025"}, {0.005, "0.005"},
	{0.01, "0.01"},     {0.025, "0.025"}, {0.05, "0.05"},     {0.1, "0.1"},
	{0.25, "0.25"},     {0.5, "0.5"},     {1, "1"},           {2, "2"},
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct cds_metrics {
	double start_time; /* written before any other thread sees m */
	counter_t scans[CDS_KIND_COUNT][CDS_ACTION_COUNT];
	counter_t reasons[CDS_KIND_COUNT][CDS_R_COUNT];
	counter_t unusable, skipped, change_sets, epp_errors;
	counter_t reloads[2]; /* [0]: ok, [1]: error */
	counter_t notify_received[Q_COUNT];
	counter_t notify_accepted;
	counter_t notify_limited[CDS_METRICS_LIMIT_COUNT];
	counter_t notify_refused[RC_COUNT];
	/* Notification deliveries per channel and outcome: a slot's name is
	 * written by the loop thread before its used flag (release), read by
	 * the renderer after it (acquire); the last slot is "other". */
	struct {
		char channel[64];
		atomic_bool used;
		counter_t n[3];
	} notes[CDS_METRICS_CHANNELS + 1];
	/* What cdscan_dns_* show: base + the current scanner's value. */
	counter_t dns[DNS_COUNT];
	uint64_t dns_base[DNS_COUNT]; /* scanners before this one (loop thread only) */
	uint64_t dns_last[DNS_COUNT]; /* this scanner's last value (loop thread only) */
	/* The histogram: observations per bucket (not cumulative; the last is
	 * +Inf), and their sum in nanoseconds (an atomic double would need a
	 * compare-and-swap loop; 2^64 ns is 584 years). */
	counter_t decide[NBUCKETS + 1];
	counter_t decide_sum_ns;
};

static void add(counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const counter_t *c)
{
	/* C11 declares atomic_load's argument non-const; reading changes
	 * nothing. */
	return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

struct cds_metrics *cds_metrics_new(void)
{
	struct cds_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	/* calloc's zero bytes are zero counters: a lock-free atomic integer
	 * has its integer's representation on every platform cdscan builds
	 * on. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	m->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return m;
}

void cds_metrics_free(struct cds_metrics *m)
{
	free(m);
}

/* ------------------------------------------------------------ updates --- */

void cds_metrics_verdict(struct cds_metrics *m, const struct cds_verdict *v)
{
	for (int k = 0; k < CDS_KIND_COUNT; k++) {
		const struct cds_verdict_side *s = cds_verdict_side_const(v, (enum cds_kind)k);
		if ((unsigned)s->action < CDS_ACTION_COUNT)
			add(&m->scans[k][s->action], 1);
		for (size_t i = 0; i < s->reason_count && i < CDS_VERDICT_MAX_REASONS; i++)
			if ((unsigned)s->reasons[i] < CDS_R_COUNT)
				add(&m->reasons[k][s->reasons[i]], 1);
	}
	if (cds_verdict_any_unusable(v))
		add(&m->unusable, 1);
}

void cds_metrics_skipped(struct cds_metrics *m)
{
	add(&m->skipped, 1);
}

void cds_metrics_change_sets(struct cds_metrics *m, unsigned n)
{
	add(&m->change_sets, n);
}

void cds_metrics_decide_time(struct cds_metrics *m, double seconds)
{
	/* !(s > 0) is also true for NaN. */
	if (!(seconds > 0))
		seconds = 0;
	if (seconds > 1e9)
		seconds = 1e9;
	size_t b = 0;
	while (b < NBUCKETS && seconds > buckets[b].le)
		b++;
	add(&m->decide[b], 1);
	add(&m->decide_sum_ns, (uint64_t)(seconds * 1e9 + 0.5));
}

static void scanner_values(const struct cds_scanner_stats *s, uint64_t v[DNS_COUNT])
{
	v[DNS_QUERIES] = s->queries;
	v[DNS_ANSWERS] = s->answers;
	v[DNS_TIMEOUTS] = s->timeouts;
	v[DNS_TCP_FALLBACKS] = s->tcp_fallbacks;
	v[ER_SENT] = s->reports.sent;
	v[ER_DUPLICATE] = s->reports.duplicates;
	v[ER_RATE_LIMITED] = s->reports.rate_limited;
	v[ER_UNSENDABLE] = s->reports.unsendable;
}

void cds_metrics_scanner(struct cds_metrics *m, const struct cds_scanner_stats *s)
{
	uint64_t v[DNS_COUNT];
	scanner_values(s, v);
	for (int i = 0; i < DNS_COUNT; i++) {
		/* A scanner's counts only grow: less than before is a new one
		 * that nobody announced (cds_metrics_scanner_done). */
		if (v[i] < m->dns_last[i])
			m->dns_base[i] += m->dns_last[i];
		m->dns_last[i] = v[i];
		atomic_store_explicit(&m->dns[i], m->dns_base[i] + v[i], memory_order_relaxed);
	}
}

void cds_metrics_scanner_done(struct cds_metrics *m, const struct cds_scanner_stats *s)
{
	cds_metrics_scanner(m, s);
	for (int i = 0; i < DNS_COUNT; i++) {
		m->dns_base[i] += m->dns_last[i];
		m->dns_last[i] = 0;
	}
}

void cds_metrics_notify_received(struct cds_metrics *m, uint16_t qtype)
{
	enum notify_qtype q = qtype == CDS_T_CDS       ? Q_CDS
			      : qtype == CDS_T_CDNSKEY ? Q_CDNSKEY
			      : qtype == CDS_T_CSYNC   ? Q_CSYNC
						       : Q_OTHER;
	add(&m->notify_received[q], 1);
}

void cds_metrics_notify_accepted(struct cds_metrics *m)
{
	add(&m->notify_accepted, 1);
}

void cds_metrics_notify_rate_limited(struct cds_metrics *m, enum cds_metrics_limit by)
{
	if ((unsigned)by < CDS_METRICS_LIMIT_COUNT)
		add(&m->notify_limited[by], 1);
}

void cds_metrics_notify_refused(struct cds_metrics *m, unsigned rcode)
{
	int i = 0;
	while (i < RC_OTHER && refusals[i].rcode != rcode)
		i++;
	add(&m->notify_refused[i], 1);
}

void cds_metrics_epp_error(struct cds_metrics *m)
{
	add(&m->epp_errors, 1);
}

void cds_metrics_notifications(struct cds_metrics *m, const char *channel, int outcome,
			       uint64_t n)
{
	size_t i = 0;
	if (outcome < 0 || outcome > 2 || n == 0)
		return;
	while (i < CDS_METRICS_CHANNELS && atomic_load_explicit(&m->notes[i].used,
								 memory_order_acquire) &&
	       strcmp(m->notes[i].channel, channel) != 0)
		i++;
	if (i < CDS_METRICS_CHANNELS &&
	    !atomic_load_explicit(&m->notes[i].used, memory_order_acquire)) {
		snprintf(m->notes[i].channel, sizeof(m->notes[i].channel), "%s", channel);
		atomic_store_explicit(&m->notes[i].used, true, memory_order_release);
	}
	add(&m->notes[i].n[outcome], n);
}

void cds_metrics_config_reload(struct cds_metrics *m, bool ok)
{
	add(&m->reloads[ok ? 0 : 1], 1);
}

/* ---------------------------------------------------------- rendering --- */

/* HELP text: backslash and newline escaped (format 0.0.4). */
static void help_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void label_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* The HELP and TYPE lines of a family. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	help_escape(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* A sample's name and labels (k2 NULL: one label; k1 NULL: none); the
 * caller writes the value and the newline. */
static void series(FILE *f, const char *name, const char *k1, const char *v1, const char *k2,
		   const char *v2)
{
	fputs(name, f);
	if (k1) {
		fprintf(f, "{%s=\"", k1);
		label_escape(f, v1);
		if (k2) {
			fprintf(f, "\",%s=\"", k2);
			label_escape(f, v2);
		}
		fputs("\"}", f);
	}
}

static void sample(FILE *f, const char *name, const char *k1, const char *v1, const char *k2,
		   const char *v2, uint64_t value)
{
	series(f, name, k1, v1, k2, v2);
	fprintf(f, " %llu\n", (unsigned long long)value);
}

/* One counter per side and action: every action for both sides, a fixed
 * set from the model (zeros included, so that rate() sees the first
 * increment of a series). */
static void render_scans(const struct cds_metrics *m, FILE *f)
{
	family(f, "cdscan_scans_total", "counter",
	       "Verdicts written, per side (ds: CDS/CDNSKEY, ns: CSYNC) and the action that side "
	       "took.");
	for (int k = 0; k < CDS_KIND_COUNT; k++)
		for (int a = 0; a < CDS_ACTION_COUNT; a++)
			sample(f, "cdscan_scans_total", "side", cds_kind_name((enum cds_kind)k),
			       "action", cds_action_name((enum cds_action)a), get(&m->scans[k][a]));
	family(f, "cdscan_scan_reasons_total", "counter",
	       "Reason codes of the verdicts written, per side (a side may give several).");
	for (int k = 0; k < CDS_KIND_COUNT; k++)
		for (int r = 0; r < CDS_R_COUNT; r++)
			sample(f, "cdscan_scan_reasons_total", "side",
			       cds_kind_name((enum cds_kind)k), "reason",
			       cds_reason_code((enum cds_reason)r), get(&m->reasons[k][r]));
}

/* The counters without labels. */
static const struct {
	const char *name;
	const char *help;
	size_t offset; /* of its counter_t in struct cds_metrics */
} plain[] = {
	{"cdscan_scans_unusable_total",
	 "Verdicts in which a nameserver address gave no usable answer.",
	 offsetof(struct cds_metrics, unusable)},
	{"cdscan_scans_skipped_total",
	 "Delegations not scanned because their registry scans CDS itself.",
	 offsetof(struct cds_metrics, skipped)},
	{"cdscan_change_sets_created_total", "Change sets created (DS and NS).",
	 offsetof(struct cds_metrics, change_sets)},
	{"cdscan_dns_queries_total",
	 "DNS messages the scanner sent to nameservers and the resolver (UDP datagrams and TCP "
	 "messages, retries included).",
	 offsetof(struct cds_metrics, dns[DNS_QUERIES])},
	{"cdscan_dns_answers_total",
	 "DNS queries of the scanner that got an answer (a query and its retries count once).",
	 offsetof(struct cds_metrics, dns[DNS_ANSWERS])},
	{"cdscan_dns_timeouts_total",
	 "DNS queries of the scanner that ended in a timeout after their retries.",
	 offsetof(struct cds_metrics, dns[DNS_TIMEOUTS])},
	{"cdscan_dns_tcp_fallbacks_total", "Truncated UDP answers asked again over TCP.",
	 offsetof(struct cds_metrics, dns[DNS_TCP_FALLBACKS])},
	{"cdscan_notify_accepted_total",
	 "NOTIFY messages accepted: their delegation is scheduled for a scan.",
	 offsetof(struct cds_metrics, notify_accepted)},
	{"cdscan_epp_errors_total", "EPP commands that failed.",
	 offsetof(struct cds_metrics, epp_errors)},
};

static void render_plain(const struct cds_metrics *m, FILE *f)
{
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		const counter_t *c = (const counter_t *)((const char *)m + plain[i].offset);
		family(f, plain[i].name, "counter", plain[i].help);
		sample(f, plain[i].name, NULL, NULL, NULL, NULL, get(c));
	}
}

/* The histogram from one snapshot of its buckets, so that the cumulative
 * counts never decrease and _count equals the +Inf bucket. */
static void render_decide(const struct cds_metrics *m, FILE *f)
{
	uint64_t snap[NBUCKETS + 1], total = 0;
	for (size_t b = 0; b <= NBUCKETS; b++)
		snap[b] = get(&m->decide[b]);
	family(f, "cdscan_decide_seconds", "histogram",
	       "Time to validate and decide one delegation, in seconds.");
	for (size_t b = 0; b <= NBUCKETS; b++) {
		total += snap[b];
		sample(f, "cdscan_decide_seconds_bucket", "le",
		       b < NBUCKETS ? buckets[b].text : "+Inf", NULL, NULL, total);
	}
	fprintf(f, "cdscan_decide_seconds_sum %.9f\n", (double)get(&m->decide_sum_ns) / 1e9);
	sample(f, "cdscan_decide_seconds_count", NULL, NULL, NULL, NULL, total);
}

static void render_notify(const struct cds_metrics *m, FILE *f)
{
	family(f, "cdscan_notify_received_total", "counter",
	       "NOTIFY messages received (RFC 9859), by query type.");
	for (int q = 0; q < Q_COUNT; q++)
		sample(f, "cdscan_notify_received_total", "qtype", qtype_names[q], NULL, NULL,
		       get(&m->notify_received[q]));
	family(f, "cdscan_notify_rate_limited_total", "counter",
	       "NOTIFY messages dropped by the rate limit per source address or per domain.");
	for (int b = 0; b < CDS_METRICS_LIMIT_COUNT; b++)
		sample(f, "cdscan_notify_rate_limited_total", "by", limit_names[b], NULL, NULL,
		       get(&m->notify_limited[b]));
	family(f, "cdscan_notify_refused_total", "counter",
	       "NOTIFY messages answered with an error, by RCODE.");
	for (int r = 0; r < RC_COUNT; r++)
		sample(f, "cdscan_notify_refused_total", "rcode", refusals[r].name, NULL, NULL,
		       get(&m->notify_refused[r]));
	family(f, "cdscan_error_reports_total", "counter",
	       "RFC 9567 error reports to the agent domains of children's nameservers, by "
	       "outcome (sent, or why not).");
	for (int o = 0; o <= ER_UNSENDABLE - ER_SENT; o++)
		sample(f, "cdscan_error_reports_total", "outcome", report_outcomes[o], NULL, NULL,
		       get(&m->dns[ER_SENT + o]));
	static const char *const outcomes[] = {"sent", "retry", "failed"};
	family(f, "cdscan_notifications_total", "counter",
	       "Notification deliveries, per configured channel and outcome (retry: tried again "
	       "after its back-off; failed: given up).");
	for (size_t i = 0; i <= CDS_METRICS_CHANNELS; i++) {
		bool used = i < CDS_METRICS_CHANNELS
				    ? atomic_load_explicit(&m->notes[i].used, memory_order_acquire)
				    : get(&m->notes[i].n[0]) + get(&m->notes[i].n[1]) +
					      get(&m->notes[i].n[2]) > 0;
		for (int o = 0; used && o < 3; o++)
			sample(f, "cdscan_notifications_total", "channel",
			       i < CDS_METRICS_CHANNELS ? m->notes[i].channel : "other", "outcome",
			       outcomes[o], get(&m->notes[i].n[o]));
	}
	family(f, "cdscan_config_reloads_total", "counter",
	       "Configuration reloads, by result (error: the running configuration stays).");
	sample(f, "cdscan_config_reloads_total", "result", "ok", NULL, NULL, get(&m->reloads[0]));
	sample(f, "cdscan_config_reloads_total", "result", "error", NULL, NULL,
	       get(&m->reloads[1]));
}

/* The store's gauges, read at scrape time. */
static void render_gauges(const struct cds_db_gauges *g, FILE *f)
{
	family(f, "cdscan_database_up", "gauge",
	       "Whether the database answered this scrape's queries (1) or not (0: the gauges "
	       "read from it are left out).");
	sample(f, "cdscan_database_up", NULL, NULL, NULL, NULL, g != NULL);
	if (!g)
		return;
	family(f, "cdscan_delegations", "gauge", "Delegations in their parent zone (not removed).");
	sample(f, "cdscan_delegations", NULL, NULL, NULL, NULL, g->delegations);
	family(f, "cdscan_queue_depth", "gauge", "Delegations due for a scan now.");
	sample(f, "cdscan_queue_depth", NULL, NULL, NULL, NULL, g->due);
	family(f, "cdscan_oldest_due_seconds", "gauge",
	       "How long the longest-waiting due delegation has been due, in seconds (0: none is "
	       "due).");
	fprintf(f, "cdscan_oldest_due_seconds %.3f\n", g->oldest_due_s > 0 ? g->oldest_due_s : 0);
	family(f, "cdscan_change_sets", "gauge", "Change sets, by state.");
	for (size_t i = 0; i < g->state_count && i < CDS_DB_MAX_STATES; i++)
		sample(f, "cdscan_change_sets", "state", g->states[i].name, NULL, NULL,
		       g->states[i].count);
	family(f, "cdscan_suspended_delegations", "gauge",
	       "Delegations whose automation is suspended.");
	sample(f, "cdscan_suspended_delegations", NULL, NULL, NULL, NULL, g->suspended);
}

static void render_info(const struct cds_metrics *m, FILE *f)
{
	family(f, "cdscan_build_info", "gauge", "The cdscan version running (the value is 1).");
	sample(f, "cdscan_build_info", "version", CDSCAN_VERSION, NULL, NULL, 1);
	family(f, "cdscan_start_time_seconds", "gauge",
	       "When the process started, in seconds since the Unix epoch.");
	fprintf(f, "cdscan_start_time_seconds %.3f\n", m->start_time);
}

int cds_metrics_render(const struct cds_metrics *m, const struct cds_db_gauges *g, FILE *f)
{
	render_scans(m, f);
	render_plain(m, f);
	render_decide(m, f);
	render_notify(m, f);
	render_gauges(g, f);
	render_info(m, f);
	return ferror(f) ? CDS_ENOMEM : 0;
}
