/* The drain of the outbox (outbox.h): pending change sets, routed to their
 * registry profile, planned as EPP where the adapter speaks it, handed to
 * the adapter, and their state recorded as the adapter's way of handing
 * over requires. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "outbox_internal.h"

#define DRAIN_BATCH 100

/* One drain in progress. */
struct drain {
	const struct adapter *ad;
	void *state;
	const struct cds_conf *conf;
	struct cds_db *db;
	bool has_limit;
	uint64_t limit;
	uint64_t handled; /* given to the adapter (acknowledged: the limit counts these) */
	struct cds_outbox_result *res;
	char *err;
	size_t errlen;
};

/* What to do with one change set. */
enum route { ROUTE_SEND, ROUTE_WAIT, ROUTE_FAIL };

static const struct adapter *adapter_of(enum cds_output_adapter a)
{
	switch (a) {
	case CDS_OUTPUT_EPP_TLS:
		return &cds_tls_adapter;
	case CDS_OUTPUT_JSON:
		return &cds_json_adapter;
	default:
		return &cds_spool_adapter;
	}
}

/* Route cs to its registry and plan its EPP commands.  ROUTE_WAIT and
 * ROUTE_FAIL say why. */
static int route(struct drain *dr, const struct cds_change_set *cs,
		 const struct cds_registry **reg, struct cds_epp_plan *plan, enum route *to,
		 char *why, size_t whylen)
{
	*reg = cds_conf_registry_for(dr->conf, cs->domain);
	const char *blocked = NULL;
	if (dr->ad->routed && dr->conf->registry_count && !*reg)
		/* scan makes none; one left from before the profiles changed
		 * waits for an operator. */
		blocked = "no registry profile takes it";
	else if (dr->ad->blocked)
		blocked = dr->ad->blocked(dr->state, *reg);
	if (blocked) {
		snprintf(why, whylen, "%s", blocked);
		*to = ROUTE_WAIT;
		return 0;
	}
	*to = ROUTE_SEND;
	if (!dr->ad->epp)
		return 0;
	struct cds_epp_profile pr = {.ds_interface = *reg ? (*reg)->ds_interface : CDS_DS_DATA,
				     .host_model = *reg ? (*reg)->host_model : CDS_HOST_OBJ};
	int r = cds_epp_plan(cs, &pr, plan);
	if (r == CDS_EDATA) {
		/* This change set cannot be said in EPP (keyData from a child
		 * without CDNSKEY, a damaged row): it fails alone. */
		snprintf(why, whylen, "cannot be expressed in EPP%s",
			 pr.ds_interface == CDS_KEY_DATA && cs->kind == CDS_KIND_DS && !cs->keys.n
				 ? ": the registry takes keyData and the child publishes no CDNSKEY"
				 : "");
		*to = ROUTE_FAIL;
		return 0;
	}
	if (r != 0)
		snprintf(dr->err, dr->errlen, "change set %lld of %s: cannot build EPP (%s)",
			 (long long)cs->id, cs->domain, cds_strerror(r));
	return r;
}

static int fail_one(struct drain *dr, const struct cds_change_set *cs, const char *why)
{
	cds_log_error("change set %lld of %s failed: %s", (long long)cs->id, cs->domain, why);
	dr->res->failed++;
	return cds_db_change_failed(dr->db, cs->id, why, dr->err, dr->errlen);
}

/*
 * A registry lock (the registry refuses updates of the domain): the change
 * set fails, since it rests on a scan that may be old by the time the lock
 * is lifted, and the domain is suspended, so that automation stops until
 * an operator has looked; `domain resume` then scans it afresh, and a new
 * change set rests on what the child publishes then.
 */
static int lock_one(struct drain *dr, const struct cds_change_set *cs, const char *why)
{
	char reason[900];
	struct cds_db_domain_change c;
	snprintf(reason, sizeof(reason), "the registry refuses updates of the domain: %s", why);
	int r = fail_one(dr, cs, reason);
	if (r == 0)
		r = cds_db_domain_suspend(dr->db, cs->domain, CDS_ACTOR_REGISTRY, reason, NULL, &c,
					  dr->err, dr->errlen);
	if (r == 0 && c.changed)
		cds_log_error("%s suspended: the registry refuses its updates; automation stops "
			      "until 'cdscan domain resume %s'",
			      cs->domain, cs->domain);
	return r;
}

static void wait_one(struct drain *dr, const struct cds_change_set *cs, const char *why)
{
	cds_log_warning("change set %lld of %s stays pending: %s", (long long)cs->id, cs->domain,
			why);
	dr->res->waiting++;
}

/* Route, plan and send one change set; *sent tells whether the adapter has
 * it.  Returns 0 or an error that stops the drain. */
static int send_one(struct drain *dr, const struct cds_change_set *cs, bool record_attempt,
		    bool *sent, char *svtrid, size_t svlen)
{
	struct cds_epp_plan plan = {0};
	const struct cds_registry *reg;
	enum route to;
	enum send_status st = SEND_OK;
	char why[700] = "";
	*sent = false;
	int r = route(dr, cs, &reg, &plan, &to, why, sizeof(why));
	if (r != 0)
		goto out;
	if (to == ROUTE_WAIT) {
		wait_one(dr, cs, why);
		goto out;
	}
	if (to == ROUTE_FAIL) {
		r = fail_one(dr, cs, why);
		goto out;
	}
	dr->handled++;
	/* Acknowledged delivery: on record before anything goes out, so that a
	 * crash from here on makes the next run check before it resends. */
	if (record_attempt && (r = cds_db_change_attempt(dr->db, cs->id, dr->err, dr->errlen)) != 0)
		goto out;
	struct outgoing o = {.cs = cs, .reg = reg, .plan = dr->ad->epp ? &plan : NULL};
	if ((r = dr->ad->send(dr->state, &o, &st, svtrid, svlen, why, sizeof(why))) != 0) {
		snprintf(dr->err, dr->errlen, "%s", why);
		goto out;
	}
	if (st == SEND_FAILED)
		r = fail_one(dr, cs, why);
	else if (st == SEND_LOCKED)
		r = lock_one(dr, cs, why);
	else if (st == SEND_LATER)
		wait_one(dr, cs, why);
	else
		*sent = true;
out:
	cds_epp_plan_free(&plan);
	return r;
}

/* Durable hand-over: claim a batch in a transaction, send each, make the
 * adapter's output durable, then mark them sent and commit. */
static int drain_batch(struct drain *dr, bool *more)
{
	struct cds_db_changes ch;
	size_t want = DRAIN_BATCH;
	if (dr->has_limit && dr->limit - dr->res->sent < want)
		want = (size_t)(dr->limit - dr->res->sent);
	*more = false;
	if (want == 0)
		return 0;
	int r = cds_db_changes_claim(dr->db, want, &ch, dr->err, dr->errlen);
	if (r != 0)
		return r;
	bool *ok = calloc(ch.count ? ch.count : 1, sizeof(bool));
	if (!ok)
		r = CDS_ENOMEM;
	for (size_t i = 0; i < ch.count && r == 0; i++) {
		char sv[8];
		r = send_one(dr, &ch.items[i], false, &ok[i], sv, sizeof(sv));
	}
	/*
	 * A send that fails part-way (the spool's disk full) stops the drain,
	 * but what the adapter already holds is recorded as sent first: those
	 * files are durable and a spool reader may have taken them already, so
	 * rolling their claim back would hand every one of them over again at
	 * the next run (the fault campaign saw two thirds of a batch spooled
	 * twice).  Only the change set that was being written when it failed
	 * comes again, with its clTRID.  Later errors go to a scratch buffer so
	 * that the message says what stopped the drain.
	 */
	int stop = r;
	char scratch[300];
	char *err = stop ? scratch : dr->err;
	size_t errlen = stop ? sizeof(scratch) : dr->errlen;
	r = ok ? 0 : CDS_ENOMEM;
	if (r == 0 && dr->ad->flush)
		r = dr->ad->flush(dr->state, err, errlen);
	for (size_t i = 0; i < ch.count && r == 0; i++)
		if (ok[i] && (r = cds_db_change_sent(dr->db, ch.items[i].id, err, errlen)) == 0)
			dr->res->sent++;
	free(ok);
	if (r != 0) {
		cds_db_changes_abort(dr->db, &ch);
		return stop ? stop : r;
	}
	*more = ch.count > 0 && !stop;
	r = cds_db_changes_commit(dr->db, &ch, err, errlen);
	return stop ? stop : r;
}

static int drain_durable(struct drain *dr)
{
	bool more = true;
	int r = 0;
	while (r == 0 && more)
		r = drain_batch(dr, &more);
	return r;
}

/* Acknowledged delivery: one sender per database; each change set's state
 * committed on its own as it goes. */
static int drain_acknowledged(struct drain *dr)
{
	bool got = false;
	int64_t after = 0;
	int r = cds_db_try_lock(dr->db, "cdscan epp send", &got, dr->err, dr->errlen);
	if (r != 0)
		return r;
	if (!got) {
		snprintf(dr->err, dr->errlen, "another 'cdscan epp send' is running on this database");
		return CDS_EUNAVAIL;
	}
	for (bool more = true; more && r == 0;) {
		struct cds_db_changes ch;
		if ((r = cds_db_changes_list(dr->db, DRAIN_BATCH, after, &ch, dr->err, dr->errlen)))
			break;
		more = ch.count > 0;
		for (size_t i = 0; i < ch.count && r == 0 && more; i++) {
			const struct cds_change_set *cs = &ch.items[i];
			char svtrid[128] = "";
			bool sent;
			after = cs->id;
			if (dr->has_limit && dr->handled >= dr->limit) {
				more = false;
				break;
			}
			r = send_one(dr, cs, true, &sent, svtrid, sizeof(svtrid));
			if (r == 0 && sent &&
			    (r = cds_db_change_done(dr->db, cs->id, svtrid, dr->err, dr->errlen)) == 0)
				dr->res->sent++;
		}
		cds_db_changes_free(&ch);
	}
	if (r == 0 && dr->res->waiting) {
		snprintf(dr->err, dr->errlen, "%llu change sets stay pending (see the log)",
			 (unsigned long long)dr->res->waiting);
		return CDS_EUNAVAIL;
	}
	return r;
}

/* Change sets of suspended domains are not claimed: say how many wait. */
static void note_held(struct drain *dr)
{
	uint64_t held = 0;
	char err[300];
	if (cds_db_count_held(dr->db, &held, err, sizeof(err)) == 0 && held)
		cds_log_notice("%llu change sets held: their domains are suspended "
			       "(cdscan domain show NAME; cdscan domain resume NAME)",
			       (unsigned long long)held);
}

int cds_outbox_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		     const char *spool_dir, bool has_limit, uint64_t limit,
		     struct cds_outbox_result *out, char *err, size_t errlen)
{
	struct drain dr = {.ad = adapter_of(adapter), .conf = conf, .has_limit = has_limit,
			   .limit = limit, .res = out, .err = err, .errlen = errlen};
	int r;
	memset(out, 0, sizeof(*out));
	out->destination = "";
	err[0] = '\0';
	if (!spool_dir)
		spool_dir = conf->output.spool_dir;
	if ((r = dr.ad->open(conf, spool_dir, &dr.state, err, errlen)) != 0)
		return r;
	if ((r = cds_db_connect(conf->database, &dr.db, err, errlen)) == 0) {
		out->destination = dr.ad->destination(dr.state);
		r = dr.ad->durable ? drain_durable(&dr) : drain_acknowledged(&dr);
		if (r == 0 || r == CDS_EUNAVAIL)
			note_held(&dr);
		cds_db_close(dr.db);
	}
	dr.ad->close(dr.state);
	return r;
}
