/* Reading DNS answers into canonical RRsets, RRset utilities and DS
 * digests (OpenSSL).  DNSSEC validation is in dnssec.c. */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

/*
 * Structural check of a DNS message before anything reads it.  Written
 * first as the guard in front of getdns (cdscan's parser until the
 * benchmark): getdns 1.6's getdns_wire2msg_dict reads past the end of some
 * malformed messages (found by tests/fuzz/fuzz_answer.c: a heap overflow in
 * its memcpy), and the messages come from any nameserver on the Internet.
 * Every name (labels,
 * compression pointers that point backwards, RFC 1035 §4.1.4), every RR
 * header and RDLENGTH, and the names inside the rdata of the types that
 * carry them must lie inside the message.
 */
static bool check_name(const uint8_t *m, size_t len, size_t *off, size_t limit)
{
	size_t p = *off, total = 0;
	bool jumped = false;
	int hops = 0;

	for (;;) {
		if (p >= (jumped ? len : limit))
			return false;
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= (jumped ? len : limit))
				return false;
			size_t target = (size_t)(l & 0x3F) << 8 | m[p + 1];
			/* A pointer must point before itself: no loops. */
			if (target >= p || ++hops > 64)
				return false;
			if (!jumped)
				*off = p + 2;
			jumped = true;
			p = target;
			continue;
		}
		if (l & 0xC0)
			return false; /* extended label types are not used */
		total += (size_t)l + 1;
		if (total > 255)
			return false;
		if (l == 0) {
			if (!jumped)
				*off = p + 1;
			return true;
		}
		p += (size_t)l + 1;
	}
}

/* A type bitmap (RFC 4034 §4.1.2) filling [o, end) exactly: windows in
 * increasing order, each with 1 to 32 octets. */
static bool check_bitmap(const uint8_t *m, size_t o, size_t end)
{
	int last = -1;
	while (o < end) {
		if (o + 2 > end || (int)m[o] <= last || m[o + 1] == 0 || m[o + 1] > 32 ||
		    o + 2 + m[o + 1] > end)
			return false;
		last = m[o];
		o += 2 + (size_t)m[o + 1];
	}
	return o == end;
}

/* An uncompressed name at *off inside [*off, end), at most 255 octets;
 * *off moves past it.  The NSEC next domain name is sent uncompressed
 * (RFC 4034 §4.1.1) and signed as it stands (RFC 6840 §5.1). */
static bool check_plain_name(const uint8_t *m, size_t *off, size_t end)
{
	size_t p = *off;
	while (p < end && m[p] != 0) {
		if (m[p] > 63 || p + 1 + m[p] >= end)
			return false;
		p += 1 + (size_t)m[p];
	}
	if (p >= end || p + 1 - *off > 255)
		return false;
	*off = p + 1;
	return true;
}

/* NSEC3 rdata (RFC 5155 §3.2): hash algorithm 1 (SHA-1, the only one
 * defined), flags, iterations, salt, a hash of SHA-1's 20 octets, then
 * the type bitmap (empty at an empty non-terminal). */
static bool check_nsec3(const uint8_t *m, size_t start, size_t end)
{
	if (end - start < 5 || m[start] != 1)
		return false;
	size_t o = start + 5 + (size_t)m[start + 4];
	if (o >= end || m[o] != 20 || o + 1 + 20 > end)
		return false;
	return check_bitmap(m, o + 1 + 20, end);
}

/*
 * Only the record types an answer to cdscan's questions carries are let
 * through, each with the lengths inside its rdata checked: getdns's per-type
 * parsers trust those (found by fuzzing: a HIP record whose public-key length
 * points past its rdata made getdns read 48 KiB beyond the message).
 */
static bool check_rdata(const uint8_t *m, size_t len, size_t start, size_t end, uint16_t type)
{
	size_t o = start;
	switch (type) {
	case 16: /* TXT: character strings filling the rdata */
		while (o < end)
			o += 1 + (size_t)m[o];
		return o == end;
	case CDS_T_NSEC3:
		return check_nsec3(m, start, end);
	case 51: /* NSEC3PARAM */
		return end - start >= 5 && start + 5 + m[start + 4] == end;
	case 41: /* OPT: option code, length, data */
		while (o < end) {
			if (o + 4 > end)
				return false;
			o += 4 + ((size_t)m[o + 2] << 8 | m[o + 3]);
		}
		return o == end;
	case CDS_T_NS:
	case CDS_T_CNAME:
	case 12: /* PTR */
	case 39: /* DNAME */
		return check_name(m, len, &o, end) && o == end;
	case CDS_T_SOA:
		return check_name(m, len, &o, end) && check_name(m, len, &o, end) && o + 20 == end;
	case 15: /* MX */
		o += 2;
		return o < end && check_name(m, len, &o, end) && o == end;
	case CDS_T_RRSIG:
		o += 18;
		return o < end && check_name(m, len, &o, end) && o < end;
	case CDS_T_NSEC: /* next domain name, type bitmap (RFC 4034 §4.1) */
		return check_plain_name(m, &o, end) && check_bitmap(m, o, end);
	case CDS_T_A:
		return end - start == 4;
	case CDS_T_AAAA:
		return end - start == 16;
	case CDS_T_DNSKEY:
	case CDS_T_CDNSKEY:
		return end - start >= 4;
	case CDS_T_DS:
	case CDS_T_CDS:
		return end - start >= 5;
	case CDS_T_CSYNC:
		return end - start >= 6 && check_bitmap(m, start + 6, end);
	default:
		return false;
	}
}

static bool message_well_formed(const uint8_t *m, size_t len)
{
	if (len < 12)
		return false;
	size_t off = 12;
	unsigned qd = (unsigned)m[4] << 8 | m[5];
	unsigned rrs = ((unsigned)m[6] << 8 | m[7]) + ((unsigned)m[8] << 8 | m[9]) +
		       ((unsigned)m[10] << 8 | m[11]);
	for (unsigned i = 0; i < qd; i++) {
		if (!check_name(m, len, &off, len) || off + 4 > len)
			return false;
		off += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		if (!check_name(m, len, &off, len) || off + 10 > len)
			return false;
		uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
		size_t rdlen = (size_t)m[off + 8] << 8 | m[off + 9];
		off += 10;
		if (off + rdlen > len || !check_rdata(m, len, off, off + rdlen, type))
			return false;
		off += rdlen;
	}
	return true;
}

/*
 * Reading answers.  Every message first passes message_well_formed (below);
 * the records cdscan needs are then read straight from the checked wire form
 * into cds_rrset.  cdscan used getdns_wire2msg_dict for this until the
 * benchmark (bench/RESULTS.md) showed its dict representation of every
 * answer taking 43% of the scan's CPU (malloc and strcmp per field); the
 * structural check already walks every name and record, so reading the few
 * fields needed here is a small step on top of it.  getdns stays the oracle
 * in tests/fuzz/fuzz_answer.c.
 */

/* A (possibly compressed) name at *off, already checked by check_name, copied
 * uncompressed into out; *off moves past it in the message.  lower: fold
 * ASCII upper case (RFC 4034 §6.2).  Returns the length or 0 when it does
 * not fit (not reached for checked messages; kept as a guard). */
static size_t read_name(const uint8_t *m, size_t len, size_t *off, uint8_t out[256], bool lower)
{
	size_t p = *off, o = 0;
	bool jumped = false;
	for (int hops = 0; hops <= 64; ) {
		if (p >= len)
			return 0;
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= len)
				return 0;
			if (!jumped)
				*off = p + 2;
			jumped = true;
			p = (size_t)(l & 0x3F) << 8 | m[p + 1];
			hops++;
			continue;
		}
		if (l & 0xC0 || o + l + 1 > 255 || p + l + 1 > len)
			return 0;
		out[o++] = l;
		for (size_t i = 1; i <= l; i++)
			out[o++] = lower ? (uint8_t)tolower(m[p + i]) : m[p + i];
		if (l == 0) {
			if (!jumped)
				*off = p + 1;
			return o;
		}
		p += (size_t)l + 1;
	}
	return 0;
}

/* One resource record of a checked message. */
struct wire_rr {
	uint8_t owner[256];
	size_t owner_len;
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata, rdlen; /* offset and length of the rdata in the message */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool read_rr(const uint8_t *m, size_t len, size_t *off, struct wire_rr *rr)
{
	rr->owner_len = read_name(m, len, off, rr->owner, false);
	if (rr->owner_len == 0 || *off + 10 > len)
		return false;
	rr->type = get16(m + *off);
	rr->class = get16(m + *off + 2);
	rr->ttl = get32(m + *off + 4);
	rr->rdlen = get16(m + *off + 8);
	rr->rdata = *off + 10;
	*off = rr->rdata + rr->rdlen;
	return *off <= len;
}

/* Skip the question section; returns the offset of the answer section. */
static size_t skip_question(const uint8_t *m, size_t len)
{
	size_t off = 12;
	unsigned qd = get16(m + 4);
	for (unsigned i = 0; i < qd; i++) {
		uint8_t tmp[256];
		if (read_name(m, len, &off, tmp, false) == 0 || off + 4 > len)
			return 0;
		off += 4;
	}
	return off;
}

static int push_rdata(struct cds_rrset *set, const uint8_t *data, size_t len)
{
	struct cds_rdata *n = realloc(set->rdata, (set->count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	set->rdata = n;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return CDS_ENOMEM;
	memcpy(copy, data, len);
	set->rdata[set->count].len = (uint16_t)len;
	set->rdata[set->count].data = copy;
	set->count++;
	return 0;
}

/*
 * The canonical rdata of one record (RFC 4034 §6.2): the names inside NS
 * and SOA rdata uncompressed and lower-cased; the other types cdscan reads
 * carry no names (A, AAAA, DNSKEY, CDNSKEY, DS, CDS, CSYNC).
 */
static int add_record(struct cds_rrset *set, const uint8_t *m, size_t len,
		      const struct wire_rr *rr)
{
	uint8_t buf[2 * 255 + 20];
	size_t o = rr->rdata, n;
	switch (rr->type) {
	case CDS_T_NS:
		if ((n = read_name(m, len, &o, buf, true)) == 0)
			return CDS_EDATA;
		return push_rdata(set, buf, n);
	case CDS_T_SOA: {
		size_t a = read_name(m, len, &o, buf, true);
		size_t b = a ? read_name(m, len, &o, buf + a, true) : 0;
		if (b == 0 || o + 20 != rr->rdata + rr->rdlen)
			return CDS_EDATA;
		memcpy(buf + a + b, m + o, 20);
		return push_rdata(set, buf, a + b + 20);
	}
	default:
		return push_rdata(set, m + rr->rdata, rr->rdlen);
	}
}

/* An RRSIG's rdata with its signer's name uncompressed and lower-cased: the
 * form that goes into the signed data (RFC 4034 §3.1.8.1). */
static int push_sig(struct cds_rrset *set, const uint8_t *m, size_t len, const struct wire_rr *rr)
{
	uint8_t signer[256];
	size_t o = rr->rdata + 18, end = rr->rdata + rr->rdlen;
	if (rr->rdlen <= 18)
		return CDS_EDATA;
	size_t sl = read_name(m, len, &o, signer, true);
	if (sl == 0 || o > end)
		return CDS_EDATA;
	size_t total = 18 + sl + (end - o);
	struct cds_rrsig *n = realloc(set->sigs, (set->sig_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	set->sigs = n;
	uint8_t *raw = malloc(total);
	if (!raw)
		return CDS_ENOMEM;
	memcpy(raw, m + rr->rdata, 18);
	memcpy(raw + 18, signer, sl);
	memcpy(raw + 18 + sl, m + o, end - o);
	const uint8_t *f = m + rr->rdata;
	set->sigs[set->sig_count++] = (struct cds_rrsig){
		.key_tag = get16(f + 16), .algorithm = f[2], .inception = get32(f + 12),
		.expiration = get32(f + 8), .raw_len = (uint16_t)total, .raw = raw};
	return 0;
}

static bool wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return false;
	return true;
}

static int rdata_cmp(const void *x, const void *y)
{
	const struct cds_rdata *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);
	if (c != 0)
		return c;
	return (int)a->len - (int)b->len;
}

/* Canonical order, duplicates removed (RFC 2181 §5: an RRset is a set). */
static void canonical_order(struct cds_rrset *set)
{
	if (set->count < 2)
		return;
	qsort(set->rdata, set->count, sizeof(*set->rdata), rdata_cmp);
	size_t w = 1;
	for (size_t i = 1; i < set->count; i++) {
		if (rdata_cmp(&set->rdata[w - 1], &set->rdata[i]) == 0)
			free(set->rdata[i].data);
		else
			set->rdata[w++] = set->rdata[i];
	}
	set->count = w;
}

/*
 * What one parse may keep of an RRset (limits.records-per-rrset and
 * limits.rrsigs-per-rrset): past them nothing more is copied, the records
 * are only counted, and the answer is refused with the numbers (an answer
 * of thousands of records is no zone's data, and every later comparison
 * and validation would pay for it).
 */
struct caps {
	const struct cds_dnssec_limits *limits;
	size_t records, sigs; /* seen so far for the RRset being read */
};

/* Keep one more record (rrsig: an RRSIG) of the RRset?  Counts it. */
static bool room(struct caps *c, bool rrsig)
{
	size_t *n = rrsig ? &c->sigs : &c->records;
	return ++*n <= (rrsig ? c->limits->rrsigs_per_rrset : c->limits->records_per_rrset);
}

/* CDS_ERANGE with the limit in info->limit when c went past one (set is
 * the RRset, its owner and type); else 0. */
static int caps_check(const struct caps *c, const struct cds_rrset *set,
		      struct cds_answer_info *info)
{
	char tmp[16];
	const char *type = cds_rrtype_name(set->type, tmp);
	if (c->records > c->limits->records_per_rrset)
		snprintf(info->limit, sizeof(info->limit),
			 "%zu %s records in one RRset; limits.records-per-rrset is %u", c->records,
			 type, c->limits->records_per_rrset);
	else if (c->sigs > c->limits->rrsigs_per_rrset)
		snprintf(info->limit, sizeof(info->limit),
			 "%zu RRSIGs over one %s RRset; limits.rrsigs-per-rrset is %u", c->sigs,
			 type, c->limits->rrsigs_per_rrset);
	else
		return 0;
	return CDS_ERANGE;
}

/* Keep the smallest TTL of what set holds; called before each record or
 * RRSIG is added.  RFC 2181 §8: a TTL with the top bit set counts as 0. */
static void take_ttl(struct cds_rrset *set, uint32_t ttl)
{
	if (ttl > 0x7fffffffu)
		ttl = 0;
	if ((set->count == 0 && set->sig_count == 0) || ttl < set->ttl)
		set->ttl = ttl;
}

/* The answer section: the records of qtype at qname, and their RRSIGs. */
static int read_answer(const uint8_t *m, size_t len, size_t *off, unsigned an,
		       const struct cds_dnssec_limits *limits, struct cds_answer_info *info,
		       struct cds_rrset *out)
{
	struct wire_rr rr;
	struct caps c = {.limits = limits};
	for (unsigned i = 0; i < an; i++) {
		int r = 0;
		if (!read_rr(m, len, off, &rr))
			return CDS_EDATA;
		if (rr.class != 1 || !wire_name_equal(rr.owner, rr.owner_len, out->owner, out->owner_len))
			continue;
		if (rr.type == out->type) {
			if (room(&c, false)) {
				take_ttl(out, rr.ttl);
				r = add_record(out, m, len, &rr);
			}
			if (r == 0 && out->type == CDS_T_SOA)
				info->soa_serial = get32(m + rr.rdata + rr.rdlen - 20);
		} else if (rr.type == CDS_T_RRSIG && rr.rdlen > 18 &&
			   get16(m + rr.rdata) == out->type && room(&c, true)) {
			take_ttl(out, rr.ttl);
			r = push_sig(out, m, len, &rr);
		} else if (rr.type == CDS_T_CNAME && out->type != CDS_T_CNAME) {
			info->alias = true;
		}
		if (r != 0)
			return r;
	}
	return caps_check(&c, out, info);
}

/* The denial RRset of out for (owner, type), or NULL; with add, a new one
 * when there is none and room for it (CDS_DENIAL_MAX). */
static struct cds_rrset *denial_set(struct cds_rrset *out, const struct wire_rr *rr,
				    uint16_t type, bool add)
{
	for (size_t i = 0; i < out->denial_count; i++)
		if (out->denial[i].type == type &&
		    wire_name_equal(out->denial[i].owner, out->denial[i].owner_len, rr->owner,
				    rr->owner_len))
			return &out->denial[i];
	if (!add || out->denial_count >= CDS_DENIAL_MAX)
		return NULL;
	/* Grown one at a time: most empty answers carry one NSEC RRset (NSEC3:
	 * up to three), and a scan keeps thousands of them in flight, where
	 * CDS_DENIAL_MAX sets each cost 2.5 KiB (measured: 20 MB at 2,000
	 * delegations in flight). */
	struct cds_rrset *grown = realloc(out->denial, (out->denial_count + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	out->denial = grown;
	struct cds_rrset *d = &out->denial[out->denial_count++];
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < rr->owner_len; i++)
		d->owner[i] = (uint8_t)tolower(rr->owner[i]);
	d->owner_len = (uint16_t)rr->owner_len;
	d->type = type;
	d->rcode = out->rcode;
	d->present = true;
	return d;
}

/*
 * The authority section: whether the answer is a referral (nothing in the
 * answer, NS records for a name other than the zone asked about), and for
 * an empty answer (NODATA or NXDOMAIN) the denial of existence it carries:
 * its NSEC and NSEC3 RRsets, each with the RRSIGs covering it (RFC 4035
 * §3.1.3, RFC 5155 §7.2), into out->denial.  Records first, RRSIGs in a
 * second pass: they may come in any order.
 */
static int read_authority(const uint8_t *m, size_t len, size_t off, unsigned an, unsigned ns,
			  const struct cds_dnssec_limits *limits, struct cds_answer_info *info,
			  struct cds_rrset *out)
{
	bool denial = out->count == 0 && (info->rcode == 0 || info->rcode == 3);
	size_t start = off;
	struct wire_rr rr;
	struct caps c[CDS_DENIAL_MAX];
	for (size_t i = 0; i < CDS_DENIAL_MAX; i++)
		c[i] = (struct caps){.limits = limits};
	for (int pass = 0; pass < 2; pass++) {
		off = start;
		for (unsigned i = 0; i < ns; i++) {
			if (!read_rr(m, len, &off, &rr))
				return CDS_EDATA;
			if (pass == 0 && rr.type == CDS_T_NS && an == 0 && !info->aa)
				info->referral = true;
			if (pass == 0 && rr.type == CDS_T_SOA && rr.class == 1 && rr.rdlen >= 20 &&
			    wire_name_equal(rr.owner, rr.owner_len, out->owner, out->owner_len)) {
				info->apex_soa = true;
				info->apex_soa_serial = get32(m + rr.rdata + rr.rdlen - 20);
			}
			if (!denial || rr.class != 1)
				continue;
			struct cds_rrset *d = NULL;
			int r = 0;
			if (pass == 0 && (rr.type == CDS_T_NSEC || rr.type == CDS_T_NSEC3) &&
			    (d = denial_set(out, &rr, rr.type, true)) &&
			    room(&c[d - out->denial], false)) {
				take_ttl(d, rr.ttl);
				r = add_record(d, m, len, &rr);
			} else if (pass == 1 && rr.type == CDS_T_RRSIG && rr.rdlen > 18 &&
				   (d = denial_set(out, &rr, get16(m + rr.rdata), false)) &&
				   room(&c[d - out->denial], true)) {
				take_ttl(d, rr.ttl);
				r = push_sig(d, m, len, &rr);
			}
			if (r != 0)
				return r;
		}
	}
	for (size_t i = 0; i < out->denial_count; i++) {
		int r = caps_check(&c[i], &out->denial[i], info);
		if (r != 0)
			return r;
	}
	return 0;
}

int cds_answer_parse(const uint8_t *wire, size_t len, const char *qname, uint16_t qtype,
		     const struct cds_dnssec_limits *limits, struct cds_answer_info *info,
		     struct cds_rrset *out)
{
	if (!limits)
		limits = &cds_dnssec_limits_default;
	uint8_t qwire[256];
	int qlen = cds_dname_to_wire(qname, qwire);

	memset(out, 0, sizeof(*out));
	memset(info, 0, sizeof(*info));
	out->type = qtype;
	if (qlen < 0)
		return CDS_EINVAL;
	if (!message_well_formed(wire, len))
		return CDS_EDATA;
	size_t off = skip_question(wire, len);
	if (off == 0)
		return CDS_EDATA;
	info->rcode = wire[3] & 0x0F;
	info->aa = (wire[2] & 0x04) != 0;
	info->tc = (wire[2] & 0x02) != 0;
	info->ad = (wire[3] & 0x20) != 0;
	out->rcode = info->rcode;
	out->present = true;
	for (int i = 0; i < qlen; i++)
		out->owner[i] = (uint8_t)tolower(qwire[i]);
	out->owner_len = (uint16_t)qlen;

	unsigned an = get16(wire + 6), ns = get16(wire + 8);
	int r = read_answer(wire, len, &off, an, limits, info, out);
	if (r == 0)
		r = read_authority(wire, len, off, an, ns, limits, info, out);
	if (r != 0) {
		cds_rrset_clear(out);
		return r;
	}
	canonical_order(out);
	for (size_t i = 0; i < out->denial_count; i++)
		canonical_order(&out->denial[i]);
	return 0;
}

/* The NS names at owner in the next count records at *off, into out. */
static bool referral_ns(const uint8_t *m, size_t len, size_t *off, unsigned count,
			const uint8_t *owner, size_t olen, struct cds_referral *out)
{
	struct wire_rr rr;
	for (unsigned i = 0; i < count; i++) {
		if (!read_rr(m, len, off, &rr))
			return false;
		if (rr.type != CDS_T_NS || out->ns_count >= CDS_REFERRAL_MAX_NS ||
		    !wire_name_equal(rr.owner, rr.owner_len, owner, olen))
			continue;
		uint8_t ns[256];
		size_t o = rr.rdata, nl = read_name(m, len, &o, ns, true);
		char txt[CDS_DNAME_BUFSIZE];
		if (nl == 0 || cds_dname_from_wire(ns, nl, txt) != 0)
			continue;
		bool dup = false;
		for (size_t k = 0; k < out->ns_count && !dup; k++)
			dup = strcmp(out->ns[k].name, txt) == 0;
		if (!dup)
			snprintf(out->ns[out->ns_count++].name, CDS_DNAME_BUFSIZE, "%s", txt);
	}
	return true;
}

int cds_referral_parse(const uint8_t *wire, size_t len, const char *domain,
		       struct cds_referral *out)
{
	uint8_t owner[256];
	int olen = cds_dname_to_wire(domain, owner);

	memset(out, 0, sizeof(*out));
	if (olen < 0)
		return CDS_EINVAL;
	if (!message_well_formed(wire, len))
		return CDS_EDATA;
	size_t off = skip_question(wire, len);
	unsigned an = get16(wire + 6), ns = get16(wire + 8), ar = get16(wire + 10);
	if (off == 0)
		return CDS_EDATA;
	/* The authority section's NS RRset of a referral wins over NS in the
	 * answer section (a server authoritative for the child too). */
	struct cds_referral from_answer;
	memset(&from_answer, 0, sizeof(from_answer));
	if (!referral_ns(wire, len, &off, an, owner, (size_t)olen, &from_answer) ||
	    !referral_ns(wire, len, &off, ns, owner, (size_t)olen, out))
		return CDS_EDATA;
	if (out->ns_count == 0)
		*out = from_answer;
	struct wire_rr rr;
	for (unsigned i = 0; i < ar; i++) {
		char txt[CDS_DNAME_BUFSIZE];
		if (!read_rr(wire, len, &off, &rr))
			return CDS_EDATA;
		if (rr.class != 1 || (rr.type != CDS_T_A && rr.type != CDS_T_AAAA) ||
		    cds_dname_from_wire(rr.owner, rr.owner_len, txt) != 0)
			continue;
		for (size_t k = 0; k < out->ns_count; k++) {
			if (strcmp(out->ns[k].name, txt) != 0 || out->ns[k].addr_count >= 8)
				continue;
			if (cds_addr_from_rdata(wire + rr.rdata, rr.rdlen, 53,
						&out->ns[k].addrs[out->ns[k].addr_count]) == 0)
				out->ns[k].addr_count++;
		}
	}
	return out->ns_count ? 0 : CDS_ENOENT;
}

void cds_rrset_clear(struct cds_rrset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		free(set->rdata[i].data);
	free(set->rdata);
	for (size_t i = 0; i < set->sig_count; i++)
		free(set->sigs[i].raw);
	free(set->sigs);
	for (size_t i = 0; i < set->denial_count; i++)
		cds_rrset_clear(&set->denial[i]);
	free(set->denial);
	memset(set, 0, sizeof(*set));
}

int cds_rrset_copy_records(const struct cds_rrset *src, struct cds_rrset *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->rcode = src->rcode;
	dst->present = src->present;
	memcpy(dst->owner, src->owner, src->owner_len);
	dst->owner_len = src->owner_len;
	if (src->count == 0)
		return 0;
	dst->rdata = calloc(src->count, sizeof(*dst->rdata));
	if (!dst->rdata)
		return CDS_ENOMEM;
	for (size_t i = 0; i < src->count; i++) {
		dst->rdata[i].data = malloc(src->rdata[i].len ? src->rdata[i].len : 1);
		if (!dst->rdata[i].data) {
			cds_rrset_clear(dst);
			return CDS_ENOMEM;
		}
		memcpy(dst->rdata[i].data, src->rdata[i].data, src->rdata[i].len);
		dst->rdata[i].len = src->rdata[i].len;
		dst->count = i + 1;
	}
	return 0;
}

bool cds_rrset_equal(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (rdata_cmp(&a->rdata[i], &b->rdata[i]) != 0)
			return false;
	return true;
}

/* The same records and byte-identical RRSIGs (in any order). */
static bool same_signed_records(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (!cds_rrset_equal(a, b) || a->sig_count != b->sig_count)
		return false;
	for (size_t i = 0; i < a->sig_count; i++) {
		bool found = false;
		for (size_t k = 0; k < b->sig_count && !found; k++)
			found = a->sigs[i].raw_len == b->sigs[k].raw_len &&
				memcmp(a->sigs[i].raw, b->sigs[k].raw, a->sigs[i].raw_len) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* Does b carry a denial RRset identical to d (owner, type, records and
 * RRSIGs)? */
static bool has_denial(const struct cds_rrset *b, const struct cds_rrset *d)
{
	for (size_t k = 0; k < b->denial_count; k++) {
		const struct cds_rrset *e = &b->denial[k];
		if (e->type == d->type && e->owner_len == d->owner_len &&
		    memcmp(e->owner, d->owner, d->owner_len) == 0 && same_signed_records(d, e))
			return true;
	}
	return false;
}

bool cds_rrset_identical(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (a == b)
		return true;
	/* The owner and type too: the same records and RRSIG bytes served for
	 * another name (ns2's A where ns1's was validated) must be validated
	 * on their own, and fail. */
	if (a->type != b->type || a->owner_len != b->owner_len ||
	    memcmp(a->owner, b->owner, a->owner_len) != 0)
		return false;
	if (!same_signed_records(a, b) || a->denial_count != b->denial_count)
		return false;
	/* The denials too: validating a's denial must be validating b's. */
	for (size_t i = 0; i < a->denial_count; i++)
		if (!has_denial(b, &a->denial[i]))
			return false;
	return true;
}

uint16_t cds_dnskey_keytag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

int cds_ds_from_dnskey(const char *owner, const uint8_t *rdata, size_t len, uint8_t digest_type,
		       struct cds_ds *out)
{
	const EVP_MD *md;
	uint8_t ow[256];
	int olen = cds_dname_to_wire(owner, ow);

	switch (digest_type) {
	case 1:
		md = EVP_sha1();
		break;
	case 2:
		md = EVP_sha256();
		break;
	case 4:
		md = EVP_sha384();
		break;
	default:
		return CDS_EINVAL;
	}
	if (olen < 0 || len < 4)
		return CDS_EINVAL;
	for (int i = 0; i < olen; i++)
		ow[i] = (uint8_t)tolower(ow[i]);
	memset(out, 0, sizeof(*out));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int dlen = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, ow, (size_t)olen) &&
		 EVP_DigestUpdate(ctx, rdata, len) && EVP_DigestFinal_ex(ctx, out->digest, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return CDS_ECRYPTO;
	out->digest_len = (uint8_t)dlen;
	out->keytag = cds_dnskey_keytag(rdata, len);
	out->algorithm = rdata[3];
	out->digest_type = digest_type;
	return 0;
}

int cds_ds_from_rdata(const uint8_t *rdata, size_t len, struct cds_ds *out)
{
	/* A digest whose length is not its type's (a SHA-256 digest of 31
	 * octets) is no digest of any key: the record is malformed, and must
	 * never be proposed as a DS. */
	size_t want = len >= 5 ? cds_ds_digest_length(rdata[3]) : 0;
	if (len < 5 || len - 4 > CDS_DS_DIGEST_MAX || (want && len - 4 != want))
		return CDS_EDATA;
	memset(out, 0, sizeof(*out));
	out->keytag = (uint16_t)(rdata[0] << 8 | rdata[1]);
	out->algorithm = rdata[2];
	out->digest_type = rdata[3];
	out->digest_len = (uint8_t)(len - 4);
	memcpy(out->digest, rdata + 4, len - 4);
	return 0;
}

int cds_dnskey_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen)
{
	if (len < 4)
		return CDS_EDATA;
	size_t b64 = 4 * ((len - 4 + 2) / 3) + 1;
	int n = snprintf(buf, buflen, "%u %u %u ", rdata[0] << 8 | rdata[1], rdata[2], rdata[3]);
	if (n < 0 || (size_t)n + b64 > buflen)
		return CDS_ERANGE;
	EVP_EncodeBlock((unsigned char *)buf + n, rdata + 4, (int)(len - 4));
	return 0;
}

const char *cds_rrtype_name(uint16_t type, char tmp[16])
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {{CDS_T_A, "A"},         {CDS_T_NS, "NS"},       {CDS_T_SOA, "SOA"},
		     {CDS_T_AAAA, "AAAA"},   {CDS_T_DS, "DS"},       {CDS_T_RRSIG, "RRSIG"},
		     {CDS_T_NSEC, "NSEC"},   {CDS_T_DNSKEY, "DNSKEY"}, {CDS_T_NSEC3, "NSEC3"},
		     {CDS_T_CDS, "CDS"},     {CDS_T_CDNSKEY, "CDNSKEY"}, {CDS_T_CSYNC, "CSYNC"},
		     {CDS_T_DSYNC, "DSYNC"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(tmp, 16, "TYPE%u", type);
	return tmp;
}

static const char *type_name(unsigned t, char *tmp, size_t len)
{
	switch (t) {
	case CDS_T_A:
		return "A";
	case CDS_T_NS:
		return "NS";
	case CDS_T_SOA:
		return "SOA";
	case CDS_T_AAAA:
		return "AAAA";
	default:
		snprintf(tmp, len, "TYPE%u", t);
		return tmp;
	}
}

int cds_csync_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen)
{
	if (len < 6)
		return CDS_EDATA;
	uint32_t serial = (uint32_t)rdata[0] << 24 | (uint32_t)rdata[1] << 16 |
			  (uint32_t)rdata[2] << 8 | rdata[3];
	int n = snprintf(buf, buflen, "%u %u", serial, rdata[4] << 8 | rdata[5]);
	/* Type bit map (RFC 4034 §4.1.2): window, length, bitmap. */
	for (size_t o = 6; o + 2 <= len && n > 0 && (size_t)n < buflen;) {
		unsigned window = rdata[o], blen = rdata[o + 1];
		if (blen == 0 || blen > 32 || o + 2 + blen > len)
			return CDS_EDATA;
		for (unsigned i = 0; i < blen * 8; i++) {
			if (rdata[o + 2 + i / 8] & (0x80 >> (i % 8))) {
				char tmp[16];
				n += snprintf(buf + n, buflen - (size_t)n, " %s",
					      type_name(window * 256 + i, tmp, sizeof(tmp)));
				if ((size_t)n >= buflen)
					return CDS_ERANGE;
			}
		}
		o += 2 + blen;
	}
	return (n > 0 && (size_t)n < buflen) ? 0 : CDS_ERANGE;
}

int cds_csync_parse(const uint8_t *rdata, size_t len, struct cds_csync *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 6)
		return CDS_EDATA;
	out->serial = (uint32_t)rdata[0] << 24 | (uint32_t)rdata[1] << 16 |
		      (uint32_t)rdata[2] << 8 | rdata[3];
	out->flags = (uint16_t)(rdata[4] << 8 | rdata[5]);
	int last_window = -1;
	for (size_t o = 6; o < len;) {
		if (o + 2 > len)
			return CDS_EDATA;
		unsigned window = rdata[o], blen = rdata[o + 1];
		if ((int)window <= last_window || blen == 0 || blen > 32 || o + 2 + blen > len)
			return CDS_EDATA;
		last_window = (int)window;
		for (unsigned i = 0; i < blen * 8; i++) {
			if (!(rdata[o + 2 + i / 8] & (0x80 >> (i % 8))))
				continue;
			uint16_t t = (uint16_t)(window * 256 + i);
			if (t == CDS_T_NS)
				out->ns = true;
			else if (t == CDS_T_A)
				out->a = true;
			else if (t == CDS_T_AAAA)
				out->aaaa = true;
			else if (!out->other_type)
				out->other_type = t;
		}
		o += 2 + blen;
	}
	return 0;
}

bool cds_rdata_is_cds_delete(const struct cds_rdata *rd)
{
	static const uint8_t del[] = {0, 0, 0, 0, 0};
	return rd->len == sizeof(del) && memcmp(rd->data, del, sizeof(del)) == 0;
}

bool cds_rdata_is_cdnskey_delete(const struct cds_rdata *rd)
{
	/* "0 3 0 AA==": flags 0, protocol 3, algorithm 0, one zero octet. */
	static const uint8_t del[] = {0, 0, 3, 0, 0};
	return rd->len == sizeof(del) && memcmp(rd->data, del, sizeof(del)) == 0;
}

int cds_rrsig_signer(const struct cds_rrsig *sig, char out[CDS_DNAME_BUFSIZE])
{
	/* RFC 4034 §3.1.7: after 18 fixed octets, uncompressed. */
	if (sig->raw_len <= 18)
		return CDS_EDATA;
	const uint8_t *w = sig->raw + 18;
	size_t max = sig->raw_len - 18u, i = 0;
	while (i < max && w[i] != 0)
		i += (size_t)w[i] + 1;
	if (i >= max)
		return CDS_EDATA;
	return cds_dname_from_wire(w, i + 1, out);
}

/* ------------------------------------ RFC 9567 Report-Channel option --- */

/* The option data of one Report-Channel option: the agent domain in
 * uncompressed wire form filling it exactly (RFC 9567 §5), as normalised
 * text.  Not the root, at most max_len octets, host-name characters only
 * (cds_dname_from_wire): the name becomes part of a query cdscan sends. */
static int agent_from_option(const uint8_t *data, size_t len, size_t max_len,
			     char agent[CDS_DNAME_BUFSIZE])
{
	if (len < 2 || len > max_len || len > 255)
		return CDS_EDATA;
	return cds_dname_from_wire(data, len, agent);
}

/* The options of one OPT record's rdata [o, end): the agent of its single
 * Report-Channel option into agent; *seen counts such options. */
static int opt_options(const uint8_t *m, size_t o, size_t end, size_t max_len, int *seen,
		       char agent[CDS_DNAME_BUFSIZE])
{
	while (o + 4 <= end) {
		uint16_t code = get16(m + o), olen = get16(m + o + 2);
		if (o + 4 + olen > end)
			return CDS_EDATA;
		if (code == CDS_EDNS_REPORT_CHANNEL) {
			/* Two options in one answer name no agent (RFC 9567 §5:
			 * at most one). */
			if (++*seen > 1 || agent_from_option(m + o + 4, olen, max_len, agent) != 0)
				return CDS_EDATA;
		}
		o += 4 + (size_t)olen;
	}
	return o == end ? 0 : CDS_EDATA;
}

int cds_answer_report_channel(const uint8_t *wire, size_t len, size_t max_len,
			      char agent[CDS_DNAME_BUFSIZE])
{
	agent[0] = '\0';
	if (!message_well_formed(wire, len))
		return CDS_EDATA;
	size_t off = skip_question(wire, len);
	if (off == 0)
		return CDS_EDATA;
	unsigned skip = (unsigned)get16(wire + 6) + get16(wire + 8), ar = get16(wire + 10);
	struct wire_rr rr;
	int seen = 0, opts = 0, r = 0;
	for (unsigned i = 0; i < skip + ar && r == 0; i++) {
		if (!read_rr(wire, len, &off, &rr))
			r = CDS_EDATA;
		else if (i < skip || rr.type != 41)
			continue;
		/* RFC 6891 §6.1.1: one OPT, owned by the root, in the
		 * additional section; anything else is a malformed answer. */
		else if (++opts > 1 || rr.owner_len != 1)
			r = CDS_EDATA;
		else
			r = opt_options(wire, rr.rdata, rr.rdata + rr.rdlen, max_len, &seen, agent);
	}
	if (r != 0) /* whatever an earlier option or record gave */
		agent[0] = '\0';
	return r != 0 ? r : seen ? 0 : CDS_ENOENT;
}
