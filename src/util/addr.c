/* Address prefixes and the special-purpose address ranges (RFC 6890, the
 * IANA IPv4 and IPv6 Special-Purpose Address Registries) that a scan of
 * other people's zones must never be pointed at unless the operator says
 * so: a registrant controls the glue and NS names it hands the parent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"

int cds_prefix_parse(const char *text, struct cds_prefix *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hl = slash ? (size_t)(slash - text) : strlen(text);
	uint64_t len = 0;

	if (hl == 0 || hl >= sizeof(host))
		return CDS_ESYNTAX;
	memcpy(host, text, hl);
	host[hl] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		return CDS_ESYNTAX;
	unsigned bits = out->family == AF_INET ? 32 : 128;
	if (!slash)
		len = bits;
	else if (cds_uint_parse(slash + 1, 0, bits, &len) != 0)
		return CDS_ESYNTAX;
	out->len = (uint8_t)len;
	/* Host bits below the prefix length must be clear. */
	for (unsigned b = out->len; b < bits; b++)
		if (out->addr[b / 8] & (0x80u >> (b % 8)))
			return CDS_ESYNTAX;
	return 0;
}

void cds_prefix_format(const struct cds_prefix *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->family, p->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s/%u", host, p->len);
}

/* The address's octets (4 for IPv4, 16 for IPv6) and family; an
 * IPv4-mapped IPv6 address as IPv4. */
static int addr_octets(const struct cds_addr *a, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (a->ss.ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
		return AF_INET;
	}
	if (a->ss.ss_family != AF_INET6)
		return AF_UNSPEC;
	memcpy(out, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
	if (memcmp(out, mapped, sizeof(mapped)) == 0) {
		memmove(out, out + 12, 4);
		return AF_INET;
	}
	return AF_INET6;
}

/* Do the first len bits of x and net agree? */
static bool bits_match(const uint8_t *x, const uint8_t *net, unsigned len)
{
	for (unsigned b = 0; b < len; b++)
		if ((x[b / 8] ^ net[b / 8]) & (0x80u >> (b % 8)))
			return false;
	return true;
}

bool cds_prefix_contains(const struct cds_prefix *p, const struct cds_addr *a)
{
	uint8_t x[16];
	return addr_octets(a, x) == p->family && bits_match(x, p->addr, p->len);
}

/* One special-purpose range: the network's first octets, length, what. */
struct special {
	uint8_t net[16];
	uint8_t len;
	const char *what;
};

/* IPv4 (RFC 6890 §2.2.2 and its updates). */
static const struct special v4_special[] = {
	{{0}, 8, "unspecified (\"this network\", 0.0.0.0/8)"},
	{{10}, 8, "private (RFC 1918, 10.0.0.0/8)"},
	{{100, 64}, 10, "shared (RFC 6598, 100.64.0.0/10)"},
	{{127}, 8, "loopback (127.0.0.0/8)"},
	{{169, 254}, 16, "link-local (169.254.0.0/16)"},
	{{172, 16}, 12, "private (RFC 1918, 172.16.0.0/12)"},
	{{192, 0, 0}, 24, "IETF protocol assignments (192.0.0.0/24)"},
	{{192, 0, 2}, 24, "documentation (TEST-NET-1, 192.0.2.0/24)"},
	{{192, 88, 99}, 24, "6to4 relay anycast (deprecated, 192.88.99.0/24)"},
	{{192, 168}, 16, "private (RFC 1918, 192.168.0.0/16)"},
	{{198, 18}, 15, "benchmarking (198.18.0.0/15)"},
	{{198, 51, 100}, 24, "documentation (TEST-NET-2, 198.51.100.0/24)"},
	{{203, 0, 113}, 24, "documentation (TEST-NET-3, 203.0.113.0/24)"},
	{{224}, 4, "multicast (224.0.0.0/4)"},
	{{240}, 4, "reserved (240.0.0.0/4, with broadcast)"},
};

/* IPv6 (RFC 6890 §2.2.3, RFC 4291, RFC 8215, RFC 9637); IPv4-mapped, the
 * NAT64 prefix and 6to4 are judged by the IPv4 address inside. */
static const struct special v6_special[] = {
	{{0}, 128, "unspecified (::)"},
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback (::1)"},
	{{0}, 96, "IPv4-compatible (deprecated, ::/96)"},
	{{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "local-use NAT64 (64:ff9b:1::/48)"},
	{{0x01, 0x00}, 64, "discard-only (100::/64)"},
	{{0x20, 0x01, 0x00, 0x02, 0, 0}, 48, "benchmarking (2001:2::/48)"},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
	{{0x3f, 0xff}, 20, "documentation (3fff::/20)"},
	{{0xfc}, 7, "unique local (fc00::/7)"},
	{{0xfe, 0x80}, 10, "link-local (fe80::/10)"},
	{{0xfe, 0xc0}, 10, "site-local (deprecated, fec0::/10)"},
	{{0xff}, 8, "multicast (ff00::/8)"},
};

static const char *lookup(const struct special *tab, size_t n, const uint8_t *x)
{
	for (size_t i = 0; i < n; i++)
		if (bits_match(x, tab[i].net, tab[i].len))
			return tab[i].what;
	return NULL;
}

const char *cds_addr_special(const struct cds_addr *a)
{
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	uint8_t x[16];
	switch (addr_octets(a, x)) {
	case AF_INET:
		return lookup(v4_special, sizeof(v4_special) / sizeof(v4_special[0]), x);
	case AF_INET6:
		break;
	default:
		return "not an IPv4 or IPv6 address";
	}
	const char *what = lookup(v6_special, sizeof(v6_special) / sizeof(v6_special[0]), x);
	if (what)
		return what;
	/* RFC 6052 (64:ff9b::/96) and RFC 3056 (2002::/16) carry an IPv4
	 * address: a private one is as private behind the translator. */
	if (memcmp(x, nat64, sizeof(nat64)) == 0)
		return lookup(v4_special, sizeof(v4_special) / sizeof(v4_special[0]), x + 12);
	if (x[0] == 0x20 && x[1] == 0x02)
		return lookup(v4_special, sizeof(v4_special) / sizeof(v4_special[0]), x + 2);
	return NULL;
}
