/* cdscan dsync: the DSYNC records (RFC 9859) a parent zone publishes to
 * send its children's NOTIFYs to cdscan daemon, printed as zone file lines
 * (the records themselves are made in src/dns/dsync.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cdscan/cmd.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"

/* The NOTIFYs a parent running cdscan takes: NOTIFY(CDS), which stands for
 * CDS and CDNSKEY alike (RFC 9859 §2.1, §4), and NOTIFY(CSYNC). */
static const uint16_t notify_types[] = {CDS_T_CDS, CDS_T_CSYNC};

/* One record as a zone file line, then its other form as a comment: the
 * mnemonic form (RFC 9859 §2.2) or the generic one (RFC 3597 §5), so that
 * a server that knows only one of them reads the line and a person reads
 * the comment. */
static int print_record(FILE *f, const char *owner, uint32_t ttl, const struct cds_dsync *d,
			bool generic)
{
	uint8_t wire[CDS_DSYNC_WIRE_MAX];
	char text[CDS_DNAME_BUFSIZE + 32], gen[CDS_RDATA_GENERIC_TEXT(CDS_DSYNC_WIRE_MAX)];
	int n = cds_dsync_to_wire(d, wire, sizeof(wire));
	int r = n < 0 ? n : cds_dsync_format(d, text, sizeof(text));

	if (r == 0)
		r = cds_rdata_format_generic(wire, (size_t)n, gen, sizeof(gen));
	if (r != 0)
		return r;
	if (generic)
		fprintf(f, "%s %u IN TYPE%u %s\n; %s %u IN DSYNC %s\n", owner, ttl, CDS_T_DSYNC,
			gen, owner, ttl, text);
	else
		fprintf(f, "%s %u IN DSYNC %s\n; %s %u IN TYPE%u %s\n", owner, ttl, text, owner, ttl,
			CDS_T_DSYNC, gen);
	return 0;
}

/* Owner i of the records: each --child's (RFC 9859 §3.2), else the
 * wildcard or, with --no-wildcard, _dsync.PARENT (§3.1). */
static int owner_name(const struct cds_cli_dsync *o, size_t i, char out[CDS_DNAME_BUFSIZE])
{
	if (o->child_count)
		return cds_dsync_owner(o->zone, CDS_DSYNC_OWNER_CHILD, o->children[i], out);
	return cds_dsync_owner(o->zone,
			       o->no_wildcard ? CDS_DSYNC_OWNER_ZONE : CDS_DSYNC_OWNER_WILDCARD,
			       NULL, out);
}

int cds_cmd_dsync(const struct cds_cli *cli, const struct cds_conf *conf)
{
	const struct cds_cli_dsync *o = &cli->dsync;
	struct cds_dsync d = {.scheme = CDS_DSYNC_SCHEME_NOTIFY, .port = o->port};
	size_t owners = o->child_count ? o->child_count : 1;
	char owner[CDS_DNAME_BUFSIZE];
	int r = 0;

	snprintf(d.target, sizeof(d.target), "%s", o->target);
	printf("; RFC 9859 DSYNC for %s: children send NOTIFY(CDS) and NOTIFY(CSYNC)\n"
	       "; to %s port %u, which needs an address record\n",
	       o->zone, o->target, o->port);
	for (size_t i = 0; i < owners && r == 0; i++) {
		r = owner_name(o, i, owner);
		for (size_t t = 0; t < sizeof(notify_types) / sizeof(notify_types[0]) && r == 0;
		     t++) {
			d.rrtype = notify_types[t];
			r = print_record(stdout, owner, o->ttl, &d, o->generic);
		}
	}
	if (r != 0) {
		/* The command line was checked: this is a bug. */
		fprintf(stderr, "cdscan: dsync: %s\n", cds_strerror(r));
		return CDS_EXIT_SOFTWARE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cdscan: dsync: writing the records: %s\n", strerror(errno));
		return CDS_EXIT_SOFTWARE;
	}
	return CDS_EXIT_OK;
}
