/* keytrap_bench: the CPU one hostile RRset costs the validator (issue #16,
 * CVE-2023-50387 "KeyTrap"), measured, never asserted (the unit tests count
 * verifications instead: tests/unit/dns/test_limits.c).
 *
 * A DNSKEY RRset of K RSA keys nobody holds, all with one key tag, and a
 * CDS RRset with S RRSIGs naming that tag, checked with cds_dnssec_verify
 * (the DNSKEY RRset taken as authenticated, as the policy memo does after
 * its first validation).  Self-contained on purpose: it builds against
 * this tree and against a tree from before the limits (the older
 * cds_dnssec_verify took the clock, not a work struct), so that "before"
 * is measured, not estimated:
 *
 *     keytrap_bench [--keys K] [--sigs S] [--bits B] [--exp-octets E]
 *                   [--rrsets N] [--reps R] [--lifted]
 *
 * --rrsets N checks the set N times in one run (one delegation's budget:
 * a hostile zone serves such a set for every type at every address).
 * --lifted (this tree only) lifts every limit the defaults set, which is
 * the validator as the issue found it (every key x RRSIG pair tried).
 * Prints one line: verifications, status, CPU ms per run. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/dns.h"

#define ZONE "example.test."
#define NOW ((time_t)1800000000)

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xFFFF);
}

/* An RSASHA256 DNSKEY nobody holds: bits of modulus, an exponent of
 * exp_octets octets (odd, every bit position used: as costly as its
 * length allows, and below the modulus, which OpenSSL requires),
 * key tag tag (two middle octets of the modulus chosen for it). */
static struct cds_rdata forged_key(unsigned bits, unsigned exp_octets, uint16_t tag, unsigned seed)
{
	size_t nlen = bits / 8, o = 4;
	uint8_t *d = malloc(4 + 3 + exp_octets + nlen);
	uint32_t x = seed * 2654435761u + 1;
	put16(d, 256);
	d[2] = 3;
	d[3] = 8;
	if (exp_octets < 256) {
		d[o++] = (uint8_t)exp_octets;
	} else {
		d[o++] = 0;
		put16(d + o, exp_octets);
		o += 2;
	}
	for (size_t i = 0; i < exp_octets + nlen; i++) {
		x = x * 1103515245u + 12345u;
		d[o + i] = (uint8_t)(x >> 16);
	}
	d[o] = exp_octets > 1 ? 0x7F : 0xFF; /* below the modulus: OpenSSL refuses e >= n */
	d[o + exp_octets - 1] |= 1;
	o += exp_octets;
	d[o] = 0xFF;
	d[o + nlen - 1] |= 1;
	size_t len = o + nlen, p = (o + nlen / 2) & ~(size_t)1;
	d[p] = d[p + 1] = 0;
	uint32_t ac0 = 0;
	for (size_t i = 0; i < len; i++)
		ac0 += (i & 1) ? d[i] : (uint32_t)d[i] << 8;
	for (uint32_t w = 0; w < 65536; w++) {
		uint32_t ac = ac0 + w;
		ac += (ac >> 16) & 0xFFFF;
		if ((ac & 0xFFFF) == tag) {
			put16(d + p, w);
			break;
		}
	}
	return (struct cds_rdata){.len = (uint16_t)len, .data = d};
}

/* An RRSIG over type at ZONE naming tag, its signature siglen octets of
 * nothing (below any modulus of that length: RSA does all its work). */
static struct cds_rrsig forged_sig(uint16_t type, uint16_t tag, size_t siglen, unsigned seed)
{
	uint8_t zone[256];
	size_t zl = (size_t)cds_dname_to_wire(ZONE, zone);
	uint8_t *r = malloc(18 + zl + siglen);
	put16(r, type);
	r[2] = 8;
	r[3] = 2;
	put32(r + 4, 300);
	put32(r + 8, (uint32_t)(NOW + 86400));
	put32(r + 12, (uint32_t)(NOW - 3600));
	put16(r + 16, tag);
	memcpy(r + 18, zone, zl);
	for (size_t i = 0; i < siglen; i++)
		r[18 + zl + i] = (uint8_t)(i * 31 + seed * 7 + 1);
	r[18 + zl] = 0x01;
	return (struct cds_rrsig){.key_tag = tag,
				  .algorithm = 8,
				  .inception = (uint32_t)(NOW - 3600),
				  .expiration = (uint32_t)(NOW + 86400),
				  .raw_len = (uint16_t)(18 + zl + siglen),
				  .raw = r};
}

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	unsigned keys = 30, sigs = 30, bits = 3072, exp_octets = 384, reps = 1, rrsets = 1;
	int lifted = 0;
	static const struct option opts[] = {
		{"keys", required_argument, NULL, 'k'},  {"sigs", required_argument, NULL, 's'},
		{"bits", required_argument, NULL, 'b'},  {"exp-octets", required_argument, NULL, 'e'},
		{"reps", required_argument, NULL, 'r'},  {"lifted", no_argument, NULL, 'l'},
		{"rrsets", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0}};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		unsigned v = optarg ? (unsigned)strtoul(optarg, NULL, 10) : 0;
		switch (c) {
		case 'k': keys = v; break;
		case 's': sigs = v; break;
		case 'b': bits = v; break;
		case 'e': exp_octets = v; break;
		case 'r': reps = v ? v : 1; break;
		case 'l': lifted = 1; break;
		case 'n': rrsets = v ? v : 1; break;
		default: return 64;
		}
	}
	const uint16_t tag = 12345;
	struct cds_rrset dnskey = {.type = CDS_T_DNSKEY, .present = true, .count = keys};
	struct cds_rrset cds = {.type = CDS_T_CDS, .present = true, .count = 1, .sig_count = sigs};
	uint8_t ds[4 + 32] = {0x30, 0x39, 8, 2};
	dnskey.owner_len = cds.owner_len = (uint16_t)cds_dname_to_wire(ZONE, dnskey.owner);
	memcpy(cds.owner, dnskey.owner, dnskey.owner_len);
	dnskey.rdata = calloc(keys, sizeof(*dnskey.rdata));
	for (unsigned i = 0; i < keys; i++)
		dnskey.rdata[i] = forged_key(bits, exp_octets, tag, i + 1);
	cds.rdata = &(struct cds_rdata){.len = sizeof(ds), .data = ds};
	cds.sigs = calloc(sigs, sizeof(*cds.sigs));
	for (unsigned i = 0; i < sigs; i++)
		cds.sigs[i] = forged_sig(CDS_T_CDS, tag, bits / 8, i);

	enum cds_dnssec_status st = CDS_DNSSEC_ERROR;
	long verifications = -1;
	const char *limit = "";
	double t0 = cpu_ms();
	for (unsigned r = 0; r < reps; r++) {
#ifdef CDS_LIMIT_TEXT_MAX
		static struct cds_dnssec_work w;
		struct cds_dnssec_limits l = cds_dnssec_limits_default;
		if (lifted) {
			l.keys_per_tag = l.rrsigs_tried = l.verifications_per_rrset = 1000000;
			l.verifications_per_delegation = 1000000;
			l.dnskeys_per_rrset = 1000000;
			l.rsa_min_bits = 0;
			l.rsa_max_bits = 1000000;
			l.rsa_max_exponent_octets = 1000000;
		}
		cds_dnssec_work_init(&w, &l, NOW);
		for (unsigned n = 0; n < rrsets; n++)
			st = cds_dnssec_verify(ZONE, &cds, &dnskey, &w);
		verifications = (long)w.verifications;
		limit = w.limit;
#else
		(void)lifted;
		for (unsigned n = 0; n < rrsets; n++)
			st = cds_dnssec_verify(ZONE, &cds, &dnskey, NOW);
#endif
	}
	double ms = (cpu_ms() - t0) / reps;
	printf("keys %u sigs %u bits %u exponent %u octets rrsets %u%s: status %d, "
	       "verifications %ld, %.3f ms CPU%s%s\n",
	       keys, sigs, bits, exp_octets, rrsets, lifted ? " (limits lifted)" : "", st,
	       verifications, ms, limit[0] ? "; " : "", limit);
	for (unsigned i = 0; i < keys; i++)
		free(dnskey.rdata[i].data);
	for (unsigned i = 0; i < sigs; i++)
		free(cds.sigs[i].raw);
	free(dnskey.rdata);
	free(cds.sigs);
	return 0;
}
