/* Unit tests of the NS-side decision (CSYNC, RFC 7477, with RFC 9975 §3):
 * one test per reason code, on answers really signed in the test (testsign)
 * and read through the DNS layer into hand-made scan results (testscan),
 * the CSYNC data and probes filled as src/dns/scanner.c fills them (only
 * when it would fetch them).  No sleeping, no network, no scanner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/policy.h"
#include "cdscan/util.h"
#include "testscan.h"
#include "testsign.h"

#define ZONE "child.test."
#define NOW ((time_t)1795975200) /* 2026-11-29T18:00:00Z */
#define NS_A "ns1.provider-a.net."
#define NS_B "ns1.provider-b.net."
#define NS_C "ns1.provider-c.net."
#define NS_IN "ns1.child.test."
#define SERIAL 100

static struct tscan_keys K;

static const uint16_t T_NS[] = {CDS_T_NS};

/* The child's NS RRset at sp: names[0..) (NULL-terminated). */
static void set_ns(struct tscan_server *sp, const char *const *names)
{
	sp->nns = 0;
	for (size_t i = 0; names[i]; i++)
		ts_rr_name(&sp->ns[sp->nns++], CDS_T_NS, names[i]);
}

/* One CSYNC record at sp. */
static void set_csync(struct tscan_server *sp, uint32_t serial, uint16_t flags,
		      const uint16_t *types, size_t n)
{
	ts_rr_csync(&sp->csync[0], serial, flags, types, n);
	sp->ncsync = 1;
}

/* Provider A's server: SOA serial SERIAL, the DNSKEY RRset {ka, zsk} signed
 * by ka, the NS RRset {NS_A, NS_B} and CSYNC (SERIAL, immediate, NS), every
 * RRset signed by ka. */
static struct tscan_server server_a(void)
{
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = SERIAL,
				  .dnskey = {&K.ka, &K.zsk}, .signers = {&K.ka},
				  .signal_signers = {&K.ka}};
	set_ns(&sp, (const char *[]){NS_A, NS_B, NULL});
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, T_NS, 1);
	return sp;
}

/* The same zone served at provider B's address. */
static struct tscan_server server_b(const struct tscan_server *a)
{
	struct tscan_server sp = *a;
	sp.name = NS_B;
	sp.addr = "127.0.0.2";
	return sp;
}

/* What a server answers for a CSYNC asking for NS: the NS RRset again,
 * signed by ka, and the same SOA serial after. */
static struct tscan_csync csync_ns(void)
{
	struct tscan_csync cs = {.ns = true, .signers = {&K.ka}};
	return cs;
}

/* A delegation to NS_A and NS_B (no glue), with DS(ka) when secure. */
static struct tscan *delegation(void **state, bool secure)
{
	struct tscan_case *c = *state;
	struct tscan *t = &c->t;
	tscan_init(t, ZONE, NOW);
	tscan_parent_ns(t, NS_A, NULL);
	tscan_parent_ns(t, NS_B, NULL);
	if (secure) {
		struct cds_ds ds;
		ts_key_ds(&K.ka, ZONE, 2, &ds);
		tscan_parent_ds(t, &ds);
	}
	return t;
}

/* Both servers serve sp (B at its own address), with CSYNC data cs when
 * the scanner would have fetched it (NULL: not fetched). */
static void serve_both(struct tscan *t, const struct tscan_server *sp,
		       const struct tscan_csync *cs)
{
	struct tscan_server b = server_b(sp);
	tscan_add_server(t, sp, cs);
	tscan_add_server(t, &b, cs);
}

static int decide(void **state)
{
	struct tscan_case *c = *state;
	return tscan_decide(&c->t, &c->conf);
}

/* The NS side changed nothing it proposes. */
static void expect_nothing_proposed(const struct tscan *t)
{
	TSCAN_EXPECT_LIST(&t->v.ns_side.proposed, NS_A, NS_B);
	TSCAN_EXPECT_LIST(&t->v.ns_side.add, NULL);
	TSCAN_EXPECT_LIST(&t->v.ns_side.rem, NULL);
}

/* ------------------------------------------ before the CSYNC stages --- */

static void test_ns_no_csync(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	sp.ncsync = 0;
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "no-csync", NULL);
	expect_nothing_proposed(t);
}

static void test_ns_csync_not_processed(void **state)
{
	struct tscan_case *c = *state;
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, NULL);
	c->conf.policy.csync = false;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-not-processed",
		     "policy.csync is false");
	expect_nothing_proposed(t);
}

static void test_ns_opted_out(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	t->d.opted_out = true;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "opted-out", NULL);
	expect_nothing_proposed(t);
}

/* B timed out: the scanner fetched no CSYNC data, the decision waits. */
static void test_ns_ns_unreachable(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&a);
	b.error = "timeout";
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "ns-unreachable",
		     NS_B " (127.0.0.2): timeout");
	expect_nothing_proposed(t);
}

/* ------------------------------------------------ the CSYNC record --- */

/* B's CSYNC names other types (RFC 9975 §3.2: the immediate flag and the
 * type bitmap must be equal): not fetched further. */
static void test_ns_csync_inconsistent(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_server b = server_b(&a);
	set_csync(&b, SERIAL, CDS_CSYNC_IMMEDIATE, (const uint16_t[]){CDS_T_NS, CDS_T_A}, 2);
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-inconsistent",
		     "CSYNC at " NS_B " (127.0.0.2) differs from CSYNC at " NS_A " (127.0.0.1)");
}

static void test_ns_csync_multiple(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	ts_rr_csync(&sp.csync[1], SERIAL + 1, CDS_CSYNC_IMMEDIATE, T_NS, 1);
	sp.ncsync = 2;
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-multiple",
		     "2 CSYNC records at the apex");
}

/* No DS: nothing can authenticate the CSYNC (RFC 7477 §3.1). */
static void test_ns_csync_not_signed_insecure(void **state)
{
	struct tscan *t = delegation(state, false);
	struct tscan_server sp = server_a();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-not-signed",
		     "the delegation is insecure");
	expect_nothing_proposed(t);
}

/* The CSYNC has no RRSIG (the scanner fetches the data regardless). */
static void test_ns_csync_not_signed(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	sp.signal_signers[0] = NULL;
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-not-signed",
		     "CSYNC at " NS_A " (127.0.0.1) has no RRSIG");
}

/* The CSYNC is signed by a key outside the DNSKEY RRset. */
static void test_ns_csync_bogus(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	sp.signal_signers[0] = &K.kc;
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-bogus",
		     "CSYNC at " NS_A " (127.0.0.1) does not validate with the DNSKEY RRset");
}

/* The parent's DS matches no key of the child. */
static void test_ns_csync_bogus_dnskey(void **state)
{
	struct tscan *t = delegation(state, false);
	struct cds_ds ds;
	ts_key_ds(&K.kc, ZONE, 2, &ds);
	tscan_parent_ds(t, &ds);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-bogus",
		     "the DNSKEY RRset at " NS_A " (127.0.0.1) is not authenticated");
}

/* Flag bit 4 is not one RFC 7477 defines. */
static void test_ns_csync_unknown_flags(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE | 0x0004, T_NS, 1);
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-unknown-flags",
		     "CSYNC flags 0x0005");
}

/* MX (15) in the bitmap: RFC 7477 §2 says then do nothing at all. */
static void test_ns_csync_unknown_type(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, (const uint16_t[]){CDS_T_NS, 15}, 2);
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-unknown-type",
		     "the CSYNC type bitmap names type 15");
}

/* Immediate clear: the operator approves (RFC 7477 §2.1.1.2). */
static void test_ns_csync_not_immediate(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	set_csync(&sp, SERIAL, 0, T_NS, 1);
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-not-immediate",
		     "CSYNC serial 100 asks for NS without the immediate flag");
	expect_nothing_proposed(t);
}

/* soaminimum: every server's own SOA serial is below its CSYNC serial
 * (RFC 7477 §2.1.1.2.1, judged per server, RFC 9975 §3.2). */
static void test_ns_csync_soa_serial(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_csync cs = csync_ns();
	set_csync(&a, SERIAL, CDS_CSYNC_IMMEDIATE | CDS_CSYNC_SOAMINIMUM, T_NS, 1);
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	a.soa_serial = SERIAL - 1;
	struct tscan_server b = server_b(&a);
	tscan_add_server(t, &a, &cs);
	tscan_add_server(t, &b, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-soa-serial",
		     "SOA serial 99 at " NS_A " (127.0.0.1) is below (or not comparable to) CSYNC "
		     "serial 100");
	expect_nothing_proposed(t);
}

/* soaminimum judged per server disagrees: only B is behind its own CSYNC
 * serial, so the servers' verdicts on the update differ (RFC 9975 §3.2). */
static void test_ns_csync_soa_serial_split(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_csync cs = csync_ns();
	set_csync(&a, SERIAL, CDS_CSYNC_IMMEDIATE | CDS_CSYNC_SOAMINIMUM, T_NS, 1);
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&a);
	b.soa_serial = SERIAL - 1;
	tscan_add_server(t, &a, &cs);
	tscan_add_server(t, &b, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-inconsistent",
		     "SOA serial 99 at " NS_B " (127.0.0.2) is below its CSYNC serial 100, while "
		     NS_A " (127.0.0.1) may be updated");
	expect_nothing_proposed(t);
}

/* The CSYNC names no type at all: nothing to do. */
static void test_ns_csync_unchanged_no_type(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, NULL, 0);
	serve_both(t, &sp, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-unchanged",
		     "the CSYNC type bitmap names no type");
}

/* ----------------------------------------------- the data it points to --- */

/* B's CSYNC data was not collected (the scanner ran out of memory). */
static void test_ns_ns_unreachable_not_collected(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&a);
	tscan_add_server(t, &a, &cs);
	tscan_add_server(t, &b, NULL);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "ns-unreachable",
		     NS_B " (127.0.0.2): the CSYNC data was not collected");
	expect_nothing_proposed(t);
}

/* B's NS query timed out while the data was read. */
static void test_ns_ns_unreachable_data_failed(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_csync cs = csync_ns(), failed = csync_ns();
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&a);
	failed.error = "NS child.test.: timeout";
	tscan_add_server(t, &a, &cs);
	tscan_add_server(t, &b, &failed);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "ns-unreachable",
		     NS_B " (127.0.0.2): NS child.test.: timeout");
}

/* B's SOA serial moved on while the data was read (RFC 7477 §3.4). */
static void test_ns_csync_serial_changed(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns(), moved = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&sp);
	moved.soa_serial_after = SERIAL + 1;
	tscan_add_server(t, &sp, &cs);
	tscan_add_server(t, &b, &moved);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-serial-changed",
		     "the zone changed at " NS_B " (127.0.0.2) while it was read (SOA serial "
		     "100, then 101)");
	expect_nothing_proposed(t);
}

/* Same CSYNC everywhere, but A serves NS {A, B, C} and B serves {A, B}. */
static void test_ns_csync_inconsistent_ns(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server a = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&a, (const char *[]){NS_A, NS_B, NS_C, NULL});
	struct tscan_server b = server_b(&a);
	set_ns(&b, (const char *[]){NS_A, NS_B, NULL});
	tscan_add_server(t, &a, &cs);
	tscan_add_server(t, &b, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-inconsistent",
		     "the NS RRset at " NS_B " (127.0.0.2) differs from " NS_A " (127.0.0.1)");
	expect_nothing_proposed(t);
}

/* The NS RRset read again is signed by a key outside the DNSKEY RRset. */
static void test_ns_csync_bogus_data(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	cs.signers[0] = &K.kc;
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-bogus",
		     "NS at " NS_A " (127.0.0.1) does not validate with the DNSKEY RRset");
	expect_nothing_proposed(t);
}

/* ------------------------------------------------------ the proposal --- */

static void test_ns_csync_unchanged(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-unchanged", NULL);
	expect_nothing_proposed(t);
}

/* An NS name with '!' in a label, which no host name holds. */
static void test_ns_csync_bad_host_name(void **state)
{
	static const uint8_t bad[] = "\x04ns!1\x0aprovider-c\x03net";
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	ts_rr_raw(&sp.ns[sp.nns++], CDS_T_NS, bad, sizeof(bad));
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-bad-host-name",
		     "an NS record of the child names no host name");
}

/* The child's NS RRset is empty (NODATA) at every address. */
static void test_ns_csync_empty_ns(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	sp.nns = 0;
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-empty-ns",
		     "the child serves no NS RRset");
	expect_nothing_proposed(t);
}

/* A new in-bailiwick NS name whose A and AAAA are NODATA. */
static void test_ns_csync_no_glue(void **state)
{
	static const uint16_t types[] = {CDS_T_NS, CDS_T_A, CDS_T_AAAA};
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = {.ns = true, .a = true, .aaaa = true, .signers = {&K.ka},
				 .hosts = {{.name = NS_IN}}, .host_count = 1};
	set_ns(&sp, (const char *[]){NS_A, NS_IN, NULL});
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, types, 3);
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-no-glue",
		     NS_IN " is in the zone and has no address");
	expect_nothing_proposed(t);
	assert_int_equal(t->v.glue_count, 0);
}

/* The child adds NS_C; its address timed out when probed. */
static void test_ns_csync_ns_not_serving(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", 0, "timeout");
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-ns-not-serving",
		     NS_C " (127.0.0.3): timeout");
	expect_nothing_proposed(t);
}

/* The child adds NS_C of another provider, which serves the zone with its
 * own SOA serial: that is no reason to refuse (RFC 9975 §3.2: independent
 * providers keep their own serials). */
static void test_ns_updated_own_serial(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL - 1, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ns_side.add, NS_C);
}

/* The child adds NS_C, whose provider serves a DNSKEY RRset of its own key
 * only, which the DS (ka) does not authenticate: multi-signer in the wrong
 * order (RFC 8901).  Resolvers that pick NS_C would fail to validate. */
static void test_ns_csync_breaks_chain(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, &cs);
	tscan_probe_keys(t, (const struct ts_key *[]){&K.kc, NULL},
			 (const struct ts_key *[]){&K.kc, NULL});
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	char want[160];
	snprintf(want, sizeof(want), NS_C " (127.0.0.3) serves DNSKEY RRset [%u], which the current "
		 "DS set does not authenticate", K.kc.keytag);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-breaks-chain", want);
	expect_nothing_proposed(t);
	/* The right order: the new provider serves both keys, the DS names
	 * ka: the update goes through. */
	tscan_free(t);
	t = delegation(state, true);
	serve_both(t, &sp, &cs);
	tscan_probe_keys(t, (const struct ts_key *[]){&K.ka, &K.kc, NULL},
			 (const struct ts_key *[]){&K.ka, &K.kc, NULL});
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated", NULL);
}

/* A CSYNC without the immediate flag that an operator approved (domain
 * approve-csync) is processed once: csync-approved, and the approval is
 * used up.  An approval of another serial does nothing. */
static void test_ns_csync_approved(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	set_csync(&sp, SERIAL, 0, T_NS, 1);
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	t->d.csync_approved = true;
	t->d.csync_approved_serial = SERIAL + 1;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-not-immediate", NULL);
	assert_false(t->v.csync_approval_used);
	t->d.csync_approved_serial = SERIAL;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "csync-approved",
		     "CSYNC serial 100 without the immediate flag, approved by an operator");
	TSCAN_EXPECT_LIST(&t->v.ns_side.add, NS_C);
	assert_true(t->v.csync_approval_used);
}

/* The child adds NS_C (out of bailiwick), which serves the zone. */
static void test_ns_ns_updated(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	set_ns(&sp, (const char *[]){NS_A, NS_B, NS_C, NULL});
	serve_both(t, &sp, &cs);
	tscan_add_probe(t, NS_C, "127.0.0.3", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ns_side.proposed, NS_A, NS_B, NS_C);
	TSCAN_EXPECT_LIST(&t->v.ns_side.add, NS_C);
	TSCAN_EXPECT_LIST(&t->v.ns_side.rem, NULL);
	assert_int_equal(t->v.glue_count, 0);
}

/* Glue only: NS_IN moves from 192.0.2.1 to 192.0.2.2 (A in the bitmap);
 * its AAAA, not in the bitmap, stays as the parent has it (RFC 7477
 * §3.2.2).  The new address is probed, the old ones were asked. */
static void test_ns_ns_updated_glue(void **state)
{
	static const uint16_t types[] = {CDS_T_A};
	struct tscan_case *c = *state;
	struct tscan *t = &c->t;
	tscan_init(t, ZONE, NOW);
	tscan_parent_ns(t, NS_IN, (const char *[]){"192.0.2.1", "2001:db8::1", NULL});
	tscan_parent_ns(t, NS_A, NULL);
	struct cds_ds ds;
	ts_key_ds(&K.ka, ZONE, 2, &ds);
	tscan_parent_ds(t, &ds);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = {.a = true, .signers = {&K.ka},
				 .hosts = {{.name = NS_IN, .addrs = {"192.0.2.2", "2001:db8::1"}}},
				 .host_count = 1};
	set_ns(&sp, (const char *[]){NS_IN, NS_A, NULL});
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, types, 1);
	const char *addrs[] = {"192.0.2.1", "2001:db8::1", "127.0.0.1"};
	for (int i = 0; i < 3; i++) {
		sp.name = i < 2 ? NS_IN : NS_A;
		sp.addr = addrs[i];
		tscan_add_server(t, &sp, &cs);
	}
	tscan_add_probe(t, NS_IN, "192.0.2.2", SERIAL, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ns_side.proposed, NS_IN, NS_A);
	TSCAN_EXPECT_LIST(&t->v.ns_side.add, NULL);
	TSCAN_EXPECT_LIST(&t->v.ns_side.rem, NULL);
	assert_int_equal(t->v.glue_count, 1);
	assert_string_equal(t->v.glue[0].name, NS_IN);
	TSCAN_EXPECT_LIST(&t->v.glue[0].addresses, "192.0.2.2", "2001:db8::1");
}

static int keys_setup(void **state)
{
	(void)state;
	return tscan_keys_new(&K);
}

static int keys_teardown(void **state)
{
	(void)state;
	tscan_keys_free(&K);
	return 0;
}


/* NS_IN's child data: A moves to 192.0.2.2, and the AAAA answer is an
 * empty NODATA.  Proven by a signed NSEC, the AAAA glue goes; without a
 * proof (RFC 4035 §5.4: an unauthenticated NODATA proves nothing), the
 * parent's AAAA stays and the detail says why. */
static void glue_nodata(struct tscan *t, bool unproven)
{
	static const uint16_t types[] = {CDS_T_A, CDS_T_AAAA};
	tscan_init(t, ZONE, NOW);
	tscan_parent_ns(t, NS_IN, (const char *[]){"192.0.2.1", "2001:db8::1", NULL});
	tscan_parent_ns(t, NS_A, NULL);
	struct cds_ds ds;
	ts_key_ds(&K.ka, ZONE, 2, &ds);
	tscan_parent_ds(t, &ds);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = {.a = true, .aaaa = true, .signers = {&K.ka},
				 .hosts = {{.name = NS_IN, .addrs = {"192.0.2.2"}}},
				 .host_count = 1, .unproven_empty = unproven};
	set_ns(&sp, (const char *[]){NS_IN, NS_A, NULL});
	set_csync(&sp, SERIAL, CDS_CSYNC_IMMEDIATE, types, 2);
	const char *addrs[] = {"192.0.2.1", "2001:db8::1", "127.0.0.1"};
	for (int i = 0; i < 3; i++) {
		sp.name = i < 2 ? NS_IN : NS_A;
		sp.addr = addrs[i];
		tscan_add_server(t, &sp, &cs);
	}
	tscan_add_probe(t, NS_IN, "192.0.2.2", SERIAL, NULL);
}

static void test_ns_nodata_proven(void **state)
{
	struct tscan *t = &((struct tscan_case *)*state)->t;
	glue_nodata(t, false);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.glue[0].addresses, "192.0.2.2");
}

static void test_ns_nodata_unproven(void **state)
{
	struct tscan *t = &((struct tscan_case *)*state)->t;
	glue_nodata(t, true);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_UPDATE, "ns-updated",
		     "no AAAA for " NS_IN " at " NS_IN " (192.0.2.1) is not proven");
	TSCAN_EXPECT_LIST(&t->v.glue[0].addresses, "192.0.2.2", "2001:db8::1");
}

/* An empty NS answer without a proof is no reason to empty the NS set:
 * the parent's stays (and nothing changes). */
static void test_ns_empty_ns_unproven(void **state)
{
	struct tscan *t = delegation(state, true);
	struct tscan_server sp = server_a();
	struct tscan_csync cs = csync_ns();
	cs.unproven_empty = true;
	sp.nns = 0;
	serve_both(t, &sp, &cs);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "csync-unchanged",
		     "no NS at " NS_A " (127.0.0.1) is not proven");
	expect_nothing_proposed(t);
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, tscan_case_setup, tscan_case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_ns_no_csync),
		CASE(test_ns_csync_not_processed),
		CASE(test_ns_opted_out),
		CASE(test_ns_ns_unreachable),
		CASE(test_ns_csync_inconsistent),
		CASE(test_ns_csync_multiple),
		CASE(test_ns_csync_not_signed_insecure),
		CASE(test_ns_csync_not_signed),
		CASE(test_ns_csync_bogus),
		CASE(test_ns_csync_bogus_dnskey),
		CASE(test_ns_csync_unknown_flags),
		CASE(test_ns_csync_unknown_type),
		CASE(test_ns_csync_not_immediate),
		CASE(test_ns_csync_soa_serial),
		CASE(test_ns_csync_soa_serial_split),
		CASE(test_ns_csync_unchanged_no_type),
		CASE(test_ns_ns_unreachable_not_collected),
		CASE(test_ns_ns_unreachable_data_failed),
		CASE(test_ns_csync_serial_changed),
		CASE(test_ns_csync_inconsistent_ns),
		CASE(test_ns_csync_bogus_data),
		CASE(test_ns_csync_unchanged),
		CASE(test_ns_csync_bad_host_name),
		CASE(test_ns_csync_empty_ns),
		CASE(test_ns_csync_no_glue),
		CASE(test_ns_csync_ns_not_serving),
		CASE(test_ns_updated_own_serial),
		CASE(test_ns_csync_breaks_chain),
		CASE(test_ns_csync_approved),
		CASE(test_ns_nodata_proven),
		CASE(test_ns_nodata_unproven),
		CASE(test_ns_empty_ns_unproven),
		CASE(test_ns_ns_updated),
		CASE(test_ns_ns_updated_glue),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
