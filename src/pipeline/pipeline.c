/* The scan pipeline (pipeline.h): claims under a lease, a pump that keeps
 * scan.concurrency delegations in flight, and writes a group at a time. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/pipeline.h"
#include "cdscan/policy.h"

/* One claimed delegation, from its start to its write: its own copy, so
 * that a slow delegation (a lame nameserver's timeouts) keeps only itself
 * in memory, not the batch it was claimed with. */
struct work {
	struct cds_pipeline *p;
	struct work *prev, *next;       /* in p->running while it is scanned */
	struct cds_db_item item;
	const struct cds_registry *reg; /* its profile, or NULL */
	bool skipped;                   /* the registry scans CDS itself */
	bool urgent;                    /* claimed out of turn (a NOTIFY) */
	/* Made when it is decided (a thousand delegations in flight need
	 * none of it): its verdict and change sets.  NULL: not decided. */
	struct decided *d;
	/* Deciding runs in libuv's thread pool (uv_queue_work), so that the
	 * signature checks of one delegation never hold up the loop that
	 * answers and times out every other delegation's queries. */
	uv_work_t req;
	struct cds_scan_result *res;
	double decide_s;
};

struct decided {
	struct cds_verdict v;
	struct cds_change_set changes[CDS_KIND_COUNT];
};

struct cds_pipeline {
	uv_loop_t *loop;
	const struct cds_conf *conf;
	struct cds_scanner *scanner;
	struct cds_db *db;
	struct cds_pipeline_opts opts;
	cds_pipeline_written_cb written;
	void *arg;
	struct cds_conf *effective;   /* per profile: policy with its overrides */
	struct cds_db_batch batch;    /* the last claim */
	size_t next;                  /* its first delegation not started */
	struct work **fin;            /* finished, waiting for the write */
	size_t nfin;
	size_t inflight;              /* scans running */
	int64_t after;                /* the claim cursor */
	char **names;                 /* opts.domains, as the claim takes them */
	bool exhausted, pumping;
	/* Continuous mode (the daemon): */
	uint64_t budget;              /* due delegations it may still claim */
	bool idle;                    /* the last claim found nothing due */
	bool stopped;                 /* claims nothing more */
	bool abandoned;               /* writes nothing more */
	struct cds_db_item *urgent;   /* claimed out of turn, not started: first */
	size_t uhead, ucount, ucap;
	struct work *running;         /* scans in flight */
	size_t urgent_inflight;       /* of them claimed out of turn */
	struct cds_pipeline_stats stats;
	/* scan.vantages above 1: this scanner's vantage name, and the
	 * agreement step the store runs in each write. */
	char vantage[CDS_CONF_VANTAGE_MAX + 1];
	struct cds_db_vantage agreement;
	struct timespec t0;
	int error;
	char errmsg[700];
};

/* The work an item is embedded in (the store hands items back sorted). */
#define WORK_OF(it) ((struct work *)((char *)(it) - offsetof(struct work, item)))

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The policy a delegation is decided under: its registry profile's
 * overrides. */
static const struct cds_conf *conf_of(const struct cds_pipeline *p, const struct work *w)
{
	return w->reg ? &p->effective[w->reg - p->conf->registries] : p->conf;
}

static void work_free(struct work *w)
{
	if (!w)
		return;
	if (w->d) {
		cds_verdict_clear(&w->d->v);
		for (int k = 0; k < CDS_KIND_COUNT; k++)
			cds_change_set_clear(&w->d->changes[k]);
		free(w->d);
	}
	cds_db_item_clear(&w->item);
	free(w);
}

static void fail(struct cds_pipeline *p, int error, const char *msg)
{
	if (p->error)
		return;
	p->error = error;
	if (msg && !p->errmsg[0])
		snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
	if (!p->errmsg[0] || error == CDS_ENOMEM)
		snprintf(p->errmsg, sizeof(p->errmsg), "%s", cds_strerror(error));
}

/* Drop what cannot be written any more (after an error). */
static void drop_finished(struct cds_pipeline *p)
{
	for (size_t k = 0; k < p->nfin; k++)
		work_free(p->fin[k]);
	p->stats.unwritten += p->nfin;
	p->nfin = 0;
}

/* The decided delegation as the store takes it; its change sets built
 * (none in a dry run, none when no registry profile takes it). */
static int outcome_of(struct cds_pipeline *p, struct work *w, struct cds_db_outcome *o)
{
	bool routed = p->conf->registry_count == 0 || w->reg;
	memset(o, 0, sizeof(*o));
	o->item = &w->item;
	o->v = &w->d->v;
	o->failed = cds_verdict_any_unusable(&w->d->v);
	uint32_t hits, added;
	cds_sigcache_stats(w->item.d.sigcache, &hits, &added);
	p->stats.verifications += w->d->v.verifications;
	p->stats.sigcache_hits += hits;
	p->stats.sigcache_added += added;
	if (!(o->json = cds_verdict_to_json(&w->d->v, false)))
		return CDS_ENOMEM;
	for (int k = 0; k < CDS_KIND_COUNT && p->conf->scan.vantages > 1; k++) {
		char *fp = NULL;
		int r = cds_policy_vantage_fingerprint(&w->d->v, (enum cds_kind)k, &fp);
		if (r != 0 && r != CDS_ENOENT)
			return r;
		o->vantage_fp[k] = fp;
	}
	for (int k = 0; k < CDS_KIND_COUNT && routed && !p->opts.dry_run; k++) {
		int r = cds_policy_change_set(&w->d->v, (enum cds_kind)k, &w->d->changes[k]);
		if (r == CDS_ENOENT)
			continue;
		if (r != 0)
			return r;
		o->changes[k] = &w->d->changes[k];
	}
	return 0;
}

/*
 * The store's agreement step (struct cds_db_vantage), for a side of o that
 * would change something: the rule is the policy's
 * (cds_policy_vantage_agree); a side held back becomes a reject with
 * vantage-disagreement, its change set is not made, and the verdict's JSON
 * is written anew.
 */
static int agree_cb(struct cds_db_outcome *o, enum cds_kind kind,
		    const struct cds_vantage_seen *seen, size_t n, time_t now, void *arg)
{
	struct cds_pipeline *p = arg;
	struct work *w = WORK_OF(o->item);
	char detail[sizeof(w->d->v.ds_side.detail)];
	enum cds_vantage_outcome a = cds_policy_vantage_agree(
		p->vantage, o->vantage_fp[kind], seen, n, now,
		p->conf->scan.vantage_window_ms / 1000, p->conf->scan.vantages, detail,
		sizeof(detail));
	struct cds_verdict_side *s = cds_verdict_side_of(&w->d->v, kind);
	int r = 0;
	if (a == CDS_VANTAGE_AGREED) {
		cds_log_debug("%s: %s change agreed (%s)", w->item.d.domain, cds_kind_name(kind),
			      detail);
		if (s->detail[0])
			return 0;
		/* Which vantages it rests on, for whoever asks later. */
		snprintf(s->detail, sizeof(s->detail), "%s", detail);
	} else {
		cds_log_info("%s: %s change held back: vantage-disagreement (%s)",
			     w->item.d.domain, cds_kind_name(kind), detail);
		r = cds_policy_vantage_hold(&w->d->v, kind, detail);
		o->changes[kind] = NULL;
		/* Waiting for the other vantages: due again soon, so that one
		 * of them scans it within the window. */
		o->held = true;
	}
	char *json = r == 0 ? cds_verdict_to_json(&w->d->v, false) : NULL;
	if (!json)
		return CDS_ENOMEM;
	free((char *)o->json);
	o->json = json;
	return 0;
}

/* Tell the caller what was written. */
static int report_written(struct cds_pipeline *p, struct work *w, const struct cds_db_outcome *o)
{
	struct cds_pipeline_written x = {.domain = w->item.d.domain, .reg = w->reg,
					 .decide_s = w->decide_s};
	if (!p->written)
		return 0;
	if (o) {
		const struct cds_verdict *v = &w->d->v;
		x.v = v;
		x.failures = o->failed ? (unsigned)w->item.failures + 1 : 0;
		x.changesets = o->changesets;
		x.previous = p->opts.previous ? &o->previous : NULL;
		/* With registry profiles, a delegation under none of them is
		 * decided and reported, but nobody is told: no change set. */
		x.unrouted = p->conf->registry_count > 0 && !w->reg &&
			     (v->ds_side.action != CDS_ACTION_NONE ||
			      v->ns_side.action != CDS_ACTION_NONE);
	}
	return p->written(&x, p->arg);
}

/* Write the finished delegations in one transaction, then report them. */
static int flush(struct cds_pipeline *p)
{
	const struct cds_db_schedule sched = {
		.interval_s = p->conf->scan.interval_ms / 1000,
		.retry_after_s = p->conf->scan.retry_after_ms / 1000,
		.max_backoff_s = p->conf->scan.max_backoff_ms / 1000,
		/* States are kept only while some channel may report them. */
		.notices = p->conf->notifications.channel_count > 0,
		.notice_repeat = p->conf->notifications.consecutive,
	};
	size_t n = 0, nskip = 0;
	int rc = 0;
	if (p->nfin == 0)
		return 0;
	struct cds_db_outcome *o = calloc(p->nfin, sizeof(*o));
	const struct cds_db_item **skip = calloc(p->nfin, sizeof(*skip));
	if (!o || !skip)
		rc = CDS_ENOMEM;
	for (size_t k = 0; k < p->nfin && rc == 0; k++) {
		struct work *w = p->fin[k];
		if (w->skipped)
			skip[nskip++] = &w->item;
		else if (w->d) /* else: no memory to scan it, due after the lease */
			rc = outcome_of(p, w, &o[n++]);
	}
	double t0 = now_s();
	if (rc == 0)
		rc = cds_db_write_results(p->db, o, n, skip, nskip, p->opts.dry_run,
					  p->opts.previous, &sched,
					  p->conf->scan.vantages > 1 ? &p->agreement : NULL,
					  p->errmsg, sizeof(p->errmsg));
	p->stats.db_s += now_s() - t0;
	/* The store sorted o by id: report the skipped ones, then o. */
	for (size_t k = 0; k < nskip && rc == 0; k++)
		rc = report_written(p, WORK_OF(skip[k]), NULL);
	for (size_t k = 0; k < n && rc == 0; k++)
		rc = report_written(p, WORK_OF(o[k].item), &o[k]);
	for (size_t k = 0; o && k < n; k++) {
		free((char *)o[k].json);
		for (int i = 0; i < CDS_KIND_COUNT; i++)
			free((char *)o[k].vantage_fp[i]);
	}
	free(o);
	free(skip);
	if (rc != 0) {
		fail(p, rc, NULL);
		drop_finished(p);
		return rc;
	}
	for (size_t k = 0; k < p->nfin; k++)
		work_free(p->fin[k]);
	p->nfin = 0;
	return 0;
}

/* Claim into out: want due delegations, or with names those (out of turn
 * when urgent: not those another scanner holds). */
static int claim_rows(struct cds_pipeline *p, size_t want, char *const *names, size_t n,
		      bool urgent, struct cds_db_batch *out)
{
	struct cds_db_claim_opts o = {
		.max = want,
		.after = urgent ? 0 : p->after,
		.domains = names,
		.ndomains = n,
		.lease_s = p->opts.dry_run ? 0 : (p->conf->scan.lease_ms + 999) / 1000,
		.unreachable_after_s = p->conf->policy.unreachable_after_ms / 1000,
		.skip_leased = urgent,
		.oldest_first = p->opts.continuous,
		.sigcache = p->conf->scan.sigcache_enabled,
		.sigcache_max_entries = p->conf->scan.sigcache_max_entries,
		.sigcache_max_bytes = p->conf->scan.sigcache_max_bytes,
	};
	double t0 = now_s();
	int e = cds_db_claim(p->db, &o, out, p->errmsg, sizeof(p->errmsg));
	p->stats.db_s += now_s() - t0;
	if (e != 0)
		fail(p, e, NULL);
	return e;
}

/* How many the next claim may take: a batch, within --limit, and in
 * continuous mode within the budget the daemon's pace allows. */
static size_t claim_want(const struct cds_pipeline *p)
{
	size_t want = p->conf->scan.batch_size;
	if (p->opts.has_limit && p->opts.limit - p->stats.claimed < want)
		want = (size_t)(p->opts.limit - p->stats.claimed);
	if (p->opts.continuous) {
		if (p->stopped || p->idle)
			return 0;
		if (p->budget < want)
			want = (size_t)p->budget;
	}
	return want;
}

/* Claim the next batch into p->batch.  Returns false when nothing is left
 * (continuous: nothing due now, or no budget) or on an error (p->error). */
static bool claim(struct cds_pipeline *p)
{
	size_t want = claim_want(p);
	cds_db_batch_free(&p->batch);
	p->next = 0;
	if (want == 0) {
		p->exhausted = !p->opts.continuous;
		return false;
	}
	if (claim_rows(p, want, p->names, p->opts.domain_count, false, &p->batch) != 0)
		return false;
	if (p->batch.count == 0) {
		if (p->opts.continuous)
			p->idle = true; /* until the next cds_pipeline_allow */
		else
			p->exhausted = true;
		return false;
	}
	p->after = p->batch.last_id;
	p->stats.claimed += p->batch.count;
	if (p->opts.continuous)
		p->budget -= p->batch.count;
	return true;
}

static void pump(struct cds_pipeline *p);

/* Forget the out-of-turn claims not started (their leases end, or were
 * given back). */
static void drop_urgent(struct cds_pipeline *p)
{
	for (size_t i = 0; i < p->ucount; i++)
		cds_db_item_clear(&p->urgent[p->uhead + i]);
	p->uhead = p->ucount = 0;
}

/* The next claimed delegation to start: out-of-turn claims first, then
 * the batch, claiming the next batch when it is used up.  NULL: none. */
static struct cds_db_item *next_item(struct cds_pipeline *p, bool *urgent)
{
	*urgent = p->ucount > 0;
	if (p->ucount) {
		p->ucount--;
		return &p->urgent[p->uhead++];
	}
	p->uhead = 0;
	if (p->stopped)
		return NULL;
	if (p->next == p->batch.count && (p->exhausted || !claim(p)))
		return NULL;
	return &p->batch.items[p->next++];
}

/* A delegation is finished (decided, skipped, or not scanned): it waits
 * for the write, which happens when scan.batch-size are waiting. */
static void finished(struct cds_pipeline *p, struct work *w)
{
	if (p->abandoned) { /* its lease is given back already */
		work_free(w);
		p->stats.unwritten++;
		return;
	}
	p->fin[p->nfin++] = w;
	if (p->error)
		drop_finished(p);
	else if (p->nfin >= p->conf->scan.batch_size)
		flush(p);
}

/* In a thread of the pool: the decision, a pure function of the scan
 * result and the (read-only) configuration. */
static void decide_cb(uv_work_t *req)
{
	struct work *w = req->data;
	double t0 = now_s();
	if ((w->d = calloc(1, sizeof(*w->d))) &&
	    cds_policy_decide(w->res, conf_of(w->p, w), cds_clock(), &w->d->v) != 0) {
		free(w->d);
		w->d = NULL;
	}
	w->decide_s = now_s() - t0;
}

/* Back on the loop: the delegation is finished. */
static void decided_cb(uv_work_t *req, int status)
{
	struct work *w = req->data;
	struct cds_pipeline *p = w->p;
	/* Freed here, by the thread that made it: glibc returns a block freed
	 * by another thread to its arena under that arena's lock, and the
	 * loop allocates from it all the time (measured: futex waits and
	 * malloc_consolidate took a fifth more CPU at 2,000 in flight). */
	if (w->d && status == 0) /* RFC 9567 reports of what was rejected */
		cds_scanner_report_errors(p->scanner, w->res, &w->d->v);
	cds_scan_result_free(w->res);
	w->res = NULL;
	/* cancelled: never decided, w->d NULL */
	p->stats.decide_s += w->decide_s;
	p->stats.decided++;
	p->inflight--;
	p->urgent_inflight -= w->urgent;
	if (w->prev)
		w->prev->next = w->next;
	else
		p->running = w->next;
	if (w->next)
		w->next->prev = w->prev;
	finished(p, w);
	pump(p);
}

static void scanned_cb(struct cds_scan_result *res, void *arg)
{
	struct work *w = arg;
	struct cds_pipeline *p = w->p;
	w->res = res;
	w->req.data = w;
	if (p->error) {
		decided_cb(&w->req, UV_ECANCELED); /* nothing more is written */
		return;
	}
	if (uv_queue_work(p->loop, &w->req, decide_cb, decided_cb) != 0) {
		decide_cb(&w->req); /* (cannot fail with valid arguments) */
		decided_cb(&w->req, 0);
	}
}

/* What the store says about a delegation besides NS and DS, for whoever
 * asks why it was decided as it was (-v -v). */
static void log_state(const struct cds_db_item *it)
{
	const struct cds_delegation *d = &it->d;
	if (d->suspended)
		cds_log_debug("%s: suspended (%s)", d->domain, d->suspended_reason);
	if (d->csync_approved)
		cds_log_debug("%s: CSYNC serial %u approved by an operator", d->domain,
			      (unsigned)d->csync_approved_serial);
	for (size_t i = 0; i < d->excluded_count; i++)
		cds_log_debug("%s: %s left out: failing for policy.unreachable-after (RFC 9975)",
			      d->domain, d->excluded[i]);
}

/*
 * A registry update lock (RFC 5731 §2.3: one of the profile's
 * lock-statuses, as the last import --from epp read the domain's
 * statuses): nothing is decided while it lasts, as for a suspension, and
 * it lifts by itself once an import no longer reads it.  A delegation
 * whose profile is gone from the config is judged by the default list.
 */
static void registry_lock(struct work *w)
{
	static const char *const dflt[] = {"clientUpdateProhibited", "serverUpdateProhibited",
					   "pendingDelete", "pendingTransfer", "pendingUpdate"};
	struct cds_delegation *d = &w->item.d;
	/* fits suspended_reason with the text around it (200) */
	char which[120] = "";
	size_t o = 0;
	if (d->suspended)
		return; /* already, with its own reason */
	if (w->item.registry_status_unreadable) {
		d->suspended = true;
		snprintf(d->suspended_reason, sizeof(d->suspended_reason),
			 "the registry's statuses of the domain are too long to read: held as locked");
		return;
	}
	for (const char *p = w->item.registry_status; *p;) {
		size_t l = strcspn(p, " ");
		bool lock = false;
		for (size_t i = 0; i < CDS_EPP_STATUS_COUNT && !lock; i++)
			lock = strlen(cds_epp_status_names[i]) == l &&
			       memcmp(cds_epp_status_names[i], p, l) == 0 &&
			       (w->reg ? w->reg->lock_statuses[i] : false);
		for (size_t i = 0; !w->reg && i < sizeof(dflt) / sizeof(dflt[0]) && !lock; i++)
			lock = strlen(dflt[i]) == l && memcmp(dflt[i], p, l) == 0;
		if (lock && o < sizeof(which))
			o += (size_t)snprintf(which + o, sizeof(which) - o, "%s%.*s", o ? ", " : "",
					      (int)l, p);
		p += l + (p[l] == ' ');
	}
	if (!o)
		return;
	d->suspended = true;
	snprintf(d->suspended_reason, sizeof(d->suspended_reason),
		 "the registry reports an update lock: %s (statuses read by import --from epp)",
		 which);
}

/* Start a claimed delegation (its lists move to the work). */
static void start_item(struct cds_pipeline *p, struct cds_db_item *it, bool urgent)
{
	struct work *w = calloc(1, sizeof(*w));
	if (!w) {
		fail(p, CDS_ENOMEM, "out of memory");
		p->stats.unwritten++;
		return;
	}
	w->p = p;
	w->urgent = urgent;
	w->item = *it;
	it->d.ns = NULL;
	it->d.ds = NULL;
	it->d.excluded = NULL;
	it->d.excluded_count = 0;
	it->d.sigcache = NULL;
	w->reg = cds_conf_registry_for(p->conf, w->item.d.domain);
	registry_lock(w);
	log_state(&w->item);
	if (w->reg && w->reg->scans_cds_itself) {
		w->skipped = true; /* not ours to scan */
		finished(p, w);
	} else if (cds_scanner_scan(p->scanner, &w->item.d, conf_of(p, w), scanned_cb, w) == 0) {
		p->inflight++;
		p->urgent_inflight += urgent;
		w->next = p->running;
		if (p->running)
			p->running->prev = w;
		p->running = w;
	} else {
		finished(p, w); /* no memory to scan it: undecided */
	}
}

/*
 * Keep scan.concurrency delegations in flight: start the next claimed one
 * as each ends, and claim more when none is left, so that a slow
 * delegation holds only its own place.  When nothing runs and nothing is
 * left, the last results are written.
 */
static void pump(struct cds_pipeline *p)
{
	if (p->pumping)
		return; /* the outer call goes on */
	p->pumping = true;
	while (!p->error && p->inflight < p->conf->scan.concurrency) {
		bool urgent;
		struct cds_db_item *it = next_item(p, &urgent);
		if (!it)
			break;
		start_item(p, it, urgent);
	}
	/* Nothing running: write what waits (the daemon's NOTIFY-driven scan
	 * should not wait for a batch to fill). */
	if (p->inflight == 0 && !p->error && (p->exhausted || p->opts.continuous))
		flush(p);
	if (p->error) {
		/* Nothing more is written: what is claimed and not started is
		 * left to its lease. */
		drop_finished(p);
		p->stats.unwritten += p->batch.count - p->next + p->ucount;
		p->next = p->batch.count;
		drop_urgent(p);
	}
	p->pumping = false;
}

int cds_pipeline_new(uv_loop_t *loop, const struct cds_conf *conf, struct cds_scanner *scanner,
		     struct cds_db *db, const struct cds_pipeline_opts *opts,
		     cds_pipeline_written_cb written, void *arg, struct cds_pipeline **out)
{
	struct cds_pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return CDS_ENOMEM;
	*p = (struct cds_pipeline){.loop = loop, .conf = conf, .scanner = scanner, .db = db,
				   .opts = *opts, .written = written, .arg = arg};
	size_t nreg = conf->registry_count ? conf->registry_count : 1;
	p->effective = calloc(nreg, sizeof(*p->effective));
	p->fin = calloc(conf->scan.batch_size, sizeof(*p->fin));
	p->names = calloc(opts->domain_count ? opts->domain_count : 1, sizeof(*p->names));
	if (!p->effective || !p->fin || !p->names) {
		cds_pipeline_free(p);
		return CDS_ENOMEM;
	}
	for (size_t i = 0; i < conf->registry_count; i++)
		cds_conf_effective(conf, &conf->registries[i], &p->effective[i]);
	cds_conf_vantage_of(conf, p->vantage, sizeof(p->vantage));
	p->agreement = (struct cds_db_vantage){.self = p->vantage, .agree_cb = agree_cb, .arg = p};
	for (size_t i = 0; i < opts->domain_count; i++)
		p->names[i] = (char *)opts->domains[i];
	*out = p;
	return 0;
}

void cds_pipeline_start(struct cds_pipeline *p)
{
	pump(p);
}

int cds_pipeline_finish(struct cds_pipeline *p, char *err, size_t errlen)
{
	if (!p->error)
		flush(p);
	if (p->error)
		snprintf(err, errlen, "%s", p->errmsg);
	return p->error;
}

void cds_pipeline_stats(const struct cds_pipeline *p, struct cds_pipeline_stats *out)
{
	*out = p->stats;
	out->inflight = p->inflight;
	out->queued = p->ucount + (p->batch.count - p->next);
	out->urgent_active = p->ucount + p->urgent_inflight;
	out->failed = p->error != 0;
}

void cds_pipeline_allow(struct cds_pipeline *p, uint64_t n)
{
	/* What nothing due left unused is not saved up beyond a few turns:
	 * the next delegations to fall due must not come as a herd. */
	p->budget = p->budget + n > 4 * n + 1 ? 4 * n + 1 : p->budget + n;
	p->idle = false;
	pump(p);
}

/* Move the claimed rows of b to the end of the out-of-turn queue, and
 * mark which of names they are. */
static int take_urgent(struct cds_pipeline *p, struct cds_db_batch *b, const char *const *names,
		       size_t n, bool *claimed)
{
	if (p->uhead > 0) { /* what was started is gone: compact */
		memmove(p->urgent, p->urgent + p->uhead, p->ucount * sizeof(*p->urgent));
		p->uhead = 0;
	}
	if (p->ucount + b->count > p->ucap) {
		size_t cap = p->ucount + b->count + 64;
		struct cds_db_item *v = realloc(p->urgent, cap * sizeof(*v));
		if (!v)
			return CDS_ENOMEM;
		p->urgent = v;
		p->ucap = cap;
	}
	for (size_t i = 0; i < b->count; i++) {
		struct cds_db_item *it = &b->items[i];
		for (size_t k = 0; k < n; k++)
			if (strcmp(names[k], it->d.domain) == 0)
				claimed[k] = true;
		p->urgent[p->ucount++] = *it;
		memset(&it->d, 0, sizeof(it->d)); /* moved */
	}
	p->stats.claimed += b->count;
	p->stats.urgent += b->count;
	return 0;
}

int cds_pipeline_urgent(struct cds_pipeline *p, const char *const *names, size_t n,
			bool *claimed)
{
	struct cds_db_batch b;
	memset(claimed, 0, n * sizeof(*claimed));
	if (p->stopped || p->error)
		return p->error ? p->error : CDS_EINVAL;
	if (n == 0)
		return 0;
	int e = claim_rows(p, n, (char *const *)names, n, true, &b);
	if (e == 0)
		e = take_urgent(p, &b, names, n, claimed);
	cds_db_batch_free(&b);
	if (e != 0) {
		fail(p, e, NULL);
		return e;
	}
	pump(p);
	return 0;
}

void cds_pipeline_flush(struct cds_pipeline *p)
{
	if (!p->error)
		flush(p);
}

/* Give back the leases of ids (collected by the caller). */
static int release(struct cds_pipeline *p, const int64_t *ids, size_t n, char *err, size_t errlen)
{
	int e = cds_db_release(p->db, ids, n, err, errlen);
	if (e == 0)
		p->stats.released += n;
	return e;
}

int cds_pipeline_stop(struct cds_pipeline *p, char *err, size_t errlen)
{
	size_t n = 0, left = p->batch.count - p->next;
	int64_t *ids = malloc((p->ucount + left + 1) * sizeof(*ids));
	int e = 0;
	p->stopped = true;
	if (!ids)
		return CDS_ENOMEM;
	for (size_t i = 0; i < p->ucount; i++)
		ids[n++] = p->urgent[p->uhead + i].id;
	for (size_t i = p->next; i < p->batch.count; i++)
		ids[n++] = p->batch.items[i].id;
	if (!p->opts.dry_run)
		e = release(p, ids, n, err, errlen);
	drop_urgent(p);
	p->next = p->batch.count;
	free(ids);
	return e;
}

int cds_pipeline_abandon(struct cds_pipeline *p, char *err, size_t errlen)
{
	size_t n = 0;
	int64_t *ids = malloc((p->inflight + 1) * sizeof(*ids));
	int e = 0;
	if (!ids)
		return CDS_ENOMEM;
	if (!p->error)
		flush(p); /* what is decided is written */
	for (struct work *w = p->running; w; w = w->next)
		ids[n++] = w->item.id;
	p->abandoned = true;
	if (!p->opts.dry_run)
		e = release(p, ids, n, err, errlen);
	free(ids);
	return e;
}

void cds_pipeline_free(struct cds_pipeline *p)
{
	if (!p)
		return;
	drop_finished(p);
	drop_urgent(p);
	free(p->urgent);
	cds_db_batch_free(&p->batch);
	free(p->fin);
	free(p->names);
	free(p->effective);
	free(p);
}
