/* Unit tests of the DS-side decision on really signed answers (made by
 * tests/common/testsign.c), fed through the scanner's own per-answer path.
 * The clock is a parameter: no sleeping, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/policy.h"
#include "cdscan/scan.h"
#include "cdscan/transport.h"
#include "testsign.h"

#define ZONE "child.test."
#define NOW ((time_t)1795975200) /* 2026-11-29T18:00:00Z */

static struct ts_key ka, kb, kc, zsk;

/* What one server serves. */
struct spec {
	const struct ts_key *dnskey[4];
	const struct ts_key *dnskey_signers[4];
	struct ts_rr cds[4];
	size_t ncds;
	struct ts_rr cdnskey[4];
	size_t ncdnskey;
	const struct ts_key *signal_signers[4];
	time_t signal_inception, signal_expiration;
	int cds_rcode;
};

static size_t count(const struct ts_key *const *k)
{
	size_t n = 0;
	while (n < 4 && k[n])
		n++;
	return n;
}

static void serve(struct cds_server_result *srv, const char *name, const char *addr,
		  const struct spec *sp)
{
	uint8_t m[4096];
	size_t len;
	memset(srv, 0, sizeof(*srv));
	snprintf(srv->name, sizeof(srv->name), "%s", name);
	cds_addr_parse(addr, 53, &srv->addr);
	srv->has_addr = true;
	srv->ok = true;
	time_t inc = NOW - 3600, exp = NOW + 86400 * 30;
	/* SOA: mname, rname (root), serial, refresh, retry, expire, minimum. */
	struct ts_rr soa = {.type = CDS_T_SOA, .rdlen = 22};
	memset(soa.rdata, 0, sizeof(soa.rdata));
	soa.rdata[5] = 1;
	len = ts_answer(m, ZONE, CDS_T_SOA, 0, &soa, 1, sp->dnskey_signers,
			count(sp->dnskey_signers), inc, exp);
	cds_server_take_answer(srv, CDS_Q_SOA, ZONE, 0, m, len);
	struct ts_rr keys[4];
	size_t nk = count(sp->dnskey);
	for (size_t i = 0; i < nk; i++)
		ts_rr_dnskey(&keys[i], CDS_T_DNSKEY, sp->dnskey[i]);
	len = ts_answer(m, ZONE, CDS_T_DNSKEY, 0, keys, nk, sp->dnskey_signers,
			count(sp->dnskey_signers), inc, exp);
	cds_server_take_answer(srv, CDS_Q_DNSKEY, ZONE, 0, m, len);
	time_t si = sp->signal_inception ? sp->signal_inception : inc;
	time_t se = sp->signal_expiration ? sp->signal_expiration : exp;
	len = ts_answer(m, ZONE, CDS_T_CDS, sp->cds_rcode, sp->cds, sp->ncds, sp->signal_signers,
			count(sp->signal_signers), si, se);
	cds_server_take_answer(srv, CDS_Q_CDS, ZONE, 0, m, len);
	len = ts_answer(m, ZONE, CDS_T_CDNSKEY, 0, sp->cdnskey, sp->ncdnskey, sp->signal_signers,
			count(sp->signal_signers), si, se);
	cds_server_take_answer(srv, CDS_Q_CDNSKEY, ZONE, 0, m, len);
	len = ts_answer(m, ZONE, CDS_T_CSYNC, 0, NULL, 0, NULL, 0, inc, exp);
	cds_server_take_answer(srv, CDS_Q_CSYNC, ZONE, 0, m, len);
	struct ts_rr ns = {.type = CDS_T_NS};
	ns.rdlen = (size_t)cds_dname_to_wire("ns1.provider-a.net.", ns.rdata);
	len = ts_answer(m, ZONE, CDS_T_NS, 0, &ns, 1, NULL, 0, inc, exp);
	cds_server_take_answer(srv, CDS_Q_NS, ZONE, 0, m, len);
}

/* Decide for servers against the parent's DS set. */
static void decide(struct cds_server_result *srv, size_t n, const struct cds_ds *ds, size_t nds,
		   const struct cds_conf *conf, time_t last_change, struct cds_verdict *v)
{
	struct cds_ns_entry ns[2] = {{.name = "ns1.provider-a.net."},
				     {.name = "ns1.provider-b.net."}};
	struct cds_delegation d = {.domain = ZONE, .ns = ns, .ns_count = n,
				   .ds = (struct cds_ds *)ds, .ds_count = nds,
				   .has_last_change = last_change != 0, .last_change = last_change};
	struct cds_scan_result res = {.delegation = &d, .servers = srv, .server_count = n,
				      .scanned_at = NOW};
	assert_int_equal(cds_policy_decide(&res, conf, NOW, v), 0);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&srv[i].sets[k]);
}

static void expect(const struct cds_verdict *v, enum cds_action action, const char *reason)
{
	if (v->ds_side.action != action ||
	    strcmp(cds_reason_code(v->ds_side.reasons[0]), reason) != 0)
		fail_msg("got %s/%s (%s), want %s/%s", cds_action_name(v->ds_side.action),
			 cds_reason_code(v->ds_side.reasons[0]), v->ds_side.detail,
			 cds_action_name(action), reason);
}

static int setup(void **state)
{
	if (ts_key_new(&ka, 257) || ts_key_new(&kb, 257) || ts_key_new(&kc, 257) ||
	    ts_key_new(&zsk, 256))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	ts_key_free(&ka);
	ts_key_free(&kb);
	ts_key_free(&kc);
	ts_key_free(&zsk);
	return 0;
}

/* A single-signer zone with ka signing; the parent holds DS(ka). */
static struct spec base(void)
{
	struct spec sp = {.dnskey = {&ka, &kb, &zsk}, .dnskey_signers = {&ka},
			  .signal_signers = {&ka}};
	return sp;
}

static void test_rollover_accepted(void **state)
{
	struct cds_conf conf;
	struct cds_ds cur, next;
	struct cds_verdict v;
	struct cds_server_result srv[1];
	cds_conf_init(&conf);
	ts_key_ds(&ka, ZONE, 2, &cur);
	ts_key_ds(&kb, ZONE, 2, &next);
	struct spec sp = base();
	ts_rr_ds(&sp.cds[0], CDS_T_CDS, &cur);
	ts_rr_ds(&sp.cds[1], CDS_T_CDS, &next);
	sp.ncds = 2;
	ts_rr_dnskey(&sp.cdnskey[0], CDS_T_CDNSKEY, &ka);
	ts_rr_dnskey(&sp.cdnskey[1], CDS_T_CDNSKEY, &kb);
	sp.ncdnskey = 2;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_UPDATE, "ds-updated");
	assert_true(v.secure);
	assert_int_equal(v.ds_side.proposed.n, 2);
	assert_int_equal(v.ds_side.add.n, 1);
	assert_int_equal(v.ds_side.rem.n, 0);
	char want[CDS_DS_TEXT_MAX];
	cds_ds_format(&next, want);
	assert_string_equal(v.ds_side.add.v[0], want);
	cds_verdict_clear(&v);

	/* The same signal, signed before the parent's last change: replay. */
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, NOW - 60, &v);
	expect(&v, CDS_ACTION_REJECT, "stale-signal");
	cds_verdict_clear(&v);
	cds_conf_deinit(&conf);
}

static void test_signatures(void **state)
{
	struct cds_conf conf;
	struct cds_ds cur, next;
	struct cds_verdict v;
	struct cds_server_result srv[1];
	cds_conf_init(&conf);
	ts_key_ds(&ka, ZONE, 2, &cur);
	ts_key_ds(&kb, ZONE, 2, &next);

	struct spec sp = base();
	ts_rr_ds(&sp.cds[0], CDS_T_CDS, &next);
	sp.ncds = 1;
	sp.signal_signers[0] = NULL; /* published without RRSIG */
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "not-signed");
	cds_verdict_clear(&v);

	sp.signal_signers[0] = &kc; /* a key outside the DNSKEY RRset */
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "bogus");
	cds_verdict_clear(&v);

	sp.signal_signers[0] = &ka; /* right key, expired an hour ago */
	sp.signal_inception = NOW - 86400;
	sp.signal_expiration = NOW - 3600;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "bogus");
	assert_non_null(strstr(v.ds_side.detail, "expired"));
	cds_verdict_clear(&v);

	/* The parent's DS matches no key: the DNSKEY RRset is not authenticated. */
	sp = base();
	ts_rr_ds(&sp.cds[0], CDS_T_CDS, &cur);
	sp.ncds = 1;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	struct cds_ds other;
	ts_key_ds(&kc, ZONE, 2, &other);
	decide(srv, 1, &other, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "bogus");
	assert_false(v.secure);
	cds_verdict_clear(&v);
	cds_conf_deinit(&conf);
}

static void test_delete_and_policy(void **state)
{
	struct cds_conf conf;
	struct cds_ds cur;
	struct cds_verdict v;
	struct cds_server_result srv[1];
	cds_conf_init(&conf);
	ts_key_ds(&ka, ZONE, 2, &cur);

	struct spec sp = base();
	static const uint8_t del[] = {0, 0, 0, 0, 0};
	ts_rr_raw(&sp.cds[0], CDS_T_CDS, del, sizeof(del));
	sp.ncds = 1;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_DELETE, "delete");
	assert_int_equal(v.ds_side.proposed.n, 0);
	assert_int_equal(v.ds_side.rem.n, 1);
	cds_verdict_clear(&v);

	conf.policy.allow_delete = false;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "delete-not-allowed");
	cds_verdict_clear(&v);
	conf.policy.allow_delete = true;

	ts_rr_ds(&sp.cds[1], CDS_T_CDS, &cur);
	sp.ncds = 2;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "mixed-delete");
	cds_verdict_clear(&v);

	/* CDNSKEY only: DS computed for every digest type of compute-digests. */
	sp = base();
	ts_rr_dnskey(&sp.cdnskey[0], CDS_T_CDNSKEY, &ka);
	ts_rr_dnskey(&sp.cdnskey[1], CDS_T_CDNSKEY, &kb);
	sp.ncdnskey = 2;
	conf.policy.compute_digests[4] = true;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_UPDATE, "ds-updated");
	assert_int_equal(v.ds_side.proposed.n, 4);
	cds_verdict_clear(&v);
	conf.policy.compute_digests[4] = false;

	/* Algorithm 13 removed from policy. */
	conf.policy.algorithms[13] = false;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "algorithm-not-allowed");
	cds_verdict_clear(&v);
	conf.policy.algorithms[13] = true;

	/* CDNSKEY for kb, CDS for ka: they disagree. */
	ts_rr_ds(&sp.cds[0], CDS_T_CDS, &cur);
	sp.ncds = 1;
	sp.ncdnskey = 1;
	ts_rr_dnskey(&sp.cdnskey[0], CDS_T_CDNSKEY, &kb);
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "cds-cdnskey-mismatch");
	cds_verdict_clear(&v);
	cds_conf_deinit(&conf);
}

static void test_multi_signer(void **state)
{
	struct cds_conf conf;
	struct cds_ds da, db;
	struct cds_verdict v;
	struct cds_server_result srv[2];
	cds_conf_init(&conf);
	ts_key_ds(&ka, ZONE, 2, &da);
	ts_key_ds(&kb, ZONE, 2, &db);
	struct cds_ds cur[2] = {da, db};
	struct cds_ds da4, db4;
	ts_key_ds(&ka, ZONE, 4, &da4);
	ts_key_ds(&kb, ZONE, 4, &db4);

	/* Provider A signs with ka, provider B with kb; both publish the same
	 * DNSKEY RRset and the same CDS RRset. */
	struct spec a = {.dnskey = {&ka, &kb}, .dnskey_signers = {&ka}, .signal_signers = {&ka}};
	struct spec b = {.dnskey = {&ka, &kb}, .dnskey_signers = {&kb}, .signal_signers = {&kb}};
	ts_rr_ds(&a.cds[0], CDS_T_CDS, &da4);
	ts_rr_ds(&a.cds[1], CDS_T_CDS, &db4);
	a.ncds = 2;
	memcpy(b.cds, a.cds, sizeof(a.cds));
	b.ncds = 2;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &a);
	serve(&srv[1], "ns1.provider-b.net.", "127.0.0.2", &b);
	decide(srv, 2, cur, 2, &conf, 0, &v);
	expect(&v, CDS_ACTION_UPDATE, "ds-updated");
	assert_true(v.secure);
	cds_verdict_clear(&v);

	/* CDS for provider A's key only: B's DNSKEY RRset loses its chain. */
	a.ncds = b.ncds = 1;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &a);
	serve(&srv[1], "ns1.provider-b.net.", "127.0.0.2", &b);
	decide(srv, 2, cur, 2, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "breaks-chain");
	assert_non_null(strstr(v.ds_side.detail, "127.0.0.2"));
	cds_verdict_clear(&v);

	/* NODATA at B, records at A. */
	a.ncds = 2;
	b.ncds = 0;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &a);
	serve(&srv[1], "ns1.provider-b.net.", "127.0.0.2", &b);
	decide(srv, 2, cur, 2, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "ns-inconsistent");
	cds_verdict_clear(&v);

	/* B answers CDS with REFUSED. */
	b.ncds = 2;
	b.cds_rcode = 5;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &a);
	serve(&srv[1], "ns1.provider-b.net.", "127.0.0.2", &b);
	decide(srv, 2, cur, 2, &conf, 0, &v);
	expect(&v, CDS_ACTION_REJECT, "ns-unreachable");
	assert_false(v.servers[1].ok);
	assert_non_null(strstr(v.servers[1].error, "REFUSED"));
	cds_verdict_clear(&v);
	cds_conf_deinit(&conf);
}

static void test_no_signal_and_insecure(void **state)
{
	struct cds_conf conf;
	struct cds_ds cur;
	struct cds_verdict v;
	struct cds_server_result srv[1];
	cds_conf_init(&conf);
	ts_key_ds(&ka, ZONE, 2, &cur);
	struct spec sp = base();
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_NONE, "no-signal");
	assert_string_equal(cds_reason_code(v.ns_side.reasons[0]), "no-csync");
	cds_verdict_clear(&v);

	ts_rr_ds(&sp.cds[0], CDS_T_CDS, &cur);
	sp.ncds = 1;
	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, NULL, 0, &conf, 0, &v);
	expect(&v, CDS_ACTION_NONE, "insecure-no-bootstrap");
	assert_false(v.secure);
	cds_verdict_clear(&v);

	serve(&srv[0], "ns1.provider-a.net.", "127.0.0.1", &sp);
	decide(srv, 1, &cur, 1, &conf, 0, &v);
	expect(&v, CDS_ACTION_NONE, "signal-unchanged");
	cds_verdict_clear(&v);
	cds_conf_deinit(&conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollover_accepted),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_delete_and_policy),
		cmocka_unit_test(test_multi_signer),
		cmocka_unit_test(test_no_signal_and_insecure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
