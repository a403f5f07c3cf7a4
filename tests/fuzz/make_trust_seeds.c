/* Writes seeds for fuzz_trust: the small signed world of the trust unit
 * tests (test. as the anchor; prov.test. securely delegated; insec.test.
 * signed without DS; plain.test. unsigned; the DS absences proven by
 * test.'s NSEC), signed in-process (testsign) and valid at the target's
 * fixed time, with one look-up per seed: RFC 9615 signals present, proven
 * absent by NSEC and NSEC3, absent without proof, zones secure, insecure
 * and unsigned, and a DS that changes when the clock moves on.  Keys are
 * made anew on every run.  Usage: make_trust_seeds OUT_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "testsign.h"

#define NOW ((time_t)1800000000)
#define INC (NOW - 86400)
#define EXP (NOW + 30 * 86400)
#define SIGNAL "_dsboot.child.test._signal.ns1.prov.test."

static struct ts_key k_test, k_prov, k_insec, k_child;

struct seed {
	uint8_t b[1 << 17];
	size_t len;
};

/* One answer of the seed: the message m cut as fuzz_trust reads it. */
static void put_answer(struct seed *s, const char *qname, uint16_t qtype, const uint8_t *m,
		       size_t len)
{
	uint8_t wire[256];
	size_t qend = 12 + (size_t)cds_dname_to_wire(qname, wire) + 4;
	size_t body = 8 + len - qend;
	s->len += (size_t)snprintf((char *)s->b + s->len, 300, "%s", qname) + 1;
	s->b[s->len++] = (uint8_t)(qtype >> 8);
	s->b[s->len++] = (uint8_t)qtype;
	s->b[s->len++] = (uint8_t)(body >> 8);
	s->b[s->len++] = (uint8_t)body;
	memcpy(s->b + s->len, m + 2, 2);
	memcpy(s->b + s->len + 2, m + 6, 6);
	memcpy(s->b + s->len + 8, m + qend, len - qend);
	s->len += body;
}

static void rrset(struct seed *s, const char *zone, const char *owner, uint16_t type,
		  const struct ts_rr *rrs, size_t n, const struct ts_key *k)
{
	uint8_t m[4096];
	const struct ts_key *signers[1] = {k};
	put_answer(s, owner, type, m,
		   ts_answer_zone(m, zone, owner, type, 0, rrs, n, signers, k ? 1 : 0, INC, EXP));
}

static void empty(struct seed *s, const char *zone, const char *owner, uint16_t type, int rcode,
		  const struct ts_auth *auth, size_t n, const struct ts_key *k)
{
	uint8_t m[4096];
	const struct ts_key *signers[1] = {k};
	put_answer(s, owner, type, m,
		   ts_answer_denial(m, zone, owner, type, rcode, auth, n, signers, k ? 1 : 0, INC,
				    EXP));
}

static void nsec(struct ts_auth *a, const char *owner, const char *next, const uint16_t *types,
		 size_t n)
{
	snprintf(a->owner, sizeof(a->owner), "%s", owner);
	ts_rr_nsec(&a->rr, next, types, n);
}

static const uint16_t NSEC_A[] = {CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC};
static const uint16_t NSEC_CUT[] = {CDS_T_NS, CDS_T_RRSIG, CDS_T_NSEC};

/* A signed zone's DNSKEY and SOA, and the SOA NODATA at its ns1. */
static void zone(struct seed *s, const char *z, const struct ts_key *k)
{
	struct ts_rr rr;
	struct ts_auth a;
	char ns1[CDS_DNAME_BUFSIZE], next[CDS_DNAME_BUFSIZE];
	ts_rr_dnskey(&rr, CDS_T_DNSKEY, k);
	rrset(s, z, z, CDS_T_DNSKEY, &rr, 1, k);
	ts_rr_soa(&rr, 1);
	rrset(s, z, z, CDS_T_SOA, &rr, 1, k);
	snprintf(ns1, sizeof(ns1), "ns1.%s", z);
	snprintf(next, sizeof(next), "zz.%s", z);
	nsec(&a, ns1, next, NSEC_A, 3);
	empty(s, z, ns1, CDS_T_SOA, 0, &a, 1, k);
}

/* The header: the name looked up, the mode, the anchor (test.'s DS). */
static void header(struct seed *s, const char *qname, unsigned mode)
{
	struct cds_ds ds;
	char txt[CDS_DS_TEXT_MAX];
	ts_key_ds(&k_test, "test.", 2, &ds);
	cds_ds_format(&ds, txt);
	s->len = (size_t)snprintf((char *)s->b, 300, "%s", qname) + 1;
	s->b[s->len++] = (uint8_t)mode;
	s->len += (size_t)snprintf((char *)s->b + s->len, 300, "test.") + 1;
	s->len += (size_t)snprintf((char *)s->b + s->len, 300, "%s", txt) + 1;
}

/* Every zone of the world. */
static void world(struct seed *s)
{
	struct ts_rr rr;
	struct ts_auth a;
	struct cds_ds ds;
	zone(s, "test.", &k_test);
	zone(s, "prov.test.", &k_prov);
	zone(s, "insec.test.", &k_insec);
	ts_key_ds(&k_prov, "prov.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	rrset(s, "test.", "prov.test.", CDS_T_DS, &rr, 1, &k_test);
	nsec(&a, "insec.test.", "plain.test.", NSEC_CUT, 3);
	empty(s, "test.", "insec.test.", CDS_T_DS, 0, &a, 1, &k_test);
	ts_rr_soa(&rr, 1);
	rrset(s, "plain.test.", "plain.test.", CDS_T_SOA, &rr, 1, NULL);
	empty(s, "plain.test.", "plain.test.", CDS_T_DNSKEY, 0, NULL, 0, NULL);
	empty(s, "plain.test.", "ns1.plain.test.", CDS_T_SOA, 0, NULL, 0, NULL);
	nsec(&a, "plain.test.", "prov.test.", NSEC_CUT, 3);
	empty(s, "test.", "plain.test.", CDS_T_DS, 0, &a, 1, &k_test);
}

static int save(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

/* The signal CDS (or CDNSKEY) of child.test. under ns1.prov.test. */
static void signal_present(struct seed *s, uint16_t type)
{
	struct ts_rr rr;
	struct cds_ds ds;
	if (type == CDS_T_CDS) {
		ts_key_ds(&k_child, "child.test.", 2, &ds);
		ts_rr_ds(&rr, CDS_T_CDS, &ds);
	} else {
		ts_rr_dnskey(&rr, CDS_T_CDNSKEY, &k_child);
	}
	rrset(s, "prov.test.", SIGNAL, type, &rr, 1, &k_prov);
}

/* The signal proven absent by an NSEC3 NODATA (iterations). */
static void signal_nsec3(struct seed *s, uint16_t iterations)
{
	struct ts_auth a;
	uint8_t h[20], next[20];
	static const uint8_t salt[] = {1};
	static const uint16_t types[] = {CDS_T_RRSIG};
	ts_nsec3_hash(SIGNAL, salt, 1, iterations, h);
	memcpy(next, h, 20);
	next[19] ^= 1;
	ts_nsec3_owner(h, "prov.test.", a.owner);
	ts_rr_nsec3(&a.rr, 0, iterations, salt, 1, next, types, 1);
	empty(s, "prov.test.", SIGNAL, CDS_T_CDS, 0, &a, 1, &k_prov);
}

int main(int argc, char **argv)
{
	struct seed *s = malloc(sizeof(*s));
	struct ts_auth a;
	struct ts_rr rr;
	struct cds_ds ds;
	int bad = 0;
	if (argc != 2 || !s || ts_key_new(&k_test, 257) || ts_key_new(&k_prov, 257) ||
	    ts_key_new(&k_insec, 257) || ts_key_new(&k_child, 257)) {
		fprintf(stderr, "usage: make_trust_seeds OUT_DIR\n");
		return 64;
	}
	header(s, SIGNAL, 0);
	world(s);
	signal_present(s, CDS_T_CDS);
	bad |= save(argv[1], "signal-cds.seed", s);

	header(s, SIGNAL, 2);
	world(s);
	signal_present(s, CDS_T_CDNSKEY);
	bad |= save(argv[1], "signal-cdnskey.seed", s);

	header(s, SIGNAL, 0);
	world(s);
	nsec(&a, "ns1.prov.test.", "zz.prov.test.", NSEC_A, 3);
	empty(s, "prov.test.", SIGNAL, CDS_T_CDS, 3, &a, 1, &k_prov);
	bad |= save(argv[1], "signal-nxdomain-nsec.seed", s);

	header(s, SIGNAL, 0);
	world(s);
	signal_nsec3(s, 1);
	bad |= save(argv[1], "signal-nodata-nsec3.seed", s);

	header(s, SIGNAL, 0);
	world(s);
	signal_nsec3(s, 500);
	bad |= save(argv[1], "signal-nsec3-iterations.seed", s);

	header(s, SIGNAL, 0);
	world(s);
	empty(s, "prov.test.", SIGNAL, CDS_T_CDS, 3, NULL, 0, &k_prov);
	bad |= save(argv[1], "signal-unproven.seed", s);

	header(s, "ns1.prov.test.", 1);
	world(s);
	bad |= save(argv[1], "zone-secure.seed", s);

	header(s, "ns1.insec.test.", 1);
	world(s);
	bad |= save(argv[1], "zone-insecure.seed", s);

	header(s, "ns1.plain.test.", 1);
	world(s);
	bad |= save(argv[1], "zone-unsigned.seed", s);

	/* The clock moves on past the TTL (4 x 97 s) and prov.test.'s DS
	 * has changed by then: the second look-up sees the new one. */
	header(s, "ns1.prov.test.", 1 | (4 << 2));
	world(s);
	signal_present(s, CDS_T_CDS);
	ts_key_ds(&k_insec, "prov.test.", 2, &ds);
	ts_rr_ds(&rr, CDS_T_DS, &ds);
	rrset(s, "test.", "prov.test.", CDS_T_DS, &rr, 1, &k_test);
	bad |= save(argv[1], "zone-ds-changes.seed", s);

	ts_key_free(&k_test);
	ts_key_free(&k_prov);
	ts_key_free(&k_insec);
	ts_key_free(&k_child);
	free(s);
	return bad;
}
