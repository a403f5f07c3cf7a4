/* Unit tests of the RFC 8914 codes rejections are reported with (RFC 9567;
 * src/policy/ereport.c): the table, and bogus made precise from what a
 * server served. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/policy.h"

#define NOW ((time_t)1764633600) /* 2025-12-02 */

static uint8_t rdata_byte;
static struct cds_rdata one_record = {.len = 1, .data = &rdata_byte};

/* A set of type with one record and RRSIGs valid over [inc, exp]
 * (sig_count 0: unsigned; count 0: empty). */
static void set_of(struct cds_rrset *s, uint16_t type, size_t count, struct cds_rrsig *sigs,
		   size_t sig_count)
{
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->present = true;
	s->count = count;
	s->rdata = count ? &one_record : NULL;
	s->sigs = sigs;
	s->sig_count = sig_count;
}

static struct cds_rrsig sig(time_t inception, time_t expiration)
{
	return (struct cds_rrsig){.key_tag = 1, .algorithm = 13,
				  .inception = (uint32_t)inception,
				  .expiration = (uint32_t)expiration};
}

static void reject(struct cds_verdict *v, enum cds_kind k, enum cds_reason r)
{
	struct cds_verdict_side *side = cds_verdict_side_of(v, k);
	side->action = CDS_ACTION_REJECT;
	side->reasons[0] = r;
	side->reason_count = 1;
}

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(cds_policy_reason_ede(CDS_R_NOT_SIGNED), 10);
	assert_int_equal(cds_policy_reason_ede(CDS_R_BOGUS), 6);
	assert_int_equal(cds_policy_reason_ede(CDS_R_BREAKS_CHAIN), 9);
	assert_int_equal(cds_policy_reason_ede(CDS_R_ALGORITHM_NOT_ALLOWED), 1);
	assert_int_equal(cds_policy_reason_ede(CDS_R_DIGEST_NOT_ALLOWED), 2);
	assert_int_equal(cds_policy_reason_ede(CDS_R_CSYNC_NOT_SIGNED), 10);
	assert_int_equal(cds_policy_reason_ede(CDS_R_CSYNC_BOGUS), 6);
	/* Not about the child's DNSSEC data: not reported. */
	static const enum cds_reason none[] = {
		CDS_R_NO_SIGNAL,       CDS_R_NS_UNREACHABLE,      CDS_R_NS_INCONSISTENT,
		CDS_R_DELETE_NOT_ALLOWED, CDS_R_CDS_CDNSKEY_MISMATCH, CDS_R_MIXED_DELETE,
		CDS_R_STALE_SIGNAL,    CDS_R_TOO_MANY_DS,         CDS_R_SIGNER_NOT_IN_DS,
		CDS_R_CSYNC_INCONSISTENT, CDS_R_BOOTSTRAP_SIGNAL_BOGUS, CDS_R_DS_UPDATED,
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(cds_policy_reason_ede(none[i]), -1);
}

static void test_bogus_precise(void **state)
{
	(void)state;
	struct cds_verdict v;
	struct cds_server_result srv;
	struct cds_error_report out[CDS_KIND_COUNT];
	struct cds_rrsig expired = sig(NOW - 30 * 86400, NOW - 86400);
	struct cds_rrsig early = sig(NOW + 86400, NOW + 30 * 86400);
	struct cds_rrsig fine = sig(NOW - 3600, NOW + 86400);
	struct cds_rrsig mixed[2] = {expired, fine};

	memset(&v, 0, sizeof(v));
	memset(&srv, 0, sizeof(srv));
	reject(&v, CDS_KIND_DS, CDS_R_BOGUS);
	set_of(&srv.sets[CDS_Q_DNSKEY], CDS_T_DNSKEY, 1, &fine, 1);
	set_of(&srv.sets[CDS_Q_CDS], CDS_T_CDS, 1, &expired, 1);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].qtype, CDS_T_CDS);
	assert_int_equal(out[0].ede, CDS_EDE_SIGNATURE_EXPIRED);
	assert_int_equal(out[0].reason, CDS_R_BOGUS);

	set_of(&srv.sets[CDS_Q_CDS], CDS_T_CDS, 1, &early, 1);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].ede, CDS_EDE_SIGNATURE_NOT_YET_VALID);

	/* One RRSIG in its window: some other failure, plain bogus. */
	set_of(&srv.sets[CDS_Q_CDS], CDS_T_CDS, 1, mixed, 2);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].ede, CDS_EDE_DNSSEC_BOGUS);

	/* Only CDNSKEY published: reported on CDNSKEY. */
	set_of(&srv.sets[CDS_Q_CDS], CDS_T_CDS, 0, NULL, 0);
	set_of(&srv.sets[CDS_Q_CDNSKEY], CDS_T_CDNSKEY, 1, &expired, 1);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].qtype, CDS_T_CDNSKEY);
	assert_int_equal(out[0].ede, CDS_EDE_SIGNATURE_EXPIRED);

	/* No DNSKEY RRset at all: DNSKEY Missing, on DNSKEY. */
	set_of(&srv.sets[CDS_Q_DNSKEY], CDS_T_DNSKEY, 0, NULL, 0);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].qtype, CDS_T_DNSKEY);
	assert_int_equal(out[0].ede, CDS_EDE_DNSKEY_MISSING);
}

static void test_sides(void **state)
{
	(void)state;
	struct cds_verdict v;
	struct cds_server_result srv;
	struct cds_error_report out[CDS_KIND_COUNT];
	struct cds_rrsig expired = sig(NOW - 30 * 86400, NOW - 86400);
	memset(&v, 0, sizeof(v));
	memset(&srv, 0, sizeof(srv));
	set_of(&srv.sets[CDS_Q_CDS], CDS_T_CDS, 1, NULL, 0);
	set_of(&srv.sets[CDS_Q_CSYNC], CDS_T_CSYNC, 1, &expired, 1);
	/* Nothing rejected: nothing reported. */
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 0);
	/* Both sides. */
	reject(&v, CDS_KIND_DS, CDS_R_NOT_SIGNED);
	reject(&v, CDS_KIND_NS, CDS_R_CSYNC_BOGUS);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 2);
	assert_int_equal(out[0].qtype, CDS_T_CDS);
	assert_int_equal(out[0].ede, CDS_EDE_RRSIGS_MISSING);
	assert_int_equal(out[1].qtype, CDS_T_CSYNC);
	assert_int_equal(out[1].ede, CDS_EDE_SIGNATURE_EXPIRED);
	/* A reason without a code on one side: only the other. */
	reject(&v, CDS_KIND_DS, CDS_R_NS_INCONSISTENT);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].qtype, CDS_T_CSYNC);
	/* Policy of digest types is the CDS's, even with CDNSKEY. */
	reject(&v, CDS_KIND_DS, CDS_R_DIGEST_NOT_ALLOWED);
	v.ns_side.action = CDS_ACTION_NONE;
	set_of(&srv.sets[CDS_Q_CDNSKEY], CDS_T_CDNSKEY, 1, NULL, 0);
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].qtype, CDS_T_CDS);
	assert_int_equal(out[0].ede, CDS_EDE_UNSUPPORTED_DS_DIGEST);
	/* The first reason is the one reported. */
	reject(&v, CDS_KIND_DS, CDS_R_ALGORITHM_NOT_ALLOWED);
	v.ds_side.reasons[1] = CDS_R_NOT_SIGNED;
	v.ds_side.reason_count = 2;
	assert_int_equal(cds_policy_error_reports(&v, &srv, NOW, out), 1);
	assert_int_equal(out[0].ede, CDS_EDE_UNSUPPORTED_DNSKEY_ALGORITHM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bogus_precise),
		cmocka_unit_test(test_sides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
