/* Validated look-ups through the resolver, for RFC 9615 signals: the
 * resolver is asked with CD set and its AD bit is never trusted; every RRset
 * is validated here, link by link from the configured trust anchor.  Part
 * of the DNS layer's network half (with the transport); the scan layer owns
 * one per scanner. */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "cdscan/dns.h"
#include "cdscan/transport.h"
#include "cdscan/util.h"

struct cds_trust;

/* The outcome of one look-up; valid during the callback only. */
struct cds_trust_result {
	int error;                      /* 0, or why nothing could be said (look-up failed) */
	enum cds_dnssec_status status;  /* of the RRset, or of the zone */
	/* No such RRset (NXDOMAIN or NODATA), proven: the NSEC/NSEC3 denial
	 * that came with the empty answer validates from the anchor (status
	 * SECURE).  An empty answer whose denial does not is not missing:
	 * status BOGUS (no proof, a proof that does not hold), INSECURE (an
	 * insecure zone, an NSEC3 opt-out span, NSEC3 iterations above the
	 * limit) or ERROR, with why. */
	bool missing;
	const struct cds_rrset *set;    /* the records (cds_trust_rrset) */
	const char *zone;               /* the zone the data is in, when known */
	const char *why;                /* in words, when not secure */
};

typedef void (*cds_trust_cb)(const struct cds_trust_result *r, void *arg);

/* A cache of resolver answers and zone validations, each kept while it
 * holds (cds_trust_set_cache_max_ttl); queries go to resolver over
 * transport. */
struct cds_trust *cds_trust_new(uv_loop_t *loop, struct cds_transport *transport,
				const struct cds_addr *resolver);
void cds_trust_free(struct cds_trust *t);

/* The trust anchor: DS records of zone owner (normalised).  Without one,
 * every look-up ends with CDS_DNSSEC_INDETERMINATE. */
int cds_trust_set_anchor(struct cds_trust *t, const char *owner, const struct cds_ds *ds,
			 size_t n);

/* The limits on answers and validations (the config's limits: section,
 * copied; NSEC3 iterations among them, RFC 9276 §3.2), each look-up's
 * chain from the anchor one budget of verifications.
 * cds_dnssec_limits_default until set; set them before the first look-up
 * (answers already judged are cached). */
void cds_trust_set_limits(struct cds_trust *t, const struct cds_dnssec_limits *limits);

/* The longest an answer, and a zone's validation, is reused
 * (resolver.cache-max-ttl); 3600 until set.  Each also expires with the
 * TTL of its records and its RRSIGs' expiration; a failed look-up after
 * 30 seconds at most.  Whether an entry expired is judged against
 * cds_clock() when a look-up starts. */
void cds_trust_set_cache_max_ttl(struct cds_trust *t, uint32_t seconds);

/* qname/qtype and whether it validates from the anchor.  cb may run before
 * the call returns (everything cached).  Returns 0 or CDS_ENOMEM. */
int cds_trust_rrset(struct cds_trust *t, const char *qname, uint16_t qtype, cds_trust_cb cb,
		    void *arg);

/* The zone name is in (the closest enclosing SOA) and whether its DNSKEY
 * RRset validates from the anchor (a securely delegated zone).  INSECURE
 * only when the parent's denial of the zone's DS validates (or an NSEC3
 * opt-out span of the parent covers it); an unproven absence is BOGUS.
 * Same callback rules. */
int cds_trust_zone_of(struct cds_trust *t, const char *name, cds_trust_cb cb, void *arg);
