/* NS address look-ups through the resolver, cached for the scanner's life:
 * the nameservers of thousands of delegations are a few hundred provider
 * host names, each asked for A and AAAA once per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "scan_internal.h"

#define CACHE_BUCKETS 16384u

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
	int status;      /* 0, or the first failed look-up's error */
	char why[64];    /* which look-up failed, and how */
	int outstanding; /* A and AAAA queries not yet answered */
	size_t count;
	struct cds_addr addrs[CDS_NS_MAX_ADDRS];
	struct waiter *waiters;
};

struct addr_cache {
	struct cache_entry *buckets[CACHE_BUCKETS];
};

/* One A or AAAA query of an entry. */
struct resolve_q {
	struct cache_entry *e;
	uint16_t type;
	const struct cds_dnssec_limits *limits; /* the scanner's (limits.*) */
};

/* A waiter answered from a finished entry on a later loop turn. */
struct cached_answer {
	struct cache_entry *e;
	struct waiter *w;
};

struct addr_cache *addr_cache_new(void)
{
	return calloc(1, sizeof(struct addr_cache));
}

void addr_cache_free(struct addr_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_BUCKETS; i++) {
		struct cache_entry *e = c->buckets[i];
		while (e) {
			struct cache_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(c);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Both answers are in: call every waiter. */
static void entry_finish(struct cache_entry *e)
{
	e->done = true;
	struct waiter *w = e->waiters;
	e->waiters = NULL;
	while (w) {
		struct waiter *next = w->next;
		w->cb(e->status, e->addrs, e->count, e->why, w->arg);
		free(w);
		w = next;
	}
}

/* Record that the look-up of type failed (the first failure is kept). */
static void lookup_failed(struct cache_entry *e, uint16_t type, int status, const char *how)
{
	if (e->status)
		return;
	e->status = status;
	snprintf(e->why, sizeof(e->why), "%s look-up: %s", type == CDS_T_A ? "A" : "AAAA",
		 how ? how : status == CDS_ETIMEDOUT ? "timeout" : cds_strerror(status));
}

static void resolve_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct resolve_q *rq = arg;
	struct cache_entry *e = rq->e;
	struct cds_answer_info info;
	struct cds_rrset set;
	int r;

	if (status != 0) {
		lookup_failed(e, rq->type, status, NULL);
	} else if ((r = cds_answer_parse(wire, len, e->name, rq->type, rq->limits, &info, &set)) !=
		   0) {
		lookup_failed(e, rq->type, CDS_EDATA,
			      r == CDS_ERANGE ? "over limits.records- or rrsigs-per-rrset"
					      : "malformed answer");
	} else {
		/* NXDOMAIN and NODATA: no address of that type.  Anything else
		 * (SERVFAIL: the resolver could not get, or not validate, the
		 * answer) leaves the name's addresses unknown. */
		if (info.rcode != 0 && info.rcode != 3)
			lookup_failed(e, rq->type, CDS_EUNAVAIL,
				      info.rcode == 2 ? "SERVFAIL" : "an error RCODE");
		for (size_t i = 0; i < set.count && e->count < CDS_NS_MAX_ADDRS; i++)
			if (cds_addr_from_rdata(set.rdata[i].data, set.rdata[i].len, 53,
						&e->addrs[e->count]) == 0)
				e->count++;
		cds_rrset_clear(&set);
	}
	free(rq);
	if (--e->outstanding == 0)
		entry_finish(e);
}

/* A new entry for name, its A and AAAA queries sent. */
static struct cache_entry *entry_new(struct cds_scanner *s, const char *name)
{
	static const uint16_t types[2] = {[CDS_FAMILY_IPV4] = CDS_T_A, [CDS_FAMILY_IPV6] = CDS_T_AAAA};
	struct cache_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (int i = 0; i < 2; i++) {
		if (!s->conf->resolver.families[i])
			continue; /* resolver.address-families leaves it out */
		struct resolve_q *rq = malloc(sizeof(*rq));
		int r = CDS_ENOMEM;
		if (rq) {
			*rq = (struct resolve_q){
				.e = e, .type = types[i], .limits = &s->conf->limits};
			r = cds_transport_query(s->transport, &s->resolvers[0], name, types[i],
						CDS_QUERY_RD, resolve_answer_cb, rq);
		}
		if (r == 0) {
			e->outstanding++;
		} else {
			free(rq);
			lookup_failed(e, types[i], r, NULL);
		}
	}
	e->done = e->outstanding == 0;
	return e;
}

static void cached_cb(void *arg)
{
	struct cached_answer *c = arg;
	c->w->cb(c->e->status, c->e->addrs, c->e->count, c->e->why, c->w->arg);
	free(c->w);
	free(c);
}

int cds_scanner_resolve(struct cds_scanner *s, const char *name, cds_resolve_cb cb, void *arg)
{
	struct cache_entry **head = &s->cache->buckets[name_hash(name) % CACHE_BUCKETS];
	struct cache_entry *e = *head;
	while (e && strcmp(e->name, name) != 0)
		e = e->next;
	if (!e) {
		if (!(e = entry_new(s, name)))
			return CDS_ENOMEM;
		e->next = *head;
		*head = e;
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
	/* Cached: answer on the next loop turn, never from inside this call. */
	struct cached_answer *c = malloc(sizeof(*c));
	if (c)
		*c = (struct cached_answer){.e = e, .w = w};
	if (!c || scan_defer(s->loop, cached_cb, c) != 0) {
		free(c);
		free(w);
		return CDS_ENOMEM;
	}
	return 0;
}
