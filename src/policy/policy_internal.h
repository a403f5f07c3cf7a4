/* What the decision's parts share inside the policy layer: the decision in
 * progress, the stage runner, and the memo of DNSSEC validations. */
#pragma once

#include "cdscan/dns.h"
#include "cdscan/policy.h"

/*
 * Validations of one decision, remembered: the same DNSKEY RRset is checked
 * for `secure`, again for authentication and for the CSYNC data, and the
 * servers of one provider usually serve byte-identical signed RRsets.
 * Signature checks dominate the scan's CPU time (bench/), so each distinct
 * (RRset, DNSKEY RRset, DS set) is validated once.  Entries match on exact
 * content, never on a hash.
 *
 * The memo also holds the decision's validation work (limits.*): every
 * validation of the decision spends from one budget of verifications
 * (limits.verifications-per-delegation), and when a limit is why the last
 * call was not SECURE, work.limit says which (remembered with the outcome,
 * so that a recalled outcome says it too).  Stages put it in the detail
 * (LIMIT_FMT).
 */
#define CDS_MEMO_MAX 32
#define CDS_MEMO_MAX_DS 16
/* Signer checks remembered: CDS and CDNSKEY at each provider's servers. */
#define CDS_MEMO_SIGNER_MAX 8

struct cds_memo {
	const char *owner; /* the zone: owner of the DNSKEY and DS RRsets */
	struct cds_dnssec_work work; /* the clock, the limits, the budget spent */
	size_t count;
	struct {
		const struct cds_rrset *set, *dnskey;
		struct cds_ds ds[CDS_MEMO_MAX_DS];
		size_t n;
		enum cds_dnssec_status st;
		long signer; /* work.signer after it: the key that verified set */
		char limit[CDS_LIMIT_TEXT_MAX]; /* work.limit after it */
	} e[CDS_MEMO_MAX];
	size_t signer_count;
	struct {
		const struct cds_rrset *set, *dnskey;
		struct cds_ds ds[CDS_MEMO_MAX_DS];
		size_t n;
		uint16_t keytag;
		enum cds_dnssec_status st;
		char limit[CDS_LIMIT_TEXT_MAX];
	} signer[CDS_MEMO_SIGNER_MAX];
};

/* Start the memo of a decision on zone owner at now under limits. */
void cds_memo_init(struct cds_memo *m, const char *owner, const struct cds_dnssec_limits *limits,
		   time_t now);

/* The limit that made the last memo call (or the last validation through
 * the memo's work) fail, for a detail: "; " and the text, or "". */
#define LIMIT_FMT "%s%s"
#define LIMIT_ARGS(memo) ((memo)->work.limit[0] ? "; " : ""), (memo)->work.limit

/* Validate set with the DNSKEY RRset and the DS records ds[0..n). */
enum cds_dnssec_status cds_memo_validate(struct cds_memo *m, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, const struct cds_ds *ds,
					 size_t n);

/* RFC 7344 §4.1: set signed by a key of dnskey that ds[0..n) references
 * (cds_dnssec_verify_ds_signer), remembered like a validation. */
enum cds_dnssec_status cds_memo_ds_signer(struct cds_memo *m, const struct cds_rrset *set,
					  const struct cds_rrset *dnskey, const struct cds_ds *ds,
					  size_t n, uint16_t *keytag);

/* Does the DS set ds[0..n) authenticate the DNSKEY RRset a server serves? */
bool cds_memo_authenticates(struct cds_memo *m, const struct cds_server_result *sr,
			    const struct cds_ds *ds, size_t n);

/* Most DS records a signal may propose. */
#define CDS_PROPOSED_MAX 128

struct bootstrap_state;

/* One delegation's decision in progress, handed from stage to stage. */
struct decision {
	const struct cds_scan_result *res;
	const struct cds_delegation *d;
	const struct cds_conf *conf;
	struct cds_memo *memo;
	struct cds_verdict *v;
	struct cds_verdict_side *side; /* the side being decided */
	time_t now;
	/* DS side: the DS set the signal asks for (propose_ds), and whether it
	 * asks for deletion */
	struct cds_ds proposed[CDS_PROPOSED_MAX];
	size_t nproposed;
	bool is_delete;
	/* NS side: the CSYNC record (parsed), the first server's data */
	struct cds_csync cs;
	const struct cds_csync_data *c0;
	bool approved; /* processed on an operator's approval (csync-approved) */
	/* Empty answers without a validated denial: the parent's data is kept
	 * for the NS set, and per host of c0 for A ([2h]) and AAAA ([2h+1]). */
	bool ns_kept;
	bool *kept;
	char kept_note[640];
	/* bootstrap: how the RFC 9615 signals were judged */
	struct bootstrap_state *boot;
};

/*
 * A stage decides one rule: it returns STAGE_PASS (the rule holds, the next
 * stage follows), STAGE_DECIDED (the side is decided; stop), or a negative
 * error code.  Decisions are tables of stages run in order (as Unbound's
 * validator dispatches one function per state).
 */
enum { STAGE_PASS = 0, STAGE_DECIDED = 1 };
typedef int (*stage_fn)(struct decision *dc);

/* Run stages[0..n) until one decides.  Returns STAGE_PASS (none decided),
 * STAGE_DECIDED, or an error. */
int run_stages(const stage_fn *stages, size_t n, struct decision *dc);

#define RUN_STAGES(table, dc) run_stages((table), sizeof(table) / sizeof((table)[0]), (dc))

/* A server in details: "NAME (ADDR)". */
#define WHERE_FMT "%s (%s)"
#define WHERE_ARGS(vs) (vs)->name, ((vs)->address[0] ? (vs)->address : "address unknown")

/* The first server whose DNSKEY RRset the delegation's current DS set does
 * not authenticate, or -1 when it authenticates them all. */
long first_unauthenticated(struct decision *dc);

/* RFC 9975 §3: any unusable address means no action.  A stage: decides the
 * side as ns-unreachable, naming the first such address. */
int stage_all_usable(struct decision *dc);

/* Stages both sides begin with: automation suspended, or opted out. */
int stage_suspended(struct decision *dc);
int stage_opted_out(struct decision *dc);

/* The newest RRSIG inception of the apex CDS/CDNSKEY at any server (0:
 * none): the replay baseline once the parent acts on the signal. */
time_t signal_inception(const struct decision *dc);

/* The DS set the apex signal asks for as published, before any policy:
 * the CDS records, else DS computed from CDNSKEY with every digest type of
 * policy.compute-digests; as sorted texts into out. */
int signal_ds_texts(const struct decision *dc, struct cds_strlist *out);

/* The first server whose CDS or CDNSKEY RRset differs from the first
 * server's (*what: "CDS", "CDNSKEY"), or -1. */
long first_signal_mismatch(const struct cds_scan_result *res, const char **what);

/* The key tags of a DNSKEY RRset, or of the delegation's DS set, for
 * details ("12345 23456"). */
void key_tags(const struct cds_rrset *keys, char *out, size_t len);
void ds_tags(const struct cds_delegation *d, char *out, size_t len);

/* An RRSIG time (32-bit serial, RFC 4034 §3.1.5) as the time closest to now. */
time_t sig_time(uint32_t t, time_t now);

/* Append a DS in presentation form. */
int ds_text_add(struct cds_strlist *l, const struct cds_ds *ds);

/* What the apex signal (servers[0]) says about deletion (RFC 8078 §4). */
enum delete_kind {
	DELETE_NONE = 0,  /* asks for keys */
	DELETE_MALFORMED, /* decided: mixed-delete or cds-cdnskey-mismatch */
	DELETE_ASKED,     /* a well-formed delete */
};

/* Classify the apex signal; DELETE_MALFORMED has decided dc->side. */
enum delete_kind delete_signal(struct decision *dc);

/*
 * The DS set the apex signal asks for, through every stage a signal must
 * pass whatever authenticates it: CDS/CDNSKEY agreement, algorithms, digest
 * types, policy.max-ds, continuity at every address.  Returns STAGE_PASS
 * with dc->proposed[0..dc->nproposed), STAGE_DECIDED (rejected, decided in
 * dc->side) or an error.
 */
int propose_ds(struct decision *dc);

/* The stages of propose_ds one by one: CDS and CDNSKEY describe the same
 * keys (RFC 7344 §4.1, RFC 8078 §2), then everything after it. */
int stage_signal_agrees(struct decision *dc);
/* Every CDS record a well-formed DS (digest length fits its type). */
int stage_signal_well_formed(struct decision *dc);
int propose_agreed(struct decision *dc);

/* dc->proposed as sorted texts into out. */
int proposed_texts(const struct decision *dc, struct cds_strlist *out);

/* The NS set and glue a processed CSYNC asks for, and whether the parent
 * may point to them (ns_proposal.c): a stage. */
int ns_propose(struct decision *dc);

/* Proposed NS and glue back to the parent's: nothing changes. */
int ns_proposal_reset(struct cds_verdict *v);

/* The sides: DS (ds.c) with its bootstrap branch (bootstrap.c), NS (ns.c). */
int decide_ds(struct decision *dc);
int decide_bootstrap(struct decision *dc);
int decide_ns(struct decision *dc);
/* The NS side's stages before the CSYNC data is fetched
 * (cds_policy_csync_fetch_allowed): STAGE_PASS when every one passes. */
int decide_ns_before_data(struct decision *dc);
