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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

const struct cds_dnssec_limits cds_dnssec_limits_default = {
	.keys_per_tag = CDS_LIMIT_KEYS_PER_TAG,
	.rrsigs_tried = CDS_LIMIT_RRSIGS_TRIED,
	.verifications_per_rrset = CDS_LIMIT_VERIFICATIONS_PER_RRSET,
	.verifications_per_delegation = CDS_LIMIT_VERIFICATIONS_PER_DELEGATION,
	.records_per_rrset = CDS_LIMIT_RECORDS_PER_RRSET,
	.rrsigs_per_rrset = CDS_LIMIT_RRSIGS_PER_RRSET,
	.dnskeys_per_rrset = CDS_LIMIT_DNSKEYS_PER_RRSET,
	.rsa_min_bits = CDS_LIMIT_RSA_MIN_BITS,
	.rsa_max_bits = CDS_LIMIT_RSA_MAX_BITS,
	.rsa_max_exponent_octets = CDS_LIMIT_RSA_MAX_EXPONENT_OCTETS,
	.nsec3_max_iterations = CDS_LIMIT_NSEC3_MAX_ITERATIONS,
};

void cds_dnssec_work_init(struct cds_dnssec_work *w, const struct cds_dnssec_limits *limits,
			  time_t now)
{
	memset(w, 0, sizeof(*w));
	w->signer = -1;
	w->limits = limits ? limits : &cds_dnssec_limits_default;
	w->now = now;
}

/* Say which limit stopped the call, the first one only: what comes after
 * it follows from it. */
__attribute__((format(printf, 2, 3))) static void over(struct cds_dnssec_work *w,
						       const char *fmt, ...)
{
	va_list ap;
	if (w->limit[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->limit, sizeof(w->limit), fmt, ap);
	va_end(ap);
}

/* A wire-form name as text for limit messages ("example.test."), octets
 * other than letters, digits, '-', '_' and '*' as \DDD. */
static const char *wire_text(const uint8_t *w, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < len && w[i] != 0 && o + 6 < outlen; i += (size_t)w[i] + 1) {
		for (size_t k = 1; k <= w[i] && i + k < len && o + 6 < outlen; k++) {
			uint8_t c = w[i + k];
			if (isalnum(c) || c == '-' || c == '_' || c == '*')
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, outlen - o, "\\%03u", c);
		}
		out[o++] = '.';
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return out;
}

/* "the CDS RRset of example.test." */
static const char *set_text(const struct cds_rrset *set, char *out, size_t outlen)
{
	char name[1024], tmp[16];
	snprintf(out, outlen, "the %s RRset of %s", cds_rrtype_name(set->type, tmp),
		 wire_text(set->owner, set->owner_len, name, sizeof(name)));
	return out;
}

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

/* What one (RRSIG, key) pair came to. */
enum tried { T_NO, T_YES, T_STOP };

/*
 * The checks of an RRSIG against a key that cost no cryptography: type
 * covered, algorithm, key tag, signer (zone), validity at w->now, labels.
 */
static bool sig_fits(const struct cds_rrset *set, const struct cds_rrsig *sig,
		     const uint8_t *key, size_t keylen, const uint8_t *zone, size_t zlen,
		     time_t now)
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
	return r[3] == owner_labels;
}

/* May one more verification be spent on set: within *budget (this RRset's)
 * and within the delegation's (w)?  Spends it, or says which limit. */
static bool spend(struct cds_dnssec_work *w, unsigned *budget, const struct cds_rrset *set)
{
	const struct cds_dnssec_limits *l = w->limits;
	char st[1200];
	if (*budget == 0) {
		over(w, "%s took %u signature verifications and none succeeded; "
			"limits.verifications-per-rrset is %u",
		     set_text(set, st, sizeof(st)), l->verifications_per_rrset,
		     l->verifications_per_rrset);
		return false;
	}
	if (w->verifications >= l->verifications_per_delegation) {
		over(w, "%u signature verifications were made for this delegation before %s; "
			"limits.verifications-per-delegation is %u",
		     w->verifications, set_text(set, st, sizeof(st)),
		     l->verifications_per_delegation);
		return false;
	}
	(*budget)--;
	w->verifications++;
	return true;
}

/*
 * Does sig (an RRSIG of set) verify with key (DNSKEY rdata) of zone (wire,
 * lower case), at w->now?  The signed data is RFC 4034 §3.1.8.1: the RRSIG
 * rdata without the signature, then every record in canonical order as
 * owner | type | class | original TTL | rdlength | rdata.  Each call that
 * gets as far as OpenSSL costs one of *budget and one of the delegation's
 * (spend); none left: T_STOP.
 */
static enum tried sig_verifies(const struct cds_rrset *set, const struct cds_rrsig *sig,
			       const uint8_t *key, size_t keylen, const uint8_t *zone,
			       size_t zlen, struct cds_dnssec_work *w, unsigned *budget)
{
	if (!sig_fits(set, sig, key, keylen, zone, zlen, w->now))
		return T_NO;
	const uint8_t *r = sig->raw;
	size_t sl = zlen;
	const uint8_t *owner = set->owner;
	size_t olen = set->owner_len;
	size_t total = 18 + sl;
	for (size_t i = 0; i < set->count; i++)
		total += olen + 10 + set->rdata[i].len;
	if (!spend(w, budget, set))
		return T_STOP;
	uint8_t *data = malloc(total);
	if (!data)
		return T_NO;
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
	/* Issue #20: the same bytes verified at an earlier scan (sigcache.c,
	 * compared in full) need no OpenSSL; what verifies now is kept. */
	const uint8_t *sb = r + 18 + sl;
	size_t slen = sig->raw_len - 18u - sl;
	bool ok = cds_sigcache_lookup(w->cache, key, keylen, sb, slen, data, total);
	if (!ok && (ok = verify(key, keylen, r[2], sb, slen, data, total)))
		cds_sigcache_add(w->cache, key, keylen, sb, slen, data, total);
	free(data);
	return ok ? T_YES : T_NO;
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

/* Is an RSA key (algorithms 5, 7, 8, 10; DNSKEY rdata) within the size
 * limits (RFC 3110 §2: exponent length, exponent, modulus)?  Other
 * algorithms have fixed sizes, checked where the key is made.  If not,
 * says why in w (keys is the RRset it is in). */
static bool rsa_within(const struct cds_rdata *key, const struct cds_rrset *keys,
		       struct cds_dnssec_work *w)
{
	const uint8_t alg = key->data[3], *k = key->data + 4;
	size_t len = key->len - 4u, el, o;
	if (alg != 5 && alg != 7 && alg != 8 && alg != 10)
		return true;
	if (len < 3)
		return false; /* malformed: public_key refuses it */
	el = k[0] ? k[0] : (size_t)k[1] << 8 | k[2];
	o = k[0] ? 1 : 3;
	if (el == 0 || o + el >= len)
		return false;
	const struct cds_dnssec_limits *l = w->limits;
	char name[1024];
	uint16_t tag = cds_dnskey_keytag(key->data, key->len);
	if (el > l->rsa_max_exponent_octets) {
		over(w, "key %u of the DNSKEY RRset of %s has an RSA exponent of %zu octets; "
			"limits.rsa-max-exponent-octets is %u",
		     tag, wire_text(keys->owner, keys->owner_len, name, sizeof(name)), el,
		     l->rsa_max_exponent_octets);
		return false;
	}
	const uint8_t *n = k + o + el;
	size_t nl = len - o - el;
	while (nl > 0 && n[0] == 0) {
		n++;
		nl--;
	}
	size_t bits = nl * 8;
	for (uint8_t top = nl ? n[0] : 0; top && !(top & 0x80); top = (uint8_t)(top << 1))
		bits--;
	if (bits >= l->rsa_min_bits && bits <= l->rsa_max_bits)
		return true;
	over(w,
	     "key %u of the DNSKEY RRset of %s has a %zu-bit RSA modulus; limits.rsa-%s-bits is %u",
	     tag, wire_text(keys->owner, keys->owner_len, name, sizeof(name)), bits,
	     bits < l->rsa_min_bits ? "min" : "max",
	     bits < l->rsa_min_bits ? l->rsa_min_bits : l->rsa_max_bits);
	return false;
}

/* Is key k of keys one an RRSIG by sig's key tag and algorithm would make
 * cdscan try (a zone key that passes accept; NULL: any)? */
static bool candidate(const struct cds_rrset *keys, size_t k, const bool *accept,
		      const struct cds_rrsig *sig)
{
	const struct cds_rdata *key = &keys->rdata[k];
	return (!accept || accept[k]) && zone_key(key) && key->data[3] == sig->algorithm &&
	       cds_dnskey_keytag(key->data, key->len) == sig->key_tag;
}

/* Is the DNSKEY RRset small enough to be used at all (checked before DS
 * digests are computed for its keys)? */
static bool dnskey_size_ok(const struct cds_rrset *dnskey, struct cds_dnssec_work *w)
{
	char name[1024];
	if (dnskey->count <= w->limits->dnskeys_per_rrset)
		return true;
	over(w, "the DNSKEY RRset of %s has %zu keys; limits.dnskeys-per-rrset is %u",
	     wire_text(dnskey->owner, dnskey->owner_len, name, sizeof(name)), dnskey->count,
	     w->limits->dnskeys_per_rrset);
	return false;
}

/*
 * The KeyTrap bounds that need no cryptography, checked before any
 * verification so that a hostile set costs nothing at all: the DNSKEY
 * RRset's size, and for every RRSIG of set the keys sharing its tag and
 * algorithm (each would be tried: RFC 4035 §5.3.1 asks a validator to try
 * them all).  False: a limit is exceeded (said in w).
 */
static bool within_limits(const struct cds_rrset *set, const struct cds_rrset *keys,
			  const bool *accept, struct cds_dnssec_work *w)
{
	const struct cds_dnssec_limits *l = w->limits;
	char name[1024];
	if (!dnskey_size_ok(keys, w))
		return false;
	for (size_t s = 0; s < set->sig_count; s++) {
		size_t n = 0;
		for (size_t k = 0; k < keys->count; k++)
			n += candidate(keys, k, accept, &set->sigs[s]);
		if (n <= l->keys_per_tag)
			continue;
		over(w, "the DNSKEY RRset of %s has %zu keys with key tag %u and algorithm %u; "
			"limits.keys-per-tag is %u",
		     wire_text(keys->owner, keys->owner_len, name, sizeof(name)), n,
		     set->sigs[s].key_tag, set->sigs[s].algorithm, l->keys_per_tag);
		return false;
	}
	return true;
}

/*
 * The index in keys of a zone key (one that passes accept; NULL: any) with
 * which an RRSIG of set verifies, or -1.  Bounded by w's limits: the keys
 * per tag and the DNSKEY RRset's size first (within_limits), then at most
 * rrsigs_tried RRSIGs that name a key of keys, verifications_per_rrset
 * verifications and the delegation's budget; RSA keys outside the size
 * limits are not tried.
 */
static long signed_by(const struct cds_rrset *set, const struct cds_rrset *keys,
		      const bool *accept, const uint8_t *zone, size_t zlen,
		      struct cds_dnssec_work *w)
{
	const struct cds_dnssec_limits *l = w->limits;
	unsigned budget = l->verifications_per_rrset, tried = 0;
	char st[1200];
	w->signer = -1;
	if (!within_limits(set, keys, accept, w))
		return -1;
	for (size_t s = 0; s < set->sig_count; s++) {
		bool named = false;
		for (size_t k = 0; k < keys->count && !named; k++)
			named = candidate(keys, k, accept, &set->sigs[s]);
		if (!named)
			continue;
		if (tried++ == l->rrsigs_tried) {
			over(w, "%u RRSIGs of %s were tried and none validates; "
				"limits.rrsigs-tried-per-rrset is %u",
			     l->rrsigs_tried, set_text(set, st, sizeof(st)), l->rrsigs_tried);
			return -1;
		}
		for (size_t k = 0; k < keys->count; k++) {
			if (!candidate(keys, k, accept, &set->sigs[s]) ||
			    !rsa_within(&keys->rdata[k], keys, w))
				continue;
			enum tried t = sig_verifies(set, &set->sigs[s], keys->rdata[k].data,
						    keys->rdata[k].len, zone, zlen, w, &budget);
			if (t == T_YES)
				return w->signer = (long)k;
			if (t == T_STOP)
				return -1;
		}
	}
	return -1;
}

/* The end of a call: a limit is only news when the outcome is not SECURE. */
static enum cds_dnssec_status done(struct cds_dnssec_work *w, enum cds_dnssec_status st)
{
	if (st == CDS_DNSSEC_SECURE)
		w->limit[0] = '\0';
	return st;
}

static int zone_wire(const char *zone, uint8_t out[256])
{
	int n = cds_dname_to_wire(zone, out);
	for (int i = 0; i < n; i++)
		out[i] = (uint8_t)tolower(out[i]);
	return n;
}

enum cds_dnssec_status cds_dnssec_verify(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey,
					 struct cds_dnssec_work *w)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	w->limit[0] = '\0';
	if (zl < 0)
		return CDS_DNSSEC_ERROR;
	if (set->count == 0 || set->sig_count == 0)
		return CDS_DNSSEC_INSECURE;
	return done(w, signed_by(set, dnskey, NULL, z, (size_t)zl, w) >= 0 ? CDS_DNSSEC_SECURE
									     : CDS_DNSSEC_BOGUS);
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

bool cds_dnssec_key_in_ds(const char *zone, const struct cds_rrset *dnskey, size_t k,
			  const struct cds_ds *ds, size_t n)
{
	if (k >= dnskey->count)
		return false;
	bool *match = calloc(dnskey->count, sizeof(bool));
	if (!match)
		return false;
	ds_match(zone, dnskey, ds, n, match);
	bool in = match[k];
	free(match);
	return in;
}

enum cds_dnssec_status cds_dnssec_verify_ds_signer(const char *zone, const struct cds_rrset *set,
						   const struct cds_rrset *dnskey,
						   const struct cds_ds *ds, size_t n,
						   struct cds_dnssec_work *w, uint16_t *keytag)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	uint16_t tag = 0;
	enum cds_dnssec_status st = CDS_DNSSEC_ERROR;
	bool *match = NULL;
	w->limit[0] = '\0';
	if (zl < 0)
		goto out;
	st = CDS_DNSSEC_INSECURE;
	if (set->count == 0 || set->sig_count == 0)
		goto out;
	st = CDS_DNSSEC_BOGUS;
	if (!dnskey_size_ok(dnskey, w))
		goto out;
	st = CDS_DNSSEC_ERROR;
	if (!(match = calloc(dnskey->count ? dnskey->count : 1, sizeof(bool))))
		goto out;
	/* RFC 7344 §4.1: signed by a key that is in the DNSKEY RRset and that
	 * the current DS set references; a ZSK's signature alone is not
	 * enough, though the DNSKEY RRset authenticates it.  Which key did
	 * sign is asked only for the detail, and not when a limit stopped the
	 * first look. */
	ds_match(zone, dnskey, ds, n, match);
	long k = signed_by(set, dnskey, match, z, (size_t)zl, w);
	st = k >= 0 ? CDS_DNSSEC_SECURE : CDS_DNSSEC_BOGUS;
	if (k < 0 && !w->limit[0])
		k = signed_by(set, dnskey, NULL, z, (size_t)zl, w);
	if (k >= 0)
		tag = cds_dnskey_keytag(dnskey->rdata[k].data, dnskey->rdata[k].len);
out:
	free(match);
	if (keytag)
		*keytag = tag;
	return done(w, st);
}

enum cds_dnssec_status cds_dnssec_validate(const char *zone, const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   const struct cds_ds *ds, size_t n,
					   struct cds_dnssec_work *w)
{
	uint8_t z[256];
	int zl = zone_wire(zone, z);
	w->limit[0] = '\0';
	if (zl < 0)
		return CDS_DNSSEC_ERROR;
	if (set->count == 0 || set->sig_count == 0 || n == 0 || dnskey->count == 0)
		return CDS_DNSSEC_INSECURE;
	/* The DNSKEY RRset must be the zone's, as asked for. */
	if (dnskey->owner_len != (size_t)zl || memcmp(dnskey->owner, z, (size_t)zl) != 0 ||
	    !dnskey_size_ok(dnskey, w))
		return CDS_DNSSEC_BOGUS;

	bool *match = calloc(dnskey->count, sizeof(bool));
	if (!match)
		return CDS_DNSSEC_ERROR;
	enum cds_dnssec_status st;
	if (!ds_match(zone, dnskey, ds, n, match))
		st = CDS_DNSSEC_INSECURE;
	else if (signed_by(dnskey, dnskey, match, z, (size_t)zl, w) < 0)
		st = CDS_DNSSEC_BOGUS;
	else if (set == dnskey)
		st = CDS_DNSSEC_SECURE;
	else
		st = signed_by(set, dnskey, NULL, z, (size_t)zl, w) >= 0 ? CDS_DNSSEC_SECURE
									 : CDS_DNSSEC_BOGUS;
	free(match);
	return done(w, st);
}
