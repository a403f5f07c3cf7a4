/* RFC 9859 NOTIFY intake: from a message to a place in the queue of
 * delegations scanned out of turn.  A NOTIFY is a hint, never data: it is
 * answered, rate-limited and queued, and the scan it leads to is the same
 * scan as any other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "daemon_internal.h"

#define RCODE_SERVFAIL 2

int intake_setup(struct daemon *d)
{
	const struct cds_conf *c = d->conf;
	struct cds_buckets *src, *all, *dom = NULL;
	src = cds_buckets_new(c->daemon.notify.source_rate, c->daemon.notify.source_burst,
			      c->daemon.notify.max_tracked);
	all = cds_buckets_new(c->daemon.notify.rate, c->daemon.notify.rate, 1);
	/* domain-interval 0: no limit per domain. */
	if (c->daemon.notify.domain_interval_ms > 0)
		dom = cds_buckets_new(1000.0 / (double)c->daemon.notify.domain_interval_ms,
				      c->daemon.notify.domain_burst, c->daemon.notify.max_tracked);
	if (!src || !all || (c->daemon.notify.domain_interval_ms > 0 && !dom)) {
		/* The listener goes on with the buckets it has. */
		cds_buckets_free(src);
		cds_buckets_free(all);
		cds_buckets_free(dom);
		return CDS_ENOMEM;
	}
	intake_free(d);
	d->by_source = src;
	d->everyone = all;
	d->by_domain = dom;
	return 0;
}

void intake_free(struct daemon *d)
{
	cds_buckets_free(d->by_source);
	cds_buckets_free(d->by_domain);
	cds_buckets_free(d->everyone);
	d->by_source = d->by_domain = d->everyone = NULL;
}

static void count_qtype(struct daemon *d, uint16_t qtype)
{
	cds_metrics_notify_received(d->metrics, qtype);
	int i = qtype == CDS_T_CDS ? 0 : qtype == CDS_T_CDNSKEY ? 1 : qtype == CDS_T_CSYNC ? 2 : 3;
	d->in.received[i]++;
}

static void kick_cb(uv_timer_t *t)
{
	intake_claim(t->data);
}

/* Queue name for an out-of-turn scan, not before now + delay (the
 * caller has made sure it is not queued yet). */
static void enqueue(struct daemon *d, const char *name, double now, double delay)
{
	struct pending *p;
	if (d->npending >= d->conf->daemon.notify.max_pending || !(p = calloc(1, sizeof(*p)))) {
		d->in.limited_queue++;
		cds_metrics_notify_rate_limited(d->metrics, CDS_METRICS_BY_QUEUE);
		return;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->since = now;
	p->not_before = now + delay;
	HASH_ADD_STR(d->pending, name, p);
	d->npending++;
	d->in.accepted++;
	cds_metrics_notify_accepted(d->metrics);
	/* Claimed on the next turn of the loop, with whatever else came in
	 * the same turn. */
	if (!uv_is_active((uv_handle_t *)&d->kick))
		uv_timer_start(&d->kick, kick_cb, 0, 0);
}

/* A well-formed NOTIFY(CDS|CDNSKEY|CSYNC): is it ours, and may it cost a
 * scan now?  Returns the rcode. */
static int accept_notify(struct daemon *d, const struct cds_notify_req *req, double now)
{
	char err[300];
	bool found = false;
	struct pending *p;
	/* With registry profiles the parent's namespace is theirs: a name
	 * under none of them is not a zone this parent is authoritative for. */
	if (d->conf->registry_count > 0 && !cds_conf_registry_for(d->conf, req->qname))
		return CDS_RCODE_NOTAUTH;
	/* Queued already: nothing to ask the store, nothing more to do. */
	HASH_FIND_STR(d->pending, req->qname, p);
	if (p) {
		d->in.coalesced++;
		return CDS_RCODE_NOERROR;
	}
	bool limited = d->by_domain &&
		       !cds_buckets_take(d->by_domain, req->qname, strlen(req->qname), now);
	if (!d->db || cds_db_has_domain(d->db, req->qname, &found, err, sizeof(err)) != 0) {
		d->in.servfail++;
		return RCODE_SERVFAIL; /* the sender retries (RFC 1996 §3.6) */
	}
	if (!found)
		return CDS_RCODE_REFUSED;
	if (limited) {
		/* Acknowledged (the sender must not retry), and not lost: the
		 * scan happens once the domain's interval has passed, so that a
		 * sender who spends a domain's tokens cannot hide the operator's
		 * own NOTIFY. */
		d->in.limited_domain++;
		cds_metrics_notify_rate_limited(d->metrics, CDS_METRICS_BY_DOMAIN);
		enqueue(d, req->qname, now, (double)d->conf->daemon.notify.domain_interval_ms / 1000.0);
		return CDS_RCODE_NOERROR;
	}
	enqueue(d, req->qname, now, 0);
	return CDS_RCODE_NOERROR;
}

static void count_rcode(struct daemon *d, int rc)
{
	if (rc != CDS_RCODE_NOERROR)
		cds_metrics_notify_refused(d->metrics, (unsigned)rc);
	if (rc == CDS_RCODE_REFUSED)
		d->in.refused++;
	else if (rc == CDS_RCODE_NOTAUTH)
		d->in.notauth++;
	else if (rc == CDS_RCODE_FORMERR)
		d->in.formerr++;
	else if (rc == CDS_RCODE_NOTIMP)
		d->in.notimp++;
}

size_t intake_message(const uint8_t *wire, size_t len, const struct sockaddr *src, uint8_t *out,
		      void *arg)
{
	struct daemon *d = arg;
	struct cds_notify_req req;
	uint8_t key[17];
	double now = daemon_now();
	int rc = cds_notify_parse(wire, len, &req);
	if (rc == CDS_NOTIFY_DROP || d->stopping) {
		d->in.dropped++;
		return 0;
	}
	if (rc != CDS_RCODE_NOTIMP)
		count_qtype(d, req.qtype);
	/* Limits first: a flood costs a hash look-up per message, never a
	 * query to the store, and gets no answer (no reflection). */
	size_t klen = cds_notify_source_key(src, d->conf->daemon.notify.source_prefix4,
					    d->conf->daemon.notify.source_prefix6, key);
	if (!cds_buckets_take(d->by_source, key, klen, now)) {
		d->in.limited_source++;
		cds_metrics_notify_rate_limited(d->metrics, CDS_METRICS_BY_SOURCE);
		return 0;
	}
	if (!cds_buckets_take(d->everyone, "", 0, now)) {
		d->in.limited_global++;
		cds_metrics_notify_rate_limited(d->metrics, CDS_METRICS_BY_EVERYONE);
		return 0;
	}
	if (rc == CDS_RCODE_NOERROR)
		rc = accept_notify(d, &req, now);
	count_rcode(d, rc);
	return cds_notify_answer(&req, rc, out);
}

/* Take up to max queued names whose time has come, in queue order. */
static size_t due_names(struct daemon *d, double now, struct pending **out, size_t max)
{
	struct pending *p, *tmp;
	size_t n = 0;
	HASH_ITER(hh, d->pending, p, tmp) {
		if (n == max)
			break;
		if (p->not_before <= now)
			out[n++] = p;
	}
	return n;
}

/* After the claim: claimed ones leave the queue; one a scanner holds is
 * tried again in a second, until its lease must have ended. */
static void settle(struct daemon *d, struct pending **v, const bool *claimed, size_t n,
		   double now)
{
	unsigned max_tries = (unsigned)(d->conf->scan.lease_ms / 1000) + 1;
	for (size_t i = 0; i < n; i++) {
		struct pending *p = v[i];
		HASH_DEL(d->pending, p);
		if (!claimed[i] && ++p->tries <= max_tries) {
			p->not_before = now + 1.0;
			HASH_ADD_STR(d->pending, name, p); /* to the end */
			continue;
		}
		if (claimed[i])
			d->in.claimed++;
		else
			d->in.given_up++;
		free(p);
		d->npending--;
	}
}

void intake_claim(struct daemon *d)
{
	struct cds_pipeline_stats ps;
	size_t max = d->conf->scan.batch_size;
	/* NOTIFY-driven scans take at most daemon.notify.max-scans of the
	 * scan.concurrency slots, queued ones counted: the rest are the
	 * schedule's, whatever the NOTIFYs (what waits stays in the bounded,
	 * coalescing queue). */
	if (d->pipeline) {
		cds_pipeline_stats(d->pipeline, &ps);
		size_t cap = d->conf->daemon.notify.max_scans;
		size_t room = ps.urgent_active < cap ? cap - (size_t)ps.urgent_active : 0;
		if (room < max)
			max = room;
	}
	if (max == 0)
		return;
	struct pending **v = calloc(max, sizeof(*v));
	const char **names = calloc(max, sizeof(*names));
	bool *claimed = calloc(max, sizeof(*claimed));
	double now = daemon_now();
	size_t n = 0;
	if (v && names && claimed && d->pipeline && !d->stopping && !d->reloading)
		n = due_names(d, now, v, max);
	for (size_t i = 0; i < n; i++)
		names[i] = v[i]->name;
	if (n > 0 && cds_pipeline_urgent(d->pipeline, names, n, claimed) == 0)
		settle(d, v, claimed, n, now);
	free(v);
	free(names);
	free(claimed);
}
