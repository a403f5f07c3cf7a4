/* Test helper: signed DNS answers made with OpenSSL (see testsign.h). */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "testsign.h"

struct cds_dnssec_work *ts_work(time_t now)
{
	static struct cds_dnssec_work w;
	cds_dnssec_work_init(&w, NULL, now);
	return &w;
}

int ts_key_new(struct ts_key *k, uint16_t flags)
{
	return ts_key_new_alg(k, flags, 13);
}

int ts_key_new_alg(struct ts_key *k, uint16_t flags, uint8_t algorithm)
{
	uint8_t pub[300];
	size_t publen = 0;
	memset(k, 0, sizeof(*k));
	k->rdata[0] = (uint8_t)(flags >> 8);
	k->rdata[1] = (uint8_t)flags;
	k->rdata[2] = 3;
	k->rdata[3] = algorithm;
	EVP_PKEY *p = NULL;
	if (algorithm == 13) {
		p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!p || !EVP_PKEY_get_octet_string_param(p, OSSL_PKEY_PARAM_PUB_KEY, pub,
							   sizeof(pub), &publen) ||
		    publen != 65)
			goto fail;
		memcpy(k->rdata + 4, pub + 1, 64); /* RFC 6605 §4: X || Y */
		k->rdlen = 68;
	} else if (algorithm == 15) {
		p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		publen = 32;
		if (!p || !EVP_PKEY_get_raw_public_key(p, k->rdata + 4, &publen) || publen != 32)
			goto fail;
		k->rdlen = 36;
	} else if (algorithm == 8) {
		return ts_key_new_rsa(k, flags, 2048, 65537);
	} else {
		return -1;
	}
	k->pkey = p;
	k->keytag = cds_dnskey_keytag(k->rdata, k->rdlen);
	return 0;
fail:
	EVP_PKEY_free(p);
	return -1;
}

int ts_key_new_rsa(struct ts_key *k, uint16_t flags, unsigned bits, uint64_t exponent)
{
	BIGNUM *n = NULL, *e = BN_new();
	EVP_PKEY *p = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	int r = -1;
	memset(k, 0, sizeof(*k));
	if (!ctx || !e || bits > 2048 || !BN_set_word(e, exponent) ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) <= 0 || EVP_PKEY_keygen(ctx, &p) <= 0 ||
	    !EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_N, &n))
		goto out;
	/* RFC 3110 §2: exponent length, exponent, modulus. */
	int el = BN_num_bytes(e), nl = BN_num_bytes(n);
	k->rdata[0] = (uint8_t)(flags >> 8);
	k->rdata[1] = (uint8_t)flags;
	k->rdata[2] = 3;
	k->rdata[3] = 8;
	k->rdata[4] = (uint8_t)el;
	BN_bn2bin(e, k->rdata + 5);
	BN_bn2bin(n, k->rdata + 5 + el);
	k->rdlen = 5 + (size_t)el + (size_t)nl;
	k->pkey = p;
	p = NULL;
	k->keytag = cds_dnskey_keytag(k->rdata, k->rdlen);
	r = 0;
out:
	EVP_PKEY_free(p);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return r;
}

void ts_key_free(struct ts_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

void ts_key_ds(const struct ts_key *k, const char *owner, uint8_t digest_type, struct cds_ds *out)
{
	cds_ds_from_dnskey(owner, k->rdata, k->rdlen, digest_type, out);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void ts_rr_raw(struct ts_rr *rr, uint16_t type, const void *rdata, size_t len)
{
	rr->type = type;
	memcpy(rr->rdata, rdata, len);
	rr->rdlen = len;
}

void ts_rr_dnskey(struct ts_rr *rr, uint16_t type, const struct ts_key *k)
{
	ts_rr_raw(rr, type, k->rdata, k->rdlen);
}

void ts_rr_ds(struct ts_rr *rr, uint16_t type, const struct cds_ds *ds)
{
	uint8_t b[4 + CDS_DS_DIGEST_MAX];
	b[0] = (uint8_t)(ds->keytag >> 8);
	b[1] = (uint8_t)ds->keytag;
	b[2] = ds->algorithm;
	b[3] = ds->digest_type;
	memcpy(b + 4, ds->digest, ds->digest_len);
	ts_rr_raw(rr, type, b, 4 + (size_t)ds->digest_len);
}


void ts_rr_name(struct ts_rr *rr, uint16_t type, const char *name)
{
	rr->type = type;
	rr->rdlen = (size_t)cds_dname_to_wire(name, rr->rdata);
}

void ts_rr_soa(struct ts_rr *rr, uint32_t serial)
{
	/* MNAME and RNAME the root, then serial, refresh, retry, expire and
	 * minimum (RFC 1035 §3.3.13). */
	memset(rr->rdata, 0, 22);
	put32(rr->rdata + 2, serial);
	rr->type = CDS_T_SOA;
	rr->rdlen = 22;
}

int ts_rr_addr(struct ts_rr *rr, const char *text)
{
	if (inet_pton(AF_INET, text, rr->rdata) == 1) {
		rr->type = CDS_T_A;
		rr->rdlen = 4;
	} else if (inet_pton(AF_INET6, text, rr->rdata) == 1) {
		rr->type = CDS_T_AAAA;
		rr->rdlen = 16;
	} else {
		return -1;
	}
	return 0;
}

/* The type bitmap of RFC 4034 §4.1.2 (windows in increasing order, each
 * as long as its last octet with a bit set) into out; returns its length. */
static size_t put_bitmap(uint8_t *out, const uint16_t *types, size_t n)
{
	uint8_t bits[256][32];
	int last[256];
	memset(bits, 0, sizeof(bits));
	for (int w = 0; w < 256; w++)
		last[w] = -1;
	for (size_t i = 0; i < n; i++) {
		int w = types[i] >> 8, o = (types[i] & 0xff) / 8;
		bits[w][o] |= (uint8_t)(0x80 >> (types[i] & 7));
		if (o > last[w])
			last[w] = o;
	}
	size_t len = 0;
	for (int w = 0; w < 256; w++) {
		if (last[w] < 0)
			continue;
		out[len] = (uint8_t)w;
		out[len + 1] = (uint8_t)(last[w] + 1);
		memcpy(out + len + 2, bits[w], (size_t)last[w] + 1);
		len += 2 + (size_t)last[w] + 1;
	}
	return len;
}

void ts_rr_csync(struct ts_rr *rr, uint32_t serial, uint16_t flags, const uint16_t *types,
		 size_t n)
{
	/* RFC 7477 §2.1.1: serial, flags, then the type bitmap. */
	put32(rr->rdata, serial);
	put16(rr->rdata + 4, flags);
	rr->type = CDS_T_CSYNC;
	rr->rdlen = 6 + put_bitmap(rr->rdata + 6, types, n);
}

void ts_rr_nsec(struct ts_rr *rr, const char *next, const uint16_t *types, size_t n)
{
	size_t len = (size_t)cds_dname_to_wire(next, rr->rdata);
	rr->type = CDS_T_NSEC;
	rr->rdlen = len + put_bitmap(rr->rdata + len, types, n);
}

void ts_rr_nsec3(struct ts_rr *rr, uint8_t flags, uint16_t iterations, const uint8_t *salt,
		 size_t saltlen, const uint8_t next[20], const uint16_t *types, size_t n)
{
	uint8_t *d = rr->rdata;
	d[0] = 1; /* SHA-1 */
	d[1] = flags;
	put16(d + 2, iterations);
	d[4] = (uint8_t)saltlen;
	memcpy(d + 5, salt, saltlen);
	d[5 + saltlen] = 20;
	memcpy(d + 6 + saltlen, next, 20);
	rr->type = CDS_T_NSEC3;
	rr->rdlen = 26 + saltlen + put_bitmap(d + 26 + saltlen, types, n);
}

void ts_nsec3_hash(const char *name, const uint8_t *salt, size_t saltlen, uint16_t iterations,
		   uint8_t out[20])
{
	uint8_t w[256], buf[256 + 255];
	size_t len = (size_t)cds_dname_to_wire(name, w);
	for (size_t i = 0; i < len; i++)
		if (w[i] >= 'A' && w[i] <= 'Z')
			w[i] = (uint8_t)(w[i] + 32);
	memcpy(buf, w, len);
	memcpy(buf + len, salt, saltlen);
	SHA1(buf, len + saltlen, out);
	for (unsigned k = 0; k < iterations; k++) {
		memcpy(buf, out, 20);
		memcpy(buf + 20, salt, saltlen);
		SHA1(buf, 20 + saltlen, out);
	}
}

void ts_nsec3_owner(const uint8_t hash[20], const char *zone, char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	size_t o = 0;
	/* 160 bits, 5 at a time. */
	for (unsigned bit = 0; bit < 160; bit += 5) {
		unsigned v = 0;
		for (unsigned k = 0; k < 5; k++)
			v = v << 1 | ((hash[(bit + k) / 8] >> (7 - (bit + k) % 8)) & 1);
		out[o++] = digits[v];
	}
	snprintf(out + o, CDS_DNAME_BUFSIZE - o, ".%s", zone);
}

static int cmp_rr(const void *x, const void *y)
{
	const struct ts_rr *a = x, *b = y;
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	int c = memcmp(a->rdata, b->rdata, n);
	return c ? c : (int)a->rdlen - (int)b->rdlen;
}

/* An owner and the zone that signs its records, in wire form. */
struct names {
	uint8_t owner[256];
	size_t olen;
	unsigned labels;
	uint8_t signer[256];
	size_t slen;
};

/* RRSIG rdata (RFC 4034 §3.1) over rrs (sorted canonically), signed by k. */
static size_t rrsig_rdata(uint8_t *out, const struct names *nm, uint16_t type, struct ts_rr *rrs,
			  size_t n, const struct ts_key *k, time_t inception, time_t expiration)
{
	const uint8_t *owner = nm->owner;
	size_t olen = nm->olen;
	size_t o = 0;
	put16(out, type);
	out[2] = k->rdata[3];
	out[3] = (uint8_t)nm->labels;
	put32(out + 4, 300);
	put32(out + 8, (uint32_t)expiration);
	put32(out + 12, (uint32_t)inception);
	put16(out + 16, k->keytag);
	memcpy(out + 18, nm->signer, nm->slen); /* RFC 4034 §3.1.7: the zone */
	o = 18 + nm->slen;
	/* Signed data: RRSIG rdata without signature, then each RR in
	 * canonical form and order (RFC 4034 §3.1.8.1, §6.3). */
	size_t need = o;
	for (size_t i = 0; i < n; i++)
		need += olen + 10 + rrs[i].rdlen;
	uint8_t *data = malloc(need);
	size_t d = 0;
	if (!data)
		abort();
	memcpy(data, out, o);
	d = o;
	qsort(rrs, n, sizeof(*rrs), cmp_rr);
	for (size_t i = 0; i < n; i++) {
		memcpy(data + d, owner, olen);
		d += olen;
		put16(data + d, type);
		put16(data + d + 2, 1);
		put32(data + d + 4, 300);
		put16(data + d + 8, (unsigned)rrs[i].rdlen);
		d += 10;
		memcpy(data + d, rrs[i].rdata, rrs[i].rdlen);
		d += rrs[i].rdlen;
	}
	uint8_t sigbuf[512];
	size_t siglen = sizeof(sigbuf);
	uint8_t alg = k->rdata[3];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestSignInit(ctx, NULL, alg == 15 ? NULL : EVP_sha256(), NULL, k->pkey);
	EVP_DigestSign(ctx, sigbuf, &siglen, data, d);
	EVP_MD_CTX_free(ctx);
	free(data);
	if (alg != 13) {
		memcpy(out + o, sigbuf, siglen); /* RSA (RFC 5702) and Ed25519 as made */
		return o + siglen;
	}
	/* DER ECDSA-Sig-Value to r || s (RFC 6605 §4). */
	const unsigned char *p = sigbuf;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, out + o, 32);
	BN_bn2binpad(s, out + o + 32, 32);
	ECDSA_SIG_free(sig);
	return o + 64;
}

/* The RRSIG labels field (RFC 4034 §3.1.3): the owner's labels, the
 * root and a leading wildcard label not counted. */
static unsigned owner_labels(const uint8_t *w)
{
	unsigned n = 0;
	for (size_t i = 0; w[i]; i += (size_t)w[i] + 1)
		n++;
	return (w[0] == 1 && w[1] == '*') ? n - 1 : n;
}

static size_t put_rr(uint8_t *m, size_t o, const uint8_t *owner, size_t olen, uint16_t type,
		     const uint8_t *rdata, size_t rdlen)
{
	memcpy(m + o, owner, olen);
	o += olen;
	put16(m + o, type);
	put16(m + o + 2, 1);
	put32(m + o + 4, 300);
	put16(m + o + 8, (unsigned)rdlen);
	o += 10;
	memcpy(m + o, rdata, rdlen);
	return o + rdlen;
}

size_t ts_answer(uint8_t *out, const char *owner, uint16_t qtype, int rcode,
		 const struct ts_rr *rrs, size_t n, const struct ts_key *const *signers,
		 size_t nsigners, time_t inception, time_t expiration)
{
	return ts_answer_zone(out, owner, owner, qtype, rcode, rrs, n, signers, nsigners,
			      inception, expiration);
}

size_t ts_answer_zone(uint8_t *out, const char *zone, const char *owner, uint16_t qtype,
		      int rcode, const struct ts_rr *rrs, size_t n,
		      const struct ts_key *const *signers, size_t nsigners, time_t inception,
		      time_t expiration)
{
	struct names nm;
	nm.olen = (size_t)cds_dname_to_wire(owner, nm.owner);
	nm.slen = (size_t)cds_dname_to_wire(zone, nm.signer);
	nm.labels = owner_labels(nm.owner);
	const uint8_t *ow = nm.owner;
	size_t olen = nm.olen;
	struct ts_rr sorted[64];
	if (n > sizeof(sorted) / sizeof(sorted[0]))
		abort(); /* a test asks for more than the helper holds */
	if (n)
		memcpy(sorted, rrs, n * sizeof(*rrs));
	memset(out, 0, 12);
	out[2] = 0x84; /* QR, AA */
	out[3] = (uint8_t)rcode;
	put16(out + 4, 1);
	put16(out + 6, (unsigned)(n + (n ? nsigners : 0)));
	size_t o = 12;
	memcpy(out + o, ow, olen);
	o += olen;
	put16(out + o, qtype);
	put16(out + o + 2, 1);
	o += 4;
	for (size_t i = 0; i < n; i++)
		o = put_rr(out, o, ow, olen, rrs[i].type, rrs[i].rdata, rrs[i].rdlen);
	for (size_t i = 0; n && i < nsigners; i++) {
		uint8_t sig[512];
		size_t sl = rrsig_rdata(sig, &nm, qtype, sorted, n, signers[i], inception,
					expiration);
		o = put_rr(out, o, ow, olen, CDS_T_RRSIG, sig, sl);
	}
	return o;
}

/* Header (QR, AA, rcode) and the question. */
static size_t put_question(uint8_t *out, const char *qname, uint16_t qtype, int rcode)
{
	memset(out, 0, 12);
	out[2] = 0x84; /* QR, AA */
	out[3] = (uint8_t)rcode;
	put16(out + 4, 1);
	size_t o = 12 + (size_t)cds_dname_to_wire(qname, out + 12);
	put16(out + o, qtype);
	put16(out + o + 2, 1);
	return o + 4;
}

/* One RRset of one record at owner, and an RRSIG by each signer. */
static size_t put_signed(uint8_t *out, size_t o, const char *zone, const char *owner,
			 const struct ts_rr *rr, const struct ts_key *const *signers,
			 size_t nsigners, time_t inception, time_t expiration, unsigned *count)
{
	struct names nm;
	struct ts_rr one = *rr;
	nm.olen = (size_t)cds_dname_to_wire(owner, nm.owner);
	nm.slen = (size_t)cds_dname_to_wire(zone, nm.signer);
	nm.labels = owner_labels(nm.owner);
	o = put_rr(out, o, nm.owner, nm.olen, rr->type, rr->rdata, rr->rdlen);
	for (size_t i = 0; i < nsigners; i++) {
		uint8_t sig[512];
		size_t sl = rrsig_rdata(sig, &nm, rr->type, &one, 1, signers[i], inception,
					expiration);
		o = put_rr(out, o, nm.owner, nm.olen, CDS_T_RRSIG, sig, sl);
	}
	*count += 1 + (unsigned)nsigners;
	return o;
}

size_t ts_answer_denial(uint8_t *out, const char *zone, const char *qname, uint16_t qtype,
			int rcode, const struct ts_auth *auth, size_t n,
			const struct ts_key *const *signers, size_t nsigners, time_t inception,
			time_t expiration)
{
	size_t o = put_question(out, qname, qtype, rcode);
	unsigned count = 0;
	struct ts_rr soa;
	ts_rr_soa(&soa, 1);
	o = put_signed(out, o, zone, zone, &soa, signers, nsigners, inception, expiration, &count);
	for (size_t i = 0; i < n; i++)
		o = put_signed(out, o, zone, auth[i].owner, &auth[i].rr, signers, nsigners, inception,
			       expiration, &count);
	put16(out + 8, count);
	return o;
}

void ts_rr_rsa_forged(struct ts_rr *rr, uint16_t type, uint16_t flags, unsigned bits,
		      unsigned exp_octets, int tag, unsigned seed)
{
	uint8_t *d = rr->rdata;
	size_t nlen = (bits + 7) / 8, o = 4;
	uint32_t x = seed * 2654435761u + 1;
	put16(d, flags);
	d[2] = 3;
	d[3] = 8;
	/* RFC 3110 §2: the exponent length in one octet, or 0 and two. */
	if (exp_octets < 256) {
		d[o++] = (uint8_t)exp_octets;
	} else {
		d[o++] = 0;
		put16(d + o, exp_octets);
		o += 2;
	}
	memset(d + o, 0, exp_octets);
	d[o] |= 1;
	d[o + exp_octets - 1] |= 1;
	o += exp_octets;
	for (size_t i = 0; i < nlen; i++) {
		x = x * 1103515245u + 12345u;
		d[o + i] = (uint8_t)(x >> 16);
	}
	if (bits % 8)
		d[o] &= (uint8_t)((1u << (bits % 8)) - 1);
	d[o] |= (uint8_t)(1u << ((bits - 1) % 8)); /* the top bit: bits bits */
	d[o + nlen - 1] |= 1;                       /* odd, as a modulus is */
	rr->type = type;
	rr->rdlen = o + nlen;
	if (tag < 0)
		return;
	/* Two octets in the middle of the modulus at an even offset of the
	 * rdata: the key tag's sum takes them as one 16-bit word. */
	size_t p = (o + nlen / 2) & ~(size_t)1;
	d[p] = d[p + 1] = 0;
	uint32_t ac0 = 0;
	for (size_t i = 0; i < rr->rdlen; i++)
		ac0 += (i & 1) ? d[i] : (uint32_t)d[i] << 8;
	for (uint32_t w = 0; w < 65536; w++) {
		uint32_t ac = ac0 + w;
		ac += (ac >> 16) & 0xFFFF;
		if ((ac & 0xFFFF) == (uint32_t)tag) {
			d[p] = (uint8_t)(w >> 8);
			d[p + 1] = (uint8_t)w;
			return;
		}
	}
}

int ts_rrset(struct cds_rrset *out, const char *zone, const char *owner, uint16_t type,
	     const struct ts_rr *rrs, size_t n, const struct ts_key *const *signers,
	     size_t nsigners, time_t inception, time_t expiration)
{
	struct names nm;
	struct ts_rr *sorted = malloc((n ? n : 1) * sizeof(*sorted));
	memset(out, 0, sizeof(*out));
	if (!sorted)
		return -1;
	memcpy(sorted, rrs, n * sizeof(*rrs));
	qsort(sorted, n, sizeof(*sorted), cmp_rr);
	nm.olen = (size_t)cds_dname_to_wire(owner, nm.owner);
	nm.slen = (size_t)cds_dname_to_wire(zone, nm.signer);
	nm.labels = owner_labels(nm.owner);
	memcpy(out->owner, nm.owner, nm.olen);
	out->owner_len = (uint16_t)nm.olen;
	out->type = type;
	out->present = true;
	out->rdata = calloc(n ? n : 1, sizeof(*out->rdata));
	out->sigs = calloc(nsigners ? nsigners : 1, sizeof(*out->sigs));
	if (!out->rdata || !out->sigs)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!(out->rdata[i].data = malloc(sorted[i].rdlen ? sorted[i].rdlen : 1)))
			goto fail;
		memcpy(out->rdata[i].data, sorted[i].rdata, sorted[i].rdlen);
		out->rdata[i].len = (uint16_t)sorted[i].rdlen;
		out->count++;
	}
	for (size_t i = 0; i < nsigners; i++) {
		uint8_t sig[1024];
		size_t sl =
			rrsig_rdata(sig, &nm, type, sorted, n, signers[i], inception, expiration);
		struct cds_rrsig *s = &out->sigs[out->sig_count];
		if (!(s->raw = malloc(sl)))
			goto fail;
		memcpy(s->raw, sig, sl);
		s->raw_len = (uint16_t)sl;
		s->key_tag = signers[i]->keytag;
		s->algorithm = signers[i]->rdata[3];
		s->inception = (uint32_t)inception;
		s->expiration = (uint32_t)expiration;
		out->sig_count++;
	}
	free(sorted);
	return 0;
fail:
	free(sorted);
	cds_rrset_clear(out);
	return -1;
}

int ts_rrset_forged_sig(struct cds_rrset *set, const char *zone, uint8_t alg, uint16_t tag,
			size_t siglen, time_t inception, time_t expiration)
{
	uint8_t signer[256];
	size_t sl = (size_t)cds_dname_to_wire(zone, signer);
	struct cds_rrsig *sigs = realloc(set->sigs, (set->sig_count + 1) * sizeof(*sigs));
	if (!sigs)
		return -1;
	set->sigs = sigs;
	uint8_t *raw = malloc(18 + sl + siglen);
	if (!raw)
		return -1;
	put16(raw, set->type);
	raw[2] = alg;
	raw[3] = (uint8_t)owner_labels(set->owner);
	put32(raw + 4, 300);
	put32(raw + 8, (uint32_t)expiration);
	put32(raw + 12, (uint32_t)inception);
	put16(raw + 16, tag);
	memcpy(raw + 18, signer, sl);
	/* Each forged signature differs (as a KeyTrap zone's do) and starts
	 * with 0x01: below any modulus of its length. */
	for (size_t i = 0; i < siglen; i++)
		raw[18 + sl + i] = (uint8_t)(i * 31 + set->sig_count * 7 + 1);
	raw[18 + sl] = 0x01;
	sigs[set->sig_count++] = (struct cds_rrsig){.key_tag = tag,
						     .algorithm = alg,
						     .inception = (uint32_t)inception,
						     .expiration = (uint32_t)expiration,
						     .raw_len = (uint16_t)(18 + sl + siglen),
						     .raw = raw};
	return 0;
}
