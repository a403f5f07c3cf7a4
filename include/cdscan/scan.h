/* The scan engine: for one delegation, ask every nameserver address directly
 * (RD=0, DO) for SOA, DNSKEY, CDS, CDNSKEY, CSYNC and NS, and collect the
 * answers per address (RFC 9975 §3: every address of every NS name).  Many
 * delegations are in flight at once on one libuv loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "cdscan/conf.h"
#include "cdscan/dns.h"
#include "cdscan/util.h"

/* Most addresses one NS name contributes. */
#define CDS_NS_MAX_ADDRS 16

/* One NS name of a delegation and its addresses. */
struct cds_ns_entry {
	char name[CDS_DNAME_BUFSIZE];
	size_t addr_count;                     /* 0: look up A and AAAA */
	struct cds_addr addrs[CDS_NS_MAX_ADDRS];
};

/* A delegation as the parent holds it.  Owned by the caller; must outlive
 * the scan. */
struct cds_delegation {
	char domain[CDS_DNAME_BUFSIZE];
	struct cds_ns_entry *ns;
	size_t ns_count;
	struct cds_ds *ds; /* the parent's current DS set */
	size_t ds_count;
	bool has_last_change;
	time_t last_change; /* when the parent last changed the DS set */
	bool opted_out;     /* automation disabled for this domain */
	/* Accept-after-delay (RFC 8078 §3.3): the last observation of this
	 * insecure delegation's signal (scan keeps them in the database). */
	bool has_observation;
	char observed_signal[1024]; /* the proposed DS set, joined by ',' */
	time_t observed_first;
	uint32_t observed_scans;
};

/* The answers cdscan asks every address for, in this order. */
enum cds_query_kind {
	CDS_Q_SOA = 0,
	CDS_Q_DNSKEY,
	CDS_Q_CDS,
	CDS_Q_CDNSKEY,
	CDS_Q_CSYNC,
	CDS_Q_NS,
	CDS_Q_COUNT,
};

/* RR type of a query kind. */
uint16_t cds_query_type(enum cds_query_kind kind);

/* One in-bailiwick host name's addresses as a server of the child serves
 * them (CSYNC glue, RFC 7477 §3.2.2). */
struct cds_csync_host {
	char name[CDS_DNAME_BUFSIZE];
	struct cds_rrset a;    /* present: asked (A in the CSYNC bitmap) */
	struct cds_rrset aaaa; /* present: asked (AAAA in the bitmap) */
};

/*
 * What a server answered for CSYNC processing (RFC 7477 §3.4): after its
 * first SOA, the NS RRset again and the addresses of in-bailiwick names,
 * then the SOA once more.
 */
struct cds_csync_data {
	bool ok;               /* every answer usable */
	char error[160];       /* why not, when !ok */
	struct cds_rrset ns;   /* present: asked (NS in the bitmap) */
	struct cds_csync_host *hosts;
	size_t host_count;
	bool soa_after;        /* the second SOA was answered */
	uint32_t soa_serial_after;
};

/*
 * What the RFC 9615 signaling name of one NS host name gave (looked up
 * through the resolver with CD set, validated here from the trust anchor):
 * _dsboot.<child>._signal.<ns host>.
 */
struct cds_bootstrap_signal {
	char ns[CDS_DNAME_BUFSIZE];         /* the NS host name */
	char zone[CDS_DNAME_BUFSIZE];       /* the zone the host name is in */
	enum cds_dnssec_status zone_status; /* SECURE: a securely delegated zone */
	char zone_why[200];
	struct cds_rrset sets[2];           /* [0] CDS, [1] CDNSKEY: records only */
	enum cds_dnssec_status status[2];
	bool missing[2];                    /* NXDOMAIN or NODATA */
	int error[2];                       /* the look-up failed */
	char why[2][200];
};

/* What one nameserver address answered. */
struct cds_server_result {
	char name[CDS_DNAME_BUFSIZE];
	struct cds_addr addr;
	bool has_addr;     /* false: the NS name had no address */
	bool ok;           /* every answer usable */
	char error[128];   /* why not, in words, when !ok */
	struct cds_rrset sets[CDS_Q_COUNT];
	uint32_t soa_serial;
	struct cds_csync_data *csync; /* NULL: no CSYNC processing */
};

/* The outcome of scanning one delegation (owned by the receiver). */
struct cds_scan_result {
	const struct cds_delegation *delegation;
	struct cds_server_result *servers;
	size_t server_count;
	/* Addresses a CSYNC would add (new NS names, new glue), each asked for
	 * the SOA (sets[CDS_Q_SOA]) to prove it serves the zone. */
	struct cds_server_result *probes;
	size_t probe_count;
	/* RFC 9615 (insecure delegations with a signal, policy.bootstrap.
	 * authenticated): one entry per NS host name outside the child. */
	bool signals_asked;
	struct cds_bootstrap_signal *signals;
	size_t signal_count;
	bool signal_over_tcp; /* CDS and CDNSKEY were asked over TCP */
	time_t scanned_at;
};

/*
 * Judge one answer of a server (status 0 and the message, or a transport
 * error) and keep it in srv->sets[kind]: a server is unusable after a
 * timeout, a malformed message, an RCODE other than NOERROR, a
 * non-authoritative or lame answer, or no SOA at the apex (RFC 9975 §3).
 * srv->ok must be true before the first answer.
 */
void cds_server_take_answer(struct cds_server_result *srv, enum cds_query_kind kind,
			    const char *domain, int status, const uint8_t *wire, size_t len);

/* Free what a result owns, including the struct.  Accepts NULL. */
void cds_scan_result_free(struct cds_scan_result *res);

/* Called once per scanned delegation, on the loop thread; the receiver
 * owns res. */
typedef void (*cds_scan_cb)(struct cds_scan_result *res, void *arg);

struct cds_scanner;

/*
 * Create a scanner on loop with the scan.* settings of conf.  resolvers
 * (ADDR texts) answer the NS address look-ups; NULL or none: conf's
 * resolver.addresses, else /etc/resolv.conf.  Returns 0, CDS_ECONFIG (no
 * usable resolver) or CDS_ENOMEM.
 */
int cds_scanner_new(uv_loop_t *loop, const struct cds_conf *conf, const char *const *resolvers,
		    size_t resolver_count, struct cds_scanner **out);

/* Start scanning d; cb runs once when every answer is in.  Returns 0 or
 * CDS_ENOMEM (then cb never runs). */
int cds_scanner_scan(struct cds_scanner *s, const struct cds_delegation *d, cds_scan_cb cb,
		     void *arg);

/*
 * Load the trust anchor for validating the resolver's answers (RFC 9615
 * signals): DS or DNSKEY records of one zone, in zone file syntax (the root's
 * /usr/share/dns/root.key, or a lab's).  Returns 0, or CDS_EDATA with
 * "FILE[:LINE]: reason" in err.
 */
int cds_scanner_trust_anchor(struct cds_scanner *s, const char *path, char *err, size_t errlen);

/* The trust anchor RFC 9615 needs, when policy.bootstrap.authenticated is
 * on: path (--trust-anchor), else resolver.trust-anchor.  0 when loaded or
 * not needed; CDS_EDATA with the reason in err. */
int cds_scanner_bootstrap_anchor(struct cds_scanner *s, const struct cds_conf *conf,
				 const char *path, char *err, size_t errlen);

/* Queries issued and answered so far. */
void cds_scanner_counts(const struct cds_scanner *s, uint64_t *queries, uint64_t *answers);

/* Truncated UDP answers asked again over TCP so far. */
uint64_t cds_scanner_tcp_fallbacks(const struct cds_scanner *s);

/* Free the scanner (no scan may be pending); run the loop once more after. */
void cds_scanner_free(struct cds_scanner *s);

/* Resolve one name's A and AAAA through the scanner's resolver (cached for
 * the scanner's life).  cb gets 0 and the addresses, or an error. */
typedef void (*cds_resolve_cb)(int status, const struct cds_addr *addrs, size_t n, void *arg);
int cds_scanner_resolve(struct cds_scanner *s, const char *name, cds_resolve_cb cb, void *arg);

/*
 * Ask the resolver (RD=1, DO, and the extra transport flags, e.g.
 * CDS_QUERY_CD) for qname/qtype and parse the answer: used for the parent's
 * NS and DS in check's real-DNS mode.  cb gets 0 and the RRset (only valid
 * during the call) and whether the resolver set AD.
 */
typedef void (*cds_lookup_cb)(int status, const struct cds_rrset *set, bool ad, void *arg);
int cds_scanner_lookup(struct cds_scanner *s, const char *qname, uint16_t qtype,
		       unsigned flags, cds_lookup_cb cb, void *arg);

/*
 * Ask a parent's server (RD=0) for domain's NS and parse the referral: the
 * delegation as the parent holds it (the resolver would answer with the
 * child's own NS set).  cb gets 0 and the referral (valid during the call),
 * or an error.
 */
typedef void (*cds_referral_cb)(int status, const struct cds_referral *ref, void *arg);
int cds_scanner_referral(struct cds_scanner *s, const struct cds_addr *server, const char *domain,
			 cds_referral_cb cb, void *arg);
