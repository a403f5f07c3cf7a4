/* Unit tests of src/dns/trust.c, the validated resolver look-ups of RFC
 * 9615, against a resolver played in the same loop (127.0.0.1, a
 * kernel-chosen port) that serves a small signed world made in the test:
 * test. (the trust anchor), prov.test. (securely delegated), insec.test.
 * (signed, no DS) and plain.test. (unsigned).  An empty answer is missing
 * only when its NSEC/NSEC3 denial validates; a zone is insecure only when
 * its parent proves it has no DS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <uv.h>

#include "cdscan/error.h"
#include "cdscan/trust.h"
#include "testsign.h"

#define SIGNAL "_dsboot.child.test._signal.ns1.prov.test."
#define MAX_ANSWERS 32

/* One answer the resolver gives. */
struct canned {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	uint8_t msg[4096];
	size_t len;
};

struct world {
	uv_loop_t loop;
	uv_udp_t udp;
	struct cds_addr addr;
	struct canned answers[MAX_ANSWERS];
	size_t n;
	struct cds_transport *transport;
	struct cds_trust *trust;
	struct cds_trust_result got;
	char why[1024];
	int calls;
	size_t queries; /* questions the resolver was asked */
};

static struct ts_key k_test, k_prov, k_insec;
static time_t inc, expi;

/* --------------------------------------------------- the resolver --- */

static struct canned *slot(struct world *w, const char *name, uint16_t type)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->answers[i].type == type && strcmp(w->answers[i].name, name) == 0)
			return &w->answers[i];
	assert_true(w->n < MAX_ANSWERS);
	struct canned *c = &w->answers[w->n++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->type = type;
	return c;
}

/* owner/type: rrs[0..n) of zone, signed by k (NULL: unsigned). */
static void rrset(struct world *w, const char *zone, const char *owner, uint16_t type,
		  const struct ts_rr *rrs, size_t n, const struct ts_key *k)
{
	struct canned *c = slot(w, owner, type);
	const struct ts_key *signers[1] = {k};
	c->len = ts_answer_zone(c->msg, zone, owner, type, 0, rrs, n, signers, k ? 1 : 0, inc, expi);
}

/* An empty answer (rcode) to owner/type from zone with auth[0..n), signed
 * by k (NULL: unsigned). */
static void empty(struct world *w, const char *zone, const char *owner, uint16_t type, int rcode,
		  const struct ts_auth *auth, size_t n, const struct ts_key *k)
{
	struct canned *c = slot(w, owner, type);
	const struct ts_key *signers[1] = {k};
	c->len = ts_answer_denial(c->msg, zone, owner, type, rcode, auth, n, signers, k ? 1 : 0,
				  inc, expi);
}

static void nsec(struct ts_auth *a, const char *owner, const char *next, const uint16_t *types,
		 size_t n)
{
	snprintf(a->owner, sizeof(a->owner), "%s", owner);
	ts_rr_nsec(&a->rr, next, types, n);
}

static void question(const uint8_t *m, size_t len, char *name, uint16_t *type)
{
	size_t o = 12, out = 0;
	while (o < len && m[o] && out < CDS_DNAME_BUFSIZE - 65) {
		size_t l = m[o++];
		for (size_t k = 0; k < l && o < len; k++)
			name[out++] = (char)m[o++];
		name[out++] = '.';
	}
	if (out == 0)
		name[out++] = '.';
	name[out] = '\0';
	*type = o + 2 < len ? (uint16_t)(m[o + 1] << 8 | m[o + 2]) : 0;
}

static void send_cb(uv_udp_send_t *req, int status)
{
	free(req);
}

static void alloc_cb(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	static char buf[4096];
	*b = uv_buf_init(buf, sizeof(buf));
}

/* The canned answer to the question, else REFUSED. */
static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	struct world *w = h->data;
	const uint8_t *q = (const uint8_t *)buf->base;
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	if (n < 17 || !from)
		return;
	question(q, (size_t)n, name, &type);
	w->queries++;
	uv_udp_send_t *req = malloc(sizeof(*req) + 4096);
	uint8_t *m = (uint8_t *)(req + 1);
	size_t len = (size_t)n;
	struct canned *c = NULL;
	for (size_t i = 0; i < w->n && !c; i++)
		if (w->answers[i].type == type && strcmp(w->answers[i].name, name) == 0)
			c = &w->answers[i];
	if (c) {
		memcpy(m, c->msg, c->len);
		len = c->len;
	} else {
		memcpy(m, q, len);
		m[2] |= 0x80;
		m[3] = 5; /* REFUSED */
	}
	m[0] = q[0];
	m[1] = q[1];
	uv_buf_t b = uv_buf_init((char *)m, (unsigned)len);
	uv_udp_send(req, &w->udp, &b, 1, from, send_cb);
}

/* ------------------------------------------------------ the world --- */

static int setup_keys(void **state)
{
	(void)state;
	inc = time(NULL) - 3600;
	expi = time(NULL) + 86400;
	return ts_key_new(&k_test, 257) || ts_key_new(&k_prov, 257) || ts_key_new(&k_insec, 257);
}

static int teardown_keys(void **state)
{
	(void)state;
	ts_key_free(&k_test);
	ts_key_free(&k_prov);
	ts_key_free(&k_insec);
	return 0;
}

static const uint16_t NSEC_A[] = {CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC};
static const uint16_t NSEC_CUT[] = {CDS_T_NS, CDS_T_RRSIG, CDS_T_NSEC};
static const uint16_t NSEC_CUT_DS[] = {CDS_T_NS, CDS_T_DS, CDS_T_RRSIG, CDS_T_NSEC};

/* A signed zone's DNSKEY and SOA, and the SOA NODATA at its ns1. */
static void zone(struct world *w, const char *z, const struct ts_key *k)
{
	struct ts_rr rr;
	struct ts_auth a;
	char ns1[CDS_DNAME_BUFSIZE], next[CDS_DNAME_BUFSIZE];
	ts_rr_dnskey(&rr, CDS_T_DNSKEY, k);
	rrset(w, z, z, CDS_T_DNSKEY, &rr, 1, k);
	ts_rr_soa(&rr, 1);
	rrset(w, z, z, CDS_T_SOA, &rr, 1, k);
	snprintf(ns1, sizeof(ns1), "ns1.%s", z);
	snprintf(next, sizeof(next), "zz.%s", z);
	nsec(&a, ns1, next, NSEC_A, 3);
	empty(w, z, ns1, CDS_T_SOA, 0, &a, 1, k);
}

/* The world every test starts from, the signal CDS not yet answered. */
static void world_new(struct world *w)
{
	struct ts_rr rr;
	struct ts_auth a;
	struct cds_transport_opts o = {.max_inflight = 64, .per_server_inflight = 64,
				       .per_server_qps = 100000, .timeout_ms = 2000,
				       .edns_size = 4096};
	struct sockaddr_in sin;
	int len = sizeof(sin);
	memset(w, 0, sizeof(*w));
	zone(w, "test.", &k_test);
	zone(w, "prov.test.", &k_prov);
	zone(w, "insec.test.", &k_insec);
	struct cds_ds ds;
	ts_key_ds(&k_prov, "prov.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	rrset(w, "test.", "prov.test.", CDS_T_DS, &rr, 1, &k_test);
	/* insec.test.: a delegation without DS, proven by test.'s NSEC. */
	nsec(&a, "insec.test.", "plain.test.", NSEC_CUT, 3);
	empty(w, "test.", "insec.test.", CDS_T_DS, 0, &a, 1, &k_test);
	/* plain.test.: unsigned (SOA without RRSIG, no DNSKEY), no DS. */
	ts_rr_soa(&rr, 1);
	rrset(w, "plain.test.", "plain.test.", CDS_T_SOA, &rr, 1, NULL);
	empty(w, "plain.test.", "plain.test.", CDS_T_DNSKEY, 0, NULL, 0, NULL);
	empty(w, "plain.test.", "ns1.plain.test.", CDS_T_SOA, 0, NULL, 0, NULL);
	nsec(&a, "plain.test.", "prov.test.", NSEC_CUT, 3);
	empty(w, "test.", "plain.test.", CDS_T_DS, 0, &a, 1, &k_test);

	assert_int_equal(uv_loop_init(&w->loop), 0);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_udp_init(&w->loop, &w->udp), 0);
	assert_int_equal(uv_udp_bind(&w->udp, (const struct sockaddr *)&sin, 0), 0);
	uv_udp_getsockname(&w->udp, (struct sockaddr *)&w->addr.ss, &len);
	w->addr.len = (socklen_t)len;
	w->udp.data = w;
	uv_udp_recv_start(&w->udp, alloc_cb, recv_cb);
	assert_int_equal(cds_transport_new(&w->loop, &o, &w->transport), 0);
	assert_non_null(w->trust = cds_trust_new(&w->loop, w->transport, &w->addr));
	ts_key_ds(&k_test, "test.", 2, &ds);
	assert_int_equal(cds_trust_set_anchor(w->trust, "test.", &ds, 1), 0);
}

static void close_cb(uv_handle_t *h)
{
}

static void world_free(struct world *w)
{
	cds_trust_free(w->trust);
	cds_transport_free(w->transport);
	uv_close((uv_handle_t *)&w->udp, close_cb);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void result_cb(const struct cds_trust_result *r, void *arg)
{
	struct world *w = arg;
	w->got = *r;
	snprintf(w->why, sizeof(w->why), "%s", r->why ? r->why : "");
	w->got.why = w->why;
	w->got.set = NULL;
	w->got.zone = NULL;
	w->calls++;
}

static void wait_result(struct world *w)
{
	while (w->calls == 0)
		uv_run(&w->loop, UV_RUN_ONCE);
	assert_int_equal(w->calls, 1);
	w->calls = 0;
}

/* The signal CDS look-up: its status, missing, why containing because. */
static void signal_is(struct world *w, enum cds_dnssec_status st, bool missing,
		      const char *because)
{
	assert_int_equal(cds_trust_rrset(w->trust, SIGNAL, CDS_T_CDS, result_cb, w), 0);
	wait_result(w);
	if (w->got.status != st || w->got.missing != missing || !strstr(w->why, because))
		print_error("status %d missing %d why %s\n", w->got.status, w->got.missing, w->why);
	assert_int_equal(w->got.error, 0);
	assert_int_equal(w->got.status, st);
	assert_int_equal(w->got.missing, missing);
	assert_non_null(strstr(w->why, because));
}

static void zone_is(struct world *w, const char *name, enum cds_dnssec_status st,
		    const char *because)
{
	assert_int_equal(cds_trust_zone_of(w->trust, name, result_cb, w), 0);
	wait_result(w);
	if (w->got.status != st || !strstr(w->why, because))
		print_error("status %d why %s\n", w->got.status, w->why);
	assert_int_equal(w->got.status, st);
	assert_non_null(strstr(w->why, because));
}

/* ------------------------------------------------------- signals --- */

static void test_signal_present(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	struct ts_rr rr;
	struct cds_ds ds;
	world_new(w);
	ts_key_ds(&k_insec, "child.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_CDS, &ds);
	rrset(w, "prov.test.", SIGNAL, CDS_T_CDS, &rr, 1, &k_prov);
	signal_is(w, CDS_DNSSEC_SECURE, false, "");
	world_free(w);
	free(w);
}

/* NXDOMAIN: ns1.prov.test.'s NSEC covers the signal name and the wildcard
 * at its closest encloser (ns1.prov.test.). */
static void signal_nxdomain(struct world *w, const struct ts_key *k, const char *zone)
{
	struct ts_auth a;
	nsec(&a, "ns1.prov.test.", "zz.prov.test.", NSEC_A, 3);
	empty(w, zone, SIGNAL, CDS_T_CDS, 3, &a, 1, k);
}

static void test_signal_missing_proven(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	world_new(w);
	signal_nxdomain(w, &k_prov, "prov.test.");
	signal_is(w, CDS_DNSSEC_SECURE, true, "NXDOMAIN, proven by prov.test.");
	world_free(w);
	free(w);
}

static void test_signal_missing_unproven(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	/* No NSEC at all: the resolver's word only. */
	world_new(w);
	empty(w, "prov.test.", SIGNAL, CDS_T_CDS, 3, NULL, 0, &k_prov);
	signal_is(w, CDS_DNSSEC_BOGUS, false, "NXDOMAIN without NSEC or NSEC3");
	world_free(w);
	/* The NSEC signed by a key outside prov.test.'s DNSKEY RRset. */
	world_new(w);
	signal_nxdomain(w, &k_insec, "prov.test.");
	signal_is(w, CDS_DNSSEC_BOGUS, false, "not proven: RRSIG of NSEC at ns1.prov.test.");
	world_free(w);
	/* test.'s NSEC of the delegation prov.test.: it covers the name, but
	 * from above the zone cut (RFC 6840 §4.1). */
	world_new(w);
	struct ts_auth a;
	nsec(&a, "prov.test.", "zz.test.", NSEC_CUT_DS, 4);
	empty(w, "test.", SIGNAL, CDS_T_CDS, 3, &a, 1, &k_test);
	signal_is(w, CDS_DNSSEC_BOGUS, false, "not proven: no NSEC at or covering");
	world_free(w);
	free(w);
}

static void test_signal_nsec3_iterations(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	struct ts_auth a;
	uint8_t h[20], next[20];
	static const uint8_t salt[] = {1};
	static const uint16_t types[] = {CDS_T_RRSIG};
	world_new(w);
	/* NODATA by an NSEC3 of 500 iterations: RFC 9276 §3.2, insecure. */
	ts_nsec3_hash(SIGNAL, salt, 1, 500, h);
	memcpy(next, h, 20);
	next[19] ^= 1;
	ts_nsec3_owner(h, "prov.test.", a.owner);
	ts_rr_nsec3(&a.rr, 0, 500, salt, 1, next, types, 1);
	empty(w, "prov.test.", SIGNAL, CDS_T_CDS, 0, &a, 1, &k_prov);
	signal_is(w, CDS_DNSSEC_INSECURE, false, "NSEC3 iterations 500 above");
	world_free(w);
	/* The same with a limit of 500: proven. */
	world_new(w);
	empty(w, "prov.test.", SIGNAL, CDS_T_CDS, 0, &a, 1, &k_prov);
	struct cds_dnssec_limits limits = cds_dnssec_limits_default;
	limits.nsec3_max_iterations = 500;
	cds_trust_set_limits(w->trust, &limits);
	signal_is(w, CDS_DNSSEC_SECURE, true, "NODATA");
	world_free(w);
	free(w);
}

/* One look-up, its whole chain from the anchor, is one budget of
 * verifications (limits.verifications-per-delegation): test.'s DNSKEY, the
 * DS of prov.test., prov.test.'s DNSKEY, the signal.  With 3 the signal is
 * refused naming the limit; the zones validated before it stay validated,
 * so the next look-up costs one and passes. */
static void test_signal_budget(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	struct ts_rr rr;
	struct cds_ds ds;
	struct cds_dnssec_limits limits = cds_dnssec_limits_default;
	world_new(w);
	ts_key_ds(&k_insec, "child.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_CDS, &ds);
	rrset(w, "prov.test.", SIGNAL, CDS_T_CDS, &rr, 1, &k_prov);
	limits.verifications_per_delegation = 3;
	cds_trust_set_limits(w->trust, &limits);
	signal_is(w, CDS_DNSSEC_BOGUS, false,
		  "the RRSIG does not validate with the DNSKEY of prov.test.: 3 signature "
		  "verifications were made for this delegation before the CDS RRset of "
		  SIGNAL "; limits.verifications-per-delegation is 3");
	signal_is(w, CDS_DNSSEC_SECURE, false, "");
	world_free(w);
	free(w);
}

/* An answer beyond limits.records-per-rrset is refused, the limit named. */
static void test_signal_records_limit(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	struct ts_rr rr[2];
	struct cds_ds ds;
	struct cds_dnssec_limits limits = cds_dnssec_limits_default;
	world_new(w);
	ts_key_ds(&k_insec, "child.test.", 2, &ds);
	ts_rr_ds(&rr[0], CDS_T_CDS, &ds);
	ts_key_ds(&k_prov, "child.test.", 2, &ds);
	ts_rr_ds(&rr[1], CDS_T_CDS, &ds);
	rrset(w, "prov.test.", SIGNAL, CDS_T_CDS, rr, 2, &k_prov);
	limits.records_per_rrset = 1;
	cds_trust_set_limits(w->trust, &limits);
	assert_int_equal(cds_trust_rrset(w->trust, SIGNAL, CDS_T_CDS, result_cb, w), 0);
	wait_result(w);
	assert_int_equal(w->got.error, CDS_ERANGE);
	assert_int_equal(w->got.status, CDS_DNSSEC_ERROR);
	assert_string_equal(w->why, "2 CDS records in one RRset; limits.records-per-rrset is 1");
	world_free(w);
	free(w);
}

/* --------------------------------------------------------- zones --- */

static void test_zone_secure_and_insecure(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	world_new(w);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	/* Signed, no DS in test., proven by test.'s NSEC at the cut. */
	zone_is(w, "ns1.insec.test.", CDS_DNSSEC_INSECURE,
		"insec.test. has a DNSKEY RRset and no DS in test. (proven)");
	/* Unsigned, no DS, proven as well. */
	zone_is(w, "ns1.plain.test.", CDS_DNSSEC_INSECURE,
		"plain.test. is not signed (no DNSKEY) and no DS in test. (proven)");
	world_free(w);
	free(w);
}

/* An unsigned zone (SOA, no DNSKEY) below zone, its DS asked of zone
 * answered empty without NSEC. */
static void unsigned_below(struct world *w, const char *z, const char *parent)
{
	struct ts_rr rr;
	char ns1[CDS_DNAME_BUFSIZE];
	snprintf(ns1, sizeof(ns1), "ns1.%s", z);
	ts_rr_soa(&rr, 1);
	rrset(w, z, z, CDS_T_SOA, &rr, 1, NULL);
	empty(w, z, z, CDS_T_DNSKEY, 0, NULL, 0, NULL);
	empty(w, z, ns1, CDS_T_SOA, 0, NULL, 0, NULL);
	empty(w, parent, z, CDS_T_DS, 0, NULL, 0, NULL);
}

static void test_zone_below_unsigned(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	world_new(w);
	/* Below the unsigned plain.test. nothing can be proven, and need not
	 * be: insecure as plain.test. is (proven by test.). */
	unsigned_below(w, "sub.plain.test.", "plain.test.");
	zone_is(w, "ns1.sub.plain.test.", CDS_DNSSEC_INSECURE,
		"sub.plain.test.: plain.test. is not signed (no DNSKEY) and no DS in test. (proven)");
	/* Below the secure prov.test., the same answers prove nothing. */
	unsigned_below(w, "x.prov.test.", "prov.test.");
	zone_is(w, "ns1.x.prov.test.", CDS_DNSSEC_BOGUS,
		"x.prov.test. is not signed (no DNSKEY), and no NSEC/NSEC3 of a parent zone proves");
	world_free(w);
	free(w);
}

static void test_zone_insecure_unproven(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	struct ts_auth a;
	/* No DS, and no NSEC with the answer. */
	world_new(w);
	empty(w, "test.", "insec.test.", CDS_T_DS, 0, NULL, 0, &k_test);
	zone_is(w, "ns1.insec.test.", CDS_DNSSEC_BOGUS, "no NSEC/NSEC3 of a parent zone proves");
	world_free(w);
	/* An NSEC that lists the DS it denies. */
	world_new(w);
	nsec(&a, "plain.test.", "prov.test.", NSEC_CUT_DS, 4);
	empty(w, "test.", "plain.test.", CDS_T_DS, 0, &a, 1, &k_test);
	zone_is(w, "ns1.plain.test.", CDS_DNSSEC_BOGUS,
		"no DS in test., but the denial does not hold (NSEC at plain.test. lists type DS)");
	world_free(w);
	/* The denial signed by the zone itself, not by its parent. */
	world_new(w);
	nsec(&a, "insec.test.", "zz.insec.test.", NSEC_CUT, 3);
	empty(w, "insec.test.", "insec.test.", CDS_T_DS, 0, &a, 1, &k_insec);
	zone_is(w, "ns1.insec.test.", CDS_DNSSEC_BOGUS, "no NSEC/NSEC3 of a parent zone proves");
	world_free(w);
	free(w);
}

/* ------------------------------------------------------ the cache --- */

/* The injectable clock (cds_clock): CDSCAN_NOW at t. */
static void clock_at(time_t t)
{
	char txt[32];
	cds_time_format(t, txt, sizeof(txt));
	assert_int_equal(setenv("CDSCAN_NOW", txt, 1), 0);
}

/* prov.test.'s DS in test. now names another key: prov.test. is bogus for
 * whoever asks again. */
static void break_prov_ds(struct world *w)
{
	struct ts_rr rr;
	struct cds_ds ds;
	ts_key_ds(&k_insec, "prov.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	rrset(w, "test.", "prov.test.", CDS_T_DS, &rr, 1, &k_test);
}

/* Answers are reused for their TTL (300 s here), then asked again: a zone
 * whose DS changed is judged on the new one. */
static void test_cache_ttl(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	time_t t0 = time(NULL);
	world_new(w);
	clock_at(t0);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	size_t asked = w->queries;
	assert_true(asked > 0);
	break_prov_ds(w);
	clock_at(t0 + 10);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	assert_int_equal(w->queries, asked); /* all from the cache */
	clock_at(t0 + 301);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_BOGUS, "prov.test. is not authenticated by its DS");
	assert_true(w->queries > asked);
	unsetenv("CDSCAN_NOW");
	world_free(w);
	free(w);
}

/* resolver.cache-max-ttl bounds a longer TTL. */
static void test_cache_max_ttl(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	time_t t0 = time(NULL);
	world_new(w);
	cds_trust_set_cache_max_ttl(w->trust, 60);
	clock_at(t0);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	break_prov_ds(w);
	clock_at(t0 + 59);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	clock_at(t0 + 61);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_BOGUS, "prov.test. is not authenticated by its DS");
	unsetenv("CDSCAN_NOW");
	world_free(w);
	free(w);
}

/* An RRSIG that expires before the TTL runs out ends the entry: a zone
 * whose signatures expired is not secure a moment later (it used to stay
 * secure for the scanner's life). */
static void test_cache_signature_expiry(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	time_t t0 = time(NULL), saved = expi;
	expi = t0 + 100;
	world_new(w);
	expi = saved;
	clock_at(t0);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	clock_at(t0 + 150);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_BOGUS, "");
	world_free(w);
	/* Only the DS in the parent signed so: the zone's outcome rests on it
	 * and ends with it, though its own DNSKEY answer is still fresh. */
	world_new(w);
	struct ts_rr rr;
	struct cds_ds ds;
	ts_key_ds(&k_prov, "prov.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	expi = t0 + 100;
	rrset(w, "test.", "prov.test.", CDS_T_DS, &rr, 1, &k_test);
	expi = saved;
	clock_at(t0);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_SECURE, "");
	clock_at(t0 + 150);
	zone_is(w, "ns1.prov.test.", CDS_DNSSEC_BOGUS, "the DS of prov.test. does not validate");
	unsetenv("CDSCAN_NOW");
	world_free(w);
	free(w);
}

/* A failed look-up is asked again after 30 s at most. */
static void test_cache_failure(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof(*w));
	time_t t0 = time(NULL);
	struct ts_rr rr;
	struct cds_ds ds;
	world_new(w);
	clock_at(t0);
	/* new.test. is not served yet: REFUSED. */
	zone_is(w, "ns1.new.test.", CDS_DNSSEC_ERROR, "look-up of the enclosing zone failed");
	zone(w, "new.test.", &k_prov);
	ts_key_ds(&k_prov, "new.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	rrset(w, "test.", "new.test.", CDS_T_DS, &rr, 1, &k_test);
	clock_at(t0 + 20);
	zone_is(w, "ns1.new.test.", CDS_DNSSEC_ERROR, "look-up of the enclosing zone failed");
	clock_at(t0 + 31);
	zone_is(w, "ns1.new.test.", CDS_DNSSEC_SECURE, "");
	unsetenv("CDSCAN_NOW");
	world_free(w);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_present),
		cmocka_unit_test(test_signal_missing_proven),
		cmocka_unit_test(test_signal_missing_unproven),
		cmocka_unit_test(test_signal_nsec3_iterations),
		cmocka_unit_test(test_signal_budget),
		cmocka_unit_test(test_signal_records_limit),
		cmocka_unit_test(test_zone_secure_and_insecure),
		cmocka_unit_test(test_zone_insecure_unproven),
		cmocka_unit_test(test_zone_below_unsigned),
		cmocka_unit_test(test_cache_ttl),
		cmocka_unit_test(test_cache_max_ttl),
		cmocka_unit_test(test_cache_signature_expiry),
		cmocka_unit_test(test_cache_failure),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
