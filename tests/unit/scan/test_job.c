/* Unit tests of one delegation's scan job and its phases (src/scan/job.c)
 * against a responder in the same loop (127.0.0.1, kernel-chosen ports)
 * that serves signed answers made in the test: the apex queries at every
 * address, the CSYNC phases in RFC 7477 §3.4's order (SOA, data, SOA
 * again) only when the policy says the CSYNC would be acted on, the RFC 9615
 * look-ups only for an insecure delegation with a signal, an unusable
 * address, and the callback contract. */
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
#include "cdscan/policy.h"
#include "cdscan/scan.h"
#include "testsign.h"

#define ZONE "child.test."
#define MAX_LOG 256

static struct ts_key ksk;

/* What the responder serves for the zone. */
struct zone_data {
	bool signal;    /* CDS of ksk, signed */
	bool csync;     /* CSYNC 7 immediate, signed; NS only unless csync_aaaa */
	uint32_t serial;
	bool csync_a_aaaa;   /* the CSYNC names NS, A and AAAA */
	bool csync_unsigned; /* the CSYNC without RRSIG */
	bool ns_unsigned;    /* the apex NS RRset without RRSIG */
	size_t child_ns;     /* nsK.child.test. (K = 1..child_ns) in the NS RRset too */
	const char *new_ns;  /* an out-of-bailiwick name in the NS RRset too */
	size_t new_ns_addrs; /* its A records (from the resolver): 127.0.9.1, .2, ... */
	/* Empty answers at the apex carry the SOA and the apex's NSEC (1) or
	 * NSEC3 (2), whose bitmap lists the types served, CDNSKEY too with
	 * bitmap_cdnskey (none is served), CSYNC not with bitmap_hides_csync;
	 * 0: no SOA, no denial. */
	int denial;
	bool bitmap_cdnskey;
	bool bitmap_hides_csync;
};

/* One query as the responder saw it. */
struct seen {
	char qname[CDS_DNAME_BUFSIZE];
	uint16_t qtype;
};

struct responder {
	uv_udp_t udp;
	struct cds_addr addr;
	const struct zone_data *zone;
	struct seen log[MAX_LOG];
	size_t n;
};

/* The question of a query: its name (lower-case text) and type. */
static size_t question(const uint8_t *m, size_t len, char *name, uint16_t *type)
{
	size_t o = 12, out = 0;
	while (o < len && m[o]) {
		size_t l = m[o++];
		for (size_t k = 0; k < l && o < len; k++)
			name[out++] = (char)m[o++];
		name[out++] = '.';
	}
	if (out == 0)
		name[out++] = '.';
	name[out] = '\0';
	*type = (uint16_t)(m[o + 1] << 8 | m[o + 2]);
	return o + 5;
}

/* The child's NS RRset: ns1.provider.test. and what z adds to it. */
static size_t child_ns_set(const struct zone_data *z, struct ts_rr *rr)
{
	size_t n = 0;
	ts_rr_name(&rr[n++], CDS_T_NS, "ns1.provider.test.");
	for (size_t k = 1; k <= z->child_ns; k++) {
		char name[64];
		snprintf(name, sizeof(name), "ns%zu.child.test.", k);
		ts_rr_name(&rr[n++], CDS_T_NS, name);
	}
	if (z->new_ns)
		ts_rr_name(&rr[n++], CDS_T_NS, z->new_ns);
	return n;
}

/* The resolver's answer for the new name: its A records, no AAAA. */
static size_t new_ns_answer(const struct zone_data *z, const char *qname, uint16_t qtype,
			    uint8_t *out)
{
	struct ts_rr rr[CDS_NS_MAX_ADDRS];
	size_t n = 0;
	for (size_t k = 1; qtype == CDS_T_A && k <= z->new_ns_addrs && n < CDS_NS_MAX_ADDRS; k++) {
		char a[32];
		snprintf(a, sizeof(a), "127.0.9.%zu", k);
		ts_rr_addr(&rr[n++], a);
	}
	return ts_answer(out, qname, qtype, 0, rr, n, NULL, 0, 0, 0);
}

/* An empty answer at the apex with the SOA and the apex's NSEC or NSEC3
 * (z->denial). */
static size_t apex_denial(const struct zone_data *z, uint16_t qtype, uint8_t *out)
{
	static const uint8_t salt[] = {0x01};
	const struct ts_key *signers[1] = {&ksk};
	time_t now = time(NULL);
	uint16_t types[10];
	size_t t = 0;
	struct ts_auth a;
	uint8_t h[20], next[20];
	types[t++] = CDS_T_NS;
	types[t++] = CDS_T_SOA;
	types[t++] = CDS_T_RRSIG;
	types[t++] = z->denial == 1 ? CDS_T_NSEC : CDS_T_DNSKEY;
	if (z->denial == 1)
		types[t++] = CDS_T_DNSKEY;
	if (z->signal)
		types[t++] = CDS_T_CDS;
	if (z->bitmap_cdnskey)
		types[t++] = CDS_T_CDNSKEY;
	if (z->csync && !z->bitmap_hides_csync)
		types[t++] = CDS_T_CSYNC;
	if (z->denial == 1) {
		snprintf(a.owner, sizeof(a.owner), ZONE);
		ts_rr_nsec(&a.rr, "ns1." ZONE, types, t);
	} else {
		ts_nsec3_hash(ZONE, salt, sizeof(salt), 0, h);
		ts_nsec3_owner(h, ZONE, a.owner);
		memset(next, 0xee, sizeof(next));
		ts_rr_nsec3(&a.rr, 0, 0, salt, sizeof(salt), next, types, t);
	}
	return ts_answer_denial(out, ZONE, ZONE, qtype, 0, &a, 1, signers, 1, now - 3600,
				now + 86400);
}

/* The signed answer the zone gives to (qname, qtype); NXDOMAIN below it. */
static size_t answer(const struct zone_data *z, const char *qname, uint16_t qtype, uint8_t *out)
{
	const struct ts_key *signers[1] = {&ksk};
	time_t now = time(NULL), inc = now - 3600, exp = now + 86400;
	struct ts_rr rr[48];
	size_t n = 0, nsig = 1;
	if (z->new_ns && strcmp(qname, z->new_ns) == 0)
		return new_ns_answer(z, qname, qtype, out);
	if (strcmp(qname, ZONE) != 0)
		return ts_answer(out, qname, qtype, 3, NULL, 0, NULL, 0, inc, exp);
	if (qtype == CDS_T_SOA) {
		ts_rr_soa(&rr[n++], z->serial);
	} else if (qtype == CDS_T_DNSKEY) {
		ts_rr_dnskey(&rr[n++], CDS_T_DNSKEY, &ksk);
	} else if (qtype == CDS_T_NS) {
		n = child_ns_set(z, rr);
		nsig = z->ns_unsigned ? 0 : 1;
	} else if (qtype == CDS_T_CDS && z->signal) {
		struct cds_ds ds;
		ts_key_ds(&ksk, ZONE, 2, &ds);
		ts_rr_ds(&rr[n++], CDS_T_CDS, &ds);
	} else if (qtype == CDS_T_CSYNC && z->csync) {
		static const uint16_t types[] = {CDS_T_NS, CDS_T_A, CDS_T_AAAA};
		ts_rr_csync(&rr[n++], 7, CDS_CSYNC_IMMEDIATE, types, z->csync_a_aaaa ? 3 : 1);
		nsig = z->csync_unsigned ? 0 : 1;
	}
	if (n == 0 && z->denial)
		return apex_denial(z, qtype, out);
	return ts_answer(out, qname, qtype, 0, rr, n, signers, nsig, inc, exp);
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

static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	struct responder *r = h->data;
	const uint8_t *q = (const uint8_t *)buf->base;
	if (n < 17 || !from)
		return;
	struct seen *s = &r->log[r->n < MAX_LOG ? r->n++ : MAX_LOG - 1];
	question(q, (size_t)n, s->qname, &s->qtype);
	uv_udp_send_t *req = malloc(sizeof(*req) + 4096);
	uint8_t *m = (uint8_t *)(req + 1);
	size_t len = answer(r->zone, s->qname, s->qtype, m);
	m[0] = q[0]; /* the query's ID */
	m[1] = q[1];
	uv_buf_t b = uv_buf_init((char *)m, (unsigned)len);
	uv_udp_send(req, &r->udp, &b, 1, from, send_cb);
}

static void responder_start(uv_loop_t *loop, struct responder *r, const struct zone_data *z)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);
	memset(r, 0, sizeof(*r));
	r->zone = z;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_udp_init(loop, &r->udp), 0);
	assert_int_equal(uv_udp_bind(&r->udp, (const struct sockaddr *)&sin, 0), 0);
	uv_udp_getsockname(&r->udp, (struct sockaddr *)&r->addr.ss, &len);
	r->addr.len = (socklen_t)len;
	r->udp.data = r;
	uv_udp_recv_start(&r->udp, alloc_cb, recv_cb);
}

/* The position of (qname, qtype) in the responder's log from index from,
 * or -1. */
static long seen_at(const struct responder *r, const char *qname, uint16_t qtype, size_t from)
{
	for (size_t i = from; i < r->n; i++)
		if (r->log[i].qtype == qtype && strcmp(r->log[i].qname, qname) == 0)
			return (long)i;
	return -1;
}

static size_t count_type(const struct responder *r, uint16_t qtype)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->log[i].qtype == qtype;
	return n;
}

/* One scan of a delegation on the loop. */
struct run {
	uv_loop_t loop;
	struct cds_conf conf;
	struct cds_scanner *scanner;
	struct responder ns, resolver;
	struct cds_ns_entry entry;
	struct cds_ds ds;
	struct cds_delegation d;
	struct cds_scan_result *res;
	int calls;
};

static void done_cb(struct cds_scan_result *res, void *arg)
{
	struct run *r = arg;
	r->res = res;
	r->calls++;
}

/* The delegation of ZONE to one address of the responder, secure (its DS
 * names ksk) or not; the resolver is a second responder. */
static void run_setup(struct run *r, const struct zone_data *z, bool secure)
{
	char resolver[64];
	memset(r, 0, sizeof(*r));
	assert_int_equal(uv_loop_init(&r->loop), 0);
	assert_int_equal(cds_conf_init(&r->conf), 0);
	r->conf.scan.timeout_ms = 2000;
	/* The responders listen on 127.0.0.1: loopback, refused unless
	 * allowed (resolver.allow-addresses). */
	assert_int_equal(cds_prefix_parse("127.0.0.0/8", &r->conf.resolver.allow[0]), 0);
	r->conf.resolver.allow_count = 1;
	responder_start(&r->loop, &r->ns, z);
	responder_start(&r->loop, &r->resolver, z);
	cds_addr_format(&r->resolver.addr, resolver, sizeof(resolver));
	const char *resolvers[1] = {resolver};
	assert_int_equal(cds_scanner_new(&r->loop, &r->conf, resolvers, 1, &r->scanner), 0);
	snprintf(r->entry.name, sizeof(r->entry.name), "ns1.provider.test.");
	r->entry.addrs[0] = r->ns.addr;
	r->entry.addr_count = 1;
	snprintf(r->d.domain, sizeof(r->d.domain), ZONE);
	r->d.ns = &r->entry;
	r->d.ns_count = 1;
	ts_key_ds(&ksk, ZONE, 2, &r->ds);
	r->d.ds = secure ? &r->ds : NULL;
	r->d.ds_count = secure ? 1 : 0;
}

static void run_scan(struct run *r)
{
	assert_int_equal(cds_scanner_scan(r->scanner, &r->d, NULL, done_cb, r), 0);
	assert_int_equal(r->calls, 0); /* never from inside the call */
	while (r->calls == 0)
		uv_run(&r->loop, UV_RUN_ONCE);
	assert_int_equal(r->calls, 1);
}

static void close_cb(uv_handle_t *h)
{
}

static void run_teardown(struct run *r)
{
	cds_scan_result_free(r->res);
	cds_scanner_free(r->scanner);
	uv_close((uv_handle_t *)&r->ns.udp, close_cb);
	uv_close((uv_handle_t *)&r->resolver.udp, close_cb);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&r->loop), 0);
	cds_conf_deinit(&r->conf);
}

/* No CSYNC, no signal: the six apex queries and nothing else. */
static void test_apex_only(void **state)
{
	static const struct zone_data z = {.serial = 1};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_int_equal(r->res->server_count, 1);
	const struct cds_server_result *srv = &r->res->servers[0];
	assert_true(srv->ok);
	assert_int_equal(srv->soa_serial, 1);
	assert_int_equal(srv->sets[CDS_Q_DNSKEY].count, 1);
	assert_int_equal(srv->sets[CDS_Q_NS].count, 1);
	assert_null(srv->csync);
	assert_false(r->res->signals_asked);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	for (int k = 0; k < CDS_Q_COUNT; k++)
		assert_true(seen_at(&r->ns, ZONE, cds_query_type((enum cds_query_kind)k), 0) >= 0);
	assert_int_equal(r->resolver.n, 0); /* glue given: no look-up */
	run_teardown(r);
	free(r);
}

/* An actionable CSYNC: NS again after the first SOA, then the SOA again
 * (RFC 7477 §3.4), and the data kept per server. */
static void test_csync_phases(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	const struct cds_server_result *srv = &r->res->servers[0];
	assert_true(srv->ok);
	assert_non_null(srv->csync);
	assert_true(srv->csync->ok);
	assert_true(srv->csync->ns.present);
	assert_int_equal(srv->csync->ns.count, 1);
	assert_true(srv->csync->soa_after);
	assert_int_equal(srv->csync->soa_serial_after, 9);
	/* Order: the apex (one SOA, one NS), then NS, then SOA. */
	assert_int_equal(count_type(&r->ns, CDS_T_SOA), 2);
	assert_int_equal(count_type(&r->ns, CDS_T_NS), 2);
	long first_ns = seen_at(&r->ns, ZONE, CDS_T_NS, 0);
	long second_ns = seen_at(&r->ns, ZONE, CDS_T_NS, (size_t)first_ns + 1);
	long first_soa = seen_at(&r->ns, ZONE, CDS_T_SOA, 0);
	long second_soa = seen_at(&r->ns, ZONE, CDS_T_SOA, (size_t)first_soa + 1);
	assert_true(first_soa >= 0 && second_ns > first_soa && second_soa > second_ns);
	assert_true(second_ns >= CDS_Q_COUNT); /* after every apex answer */
	/* The same NS set: nothing is probed. */
	assert_int_equal(r->res->probe_count, 0);
	run_teardown(r);
	free(r);
}

/* The same CSYNC on an insecure delegation: the decision would reject it,
 * so the scan fetches nothing more. */
static void test_csync_not_actionable(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, false);
	r->conf.policy.bootstrap_authenticated = false;
	run_scan(r);
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	/* And with CSYNC processing off, on a secure delegation, neither. */
	run_teardown(r);
	run_setup(r, &z, true);
	r->conf.policy.csync = false;
	run_scan(r);
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	run_teardown(r);
	free(r);
}

/* An insecure delegation with a signal: the RFC 9615 names of its NS host
 * are looked up through the resolver (with the host's zone). */
static void test_bootstrap_phase(void **state)
{
	static const struct zone_data z = {.serial = 3, .signal = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, false);
	run_scan(r);
	assert_true(r->res->signals_asked);
	assert_int_equal(r->res->signal_count, 1);
	assert_string_equal(r->res->signals[0].ns, "ns1.provider.test.");
	const char *qname = "_dsboot.child.test._signal.ns1.provider.test.";
	assert_true(seen_at(&r->resolver, qname, CDS_T_CDS, 0) >= 0);
	assert_true(seen_at(&r->resolver, qname, CDS_T_CDNSKEY, 0) >= 0);
	/* Without a signal at the apex, nothing is asked. */
	static const struct zone_data quiet = {.serial = 3};
	run_teardown(r);
	run_setup(r, &quiet, false);
	run_scan(r);
	assert_false(r->res->signals_asked);
	assert_int_equal(r->resolver.n, 0);
	run_teardown(r);
	free(r);
}

/* An address where nothing listens is unusable, with the reason; the
 * CSYNC phases need every address and do not run. */
static void test_unusable_address(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true};
	struct run *r = calloc(1, sizeof(*r));
	struct cds_ns_entry two[2];
	run_setup(r, &z, true);
	r->conf.scan.timeout_ms = 200;
	r->conf.scan.retries = 0;
	cds_scanner_free(r->scanner);
	char resolver[64];
	cds_addr_format(&r->resolver.addr, resolver, sizeof(resolver));
	const char *resolvers[1] = {resolver};
	assert_int_equal(cds_scanner_new(&r->loop, &r->conf, resolvers, 1, &r->scanner), 0);
	two[0] = r->entry;
	two[1] = r->entry;
	snprintf(two[1].name, sizeof(two[1].name), "ns2.provider.test.");
	assert_int_equal(cds_addr_parse("127.0.0.1#9", 53, &two[1].addrs[0]), 0);
	r->d.ns = two;
	r->d.ns_count = 2;
	run_scan(r);
	assert_int_equal(r->res->server_count, 2);
	assert_true(r->res->servers[0].ok);
	assert_false(r->res->servers[1].ok);
	assert_non_null(strstr(r->res->servers[1].error, "connection refused"));
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	run_teardown(r);
	free(r);
}

/* A delegation without nameservers ends at once, yet on a later loop turn. */
static void test_no_nameserver(void **state)
{
	static const struct zone_data z = {.serial = 1};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	r->d.ns_count = 0;
	run_scan(r);
	assert_int_equal(r->res->server_count, 0);
	assert_int_equal(r->ns.n, 0);
	run_teardown(r);
	free(r);
}

/* ------------------------------------- #20: scan.type-bitmaps --- */

static uint64_t bitmap_skipped(const struct run *r)
{
	struct cds_scanner_stats st;
	cds_scanner_stats(r->scanner, &st);
	return st.bitmap_skipped;
}

static void ds_verdict(struct run *r, const char *ds_code, const char *ns_code)
{
	struct cds_verdict v;
	assert_int_equal(cds_policy_decide(r->res, &r->conf, time(NULL), &v), 0);
	assert_string_equal(cds_reason_code(v.ds_side.reasons[0]), ds_code);
	assert_string_equal(cds_reason_code(v.ns_side.reasons[0]), ns_code);
	cds_verdict_clear(&v);
}

/* A secure delegation without a signal, NSEC or NSEC3: CDS alone, the
 * apex's bitmap answers for CDNSKEY and CSYNC, the verdict as before. */
static void test_bitmap_no_signal(void **state)
{
	for (int denial = 1; denial <= 2; denial++) {
		struct zone_data z = {.serial = 1, .denial = denial};
		struct run *r = calloc(1, sizeof(*r));
		run_setup(r, &z, true);
		run_scan(r);
		const struct cds_server_result *srv = &r->res->servers[0];
		assert_true(srv->ok);
		assert_int_equal(r->ns.n, 1);
		assert_int_equal(r->ns.log[0].qtype, CDS_T_CDS);
		for (int k = CDS_Q_CDS; k <= CDS_Q_CSYNC; k++) {
			assert_true(srv->sets[k].present);
			assert_int_equal(srv->sets[k].count, 0);
			assert_int_equal(srv->sets[k].rcode, 0);
		}
		assert_false(r->res->apex_asked);
		assert_int_equal(bitmap_skipped(r), 2);
		ds_verdict(r, "no-signal", "no-csync");
		run_teardown(r);
		free(r);
	}
}

/* A type the bitmap lists is asked, even where the server then has none,
 * and with it the rest of the apex (a listed type announces a signal). */
static void test_bitmap_listed_asked(void **state)
{
	static const struct zone_data z = {.serial = 1, .denial = 1, .bitmap_cdnskey = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_int_equal(r->ns.n, 5);
	assert_int_equal(r->ns.log[0].qtype, CDS_T_CDS);
	assert_int_equal(count_type(&r->ns, CDS_T_CDNSKEY), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_CSYNC), 0);
	assert_int_equal(count_type(&r->ns, CDS_T_SOA), 1);
	assert_int_equal(bitmap_skipped(r), 1);
	ds_verdict(r, "no-signal", "no-csync");
	run_teardown(r);
	free(r);
}

/* A CSYNC alone: the bitmap lists it, so CSYNC and the rest of the apex go
 * in the second round together, CDNSKEY never; then RFC 7477 §3.4's NS and
 * SOA again, as in test_csync_phases. */
static void test_bitmap_csync_only(void **state)
{
	static const struct zone_data z = {.serial = 9, .denial = 1, .csync = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	const struct cds_server_result *srv = &r->res->servers[0];
	assert_true(srv->ok);
	assert_int_equal(r->ns.log[0].qtype, CDS_T_CDS);
	assert_int_equal(count_type(&r->ns, CDS_T_CDNSKEY), 0);
	assert_int_equal(count_type(&r->ns, CDS_T_CSYNC), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_DNSKEY), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_SOA), 2);
	assert_int_equal(count_type(&r->ns, CDS_T_NS), 2);
	/* CSYNC, SOA, DNSKEY and NS are the second round: the four after CDS. */
	for (size_t i = 1; i <= 4; i++)
		assert_int_not_equal(r->ns.log[i].qtype, CDS_T_CDS);
	assert_non_null(srv->csync);
	assert_true(srv->csync->ok);
	assert_int_equal(bitmap_skipped(r), 1);
	run_teardown(r);
	free(r);
}

/* A signal: after CDS, the rest of the probe and of the apex at once
 * (two round trips, six queries), and the verdict of the full scan. */
static void test_bitmap_signal(void **state)
{
	static const struct zone_data z = {.serial = 1, .denial = 1, .signal = true};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	assert_int_equal(r->ns.log[0].qtype, CDS_T_CDS);
	for (int k = 0; k < CDS_Q_COUNT; k++)
		assert_int_equal(count_type(&r->ns, cds_query_type((enum cds_query_kind)k)), 1);
	assert_true(r->res->apex_asked);
	assert_int_equal(bitmap_skipped(r), 0);
	ds_verdict(r, "signal-unchanged", "no-csync");
	run_teardown(r);
	free(r);
}

/* Off, without DS, or without a denial in the answer: all three at once.
 * And what the switch is for: a bitmap that leaves out a CSYNC the server
 * does publish hides it while the switch is on (cdscan.yaml(5)). */
static void test_bitmap_not_used(void **state)
{
	static const struct zone_data hides = {.serial = 9, .denial = 1, .csync = true,
					       .bitmap_hides_csync = true};
	static const struct zone_data plain = {.serial = 1};
	struct run *r = calloc(1, sizeof(*r));

	run_setup(r, &hides, true);
	run_scan(r);
	assert_int_equal(r->ns.n, 1);
	assert_null(r->res->servers[0].csync);
	ds_verdict(r, "no-signal", "no-csync");
	run_teardown(r);

	run_setup(r, &hides, true);
	r->conf.scan.type_bitmaps = false;
	run_scan(r);
	assert_int_equal(count_type(&r->ns, CDS_T_CSYNC), 1);
	assert_int_equal(r->res->servers[0].sets[CDS_Q_CSYNC].count, 1);
	assert_int_equal(bitmap_skipped(r), 0);
	run_teardown(r);

	run_setup(r, &hides, false); /* no DS */
	r->conf.policy.bootstrap_authenticated = false;
	run_scan(r);
	assert_int_equal(count_type(&r->ns, CDS_T_CDS), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_CDNSKEY), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_CSYNC), 1);
	assert_int_equal(r->ns.log[0].qtype == CDS_T_CDS ? 0 : 1, 0);
	run_teardown(r);

	run_setup(r, &plain, true); /* empty answers without SOA or NSEC */
	run_scan(r);
	assert_int_equal(count_type(&r->ns, CDS_T_CDNSKEY), 1);
	assert_int_equal(count_type(&r->ns, CDS_T_CSYNC), 1);
	assert_int_equal(bitmap_skipped(r), 0);
	run_teardown(r);
	free(r);
}

/* ------------------------------------------------ #16: bounded work --- */

/* The datagrams the scanner sent so far (every query, retries counted). */
static uint64_t sent(const struct run *r)
{
	struct cds_scanner_stats st;
	cds_scanner_stats(r->scanner, &st);
	return st.queries;
}

/* Decide r's result: the reason of one side (ds true: the DS side) must
 * be code and its detail must contain part. */
static void verdict_is(struct run *r, bool ds, const char *code, const char *part)
{
	struct cds_verdict v;
	assert_int_equal(cds_policy_decide(r->res, &r->conf, time(NULL), &v), 0);
	const struct cds_verdict_side *side = ds ? &v.ds_side : &v.ns_side;
	const char *got = cds_reason_code(side->reasons[0]);
	if (strcmp(got, code) != 0 || !strstr(side->detail, part))
		print_error("%s: %s (%s)\n", ds ? "ds" : "ns", got, side->detail);
	assert_string_equal(got, code);
	assert_non_null(strstr(side->detail, part));
	cds_verdict_clear(&v);
}

static void ns_verdict_is(struct run *r, const char *code, const char *part)
{
	verdict_is(r, false, code, part);
}

/* An unsigned CSYNC naming NS, A and AAAA, with 40 more names in the NS
 * RRset: nothing the child names is asked (it used to be A and AAAA of
 * every in-bailiwick name) and the decision says why. */
static void test_csync_unsigned_not_followed(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .csync_a_aaaa = true,
					   .csync_unsigned = true, .child_ns = 40};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_true(r->res->servers[0].ok);
	assert_int_equal(r->res->servers[0].sets[CDS_Q_NS].count, 41);
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	assert_int_equal(r->resolver.n, 0);
	ns_verdict_is(r, "csync-not-signed", "CSYNC at ns1.provider.test.");
	run_teardown(r);
	free(r);
}

/* A signed CSYNC, but the child's NS RRset unsigned: its names are not
 * followed either. */
static void test_csync_ns_unsigned_not_followed(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .csync_a_aaaa = true,
					   .ns_unsigned = true, .child_ns = 3};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	ns_verdict_is(r, "csync-not-signed", "NS at ns1.provider.test.");
	run_teardown(r);
	free(r);
}

/* A valid CSYNC whose NS RRset holds more names than scan.csync-max-ns:
 * rejected naming the key and the numbers, nothing asked; with the limit
 * raised, the data is read. */
static void test_csync_max_ns(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .csync_a_aaaa = true,
					   .child_ns = 20};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	assert_null(r->res->servers[0].csync);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	ns_verdict_is(r, "csync-ns-not-serving",
		      "has 21 names, above scan.csync-max-ns (16)");
	run_teardown(r);
	run_setup(r, &z, true);
	r->conf.scan.csync_max_ns = 21;
	run_scan(r);
	assert_non_null(r->res->servers[0].csync);
	/* NS, then A and AAAA of the 20 in-bailiwick names, then the SOA. */
	assert_int_equal(r->ns.n, CDS_Q_COUNT + 1 + 40 + 1);
	run_teardown(r);
	free(r);
}

/* A new out-of-bailiwick name with 12 addresses: looked up, but none of
 * them probed (scan.csync-max-addresses); with the limit at 16, all 12
 * are (SOA and DNSKEY each). */
static void test_csync_max_addresses(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .new_ns = "ns9.other.test.",
					   .new_ns_addrs = 12};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	run_scan(r);
	/* The apex, NS again, the SOA again; A and AAAA of the new name. */
	assert_int_equal(r->ns.n, CDS_Q_COUNT + 2);
	assert_int_equal(r->resolver.n, 2);
	assert_int_equal(sent(r), CDS_Q_COUNT + 2 + 2);
	assert_int_equal(r->res->probe_count, 12);
	for (size_t i = 0; i < r->res->probe_count; i++) {
		assert_false(r->res->probes[i].ok);
		assert_non_null(strstr(r->res->probes[i].error, "not asked"));
	}
	ns_verdict_is(r, "csync-ns-not-serving",
		      "ns9.other.test. has 12 addresses, above scan.csync-max-addresses (8)");
	run_teardown(r);
	run_setup(r, &z, true);
	r->conf.scan.csync_max_addresses = 16;
	run_scan(r);
	assert_true(sent(r) >= CDS_Q_COUNT + 2 + 2 + 24);
	run_teardown(r);
	free(r);
}

/* More new addresses than scan.csync-max-probes: none beyond it asked. */
static void test_csync_max_probes(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .new_ns = "ns9.other.test.",
					   .new_ns_addrs = 3};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	r->conf.scan.csync_max_probes = 2;
	run_scan(r);
	assert_int_equal(r->res->probe_count, 3);
	assert_int_equal(sent(r), CDS_Q_COUNT + 2 + 2);
	ns_verdict_is(r, "csync-ns-not-serving",
		      "adds 3 addresses to probe, above scan.csync-max-probes (2)");
	run_teardown(r);
	free(r);
}

/* Nameserver addresses in special-purpose space are not asked unless
 * resolver.allow-addresses allows them: the server is unusable, named
 * with its address and what it is.  Here the responder's own loopback
 * address, so that nothing leaves the host even if it were asked. */
static void test_refused_address(void **state)
{
	static const struct zone_data z = {.serial = 1};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	r->conf.resolver.allow_count = 0;
	run_scan(r);
	assert_int_equal(r->res->server_count, 1);
	const struct cds_server_result *srv = &r->res->servers[0];
	assert_false(srv->ok);
	assert_true(srv->has_addr);
	assert_non_null(strstr(srv->error, "loopback (127.0.0.0/8), not asked "
					   "(resolver.allow-addresses)"));
	assert_int_equal(r->ns.n, 0);
	assert_int_equal(sent(r), 0);
	verdict_is(r, true, "ns-unreachable", "loopback (127.0.0.0/8)");
	run_teardown(r);
	/* The prefix of just that address is enough. */
	run_setup(r, &z, true);
	assert_int_equal(cds_prefix_parse("127.0.0.1", &r->conf.resolver.allow[0]), 0);
	run_scan(r);
	assert_true(r->res->servers[0].ok);
	assert_int_equal(r->ns.n, CDS_Q_COUNT);
	run_teardown(r);
	free(r);
}

/* A CSYNC adding a name whose address is refused: not probed, and the
 * decision names the address and why. */
static void test_refused_probe(void **state)
{
	static const struct zone_data z = {.serial = 9, .csync = true, .new_ns = "ns9.other.test.",
					   .new_ns_addrs = 1};
	struct run *r = calloc(1, sizeof(*r));
	run_setup(r, &z, true);
	assert_int_equal(cds_prefix_parse("127.0.0.1", &r->conf.resolver.allow[0]), 0);
	run_scan(r);
	assert_int_equal(r->res->probe_count, 1);
	assert_false(r->res->probes[0].ok);
	assert_int_equal(sent(r), CDS_Q_COUNT + 2 + 2);
	ns_verdict_is(r, "csync-ns-not-serving", "127.0.9.1: loopback (127.0.0.0/8), not asked");
	run_teardown(r);
	free(r);
}

/* An apex answer with more records than limits.records-per-rrset makes
 * the address unusable, and the error names the limit with the numbers
 * (the verdict's ns-unreachable detail quotes it). */
static void test_answer_over_limits(void **state)
{
	uint8_t m[4096];
	struct ts_rr ns[3];
	struct cds_server_result srv;
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	const struct ts_key *signer[] = {&ksk};
	ts_rr_name(&ns[0], CDS_T_NS, "ns1.child.test.");
	ts_rr_name(&ns[1], CDS_T_NS, "ns2.child.test.");
	ts_rr_name(&ns[2], CDS_T_NS, "ns3.child.test.");
	size_t len = ts_answer(m, ZONE, CDS_T_NS, 0, ns, 3, signer, 1, time(NULL) - 60,
			       time(NULL) + 3600);
	memset(&srv, 0, sizeof(srv));
	srv.ok = true;
	cds_server_take_answer(&srv, CDS_Q_NS, ZONE, &l, 0, m, len);
	assert_true(srv.ok);
	assert_int_equal(srv.sets[CDS_Q_NS].count, 3);
	l.records_per_rrset = 2;
	cds_server_take_answer(&srv, CDS_Q_NS, ZONE, &l, 0, m, len);
	assert_false(srv.ok);
	assert_string_equal(srv.error,
			    "NS: 3 NS records in one RRset; limits.records-per-rrset is 2");
	assert_int_equal(srv.sets[CDS_Q_NS].count, 0);
	cds_rrset_clear(&srv.sets[CDS_Q_NS]);
}

static int setup(void **state)
{
	return ts_key_new(&ksk, 257);
}

static int teardown(void **state)
{
	ts_key_free(&ksk);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apex_only),
		cmocka_unit_test(test_bitmap_no_signal),
		cmocka_unit_test(test_bitmap_listed_asked),
		cmocka_unit_test(test_bitmap_csync_only),
		cmocka_unit_test(test_bitmap_signal),
		cmocka_unit_test(test_bitmap_not_used),
		cmocka_unit_test(test_csync_phases),
		cmocka_unit_test(test_csync_not_actionable),
		cmocka_unit_test(test_bootstrap_phase),
		cmocka_unit_test(test_unusable_address),
		cmocka_unit_test(test_no_nameserver),
		cmocka_unit_test(test_csync_unsigned_not_followed),
		cmocka_unit_test(test_csync_ns_unsigned_not_followed),
		cmocka_unit_test(test_csync_max_ns),
		cmocka_unit_test(test_csync_max_addresses),
		cmocka_unit_test(test_csync_max_probes),
		cmocka_unit_test(test_refused_address),
		cmocka_unit_test(test_refused_probe),
		cmocka_unit_test(test_answer_over_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
