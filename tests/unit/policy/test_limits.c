/* Unit tests of the work limits in a decision (src/policy with dns.h's
 * limits): the KeyTrap zone of issue #16 served by a child's nameserver,
 * the budget of one delegation spent across the RRsets of several
 * addresses, and a DNSKEY RRset too large for CSYNC processing.  Each
 * asserts on the verdict (reason and the limit named in the detail) and on
 * the verifications the decision cost (cds_verdict.verifications), never
 * on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/policy.h"
#include "testscan.h"
#include "testsign.h"

#define ZONE "child.test."
#define NOW ((time_t)1795975200) /* 2026-11-29T18:00:00Z */
#define NS_A "ns1.provider-a.net."
#define NS_B "ns1.provider-b.net."

static struct tscan_keys K;

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

/* Provider A's server: the DNSKEY RRset {ka, kb, zsk} signed by ka, a
 * rollover signal (CDS for ka and kb) signed by ka. */
static struct tscan_server server_a(void)
{
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				  .dnskey = {&K.ka, &K.kb, &K.zsk}, .signers = {&K.ka},
				  .signal_signers = {&K.ka}};
	struct cds_ds ds;
	ts_key_ds(&K.ka, ZONE, 2, &ds);
	ts_rr_ds(&sp.cds[sp.ncds++], CDS_T_CDS, &ds);
	ts_key_ds(&K.kb, ZONE, 2, &ds);
	ts_rr_ds(&sp.cds[sp.ncds++], CDS_T_CDS, &ds);
	return sp;
}

/* A delegation to the NS names given (NULL-terminated), DS for ka. */
static struct tscan *delegation(void **state, const char *const *ns)
{
	struct tscan_case *c = *state;
	struct tscan *t = &c->t;
	struct cds_ds ds;
	tscan_init(t, ZONE, NOW);
	for (; *ns; ns++)
		tscan_parent_ns(t, *ns, NULL);
	ts_key_ds(&K.ka, ZONE, 2, &ds);
	tscan_parent_ds(t, &ds);
	return t;
}

static struct cds_conf *conf_of(void **state)
{
	return &((struct tscan_case *)*state)->conf;
}

static int decide(void **state)
{
	struct tscan_case *c = *state;
	return tscan_decide(&c->t, &c->conf);
}

/* Server i serves set (taken over) for kind instead of what it served. */
static void serve_set(struct tscan *t, size_t i, enum cds_query_kind kind, struct cds_rrset *set)
{
	cds_rrset_clear(&t->servers[i].sets[kind]);
	t->servers[i].sets[kind] = *set;
	memset(set, 0, sizeof(*set));
}

/* The DNSKEY RRset {ka, kb, zsk, extra[0..n)} signed by ka, at server 0. */
static void serve_dnskey(struct tscan *t, const struct ts_rr *extra, size_t n)
{
	struct ts_rr *rr = calloc(n + 3, sizeof(*rr));
	struct cds_rrset set;
	const struct ts_key *ka[] = {&K.ka};
	assert_non_null(rr);
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &K.ka);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &K.kb);
	ts_rr_dnskey(&rr[2], CDS_T_DNSKEY, &K.zsk);
	if (n)
		memcpy(rr + 3, extra, n * sizeof(*rr));
	assert_int_equal(ts_rrset(&set, ZONE, ZONE, CDS_T_DNSKEY, rr, n + 3, ka, 1, NOW - 3600,
				  NOW + 86400),
			 0);
	serve_set(t, 0, CDS_Q_DNSKEY, &set);
	free(rr);
}

/* A key tag none of the test keys has. */
static uint16_t trap_tag(void)
{
	uint16_t tag = 12345;
	while (tag == K.ka.keytag || tag == K.kb.keytag || tag == K.zsk.keytag ||
	       tag == K.kc.keytag || tag == K.ed.keytag)
		tag++;
	return tag;
}

/*
 * Issue #16's KeyTrap reproduction as a registrant would serve it: the
 * child's DNSKEY RRset (validly signed by the KSK the parent's DS names)
 * holds 29 RSA keys nobody holds, all with one key tag, and the CDS RRset
 * carries 30 RRSIGs naming that tag.  The decision rejects it naming the
 * limit, at the cost of the one verification of the DNSKEY RRset.
 */
static void test_keytrap_verdict(void **state)
{
	const char *ns[] = {NS_A, NULL};
	struct tscan *t = delegation(state, ns);
	struct tscan_server sp = server_a();
	struct ts_rr forged[29];
	struct cds_rrset cds;
	char want[CDS_LIMIT_TEXT_MAX + 200];
	uint16_t tag = trap_tag();
	tscan_add_server(t, &sp, NULL);
	for (unsigned i = 0; i < 29; i++)
		ts_rr_rsa_forged(&forged[i], CDS_T_DNSKEY, 256, 1024, 3, tag, i + 1);
	serve_dnskey(t, forged, 29);
	/* The signal as served, its RRSIG replaced by 30 forged ones. */
	assert_int_equal(cds_rrset_copy_records(&t->servers[0].sets[CDS_Q_CDS], &cds), 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(
			ts_rrset_forged_sig(&cds, ZONE, 8, tag, 128, NOW - 3600, NOW + 86400), 0);
	serve_set(t, 0, CDS_Q_CDS, &cds);

	assert_int_equal(decide(state), 0);
	snprintf(want, sizeof(want),
		 "the RRSIG of CDS at " NS_A " (127.0.0.1) does not validate with the DNSKEY "
		 "RRset; the DNSKEY RRset of child.test. has 29 keys with key tag %u and "
		 "algorithm 8; limits.keys-per-tag is 4",
		 tag);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus", want);
	assert_true(t->v.secure);
	assert_int_equal(t->v.verifications, 1);

	/* Each further limit, when the one before is lifted. */
	conf_of(state)->limits.keys_per_tag = 64;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "; the CDS RRset of child.test. took 16 signature verifications and none "
		     "succeeded; limits.verifications-per-rrset is 16");
	assert_int_equal(t->v.verifications, 1 + 16);
	conf_of(state)->limits.verifications_per_rrset = 1024;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "limits.rrsigs-tried-per-rrset is 8");
	assert_int_equal(t->v.verifications, 1 + 8 * 29);
	/* Without them all, the cost the issue measured: every pair. */
	conf_of(state)->limits.rrsigs_tried = 64;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus", "unknown key or wrong signature");
	assert_int_equal(t->v.verifications, 1 + 30 * 29);
}

/*
 * One decision validates the RRsets of every address; the budget of the
 * delegation (limits.verifications-per-delegation) is spent across them
 * all.  Two providers whose RRSIGs differ (ECDSA signatures are made anew
 * at each) cost a few verifications each: with a budget of 6 a later
 * check is refused, naming the limit; with the default the signal passes.
 */
static void test_delegation_budget_verdict(void **state)
{
	const char *ns[] = {NS_A, NS_B, NULL};
	struct tscan *t = delegation(state, ns);
	struct tscan_server sp = server_a();
	tscan_add_server(t, &sp, NULL);
	sp.name = NS_B;
	sp.addr = "127.0.0.2";
	tscan_add_server(t, &sp, NULL);

	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	uint32_t needed = t->v.verifications;
	assert_in_range(needed, 7, 64);

	conf_of(state)->limits.verifications_per_delegation = 6;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "6 signature verifications were made for this delegation before the");
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "; limits.verifications-per-delegation is 6");
	assert_int_equal(t->v.verifications, 6);

	conf_of(state)->limits.verifications_per_delegation = needed;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	assert_int_equal(t->v.verifications, needed);
}

/* A DNSKEY RRset beyond limits.dnskeys-per-rrset authenticates nothing: the
 * CSYNC is rejected as csync-bogus, the limit in the detail. */
static void test_dnskeys_csync_verdict(void **state)
{
	const char *ns[] = {NS_A, NULL};
	struct tscan *t = delegation(state, ns);
	struct tscan_server sp = server_a();
	struct ts_rr others[30];
	static const uint16_t types[] = {CDS_T_NS};
	ts_rr_csync(&sp.csync[sp.ncsync++], 7, CDS_CSYNC_IMMEDIATE, types, 1);
	tscan_add_server(t, &sp, NULL);
	for (unsigned i = 0; i < 30; i++)
		ts_rr_rsa_forged(&others[i], CDS_T_DNSKEY, 256, 1024, 3, -1, 100 + i);
	serve_dnskey(t, others, 30);

	assert_int_equal(decide(state), 0);
	assert_false(t->v.secure);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "the DNSKEY RRset at " NS_A " (127.0.0.1) is not authenticated by the current "
		     "DS set: the DNSKEY RRset of child.test. has 33 keys; "
		     "limits.dnskeys-per-rrset is 32");
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_REJECT, "csync-bogus",
		     "the DNSKEY RRset at " NS_A " (127.0.0.1) is not authenticated by the current "
		     "DS set; the DNSKEY RRset of child.test. has 33 keys; "
		     "limits.dnskeys-per-rrset is 32");
	assert_int_equal(t->v.verifications, 0);

	conf_of(state)->limits.dnskeys_per_rrset = 33;
	assert_int_equal(decide(state), 0);
	assert_true(t->v.secure);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, tscan_case_setup, tscan_case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_keytrap_verdict),
		CASE(test_delegation_budget_verdict),
		CASE(test_dnskeys_csync_verdict),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
