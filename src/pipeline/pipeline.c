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
	struct claim_job *ahead;      /* the next batch, claimed in the pool */
	struct work **fin;            /* finished, waiting for the write */
	size_t nfin, fincap;
	/* Results are written on a connection of their own (wdb, opened at the
	 * first write) in a thread of libuv's pool, one group at a time
	 * (writing), so that the loop goes on sending and answering while
	 * PostgreSQL works: a write of scan.batch-size results held every
	 * query up for its whole round trip (bench/RESULTS.md, issue #20).
	 * Claims stay on db, on the loop; both take rows with SKIP LOCKED or
	 * by lease, so neither waits for the other's locks. */
	struct cds_db *wdb;
	struct write_job *writing;    /* in the pool, not yet reported */
	struct write_job *queued;     /* whose after-work callback is to come */
	uv_mutex_t wlock;             /* with wcond: a write_job's done */
	uv_cond_t wcond;
	bool wsync;                   /* wlock and wcond made */
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

/* A group of finished delegations and their write. */
struct write_job {
	struct cds_pipeline *p;       /* NULL: the pipeline is gone */
	struct write_job *next;       /* in p->queued */
	uv_work_t req;
	struct work **fin;
	size_t nfin;
	struct cds_db_outcome *o;     /* of those decided */
	size_t n;
	const struct cds_db_item **skip; /* of those skipped */
	size_t nskip;
	struct cds_db_schedule sched;
	int rc;
	double db_s;
	bool done;                    /* written (under p->wlock) */
	bool reported;                /* its results reported, its works freed */
	char errmsg[700];
};

/*
 * A batch scan claims its next batch in a thread of libuv's pool while the
 * loop starts the one before: a claim on the loop held every query up for
 * its round trip (bench/RESULTS.md, issue #20, 2026-12-04).  It runs on
 * the claims' connection (p->db), which nothing else uses while a batch
 * scan runs; the daemon (continuous mode) claims on the loop, between
 * out-of-turn claims and the releases of leases on the same connection.
 */
struct claim_job {
	struct cds_pipeline *p;       /* NULL: the pipeline is gone */
	struct cds_db *db;
	uv_work_t req;
	struct cds_db_claim_opts o;
	struct cds_db_batch batch;
	int rc;
	double db_s;
	bool done;                    /* claimed (under p->wlock) */
	bool back;                    /* its after-work callback has run */
	bool waited;                  /* the batch before was used up first */
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

static void job_free(struct write_job *j)
{
	for (size_t k = 0; j->o && k < j->n; k++) {
		free((char *)j->o[k].json);
		for (int i = 0; i < CDS_KIND_COUNT; i++)
			free((char *)j->o[k].vantage_fp[i]);
	}
	for (size_t k = 0; !j->reported && k < j->nfin; k++)
		work_free(j->fin[k]);
	free(j->o);
	free(j->skip);
	free(j->fin);
	free(j);
}

/* What waits for the write, taken into a new job with its outcomes built.
 * NULL: p failed (no memory). */
static struct write_job *job_new(struct cds_pipeline *p)
{
	struct write_job *j = calloc(1, sizeof(*j));
	int rc = 0;
	if (!j) {
		fail(p, CDS_ENOMEM, NULL);
		drop_finished(p);
		return NULL;
	}
	j->p = p;
	j->sched = (struct cds_db_schedule){
		.interval_s = p->conf->scan.interval_ms / 1000,
		.retry_after_s = p->conf->scan.retry_after_ms / 1000,
		.max_backoff_s = p->conf->scan.max_backoff_ms / 1000,
		/* States are kept only while some channel may report them. */
		.notices = p->conf->notifications.channel_count > 0,
		.notice_repeat = p->conf->notifications.consecutive,
	};
	/* scan.batch-size at a time, the rest for the next write. */
	j->nfin = p->nfin < p->conf->scan.batch_size ? p->nfin : p->conf->scan.batch_size;
	if (!(j->fin = malloc(j->nfin * sizeof(*j->fin)))) {
		free(j);
		fail(p, CDS_ENOMEM, NULL);
		drop_finished(p);
		return NULL;
	}
	memcpy(j->fin, p->fin, j->nfin * sizeof(*j->fin));
	p->nfin -= j->nfin;
	memmove(p->fin, p->fin + j->nfin, p->nfin * sizeof(*p->fin));
	j->o = calloc(j->nfin, sizeof(*j->o));
	j->skip = calloc(j->nfin, sizeof(*j->skip));
	if (!j->o || !j->skip)
		rc = CDS_ENOMEM;
	for (size_t k = 0; k < j->nfin && rc == 0; k++) {
		struct work *w = j->fin[k];
		if (w->skipped)
			j->skip[j->nskip++] = &w->item;
		else if (w->d) /* else: no memory to scan it, due after the lease */
			rc = outcome_of(p, w, &j->o[j->n++]);
	}
	if (rc != 0) {
		fail(p, rc, NULL);
		p->stats.unwritten += j->nfin;
		job_free(j);
		return NULL;
	}
	return j;
}

/* The write of j's results in one transaction (in a thread of the pool,
 * or on the loop).  Reads only what does not change while p runs. */
static void job_write(struct write_job *j)
{
	struct cds_pipeline *p = j->p;
	double t0 = now_s();
	j->rc = cds_db_write_results(p->wdb, j->o, j->n, j->skip, j->nskip, p->opts.dry_run,
				     p->opts.previous, &j->sched,
				     p->conf->scan.vantages > 1 ? &p->agreement : NULL, j->errmsg,
				     sizeof(j->errmsg));
	j->db_s = now_s() - t0;
}

/* On the loop, once j is written: report its delegations and free them.
 * A failed write fails p: nothing more is written. */
static int job_report(struct cds_pipeline *p, struct write_job *j)
{
	int rc = j->rc;
	j->reported = true;
	p->stats.db_s += j->db_s;
	if (rc != 0) {
		fail(p, rc, j->errmsg);
		p->stats.unwritten += j->nfin;
	}
	/* The store sorted o by id: report the skipped ones, then o. */
	for (size_t k = 0; k < j->nskip && rc == 0; k++)
		rc = report_written(p, WORK_OF(j->skip[k]), NULL);
	for (size_t k = 0; k < j->n && rc == 0; k++)
		rc = report_written(p, WORK_OF(j->o[k].item), &j->o[k]);
	for (size_t k = 0; k < j->nfin; k++)
		work_free(j->fin[k]);
	if (rc != 0) {
		fail(p, rc, NULL);
		drop_finished(p);
	}
	return rc;
}

/* The writer's own connection, opened at its first write. */
static int writer_open(struct cds_pipeline *p)
{
	char err[600];
	if (p->wdb)
		return 0;
	int e = cds_db_connect(p->conf->database, &p->wdb, err, sizeof(err));
	if (e != 0) {
		p->wdb = NULL;
		fail(p, e, err);
		drop_finished(p);
	}
	return e;
}

static void write_work_cb(uv_work_t *req)
{
	struct write_job *j = req->data;
	struct cds_pipeline *p = j->p;
	job_write(j);
	uv_mutex_lock(&p->wlock);
	j->done = true;
	uv_cond_signal(&p->wcond);
	uv_mutex_unlock(&p->wlock);
}

static void write_async(struct cds_pipeline *p);
static void pump(struct cds_pipeline *p);

static void write_after_cb(uv_work_t *req, int status)
{
	struct write_job *j = req->data;
	struct cds_pipeline *p = j->p;
	(void)status; /* 0: nothing cancels a write */
	if (p) {
		for (struct write_job **q = &p->queued; *q; q = &(*q)->next)
			if (*q == j) {
				*q = j->next;
				break;
			}
		if (p->writing == j)
			p->writing = NULL;
		if (!j->reported)
			job_report(p, j);
	}
	job_free(j);
	if (!p)
		return;
	if (p->nfin >= p->conf->scan.batch_size)
		write_async(p);
	pump(p); /* what waited for the write starts */
}

/* Write what waits in the pool, unless a write is there already (then
 * its end writes what waits by then). */
static void write_async(struct cds_pipeline *p)
{
	if (p->error || p->writing || p->nfin == 0 || writer_open(p) != 0)
		return;
	struct write_job *j = job_new(p);
	if (!j)
		return;
	j->req.data = j;
	if (uv_queue_work(p->loop, &j->req, write_work_cb, write_after_cb) != 0) {
		job_write(j); /* (cannot fail with valid arguments) */
		job_report(p, j);
		job_free(j);
		return;
	}
	p->writing = j;
	j->next = p->queued;
	p->queued = j;
}

/* Wait until a job in the pool (a write or a claim) has set *done. */
static void wait_done(struct cds_pipeline *p, const bool *done)
{
	uv_mutex_lock(&p->wlock);
	while (!*done)
		uv_cond_wait(&p->wcond, &p->wlock);
	uv_mutex_unlock(&p->wlock);
}

/* Wait until the write in the pool (if any) is done; it is no longer the
 * one writing.  Returns it, or NULL. */
static struct write_job *join_writer(struct cds_pipeline *p)
{
	struct write_job *j = p->writing;
	if (!j)
		return NULL;
	wait_done(p, &j->done);
	p->writing = NULL;
	return j;
}

/* Wait for the write in the pool, and report it now (its after-work
 * callback only frees it). */
static void wait_writer(struct cds_pipeline *p)
{
	struct write_job *j = join_writer(p);
	if (j)
		job_report(p, j);
}

/* Write everything that waits, here and now. */
static int write_sync(struct cds_pipeline *p)
{
	wait_writer(p);
	while (!p->error && p->nfin > 0 && writer_open(p) == 0) {
		struct write_job *j = job_new(p);
		if (!j)
			break;
		job_write(j);
		job_report(p, j);
		job_free(j);
	}
	return p->error;
}

/* The claim of want due delegations, or with names those (out of turn
 * when urgent: not those another scanner holds). */
static struct cds_db_claim_opts claim_opts(const struct cds_pipeline *p, size_t want,
					   char *const *names, size_t n, bool urgent)
{
	return (struct cds_db_claim_opts){
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
}

/* Claim into out, here and now (claim_opts). */
static int claim_rows(struct cds_pipeline *p, size_t want, char *const *names, size_t n,
		      bool urgent, struct cds_db_batch *out)
{
	struct cds_db_claim_opts o = claim_opts(p, want, names, n, urgent);
	double t0 = now_s();
	int e = cds_db_claim(p->db, &o, out, p->errmsg, sizeof(p->errmsg));
	p->stats.db_s += now_s() - t0;
	p->stats.claims++;
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

/* p->batch is a new claim: go on behind it.  Returns false when it is
 * empty (continuous: nothing due now; else nothing is left). */
static bool batch_taken(struct cds_pipeline *p)
{
	p->next = 0;
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
	return batch_taken(p);
}

static void ahead_work_cb(uv_work_t *req)
{
	struct claim_job *j = req->data;
	struct cds_pipeline *p = j->p; /* not freed before done is set */
	double t0 = now_s();
	j->rc = cds_db_claim(j->db, &j->o, &j->batch, j->errmsg, sizeof(j->errmsg));
	j->db_s = now_s() - t0;
	uv_mutex_lock(&p->wlock);
	j->done = true;
	uv_cond_broadcast(&p->wcond);
	uv_mutex_unlock(&p->wlock);
}

/* The claim made ahead (back from the pool) cannot be started any more:
 * its delegations are left to their leases. */
static void ahead_drop(struct cds_pipeline *p)
{
	struct claim_job *j = p->ahead;
	p->ahead = NULL;
	p->stats.unwritten += j->batch.count;
	cds_db_batch_free(&j->batch);
	free(j);
}

static void ahead_after_cb(uv_work_t *req, int status)
{
	struct claim_job *j = req->data;
	struct cds_pipeline *p = j->p;
	(void)status; /* 0: nothing cancels a claim */
	if (!p) {
		cds_db_batch_free(&j->batch); /* its leases end */
		free(j);
		return;
	}
	j->back = true;
	if (p->error) {
		ahead_drop(p);
		return;
	}
	pump(p); /* starts it if the batch before is used up */
}

/* A batch scan, behind a full claim: claim the next batch in the pool
 * (struct claim_job).  Without memory or a thread the claim is made on
 * the loop when the batch is used up, as the daemon's is. */
static void claim_ahead(struct cds_pipeline *p, size_t got)
{
	size_t want = claim_want(p);
	if (p->opts.continuous || p->error || p->exhausted || got < p->conf->scan.batch_size ||
	    want == 0)
		return;
	struct claim_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	*j = (struct claim_job){.p = p, .db = p->db};
	j->o = claim_opts(p, want, p->names, p->opts.domain_count, false);
	j->req.data = j;
	if (uv_queue_work(p->loop, &j->req, ahead_work_cb, ahead_after_cb) != 0) {
		free(j);
		return;
	}
	p->ahead = j;
	p->stats.claims++;
	p->stats.claims_ahead++;
}

/* Wait until the claim in the pool (if any) is done: p->db is free. */
static void join_ahead(struct cds_pipeline *p)
{
	if (p->ahead)
		wait_done(p, &p->ahead->done);
}

/* The batch claimed in the pool becomes p->batch, once its after-work
 * callback has run (that callback pumps).  Returns false when it is not
 * back yet, is empty, or failed. */
static bool take_ahead(struct cds_pipeline *p)
{
	struct claim_job *j = p->ahead;
	if (!j->back) {
		p->stats.claim_waits += !j->waited;
		j->waited = true;
		return false;
	}
	p->ahead = NULL;
	p->stats.db_s += j->db_s;
	cds_db_batch_free(&p->batch);
	p->batch = j->batch;
	int rc = j->rc;
	if (rc != 0)
		fail(p, rc, j->errmsg);
	free(j);
	p->next = 0;
	return rc == 0 && batch_taken(p);
}

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
	if (p->next == p->batch.count) {
		if (p->ahead ? !take_ahead(p) : p->exhausted || !claim(p))
			return NULL;
		claim_ahead(p, p->batch.count);
	}
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
	if (p->nfin == p->fincap) {
		size_t cap = p->fincap ? 2 * p->fincap : p->conf->scan.batch_size;
		struct work **v = realloc(p->fin, cap * sizeof(*v));
		if (!v) {
			work_free(w);
			p->stats.unwritten++;
			fail(p, CDS_ENOMEM, NULL);
			drop_finished(p);
			return;
		}
		p->fin = v;
		p->fincap = cap;
	}
	p->fin[p->nfin++] = w;
	if (p->error)
		drop_finished(p);
	else if (p->nfin >= p->conf->scan.batch_size)
		write_async(p);
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
	/* No DNSKEY RRset was asked (no signal at any address, no RFC 9615
	 * signal, no CSYNC probe): nothing can be verified, and the decision
	 * is a few comparisons.  Here it costs less than the hand-off to the
	 * pool and back, two thread wake-ups for each of the ~80% of
	 * delegations without a signal (bench/RESULTS.md, issue #20). */
	if (!res->apex_asked && !res->signals_asked && res->probe_count == 0) {
		decide_cb(&w->req);
		decided_cb(&w->req, 0);
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
	/* While a group is written, one more may gather, not a third. */
	while (!p->error && p->inflight < p->conf->scan.concurrency &&
	       !(p->writing && p->nfin >= p->conf->scan.batch_size)) {
		bool urgent;
		struct cds_db_item *it = next_item(p, &urgent);
		if (!it)
			break;
		start_item(p, it, urgent);
	}
	/* Nothing running: write what waits (the daemon's NOTIFY-driven scan
	 * should not wait for a batch to fill). */
	if (p->inflight == 0 && !p->error && (p->exhausted || p->opts.continuous))
		write_async(p);
	if (p->error) {
		/* Nothing more is written: what is claimed and not started is
		 * left to its lease. */
		drop_finished(p);
		p->stats.unwritten += p->batch.count - p->next + p->ucount;
		p->next = p->batch.count;
		drop_urgent(p);
		if (p->ahead && p->ahead->back) /* else its callback drops it */
			ahead_drop(p);
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
	p->names = calloc(opts->domain_count ? opts->domain_count : 1, sizeof(*p->names));
	if (!p->effective || !p->names) {
		cds_pipeline_free(p);
		return CDS_ENOMEM;
	}
	if (uv_mutex_init(&p->wlock) != 0) {
		cds_pipeline_free(p);
		return CDS_ENOMEM;
	}
	if (uv_cond_init(&p->wcond) != 0) {
		uv_mutex_destroy(&p->wlock);
		cds_pipeline_free(p);
		return CDS_ENOMEM;
	}
	p->wsync = true;
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
	write_sync(p);
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
	write_async(p);
}

/* Give back the leases of ids (collected by the caller). */
static int release(struct cds_pipeline *p, const int64_t *ids, size_t n, char *err, size_t errlen)
{
	int e = cds_db_release(p->db, ids, n, err, errlen);
	if (e == 0)
		p->stats.released += n;
	return e;
}

/* (The daemon's: it claims nothing in the pool, p->ahead is NULL.) */
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
	write_sync(p); /* what is decided is written */
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
	join_writer(p); /* not reported: nobody is told any more */
	join_ahead(p);
	if (p->ahead && p->ahead->back)
		ahead_drop(p);
	else if (p->ahead)
		p->ahead->p = NULL; /* its after-work callback frees it */
	for (struct write_job *j = p->queued; j; j = j->next)
		j->p = NULL; /* its after-work callback frees it */
	if (p->wsync) {
		uv_cond_destroy(&p->wcond);
		uv_mutex_destroy(&p->wlock);
	}
	cds_db_close(p->wdb);
	drop_finished(p);
	drop_urgent(p);
	free(p->urgent);
	cds_db_batch_free(&p->batch);
	free(p->fin);
	free(p->names);
	free(p->effective);
	free(p);
}
