/* The CSYNC phases (RFC 7477 §3.4), run only when the policy layer says the
 * decision would act on the CSYNC: at every address the NS RRset again and
 * the addresses of in-bailiwick names, then the SOA again; and a SOA query
 * to every address the change would add, which must serve the zone before
 * the parent points to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"
#include "scan_internal.h"

/* One query of the CSYNC phases. */
struct csync_q {
	struct job *job;
	size_t server; /* index in servers, or in probes for XQ_PROBE */
	enum { XQ_NS, XQ_A, XQ_AAAA, XQ_SOA_AFTER, XQ_PROBE, XQ_PROBE_DNSKEY } what;
	size_t host;
};

/* Mark c unusable with "what: detail", keeping the first. */
static void csync_fail(struct cds_csync_data *c, const char *what, const char *detail)
{
	if (!c->ok)
		return;
	c->ok = false;
	snprintf(c->error, sizeof(c->error), "%.60s: %.96s", what, detail);
}

/* An answer for a name in the child zone (NS at the apex, A/AAAA of a
 * host): usable data, or NODATA/NXDOMAIN as an empty set. */
static void data_take(struct cds_csync_data *c, struct cds_rrset *set, const char *qname,
		      uint16_t type, const struct cds_dnssec_limits *limits, int status,
		      const uint8_t *wire, size_t len)
{
	struct cds_answer_info info;
	char what[CDS_DNAME_BUFSIZE + 8], why[CDS_LIMIT_TEXT_MAX];
	if (!scan_judge(JUDGE_DATA, qname, type, limits, status, wire, len, set, &info, why,
			sizeof(why))) {
		snprintf(what, sizeof(what), "%s %s",
			 type == CDS_T_NS ? "NS" : type == CDS_T_A ? "A" : "AAAA", qname);
		csync_fail(c, what, why);
	}
}

/* The SOA after the data: judged like the first one, into a scratch result
 * so that the apex answers stay as they were. */
static void soa_after_take(struct cds_csync_data *c, const char *domain,
			   const struct cds_dnssec_limits *limits, int status, const uint8_t *wire,
			   size_t len)
{
	struct cds_server_result tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.ok = true;
	cds_server_take_answer(&tmp, CDS_Q_SOA, domain, limits, status, wire, len);
	if (tmp.ok) {
		c->soa_after = true;
		c->soa_serial_after = tmp.soa_serial;
	} else {
		csync_fail(c, "SOA after the data", tmp.error);
	}
	cds_rrset_clear(&tmp.sets[CDS_Q_SOA]);
}

static void csync_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct csync_q *q = arg;
	struct job *j = q->job;
	struct cds_scan_result *res = j->res;
	bool probe = q->what == XQ_PROBE || q->what == XQ_PROBE_DNSKEY;
	struct cds_csync_data *c = probe ? NULL : res->servers[q->server].csync;
	struct cds_csync_host *h = c && c->hosts ? &c->hosts[q->host] : NULL;
	const struct cds_dnssec_limits *lim = &j->conf->limits;
	switch (q->what) {
	case XQ_PROBE:
		cds_server_take_answer(&res->probes[q->server], CDS_Q_SOA, j->d->domain, lim,
				       status, wire, len);
		break;
	case XQ_PROBE_DNSKEY:
		cds_server_take_answer(&res->probes[q->server], CDS_Q_DNSKEY, j->d->domain, lim,
				       status, wire, len);
		break;
	case XQ_NS:
		data_take(c, &c->ns, j->d->domain, CDS_T_NS, lim, status, wire, len);
		break;
	case XQ_A:
		data_take(c, &h->a, h->name, CDS_T_A, lim, status, wire, len);
		break;
	case XQ_AAAA:
		data_take(c, &h->aaaa, h->name, CDS_T_AAAA, lim, status, wire, len);
		break;
	case XQ_SOA_AFTER:
		soa_after_take(c, j->d->domain, lim, status, wire, len);
		break;
	}
	free(q);
	job_step_done(j);
}

static int csync_send(struct job *j, const struct cds_addr *to, const char *qname,
		      uint16_t type, size_t server, int what, size_t host)
{
	struct csync_q *q = malloc(sizeof(*q));
	if (!q)
		return CDS_ENOMEM;
	*q = (struct csync_q){.job = j, .server = server, .what = what, .host = host};
	int r = cds_transport_query(j->s->transport, to, qname, type, CDS_QUERY_DO,
				    csync_answer_cb, q);
	if (r != 0) {
		free(q);
		return r;
	}
	job_step_begin(j);
	return 0;
}

/* ------------------------------------------------------------ gate --- */

static void gate_work_cb(uv_work_t *w)
{
	struct job *j = w->data;
	j->csync_allowed = cds_policy_csync_fetch_allowed(j->res, j->conf, j->gate_now);
}

static void gate_after_cb(uv_work_t *w, int status)
{
	(void)status; /* UV_ECANCELED only after uv_cancel, never called here */
	job_step_done(w->data);
}

/* Phase: the signature checks run in the thread pool, as decisions do, so
 * that the loop keeps answering and timing out other delegations' queries
 * (issue #16); nothing is in flight for the job meanwhile, so the worker
 * reads its result alone. */
void csync_gate(struct job *j)
{
	j->gate_now = cds_clock();
	j->gate.data = j;
	if (uv_queue_work(j->s->loop, &j->gate, gate_work_cb, gate_after_cb) == 0) {
		job_step_begin(j);
		return;
	}
	gate_work_cb(&j->gate); /* (fails only without a work callback) */
}

/* ------------------------------------------------------------ data --- */

/* Add name to a host list unless present or out of bailiwick. */
static int host_add(struct cds_csync_data *c, const char *name, const char *zone)
{
	if (!cds_dname_is_subdomain(name, zone))
		return 0;
	for (size_t h = 0; h < c->host_count; h++)
		if (strcmp(c->hosts[h].name, name) == 0)
			return 0;
	struct cds_csync_host *n = realloc(c->hosts, (c->host_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	c->hosts = n;
	memset(&n[c->host_count], 0, sizeof(*n));
	snprintf(n[c->host_count].name, sizeof(n->name), "%s", name);
	c->host_count++;
	return 0;
}

/* The in-bailiwick names of the child's NS set as srv served it, and of the
 * parent's (for glue-only updates). */
static int collect_hosts(struct cds_csync_data *c, const struct cds_server_result *srv,
			 const struct cds_delegation *d)
{
	const struct cds_rrset *ns = &srv->sets[CDS_Q_NS];
	for (size_t k = 0; k < ns->count; k++) {
		char name[CDS_DNAME_BUFSIZE];
		if (cds_dname_from_wire(ns->rdata[k].data, ns->rdata[k].len, name) == 0 &&
		    host_add(c, name, d->domain) != 0)
			return CDS_ENOMEM;
	}
	for (size_t k = 0; k < d->ns_count; k++)
		if (host_add(c, d->ns[k].name, d->domain) != 0)
			return CDS_ENOMEM;
	return 0;
}

/* The data queries of one server (NS, and A/AAAA of each host, as the
 * bitmap names them). */
static int data_send(struct job *j, size_t i)
{
	const struct cds_csync *cs = &j->csync;
	struct cds_server_result *srv = &j->res->servers[i];
	struct cds_csync_data *c = srv->csync;
	int r = 0;
	if (cs->ns)
		r |= csync_send(j, &srv->addr, j->d->domain, CDS_T_NS, i, XQ_NS, 0);
	for (size_t h = 0; h < c->host_count; h++) {
		if (cs->a)
			r |= csync_send(j, &srv->addr, c->hosts[h].name, CDS_T_A, i, XQ_A, h);
		if (cs->aaaa)
			r |= csync_send(j, &srv->addr, c->hosts[h].name, CDS_T_AAAA, i, XQ_AAAA, h);
	}
	return r;
}

/* Phase: at every address, NS again and A/AAAA of the in-bailiwick names. */
void csync_fetch(struct job *j)
{
	struct cds_scan_result *res = j->res;
	for (size_t i = 0; i < res->server_count; i++) {
		struct cds_csync_data *c = calloc(1, sizeof(*c));
		if (!c)
			continue; /* no data: the decision rejects */
		res->servers[i].csync = c;
		c->ok = true;
		if ((j->csync.a || j->csync.aaaa) && collect_hosts(c, &res->servers[i], j->d) != 0)
			csync_fail(c, "in-bailiwick names", "out of memory");
		if (data_send(j, i) != 0)
			csync_fail(c, "CSYNC data", "a query could not be sent");
	}
}

/* Is (name, a) among the addresses the apex phase asked? */
static bool asked(const struct cds_scan_result *res, const char *name, const struct cds_addr *a)
{
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *srv = &res->servers[i];
		if (srv->has_addr && strcmp(srv->name, name) == 0 && srv->addr.len == a->len &&
		    memcmp(&srv->addr.ss, &a->ss, a->len) == 0)
			return true;
	}
	return false;
}

/* A probe of (name, a), once; a == NULL records that name has no address
 * (error says why). */
static int probe_add(struct job *j, const char *name, const struct cds_addr *a,
		     const char *error)
{
	struct cds_scan_result *res = j->res;
	for (size_t i = 0; a && i < res->probe_count; i++)
		if (strcmp(res->probes[i].name, name) == 0 && res->probes[i].addr.len == a->len &&
		    memcmp(&res->probes[i].addr.ss, &a->ss, a->len) == 0)
			return 0;
	struct cds_server_result *n = realloc(res->probes, (res->probe_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	res->probes = n;
	struct cds_server_result *p = &n[res->probe_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!a) {
		snprintf(p->error, sizeof(p->error), "%s", error);
		return 0;
	}
	p->addr = *a;
	p->has_addr = true;
	p->ok = !scan_addr_refused(j->s, j->d->domain, name, a, p->error, sizeof(p->error));
	return 0;
}

/* Each new address is asked for the SOA (does it serve the zone?) and the
 * DNSKEY RRset (does the current DS set authenticate what it serves?  RFC
 * 9975 §3.2: a CSYNC update must not break the delegation). */
static void probe_send_all(struct job *j, size_t from)
{
	struct cds_scan_result *res = j->res;
	char why[256];
	/* Beyond scan.csync-max-* nothing more is asked; the decision rejects
	 * with the same predicate's words. */
	bool within = cds_policy_csync_within_limits(res, j->conf, why, sizeof(why));
	for (size_t i = from; i < res->probe_count; i++) {
		struct cds_server_result *p = &res->probes[i];
		if (!within)
			scan_server_fail(p, "not asked: above a scan.csync-max-* limit");
		if (p->has_addr && p->ok &&
		    (csync_send(j, &p->addr, j->d->domain, CDS_T_SOA, i, XQ_PROBE, 0) ||
		     csync_send(j, &p->addr, j->d->domain, CDS_T_DNSKEY, i, XQ_PROBE_DNSKEY, 0)))
			scan_server_fail(p, "query could not be sent");
	}
}

/* An out-of-bailiwick name the CSYNC adds, being looked up. */
struct probe_lookup {
	struct job *job;
	char name[CDS_DNAME_BUFSIZE];
};

static void probe_resolved_cb(int status, const struct cds_addr *addrs, size_t n, const char *why,
			      void *arg)
{
	struct probe_lookup *pl = arg;
	struct job *j = pl->job;
	size_t from = j->res->probe_count;
	if (status != 0)
		probe_add(j, pl->name, NULL, why);
	else if (n == 0)
		probe_add(j, pl->name, NULL, "no address for the NS name");
	for (size_t i = 0; status == 0 && i < n; i++)
		probe_add(j, pl->name, &addrs[i], NULL);
	probe_send_all(j, from);
	free(pl);
	job_step_done(j);
}

/* New out-of-bailiwick NS names are looked up, then probed. */
static void probe_new_names(struct job *j, const struct cds_rrset *ns)
{
	const struct cds_delegation *d = j->d;
	for (size_t k = 0; k < ns->count; k++) {
		char name[CDS_DNAME_BUFSIZE];
		if (cds_dname_from_wire(ns->rdata[k].data, ns->rdata[k].len, name) != 0 ||
		    cds_dname_is_subdomain(name, d->domain))
			continue; /* in-bailiwick: from the glue */
		bool current = false;
		for (size_t n = 0; n < d->ns_count && !current; n++)
			current = strcmp(d->ns[n].name, name) == 0;
		if (current)
			continue;
		struct probe_lookup *pl = malloc(sizeof(*pl));
		if (!pl)
			continue;
		pl->job = j;
		snprintf(pl->name, sizeof(pl->name), "%s", name);
		if (cds_scanner_resolve(j->s, name, probe_resolved_cb, pl) == 0) {
			job_step_begin(j);
		} else {
			free(pl);
			probe_add(j, name, NULL, "look-up failed");
		}
	}
}

/* New glue addresses of in-bailiwick names are probed. */
static void probe_new_glue(struct job *j, const struct cds_csync_data *c)
{
	size_t from = j->res->probe_count;
	for (size_t h = 0; h < c->host_count; h++) {
		const struct cds_csync_host *host = &c->hosts[h];
		for (int t = 0; t < 2; t++) {
			const struct cds_rrset *set = t ? &host->aaaa : &host->a;
			for (size_t k = 0; k < set->count; k++) {
				struct cds_addr a;
				if (cds_addr_from_rdata(set->rdata[k].data, set->rdata[k].len, 53,
							&a) == 0 &&
				    !asked(j->res, host->name, &a))
					probe_add(j, host->name, &a, NULL);
			}
		}
	}
	probe_send_all(j, from);
}

/* Phase: the SOA again at every address, and a SOA query to every address
 * the CSYNC would add (a new NS name, a new glue address). */
void csync_after(struct job *j)
{
	struct cds_scan_result *res = j->res;
	for (size_t i = 0; i < res->server_count; i++) {
		struct cds_server_result *srv = &res->servers[i];
		if (srv->csync && csync_send(j, &srv->addr, j->d->domain, CDS_T_SOA, i, XQ_SOA_AFTER, 0))
			csync_fail(srv->csync, "SOA after the data", "a query could not be sent");
	}
	/* The first address's view; the decision rejects when the addresses
	 * disagree, so probing one view is enough.  New names come from the
	 * NS RRset the gate validated: an NS RRset served since that differs
	 * is a zone that changed while it was read (csync-serial-changed),
	 * and nothing is probed for it. */
	const struct cds_csync_data *c = res->server_count ? res->servers[0].csync : NULL;
	const struct cds_rrset *ns = res->server_count ? &res->servers[0].sets[CDS_Q_NS] : NULL;
	if (!c || !c->ok || (c->ns.present && !cds_rrset_equal(&c->ns, ns)))
		return;
	probe_new_names(j, ns);
	probe_new_glue(j, c);
}
