/* Domain names in one place: as people and zone files write them
 * (normalised text) and in wire form (RFC 1035 §3.1), both ways. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

int cds_dname_normalize(const char *in, char out[CDS_DNAME_BUFSIZE])
{
	size_t n = strlen(in), o = 0, label = 0;

	if (n == 0)
		return CDS_ESYNTAX;
	if (strcmp(in, ".") == 0) {
		strcpy(out, ".");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '.') {
			/* An empty label ("a..b", ".a") is an error; one final dot is fine. */
			if (label == 0)
				return CDS_ESYNTAX;
			label = 0;
		} else {
			if (!isalnum(c) && c != '-' && c != '_' && c != '*')
				return CDS_ESYNTAX;
			if (++label > 63)
				return CDS_ESYNTAX;
			c = (unsigned char)tolower(c);
		}
		if (o >= CDS_DNAME_TEXT_MAX)
			return CDS_ESYNTAX;
		out[o++] = (char)c;
	}
	if (out[o - 1] != '.') {
		if (o >= CDS_DNAME_TEXT_MAX)
			return CDS_ESYNTAX;
		out[o++] = '.';
	}
	out[o] = '\0';
	/* Wire length is the text length plus one for the first length octet. */
	if (o + 1 > 255)
		return CDS_ESYNTAX;
	return 0;
}

bool cds_dname_is_subdomain(const char *name, const char *zone)
{
	size_t ln = strlen(name), lz = strlen(zone);

	if (strcmp(zone, ".") == 0)
		return true;
	if (ln < lz || strcmp(name + ln - lz, zone) != 0)
		return false;
	return ln == lz || name[ln - lz - 1] == '.';
}

int cds_dname_from_wire(const uint8_t *wire, size_t len, char out[CDS_DNAME_BUFSIZE])
{
	size_t o = 0, i = 0;
	while (i < len && wire[i] != 0) {
		size_t l = wire[i++];
		if (l > 63 || i + l >= len || o + l + 2 > CDS_DNAME_BUFSIZE)
			return CDS_EDATA;
		for (size_t k = 0; k < l; k++) {
			char c = (char)wire[i + k];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
				   c == '_'))
				return CDS_EDATA;
			out[o++] = c;
		}
		out[o++] = '.';
		i += l;
	}
	if (i >= len || i + 1 != len)
		return CDS_EDATA; /* no root label, or bytes after it */
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

int cds_dname_to_wire(const char *name, uint8_t out[256])
{
	size_t o = 0;
	if (strcmp(name, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || o + 1 + l + 1 > 255)
			return CDS_EINVAL;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return (int)o;
}

int cds_error_report_qname(const char *qname, uint16_t qtype, uint16_t ede, const char *agent,
			   char out[CDS_DNAME_BUFSIZE])
{
	char q[CDS_DNAME_BUFSIZE], a[CDS_DNAME_BUFSIZE], tmp[2 * CDS_DNAME_BUFSIZE];
	if (cds_dname_normalize(qname, q) != 0 || cds_dname_normalize(agent, a) != 0 ||
	    strcmp(q, ".") == 0 || strcmp(a, ".") == 0)
		return CDS_EINVAL;
	/* RFC 9567 §6.1.1: no report about the agent domain itself or a name
	 * below it (a report that fails to resolve is never reported: no
	 * loop). */
	if (cds_dname_is_subdomain(q, a))
		return CDS_EINVAL;
	/* _er.QTYPE.QNAME.EDE._er.AGENT (RFC 9567 §6.1.1), QTYPE and the
	 * extended error code as decimal labels.  The names are normalised
	 * (letters, digits, '-', '_', '*'): nothing needs escaping. */
	int n = snprintf(tmp, sizeof(tmp), "_er.%u.%s%u._er.%s", (unsigned)qtype, q, (unsigned)ede, a);
	/* Longer than 255 octets in wire form (text + 1): not sent (§6.1.1). */
	if (n < 0 || (size_t)n + 1 > 255 || (size_t)n >= CDS_DNAME_BUFSIZE)
		return CDS_ERANGE;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}
