/* Validated look-ups through the resolver (RFC 9615 §4.2: the signaling
 * RRsets must be DNSSEC-validated).  A resolver's AD bit says only that the
 * resolver believes the answer, over a path cdscan does not authenticate;
 * so the resolver is asked with CD set, for the RRset and for every DNSKEY
 * and DS up to the trust anchor, and each link is validated here
 * (cds_dnssec_validate, dnssec.c).  An empty answer is taken as such only
 * with its proof: the NSEC/NSEC3 records the resolver returns with it (DO
 * set) must validate as a denial of existence (cds_dnssec_denial,
 * denial.c) in the zone that signed them, and a zone is insecure only when
 * its parent proves that it has no DS (RFC 4035 §5.2).  Answers and zone
 * outcomes are cached (the signals of many children share a few provider
 * zones) for no longer than their records' TTL, their RRSIGs' validity and
 * resolver.cache-max-ttl: a daemon runs for months, and a zone that lost
 * its DS or let its signatures expire must not stay secure.
 *
 * Written here rather than left to getdns's own recursion because getdns's
 * stub/recursive transport is the one the engine replaced (NOTES-getdns.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/trust.h"

#define BUCKETS 4096u
#define MAX_ANCHOR_DS 16
/* A failed look-up (timeout, SERVFAIL, malformed answer) is asked again
 * after at most this many seconds. */
#define FAILURE_TTL 30
/* Expired entries are freed this long after they expired (never one a
 * task running now may have just judged fresh). */
#define SWEEP_MARGIN 60

struct task;

struct task_ref {
	struct task *task;
	struct task_ref *next;
};

/* One resolver answer (name, type), and for a DNSKEY entry the outcome of
 * validating that zone. */
struct entry {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	struct entry *next;
	struct cds_trust *t;   /* the cache it is in */
	bool done;
	int error;             /* transport error, malformed answer, SERVFAIL... */
	char limit[CDS_LIMIT_TEXT_MAX]; /* error CDS_ERANGE: the limit the answer broke */
	struct cds_rrset set;  /* records + RRSIGs at name (rcode inside) */
	time_t expires;        /* when done: not reused by a task started later */
	struct task_ref *waiting;
	/* DNSKEY entries: the zone's validation, and until when it holds (no
	 * later than the answers and the parent's validation it rests on) */
	bool zone_done;
	time_t zone_expires;
	enum cds_dnssec_status zone_status;
	char zone_why[400];
};

struct cds_trust {
	uv_loop_t *loop;
	struct cds_transport *transport;
	struct cds_addr resolver;
	struct entry **cache;
	char anchor_owner[CDS_DNAME_BUFSIZE];
	struct cds_ds anchor[MAX_ANCHOR_DS];
	size_t anchor_count;
	struct cds_dnssec_limits limits; /* of answers and validations (limits.*) */
	uint32_t cache_max_ttl;          /* seconds (resolver.cache-max-ttl) */
	/* The start of the task being run: what expired before it is stale.
	 * Set by task_run; evaluation is synchronous, so one field does. */
	time_t epoch;
	time_t next_sweep;               /* when expired entries are next freed */
};

enum task_kind { TASK_RRSET, TASK_ZONE };

struct task {
	struct cds_trust *t;
	enum task_kind kind;
	char qname[CDS_DNAME_BUFSIZE];
	uint16_t qtype;
	cds_trust_cb cb;
	void *arg;
	int waiting;    /* answers not yet in */
	time_t started; /* an entry fetched since is fresh for it, whatever its TTL */
};

static uint32_t hash(const char *s, uint16_t type)
{
	uint32_t h = 2166136261u ^ type;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % BUCKETS;
}

struct cds_trust *cds_trust_new(uv_loop_t *loop, struct cds_transport *transport,
				const struct cds_addr *resolver)
{
	struct cds_trust *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cache = calloc(BUCKETS, sizeof(*t->cache));
	if (!t->cache) {
		free(t);
		return NULL;
	}
	t->loop = loop;
	t->transport = transport;
	t->resolver = *resolver;
	t->limits = cds_dnssec_limits_default;
	t->cache_max_ttl = 3600;
	return t;
}

void cds_trust_set_limits(struct cds_trust *t, const struct cds_dnssec_limits *limits)
{
	t->limits = *limits;
}

void cds_trust_set_cache_max_ttl(struct cds_trust *t, uint32_t seconds)
{
	t->cache_max_ttl = seconds;
}

static void entry_free(struct entry *e)
{
	cds_rrset_clear(&e->set);
	free(e);
}

void cds_trust_free(struct cds_trust *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry *e = t->cache[b];
		while (e) {
			struct entry *next = e->next;
			entry_free(e);
			e = next;
		}
	}
	free(t->cache);
	free(t);
}

int cds_trust_set_anchor(struct cds_trust *t, const char *owner, const struct cds_ds *ds,
			 size_t n)
{
	if (n > MAX_ANCHOR_DS)
		n = MAX_ANCHOR_DS;
	snprintf(t->anchor_owner, sizeof(t->anchor_owner), "%s", owner);
	memcpy(t->anchor, ds, n * sizeof(*ds));
	t->anchor_count = n;
	return 0;
}

/* ------------------------------------------------------------ cache --- */

static struct entry *find(struct cds_trust *t, const char *name, uint16_t type)
{
	for (struct entry *e = t->cache[hash(name, type)]; e; e = e->next)
		if (e->type == type && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void task_run(struct task *k);

/* An RRSIG time (32-bit serial, RFC 4034 §3.1.5) as the time closest to
 * now. */
static time_t sig_time(uint32_t v, time_t now)
{
	return now + (int32_t)(v - (uint32_t)now);
}

/* How long what set holds may be reused from now, at most life seconds:
 * its TTL, and no RRSIG's original TTL or expiration passed (RFC 4035
 * §5.3.3: the TTL of a validated RRset is bounded by both). */
static uint32_t set_lifetime(const struct cds_rrset *set, time_t now, uint32_t life)
{
	if ((set->count || set->sig_count) && set->ttl < life)
		life = set->ttl;
	for (size_t i = 0; i < set->sig_count; i++) {
		const struct cds_rrsig *g = &set->sigs[i];
		time_t left = sig_time(g->expiration, now) - now;
		uint32_t orig = g->raw_len >= 8 ? (uint32_t)g->raw[4] << 24 |
							 (uint32_t)g->raw[5] << 16 |
							 (uint32_t)g->raw[6] << 8 | g->raw[7]
						: 0;
		if (left < (time_t)life)
			life = left > 0 ? (uint32_t)left : 0;
		if (orig < life)
			life = orig;
	}
	return life;
}

/* The answer to e is in at now: until when it is reused. */
static time_t entry_expiry(const struct cds_trust *t, const struct entry *e, time_t now)
{
	uint32_t life = t->cache_max_ttl;
	if (e->error)
		return now + (life < FAILURE_TTL ? life : FAILURE_TTL);
	life = set_lifetime(&e->set, now, life);
	for (size_t i = 0; i < e->set.denial_count; i++)
		life = set_lifetime(&e->set.denial[i], now, life);
	return now + life;
}

static void answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct entry *e = arg;
	struct cds_answer_info info;
	if (status != 0) {
		e->error = status;
	} else if ((e->error = cds_answer_parse(wire, len, e->name, e->type, &e->t->limits, &info,
						&e->set)) != 0) {
		if (e->error == CDS_ERANGE)
			snprintf(e->limit, sizeof(e->limit), "%s", info.limit);
		else
			e->error = CDS_EDATA;
	} else if (info.rcode != 0 && info.rcode != 3) {
		e->error = CDS_EUNAVAIL;
		cds_rrset_clear(&e->set);
	}
	e->done = true;
	e->expires = entry_expiry(e->t, e, cds_clock());
	struct task_ref *w = e->waiting;
	e->waiting = NULL;
	while (w) {
		struct task_ref *next = w->next;
		struct task *k = w->task;
		free(w);
		if (--k->waiting == 0)
			task_run(k);
		w = next;
	}
}

/* Ask the resolver for e's (name, type); on failure e is done with the
 * error. */
static void entry_ask(struct cds_trust *t, struct entry *e)
{
	int r = cds_transport_query(t->transport, &t->resolver, e->name, e->type,
				    CDS_QUERY_RD | CDS_QUERY_DO | CDS_QUERY_CD, answer_cb, e);
	if (r != 0) {
		e->error = r;
		e->done = true;
		e->expires = entry_expiry(t, e, cds_clock());
	}
}

/* An answer that expired before the task now running started is asked
 * again, in place (nothing waits on a done entry, and no pointer to it
 * outlives a synchronous run); so is the zone outcome it carried. */
static void entry_refresh(struct cds_trust *t, struct entry *e)
{
	cds_rrset_clear(&e->set);
	e->limit[0] = '\0';
	e->zone_done = false;
	e->error = 0;
	e->done = false;
	entry_ask(t, e);
}

/* The answer for (name, type) if it is in and fresh for k; otherwise ask
 * for it (once per expiry), count k as waiting, and return NULL.  An
 * answer that came in after k started is fresh for k whatever its TTL, so
 * a task always ends. */
static struct entry *fetch(struct task *k, const char *name, uint16_t type)
{
	struct cds_trust *t = k->t;
	struct entry *e = find(t, name, type);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL; /* the task waits on nothing: see task_run */
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->type = type;
		e->t = t;
		uint32_t b = hash(name, type);
		e->next = t->cache[b];
		t->cache[b] = e;
		entry_ask(t, e);
	} else if (e->done && e->expires < k->started) {
		entry_refresh(t, e);
	}
	if (e->done)
		return e;
	struct task_ref *w = malloc(sizeof(*w));
	if (!w)
		return NULL;
	w->task = k;
	w->next = e->waiting;
	e->waiting = w;
	k->waiting++;
	return NULL;
}

/* Free the entries that expired more than SWEEP_MARGIN ago (done, so
 * nothing waits on them), at most once per cache-max-ttl: a daemon's cache
 * holds what is in use, not every name it ever asked. */
static void sweep(struct cds_trust *t, time_t now)
{
	if (now < t->next_sweep)
		return;
	t->next_sweep = now + (t->cache_max_ttl > SWEEP_MARGIN ? t->cache_max_ttl : SWEEP_MARGIN);
	for (size_t b = 0; b < BUCKETS; b++) {
		struct entry **p = &t->cache[b];
		while (*p) {
			struct entry *e = *p;
			if (e->done && !e->waiting && e->expires + SWEEP_MARGIN < now) {
				*p = e->next;
				entry_free(e);
			} else {
				p = &e->next;
			}
		}
	}
}

/* -------------------------------------------------------- the chain --- */

/* The signer name of the first RRSIG of set. */
static int signer_of(const struct cds_rrset *set, char out[CDS_DNAME_BUFSIZE])
{
	if (set->sig_count == 0)
		return CDS_ENOENT;
	return cds_rrsig_signer(&set->sigs[0], out);
}

/* The zone that speaks for set: the signer of its RRSIG, or for an empty
 * answer the signer of the first NSEC/NSEC3 RRset that came with it. */
static int speaker_of(const struct cds_rrset *set, char out[CDS_DNAME_BUFSIZE])
{
	if (set->count > 0)
		return signer_of(set, out);
	if (set->denial_count == 0)
		return CDS_ENOENT;
	return signer_of(&set->denial[0], out);
}

/* Is p an enclosing zone of z, and not z itself? */
static bool strictly_above(const char *p, const char *z)
{
	return strcmp(p, z) != 0 && cds_dname_is_subdomain(z, p);
}

/* The parent domain of a name ("." stays "."). */
static const char *parent_of(const char *name)
{
	if (strcmp(name, ".") == 0)
		return name;
	const char *dot = strchr(name, '.');
	return dot[1] ? dot + 1 : ".";
}

__attribute__((format(printf, 3, 4))) static void zone_set(struct entry *ze,
							   enum cds_dnssec_status st,
							   const char *fmt, ...)
{
	va_list ap;
	ze->zone_done = true;
	ze->zone_status = st;
	va_start(ap, fmt);
	vsnprintf(ze->zone_why, sizeof(ze->zone_why), fmt, ap);
	va_end(ap);
}

/* The zone above z: the closest strict ancestor of z with an SOA, asked
 * for through k, or with k NULL only from the cache.  1: found (into
 * out); 0: k waits for answers; -1: none, or a look-up failed. */
static int zone_above(struct cds_trust *t, struct task *k, const char *z,
		      char out[CDS_DNAME_BUFSIZE])
{
	for (const char *n = parent_of(z); strcmp(z, ".") != 0; n = parent_of(n)) {
		struct entry *e = k ? fetch(k, n, CDS_T_SOA) : find(t, n, CDS_T_SOA);
		if (!e)
			return k ? 0 : -1;
		if (e->error)
			return -1;
		if (e->set.count > 0) {
			snprintf(out, CDS_DNAME_BUFSIZE, "%s", n);
			return 1;
		}
		if (strcmp(n, ".") == 0)
			break;
	}
	return -1;
}

static struct entry *zone_eval(struct cds_trust *t, const char *z, struct cds_dnssec_work *w);

/* Is ze's zone outcome known and still valid for the task being run? */
static bool zone_fresh(const struct cds_trust *t, const struct entry *ze)
{
	return ze->zone_done && ze->zone_expires >= t->epoch;
}

/* ze's outcome rests on what expires at x too. */
static void zone_bound(struct entry *ze, time_t x)
{
	if (x < ze->zone_expires)
		ze->zone_expires = x;
}

/* No DS for z and no denial with the answer: nothing proves the absence,
 * unless the parent zone is itself not secure (unsigned zones prove
 * nothing, and need not: what lies below them is insecure as they are). */
static void zone_unproven(struct cds_trust *t, struct entry *ze, const char *z, const char *what,
			  struct cds_dnssec_work *w)
{
	char p[CDS_DNAME_BUFSIZE];
	struct entry *pe = zone_above(t, NULL, z, p) == 1 ? zone_eval(t, p, w) : NULL;
	if (pe)
		zone_bound(ze, pe->zone_expires);
	if (pe && pe->zone_done && pe->zone_status != CDS_DNSSEC_SECURE)
		zone_set(ze, pe->zone_status, "%s: %s", z, pe->zone_why);
	else
		zone_set(ze, CDS_DNSSEC_BOGUS,
			 "%s %s, and no NSEC/NSEC3 of a parent zone proves it has no DS", z, what);
}

/*
 * Zone z's parent answered its DS look-up (de) with no DS: z is insecure
 * only if that absence is proven (RFC 4035 §5.2, RFC 6840 §4.4) by the
 * parent's NSEC/NSEC3 at the delegation, or an NSEC3 opt-out span covers
 * it (RFC 5155 §8.6).  what says what else is known of z ("is not
 * signed", "has a DNSKEY RRset").
 */
static void zone_without_ds(struct cds_trust *t, struct entry *ze, const char *z,
			    const struct entry *de, const char *what, struct cds_dnssec_work *w)
{
	char p[CDS_DNAME_BUFSIZE], why[300];
	if (de->set.denial_count == 0) {
		zone_unproven(t, ze, z, what, w);
		return;
	}
	if (speaker_of(&de->set, p) != 0 || !strictly_above(p, z)) {
		zone_set(ze, CDS_DNSSEC_BOGUS,
			 "%s %s, and no NSEC/NSEC3 of a parent zone proves it has no DS", z, what);
		return;
	}
	struct entry *pe = zone_eval(t, p, w);
	if (pe)
		zone_bound(ze, pe->zone_expires);
	if (!pe || pe->zone_status != CDS_DNSSEC_SECURE) {
		zone_set(ze, pe ? pe->zone_status : CDS_DNSSEC_ERROR, "%s: %s", z,
			 pe ? pe->zone_why : "no answer");
		return;
	}
	enum cds_dnssec_status st = cds_dnssec_denial(p, &de->set, &pe->set, w, why, sizeof(why));
	if (st == CDS_DNSSEC_SECURE)
		zone_set(ze, CDS_DNSSEC_INSECURE, "%s %s and no DS in %s (proven)", z, what, p);
	else if (st == CDS_DNSSEC_INSECURE)
		zone_set(ze, CDS_DNSSEC_INSECURE, "%s %s and no signed DS in %s (%s)", z, what, p,
			 why);
	else
		zone_set(ze, st == CDS_DNSSEC_ERROR ? st : CDS_DNSSEC_BOGUS,
			 "%s: no DS in %s, but the denial does not hold (%s)", z, p, why);
}

/* The DS set of z (not the anchor's) into ds[0..*n): false when that
 * settled z's status (no DS, a look-up failed, the DS not authentic). */
static bool parent_ds(struct cds_trust *t, struct entry *ze, const char *z, struct cds_ds *ds,
		      size_t *n, struct cds_dnssec_work *w)
{
	struct entry *de = find(t, z, CDS_T_DS);
	char p[CDS_DNAME_BUFSIZE];
	if (!de || de->error) {
		zone_set(ze, CDS_DNSSEC_ERROR, "the look-up of the DS of %s failed%s%s", z,
			 de && de->limit[0] ? ": " : "", de ? de->limit : "");
		return false;
	}
	if (de->set.count == 0) {
		zone_without_ds(t, ze, z, de, "has a DNSKEY RRset", w);
		return false;
	}
	if (signer_of(&de->set, p) != 0 || !strictly_above(p, z)) {
		zone_set(ze, CDS_DNSSEC_BOGUS, "the DS of %s is not signed by a parent zone", z);
		return false;
	}
	struct entry *pe = zone_eval(t, p, w);
	if (pe)
		zone_bound(ze, pe->zone_expires);
	if (!pe || pe->zone_status != CDS_DNSSEC_SECURE) {
		zone_set(ze, pe ? pe->zone_status : CDS_DNSSEC_ERROR, "%s: %s", z,
			 pe ? pe->zone_why : "no answer");
		return false;
	}
	/* pe's DNSKEY RRset is authenticated (zone_eval): verify with it,
	 * not validate it once more from its DS. */
	if (cds_dnssec_verify(p, &de->set, &pe->set, w) != CDS_DNSSEC_SECURE) {
		zone_set(ze, CDS_DNSSEC_BOGUS, "the DS of %s does not validate in %s%s%s", z, p,
			 w->limit[0] ? ": " : "", w->limit);
		return false;
	}
	*n = 0;
	for (size_t i = 0; i < de->set.count && *n < 64; i++)
		if (cds_ds_from_rdata(de->set.rdata[i].data, de->set.rdata[i].len, &ds[*n]) == 0)
			(*n)++;
	return true;
}

/* A zone without DNSKEY: unsigned, which its parent must prove (no DS). */
static void unsigned_zone(struct cds_trust *t, struct entry *ze, const char *z,
			  struct cds_dnssec_work *w)
{
	const struct entry *de = find(t, z, CDS_T_DS);
	if (strcmp(z, t->anchor_owner) == 0)
		zone_set(ze, CDS_DNSSEC_BOGUS, "the trust anchor's zone %s has no DNSKEY", z);
	else if (!de || de->error)
		zone_set(ze, CDS_DNSSEC_ERROR, "the look-up of the DS of %s failed", z);
	else if (de->set.count > 0)
		zone_set(ze, CDS_DNSSEC_BOGUS, "%s has a DS but no DNSKEY", z);
	else
		zone_without_ds(t, ze, z, de, "is not signed (no DNSKEY)", w);
}

/* Validate zone z's DNSKEY RRset from the anchor, with every answer needed
 * already cached (task_run made sure).  Recursion follows DS signers up,
 * so its depth is bounded by the number of labels.  The chain is
 * validated top-down under one look-up's budget (w), and each zone's
 * outcome is kept while the answers it rests on are: a budget spent by a
 * hostile zone fails that zone and what lies below it, never a zone
 * above. */
static struct entry *zone_eval(struct cds_trust *t, const char *z, struct cds_dnssec_work *w)
{
	struct entry *ze = find(t, z, CDS_T_DNSKEY);
	struct cds_ds parsed[64];
	const struct cds_ds *ds = parsed;
	size_t nds = 0;
	if (!ze || !ze->done)
		return NULL; /* (task_run waits for every answer it reads) */
	if (zone_fresh(t, ze))
		return ze;
	/* Computed anew (an outcome that expired, too): it holds as long as
	 * the DNSKEY and DS answers do, and what the parent's adds. */
	ze->zone_done = false;
	ze->zone_expires = ze->expires;
	const struct entry *de = find(t, z, CDS_T_DS);
	if (de && de->done)
		zone_bound(ze, de->expires);
	if (ze->error) {
		zone_set(ze, CDS_DNSSEC_ERROR, "the look-up of the DNSKEY of %s failed%s%s", z,
			 ze->limit[0] ? ": " : "", ze->limit);
		return ze;
	}
	if (ze->set.count == 0) {
		unsigned_zone(t, ze, z, w);
		return ze;
	}
	if (strcmp(z, t->anchor_owner) == 0) {
		ds = t->anchor;
		nds = t->anchor_count;
	} else if (!parent_ds(t, ze, z, parsed, &nds, w)) {
		return ze;
	}
	if (cds_dnssec_validate(z, &ze->set, &ze->set, ds, nds, w) != CDS_DNSSEC_SECURE) {
		zone_set(ze, CDS_DNSSEC_BOGUS,
			 "the DNSKEY RRset of %s is not authenticated by its DS%s%s", z,
			 w->limit[0] ? ": " : "", w->limit);
		return ze;
	}
	zone_set(ze, CDS_DNSSEC_SECURE, "secure");
	return ze;
}

static void finish(struct task *k, struct cds_trust_result *r)
{
	k->cb(r, k->arg);
	free(k);
}

/* Make sure every DNSKEY and DS from zone up to the anchor (or to the first
 * break in the chain) is cached: up through the signers of the DS RRsets,
 * and where a DS look-up is empty, through the signer of its denial (the
 * parent that must prove it), for unsigned zones too; an empty DS answer
 * without denial, through the zone above (by its SOA), which may be
 * unsigned itself.  False: k now waits for answers. */
static bool chain_fetched(struct task *k, const char *zone)
{
	char z[CDS_DNAME_BUFSIZE];
	snprintf(z, sizeof(z), "%s", zone);
	for (int depth = 0; depth < 128; depth++) {
		struct entry *ze = fetch(k, z, CDS_T_DNSKEY);
		if (!ze)
			return false;
		if (zone_fresh(k->t, ze) || ze->error || strcmp(z, k->t->anchor_owner) == 0 ||
		    strcmp(z, ".") == 0)
			return true;
		struct entry *de = fetch(k, z, CDS_T_DS);
		char p[CDS_DNAME_BUFSIZE];
		if (!de)
			return false;
		if (de->error)
			return true;
		if (de->set.count == 0 && de->set.denial_count == 0) {
			int found = zone_above(k->t, k, z, p);
			if (found <= 0)
				return found < 0;
		} else if (speaker_of(&de->set, p) != 0 || !strictly_above(p, z)) {
			return true;
		}
		snprintf(z, sizeof(z), "%s", p);
	}
	return true;
}

/* Where a task stands after a step. */
enum progress {
	WAITING,  /* for answers (or out of memory, when nothing is pending) */
	FINISHED, /* r says all there is to say */
	GO_ON,    /* the zone is known: validate from the anchor */
};

static enum progress stop(struct cds_trust_result *r, enum cds_dnssec_status st, const char *why)
{
	r->status = st;
	r->why = why;
	return FINISHED;
}

/* An RRSET task: its answer, and the zone that signed it. */
static enum progress rrset_target(struct task *k, struct cds_trust_result *r,
				  char zone[CDS_DNAME_BUFSIZE], const struct entry **target)
{
	struct entry *e = fetch(k, k->qname, k->qtype);
	if (!e)
		return WAITING;
	*target = e;
	r->set = &e->set;
	if (e->error) {
		r->error = e->error;
		return stop(r, CDS_DNSSEC_ERROR,
			    e->limit[0] ? e->limit : "the resolver gave no usable answer");
	}
	if (e->set.count == 0) {
		/* Missing only when proven (conclude): by the zone that
		 * signed the denial. */
		const char *what = e->set.rcode == 3 ? "NXDOMAIN" : "no such record (NODATA)";
		if (e->set.denial_count == 0)
			return stop(r, CDS_DNSSEC_BOGUS,
				    e->set.rcode == 3 ? "NXDOMAIN without NSEC or NSEC3"
						      : "NODATA without NSEC or NSEC3");
		if (speaker_of(&e->set, zone) != 0 || !cds_dname_is_subdomain(k->qname, zone))
			return stop(r, CDS_DNSSEC_BOGUS,
				    "the NSEC/NSEC3 RRSIG's signer is not an enclosing zone");
		r->why = what;
		return GO_ON;
	}
	if (e->set.sig_count == 0)
		return stop(r, CDS_DNSSEC_INSECURE, "no RRSIG");
	if (signer_of(&e->set, zone) != 0 || !cds_dname_is_subdomain(k->qname, zone))
		return stop(r, CDS_DNSSEC_BOGUS, "the RRSIG's signer is not an enclosing zone");
	return GO_ON;
}

/* A ZONE task: the closest enclosing name with an SOA in the answer. */
static enum progress enclosing_zone(struct task *k, struct cds_trust_result *r,
				    char zone[CDS_DNAME_BUFSIZE])
{
	const char *n = k->qname;
	for (;;) {
		struct entry *e = fetch(k, n, CDS_T_SOA);
		if (!e)
			return WAITING;
		if (e->error) {
			r->error = e->error;
			return stop(r, CDS_DNSSEC_ERROR, "the look-up of the enclosing zone failed");
		}
		if (e->set.count > 0 || strcmp(n, ".") == 0)
			break;
		n = parent_of(n);
	}
	snprintf(zone, CDS_DNAME_BUFSIZE, "%s", n);
	return GO_ON;
}

/* An empty answer, its zone secure: missing if its denial holds
 * (cds_dnssec_denial with the zone's authenticated DNSKEY RRset). */
static void conclude_denial(const char *zone, const struct entry *target, const struct entry *ze,
			    struct cds_trust_result *r, char *why, size_t whylen,
			    struct cds_dnssec_work *w)
{
	char reason[600];
	enum cds_dnssec_status st = cds_dnssec_denial(zone, &target->set, &ze->set, w, reason,
						      sizeof(reason));
	if (st == CDS_DNSSEC_SECURE) {
		r->missing = true;
		snprintf(why, whylen, "%s, proven by %s", r->why, zone);
	} else {
		snprintf(why, whylen, "%s, not proven: %s", r->why, reason);
	}
	stop(r, st, why);
}

/* The chain is cached: the zone's status, and for an RRSET task the
 * RRset's with the zone's authenticated DNSKEY RRset (or its denial's).
 * One look-up is one budget (limits.verifications-per-delegation). */
static void conclude(struct cds_trust *t, const struct task *k, const char *zone,
		     const struct entry *target, struct cds_trust_result *r, char *why,
		     size_t whylen)
{
	struct cds_dnssec_work w;
	cds_dnssec_work_init(&w, &t->limits, cds_clock());
	const struct entry *ze = zone_eval(t, zone, &w);
	if (!ze) {
		stop(r, CDS_DNSSEC_ERROR, "no answer for the zone's DNSKEY");
	} else if (ze->zone_status != CDS_DNSSEC_SECURE) {
		stop(r, ze->zone_status, ze->zone_why);
	} else if (k->kind == TASK_ZONE) {
		r->status = CDS_DNSSEC_SECURE;
		r->why = NULL;
	} else if (target->set.count == 0) {
		conclude_denial(zone, target, ze, r, why, whylen, &w);
	} else if (cds_dnssec_verify(zone, &target->set, &ze->set, &w) == CDS_DNSSEC_SECURE) {
		r->status = CDS_DNSSEC_SECURE;
	} else {
		snprintf(why, whylen, "the RRSIG does not validate with the DNSKEY of %s%s%s", zone,
			 w.limit[0] ? ": " : "", w.limit);
		stop(r, CDS_DNSSEC_BOGUS, why);
	}
}

/* Run a task as far as the cache allows: it ends (its callback runs) or
 * waits for answers, and runs again when they are in. */
static void task_run(struct task *k)
{
	struct cds_trust_result r = {.status = CDS_DNSSEC_INDETERMINATE};
	char zone[CDS_DNAME_BUFSIZE], why[1024];
	const struct entry *target = NULL;
	k->t->epoch = k->started;
	enum progress p = k->kind == TASK_RRSET ? rrset_target(k, &r, zone, &target)
						: enclosing_zone(k, &r, zone);
	if (p == GO_ON) {
		r.zone = zone;
		if (k->t->anchor_count == 0)
			p = stop(&r, CDS_DNSSEC_INDETERMINATE, "no trust anchor");
		else if (!chain_fetched(k, zone))
			p = WAITING;
	}
	if (p == WAITING && k->waiting > 0)
		return;
	if (p == WAITING) {
		r.error = CDS_ENOMEM; /* nothing to wait for: no memory to ask */
		stop(&r, CDS_DNSSEC_ERROR, "out of memory");
	} else if (p == GO_ON) {
		conclude(k->t, k, zone, target, &r, why, sizeof(why));
	}
	finish(k, &r);
}

static int start(struct cds_trust *t, enum task_kind kind, const char *name, uint16_t type,
		 cds_trust_cb cb, void *arg)
{
	struct task *k = calloc(1, sizeof(*k));
	if (!k)
		return CDS_ENOMEM;
	k->t = t;
	k->kind = kind;
	snprintf(k->qname, sizeof(k->qname), "%s", name);
	k->qtype = type;
	k->cb = cb;
	k->arg = arg;
	k->started = cds_clock();
	sweep(t, k->started);
	task_run(k);
	return 0;
}

int cds_trust_rrset(struct cds_trust *t, const char *qname, uint16_t qtype, cds_trust_cb cb,
		    void *arg)
{
	return start(t, TASK_RRSET, qname, qtype, cb, arg);
}

int cds_trust_zone_of(struct cds_trust *t, const char *name, cds_trust_cb cb, void *arg)
{
	return start(t, TASK_ZONE, name, CDS_T_SOA, cb, arg);
}
