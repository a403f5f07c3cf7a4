/* Signature verifications remembered across scans (issue #20): the exact
 * bytes OpenSSL verified once — the DNSKEY record, the RFC 4034 §3.1.8.1
 * signed data, the signature — so that the nightly rescan of an unchanged
 * signed zone costs no RSA or ECDSA work.  Compared in full, never by a
 * hash: any byte that differs is a miss. */
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

/* One verification: key, signature and signed data in one allocation. */
struct entry {
	uint8_t *bytes; /* key | sig | data */
	uint16_t keylen, siglen;
	uint32_t datalen;
	bool loaded; /* read from the store */
	bool kept;   /* used by this scan (a hit, or verified now) */
};

struct cds_sigcache {
	size_t max_entries, max_bytes;
	struct entry *e;
	size_t n;
	size_t kept, kept_bytes; /* entries (and bytes) the save will write */
	uint32_t hits, added;
};

/* The stored form: "CDSC", version 1, then per entry its three lengths
 * (16, 16, 32 bits, network order) and bytes.  Written by this file only;
 * read back from the database, so parsed as outside data. */
static const uint8_t MAGIC[5] = {'C', 'D', 'S', 'C', 1};

static size_t entry_size(const struct entry *x)
{
	return 8u + x->keylen + x->siglen + x->datalen;
}

int cds_sigcache_new(size_t max_entries, size_t max_bytes, struct cds_sigcache **out)
{
	struct cds_sigcache *c = calloc(1, sizeof(*c));
	*out = c;
	if (!c)
		return CDS_ENOMEM;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	return 0;
}

void cds_sigcache_free(struct cds_sigcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].bytes);
	free(c->e);
	free(c);
}

/* Append an entry (copies); false when out of memory.  The callers check
 * the limits: loaded ones against what was loaded, new ones against what
 * this scan keeps (so at most twice max-entries are ever held). */
static bool push(struct cds_sigcache *c, const uint8_t *key, size_t keylen, const uint8_t *sig,
		 size_t siglen, const uint8_t *data, size_t datalen, bool loaded)
{
	struct entry x = {.keylen = (uint16_t)keylen, .siglen = (uint16_t)siglen,
			  .datalen = (uint32_t)datalen, .loaded = loaded, .kept = !loaded};
	struct entry *grown = realloc(c->e, (c->n + 1) * sizeof(*grown));
	if (!grown)
		return false;
	c->e = grown;
	if (!(x.bytes = malloc(keylen + siglen + datalen + 1)))
		return false;
	memcpy(x.bytes, key, keylen);
	memcpy(x.bytes + keylen, sig, siglen);
	memcpy(x.bytes + keylen + siglen, data, datalen);
	c->e[c->n++] = x;
	if (x.kept) {
		c->kept++;
		c->kept_bytes += entry_size(&x);
	}
	return true;
}

static uint32_t get(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int cds_sigcache_load(struct cds_sigcache *c, const uint8_t *blob, size_t len)
{
	size_t off = sizeof(MAGIC), loaded_bytes = 0;
	if (c->n > 0)
		return CDS_EINVAL; /* loaded once, before the scan */
	if (len < sizeof(MAGIC) || memcmp(blob, MAGIC, sizeof(MAGIC)) != 0)
		return CDS_EDATA;
	while (off < len) {
		if (len - off < 8)
			return CDS_EDATA;
		size_t kl = get(blob + off, 2), sl = get(blob + off + 2, 2);
		size_t dl = get(blob + off + 4, 4);
		off += 8;
		if (kl > len - off || sl > len - off - kl || dl > len - off - kl - sl)
			return CDS_EDATA;
		/* Beyond the limits (lowered since it was written): the rest
		 * is left out, verified again when met. */
		loaded_bytes += 8 + kl + sl + dl;
		if (c->n >= c->max_entries || loaded_bytes > c->max_bytes ||
		    !push(c, blob + off, kl, blob + off + kl, sl, blob + off + kl + sl, dl, true))
			return 0;
		off += kl + sl + dl;
	}
	return 0;
}

bool cds_sigcache_lookup(struct cds_sigcache *c, const uint8_t *key, size_t keylen,
			 const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen)
{
	if (!c)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		struct entry *x = &c->e[i];
		if (x->keylen != keylen || x->siglen != siglen || x->datalen != datalen ||
		    memcmp(x->bytes, key, keylen) != 0 || memcmp(x->bytes + keylen, sig, siglen) != 0 ||
		    memcmp(x->bytes + keylen + siglen, data, datalen) != 0)
			continue;
		if (!x->kept) {
			x->kept = true;
			c->kept++;
			c->kept_bytes += entry_size(x);
		}
		c->hits++;
		return true;
	}
	return false;
}

void cds_sigcache_add(struct cds_sigcache *c, const uint8_t *key, size_t keylen,
		      const uint8_t *sig, size_t siglen, const uint8_t *data, size_t datalen)
{
	if (c && keylen <= UINT16_MAX && siglen <= UINT16_MAX && datalen <= UINT32_MAX &&
	    c->kept < c->max_entries && c->kept_bytes + 8 + keylen + siglen + datalen <= c->max_bytes &&
	    push(c, key, keylen, sig, siglen, data, datalen, false))
		c->added++;
}

void cds_sigcache_stats(const struct cds_sigcache *c, uint32_t *hits, uint32_t *added)
{
	*hits = c ? c->hits : 0;
	*added = c ? c->added : 0;
}

/* Is entry i written by the save: kept, and within the limits counting
 * the kept ones before it (hits and new ones together may pass them). */
static bool saved(const struct cds_sigcache *c, size_t i, size_t *count, size_t *bytes)
{
	if (!c->e[i].kept || *count >= c->max_entries ||
	    *bytes + entry_size(&c->e[i]) > c->max_bytes)
		return false;
	(*count)++;
	*bytes += entry_size(&c->e[i]);
	return true;
}

int cds_sigcache_save(const struct cds_sigcache *c, uint8_t **blob, size_t *len, bool *changed)
{
	size_t total = sizeof(MAGIC), o = sizeof(MAGIC), count = 0, bytes = 0;
	bool same = true;
	*blob = NULL;
	*len = 0;
	for (size_t i = 0; i < c->n; i++) {
		bool w = saved(c, i, &count, &bytes);
		same &= c->e[i].loaded == w;
	}
	total += bytes;
	*changed = !same;
	if (count == 0)
		return 0; /* nothing to keep: the row goes */
	uint8_t *out = malloc(total);
	if (!out)
		return CDS_ENOMEM;
	memcpy(out, MAGIC, sizeof(MAGIC));
	count = bytes = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct entry *x = &c->e[i];
		if (!saved(c, i, &count, &bytes))
			continue;
		uint8_t h[8] = {(uint8_t)(x->keylen >> 8),   (uint8_t)x->keylen,
				(uint8_t)(x->siglen >> 8),   (uint8_t)x->siglen,
				(uint8_t)(x->datalen >> 24), (uint8_t)(x->datalen >> 16),
				(uint8_t)(x->datalen >> 8),  (uint8_t)x->datalen};
		memcpy(out + o, h, 8);
		memcpy(out + o + 8, x->bytes, (size_t)x->keylen + x->siglen + x->datalen);
		o += entry_size(x);
	}
	*blob = out;
	*len = total;
	return 0;
}
