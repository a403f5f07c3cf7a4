/* DSYNC records (RFC 9859): their owner names, wire and presentation form,
 * and the generic form of RFC 3597 for servers that predate the type. */
#include <stdio.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

/* The label RFC 9859 §6.3 registers (RFC 8552). */
#define DSYNC_LABEL "_dsync"

int cds_dsync_owner(const char *parent, enum cds_dsync_owner_kind kind, const char *child,
		    char out[CDS_DNAME_BUFSIZE])
{
	/* The root parent "." adds nothing after "_dsync.". */
	const char *tail = strcmp(parent, ".") == 0 ? "" : parent;
	char head[CDS_DNAME_BUFSIZE];
	size_t hl;

	switch (kind) {
	case CDS_DSYNC_OWNER_WILDCARD:
		strcpy(head, "*.");
		break;
	case CDS_DSYNC_OWNER_ZONE:
		head[0] = '\0';
		break;
	case CDS_DSYNC_OWNER_CHILD:
		/* RFC 9859 §3.2: the child's name with the parent zone's
		 * labels stripped, in place of the wildcard label. */
		if (!child || strcmp(child, parent) == 0 || !cds_dname_is_subdomain(child, parent))
			return CDS_EINVAL;
		hl = strlen(child) - strlen(tail);
		memcpy(head, child, hl);
		head[hl] = '\0';
		break;
	default:
		return CDS_EINVAL;
	}
	/* At most CDS_DNAME_TEXT_MAX characters: 255 octets in wire form. */
	hl = strlen(head);
	size_t ll = strlen(DSYNC_LABEL "."), tl = strlen(tail);
	if (hl + ll + tl > CDS_DNAME_TEXT_MAX)
		return CDS_ERANGE;
	memcpy(out, head, hl);
	memcpy(out + hl, DSYNC_LABEL ".", ll);
	memcpy(out + hl + ll, tail, tl + 1);
	return 0;
}

int cds_dsync_to_wire(const struct cds_dsync *d, uint8_t *out, size_t outlen)
{
	uint8_t target[256];
	int tl = cds_dname_to_wire(d->target, target);

	if (tl < 0)
		return CDS_EINVAL;
	if (outlen < 5 + (size_t)tl)
		return CDS_ERANGE;
	/* RFC 9859 §2.1: RRtype, Scheme, Port in network order, then the
	 * target uncompressed. */
	out[0] = (uint8_t)(d->rrtype >> 8);
	out[1] = (uint8_t)d->rrtype;
	out[2] = d->scheme;
	out[3] = (uint8_t)(d->port >> 8);
	out[4] = (uint8_t)d->port;
	memcpy(out + 5, target, (size_t)tl);
	return 5 + tl;
}

int cds_dsync_format(const struct cds_dsync *d, char *buf, size_t buflen)
{
	char tmp[16], scheme[8];
	int n;

	/* RFC 9859 §2.2: the scheme by its mnemonic when one is assigned. */
	if (d->scheme == CDS_DSYNC_SCHEME_NOTIFY)
		strcpy(scheme, "NOTIFY");
	else
		snprintf(scheme, sizeof(scheme), "%u", d->scheme);
	n = snprintf(buf, buflen, "%s %s %u %s", cds_rrtype_name(d->rrtype, tmp), scheme, d->port,
		     d->target);
	return n >= 0 && (size_t)n < buflen ? 0 : CDS_ERANGE;
}

int cds_rdata_format_generic(const uint8_t *rdata, size_t len, char *buf, size_t buflen)
{
	int n = snprintf(buf, buflen, "\\# %zu%s", len, len ? " " : "");

	if (n < 0 || (size_t)n + 2 * len >= buflen)
		return CDS_ERANGE;
	cds_hex_upper(rdata, len, buf + n);
	buf[(size_t)n + 2 * len] = '\0';
	return 0;
}
