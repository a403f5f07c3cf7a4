/* Test helper: getdns's DNSSEC validator (getdns_validate_dnssec2, the one
 * cdscan used before it verified RRSIGs itself) over cdscan's RRsets, as an
 * independent oracle for src/dns/dnssec.c.  Not part of cdscan itself. */
#pragma once

#include <time.h>

#include "cdscan/dns.h"

/* What getdns says of set, with the DNSKEY RRset dnskey of zone and the DS
 * records ds[0..n) as trust anchor, at now (the arguments of
 * cds_dnssec_validate). */
enum cds_dnssec_status oracle_validate(const char *zone, const struct cds_rrset *set,
				       const struct cds_rrset *dnskey, const struct cds_ds *ds,
				       size_t n, time_t now);

/* What getdns says of the denial of existence set->denial carries for
 * (set->owner, set->type), with the DNSKEY RRset dnskey of zone and the DS
 * records ds[0..n) as trust anchor, at now (its validator given the
 * question and the NSEC/NSEC3 RRsets with their RRSIGs). */
enum cds_dnssec_status oracle_denial(const char *zone, const struct cds_rrset *set,
				     const struct cds_rrset *dnskey, const struct cds_ds *ds,
				     size_t n, time_t now);
