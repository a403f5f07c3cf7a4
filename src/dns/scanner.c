/* The scan engine: NS address look-ups through the resolver (cached for the
 * run), then six queries to every nameserver address, answers judged and
 * collected per address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/scan.h"
#include "cdscan/transport.h"
#include "cdscan/zone.h"
#include "trust.h"

#define CACHE_BUCKETS 16384u
#define MAX_RESOLVERS 8

static const uint16_t query_types[CDS_Q_COUNT] = {
	[CDS_Q_SOA] = CDS_T_SOA,     [CDS_Q_DNSKEY] = CDS_T_DNSKEY,
	[CDS_Q_CDS] = CDS_T_CDS,     [CDS_Q_CDNSKEY] = CDS_T_CDNSKEY,
	[CDS_Q_CSYNC] = CDS_T_CSYNC, [CDS_Q_NS] = CDS_T_NS,
};

uint16_t cds_query_type(enum cds_query_kind kind)
{
	return query_types[kind];
}

/* A caller waiting for a name's addresses. */
struct waiter {
	cds_resolve_cb cb;
	void *arg;
	struct waiter *next;
};

/* The addresses of one NS name, looked up once per run. */
struct cache_entry {
	char name[CDS_DNAME_BUFSIZE];
	struct cache_entry *next;
	bool done;
	int status;
	int outstanding; /* A and AAAA queries not yet answered */
	size_t count;
	struct cds_addr addrs[CDS_NS_MAX_ADDRS];
	struct waiter *waiters;
};

struct cds_scanner {
	uv_loop_t *loop;
	struct cds_transport *transport;
	struct cds_addr resolvers[MAX_RESOLVERS];
	size_t resolver_count;
	struct cache_entry **cache;
	uint64_t scans;
	bool csync; /* policy.csync: collect what CSYNC processing needs */
	bool bootstrap;   /* policy.bootstrap.authenticated: RFC 9615 signals */
	bool after_delay; /* policy.bootstrap.accept-after-delay: signals over TCP */
	struct cds_trust *trust;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Read "nameserver ADDR" lines of /etc/resolv.conf. */
static size_t system_resolvers(struct cds_addr *out, size_t max)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[512];
	size_t n = 0;
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    cds_addr_parse(addr, 53, &out[n]) == 0)
			n++;
	}
	fclose(f);
	return n;
}

int cds_scanner_new(uv_loop_t *loop, const struct cds_conf *conf, const char *const *resolvers,
		    size_t resolver_count, struct cds_scanner **out)
{
	struct cds_scanner *s = calloc(1, sizeof(*s));
	if (!s)
		return CDS_ENOMEM;
	s->loop = loop;
	s->csync = conf->policy.csync;
	s->bootstrap = conf->policy.bootstrap_authenticated;
	s->after_delay = conf->policy.bootstrap_after_delay;
	if (!resolvers || resolver_count == 0) {
		resolvers = (const char *const *)conf->resolver.addresses;
		resolver_count = conf->resolver.address_count;
	}
	for (size_t i = 0; i < resolver_count && s->resolver_count < MAX_RESOLVERS; i++)
		if (cds_addr_parse(resolvers[i], 53, &s->resolvers[s->resolver_count]) == 0)
			s->resolver_count++;
	if (s->resolver_count == 0)
		s->resolver_count = system_resolvers(s->resolvers, MAX_RESOLVERS);
	if (s->resolver_count == 0) {
		free(s);
		return CDS_ECONFIG;
	}
	s->cache = calloc(CACHE_BUCKETS, sizeof(*s->cache));
	struct cds_transport_opts o = {
		.max_inflight = conf->scan.max_queries,
		.per_server_inflight = conf->scan.per_server_queries,
		.per_server_qps = conf->scan.per_server_qps,
		.timeout_ms = conf->scan.timeout_ms,
		.rd_timeout_ms = conf->resolver.timeout_ms,
		.retries = conf->scan.retries,
		.tcp_only = conf->scan.transport == CDS_TRANSPORT_TCP,
		.edns_size = (uint16_t)conf->scan.edns_buffer_size,
	};
	if (!s->cache || cds_transport_new(loop, &o, &s->transport) != 0) {
		free(s->cache);
		free(s);
		return CDS_ENOMEM;
	}
	s->trust = cds_trust_new(loop, s->transport, &s->resolvers[0]);
	if (!s->trust) {
		cds_transport_free(s->transport);
		free(s->cache);
		free(s);
		return CDS_ENOMEM;
	}
	*out = s;
	return 0;
}

int cds_scanner_trust_anchor(struct cds_scanner *s, const char *path, char *err, size_t errlen)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	struct cds_ds ds[16];
	char owner[CDS_DNAME_BUFSIZE] = "";
	size_t n = 0;
	int r = cds_zone_open(path, ".", &z, err, errlen);
	if (r != 0)
		return CDS_EDATA;
	while ((r = cds_zone_next(z, &rr, err, errlen)) == 1) {
		if (rr.type != CDS_T_DS && rr.type != CDS_T_DNSKEY)
			continue;
		if (owner[0] && strcmp(owner, rr.owner) != 0) {
			snprintf(err, errlen, "%s:%u: trust anchors for two zones (%s and %s)", rr.file,
				 rr.line, owner, rr.owner);
			r = CDS_EDATA;
			break;
		}
		snprintf(owner, sizeof(owner), "%s", rr.owner);
		if (n < 16)
			ds[n++] = rr.ds;
	}
	cds_zone_close(z);
	if (r == 0 && n == 0) {
		snprintf(err, errlen, "%s: no DS or DNSKEY record", path);
		r = CDS_EDATA;
	}
	if (r != 0)
		return CDS_EDATA;
	return cds_trust_set_anchor(s->trust, owner, ds, n);
}

int cds_scanner_bootstrap_anchor(struct cds_scanner *s, const struct cds_conf *conf,
				 const char *path, char *err, size_t errlen)
{
	if (!conf->policy.bootstrap_authenticated)
		return 0;
	if (!path)
		path = conf->resolver.trust_anchor;
	char why[400];
	int r = path ? cds_scanner_trust_anchor(s, path, why, sizeof(why)) : CDS_EDATA;
	if (r != 0)
		snprintf(err, errlen,
			 "the trust anchor for RFC 9615 signals: %s (--trust-anchor, "
			 "resolver.trust-anchor; or policy.bootstrap.authenticated: false)",
			 path ? why : "none set");
	return r;
}

void cds_scanner_counts(const struct cds_scanner *s, uint64_t *queries, uint64_t *answers)
{
	struct cds_transport_stats st;
	cds_transport_stats(s->transport, &st);
	*queries = st.sent;
	*answers = st.answers;
}

uint64_t cds_scanner_tcp_fallbacks(const struct cds_scanner *s)
{
	struct cds_transport_stats st;
	cds_transport_stats(s->transport, &st);
	return st.tcp_fallbacks;
}

void cds_scanner_free(struct cds_scanner *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct cache_entry *e = s->cache[i];
		while (e) {
			struct cache_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(s->cache);
	cds_trust_free(s->trust);
	cds_transport_free(s->transport);
	free(s);
}

/* ---------------------------------------------------- address look-up --- */

struct resolve_q {
	struct cds_scanner *s;
	struct cache_entry *e;
	uint16_t type;
};

static void resolve_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct resolve_q *rq = arg;
	struct cache_entry *e = rq->e;
	struct cds_answer_info info;
	struct cds_rrset set;

	if (status == 0 && cds_answer_parse(wire, len, e->name, rq->type, &info, &set) == 0) {
		for (size_t i = 0; i < set.count && e->count < CDS_NS_MAX_ADDRS; i++)
			if (cds_addr_from_rdata(set.rdata[i].data, set.rdata[i].len, 53,
						&e->addrs[e->count]) == 0)
				e->count++;
		cds_rrset_clear(&set);
	} else if (status != 0) {
		e->status = status;
	}
	free(rq);
	if (--e->outstanding > 0)
		return;
	e->done = true;
	if (e->count > 0)
		e->status = 0;
	else if (e->status == 0)
		e->status = CDS_ENOENT;
	struct waiter *w = e->waiters;
	e->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;
		w->cb(e->status, e->addrs, e->count, w->arg);
		free(w);
		w = next;
	}
}

/* A cached answer delivered from a 0 ms timer. */
struct deferred {
	uv_timer_t timer;
	struct cache_entry *e;
	struct waiter *w;
};

static void deferred_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void deferred_cb(uv_timer_t *t)
{
	struct deferred *d = t->data;
	d->w->cb(d->e->status, d->e->addrs, d->e->count, d->w->arg);
	free(d->w);
	uv_close((uv_handle_t *)t, deferred_close_cb);
}

int cds_scanner_resolve(struct cds_scanner *s, const char *name, cds_resolve_cb cb, void *arg)
{
	uint32_t b = name_hash(name) % CACHE_BUCKETS;
	struct cache_entry *e = s->cache[b];
	while (e && strcmp(e->name, name) != 0)
		e = e->next;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return CDS_ENOMEM;
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->next = s->cache[b];
		s->cache[b] = e;
		static const uint16_t types[2] = {CDS_T_A, CDS_T_AAAA};
		for (int i = 0; i < 2; i++) {
			struct resolve_q *rq = malloc(sizeof(*rq));
			if (!rq)
				return CDS_ENOMEM;
			*rq = (struct resolve_q){.s = s, .e = e, .type = types[i]};
			e->outstanding++;
			int r = cds_transport_query(s->transport, &s->resolvers[0], name, types[i],
						    CDS_QUERY_RD, resolve_answer_cb, rq);
			if (r != 0) {
				free(rq);
				e->outstanding--;
				e->status = r;
			}
		}
		if (e->outstanding == 0) {
			e->done = true;
			if (e->status == 0)
				e->status = CDS_EINTERNAL;
		}
	}
	struct waiter *w = malloc(sizeof(*w));
	if (!w)
		return CDS_ENOMEM;
	*w = (struct waiter){.cb = cb, .arg = arg, .next = NULL};
	if (!e->done) {
		w->next = e->waiters;
		e->waiters = w;
		return 0;
	}
	/* Cached: answer on the next loop turn, never from inside this call
	 * (the callback contract of transport.h). */
	struct deferred *d = malloc(sizeof(*d));
	if (!d) {
		free(w);
		return CDS_ENOMEM;
	}
	d->e = e;
	d->w = w;
	uv_timer_init(s->loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, deferred_cb, 0, 0);
	return 0;
}

/* --------------------------------------------------- one delegation --- */

struct job;

/* One query of a job: which server, which kind. */
struct job_query {
	struct job *job;
	size_t server;
	enum cds_query_kind kind;
};

struct job {
	struct cds_scanner *s;
	const struct cds_delegation *d;
	cds_scan_cb cb;
	void *arg;
	struct cds_scan_result *res;
	size_t resolving;            /* NS names being looked up */
	size_t pending;              /* queries not yet answered */
	int phase;                   /* enum job_phase */
	struct cds_addr (*addrs)[CDS_NS_MAX_ADDRS]; /* per NS: looked-up addresses */
	size_t *addr_count;
	int *resolve_status;
	struct job_query *queries;
};

/* The phases of one delegation's scan; the CSYNC phases run only when a
 * CSYNC is to be processed. */
enum job_phase {
	PHASE_APEX = 0, /* SOA DNSKEY CDS CDNSKEY CSYNC NS at every address */
	PHASE_CSYNC_DATA, /* NS, A, AAAA again (RFC 7477 §3.4: after the SOA) */
	PHASE_CSYNC_AFTER, /* the SOA again; probes of addresses a change adds */
	PHASE_BOOTSTRAP, /* RFC 9615 signals through the resolver, validated */
};

static void csync_data_free(struct cds_csync_data *c)
{
	if (!c)
		return;
	cds_rrset_clear(&c->ns);
	for (size_t h = 0; h < c->host_count; h++) {
		cds_rrset_clear(&c->hosts[h].a);
		cds_rrset_clear(&c->hosts[h].aaaa);
	}
	free(c->hosts);
	free(c);
}

void cds_scan_result_free(struct cds_scan_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->server_count; i++) {
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&res->servers[i].sets[k]);
		csync_data_free(res->servers[i].csync);
	}
	for (size_t i = 0; i < res->probe_count; i++)
		cds_rrset_clear(&res->probes[i].sets[CDS_Q_SOA]);
	for (size_t i = 0; i < res->signal_count; i++)
		for (int k = 0; k < 2; k++)
			cds_rrset_clear(&res->signals[i].sets[k]);
	free(res->signals);
	free(res->servers);
	free(res->probes);
	free(res);
}

static void job_free(struct job *j)
{
	free(j->addrs);
	free(j->addr_count);
	free(j->resolve_status);
	free(j->queries);
	free(j);
}

static void job_done(struct job *j)
{
	struct cds_scan_result *res = j->res;
	cds_scan_cb cb = j->cb;
	void *arg = j->arg;
	j->res = NULL;
	job_free(j);
	cb(res, arg);
}

static void server_fail(struct cds_server_result *srv, const char *why)
{
	if (!srv->ok)
		return; /* keep the first reason */
	srv->ok = false;
	snprintf(srv->error, sizeof(srv->error), "%s", why);
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED"};
	if (rcode >= 0 && rcode < 6)
		return names[rcode];
	return "unexpected RCODE";
}

void cds_server_take_answer(struct cds_server_result *srv, enum cds_query_kind kind,
			    const char *domain, int status, const uint8_t *wire, size_t len)
{
	static const char *const what[CDS_Q_COUNT] = {"SOA",     "DNSKEY", "CDS",
						      "CDNSKEY", "CSYNC",  "NS"};
	struct cds_answer_info info;
	struct cds_rrset *set = &srv->sets[kind];
	char msg[96];

	if (status != 0) {
		server_fail(srv, status == CDS_ETIMEDOUT	? "timeout"
				 : status == UV_ECONNREFUSED ? "connection refused"
							     : uv_strerror(status));
		return;
	}
	cds_rrset_clear(set);
	if (cds_answer_parse(wire, len, domain, query_types[kind], &info, set) != 0) {
		snprintf(msg, sizeof(msg), "malformed answer to %s", what[kind]);
		server_fail(srv, msg);
	} else if (info.rcode != 0 && info.rcode != 3) {
		snprintf(msg, sizeof(msg), "%s to %s", rcode_name(info.rcode), what[kind]);
		server_fail(srv, msg);
	} else if (!info.aa) {
		server_fail(srv, info.referral ? "lame: referral instead of an answer"
					       : "answer not authoritative (lame)");
	} else if (info.rcode == 3) {
		server_fail(srv, "NXDOMAIN for the zone apex (lame)");
	} else if (kind == CDS_Q_SOA) {
		if (set->count != 1)
			server_fail(srv, "no SOA at the zone apex (lame)");
		srv->soa_serial = info.soa_serial;
	}
}

static void job_next_phase(struct job *j);

static void query_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct job_query *q = arg;
	struct job *j = q->job;
	cds_server_take_answer(&j->res->servers[q->server], q->kind, j->d->domain, status, wire,
			       len);
	if (--j->pending == 0)
		job_next_phase(j);
}

/* Finish a job on the next loop turn: used when no query was sent, so that
 * the scan callback never runs from inside cds_scanner_scan. */
struct job_defer {
	uv_timer_t timer;
	struct job *job;
};

static void job_defer_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void job_defer_cb(uv_timer_t *t)
{
	struct job_defer *d = t->data;
	struct job *j = d->job;
	uv_close((uv_handle_t *)t, job_defer_close_cb);
	job_done(j);
}

static void job_done_later(struct job *j)
{
	struct job_defer *d = malloc(sizeof(*d));
	if (!d) {
		job_done(j); /* no memory for a timer: finish now */
		return;
	}
	d->job = j;
	uv_timer_init(j->s->loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, job_defer_cb, 0, 0);
}

/* Every NS name has its addresses (or none): build the server list and send
 * the queries. */
static void job_query_all(struct job *j)
{
	const struct cds_delegation *d = j->d;
	size_t n = 0;
	for (size_t i = 0; i < d->ns_count; i++) {
		size_t c = d->ns[i].addr_count ? d->ns[i].addr_count : j->addr_count[i];
		n += c ? c : 1;
	}
	struct cds_scan_result *res = j->res;
	res->servers = calloc(n ? n : 1, sizeof(*res->servers));
	j->queries = calloc((n ? n : 1) * CDS_Q_COUNT, sizeof(*j->queries));
	if (!res->servers || !j->queries) {
		/* Out of memory mid-scan: report no usable server rather than
		 * lose the delegation. */
		free(res->servers);
		res->servers = NULL;
		res->server_count = 0;
		job_done_later(j);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < d->ns_count; i++) {
		const struct cds_addr *addrs = d->ns[i].addr_count ? d->ns[i].addrs : j->addrs[i];
		size_t c = d->ns[i].addr_count ? d->ns[i].addr_count : j->addr_count[i];
		if (c == 0) {
			struct cds_server_result *srv = &res->servers[k++];
			snprintf(srv->name, sizeof(srv->name), "%s", d->ns[i].name);
			srv->ok = false;
			snprintf(srv->error, sizeof(srv->error), "no address for the NS name (%s)",
				 j->resolve_status[i] == CDS_ETIMEDOUT ? "resolver timeout"
				 : j->resolve_status[i] == CDS_ENOENT  ? "no A or AAAA"
								       : "look-up failed");
			continue;
		}
		for (size_t a = 0; a < c; a++) {
			struct cds_server_result *srv = &res->servers[k++];
			snprintf(srv->name, sizeof(srv->name), "%s", d->ns[i].name);
			srv->addr = addrs[a];
			srv->has_addr = true;
			srv->ok = true;
		}
	}
	res->server_count = k;
	/* Accept-after-delay needs the signal of an insecure delegation seen
	 * over TCP (RFC 8078 §3.3: harder to spoof than UDP). */
	unsigned signal_flags = CDS_QUERY_DO;
	if (d->ds_count == 0 && j->s->after_delay) {
		signal_flags |= CDS_QUERY_TCP;
		res->signal_over_tcp = true;
	}
	j->pending = 1; /* held while sending, so that no answer finishes the job */
	for (size_t i = 0; i < k; i++) {
		if (!res->servers[i].has_addr)
			continue;
		for (int kind = 0; kind < CDS_Q_COUNT; kind++) {
			struct job_query *q = &j->queries[i * CDS_Q_COUNT + (size_t)kind];
			*q = (struct job_query){.job = j, .server = i, .kind = kind};
			unsigned fl = kind == CDS_Q_CDS || kind == CDS_Q_CDNSKEY ? signal_flags
										 : CDS_QUERY_DO;
			int r = cds_transport_query(j->s->transport, &res->servers[i].addr, d->domain,
						    query_types[kind], fl, query_answer_cb, q);
			if (r != 0)
				server_fail(&res->servers[i], "query could not be sent");
			else
				j->pending++;
		}
	}
	if (--j->pending == 0)
		job_done_later(j);
}

/* ------------------------------------------------ CSYNC processing --- */

/* One query of the CSYNC phases. */
struct csync_q {
	struct job *job;
	size_t server;       /* index in servers, or in probes for XQ_PROBE */
	enum { XQ_NS, XQ_A, XQ_AAAA, XQ_SOA_AFTER, XQ_PROBE } what;
	size_t host;
};

/* Mark c unusable with "what: detail" (or "what"), keeping the first. */
static void csync_fail(struct cds_csync_data *c, const char *what, const char *detail)
{
	if (!c->ok)
		return;
	c->ok = false;
	int n = snprintf(c->error, sizeof(c->error), "%.*s", (int)sizeof(c->error) - 1, what);
	if (detail && n > 0 && (size_t)n + 3 < sizeof(c->error))
		snprintf(c->error + n, sizeof(c->error) - (size_t)n, ": %.*s",
			 (int)(sizeof(c->error) - (size_t)n - 3), detail);
}

/* Judge an answer for a name in the child zone (NS at the apex, A/AAAA of a
 * host): usable data, or NODATA/NXDOMAIN as an empty set. */
static void csync_take(struct cds_csync_data *c, struct cds_rrset *set, const char *qname,
		       uint16_t type, int status, const uint8_t *wire, size_t len)
{
	const char *tname = type == CDS_T_NS ? "NS" : type == CDS_T_A ? "A" : "AAAA";
	struct cds_answer_info info;
	char what[CDS_DNAME_BUFSIZE + 8];
	snprintf(what, sizeof(what), "%s %s", tname, qname);
	cds_rrset_clear(set);
	if (status != 0) {
		csync_fail(c, what, status == CDS_ETIMEDOUT ? "timeout" : uv_strerror(status));
	} else if (cds_answer_parse(wire, len, qname, type, &info, set) != 0) {
		csync_fail(c, what, "malformed answer");
	} else if (info.rcode != 0 && info.rcode != 3) {
		csync_fail(c, what, rcode_name(info.rcode));
	} else if (!info.aa) {
		csync_fail(c, what,
			   info.referral ? "below a zone cut (not the child's data)"
					 : "answer not authoritative");
	}
	set->present = true;
}

static void csync_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct csync_q *q = arg;
	struct job *j = q->job;
	struct cds_scan_result *res = j->res;
	if (q->what == XQ_PROBE) {
		struct cds_server_result *p = &res->probes[q->server];
		cds_server_take_answer(p, CDS_Q_SOA, j->d->domain, status, wire, len);
	} else {
		struct cds_server_result *srv = &res->servers[q->server];
		struct cds_csync_data *c = srv->csync;
		if (q->what == XQ_NS) {
			csync_take(c, &c->ns, j->d->domain, CDS_T_NS, status, wire, len);
		} else if (q->what == XQ_A || q->what == XQ_AAAA) {
			struct cds_csync_host *h = &c->hosts[q->host];
			csync_take(c, q->what == XQ_A ? &h->a : &h->aaaa, h->name,
				   q->what == XQ_A ? CDS_T_A : CDS_T_AAAA, status, wire, len);
		} else {
			/* The SOA after the data: judged like the first one, into a
			 * scratch result so that the apex answers stay as they were. */
			struct cds_server_result tmp;
			memset(&tmp, 0, sizeof(tmp));
			tmp.ok = true;
			cds_server_take_answer(&tmp, CDS_Q_SOA, j->d->domain, status, wire, len);
			if (tmp.ok) {
				c->soa_after = true;
				c->soa_serial_after = tmp.soa_serial;
			} else {
				csync_fail(c, "SOA after the data", tmp.error);
			}
			cds_rrset_clear(&tmp.sets[CDS_Q_SOA]);
		}
	}
	free(q);
	if (--j->pending == 0)
		job_next_phase(j);
}

static int csync_send(struct job *j, const struct cds_addr *to, const char *qname,
		      uint16_t type, size_t server, int what, size_t host)
{
	struct csync_q *q = malloc(sizeof(*q));
	if (!q)
		return CDS_ENOMEM;
	*q = (struct csync_q){.job = j, .server = server, .what = what, .host = host};
	int r = cds_transport_query(j->s->transport, to, qname, type, CDS_QUERY_DO,
				    csync_answer_cb, q);
	if (r != 0) {
		free(q);
		return r;
	}
	j->pending++;
	return 0;
}

/* The CSYNC every server serves, when CSYNC processing has data to fetch:
 * every address usable and serving the same single, parsable record.
 * Otherwise the decision rejects (or does nothing) without more data. */
static bool csync_wanted(const struct job *j, struct cds_csync *out)
{
	const struct cds_scan_result *res = j->res;
	if (!j->s->csync || res->server_count == 0)
		return false;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *srv = &res->servers[i];
		if (!srv->ok || srv->sets[CDS_Q_CSYNC].count != 1 ||
		    !cds_rrset_equal(&srv->sets[CDS_Q_CSYNC], &res->servers[0].sets[CDS_Q_CSYNC]))
			return false;
	}
	/* Only what the decision would act on: a secure delegation, known
	 * flags with immediate set, only NS/A/AAAA in the bitmap. */
	const struct cds_rdata *rd = &res->servers[0].sets[CDS_Q_CSYNC].rdata[0];
	return j->d->ds_count > 0 && cds_csync_parse(rd->data, rd->len, out) == 0 &&
	       (out->flags & CDS_CSYNC_IMMEDIATE) &&
	       !(out->flags & ~(CDS_CSYNC_IMMEDIATE | CDS_CSYNC_SOAMINIMUM)) && !out->other_type &&
	       (out->ns || out->a || out->aaaa);
}

/* Add name to a host list unless present or out of bailiwick. */
static int host_add(struct cds_csync_data *c, const char *name, const char *zone)
{
	if (!cds_dname_is_subdomain(name, zone))
		return 0;
	for (size_t h = 0; h < c->host_count; h++)
		if (strcmp(c->hosts[h].name, name) == 0)
			return 0;
	struct cds_csync_host *n = realloc(c->hosts, (c->host_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	c->hosts = n;
	memset(&n[c->host_count], 0, sizeof(*n));
	snprintf(n[c->host_count].name, sizeof(n->name), "%s", name);
	c->host_count++;
	return 0;
}

/* Phase 2: at every address, NS again and A/AAAA of the in-bailiwick names
 * of the child's NS set (and the parent's, for glue-only updates). */
static void csync_fetch(struct job *j, const struct cds_csync *cs)
{
	struct cds_scan_result *res = j->res;
	const struct cds_delegation *d = j->d;
	for (size_t i = 0; i < res->server_count; i++) {
		struct cds_server_result *srv = &res->servers[i];
		struct cds_csync_data *c = calloc(1, sizeof(*c));
		if (!c)
			continue; /* no data: the decision rejects */
		srv->csync = c;
		c->ok = true;
		if (cs->a || cs->aaaa) {
			const struct cds_rrset *ns = &srv->sets[CDS_Q_NS];
			for (size_t k = 0; k < ns->count; k++) {
				char name[CDS_DNAME_BUFSIZE];
				if (cds_dname_from_wire(ns->rdata[k].data, ns->rdata[k].len, name) ==
					    0 &&
				    host_add(c, name, d->domain) != 0)
					csync_fail(c, "out of memory", NULL);
			}
			for (size_t k = 0; k < d->ns_count; k++)
				if (host_add(c, d->ns[k].name, d->domain) != 0)
					csync_fail(c, "out of memory", NULL);
		}
		int r = 0;
		if (cs->ns)
			r |= csync_send(j, &srv->addr, d->domain, CDS_T_NS, i, XQ_NS, 0);
		for (size_t h = 0; h < c->host_count; h++) {
			if (cs->a)
				r |= csync_send(j, &srv->addr, c->hosts[h].name, CDS_T_A, i, XQ_A, h);
			if (cs->aaaa)
				r |= csync_send(j, &srv->addr, c->hosts[h].name, CDS_T_AAAA, i,
						XQ_AAAA, h);
		}
		if (r != 0)
			csync_fail(c, "a query could not be sent", NULL);
	}
}

/* Is addr among the addresses the apex phase asked? */
static bool asked(const struct cds_scan_result *res, const char *name, const struct cds_addr *a)
{
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *srv = &res->servers[i];
		if (srv->has_addr && strcmp(srv->name, name) == 0 && srv->addr.len == a->len &&
		    memcmp(&srv->addr.ss, &a->ss, a->len) == 0)
			return true;
	}
	return false;
}

static int probe_add(struct job *j, const char *name, const struct cds_addr *a,
		     const char *error)
{
	struct cds_scan_result *res = j->res;
	for (size_t i = 0; a && i < res->probe_count; i++)
		if (strcmp(res->probes[i].name, name) == 0 && res->probes[i].addr.len == a->len &&
		    memcmp(&res->probes[i].addr.ss, &a->ss, a->len) == 0)
			return 0;
	struct cds_server_result *n = realloc(res->probes, (res->probe_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	res->probes = n;
	struct cds_server_result *p = &n[res->probe_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!a) {
		snprintf(p->error, sizeof(p->error), "%s", error);
		return 0;
	}
	p->addr = *a;
	p->has_addr = true;
	p->ok = true;
	return 0;
}

/* An out-of-bailiwick name the CSYNC adds, being looked up. */
struct probe_lookup {
	struct job *job;
	char name[CDS_DNAME_BUFSIZE];
};

static void probe_send_all(struct job *j, size_t from)
{
	struct cds_scan_result *res = j->res;
	for (size_t i = from; i < res->probe_count; i++) {
		struct cds_server_result *p = &res->probes[i];
		if (p->has_addr && csync_send(j, &p->addr, j->d->domain, CDS_T_SOA, i, XQ_PROBE, 0))
			server_fail(p, "query could not be sent");
	}
}

static void probe_resolved_cb(int status, const struct cds_addr *addrs, size_t n, void *arg)
{
	struct probe_lookup *pl = arg;
	struct job *j = pl->job;
	size_t from = j->res->probe_count;
	if (status != 0 || n == 0)
		probe_add(j, pl->name, NULL, "no address for the NS name");
	for (size_t i = 0; status == 0 && i < n; i++)
		probe_add(j, pl->name, &addrs[i], NULL);
	probe_send_all(j, from);
	free(pl);
	if (--j->pending == 0)
		job_next_phase(j);
}

/* Phase 3: the SOA again at every address, and a SOA query to every address
 * the CSYNC would add (a new NS name, a new glue address), which must serve
 * the zone before the parent points to it. */
static void csync_after(struct job *j)
{
	struct cds_scan_result *res = j->res;
	const struct cds_delegation *d = j->d;
	for (size_t i = 0; i < res->server_count; i++) {
		struct cds_server_result *srv = &res->servers[i];
		if (srv->csync && csync_send(j, &srv->addr, d->domain, CDS_T_SOA, i, XQ_SOA_AFTER, 0))
			csync_fail(srv->csync, "a query could not be sent", NULL);
	}
	/* The first address's view; the decision rejects when the addresses
	 * disagree, so probing one view is enough. */
	const struct cds_csync_data *c = res->server_count ? res->servers[0].csync : NULL;
	if (!c || !c->ok)
		return;
	const struct cds_rrset *ns = c->ns.present ? &c->ns : &res->servers[0].sets[CDS_Q_NS];
	for (size_t k = 0; k < ns->count; k++) {
		char name[CDS_DNAME_BUFSIZE];
		if (cds_dname_from_wire(ns->rdata[k].data, ns->rdata[k].len, name) != 0)
			continue;
		if (cds_dname_is_subdomain(name, d->domain))
			continue; /* from the glue below */
		bool current = false;
		for (size_t n = 0; n < d->ns_count && !current; n++)
			current = strcmp(d->ns[n].name, name) == 0;
		if (current)
			continue;
		struct probe_lookup *pl = malloc(sizeof(*pl));
		if (!pl)
			continue;
		pl->job = j;
		snprintf(pl->name, sizeof(pl->name), "%s", name);
		j->pending++;
		if (cds_scanner_resolve(j->s, name, probe_resolved_cb, pl) != 0) {
			j->pending--;
			free(pl);
			probe_add(j, name, NULL, "look-up failed");
		}
	}
	size_t from = res->probe_count;
	for (size_t h = 0; h < c->host_count; h++) {
		const struct cds_csync_host *host = &c->hosts[h];
		for (int t = 0; t < 2; t++) {
			const struct cds_rrset *set = t ? &host->aaaa : &host->a;
			for (size_t k = 0; k < set->count; k++) {
				struct cds_addr a;
				if (cds_addr_from_rdata(set->rdata[k].data, set->rdata[k].len, 53,
							&a) == 0 &&
				    !asked(res, host->name, &a))
					probe_add(j, host->name, &a, NULL);
			}
		}
	}
	probe_send_all(j, from);
}

/* ------------------------------------------- RFC 9615 bootstrapping --- */

/* An insecure delegation whose every address answered, with the same
 * CDS/CDNSKEY everywhere and something in it: the signals can decide. */
static bool bootstrap_wanted(const struct job *j)
{
	const struct cds_scan_result *res = j->res;
	if (!j->s->bootstrap || j->d->ds_count > 0 || res->server_count == 0)
		return false;
	const struct cds_server_result *ref = &res->servers[0];
	if (ref->sets[CDS_Q_CDS].count == 0 && ref->sets[CDS_Q_CDNSKEY].count == 0)
		return false;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *srv = &res->servers[i];
		if (!srv->ok || !cds_rrset_equal(&srv->sets[CDS_Q_CDS], &ref->sets[CDS_Q_CDS]) ||
		    !cds_rrset_equal(&srv->sets[CDS_Q_CDNSKEY], &ref->sets[CDS_Q_CDNSKEY]))
			return false;
	}
	return true;
}

struct signal_q {
	struct job *job;
	size_t host;
	int what; /* 0 CDS, 1 CDNSKEY, 2 the host's zone */
};

static void signal_cb(const struct cds_trust_result *r, void *arg)
{
	struct signal_q *q = arg;
	struct job *j = q->job;
	struct cds_bootstrap_signal *sig = &j->res->signals[q->host];
	if (q->what == 2) {
		sig->zone_status = r->status;
		if (r->zone)
			snprintf(sig->zone, sizeof(sig->zone), "%s", r->zone);
		snprintf(sig->zone_why, sizeof(sig->zone_why), "%s", r->why ? r->why : "");
	} else {
		int k = q->what;
		sig->status[k] = r->status;
		sig->missing[k] = r->missing;
		sig->error[k] = r->error;
		snprintf(sig->why[k], sizeof(sig->why[k]), "%s", r->why ? r->why : "");
		if (r->set && r->set->count &&
		    cds_rrset_copy_records(r->set, &sig->sets[k]) != 0) {
			sig->status[k] = CDS_DNSSEC_ERROR;
			sig->error[k] = CDS_ENOMEM;
			snprintf(sig->why[k], sizeof(sig->why[k]), "out of memory");
		}
	}
	free(q);
	if (--j->pending == 0)
		job_next_phase(j);
}

/* RFC 9615 §4.2 step 3: for every NS host name outside the child, the
 * signaling name's CDS and CDNSKEY, and whether the host's zone is secure. */
static void bootstrap_fetch(struct job *j)
{
	const struct cds_delegation *d = j->d;
	struct cds_scan_result *res = j->res;
	res->signals_asked = true;
	res->signals = calloc(d->ns_count ? d->ns_count : 1, sizeof(*res->signals));
	if (!res->signals)
		return; /* nothing asked: the decision says so */
	for (size_t i = 0; i < d->ns_count; i++) {
		const char *ns = d->ns[i].name;
		if (cds_dname_is_subdomain(ns, d->domain))
			continue;
		bool dup = false;
		for (size_t h = 0; h < res->signal_count && !dup; h++)
			dup = strcmp(res->signals[h].ns, ns) == 0;
		if (dup)
			continue;
		size_t h = res->signal_count++;
		struct cds_bootstrap_signal *sig = &res->signals[h];
		snprintf(sig->ns, sizeof(sig->ns), "%s", ns);
		char qname[CDS_DNAME_BUFSIZE + 32];
		/* "_dsboot." + child + "_signal." + host: too long a name cannot
		 * carry a signal (RFC 9615 §3.1 leaves such children out). */
		int len = snprintf(qname, sizeof(qname), "_dsboot.%s_signal.%s", d->domain, ns);
		bool too_long = len < 0 || (size_t)len >= CDS_DNAME_BUFSIZE - 1;
		for (int what = 0; what < 3; what++) {
			if (what < 2 && too_long) {
				sig->status[what] = CDS_DNSSEC_ERROR;
				sig->error[what] = CDS_EINVAL;
				snprintf(sig->why[what], sizeof(sig->why[what]),
					 "the signaling name would exceed 255 octets");
				continue;
			}
			struct signal_q *q = malloc(sizeof(*q));
			int r = CDS_ENOMEM;
			if (q) {
				*q = (struct signal_q){.job = j, .host = h, .what = what};
				j->pending++;
				r = what == 2 ? cds_trust_zone_of(j->s->trust, ns, signal_cb, q)
					      : cds_trust_rrset(j->s->trust, qname,
								what ? CDS_T_CDNSKEY : CDS_T_CDS,
								signal_cb, q);
				if (r != 0) {
					j->pending--;
					free(q);
				}
			}
			if (r != 0 && what < 2) {
				sig->status[what] = CDS_DNSSEC_ERROR;
				sig->error[what] = r;
				snprintf(sig->why[what], sizeof(sig->why[what]), "out of memory");
			} else if (r != 0) {
				sig->zone_status = CDS_DNSSEC_ERROR;
				snprintf(sig->zone_why, sizeof(sig->zone_why), "out of memory");
			}
		}
	}
}

static void job_next_phase(struct job *j)
{
	struct cds_csync cs;
	j->pending = 1; /* held while sending */
	if (j->phase == PHASE_APEX && csync_wanted(j, &cs)) {
		j->phase = PHASE_CSYNC_DATA;
		csync_fetch(j, &cs);
	} else if (j->phase == PHASE_APEX && bootstrap_wanted(j)) {
		j->phase = PHASE_BOOTSTRAP;
		bootstrap_fetch(j);
	} else if (j->phase == PHASE_CSYNC_DATA) {
		j->phase = PHASE_CSYNC_AFTER;
		csync_after(j);
	} else {
		job_done(j); /* always from an answer's callback */
		return;
	}
	if (--j->pending == 0)
		job_next_phase(j);
}

struct resolve_ctx {
	struct job *job;
	size_t ns;
};

static void job_resolved_cb(int status, const struct cds_addr *addrs, size_t n, void *arg)
{
	struct resolve_ctx *rc = arg;
	struct job *j = rc->job;
	size_t i = rc->ns;
	free(rc);
	j->resolve_status[i] = status;
	if (status == 0) {
		memcpy(j->addrs[i], addrs, n * sizeof(*addrs));
		j->addr_count[i] = n;
	}
	if (--j->resolving == 0)
		job_query_all(j);
}

int cds_scanner_scan(struct cds_scanner *s, const struct cds_delegation *d, cds_scan_cb cb,
		     void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return CDS_ENOMEM;
	j->s = s;
	j->d = d;
	j->cb = cb;
	j->arg = arg;
	j->res = calloc(1, sizeof(*j->res));
	size_t nn = d->ns_count ? d->ns_count : 1;
	j->addrs = calloc(nn, sizeof(*j->addrs));
	j->addr_count = calloc(nn, sizeof(*j->addr_count));
	j->resolve_status = calloc(nn, sizeof(*j->resolve_status));
	if (!j->res || !j->addrs || !j->addr_count || !j->resolve_status) {
		free(j->res);
		job_free(j);
		return CDS_ENOMEM;
	}
	j->res->delegation = d;
	j->res->scanned_at = cds_clock();
	s->scans++;
	j->resolving = 1; /* held while starting look-ups */
	for (size_t i = 0; i < d->ns_count; i++) {
		if (d->ns[i].addr_count)
			continue;
		struct resolve_ctx *rc = malloc(sizeof(*rc));
		if (!rc) {
			j->resolve_status[i] = CDS_ENOMEM;
			continue;
		}
		*rc = (struct resolve_ctx){.job = j, .ns = i};
		j->resolving++;
		if (cds_scanner_resolve(s, d->ns[i].name, job_resolved_cb, rc) != 0) {
			free(rc);
			j->resolving--;
			j->resolve_status[i] = CDS_ENOMEM;
		}
	}
	if (--j->resolving == 0)
		job_query_all(j);
	return 0;
}

/* ----------------------------------------------- resolver look-ups --- */

struct lookup {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	cds_lookup_cb cb;
	void *arg;
};

static void lookup_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct lookup *l = arg;
	struct cds_answer_info info;
	struct cds_rrset set;
	if (status != 0) {
		l->cb(status, NULL, false, l->arg);
	} else if (cds_answer_parse(wire, len, l->name, l->type, &info, &set) != 0) {
		l->cb(CDS_EDATA, NULL, false, l->arg);
	} else {
		if (info.rcode != 0 && info.rcode != 3)
			l->cb(CDS_EUNAVAIL, NULL, false, l->arg);
		else
			l->cb(0, &set, info.ad, l->arg);
		cds_rrset_clear(&set);
	}
	free(l);
}

int cds_scanner_lookup(struct cds_scanner *s, const char *qname, uint16_t qtype,
		       unsigned flags, cds_lookup_cb cb, void *arg)
{
	struct lookup *l = malloc(sizeof(*l));
	if (!l)
		return CDS_ENOMEM;
	snprintf(l->name, sizeof(l->name), "%s", qname);
	l->type = qtype;
	l->cb = cb;
	l->arg = arg;
	int r = cds_transport_query(s->transport, &s->resolvers[0], qname, qtype,
				    CDS_QUERY_RD | CDS_QUERY_DO | flags, lookup_answer_cb, l);
	if (r != 0)
		free(l);
	return r;
}

struct referral_q {
	char domain[CDS_DNAME_BUFSIZE];
	cds_referral_cb cb;
	void *arg;
};

static void referral_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct referral_q *q = arg;
	struct cds_referral *ref = malloc(sizeof(*ref));
	if (!ref)
		q->cb(CDS_ENOMEM, NULL, q->arg);
	else if (status != 0)
		q->cb(status, NULL, q->arg);
	else if ((status = cds_referral_parse(wire, len, q->domain, ref)) != 0)
		q->cb(status, NULL, q->arg);
	else
		q->cb(0, ref, q->arg);
	free(ref);
	free(q);
}

int cds_scanner_referral(struct cds_scanner *s, const struct cds_addr *server, const char *domain,
			 cds_referral_cb cb, void *arg)
{
	struct referral_q *q = malloc(sizeof(*q));
	if (!q)
		return CDS_ENOMEM;
	snprintf(q->domain, sizeof(q->domain), "%s", domain);
	q->cb = cb;
	q->arg = arg;
	int r = cds_transport_query(s->transport, server, domain, CDS_T_NS, 0, referral_answer_cb,
				    q);
	if (r != 0)
		free(q);
	return r;
}
