/* Writes seeds for fuzz_answer whose empty answers carry denials of
 * existence the lab's zones (NSEC-signed by ldns-signzone) do not serve:
 * NSEC3 NODATA and name errors with and without opt-out, and NSEC wildcard
 * NODATA, signed in-process (testsign) and valid at a fixed time.  Keys are
 * made anew on every run, so the files differ from run to run but not in
 * kind.  Usage: make_denial_seeds OUT_DIR */
#include <stdio.h>
#include <string.h>

#include "cdscan/dns.h"
#include "testsign.h"

#define NOW ((time_t)1800000000)
#define INC (NOW - 86400)
#define EXP (NOW + 30 * 86400)

static struct ts_key ksk, zsk;
static const uint8_t SALT[] = {0xAB};
#define ITER 1

struct seed {
	uint8_t b[65536];
	size_t len;
};

static void put_msg(struct seed *s, const uint8_t *m, size_t len)
{
	s->b[s->len++] = (uint8_t)(len >> 8);
	s->b[s->len++] = (uint8_t)len;
	memcpy(s->b + s->len, m, len);
	s->len += len;
}

/* The seed's header: domain, the KSK's DS, the time. */
static void header(struct seed *s, const char *zone)
{
	struct cds_ds ds;
	char txt[CDS_DS_TEXT_MAX];
	ts_key_ds(&ksk, zone, 2, &ds);
	cds_ds_format(&ds, txt);
	s->len = (size_t)snprintf((char *)s->b, 512, "%s%c%s%c", zone, 0, txt, 0);
	for (int i = 3; i >= 0; i--)
		s->b[s->len++] = (uint8_t)((uint32_t)NOW >> (8 * i));
}

/* A positive answer at owner in zone, signed by the ZSK (the DNSKEY RRset
 * by the KSK). */
static void positive(struct seed *s, const char *zone, const char *owner, uint16_t type,
		     const struct ts_rr *rrs, size_t n)
{
	uint8_t m[4096];
	const struct ts_key *signer[] = {type == CDS_T_DNSKEY ? &ksk : &zsk};
	put_msg(s, m, ts_answer_zone(m, zone, owner, type, 0, rrs, n, signer, 1, INC, EXP));
}

static void negative(struct seed *s, const char *zone, const char *qname, uint16_t type,
		     int rcode, const struct ts_auth *auth, size_t n)
{
	uint8_t m[4096];
	const struct ts_key *signer[] = {&zsk};
	put_msg(s, m, ts_answer_denial(m, zone, qname, type, rcode, auth, n, signer, 1, INC, EXP));
}

/* An NSEC3 matching name, or covering it (a span of three hashes). */
static void nsec3(struct ts_auth *a, const char *zone, const char *name, bool match,
		  uint8_t flags, const uint16_t *types, size_t n)
{
	uint8_t h[20], owner[20], next[20];
	ts_nsec3_hash(name, SALT, sizeof(SALT), ITER, h);
	memcpy(owner, h, 20);
	memcpy(next, h, 20);
	next[19] = (uint8_t)(next[19] + 1);
	if (!match)
		owner[19] = (uint8_t)(owner[19] - 1);
	ts_nsec3_owner(owner, zone, a->owner);
	ts_rr_nsec3(&a->rr, flags, ITER, SALT, sizeof(SALT), next, types, n);
}

/* SOA, DNSKEY, CDNSKEY, CSYNC and NS at the apex; CDS as empty (its
 * denial given). */
static void apex(struct seed *s, const char *zone, const struct ts_auth *cds_denial, size_t n)
{
	struct ts_rr rr[2];
	char ns1[CDS_DNAME_BUFSIZE];
	static const uint16_t csync[] = {CDS_T_NS, CDS_T_A, CDS_T_AAAA};
	snprintf(ns1, sizeof(ns1), "ns1.%s", zone);
	ts_rr_soa(&rr[0], 2026120101);
	positive(s, zone, zone, CDS_T_SOA, rr, 1);
	ts_rr_dnskey(&rr[0], CDS_T_DNSKEY, &ksk);
	ts_rr_dnskey(&rr[1], CDS_T_DNSKEY, &zsk);
	positive(s, zone, zone, CDS_T_DNSKEY, rr, 2);
	negative(s, zone, zone, CDS_T_CDS, 0, cds_denial, n);
	ts_rr_dnskey(&rr[0], CDS_T_CDNSKEY, &ksk);
	positive(s, zone, zone, CDS_T_CDNSKEY, rr, 1);
	ts_rr_csync(&rr[0], 2026120101, 1, csync, 3);
	positive(s, zone, zone, CDS_T_CSYNC, rr, 1);
	ts_rr_name(&rr[0], CDS_T_NS, ns1);
	positive(s, zone, zone, CDS_T_NS, rr, 1);
}

static int write_seed(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->len, f) != s->len) {
		perror(path);
		return 1;
	}
	return fclose(f) != 0;
}

/* nsec3.test.: the CDS denied by the apex's NSEC3; ns1.'s AAAA by its
 * NSEC3 (NODATA) at the first server; at the second, ns1.'s A and AAAA
 * as name errors (RFC 5155 §7.2.2), the A's next closer span opt-out. */
static void nsec3_seed(struct seed *s)
{
	static const char *z = "nsec3.test.";
	static const uint16_t at_apex[] = {CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_DNSKEY, 51,
					   CDS_T_CDNSKEY, CDS_T_CSYNC};
	static const uint16_t at_ns1[] = {CDS_T_A, CDS_T_RRSIG};
	struct ts_auth a[3];
	struct ts_rr rr[1];
	header(s, z);
	nsec3(&a[0], z, z, true, 0, at_apex, 7);
	apex(s, z, a, 1);
	apex(s, z, a, 1);
	ts_rr_name(&rr[0], CDS_T_NS, "ns1.nsec3.test.");
	positive(s, z, z, CDS_T_NS, rr, 1);
	ts_rr_addr(&rr[0], "192.0.2.1");
	positive(s, z, "ns1.nsec3.test.", CDS_T_A, rr, 1);
	nsec3(&a[1], z, "ns1.nsec3.test.", true, 0, at_ns1, 2);
	negative(s, z, "ns1.nsec3.test.", CDS_T_AAAA, 0, a + 1, 1);
	ts_rr_name(&rr[0], CDS_T_NS, "ns1.nsec3.test.");
	positive(s, z, z, CDS_T_NS, rr, 1);
	nsec3(&a[1], z, "ns1.nsec3.test.", false, 1, NULL, 0);
	nsec3(&a[2], z, "*.nsec3.test.", false, 0, NULL, 0);
	negative(s, z, "ns1.nsec3.test.", CDS_T_A, 3, a, 3);
	a[1].rr.rdata[1] = 0; /* the same span without opt-out (re-signed) */
	negative(s, z, "ns1.nsec3.test.", CDS_T_AAAA, 3, a, 3);
}

/* nsec.test.: ns1.'s A and AAAA denied by a wildcard that has neither
 * (RFC 4035 §3.1.3.4): the NSEC covering ns1. and the wildcard's. */
static void nsec_seed(struct seed *s)
{
	static const char *z = "nsec.test.";
	static const uint16_t at_apex[] = {CDS_T_NS, CDS_T_SOA, CDS_T_RRSIG, CDS_T_NSEC,
					   CDS_T_DNSKEY, CDS_T_CDNSKEY, CDS_T_CSYNC};
	static const uint16_t at_wild[] = {16, CDS_T_RRSIG, CDS_T_NSEC};
	static const uint16_t at_mail[] = {CDS_T_A, CDS_T_RRSIG, CDS_T_NSEC};
	struct ts_auth a[2];
	struct ts_rr rr[1];
	header(s, z);
	snprintf(a[0].owner, sizeof(a[0].owner), "%s", z);
	ts_rr_nsec(&a[0].rr, "*.nsec.test.", at_apex, 7);
	apex(s, z, a, 1);
	apex(s, z, a, 1);
	snprintf(a[0].owner, sizeof(a[0].owner), "mail.nsec.test.");
	ts_rr_nsec(&a[0].rr, "www.nsec.test.", at_mail, 3);
	snprintf(a[1].owner, sizeof(a[1].owner), "*.nsec.test.");
	ts_rr_nsec(&a[1].rr, "mail.nsec.test.", at_wild, 3);
	for (int server = 0; server < 2; server++) {
		ts_rr_name(&rr[0], CDS_T_NS, "ns1.nsec.test.");
		positive(s, z, z, CDS_T_NS, rr, 1);
		negative(s, z, "ns1.nsec.test.", CDS_T_A, 0, a, 2);
		negative(s, z, "ns1.nsec.test.", CDS_T_AAAA, 0, a, 2);
	}
}

int main(int argc, char **argv)
{
	static struct seed s;
	if (argc != 2) {
		fprintf(stderr, "usage: make_denial_seeds OUT_DIR\n");
		return 2;
	}
	if (ts_key_new(&ksk, 257) != 0 || ts_key_new(&zsk, 256) != 0)
		return 1;
	int r = 0;
	nsec3_seed(&s);
	r |= write_seed(argv[1], "denial-nsec3.test", &s);
	nsec_seed(&s);
	r |= write_seed(argv[1], "denial-nsec.test", &s);
	ts_key_free(&ksk);
	ts_key_free(&zsk);
	return r;
}
