/* Unit tests of src/dns/denial.c: NODATA and NXDOMAIN answers signed in the
 * test (testsign), their NSEC and NSEC3 proofs judged by cds_dnssec_denial
 * and, where getdns 1.6's validator judges the same thing, by the oracle
 * (tests/common/oracle.c) too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "oracle.h"
#include "testsign.h"

#define ZONE "example.test."
#define NOW ((time_t)1800000000)
#define T_TXT 16
#define T_NSEC3PARAM 51

/* The oracle's verdict is not compared (getdns judges otherwise). */
#define NO_ORACLE ((enum cds_dnssec_status)-1)

struct zone {
	struct ts_key ksk, zsk;
	struct cds_ds ds;
	struct cds_rrset dnskey;
};

static struct zone Z;

static int setup(void **state)
{
	(void)state;
	uint8_t m[4096];
	struct ts_rr rr[2];
	struct cds_answer_info info;
	memset(&Z, 0, sizeof(Z));
	if (ts_key_new(&Z.ksk, 257) != 0 || ts_key_new(&Z.zsk, 256) != 0)
		return -1;
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &Z.ksk);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &Z.zsk);
	const struct ts_key *ksk[] = {&Z.ksk};
	size_t len = ts_answer(m, ZONE, CDS_T_DNSKEY, 0, rr, 2, ksk, 1, NOW - 3600, NOW + 86400);
	if (cds_answer_parse(m, len, ZONE, CDS_T_DNSKEY, NULL, &info, &Z.dnskey) != 0)
		return -1;
	ts_key_ds(&Z.ksk, ZONE, 2, &Z.ds);
	return cds_dnssec_validate(ZONE, &Z.dnskey, &Z.dnskey, &Z.ds, 1,
				   ts_work(NOW)) == CDS_DNSSEC_SECURE
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	(void)state;
	cds_rrset_clear(&Z.dnskey);
	ts_key_free(&Z.ksk);
	ts_key_free(&Z.zsk);
	return 0;
}

/* The empty answer to qname/qtype (rcode) carrying auth[0..n), signed by
 * the ZSK, parsed. */
static void answer(const char *qname, uint16_t qtype, int rcode, const struct ts_auth *auth,
		   size_t n, struct cds_rrset *out)
{
	uint8_t m[4096];
	struct cds_answer_info info;
	const struct ts_key *zsk[] = {&Z.zsk};
	size_t len = ts_answer_denial(m, ZONE, qname, qtype, rcode, auth, n, zsk, 1, NOW - 3600,
				      NOW + 86400);
	assert_int_equal(cds_answer_parse(m, len, qname, qtype, NULL, &info, out), 0);
	assert_int_equal(out->count, 0);
	assert_int_equal(out->denial_count, n);
}

/* cdscan says want (why containing because, when given); getdns says
 * oracle unless NO_ORACLE. */
static void judge(const struct cds_rrset *set, uint16_t max_iterations,
		  enum cds_dnssec_status want, enum cds_dnssec_status oracle, const char *because)
{
	char why[512] = "unset";
	struct cds_dnssec_limits limits = cds_dnssec_limits_default;
	struct cds_dnssec_work w;
	limits.nsec3_max_iterations = max_iterations;
	cds_dnssec_work_init(&w, &limits, NOW);
	enum cds_dnssec_status st = cds_dnssec_denial(ZONE, set, &Z.dnskey, &w, why, sizeof(why));
	if (st != want || (because && !strstr(why, because)))
		print_error("status %d (want %d), why: %s\n", st, want, why);
	assert_int_equal(st, want);
	if (because)
		assert_non_null(strstr(why, because));
	if (want == CDS_DNSSEC_SECURE)
		assert_string_equal(why, "");
	if (oracle != NO_ORACLE)
		assert_int_equal(oracle_denial(ZONE, set, &Z.dnskey, &Z.ds, 1, NOW), oracle);
}

static void nsec(struct ts_auth *a, const char *owner, const char *next, const uint16_t *types,
		 size_t n)
{
	snprintf(a->owner, sizeof(a->owner), "%s", owner);
	ts_rr_nsec(&a->rr, next, types, n);
}

#define NSEC(a, owner, next, ...)                                                                 \
	do {                                                                                       \
		static const uint16_t t_[] = {__VA_ARGS__};                                       \
		nsec(a, owner, next, t_, sizeof(t_) / sizeof(t_[0]));                              \
	} while (0)

/* ------------------------------------------------------------ NSEC --- */

static void test_nsec_nodata(void **state)
{
	(void)state;
	struct ts_auth a[1];
	struct cds_rrset set;
	/* RFC 4035 §3.1.3.1: the NSEC at the name, without the type. */
	NSEC(&a[0], "www.example.test.", "zzz.example.test.", CDS_T_AAAA, CDS_T_RRSIG, CDS_T_NSEC);
	answer("WWW.Example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* The same NSEC with A in its bitmap. */
	NSEC(&a[0], "www.example.test.", "zzz.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "NSEC at www.example.test. lists type A");
	cds_rrset_clear(&set);
	/* A CNAME there: the answer should have been the CNAME. */
	NSEC(&a[0], "www.example.test.", "zzz.example.test.", 5, CDS_T_RRSIG, CDS_T_NSEC);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "lists a CNAME");
	cds_rrset_clear(&set);
}

static void test_nsec_bad_signature(void **state)
{
	(void)state;
	struct ts_auth a[1];
	struct cds_rrset set;
	NSEC(&a[0], "www.example.test.", "zzz.example.test.", CDS_T_AAAA, CDS_T_RRSIG, CDS_T_NSEC);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	struct cds_rrsig *sig = &set.denial[0].sigs[0];
	sig->raw[sig->raw_len - 1] ^= 0x10;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "RRSIG of NSEC at www.example.test. does not validate");
	sig->raw[sig->raw_len - 1] ^= 0x10;
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	/* Its record changed under the signature. */
	set.denial[0].rdata[0].data[set.denial[0].rdata[0].len - 1] ^= 0x01;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "does not validate");
	cds_rrset_clear(&set);
	/* Without its RRSIG. */
	uint8_t m[4096];
	struct cds_answer_info info;
	size_t len = ts_answer_denial(m, ZONE, "www.example.test.", CDS_T_A, 0, a, 1, NULL, 0,
				      NOW, NOW);
	assert_int_equal(cds_answer_parse(m, len, "www.example.test.", CDS_T_A, NULL, &info, &set),
			 0);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "NSEC at www.example.test. has no RRSIG");
	cds_rrset_clear(&set);
}

static void test_no_denial(void **state)
{
	(void)state;
	struct cds_rrset set;
	answer("www.example.test.", CDS_T_A, 0, NULL, 0, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC or NSEC3 with the answer");
	cds_rrset_clear(&set);
	answer("www.example.test.", CDS_T_A, 3, NULL, 0, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC or NSEC3 with the answer");
	cds_rrset_clear(&set);
	/* A name outside the zone the DNSKEY RRset is of (getdns, with no
	 * trust anchor for other.test., judges only the NSEC: not compared). */
	struct ts_auth a[1];
	NSEC(&a[0], "www.example.test.", "zzz.example.test.", CDS_T_AAAA, CDS_T_RRSIG, CDS_T_NSEC);
	uint8_t m[4096];
	struct cds_answer_info info;
	const struct ts_key *zsk[] = {&Z.zsk};
	size_t len = ts_answer_denial(m, ZONE, "www.other.test.", CDS_T_A, 0, a, 1, zsk, 1,
				      NOW - 60, NOW + 60);
	assert_int_equal(cds_answer_parse(m, len, "www.other.test.", CDS_T_A, NULL, &info, &set),
			 0);
	judge(&set, 150, CDS_DNSSEC_BOGUS, NO_ORACLE, "is not in zone");
	cds_rrset_clear(&set);
}

static void test_nsec_nxdomain(void **state)
{
	(void)state;
	struct ts_auth a[2];
	struct cds_rrset set;
	/* RFC 4035 §3.1.3.2: an NSEC covers nope., one covers the wildcard
	 * at the closest encloser (the apex's: "*" sorts before "a"). */
	NSEC(&a[0], "mail.example.test.", "www.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	NSEC(&a[1], "example.test.", "a.example.test.", CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_NSEC,
	     CDS_T_DNSKEY);
	answer("nope.example.test.", CDS_T_CDS, 3, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* Without the wildcard's: a wildcard could have answered. */
	answer("nope.example.test.", CDS_T_CDS, 3, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "no NSEC proves that the wildcard *.example.test. does not exist");
	cds_rrset_clear(&set);
	/* Without the covering one. */
	answer("nope.example.test.", CDS_T_CDS, 3, a + 1, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "no NSEC at or covering nope.example.test.");
	cds_rrset_clear(&set);
	/* Below the name: the closest encloser is mail., whose wildcard
	 * "*.mail." the first NSEC covers as well. */
	answer("a.b.mail.example.test.", CDS_T_CDS, 3, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* The last NSEC of the zone: its next name wraps to the apex. */
	NSEC(&a[0], "www.example.test.", "example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("zzz.example.test.", CDS_T_CDS, 3, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
}

static void test_nsec_wildcard_and_ent(void **state)
{
	(void)state;
	struct ts_auth a[2];
	struct cds_rrset set;
	/* RFC 4035 §3.1.3.4: no nope., but *.example.test. exists, without
	 * the type: NODATA by wildcard. */
	NSEC(&a[0], "mail.example.test.", "www.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	NSEC(&a[1], "*.example.test.", "mail.example.test.", T_TXT, CDS_T_RRSIG, CDS_T_NSEC);
	answer("nope.example.test.", CDS_T_A, 0, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* The wildcard has the type. */
	NSEC(&a[1], "*.example.test.", "mail.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("nope.example.test.", CDS_T_A, 0, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "NSEC at *.example.test. lists type A");
	cds_rrset_clear(&set);
	/* An empty non-terminal: sub. has no records, a.sub. has. */
	NSEC(&a[0], "mail.example.test.", "a.sub.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("sub.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* The same where the first name below sorts before "*.sub" ('!' is
	 * 0x21): no wildcard proof, the empty non-terminal alone. */
	NSEC(&a[0], "mail.example.test.", "!.sub.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("sub.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
}

static void test_nsec_delegation(void **state)
{
	(void)state;
	struct ts_auth a[2];
	struct cds_rrset set;
	/* RFC 6840 §4.1: the NSEC at a zone cut (NS without SOA) denies no
	 * name below it: the child's data is the child's to deny. */
	NSEC(&a[0], "child.example.test.", "zzz.example.test.", CDS_T_NS, CDS_T_RRSIG, CDS_T_NSEC);
	NSEC(&a[1], "example.test.", "a.example.test.", CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_NSEC,
	     CDS_T_DNSKEY);
	answer("x.child.example.test.", CDS_T_CDS, 3, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC at or covering");
	cds_rrset_clear(&set);
	/* Nor the types at the cut other than DS. */
	answer("child.example.test.", CDS_T_CDS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "is a delegation");
	cds_rrset_clear(&set);
	/* The DS: denied by the parent side's NSEC (RFC 4035 §5.4).  getdns
	 * calls the proven absence of a DS "insecure": what lies below is. */
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_INSECURE, NULL);
	cds_rrset_clear(&set);
	NSEC(&a[0], "child.example.test.", "zzz.example.test.", CDS_T_NS, CDS_T_DS, CDS_T_RRSIG,
	     CDS_T_NSEC);
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "lists type DS");
	cds_rrset_clear(&set);
	/* The child's apex NSEC (SOA) cannot deny the DS. */
	NSEC(&a[0], "child.example.test.", "zzz.example.test.", CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG,
	     CDS_T_NSEC, CDS_T_DNSKEY);
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "child zone's apex");
	cds_rrset_clear(&set);
	/* RFC 6840 §4.4: no NS, no delegation whose DS is denied (getdns
	 * does not ask for NS: not compared). */
	NSEC(&a[0], "child.example.test.", "zzz.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, NO_ORACLE, "no delegation");
	cds_rrset_clear(&set);
	/* A DS is denied at the delegation only, never by a covering NSEC
	 * (getdns takes the name error as proof: not compared). */
	NSEC(&a[0], "a.example.test.", "zzz.example.test.", CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC);
	answer("child.example.test.", CDS_T_DS, 3, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, NO_ORACLE, "no NSEC at child.example.test.");
	cds_rrset_clear(&set);
}

/* ----------------------------------------------------------- NSEC3 --- */

static const uint8_t SALT[] = {0xAB, 0xCD};
#define ITER 5

/* h + d as a 160-bit number (d is -1 or +1). */
static void step(const uint8_t h[20], int d, uint8_t out[20])
{
	memcpy(out, h, 20);
	for (int i = 19; i >= 0; i--) {
		out[i] = (uint8_t)(out[i] + d);
		if ((d > 0 && out[i] != 0) || (d < 0 && out[i] != 0xFF))
			break;
	}
}

/* How an NSEC3 stands to a name's hash. */
enum span { MATCH, COVER, WRAP /* covers it as the last of the chain */ };

/* An NSEC3 of the test chain (iterations it, flags): matching name or
 * covering it (a span of three hashes around its hash; or from just below
 * its hash past the end of the chain to the hash 00..01). */
static void nsec3_span(struct ts_auth *a, const char *name, enum span how, uint8_t flags,
		       uint16_t it, const uint16_t *types, size_t n)
{
	uint8_t h[20], owner[20], next[20] = {[19] = 1};
	ts_nsec3_hash(name, SALT, sizeof(SALT), it, h);
	if (how == MATCH)
		memcpy(owner, h, 20);
	else
		step(h, -1, owner);
	if (how != WRAP)
		step(h, 1, next);
	ts_nsec3_owner(owner, ZONE, a->owner);
	ts_rr_nsec3(&a->rr, flags, it, SALT, sizeof(SALT), next, types, n);
}

static void nsec3(struct ts_auth *a, const char *name, bool match, uint8_t flags, uint16_t it,
		  const uint16_t *types, size_t n)
{
	nsec3_span(a, name, match ? MATCH : COVER, flags, it, types, n);
}

#define MATCH3(a, name, ...)                                                                      \
	do {                                                                                       \
		static const uint16_t t_[] = {__VA_ARGS__};                                       \
		nsec3(a, name, true, 0, ITER, t_, sizeof(t_) / sizeof(t_[0]));                     \
	} while (0)

static const uint16_t NO_TYPES[1];
#define COVER3(a, name, flags) nsec3(a, name, false, flags, ITER, NO_TYPES, 0)

static void test_nsec3_nodata(void **state)
{
	(void)state;
	struct ts_auth a[1];
	struct cds_rrset set;
	/* RFC 5155 §8.5: the NSEC3 matching the name, without the type. */
	MATCH3(&a[0], "www.example.test.", CDS_T_AAAA, CDS_T_RRSIG);
	answer("www.EXAMPLE.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	/* The signature broken. */
	set.denial[0].sigs[0].raw[40] ^= 0x01;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "RRSIG of NSEC3 at ");
	cds_rrset_clear(&set);
	MATCH3(&a[0], "www.example.test.", CDS_T_A, CDS_T_RRSIG);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "(www.example.test.) lists type A");
	cds_rrset_clear(&set);
	/* Matching another name only: no proof for www. */
	MATCH3(&a[0], "mail.example.test.", CDS_T_AAAA, CDS_T_RRSIG);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC3 closest encloser proof");
	cds_rrset_clear(&set);
}

/* The NSEC3 name error proof of nope.example.test. (RFC 5155 §7.2.2):
 * the apex matched, nope. covered, *.example.test. covered. */
static void name_error(struct ts_auth *a, uint8_t next_closer_flags)
{
	MATCH3(&a[0], "example.test.", CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_DNSKEY,
	       T_NSEC3PARAM);
	COVER3(&a[1], "nope.example.test.", next_closer_flags);
	COVER3(&a[2], "*.example.test.", 0);
}

static void test_nsec3_nxdomain(void **state)
{
	(void)state;
	struct ts_auth a[3];
	struct cds_rrset set;
	name_error(a, 0);
	answer("nope.example.test.", CDS_T_CDS, 3, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* Below nope.: the next closer name is nope. again, and nothing
	 * below a name that does not exist exists. */
	answer("x.y.nope.example.test.", CDS_T_CDS, 3, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* Below www., of which nothing is known. */
	answer("x.www.example.test.", CDS_T_CDS, 3, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC3 covers the name below it");
	cds_rrset_clear(&set);
	/* Without the wildcard's NSEC3. */
	answer("nope.example.test.", CDS_T_CDS, 3, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS,
	      "no NSEC3 covers the wildcard *.example.test.");
	cds_rrset_clear(&set);
	/* Without the next closer's: the apex matches, nothing below it is
	 * covered. */
	struct ts_auth b[2] = {a[0], a[2]};
	answer("nope.example.test.", CDS_T_CDS, 3, b, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC3 covers the name below it");
	cds_rrset_clear(&set);
	/* The span covering nope. is the chain's last (it wraps). */
	nsec3_span(&a[1], "nope.example.test.", WRAP, 0, ITER, NO_TYPES, 0);
	answer("nope.example.test.", CDS_T_CDS, 3, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* A closest encloser below the apex: sub. exists, nope.sub. not,
	 * nor *.sub. */
	MATCH3(&b[0], "sub.example.test.", CDS_T_A, CDS_T_RRSIG);
	COVER3(&b[1], "nope.sub.example.test.", 0);
	answer("nope.sub.example.test.", CDS_T_CDS, 3, b, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no NSEC3 covers the wildcard");
	cds_rrset_clear(&set);
	struct ts_auth c[3] = {b[0], b[1]};
	COVER3(&c[2], "*.sub.example.test.", 0);
	answer("nope.sub.example.test.", CDS_T_CDS, 3, c, 3, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	/* Opt-out on the span of the next closer name: nope. may be an
	 * unsigned delegation (RFC 5155 §6). */
	name_error(a, 1);
	answer("nope.example.test.", CDS_T_CDS, 3, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_INSECURE, CDS_DNSSEC_INSECURE, "opt-out");
	cds_rrset_clear(&set);
}

static void test_nsec3_wildcard_nodata(void **state)
{
	(void)state;
	struct ts_auth a[3];
	struct cds_rrset set;
	/* RFC 5155 §8.7: closest encloser proof, the wildcard matched
	 * without the type. */
	name_error(a, 0);
	MATCH3(&a[2], "*.example.test.", T_TXT, CDS_T_RRSIG);
	answer("nope.example.test.", CDS_T_A, 0, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_SECURE, NULL);
	cds_rrset_clear(&set);
	MATCH3(&a[2], "*.example.test.", CDS_T_A, CDS_T_RRSIG);
	answer("nope.example.test.", CDS_T_A, 0, a, 3, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "(*.example.test.) lists type A");
	cds_rrset_clear(&set);
}

static void test_nsec3_iterations(void **state)
{
	(void)state;
	/* RFC 9276 §3.2: 200 iterations with a limit of 150 prove nothing;
	 * getdns's own limit for a 256-bit key is 150 too (RFC 5155 §10.3). */
	struct ts_auth a[1];
	struct cds_rrset set;
	static const uint16_t types[] = {CDS_T_AAAA, CDS_T_RRSIG};
	nsec3(&a[0], "www.example.test.", true, 0, 200, types, 2);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_INSECURE, CDS_DNSSEC_INSECURE,
	      "NSEC3 iterations 200 above limits.nsec3-max-iterations 150");
	judge(&set, 200, CDS_DNSSEC_SECURE, NO_ORACLE, NULL); /* getdns: 150 all the same */
	/* The RRSIG is checked first: a forged NSEC3 is bogus, whatever its
	 * iterations. */
	set.denial[0].sigs[0].raw[40] ^= 0x01;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "does not validate");
	cds_rrset_clear(&set);
}

static void test_nsec3_ds(void **state)
{
	(void)state;
	struct ts_auth a[2];
	struct cds_rrset set;
	/* RFC 5155 §8.6: the NSEC3 of the delegation, NS without DS (getdns:
	 * "insecure", as for NSEC). */
	MATCH3(&a[0], "child.example.test.", CDS_T_NS);
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_SECURE, CDS_DNSSEC_INSECURE, NULL);
	cds_rrset_clear(&set);
	MATCH3(&a[0], "child.example.test.", CDS_T_NS, CDS_T_DS, CDS_T_RRSIG);
	answer("child.example.test.", CDS_T_DS, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "lists type DS");
	cds_rrset_clear(&set);
	/* No NSEC3 at the name: an opt-out span covering it (an unsigned
	 * delegation may be there) is insecure; without opt-out, bogus. */
	MATCH3(&a[0], "example.test.", CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_DNSKEY, T_NSEC3PARAM);
	COVER3(&a[1], "child.example.test.", 1);
	answer("child.example.test.", CDS_T_DS, 0, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_INSECURE, CDS_DNSSEC_INSECURE,
	      "opt-out span covers child.example.test.");
	cds_rrset_clear(&set);
	COVER3(&a[1], "child.example.test.", 0);
	answer("child.example.test.", CDS_T_DS, 0, a, 2, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "not opt-out");
	cds_rrset_clear(&set);
}

static void test_nsec3_not_of_zone(void **state)
{
	(void)state;
	/* An NSEC3 with flags other than 0 or 1 is ignored (RFC 5155 §8.2;
	 * getdns does not: not compared), and so is one that is not directly
	 * below the zone. */
	struct ts_auth a[1];
	struct cds_rrset set;
	static const uint16_t types[] = {CDS_T_AAAA};
	nsec3(&a[0], "www.example.test.", true, 2, ITER, types, 1);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, NO_ORACLE, "no usable NSEC3 of zone example.test.");
	cds_rrset_clear(&set);
	nsec3(&a[0], "www.example.test.", true, 0, ITER, types, 1);
	memmove(a[0].owner + 33 + 4, a[0].owner + 33, strlen(ZONE) + 1);
	memcpy(a[0].owner + 33, "sub.", 4);
	answer("www.example.test.", CDS_T_A, 0, a, 1, &set);
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "no usable NSEC3");
	cds_rrset_clear(&set);
}

static void test_not_empty(void **state)
{
	(void)state;
	struct cds_rrset set;
	memset(&set, 0, sizeof(set));
	set.owner_len = (uint16_t)cds_dname_to_wire(ZONE, set.owner);
	set.type = CDS_T_A;
	set.rcode = 2;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "RCODE 2");
	uint8_t rd[4] = {192, 0, 2, 1};
	struct cds_rdata r = {4, rd};
	set.rcode = 0;
	set.count = 1;
	set.rdata = &r;
	judge(&set, 150, CDS_DNSSEC_BOGUS, CDS_DNSSEC_BOGUS, "not empty");
}

/* ---------------------------------------- cds_denial_apex_types --- */

/* The apex's own NSEC, or the NSEC3 at the apex's hash, says which types
 * the apex has (scan.type-bitmaps); a record of another name, the parent's
 * side of the delegation (no SOA) or an NSEC3 with more iterations than
 * allowed says nothing. */
static void test_apex_types(void **state)
{
	(void)state;
	static const uint16_t apex[] = {CDS_T_SOA, CDS_T_NS, CDS_T_DNSKEY, CDS_T_CDNSKEY,
					CDS_T_NSEC, CDS_T_RRSIG};
	static const uint16_t parent_side[] = {CDS_T_NS, CDS_T_DS, CDS_T_NSEC, CDS_T_RRSIG};
	static const uint16_t ask[] = {CDS_T_CDNSKEY, CDS_T_CSYNC};
	static const uint8_t salt[] = {0xab, 0xcd};
	struct ts_auth a[1];
	struct cds_rrset set = {0};
	bool listed[2];
	uint8_t h[20], next[20];

	snprintf(a[0].owner, sizeof(a[0].owner), ZONE);
	ts_rr_nsec(&a[0].rr, "a." ZONE, apex, sizeof(apex) / sizeof(apex[0]));
	answer(ZONE, CDS_T_CDS, 0, a, 1, &set);
	listed[0] = listed[1] = false;
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 0, ask, 2, listed), 0);
	assert_true(listed[0]);  /* CDNSKEY is there */
	assert_false(listed[1]); /* CSYNC is not */
	assert_int_equal(cds_denial_apex_types("EXAMPLE.test.", &set, 0, ask, 2, listed), 0);
	cds_rrset_clear(&set);

	snprintf(a[0].owner, sizeof(a[0].owner), "a." ZONE); /* another name */
	answer(ZONE, CDS_T_CDS, 0, a, 1, &set);
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 0, ask, 2, listed), CDS_ENOENT);
	cds_rrset_clear(&set);

	snprintf(a[0].owner, sizeof(a[0].owner), ZONE); /* the parent's side */
	ts_rr_nsec(&a[0].rr, "a." ZONE, parent_side, sizeof(parent_side) / sizeof(parent_side[0]));
	answer(ZONE, CDS_T_CDS, 0, a, 1, &set);
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 0, ask, 2, listed), CDS_ENOENT);
	cds_rrset_clear(&set);

	ts_nsec3_hash(ZONE, salt, sizeof(salt), 3, h);
	ts_nsec3_owner(h, ZONE, a[0].owner);
	memset(next, 0xff, sizeof(next));
	ts_rr_nsec3(&a[0].rr, 0, 3, salt, sizeof(salt), next, apex, sizeof(apex) / sizeof(apex[0]) - 2);
	answer(ZONE, CDS_T_CDS, 0, a, 1, &set);
	listed[0] = listed[1] = false;
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 3, ask, 2, listed), 0);
	assert_true(listed[0]);
	assert_false(listed[1]);
	/* RFC 9276 §3.2: above the limit, nothing is hashed or read. */
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 2, ask, 2, listed), CDS_ENOENT);
	cds_rrset_clear(&set);

	ts_nsec3_hash("a." ZONE, salt, sizeof(salt), 3, h); /* another name's hash */
	ts_nsec3_owner(h, ZONE, a[0].owner);
	answer(ZONE, CDS_T_CDS, 0, a, 1, &set);
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 3, ask, 2, listed), CDS_ENOENT);
	cds_rrset_clear(&set);

	answer(ZONE, CDS_T_CDS, 0, NULL, 0, &set); /* unsigned: no record at all */
	assert_int_equal(cds_denial_apex_types(ZONE, &set, 3, ask, 2, listed), CDS_ENOENT);
	cds_rrset_clear(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nsec_nodata),
		cmocka_unit_test(test_nsec_bad_signature),
		cmocka_unit_test(test_no_denial),
		cmocka_unit_test(test_nsec_nxdomain),
		cmocka_unit_test(test_nsec_wildcard_and_ent),
		cmocka_unit_test(test_nsec_delegation),
		cmocka_unit_test(test_nsec3_nodata),
		cmocka_unit_test(test_nsec3_nxdomain),
		cmocka_unit_test(test_nsec3_wildcard_nodata),
		cmocka_unit_test(test_nsec3_iterations),
		cmocka_unit_test(test_nsec3_ds),
		cmocka_unit_test(test_nsec3_not_of_zone),
		cmocka_unit_test(test_not_empty),
		cmocka_unit_test(test_apex_types),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
