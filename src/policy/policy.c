/* The decision on one scanned delegation: what the servers served, copied
 * into the verdict, then the DS side (ds.c, bootstrap.c) and the NS side
 * (ns.c), sharing one memo of DNSSEC validations; and the rules the scan
 * layer asks about before it fetches more. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

int run_stages(const stage_fn *stages, size_t n, struct decision *dc)
{
	for (size_t i = 0; i < n; i++) {
		int r = stages[i](dc);
		if (r != STAGE_PASS)
			return r;
	}
	return STAGE_PASS;
}

/* RRSIG times are 32-bit serial numbers (RFC 4034 §3.1.5, RFC 1982): take
 * the value closest to now. */
time_t sig_time(uint32_t t, time_t now)
{
	return now + (int32_t)(t - (uint32_t)now);
}

int ds_text_add(struct cds_strlist *l, const struct cds_ds *ds)
{
	char txt[CDS_DS_TEXT_MAX];
	cds_ds_format(ds, txt);
	return cds_strlist_add(l, txt);
}

/* The CDS RRset as DS texts ("(malformed CDS)" for a record that is not). */
static int cds_texts(const struct cds_rrset *cds, struct cds_strlist *out)
{
	for (size_t k = 0; k < cds->count; k++) {
		struct cds_ds ds;
		char txt[CDS_DS_TEXT_MAX];
		if (cds_ds_from_rdata(cds->rdata[k].data, cds->rdata[k].len, &ds) == 0)
			cds_ds_format(&ds, txt);
		else
			snprintf(txt, sizeof(txt), "(malformed CDS)");
		if (cds_strlist_add(out, txt) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* The CDNSKEY RRset as key texts. */
static int cdnskey_texts(const struct cds_rrset *ck, struct cds_strlist *out)
{
	for (size_t k = 0; k < ck->count; k++) {
		char txt[2048];
		if (cds_dnskey_format(ck->rdata[k].data, ck->rdata[k].len, txt, sizeof(txt)))
			snprintf(txt, sizeof(txt), "(malformed CDNSKEY)");
		if (cds_strlist_add(out, txt) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* Copy what one server served into the verdict. */
static int fill_server(const struct cds_server_result *sr, struct cds_verdict_server *s)
{
	snprintf(s->name, sizeof(s->name), "%s", sr->name);
	if (sr->has_addr)
		cds_addr_format(&sr->addr, s->address, sizeof(s->address));
	s->ok = sr->ok;
	snprintf(s->error, sizeof(s->error), "%s", sr->error);
	s->soa = sr->sets[CDS_Q_SOA].count == 1;
	s->soa_serial = sr->soa_serial;
	s->dnskey_count = sr->sets[CDS_Q_DNSKEY].count;
	s->dnskey_asked = sr->sets[CDS_Q_DNSKEY].present;
	if (cds_texts(&sr->sets[CDS_Q_CDS], &s->cds) != 0 ||
	    cdnskey_texts(&sr->sets[CDS_Q_CDNSKEY], &s->cdnskey) != 0)
		return CDS_ENOMEM;
	const struct cds_rrset *cs = &sr->sets[CDS_Q_CSYNC];
	if (cs->count > 0) {
		char txt[1024];
		if (cds_csync_format(cs->rdata[0].data, cs->rdata[0].len, txt, sizeof(txt)))
			snprintf(txt, sizeof(txt), "(malformed CSYNC)");
		if (!(s->csync = strdup(txt)))
			return CDS_ENOMEM;
	}
	return 0;
}

/* Is this unusable server one of the addresses given up on (RFC 9975 §3:
 * failing for policy.unreachable-after, so "permanently unreachable")? */
static bool excluded(const struct cds_delegation *d, const struct cds_server_result *sr)
{
	char key[CDS_DNAME_BUFSIZE + 70], addr[64];
	if (sr->ok || !sr->has_addr)
		return false;
	cds_addr_format(&sr->addr, addr, sizeof(addr));
	snprintf(key, sizeof(key), "%s %s", sr->name, addr);
	for (size_t i = 0; i < d->excluded_count; i++)
		if (strcmp(d->excluded[i], key) == 0)
			return true;
	return false;
}

/* Every server asked, into the verdict: first those the decision rests on
 * (view: v->servers[i] is view->servers[i]), then those left out of it,
 * which the verdict still shows (and the store keeps counting their
 * failures). */
static int fill_servers(const struct cds_scan_result *all, const struct cds_scan_result *view,
			struct cds_verdict *v)
{
	v->servers = calloc(all->server_count ? all->server_count : 1, sizeof(*v->servers));
	if (!v->servers)
		return CDS_ENOMEM;
	for (size_t i = 0; i < view->server_count; i++)
		if (fill_server(&view->servers[i], &v->servers[v->server_count++]) != 0)
			return CDS_ENOMEM;
	for (size_t i = 0; i < all->server_count; i++)
		if (excluded(all->delegation, &all->servers[i]) &&
		    fill_server(&all->servers[i], &v->servers[v->server_count++]) != 0)
			return CDS_ENOMEM;
	return 0;
}

/* The glue the parent holds: addresses of the in-bailiwick NS names. */
static int current_glue(const struct cds_delegation *d, struct cds_verdict *v)
{
	for (size_t i = 0; i < d->ns_count; i++) {
		if (!cds_dname_is_subdomain(d->ns[i].name, d->domain) || !d->ns[i].addr_count)
			continue;
		struct cds_verdict_glue *g = cds_verdict_glue_add(&v->glue_current,
								  &v->glue_current_count,
								  d->ns[i].name);
		if (!g)
			return CDS_ENOMEM;
		for (size_t a = 0; a < d->ns[i].addr_count; a++) {
			char txt[64];
			cds_addr_format(&d->ns[i].addrs[a], txt, sizeof(txt));
			if (cds_strlist_add(&g->addresses, txt) != 0)
				return CDS_ENOMEM;
		}
		cds_strlist_sort(&g->addresses);
	}
	return 0;
}

/* The verdict's head: domain, time, the parent's NS and DS sets. */
static int fill_head(const struct cds_delegation *d, time_t now, struct cds_verdict *v)
{
	snprintf(v->domain, sizeof(v->domain), "%s", d->domain);
	v->checked_at = now;
	for (size_t i = 0; i < d->ns_count; i++)
		if (cds_strlist_add(&v->ns, d->ns[i].name) != 0)
			return CDS_ENOMEM;
	for (size_t i = 0; i < d->ds_count; i++)
		if (ds_text_add(&v->ds, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	return 0;
}

/*
 * The servers the decision rests on, into view (a shallow copy of res):
 * every address but those given up on.  Those, and the addresses the scan
 * left out (resolver.address-families), are named in v->excluded.
 * view->servers is owned by the caller (free()).
 */
static int considered(const struct cds_scan_result *res, struct cds_scan_result *view,
		      struct cds_verdict *v)
{
	*view = *res;
	view->server_count = 0;
	view->servers = calloc(res->server_count ? res->server_count : 1, sizeof(*view->servers));
	if (!view->servers)
		return CDS_ENOMEM;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		char txt[CDS_DNAME_BUFSIZE + 320], addr[64];
		if (!excluded(res->delegation, sr)) {
			view->servers[view->server_count++] = *sr;
			continue;
		}
		cds_addr_format(&sr->addr, addr, sizeof(addr));
		snprintf(txt, sizeof(txt), "%s (%s): %s; unreachable for longer than "
			 "policy.unreachable-after", sr->name, addr, sr->error);
		if (cds_strlist_add(&v->excluded, txt) != 0)
			return CDS_ENOMEM;
	}
	for (size_t i = 0; i < res->skipped_count; i++)
		if (cds_strlist_add(&v->excluded, res->skipped[i]) != 0)
			return CDS_ENOMEM;
	return 0;
}

/* A decision in progress with what it owns: the memo of its validations
 * (and its work budget) and the view of the servers it rests on. */
struct decision_box {
	struct decision dc;
	struct cds_memo memo;
	struct cds_scan_result view;
};

/*
 * Each thread keeps one box and lends it to its decisions.  A box is 67
 * KB, and glibc consolidates the arena's free lists whenever a block of
 * 64 KiB or more is freed (and may give the heap's top back to the
 * kernel, to fault it in again for the next one): with the box kept, the
 * time spent deciding a rescan fell by a fifth (bench/RESULTS.md).  A decision
 * opened while the thread's box is lent out (none is today) gets one of
 * its own.  The box lives as long as its thread; an exiting thread frees
 * it (thread_box_key).
 */
static pthread_key_t thread_box_key;
static pthread_once_t thread_box_once = PTHREAD_ONCE_INIT;
static __thread struct decision_box *thread_box;
static __thread bool thread_box_lent;

static void thread_box_free(void *b)
{
	free(b);
}

static void thread_box_key_make(void)
{
	if (pthread_key_create(&thread_box_key, thread_box_free) != 0)
		abort(); /* only EAGAIN/ENOMEM: no key left in the process */
}

static struct decision_box *decision_box_take(void)
{
	if (thread_box_lent)
		return malloc(sizeof(struct decision_box));
	if (!thread_box) {
		pthread_once(&thread_box_once, thread_box_key_make);
		if (!(thread_box = malloc(sizeof(*thread_box))))
			return NULL;
		/* (The main thread's is freed by no one: it is reachable
		 * until exit, like any static.) */
		pthread_setspecific(thread_box_key, thread_box);
	}
	thread_box_lent = true;
	return thread_box;
}

static void decision_close(struct decision_box *b)
{
	if (!b)
		return;
	free(b->view.servers);
	if (b == thread_box)
		thread_box_lent = false;
	else
		free(b);
}

/* The decision on all at now, v (zeroed first) filled with the head, the
 * glue and the servers: where each side's stages start.  *out is released
 * with decision_close (also on error). */
static int decision_open(const struct cds_scan_result *all, const struct cds_conf *conf,
			 time_t now, struct cds_verdict *v, struct decision_box **out)
{
	const struct cds_delegation *d = all->delegation;
	/* The decision holds the proposal arrays; the memo is large too (57
	 * KiB, written before it is read: cds_memo_init), so only the rest is
	 * zeroed (zeroing all of it was 2% of a scan's profile). */
	struct decision_box *b = decision_box_take();
	int r = CDS_ENOMEM;

	if (b) {
		memset(&b->dc, 0, sizeof(b->dc));
		memset(&b->view, 0, sizeof(b->view));
	}

	memset(v, 0, sizeof(*v));
	*out = b;
	if (!b || (r = considered(all, &b->view, v)) != 0)
		return r;
	cds_memo_init(&b->memo, d->domain, &conf->limits, now);
	b->memo.work.cache = d->sigcache;
	b->dc = (struct decision){.res = &b->view, .d = d, .conf = conf, .memo = &b->memo, .v = v,
				  .now = now};
	if ((r = fill_head(d, now, v)) != 0 || (r = current_glue(d, v)) != 0)
		return r;
	return fill_servers(all, &b->view, v);
}

int cds_policy_decide(const struct cds_scan_result *all, const struct cds_conf *conf,
		      time_t now, struct cds_verdict *v)
{
	struct decision_box *b = NULL;
	int r = decision_open(all, conf, now, v, &b);
	if (r == 0) {
		b->dc.side = &v->ds_side;
		r = decide_ds(&b->dc);
	}
	if (r >= 0) {
		b->dc.side = &v->ns_side;
		r = decide_ns(&b->dc);
		v->verifications = b->memo.work.verifications;
	}
	if (r < 0)
		cds_verdict_clear(v);
	decision_close(b);
	return r < 0 ? r : 0;
}

bool cds_policy_csync_fetch_allowed(const struct cds_scan_result *all,
				    const struct cds_conf *conf, time_t now)
{
	struct cds_verdict *v = malloc(sizeof(*v));
	struct decision_box *b = NULL;
	bool allowed = false;
	if (v && decision_open(all, conf, now, v, &b) == 0) {
		b->dc.side = &v->ns_side;
		allowed = decide_ns_before_data(&b->dc) == STAGE_PASS;
	}
	decision_close(b);
	cds_verdict_clear(v);
	free(v);
	return allowed;
}

/* ----------------------------------------------------- shared rules --- */

long first_unauthenticated(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < res->server_count; i++)
		if (!cds_memo_authenticates(dc->memo, &res->servers[i], dc->d->ds, dc->d->ds_count))
			return (long)i;
	return -1;
}

int stage_all_usable(struct decision *dc)
{
	const struct cds_scan_result *res = dc->res;
	for (size_t i = 0; i < res->server_count; i++) {
		if (!res->servers[i].ok) {
			cds_verdict_decide(dc->side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE,
					   WHERE_FMT ": %s", WHERE_ARGS(&dc->v->servers[i]),
					   res->servers[i].error);
			return STAGE_DECIDED;
		}
	}
	return STAGE_PASS;
}

int stage_suspended(struct decision *dc)
{
	if (!dc->d->suspended)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_SUSPENDED, "%s",
			   dc->d->suspended_reason[0] ? dc->d->suspended_reason
						      : "automation is suspended for this domain");
	return STAGE_DECIDED;
}

int stage_opted_out(struct decision *dc)
{
	if (!dc->d->opted_out)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_OPTED_OUT, NULL);
	return STAGE_DECIDED;
}

time_t signal_inception(const struct decision *dc)
{
	time_t newest = 0;
	for (size_t i = 0; i < dc->res->server_count; i++) {
		for (int k = CDS_Q_CDS; k <= CDS_Q_CDNSKEY; k++) {
			const struct cds_rrset *set = &dc->res->servers[i].sets[k];
			for (size_t s = 0; s < set->sig_count; s++) {
				time_t inc = sig_time(set->sigs[s].inception, dc->now);
				if (inc > newest)
					newest = inc;
			}
		}
	}
	return newest;
}

/* The key tags of a DNSKEY RRset, for details ("12345 23456"). */
void key_tags(const struct cds_rrset *keys, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t k = 0; k < keys->count && o < len; k++) {
		const struct cds_rdata *rd = &keys->rdata[k];
		/* A key with the REVOKE flag authenticates nothing (RFC 5011
		 * §3): say so, or a DS naming it looks like it should match. */
		bool revoked = rd->len >= 2 && ((rd->data[0] << 8 | rd->data[1]) & CDS_DNSKEY_REVOKE);
		o += (size_t)snprintf(out + o, len - o, "%s%u%s", k ? " " : "",
				      cds_dnskey_keytag(rd->data, rd->len), revoked ? " (revoked)" : "");
	}
}

void ds_tags(const struct cds_delegation *d, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < d->ds_count && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u", i ? " " : "", d->ds[i].keytag);
}

long first_signal_mismatch(const struct cds_scan_result *res, const char **what)
{
	const struct cds_server_result *ref = &res->servers[0];
	for (size_t i = 1; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		*what = !cds_rrset_equal(&ref->sets[CDS_Q_CDS], &sr->sets[CDS_Q_CDS]) ? "CDS"
			: !cds_rrset_equal(&ref->sets[CDS_Q_CDNSKEY], &sr->sets[CDS_Q_CDNSKEY])
				? "CDNSKEY"
				: NULL;
		if (*what)
			return (long)i;
	}
	return -1;
}

bool cds_policy_signal_consistent(const struct cds_scan_result *res)
{
	const char *what;
	if (res->server_count == 0)
		return false;
	for (size_t i = 0; i < res->server_count; i++)
		if (!res->servers[i].ok)
			return false;
	return first_signal_mismatch(res, &what) < 0;
}

bool cds_policy_bootstrap_wanted(const struct cds_scan_result *res, const struct cds_conf *conf)
{
	if (!conf->policy.bootstrap_authenticated || res->delegation->ds_count > 0 ||
	    !cds_policy_signal_consistent(res))
		return false;
	const struct cds_server_result *ref = &res->servers[0];
	return ref->sets[CDS_Q_CDS].count > 0 || ref->sets[CDS_Q_CDNSKEY].count > 0;
}

bool cds_policy_signal_over_tcp(const struct cds_delegation *d, const struct cds_conf *conf)
{
	return d->ds_count == 0 && conf->policy.bootstrap_after_delay;
}

bool cds_policy_apex_wanted(const struct cds_scan_result *res)
{
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		if (sr->sets[CDS_Q_CDS].count || sr->sets[CDS_Q_CDNSKEY].count ||
		    sr->sets[CDS_Q_CSYNC].count || (sr->ok && sr->probe_no_soa))
			return true;
	}
	return false;
}
