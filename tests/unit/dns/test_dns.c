/* Unit tests of src/dns: reading answers into canonical RRsets
 * (cds_answer_parse, cds_referral_parse) and DNSSEC validation
 * (cds_dnssec_validate, cds_dnssec_verify) checked against getdns's
 * validator (tests/common/oracle.c) on answers signed with RSASHA256,
 * ECDSA P-256 and Ed25519. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "oracle.h"
#include "testsign.h"

#define ZONE "example.test."
#define NOW ((time_t)1800000000)

struct signed_zone {
	struct ts_key ksk, zsk, outsider;
	struct cds_ds ds; /* of ksk */
	struct cds_rrset dnskey, cds;
};

static void parse(const uint8_t *m, size_t len, const char *qname, uint16_t type,
		  struct cds_rrset *out)
{
	struct cds_answer_info info;
	assert_int_equal(cds_answer_parse(m, len, qname, type, NULL, &info, out), 0);
	assert_int_equal(info.rcode, 0);
	assert_true(info.aa);
}

/* DNSKEY {ksk, zsk} signed by ksk; CDS (ksk's DS) signed by signer. */
static void make_zone(struct signed_zone *z, const char *qname,
		      const struct ts_key *cds_signer)
{
	uint8_t m[4096];
	struct ts_rr rr[2];
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &z->ksk);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &z->zsk);
	const struct ts_key *ksk[] = {&z->ksk};
	size_t len = ts_answer(m, ZONE, CDS_T_DNSKEY, 0, rr, 2, ksk, 1, NOW - 3600, NOW + 86400);
	parse(m, len, qname, CDS_T_DNSKEY, &z->dnskey);
	ts_key_ds(&z->ksk, ZONE, 2, &z->ds);
	ts_rr_ds(&rr[0], CDS_T_CDS, &z->ds);
	const struct ts_key *signer[] = {cds_signer ? cds_signer : &z->zsk};
	len = ts_answer(m, ZONE, CDS_T_CDS, 0, rr, 1, signer, 1, NOW - 3600, NOW + 86400);
	parse(m, len, qname, CDS_T_CDS, &z->cds);
}

static void new_zone(struct signed_zone *z, uint8_t alg)
{
	memset(z, 0, sizeof(*z));
	assert_int_equal(ts_key_new_alg(&z->ksk, 257, alg), 0);
	assert_int_equal(ts_key_new_alg(&z->zsk, 256, alg), 0);
	assert_int_equal(ts_key_new_alg(&z->outsider, 256, alg), 0);
}

static void free_zone(struct signed_zone *z)
{
	cds_rrset_clear(&z->dnskey);
	cds_rrset_clear(&z->cds);
	ts_key_free(&z->ksk);
	ts_key_free(&z->zsk);
	ts_key_free(&z->outsider);
}

/* cdscan and getdns agree, and the status is want. */
static void both(const struct cds_rrset *set, const struct cds_rrset *dnskey,
		 const struct cds_ds *ds, size_t n, time_t now, enum cds_dnssec_status want)
{
	enum cds_dnssec_status own = cds_dnssec_validate(ZONE, set, dnskey, ds, n, ts_work(now));
	enum cds_dnssec_status oracle = oracle_validate(ZONE, set, dnskey, ds, n, now);
	assert_int_equal(own, want);
	assert_int_equal(oracle, want);
}

static void test_secure_per_algorithm(void **state)
{
	(void)state;
	static const uint8_t algs[] = {8, 13, 15};
	for (size_t a = 0; a < sizeof(algs); a++) {
		struct signed_zone z;
		new_zone(&z, algs[a]);
		/* Asked in mixed case: the owner is canonical all the same. */
		make_zone(&z, "Example.TEST.", NULL);
		assert_int_equal(z.dnskey.count, 2);
		assert_int_equal(z.dnskey.sig_count, 1);
		both(&z.dnskey, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_SECURE);
		both(&z.cds, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_SECURE);
		assert_int_equal(cds_dnssec_verify(ZONE, &z.cds, &z.dnskey, ts_work(NOW)),
				 CDS_DNSSEC_SECURE);
		free_zone(&z);
	}
}

static void test_bogus(void **state)
{
	(void)state;
	struct signed_zone z;
	new_zone(&z, 13);
	make_zone(&z, ZONE, NULL);

	/* Outside the validity period. */
	both(&z.dnskey, &z.dnskey, &z.ds, 1, NOW + 2 * 86400, CDS_DNSSEC_BOGUS);
	both(&z.dnskey, &z.dnskey, &z.ds, 1, NOW - 2 * 3600, CDS_DNSSEC_BOGUS);

	/* A DS whose digest matches no key. */
	struct cds_ds wrong = z.ds;
	wrong.digest[0] ^= 1;
	both(&z.dnskey, &z.dnskey, &wrong, 1, NOW, CDS_DNSSEC_BOGUS);

	/* The DS of the ZSK, which did not sign the DNSKEY RRset. */
	struct cds_ds zds;
	ts_key_ds(&z.zsk, ZONE, 2, &zds);
	both(&z.dnskey, &z.dnskey, &zds, 1, NOW, CDS_DNSSEC_BOGUS);

	/* A changed signature, then a changed record. */
	struct cds_rrsig *sig = &z.cds.sigs[0];
	sig->raw[sig->raw_len - 1] ^= 0x40;
	both(&z.cds, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_BOGUS);
	sig->raw[sig->raw_len - 1] ^= 0x40;
	both(&z.cds, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_SECURE);
	z.cds.rdata[0].data[4] ^= 1;
	both(&z.cds, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_BOGUS);
	assert_int_equal(cds_dnssec_verify(ZONE, &z.cds, &z.dnskey, ts_work(NOW)),
			 CDS_DNSSEC_BOGUS);

	/* Validated as another zone's: the signer does not match. */
	assert_int_equal(cds_dnssec_validate("other.test.", &z.dnskey, &z.dnskey, &z.ds, 1,
					     ts_work(NOW)),
			 CDS_DNSSEC_BOGUS);

	/* No DS cdscan can use (algorithm 3, DSA): insecure, not bogus. */
	struct cds_ds dsa = z.ds;
	dsa.algorithm = 3;
	assert_int_equal(cds_dnssec_validate(ZONE, &z.dnskey, &z.dnskey, &dsa, 1, ts_work(NOW)),
			 CDS_DNSSEC_INSECURE);
	free_zone(&z);

	/* CDS signed by a key outside the DNSKEY RRset. */
	new_zone(&z, 15);
	make_zone(&z, ZONE, &z.outsider);
	both(&z.dnskey, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_SECURE);
	both(&z.cds, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_BOGUS);
	free_zone(&z);
}

/* A DNSKEY RRset of k alone, signed by k, validated with k's DS. */
static enum cds_dnssec_status self_signed(struct ts_key *k, bool oracle_too)
{
	uint8_t m[4096];
	struct ts_rr rr;
	ts_rr_dnskey(&rr, CDS_T_DNSKEY, k);
	const struct ts_key *signer[] = {k};
	size_t len = ts_answer(m, ZONE, CDS_T_DNSKEY, 0, &rr, 1, signer, 1, NOW - 60, NOW + 60);
	struct cds_rrset set;
	parse(m, len, ZONE, CDS_T_DNSKEY, &set);
	struct cds_ds ds;
	ts_key_ds(k, ZONE, 2, &ds);
	enum cds_dnssec_status st = cds_dnssec_validate(ZONE, &set, &set, &ds, 1, ts_work(NOW));
	if (oracle_too)
		assert_int_equal(oracle_validate(ZONE, &set, &set, &ds, 1, NOW), st);
	cds_rrset_clear(&set);
	ts_key_free(k);
	return st;
}

static void test_not_a_zone_key(void **state)
{
	(void)state;
	/* A key without the zone key flag (RFC 4034 §2.1.1) signs nothing. */
	struct ts_key k;
	assert_int_equal(ts_key_new_alg(&k, 1, 13), 0);
	assert_int_equal(self_signed(&k, false), CDS_DNSSEC_BOGUS);
	/* The same key with the flag: secure (the test can fail). */
	assert_int_equal(ts_key_new_alg(&k, 257, 13), 0);
	assert_int_equal(self_signed(&k, true), CDS_DNSSEC_SECURE);
}

static void test_point_off_curve(void **state)
{
	(void)state;
	/* A P-256 DNSKEY whose point is not on the curve: DS and key tag
	 * match it, but it is no key (and signs nothing). */
	struct ts_key k;
	assert_int_equal(ts_key_new_alg(&k, 257, 13), 0);
	k.rdata[k.rdlen - 1] ^= 1;
	k.keytag = cds_dnskey_keytag(k.rdata, k.rdlen);
	assert_int_equal(self_signed(&k, true), CDS_DNSSEC_BOGUS);
}

/* A P-256 RRSIG whose signature is 1 octet long is refused before r and s
 * are read (they were read first, 63 octets past the signature). */
static void test_short_ecdsa_signature(void **state)
{
	(void)state;
	struct signed_zone z;
	new_zone(&z, 13);
	make_zone(&z, ZONE, &z.ksk);
	assert_int_equal(cds_dnssec_verify(ZONE, &z.cds, &z.dnskey, ts_work(NOW)),
			 CDS_DNSSEC_SECURE);
	z.cds.sigs[0].raw_len -= 63;
	assert_int_equal(cds_dnssec_verify(ZONE, &z.cds, &z.dnskey, ts_work(NOW)),
			 CDS_DNSSEC_BOGUS);
	z.cds.sigs[0].raw_len += 63;
	free_zone(&z);
}

/* The same records and RRSIG bytes under another owner are not "the same
 * RRset" for the validation memo. */
static void test_identical_needs_owner(void **state)
{
	(void)state;
	struct signed_zone z;
	new_zone(&z, 13);
	make_zone(&z, ZONE, &z.ksk);
	struct cds_rrset other = z.cds;
	assert_true(cds_rrset_identical(&z.cds, &other));
	other.owner[1] ^= 0x01; /* another first letter */
	assert_false(cds_rrset_identical(&z.cds, &other));
	other = z.cds;
	other.type = CDS_T_CDNSKEY;
	assert_false(cds_rrset_identical(&z.cds, &other));
	free_zone(&z);
}

static void test_revoked_key(void **state)
{
	(void)state;
	/* RFC 5011 §3: a KSK with the REVOKE flag, its DS made from the
	 * revoked rdata (so key tag and digest match it): authenticates
	 * nothing.  getdns 1.6 does not look at the flag (not compared). */
	struct ts_key k;
	assert_int_equal(ts_key_new_alg(&k, 257 | CDS_DNSKEY_REVOKE, 13), 0);
	assert_int_equal(self_signed(&k, false), CDS_DNSSEC_BOGUS);
	/* The control is test_not_a_zone_key's flag 257: secure. */
}

/* A CDS RRset (the KSK's DS) signed by signers[0..n). */
static void cds_signed_by(const struct signed_zone *z, const struct ts_key *const *signers,
			  size_t n, struct cds_rrset *out)
{
	uint8_t m[4096];
	struct ts_rr rr;
	ts_rr_ds(&rr, CDS_T_CDS, &z->ds);
	size_t len = ts_answer(m, ZONE, CDS_T_CDS, 0, &rr, 1, signers, n, NOW - 3600, NOW + 86400);
	parse(m, len, ZONE, CDS_T_CDS, out);
}

static void test_ds_signer(void **state)
{
	(void)state;
	struct signed_zone z;
	struct cds_rrset cds;
	uint16_t tag = 1;
	new_zone(&z, 13);
	make_zone(&z, ZONE, &z.ksk);
	both(&z.dnskey, &z.dnskey, &z.ds, 1, NOW, CDS_DNSSEC_SECURE);

	/* RFC 7344 §4.1: signed by the KSK, which the DS references. */
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &z.cds, &z.dnskey, &z.ds, 1,
						     ts_work(NOW), &tag),
			 CDS_DNSSEC_SECURE);
	assert_int_equal(tag, z.ksk.keytag);

	/* Signed by the ZSK only: the DNSKEY RRset authenticates it, the DS
	 * set does not reference it. */
	const struct ts_key *zsk[] = {&z.zsk};
	cds_signed_by(&z, zsk, 1, &cds);
	assert_int_equal(cds_dnssec_verify(ZONE, &cds, &z.dnskey, ts_work(NOW)), CDS_DNSSEC_SECURE);
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1, ts_work(NOW),
						     &tag),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(tag, z.zsk.keytag);
	cds_rrset_clear(&cds);

	/* ZSK and KSK: the KSK's signature counts. */
	const struct ts_key *both_keys[] = {&z.zsk, &z.ksk};
	cds_signed_by(&z, both_keys, 2, &cds);
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1, ts_work(NOW),
						     &tag),
			 CDS_DNSSEC_SECURE);
	assert_int_equal(tag, z.ksk.keytag);
	/* Both signatures expired: no key signed it validly. */
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1,
						     ts_work(NOW + 2 * 86400), &tag),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(tag, 0);
	cds_rrset_clear(&cds);

	/* A key outside the DNSKEY RRset: nothing signed it validly. */
	const struct ts_key *out[] = {&z.outsider};
	cds_signed_by(&z, out, 1, &cds);
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1, ts_work(NOW),
						     &tag),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(tag, 0);
	/* No RRSIG, no records: insecure. */
	cds.sig_count = 0;
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1, ts_work(NOW),
						     &tag),
			 CDS_DNSSEC_INSECURE);
	cds.sig_count = 1;
	cds_rrset_clear(&cds);
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &cds, &z.dnskey, &z.ds, 1, ts_work(NOW),
						     &tag),
			 CDS_DNSSEC_INSECURE);
	free_zone(&z);
}

static void test_ds_signer_revoked(void **state)
{
	(void)state;
	/* The DS references a KSK that is now revoked; the CDS is signed by
	 * it: not in the DS set as a key that may sign (RFC 5011 §3). */
	struct signed_zone z;
	uint16_t tag = 1;
	memset(&z, 0, sizeof(z));
	assert_int_equal(ts_key_new_alg(&z.ksk, 257 | CDS_DNSKEY_REVOKE, 13), 0);
	assert_int_equal(ts_key_new_alg(&z.zsk, 256, 13), 0);
	assert_int_equal(ts_key_new_alg(&z.outsider, 256, 13), 0);
	make_zone(&z, ZONE, &z.ksk);
	assert_int_equal(cds_dnssec_validate(ZONE, &z.dnskey, &z.dnskey, &z.ds, 1, ts_work(NOW)),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(cds_dnssec_verify(ZONE, &z.cds, &z.dnskey, ts_work(NOW)),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(cds_dnssec_verify_ds_signer(ZONE, &z.cds, &z.dnskey, &z.ds, 1,
						     ts_work(NOW), &tag),
			 CDS_DNSSEC_BOGUS);
	assert_int_equal(tag, 0);
	free_zone(&z);
}

static void test_owner_outside_signer(void **state)
{
	(void)state;
	/* RFC 4035 §5.3.1: a zone signs only its own names.  A CDS at
	 * other.test. with an RRSIG by example.test.'s key is not
	 * authentic. */
	struct signed_zone z;
	uint8_t m[4096];
	struct ts_rr rr;
	struct cds_rrset cds;
	new_zone(&z, 13);
	make_zone(&z, ZONE, NULL);
	ts_rr_ds(&rr, CDS_T_CDS, &z.ds);
	const struct ts_key *zsk[] = {&z.zsk};
	size_t len = ts_answer_zone(m, ZONE, "other.test.", CDS_T_CDS, 0, &rr, 1, zsk, 1,
				    NOW - 3600, NOW + 86400);
	parse(m, len, "other.test.", CDS_T_CDS, &cds);
	assert_int_equal(cds_dnssec_verify(ZONE, &cds, &z.dnskey, ts_work(NOW)), CDS_DNSSEC_BOGUS);
	cds_rrset_clear(&cds);
	/* The control: the same below the zone. */
	len = ts_answer_zone(m, ZONE, "sub.example.test.", CDS_T_CDS, 0, &rr, 1, zsk, 1,
			     NOW - 3600, NOW + 86400);
	parse(m, len, "sub.example.test.", CDS_T_CDS, &cds);
	assert_int_equal(cds_dnssec_verify(ZONE, &cds, &z.dnskey, ts_work(NOW)), CDS_DNSSEC_SECURE);
	cds_rrset_clear(&cds);
	free_zone(&z);
}

/* The CDS RRset of z with bad copies of its RRSIG in front of the good
 * one, 1 + bad signatures in all, validated in w. */
static enum cds_dnssec_status with_bad_sigs(const struct signed_zone *z, size_t bad,
					    struct cds_dnssec_work *w)
{
	struct cds_rrsig sigs[32];
	uint8_t raw[32][512];
	const struct cds_rrsig *good = &z->cds.sigs[0];
	assert_true(bad < 32 && good->raw_len <= sizeof(raw[0]));
	for (size_t i = 0; i <= bad; i++) {
		memcpy(raw[i], good->raw, good->raw_len);
		if (i < bad)
			raw[i][good->raw_len - 1] ^= 0x55;
		sigs[i] = *good;
		sigs[i].raw = raw[i];
	}
	struct cds_rrset set = z->cds;
	set.sigs = sigs;
	set.sig_count = bad + 1;
	return cds_dnssec_verify(ZONE, &set, &z->dnskey, w);
}

static void test_verification_cap(void **state)
{
	(void)state;
	/* Every RRSIG names the ZSK (tag and algorithm match), so each costs
	 * an OpenSSL verification (KeyTrap): 8 RRSIGs are tried at most
	 * (limits.rrsigs-tried-per-rrset), and with more allowed, 16
	 * verifications (limits.verifications-per-rrset). */
	struct signed_zone z;
	struct cds_dnssec_limits many = cds_dnssec_limits_default;
	struct cds_dnssec_work w;
	many.rrsigs_tried = 64;
	new_zone(&z, 13);
	make_zone(&z, ZONE, NULL);
	assert_int_equal(with_bad_sigs(&z, 0, ts_work(NOW)), CDS_DNSSEC_SECURE);
	assert_int_equal(with_bad_sigs(&z, 7, ts_work(NOW)), CDS_DNSSEC_SECURE);
	cds_dnssec_work_init(&w, NULL, NOW);
	assert_int_equal(with_bad_sigs(&z, 8, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 8);
	assert_string_equal(w.limit, "8 RRSIGs of the CDS RRset of example.test. were tried and "
				     "none validates; limits.rrsigs-tried-per-rrset is 8");
	cds_dnssec_work_init(&w, &many, NOW);
	assert_int_equal(with_bad_sigs(&z, 15, &w), CDS_DNSSEC_SECURE);
	assert_int_equal(w.verifications, 16);
	assert_string_equal(w.limit, "");
	cds_dnssec_work_init(&w, &many, NOW);
	assert_int_equal(with_bad_sigs(&z, 16, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 16);
	assert_string_equal(w.limit, "the CDS RRset of example.test. took 16 signature "
				     "verifications and none succeeded; "
				     "limits.verifications-per-rrset is 16");
	cds_dnssec_work_init(&w, &many, NOW);
	assert_int_equal(with_bad_sigs(&z, 31, &w), CDS_DNSSEC_BOGUS);
	assert_int_equal(w.verifications, 16);
	free_zone(&z);
}

/* A hand-made message: header, question, then raw records. */
struct msg {
	uint8_t b[1024];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct msg *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(m, b, 2);
}

/* Header (QR AA), question "Example.TEST." type qtype at offset 12. */
static void start(struct msg *m, uint16_t qtype, unsigned an, unsigned ns, unsigned ar)
{
	static const uint8_t h[] = {0x12, 0x34, 0x84, 0x00, 0, 1};
	m->len = 0;
	put(m, h, sizeof(h));
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
	put(m, "\7Example\4TEST\0", 14);
	put16(m, qtype);
	put16(m, 1);
}

static void rr_head(struct msg *m, const void *owner, size_t olen, uint16_t type,
		    uint16_t class, size_t rdlen)
{
	static const uint8_t ttl[] = {0, 0, 0x0e, 0x10};
	put(m, owner, olen);
	put16(m, type);
	put16(m, class);
	put(m, ttl, 4);
	put16(m, (unsigned)rdlen);
}

/* A record whose rdata is given whole. */
static void add_rr(struct msg *m, const void *owner, size_t olen, uint16_t type, uint16_t class,
		   const void *rdata, size_t rdlen)
{
	rr_head(m, owner, olen, type, class, rdlen);
	put(m, rdata, rdlen);
}

static const uint8_t PTR_Q[] = {0xC0, 12}; /* the question's name */

static void test_parse_canonical(void **state)
{
	(void)state;
	struct msg m;
	start(&m, CDS_T_NS, 5, 0, 0);
	/* NS "NS1" + pointer to the question's name, twice (a duplicate). */
	for (int i = 0; i < 2; i++) {
		add_rr(&m, PTR_Q, 2, CDS_T_NS, 1, "\3NS1\xC0\x0C", 6);
	}
	/* Class CH: not the zone's data. */
	add_rr(&m, PTR_Q, 2, CDS_T_NS, 3, "\3ns9\xC0\x0C", 6);
	/* NS at another name. */
	add_rr(&m, "\3www\xC0\x0C", 6, CDS_T_NS, 1, "\3ns8\xC0\x0C", 6);
	/* An RRSIG over NS whose signer name is compressed. */
	uint8_t fixed[18] = {0, CDS_T_NS, 13, 2};
	rr_head(&m, PTR_Q, 2, CDS_T_RRSIG, 1, 18 + 2 + 4);
	put(&m, fixed, 18);
	put(&m, PTR_Q, 2);
	put(&m, "SIGN", 4);

	struct cds_rrset set;
	struct cds_answer_info info;
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_NS, NULL, &info, &set), 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.rdata[0].len, 18);
	assert_memory_equal(set.rdata[0].data, "\3ns1\7example\4test\0", 18);
	assert_int_equal(set.owner_len, 14);
	assert_memory_equal(set.owner, "\7example\4test\0", 14);
	assert_int_equal(set.sig_count, 1);
	assert_int_equal(set.sigs[0].raw_len, 18 + 14 + 4);
	assert_memory_equal(set.sigs[0].raw + 18, "\7example\4test\0SIGN", 18);
	char signer[CDS_DNAME_BUFSIZE];
	assert_int_equal(cds_rrsig_signer(&set.sigs[0], signer), 0);
	assert_string_equal(signer, ZONE);
	cds_rrset_clear(&set);

	/* SOA: both names uncompressed and lower-cased, the serial read. */
	start(&m, CDS_T_SOA, 1, 0, 0);
	rr_head(&m, PTR_Q, 2, CDS_T_SOA, 1, 6 + 2 + 20);
	put(&m, "\3NS1\xC0\x0C", 6);
	put(&m, PTR_Q, 2);
	static const uint8_t times[20] = {0, 0, 0, 42};
	put(&m, times, 20);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_SOA, NULL, &info, &set), 0);
	assert_int_equal(info.soa_serial, 42);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.rdata[0].len, 18 + 14 + 20);
	assert_memory_equal(set.rdata[0].data, "\3ns1\7example\4test\0\7example\4test\0", 32);
	cds_rrset_clear(&set);
}

/* Overwrite the TTL of the record that starts at off (owner: a 2-octet
 * pointer). */
static void set_ttl(struct msg *m, size_t off, uint32_t ttl)
{
	uint8_t *p = m->b + off + 2 + 4;
	p[0] = (uint8_t)(ttl >> 24);
	p[1] = (uint8_t)(ttl >> 16);
	p[2] = (uint8_t)(ttl >> 8);
	p[3] = (uint8_t)ttl;
}

/* The RRset's TTL is the smallest of its records' and RRSIGs' (what a
 * cache may keep it for); RFC 2181 §8: a TTL above 2^31-1 counts as 0. */
static void test_parse_ttl(void **state)
{
	(void)state;
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	uint8_t sig[18 + 2 + 4] = {0, CDS_T_A, 13, 2};
	size_t at[3];
	start(&m, CDS_T_A, 3, 0, 0);
	at[0] = m.len;
	add_rr(&m, PTR_Q, 2, CDS_T_A, 1, "\1\2\3\4", 4);
	at[1] = m.len;
	add_rr(&m, PTR_Q, 2, CDS_T_A, 1, "\1\2\3\5", 4);
	at[2] = m.len;
	memcpy(sig + 18, PTR_Q, 2);
	add_rr(&m, PTR_Q, 2, CDS_T_RRSIG, 1, sig, sizeof(sig));
	set_ttl(&m, at[0], 600);
	set_ttl(&m, at[1], 300);
	set_ttl(&m, at[2], 900);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_A, NULL, &info, &set), 0);
	assert_int_equal(set.count, 2);
	assert_int_equal(set.sig_count, 1);
	assert_int_equal(set.ttl, 300);
	cds_rrset_clear(&set);
	set_ttl(&m, at[2], 120);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_A, NULL, &info, &set), 0);
	assert_int_equal(set.ttl, 120);
	cds_rrset_clear(&set);
	set_ttl(&m, at[0], 0x80000000u);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_A, NULL, &info, &set), 0);
	assert_int_equal(set.ttl, 0);
	cds_rrset_clear(&set);
}

static void test_referral(void **state)
{
	(void)state;
	struct msg m;
	start(&m, CDS_T_NS, 0, 2, 2);
	m.b[2] = 0x80; /* not authoritative */
	add_rr(&m, PTR_Q, 2, CDS_T_NS, 1, "\3ns1\xC0\x0C", 6);
	add_rr(&m, PTR_Q, 2, CDS_T_NS, 1, "\3ns2\x08PROVIDER\3net\0", 18);
	add_rr(&m, "\3NS1\xC0\x0C", 6, CDS_T_A, 1, "\x7f\x35\0\x01", 4);
	add_rr(&m, "\3ns1\xC0\x0C", 6, CDS_T_AAAA, 1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);

	struct cds_referral ref;
	assert_int_equal(cds_referral_parse(m.b, m.len, ZONE, &ref), 0);
	assert_int_equal(ref.ns_count, 2);
	assert_string_equal(ref.ns[0].name, "ns1.example.test.");
	assert_string_equal(ref.ns[1].name, "ns2.provider.net.");
	assert_int_equal(ref.ns[0].addr_count, 2);
	assert_int_equal(ref.ns[1].addr_count, 0);
	assert_int_equal(cds_referral_parse(m.b, m.len, "other.test.", &ref), CDS_ENOENT);

	struct cds_rrset set;
	struct cds_answer_info info;
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_true(info.referral);
	assert_int_equal(set.count, 0);
	cds_rrset_clear(&set);
}

/* Issue #16: a CNAME at the apex answering for another type is told apart
 * from an empty answer (the scan calls the server lame for it). */
static void test_alias(void **state)
{
	(void)state;
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	start(&m, CDS_T_CDS, 1, 0, 0);
	add_rr(&m, PTR_Q, 2, CDS_T_CNAME, 1, "\5other\4test\0", 12);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_true(info.alias);
	assert_int_equal(set.count, 0);
	cds_rrset_clear(&set);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CNAME, NULL, &info, &set), 0);
	assert_false(info.alias);
	assert_int_equal(set.count, 1);
	cds_rrset_clear(&set);
	/* A CNAME at another name is not one at qname. */
	start(&m, CDS_T_CDS, 1, 0, 0);
	add_rr(&m, "\3www\xC0\x0C", 6, CDS_T_CNAME, 1, "\5other\4test\0", 12);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_false(info.alias);
	cds_rrset_clear(&set);
}

static void test_malformed(void **state)
{
	(void)state;
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	start(&m, CDS_T_NS, 1, 0, 0);
	add_rr(&m, PTR_Q, 2, CDS_T_NS, 1, "\3ns1\xC0\x0C", 6);
	/* Every truncation of a good message is refused. */
	for (size_t cut = 0; cut < m.len; cut++)
		assert_int_equal(cds_answer_parse(m.b, cut, ZONE, CDS_T_NS, NULL, &info, &set),
				 CDS_EDATA);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_NS, NULL, &info, &set), 0);
	cds_rrset_clear(&set);
	/* A name pointing forward (a loop in the making). */
	m.b[m.len - 1] = (uint8_t)(m.len - 2);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_NS, NULL, &info, &set),
			 CDS_EDATA);
	/* An rdata that does not fill its RDLENGTH. */
	start(&m, CDS_T_NS, 1, 0, 0);
	add_rr(&m, PTR_Q, 2, CDS_T_NS, 1, "\3ns1\xC0\x0C\0", 7);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_NS, NULL, &info, &set),
			 CDS_EDATA);
}

/* NSEC rdata at example.test.: next name "Ns1.example.test." (case as
 * sent), types NS SOA RRSIG NSEC DNSKEY. */
static const uint8_t NSEC_RD[] = "\3Ns1\7example\4test\0"
				 "\0\7\x22\0\0\0\0\x03\x80";
#define NSEC_RD_LEN (sizeof(NSEC_RD) - 1)
/* An NSEC3 owner (a base32hex label in upper case) below the question. */
static const uint8_t NSEC3_OWNER[] = "\x20" "0123456789ABCDEFGHIJKLMNOPQRSTUV" "\xC0\x0C";
#define NSEC3_OWNER_LEN (sizeof(NSEC3_OWNER) - 1)

/* NSEC3 rdata: SHA-1, flags, 0 iterations, salt, hash, bitmap (A). */
static size_t nsec3_rdata(uint8_t *rd, uint8_t alg, uint8_t saltlen, uint8_t hashlen)
{
	size_t o = 0;
	rd[o++] = alg;
	rd[o++] = 0;
	rd[o++] = 0;
	rd[o++] = 0;
	rd[o++] = saltlen;
	memset(rd + o, 0xAB, saltlen);
	o += saltlen;
	rd[o++] = hashlen;
	memset(rd + o, 0x5A, hashlen);
	o += hashlen;
	memcpy(rd + o, "\0\1\x40", 3);
	return o + 3;
}

/* An RRSIG covering type at the question's name, signer compressed. */
static void add_sig(struct msg *m, uint16_t covered, uint8_t last)
{
	uint8_t fixed[18] = {(uint8_t)(covered >> 8), (uint8_t)covered, 13, 2};
	rr_head(m, PTR_Q, 2, CDS_T_RRSIG, 1, 18 + 2 + 4);
	put(m, fixed, 18);
	put(m, PTR_Q, 2);
	uint8_t sig[4] = {'S', 'I', 'G', last};
	put(m, sig, 4);
}

/* A NODATA answer to CDS: RRSIG(NSEC) before its NSEC, a SOA, an NSEC3,
 * an NSEC of class CH. */
static void nodata_message(struct msg *m, uint8_t sig_last, bool nsec3_first)
{
	uint8_t rd[64];
	size_t n3 = nsec3_rdata(rd, 1, 2, 20);
	start(m, CDS_T_CDS, 0, 5, 0);
	if (nsec3_first)
		add_rr(m, NSEC3_OWNER, NSEC3_OWNER_LEN, CDS_T_NSEC3, 1, rd, n3);
	add_sig(m, CDS_T_NSEC, sig_last);
	add_rr(m, PTR_Q, 2, CDS_T_NSEC, 1, NSEC_RD, NSEC_RD_LEN);
	rr_head(m, PTR_Q, 2, CDS_T_SOA, 1, 2 + 2 + 20);
	put(m, PTR_Q, 2);
	put(m, PTR_Q, 2);
	static const uint8_t times[20] = {0, 0, 0, 7};
	put(m, times, 20);
	if (!nsec3_first)
		add_rr(m, NSEC3_OWNER, NSEC3_OWNER_LEN, CDS_T_NSEC3, 1, rd, n3);
	add_rr(m, PTR_Q, 2, CDS_T_NSEC, 3, NSEC_RD, NSEC_RD_LEN);
}

static void test_parse_denial(void **state)
{
	(void)state;
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	nodata_message(&m, 'a', false);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_int_equal(set.count, 0);
	assert_int_equal(set.denial_count, 2);
	const struct cds_rrset *nsec = &set.denial[0], *nsec3 = &set.denial[1];
	assert_int_equal(nsec->type, CDS_T_NSEC);
	assert_int_equal(nsec->owner_len, 14);
	assert_memory_equal(nsec->owner, "\7example\4test\0", 14);
	assert_int_equal(nsec->count, 1);
	assert_int_equal(nsec->rdata[0].len, NSEC_RD_LEN);
	assert_memory_equal(nsec->rdata[0].data, NSEC_RD, NSEC_RD_LEN); /* "Ns1" kept */
	assert_int_equal(nsec->sig_count, 1);
	assert_memory_equal(nsec->sigs[0].raw + 18, "\7example\4test\0SIGa", 18);
	assert_int_equal(nsec->denial_count, 0);
	assert_int_equal(nsec3->type, CDS_T_NSEC3);
	assert_int_equal(nsec3->owner_len, 33 + 14);
	assert_memory_equal(nsec3->owner, "\x20" "0123456789abcdefghijklmnopqrstuv"
					  "\7example\4test\0", 33 + 14);
	assert_int_equal(nsec3->count, 1);
	assert_int_equal(nsec3->sig_count, 0);

	/* An RRset's copy carries no denial. */
	struct cds_rrset copy;
	assert_int_equal(cds_rrset_copy_records(&set, &copy), 0);
	assert_int_equal(copy.denial_count, 0);
	assert_true(cds_rrset_equal(&copy, &set));
	assert_false(cds_rrset_identical(&copy, &set));
	cds_rrset_clear(&copy);

	/* The same denial in another order is identical; another RRSIG is
	 * not (but the answers are equal: both empty). */
	struct cds_rrset other;
	nodata_message(&m, 'a', true);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &other), 0);
	assert_int_equal(other.denial[0].type, CDS_T_NSEC3);
	assert_true(cds_rrset_identical(&set, &other));
	cds_rrset_clear(&other);
	nodata_message(&m, 'b', false);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &other), 0);
	assert_false(cds_rrset_identical(&set, &other));
	assert_true(cds_rrset_equal(&set, &other));
	cds_rrset_clear(&other);
	cds_rrset_clear(&set);

	/* SERVFAIL: no denial is read. */
	nodata_message(&m, 'a', false);
	m.b[3] = 2;
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_int_equal(set.denial_count, 0);
	cds_rrset_clear(&set);
	/* NXDOMAIN: read. */
	m.b[3] = 3;
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_int_equal(set.rcode, 3);
	assert_int_equal(set.denial_count, 2);
	cds_rrset_clear(&set);
	/* An answer with records: no denial. */
	start(&m, CDS_T_CDS, 1, 1, 0);
	add_rr(&m, PTR_Q, 2, CDS_T_CDS, 1, "\0\0\0\0\0", 5);
	add_rr(&m, PTR_Q, 2, CDS_T_NSEC, 1, NSEC_RD, NSEC_RD_LEN);
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.denial_count, 0);
	cds_rrset_clear(&set);
}

static void test_parse_denial_limit(void **state)
{
	(void)state;
	/* Ten NSEC RRsets at ten owners: CDS_DENIAL_MAX kept. */
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	start(&m, CDS_T_CDS, 0, 10, 0);
	for (int i = 0; i < 10; i++) {
		uint8_t owner[4] = {1, (uint8_t)('a' + i), 0xC0, 12};
		add_rr(&m, owner, 4, CDS_T_NSEC, 1, NSEC_RD, NSEC_RD_LEN);
	}
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set), 0);
	assert_int_equal(set.denial_count, CDS_DENIAL_MAX);
	assert_memory_equal(set.denial[7].owner, "\1h\7example", 10);
	cds_rrset_clear(&set);
}

/* The NODATA answer with one NSEC or NSEC3 record of rdata rd: parses? */
static int parse_one(uint16_t type, const void *rd, size_t len)
{
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	start(&m, CDS_T_CDS, 0, 1, 0);
	if (type == CDS_T_NSEC3)
		add_rr(&m, NSEC3_OWNER, NSEC3_OWNER_LEN, type, 1, rd, len);
	else
		add_rr(&m, PTR_Q, 2, type, 1, rd, len);
	int r = cds_answer_parse(m.b, m.len, ZONE, CDS_T_CDS, NULL, &info, &set);
	cds_rrset_clear(&set);
	return r;
}

static void test_parse_denial_malformed(void **state)
{
	(void)state;
	uint8_t rd[128];
	assert_int_equal(parse_one(CDS_T_NSEC, NSEC_RD, NSEC_RD_LEN), 0);
	/* RFC 4034 §4.1.1: the next name is not compressed. */
	assert_int_equal(parse_one(CDS_T_NSEC, "\3ns1\xC0\x0C\0\1\x40", 9), CDS_EDATA);
	/* A label of 64 octets. */
	memset(rd, 'a', sizeof(rd));
	rd[0] = 64;
	rd[65] = 0;
	memcpy(rd + 66, "\0\1\x40", 3);
	assert_int_equal(parse_one(CDS_T_NSEC, rd, 69), CDS_EDATA);
	rd[0] = 63;
	rd[64] = 0;
	memcpy(rd + 65, "\0\1\x40", 3);
	assert_int_equal(parse_one(CDS_T_NSEC, rd, 68), 0);
	/* No root label within the rdata. */
	assert_int_equal(parse_one(CDS_T_NSEC, "\3ns1\7example", 12), CDS_EDATA);
	/* Windows out of order, empty, longer than 32 octets, cut short. */
	assert_int_equal(parse_one(CDS_T_NSEC, "\0\1\1\0\1\x40", 7), CDS_EDATA);
	assert_int_equal(parse_one(CDS_T_NSEC, "\0\0\1\x40", 5), CDS_EDATA);
	assert_int_equal(parse_one(CDS_T_NSEC, "\0\0\1\x40\0\1\x40", 8), CDS_EDATA);
	memset(rd, 0xFF, sizeof(rd));
	rd[0] = 0;
	rd[1] = 0;
	rd[2] = 33;
	assert_int_equal(parse_one(CDS_T_NSEC, rd, 3 + 33), CDS_EDATA);
	rd[2] = 32;
	assert_int_equal(parse_one(CDS_T_NSEC, rd, 3 + 32), 0);
	assert_int_equal(parse_one(CDS_T_NSEC, rd, 3 + 31), CDS_EDATA);
	/* NSEC3: SHA-1 with a 20-octet hash; an empty bitmap (an empty
	 * non-terminal) is fine. */
	size_t n = nsec3_rdata(rd, 1, 4, 20);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n), 0);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n - 3), 0);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n - 4), CDS_EDATA);
	n = nsec3_rdata(rd, 2, 4, 20);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n), CDS_EDATA);
	n = nsec3_rdata(rd, 1, 4, 19);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n), CDS_EDATA);
	/* A 23-octet hash whose last octets would read as a bitmap. */
	n = nsec3_rdata(rd, 1, 0, 23);
	memcpy(rd + 6 + 20, "\0\1\x40", 3);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n - 3), CDS_EDATA);
	rd[5] = 20;
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n - 3), 0);
	n = nsec3_rdata(rd, 1, 4, 20);
	rd[4] = 40; /* salt past the rdata */
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n), CDS_EDATA);
	rd[4] = 5; /* the salt eats the hash length */
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, n), CDS_EDATA);
	assert_int_equal(parse_one(CDS_T_NSEC3, rd, 4), CDS_EDATA);
	/* CSYNC shares the bitmap check: windows in order there too. */
	static const uint8_t csync[] = {0, 0, 0, 1, 0, 1, 1, 1, 0x40, 0, 1, 0x60};
	struct msg m;
	struct cds_rrset set;
	struct cds_answer_info info;
	start(&m, CDS_T_CSYNC, 1, 0, 0);
	add_rr(&m, PTR_Q, 2, CDS_T_CSYNC, 1, csync, sizeof(csync));
	assert_int_equal(cds_answer_parse(m.b, m.len, ZONE, CDS_T_CSYNC, NULL, &info, &set),
			 CDS_EDATA);
}

static void test_ds_rdata_digest_length(void **state)
{
	(void)state;
	uint8_t rd[4 + 64] = {0x09, 0x43, 13, 2};
	struct cds_ds ds;
	for (size_t i = 4; i < sizeof(rd); i++)
		rd[i] = (uint8_t)i;
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 32, &ds), 0);
	assert_int_equal(ds.keytag, 0x0943);
	assert_int_equal(ds.digest_len, 32);
	/* A SHA-256 digest of 31 or 33 octets is no digest: never proposed. */
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 31, &ds), CDS_EDATA);
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 33, &ds), CDS_EDATA);
	rd[3] = 1; /* SHA-1: 20 */
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 20, &ds), 0);
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 32, &ds), CDS_EDATA);
	rd[3] = 4; /* SHA-384: 48 */
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 48, &ds), 0);
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 32, &ds), CDS_EDATA);
	rd[3] = 200; /* unknown: any length up to the buffer */
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 7, &ds), 0);
	assert_int_equal(cds_ds_from_rdata(rd, 4 + 64, &ds), 0);
	/* The RFC 8078 §4 delete CDS "0 0 0 00". */
	static const uint8_t del[] = {0, 0, 0, 0, 0};
	assert_int_equal(cds_ds_from_rdata(del, sizeof(del), &ds), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure_per_algorithm),
		cmocka_unit_test(test_bogus),
		cmocka_unit_test(test_not_a_zone_key),
		cmocka_unit_test(test_point_off_curve),
		cmocka_unit_test(test_parse_canonical),
		cmocka_unit_test(test_parse_ttl),
		cmocka_unit_test(test_referral),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_parse_denial),
		cmocka_unit_test(test_parse_denial_limit),
		cmocka_unit_test(test_parse_denial_malformed),
		cmocka_unit_test(test_ds_rdata_digest_length),
		cmocka_unit_test(test_revoked_key),
		cmocka_unit_test(test_short_ecdsa_signature),
		cmocka_unit_test(test_identical_needs_owner),
		cmocka_unit_test(test_ds_signer),
		cmocka_unit_test(test_ds_signer_revoked),
		cmocka_unit_test(test_owner_outside_signer),
		cmocka_unit_test(test_verification_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
