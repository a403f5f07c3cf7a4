/* Unit tests of the work limits of src/dns (dns.h, "work limits"): the
 * KeyTrap reproduction of issue #16 rebuilt in memory (colliding key tags
 * times RRSIGs), RSA key sizes, the size of a DNSKEY RRset, the budget of
 * one delegation across RRsets, and the records and RRSIGs the parser takes
 * from an answer.  Each asserts on the count of signature verifications
 * (cds_dnssec_work.verifications) and on the limit named, never on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "testsign.h"

#define ZONE "example.test."
#define NOW ((time_t)1800000000)
#define INCEPTION (NOW - 3600)
#define EXPIRATION (NOW + 86400)

/* The zone's own keys (ECDSA P-256) and the parent's DS for the KSK. */
static struct ts_key KSK, ZSK;
static struct cds_ds DS;

static int keys_setup(void **state)
{
	(void)state;
	if (ts_key_new(&KSK, 257) != 0 || ts_key_new(&ZSK, 256) != 0)
		return -1;
	ts_key_ds(&KSK, ZONE, 2, &DS);
	return 0;
}

static int keys_teardown(void **state)
{
	(void)state;
	ts_key_free(&KSK);
	ts_key_free(&ZSK);
	return 0;
}

/* A key tag none of the zone's own keys has. */
static uint16_t trap_tag(void)
{
	uint16_t tag = 12345;
	while (tag == KSK.keytag || tag == ZSK.keytag)
		tag++;
	return tag;
}

/* The DNSKEY RRset {KSK, ZSK, extra[0..n)} signed by the KSK: valid, as a
 * hostile zone's own DNSKEY RRset is. */
static void dnskey_with(struct cds_rrset *out, const struct ts_rr *extra, size_t n)
{
	struct ts_rr *rr = calloc(n + 2, sizeof(*rr));
	assert_non_null(rr);
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &KSK);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &ZSK);
	if (n)
		memcpy(rr + 2, extra, n * sizeof(*rr));
	const struct ts_key *ksk[] = {&KSK};
	assert_int_equal(ts_rrset(out, ZONE, ZONE, CDS_T_DNSKEY, rr, n + 2, ksk, 1, INCEPTION,
				  EXPIRATION),
			 0);
	free(rr);
}

/* The CDS RRset {the KSK's DS} signed by signers[0..n). */
static void cds_signed(struct cds_rrset *out, const struct ts_key *const *signers, size_t n)
{
	struct ts_rr rr;
	ts_rr_ds(&rr, CDS_T_CDS, &DS);
	assert_int_equal(ts_rrset(out, ZONE, ZONE, CDS_T_CDS, &rr, 1, signers, n, INCEPTION,
				  EXPIRATION),
			 0);
}

/*
 * The KeyTrap zone of issue #16: a DNSKEY RRset with nkeys RSA keys of
 * bits bits that all have key tag tag (no one holds them), and a CDS RRset
 * whose nsigs RRSIGs all name that tag: a validator that tries every
 * (RRSIG, key) pair makes nkeys x nsigs verifications, and none succeeds.
 */
static void keytrap(struct cds_rrset *dnskey, struct cds_rrset *cds, uint16_t tag, size_t nkeys,
		    size_t nsigs, unsigned bits)
{
	struct ts_rr *forged = calloc(nkeys ? nkeys : 1, sizeof(*forged));
	assert_non_null(forged);
	for (size_t i = 0; i < nkeys; i++) {
		ts_rr_rsa_forged(&forged[i], CDS_T_DNSKEY, 256, bits, 3, tag, (unsigned)i + 1);
		assert_int_equal(cds_dnskey_keytag(forged[i].rdata, forged[i].rdlen), tag);
	}
	dnskey_with(dnskey, forged, nkeys);
	assert_int_equal(dnskey->count, nkeys + 2); /* every forged key distinct */
	free(forged);
	cds_signed(cds, NULL, 0);
	for (size_t i = 0; i < nsigs; i++)
		assert_int_equal(ts_rrset_forged_sig(cds, ZONE, 8, tag, bits / 8, INCEPTION,
						     EXPIRATION),
				 0);
}

/* Validate cds from the DS through dnskey under limits (NULL: defaults),
 * in a fresh w. */
static enum cds_dnssec_status validate(const struct cds_rrset *cds, const struct cds_rrset *dnskey,
				       const struct cds_dnssec_limits *limits,
				       struct cds_dnssec_work *w)
{
	cds_dnssec_work_init(w, limits, NOW);
	return cds_dnssec_validate(ZONE, cds, dnskey, &DS, 1, w);
}

/* ------------------------------------------------------- KeyTrap --- */

static void test_keytrap(void **state)
{
	(void)state;
	/* The case: 30 colliding keys x 30 RRSIGs (1024-bit keys
	 * here: the count is what is asserted, not the time). */
	struct cds_rrset dnskey, cds;
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	struct cds_dnssec_work w;
	char want[CDS_LIMIT_TEXT_MAX];
	uint16_t tag = trap_tag();
	keytrap(&dnskey, &cds, tag, 30, 30, 1024);

	/* The defaults: refused before any forged signature is looked at;
	 * the one verification is the DNSKEY RRset's own RRSIG (the KSK). */
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1);
	snprintf(want, sizeof(want),
		 "the DNSKEY RRset of example.test. has 30 keys with key tag %u and algorithm 8; "
		 "limits.keys-per-tag is 4",
		 tag);
	assert_string_equal(w.limit, want);

	/* Without that limit, the RRset's budget stops it at 16. */
	l.keys_per_tag = 64;
	assert_int_equal(validate(&cds, &dnskey, &l, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1 + 16);
	assert_string_equal(w.limit, "the CDS RRset of example.test. took 16 signature "
				     "verifications and none succeeded; "
				     "limits.verifications-per-rrset is 16");

	/* Without that either: 8 RRSIGs are tried, each with 30 keys. */
	l.verifications_per_rrset = 1024;
	assert_int_equal(validate(&cds, &dnskey, &l, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1 + 8 * 30);
	assert_string_equal(w.limit, "8 RRSIGs of the CDS RRset of example.test. were tried and "
				     "none validates; limits.rrsigs-tried-per-rrset is 8");

	/* Every pair, as before the limits: 900 verifications for one RRset
	 * at one address (the issue measured 6.9 s with 3072-bit keys and
	 * exponents), under the delegation's budget of 1024. */
	l.rrsigs_tried = 64;
	assert_int_equal(validate(&cds, &dnskey, &l, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1 + 30 * 30);
	assert_string_equal(w.limit, "");

	/* And that budget stops it where it is. */
	l.verifications_per_delegation = 100;
	assert_int_equal(validate(&cds, &dnskey, &l, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 100);
	assert_string_equal(w.limit, "100 signature verifications were made for this delegation "
				     "before the CDS RRset of example.test.; "
				     "limits.verifications-per-delegation is 100");
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&cds);
}

/* A real key sharing its tag with a few others still validates: 4 keys
 * of one tag and algorithm are tried, a fifth is refused. */
static void test_keys_per_tag(void **state)
{
	(void)state;
	struct ts_key rsa;
	struct ts_rr forged[4];
	struct cds_rrset dnskey, cds;
	struct cds_dnssec_work w;
	char want[CDS_LIMIT_TEXT_MAX];
	assert_int_equal(ts_key_new_rsa(&rsa, 256, 1024, 65537), 0);
	ts_rr_dnskey(&forged[0], CDS_T_DNSKEY, &rsa);
	for (unsigned i = 1; i < 4; i++)
		ts_rr_rsa_forged(&forged[i], CDS_T_DNSKEY, 256, 1024, 3, rsa.keytag, i);
	const struct ts_key *signer[] = {&rsa};
	cds_signed(&cds, signer, 1);

	dnskey_with(&dnskey, forged, 4);
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_SECURE);
	assert_in_range(w.verifications, 2, 1 + 4);
	assert_string_equal(w.limit, "");
	cds_rrset_clear(&dnskey);

	struct ts_rr five[5];
	memcpy(five, forged, sizeof(forged));
	ts_rr_rsa_forged(&five[4], CDS_T_DNSKEY, 256, 1024, 3, rsa.keytag, 4);
	dnskey_with(&dnskey, five, 5);
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1);
	snprintf(want, sizeof(want),
		 "the DNSKEY RRset of example.test. has 5 keys with key tag %u and algorithm 8; "
		 "limits.keys-per-tag is 4",
		 rsa.keytag);
	assert_string_equal(w.limit, want);
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&cds);
	ts_key_free(&rsa);
}

/* ------------------------------------------------------ RSA sizes --- */

/* Validate the CDS RRset signed by k, k in the DNSKEY RRset. */
static enum cds_dnssec_status signed_with(const struct ts_key *k,
					  const struct cds_dnssec_limits *limits,
					  struct cds_dnssec_work *w)
{
	struct ts_rr rr;
	struct cds_rrset dnskey, cds;
	const struct ts_key *signer[] = {k};
	ts_rr_dnskey(&rr, CDS_T_DNSKEY, k);
	dnskey_with(&dnskey, &rr, 1);
	cds_signed(&cds, signer, 1);
	enum cds_dnssec_status st = validate(&cds, &dnskey, limits, w);
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&cds);
	return st;
}

static void test_rsa_exponent(void **state)
{
	(void)state;
	/* RFC 3110 §2 allows an exponent of up to 4096 bits; each bit costs
	 * a squaring in every verification.  65537 (3 octets) and BIND's
	 * old large exponent 2^32+1 (5 octets) pass; 6 octets do not. */
	struct ts_key f4, f5, big;
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	struct cds_dnssec_work w;
	char want[CDS_LIMIT_TEXT_MAX];
	assert_int_equal(ts_key_new_rsa(&f4, 256, 1024, 65537), 0);
	assert_int_equal(ts_key_new_rsa(&f5, 256, 1024, UINT64_C(0x100000001)), 0);
	assert_int_equal(ts_key_new_rsa(&big, 256, 1024, UINT64_C(0x10000000001)), 0);
	assert_int_equal(signed_with(&f4, NULL, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(signed_with(&f5, NULL, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(w.verifications, 2);

	assert_int_equal(signed_with(&big, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1); /* the KSK's over the DNSKEY RRset */
	snprintf(want, sizeof(want),
		 "key %u of the DNSKEY RRset of example.test. has an RSA exponent of 6 octets; "
		 "limits.rsa-max-exponent-octets is 5",
		 big.keytag);
	assert_string_equal(w.limit, want);
	l.rsa_max_exponent_octets = 6;
	assert_int_equal(signed_with(&big, &l, &w), CDS_DNSSEC_SECURE);
	ts_key_free(&f4);
	ts_key_free(&f5);
	ts_key_free(&big);
}

static void test_rsa_modulus(void **state)
{
	(void)state;
	struct ts_key small, k1024;
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	struct cds_dnssec_work w;
	char want[CDS_LIMIT_TEXT_MAX];
	assert_int_equal(ts_key_new_rsa(&small, 256, 768, 65537), 0);
	assert_int_equal(ts_key_new_rsa(&k1024, 256, 1024, 65537), 0);
	assert_int_equal(signed_with(&k1024, NULL, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(signed_with(&small, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1);
	snprintf(want, sizeof(want),
		 "key %u of the DNSKEY RRset of example.test. has a 768-bit RSA modulus; "
		 "limits.rsa-min-bits is 1024",
		 small.keytag);
	assert_string_equal(w.limit, want);
	l.rsa_min_bits = 512;
	assert_int_equal(signed_with(&small, &l, &w), CDS_DNSSEC_SECURE);

	/* Too large: a 4104-bit key nobody holds, named by an RRSIG of its
	 * size; with the limit raised the signature is tried (and fails). */
	struct ts_rr big;
	struct cds_rrset dnskey, cds;
	ts_rr_rsa_forged(&big, CDS_T_DNSKEY, 256, 4104, 3, -1, 7);
	uint16_t tag = cds_dnskey_keytag(big.rdata, big.rdlen);
	dnskey_with(&dnskey, &big, 1);
	cds_signed(&cds, NULL, 0);
	assert_int_equal(ts_rrset_forged_sig(&cds, ZONE, 8, tag, 513, INCEPTION, EXPIRATION), 0);
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 1);
	snprintf(want, sizeof(want),
		 "key %u of the DNSKEY RRset of example.test. has a 4104-bit RSA modulus; "
		 "limits.rsa-max-bits is 4096",
		 tag);
	assert_string_equal(w.limit, want);
	l = cds_dnssec_limits_default;
	l.rsa_max_bits = 8192;
	assert_int_equal(validate(&cds, &dnskey, &l, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 2);
	assert_string_equal(w.limit, "");
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&cds);
	ts_key_free(&small);
	ts_key_free(&k1024);
}

/* ------------------------------------------- sizes and budgets --- */

static void test_dnskeys_per_rrset(void **state)
{
	(void)state;
	/* 32 keys (the zone's 2 and 30 others, all with their own tags)
	 * are used; 33 are not, and cost nothing. */
	struct ts_rr others[31];
	struct cds_rrset dnskey, cds;
	struct cds_dnssec_work w;
	const struct ts_key *zsk[] = {&ZSK};
	for (unsigned i = 0; i < 31; i++)
		ts_rr_rsa_forged(&others[i], CDS_T_DNSKEY, 256, 1024, 3, -1, 100 + i);
	cds_signed(&cds, zsk, 1);
	dnskey_with(&dnskey, others, 30);
	assert_int_equal(dnskey.count, 32);
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(w.verifications, 2);
	cds_rrset_clear(&dnskey);
	dnskey_with(&dnskey, others, 31);
	assert_int_equal(validate(&cds, &dnskey, NULL, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 0);
	assert_string_equal(w.limit, "the DNSKEY RRset of example.test. has 33 keys; "
				     "limits.dnskeys-per-rrset is 32");
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&cds);
}

/* A CDS RRset with n RRSIGs that name the ZSK and do not verify. */
static void cds_bad_sigs(struct cds_rrset *cds, size_t n)
{
	cds_signed(cds, NULL, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ts_rrset_forged_sig(cds, ZONE, 13, ZSK.keytag, 64, INCEPTION,
						     EXPIRATION),
				 0);
}

static void test_delegation_budget(void **state)
{
	(void)state;
	/* One run (a delegation's decision) validates several RRsets, each
	 * within its own limits (8 RRSIGs, 8 verifications); the run's
	 * budget stops the fifth, and then everything after it, a valid
	 * RRset too, without one more verification. */
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	struct cds_rrset dnskey, bad, good;
	struct cds_dnssec_work w;
	const struct ts_key *zsk[] = {&ZSK};
	dnskey_with(&dnskey, NULL, 0);
	cds_bad_sigs(&bad, 8);
	cds_signed(&good, zsk, 1);
	l.verifications_per_delegation = 36;
	cds_dnssec_work_init(&w, &l, NOW);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cds_dnssec_verify(ZONE, &bad, &dnskey, &w), CDS_DNSSEC_BOGUS);
		assert_string_equal(w.limit, "");
	}
	assert_int_equal(w.verifications, 32);
	assert_int_equal(cds_dnssec_verify(ZONE, &bad, &dnskey, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 36);
	assert_string_equal(w.limit, "36 signature verifications were made for this delegation "
				     "before the CDS RRset of example.test.; "
				     "limits.verifications-per-delegation is 36");
	assert_int_equal(cds_dnssec_verify(ZONE, &good, &dnskey, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 36);
	assert_non_null(strstr(w.limit, "limits.verifications-per-delegation is 36"));
	/* A run of its own validates it. */
	cds_dnssec_work_init(&w, &l, NOW);
	assert_int_equal(cds_dnssec_verify(ZONE, &good, &dnskey, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(w.verifications, 1);
	cds_rrset_clear(&dnskey);
	cds_rrset_clear(&bad);
	cds_rrset_clear(&good);
}

/* ------------------------------------------------ what is parsed --- */

/* A DNS message built by hand, large enough for 600 records. */
struct bigmsg {
	uint8_t b[20000];
	size_t len;
};

static void put(struct bigmsg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct bigmsg *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(m, b, 2);
}

/* Header (QR AA, rcode), question "example.test." qtype at offset 12. */
static void start(struct bigmsg *m, uint16_t qtype, int rcode, unsigned an, unsigned ns)
{
	uint8_t h[4] = {0x12, 0x34, 0x84, (uint8_t)rcode};
	m->len = 0;
	put(m, h, 4);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put(m, "\7example\4test\0", 14);
	put16(m, qtype);
	put16(m, 1);
}

/* A record at the question's name (a compression pointer to it). */
static void rr(struct bigmsg *m, uint16_t type, const void *rdata, size_t rdlen)
{
	static const uint8_t head[] = {0xC0, 12};
	put(m, head, 2);
	put16(m, type);
	put16(m, 1);
	put16(m, 0);
	put16(m, 3600);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

/* An RRSIG over type with key tag tag (signer the root, a signature of 64
 * octets that verifies nothing: the parser does not look). */
static void rrsig(struct bigmsg *m, uint16_t type, uint16_t tag)
{
	uint8_t r[18 + 1 + 64] = {(uint8_t)(type >> 8), (uint8_t)type, 13, 2};
	r[16] = (uint8_t)(tag >> 8);
	r[17] = (uint8_t)tag;
	rr(m, CDS_T_RRSIG, r, sizeof(r));
}

static void test_parse_records(void **state)
{
	(void)state;
	struct bigmsg *m = malloc(sizeof(*m));
	struct cds_answer_info info;
	struct cds_rrset set;
	assert_non_null(m);
	for (unsigned n = 512; n <= 513; n++) {
		start(m, CDS_T_A, 0, n, 0);
		for (unsigned i = 0; i < n; i++) {
			uint8_t a[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)i};
			rr(m, CDS_T_A, a, 4);
		}
		int r = cds_answer_parse(m->b, m->len, ZONE, CDS_T_A, NULL, &info, &set);
		if (n == 512) {
			assert_int_equal(r, 0);
			assert_int_equal(set.count, 512);
			cds_rrset_clear(&set);
		} else {
			assert_int_equal(r, CDS_ERANGE);
			assert_int_equal(set.count, 0);
			assert_string_equal(info.limit, "513 A records in one RRset; "
							"limits.records-per-rrset is 512");
		}
	}
	/* The limit is the caller's. */
	struct cds_dnssec_limits l = cds_dnssec_limits_default;
	l.records_per_rrset = 100;
	assert_int_equal(cds_answer_parse(m->b, m->len, ZONE, CDS_T_A, &l, &info, &set),
			 CDS_ERANGE);
	assert_string_equal(info.limit,
			    "513 A records in one RRset; limits.records-per-rrset is 100");
	free(m);
}

static void test_parse_rrsigs(void **state)
{
	(void)state;
	struct bigmsg *m = malloc(sizeof(*m));
	struct cds_answer_info info;
	struct cds_rrset set;
	static const uint8_t cds[4 + 32] = {0x30, 0x39, 13, 2, 1, 2, 3, 4, 5, 6, 7, 8};
	assert_non_null(m);
	for (unsigned n = 16; n <= 17; n++) {
		start(m, CDS_T_CDS, 0, 1 + n, 0);
		rr(m, CDS_T_CDS, cds, sizeof(cds));
		for (unsigned i = 0; i < n; i++)
			rrsig(m, CDS_T_CDS, (uint16_t)i);
		int r = cds_answer_parse(m->b, m->len, ZONE, CDS_T_CDS, NULL, &info, &set);
		if (n == 16) {
			assert_int_equal(r, 0);
			assert_int_equal(set.sig_count, 16);
			cds_rrset_clear(&set);
		} else {
			assert_int_equal(r, CDS_ERANGE);
			assert_string_equal(info.limit, "17 RRSIGs over one CDS RRset; "
							"limits.rrsigs-per-rrset is 16");
		}
	}
	/* The same for the NSEC RRset of an empty answer's denial. */
	static const uint8_t nsec[] = {0, 0, 6, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03};
	start(m, CDS_T_CDS, 0, 0, 1 + 17);
	rr(m, CDS_T_NSEC, nsec, sizeof(nsec));
	for (unsigned i = 0; i < 17; i++)
		rrsig(m, CDS_T_NSEC, (uint16_t)i);
	assert_int_equal(cds_answer_parse(m->b, m->len, ZONE, CDS_T_CDS, NULL, &info, &set),
			 CDS_ERANGE);
	assert_string_equal(info.limit,
			    "17 RRSIGs over one NSEC RRset; limits.rrsigs-per-rrset is 16");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keytrap),
		cmocka_unit_test(test_keys_per_tag),
		cmocka_unit_test(test_rsa_exponent),
		cmocka_unit_test(test_rsa_modulus),
		cmocka_unit_test(test_dnskeys_per_rrset),
		cmocka_unit_test(test_delegation_budget),
		cmocka_unit_test(test_parse_records),
		cmocka_unit_test(test_parse_rrsigs),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
