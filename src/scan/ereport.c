/* RFC 9567 error reporting: what the scan rejects about a child's DNSSEC
 * data is reported, as a TXT query through the resolver, to the agent
 * domain the child's nameservers name in their Report-Channel option;
 * each report once per error-reporting.dedup-window, at most
 * error-reporting.per-agent-rate a minute per agent.  Sent on the loop and
 * never waited for: the decision does not depend on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "scan_internal.h"

#define AGENT_BUCKETS 1024u
#define SEEN_BUCKETS 16384u

/* One agent domain's token bucket. */
struct er_agent {
	char name[CDS_DNAME_BUFSIZE];
	double tokens;       /* reports it may get now */
	uint64_t at_ms;      /* when tokens was last brought up to date */
	struct er_agent *next;
};

/* A report sent, remembered until its window ends (the hash of its QNAME,
 * which holds the name, type, code and agent). */
struct er_seen {
	uint64_t hash;
	uint64_t until_ms;
	struct er_seen *next;
};

struct ereporter {
	uint32_t rate;          /* error-reporting.per-agent-rate (a minute) */
	uint32_t max_agents;
	uint32_t max_remembered;
	uint64_t window_ms;
	struct er_agent *agents[AGENT_BUCKETS];
	size_t agent_count;
	struct er_seen *seen[SEEN_BUCKETS];
	size_t seen_count;
};

static uint64_t hash64(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(1099511628211);
	return h;
}

struct ereporter *ereporter_new(const struct cds_conf *conf)
{
	struct ereporter *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->rate = conf->error_reporting.per_agent_rate;
	r->max_agents = conf->error_reporting.max_agents;
	r->max_remembered = conf->error_reporting.max_remembered;
	r->window_ms = conf->error_reporting.dedup_window_ms;
	return r;
}

void ereporter_free(struct ereporter *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < AGENT_BUCKETS; i++)
		for (struct er_agent *a = r->agents[i], *n; a; a = n) {
			n = a->next;
			free(a);
		}
	for (size_t i = 0; i < SEEN_BUCKETS; i++)
		for (struct er_seen *e = r->seen[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(r);
}

/* Bring a bucket up to now: rate tokens a minute, never more than rate. */
static void refill(const struct ereporter *r, struct er_agent *a, uint64_t now_ms)
{
	if (now_ms > a->at_ms)
		a->tokens += (double)(now_ms - a->at_ms) * r->rate / 60000.0;
	if (a->tokens > r->rate)
		a->tokens = r->rate;
	a->at_ms = now_ms;
}

/* Forget agents whose bucket is full again (nothing to remember). */
static void sweep_agents(struct ereporter *r, uint64_t now_ms)
{
	for (size_t i = 0; i < AGENT_BUCKETS; i++)
		for (struct er_agent **p = &r->agents[i]; *p;) {
			refill(r, *p, now_ms);
			if ((*p)->tokens < r->rate) {
				p = &(*p)->next;
				continue;
			}
			struct er_agent *gone = *p;
			*p = gone->next;
			free(gone);
			r->agent_count--;
		}
}

/* The bucket of agent, made when there is room (NULL: none). */
static struct er_agent *agent_get(struct ereporter *r, const char *agent, uint64_t now_ms)
{
	struct er_agent **head = &r->agents[hash64(agent) % AGENT_BUCKETS];
	for (struct er_agent *a = *head; a; a = a->next)
		if (strcmp(a->name, agent) == 0)
			return a;
	if (r->agent_count >= r->max_agents)
		sweep_agents(r, now_ms);
	struct er_agent *a = r->agent_count < r->max_agents ? calloc(1, sizeof(*a)) : NULL;
	if (!a)
		return NULL;
	snprintf(a->name, sizeof(a->name), "%s", agent);
	a->tokens = r->rate;
	a->at_ms = now_ms;
	a->next = *head;
	*head = a;
	r->agent_count++;
	return a;
}

/* Drop what the windows no longer cover from one chain (all: every chain). */
static void sweep_seen(struct ereporter *r, size_t from, size_t to, uint64_t now_ms)
{
	for (size_t i = from; i < to; i++)
		for (struct er_seen **p = &r->seen[i]; *p;) {
			if ((*p)->until_ms > now_ms) {
				p = &(*p)->next;
				continue;
			}
			struct er_seen *gone = *p;
			*p = gone->next;
			free(gone);
			r->seen_count--;
		}
}

/* Was the report sent within its window? */
static bool seen_recently(struct ereporter *r, uint64_t h, uint64_t now_ms)
{
	size_t b = h % SEEN_BUCKETS;
	sweep_seen(r, b, b + 1, now_ms);
	for (struct er_seen *e = r->seen[b]; e; e = e->next)
		if (e->hash == h)
			return true;
	return false;
}

/* Remember a report for the window; false when there is no room. */
static bool remember(struct ereporter *r, uint64_t h, uint64_t now_ms)
{
	if (r->window_ms == 0)
		return true;
	if (r->seen_count >= r->max_remembered)
		sweep_seen(r, 0, SEEN_BUCKETS, now_ms);
	struct er_seen *e = r->seen_count < r->max_remembered ? malloc(sizeof(*e)) : NULL;
	if (!e)
		return false;
	size_t b = h % SEEN_BUCKETS;
	*e = (struct er_seen){.hash = h, .until_ms = now_ms + r->window_ms, .next = r->seen[b]};
	r->seen[b] = e;
	r->seen_count++;
	return true;
}

enum er_admit ereporter_admit(struct ereporter *r, const char *agent, const char *qname,
			      uint64_t now_ms)
{
	uint64_t h = hash64(qname);
	if (r->window_ms && seen_recently(r, h, now_ms))
		return ER_DUPLICATE;
	struct er_agent *a = agent_get(r, agent, now_ms);
	if (!a)
		return ER_FULL;
	refill(r, a, now_ms);
	if (a->tokens < 1.0)
		return ER_RATE;
	/* Out of room to remember it: not sent, so that it is never
	 * repeated within its window. */
	if (!remember(r, h, now_ms))
		return ER_FULL;
	a->tokens -= 1.0;
	return ER_SEND;
}

/* ------------------------------------------------------ sending --- */

static void deferred_free_cb(void *arg)
{
	cds_scanner_free(arg);
}

static void report_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct cds_scanner *s = arg;
	(void)wire;
	(void)len;
	/* The agent's answer says nothing cdscan acts on (RFC 9567 §6.1.1):
	 * only whether the resolver answered is counted. */
	if (status != 0)
		s->reports.failed++;
	/* Freed on the next loop turn: the transport is inside this call.
	 * (Without memory for that, the scanner is left, not freed under
	 * the transport's feet.) */
	if (--s->reports_inflight == 0 && s->free_when_idle)
		(void)scan_defer(s->loop, deferred_free_cb, s);
}

/* Send one report, or count why not. */
static void report_one(struct cds_scanner *s, const char *domain, const char *agent,
		       const struct cds_error_report *rep)
{
	char qname[CDS_DNAME_BUFSIZE];
	if (cds_error_report_qname(domain, rep->qtype, rep->ede, agent, qname) != 0) {
		s->reports.unsendable++; /* too long, or about the agent's own names */
		return;
	}
	switch (ereporter_admit(s->reporter, agent, qname, uv_now(s->loop))) {
	case ER_DUPLICATE:
		s->reports.duplicates++;
		return;
	case ER_RATE:
	case ER_FULL:
		s->reports.rate_limited++;
		cds_log_debug("%s: error report to %s suppressed (error-reporting.per-agent-rate, "
			      "max-agents, max-remembered)",
			      domain, agent);
		return;
	case ER_SEND:
		break;
	}
	/* The query is out once sent: the resolver resolves it, and the agent
	 * hears of it, whether or not cdscan still waits (error-reporting.
	 * timeout only bounds how long a finished command waits). */
	if (cds_transport_query_timeout(s->transport, &s->resolvers[0], qname, 16 /* TXT */,
					CDS_QUERY_RD | CDS_QUERY_ONCE, s->report_timeout_ms,
					report_answer_cb, s) != 0) {
		s->reports.failed++;
		return;
	}
	s->reports_inflight++;
	s->reports.sent++;
	cds_log_info("%s: %s rejected: reported to %s (RFC 9567: %s)", domain,
		     cds_reason_code(rep->reason), agent, qname);
}

void cds_scanner_report_errors(struct cds_scanner *s, const struct cds_scan_result *res,
			       const struct cds_verdict *v)
{
	if (!s->reporter || !res || !v)
		return;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *srv = &res->servers[i];
		bool earlier = false;
		if (!srv->report_agent[0])
			continue;
		for (size_t k = 0; k < i && !earlier; k++)
			earlier = strcmp(res->servers[k].report_agent, srv->report_agent) == 0;
		if (earlier)
			continue; /* one agent, one report of each error */
		struct cds_error_report reps[CDS_KIND_COUNT];
		size_t n = cds_policy_error_reports(v, srv, res->scanned_at, reps);
		for (size_t r = 0; r < n; r++)
			report_one(s, v->domain, srv->report_agent, &reps[r]);
	}
}
