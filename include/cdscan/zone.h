/* Streaming reader of parent zone files (RFC 1035 §5): one record at a time,
 * with $ORIGIN, $TTL, $INCLUDE, relative names, omitted owners and
 * parentheses.  Records are parsed by ldns; the directives and line joining
 * are here, because ldns and getdns both leave $INCLUDE to the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/util.h"

/* One record, as far as delegations need it. */
struct cds_zone_rr {
	char owner[CDS_DNAME_BUFSIZE]; /* normalised */
	uint16_t type;
	uint32_t ttl;
	const char *file;  /* where it was read (valid until the next call) */
	unsigned line;     /* first line of the record */
	char target[CDS_DNAME_BUFSIZE]; /* NS: the nameserver name */
	struct cds_ds ds;  /* DS; for a DNSKEY its SHA-256 DS */
	struct cds_addr addr; /* A, AAAA (port 53) */
};

struct cds_zone_reader;

/* Open path; origin (normalised) applies until a $ORIGIN, may be NULL.
 * Returns 0, or CDS_EDATA with "FILE: reason" in err. */
int cds_zone_open(const char *path, const char *origin, struct cds_zone_reader **out, char *err,
		  size_t errlen);

/*
 * Read the next record.  Returns 1 with *rr filled, 0 at the end, or
 * CDS_EDATA with "FILE:LINE: reason" in err (the reader is then unusable).
 */
int cds_zone_next(struct cds_zone_reader *z, struct cds_zone_rr *rr, char *err, size_t errlen);

/* Close and free.  Accepts NULL. */
void cds_zone_close(struct cds_zone_reader *z);
