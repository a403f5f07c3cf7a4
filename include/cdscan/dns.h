/* DNS data as the policy sees it: domain names (text and wire form),
 * answers read into canonical RRsets with their signatures, DNSSEC validation of an RRset against a DS set (RRSIGs
 * verified with OpenSSL), and DS digests (OpenSSL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cdscan/util.h"

/* RR types cdscan asks for, and the NSEC/NSEC3 of denials. */
enum {
	CDS_T_A = 1,
	CDS_T_NS = 2,
	CDS_T_SOA = 6,
	CDS_T_AAAA = 28,
	CDS_T_DS = 43,
	CDS_T_RRSIG = 46,
	CDS_T_NSEC = 47,
	CDS_T_DNSKEY = 48,
	CDS_T_NSEC3 = 50,
	CDS_T_CDS = 59,
	CDS_T_CDNSKEY = 60,
	CDS_T_CSYNC = 62,
};

/* ----------------------------------------------------------- names --- */

/*
 * Normalise a domain name given by a person or a zone file: lower case,
 * fully qualified (one trailing dot), labels of 1..63 octets, 255 octets in
 * wire form at most.  Letters, digits, '-', '_' and '*' are accepted; escapes
 * and other octets are not (no delegation in a registry uses them).
 * "." is the root.  Writes into out (CDS_DNAME_BUFSIZE bytes).
 * Returns 0 or CDS_ESYNTAX.
 */
int cds_dname_normalize(const char *in, char out[CDS_DNAME_BUFSIZE]);

/* True if name (normalised) equals or is below zone (normalised). */
bool cds_dname_is_subdomain(const char *name, const char *zone);

/*
 * A name in uncompressed wire form (as in canonical NS rdata) as normalised
 * text, for host names only: letters, digits, '-' and '_' in labels.
 * Returns 0, or CDS_EDATA (malformed, or a character a host name cannot
 * hold, which would need escaping).
 */
int cds_dname_from_wire(const uint8_t *wire, size_t len, char out[CDS_DNAME_BUFSIZE]);

/* Encode a normalised name in wire form into out (256 bytes); returns the
 * length or CDS_EINVAL. */
int cds_dname_to_wire(const char *name, uint8_t out[256]);

/* One record's data in canonical wire form (RFC 4034 §6.2: names in NS
 * rdata lower-cased and uncompressed). */
struct cds_rdata {
	uint16_t len;
	uint8_t *data; /* owned by the RRset */
};

/* What an RRSIG says of itself (RFC 4034 §3.1). */
struct cds_rrsig {
	uint16_t key_tag;
	uint8_t algorithm;
	uint32_t inception;  /* 32-bit serial time (RFC 4034 §3.1.5) */
	uint32_t expiration;
	uint16_t raw_len;
	uint8_t *raw;        /* the whole RRSIG rdata (owned by the RRset) */
};

/* The records of one type at one name, as one server answered. */
struct cds_rrset {
	uint8_t owner[256];    /* the name asked for, lower-cased wire form */
	uint16_t owner_len;
	uint16_t type;
	int rcode;             /* of the answer: 0 NOERROR, 3 NXDOMAIN, ... */
	bool present;          /* an answer was parsed into this set */
	size_t count;          /* records; 0 with rcode 0 is NODATA */
	struct cds_rdata *rdata; /* sorted canonically (RFC 4034 §6.3) */
	size_t sig_count;
	struct cds_rrsig *sigs;  /* RRSIGs covering type; raw with the signer
				    uncompressed and lower-cased */
	uint32_t ttl;          /* the smallest TTL of the records and RRSIGs as
				  received (RFC 2181 §8: above 2^31-1 is 0);
				  0 when there are none */
	/* An empty answer's denial of existence (RFC 4035 §3.1.3, RFC 5155
	 * §7.2): the NSEC or NSEC3 RRsets of the authority section, each
	 * with the RRSIGs covering it (owned; count 0 when none).  Each
	 * denial set's owner is that record's owner (lower-cased wire form),
	 * its type NSEC or NSEC3, its rdata as sent (RFC 6840 §5.1: the NSEC
	 * next name is not lower-cased); its own denial_count is 0.  Filled
	 * only when count is 0 and rcode is 0 or 3; at most CDS_DENIAL_MAX,
	 * in the order of the message. */
	size_t denial_count;
	struct cds_rrset *denial;
};

/* NSEC/NSEC3 RRsets kept from one answer (the rest are dropped): a denial
 * needs three at most (RFC 5155 §7.2.2), and each costs verifications. */
#define CDS_DENIAL_MAX 8

/* Header facts of a parsed answer. */
struct cds_answer_info {
	int rcode;
	bool aa;
	bool tc;
	bool ad;
	bool referral; /* no answer, NS in authority for a name below the zone */
	uint32_t soa_serial; /* of the SOA in the answer, when qtype is SOA */
};

/*
 * Parse a whole DNS message (the answer to qname/qtype; its structure is
 * checked first) and fill out with the class IN records of qtype at qname
 * from the answer section and the RRSIGs covering them; when there are
 * none (NODATA or NXDOMAIN), with the NSEC/NSEC3 RRsets of the authority
 * section as out->denial (out->owner stays qname).  Returns 0 or
 * CDS_EDATA (not a well-formed DNS message).
 * Release with cds_rrset_clear.
 */
int cds_answer_parse(const uint8_t *wire, size_t len, const char *qname, uint16_t qtype,
		     struct cds_answer_info *info, struct cds_rrset *out);

/* What a parent's server says of a delegation (a referral, RFC 1034 §4.3.2):
 * the NS names and the glue for them. */
#define CDS_REFERRAL_MAX_NS 16
struct cds_referral {
	size_t ns_count;
	struct {
		char name[CDS_DNAME_BUFSIZE];
		size_t addr_count;
		struct cds_addr addrs[8];
	} ns[CDS_REFERRAL_MAX_NS];
};

/*
 * Parse the answer of a parent's server to "domain NS" (RD=0): the NS RRset
 * at domain from the authority section of a referral (or the answer
 * section, when the server is authoritative for the child too) and the
 * A/AAAA glue for those names from the additional section.  Returns 0,
 * CDS_EDATA (not a DNS message) or CDS_ENOENT (no NS for domain in it).
 */
int cds_referral_parse(const uint8_t *wire, size_t len, const char *domain,
		       struct cds_referral *out);

/* Free what rrset owns (its denial sets too) and zero it.  Accepts a
 * zeroed rrset. */
void cds_rrset_clear(struct cds_rrset *rrset);

/* Copy src's records (not its RRSIGs, not its denial sets: a copy says
 * what the data is, not how it was proven) into dst.  Returns 0 or
 * CDS_ENOMEM. */
int cds_rrset_copy_records(const struct cds_rrset *src, struct cds_rrset *dst);

/* True when both hold the same records (TTL, order, case and RRSIGs
 * ignored; so are the denial sets: two NODATA answers are equal). */
bool cds_rrset_equal(const struct cds_rrset *a, const struct cds_rrset *b);

/* True when both are of the same owner and type, hold the same records
 * and byte-identical RRSIGs, and the same denial sets (owner, type, records
 * and RRSIGs; in any order): validating one, or its denial, is validating
 * the other.  (The same bytes served for another name are not: a memo
 * keyed without the owner took ns2's forged A for ns1's validated one.) */
bool cds_rrset_identical(const struct cds_rrset *a, const struct cds_rrset *b);

/* DNSSEC outcome (the statuses of RFC 4035 §4.3). */
enum cds_dnssec_status {
	CDS_DNSSEC_SECURE = 0,
	CDS_DNSSEC_BOGUS,
	CDS_DNSSEC_INSECURE,
	CDS_DNSSEC_INDETERMINATE,
	CDS_DNSSEC_ERROR,
};

/*
 * Validate set (records + RRSIGs) with the DNSKEY RRset dnskey of zone (its
 * records + RRSIGs) and the DS records ds[0..n) of zone as trust anchor, at
 * time now: the chain DS -> DNSKEY -> set (RFC 4035 §5.2, §5.3).  With set ==
 * dnskey, validates the DNSKEY RRset itself.  set may lie below zone (its
 * owner is set->owner; the RRSIG's signer must be zone).  INSECURE: no DS,
 * no records, no RRSIG, or no DS of an algorithm and digest cdscan supports.
 */
enum cds_dnssec_status cds_dnssec_validate(const char *zone, const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   const struct cds_ds *ds, size_t n, time_t now);

/*
 * The second half of that: set signed by a zone key of dnskey, a DNSKEY
 * RRset already authenticated (by cds_dnssec_validate of dnskey itself).
 * SECURE or BOGUS (INSECURE when set has no records or no RRSIG).
 */
enum cds_dnssec_status cds_dnssec_verify(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, time_t now);

/*
 * Is the empty answer (NODATA or NXDOMAIN) for set's owner and type proven
 * by the NSEC or NSEC3 records it carries (set->denial), signed by a zone
 * key of dnskey (a DNSKEY RRset of zone already authenticated)?  RFC 4035
 * §5.4 (NSEC), RFC 5155 §8 (NSEC3).  SECURE: proven.  INSECURE: an NSEC3
 * opt-out span, or NSEC3 iterations above max_iterations (RFC 9276 §3.2).
 * BOGUS: no proof, a proof that does not cover the name and type, or a
 * signature that does not validate.  why (optional) says which record and
 * why when not SECURE ("" when SECURE).
 *
 * zone is the zone that holds set->owner and signed the NSEC/NSEC3 (for a
 * host name below a child's apex, such as the A of ns1.child.test., the
 * child zone and its DNSKEY RRset; for a DS, the parent zone and its
 * DNSKEY RRset).  Any proof of the absence of (owner, type) counts,
 * whether the RCODE says NODATA or NXDOMAIN; a DS only by the
 * delegation's own NSEC/NSEC3 (NS set, DS and SOA clear; RFC 6840 §4.4)
 * or an NSEC3 opt-out span (INSECURE).  Every NSEC/NSEC3 RRset of the
 * answer must validate; at most CDS_DENIAL_MAX of them, each at most 16
 * signature verifications.
 */
enum cds_dnssec_status cds_dnssec_denial(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, uint16_t max_iterations,
					 time_t now, char *why, size_t whylen);

/*
 * RFC 7344 §4.1: is set signed by a key that is both in the DNSKEY RRset
 * dnskey (authenticated) and referenced by a DS record of ds[0..n)?
 * SECURE with *keytag the signing key's tag, BOGUS when no RRSIG of such a
 * key validates (*keytag: the tag of a key that did sign, 0 when none), or
 * INSECURE when set has no records or no RRSIG.
 */
enum cds_dnssec_status cds_dnssec_verify_ds_signer(const char *zone, const struct cds_rrset *set,
						   const struct cds_rrset *dnskey,
						   const struct cds_ds *ds, size_t n, time_t now,
						   uint16_t *keytag);

/* DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §3): a key with REVOKE set never
 * authenticates anything. */
#define CDS_DNSKEY_ZONE 0x0100u
#define CDS_DNSKEY_REVOKE 0x0080u
#define CDS_DNSKEY_SEP 0x0001u

/* True when cdscan verifies signatures of DNSSEC algorithm alg. */
bool cds_dnssec_algorithm_supported(uint8_t alg);

/* The signer's name of an RRSIG (RFC 4034 §3.1.7) as normalised text.
 * Returns 0 or CDS_EDATA (truncated, or not a host-style name). */
int cds_rrsig_signer(const struct cds_rrsig *sig, char out[CDS_DNAME_BUFSIZE]);

/* Key tag of DNSKEY rdata (RFC 4034 Appendix B). */
uint16_t cds_dnskey_keytag(const uint8_t *rdata, size_t len);

/*
 * DS of a DNSKEY (rdata) at owner with digest_type 1, 2 or 4 (RFC 4034 §5.1.4,
 * RFC 4509, RFC 6605).  Returns 0, CDS_EINVAL (unknown digest type, short
 * rdata) or CDS_ECRYPTO.
 */
int cds_ds_from_dnskey(const char *owner, const uint8_t *rdata, size_t len, uint8_t digest_type,
		       struct cds_ds *out);

/* A DS from CDS/DS rdata.  Returns 0 or CDS_EDATA (too short, or a digest
 * whose length is not the one its digest type has: cds_ds_digest_length). */
int cds_ds_from_rdata(const uint8_t *rdata, size_t len, struct cds_ds *out);

/* DNSKEY/CDNSKEY rdata in presentation form "FLAGS PROTO ALG BASE64"
 * into buf; returns 0 or CDS_ERANGE when buf is too small. */
int cds_dnskey_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen);

/* CSYNC flags (RFC 7477 §2.1.1.2). */
#define CDS_CSYNC_IMMEDIATE 0x0001u
#define CDS_CSYNC_SOAMINIMUM 0x0002u

/* What a CSYNC record asks for (RFC 7477 §2.1). */
struct cds_csync {
	uint32_t serial;
	uint16_t flags;
	bool ns, a, aaaa;    /* types in the bitmap cdscan acts on */
	uint16_t other_type; /* the first other type in the bitmap; 0: none */
};

/*
 * Parse CSYNC rdata: serial, flags and the type bitmap (RFC 4034 §4.1.2:
 * windows in increasing order, each 1 to 32 octets, filling the rdata).
 * Returns 0 or CDS_EDATA.
 */
int cds_csync_parse(const uint8_t *rdata, size_t len, struct cds_csync *out);

/* CSYNC rdata (RFC 7477 §2.1) in presentation form "SERIAL FLAGS TYPE...". */
int cds_csync_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen);

/* The RFC 8078 §4 delete records: CDS "0 0 0 00", CDNSKEY "0 3 0 AA==". */
bool cds_rdata_is_cds_delete(const struct cds_rdata *rd);
bool cds_rdata_is_cdnskey_delete(const struct cds_rdata *rd);
