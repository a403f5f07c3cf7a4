/*
 * Authenticated denial of existence: is an empty answer (NODATA or
 * NXDOMAIN) proven by the NSEC (RFC 4035 §5.4) or NSEC3 (RFC 5155 §8)
 * RRsets that came with it?  The signatures are checked by
 * cds_dnssec_verify (dnssec.c), the NSEC3 hashes computed with OpenSSL's
 * SHA-1; what is written here is which record proves what.
 *
 * Every name handled here is in lower-cased, uncompressed wire form: the
 * question's owner and the denial RRsets' owners as the parser stored them,
 * the NSEC next names lower-cased here before they are compared (they are
 * signed as sent, RFC 6840 §5.1).
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

enum { T_CNAME = 5, T_DNAME = 39 };

/* NSEC3 records one proof looks at: CDS_DENIAL_MAX RRsets of one record
 * each, and as many again where an RRset holds two. */
#define MAX_NSEC3 (2 * CDS_DENIAL_MAX)

/* A wire name (at most 255 octets) with its length. */
struct wname {
	uint8_t w[256];
	size_t len;
};

/* One NSEC or NSEC3 record as a proof reads it. */
struct link {
	const struct cds_rrset *set; /* its RRset (owner) */
	struct wname next;           /* NSEC: the next owner name, lower case */
	uint8_t hash[20], next_hash[20]; /* NSEC3: owner and next hashed owner */
	bool opt_out;                /* NSEC3: RFC 5155 §3.1.2.1 */
	const uint8_t *bitmap;       /* the type bitmap (RFC 4034 §4.1.2) */
	size_t bitmap_len;
};

/* What a proof works with. */
struct proof {
	struct wname qname, zone;
	uint16_t qtype;
	struct link links[MAX_NSEC3];
	size_t count;
	/* NSEC3: the parameters of the chain used (RFC 5155 §3.1) */
	uint16_t iterations;
	const uint8_t *salt;
	uint8_t salt_len;
	char *why;
	size_t whylen;
};

/* ------------------------------------------------------------ names --- */

static unsigned labels(const struct wname *n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n->len && n->w[i] != 0; i += (size_t)n->w[i] + 1)
		c++;
	return c;
}

/* The name with its first k labels taken off. */
static void strip(const struct wname *n, unsigned k, struct wname *out)
{
	size_t i = 0;
	while (k-- > 0 && i < n->len && n->w[i] != 0)
		i += (size_t)n->w[i] + 1;
	out->len = n->len - i;
	memmove(out->w, n->w + i, out->len);
}

static bool name_eq(const struct wname *a, const struct wname *b)
{
	return a->len == b->len && memcmp(a->w, b->w, a->len) == 0;
}

/* Is a equal to b or below it? */
static bool name_under(const struct wname *a, const struct wname *b)
{
	unsigned la = labels(a), lb = labels(b);
	struct wname tail;
	if (la < lb)
		return false;
	strip(a, la - lb, &tail);
	return name_eq(&tail, b);
}

/* Canonical order (RFC 4034 §6.1): label by label from the right, each
 * as an octet string, a shorter label (or name) first.  Both in lower
 * case.  Negative, zero or positive as a sorts before, with or after b. */
static int name_cmp(const struct wname *a, const struct wname *b)
{
	size_t ao[128], bo[128];
	unsigned na = 0, nb = 0;
	for (size_t i = 0; i < a->len && a->w[i] != 0 && na < 128; i += (size_t)a->w[i] + 1)
		ao[na++] = i;
	for (size_t i = 0; i < b->len && b->w[i] != 0 && nb < 128; i += (size_t)b->w[i] + 1)
		bo[nb++] = i;
	while (na > 0 && nb > 0) {
		const uint8_t *x = a->w + ao[--na], *y = b->w + bo[--nb];
		int c = memcmp(x + 1, y + 1, x[0] < y[0] ? x[0] : y[0]);
		if (c != 0)
			return c;
		if (x[0] != y[0])
			return (int)x[0] - (int)y[0];
	}
	return (int)na - (int)nb;
}

/* "*." + n: the wildcard at n (RFC 4592). */
static bool wildcard_of(const struct wname *n, struct wname *out)
{
	if (n->len + 2 > 255)
		return false;
	out->w[0] = 1;
	out->w[1] = '*';
	memcpy(out->w + 2, n->w, n->len);
	out->len = n->len + 2;
	return true;
}

/* A name for people: printable octets as they are, others as \DDD. */
static const char *text(const struct wname *n, char *buf, size_t len)
{
	size_t o = 0;
	if (n->len <= 1)
		return ".";
	for (size_t i = 0; i < n->len && n->w[i] != 0; i += (size_t)n->w[i] + 1) {
		for (size_t k = 1; k <= n->w[i] && o + 5 < len; k++) {
			uint8_t c = n->w[i + k];
			if (c > 32 && c < 127 && c != '.' && c != '\\')
				buf[o++] = (char)c;
			else
				o += (size_t)snprintf(buf + o, len - o, "\\%03u", c);
		}
		if (o + 1 < len)
			buf[o++] = '.';
	}
	buf[o < len ? o : len - 1] = '\0';
	return buf;
}

static const char *type_text(uint16_t t, char buf[16])
{
	static const struct { uint16_t t; const char *name; } names[] = {
		{CDS_T_A, "A"}, {CDS_T_NS, "NS"}, {T_CNAME, "CNAME"}, {CDS_T_SOA, "SOA"},
		{CDS_T_AAAA, "AAAA"}, {T_DNAME, "DNAME"}, {CDS_T_DS, "DS"},
		{CDS_T_DNSKEY, "DNSKEY"}, {CDS_T_CDS, "CDS"}, {CDS_T_CDNSKEY, "CDNSKEY"},
		{CDS_T_CSYNC, "CSYNC"}, {CDS_T_NSEC, "NSEC"}, {CDS_T_NSEC3, "NSEC3"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].name;
	snprintf(buf, 16, "TYPE%u", t);
	return buf;
}

static void owner_of(const struct cds_rrset *set, struct wname *out)
{
	out->len = set->owner_len;
	memcpy(out->w, set->owner, set->owner_len);
}

/* Write why and return st. */
__attribute__((format(printf, 3, 4))) static enum cds_dnssec_status
fail(struct proof *p, enum cds_dnssec_status st, const char *fmt, ...)
{
	va_list ap;
	if (p->why && p->whylen) {
		va_start(ap, fmt);
		vsnprintf(p->why, p->whylen, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* --------------------------------------------------------- bitmaps --- */

/* Is type t in the type bitmap (RFC 4034 §4.1.2; checked by the parser)? */
static bool has_type(const struct link *l, uint16_t t)
{
	const uint8_t *b = l->bitmap;
	for (size_t o = 0; o + 2 <= l->bitmap_len; o += 2 + (size_t)b[o + 1]) {
		unsigned octet = (t & 0xFF) / 8;
		if (b[o] == t >> 8)
			return octet < b[o + 1] && o + 2 + octet < l->bitmap_len &&
			       (b[o + 2 + octet] & (0x80 >> (t & 7)));
	}
	return false;
}

/* Does link l at name (its owner's name, or the hashed name's) deny
 * qtype there?  RFC 4035 §3.1.3.1 and RFC 5155 §8.5, §8.6: the type and
 * CNAME absent (a CNAME would have been the answer); RFC 6840 §4.4 for DS:
 * the parent's side of a delegation (NS, and no SOA of the child's apex);
 * for other types not a delegation's parent side (NS without SOA), whose
 * data is the child's to deny (RFC 6840 §4.1). */
static enum cds_dnssec_status denies_type(struct proof *p, const struct link *l,
					  const char *what, const char *at)
{
	char tb[16];
	bool ns = has_type(l, CDS_T_NS), soa = has_type(l, CDS_T_SOA);
	if (has_type(l, p->qtype))
		return fail(p, CDS_DNSSEC_BOGUS, "%s at %s lists type %s", what, at,
			    type_text(p->qtype, tb));
	if (has_type(l, T_CNAME))
		return fail(p, CDS_DNSSEC_BOGUS, "%s at %s lists a CNAME", what, at);
	if (p->qtype == CDS_T_DS && soa && labels(&p->qname) > 0)
		return fail(p, CDS_DNSSEC_BOGUS,
			    "%s at %s is the child zone's apex (SOA): it cannot deny a DS", what, at);
	if (p->qtype == CDS_T_DS && !ns)
		return fail(p, CDS_DNSSEC_BOGUS,
			    "%s at %s shows no delegation (no NS) to deny a DS of", what, at);
	if (p->qtype != CDS_T_DS && ns && !soa)
		return fail(p, CDS_DNSSEC_BOGUS,
			    "%s at %s is a delegation (NS without SOA): only the child can deny type %s",
			    what, at, type_text(p->qtype, tb));
	return CDS_DNSSEC_SECURE;
}

/* ------------------------------------------------------------ NSEC --- */

/* The NSEC links of the denial (next names lower-cased). */
static void nsec_links(struct proof *p, const struct cds_rrset *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct cds_rrset *s = &set->denial[i];
		for (size_t r = 0; s->type == CDS_T_NSEC && r < s->count && p->count < MAX_NSEC3; r++) {
			const uint8_t *d = s->rdata[r].data;
			size_t len = s->rdata[r].len, o = 0;
			struct link *l = &p->links[p->count];
			while (o < len && d[o] != 0)
				o += (size_t)d[o] + 1;
			if (o >= len)
				continue; /* not reached: the parser checked it */
			l->set = s;
			l->next.len = o + 1;
			for (size_t k = 0; k <= o; k++)
				l->next.w[k] = (uint8_t)((d[k] >= 'A' && d[k] <= 'Z') ? d[k] + 32 : d[k]);
			l->bitmap = d + o + 1;
			l->bitmap_len = len - o - 1;
			p->count++;
		}
	}
}

/* Does NSEC l cover name (name strictly between its owner and its next
 * name; after the last owner when the next name wraps to the apex)? */
static bool nsec_covers(const struct proof *p, const struct link *l, const struct wname *name)
{
	struct wname owner;
	owner_of(l->set, &owner);
	if (name_cmp(&owner, name) >= 0)
		return false;
	if (name_cmp(&owner, &l->next) < 0)
		return name_cmp(name, &l->next) < 0;
	return name_under(name, &p->zone); /* the last NSEC of the zone */
}

/* The NSEC that covers name and may deny names there: not from above a
 * zone cut or a DNAME (RFC 6840 §4.1).  NULL if none. */
static const struct link *nsec_cover(const struct proof *p, const struct wname *name)
{
	for (size_t i = 0; i < p->count; i++) {
		const struct link *l = &p->links[i];
		struct wname owner;
		owner_of(l->set, &owner);
		if (!nsec_covers(p, l, name))
			continue;
		if (name_under(name, &owner) &&
		    (has_type(l, T_DNAME) || (has_type(l, CDS_T_NS) && !has_type(l, CDS_T_SOA))))
			continue;
		return l;
	}
	return NULL;
}

static const struct link *nsec_at(const struct proof *p, const struct wname *name)
{
	for (size_t i = 0; i < p->count; i++) {
		struct wname owner;
		owner_of(p->links[i].set, &owner);
		if (name_eq(&owner, name))
			return &p->links[i];
	}
	return NULL;
}

/* How many labels a and b share, counted from the root. */
static unsigned common_labels(const struct wname *a, const struct wname *b)
{
	unsigned la = labels(a), lb = labels(b), k = 0;
	while (k < la && k < lb) {
		struct wname x, y;
		strip(a, la - k - 1, &x);
		strip(b, lb - k - 1, &y);
		if (!name_eq(&x, &y))
			break;
		k++;
	}
	return k;
}

/* The closest encloser a covering NSEC shows (RFC 4592 §3.3.1): the
 * longer of the names qname shares with its owner and with its next name,
 * and at least the zone. */
static void nsec_encloser(const struct proof *p, const struct link *l, struct wname *ce)
{
	struct wname owner;
	owner_of(l->set, &owner);
	unsigned k = labels(&p->zone), a = common_labels(&p->qname, &owner),
		 b = common_labels(&p->qname, &l->next);
	if (a > k)
		k = a;
	if (b > k)
		k = b;
	strip(&p->qname, labels(&p->qname) - k, ce);
}

/* No qname: an NSEC covers it, and the wildcard at its closest encloser
 * is denied (RFC 4035 §3.1.3.2) or holds no qtype (§3.1.3.4).  Or qname
 * is an empty non-terminal: the covering NSEC's next name lies below it. */
static enum cds_dnssec_status nsec_no_name(struct proof *p)
{
	char nb[1024];
	const struct link *c = nsec_cover(p, &p->qname);
	struct wname ce, wc;
	if (!c)
		return fail(p, CDS_DNSSEC_BOGUS, "no NSEC at or covering %s",
			    text(&p->qname, nb, sizeof(nb)));
	if (name_under(&c->next, &p->qname))
		return CDS_DNSSEC_SECURE; /* an empty non-terminal: no data */
	nsec_encloser(p, c, &ce);
	if (!wildcard_of(&ce, &wc))
		return fail(p, CDS_DNSSEC_BOGUS, "no wildcard name at %s", text(&ce, nb, sizeof(nb)));
	const struct link *w = nsec_at(p, &wc);
	if (w)
		return denies_type(p, w, "NSEC", text(&wc, nb, sizeof(nb)));
	if (!nsec_cover(p, &wc))
		return fail(p, CDS_DNSSEC_BOGUS, "no NSEC proves that the wildcard %s does not exist",
			    text(&wc, nb, sizeof(nb)));
	return CDS_DNSSEC_SECURE;
}

static enum cds_dnssec_status nsec_proof(struct proof *p)
{
	char nb[1024];
	const struct link *at = nsec_at(p, &p->qname);
	if (at)
		return denies_type(p, at, "NSEC", text(&p->qname, nb, sizeof(nb)));
	if (p->qtype == CDS_T_DS)
		return fail(p, CDS_DNSSEC_BOGUS,
			    "no NSEC at %s: only the delegation's own NSEC denies its DS",
			    text(&p->qname, nb, sizeof(nb)));
	return nsec_no_name(p);
}

/* ----------------------------------------------------------- NSEC3 --- */

/* A base32hex digit (RFC 4648 §7), either case, or -1. */
static int b32hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'v')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

/* The hash an NSEC3 owner names: its first label, 32 base32hex digits of
 * a SHA-1 hash, directly below the zone (RFC 5155 §3).  Decoded, the
 * labels compare case-insensitively and in the order of the hashes. */
static bool owner_hash(const struct proof *p, const struct cds_rrset *s, uint8_t out[20])
{
	struct wname owner, parent;
	owner_of(s, &owner);
	if (owner.len < 34 || owner.w[0] != 32)
		return false;
	strip(&owner, 1, &parent);
	if (!name_eq(&parent, &p->zone))
		return false;
	unsigned acc = 0, bits = 0;
	size_t o = 0;
	for (int i = 1; i <= 32; i++) {
		int v = b32hex(owner.w[i]);
		if (v < 0)
			return false;
		acc = (acc << 5 | (unsigned)v) & 0xFFFF;
		bits += 5;
		if (bits >= 8) {
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return o == 20;
}

/* The NSEC3 links of the denial: records with flags 0 or 1 (RFC 5155
 * §8.2), at a hash directly below the zone, with the parameters of the
 * first such record (one chain; §8.2 allows a response that mixes chains
 * to be bogus, here the others are left out). */
static void nsec3_links(struct proof *p, const struct cds_rrset *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct cds_rrset *s = &set->denial[i];
		for (size_t r = 0; s->type == CDS_T_NSEC3 && r < s->count && p->count < MAX_NSEC3; r++) {
			const uint8_t *d = s->rdata[r].data;
			size_t len = s->rdata[r].len, h = len >= 5 ? 5 + (size_t)d[4] : len;
			struct link *l = &p->links[p->count];
			if (h + 21 > len || d[1] > 1 || d[h] != 20 || !owner_hash(p, s, l->hash))
				continue;
			uint16_t iter = (uint16_t)(d[2] << 8 | d[3]);
			if (p->count == 0) {
				p->iterations = iter;
				p->salt = d + 5;
				p->salt_len = d[4];
			} else if (iter != p->iterations || d[4] != p->salt_len ||
				   memcmp(d + 5, p->salt, d[4]) != 0) {
				continue;
			}
			l->set = s;
			l->opt_out = d[1] & 1;
			memcpy(l->next_hash, d + h + 1, 20);
			l->bitmap = d + h + 21;
			l->bitmap_len = len - h - 21;
			p->count++;
		}
	}
}

/* RFC 5155 §5: IH(salt, x, 0) = H(x || salt), IH(salt, x, k) =
 * H(IH(salt, x, k-1) || salt), H SHA-1, x the name in canonical wire form;
 * iterations + 1 hashes in all. */
static bool nsec3_hash(const struct proof *p, const struct wname *name, uint8_t out[20])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool ok = ctx != NULL;
	for (unsigned k = 0; ok && k <= p->iterations; k++)
		ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		     EVP_DigestUpdate(ctx, k ? out : name->w, k ? 20 : name->len) == 1 &&
		     EVP_DigestUpdate(ctx, p->salt, p->salt_len) == 1 &&
		     EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 20;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static const struct link *n3_match(const struct proof *p, const uint8_t h[20])
{
	for (size_t i = 0; i < p->count; i++)
		if (memcmp(p->links[i].hash, h, 20) == 0)
			return &p->links[i];
	return NULL;
}

/* The NSEC3 whose span holds h strictly inside: between its hash and the
 * next; past the last hash of the chain where the next wraps to the
 * first.  NULL if none. */
static const struct link *n3_cover(const struct proof *p, const uint8_t h[20])
{
	for (size_t i = 0; i < p->count; i++) {
		const struct link *l = &p->links[i];
		bool after = memcmp(l->hash, h, 20) < 0, before = memcmp(h, l->next_hash, 20) < 0;
		if (memcmp(l->hash, l->next_hash, 20) < 0 ? after && before : after || before)
			return l;
	}
	return NULL;
}

/* "HASHED-OWNER (name)": where an NSEC3 stands, for people. */
static const char *n3_text(const struct link *l, const struct wname *name, char *buf, size_t len)
{
	char a[1024], b[1024];
	struct wname owner;
	owner_of(l->set, &owner);
	snprintf(buf, len, "%s (%s)", text(&owner, a, sizeof(a)), text(name, b, sizeof(b)));
	return buf;
}

/*
 * RFC 5155 §8.3: the closest encloser of qname, an ancestor an NSEC3
 * matches, whose child toward qname (the next closer name) an NSEC3
 * covers.  It must not be a DNAME or the parent side of a zone cut.
 */
static enum cds_dnssec_status n3_encloser(struct proof *p, struct wname *ce,
					  const struct link **next_closer)
{
	char nb[1024], ab[2100];
	unsigned depth = labels(&p->qname) - labels(&p->zone);
	const struct link *covered = NULL;
	for (unsigned k = 0; k <= depth; k++) {
		uint8_t h[20];
		strip(&p->qname, k, ce);
		if (!nsec3_hash(p, ce, h))
			return fail(p, CDS_DNSSEC_ERROR, "SHA-1 failed (OpenSSL)");
		const struct link *m = n3_match(p, h);
		if (m && !covered)
			return fail(p, CDS_DNSSEC_BOGUS,
				    "NSEC3 at %s matches, but no NSEC3 covers the name below it",
				    n3_text(m, ce, ab, sizeof(ab)));
		if (m && (has_type(m, T_DNAME) || (has_type(m, CDS_T_NS) && !has_type(m, CDS_T_SOA))))
			return fail(p, CDS_DNSSEC_BOGUS,
				    "NSEC3 at %s is a DNAME or a delegation: not a closest encloser",
				    n3_text(m, ce, ab, sizeof(ab)));
		if (m) {
			*next_closer = covered;
			return CDS_DNSSEC_SECURE;
		}
		covered = n3_cover(p, h);
	}
	return fail(p, CDS_DNSSEC_BOGUS, "no NSEC3 closest encloser proof for %s",
		    text(&p->qname, nb, sizeof(nb)));
}

/* No qname (RFC 5155 §8.4), or no qtype at a wildcard that would have
 * matched it (§8.7): after the closest encloser proof, the wildcard at
 * the closest encloser is covered, or matched without qtype. */
static enum cds_dnssec_status n3_no_name(struct proof *p, const struct wname *ce,
					 const struct link *nc)
{
	char nb[1024], ab[2100];
	struct wname wc;
	uint8_t h[20];
	if (!wildcard_of(ce, &wc))
		return fail(p, CDS_DNSSEC_BOGUS, "no wildcard name at %s", text(ce, nb, sizeof(nb)));
	if (!nsec3_hash(p, &wc, h))
		return fail(p, CDS_DNSSEC_ERROR, "SHA-1 failed (OpenSSL)");
	const struct link *w = n3_match(p, h);
	if (w)
		return denies_type(p, w, "NSEC3", n3_text(w, &wc, ab, sizeof(ab)));
	if (!n3_cover(p, h))
		return fail(p, CDS_DNSSEC_BOGUS, "no NSEC3 covers the wildcard %s",
			    text(&wc, nb, sizeof(nb)));
	/* An opt-out span says nothing of the unsigned delegations in it
	 * (RFC 5155 §6): qname may be one. */
	if (nc->opt_out)
		return fail(p, CDS_DNSSEC_INSECURE,
			    "the NSEC3 span covering %s is opt-out: it may be an unsigned delegation",
			    text(&p->qname, nb, sizeof(nb)));
	return CDS_DNSSEC_SECURE;
}

static enum cds_dnssec_status nsec3_proof(struct proof *p, uint32_t max_iterations)
{
	char nb[1024], ab[2100];
	uint8_t h[20];
	struct wname ce;
	const struct link *nc = NULL;
	if (p->count == 0)
		return fail(p, CDS_DNSSEC_BOGUS, "no usable NSEC3 of zone %s with the answer",
			    text(&p->zone, nb, sizeof(nb)));
	/* RFC 9276 §3.2: more iterations than the limit allows prove nothing;
	 * checked before any hash is computed, so they cost nothing either. */
	if (p->iterations > max_iterations)
		return fail(p, CDS_DNSSEC_INSECURE,
			    "NSEC3 iterations %u above limits.nsec3-max-iterations %u",
			    p->iterations, max_iterations);
	if (!nsec3_hash(p, &p->qname, h))
		return fail(p, CDS_DNSSEC_ERROR, "SHA-1 failed (OpenSSL)");
	const struct link *m = n3_match(p, h);
	if (m) /* RFC 5155 §8.5, §8.6 */
		return denies_type(p, m, "NSEC3", n3_text(m, &p->qname, ab, sizeof(ab)));
	enum cds_dnssec_status st = n3_encloser(p, &ce, &nc);
	if (st != CDS_DNSSEC_SECURE)
		return st;
	if (p->qtype != CDS_T_DS)
		return n3_no_name(p, &ce, nc);
	/* RFC 5155 §8.6: no NSEC3 at the name, so no delegation with a
	 * signed NS; only an opt-out span may hold an unsigned one. */
	if (nc->opt_out)
		return fail(p, CDS_DNSSEC_INSECURE,
			    "an NSEC3 opt-out span covers %s: an unsigned delegation may be there",
			    text(&p->qname, nb, sizeof(nb)));
	return fail(p, CDS_DNSSEC_BOGUS,
		    "no NSEC3 matches %s, and the span covering it is not opt-out",
		    text(&p->qname, nb, sizeof(nb)));
}

/* ------------------------------------------------------------ entry --- */

/* The zone's name in lower-cased wire form; false if it is not a name. */
static bool zone_name(const char *zone, struct wname *out)
{
	int zl = cds_dname_to_wire(zone, out->w);
	if (zl < 0)
		return false;
	out->len = (size_t)zl;
	for (size_t i = 0; i < out->len; i++)
		if (out->w[i] >= 'A' && out->w[i] <= 'Z')
			out->w[i] = (uint8_t)(out->w[i] + 32);
	return true;
}

/*
 * Every NSEC/NSEC3 RRset considered must be signed by a zone key of
 * dnskey.  The work is bounded: at most CDS_DENIAL_MAX (8) RRsets are
 * considered (the parser keeps no more), each under the limits of
 * cds_dnssec_verify and all under w's budget, and 2 or 3 verifications
 * for what servers send.
 */
static enum cds_dnssec_status verify_links(struct proof *p, const char *zone,
					   const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   struct cds_dnssec_work *w)
{
	size_t n = set->denial_count < CDS_DENIAL_MAX ? set->denial_count : CDS_DENIAL_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct cds_rrset *s = &set->denial[i];
		enum cds_dnssec_status st = cds_dnssec_verify(zone, s, dnskey, w);
		char nb[1024], tb[16];
		struct wname owner;
		owner_of(s, &owner);
		if (st == CDS_DNSSEC_INSECURE)
			return fail(p, CDS_DNSSEC_BOGUS, "%s at %s has no RRSIG",
				    type_text(s->type, tb), text(&owner, nb, sizeof(nb)));
		if (st != CDS_DNSSEC_SECURE && w->limit[0])
			return fail(p, CDS_DNSSEC_BOGUS, "%s", w->limit);
		if (st != CDS_DNSSEC_SECURE)
			return fail(p, st == CDS_DNSSEC_ERROR ? st : CDS_DNSSEC_BOGUS,
				    "RRSIG of %s at %s does not validate with the DNSKEY of %s",
				    type_text(s->type, tb), text(&owner, nb, sizeof(nb)), zone);
	}
	return CDS_DNSSEC_SECURE;
}

enum cds_dnssec_status cds_dnssec_denial(const char *zone, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, struct cds_dnssec_work *w,
					 char *why, size_t whylen)
{
	struct proof p = {.qtype = set->type, .why = why, .whylen = whylen};
	char nb[1024];
	if (why && whylen)
		why[0] = '\0';
	w->limit[0] = '\0';
	if (!zone_name(zone, &p.zone))
		return fail(&p, CDS_DNSSEC_ERROR, "%s is not a domain name", zone);
	owner_of(set, &p.qname);
	if (set->count > 0)
		return fail(&p, CDS_DNSSEC_BOGUS, "the answer is not empty (%zu records)", set->count);
	if (set->rcode != 0 && set->rcode != 3)
		return fail(&p, CDS_DNSSEC_BOGUS, "RCODE %d is not an empty answer", set->rcode);
	if (!name_under(&p.qname, &p.zone))
		return fail(&p, CDS_DNSSEC_BOGUS, "%s is not in zone %s",
			    text(&p.qname, nb, sizeof(nb)), zone);
	if (set->denial_count == 0)
		return fail(&p, CDS_DNSSEC_BOGUS, "no NSEC or NSEC3 with the answer");
	enum cds_dnssec_status st = verify_links(&p, zone, set, dnskey, w);
	if (st != CDS_DNSSEC_SECURE)
		return st;
	size_t n = set->denial_count < CDS_DENIAL_MAX ? set->denial_count : CDS_DENIAL_MAX;
	bool nsec = false;
	for (size_t i = 0; i < n && !nsec; i++)
		nsec = set->denial[i].type == CDS_T_NSEC;
	if (nsec) {
		nsec_links(&p, set, n);
		return nsec_proof(&p);
	}
	nsec3_links(&p, set, n);
	return nsec3_proof(&p, w->limits->nsec3_max_iterations);
}

/* ------------------------------------------------ the apex's bitmap --- */

int cds_denial_apex_types(const char *zone, const struct cds_rrset *set, uint32_t max_iterations,
			  const uint16_t *types, size_t n, bool *listed)
{
	struct proof p = {.qtype = set->type};
	if (!zone_name(zone, &p.zone))
		return CDS_EINVAL;
	size_t d = set->denial_count < CDS_DENIAL_MAX ? set->denial_count : CDS_DENIAL_MAX;
	const struct link *at = NULL;
	nsec_links(&p, set, d);
	if (p.count > 0) {
		at = nsec_at(&p, &p.zone);
	} else {
		uint8_t h[20];
		nsec3_links(&p, set, d);
		if (p.count > 0 && p.iterations <= max_iterations && nsec3_hash(&p, &p.zone, h))
			at = n3_match(&p, h);
	}
	/* The apex's own record lists its SOA; one without is the parent's
	 * side of the delegation (NS, DS) and says nothing of the child. */
	if (!at || !has_type(at, CDS_T_SOA))
		return CDS_ENOENT;
	for (size_t i = 0; i < n; i++)
		listed[i] = has_type(at, types[i]);
	return 0;
}
