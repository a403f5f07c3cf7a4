/* The decision on one scanned delegation: what the servers served, copied
 * into the verdict, then the DS side (ds.c) and the NS side (ns.c), sharing
 * one memo of DNSSEC validations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/policy.h"
#include "policy_internal.h"

const char *cds_policy_where(const struct cds_verdict_server *s)
{
	static __thread char buf[CDS_DNAME_BUFSIZE + 80];
	snprintf(buf, sizeof(buf), "%s (%s)", s->name, s->address[0] ? s->address : "no address");
	return buf;
}

/* RRSIG times are 32-bit serial numbers (RFC 4034 §3.1.5, RFC 1982): take
 * the value closest to now. */
time_t cds_sig_time(uint32_t t, time_t now)
{
	return now + (int32_t)(t - (uint32_t)now);
}

int cds_ds_text_add(struct cds_strlist *l, const struct cds_ds *ds)
{
	char txt[CDS_DS_TEXT_MAX];
	cds_ds_format(ds, txt);
	return cds_strlist_add(l, txt);
}

/* Copy what each server served into the verdict. */
static int fill_servers(const struct cds_scan_result *res, struct cds_verdict *v)
{
	v->servers = calloc(res->server_count ? res->server_count : 1, sizeof(*v->servers));
	if (!v->servers)
		return CDS_ENOMEM;
	v->server_count = res->server_count;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		struct cds_verdict_server *s = &v->servers[i];
		snprintf(s->name, sizeof(s->name), "%s", sr->name);
		if (sr->has_addr)
			cds_addr_format(&sr->addr, s->address, sizeof(s->address));
		s->ok = sr->ok;
		snprintf(s->error, sizeof(s->error), "%s", sr->error);
		s->soa = sr->sets[CDS_Q_SOA].count == 1;
		s->soa_serial = sr->soa_serial;
		s->dnskey_count = sr->sets[CDS_Q_DNSKEY].count;
		const struct cds_rrset *cds = &sr->sets[CDS_Q_CDS];
		for (size_t k = 0; k < cds->count; k++) {
			struct cds_ds ds;
			char txt[CDS_DS_TEXT_MAX];
			if (cds_ds_from_rdata(cds->rdata[k].data, cds->rdata[k].len, &ds) == 0)
				cds_ds_format(&ds, txt);
			else
				snprintf(txt, sizeof(txt), "(malformed CDS)");
			if (cds_strlist_add(&s->cds, txt) != 0)
				return CDS_ENOMEM;
		}
		const struct cds_rrset *ck = &sr->sets[CDS_Q_CDNSKEY];
		for (size_t k = 0; k < ck->count; k++) {
			char txt[2048];
			if (cds_dnskey_format(ck->rdata[k].data, ck->rdata[k].len, txt, sizeof(txt)))
				snprintf(txt, sizeof(txt), "(malformed CDNSKEY)");
			if (cds_strlist_add(&s->cdnskey, txt) != 0)
				return CDS_ENOMEM;
		}
		const struct cds_rrset *cs = &sr->sets[CDS_Q_CSYNC];
		if (cs->count > 0) {
			char txt[1024];
			if (cds_csync_format(cs->rdata[0].data, cs->rdata[0].len, txt, sizeof(txt)))
				snprintf(txt, sizeof(txt), "(malformed CSYNC)");
			if (!(s->csync = strdup(txt)))
				return CDS_ENOMEM;
		}
	}
	return 0;
}

enum cds_dnssec_status cds_memo_validate(struct cds_memo *m, const struct cds_rrset *set,
					 const struct cds_rrset *dnskey, const struct cds_ds *ds,
					 size_t n)
{
	for (size_t i = 0; i < m->count; i++) {
		if (m->e[i].n == n && memcmp(m->e[i].ds, ds, n * sizeof(*ds)) == 0 &&
		    cds_rrset_identical(m->e[i].set, set) &&
		    cds_rrset_identical(m->e[i].dnskey, dnskey))
			return m->e[i].st;
	}
	enum cds_dnssec_status st;
	if (set == dnskey) {
		st = cds_dnssec_validate(m->owner, set, dnskey, ds, n, m->now);
	} else {
		/* DS -> DNSKEY once (memoised), then DNSKEY -> set. */
		st = cds_memo_validate(m, dnskey, dnskey, ds, n);
		if (st == CDS_DNSSEC_SECURE)
			st = cds_dnssec_verify(m->owner, set, dnskey, m->now);
		else if (set->count == 0 || set->sig_count == 0)
			st = CDS_DNSSEC_INSECURE;
	}
	if (m->count < CDS_MEMO_MAX && n <= 16) {
		m->e[m->count].set = set;
		m->e[m->count].dnskey = dnskey;
		memcpy(m->e[m->count].ds, ds, n * sizeof(*ds));
		m->e[m->count].n = n;
		m->e[m->count].st = st;
		m->count++;
	}
	return st;
}

bool cds_memo_authenticates(struct cds_memo *m, const struct cds_server_result *sr,
			    const struct cds_ds *ds, size_t n)
{
	const struct cds_rrset *dnskey = &sr->sets[CDS_Q_DNSKEY];
	return cds_memo_validate(m, dnskey, dnskey, ds, n) == CDS_DNSSEC_SECURE;
}


long cds_policy_first_unauthenticated(struct cds_memo *m, const struct cds_scan_result *res)
{
	const struct cds_delegation *d = res->delegation;
	for (size_t i = 0; i < res->server_count; i++)
		if (!cds_memo_authenticates(m, &res->servers[i], d->ds, d->ds_count))
			return (long)i;
	return -1;
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

int cds_policy_decide(const struct cds_scan_result *res, const struct cds_conf *conf,
		      time_t now, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->domain, sizeof(v->domain), "%s", d->domain);
	v->checked_at = now;
	for (size_t i = 0; i < d->ns_count; i++)
		if (cds_strlist_add(&v->ns, d->ns[i].name) != 0)
			return CDS_ENOMEM;
	for (size_t i = 0; i < d->ds_count; i++)
		if (cds_ds_text_add(&v->ds, &d->ds[i]) != 0)
			return CDS_ENOMEM;
	/* Only count needs a value: the entries are written before read. */
	struct cds_memo *memo = malloc(sizeof(*memo));
	if (!memo)
		return CDS_ENOMEM;
	memo->count = 0;
	memo->owner = d->domain;
	memo->now = now;
	if ((r = current_glue(d, v)) != 0 || (r = fill_servers(res, v)) != 0 ||
	    (r = cds_policy_decide_ds(res, conf, memo, v)) != 0 ||
	    (r = cds_policy_decide_ns(res, conf, memo, v)) != 0)
		cds_verdict_clear(v);
	free(memo);
	return r;
}

bool cds_policy_reject_unusable(const struct cds_scan_result *res, const struct cds_verdict *v,
				struct cds_verdict_side *side)
{
	for (size_t i = 0; i < res->server_count; i++) {
		if (!res->servers[i].ok) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE, "%s: %s",
					   cds_policy_where(&v->servers[i]), res->servers[i].error);
			return true;
		}
	}
	return false;
}
