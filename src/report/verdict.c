/* The verdict: reason codes and their words, JSON (json-c) and text output. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/verdict.h"

static const struct {
	const char *code;
	const char *text;
} reasons[CDS_R_COUNT] = {
	[CDS_R_NO_SIGNAL] = {"no-signal", "no CDS and no CDNSKEY at any nameserver"},
	[CDS_R_SIGNAL_UNCHANGED] = {"signal-unchanged", "the signal equals the current DS set"},
	[CDS_R_DS_UPDATED] = {"ds-updated",
			      "a valid, authenticated, consistent signal changes the DS set"},
	[CDS_R_DELETE] = {"delete", "a valid delete signal: the DS set is to be removed"},
	[CDS_R_DELETE_NOT_ALLOWED] = {"delete-not-allowed",
				      "a delete signal, but policy forbids going insecure"},
	[CDS_R_NS_UNREACHABLE] = {"ns-unreachable", "a nameserver gave no usable answer"},
	[CDS_R_NS_INCONSISTENT] = {"ns-inconsistent",
				   "nameservers answered with different CDS or CDNSKEY RRsets"},
	[CDS_R_NOT_SIGNED] = {"not-signed", "CDS/CDNSKEY published without RRSIG"},
	[CDS_R_BOGUS] = {"bogus", "the DNSKEY RRset or a CDS/CDNSKEY signature does not "
				  "validate with the current DS set"},
	[CDS_R_CDS_CDNSKEY_MISMATCH] = {"cds-cdnskey-mismatch",
					"CDS and CDNSKEY do not describe the same keys"},
	[CDS_R_BREAKS_CHAIN] = {"breaks-chain", "the proposed DS set would not authenticate "
						"the DNSKEY RRset served by every nameserver"},
	[CDS_R_ALGORITHM_NOT_ALLOWED] = {"algorithm-not-allowed",
					 "a DNSKEY algorithm outside policy"},
	[CDS_R_DIGEST_NOT_ALLOWED] = {"digest-not-allowed", "a digest type outside policy"},
	[CDS_R_MIXED_DELETE] = {"mixed-delete",
				"a delete record mixed with other records in the RRset"},
	[CDS_R_STALE_SIGNAL] = {"stale-signal", "the signal was signed before the parent's "
						"last DS change (replay protection)"},
	[CDS_R_OPTED_OUT] = {"opted-out", "automation is disabled for this domain"},
	[CDS_R_INSECURE_NO_BOOTSTRAP] = {"insecure-no-bootstrap",
					 "insecure delegation with CDS/CDNSKEY, but no accepted "
					 "bootstrap path"},
	[CDS_R_BOOTSTRAP_AUTHENTICATED] = {"bootstrap-authenticated",
					   "RFC 9615 signals found, DNSSEC-valid and equal to "
					   "the apex signal"},
	[CDS_R_BOOTSTRAP_SIGNAL_MISSING] = {"bootstrap-signal-missing",
					    "an RFC 9615 signaling name is missing"},
	[CDS_R_BOOTSTRAP_SIGNAL_MISMATCH] = {"bootstrap-signal-mismatch",
					     "a signaling RRset differs from the apex signal"},
	[CDS_R_BOOTSTRAP_NS_INSECURE] = {"bootstrap-ns-insecure",
					 "a nameserver's hostname is not in a securely "
					 "delegated zone"},
	[CDS_R_BOOTSTRAP_PENDING] = {"bootstrap-pending",
				     "seen consistently, but not yet for long enough"},
	[CDS_R_BOOTSTRAP_AFTER_DELAY] = {"bootstrap-after-delay",
					 "accept-after-delay policy met"},
	[CDS_R_TOO_MANY_DS] = {"too-many-ds", "the signal asks for more DS records than "
					      "policy allows"},
	[CDS_R_NO_CSYNC] = {"no-csync", "no CSYNC record"},
	[CDS_R_CSYNC_UNCHANGED] = {"csync-unchanged", "child NS and glue equal the parent's"},
	[CDS_R_NS_UPDATED] = {"ns-updated", "CSYNC processed; NS and/or glue change"},
	[CDS_R_CSYNC_NOT_SIGNED] = {"csync-not-signed", "CSYNC or its data is not signed"},
	[CDS_R_CSYNC_BOGUS] = {"csync-bogus", "CSYNC or its data does not validate"},
	[CDS_R_CSYNC_INCONSISTENT] = {"csync-inconsistent",
				      "nameservers disagree on CSYNC, NS or glue"},
	[CDS_R_CSYNC_SOA_SERIAL] = {"csync-soa-serial",
				    "soaminimum set and the SOA serial is below the CSYNC serial"},
	[CDS_R_CSYNC_SERIAL_CHANGED] = {"csync-serial-changed",
					"the SOA serial changed while processing"},
	[CDS_R_CSYNC_UNKNOWN_FLAGS] = {"csync-unknown-flags", "unknown CSYNC flag bits"},
	[CDS_R_CSYNC_UNKNOWN_TYPE] = {"csync-unknown-type",
				      "the CSYNC type bitmap names a type other than NS, A, AAAA"},
	[CDS_R_CSYNC_MULTIPLE] = {"csync-multiple", "more than one CSYNC record at the apex"},
	[CDS_R_CSYNC_NOT_IMMEDIATE] = {"csync-not-immediate",
				       "immediate flag clear: needs the operator's approval"},
	[CDS_R_CSYNC_NO_GLUE] = {"csync-no-glue",
				 "an in-bailiwick nameserver without an address record"},
	[CDS_R_CSYNC_EMPTY_NS] = {"csync-empty-ns", "the update would leave no nameserver"},
	[CDS_R_CSYNC_NS_NOT_SERVING] = {"csync-ns-not-serving",
					"a nameserver or glue address the update adds does not "
					"serve the zone with the same SOA serial"},
	[CDS_R_CSYNC_BAD_HOST_NAME] = {"csync-bad-host-name",
				       "a child NS name is not a valid host name"},
	[CDS_R_BOOTSTRAP_SIGNAL_BOGUS] = {"bootstrap-signal-bogus",
					  "an RFC 9615 signal is present but does not validate "
					  "from the trust anchor"},
	[CDS_R_CSYNC_NOT_PROCESSED] = {"csync-not-processed",
				       "a CSYNC record is published, but CSYNC processing is "
				       "not enabled"},
};

const char *cds_reason_code(enum cds_reason r)
{
	return (unsigned)r < CDS_R_COUNT ? reasons[r].code : "?";
}

const char *cds_reason_text(enum cds_reason r)
{
	return (unsigned)r < CDS_R_COUNT ? reasons[r].text : "?";
}

const char *cds_action_name(enum cds_action a)
{
	static const char *const names[] = {"none", "update", "delete", "bootstrap", "reject"};
	return (unsigned)a < 5 ? names[a] : "?";
}

int cds_strlist_add(struct cds_strlist *l, const char *s)
{
	if (cds_strlist_contains(l, s))
		return 0;
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return CDS_ENOMEM;
	l->v = v;
	if (!(l->v[l->n] = strdup(s)))
		return CDS_ENOMEM;
	l->n++;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cds_strlist_sort(struct cds_strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), str_cmp);
}

bool cds_strlist_contains(const struct cds_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

bool cds_strlist_equal(const struct cds_strlist *a, const struct cds_strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!cds_strlist_contains(b, a->v[i]))
			return false;
	return true;
}

void cds_strlist_clear(struct cds_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void side_clear(struct cds_verdict_side *s)
{
	cds_strlist_clear(&s->current);
	cds_strlist_clear(&s->proposed);
	cds_strlist_clear(&s->add);
	cds_strlist_clear(&s->rem);
}

void cds_verdict_clear(struct cds_verdict *v)
{
	if (!v)
		return;
	cds_strlist_clear(&v->ns);
	cds_strlist_clear(&v->ds);
	for (size_t i = 0; i < v->server_count; i++) {
		cds_strlist_clear(&v->servers[i].cds);
		cds_strlist_clear(&v->servers[i].cdnskey);
		free(v->servers[i].csync);
	}
	free(v->servers);
	for (size_t i = 0; i < v->glue_count; i++)
		cds_strlist_clear(&v->glue[i].addresses);
	free(v->glue);
	for (size_t i = 0; i < v->glue_current_count; i++)
		cds_strlist_clear(&v->glue_current[i].addresses);
	free(v->glue_current);
	for (size_t i = 0; i < v->bootstrap.signal_count; i++) {
		cds_strlist_clear(&v->bootstrap.signals[i].cds);
		cds_strlist_clear(&v->bootstrap.signals[i].cdnskey);
	}
	free(v->bootstrap.signals);
	side_clear(&v->ds_side);
	side_clear(&v->ns_side);
	memset(v, 0, sizeof(*v));
}

struct cds_verdict_glue *cds_verdict_glue_add(struct cds_verdict_glue **arr, size_t *n,
					      const char *name)
{
	struct cds_verdict_glue *g = realloc(*arr, (*n + 1) * sizeof(*g));
	if (!g)
		return NULL;
	*arr = g;
	g = &g[(*n)++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	return g;
}

void cds_verdict_decide(struct cds_verdict_side *side, enum cds_action action,
			enum cds_reason reason, const char *fmt, ...)
{
	side->action = action;
	if (side->reason_count < CDS_VERDICT_MAX_REASONS)
		side->reasons[side->reason_count++] = reason;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(side->detail, sizeof(side->detail), fmt, ap);
		va_end(ap);
	}
}

int cds_verdict_side_diff(struct cds_verdict_side *side)
{
	int r = 0;
	cds_strlist_clear(&side->add);
	cds_strlist_clear(&side->rem);
	for (size_t i = 0; i < side->proposed.n && r == 0; i++)
		if (!cds_strlist_contains(&side->current, side->proposed.v[i]))
			r = cds_strlist_add(&side->add, side->proposed.v[i]);
	for (size_t i = 0; i < side->current.n && r == 0; i++)
		if (!cds_strlist_contains(&side->proposed, side->current.v[i]))
			r = cds_strlist_add(&side->rem, side->current.v[i]);
	cds_strlist_sort(&side->add);
	cds_strlist_sort(&side->rem);
	return r;
}

/* ------------------------------------------------------------ JSON --- */

static json_object *json_strlist(const struct cds_strlist *l)
{
	struct cds_strlist sorted = {0};
	json_object *a = json_object_new_array();
	/* Lists are sorted in the output (CONTRACT.md); sort a copy so that
	 * printing does not change the verdict. */
	for (size_t i = 0; i < l->n; i++)
		cds_strlist_add(&sorted, l->v[i]);
	cds_strlist_sort(&sorted);
	for (size_t i = 0; a && i < sorted.n; i++)
		json_object_array_add(a, json_object_new_string(sorted.v[i]));
	cds_strlist_clear(&sorted);
	return a;
}

static json_object *json_glue(const struct cds_verdict_glue *g, size_t n)
{
	json_object *o = json_object_new_object();
	for (size_t i = 0; o && i < n; i++)
		json_object_object_add(o, g[i].name, json_strlist(&g[i].addresses));
	return o;
}

/* Added to the contract: "bootstrap" in the DS side of an insecure
 * delegation with a signal: the RFC 9615 signals per NS host name, and the
 * accept-after-delay clock. */
static json_object *json_bootstrap(const struct cds_verdict_bootstrap *b)
{
	json_object *o = json_object_new_object();
	json_object *sigs = json_object_new_array();
	for (size_t i = 0; i < b->signal_count; i++) {
		const struct cds_verdict_signal *g = &b->signals[i];
		json_object *e = json_object_new_object();
		json_object_object_add(e, "ns", json_object_new_string(g->ns));
		json_object_object_add(e, "zone", g->zone[0] ? json_object_new_string(g->zone)
							     : NULL);
		json_object_object_add(e, "status", json_object_new_string(g->status));
		json_object_object_add(e, "cds", json_strlist(&g->cds));
		json_object_object_add(e, "cdnskey", json_strlist(&g->cdnskey));
		if (g->detail[0])
			json_object_object_add(e, "detail", json_object_new_string(g->detail));
		json_object_array_add(sigs, e);
	}
	json_object_object_add(o, "signals", sigs);
	if (b->observed) {
		char ts[32];
		json_object *ob = json_object_new_object();
		cds_time_format(b->first_seen, ts, sizeof(ts));
		json_object_object_add(ob, "first_seen", json_object_new_string(ts));
		json_object_object_add(ob, "scans", json_object_new_int64(b->scans));
		json_object_object_add(ob, "required_scans", json_object_new_int64(b->scans_needed));
		json_object_object_add(ob, "required_seconds",
				       json_object_new_int64((int64_t)b->delay_needed_s));
		json_object_object_add(o, "observation", ob);
	}
	return o;
}

static json_object *json_side(const struct cds_verdict_side *s, const struct cds_verdict *v,
			      bool ns)
{
	json_object *o = json_object_new_object();
	json_object *rs = json_object_new_array();
	for (size_t i = 0; i < s->reason_count; i++)
		json_object_array_add(rs, json_object_new_string(cds_reason_code(s->reasons[i])));
	json_object_object_add(o, "action", json_object_new_string(cds_action_name(s->action)));
	json_object_object_add(o, "reasons", rs);
	json_object_object_add(o, "current", json_strlist(&s->current));
	json_object_object_add(o, "proposed", json_strlist(&s->proposed));
	json_object_object_add(o, "add", json_strlist(&s->add));
	json_object_object_add(o, "rem", json_strlist(&s->rem));
	if (ns) {
		json_object_object_add(o, "glue", json_glue(v->glue, v->glue_count));
		/* Added to the contract: the parent's glue, beside the proposed. */
		json_object_object_add(o, "current_glue",
				       json_glue(v->glue_current, v->glue_current_count));
	} else if (v->bootstrap.signal_count || v->bootstrap.observed) {
		json_object_object_add(o, "bootstrap", json_bootstrap(&v->bootstrap));
	}
	if (s->detail[0])
		json_object_object_add(o, "detail", json_object_new_string(s->detail));
	return o;
}

static const struct cds_verdict_glue *glue_find(const struct cds_verdict_glue *g, size_t n,
						const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	return NULL;
}

static json_object *json_host_op(const char *op, const char *name)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

/* The NS change as ordered operations an EPP server accepts (RFC 5731,
 * RFC 5732): host objects must exist with their addresses before a domain
 * refers to them, and can go only once no domain does. */
static json_object *ns_ops(const struct cds_verdict *v)
{
	const struct cds_verdict_side *s = &v->ns_side;
	json_object *ops = json_object_new_array();
	for (size_t i = 0; i < v->glue_count; i++) {
		const struct cds_verdict_glue *now = &v->glue[i];
		static const struct cds_verdict_glue none;
		const struct cds_verdict_glue *was =
			glue_find(v->glue_current, v->glue_current_count, now->name);
		if (!was)
			was = &none; /* in the NS set without glue: addresses to add */
		if (!cds_strlist_contains(&s->current, now->name)) {
			json_object *o = json_host_op("host-create", now->name);
			json_object_object_add(o, "addrs", json_strlist(&now->addresses));
			json_object_array_add(ops, o);
		} else if (!cds_strlist_equal(&now->addresses, &was->addresses)) {
			struct cds_strlist add = {0}, rem = {0};
			for (size_t k = 0; k < now->addresses.n; k++)
				if (!cds_strlist_contains(&was->addresses, now->addresses.v[k]))
					cds_strlist_add(&add, now->addresses.v[k]);
			for (size_t k = 0; k < was->addresses.n; k++)
				if (!cds_strlist_contains(&now->addresses, was->addresses.v[k]))
					cds_strlist_add(&rem, was->addresses.v[k]);
			json_object *o = json_host_op("host-update", now->name);
			json_object_object_add(o, "add", json_strlist(&add));
			json_object_object_add(o, "rem", json_strlist(&rem));
			json_object_array_add(ops, o);
			cds_strlist_clear(&add);
			cds_strlist_clear(&rem);
		}
	}
	if (s->add.n || s->rem.n) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string("domain-update"));
		json_object_object_add(o, "add", json_strlist(&s->add));
		json_object_object_add(o, "rem", json_strlist(&s->rem));
		json_object_array_add(ops, o);
	}
	for (size_t i = 0; i < s->rem.n; i++)
		if (glue_find(v->glue_current, v->glue_current_count, s->rem.v[i]))
			json_object_array_add(ops, json_host_op("host-delete", s->rem.v[i]));
	return ops;
}

char *cds_verdict_change_payload(const struct cds_verdict *v, bool ns_side)
{
	const struct cds_verdict_side *s = ns_side ? &v->ns_side : &v->ds_side;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "proposed", json_strlist(&s->proposed));
	if (ns_side) {
		json_object_object_add(o, "glue", json_glue(v->glue, v->glue_count));
		json_object_object_add(o, "ops", ns_ops(v));
	} else if (v->server_count && v->servers[0].cdnskey.n) {
		/* The keys, for registries that take keyData (RFC 5910). */
		json_object_object_add(o, "keys", json_strlist(&v->servers[0].cdnskey));
	}
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char *out = txt ? strdup(txt) : NULL;
	json_object_put(o);
	return out;
}

static json_object *verdict_json(const struct cds_verdict *v)
{
	char ts[32];
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	cds_time_format(v->checked_at, ts, sizeof(ts));
	json_object_object_add(o, "domain", json_object_new_string(v->domain));
	json_object_object_add(o, "checked_at", json_object_new_string(ts));
	json_object *del = json_object_new_object();
	json_object_object_add(del, "ns", json_strlist(&v->ns));
	json_object_object_add(del, "ds", json_strlist(&v->ds));
	json_object_object_add(o, "delegation", del);
	json_object_object_add(o, "secure", json_object_new_boolean(v->secure));
	json_object *servers = json_object_new_array();
	for (size_t i = 0; i < v->server_count; i++) {
		const struct cds_verdict_server *s = &v->servers[i];
		json_object *so = json_object_new_object();
		json_object_object_add(so, "name", json_object_new_string(s->name));
		json_object_object_add(so, "address",
				       s->address[0] ? json_object_new_string(s->address) : NULL);
		json_object_object_add(so, "ok", json_object_new_boolean(s->ok));
		json_object_object_add(so, "error",
				       s->ok ? NULL : json_object_new_string(s->error));
		json_object_object_add(so, "cds", json_strlist(&s->cds));
		json_object_object_add(so, "cdnskey", json_strlist(&s->cdnskey));
		json_object_object_add(so, "csync",
				       s->csync ? json_object_new_string(s->csync) : NULL);
		json_object_array_add(servers, so);
	}
	json_object_object_add(o, "servers", servers);
	json_object_object_add(o, "ds", json_side(&v->ds_side, v, false));
	json_object_object_add(o, "ns", json_side(&v->ns_side, v, true));
	return o;
}

char *cds_verdict_to_json(const struct cds_verdict *v, bool pretty)
{
	json_object *o = verdict_json(v);
	if (!o)
		return NULL;
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			    : JSON_C_TO_STRING_PLAIN);
	const char *s = json_object_to_json_string_ext(o, flags);
	char *copy = s ? strdup(s) : NULL;
	json_object_put(o);
	return copy;
}

int cds_verdict_print_json(const struct cds_verdict *v, FILE *f)
{
	char *s = cds_verdict_to_json(v, true);
	if (!s)
		return CDS_ENOMEM;
	fputs(s, f);
	fputc('\n', f);
	free(s);
	return 0;
}

/* ------------------------------------------------------------ text --- */

static void print_list(FILE *f, const char *label, const struct cds_strlist *l)
{
	struct cds_strlist sorted = {0};
	for (size_t i = 0; i < l->n; i++)
		cds_strlist_add(&sorted, l->v[i]);
	cds_strlist_sort(&sorted);
	fprintf(f, "  %-9s", label);
	if (sorted.n == 0)
		fputs(" (none)", f);
	for (size_t i = 0; i < sorted.n; i++)
		fprintf(f, "%s%s", i ? "\n            " : " ", sorted.v[i]);
	fputc('\n', f);
	cds_strlist_clear(&sorted);
}

static void print_side(FILE *f, const char *title, const struct cds_verdict_side *s)
{
	fprintf(f, "%s: %s", title, cds_action_name(s->action));
	for (size_t i = 0; i < s->reason_count; i++)
		fprintf(f, "%s%s", i ? ", " : " (", cds_reason_code(s->reasons[i]));
	fprintf(f, "%s\n", s->reason_count ? ")" : "");
	for (size_t i = 0; i < s->reason_count; i++)
		fprintf(f, "  why:     %s\n", cds_reason_text(s->reasons[i]));
	if (s->detail[0])
		fprintf(f, "  detail:  %s\n", s->detail);
	if (s->add.n || s->rem.n) {
		print_list(f, "add:", &s->add);
		print_list(f, "remove:", &s->rem);
	}
}

void cds_verdict_print_text(const struct cds_verdict *v, FILE *f)
{
	char ts[32];
	cds_time_format(v->checked_at, ts, sizeof(ts));
	fprintf(f, "%s  checked %s, delegation %s\n", v->domain, ts,
		v->ds.n ? (v->secure ? "secure" : "signed, but not secure") : "insecure (no DS)");
	print_list(f, "NS:", &v->ns);
	print_list(f, "DS:", &v->ds);
	fputs("servers:\n", f);
	for (size_t i = 0; i < v->server_count; i++) {
		const struct cds_verdict_server *s = &v->servers[i];
		fprintf(f, "  %s %s: ", s->name, s->address[0] ? s->address : "(no address)");
		if (!s->ok) {
			fprintf(f, "UNUSABLE (%s)\n", s->error);
			continue;
		}
		fprintf(f, "SOA %lu, %zu DNSKEY, %zu CDS, %zu CDNSKEY, %s\n", s->soa_serial,
			s->dnskey_count, s->cds.n, s->cdnskey.n, s->csync ? "CSYNC" : "no CSYNC");
	}
	print_side(f, "DS", &v->ds_side);
	for (size_t i = 0; i < v->bootstrap.signal_count; i++) {
		const struct cds_verdict_signal *g = &v->bootstrap.signals[i];
		fprintf(f, "  signal under %s (zone %s): %s%s%s\n", g->ns,
			g->zone[0] ? g->zone : "?", g->status, g->detail[0] ? ", " : "", g->detail);
	}
	if (v->bootstrap.observed) {
		char first[32];
		cds_time_format(v->bootstrap.first_seen, first, sizeof(first));
		fprintf(f, "  observed: %u of %u scans since %s (%llu hours required)\n",
			v->bootstrap.scans, v->bootstrap.scans_needed, first,
			(unsigned long long)(v->bootstrap.delay_needed_s / 3600));
	}
	if (v->ds_side.proposed.n && v->ds_side.action != CDS_ACTION_NONE &&
	    v->ds_side.action != CDS_ACTION_REJECT)
		print_list(f, "new DS:", &v->ds_side.proposed);
	print_side(f, "NS", &v->ns_side);
	if (v->ns_side.action == CDS_ACTION_UPDATE) {
		print_list(f, "new NS:", &v->ns_side.proposed);
		for (size_t i = 0; i < v->glue_count; i++) {
			fprintf(f, "  glue %s:", v->glue[i].name);
			for (size_t k = 0; k < v->glue[i].addresses.n; k++)
				fprintf(f, " %s", v->glue[i].addresses.v[k]);
			fputc('\n', f);
		}
	}
}
