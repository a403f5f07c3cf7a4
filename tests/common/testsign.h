/* Test helper: DNSSEC-signed answers made in-process with OpenSSL (ECDSA
 * P-256 by default, RSASHA256 and Ed25519 on request; RFC 4034 canonical
 * form), so decision tests run on real signatures without hand-typed data.
 * Not part of cdscan itself. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cdscan/dns.h"
#include "cdscan/util.h"

/* A fresh validation run at now under the default limits (dns.h): every
 * call resets the same one, so use it for one call or one run at a time
 * (tests are single-threaded). */
struct cds_dnssec_work *ts_work(time_t now);

/* A signing key with its DNSKEY rdata. */
struct ts_key {
	void *pkey;           /* EVP_PKEY */
	uint8_t rdata[4 + 3 + 256 + 8];
	size_t rdlen;
	uint16_t keytag;
};

/* One RR of an answer: type and rdata (room for an RSA key of 4,800
 * bits, for the tests of limits.rsa-max-bits). */
struct ts_rr {
	uint16_t type;
	uint8_t rdata[640];
	size_t rdlen;
};

/* Make an ECDSA P-256 key (flags 257 or 256).  Returns 0 or -1. */
int ts_key_new(struct ts_key *k, uint16_t flags);
/* The same with algorithm 8 (RSASHA256, 2048 bits), 13 or 15 (Ed25519). */
int ts_key_new_alg(struct ts_key *k, uint16_t flags, uint8_t algorithm);
/* An RSASHA256 key of bits bits (at most 2048) with public exponent
 * exponent (odd, 3 or more; 65537 is what signers use). */
int ts_key_new_rsa(struct ts_key *k, uint16_t flags, unsigned bits, uint64_t exponent);
void ts_key_free(struct ts_key *k);

/* The DS (digest type 2 or 4) of key at owner. */
void ts_key_ds(const struct ts_key *k, const char *owner, uint8_t digest_type, struct cds_ds *out);

/* An RR with the key's DNSKEY rdata, as type (DNSKEY or CDNSKEY). */
void ts_rr_dnskey(struct ts_rr *rr, uint16_t type, const struct ts_key *k);
/* An RR with DS rdata, as type (DS or CDS). */
void ts_rr_ds(struct ts_rr *rr, uint16_t type, const struct cds_ds *ds);
/*
 * An RR with the rdata of an RSASHA256 (algorithm 8) public key nobody
 * holds, as a KeyTrap zone publishes them (RFC 3110 §2): a modulus of bits
 * bits (top bit set, odd, filled from seed), an exponent of exp_octets
 * octets (2^(8*(exp_octets-1)) + 1), flags; with tag >= 0 two octets of the
 * modulus are chosen so that its key tag is tag (RFC 4034 Appendix B), so
 * that many such keys collide.  bits at most 4,800.
 */
void ts_rr_rsa_forged(struct ts_rr *rr, uint16_t type, uint16_t flags, unsigned bits,
		      unsigned exp_octets, int tag, unsigned seed);

/* An RR with raw rdata. */
void ts_rr_raw(struct ts_rr *rr, uint16_t type, const void *rdata, size_t len);
/* An RR whose rdata is one name (NS), uncompressed. */
void ts_rr_name(struct ts_rr *rr, uint16_t type, const char *name);
/* A SOA RR with serial (names the root, timers zero). */
void ts_rr_soa(struct ts_rr *rr, uint32_t serial);
/* An A or AAAA RR from an address text.  Returns 0 or -1 (not an address). */
int ts_rr_addr(struct ts_rr *rr, const char *text);
/* A CSYNC RR (RFC 7477 §2.1.1): serial, flags and the types[0..n) bitmap. */
void ts_rr_csync(struct ts_rr *rr, uint32_t serial, uint16_t flags, const uint16_t *types,
		 size_t n);

/* An NSEC RR (RFC 4034 §4.1): next owner name, the types[0..n) bitmap. */
void ts_rr_nsec(struct ts_rr *rr, const char *next, const uint16_t *types, size_t n);
/* An NSEC3 RR (RFC 5155 §3.2, SHA-1): flags (1: opt-out), iterations,
 * salt[0..saltlen), the next hashed owner (20 octets), the types bitmap. */
void ts_rr_nsec3(struct ts_rr *rr, uint8_t flags, uint16_t iterations, const uint8_t *salt,
		 size_t saltlen, const uint8_t next[20], const uint16_t *types, size_t n);
/* The NSEC3 hash of name (RFC 5155 §5, with OpenSSL's SHA-1). */
void ts_nsec3_hash(const char *name, const uint8_t *salt, size_t saltlen, uint16_t iterations,
		   uint8_t out[20]);
/* The NSEC3 owner for a hash: base32hex (RFC 4648 §7, lower case) + "." +
 * zone, into out (CDS_DNAME_BUFSIZE). */
void ts_nsec3_owner(const uint8_t hash[20], const char *zone, char *out);

/* One RR of an authority section: its owner and the RR. */
struct ts_auth {
	char owner[CDS_DNAME_BUFSIZE];
	struct ts_rr rr;
};

/*
 * An empty answer (NODATA: rcode 0, NXDOMAIN: 3) to qname/qtype from zone:
 * an empty answer section, and in the authority section the SOA of zone,
 * then auth[0..n) each as an RRset of its own, every RRset with an RRSIG
 * by each of signers (zone as signer; RFC 4034 §3.1.3 labels, a wildcard
 * owner's "*" not counted).  Returns the length written to out (4096
 * bytes).
 */
size_t ts_answer_denial(uint8_t *out, const char *zone, const char *qname, uint16_t qtype,
			int rcode, const struct ts_auth *auth, size_t n,
			const struct ts_key *const *signers, size_t nsigners, time_t inception,
			time_t expiration);

/*
 * An RRset made in memory as cds_answer_parse reads one from an answer, but
 * with no message and so no bound on its size: the records rrs[0..n) of
 * type at owner (at or below zone), each distinct, and an RRSIG over them
 * by each of signers (signer zone), valid from inception to expiration.
 * Release with cds_rrset_clear.  Returns 0 or -1.
 */
int ts_rrset(struct cds_rrset *out, const char *zone, const char *owner, uint16_t type,
	     const struct ts_rr *rrs, size_t n, const struct ts_key *const *signers,
	     size_t nsigners, time_t inception, time_t expiration);

/* Add to set (of zone) an RRSIG that names key tag tag and algorithm alg,
 * valid from inception to expiration, whose siglen octets of signature no
 * key made (below any modulus of siglen octets, so that RSA does the whole
 * verification): what a KeyTrap answer carries.  Returns 0 or -1. */
int ts_rrset_forged_sig(struct cds_rrset *set, const char *zone, uint8_t alg, uint16_t tag,
			size_t siglen, time_t inception, time_t expiration);

/*
 * A whole DNS answer message (QR, AA, rcode) to owner/qtype holding rrs and,
 * for each key in signers, an RRSIG over them valid from inception to
 * expiration.  Returns the message length written to out (out must hold
 * 4096 bytes).
 */
size_t ts_answer(uint8_t *out, const char *owner, uint16_t qtype, int rcode,
		 const struct ts_rr *rrs, size_t n, const struct ts_key *const *signers,
		 size_t nsigners, time_t inception, time_t expiration);
/* The same for owner at or below zone, the RRSIGs signed by zone (RFC 4034
 * §3.1.7): the A and AAAA of a host name in the zone. */
size_t ts_answer_zone(uint8_t *out, const char *zone, const char *owner, uint16_t qtype,
		      int rcode, const struct ts_rr *rrs, size_t n,
		      const struct ts_key *const *signers, size_t nsigners, time_t inception,
		      time_t expiration);
