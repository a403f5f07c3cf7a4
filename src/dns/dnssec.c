/*
 * DNSSEC validation of one RRset against a DS set (RFC 4035 §5.2, §5.3):
 * the signed data built in the RFC 4034 §6 canonical form, the signatures
 * verified by OpenSSL (EVP).
 *
 * cdscan validated through getdns_validate_dnssec2 until the benchmark
 * (bench/RESULTS.md): its verification ran at about a third of the rate of
 * OpenSSL's own EVP path on the same keys and took 38% of the scan's CPU.
 * What is written here is only the canonical form and the choice of key;
 * every cryptographic step is OpenSSL's.  getdns's validator remains the
 * oracle: tests/fuzz/fuzz_answer.c and tests/unit/dns compare both on lab
 * answers and on mutated ones, and cdscan must never call SECURE what
 * getdns does not.
 */
#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

/*
 * The most signature verifications (OpenSSL calls) one RRset's validation
 * may cost.  A key tag picks the key an RRSIG names, but tags collide, and
 * a message may carry many RRSIGs: without a bound, keys sharing a tag
 * times signatures makes one answer cost minutes of CPU (CVE-2023-50387,
 * "KeyTrap").  16 covers every real RRset (a multi-signer DNSKEY RRset has
 * one RRSIG per provider); another issue makes it configurable.
 */
#define MAX_VERIFY_PER_RRSET 16

bool cds_dnssec_algorithm_supported(uint8_t alg)
{
	switch (alg) {
	case 5:  /* RSASHA1 */
	case 7:  /* RSASHA1-NSEC3-SHA1 */
	case 8:  /* RSASHA256 */
	case 10: /* RSASHA512 */
	case 13: /* ECDSAP256SHA256 */
	case 14: /* ECDSAP384SHA384 */
	case 15: /* ED25519 */
	case 16: /* ED448 */
		return true;
	default:
		return false;
	}
}

static bool digest_supported(uint8_t t)
{
	return t == 1 || t == 2 || t == 4;
}

/*
 * The curve of ECDSA algorithm 13 (P-256) or 14 (P-384) as a parameters-only
 * key, made once: a public key copied from it and given its point costs 5
 * microseconds, where EVP_PKEY_fromdata with the curve's name costs 18 (it
 * builds the group each time; measured with OpenSSL 3.0 on the benchmark
 * machine, against 59 for the verification itself).
 */
static EVP_PKEY *curve(uint8_t alg)
{
	static EVP_PKEY *made[2];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	EVP_PKEY **slot = &made[alg == 14];
	pthread_mutex_lock(&lock);
	if (!*slot) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
					       (char *)(alg == 13 ? "P-256" : "P-384"), 0),
			OSSL_PARAM_END};
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (ctx && EVP_PKEY_fromdata_init(ctx) > 0)
			EVP_PKEY_fromdata(ctx, slot, EVP_PKEY_KEY_PARAMETERS, params);
		EVP_PKEY_CTX_free(ctx);
	}
	pthread_mutex_unlock(&lock);
	return *slot;
}

/* An EVP_PKEY from DNSKEY public key material (RFC 3110, RFC 6605,
 * RFC 8080), or NULL. */
static EVP_PKEY *public_key(uint8_t alg, const uint8_t *k, size_t len)
{
	EVP_PKEY *pkey = NULL;
	switch (alg) {
	case 13:
	case 14: {
		size_t want = alg == 13 ? 64 : 96;
		uint8_t point[1 + 96];
		EVP_PKEY *group = curve(alg);
		if (len != want || !group)
			return NULL;
		point[0] = 0x04; /* uncompressed (SEC 1 §2.3.3) */
		memcpy(point + 1, k, len);
		/* OpenSSL checks that the point is on the curve. */
		if (!(pkey = EVP_PKEY_new()) || EVP_PKEY_copy_parameters(pkey, group) != 1 ||
		    EVP_PKEY_set1_encoded_public_key(pkey, point, len + 1) != 1) {
			EVP_PKEY_free(pkey);
			return NULL;
		}
		return pkey;
	}
	case 15:
	case 16:
		if (len != (alg == 15 ? 32u : 57u))
			return NULL;
		return EVP_PKEY_new_raw_public_key(alg == 15 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448,
						   NULL, k, len);
	default: {
		/* RSA: exponent length (1 octet, or 0 and 2 octets), exponent,
		 * modulus. */
		size_t el, o;
		if (len < 3)
			return NULL;
		if (k[0] != 0) {
			el = k[0];
			o = 1;
		} else {
			el = (size_t)k[1] << 8 | k[2];
			o = 3;
		}
		if (el == 0 || o + el >= len)
			return NULL;
		BIGNUM *e = BN_bin2bn(k + o, (int)el, NULL);
		BIGNUM *n = BN_bin2bn(k + o + el, (int)(len - o - el), NULL);
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *params = NULL;
		EVP_PKEY_CTX *ctx = NULL;
		if (e && n && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
		    (params = OSSL_PARAM_BLD_to_param(bld)) &&
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
		    EVP_PKEY_fromdata_init(ctx) > 0)
			EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
		EVP_PKEY_CTX_free(ctx);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
		BN_free(e);
		BN_free(n);
		return pkey;
	}
	}
}

static const EVP_MD *sig_digest(uint8_t alg)
{
	switch (alg) {
	case 5:
	case 7:
		return EVP_sha1();
	case 8:
	case 13:
		return EVP_sha256();
	case 10:
		return EVP_sha512();
	case 14:
		return EVP_sha384();
	default:
		return NULL; /* EdDSA: no separate digest */
	}
}

/* Verify sig over data with the key of DNSKEY rdata key. */
static bool verify(const uint8_t *key, size_t keylen, uint8_t alg, const uint8_t *sig,
		   size_t siglen, const uint8_t *data, size_t datalen)
{
	uint8_t der[2 * 48 + 16];
	EVP_PKEY *pkey = public_key(alg, key + 4, keylen - 4);
	if (!pkey)
		return false;
	if (alg == 13 || alg == 14) {
		/* RFC 6605 §4: r and s, each the size of the curve; OpenSSL
		 * wants a DER ECDSA-Sig-Value. */
		size_t half = alg == 13 ? 32 : 48;
		if (siglen != 2 * half) {
			/* Checked before r and s are read: a short signature must
			 * not make BN_bin2bn read past it. */
			EVP_PKEY_free(pkey);
			return false;
		}
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
		int dl = -1;
		if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
			r = s = NULL; /* owned by es */
			uint8_t *p = der;
			dl = i2d_ECDSA_SIG(es, &p);
		}
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		if (dl <= 0) {
			EVP_PKEY_free(pkey);
			return false;
		}
		sig = der;
		siglen = (size_t)dl;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, sig_digest(alg), NULL, pkey) == 1 &&
		  EVP_DigestVerify(ctx, sig, siglen, data, datalen) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* Labels of a wire-form name, the root not counted. */
static unsigned label_count(const uint8_t *w, size_t len)
{
	unsigned n = 0;
	for (size_t i = 0; i < len && w[i] != 0; i += (size_t)w[i] + 1)
		n++;
	return n;
}

/* Length of the uncompressed wire name at w (at most max octets), 0 if none. */
static size_t name_len(const uint8_t *w, size_t max)
{
	size_t i = 0;
	while (i < max && w[i] != 0 && w[i] < 64)
		i += (size_t)w[i] + 1;
	return i < max && w[i] == 0 ? i + 1 : 0;
}

static bool serial_le(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) >= 0; /* RFC 1982 */
}

/* Is the wire name w (lower case) zone or below it?  RFC 4035 §5.3.1: an
 * RRset is signed by the zone that holds it. */
static bool in_zone(const uint8_t *w, size_t len, const uint8_t *zone, size_t zlen)
{
	for (size_t i = 0; i < len && len - i >= zlen; i += (size_t)w[i] + 1)
		if (len - i == zlen && memcmp(w + i, zone, zlen) == 0)
			return true;
	return false;
}

/*
 * Does sig (an RRSIG of set) verify with key (DNSKEY rdata) of zone (wire,
 * lower case), at now?  The signed data is RFC 4034 §3.1.8.1: the RRSIG
 * rdata without the signature, then every record in canonical order as
 * owner | type | class | original TTL | rdlength | rdata.  Each call that
 * gets as far as OpenSSL costs one of *budget; none is left: false.
 */
static bool sig_verifies(const struct cds_rrset *set, const struct cds_rrsig *sig,
			 const uint8_t *key, size_t keylen, const uint8_t *zone, size_t zlen,
			 time_t now, unsigned *budget)
{
	const uint8_t *r = sig->raw;
	if (keylen <= 4 || sig->raw_len <= 18 || (uint16_t)(r[0] << 8 | r[1]) != set->type ||
	    r[2] != key[3] || sig->key_tag != cds_dnskey_keytag(key, keylen))
		return false;
	size_t sl = name_len(r + 18, sig->raw_len - 18u);
	if (sl == 0 || sl != zlen || memcmp(r + 18, zone, zlen) != 0 || 18 + sl >= sig->raw_len ||
	    !in_zone(set->owner, set->owner_len, zone, zlen))
		return false;
	uint32_t t = (uint32_t)now;
	if (!serial_le(sig->inception, t) || !serial_le(t, sig->expiration))
		return false;

	/* A wildcard expansion (the RRSIG counts fewer labels than the owner)
	 * is authentic only with a proof that no closer name exists (RFC 4035
	 * §5.3.4), which cdscan does not ask for: not accepted.  Every name
	 * cdscan validates is the zone apex or an RFC 9615 signal name, or
	 * the owner of an NSEC; one at a wildcard name itself ("*.example.")
	 * does not count its "*" label (RFC 4034 §3.1.3) and is no expansion. */
	unsigned owner_labels = label_count(set->owner, set->owner_len);
	if (set->owner_len > 2 && set->owner[0] == 1 && set->owner[1] == '*')
		owner_labels--;
	if (r[3] != owner_labels)
		return false;
	const uint8_t *owner = set->owner;
	size_t olen = set->owner_len;

	size_t total = 18 + sl;
	for (size_t i = 0; i < set->count; i++)
		total += olen + 10 + set->rdata[i].len;
	uint8_t *data = *budget > 0 ? malloc(total) : NULL;
	if (!data)
		return false;
	(*budget)--;
	memcpy(data, r, 18 + sl);
	size_t p = 18 + sl;
	for (size_t i = 0; i < set->count; i++) {
		memcpy(data + p, owner, olen);
		p += olen;
		data[p++] = (uint8_t)(set->type >> 8);
		data[p++] = (uint8_t)set->type;
		data[p++] = 0;
		data[p++] = 1; /* class IN */
		memcpy(data + p, r + 4, 4); /* original TTL */
		p += 4;
		data[p++] = (uint8_t)(set->rdata[i].len >> 8);
		data[p++] = (uint8_t)set->rdata[i].len;
		memcpy(data + p, set->rdata[i].data, set->rdata[i].len);
		p += set->rdata[i].len;
	}
	bool ok = verify(key, keylen, r[2], r + 18 + sl, sig->raw_len - 18u - sl, data, total);
	free(data);
	return ok;
}

/* A DNSKEY that may sign zone data: zone key flag, protocol 3, an
 * algorithm cdscan verifies (RFC 4034 §2.1.1, §2.1.2), and not revoked: a
 * key with the REVOKE flag never authenticates anything again, neither as
 * the key a DS points to nor as a signer (RFC 5011 §3; it signs the DNSKEY
 * RRset only to announce its revocation). */
static bool zone_key(const struct cds_rdata *k)
{
	if (k->len <= 4)
		return false;
	unsigned flags = (unsigned)(k->data[0] << 8 | k->data[1]);
	return (flags & CDS_DNSKEY_ZONE) && !(flags & CDS_DNSKEY_REVOKE) && k->data[2] == 3 &&
	       cds_dnssec_algorithm_supported(k->data[3]);
}

/* The index in keys of a zone key (one that passes accept; NULL: any)
 * with which an RRSIG of set verifies, or -1.  At most
 * MAX_VERIFY_PER_RRSET verifications. */
static long signed_by(const struct cds_rrset *set, const struct cds_rrset *keys,
		      const bool *accept, const uint8_t *zone, size_t zlen, time_t now)
{
	unsigned budget = MAX_VERIFY_PER_RRSET;
	for (size_t s = 0; s < set->sig_count && budget > 0; s++)
		for (size_t k = 0; k < keys->count; k++)
			if ((!accept || accept[k]) && zone_key(&keys->rdata[k]) &&
			    sig_verifies(set, &set->sigs[s], keys->rdata[k].data, keys->rdata[k].len,
					 zone, zlen, now, &budget))
				return (long)k;
	return -1;
}

static int zone_wire(const char *zone, uint8_t out[256])
{
	int n = cds_dname_to_wire(zone, out);
	for (int i = 0; i < n; i++)
		out[i] = (uint8_t)tolower(out[i]);
	return n;
}

enum cds_dnssec_status cds_dnssec_verify(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, time_t now)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	if (zl < 0)
		return CDS_DNSSEC_ERROR;
	if (set->count == 0 || set->sig_count == 0)
		return CDS_DNSSEC_INSECURE;
	return signed_by(set, dnskey, NULL, z, (size_t)zl, now) >= 0 ? CDS_DNSSEC_SECURE
								     : CDS_DNSSEC_BOGUS;
}

/*
 * RFC 4035 §5.2: the keys of dnskey that a DS of ds[0..n) matches (key
 * tag, algorithm, digest) into match[] (dnskey->count entries, false
 * where none does), among the DS records cdscan can use.  Returns whether
 * there was any such DS (RFC 6840 §5.2: none usable makes the zone
 * insecure).
 */
static bool ds_match(const char *zone, const struct cds_rrset *dnskey, const struct cds_ds *ds,
		     size_t n, bool *match)
{
	bool usable = false;
	for (size_t i = 0; i < n; i++) {
		if (!cds_dnssec_algorithm_supported(ds[i].algorithm) ||
		    !digest_supported(ds[i].digest_type))
			continue;
		usable = true;
		for (size_t k = 0; k < dnskey->count; k++) {
			const struct cds_rdata *key = &dnskey->rdata[k];
			struct cds_ds got;
			if (match[k] || !zone_key(key) || key->data[3] != ds[i].algorithm ||
			    cds_dnskey_keytag(key->data, key->len) != ds[i].keytag ||
			    cds_ds_from_dnskey(zone, key->data, key->len, ds[i].digest_type, &got) != 0)
				continue;
			match[k] = got.digest_len == ds[i].digest_len &&
				   memcmp(got.digest, ds[i].digest, got.digest_len) == 0;
		}
	}
	return usable;
}

enum cds_dnssec_status cds_dnssec_verify_ds_signer(const char *zone, const struct cds_rrset *set,
						   const struct cds_rrset *dnskey,
						   const struct cds_ds *ds, size_t n, time_t now,
						   uint16_t *keytag)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	uint16_t tag = 0;
	enum cds_dnssec_status st = CDS_DNSSEC_ERROR;
	bool *match = NULL;
	if (zl < 0)
		goto out;
	st = CDS_DNSSEC_INSECURE;
	if (set->count == 0 || set->sig_count == 0)
		goto out;
	st = CDS_DNSSEC_ERROR;
	if (!(match = calloc(dnskey->count ? dnskey->count : 1, sizeof(bool))))
		goto out;
	/* RFC 7344 §4.1: signed by a key that is in the DNSKEY RRset and that
	 * the current DS set references; a ZSK's signature alone is not
	 * enough, though the DNSKEY RRset authenticates it. */
	ds_match(zone, dnskey, ds, n, match);
	long k = signed_by(set, dnskey, match, z, (size_t)zl, now);
	st = k >= 0 ? CDS_DNSSEC_SECURE : CDS_DNSSEC_BOGUS;
	if (k < 0)
		k = signed_by(set, dnskey, NULL, z, (size_t)zl, now);
	if (k >= 0)
		tag = cds_dnskey_keytag(dnskey->rdata[k].data, dnskey->rdata[k].len);
out:
	free(match);
	if (keytag)
		*keytag = tag;
	return st;
}

enum cds_dnssec_status cds_dnssec_validate(const char *zone, const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   const struct cds_ds *ds, size_t n, time_t now)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	if (zl < 0)
		return CDS_DNSSEC_ERROR;
	if (set->count == 0 || set->sig_count == 0 || n == 0 || dnskey->count == 0)
		return CDS_DNSSEC_INSECURE;
	/* The DNSKEY RRset must be the zone's, as asked for. */
	if (dnskey->owner_len != (size_t)zl || memcmp(dnskey->owner, z, (size_t)zl) != 0)
		return CDS_DNSSEC_BOGUS;

	bool *match = calloc(dnskey->count, sizeof(bool));
	if (!match)
		return CDS_DNSSEC_ERROR;
	enum cds_dnssec_status st;
	if (!ds_match(zone, dnskey, ds, n, match))
		st = CDS_DNSSEC_INSECURE;
	else if (signed_by(dnskey, dnskey, match, z, (size_t)zl, now) < 0)
		st = CDS_DNSSEC_BOGUS;
	else if (set == dnskey)
		st = CDS_DNSSEC_SECURE;
	else
		st = signed_by(set, dnskey, NULL, z, (size_t)zl, now) >= 0 ? CDS_DNSSEC_SECURE
									   : CDS_DNSSEC_BOGUS;
	free(match);
	return st;
}
