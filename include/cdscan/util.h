/* Small parsers and formatters shared by every layer: server addresses, DS
 * records in presentation form, RFC 3339 times, durations.  (Domain names:
 * dns.h.) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* Longest normalised name in presentation form without escapes, with dot. */
#define CDS_DNAME_TEXT_MAX 254
/* Buffer size that holds any normalised name and its NUL. */
#define CDS_DNAME_BUFSIZE (CDS_DNAME_TEXT_MAX + 1)

/* A nameserver address with its port. */
struct cds_addr {
	struct sockaddr_storage ss; /* AF_INET or AF_INET6, port set */
	socklen_t len;              /* length of the sockaddr in ss */
};

/*
 * Parse "ADDR" or "ADDR#PORT" (IPv4 or IPv6, CONTRACT.md), using default_port
 * when none is given.  Returns 0 or CDS_ESYNTAX.
 */
int cds_addr_parse(const char *text, uint16_t default_port, struct cds_addr *out);

/* An address from A (4 octets) or AAAA (16 octets) rdata, with port.
 * Returns 0 or CDS_EINVAL for any other length. */
int cds_addr_from_rdata(const uint8_t *rdata, size_t len, uint16_t port, struct cds_addr *out);

/* Format an address as "ADDR", or "ADDR#PORT" when the port is not 53. */
void cds_addr_format(const struct cds_addr *addr, char *buf, size_t len);

/* An address prefix ("10.0.0.0/8", "fd00::/8"; a bare address is a host
 * prefix). */
struct cds_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* the network, host bits cleared (4 octets for IPv4) */
	uint8_t len;      /* prefix length in bits */
};

/* A queries-per-second limit for the server addresses inside a prefix
 * (scan.per-prefix-qps): each address gets qps of its own. */
struct cds_qps_limit {
	struct cds_prefix prefix;
	uint32_t qps;
};

/* Parse "ADDR/LEN" or "ADDR".  Host bits set below the length are refused
 * (a typo such as 10.0.0.1/8 is more likely than intent).  Returns 0 or
 * CDS_ESYNTAX. */
int cds_prefix_parse(const char *text, struct cds_prefix *out);

/* Format as "ADDR/LEN" into buf (at least 64 bytes). */
void cds_prefix_format(const struct cds_prefix *p, char *buf, size_t len);

/* Is a inside p?  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as
 * its IPv4 address. */
bool cds_prefix_contains(const struct cds_prefix *p, const struct cds_addr *a);

/*
 * Is a in special-purpose space no nameserver on the Internet answers from
 * (RFC 6890 and the IANA special-purpose registries): unspecified,
 * loopback, private (RFC 1918), shared (RFC 6598), link-local, unique
 * local (fc00::/7), multicast, documentation, benchmarking, reserved?
 * Returns what it is in words with the range ("private (RFC 1918,
 * 10.0.0.0/8)"), or NULL for an ordinary unicast address.  IPv4-mapped,
 * NAT64 (64:ff9b::/96) and 6to4 addresses are judged by the IPv4 address
 * they carry.
 */
const char *cds_addr_special(const struct cds_addr *a);

/* Longest digest cdscan handles (SHA-384 is 48; unknown types up to 64). */
#define CDS_DS_DIGEST_MAX 64

/* A DS record's rdata (RFC 4034 §5.1). */
struct cds_ds {
	uint16_t keytag;
	uint8_t algorithm;
	uint8_t digest_type;
	uint8_t digest_len;                  /* octets used in digest */
	uint8_t digest[CDS_DS_DIGEST_MAX];
};

/* The digest length a DS digest type must have (1: 20, 2: 32, 3: 32,
 * 4: 48 octets; RFC 3658, 4509, 5933, 6605), or 0 for a type without a
 * fixed length. */
size_t cds_ds_digest_length(uint8_t digest_type);

/*
 * Parse "KEYTAG ALG DIGESTTYPE HEX" (whitespace inside HEX allowed, as in zone
 * files).  Checks ranges, and the digest length for the digest types with a
 * fixed length (1: 20, 2: 32, 3: 32, 4: 48 octets).  Returns 0 or CDS_ESYNTAX.
 */
int cds_ds_parse(const char *text, struct cds_ds *out);

/* Enough for a DS with the longest digest. */
#define CDS_DS_TEXT_MAX (5 + 1 + 3 + 1 + 3 + 1 + 2 * CDS_DS_DIGEST_MAX + 1)

/* Format as "KEYTAG ALG DIGESTTYPE HEX", digest in upper case (CONTRACT.md). */
void cds_ds_format(const struct cds_ds *ds, char buf[CDS_DS_TEXT_MAX]);

/* in[0..n) as 2n upper-case hexadecimal digits at out (no NUL written). */
void cds_hex_upper(const uint8_t *in, size_t n, char *out);

/* Parse an RFC 3339 time ("2026-11-29T18:00:00Z", "+01:00" offsets and
 * fractions accepted).  Returns 0 or CDS_ESYNTAX. */
int cds_time_parse(const char *text, time_t *out);

/* Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void cds_time_format(time_t t, char *buf, size_t len);

/*
 * The time cdscan decides at: now, or the RFC 3339 time in the environment
 * variable CDSCAN_NOW (a test clock: accept-after-delay over simulated days
 * without sleeping; signature validity is judged at the same time).
 */
time_t cds_clock(void);

/* Order of two 32-bit serial numbers (RFC 1982 §3.2), as a SOA serial is
 * compared. */
enum cds_serial_order {
	CDS_SERIAL_LESS = -1,
	CDS_SERIAL_EQUAL = 0,
	CDS_SERIAL_GREATER = 1,
	CDS_SERIAL_UNDEFINED = 2, /* exactly 2^31 apart: RFC 1982 leaves it open */
};

/* How a compares to b in serial number arithmetic. */
enum cds_serial_order cds_serial_compare(uint32_t a, uint32_t b);

/*
 * Parse a duration: a whole number with a unit, "ms", "s", "m", "h" or "d"
 * ("250ms", "2s", "72h").  A number without unit is seconds.  Result in
 * milliseconds.  Returns 0, CDS_ESYNTAX or CDS_ERANGE.
 */
int cds_duration_parse(const char *text, uint64_t *ms);

/*
 * Parse a whole decimal number in [min, max], no sign, no spaces.
 * Returns 0, CDS_ESYNTAX or CDS_ERANGE.
 */
int cds_uint_parse(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* The longest mail address cdscan takes: RFC 5321 §4.5.3.1 (a path of 256
 * octets less its angle brackets); a local part of at most 64. */
#define CDS_MAIL_ADDRESS_MAX 254
#define CDS_MAIL_LOCAL_MAX 64

/*
 * Whether s[0..len) is a mail address cdscan will put into a header: a
 * dot-atom local part (RFC 5322 §3.4.1) of letters, digits and
 * .!#$%&'*+-=?^_~ only (no quoted strings, no '/', '|', '`', '{', '}'),
 * no leading, trailing or double dot, no leading '-' (never an option); '@'; a host name of at least two
 * LDH labels.  No octet below 0x21 anywhere, so no CR or LF (header
 * injection).  Returns 0 or CDS_EDATA.
 */
int cds_mail_address_check(const char *s, size_t len);

/*
 * Expand a template: text with {name} placeholders, names[0..n) the ones
 * known, values[i] what names[i] stands for ({{ and }} are literal braces).
 * *out: the text (owned by the caller; NULL when values is NULL, which only
 * checks).  Returns 0, CDS_ENOMEM, or CDS_EDATA for an unknown name or an
 * unclosed brace, with its octet offset in *at and the name (or "{") in
 * bad.
 */
int cds_template_expand(const char *tmpl, const char *const *names, const char *const *values,
			size_t n, char **out, size_t *at, char *bad, size_t badlen);
