/* NS-side decisions: CSYNC (RFC 7477) with the rules of RFC 9975 §3.2 —
 * every address consistent, everything DNSSEC-valid through the current DS
 * set, the SOA unchanged while the data was read, and a new NS set that
 * serves the zone before the parent points to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/policy.h"
#include "policy_internal.h"

/* The addresses of one host as a text list (sorted), from A or AAAA sets. */
static int addrs_add(struct cds_strlist *l, const struct cds_rrset *set)
{
	for (size_t k = 0; k < set->count; k++) {
		struct cds_addr a;
		char txt[64];
		if (cds_addr_from_rdata(set->rdata[k].data, set->rdata[k].len, 53, &a) != 0)
			continue;
		cds_addr_format(&a, txt, sizeof(txt));
		if (cds_strlist_add(l, txt) != 0)
			return CDS_ENOMEM;
	}
	return 0;
}

/* An address text of one family (IPv6 texts hold a colon). */
static bool is_v6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

static const struct cds_csync_host *host_find(const struct cds_csync_data *c, const char *name)
{
	for (size_t h = 0; h < c->host_count; h++)
		if (strcmp(c->hosts[h].name, name) == 0)
			return &c->hosts[h];
	return NULL;
}

static const struct cds_verdict_glue *glue_of(const struct cds_verdict *v, const char *name)
{
	for (size_t i = 0; i < v->glue_current_count; i++)
		if (strcmp(v->glue_current[i].name, name) == 0)
			return &v->glue_current[i];
	return NULL;
}

/* Was (name, addr) asked already, in the scan of the current delegation? */
static bool server_asked(const struct cds_verdict *v, const char *name, const char *addr)
{
	for (size_t i = 0; i < v->server_count; i++)
		if (strcmp(v->servers[i].name, name) == 0 &&
		    strcmp(v->servers[i].address, addr) == 0)
			return true;
	return false;
}

/*
 * Does (name, addr) — addr NULL: every address of name — serve the zone
 * with the SOA serial of the current servers?  Probes were sent by the
 * scanner for every address a CSYNC adds.  On failure, why says so.
 */
static bool probe_ok(const struct cds_scan_result *res, const char *name, const char *addr,
		     uint32_t serial, char *why, size_t whylen)
{
	bool found = false;
	for (size_t i = 0; i < res->probe_count; i++) {
		const struct cds_server_result *p = &res->probes[i];
		char txt[64] = "";
		if (strcmp(p->name, name) != 0)
			continue;
		if (p->has_addr)
			cds_addr_format(&p->addr, txt, sizeof(txt));
		if (addr && strcmp(txt, addr) != 0)
			continue;
		found = true;
		if (!p->ok) {
			snprintf(why, whylen, "%s (%s): %s", name, txt[0] ? txt : "no address",
				 p->error);
			return false;
		}
		if (p->soa_serial != serial) {
			snprintf(why, whylen, "%s (%s) serves SOA serial %u, the zone's servers %u",
				 name, txt, p->soa_serial, serial);
			return false;
		}
	}
	if (!found)
		snprintf(why, whylen, "%s%s%s was not asked", name, addr ? " " : "", addr ? addr : "");
	return found;
}

/* Validate one RRset of the CSYNC data at server i: 0 valid, else the
 * reason (csync-not-signed / csync-bogus) with the detail written. */
static enum cds_reason data_valid(struct cds_memo *memo, const struct cds_scan_result *res,
				  size_t i, const struct cds_rrset *set, const char *what,
				  const struct cds_verdict *v, char *why, size_t whylen)
{
	const struct cds_delegation *d = res->delegation;
	if (set->count == 0)
		return CDS_R_COUNT; /* nothing there to be valid: NODATA */
	if (set->sig_count == 0) {
		snprintf(why, whylen, "%s at %s has no RRSIG", what,
			 cds_policy_where(&v->servers[i]));
		return CDS_R_CSYNC_NOT_SIGNED;
	}
	if (cds_memo_validate(memo, set, &res->servers[i].sets[CDS_Q_DNSKEY], d->ds,
			      d->ds_count) != CDS_DNSSEC_SECURE) {
		snprintf(why, whylen, "%s at %s does not validate with the DNSKEY RRset", what,
			 cds_policy_where(&v->servers[i]));
		return CDS_R_CSYNC_BOGUS;
	}
	return CDS_R_COUNT;
}

static void glue_free(struct cds_verdict_glue *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cds_strlist_clear(&g[i].addresses);
	free(g);
}

/* Proposed NS and glue back to the parent's: nothing changes. */
static int proposal_reset(struct cds_verdict *v)
{
	struct cds_verdict_side *side = &v->ns_side;
	glue_free(v->glue, v->glue_count);
	v->glue = NULL;
	v->glue_count = 0;
	cds_strlist_clear(&side->proposed);
	for (size_t k = 0; k < side->current.n; k++)
		if (cds_strlist_add(&side->proposed, side->current.v[k]) != 0)
			return CDS_ENOMEM;
	for (size_t i = 0; i < v->glue_current_count; i++) {
		const struct cds_verdict_glue *cur = &v->glue_current[i];
		struct cds_verdict_glue *g = cds_verdict_glue_add(&v->glue, &v->glue_count, cur->name);
		if (!g)
			return CDS_ENOMEM;
		for (size_t k = 0; k < cur->addresses.n; k++)
			if (cds_strlist_add(&g->addresses, cur->addresses.v[k]) != 0)
				return CDS_ENOMEM;
	}
	return 0;
}

static int decide_csync(const struct cds_scan_result *res, const struct cds_conf *conf,
			struct cds_memo *memo, struct cds_verdict *v);

int cds_policy_decide_ns(const struct cds_scan_result *res, const struct cds_conf *conf,
			 struct cds_memo *memo, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ns_side;
	for (size_t i = 0; i < d->ns_count; i++)
		if (cds_strlist_add(&side->current, d->ns[i].name) != 0)
			return CDS_ENOMEM;
	if (proposal_reset(v) != 0)
		return CDS_ENOMEM;
	if (d->opted_out) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_OPTED_OUT, NULL);
		return 0;
	}
	bool csync = false;
	for (size_t i = 0; i < res->server_count; i++)
		csync |= res->servers[i].sets[CDS_Q_CSYNC].count > 0;
	if (!csync) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_NO_CSYNC, NULL);
		return 0;
	}
	if (!conf->policy.csync) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_CSYNC_NOT_PROCESSED,
				   "policy.csync is false");
		return 0;
	}
	return decide_csync(res, conf, memo, v);
}

/* The CSYNC stages; the first that fails decides. */
static int decide_csync(const struct cds_scan_result *res, const struct cds_conf *conf,
			struct cds_memo *memo, struct cds_verdict *v)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_verdict_side *side = &v->ns_side;
	char why[400];
	(void)conf;

	if (cds_policy_reject_unusable(res, v, side))
		return 0;
	const struct cds_server_result *ref = &res->servers[0];
	for (size_t i = 1; i < res->server_count; i++) {
		if (!cds_rrset_equal(&ref->sets[CDS_Q_CSYNC], &res->servers[i].sets[CDS_Q_CSYNC])) {
			snprintf(why, sizeof(why), "%s", cds_policy_where(&v->servers[0]));
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_INCONSISTENT,
					   "CSYNC at %s differs from CSYNC at %s",
					   cds_policy_where(&v->servers[i]), why);
			return 0;
		}
	}
	const struct cds_rrset *cset = &ref->sets[CDS_Q_CSYNC];
	if (cset->count > 1) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_MULTIPLE,
				   "%zu CSYNC records at the apex", cset->count);
		return 0;
	}
	/* RFC 7477 §3.1: the CSYNC and the data must be DNSSEC-valid through
	 * the parent's current DS set. */
	if (d->ds_count == 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_NOT_SIGNED,
				   "the delegation is insecure (no DS): the CSYNC cannot be "
				   "authenticated");
		return 0;
	}
	long bad = cds_policy_first_unauthenticated(memo, res);
	if (bad >= 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_BOGUS,
				   "the DNSKEY RRset at %s is not authenticated by the current DS set",
				   cds_policy_where(&v->servers[bad]));
		return 0;
	}
	for (size_t i = 0; i < res->server_count; i++) {
		enum cds_reason r = data_valid(memo, res, i, &res->servers[i].sets[CDS_Q_CSYNC],
					       "CSYNC", v, why, sizeof(why));
		if (r != CDS_R_COUNT) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, r, "%s", why);
			return 0;
		}
	}
	struct cds_csync cs;
	if (cds_csync_parse(cset->rdata[0].data, cset->rdata[0].len, &cs) != 0) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_UNKNOWN_TYPE,
				   "the CSYNC type bitmap is malformed");
		return 0;
	}
	if (cs.flags & ~(CDS_CSYNC_IMMEDIATE | CDS_CSYNC_SOAMINIMUM)) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_UNKNOWN_FLAGS,
				   "CSYNC flags 0x%04x hold bits other than immediate (1) and "
				   "soaminimum (2)",
				   cs.flags);
		return 0;
	}
	if (cs.other_type) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_UNKNOWN_TYPE,
				   "the CSYNC type bitmap names type %u; only NS, A and AAAA are "
				   "processed (RFC 7477 §2: then nothing is)",
				   cs.other_type);
		return 0;
	}
	if (!(cs.flags & CDS_CSYNC_IMMEDIATE)) {
		/* RFC 7477 §2.1.1.2: wait for the operator's approval.  The
		 * stored verdict records the request for that approval. */
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_CSYNC_NOT_IMMEDIATE,
				   "CSYNC serial %u asks for%s%s%s without the immediate flag",
				   cs.serial, cs.ns ? " NS" : "", cs.a ? " A" : "", cs.aaaa ? " AAAA" : "");
		return 0;
	}
	/* RFC 7477 §2.1.1.2.1: soaminimum, per server against its own SOA. */
	if (cs.flags & CDS_CSYNC_SOAMINIMUM) {
		for (size_t i = 0; i < res->server_count; i++) {
			enum cds_serial_order o =
				cds_serial_compare(res->servers[i].soa_serial, cs.serial);
			if (o == CDS_SERIAL_LESS || o == CDS_SERIAL_UNDEFINED) {
				cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_SOA_SERIAL,
						   "SOA serial %u at %s is %s CSYNC serial %u",
						   res->servers[i].soa_serial,
						   cds_policy_where(&v->servers[i]),
						   o == CDS_SERIAL_LESS ? "below" : "not comparable to",
						   cs.serial);
				return 0;
			}
		}
	}
	if (!cs.ns && !cs.a && !cs.aaaa) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_CSYNC_UNCHANGED,
				   "the CSYNC type bitmap names no type");
		return 0;
	}
	/* The data read after the first SOA, and the SOA after the data. */
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		const struct cds_csync_data *c = sr->csync;
		if (!c) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE,
					   "%s: the CSYNC data was not collected",
					   cds_policy_where(&v->servers[i]));
			return 0;
		}
		if (!c->ok) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE, "%s: %s",
					   cds_policy_where(&v->servers[i]), c->error);
			return 0;
		}
		if (!c->soa_after || c->soa_serial_after != sr->soa_serial ||
		    (cs.ns && !cds_rrset_equal(&c->ns, &sr->sets[CDS_Q_NS]))) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_SERIAL_CHANGED,
					   "the zone changed at %s while it was read (SOA serial "
					   "%u, then %u)",
					   cds_policy_where(&v->servers[i]), sr->soa_serial,
					   c->soa_serial_after);
			return 0;
		}
	}
	/* Every address must serve the same data (RFC 9975 §3). */
	const struct cds_csync_data *c0 = ref->csync;
	for (size_t i = 1; i < res->server_count; i++) {
		const struct cds_csync_data *c = res->servers[i].csync;
		const char *what = NULL;
		if (cs.ns && !cds_rrset_equal(&c->ns, &c0->ns))
			what = "the NS RRset";
		for (size_t h = 0; !what && h < c0->host_count; h++) {
			const struct cds_csync_host *a = &c0->hosts[h];
			const struct cds_csync_host *b = host_find(c, a->name);
			if (!b || !cds_rrset_equal(&a->a, &b->a) || !cds_rrset_equal(&a->aaaa, &b->aaaa))
				what = a->name;
		}
		if (!what && c->host_count != c0->host_count)
			what = "the set of in-bailiwick names";
		if (what) {
			snprintf(why, sizeof(why), "%s", cds_policy_where(&v->servers[0]));
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_INCONSISTENT,
					   "%s at %s differs from %s", what,
					   cds_policy_where(&v->servers[i]), why);
			return 0;
		}
	}
	/* Everything copied must be DNSSEC-valid too. */
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_csync_data *c = res->servers[i].csync;
		enum cds_reason r = data_valid(memo, res, i, &c->ns, "NS", v, why, sizeof(why));
		for (size_t h = 0; r == CDS_R_COUNT && h < c->host_count; h++) {
			char what[CDS_DNAME_BUFSIZE + 8];
			snprintf(what, sizeof(what), "A %s", c->hosts[h].name);
			r = data_valid(memo, res, i, &c->hosts[h].a, what, v, why, sizeof(why));
			if (r == CDS_R_COUNT) {
				snprintf(what, sizeof(what), "AAAA %s", c->hosts[h].name);
				r = data_valid(memo, res, i, &c->hosts[h].aaaa, what, v, why,
					       sizeof(why));
			}
		}
		if (r != CDS_R_COUNT) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, r, "%s", why);
			return 0;
		}
	}
	/* NS first (RFC 7477 §3.2.1) ... */
	if (cs.ns) {
		cds_strlist_clear(&side->proposed);
		for (size_t k = 0; k < c0->ns.count; k++) {
			char name[CDS_DNAME_BUFSIZE];
			if (cds_dname_from_wire(c0->ns.rdata[k].data, c0->ns.rdata[k].len, name) != 0) {
				cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_BAD_HOST_NAME,
						   "an NS record of the child names no host name");
				return 0;
			}
			if (cds_strlist_add(&side->proposed, name) != 0)
				return CDS_ENOMEM;
		}
		if (side->proposed.n == 0) {
			cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_EMPTY_NS,
					   "the child serves no NS RRset");
			return proposal_reset(v);
		}
		cds_strlist_sort(&side->proposed);
	}
	/* ... then glue, for in-bailiwick names only (§3.2.2); out-of-bailiwick
	 * names carry none, and sibling glue is not this zone's to change. */
	struct cds_verdict_glue *glue = NULL;
	size_t glue_count = 0;
	int rc = 0;
	const char *missing = NULL;
	for (size_t k = 0; k < side->proposed.n && rc == 0 && !missing; k++) {
		const char *name = side->proposed.v[k];
		if (!cds_dname_is_subdomain(name, d->domain))
			continue;
		struct cds_verdict_glue *g = cds_verdict_glue_add(&glue, &glue_count, name);
		if (!g) {
			rc = CDS_ENOMEM;
			break;
		}
		const struct cds_csync_host *h = host_find(c0, name);
		const struct cds_verdict_glue *old = glue_of(v, name);
		/* A type not in the bitmap keeps the parent's addresses. */
		if (cs.a && h)
			rc = addrs_add(&g->addresses, &h->a);
		if (cs.aaaa && h && rc == 0)
			rc = addrs_add(&g->addresses, &h->aaaa);
		for (size_t a = 0; old && a < old->addresses.n && rc == 0; a++) {
			bool v6 = is_v6(old->addresses.v[a]);
			if ((v6 && !cs.aaaa) || (!v6 && !cs.a))
				rc = cds_strlist_add(&g->addresses, old->addresses.v[a]);
		}
		cds_strlist_sort(&g->addresses);
		if (rc == 0 && g->addresses.n == 0)
			missing = name;
	}
	if (rc == 0 && missing) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_NO_GLUE,
				   "%s is in the zone and has no address%s", missing,
				   cs.a || cs.aaaa ? "" : " at the parent");
	}
	if (rc != 0 || missing) {
		glue_free(glue, glue_count);
		/* The rejected proposal is not shown as proposed. */
		return rc != 0 ? rc : proposal_reset(v);
	}
	/* The proposal replaces the parent's glue in the verdict. */
	glue_free(v->glue, v->glue_count);
	v->glue = glue;
	v->glue_count = glue_count;

	bool glue_same = v->glue_count == v->glue_current_count;
	for (size_t i = 0; glue_same && i < v->glue_count; i++) {
		const struct cds_verdict_glue *old = glue_of(v, v->glue[i].name);
		glue_same = old && cds_strlist_equal(&old->addresses, &v->glue[i].addresses);
	}
	if (glue_same && cds_strlist_equal(&side->proposed, &side->current)) {
		cds_verdict_decide(side, CDS_ACTION_NONE, CDS_R_CSYNC_UNCHANGED, NULL);
		return 0;
	}
	/* The new set must serve the zone before the parent points to it: every
	 * address not asked already answers with the same SOA serial. */
	bool serving = true;
	for (size_t k = 0; k < side->proposed.n && serving; k++) {
		const char *name = side->proposed.v[k];
		if (!cds_dname_is_subdomain(name, d->domain)) {
			if (!cds_strlist_contains(&side->current, name))
				serving = probe_ok(res, name, NULL, ref->soa_serial, why, sizeof(why));
			continue;
		}
		for (size_t i = 0; i < v->glue_count && serving; i++) {
			if (strcmp(v->glue[i].name, name) != 0)
				continue;
			for (size_t a = 0; a < v->glue[i].addresses.n && serving; a++) {
				const char *addr = v->glue[i].addresses.v[a];
				if (!server_asked(v, name, addr))
					serving = probe_ok(res, name, addr, ref->soa_serial, why,
							   sizeof(why));
			}
		}
	}
	if (!serving) {
		cds_verdict_decide(side, CDS_ACTION_REJECT, CDS_R_CSYNC_NS_NOT_SERVING, "%s", why);
		return proposal_reset(v);
	}
	cds_verdict_decide(side, CDS_ACTION_UPDATE, CDS_R_NS_UPDATED, NULL);
	return cds_verdict_side_diff(side);
}
