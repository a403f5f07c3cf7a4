/* The verdict on one delegation (CONTRACT.md "The verdict"): what every
 * server answered, and the DS and NS decisions with their reason codes.
 * Printed as JSON (json-c) or as text for people. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "cdscan/util.h"

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
	CDS_R_COUNT
};

/* "no-signal" etc. */
const char *cds_reason_code(enum cds_reason r);
/* One sentence for people. */
const char *cds_reason_text(enum cds_reason r);

enum cds_action {
	CDS_ACTION_NONE = 0,
	CDS_ACTION_UPDATE,
	CDS_ACTION_DELETE,
	CDS_ACTION_BOOTSTRAP,
	CDS_ACTION_REJECT,
};

/* "none", "update", ... */
const char *cds_action_name(enum cds_action a);

/* A sorted list of owned strings. */
struct cds_strlist {
	char **v;
	size_t n;
};

/* Append a copy of s (duplicates kept out).  Returns 0 or CDS_ENOMEM. */
int cds_strlist_add(struct cds_strlist *l, const char *s);
/* Sort (byte order) for output and comparison. */
void cds_strlist_sort(struct cds_strlist *l);
bool cds_strlist_contains(const struct cds_strlist *l, const char *s);
bool cds_strlist_equal(const struct cds_strlist *a, const struct cds_strlist *b);
void cds_strlist_clear(struct cds_strlist *l);

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

/* An RFC 9615 signaling name as found under one NS host name. */
struct cds_verdict_signal {
	char ns[CDS_DNAME_BUFSIZE];
	char zone[CDS_DNAME_BUFSIZE];  /* the zone the host name is in */
	const char *status;            /* secure, missing, insecure, bogus, error */
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
	char signal[1024];     /* the proposed DS set, joined by ',' */
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
	struct cds_verdict_server *servers;
	size_t server_count;
	struct cds_verdict_side ds_side;
	struct cds_verdict_side ns_side;
	struct cds_verdict_glue *glue; /* proposed (equal to current unless ns-updated) */
	size_t glue_count;
	struct cds_verdict_glue *glue_current; /* the parent's */
	size_t glue_current_count;
	struct cds_verdict_bootstrap bootstrap;
};

/* Append a glue entry for name (addresses empty) to *arr; NULL on no memory. */
struct cds_verdict_glue *cds_verdict_glue_add(struct cds_verdict_glue **arr, size_t *n,
					      const char *name);

/* The change set of one side, as stored and handed to the output adapter:
 * {"proposed": [...]} and, for the NS side, the glue and the ordered
 * operations (host create/update before the domain update, host delete
 * after it).  Owned by the caller (free()); NULL on no memory. */
char *cds_verdict_change_payload(const struct cds_verdict *v, bool ns_side);

/* Free what v owns and zero it.  Accepts a zeroed verdict. */
void cds_verdict_clear(struct cds_verdict *v);

/* Set a side's action with one reason (and detail, printf-style). */
void cds_verdict_decide(struct cds_verdict_side *side, enum cds_action action,
			enum cds_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fill add/rem from current and proposed. */
int cds_verdict_side_diff(struct cds_verdict_side *side);

/* The verdict as one JSON object (CONTRACT.md), pretty-printed, with a
 * newline, to f.  Returns 0 or CDS_ENOMEM. */
int cds_verdict_print_json(const struct cds_verdict *v, FILE *f);

/* The JSON text (owned by the caller, free()); NULL on no memory. */
char *cds_verdict_to_json(const struct cds_verdict *v, bool pretty);

/* A readable summary: one line per server, then the decisions in words. */
void cds_verdict_print_text(const struct cds_verdict *v, FILE *f);
