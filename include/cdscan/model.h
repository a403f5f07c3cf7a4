/* The model: what the layers hand each other.  A delegation as the parent
 * holds it (scan reads it from the store), what every nameserver served
 * (scan fills it, policy reads it), the verdict with its reasons (policy
 * fills it; report, store and `check` show it) and the change set the
 * outbox sends.  Plain data with typed enums: no engine, database or
 * library type appears here, and text appears only where JSON, SQL or EPP
 * is written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cdscan/dns.h"
#include "cdscan/util.h"

/* ------------------------------------------------------- delegation --- */

/* Most addresses one NS name contributes. */
#define CDS_NS_MAX_ADDRS 16

/* One NS name of a delegation and its addresses. */
struct cds_ns_entry {
	char name[CDS_DNAME_BUFSIZE];
	size_t addr_count;                     /* 0: look up A and AAAA */
	struct cds_addr addrs[CDS_NS_MAX_ADDRS];
};

/* Longest accept-after-delay observation: a DS set joined by ','. */
#define CDS_OBSERVED_SIGNAL_MAX 1024

/* A delegation as the parent holds it.  ns and ds are owned by whoever
 * made the delegation (the store's batch, check's arguments); the struct
 * must outlive its scan. */
struct cds_delegation {
	char domain[CDS_DNAME_BUFSIZE];
	struct cds_ns_entry *ns;
	size_t ns_count;
	struct cds_ds *ds; /* the parent's current DS set */
	size_t ds_count;
	/* Replay protection (RFC 7344 §6.2): the RRSIG inception of the last
	 * signal the parent acted on, or when a DS change made outside
	 * cdscan was seen (check: --last-change). */
	bool has_last_change;
	time_t last_change;
	bool opted_out;     /* automation disabled for this domain */
	/* Automation suspended (domain suspend, a DS set removed outside
	 * cdscan, a registry update lock): nothing is decided. */
	bool suspended;
	char suspended_reason[200];
	/* An operator approved the CSYNC with this serial (RFC 7477
	 * §2.1.1.2: domain approve-csync): processed once without the
	 * immediate flag. */
	bool csync_approved;
	uint32_t csync_approved_serial;
	/* Addresses given up on after policy.unreachable-after of failing
	 * (RFC 9975 §3: removed from consideration until they answer again):
	 * "NAME ADDR" texts (owned by whoever made the delegation). */
	char **excluded;
	size_t excluded_count;
	/* Accept-after-delay (RFC 8078 §3.3): the last observation of this
	 * insecure delegation's signal (the store keeps them). */
	bool has_observation;
	char observed_signal[CDS_OBSERVED_SIGNAL_MAX]; /* proposed DS set, ',' */
	time_t observed_first;
	uint32_t observed_scans;
	/* Signature verifications remembered from earlier scans, and those
	 * this scan makes (scan.dnskey-cache; dns.h cds_sigcache): owned by
	 * whoever made the delegation (the store's item); NULL: none. */
	struct cds_sigcache *sigcache;
};

/* ---------------------------------------------------- what was served --- */

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

/* RR type of a query kind, and its name ("SOA"). */
uint16_t cds_query_type(enum cds_query_kind kind);
const char *cds_query_name(enum cds_query_kind kind);

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
	struct cds_csync_host *hosts; /* owned */
	size_t host_count;
	bool soa_after;        /* the second SOA was answered */
	uint32_t soa_serial_after;
};

/* The RFC 9615 signal types, in the order they are kept. */
enum cds_signal_type { CDS_SIGNAL_CDS = 0, CDS_SIGNAL_CDNSKEY, CDS_SIGNAL_TYPES };

/*
 * What the RFC 9615 signaling name of one NS host name gave (looked up
 * through the resolver with CD set, validated from the trust anchor):
 * _dsboot.<child>._signal.<ns host>.
 */
struct cds_bootstrap_signal {
	char ns[CDS_DNAME_BUFSIZE];         /* the NS host name */
	char zone[CDS_DNAME_BUFSIZE];       /* the zone the host name is in */
	enum cds_dnssec_status zone_status; /* SECURE: a securely delegated zone */
	char zone_why[200];
	struct cds_rrset sets[CDS_SIGNAL_TYPES]; /* records only */
	enum cds_dnssec_status status[CDS_SIGNAL_TYPES];
	bool missing[CDS_SIGNAL_TYPES];     /* NXDOMAIN or NODATA */
	int error[CDS_SIGNAL_TYPES];        /* the look-up failed */
	char why[CDS_SIGNAL_TYPES][200];
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
	/* An empty CDS, CDNSKEY or CSYNC answer came without the zone's SOA
	 * in its authority section (RFC 2308 §3): whether the server serves
	 * the zone is known only from the SOA query (scan.full-status). */
	bool probe_no_soa;
	struct cds_csync_data *csync; /* owned; NULL: no CSYNC processing */
	/* The agent domain of the Report-Channel option in its apex answers
	 * (RFC 9567 §5; the first answer that had one), or "": where cdscan
	 * reports what it rejects (error-reporting.enabled). */
	char report_agent[CDS_DNAME_BUFSIZE];
};

/* The outcome of scanning one delegation (owned by the receiver). */
struct cds_scan_result {
	const struct cds_delegation *delegation;
	struct cds_server_result *servers;
	size_t server_count;
	/* Addresses a CSYNC would add (new NS names, new glue), each asked for
	 * the SOA (sets[CDS_Q_SOA]) to prove it serves the zone and for the
	 * DNSKEY RRset (sets[CDS_Q_DNSKEY]) the current DS set must
	 * authenticate. */
	struct cds_server_result *probes;
	size_t probe_count;
	/* RFC 9615 (insecure delegations with a signal, policy.bootstrap.
	 * authenticated): one entry per NS host name outside the child. */
	bool signals_asked;
	struct cds_bootstrap_signal *signals;
	size_t signal_count;
	bool signal_over_tcp; /* CDS and CDNSKEY were asked over TCP */
	/* SOA, DNSKEY and NS were asked at every usable address: always with
	 * scan.full-status, else only where some address has a CDS, CDNSKEY
	 * or CSYNC (or an empty answer lacked the zone's SOA).  false: the
	 * DNSKEY RRsets are unknown, and so is `secure`. */
	bool apex_asked;
	time_t scanned_at;
	/* Addresses not asked, "NAME (ADDR): why" (resolver.address-families
	 * leaves a family out); owned. */
	char **skipped;
	size_t skipped_count;
};

/* Free what a result owns, including the struct.  Accepts NULL. */
void cds_scan_result_free(struct cds_scan_result *res);

/* Free what a CSYNC collection owns, including the struct.  Accepts NULL. */
void cds_csync_data_free(struct cds_csync_data *c);

/* --------------------------------------------------------- verdict --- */

/* Reason codes (CONTRACT.md); the order is internal, the strings are the
 * contract. */
enum cds_reason {
	CDS_R_NO_SIGNAL = 0,
	CDS_R_SIGNAL_UNCHANGED,
	CDS_R_DS_UPDATED,
	CDS_R_DELETE,
	CDS_R_DELETE_NOT_ALLOWED,
	CDS_R_NS_UNREACHABLE,
	CDS_R_NS_INCONSISTENT,
	CDS_R_NOT_SIGNED,
	CDS_R_BOGUS,
	CDS_R_CDS_CDNSKEY_MISMATCH,
	CDS_R_BREAKS_CHAIN,
	CDS_R_ALGORITHM_NOT_ALLOWED,
	CDS_R_DIGEST_NOT_ALLOWED,
	CDS_R_MIXED_DELETE,
	CDS_R_STALE_SIGNAL,
	CDS_R_OPTED_OUT,
	CDS_R_INSECURE_NO_BOOTSTRAP,
	CDS_R_BOOTSTRAP_AUTHENTICATED,
	CDS_R_BOOTSTRAP_SIGNAL_MISSING,
	CDS_R_BOOTSTRAP_SIGNAL_MISMATCH,
	CDS_R_BOOTSTRAP_NS_INSECURE,
	CDS_R_BOOTSTRAP_PENDING,
	CDS_R_BOOTSTRAP_AFTER_DELAY,
	CDS_R_TOO_MANY_DS, /* added: more DS than policy.max-ds */
	CDS_R_NO_CSYNC,
	CDS_R_CSYNC_UNCHANGED,
	CDS_R_NS_UPDATED,
	CDS_R_CSYNC_NOT_SIGNED,
	CDS_R_CSYNC_BOGUS,
	CDS_R_CSYNC_INCONSISTENT,
	CDS_R_CSYNC_SOA_SERIAL,
	CDS_R_CSYNC_SERIAL_CHANGED,
	CDS_R_CSYNC_UNKNOWN_FLAGS,
	CDS_R_CSYNC_UNKNOWN_TYPE,
	CDS_R_CSYNC_MULTIPLE,
	CDS_R_CSYNC_NOT_IMMEDIATE,
	CDS_R_CSYNC_NO_GLUE,
	CDS_R_CSYNC_EMPTY_NS,
	CDS_R_CSYNC_NOT_PROCESSED, /* added: CSYNC seen, processing off */
	CDS_R_CSYNC_NS_NOT_SERVING, /* added: a new NS or glue address does not serve */
	CDS_R_CSYNC_BAD_HOST_NAME,  /* added: an NS name that is no host name */
	CDS_R_BOOTSTRAP_SIGNAL_BOGUS, /* added: an RFC 9615 signal fails validation */
	CDS_R_SIGNER_NOT_IN_DS,
	CDS_R_SUSPENDED,
	CDS_R_CSYNC_BREAKS_CHAIN,
	CDS_R_CSYNC_APPROVED,
	CDS_R_VANTAGE_DISAGREEMENT, /* added: scan.vantages did not all see it */
	CDS_R_COUNT
};

/* "no-signal" etc. */
const char *cds_reason_code(enum cds_reason r);
/* One sentence for people. */
const char *cds_reason_text(enum cds_reason r);
/* The reason whose code is code ("bogus"); returns 0 or CDS_EDATA (a code
 * this binary does not know, e.g. one a newer version stored). */
int cds_reason_parse(const char *code, enum cds_reason *out);

/* The events a notice reports (cdscan.yaml(5) NOTIFICATIONS); the names are the configuration's keys. */
enum cds_event {
	CDS_EVENT_CHANGE_APPLIED = 0, /* the registry applied a change set */
	CDS_EVENT_SIGNAL_REJECTED,    /* a verdict rejected the signal (a new reason) */
	CDS_EVENT_REJECTED_REPEATEDLY, /* the same rejection for N consecutive scans */
	CDS_EVENT_BOOTSTRAP_PENDING,  /* accept-after-delay: seen, waiting */
	CDS_EVENT_BOOTSTRAP_ACCEPTED, /* the first DS set was decided */
	CDS_EVENT_SUSPENDED,          /* automation suspended for the domain */
	CDS_EVENT_COUNT
};

/* "change-applied", ...; cds_event_parse: 0 or CDS_EDATA. */
const char *cds_event_name(enum cds_event e);
int cds_event_parse(const char *name, enum cds_event *out);

enum cds_action {
	CDS_ACTION_NONE = 0,
	CDS_ACTION_UPDATE,
	CDS_ACTION_DELETE,
	CDS_ACTION_BOOTSTRAP,
	CDS_ACTION_REJECT,
	CDS_ACTION_COUNT
};

/* "none", "update", ... */
const char *cds_action_name(enum cds_action a);
/* The action named name; returns 0 or CDS_EDATA. */
int cds_action_parse(const char *name, enum cds_action *out);

/* Does a side with this action change something at the parent? */
bool cds_action_changes(enum cds_action a);

/* The two sides of a verdict, and the two kinds of change set. */
enum cds_kind { CDS_KIND_DS = 0, CDS_KIND_NS, CDS_KIND_COUNT };

/* "ds", "ns". */
const char *cds_kind_name(enum cds_kind k);
/* The kind named name; returns 0 or CDS_EDATA. */
int cds_kind_parse(const char *name, enum cds_kind *out);

/* What the look-up of one RFC 9615 signaling name came to. */
enum cds_signal_status {
	CDS_SIGNAL_SECURE = 0,
	CDS_SIGNAL_MISSING,  /* neither CDS nor CDNSKEY there */
	CDS_SIGNAL_INSECURE, /* the host's zone (or the signal) is not secure */
	CDS_SIGNAL_BOGUS,    /* there, and it does not validate */
	CDS_SIGNAL_ERROR,    /* the look-up failed */
};

/* "secure", "missing", "insecure", "bogus", "error" (the JSON words). */
const char *cds_signal_status_name(enum cds_signal_status s);

/* A sorted list of owned strings. */
struct cds_strlist {
	char **v;
	size_t n;
};

/* Append a copy of s (duplicates kept out).  Returns 0 or CDS_ENOMEM. */
int cds_strlist_add(struct cds_strlist *l, const char *s);
/* Append a copy of s, duplicates and all (lines of a history). */
int cds_strlist_push(struct cds_strlist *l, const char *s);
/* Append copies of every string of src.  Returns 0 or CDS_ENOMEM. */
int cds_strlist_copy(struct cds_strlist *dst, const struct cds_strlist *src);
/* Sort (byte order) for output and comparison. */
void cds_strlist_sort(struct cds_strlist *l);
bool cds_strlist_contains(const struct cds_strlist *l, const char *s);
bool cds_strlist_equal(const struct cds_strlist *a, const struct cds_strlist *b);
void cds_strlist_clear(struct cds_strlist *l);
/* a - b (strings of a not in b), sorted, into out (cleared first).
 * Returns 0 or CDS_ENOMEM. */
int cds_strlist_minus(const struct cds_strlist *a, const struct cds_strlist *b,
		      struct cds_strlist *out);

#define CDS_VERDICT_MAX_REASONS 8

/* One side (DS or NS) of the decision. */
struct cds_verdict_side {
	enum cds_action action;
	enum cds_reason reasons[CDS_VERDICT_MAX_REASONS];
	size_t reason_count;
	struct cds_strlist current;
	struct cds_strlist proposed;
	struct cds_strlist add;
	struct cds_strlist rem;
	char detail[512]; /* which server, which record: for people */
};

/* A delegation's previous scan result, as much of it as the report's
 * trends need (read back by the store in the statement that writes the new
 * result). */
struct cds_verdict_previous {
	bool known;                  /* false: no earlier result (a first scan) */
	bool dry_run;                /* it was recorded by a dry run */
	time_t scanned_at;
	enum cds_action ds_action, ns_action;
	/* The reasons of its rejected side(s), DS side first; codes this
	 * binary does not know are left out. */
	enum cds_reason rejected[2 * CDS_VERDICT_MAX_REASONS];
	size_t rejected_count;
};

/* An RFC 9615 signaling name as found under one NS host name. */
struct cds_verdict_signal {
	char ns[CDS_DNAME_BUFSIZE];
	char zone[CDS_DNAME_BUFSIZE];  /* the zone the host name is in */
	enum cds_signal_status status;
	char detail[200];
	struct cds_strlist cds;        /* presentation form */
	struct cds_strlist cdnskey;
};

/* The bootstrap part of the DS side (insecure delegations with a signal). */
struct cds_verdict_bootstrap {
	struct cds_verdict_signal *signals;
	size_t signal_count;
	/* accept-after-delay: the observation to keep (observed) or to forget */
	bool observed;
	char signal[CDS_OBSERVED_SIGNAL_MAX]; /* the proposed DS set, ',' */
	time_t first_seen;
	uint32_t scans;        /* consecutive scans that saw it unchanged */
	uint32_t scans_needed;
	uint64_t delay_needed_s;
};

/* What one nameserver address served. */
struct cds_verdict_server {
	char name[CDS_DNAME_BUFSIZE];
	char address[64];     /* empty: the name had no address */
	bool ok;
	char error[128];
	struct cds_strlist cds;
	struct cds_strlist cdnskey;
	char *csync;          /* presentation form, NULL when none */
	bool soa;             /* SOA answered */
	unsigned long soa_serial;
	size_t dnskey_count;
	bool dnskey_asked;    /* false: DNSKEY not asked (scan.full-status off) */
};

/* Glue of one in-bailiwick NS name. */
struct cds_verdict_glue {
	char name[CDS_DNAME_BUFSIZE];
	struct cds_strlist addresses;
};

struct cds_verdict {
	char domain[CDS_DNAME_BUFSIZE];
	time_t checked_at;
	struct cds_strlist ns; /* the parent's NS set */
	struct cds_strlist ds; /* the parent's DS set */
	bool secure;
	/* false: the scan did not ask for the DNSKEY RRsets (no signal at any
	 * address, scan.full-status off), so `secure` (then false) was not
	 * checked; JSON "secure_checked": false */
	bool secure_checked;
	struct cds_verdict_server *servers;
	size_t server_count;
	struct cds_verdict_side ds_side;
	struct cds_verdict_side ns_side;
	struct cds_verdict_glue *glue; /* proposed (equal to current unless ns-updated) */
	size_t glue_count;
	struct cds_verdict_glue *glue_current; /* the parent's */
	size_t glue_current_count;
	struct cds_verdict_bootstrap bootstrap;
	/* The newest RRSIG inception of the apex signal a DS change rests on:
	 * the next replay baseline once the change is made (0: none). */
	time_t signal_inception;
	/* The CSYNC approval was used (csync-approved): forget it. */
	bool csync_approval_used;
	/* Addresses left out of the decision (RFC 9975 §3), "NAME (ADDR)". */
	struct cds_strlist excluded;
	/* Signature verifications the decision cost (limits.verifications-
	 * per-delegation; for statistics and tests, not in the JSON). */
	uint32_t verifications;
};

/* One vantage's latest observation of one side of a delegation (scan.vantages,
 * cdscan.yaml(5) VANTAGES), as the store keeps it.  Borrowed strings. */
struct cds_vantage_seen {
	const char *vantage;     /* the scanner's scan.vantage */
	const char *fingerprint; /* cds_policy_vantage_fingerprint */
	time_t at;               /* when it observed it (the database's clock) */
};

/* What the vantages' observations of a signal come to. */
enum cds_vantage_outcome {
	CDS_VANTAGE_AGREED = 0, /* enough vantages saw it, none saw anything else */
	CDS_VANTAGE_WAITING,    /* no other signal seen, but too few vantages yet */
	CDS_VANTAGE_DISAGREED,  /* a vantage saw a different signal in the window */
};

/* The side of kind k. */
struct cds_verdict_side *cds_verdict_side_of(struct cds_verdict *v, enum cds_kind k);
const struct cds_verdict_side *cds_verdict_side_const(const struct cds_verdict *v,
						      enum cds_kind k);

/* Did any server of v give no usable answer? */
bool cds_verdict_any_unusable(const struct cds_verdict *v);

/* Append a glue entry for name (addresses empty) to *arr; NULL on no memory. */
struct cds_verdict_glue *cds_verdict_glue_add(struct cds_verdict_glue **arr, size_t *n,
					      const char *name);
/* The entry for name in g[0..n), or NULL. */
const struct cds_verdict_glue *cds_verdict_glue_find(const struct cds_verdict_glue *g, size_t n,
						     const char *name);
/* Free g[0..n) and what it owns. */
void cds_verdict_glue_free(struct cds_verdict_glue *g, size_t n);

/* Free what v owns and zero it.  Accepts a zeroed verdict. */
void cds_verdict_clear(struct cds_verdict *v);

/* Set a side's action with one reason (and detail, printf-style). */
void cds_verdict_decide(struct cds_verdict_side *side, enum cds_action action,
			enum cds_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fill add/rem from current and proposed.  Returns 0 or CDS_ENOMEM. */
int cds_verdict_side_diff(struct cds_verdict_side *side);

/* The verdict as one JSON object (CONTRACT.md "The verdict").  The text is
 * owned by the caller (free()); NULL on no memory. */
char *cds_verdict_to_json(const struct cds_verdict *v, bool pretty);

/* The same, pretty-printed with a newline, to f.  Returns 0 or CDS_ENOMEM. */
int cds_verdict_print_json(const struct cds_verdict *v, FILE *f);

/* ------------------------------------------------------- change set --- */

/* One operation of an NS change, in the order an EPP server accepts them
 * (RFC 5731, RFC 5732): host objects exist with their addresses before a
 * domain refers to them, and go only once no domain does. */
enum cds_ns_op_kind {
	CDS_NS_OP_HOST_CREATE = 0, /* addrs: every address of the new host */
	CDS_NS_OP_HOST_UPDATE,     /* add, rem: addresses */
	CDS_NS_OP_DOMAIN_UPDATE,   /* add, rem: NS names */
	CDS_NS_OP_HOST_DELETE,
	CDS_NS_OP_COUNT
};

/* "host-create", "host-update", "domain-update", "host-delete". */
const char *cds_ns_op_name(enum cds_ns_op_kind k);

struct cds_ns_op {
	enum cds_ns_op_kind kind;
	char name[CDS_DNAME_BUFSIZE]; /* the host (empty for domain-update) */
	struct cds_strlist add;       /* host-create: every address */
	struct cds_strlist rem;
};

/* How a registry takes DS changes (RFC 5910 §4): DS records, or the keys
 * (the whole key set, replaced). */
enum cds_ds_interface { CDS_DS_DATA = 0, CDS_KEY_DATA };

/* How a registry takes name servers (RFC 5731 §1.1): host objects, or
 * host attributes (names with their addresses). */
enum cds_host_model { CDS_HOST_OBJ = 0, CDS_HOST_ATTR };

/* What the parent must change for one side of a verdict, as the outbox
 * holds it and hands it to the output adapter. */
struct cds_change_set {
	int64_t id;                   /* the store's, 0 before it is stored */
	char domain[CDS_DNAME_BUFSIZE];
	enum cds_kind kind;
	enum cds_action action;       /* update, delete, bootstrap */
	char cltrid[64];              /* stable across resends */
	int attempts;                 /* sends begun before (epp-tls) */
	bool damaged;                 /* the stored row could not be read back:
					 only id and domain are set */
	struct cds_strlist add;       /* DS texts, or NS names */
	struct cds_strlist rem;
	struct cds_strlist proposed;  /* the whole set after the change */
	/* DS: the keys (CDNSKEY texts) for registries that take keyData
	 * (RFC 5910); empty when the child publishes no CDNSKEY. */
	struct cds_strlist keys;
	/* NS: the proposed glue and the ordered operations. */
	struct cds_verdict_glue *glue;
	size_t glue_count;
	struct cds_ns_op *ops;
	size_t op_count;
};

/* Free what cs owns and zero it.  Accepts a zeroed change set. */
void cds_change_set_clear(struct cds_change_set *cs);

/* Append an operation (lists empty) to cs; NULL on no memory. */
struct cds_ns_op *cds_change_set_add_op(struct cds_change_set *cs, enum cds_ns_op_kind kind,
					const char *name);

/* The change set's payload as the store keeps it (JSON: proposed, keys,
 * glue, ops), owned by the caller (free()); NULL on no memory. */
char *cds_change_set_payload(const struct cds_change_set *cs);

/* Read a stored payload back into cs (proposed, keys, glue, ops; the rest
 * is the caller's).  Returns 0, CDS_EDATA (not a payload) or CDS_ENOMEM. */
int cds_change_set_read_payload(struct cds_change_set *cs, const char *json);

/* The change set as one JSON object (the json output adapter's line):
 * id, domain, kind, action, add, rem, cltrid and the payload.  Owned by the
 * caller; NULL on no memory. */
char *cds_change_set_to_json(const struct cds_change_set *cs);
