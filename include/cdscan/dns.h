/* DNS data as the policy sees it: domain names (text and wire form),
 * answers read into canonical RRsets with their signatures, DNSSEC validation of an RRset against a DS set (RRSIGs
 * verified with OpenSSL), and DS digests (OpenSSL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cdscan/util.h"

/* RR types cdscan asks for, the NSEC/NSEC3 of denials, and the DSYNC it
 * writes for a parent (RFC 9859). */
enum {
	CDS_T_A = 1,
	CDS_T_NS = 2,
	CDS_T_CNAME = 5,
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
	CDS_T_DSYNC = 66,
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

/* ------------------------------------------------------ work limits --- */

/*
 * Bounds on the work an answer from outside may cost, each a key of the
 * config's limits: section (cdscan.yaml(5), cdscan(8) "Limits").  A child
 * zone is run by anyone: without them a DNSKEY RRset of keys sharing one
 * key tag and an RRset with many RRSIGs naming that tag make one answer
 * cost minutes of CPU (CVE-2023-50387, "KeyTrap"), and so do RSA keys with
 * huge exponents or moduli.  The defaults never bite a real zone: a
 * multi-signer DNSKEY RRset holds 4 to 8 keys and 2 to 4 RRSIGs cover an
 * RRset.  What resolvers chose after KeyTrap (February 2024) is noted with
 * each; cdscan validates several RRsets per delegation (at every address),
 * so its budget per delegation is a resolver's per query times that.
 */

/* Zone keys of one algorithm sharing one key tag that an RRSIG may make
 * cdscan try.  Tags are a 16-bit checksum: two real keys of a zone collide
 * rarely, five never (PowerDNS Recursor max-dnskeys 2, Unbound gives up on
 * a DS after 4 keys fail, MAX_DS_MATCH_FAILURES). */
#define CDS_LIMIT_KEYS_PER_TAG 4
/* RRSIGs of one RRset tried before it is bogus (Unbound MAX_VALIDATE_RRSIGS
 * 8, dnsjava max_validate_rrsigs 8; PowerDNS max-rrsigs-per-record 2).  A
 * rollover of two providers' algorithms has 4. */
#define CDS_LIMIT_RRSIGS_TRIED 8
/* Signature verifications (OpenSSL calls) for one RRset (BIND
 * max-validations-per-fetch 16; systemd-resolved gives up after 5
 * failures). */
#define CDS_LIMIT_VERIFICATIONS_PER_RRSET 16
/* Signature verifications for one delegation's decision: every RRset at
 * every address, the memo (policy) counting each distinct one once; for
 * an RFC 9615 look-up, its whole chain from the trust anchor.  A
 * delegation with 13 NS names on both families that signs per answer and
 * publishes a CSYNC needs about 26 addresses x 20 = 520; a hostile one
 * costs at most 0.25 s of one worker thread with it: 1024 verifications
 * with 4096-bit RSA keys (bench/keytrap_bench).  PowerDNS allows 30 per
 * query (max-signature-validations-per-query), systemd-resolved 64 per
 * transaction, Knot Resolver a per-request budget. */
#define CDS_LIMIT_VERIFICATIONS_PER_DELEGATION 1024
/* Records of one RRset taken from an answer (more: the answer is refused).
 * cdscan reads apex sets (NS, DNSKEY, CDS, CDNSKEY, CSYNC, SOA), host
 * addresses and NSEC/NSEC3: none holds more than a few dozen; a 64 KiB TCP
 * answer holds ~4,000 A records. */
#define CDS_LIMIT_RECORDS_PER_RRSET 512
/* RRSIGs over one RRset taken from an answer (more: the answer is
 * refused): one per key and algorithm that signs, 2 to 8 for a
 * multi-signer rollover. */
#define CDS_LIMIT_RRSIGS_PER_RRSET 16
/* Keys in a DNSKEY RRset used for validation: two providers rolling KSK
 * and ZSK with two algorithms hold 16. */
#define CDS_LIMIT_DNSKEYS_PER_RRSET 32
/* RSA modulus sizes accepted in a DNSKEY (RFC 3110 §2 allows 512 to 4096
 * bits for RSASHA1, RFC 5702 §2 1024 to 4096 for RSASHA512; a 512-bit key
 * is factored in hours and authenticates nothing; a verification costs
 * the square of the size, and OpenSSL takes 16,384 bits). */
#define CDS_LIMIT_RSA_MIN_BITS 1024
#define CDS_LIMIT_RSA_MAX_BITS 4096
/* Octets of an RSA public exponent (RFC 3110 §2 allows up to 4096 bits,
 * and a verification costs one squaring per exponent bit: a 3072-bit
 * exponent makes one verification cost what 180 do with 65537).  Signers
 * use 65537 (3 octets) or 3; BIND's dnssec-keygen -e made 2^32+1, 5 octets
 * (BIND's own limit, max-rsa-exponent-size, defaults to 4096 bits). */
#define CDS_LIMIT_RSA_MAX_EXPONENT_OCTETS 5
/* NSEC3 iterations a denial may use: more prove nothing, the answer is
 * insecure (RFC 9276 §3.2; PowerDNS nsec3-max-iterations and Unbound
 * val-nsec3-keysize-iterations 150; Knot Resolver since 5.7.1: 50). */
#define CDS_LIMIT_NSEC3_MAX_ITERATIONS 150

struct cds_dnssec_limits {
	uint32_t keys_per_tag;           /* limits.keys-per-tag */
	uint32_t rrsigs_tried;           /* limits.rrsigs-tried-per-rrset */
	uint32_t verifications_per_rrset;      /* limits.verifications-per-rrset */
	uint32_t verifications_per_delegation; /* limits.verifications-per-delegation */
	uint32_t records_per_rrset;      /* limits.records-per-rrset */
	uint32_t rrsigs_per_rrset;       /* limits.rrsigs-per-rrset */
	uint32_t dnskeys_per_rrset;      /* limits.dnskeys-per-rrset */
	uint32_t rsa_min_bits;           /* limits.rsa-min-bits */
	uint32_t rsa_max_bits;           /* limits.rsa-max-bits */
	uint32_t rsa_max_exponent_octets; /* limits.rsa-max-exponent-octets */
	uint32_t nsec3_max_iterations;   /* limits.nsec3-max-iterations */
};

/* The defaults above, as a struct (read-only). */
extern const struct cds_dnssec_limits cds_dnssec_limits_default;

/* Room for a limit in words ("the DNSKEY RRset of example.test. has 40
 * keys with key tag 12345 and algorithm 8; limits.keys-per-tag is 4"). */
#define CDS_LIMIT_TEXT_MAX 256

/*
 * The work of a run of validations under one budget: one delegation's
 * decision (the policy's memo holds one), one RFC 9615 look-up, one test.
 * Not shared between threads.  The validation functions below count every
 * signature verification in it and, when a limit makes one fail, say which
 * in limit (cleared when the call starts, so it speaks of the last call).
 */
struct cds_sigcache;

struct cds_dnssec_work {
	const struct cds_dnssec_limits *limits; /* borrowed; never NULL after init */
	/* Verifications remembered across scans (borrowed; NULL after init:
	 * none): a signature whose exact bytes verified before is taken
	 * without OpenSSL, still counted as a verification (the limits and
	 * so the verdicts do not depend on it); one that verifies now is
	 * added. */
	struct cds_sigcache *cache;
	time_t now;              /* the clock signatures are judged by */
	uint32_t verifications;  /* OpenSSL signature verifications so far */
	/* The index in the DNSKEY RRset of the key whose RRSIG verified the
	 * last RRset a call made SECURE (for a set, not its DNSKEY RRset), -1
	 * when none did: the signer rule asks it without verifying again. */
	long signer;
	char limit[CDS_LIMIT_TEXT_MAX]; /* why the last call failed on a limit, or "" */
};

/* Start a run at time now under limits (NULL: cds_dnssec_limits_default;
 * borrowed, must outlive w). */
void cds_dnssec_work_init(struct cds_dnssec_work *w, const struct cds_dnssec_limits *limits,
			  time_t now);

/* --------------------------------------- verifications across scans --- */

/*
 * One delegation's remembered signature verifications (src/dns/sigcache.c;
 * the store keeps them between scans, scan.dnskey-cache): what was loaded
 * (the last scan's) and what this scan made or reused, which replaces it.
 * An entry is the pure cryptographic fact "this signature over these
 * signed data verifies with this DNSKEY": the DNSKEY rdata, the signature
 * and the RFC 4034 §3.1.8.1 signed data (RRSIG fields with validity window
 * and signer, then the canonical RRset with its owner), all compared in
 * full.  Validity against the clock, DS matching, limits and policy are
 * not in it: the validator checks them every time.  One delegation's
 * cache is used by one thread at a time (its job: the loop, or the CSYNC
 * gate in the thread pool, never both at once).
 */
struct cds_sigcache;

/* A cache keeping at most max_entries, max_bytes of stored form.  Returns
 * 0 or CDS_ENOMEM (*out NULL). */
int cds_sigcache_new(size_t max_entries, size_t max_bytes, struct cds_sigcache **out);
void cds_sigcache_free(struct cds_sigcache *c); /* accepts NULL */

/* Read the stored form (from the database: outside data, checked; what
 * lies beyond the limits is left out).  Returns 0, CDS_EDATA (malformed:
 * entries before the fault stay, none after) or CDS_EINVAL (already
 * loaded). */
int cds_sigcache_load(struct cds_sigcache *c, const uint8_t *blob, size_t len);

/* Did exactly this key, signature and signed data verify before?  A hit
 * is kept for the save.  c NULL: false. */
bool cds_sigcache_lookup(struct cds_sigcache *c, const uint8_t *key, size_t keylen,
			 const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen);

/* Remember a verification that succeeded now (copied), within the
 * limits.  c NULL: nothing. */
void cds_sigcache_add(struct cds_sigcache *c, const uint8_t *key, size_t keylen,
		      const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen);

/* Hits and verifications added so far (c NULL: 0). */
void cds_sigcache_stats(const struct cds_sigcache *c, uint32_t *hits, uint32_t *added);

/* The stored form of what this scan made or reused (*blob malloc'd; NULL
 * with *len 0 when nothing: the stored row goes), and whether it differs
 * from what was loaded (false: nothing to write).  Returns 0 or
 * CDS_ENOMEM. */
int cds_sigcache_save(const struct cds_sigcache *c, uint8_t **blob, size_t *len, bool *changed);

/* Header facts of a parsed answer. */
struct cds_answer_info {
	int rcode;
	bool aa;
	bool tc;
	bool ad;
	bool referral; /* no answer, NS in authority for a name below the zone */
	bool alias;    /* a CNAME at qname in the answer (qtype not CNAME) */
	uint32_t soa_serial; /* of the SOA in the answer, when qtype is SOA */
	/* The authority section holds the SOA of qname itself (RFC 2308 §3:
	 * an authoritative NODATA carries its zone's SOA): qname is a zone
	 * apex the server serves; apex_soa_serial is its serial. */
	bool apex_soa;
	uint32_t apex_soa_serial;
	/* When the answer is refused for a limit (CDS_ERANGE): which, with the
	 * numbers ("600 records of type CDS; limits.records-per-rrset is 512"). */
	char limit[CDS_LIMIT_TEXT_MAX];
};

/*
 * Parse a whole DNS message (the answer to qname/qtype; its structure is
 * checked first) and fill out with the class IN records of qtype at qname
 * from the answer section and the RRSIGs covering them; when there are
 * none (NODATA or NXDOMAIN), with the NSEC/NSEC3 RRsets of the authority
 * section as out->denial (out->owner stays qname).  Returns 0, CDS_EDATA
 * (not a well-formed DNS message) or CDS_ERANGE: an RRset it would keep
 * holds more records than limits->records_per_rrset or more RRSIGs than
 * limits->rrsigs_per_rrset (info->limit says which; limits NULL: the
 * defaults).  Release with cds_rrset_clear.
 */
int cds_answer_parse(const uint8_t *wire, size_t len, const char *qname, uint16_t qtype,
		     const struct cds_dnssec_limits *limits, struct cds_answer_info *info,
		     struct cds_rrset *out);

/* The mnemonic of an RR type cdscan reads ("DNSKEY"), else "TYPEnnn" in
 * tmp. */
const char *cds_rrtype_name(uint16_t type, char tmp[16]);

/* ------------------------------------- RFC 9567 DNS error reporting --- */

/* EDNS(0) option code of Report-Channel (RFC 9567 §5): the authoritative
 * server's agent domain, to which resolvers report failures. */
#define CDS_EDNS_REPORT_CHANNEL 18

/*
 * The agent domain of the Report-Channel option in a DNS message (the
 * whole answer; its structure is checked first), as normalised text into
 * agent.  The option's data must be one uncompressed name filling it,
 * not the root, at most max_len octets in wire form, of letters, digits,
 * '-' and '_' (it becomes part of a query cdscan sends); one OPT record,
 * one such option.  Returns 0, CDS_ENOENT (no option) or CDS_EDATA (a
 * malformed message, OPT record or option: no agent).
 */
int cds_answer_report_channel(const uint8_t *wire, size_t len, size_t max_len,
			      char agent[CDS_DNAME_BUFSIZE]);

/*
 * The RFC 9567 §6.1.1 report QNAME for extended error ede (RFC 8914) on
 * qname/qtype, to agent: "_er.QTYPE.QNAME.EDE._er.AGENT." (decimal labels).
 * Returns 0, CDS_EINVAL (a name that does not normalise, the root, or
 * qname at or below agent: reports about the agent's own names would loop)
 * or CDS_ERANGE (longer than 255 octets: not sent).
 */
int cds_error_report_qname(const char *qname, uint16_t qtype, uint16_t ede, const char *agent,
			   char out[CDS_DNAME_BUFSIZE]);

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
 * time w->now: the chain DS -> DNSKEY -> set (RFC 4035 §5.2, §5.3).  With
 * set == dnskey, validates the DNSKEY RRset itself.  set may lie below zone
 * (its owner is set->owner; the RRSIG's signer must be zone).  INSECURE: no
 * DS, no records, no RRSIG, or no DS of an algorithm and digest cdscan
 * supports.
 *
 * The work is bounded by w->limits (each check where the work would start):
 * a DNSKEY RRset of more than dnskeys_per_rrset keys is not used; an RRSIG
 * naming more than keys_per_tag zone keys of its tag and algorithm, more
 * than rrsigs_tried RRSIGs tried, more than verifications_per_rrset
 * verifications for the RRset or more than verifications_per_delegation in
 * w make it BOGUS; an RSA key outside rsa_min_bits..rsa_max_bits or with an
 * exponent longer than rsa_max_exponent_octets verifies nothing.  When one
 * of those is why the result is not SECURE, w->limit says so.
 */
enum cds_dnssec_status cds_dnssec_validate(const char *zone, const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   const struct cds_ds *ds, size_t n,
					   struct cds_dnssec_work *w);

/*
 * The second half of that: set signed by a zone key of dnskey, a DNSKEY
 * RRset already authenticated (by cds_dnssec_validate of dnskey itself).
 * SECURE or BOGUS (INSECURE when set has no records or no RRSIG); the same
 * limits.
 */
enum cds_dnssec_status cds_dnssec_verify(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey,
					 struct cds_dnssec_work *w);

/*
 * Is the empty answer (NODATA or NXDOMAIN) for set's owner and type proven
 * by the NSEC or NSEC3 records it carries (set->denial), signed by a zone
 * key of dnskey (a DNSKEY RRset of zone already authenticated)?  RFC 4035
 * §5.4 (NSEC), RFC 5155 §8 (NSEC3).  SECURE: proven.  INSECURE: an NSEC3
 * opt-out span, or NSEC3 iterations above w->limits->nsec3_max_iterations
 * (RFC 9276 §3.2).
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
 * answer must validate (cds_dnssec_verify, its limits); at most
 * CDS_DENIAL_MAX of them.
 */
enum cds_dnssec_status cds_dnssec_denial(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, struct cds_dnssec_work *w,
					 char *why, size_t whylen);

/*
 * Which of types[0..n) the zone apex's own NSEC or NSEC3 lists in its type
 * bitmap (RFC 4034 §4.1.2, RFC 5155 §3.2), read from the denial of an
 * empty answer for a type at the apex (set->denial; nothing is verified:
 * the caller treats the bitmap as it treats the empty answer itself).  An
 * NSEC counts when its owner is zone; an NSEC3 when its owner is the hash
 * of zone under the record's own parameters (RFC 5155 §5) and it uses at
 * most max_iterations iterations (RFC 9276 §3.2: no hashing beyond that).
 * listed[i] is set for each type.  Returns 0, CDS_ENOENT when the denial
 * holds no such record (an unsigned zone, only records of other names,
 * too many iterations) or CDS_EINVAL when zone is not a name.
 */
int cds_denial_apex_types(const char *zone, const struct cds_rrset *set, uint32_t max_iterations,
			  const uint16_t *types, size_t n, bool *listed);

/* Is key k of dnskey one that a DS of ds[0..n) references (key tag,
 * algorithm and digest, RFC 4035 §5.2)?  No signature is verified. */
bool cds_dnssec_key_in_ds(const char *zone, const struct cds_rrset *dnskey, size_t k,
			  const struct cds_ds *ds, size_t n);

/*
 * RFC 7344 §4.1: is set signed by a key that is both in the DNSKEY RRset
 * dnskey (authenticated) and referenced by a DS record of ds[0..n)?
 * SECURE with *keytag the signing key's tag, BOGUS when no RRSIG of such a
 * key validates (*keytag: the tag of a key that did sign, 0 when none), or
 * INSECURE when set has no records or no RRSIG.
 */
enum cds_dnssec_status cds_dnssec_verify_ds_signer(const char *zone, const struct cds_rrset *set,
						   const struct cds_rrset *dnskey,
						   const struct cds_ds *ds, size_t n,
						   struct cds_dnssec_work *w, uint16_t *keytag);

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

/* ----------------------------------------------------------- DSYNC --- */

/*
 * The DSYNC record of RFC 9859 §2: a parent's word to its children on where
 * to send a NOTIFY(CDS) or NOTIFY(CSYNC) (RFC 9859 §4).  RRtype CDS stands
 * for CDS and CDNSKEY alike (§2.1): a child that changes its CDNSKEY RRset
 * sends NOTIFY(CDS), so a parent publishes no DSYNC for CDNSKEY.
 */

/* Scheme 1, mnemonic NOTIFY (RFC 9859 §2.3, §6.2): a DNS NOTIFY message
 * over ordinary DNS transport to the target and port. */
#define CDS_DSYNC_SCHEME_NOTIFY 1

/* rdata: RRtype (2), Scheme (1), Port (2), Target (uncompressed, up to
 * 255 octets). */
#define CDS_DSYNC_WIRE_MAX (5 + 255)

struct cds_dsync {
	uint16_t rrtype;                /* the NOTIFY's qtype: CDS_T_CDS or CDS_T_CSYNC */
	uint8_t scheme;                 /* CDS_DSYNC_SCHEME_NOTIFY */
	uint16_t port;                  /* 1..65535 (0 is ignored by consumers, §2.1) */
	char target[CDS_DNAME_BUFSIZE]; /* normalised; must have address records */
};

/* The owner names of RFC 9859 §3. */
enum cds_dsync_owner_kind {
	CDS_DSYNC_OWNER_WILDCARD, /* *._dsync.PARENT (§3.1, the recommended one) */
	CDS_DSYNC_OWNER_ZONE,     /* _dsync.PARENT (§3.1: where wildcards cannot be) */
	CDS_DSYNC_OWNER_CHILD,    /* CHILDLABELS._dsync.PARENT (§3.2) */
};

/*
 * The owner name, normalised, of DSYNC records of kind for the zone parent
 * (normalised); child (normalised, strictly below parent) only for
 * CDS_DSYNC_OWNER_CHILD.  Returns 0, CDS_EINVAL (child not below parent)
 * or CDS_ERANGE (the owner would be longer than 255 octets).
 */
int cds_dsync_owner(const char *parent, enum cds_dsync_owner_kind kind, const char *child,
		    char out[CDS_DNAME_BUFSIZE]);

/* The rdata of d in wire form (RFC 9859 §2.1) into out (outlen octets,
 * CDS_DSYNC_WIRE_MAX suffice).  Returns its length, CDS_EINVAL (target not
 * a normalised name) or CDS_ERANGE (out too small). */
int cds_dsync_to_wire(const struct cds_dsync *d, uint8_t *out, size_t outlen);

/* The rdata of d in presentation form (RFC 9859 §2.2): "CDS NOTIFY 53
 * notify.example.", the scheme by its mnemonic when it has one.  Returns 0
 * or CDS_ERANGE when buf is too small. */
int cds_dsync_format(const struct cds_dsync *d, char *buf, size_t buflen);

/* Room for rdata of len octets in the generic form. */
#define CDS_RDATA_GENERIC_TEXT(len) (3 + 6 + 2 * (len) + 1)

/* rdata in the generic form of RFC 3597 §5, "\# LEN HEX" (hex in upper
 * case, "\# 0" when empty), for servers that do not know the type's
 * mnemonic.  Returns 0 or CDS_ERANGE when buf is too small. */
int cds_rdata_format_generic(const uint8_t *rdata, size_t len, char *buf, size_t buflen);
