/* Test helper: scan results made by hand for the policy tests (see
 * testscan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"
#include "testscan.h"

/* A helper that cannot do what the test asked is a broken test: stop. */
static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "testscan: %s\n", what);
		abort();
	}
}

static size_t key_count(const struct ts_key *const *k)
{
	size_t n = 0;
	while (k && n < 4 && k[n])
		n++;
	return n;
}

/* Read the signed answer to owner/type (records rrs[0..n), RRSIGs of
 * signers made by zone) into set, through the DNS layer's parser. */
static void answer_into(struct cds_rrset *set, const char *zone, const char *owner,
			uint16_t type, const struct ts_rr *rrs, size_t n,
			const struct ts_key *const *signers, time_t inception, time_t expiration)
{
	uint8_t m[4096];
	struct cds_answer_info info;
	size_t len = ts_answer_zone(m, zone, owner, type, 0, rrs, n, signers, key_count(signers),
				    inception, expiration);
	must(cds_answer_parse(m, len, owner, type, NULL, &info, set) == 0,
	     "an answer does not parse");
}

/* The apex answers of one server: SOA, DNSKEY, CDS, CDNSKEY, CSYNC, NS. */
static void serve_apex(const struct tscan *t, struct cds_server_result *srv,
		       const struct tscan_server *sp)
{
	time_t inc = t->now - 3600, exp = t->now + 30 * 86400;
	time_t si = sp->signal_inception ? sp->signal_inception : inc;
	time_t se = sp->signal_expiration ? sp->signal_expiration : exp;
	struct ts_rr soa, keys[4];
	size_t nk = key_count(sp->dnskey);
	ts_rr_soa(&soa, sp->soa_serial);
	for (size_t i = 0; i < nk; i++)
		ts_rr_dnskey(&keys[i], CDS_T_DNSKEY, sp->dnskey[i]);
	answer_into(&srv->sets[CDS_Q_SOA], t->zone, t->zone, CDS_T_SOA, &soa, 1, sp->signers, inc,
		    exp);
	answer_into(&srv->sets[CDS_Q_DNSKEY], t->zone, t->zone, CDS_T_DNSKEY, keys, nk,
		    sp->signers, inc, exp);
	answer_into(&srv->sets[CDS_Q_CDS], t->zone, t->zone, CDS_T_CDS, sp->cds, sp->ncds,
		    sp->signal_signers, si, se);
	answer_into(&srv->sets[CDS_Q_CDNSKEY], t->zone, t->zone, CDS_T_CDNSKEY, sp->cdnskey,
		    sp->ncdnskey, sp->signal_signers, si, se);
	answer_into(&srv->sets[CDS_Q_CSYNC], t->zone, t->zone, CDS_T_CSYNC, sp->csync, sp->ncsync,
		    sp->signal_signers, si, se);
	answer_into(&srv->sets[CDS_Q_NS], t->zone, t->zone, CDS_T_NS, sp->ns, sp->nns, sp->signers,
		    inc, exp);
}

/* One host's A or AAAA answer: its addresses of that type. */
/* NODATA for owner/type: with an NSEC at owner whose bitmap holds the
 * types present (RFC 4035 §3.1.3.1), signed by signers, unless unproven. */
static void empty_into(const struct tscan *t, struct cds_rrset *set, const char *owner,
		       uint16_t type, const uint16_t *present, size_t npresent,
		       const struct ts_key *const *signers, bool unproven)
{
	uint8_t m[4096];
	struct cds_answer_info info;
	struct ts_auth nsec;
	uint16_t types[8];
	size_t n = 0;
	for (size_t i = 0; i < npresent && n < 6; i++)
		types[n++] = present[i];
	types[n++] = CDS_T_RRSIG;
	types[n++] = 47; /* NSEC */
	snprintf(nsec.owner, sizeof(nsec.owner), "%s", owner);
	ts_rr_nsec(&nsec.rr, t->zone, types, n);
	size_t len = ts_answer_denial(m, t->zone, owner, type, 0, &nsec, unproven ? 0 : 1, signers,
				      key_count(signers), t->now - 3600, t->now + 30 * 86400);
	must(cds_answer_parse(m, len, owner, type, NULL, &info, set) == 0,
	     "a NODATA does not parse");
}

static void serve_host(const struct tscan *t, struct cds_rrset *set, const struct tscan_host *h,
		       uint16_t type, const struct tscan_csync *cs)
{
	struct ts_rr rrs[4];
	uint16_t present[4];
	size_t n = 0, np = 0;
	for (size_t i = 0; i < 4 && h->addrs[i]; i++) {
		must(ts_rr_addr(&rrs[n], h->addrs[i]) == 0, h->addrs[i]);
		if (rrs[n].type == type)
			n++;
		else if (np == 0)
			present[np++] = rrs[n].type;
	}
	if (n == 0)
		empty_into(t, set, h->name, type, present, np, cs->signers, cs->unproven_empty);
	else
		answer_into(set, t->zone, h->name, type, rrs, n, cs->signers, t->now - 3600,
			    t->now + 30 * 86400);
}

/* The CSYNC data of one server, as scanner.c collects it (csync_fetch,
 * csync_after): sets present only for the types asked. */
static struct cds_csync_data *csync_data(const struct tscan *t, const struct tscan_server *sp,
					 const struct tscan_csync *cs)
{
	struct cds_csync_data *c = calloc(1, sizeof(*c));
	must(c != NULL, "out of memory");
	c->ok = cs->error == NULL;
	if (cs->error)
		snprintf(c->error, sizeof(c->error), "%s", cs->error);
	static const uint16_t apex_types[] = {CDS_T_SOA, CDS_T_DNSKEY};
	if (cs->ns && sp->nns == 0)
		empty_into(t, &c->ns, t->zone, CDS_T_NS, apex_types, 2, cs->signers,
			   cs->unproven_empty);
	else if (cs->ns)
		answer_into(&c->ns, t->zone, t->zone, CDS_T_NS, sp->ns, sp->nns, cs->signers,
			    t->now - 3600, t->now + 30 * 86400);
	c->hosts = calloc(cs->host_count ? cs->host_count : 1, sizeof(*c->hosts));
	must(c->hosts != NULL, "out of memory");
	c->host_count = cs->host_count;
	for (size_t h = 0; h < cs->host_count; h++) {
		snprintf(c->hosts[h].name, sizeof(c->hosts[h].name), "%s", cs->hosts[h].name);
		if (cs->a)
			serve_host(t, &c->hosts[h].a, &cs->hosts[h], CDS_T_A, cs);
		if (cs->aaaa)
			serve_host(t, &c->hosts[h].aaaa, &cs->hosts[h], CDS_T_AAAA, cs);
	}
	c->soa_after = true;
	c->soa_serial_after = cs->soa_serial_after ? cs->soa_serial_after : sp->soa_serial;
	return c;
}

int tscan_keys_new(struct tscan_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (ts_key_new(&k->ka, 257) || ts_key_new(&k->kb, 257) || ts_key_new(&k->kc, 257) ||
	    ts_key_new(&k->zsk, 256) || ts_key_new_alg(&k->ed, 257, 15)) {
		tscan_keys_free(k);
		return -1;
	}
	return 0;
}

void tscan_keys_free(struct tscan_keys *k)
{
	ts_key_free(&k->ka);
	ts_key_free(&k->kb);
	ts_key_free(&k->kc);
	ts_key_free(&k->zsk);
	ts_key_free(&k->ed);
}

int tscan_case_setup(void **state)
{
	struct tscan_case *c = calloc(1, sizeof(*c));
	if (!c || cds_conf_init(&c->conf) != 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

int tscan_case_teardown(void **state)
{
	struct tscan_case *c = *state;
	if (c) {
		tscan_free(&c->t);
		cds_conf_deinit(&c->conf);
		free(c);
	}
	return 0;
}

void tscan_init(struct tscan *t, const char *zone, time_t now)
{
	memset(t, 0, sizeof(*t));
	t->zone = zone;
	t->now = now;
	snprintf(t->d.domain, sizeof(t->d.domain), "%s", zone);
}

void tscan_parent_ns(struct tscan *t, const char *name, const char *const *glue)
{
	must(t->d.ns_count < TSCAN_MAX, "too many NS names");
	struct cds_ns_entry *e = &t->ns[t->d.ns_count++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (size_t i = 0; glue && glue[i]; i++) {
		must(e->addr_count < CDS_NS_MAX_ADDRS, "too much glue");
		must(cds_addr_parse(glue[i], 53, &e->addrs[e->addr_count++]) == 0, glue[i]);
	}
}

void tscan_parent_ds(struct tscan *t, const struct cds_ds *ds)
{
	must(t->d.ds_count < TSCAN_MAX, "too many DS records");
	t->ds[t->d.ds_count++] = *ds;
}

struct cds_server_result *tscan_add_server(struct tscan *t, const struct tscan_server *sp,
					   const struct tscan_csync *cs)
{
	must(t->res.server_count < TSCAN_MAX, "too many servers");
	struct cds_server_result *srv = &t->servers[t->res.server_count++];
	memset(srv, 0, sizeof(*srv));
	snprintf(srv->name, sizeof(srv->name), "%s", sp->name);
	if (!sp->addr) {
		/* As scanner.c's job_query_all: nothing asked, unusable. */
		snprintf(srv->error, sizeof(srv->error), "no address for the NS name (no A or AAAA)");
		return srv;
	}
	must(cds_addr_parse(sp->addr, 53, &srv->addr) == 0, sp->addr);
	srv->has_addr = true;
	srv->ok = sp->error == NULL;
	if (sp->error)
		snprintf(srv->error, sizeof(srv->error), "%s", sp->error);
	srv->soa_serial = sp->soa_serial;
	serve_apex(t, srv, sp);
	/* All six apex answers, as scan.full-status asks (a test of the
	 * probe alone clears it and the sets the probe does not ask). */
	t->res.apex_asked = true;
	if (!t->probe_dnskey[0])
		tscan_probe_keys(t, sp->dnskey, sp->signers);
	if (cs)
		srv->csync = csync_data(t, sp, cs);
	return srv;
}

void tscan_add_probe(struct tscan *t, const char *name, const char *addr, uint32_t serial,
		     const char *error)
{
	must(t->res.probe_count < TSCAN_MAX, "too many probes");
	struct cds_server_result *p = &t->probes[t->res.probe_count++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (addr) {
		must(cds_addr_parse(addr, 53, &p->addr) == 0, addr);
		p->has_addr = true;
	}
	p->ok = error == NULL;
	if (error) {
		snprintf(p->error, sizeof(p->error), "%s", error);
		return;
	}
	struct ts_rr soa, keys[4];
	size_t nk = key_count(t->probe_dnskey);
	ts_rr_soa(&soa, serial);
	answer_into(&p->sets[CDS_Q_SOA], t->zone, t->zone, CDS_T_SOA, &soa, 1, NULL, 0, 0);
	p->soa_serial = serial;
	for (size_t i = 0; i < nk; i++)
		ts_rr_dnskey(&keys[i], CDS_T_DNSKEY, t->probe_dnskey[i]);
	answer_into(&p->sets[CDS_Q_DNSKEY], t->zone, t->zone, CDS_T_DNSKEY, keys, nk,
		    t->probe_signers, t->now - 3600, t->now + 30 * 86400);
}

void tscan_probe_keys(struct tscan *t, const struct ts_key *const *keys,
		      const struct ts_key *const *signers)
{
	memset(t->probe_dnskey, 0, sizeof(t->probe_dnskey));
	memset(t->probe_signers, 0, sizeof(t->probe_signers));
	for (size_t i = 0; i < 4 && keys && keys[i]; i++)
		t->probe_dnskey[i] = keys[i];
	for (size_t i = 0; i < 4 && signers && signers[i]; i++)
		t->probe_signers[i] = signers[i];
}

struct cds_bootstrap_signal *tscan_add_signal(struct tscan *t, const char *ns,
					      const char *ns_zone, const struct ts_rr *cds,
					      size_t ncds, const struct ts_rr *cdnskey,
					      size_t ncdnskey)
{
	must(t->res.signal_count < TSCAN_MAX, "too many signals");
	struct cds_bootstrap_signal *sig = &t->signals[t->res.signal_count++];
	memset(sig, 0, sizeof(*sig));
	t->res.signals_asked = true;
	snprintf(sig->ns, sizeof(sig->ns), "%s", ns);
	snprintf(sig->zone, sizeof(sig->zone), "%s", ns_zone);
	sig->zone_status = CDS_DNSSEC_SECURE;
	char qname[2 * CDS_DNAME_BUFSIZE];
	snprintf(qname, sizeof(qname), "_dsboot.%s_signal.%s", t->zone, ns);
	const struct ts_rr *rrs[2] = {cds, cdnskey};
	const size_t n[2] = {ncds, ncdnskey};
	for (int k = 0; k < 2; k++) {
		if (n[k] == 0) {
			/* As trust.c reports NODATA. */
			sig->missing[k] = true;
			sig->status[k] = CDS_DNSSEC_INDETERMINATE;
			snprintf(sig->why[k], sizeof(sig->why[k]), "no such record (NODATA)");
			continue;
		}
		/* The resolver's answer; the scanner keeps its records only. */
		struct cds_rrset set;
		answer_into(&set, ns_zone, qname, k ? CDS_T_CDNSKEY : CDS_T_CDS, rrs[k], n[k], NULL,
			    0, 0);
		must(cds_rrset_copy_records(&set, &sig->sets[k]) == 0, "out of memory");
		cds_rrset_clear(&set);
		sig->status[k] = CDS_DNSSEC_SECURE;
	}
	return sig;
}

int tscan_decide(struct tscan *t, const struct cds_conf *conf)
{
	t->d.ns = t->ns;
	t->d.ds = t->ds;
	t->res.delegation = &t->d;
	t->res.servers = t->servers;
	t->res.probes = t->res.probe_count ? t->probes : NULL;
	t->res.signals = t->res.signal_count || t->res.signals_asked ? t->signals : NULL;
	t->res.scanned_at = t->now;
	cds_verdict_clear(&t->v);
	int r = cds_policy_decide(&t->res, conf, t->now, &t->v);
	/* TSCAN_DUMP=1 shows every verdict, for writing and debugging tests. */
	if (r == 0 && getenv("TSCAN_DUMP"))
		cds_verdict_print_json(&t->v, stderr);
	return r;
}

void tscan_free(struct tscan *t)
{
	for (size_t i = 0; i < t->res.server_count; i++) {
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&t->servers[i].sets[k]);
		cds_csync_data_free(t->servers[i].csync);
		t->servers[i].csync = NULL;
	}
	for (size_t i = 0; i < t->res.probe_count; i++)
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&t->probes[i].sets[k]);
	for (size_t i = 0; i < t->res.signal_count; i++)
		for (int k = 0; k < 2; k++)
			cds_rrset_clear(&t->signals[i].sets[k]);
	cds_verdict_clear(&t->v);
}

void tscan_ds_text(const struct ts_key *k, const char *zone, uint8_t dt,
		   char buf[CDS_DS_TEXT_MAX])
{
	struct cds_ds ds;
	ts_key_ds(k, zone, dt, &ds);
	cds_ds_format(&ds, buf);
}

int tscan_side_check(const struct cds_verdict_side *side, enum cds_action action,
		     const char *code, const char *detail, char *msg, size_t len)
{
	const char *got = side->reason_count ? cds_reason_code(side->reasons[0]) : "(none)";
	if (side->action == action && strcmp(got, code) == 0 &&
	    (!detail || strstr(side->detail, detail)))
		return 0;
	snprintf(msg, len, "got %s/%s (detail \"%s\"), want %s/%s%s%s%s",
		 cds_action_name(side->action), got, side->detail, cds_action_name(action), code,
		 detail ? " with \"" : "", detail ? detail : "", detail ? "\" in the detail" : "");
	return -1;
}

int tscan_list_check(const struct cds_strlist *l, const char *const *want, char *msg,
		     size_t len)
{
	size_t n = 0;
	bool ok = true;
	for (; want[n]; n++)
		ok = ok && cds_strlist_contains(l, want[n]);
	if (ok && n == l->n)
		return 0;
	size_t o = (size_t)snprintf(msg, len, "list [");
	for (size_t i = 0; i < l->n && o < len; i++)
		o += (size_t)snprintf(msg + o, len - o, "%s%s", i ? ", " : "", l->v[i]);
	if (o < len)
		o += (size_t)snprintf(msg + o, len - o, "], want [");
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(msg + o, len - o, "%s%s", i ? ", " : "", want[i]);
	if (o < len)
		snprintf(msg + o, len - o, "]");
	return -1;
}
