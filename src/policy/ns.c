/* NS-side decisions: CSYNC (RFC 7477) with the rules of RFC 9975 §3.2 —
 * every address consistent, everything DNSSEC-valid through the current DS
 * set, the SOA unchanged while the data was read, and a new NS set that
 * serves the zone before the parent points to it.  Each rule is a stage;
 * the first that decides ends the side.  The rules about the CSYNC record
 * itself are also what cds_policy_csync_actionable asks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "policy_internal.h"

/* ------------------------------------------- the CSYNC record's rules --- */

/* RFC 7477 §2.1.1.2: flag bits this implementation knows. */
static bool csync_flags_known(const struct cds_csync *cs)
{
	return !(cs->flags & ~(CDS_CSYNC_IMMEDIATE | CDS_CSYNC_SOAMINIMUM));
}

/* RFC 7477 §2: a type other than NS, A, AAAA means no action at all. */
static bool csync_types_known(const struct cds_csync *cs)
{
	return cs->other_type == 0;
}

static bool csync_immediate(const struct cds_csync *cs)
{
	return cs->flags & CDS_CSYNC_IMMEDIATE;
}

static bool csync_names_a_type(const struct cds_csync *cs)
{
	return cs->ns || cs->a || cs->aaaa;
}

/* RFC 9975 §3.2: CSYNC records agree when their immediate flag (and every
 * other flag cdscan would act on) and type bitmap are equal; the SOA serial
 * field and the soaminimum flag may differ (independent providers keep
 * their own serials) and are judged per server. */
static bool csync_equivalent(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (a->count != 1 || b->count != 1)
		return a->count == b->count && cds_rrset_equal(a, b);
	const struct cds_rdata *x = &a->rdata[0], *y = &b->rdata[0];
	if (x->len < 6 || y->len < 6)
		return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
	unsigned fx = (unsigned)(x->data[4] << 8 | x->data[5]) & ~CDS_CSYNC_SOAMINIMUM;
	unsigned fy = (unsigned)(y->data[4] << 8 | y->data[5]) & ~CDS_CSYNC_SOAMINIMUM;
	return fx == fy && x->len == y->len && memcmp(x->data + 6, y->data + 6, x->len - 6) == 0;
}

/* The first server whose CSYNC does not agree with the first server's, or
 * -1. */
static long first_csync_mismatch(const struct cds_scan_result *res)
{
	for (size_t i = 1; i < res->server_count; i++)
		if (!csync_equivalent(&res->servers[0].sets[CDS_Q_CSYNC],
				      &res->servers[i].sets[CDS_Q_CSYNC]))
			return (long)i;
	return -1;
}

/* RFC 7477 §2.1.1.2: an operator approved this CSYNC (domain approve-csync,
 * by the serial a server served). */
static bool csync_approved(const struct cds_scan_result *res)
{
	const struct cds_delegation *d = res->delegation;
	struct cds_csync cs;
	for (size_t i = 0; d->csync_approved && i < res->server_count; i++) {
		const struct cds_rrset *set = &res->servers[i].sets[CDS_Q_CSYNC];
		if (set->count == 1 &&
		    cds_csync_parse(set->rdata[0].data, set->rdata[0].len, &cs) == 0 &&
		    cs.serial == d->csync_approved_serial)
			return true;
	}
	return false;
}

bool cds_policy_csync_actionable(const struct cds_scan_result *res, const struct cds_conf *conf,
				 struct cds_csync *out)
{
	if (!conf->policy.csync || res->server_count == 0 || res->delegation->ds_count == 0)
		return false;
	for (size_t i = 0; i < res->server_count; i++)
		if (!res->servers[i].ok || res->servers[i].sets[CDS_Q_CSYNC].count != 1)
			return false;
	if (first_csync_mismatch(res) >= 0)
		return false;
	const struct cds_rdata *rd = &res->servers[0].sets[CDS_Q_CSYNC].rdata[0];
	return cds_csync_parse(rd->data, rd->len, out) == 0 && csync_flags_known(out) &&
	       csync_types_known(out) && (csync_immediate(out) || csync_approved(res)) &&
	       csync_names_a_type(out);
}

/* The addresses (with one) among res->probes of name. */
static size_t probe_addresses(const struct cds_scan_result *res, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < res->probe_count; i++)
		n += res->probes[i].has_addr && strcmp(res->probes[i].name, name) == 0;
	return n;
}

/* The first probed name with more addresses than max, or NULL. */
static const char *probe_name_over(const struct cds_scan_result *res, uint32_t max, size_t *n)
{
	for (size_t i = 0; i < res->probe_count; i++)
		if ((*n = probe_addresses(res, res->probes[i].name)) > max)
			return res->probes[i].name;
	return NULL;
}

/* The first in-bailiwick host of c with more addresses than max, or NULL. */
static const char *host_over(const struct cds_csync_data *c, uint32_t max, size_t *n)
{
	for (size_t h = 0; c && h < c->host_count; h++)
		if ((*n = c->hosts[h].a.count + c->hosts[h].aaaa.count) > max)
			return c->hosts[h].name;
	return NULL;
}

bool cds_policy_csync_within_limits(const struct cds_scan_result *res,
				    const struct cds_conf *conf, char *why, size_t whylen)
{
	uint32_t max_addr = conf->scan.csync_max_addresses;
	size_t n = 0, probes = 0;
	const char *name;
	for (size_t i = 0; i < res->server_count; i++) {
		const struct cds_server_result *sr = &res->servers[i];
		char addr[64] = "no address";
		if ((n = sr->sets[CDS_Q_NS].count) <= conf->scan.csync_max_ns)
			continue;
		if (sr->has_addr)
			cds_addr_format(&sr->addr, addr, sizeof(addr));
		snprintf(why, whylen,
			 "the child's NS RRset at %s (%s) has %zu names, above scan.csync-max-ns "
			 "(%u): its hosts are not looked up",
			 sr->name, addr, n, conf->scan.csync_max_ns);
		return false;
	}
	if ((name = host_over(res->server_count ? res->servers[0].csync : NULL, max_addr, &n)) ||
	    (name = probe_name_over(res, max_addr, &n))) {
		snprintf(why, whylen,
			 "%s has %zu addresses, above scan.csync-max-addresses (%u): they are not "
			 "probed",
			 name, n, max_addr);
		return false;
	}
	for (size_t i = 0; i < res->probe_count; i++)
		probes += res->probes[i].has_addr;
	if (probes <= conf->scan.csync_max_probes)
		return true;
	snprintf(why, whylen,
		 "the update adds %zu addresses to probe, above scan.csync-max-probes (%u): not "
		 "every new address is checked to serve the zone",
		 probes, conf->scan.csync_max_probes);
	return false;
}

/* ------------------------------------------------------------ stages --- */

static int reject(struct decision *dc, enum cds_reason r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Decide the side as rejected with reason r and the detail. */
static int reject(struct decision *dc, enum cds_reason r, const char *fmt, ...)
{
	char detail[sizeof(dc->side->detail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cds_verdict_decide(dc->side, CDS_ACTION_REJECT, r, "%s", detail);
	return STAGE_DECIDED;
}

static int stage_csync_published(struct decision *dc)
{
	for (size_t i = 0; i < dc->res->server_count; i++)
		if (dc->res->servers[i].sets[CDS_Q_CSYNC].count > 0)
			return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_NO_CSYNC, NULL);
	return STAGE_DECIDED;
}

static int stage_csync_enabled(struct decision *dc)
{
	if (dc->conf->policy.csync)
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_CSYNC_NOT_PROCESSED,
			   "policy.csync is false");
	return STAGE_DECIDED;
}

static int stage_csync_consistent(struct decision *dc)
{
	long i = first_csync_mismatch(dc->res);
	if (i < 0)
		return STAGE_PASS;
	return reject(dc, CDS_R_CSYNC_INCONSISTENT, "CSYNC at " WHERE_FMT " differs from CSYNC at " WHERE_FMT,
		      WHERE_ARGS(&dc->v->servers[i]), WHERE_ARGS(&dc->v->servers[0]));
}

static int stage_csync_single(struct decision *dc)
{
	size_t n = dc->res->servers[0].sets[CDS_Q_CSYNC].count;
	if (n <= 1)
		return STAGE_PASS;
	return reject(dc, CDS_R_CSYNC_MULTIPLE, "%zu CSYNC records at the apex", n);
}

/* RFC 7477 §3.1: the CSYNC and the data must be DNSSEC-valid through the
 * parent's current DS set. */
static int stage_csync_secure(struct decision *dc)
{
	if (dc->d->ds_count == 0)
		return reject(dc, CDS_R_CSYNC_NOT_SIGNED,
			      "the delegation is insecure (no DS): the CSYNC cannot be "
			      "authenticated");
	long bad = first_unauthenticated(dc);
	if (bad >= 0)
		return reject(dc, CDS_R_CSYNC_BOGUS,
			      "the DNSKEY RRset at " WHERE_FMT
			      " is not authenticated by the current DS set" LIMIT_FMT,
			      WHERE_ARGS(&dc->v->servers[bad]), LIMIT_ARGS(dc->memo));
	return STAGE_PASS;
}

/* One RRset of the CSYNC data at server i: valid, or decided
 * (csync-not-signed / csync-bogus).  An empty set (NODATA) passes. */
static int data_valid(struct decision *dc, size_t i, const struct cds_rrset *set,
		      const char *what, const char *name)
{
	if (set->count == 0)
		return STAGE_PASS;
	if (set->sig_count == 0)
		return reject(dc, CDS_R_CSYNC_NOT_SIGNED, "%s%s%s at " WHERE_FMT " has no RRSIG",
			      what, name ? " " : "", name ? name : "",
			      WHERE_ARGS(&dc->v->servers[i]));
	if (cds_memo_validate(dc->memo, set, &dc->res->servers[i].sets[CDS_Q_DNSKEY], dc->d->ds,
			      dc->d->ds_count) != CDS_DNSSEC_SECURE)
		return reject(dc, CDS_R_CSYNC_BOGUS,
			      "%s%s%s at " WHERE_FMT
			      " does not validate with the DNSKEY RRset" LIMIT_FMT,
			      what, name ? " " : "", name ? name : "",
			      WHERE_ARGS(&dc->v->servers[i]), LIMIT_ARGS(dc->memo));
	return STAGE_PASS;
}

static int stage_csync_signed(struct decision *dc)
{
	for (size_t i = 0; i < dc->res->server_count; i++) {
		int r = data_valid(dc, i, &dc->res->servers[i].sets[CDS_Q_CSYNC], "CSYNC", NULL);
		if (r != STAGE_PASS)
			return r;
	}
	return STAGE_PASS;
}

/* The record's own rules: parsable, known flags and types, immediate. */
static int stage_csync_record(struct decision *dc)
{
	const struct cds_rdata *rd = &dc->res->servers[0].sets[CDS_Q_CSYNC].rdata[0];
	struct cds_csync *cs = &dc->cs;
	if (cds_csync_parse(rd->data, rd->len, cs) != 0)
		return reject(dc, CDS_R_CSYNC_UNKNOWN_TYPE, "the CSYNC type bitmap is malformed");
	if (!csync_flags_known(cs))
		return reject(dc, CDS_R_CSYNC_UNKNOWN_FLAGS,
			      "CSYNC flags 0x%04x hold bits other than immediate (1) and "
			      "soaminimum (2)",
			      cs->flags);
	if (!csync_types_known(cs))
		return reject(dc, CDS_R_CSYNC_UNKNOWN_TYPE,
			      "the CSYNC type bitmap names type %u; only NS, A and AAAA are "
			      "processed (RFC 7477 §2: then nothing is)",
			      cs->other_type);
	if (csync_immediate(cs))
		return STAGE_PASS;
	if (csync_approved(dc->res)) {
		dc->approved = true; /* domain approve-csync: processed once */
		return STAGE_PASS;
	}
	/* RFC 7477 §2.1.1.2: wait for the operator's approval (domain
	 * approve-csync).  The stored verdict records the request. */
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_CSYNC_NOT_IMMEDIATE,
			   "CSYNC serial %u asks for%s%s%s without the immediate flag", cs->serial,
			   cs->ns ? " NS" : "", cs->a ? " A" : "", cs->aaaa ? " AAAA" : "");
	return STAGE_DECIDED;
}

/* RFC 7477 §2.1.1.2.1 with RFC 9975 §3.2: soaminimum, judged per server
 * with its own CSYNC serial against its own SOA; the servers' verdicts must
 * agree. */
static int stage_csync_soaminimum(struct decision *dc)
{
	long refused = -1, allowed = -1;
	uint32_t csync_serial = 0;
	for (size_t i = 0; i < dc->res->server_count; i++) {
		const struct cds_server_result *sr = &dc->res->servers[i];
		struct cds_csync cs;
		const struct cds_rdata *rd = &sr->sets[CDS_Q_CSYNC].rdata[0];
		bool ok = true;
		if (cds_csync_parse(rd->data, rd->len, &cs) == 0 &&
		    (cs.flags & CDS_CSYNC_SOAMINIMUM)) {
			enum cds_serial_order o = cds_serial_compare(sr->soa_serial, cs.serial);
			ok = o != CDS_SERIAL_LESS && o != CDS_SERIAL_UNDEFINED;
		}
		if (!ok && refused < 0) {
			refused = (long)i;
			csync_serial = cs.serial;
		}
		if (ok && allowed < 0)
			allowed = (long)i;
	}
	if (refused < 0)
		return STAGE_PASS;
	const struct cds_server_result *sr = &dc->res->servers[refused];
	if (allowed >= 0)
		return reject(dc, CDS_R_CSYNC_INCONSISTENT,
			      "soaminimum: SOA serial %u at " WHERE_FMT " is below its CSYNC serial "
			      "%u, while " WHERE_FMT " may be updated",
			      sr->soa_serial, WHERE_ARGS(&dc->v->servers[refused]), csync_serial,
			      WHERE_ARGS(&dc->v->servers[allowed]));
	return reject(dc, CDS_R_CSYNC_SOA_SERIAL,
		      "SOA serial %u at " WHERE_FMT " is below (or not comparable to) CSYNC serial %u",
		      sr->soa_serial, WHERE_ARGS(&dc->v->servers[refused]), csync_serial);
}

static int stage_csync_names_a_type(struct decision *dc)
{
	if (csync_names_a_type(&dc->cs))
		return STAGE_PASS;
	cds_verdict_decide(dc->side, CDS_ACTION_NONE, CDS_R_CSYNC_UNCHANGED,
			   "the CSYNC type bitmap names no type");
	return STAGE_DECIDED;
}

/* The data read after the first SOA, and the SOA after the data. */
static int stage_csync_collected(struct decision *dc)
{
	for (size_t i = 0; i < dc->res->server_count; i++) {
		const struct cds_server_result *sr = &dc->res->servers[i];
		const struct cds_csync_data *c = sr->csync;
		if (!c)
			return reject(dc, CDS_R_NS_UNREACHABLE,
				      WHERE_FMT ": the CSYNC data was not collected",
				      WHERE_ARGS(&dc->v->servers[i]));
		if (!c->ok)
			return reject(dc, CDS_R_NS_UNREACHABLE, WHERE_FMT ": %s",
				      WHERE_ARGS(&dc->v->servers[i]), c->error);
		if (!c->soa_after || c->soa_serial_after != sr->soa_serial ||
		    (dc->cs.ns && !cds_rrset_equal(&c->ns, &sr->sets[CDS_Q_NS])))
			return reject(dc, CDS_R_CSYNC_SERIAL_CHANGED,
				      "the zone changed at " WHERE_FMT
				      " while it was read (SOA serial %u, then %u)",
				      WHERE_ARGS(&dc->v->servers[i]), sr->soa_serial,
				      c->soa_serial_after);
	}
	dc->c0 = dc->res->servers[0].csync;
	return STAGE_PASS;
}

static const struct cds_csync_host *host_find(const struct cds_csync_data *c, const char *name)
{
	for (size_t h = 0; h < c->host_count; h++)
		if (strcmp(c->hosts[h].name, name) == 0)
			return &c->hosts[h];
	return NULL;
}

/* What c serves differently from c0, or NULL. */
static const char *data_difference(const struct cds_csync_data *c0,
				   const struct cds_csync_data *c, bool ns)
{
	if (ns && !cds_rrset_equal(&c->ns, &c0->ns))
		return "the NS RRset";
	for (size_t h = 0; h < c0->host_count; h++) {
		const struct cds_csync_host *a = &c0->hosts[h];
		const struct cds_csync_host *b = host_find(c, a->name);
		if (!b || !cds_rrset_equal(&a->a, &b->a) || !cds_rrset_equal(&a->aaaa, &b->aaaa))
			return a->name;
	}
	if (c->host_count != c0->host_count)
		return "the set of in-bailiwick names";
	return NULL;
}

/* Every address must serve the same data (RFC 9975 §3). */
static int stage_csync_data_consistent(struct decision *dc)
{
	for (size_t i = 1; i < dc->res->server_count; i++) {
		const char *what = data_difference(dc->c0, dc->res->servers[i].csync, dc->cs.ns);
		if (what)
			return reject(dc, CDS_R_CSYNC_INCONSISTENT, "%s at " WHERE_FMT " differs from " WHERE_FMT,
				      what, WHERE_ARGS(&dc->v->servers[i]),
				      WHERE_ARGS(&dc->v->servers[0]));
	}
	return STAGE_PASS;
}

/* Everything copied must be DNSSEC-valid too. */
/*
 * An empty answer for data a CSYNC points to counts as "none" only with a
 * validated denial of existence (RFC 4035 §5.4, RFC 5155 §8): an NSEC or
 * NSEC3 proof signed by the zone.  Without one (or with NSEC3 iterations
 * above limits.nsec3-max-iterations, RFC 9276) the parent's data for that
 * type is kept, and the detail says why.  Returns whether it is proven.
 */
static bool empty_proven(struct decision *dc, size_t i, const struct cds_rrset *set,
			 const char *what, const char *name)
{
	char why[200];
	if (!set->present || set->count > 0)
		return true;
	if (cds_dnssec_denial(dc->d->domain, set, &dc->res->servers[i].sets[CDS_Q_DNSKEY],
			      &dc->memo->work, why, sizeof(why)) == CDS_DNSSEC_SECURE)
		return true;
	if (!dc->kept_note[0])
		snprintf(dc->kept_note, sizeof(dc->kept_note),
			 "no %s%s%.100s at %.100s (%s) is not proven (%.120s): the parent's data is "
			 "kept",
			 what, name ? " for " : "", name ? name : "", dc->v->servers[i].name,
			 dc->v->servers[i].address, why);
	return false;
}

/* One server's data: every RRset valid, every empty one proven or kept. */
static int server_data_valid(struct decision *dc, size_t i)
{
	const struct cds_csync_data *c = dc->res->servers[i].csync;
	const struct cds_csync_data *c0 = dc->c0;
	int r = data_valid(dc, i, &c->ns, "NS", NULL);
	if (r == STAGE_PASS && !empty_proven(dc, i, &c->ns, "NS", NULL))
		dc->ns_kept = true;
	for (size_t h = 0; r == STAGE_PASS && h < c0->host_count; h++) {
		/* Every server serves the same names (data_difference). */
		const struct cds_csync_host *host = &c->hosts[h];
		r = data_valid(dc, i, &host->a, "A", host->name);
		if (r == STAGE_PASS)
			r = data_valid(dc, i, &host->aaaa, "AAAA", host->name);
		if (r == STAGE_PASS && !empty_proven(dc, i, &host->a, "A", host->name))
			dc->kept[2 * h] = true;
		if (r == STAGE_PASS && !empty_proven(dc, i, &host->aaaa, "AAAA", host->name))
			dc->kept[2 * h + 1] = true;
	}
	return r;
}

static int stage_csync_data_valid(struct decision *dc)
{
	free(dc->kept);
	dc->kept = calloc(2 * dc->c0->host_count + 1, sizeof(bool));
	if (!dc->kept)
		return CDS_ENOMEM;
	for (size_t i = 0; i < dc->res->server_count; i++) {
		int r = server_data_valid(dc, i);
		if (r != STAGE_PASS)
			return r;
	}
	return STAGE_PASS;
}

/* The apex NS RRset at every address (RFC 7477 §3.1): the names the CSYNC
 * data is asked for (in-bailiwick hosts) and new nameservers are probed
 * from come from it, so it must validate before anything is asked. */
static int stage_csync_ns_signed(struct decision *dc)
{
	for (size_t i = 0; i < dc->res->server_count; i++) {
		int r = data_valid(dc, i, &dc->res->servers[i].sets[CDS_Q_NS], "NS", NULL);
		if (r != STAGE_PASS)
			return r;
	}
	return STAGE_PASS;
}

/* What a CSYNC makes the scan ask stays within scan.csync-max-*: the child
 * could otherwise name thousands of hosts and addresses, each a query
 * (issue #16).  Checked before the data is fetched (the NS RRsets) and
 * after (addresses, probes), by the same predicate the scan asks. */
static int stage_csync_limits(struct decision *dc)
{
	char why[sizeof(dc->side->detail)];
	if (cds_policy_csync_within_limits(dc->res, dc->conf, why, sizeof(why)))
		return STAGE_PASS;
	return reject(dc, CDS_R_CSYNC_NS_NOT_SERVING, "%s", why);
}

/* The NS side up to the CSYNC data: what cds_policy_csync_fetch_allowed
 * runs before the scan asks for it, cheap rules first. */
static const stage_fn csync_stages_before_data[] = {
	stage_suspended,	stage_opted_out,	stage_csync_published,
	stage_csync_enabled,	stage_all_usable,	stage_csync_consistent,
	stage_csync_single,	stage_csync_secure,	stage_csync_signed,
	stage_csync_record,	stage_csync_soaminimum, stage_csync_names_a_type,
	stage_csync_limits,	stage_csync_ns_signed,
};

/* ... and with the data. */
static const stage_fn csync_stages_with_data[] = {
	stage_csync_collected, stage_csync_data_consistent, stage_csync_data_valid,
	stage_csync_limits,    ns_propose,
};

int decide_ns_before_data(struct decision *dc)
{
	return RUN_STAGES(csync_stages_before_data, dc);
}

int decide_ns(struct decision *dc)
{
	struct cds_verdict_side *side = dc->side;
	for (size_t i = 0; i < dc->d->ns_count; i++)
		if (cds_strlist_add(&side->current, dc->d->ns[i].name) != 0)
			return CDS_ENOMEM;
	if (ns_proposal_reset(dc->v) != 0)
		return CDS_ENOMEM;
	int r = RUN_STAGES(csync_stages_before_data, dc);
	if (r == STAGE_PASS)
		r = RUN_STAGES(csync_stages_with_data, dc);
	free(dc->kept);
	dc->kept = NULL;
	return r;
}
