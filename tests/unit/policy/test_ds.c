/* Unit tests of the DS-side decision (RFC 7344, RFC 8078, RFC 9615): one test
 * per reason code, on answers really signed in the test (testsign) and read
 * through the DNS layer into hand-made scan results (testscan).  The clock
 * is a parameter: no sleeping, no network, no scanner. */
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
#include "cdscan/util.h"
#include "testscan.h"
#include "testsign.h"

#define ZONE "child.test."
#define NOW ((time_t)1795975200) /* 2026-11-29T18:00:00Z */
#define NS_A "ns1.provider-a.net."
#define NS_B "ns1.provider-b.net."

static struct tscan_keys K;

/* Provider A's server: the DNSKEY RRset {ka, kb, zsk} signed by ka, any
 * signal signed by ka.  No CDS, no CDNSKEY yet. */
static struct tscan_server server_a(void)
{
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				  .dnskey = {&K.ka, &K.kb, &K.zsk}, .signers = {&K.ka},
				  .signal_signers = {&K.ka}};
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

static void add_cds(struct tscan_server *sp, const struct ts_key *k, uint8_t digest_type)
{
	struct cds_ds ds;
	ts_key_ds(k, ZONE, digest_type, &ds);
	ts_rr_ds(&sp->cds[sp->ncds++], CDS_T_CDS, &ds);
}

static void add_cdnskey(struct tscan_server *sp, const struct ts_key *k)
{
	ts_rr_dnskey(&sp->cdnskey[sp->ncdnskey++], CDS_T_CDNSKEY, k);
}

/* The RFC 8078 §4 delete record as CDS. */
static void add_cds_delete(struct tscan_server *sp)
{
	static const uint8_t del[] = {0, 0, 0, 0, 0};
	ts_rr_raw(&sp->cds[sp->ncds++], CDS_T_CDS, del, sizeof(del));
}

/* A delegation to NS_A and NS_B; the parent holds DS of the keys given
 * (digest type 2), none for an insecure delegation. */
static struct tscan *delegation(void **state, const struct ts_key *ds1, const struct ts_key *ds2)
{
	struct tscan_case *c = *state;
	struct tscan *t = &c->t;
	tscan_init(t, ZONE, NOW);
	tscan_parent_ns(t, NS_A, NULL);
	tscan_parent_ns(t, NS_B, NULL);
	for (int i = 0; i < 2; i++) {
		const struct ts_key *k = i ? ds2 : ds1;
		struct cds_ds ds;
		if (!k)
			continue;
		ts_key_ds(k, ZONE, 2, &ds);
		tscan_parent_ds(t, &ds);
	}
	return t;
}

/* Both servers serve sp (B at its own address). */
static void serve_both(struct tscan *t, const struct tscan_server *sp)
{
	struct tscan_server b = server_b(sp);
	tscan_add_server(t, sp, NULL);
	tscan_add_server(t, &b, NULL);
}

/* A key rollover: CDS and CDNSKEY for ka and kb, at both servers. */
static struct tscan_server rollover(void)
{
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cds(&sp, &K.kb, 2);
	add_cdnskey(&sp, &K.ka);
	add_cdnskey(&sp, &K.kb);
	return sp;
}

static int decide(void **state)
{
	struct tscan_case *c = *state;
	return tscan_decide(&c->t, &c->conf);
}

static struct cds_conf *conf_of(void **state)
{
	return &((struct tscan_case *)*state)->conf;
}

/* DS texts of the test keys at ZONE. */
static const char *ds_text(const struct ts_key *k, uint8_t digest_type)
{
	static char buf[8][CDS_DS_TEXT_MAX];
	static unsigned next;
	char *b = buf[next++ % 8];
	tscan_ds_text(k, ZONE, digest_type, b);
	return b;
}

/* ---------------------------------------------- secure delegations --- */

/* Only CDS, CDNSKEY and CSYNC asked (no signal anywhere, scan.full-status
 * off): the same no-signal, with `secure` not checked instead of claimed;
 * and an unusable server still decides ns-unreachable, `secure` false and
 * checked (an unusable server is never secure). */
static void test_ds_no_signal_probe_only(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	serve_both(t, &sp);
	t->res.apex_asked = false;
	for (size_t i = 0; i < t->res.server_count; i++)
		for (int k = CDS_Q_SOA; k < CDS_Q_COUNT; k++)
			if (k == CDS_Q_SOA || k == CDS_Q_DNSKEY || k == CDS_Q_NS)
				cds_rrset_clear(&t->servers[i].sets[k]);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "no-signal", NULL);
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "no-csync", NULL);
	assert_false(t->v.secure);
	assert_false(t->v.secure_checked);
	assert_int_equal(t->v.verifications, 0);
	char *json = cds_verdict_to_json(&t->v, false);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"secure\":false,\"secure_checked\":false"));
	free(json);

	t->servers[1].ok = false;
	snprintf(t->servers[1].error, sizeof(t->servers[1].error), "CDS: timeout");
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "ns-unreachable", NULL);
	assert_false(t->v.secure);
	assert_true(t->v.secure_checked);
	json = cds_verdict_to_json(&t->v, false);
	assert_non_null(json);
	assert_null(strstr(json, "secure_checked"));
	free(json);
}

static void test_ds_no_signal(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "no-signal", NULL);
	assert_true(t->v.secure);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
}

static void test_ds_signal_unchanged(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cdnskey(&sp, &K.ka);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "signal-unchanged", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

static void test_ds_ds_updated(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	assert_true(t->v.secure);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2), ds_text(&K.kb, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.kb, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.rem, NULL);
}

/* CDNSKEY only: a DS for every digest type of policy.compute-digests. */
static void test_ds_ds_updated_from_cdnskey(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cdnskey(&sp, &K.ka);
	add_cdnskey(&sp, &K.kb);
	serve_both(t, &sp);
	conf_of(state)->policy.compute_digests[4] = true;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2), ds_text(&K.ka, 4),
			  ds_text(&K.kb, 2), ds_text(&K.kb, 4));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.ka, 4), ds_text(&K.kb, 2),
			  ds_text(&K.kb, 4));
	TSCAN_EXPECT_LIST(&t->v.ds_side.rem, NULL);
}

/* RFC 8901: provider A signs with ka, provider B with kb; both publish the
 * same DNSKEY RRset {ka, kb} and the same CDS RRset. */
static void multi_signer(struct tscan *t, uint8_t digest_type, bool with_kb)
{
	struct tscan_server a = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				 .dnskey = {&K.ka, &K.kb}, .signers = {&K.ka},
				 .signal_signers = {&K.ka}};
	add_cds(&a, &K.ka, digest_type);
	if (with_kb)
		add_cds(&a, &K.kb, digest_type);
	struct tscan_server b = server_b(&a);
	b.signers[0] = b.signal_signers[0] = &K.kb;
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
}

static void test_ds_ds_updated_multi_signer(void **state)
{
	struct tscan *t = delegation(state, &K.ka, &K.kb);
	multi_signer(t, 4, true);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	assert_true(t->v.secure);
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.ka, 4), ds_text(&K.kb, 4));
	TSCAN_EXPECT_LIST(&t->v.ds_side.rem, ds_text(&K.ka, 2), ds_text(&K.kb, 2));
}

static void test_ds_delete(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds_delete(&sp);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_DELETE, "delete", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.rem, ds_text(&K.ka, 2));
}

static void test_ds_delete_not_allowed(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds_delete(&sp);
	serve_both(t, &sp);
	conf_of(state)->policy.allow_delete = false;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "delete-not-allowed", "allow-delete");
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
}

static void test_ds_mixed_delete(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds_delete(&sp);
	add_cds(&sp, &K.ka, 2);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "mixed-delete",
		     "the CDS RRset holds the delete record and other records");
}

/* B answered CDS with REFUSED: no action whatever A says. */
static void test_ds_ns_unreachable(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server a = rollover();
	struct tscan_server b = server_b(&a);
	b.error = "REFUSED to CDS";
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "ns-unreachable",
		     NS_B " (127.0.0.2): REFUSED to CDS");
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

/* An NS name without any address is an unusable server too. */
static void test_ds_ns_unreachable_no_address(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server a = rollover();
	struct tscan_server b = server_b(&a);
	b.addr = NULL;
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "ns-unreachable",
		     NS_B " (address unknown): no address for the NS name");
}

/* NODATA at B, records at A (RFC 9975 §3). */
static void test_ds_ns_inconsistent(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server a = rollover();
	struct tscan_server b = server_b(&a);
	b.ncds = 0;
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "ns-inconsistent",
		     "CDS at " NS_B " (127.0.0.2) differs");
}

static void test_ds_not_signed(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	sp.signal_signers[0] = NULL;
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "not-signed",
		     "CDS at " NS_A " (127.0.0.1) has no RRSIG");
}

/* The parent's DS matches no key: the DNSKEY RRset is not authenticated. */
static void test_ds_bogus_dnskey(void **state)
{
	struct tscan *t = delegation(state, &K.kc, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "the DNSKEY RRset at " NS_A " (127.0.0.1) (keys ");
	assert_false(t->v.secure);
}

/* The DS names a key that now carries the REVOKE flag (RFC 5011 §3): it
 * authenticates nothing, and the detail says which key is revoked. */
static void test_ds_bogus_revoked(void **state)
{
	struct ts_key rk;
	assert_int_equal(ts_key_new(&rk, 257 | CDS_DNSKEY_REVOKE), 0);
	struct tscan *t = delegation(state, &rk, NULL);
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				  .dnskey = {&rk, &K.ka}, .signers = {&rk, &K.ka},
				  .signal_signers = {&K.ka}};
	add_cds(&sp, &K.ka, 2);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	char want[64];
	snprintf(want, sizeof(want), "%u (revoked)", cds_dnskey_keytag(rk.rdata, rk.rdlen));
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus", want);
	ts_key_free(&rk);
}

/* The right key, but the CDS RRSIG expired an hour ago. */
static void test_ds_bogus_expired(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	sp.signal_inception = NOW - 86400;
	sp.signal_expiration = NOW - 3600;
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus", "(signature expired; RRSIG by key");
	assert_true(t->v.secure);
}

/* Signed by a key outside the DNSKEY RRset. */
static void test_ds_bogus_unknown_key(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	sp.signal_signers[0] = &K.kc;
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bogus",
		     "(unknown key or wrong signature; RRSIG by key");
}

/* CDS for ka, CDNSKEY for kb: they describe different keys. */
static void test_ds_cds_cdnskey_mismatch(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cdnskey(&sp, &K.kb);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	char want[CDS_DS_TEXT_MAX + 32];
	snprintf(want, sizeof(want), "CDS %s matches no CDNSKEY", ds_text(&K.ka, 2));
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "cds-cdnskey-mismatch", want);
}

/* CDS for provider A's key only: B's DNSKEY RRset (signed by kb) would
 * lose its chain (RFC 8901 §6). */
static void test_ds_breaks_chain(void **state)
{
	struct tscan *t = delegation(state, &K.ka, &K.kb);
	multi_signer(t, 4, false);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "breaks-chain",
		     "do not authenticate the DNSKEY RRset at " NS_B " (127.0.0.2)");
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

/* A new Ed25519 key while policy.algorithms leaves out 15.  The DNSKEY
 * RRset is signed with both algorithms, so only the policy stands in the
 * way. */
static void test_ds_algorithm_not_allowed(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				  .dnskey = {&K.ka, &K.ed}, .signers = {&K.ka, &K.ed},
				  .signal_signers = {&K.ka}};
	add_cds(&sp, &K.ka, 2);
	add_cds(&sp, &K.ed, 2);
	serve_both(t, &sp);
	conf_of(state)->policy.algorithms[15] = false;
	assert_int_equal(decide(state), 0);
	char want[64];
	snprintf(want, sizeof(want), "adds a DS for key %u with algorithm 15", K.ed.keytag);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "algorithm-not-allowed", want);
}

/* kb's only CDS has digest type 1 (SHA-1), outside policy.digest-types. */
static void test_ds_digest_not_allowed(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cds(&sp, &K.kb, 1);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	char want[64];
	snprintf(want, sizeof(want), "CDS for key %u (algorithm 13) has only digest type 1", K.kb.keytag);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "digest-not-allowed", want);
}

/* RFC 7344 §6.2: signed an hour ago, the parent changed the DS a minute ago. */
static void test_ds_stale_signal(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	t->d.has_last_change = true;
	t->d.last_change = NOW - 60;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "stale-signal",
		     "was signed at 2026-11-29T17:00:00Z, before the replay baseline "
		     "2026-11-29T17:59:00Z");
}

static void test_ds_opted_out(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	t->d.opted_out = true;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "opted-out", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

static void test_ds_too_many_ds(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	conf_of(state)->policy.max_ds = 1;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "too-many-ds",
		     "2 DS records, policy.max-ds is 1");
}

/* ------------------------------ insecure delegations: bootstrapping --- */

/* The apex signal of an insecure delegation: CDS and CDNSKEY of ka, whose
 * DNSKEY RRset ka signs.  Served at A and B. */
static struct tscan_server bootstrap_apex(struct tscan *t)
{
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cdnskey(&sp, &K.ka);
	serve_both(t, &sp);
	return sp;
}

/* RFC 9615 signals under NS_A and NS_B equal to the apex signal. */
static void signals_as_apex(struct tscan *t, const struct tscan_server *sp)
{
	tscan_add_signal(t, NS_A, "provider-a.net.", sp->cds, sp->ncds, sp->cdnskey,
			 sp->ncdnskey);
	tscan_add_signal(t, NS_B, "provider-b.net.", sp->cds, sp->ncds, sp->cdnskey,
			 sp->ncdnskey);
}

/* A delete signal where there is no DS asks for what the parent has. */
static void test_ds_signal_unchanged_insecure_delete(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = server_a();
	add_cds_delete(&sp);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "signal-unchanged",
		     "a delete signal, and there is no DS");
}

/* Signals asked for, none published: no authenticated path. */
static void test_ds_insecure_no_bootstrap(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	bootstrap_apex(t);
	tscan_add_signal(t, NS_A, "provider-a.net.", NULL, 0, NULL, 0);
	tscan_add_signal(t, NS_B, "provider-b.net.", NULL, 0, NULL, 0);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "insecure-no-bootstrap",
		     "no RFC 9615 signal under any nameserver host name");
	assert_false(t->v.secure);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, NULL);
}

/* The scan did not look the signaling names up. */
static void test_ds_insecure_no_bootstrap_not_asked(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	bootstrap_apex(t);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "insecure-no-bootstrap",
		     "the signaling names were not looked up");
}

static void test_ds_bootstrap_authenticated(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = bootstrap_apex(t);
	signals_as_apex(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_BOOTSTRAP, "bootstrap-authenticated",
		     "signals under 2 nameserver host names");
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.ka, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.rem, NULL);
}

/* Under B the CDNSKEY is missing (NODATA) while the apex has one. */
static void test_ds_bootstrap_signal_missing(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = bootstrap_apex(t);
	tscan_add_signal(t, NS_A, "provider-a.net.", sp.cds, sp.ncds, sp.cdnskey, sp.ncdnskey);
	tscan_add_signal(t, NS_B, "provider-b.net.", sp.cds, sp.ncds, NULL, 0);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bootstrap-signal-missing",
		     "no CDNSKEY at the signaling name under " NS_B);
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

/* Under B the CDS names kb, the apex ka. */
static void test_ds_bootstrap_signal_mismatch(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = bootstrap_apex(t);
	struct tscan_server other = server_a();
	add_cds(&other, &K.kb, 2);
	tscan_add_signal(t, NS_A, "provider-a.net.", sp.cds, sp.ncds, sp.cdnskey, sp.ncdnskey);
	tscan_add_signal(t, NS_B, "provider-b.net.", other.cds, other.ncds, sp.cdnskey,
			 sp.ncdnskey);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bootstrap-signal-mismatch",
		     "the CDS signal under " NS_B " differs from the CDS at the apex");
}

/* B's host name is in a zone without a secure delegation. */
static void test_ds_bootstrap_ns_insecure(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = bootstrap_apex(t);
	signals_as_apex(t, &sp);
	t->signals[1].zone_status = CDS_DNSSEC_INSECURE;
	snprintf(t->signals[1].zone_why, sizeof(t->signals[1].zone_why),
		 "provider-b.net. has no DS");
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bootstrap-ns-insecure",
		     NS_B ": provider-b.net. has no DS");
}

/* B's CDS signal is there but does not validate from the trust anchor. */
static void test_ds_bootstrap_signal_bogus(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	struct tscan_server sp = bootstrap_apex(t);
	signals_as_apex(t, &sp);
	t->signals[1].status[0] = CDS_DNSSEC_BOGUS;
	snprintf(t->signals[1].why[0], sizeof(t->signals[1].why[0]), "the RRSIG does not verify");
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bootstrap-signal-bogus",
		     "the CDS signal under " NS_B ": the RRSIG does not verify");
}

/* Accept-after-delay alone (RFC 8078 §3.3), the signal read over TCP. */
static struct tscan *after_delay(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	bootstrap_apex(t);
	t->res.signal_over_tcp = true;
	conf_of(state)->policy.bootstrap_authenticated = false;
	conf_of(state)->policy.bootstrap_after_delay = true;
	return t;
}

/* First sighting: one scan of three, no time yet. */
static void test_ds_bootstrap_pending(void **state)
{
	struct tscan *t = after_delay(state);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "bootstrap-pending",
		     "seen in 1 of 3 scans, for 0 of 72 hours (first sighting)");
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, NULL);
}

/* A signal not read over TCP does not count. */
static void test_ds_bootstrap_pending_not_tcp(void **state)
{
	struct tscan *t = after_delay(state);
	t->res.signal_over_tcp = false;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "bootstrap-pending", "not read over TCP");
}

/* Seen unchanged twice before, first four days ago: the third scan accepts. */
static void test_ds_bootstrap_after_delay(void **state)
{
	struct tscan *t = after_delay(state);
	t->d.has_observation = true;
	snprintf(t->d.observed_signal, sizeof(t->d.observed_signal), "%s", ds_text(&K.ka, 2));
	t->d.observed_first = NOW - 4 * 86400;
	t->d.observed_scans = 2;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_BOOTSTRAP, "bootstrap-after-delay",
		     "seen unchanged in 3 scans over 96 hours");
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.ka, 2));
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


/* ---------------------------------------------------- decision rules --- */

/* Steady state after the parent applied a change: the child's CDS (signed
 * before the baseline) equals the DS set.  Equality comes before
 * staleness: signal-unchanged, not stale-signal. */
static void test_ds_steady_state_not_stale(void **state)
{
	struct tscan *t = delegation(state, &K.ka, &K.kb);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	t->d.has_last_change = true;
	t->d.last_change = NOW - 60;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "signal-unchanged", NULL);
	assert_int_equal(t->v.signal_inception, 0);
}

/* A change the parent makes records the signal's inception: the next
 * replay baseline. */
static void test_ds_update_sets_inception(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	assert_int_equal(t->v.signal_inception, NOW - 3600);
}

/* SHA-1 beside SHA-256 for the same key: the SHA-1 record is dropped (as
 * dnssec-cds -a does), the rest goes through. */
static void test_ds_digest_filtered(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	add_cds(&sp, &K.kb, 2);
	add_cds(&sp, &K.kb, 1);
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.proposed, ds_text(&K.ka, 2), ds_text(&K.kb, 2));
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.kb, 2));
}

/* Leaving a deprecated algorithm: the parent holds ka's DS while ka's
 * algorithm (13 here) is no longer in policy.algorithms; the CDS keeps it
 * and adds Ed25519's (allowed): the policy applies to additions only. */
static void test_ds_algorithm_rollover_from_deprecated(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = {.name = NS_A, .addr = "127.0.0.1", .soa_serial = 1,
				  .dnskey = {&K.ka, &K.ed}, .signers = {&K.ka, &K.ed},
				  .signal_signers = {&K.ka}};
	add_cds(&sp, &K.ka, 2);
	add_cds(&sp, &K.ed, 2);
	serve_both(t, &sp);
	conf_of(state)->policy.algorithms[13] = false;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, ds_text(&K.ed, 2));
}

/* RFC 7344 §4.1: a rollover signal signed by the ZSK only (a key the DS set
 * does not reference) is refused. */
static void test_ds_signer_not_in_ds(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	sp.signal_signers[0] = &K.zsk;
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	char want[96];
	snprintf(want, sizeof(want), "CDS at " NS_A " (127.0.0.1) is signed by key %u",
		 K.zsk.keytag);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "signer-not-in-ds", want);
}

/* Signed by the ZSK first and by the KSK the DS names too: validation
 * meets the ZSK's RRSIG first, and the signer rule must still find the
 * KSK's (the key that verified is reused only when a DS names it). */
static void test_ds_signer_second_rrsig(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	sp.signal_signers[0] = &K.zsk;
	sp.signal_signers[1] = &K.ka;
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
}

/* A suspended domain decides nothing, on either side. */
static void test_ds_suspended(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = rollover();
	serve_both(t, &sp);
	t->d.suspended = true;
	snprintf(t->d.suspended_reason, sizeof(t->d.suspended_reason),
		 "the DS set was removed outside cdscan");
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_NONE, "suspended",
		     "the DS set was removed outside cdscan");
	TSCAN_EXPECT(&t->v.ns_side, CDS_ACTION_NONE, "suspended", NULL);
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

/* RFC 9975 §3: B has failed for longer than policy.unreachable-after and is
 * left out; A alone decides, and the verdict names B. */
static void test_ds_unreachable_excluded(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server a = rollover(), b = server_b(&a);
	b.error = "timeout";
	tscan_add_server(t, &a, NULL);
	tscan_add_server(t, &b, NULL);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "ns-unreachable", NS_B " (127.0.0.2)");
	static char *excluded[] = {NS_B " 127.0.0.2"};
	t->d.excluded = excluded;
	t->d.excluded_count = 1;
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_UPDATE, "ds-updated", NULL);
	assert_int_equal(t->v.excluded.n, 1);
	assert_non_null(strstr(t->v.excluded.v[0], NS_B " (127.0.0.2): timeout"));
	/* Still shown (and still counted failing by the store). */
	assert_int_equal(t->v.server_count, 2);
	assert_string_equal(t->v.servers[1].name, NS_B);
	assert_false(t->v.servers[1].ok);
	t->d.excluded = NULL;
	t->d.excluded_count = 0;
}

/* A CDS whose SHA-256 digest is one octet short is no DS of any key: the
 * signal is refused, not shortened or passed on. */
static void test_ds_malformed_cds(void **state)
{
	struct tscan *t = delegation(state, &K.ka, NULL);
	struct tscan_server sp = server_a();
	add_cds(&sp, &K.ka, 2);
	uint8_t bad[4 + 31] = {0x12, 0x34, 13, 2};
	ts_rr_raw(&sp.cds[sp.ncds++], CDS_T_CDS, bad, sizeof(bad));
	serve_both(t, &sp);
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "digest-not-allowed",
		     "a digest of 31 octets for digest type 2 (which needs 32)");
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

/* Both signaling names answer empty without a proof (a forged "no
 * signal"): that is a bogus signal, not a zone that does not use RFC 9615,
 * so the accept-after-delay path does not open. */
static void test_ds_bootstrap_unproven_empty(void **state)
{
	struct tscan *t = delegation(state, NULL, NULL);
	bootstrap_apex(t);
	t->res.signal_over_tcp = true;
	conf_of(state)->policy.bootstrap_after_delay = true;
	const char *hosts[2][2] = {{NS_A, "provider-a.net."}, {NS_B, "provider-b.net."}};
	for (int i = 0; i < 2; i++) {
		struct cds_bootstrap_signal *sig =
			tscan_add_signal(t, hosts[i][0], hosts[i][1], NULL, 0, NULL, 0);
		for (int k = 0; k < 2; k++) {
			sig->missing[k] = false;
			sig->status[k] = CDS_DNSSEC_BOGUS;
			snprintf(sig->why[k], sizeof(sig->why[k]), "empty answer, not proven");
		}
	}
	assert_int_equal(decide(state), 0);
	TSCAN_EXPECT(&t->v.ds_side, CDS_ACTION_REJECT, "bootstrap-signal-bogus",
		     "under " NS_A ": empty answer, not proven");
	TSCAN_EXPECT_LIST(&t->v.ds_side.add, NULL);
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, tscan_case_setup, tscan_case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_ds_no_signal),
		CASE(test_ds_no_signal_probe_only),
		CASE(test_ds_malformed_cds),
		CASE(test_ds_bootstrap_unproven_empty),
		CASE(test_ds_signal_unchanged),
		CASE(test_ds_ds_updated),
		CASE(test_ds_ds_updated_from_cdnskey),
		CASE(test_ds_ds_updated_multi_signer),
		CASE(test_ds_delete),
		CASE(test_ds_delete_not_allowed),
		CASE(test_ds_mixed_delete),
		CASE(test_ds_ns_unreachable),
		CASE(test_ds_ns_unreachable_no_address),
		CASE(test_ds_ns_inconsistent),
		CASE(test_ds_not_signed),
		CASE(test_ds_bogus_dnskey),
		CASE(test_ds_bogus_revoked),
		CASE(test_ds_bogus_expired),
		CASE(test_ds_bogus_unknown_key),
		CASE(test_ds_cds_cdnskey_mismatch),
		CASE(test_ds_breaks_chain),
		CASE(test_ds_algorithm_not_allowed),
		CASE(test_ds_digest_not_allowed),
		CASE(test_ds_stale_signal),
		CASE(test_ds_opted_out),
		CASE(test_ds_too_many_ds),
		CASE(test_ds_signal_unchanged_insecure_delete),
		CASE(test_ds_insecure_no_bootstrap),
		CASE(test_ds_insecure_no_bootstrap_not_asked),
		CASE(test_ds_bootstrap_authenticated),
		CASE(test_ds_bootstrap_signal_missing),
		CASE(test_ds_bootstrap_signal_mismatch),
		CASE(test_ds_bootstrap_ns_insecure),
		CASE(test_ds_bootstrap_signal_bogus),
		CASE(test_ds_bootstrap_pending),
		CASE(test_ds_bootstrap_pending_not_tcp),
		CASE(test_ds_bootstrap_after_delay),
		CASE(test_ds_steady_state_not_stale),
		CASE(test_ds_update_sets_inception),
		CASE(test_ds_digest_filtered),
		CASE(test_ds_algorithm_rollover_from_deprecated),
		CASE(test_ds_signer_not_in_ds),
		CASE(test_ds_signer_second_rrsig),
		CASE(test_ds_suspended),
		CASE(test_ds_unreachable_excluded),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
