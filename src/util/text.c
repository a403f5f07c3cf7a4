/* Parsers and formatters for addresses, DS text, times, durations. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"

int cds_addr_parse(const char *text, uint16_t default_port, struct cds_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *hash = strchr(text, '#');
	size_t hl = hash ? (size_t)(hash - text) : strlen(text);
	uint16_t port = default_port;

	if (hl == 0 || hl >= sizeof(host))
		return CDS_ESYNTAX;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (hash) {
		uint64_t p;
		if (cds_uint_parse(hash + 1, 1, 65535, &p) != 0)
			return CDS_ESYNTAX;
		port = (uint16_t)p;
	}
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
	} else {
		return CDS_ESYNTAX;
	}
	return 0;
}

int cds_addr_from_rdata(const uint8_t *rdata, size_t len, uint16_t port, struct cds_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, rdata, 4);
		out->len = sizeof(*sin);
		return 0;
	}
	if (len == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, rdata, 16);
		out->len = sizeof(*sin6);
		return 0;
	}
	return CDS_EINVAL;
}

void cds_addr_format(const struct cds_addr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port;

	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&addr->ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
	} else if (addr->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&addr->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
	} else {
		snprintf(buf, len, "?");
		return;
	}
	if (port == 53)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "%s#%u", host, port);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read one whitespace-delimited decimal field; advances *p. */
static int next_uint(const char **p, uint64_t max, uint64_t *out)
{
	char field[16];
	size_t n = 0;

	while (isspace((unsigned char)**p))
		(*p)++;
	while (**p && !isspace((unsigned char)**p)) {
		if (n + 1 >= sizeof(field))
			return CDS_ESYNTAX;
		field[n++] = *(*p)++;
	}
	field[n] = '\0';
	return cds_uint_parse(field, 0, max, out) == 0 ? 0 : CDS_ESYNTAX;
}

size_t cds_ds_digest_length(uint8_t digest_type)
{
	/* SHA-1 (RFC 3658), SHA-256 (RFC 4509), GOST R 34.11-94 (RFC 5933),
	 * SHA-384 (RFC 6605). */
	switch (digest_type) {
	case 1:
		return 20;
	case 2:
	case 3:
		return 32;
	case 4:
		return 48;
	default:
		return 0;
	}
}

int cds_ds_parse(const char *text, struct cds_ds *out)
{
	const char *p = text;
	uint64_t tag, alg, dt;
	int hi = -1;

	memset(out, 0, sizeof(*out));
	if (next_uint(&p, 65535, &tag) || next_uint(&p, 255, &alg) || next_uint(&p, 255, &dt))
		return CDS_ESYNTAX;
	out->keytag = (uint16_t)tag;
	out->algorithm = (uint8_t)alg;
	out->digest_type = (uint8_t)dt;
	for (; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		int v = hexval((unsigned char)*p);
		if (v < 0)
			return CDS_ESYNTAX;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (out->digest_len >= CDS_DS_DIGEST_MAX)
			return CDS_ESYNTAX;
		out->digest[out->digest_len++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0 || out->digest_len == 0)
		return CDS_ESYNTAX;
	/* RFC 8078 §4: the delete DS "0 0 0 00" has a one-octet digest. */
	if (out->keytag == 0 && out->algorithm == 0 && out->digest_type == 0)
		return out->digest_len == 1 && out->digest[0] == 0 ? 0 : CDS_ESYNTAX;
	size_t want = cds_ds_digest_length(out->digest_type);
	if (want && out->digest_len != want)
		return CDS_ESYNTAX;
	return 0;
}

void cds_ds_format(const struct cds_ds *ds, char buf[CDS_DS_TEXT_MAX])
{
	int n = snprintf(buf, CDS_DS_TEXT_MAX, "%u %u %u ", ds->keytag, ds->algorithm,
			 ds->digest_type);
	/* By table: an snprintf per byte was 2% of a scan's profile (every DS
	 * and CDS of every verdict is formatted). */
	if (n < 0 || n >= CDS_DS_TEXT_MAX)
		return;
	size_t len = ds->digest_len;
	if ((size_t)n + 2 * len >= CDS_DS_TEXT_MAX)
		len = (CDS_DS_TEXT_MAX - 1 - (size_t)n) / 2;
	cds_hex_upper(ds->digest, len, buf + n);
	buf[(size_t)n + 2 * len] = '\0';
}

void cds_hex_upper(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
}

int cds_uint_parse(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*text)
		return CDS_ESYNTAX;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return CDS_ESYNTAX;
		if (v > (UINT64_MAX - 9) / 10)
			return CDS_ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return CDS_ERANGE;
	*out = v;
	return 0;
}

int cds_duration_parse(const char *text, uint64_t *ms)
{
	char num[24];
	size_t n = 0;
	uint64_t v, mult;

	while (text[n] >= '0' && text[n] <= '9') {
		if (n + 1 >= sizeof(num))
			return CDS_ERANGE;
		num[n] = text[n];
		n++;
	}
	num[n] = '\0';
	const char *unit = text + n;
	if (n == 0)
		return CDS_ESYNTAX;
	if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (*unit == '\0' || strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(unit, "d") == 0)
		mult = 86400 * 1000;
	else
		return CDS_ESYNTAX;
	int r = cds_uint_parse(num, 0, UINT64_MAX / 86400000, &v);
	if (r != 0)
		return r;
	*ms = v * mult;
	return 0;
}

static int digits(const char **p, int count, int *out)
{
	int v = 0;
	for (int i = 0; i < count; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

enum cds_serial_order cds_serial_compare(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2 with SERIAL_BITS 32: the distance decides, not the
	 * values; a difference of exactly 2^31 has no order. */
	uint32_t d = b - a;
	if (d == 0)
		return CDS_SERIAL_EQUAL;
	if (d == 0x80000000u)
		return CDS_SERIAL_UNDEFINED;
	return d < 0x80000000u ? CDS_SERIAL_LESS : CDS_SERIAL_GREATER;
}

int cds_time_parse(const char *text, time_t *out)
{
	const char *p = text;
	struct tm tm = {0};
	int y, mo, d, h, mi, s, off = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return CDS_ESYNTAX;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &s))
		return CDS_ESYNTAX;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return CDS_ESYNTAX;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return CDS_ESYNTAX;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return CDS_ESYNTAX;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return CDS_ESYNTAX;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return CDS_ESYNTAX;
	/* timegm() normalises 31 February into March; refuse such dates. */
	struct tm check;
	gmtime_r(&t, &check);
	if (check.tm_mday != d && s != 60)
		return CDS_ESYNTAX;
	*out = t - off;
	return 0;
}

void cds_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t cds_clock(void)
{
	const char *fake = getenv("CDSCAN_NOW");
	time_t t;
	if (fake && *fake && cds_time_parse(fake, &t) == 0)
		return t;
	return time(NULL);
}

static bool local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(".!#$%&'*+-=?^_~", c));
}

/* A host name: LDH labels of 1..63 octets, no hyphen at either end, at
 * least two of them. */
static bool host_ok(const char *s, size_t len)
{
	size_t labels = 0, l = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';
		if (c == '.') {
			if (l == 0 || l > 63 || s[i - 1] == '-' || s[i - l] == '-')
				return false;
			labels++;
			l = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			l++;
		} else {
			return false;
		}
	}
	return labels >= 2;
}

int cds_mail_address_check(const char *s, size_t len)
{
	const char *at = len ? memchr(s, '@', len) : NULL;
	if (!at || len > CDS_MAIL_ADDRESS_MAX)
		return CDS_EDATA;
	size_t local = (size_t)(at - s);
	/* No leading '-' either: the address is a sendmail argument, and must
	 * never be read as an option. */
	if (local == 0 || local > CDS_MAIL_LOCAL_MAX || s[0] == '.' || s[0] == '-' ||
	    s[local - 1] == '.')
		return CDS_EDATA;
	for (size_t i = 0; i < local; i++)
		if (!local_char((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			return CDS_EDATA;
	return host_ok(at + 1, len - local - 1) ? 0 : CDS_EDATA;
}
