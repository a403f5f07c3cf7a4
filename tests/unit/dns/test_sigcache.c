/* Unit tests of the verifications remembered across scans (dns.h
 * cds_sigcache, src/dns/sigcache.c; issue #20): a rescan of the same bytes
 * verifies nothing with OpenSSL and decides the same, with the same count
 * of verifications; a byte changed anywhere in an entry (key, signature,
 * signed data: RRSIG fields, owner, records) misses; a cache never makes
 * changed, expired or re-owned data validate; the limits hold; a
 * malformed stored form is refused without reading past it. */
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

static struct ts_key KSK, ZSK;
static struct cds_ds DS;
static struct cds_rrset DNSKEY, CDS;

static int setup(void **state)
{
	(void)state;
	struct ts_rr rr[2];
	const struct ts_key *ksk[] = {&KSK};
	if (ts_key_new(&KSK, 257) != 0 || ts_key_new(&ZSK, 256) != 0)
		return -1;
	ts_key_ds(&KSK, ZONE, 2, &DS);
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &KSK);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &ZSK);
	if (ts_rrset(&DNSKEY, ZONE, ZONE, CDS_T_DNSKEY, rr, 2, ksk, 1, INCEPTION, EXPIRATION) != 0)
		return -1;
	ts_rr_ds(&rr[0], CDS_T_CDS, &DS);
	return ts_rrset(&CDS, ZONE, ZONE, CDS_T_CDS, rr, 1, ksk, 1, INCEPTION, EXPIRATION);
}

static int teardown(void **state)
{
	(void)state;
	cds_rrset_clear(&DNSKEY);
	cds_rrset_clear(&CDS);
	ts_key_free(&KSK);
	ts_key_free(&ZSK);
	return 0;
}

/* Validate set (DNSKEY RRset and DS as above) at now with cache c; the
 * verifications made into *verifs. */
static enum cds_dnssec_status check(const struct cds_rrset *set, struct cds_sigcache *c,
				    time_t now, uint32_t *verifs)
{
	struct cds_dnssec_work w;
	cds_dnssec_work_init(&w, NULL, now);
	w.cache = c;
	enum cds_dnssec_status st = cds_dnssec_validate(ZONE, set, &DNSKEY, &DS, 1, &w);
	if (verifs)
		*verifs = w.verifications;
	return st;
}

static struct cds_sigcache *fresh(void)
{
	struct cds_sigcache *c = NULL;
	assert_int_equal(cds_sigcache_new(16, 32768, &c), 0);
	return c;
}

/* The stored form after a first scan of the CDS RRset: DNSKEY and CDS
 * signatures. */
static uint8_t *first_scan(size_t *len, uint32_t *verifs)
{
	struct cds_sigcache *c = fresh();
	uint8_t *blob = NULL;
	bool changed = false;
	uint32_t hits, added;
	assert_int_equal(check(&CDS, c, NOW, verifs), CDS_DNSSEC_SECURE);
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(hits, 0);
	assert_int_equal(added, 2); /* the DNSKEY RRset's RRSIG, the CDS's */
	assert_int_equal(cds_sigcache_save(c, &blob, len, &changed), 0);
	assert_true(changed);
	assert_non_null(blob);
	cds_sigcache_free(c);
	return blob;
}

/* The rescan of the same bytes: every signature from the cache, the same
 * verdict and the same count of verifications (limits do not depend on
 * the cache), and nothing to write back. */
static void test_rescan_hits(void **state)
{
	(void)state;
	size_t len;
	uint32_t v1, v2, hits, added;
	uint8_t *blob = first_scan(&len, &v1), *again = NULL;
	struct cds_sigcache *c = fresh();
	size_t len2;
	bool changed = true;
	assert_int_equal(cds_sigcache_load(c, blob, len), 0);
	assert_int_equal(check(&CDS, c, NOW, &v2), CDS_DNSSEC_SECURE);
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(hits, 2);
	assert_int_equal(added, 0);
	assert_int_equal(v1, v2);
	assert_int_equal(cds_sigcache_save(c, &again, &len2, &changed), 0);
	assert_false(changed);
	assert_int_equal(len2, len);
	assert_memory_equal(again, blob, len);
	free(again);
	cds_sigcache_free(c);
	free(blob);
}

/* A byte changed anywhere in an entry's key, signature or signed data (the
 * RRSIG fields with the validity window and signer, the owner, the
 * records) misses: that entry is verified by OpenSSL again (the data is
 * still valid), the other still hits, and the save replaces the changed
 * entry. */
static void test_any_modified_byte_misses(void **state)
{
	(void)state;
	size_t len, off = 5, entries = 0, tried = 0;
	uint32_t v;
	uint8_t *blob = first_scan(&len, &v);
	uint8_t *mod = malloc(len);
	assert_non_null(mod);
	while (off < len) {
		size_t n = (size_t)(blob[off] << 8 | blob[off + 1]) +
			   (size_t)(blob[off + 2] << 8 | blob[off + 3]) +
			   ((size_t)blob[off + 4] << 24 | (size_t)blob[off + 5] << 16 |
			    (size_t)blob[off + 6] << 8 | blob[off + 7]);
		for (size_t i = off + 8; i < off + 8 + n; i++) {
			memcpy(mod, blob, len);
			mod[i] ^= 0x01;
			struct cds_sigcache *c = fresh();
			uint32_t hits, added;
			bool changed = false;
			uint8_t *out = NULL;
			size_t olen;
			assert_int_equal(cds_sigcache_load(c, mod, len), 0);
			assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE);
			cds_sigcache_stats(c, &hits, &added);
			assert_int_equal(hits, 1);
			assert_int_equal(added, 1);
			assert_int_equal(cds_sigcache_save(c, &out, &olen, &changed), 0);
			assert_true(changed);
			free(out);
			cds_sigcache_free(c);
			tried++;
		}
		off += 8 + n;
		entries++;
	}
	assert_int_equal(entries, 2);
	assert_true(tried > 2 * (64 + 64)); /* keys, signatures and data */
	free(mod);
	free(blob);
}

/* The same, through the interface: one entry, and each of its bytes
 * changed, or one byte more or less, misses. */
static void test_lookup_exact(void **state)
{
	(void)state;
	uint8_t b[3][40];
	size_t len[3] = {36, 32, 40};
	for (int p = 0; p < 3; p++)
		for (size_t i = 0; i < len[p]; i++)
			b[p][i] = (uint8_t)(p * 50 + i);
	struct cds_sigcache *c = fresh();
	cds_sigcache_add(c, b[0], len[0], b[1], len[1], b[2], len[2]);
	assert_true(cds_sigcache_lookup(c, b[0], len[0], b[1], len[1], b[2], len[2]));
	for (int p = 0; p < 3; p++) {
		for (size_t i = 0; i < len[p]; i++) {
			b[p][i] ^= 0x80;
			assert_false(cds_sigcache_lookup(c, b[0], len[0], b[1], len[1], b[2], len[2]));
			b[p][i] ^= 0x80;
		}
		len[p]--;
		assert_false(cds_sigcache_lookup(c, b[0], len[0], b[1], len[1], b[2], len[2]));
		len[p]++;
	}
	assert_false(cds_sigcache_lookup(NULL, b[0], len[0], b[1], len[1], b[2], len[2]));
	cds_sigcache_free(c);
}

/* A cache of the valid RRset never makes other data validate: a changed
 * record, another owner, an expired or not yet valid signature are BOGUS
 * with the cache as without it. */
static void test_never_bogus_to_secure(void **state)
{
	(void)state;
	size_t len;
	uint32_t v;
	uint8_t *blob = first_scan(&len, &v);
	struct cds_sigcache *c = fresh();
	uint32_t hits, added;
	assert_int_equal(cds_sigcache_load(c, blob, len), 0);

	CDS.rdata[0].data[CDS.rdata[0].len - 1] ^= 0x01; /* a digest byte */
	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_BOGUS);
	CDS.rdata[0].data[CDS.rdata[0].len - 1] ^= 0x01;
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(hits, 1); /* the DNSKEY RRset only */
	assert_int_equal(added, 0);

	CDS.owner[1] ^= 0x02; /* "example" -> "gxample" (same length) */
	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_BOGUS);
	CDS.owner[1] ^= 0x02;

	assert_int_equal(check(&CDS, c, EXPIRATION + 10, NULL), CDS_DNSSEC_BOGUS);
	assert_int_equal(check(&CDS, c, INCEPTION - 10, NULL), CDS_DNSSEC_BOGUS);

	/* Another key tag's worth of trust: a DS of the ZSK does not make
	 * the remembered KSK signature count. */
	struct cds_ds zds;
	ts_key_ds(&ZSK, ZONE, 2, &zds);
	struct cds_dnssec_work w;
	cds_dnssec_work_init(&w, NULL, NOW);
	w.cache = c;
	assert_int_not_equal(cds_dnssec_validate(ZONE, &CDS, &DNSKEY, &zds, 1, &w),
			     CDS_DNSSEC_SECURE);

	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE); /* as it was */
	cds_sigcache_free(c);
	free(blob);
}

/* max-entries and max-bytes bound what is kept and what is loaded. */
static void test_limits(void **state)
{
	(void)state;
	size_t len, olen;
	uint32_t v, hits, added;
	uint8_t *blob = first_scan(&len, &v), *out = NULL;
	bool changed;
	struct cds_sigcache *c = NULL;

	assert_int_equal(cds_sigcache_new(1, 32768, &c), 0);
	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE);
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(added, 1);
	assert_int_equal(cds_sigcache_save(c, &out, &olen, &changed), 0);
	assert_true(olen < len);
	free(out);
	cds_sigcache_free(c);

	assert_int_equal(cds_sigcache_new(1, 32768, &c), 0);
	assert_int_equal(cds_sigcache_load(c, blob, len), 0); /* the first entry only */
	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE);
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(hits, 1);
	assert_int_equal(added, 0); /* full */
	cds_sigcache_free(c);

	assert_int_equal(cds_sigcache_new(16, 100, &c), 0); /* smaller than one entry */
	assert_int_equal(cds_sigcache_load(c, blob, len), 0);
	assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE);
	cds_sigcache_stats(c, &hits, &added);
	assert_int_equal(hits + added, 0);
	assert_int_equal(cds_sigcache_save(c, &out, &olen, &changed), 0);
	assert_null(out);
	assert_false(changed);
	cds_sigcache_free(c);
	free(blob);
}

/* Every truncation of a stored form is refused or read short, never past
 * its end (ASan), and a wrong magic is refused. */
static void test_malformed(void **state)
{
	(void)state;
	size_t len;
	uint32_t v;
	uint8_t *blob = first_scan(&len, &v);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *part = malloc(cut ? cut : 1);
		assert_non_null(part);
		memcpy(part, blob, cut);
		struct cds_sigcache *c = fresh();
		int r = cds_sigcache_load(c, part, cut);
		assert_true(r == CDS_EDATA || (r == 0 && cut >= 5));
		assert_int_equal(check(&CDS, c, NOW, NULL), CDS_DNSSEC_SECURE);
		cds_sigcache_free(c);
		free(part);
	}
	blob[0] = 'X';
	struct cds_sigcache *c = fresh();
	assert_int_equal(cds_sigcache_load(c, blob, len), CDS_EDATA);
	cds_sigcache_free(c);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rescan_hits),
		cmocka_unit_test(test_any_modified_byte_misses),
		cmocka_unit_test(test_lookup_exact),
		cmocka_unit_test(test_never_bogus_to_secure),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
