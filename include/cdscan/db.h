/* The PostgreSQL store (libpq, parameterised queries only): connection,
 * forward-only migrations, the import of a parent zone's delegations, the
 * scan pipeline's claims and writes, and the outbox of change sets.  The
 * store speaks the model; PGconn and PGresult stay inside src/db. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/model.h"

/* One migration, compiled in from sql/NNNN_name.sql. */
struct cds_migration {
	int version;
	const char *name;
	const char *sql;
};

/* All migrations, in version order (generated). */
extern const struct cds_migration cds_migrations[];
extern const size_t cds_migration_count;

struct cds_db;

/* Connect.  Returns 0, or CDS_EUNAVAIL with the reason in err (the
 * connection string is never in it: it may hold a password). */
int cds_db_connect(const char *conninfo, struct cds_db **out, char *err, size_t errlen);

/*
 * Connect as cds_db_connect does, for a connection that must not hang (the
 * daemon's HTTP thread): giving up after connect_s seconds, every
 * statement cancelled after statement_ms milliseconds (0: no limit), and
 * app as application_name (pg_stat_activity).  What conninfo sets itself
 * (connect_timeout, application_name) wins.  Same returns.
 */
int cds_db_connect_bounded(const char *conninfo, const char *app, unsigned connect_s,
			   unsigned statement_ms, struct cds_db **out, char *err, size_t errlen);

/* Is the connection still there?  After a failed query: false when the
 * server or the network dropped it (reconnect), true when only the query
 * failed. */
bool cds_db_connection_ok(const struct cds_db *db);

/* Close.  Accepts NULL. */
void cds_db_close(struct cds_db *db);


/*
 * Apply the migrations the database lacks, each in its own transaction,
 * serialised against concurrent runs.  *from and *to get the versions
 * before and after.  Returns 0, CDS_EDATA (the database is newer than this
 * binary) or CDS_EUNAVAIL, with err set.
 */
int cds_db_migrate(struct cds_db *db, int *from, int *to, char *err, size_t errlen);

/* One claimed delegation: its row id and the delegation to scan. */
struct cds_db_item {
	int64_t id;
	int failures;               /* consecutive scans with an unusable server */
	size_t failing;             /* its addresses in server_failures at the claim */
	/* Its statuses at the registry as the last import --from epp read
	 * them, separated by spaces ("": none, or not asked); longer than an
	 * import stores: registry_status_unreadable (then held as locked). */
	char registry_status[1024];
	bool registry_status_unreadable;
	struct cds_delegation d;    /* ns, ds and excluded owned by the item (the
				       batch's until moved out; cds_db_item_clear) */
};

/* A batch of claimed delegations (free with cds_db_batch_free). */
struct cds_db_batch {
	struct cds_db_item *items;
	size_t count;
	int64_t last_id; /* for the next claim of this run */
};

/* What to claim (cds_db_claim). */
struct cds_db_claim_opts {
	size_t max;                   /* at most this many */
	int64_t after;                /* with id > after */
	char *const *domains;         /* these (normalised), due or not; NULL: the due ones */
	size_t ndomains;
	uint64_t lease_s;             /* 0: a dry run, the rows are only read */
	uint64_t unreachable_after_s; /* policy.unreachable-after (0: never) */
	bool skip_leased;             /* with domains: not those another scanner holds */
	bool oldest_first;            /* the due ones that waited longest, after ignored */
	/* scan.dnskey-cache: each item gets its delegation's remembered
	 * verifications (d.sigcache) within these limits */
	bool sigcache;
	size_t sigcache_max_entries, sigcache_max_bytes;
};

/*
 * Claim up to o->max due delegations with id > o->after, in id order,
 * locking them for the statement (FOR UPDATE SKIP LOCKED: other scanners
 * skip them) and leasing them: their next due time and leased_until move
 * lease_s seconds ahead, committed at once.  cds_db_write_results then
 * sets the next due time for real and ends the lease; a scanner that
 * never writes leaves them due when the lease ends.  With domains
 * (normalised), those are claimed, due or not (with skip_leased, none
 * whose lease has not ended: the daemon's NOTIFY-driven claim).
 * lease_s == 0 (a dry run): the rows are read as they are, neither locked
 * nor moved.
 *
 * Each delegation comes with its state: the replay baseline
 * (has_last_change, last_change: the signal_baseline column), its
 * suspension, an approved CSYNC serial, and in excluded the "NAME ADDR" of
 * every address that has failed for at least unreachable_after_s seconds
 * (0: none is ever excluded).  An empty batch means nothing is left.
 * Returns 0, CDS_ENOMEM or CDS_EUNAVAIL.
 */
int cds_db_claim(struct cds_db *db, const struct cds_db_claim_opts *o, struct cds_db_batch *out,
		 char *err, size_t errlen);

/* Give back the leases of claimed delegations that will not be written (a
 * daemon stopping): they are due at once, for whichever scanner claims
 * next.  Returns 0 or CDS_EUNAVAIL. */
int cds_db_release(struct cds_db *db, const int64_t *ids, size_t n, char *err, size_t errlen);

/* Active (not removed) delegations: the daemon's pace is these per
 * scan.interval.  Returns 0 or CDS_EUNAVAIL. */
int cds_db_count_active(struct cds_db *db, uint64_t *out, char *err, size_t errlen);

/* Whether domain (normalised) is an active delegation in the table. */
int cds_db_has_domain(struct cds_db *db, const char *domain, bool *found, char *err,
		      size_t errlen);
void cds_db_batch_free(struct cds_db_batch *b);

/* Free what a claimed item's delegation owns (ns, ds, excluded) and set
 * those to NULL.  Accepts an item whose lists were moved out. */
void cds_db_item_clear(struct cds_db_item *it);

/* One decided delegation. */
struct cds_db_outcome {
	const struct cds_db_item *item;
	const struct cds_verdict *v;
	const char *json;      /* v as JSON */
	/* The change set of each side, or NULL (none, or no registry profile
	 * takes the delegation). */
	const struct cds_change_set *changes[CDS_KIND_COUNT];
	bool failed;           /* a server was unusable: back off */
	/* scan.vantages above 1: what this scanner observed of each side
	 * (cds_policy_vantage_fingerprint; the caller's), NULL: nothing. */
	const char *vantage_fp[CDS_KIND_COUNT];
	/* Set by cds_db_vantage's agree_cb: a side waits for other vantages,
	 * so the delegation is due again after retry_after_s, not interval_s
	 * (another vantage's scan is what it waits for). */
	bool held;
	unsigned changesets;   /* out: change sets created */
	/* out, when cds_db_write_results is asked for it: the delegation's
	 * previous result (see there) */
	struct cds_verdict_previous previous;
};

/* When a scanned delegation is next due (cds_db_write_results). */
struct cds_db_schedule {
	uint64_t interval_s;    /* after a scan in which every server answered */
	/* After a scan with an unusable server (RFC 9975 §3): retry_after_s,
	 * doubled for each consecutive such scan, at most
	 * max(max_backoff_s, interval_s). */
	uint64_t retry_after_s;
	uint64_t max_backoff_s;
	/* Notifications (sql/0007_notifications.sql): with notices, each
	 * verdict's notification state is recorded and a notice written
	 * when it changed (and rejected-repeatedly when a rejection has
	 * lasted notice_repeat scans), in the same transaction. */
	bool notices;
	uint32_t notice_repeat;
};

/*
 * Vantage agreement (scan.vantages above 1) in cds_db_write_results: first,
 * in its transaction, the batch's delegations are locked (in id order, so
 * two vantages writing the same delegation take turns and the second sees
 * the first's observation), each outcome's vantage_fp recorded as self's
 * latest observation (not in a dry run), and for each side whose action
 * changes something agree_cb is called with every vantage's latest
 * observation of that side (self's as it was before this scan included)
 * and the database's time.  agree_cb may hold the side back: change the
 * verdict (o->v is the caller's), the JSON (o->json, the caller's to free)
 * and o->changes, and set o->held.  It returns 0 or an error, which rolls
 * the whole write back.
 */
struct cds_db_vantage {
	const char *self; /* this scanner's vantage name (scan.vantage) */
	int (*agree_cb)(struct cds_db_outcome *o, enum cds_kind kind,
			const struct cds_vantage_seen *seen, size_t n, time_t now, void *arg);
	void *arg;
};

/*
 * Write, in one transaction, the verdicts o[0..n) (any order; sorted here
 * by id): the scan results in one statement; unless dry_run, each change
 * set given (none for a side that already has one open), the replay
 * baseline of a delegation that got a DS change set (the verdict's
 * signal_inception, when set), a used CSYNC approval forgotten,
 * accept-after-delay observations, the failing addresses (server_failures:
 * added or counted when a server failed, gone when it answered), and the
 * next due time of each (sched); and, unless dry_run, the next due time of
 * the delegations skipped[0..nskipped) left unscanned (their registry
 * scans CDS itself: sched->interval_s).  All or nothing.  With previous,
 * each o[i].previous is set, in the same statement that inserts the
 * results, to the delegation's newest result before this one: of any
 * kind in a dry run, not a dry run's otherwise (an operator's dry run must
 * not hide a change from the next real scan's report).  vantage: NULL
 * (scan.vantages 1), or the agreement step (struct cds_db_vantage) first.
 * Returns 0, CDS_EUNAVAIL, or agree_cb's error.
 */
int cds_db_write_results(struct cds_db *db, struct cds_db_outcome *o, size_t n,
			 const struct cds_db_item *const *skipped, size_t nskipped, bool dry_run,
			 bool previous, const struct cds_db_schedule *sched,
			 const struct cds_db_vantage *vantage, char *err, size_t errlen);

/* Delete scan results older than age_s seconds, the notices as old whose
 * deliveries are all done, and vantage observations older than that and
 * than 30 days (the longest scan.vantage-window).  Returns 0 or
 * CDS_EUNAVAIL. */
int cds_db_prune_results(struct cds_db *db, uint64_t age_s, char *err, size_t errlen);

/* Due delegations (not removed, not opted out), for progress. */
int cds_db_count_due(struct cds_db *db, uint64_t *out, char *err, size_t errlen);

/* Pending change sets of the outbox, as the model's change sets (id,
 * clTRID and attempts filled; attempts > 0: a send was begun before and its
 * outcome may be unknown).  A claim's transaction stays open until
 * cds_db_changes_commit or cds_db_changes_abort. */
struct cds_db_changes {
	struct cds_change_set *items;
	size_t count;
};

/* Begin a transaction and claim up to max pending change sets, oldest
 * first, locked (FOR UPDATE SKIP LOCKED).  Returns 0, CDS_EUNAVAIL or
 * CDS_ENOMEM. */
int cds_db_changes_claim(struct cds_db *db, size_t max, struct cds_db_changes *out, char *err,
			 size_t errlen);

/* Pending change sets of kind into *out.  Returns 0 or CDS_EUNAVAIL. */
int cds_db_count_pending(struct cds_db *db, enum cds_kind kind, uint64_t *out, char *err,
			 size_t errlen);

/* Mark one claimed change set sent (state, attempt count, time).  Returns 0
 * or CDS_EUNAVAIL. */
int cds_db_change_sent(struct cds_db *db, int64_t id, char *err, size_t errlen);

/* epp-tls: up to max pending change sets with id > after, in id order,
 * without locking or a transaction (see cds_db_try_lock).  Free with
 * cds_db_changes_free.  Returns 0, CDS_EUNAVAIL or CDS_ENOMEM. */
int cds_db_changes_list(struct cds_db *db, size_t max, int64_t after, struct cds_db_changes *out,
			char *err, size_t errlen);
void cds_db_changes_free(struct cds_db_changes *c);

/* Record that a send of change set id begins (committed before the command
 * goes out), or that it is done, with the registry's svTRID. */
int cds_db_change_attempt(struct cds_db *db, int64_t id, char *err, size_t errlen);
int cds_db_change_done(struct cds_db *db, int64_t id, const char *svtrid, char *err,
		       size_t errlen);

/* Take the session-level advisory lock called name, without waiting:
 * *got tells whether this connection holds it now. */
int cds_db_try_lock(struct cds_db *db, const char *name, bool *got, char *err, size_t errlen);

/* Mark one claimed change set failed, keeping why (a registry's message,
 * or why it cannot be expressed).  Returns 0 or CDS_EUNAVAIL. */
int cds_db_change_failed(struct cds_db *db, int64_t id, const char *why, char *err, size_t errlen);

/* Commit or abort the claim; both free the list. */
int cds_db_changes_commit(struct cds_db *db, struct cds_db_changes *c, char *err, size_t errlen);
void cds_db_changes_abort(struct cds_db *db, struct cds_db_changes *c);

/* What an import did. */
struct cds_import_counts {
	uint64_t records;     /* NS, DS, A and AAAA records read */
	uint64_t delegations; /* delegations in the file */
	uint64_t inserted;    /* new in the table */
	uint64_t changed;     /* NS, DS or glue differ from the table */
	uint64_t unchanged;
	uint64_t removed;     /* in the table, no longer in the file: marked */
	uint64_t ds_outside;  /* DS set changed, not by cdscan: baseline reset */
	uint64_t ds_cdscan;   /* DS set changed as a change set of cdscan proposed */
	uint64_t suspended;   /* DS set removed outside cdscan: suspended */
	char zone[256];       /* the parent zone (apex); a portfolio: "" */
	uint64_t zones;       /* a portfolio: the parent zones its domains are in */
};

/*
 * Import the delegations of a parent zone file: stream its NS, DS, A and
 * AAAA records into a staging table (COPY), then merge set-based in one
 * transaction (insert new, update changed, mark removed).  A changed DS set
 * resets the replay baseline to now, unless cdscan's own newest DS change
 * set (pending, sent or done) proposed exactly that set; a DS set removed
 * that way suspends the domain (actor import).  origin: for a file without
 * $ORIGIN, may be NULL.  Returns 0, CDS_EDATA (the file; err
 * names file:line) or CDS_EUNAVAIL (the database).
 */
int cds_db_import_zone(struct cds_db *db, const char *path, const char *origin,
		       struct cds_import_counts *out, char *err, size_t errlen);

/* One domain of a registrar's portfolio (cds_db_import_domains).  The
 * pointers are the caller's, valid until its next call. */
struct cds_db_portfolio_row {
	const char *domain;                   /* normalised */
	const char *zone;                     /* its parent zone (normalised) */
	const char *registry;                 /* the registry profile, or NULL */
	const char (*ns)[CDS_DNAME_BUFSIZE];  /* normalised, sorted, at least one */
	size_t ns_count;
	const struct cds_ds *ds;              /* sorted by text */
	size_t ds_count;
	const char *status;                   /* the registry's statuses joined by ',', or
						 NULL: not asked (registry_status) */
	const char *contact;                  /* the customer's mail address (checked:
						 cds_mail_address_check), or NULL */
	const char *file;                     /* where it was read, for messages */
	unsigned long line;
};

/* The next domain into *d: 1, 0 at the end, or a negative code with err
 * set (CDS_EDATA naming file:line for bad input). */
typedef int (*cds_db_portfolio_next_cb)(void *arg, struct cds_db_portfolio_row *d, char *err,
				     size_t errlen);

/*
 * Import a registrar's portfolio: stream the domains next gives into a
 * staging table (COPY), then merge them set-based in one transaction, as
 * cds_db_import_zone does (insert new, update changed, the same DS change
 * bookkeeping, replay baselines and suspensions), each domain with its
 * parent zone and registry.  Marked removed: delegations an earlier
 * portfolio brought in, of a registry the file has domains of (none: of no
 * registry), that the file lacks; never a zone import's.  Every zone the
 * file has domains in counts as imported (zone_imports).  A domain twice
 * in the file, or any error of next, and nothing is changed.  Returns 0,
 * CDS_EDATA (err names file:line), CDS_ENOMEM or CDS_EUNAVAIL.
 */
int cds_db_import_domains(struct cds_db *db, cds_db_portfolio_next_cb next, void *arg,
			  struct cds_import_counts *out, char *err, size_t errlen);

/* ------------------------------------------------- one domain's state --- */

/* Who suspended a domain or did something else to it (domain_events). */
enum cds_db_actor {
	CDS_ACTOR_OPERATOR = 0, /* the command line */
	CDS_ACTOR_IMPORT,       /* cdscan import */
	CDS_ACTOR_REGISTRY,     /* the registry refused an update (a lock) */
	CDS_ACTOR_SCAN,
	CDS_ACTOR_COUNT
};

/* "operator", "import", "registry", "scan". */
const char *cds_db_actor_name(enum cds_db_actor a);

/* A domain as `domain show` shows it.  Times are RFC 3339 texts (UTC),
 * empty when not set; every list is owned (cds_db_domain_clear). */
struct cds_db_domain {
	int64_t id;
	char domain[CDS_DNAME_BUFSIZE];
	char zone[CDS_DNAME_BUFSIZE];
	struct cds_strlist ns, ds;
	struct cds_strlist glue;        /* "NAME ADDR" */
	char removed_at[32];            /* no longer in the zone since */
	char baseline[32];              /* the replay baseline */
	char ds_changed_at[32];         /* an import last saw the DS set change */
	bool opted_out;
	bool suspended;
	char suspended_at[32];
	char suspended_by[16];          /* an actor's name */
	char suspended_reason[512];
	bool csync_approved;
	uint32_t csync_approved_serial;
	char next_scan_at[32];
	bool due;                       /* next_scan_at has passed */
	int failures;                   /* consecutive scans with an unusable server */
	struct cds_strlist failing;     /* "NAME ADDR: since T, N scans (error)" */
	struct cds_strlist excluded;    /* "NAME ADDR" left out of decisions now */
	struct cds_strlist verdicts;    /* newest first: "T [dry] DS ... NS ..." */
	struct cds_strlist changes;     /* open change sets, one line each */
};

void cds_db_domain_clear(struct cds_db_domain *d);

/* The domain named name (normalised) into out; excluded as a claim with
 * unreachable_after_s would give it.  Returns 0, CDS_ENOENT (no such
 * delegation), CDS_ENOMEM or CDS_EUNAVAIL. */
int cds_db_domain_get(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
		      struct cds_db_domain *out, char *err, size_t errlen);

/* The same as one JSON object (pretty-printed by PostgreSQL), owned by the
 * caller (free()).  Same returns. */
int cds_db_domain_json(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
		       char **json, char *err, size_t errlen);

/* The domain's state for its holder (the daemon's /status/DOMAIN): the
 * public part of the above, with the last history verdicts and change
 * sets of every state, and no internal data (no ids, clTRIDs, registry
 * or operator messages).  CDS_ENOENT when the domain is not in the
 * table. */
int cds_db_domain_public_json(struct cds_db *db, const char *name, uint64_t unreachable_after_s,
			      unsigned history, char **json, char *err, size_t errlen);

/* One line of a domain's history. */
struct cds_db_history_row {
	char at[32];      /* RFC 3339 */
	char what[24];    /* "verdict", "dry-run", "change-set", or an event */
	char *text;       /* for people (owned) */
};

struct cds_db_history {
	struct cds_db_history_row *rows; /* newest first */
	size_t count;
};

void cds_db_history_free(struct cds_db_history *h);

/* The newest limit verdicts, change sets and events of the domain name,
 * newest first: as rows (json NULL) or as one JSON array (*json, owned by
 * the caller; rows untouched).  Returns 0, CDS_ENOENT, CDS_ENOMEM or
 * CDS_EUNAVAIL. */
int cds_db_domain_history(struct cds_db *db, const char *name, size_t limit,
			  struct cds_db_history *rows, char **json, char *err, size_t errlen);

/* What a suspend, resume or approval did. */
struct cds_db_domain_change {
	bool changed;          /* false: it was so already (nothing written) */
	char since[32];        /* suspend: when it was suspended (already) */
	char by[16];           /* suspend: by whom (already) */
	char reason[512];      /* suspend: the reason in force (already) */
	uint32_t serial;       /* approve-csync: the serial approved */
};

/*
 * Suspend automation for the domain name (reason: why, in words; login:
 * the operator's login name or NULL), with an event; a suspended domain
 * stays as it is (out->changed false, its suspension in out).  Returns 0,
 * CDS_ENOENT or CDS_EUNAVAIL.
 */
int cds_db_domain_suspend(struct cds_db *db, const char *name, enum cds_db_actor by,
			  const char *reason, const char *login, struct cds_db_domain_change *out,
			  char *err, size_t errlen);

/* Resume automation (the domain is due at once), with an event; a domain
 * not suspended stays as it is (out->changed false).  Same returns. */
int cds_db_domain_resume(struct cds_db *db, const char *name, const char *reason,
			 const char *login, struct cds_db_domain_change *out, char *err,
			 size_t errlen);

/*
 * Approve, once, the CSYNC the newest verdict of the domain saw without
 * its immediate flag (RFC 7477 §2.1.1.2): its serial is kept for the
 * decision and the domain is due at once, with an event.  Returns 0
 * (out->serial), CDS_ENOENT (no such domain), CDS_EDATA (nothing to
 * approve: why says what the newest verdict was), or CDS_EUNAVAIL.
 */
int cds_db_domain_approve_csync(struct cds_db *db, const char *name, const char *login,
				struct cds_db_domain_change *out, char *why, size_t whylen,
				char *err, size_t errlen);

/* Pending change sets held because their domain is suspended. */
int cds_db_count_held(struct cds_db *db, uint64_t *out, char *err, size_t errlen);

/* ------------------------------------------------ the daemon's gauges --- */

/* Most change set states cds_db_gauges_read reports (the schema has 4). */
#define CDS_DB_MAX_STATES 16

/* What a scrape of the daemon's metrics reads from the store. */
struct cds_db_gauges {
	uint64_t delegations;  /* in their parent zone (not removed) */
	uint64_t due;          /* of those, due for a scan now */
	double oldest_due_s;   /* seconds the longest-waiting due one has been due (0: none) */
	uint64_t suspended;    /* of those, with automation suspended */
	size_t state_count;
	struct {
		char name[32];  /* a value of the schema's change_state type */
		uint64_t count; /* change sets in that state */
	} states[CDS_DB_MAX_STATES]; /* every state, in the schema's order */
};

/* Read the gauges into out (one statement each for delegations and change
 * sets).  Returns 0 or CDS_EUNAVAIL. */
int cds_db_gauges_read(struct cds_db *db, struct cds_db_gauges *out, char *err, size_t errlen);

/* A trivial query: does the database answer?  Returns 0 or CDS_EUNAVAIL. */
int cds_db_ping(struct cds_db *db, char *err, size_t errlen);

/* ------------------------------------------------------ notifications --- */

/*
 * The notification state of a verdict ("ok", "rejected:CODES",
 * "bootstrap-pending", "bootstrap-accepted", "suspended") into buf, and
 * the event entering it reports (*event; CDS_EVENT_COUNT for "ok").  The
 * one place the rule is written: a notice is sent when this changes.
 */
void cds_db_notice_state(const struct cds_verdict *v, char *buf, size_t len,
			 enum cds_event *event);

/* The channels a notice goes to (route callback of cds_db_notices_route):
 * channel names (the caller's, valid until the next call) into names, at
 * most max; returns how many. */
typedef size_t (*cds_db_route_cb)(void *arg, enum cds_event event, const char *domain,
				  const char *registry, const char **names, size_t max);

/*
 * Route up to max notices not yet routed, oldest first, in one
 * transaction (FOR UPDATE SKIP LOCKED: several deliverers share the
 * table): one delivery per channel route names, the notices marked
 * routed.  *count: notices routed.  Returns 0 or CDS_EUNAVAIL.
 */
int cds_db_notices_route(struct cds_db *db, size_t max, cds_db_route_cb route, void *arg,
			 uint64_t *count, char *err, size_t errlen);

/* One claimed delivery (cds_db_delivery_claim).  payload owned. */
struct cds_db_delivery {
	int64_t id, notice_id;
	char channel[64];
	enum cds_event event;
	char domain[CDS_DNAME_BUFSIZE];
	char registry[64];   /* "" when none */
	char contact[256];   /* "" when none (unchecked: the store's text) */
	char created_at[32]; /* RFC 3339 */
	int attempts;        /* before this one */
	int streak;          /* consecutive scans in the state */
	char *payload;       /* the verdict or change set as JSON */
};

/*
 * Begin a transaction and claim the oldest due pending delivery (locked,
 * SKIP LOCKED) into *out; *got false (and the transaction ended) when
 * there is none.  Returns 0, CDS_ENOMEM or CDS_EUNAVAIL.
 */
int cds_db_delivery_claim(struct cds_db *db, struct cds_db_delivery *out, bool *got, char *err,
			  size_t errlen);

enum cds_delivery_outcome { CDS_DELIVERY_SENT = 0, CDS_DELIVERY_RETRY, CDS_DELIVERY_FAILED };

/* Record the claimed delivery's outcome (retry: again in retry_s seconds;
 * error: why, for retry and failed) and commit; frees d->payload.
 * Returns 0 or CDS_EUNAVAIL. */
int cds_db_delivery_finish(struct cds_db *db, struct cds_db_delivery *d,
			   enum cds_delivery_outcome outcome, uint64_t retry_s, const char *error,
			   char *err, size_t errlen);

/* Abort the claim (the delivery stays pending); frees d->payload. */
void cds_db_delivery_abort(struct cds_db *db, struct cds_db_delivery *d);

