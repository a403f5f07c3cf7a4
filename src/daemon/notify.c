/* RFC 9859 NOTIFY intake (notify.h): the message, its answer, and token
 * buckets.  The buckets' table is uthash (a well-kept header-only hash
 * table; its insertion-ordered list doubles as the LRU order). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cdscan/notify.h"

#define QR 0x8000
#define OPCODE(flags) (((flags) >> 11) & 0xf)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The length of the uncompressed name at wire[off..len), or 0 if there is
 * none: a compression pointer (a question's name is never compressed, RFC
 * 1035 §4.1.4 allows pointers only to earlier names), a label type other
 * than 0, or the end of the message first. */
static size_t name_len(const uint8_t *wire, size_t len, size_t off)
{
	size_t i = off;
	while (i < len) {
		uint8_t l = wire[i];
		if (l == 0)
			return i + 1 - off;
		/* This label, and the root label that must still follow,
		 * within the 255 octets a name may have (RFC 1035 §3.1). */
		if (l > 63 || (i - off) + 1 + l + 1 > 255)
			return 0;
		i += 1 + (size_t)l;
	}
	return 0;
}

int cds_notify_parse(const uint8_t *wire, size_t len, struct cds_notify_req *req)
{
	memset(req, 0, sizeof(*req));
	if (len < 12)
		return CDS_NOTIFY_DROP;
	req->id = get16(wire);
	req->flags = get16(wire + 2);
	if (req->flags & QR)
		return CDS_NOTIFY_DROP;
	if (OPCODE(req->flags) != CDS_OPCODE_NOTIFY)
		return CDS_RCODE_NOTIMP;
	if (get16(wire + 4) != 1)
		return CDS_RCODE_FORMERR;
	size_t n = name_len(wire, len, 12);
	if (n == 0 || 12 + n + 4 > len)
		return CDS_RCODE_FORMERR;
	req->question = wire + 12;
	req->question_len = n + 4;
	req->qtype = get16(wire + 12 + n);
	req->qclass = get16(wire + 12 + n + 2);
	if (req->qclass != 1)
		return CDS_RCODE_REFUSED;
	if (req->qtype != CDS_T_CDS && req->qtype != CDS_T_CDNSKEY &&
	    req->qtype != CDS_T_CSYNC)
		return CDS_RCODE_REFUSED;
	if (cds_dname_from_wire(wire + 12, n, req->qname) != 0) {
		req->qname[0] = '\0';
		return CDS_RCODE_REFUSED;
	}
	return CDS_RCODE_NOERROR;
}

size_t cds_notify_answer(const struct cds_notify_req *req, int rcode, uint8_t *out)
{
	/* QR, the opcode and RD as asked; AA, TC, RA, AD, CD clear. */
	uint16_t flags = (uint16_t)(QR | (req->flags & 0x7900) | (rcode & 0xf));
	memset(out, 0, 12);
	put16(out, req->id);
	put16(out + 2, flags);
	if (req->question_len == 0)
		return 12;
	put16(out + 4, 1);
	memcpy(out + 12, req->question, req->question_len);
	return 12 + req->question_len;
}

/* --------------------------------------------------- token buckets --- */

struct bucket {
	UT_hash_handle hh;
	double tokens;
	double at; /* when tokens was last brought up to date */
	size_t keylen;
	uint8_t key[]; /* the key, keylen bytes */
};

struct cds_buckets {
	struct bucket *table; /* uthash head; its order: least recently used first */
	double rate;
	double burst;
	size_t max_keys;
	size_t count;
};

struct cds_buckets *cds_buckets_new(double rate, uint32_t burst, uint32_t max_keys)
{
	struct cds_buckets *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->rate = rate;
	b->burst = burst;
	b->max_keys = max_keys ? max_keys : 1;
	return b;
}

void cds_buckets_free(struct cds_buckets *b)
{
	struct bucket *e, *tmp;
	if (!b)
		return;
	HASH_ITER(hh, b->table, e, tmp) {
		HASH_DEL(b->table, e);
		free(e);
	}
	free(b);
}

size_t cds_buckets_count(const struct cds_buckets *b)
{
	return b->count;
}

/* A new full bucket for key, forgetting the least recently used one when
 * the table is full.  NULL: out of memory (the caller then refuses, which
 * fails safe: a NOTIFY is only ever a hint). */
static struct bucket *bucket_add(struct cds_buckets *b, const void *key, size_t keylen,
				 double now)
{
	if (b->count >= b->max_keys && b->table) {
		struct bucket *old = b->table;
		HASH_DEL(b->table, old);
		free(old);
		b->count--;
	}
	struct bucket *e = malloc(sizeof(*e) + keylen);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->tokens = b->burst;
	e->at = now;
	e->keylen = keylen;
	memcpy(e->key, key, keylen);
	HASH_ADD(hh, b->table, key, keylen, e);
	b->count++;
	return e;
}

bool cds_buckets_take(struct cds_buckets *b, const void *key, size_t keylen, double now)
{
	struct bucket *e;
	HASH_FIND(hh, b->table, key, keylen, e);
	if (e) {
		/* To the end of the order: most recently used. */
		HASH_DEL(b->table, e);
		HASH_ADD(hh, b->table, key, keylen, e);
		if (now > e->at) {
			e->tokens += (now - e->at) * b->rate;
			if (e->tokens > b->burst)
				e->tokens = b->burst;
		}
		e->at = now > e->at ? now : e->at;
	} else if (!(e = bucket_add(b, key, keylen, now))) {
		return false;
	}
	if (e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	return true;
}

size_t cds_notify_source_key(const struct sockaddr *sa, unsigned prefix4, unsigned prefix6,
			     uint8_t key[17])
{
	const uint8_t *addr;
	size_t len;
	unsigned bits;
	memset(key, 0, 17);
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a6 = sa->sa_family == AF_INET6
				    ? ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr
				    : NULL;
	if (a6 && memcmp(a6, mapped, 12) == 0) {
		/* An IPv4 sender on a dual-stack socket (::ffff:a.b.c.d) is
		 * that IPv4 address: its prefix is an IPv4 prefix. */
		addr = a6 + 12;
		len = 4;
		bits = prefix4 > 32 ? 32 : prefix4;
	} else if (sa->sa_family == AF_INET6) {
		addr = a6;
		len = 16;
		bits = prefix6 > 128 ? 128 : prefix6;
	} else {
		addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = 4;
		bits = prefix4 > 32 ? 32 : prefix4;
	}
	key[0] = (uint8_t)len;
	for (unsigned i = 0; i < bits / 8; i++)
		key[1 + i] = addr[i];
	if (bits % 8)
		key[1 + bits / 8] = (uint8_t)(addr[bits / 8] & (0xff << (8 - bits % 8)));
	return 1 + len;
}
