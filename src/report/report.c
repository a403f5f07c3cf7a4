/* The operator's report of a scan: counts, rows, and text, JSON or HTML. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/conf.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/report.h"
#include "report_internal.h"

/* One domain with an action or a rejection, as read back from the spill
 * file. */
struct row {
	json_object *verdict;
	unsigned failures;
	bool flagged; /* a nameserver unusable for flag_after scans or more */
};

/*
 * Rows are not kept in memory: a registry's scan may reject hundreds of
 * thousands of domains.  Each row is one line in an anonymous temporary file
 * ("FAILURES FLAGGED JSON"), read back one at a time when the report is
 * written, so memory does not grow with the number of domains.  Rows are
 * grouped by registry profile: a file per group, so that each group is
 * read back once.  The trends (new rejections, fixed) are lines in a file
 * per group too ("N JSON", "F JSON"); only counts are in memory.
 */

/* Counts of verdicts: the whole run, or one registry profile's. */
struct counts {
	uint64_t domains, changesets, rejects, flagged;
	uint64_t ds[CDS_ACTION_COUNT], ns[CDS_ACTION_COUNT];
	uint64_t reasons[CDS_R_COUNT];
	/* Against each domain's previous result (cds_report_add). */
	uint64_t new_rejections, fixed, still_rejected, first_scans;
};

/* The domains of one registry profile, or of none. */
struct group {
	char *name;  /* the profile (owned); NULL: under no registry profile */
	struct counts c;
	FILE *rows;  /* its rows, one per line */
	size_t nrows;
	FILE *trends; /* its new rejections and fixed domains, one per line */
};

/* Every profile a configuration may have (conf.h), and "none". */
#define MAX_GROUPS (CDS_CONF_MAX_REGISTRIES + 1)

struct cds_report {
	bool dry_run;
	unsigned flag_after;
	time_t started, finished;
	struct counts all;
	uint64_t reason_action[CDS_R_COUNT][CDS_ACTION_COUNT]; /* for the chart's colours */
	bool compared; /* previous results were given: trends are known */
	struct group groups[MAX_GROUPS];
	size_t ngroups;
	/* Accept-after-delay candidates still on the clock, one per line:
	 * "DOMAIN SCANS REQUIRED_SCANS FIRST_SEEN REQUIRED_SECONDS NOW". */
	FILE *candidates;
	size_t ncandidates;
	/* Registry profiles: delegations skipped per registry that scans CDS
	 * itself, and domains with an action under no profile (one per line). */
	struct {
		char name[64];
		uint64_t count;
	} skipped[CDS_CONF_MAX_REGISTRIES];
	size_t nskipped;
	FILE *unrouted;
	size_t nunrouted;
};

/* One bootstrap candidate read back. */
struct candidate {
	char domain[CDS_DNAME_BUFSIZE];
	unsigned scans, needed;
	long long first, delay, now;
};

static bool next_candidate(FILE *f, struct candidate *c)
{
	return fscanf(f, "%254s %u %u %lld %lld %lld", c->domain, &c->scans, &c->needed, &c->first,
		      &c->delay, &c->now) == 6;
}

/* Hours on the clock so far. */
static long long candidate_hours(const struct candidate *c)
{
	return c->now > c->first ? (c->now - c->first) / 3600 : 0;
}

struct cds_report *cds_report_new(bool dry_run, unsigned flag_after)
{
	struct cds_report *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->dry_run = dry_run;
	r->flag_after = flag_after;
	r->candidates = tmpfile();
	r->unrouted = tmpfile();
	if (!r->candidates || !r->unrouted) {
		cds_report_free(r);
		return NULL;
	}
	return r;
}

void cds_report_free(struct cds_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ngroups; i++) {
		free(r->groups[i].name);
		if (r->groups[i].rows)
			fclose(r->groups[i].rows);
		if (r->groups[i].trends)
			fclose(r->groups[i].trends);
	}
	if (r->candidates)
		fclose(r->candidates);
	if (r->unrouted)
		fclose(r->unrouted);
	free(r);
}

/* The group of registry profile name (NULL: none), made on first use.
 * NULL: no memory or no file (nothing is kept of it: the report can still
 * be written), or more groups than a configuration has. */
static struct group *group_of(struct cds_report *r, const char *name)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		const char *g = r->groups[i].name;
		if ((!g && !name) || (g && name && strcmp(g, name) == 0))
			return &r->groups[i];
	}
	if (r->ngroups == MAX_GROUPS)
		return NULL;
	struct group g = {.rows = tmpfile(), .trends = tmpfile(), .name = name ? strdup(name) : NULL};
	if (!g.rows || !g.trends || (name && !g.name)) {
		if (g.rows)
			fclose(g.rows);
		if (g.trends)
			fclose(g.trends);
		free(g.name);
		return NULL;
	}
	r->groups[r->ngroups] = g;
	return &r->groups[r->ngroups++];
}

int cds_report_skip(struct cds_report *r, const char *registry)
{
	size_t i = 0;
	while (i < r->nskipped && strcmp(r->skipped[i].name, registry) != 0)
		i++;
	if (i == r->nskipped) {
		if (r->nskipped == CDS_CONF_MAX_REGISTRIES)
			return CDS_EINVAL;
		snprintf(r->skipped[i].name, sizeof(r->skipped[i].name), "%s", registry);
		r->nskipped++;
	}
	r->skipped[i].count++;
	return 0;
}

int cds_report_unrouted(struct cds_report *r, const char *domain)
{
	if (fprintf(r->unrouted, "%s\n", domain) < 0)
		return -errno;
	r->nunrouted++;
	return 0;
}

/* The registry notes as text lines (text and HTML reports). */
static void write_registry_notes(const struct cds_report *r, FILE *f, bool html)
{
	for (size_t i = 0; i < r->nskipped; i++) {
		fputs(html ? "<p>" : "", f);
		fprintf(f, "%llu delegations not scanned: registry ",
			(unsigned long long)r->skipped[i].count);
		if (html)
			cds_report_html_escape(f, r->skipped[i].name);
		else
			fputs(r->skipped[i].name, f);
		fputs(" scans CDS itself (scans-cds-itself)", f);
		fputs(html ? "</p>\n" : "\n", f);
	}
	if (r->nunrouted == 0)
		return;
	fprintf(f, html ? "<p>%zu domains with an action under no registry profile (no change "
			  "set made):" : "%zu domains with an action under no registry profile (no "
					  "change set made):\n",
		r->nunrouted);
	char line[CDS_DNAME_BUFSIZE + 2];
	rewind(r->unrouted);
	while (fgets(line, sizeof(line), r->unrouted)) {
		line[strcspn(line, "\n")] = '\0';
		if (html) {
			fputs(" <code>", f);
			cds_report_html_escape(f, line);
			fputs("</code>", f);
		} else {
			fprintf(f, "  %s\n", line);
		}
	}
	fputs(html ? "</p>\n" : "", f);
}

uint64_t cds_report_domains(const struct cds_report *r)
{
	return r->all.domains;
}

uint64_t cds_report_rejects(const struct cds_report *r)
{
	return r->all.rejects;
}

uint64_t cds_report_changesets(const struct cds_report *r)
{
	return r->all.changesets;
}

uint64_t cds_report_ds_count(const struct cds_report *r, enum cds_action a)
{
	return r->all.ds[a];
}

void cds_report_times(struct cds_report *r, time_t started, time_t finished)
{
	r->started = started;
	r->finished = finished;
}

static bool is_rejected(const struct cds_verdict *v)
{
	return v->ds_side.action == CDS_ACTION_REJECT || v->ns_side.action == CDS_ACTION_REJECT;
}

static void count(struct counts *c, const struct cds_verdict *v, bool flagged, bool changeset)
{
	c->domains++;
	c->ds[v->ds_side.action]++;
	c->ns[v->ns_side.action]++;
	for (size_t k = 0; k < v->ds_side.reason_count; k++)
		c->reasons[v->ds_side.reasons[k]]++;
	for (size_t k = 0; k < v->ns_side.reason_count; k++)
		c->reasons[v->ns_side.reasons[k]]++;
	c->changesets += changeset;
	c->flagged += flagged;
	c->rejects += is_rejected(v);
}

/* The reasons of v's rejected side(s), DS side first, into out (room for
 * both sides).  Returns how many. */
static size_t rejected_reasons(const struct cds_verdict *v, enum cds_reason *out)
{
	size_t n = 0;
	const struct cds_verdict_side *sides[2] = {&v->ds_side, &v->ns_side};
	for (int s = 0; s < 2; s++)
		for (size_t k = 0; sides[s]->action == CDS_ACTION_REJECT && k < sides[s]->reason_count;
		     k++)
			out[n++] = sides[s]->reasons[k];
	return n;
}

/* Is every code of a in b? */
static bool subset(const enum cds_reason *a, size_t na, const enum cds_reason *b, size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		size_t k = 0;
		while (k < nb && b[k] != a[i])
			k++;
		if (k == nb)
			return false;
	}
	return true;
}

/* Do a and b hold the same codes (as sets)? */
static bool same_reasons(const enum cds_reason *a, size_t na, const enum cds_reason *b, size_t nb)
{
	return subset(a, na, b, nb) && subset(b, nb, a, na);
}

static json_object *codes_json(const enum cds_reason *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t k = 0; a && k < n; k++)
		json_object_array_add(a, json_object_new_string(cds_reason_code(v[k])));
	return a;
}

/* The previous result in a trend line: null for a first scan. */
static json_object *previous_json(const struct cds_verdict_previous *p)
{
	char ts[32];
	if (!p->known)
		return NULL;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	cds_time_format(p->scanned_at, ts, sizeof(ts));
	json_object_object_add(o, "scanned_at", json_object_new_string(ts));
	json_object_object_add(o, "dry_run", json_object_new_boolean(p->dry_run));
	json_object_object_add(o, "ds", json_object_new_string(cds_action_name(p->ds_action)));
	json_object_object_add(o, "ns", json_object_new_string(cds_action_name(p->ns_action)));
	json_object_object_add(o, "rejected", codes_json(p->rejected, p->rejected_count));
	return o;
}

/* One new rejection (kind 'N') or fixed domain ('F') as a line of g's
 * trends file: the JSON object the report's trend lists hold. */
static int trend_line(struct group *g, char kind, const struct cds_verdict *v,
		      const struct cds_verdict_previous *p)
{
	enum cds_reason all[2 * CDS_VERDICT_MAX_REASONS], rej[2 * CDS_VERDICT_MAX_REASONS];
	size_t n = 0, nrej = rejected_reasons(v, rej);
	for (size_t k = 0; k < v->ds_side.reason_count; k++)
		all[n++] = v->ds_side.reasons[k];
	for (size_t k = 0; k < v->ns_side.reason_count; k++)
		all[n++] = v->ns_side.reasons[k];
	json_object *o = json_object_new_object();
	if (!o)
		return CDS_ENOMEM;
	json_object_object_add(o, "domain", json_object_new_string(v->domain));
	json_object_object_add(o, "ds", json_object_new_string(cds_action_name(v->ds_side.action)));
	json_object_object_add(o, "ns", json_object_new_string(cds_action_name(v->ns_side.action)));
	json_object_object_add(o, "reasons", codes_json(all, n));
	json_object_object_add(o, "rejected", codes_json(rej, nrej));
	json_object_object_add(o, "previous", previous_json(p));
	int rc = fprintf(g->trends, "%c %s\n", kind,
			 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE)) < 0
			 ? -errno
			 : 0;
	json_object_put(o);
	return rc;
}

/*
 * The trend of one domain against its previous result: a new rejection
 * (rejected now, and not before or for other reasons), fixed (rejected
 * before, not now), or still rejected (for the same reasons).  A first
 * scan that rejects is a new rejection.
 */
static int add_trend(struct cds_report *r, struct group *g, const struct cds_verdict *v,
		     const struct cds_verdict_previous *p)
{
	enum cds_reason now[2 * CDS_VERDICT_MAX_REASONS];
	size_t nnow = rejected_reasons(v, now);
	bool before = p->known &&
		      (p->ds_action == CDS_ACTION_REJECT || p->ns_action == CDS_ACTION_REJECT);
	r->compared = true;
	r->all.first_scans += !p->known;
	g->c.first_scans += !p->known;
	if (is_rejected(v) && before && same_reasons(now, nnow, p->rejected, p->rejected_count)) {
		r->all.still_rejected++;
		g->c.still_rejected++;
		return 0;
	}
	if (is_rejected(v)) {
		r->all.new_rejections++;
		g->c.new_rejections++;
		return trend_line(g, 'N', v, p);
	}
	if (!before)
		return 0;
	r->all.fixed++;
	g->c.fixed++;
	return trend_line(g, 'F', v, p);
}

int cds_report_add(struct cds_report *r, const struct cds_verdict *v, const char *registry,
		   const struct cds_verdict_previous *previous, unsigned failures, bool changeset)
{
	bool unusable = false;
	for (size_t s = 0; s < v->server_count; s++)
		unusable |= !v->servers[s].ok;
	bool flagged = unusable && failures >= r->flag_after;
	struct group *g = group_of(r, registry);
	if (!g)
		return r->ngroups == MAX_GROUPS ? CDS_EINVAL : CDS_ENOMEM;
	count(&r->all, v, flagged, changeset);
	count(&g->c, v, flagged, changeset);
	for (size_t k = 0; k < v->ds_side.reason_count; k++)
		r->reason_action[v->ds_side.reasons[k]][v->ds_side.action]++;
	for (size_t k = 0; k < v->ns_side.reason_count; k++)
		r->reason_action[v->ns_side.reasons[k]][v->ns_side.action]++;
	if (previous) {
		int e = add_trend(r, g, v, previous);
		if (e != 0)
			return e;
	}
	if (v->bootstrap.observed && v->ds_side.action == CDS_ACTION_NONE) {
		if (fprintf(r->candidates, "%s %u %u %lld %llu %lld\n", v->domain, v->bootstrap.scans,
			    v->bootstrap.scans_needed, (long long)v->bootstrap.first_seen,
			    (unsigned long long)v->bootstrap.delay_needed_s,
			    (long long)v->checked_at) < 0)
			return -errno;
		r->ncandidates++;
	}
	if (v->ds_side.action == CDS_ACTION_NONE && v->ns_side.action == CDS_ACTION_NONE && !flagged)
		return 0;
	char *s = cds_verdict_to_json(v, false);
	if (!s)
		return CDS_ENOMEM;
	/* The compact JSON has no newline: one row per line. */
	int n = fprintf(g->rows, "%u %d %s\n", failures, flagged ? 1 : 0, s);
	free(s);
	g->nrows++;
	return n < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ helpers --- */

/* Read the rows back in order: call next_row until it returns false; the
 * row's verdict is released by the next call. */
struct row_reader {
	FILE *f;
	char *line;
	size_t cap;
	struct row row;
};

static bool next_row(struct row_reader *rd)
{
	json_object_put(rd->row.verdict);
	rd->row.verdict = NULL;
	for (;;) {
		if (getline(&rd->line, &rd->cap, rd->f) < 0) {
			free(rd->line);
			rd->line = NULL;
			return false;
		}
		unsigned failures = 0;
		int flagged = 0, off = 0;
		if (sscanf(rd->line, "%u %d %n", &failures, &flagged, &off) < 2 || off == 0)
			continue;
		rd->row.verdict = json_tokener_parse(rd->line + off);
		if (!rd->row.verdict)
			continue;
		rd->row.failures = failures;
		rd->row.flagged = flagged != 0;
		return true;
	}
}

static struct row_reader rows_begin(FILE *f)
{
	struct row_reader rd = {.f = f};
	fflush(f);
	rewind(f);
	return rd;
}

static const char *get_str(json_object *o, const char *k1, const char *k2)
{
	json_object *a = NULL, *b = NULL;
	if (!json_object_object_get_ex(o, k1, &a))
		return "";
	if (!k2)
		return json_object_get_string(a);
	return json_object_object_get_ex(a, k2, &b) ? json_object_get_string(b) : "";
}

static json_object *get_arr(json_object *o, const char *k1, const char *k2)
{
	json_object *a = NULL, *b = NULL;
	json_object_object_get_ex(o, k1, &a);
	json_object_object_get_ex(a, k2, &b);
	return b;
}

/* Registry profiles by name, then the domains under none. */
static int group_cmp(const void *x, const void *y)
{
	const struct group *a = *(const struct group *const *)x, *b = *(const struct group *const *)y;
	if (!a->name || !b->name)
		return !a->name - !b->name;
	return strcmp(a->name, b->name);
}

/* The groups into out in the order the report shows them (group_cmp).
 * Returns how many. */
static size_t groups_sorted(const struct cds_report *r, const struct group **out)
{
	for (size_t i = 0; i < r->ngroups; i++)
		out[i] = &r->groups[i];
	qsort(out, r->ngroups, sizeof(*out), group_cmp);
	return r->ngroups;
}

/* Read a group's trend lines of one kind ('N' new rejections, 'F' fixed)
 * back in order: next_trend gives the JSON text (the line without its
 * kind), valid until the next call, until it returns NULL. */
struct trend_reader {
	FILE *f;
	char kind;
	char *line;
	size_t cap;
};

static struct trend_reader trends_begin(FILE *f, char kind)
{
	struct trend_reader t = {.f = f, .kind = kind};
	fflush(f);
	rewind(f);
	return t;
}

static const char *next_trend(struct trend_reader *t)
{
	ssize_t n;
	while ((n = getline(&t->line, &t->cap, t->f)) >= 0) {
		if (n > 2 && t->line[0] == t->kind && t->line[1] == ' ') {
			t->line[strcspn(t->line, "\n")] = '\0';
			return t->line + 2;
		}
	}
	free(t->line);
	t->line = NULL;
	return NULL;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *a = NULL;
	return json_object_object_get_ex(o, k, &a) ? a : NULL;
}

/* "bogus ns-unreachable" from a JSON array of codes, into buf. */
static const char *codes_text(json_object *arr, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < json_object_array_length(arr) && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? " " : "",
				      json_object_get_string(json_object_array_get_idx(arr, k)));
	return buf;
}

/* What the trends compare with, in words (cds_db_write_results). */
static const char *previous_basis(const struct cds_report *r)
{
	return r->dry_run ? "from any scan, dry run or not" : "from a scan that was no dry run";
}

/* --------------------------------------------------------------- JSON --- */

/* Counts in the shape of the contract's summary. */
static json_object *json_summary(const struct counts *c)
{
	json_object *sum = json_object_new_object(), *ds = json_object_new_object();
	json_object *ns = json_object_new_object(), *reasons = json_object_new_object();
	if (!sum || !ds || !ns || !reasons) {
		json_object_put(sum);
		json_object_put(ds);
		json_object_put(ns);
		json_object_put(reasons);
		return NULL;
	}
	json_object_object_add(sum, "domains", json_object_new_int64((int64_t)c->domains));
	for (int k = 0; k < CDS_ACTION_COUNT; k++) {
		if (c->ds[k])
			json_object_object_add(ds, cds_action_name((enum cds_action)k),
					       json_object_new_int64((int64_t)c->ds[k]));
		if (c->ns[k])
			json_object_object_add(ns, cds_action_name((enum cds_action)k),
					       json_object_new_int64((int64_t)c->ns[k]));
	}
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (c->reasons[k])
			json_object_object_add(reasons, cds_reason_code((enum cds_reason)k),
					       json_object_new_int64((int64_t)c->reasons[k]));
	json_object_object_add(sum, "ds", ds);
	json_object_object_add(sum, "ns", ns);
	json_object_object_add(sum, "reasons", reasons);
	json_object_object_add(sum, "change_sets", json_object_new_int64((int64_t)c->changesets));
	json_object_object_add(sum, "flagged_unreachable", json_object_new_int64((int64_t)c->flagged));
	return sum;
}

/* Added to the contract: the trend counts.  previous tells what they were
 * compared with: "any" (a dry run: the newest earlier result, dry or
 * not), "real" (the newest earlier result of a scan that was no dry run). */
static json_object *json_trend_counts(const struct cds_report *r, const struct counts *c)
{
	json_object *t = json_object_new_object();
	if (!t)
		return NULL;
	json_object_object_add(t, "previous", json_object_new_string(r->dry_run ? "any" : "real"));
	json_object_object_add(t, "new_rejections", json_object_new_int64((int64_t)c->new_rejections));
	json_object_object_add(t, "fixed", json_object_new_int64((int64_t)c->fixed));
	json_object_object_add(t, "still_rejected", json_object_new_int64((int64_t)c->still_rejected));
	json_object_object_add(t, "first_scans", json_object_new_int64((int64_t)c->first_scans));
	return t;
}

/* The report's head, summary and trend counts, as one small object. */
static json_object *json_head(const struct cds_report *r, const char *a, const char *b)
{
	json_object *o = json_object_new_object(), *sum = json_summary(&r->all);
	if (!o || !sum) {
		json_object_put(o);
		json_object_put(sum);
		return NULL;
	}
	json_object_object_add(o, "started_at", json_object_new_string(a));
	json_object_object_add(o, "finished_at", json_object_new_string(b));
	json_object_object_add(o, "dry_run", json_object_new_boolean(r->dry_run));
	json_object_object_add(o, "summary", sum);
	json_object_object_add(o, "trends", json_trend_counts(r, &r->all));
	return o;
}

/* Added to the contract: accept-after-delay candidates on the clock. */
static void json_candidates(const struct cds_report *r, FILE *f)
{
	struct candidate c;
	bool first = true;
	fputs(",\n  \"bootstrap_candidates\": [", f);
	rewind(r->candidates);
	while (next_candidate(r->candidates, &c)) {
		char ts[32];
		cds_time_format((time_t)c.first, ts, sizeof(ts));
		fprintf(f,
			"%s\n    {\"domain\": \"%s\", \"scans\": %u, \"required_scans\": %u, "
			"\"first_seen\": \"%s\", \"hours\": %lld, \"required_hours\": %lld}",
			first ? "" : ",", c.domain, c.scans, c.needed, ts, candidate_hours(&c),
			c.delay / 3600);
		first = false;
	}
	fputs(first ? "]" : "\n  ]", f);
}

/* A group's trend lines of one kind, streamed as a JSON array. */
static void json_trend_list(const struct group *g, char kind, FILE *f)
{
	struct trend_reader t = trends_begin(g->trends, kind);
	const char *line;
	bool first = true;
	fputc('[', f);
	while ((line = next_trend(&t))) {
		fprintf(f, "%s\n        %s", first ? "" : ",", line);
		first = false;
	}
	fputs(first ? "]" : "\n      ]", f);
}

/* Added to the contract: one registry profile's (or no profile's) counts
 * in the summary's shape, and its trends with the domains. */
static int json_group(const struct cds_report *r, const struct group *g, FILE *f)
{
	json_object *sum = json_summary(&g->c), *t = json_trend_counts(r, &g->c);
	if (!sum || !t) {
		json_object_put(sum);
		json_object_put(t);
		return CDS_ENOMEM;
	}
	fprintf(f, "{\n      \"summary\": %s,\n      \"trends\": ",
		json_object_to_json_string_ext(sum, JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	const char *ts = json_object_to_json_string_ext(t, JSON_C_TO_STRING_SPACED);
	size_t tl = strlen(ts);
	while (tl > 0 && ts[tl - 1] != '}')
		tl--;
	fwrite(ts, 1, tl > 0 ? tl - 1 : 0, f); /* all but the closing brace */
	fputs(", \"new_rejection_domains\": ", f);
	json_trend_list(g, 'N', f);
	fputs(", \"fixed_domains\": ", f);
	json_trend_list(g, 'F', f);
	fputs("}}", f);
	json_object_put(sum);
	json_object_put(t);
	return 0;
}

/* Added to the contract: registry profiles' notes, and each profile's
 * counts and trends ("profiles"; "no_profile": the domains under none). */
static int json_registries(const struct cds_report *r, FILE *f)
{
	char line[CDS_DNAME_BUFSIZE + 2];
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	bool first = true;
	int rc = 0;
	fputs(",\n  \"registries\": {\"skipped\": {", f);
	for (size_t i = 0; i < r->nskipped; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", r->skipped[i].name,
			(unsigned long long)r->skipped[i].count);
	fputs("}, \"without_profile\": [", f);
	rewind(r->unrouted);
	while (fgets(line, sizeof(line), r->unrouted)) {
		line[strcspn(line, "\n")] = '\0';
		fprintf(f, "%s\"%s\"", first ? "" : ", ", line);
		first = false;
	}
	fputs("],\n    \"profiles\": {", f);
	for (size_t i = 0; i < n && order[i]->name && rc == 0; i++) {
		json_object *name = json_object_new_string(order[i]->name);
		fprintf(f, "%s\n    %s: ", i ? "," : "", json_object_to_json_string(name));
		json_object_put(name);
		rc = json_group(r, order[i], f);
	}
	fputs(n && order[0]->name ? "\n    },\n    \"no_profile\": " : "},\n    \"no_profile\": ", f);
	if (n && !order[n - 1]->name && rc == 0)
		rc = json_group(r, order[n - 1], f);
	else
		fputs("null", f);
	fputs("}", f);
	return rc;
}

/* Every row, a group at a time, each with its registry profile. */
static void json_domains(const struct cds_report *r, FILE *f)
{
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	bool first = true;
	fputs(",\n  \"domains\": [", f);
	for (size_t i = 0; i < n; i++) {
		struct row_reader rd = rows_begin(order[i]->rows);
		while (next_row(&rd)) {
			json_object_object_add(rd.row.verdict, "registry",
					       order[i]->name ? json_object_new_string(order[i]->name)
							      : NULL);
			fprintf(f, "%s\n    %s", first ? "" : ",",
				json_object_to_json_string_ext(rd.row.verdict,
							       JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
			first = false;
		}
	}
	fputs(first ? "]" : "\n  ]", f);
}

static int write_json(const struct cds_report *r, FILE *f, const char *a, const char *b)
{
	json_object *o = json_head(r, a, b);
	if (!o)
		return CDS_ENOMEM;
	/* The head is one small object; the domains are streamed one by one
	 * into the "domains" array, never held together. */
	const char *head = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t hl = strlen(head);
	while (hl > 0 && head[hl - 1] != '}')
		hl--;
	fwrite(head, 1, hl > 0 ? hl - 1 : 0, f); /* all but the closing brace */
	json_domains(r, f);
	json_candidates(r, f);
	int rc = json_registries(r, f);
	fputs("\n}\n", f);
	json_object_put(o);
	return rc;
}

/* --------------------------------------------------------------- text --- */

static void write_counts_text(const struct cds_report *r, FILE *f)
{
	fprintf(f, "domains scanned: %llu, change sets created: %llu\n",
		(unsigned long long)r->all.domains, (unsigned long long)r->all.changesets);
	fprintf(f, "DS actions:");
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->all.ds[k])
			fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
				(unsigned long long)r->all.ds[k]);
	fprintf(f, "\nNS actions:");
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->all.ns[k])
			fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
				(unsigned long long)r->all.ns[k]);
	fprintf(f, "\n\nreasons:\n");
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (r->all.reasons[k])
			fprintf(f, "  %8llu  %-24s %s\n", (unsigned long long)r->all.reasons[k],
				cds_reason_code((enum cds_reason)k), cds_reason_text((enum cds_reason)k));
}

/* "DS none 3, update 1, reject 2": none, update and reject always, the
 * other actions when there are some. */
static void actions_text(FILE *f, const char *side, const uint64_t *n)
{
	bool first = true;
	fprintf(f, "%s", side);
	for (int k = 0; k < CDS_ACTION_COUNT; k++) {
		if (!n[k] && k != CDS_ACTION_NONE && k != CDS_ACTION_UPDATE && k != CDS_ACTION_REJECT)
			continue;
		fprintf(f, "%s %s %llu", first ? "" : ",", cds_action_name((enum cds_action)k),
			(unsigned long long)n[k]);
		first = false;
	}
}

static void text_row(FILE *f, const struct row *row)
{
	json_object *v = row->verdict;
	json_object *rs = get_arr(v, "ds", "reasons");
	const char *code = json_object_get_string(json_object_array_get_idx(rs, 0));
	fprintf(f, "    %-32s DS %-9s %-24s %s\n", get_str(v, "domain", NULL),
		get_str(v, "ds", "action"), code, cds_report_reason_text(code ? code : ""));
	json_object *ns_rs = get_arr(v, "ns", "reasons");
	const char *ns_code = json_object_get_string(json_object_array_get_idx(ns_rs, 0));
	if (strcmp(get_str(v, "ns", "action"), "none") != 0)
		fprintf(f, "    %-32s NS %-9s %-24s %s\n", "", get_str(v, "ns", "action"), ns_code,
			cds_report_reason_text(ns_code ? ns_code : ""));
	if (row->flagged)
		fprintf(f, "    %-32s a nameserver has been unusable for %u consecutive scans\n", "",
			row->failures);
}

/* What a domain was before, in words: "not rejected (DS none, NS none)",
 * "rejected: bogus", "first scan". */
static void before_text(json_object *t, FILE *f)
{
	json_object *p = NULL;
	char codes[512];
	if (!json_object_object_get_ex(t, "previous", &p) || !p) {
		fputs("first scan", f);
		return;
	}
	json_object *rej = get_arr(t, "previous", "rejected");
	if (json_object_array_length(rej) > 0)
		fprintf(f, "rejected: %s", codes_text(rej, codes, sizeof(codes)));
	else
		fprintf(f, "not rejected (DS %s, NS %s)", get_str(p, "ds", NULL),
			get_str(p, "ns", NULL));
	json_object *dry = NULL;
	json_object_object_get_ex(p, "dry_run", &dry);
	fprintf(f, ", scan of %s%s", get_str(p, "scanned_at", NULL),
		json_object_get_boolean(dry) ? ", a dry run" : "");
}

/* A group's new rejections and fixed domains. */
static void text_trends(const struct group *g, FILE *f)
{
	char codes[512];
	for (int pass = 0; pass < 2; pass++) {
		struct trend_reader t = trends_begin(g->trends, pass ? 'F' : 'N');
		const char *line;
		if (pass ? g->c.fixed : g->c.new_rejections)
			fprintf(f, "  %s:\n", pass ? "fixed" : "new rejections");
		while ((line = next_trend(&t))) {
			json_object *o = json_tokener_parse(line);
			if (!o)
				continue;
			fprintf(f, "    %-32s ", get_str(o, "domain", NULL));
			if (pass)
				fprintf(f, "now DS %s, NS %s (%s); before: ", get_str(o, "ds", NULL),
					get_str(o, "ns", NULL),
					codes_text(get(o, "reasons"), codes, sizeof(codes)));
			else
				fprintf(f, "%s; before: ",
					codes_text(get(o, "rejected"), codes, sizeof(codes)));
			before_text(o, f);
			fputc('\n', f);
			json_object_put(o);
		}
	}
}

/* One registry profile's part: counts, trends, domains. */
static void text_group(const struct cds_report *r, const struct group *g, FILE *f)
{
	const struct counts *c = &g->c;
	if (g->name)
		fprintf(f, "\nregistry profile %s:", g->name);
	else
		fputs("\nno registry profile:", f);
	fprintf(f, " %llu domains scanned, %llu change sets created\n",
		(unsigned long long)c->domains, (unsigned long long)c->changesets);
	actions_text(f, "  DS", c->ds);
	actions_text(f, "; NS", c->ns);
	if (r->compared)
		fprintf(f, "\n  against the previous scan: %llu new rejections, %llu fixed, %llu still "
			   "rejected, %llu first scans\n",
			(unsigned long long)c->new_rejections, (unsigned long long)c->fixed,
			(unsigned long long)c->still_rejected, (unsigned long long)c->first_scans);
	else
		fputc('\n', f);
	text_trends(g, f);
	fprintf(f, "  domains with an action or a rejection:%s\n", g->nrows ? "" : " none");
	struct row_reader rd = rows_begin(g->rows);
	while (next_row(&rd))
		text_row(f, &rd.row);
}

static void write_text(const struct cds_report *r, FILE *f, const char *a, const char *b)
{
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	fprintf(f, "cdscan scan report%s\nstarted %s, finished %s\n\n",
		r->dry_run ? " (dry run: no change set was created)" : "", a, b);
	write_counts_text(r, f);
	if (r->compared)
		fprintf(f, "\nagainst the previous scan (each delegation's newest earlier result %s): "
			   "%llu new rejections, %llu fixed, %llu still rejected, %llu first scans\n",
			previous_basis(r),
			(unsigned long long)r->all.new_rejections, (unsigned long long)r->all.fixed,
			(unsigned long long)r->all.still_rejected,
			(unsigned long long)r->all.first_scans);
	if (r->nskipped || r->nunrouted) {
		fputc('\n', f);
		write_registry_notes(r, f, false);
	}
	for (size_t i = 0; i < n; i++)
		text_group(r, order[i], f);
	if (r->ncandidates == 0)
		return;
	fprintf(f, "\nbootstrap candidates (accept-after-delay, on the clock):\n");
	struct candidate c;
	rewind(r->candidates);
	while (next_candidate(r->candidates, &c)) {
		char ts[32];
		cds_time_format((time_t)c.first, ts, sizeof(ts));
		fprintf(f, "  %-32s %u of %u scans, %lld of %lld hours, first seen %s\n", c.domain,
			c.scans, c.needed, candidate_hours(&c), c.delay / 3600, ts);
	}
}

/* --------------------------------------------------------------- HTML --- */

static const char *action_colour(int a)
{
	static const char *const c[] = {"#9aa5b1", "#2f9e44", "#1971c2", "#7048e8", "#e03131"};
	return c[a];
}

/* One self-contained file: no external script, style or font, so that an
 * operator can open it anywhere or mail it. */
static void html_head(const struct cds_report *r, FILE *f, const char *a, const char *b)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>cdscan scan report</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin:1em 0}\n"
	      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\n"
	      "th{background:#f1f3f5}.num{text-align:right}.flag{color:#e03131}\n"
	      "tr.hidden{display:none}code{font-size:90%;word-break:break-all}\n"
	      "td.why{min-width:16em}tr.group th{background:#e7f5ff}\n</style></head><body>\n", f);
	fprintf(f, "<h1>cdscan scan report</h1>\n<p>Started %s, finished %s.%s</p>\n", a, b,
		r->dry_run ? " <strong>Dry run: no change set was created.</strong>" : "");
	fprintf(f, "<table id=\"summary\"><tr><th>domains scanned</th><td class=\"num\">%llu</td>"
		   "</tr><tr><th>change sets created</th><td class=\"num\">%llu</td></tr>"
		   "<tr><th>rejected</th><td class=\"num\">%llu</td></tr>"
		   "<tr><th>flagged unreachable</th><td class=\"num\">%llu</td></tr>",
		(unsigned long long)r->all.domains, (unsigned long long)r->all.changesets,
		(unsigned long long)r->all.rejects, (unsigned long long)r->all.flagged);
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->all.ds[k])
			fprintf(f, "<tr><th>DS %s</th><td class=\"num\">%llu</td></tr>",
				cds_action_name((enum cds_action)k), (unsigned long long)r->all.ds[k]);
	fputs("</table>\n", f);
}

/* A horizontal bar chart in inline SVG: one bar per reason, split by the
 * action the verdicts with that reason took. */
static void html_chart(const struct cds_report *r, FILE *f)
{
	fputs("<h2>Actions per reason</h2>\n", f);
	uint64_t max = 1;
	int bars = 0;
	for (int k = 0; k < CDS_R_COUNT; k++) {
		if (r->all.reasons[k] > max)
			max = r->all.reasons[k];
		bars += r->all.reasons[k] > 0;
	}
	fprintf(f, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" "
		   "height=\"%d\" role=\"img\" aria-label=\"actions per reason\">\n",
		bars * 22 + 30);
	int y = 0;
	for (int k = 0; k < CDS_R_COUNT; k++) {
		if (!r->all.reasons[k])
			continue;
		fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s</text>", y + 14,
			cds_reason_code((enum cds_reason)k));
		double x = 180;
		for (int act = 0; act < CDS_ACTION_COUNT; act++) {
			uint64_t n = r->reason_action[k][act];
			if (!n)
				continue;
			double w = 480.0 * (double)n / (double)max;
			fprintf(f, "<rect class=\"bar\" data-reason=\"%s\" data-action=\"%s\" x=\"%.1f\" "
				   "y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>%s: %llu "
				   "%s</title></rect>",
				cds_reason_code((enum cds_reason)k), cds_action_name((enum cds_action)act),
				x, y + 2, w, action_colour(act), cds_reason_code((enum cds_reason)k),
				(unsigned long long)n, cds_action_name((enum cds_action)act));
			x += w;
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\">%llu</text>\n", x + 6, y + 14,
			(unsigned long long)r->all.reasons[k]);
		y += 22;
	}
	fprintf(f, "<g font-size=\"12\">");
	for (int act = 0, x = 0; act < CDS_ACTION_COUNT; act++, x += 110)
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			   "<text x=\"%d\" y=\"%d\">%s</text>",
			x, y + 8, action_colour(act), x + 16, y + 18, cds_action_name((enum cds_action)act));
	fputs("</g></svg>\n", f);
}

/* One domain's row: its reasons (for the filter), DS action, why, what is
 * added and removed, NS action. */
static void html_row(FILE *f, const struct row *row)
{
	json_object *v = row->verdict;
	json_object *dsr = get_arr(v, "ds", "reasons"), *nsr = get_arr(v, "ns", "reasons");
	fputs("<tr data-reasons=\"", f);
	for (size_t k = 0; k < json_object_array_length(dsr); k++)
		fprintf(f, "%s ", json_object_get_string(json_object_array_get_idx(dsr, k)));
	for (size_t k = 0; k < json_object_array_length(nsr); k++)
		fprintf(f, "%s ", json_object_get_string(json_object_array_get_idx(nsr, k)));
	fputs("\"><td>", f);
	cds_report_html_escape(f, get_str(v, "domain", NULL));
	fprintf(f, "</td><td>%s</td><td>", get_str(v, "ds", "action"));
	for (size_t k = 0; k < json_object_array_length(dsr); k++)
		fprintf(f, "<code>%s</code> ", json_object_get_string(json_object_array_get_idx(dsr, k)));
	fputs("</td><td class=\"why\">", f);
	const char *code = json_object_get_string(json_object_array_get_idx(dsr, 0));
	cds_report_html_escape(f, cds_report_reason_text(code ? code : ""));
	if (row->flagged)
		fprintf(f, " <span class=\"flag\">(a nameserver has been unusable for %u "
			   "consecutive scans)</span>",
			row->failures);
	fputs("</td>", f);
	const char *lists[2] = {"add", "rem"};
	for (int l = 0; l < 2; l++) {
		json_object *arr = get_arr(v, "ds", lists[l]);
		fputs("<td>", f);
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			fputs("<code>", f);
			json_object *item = json_object_array_get_idx(arr, k);
			cds_report_html_escape(f, json_object_get_string(item));
			fputs("</code><br>", f);
		}
		fputs("</td>", f);
	}
	fprintf(f, "<td>%s</td></tr>\n", get_str(v, "ns", "action"));
}

/* "registry profile NAME" (with title) or "no registry profile", as HTML. */
static void html_group_name(FILE *f, const struct group *g, bool title)
{
	if (!g->name) {
		fputs("<em>no registry profile</em>", f);
		return;
	}
	fputs(title ? "registry profile <code>" : "", f);
	cds_report_html_escape(f, g->name);
	fputs(title ? "</code>" : "", f);
}

/* The domains with an action or a rejection, with a filter by reason: a
 * tbody per registry profile, headed by its name. */
static void html_domains(const struct cds_report *r, FILE *f)
{
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	fputs("<h2>Domains with an action or a rejection</h2>\n<p><label>Reason: "
	      "<select id=\"filter\"><option value=\"\">all</option>",
	      f);
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (r->all.reasons[k])
			fprintf(f, "<option value=\"%s\">%s (%llu)</option>",
				cds_reason_code((enum cds_reason)k), cds_reason_code((enum cds_reason)k),
				(unsigned long long)r->all.reasons[k]);
	fputs("</select></label> <span id=\"shown\"></span></p>\n<table id=\"domains\"><thead><tr>"
	      "<th>domain</th><th>DS</th><th>reasons</th><th>why</th><th>add</th><th>remove</th>"
	      "<th>NS</th></tr></thead>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tbody data-registry=\"", f);
		cds_report_html_escape(f, order[i]->name ? order[i]->name : "");
		fputs("\"><tr class=\"group\"><th colspan=\"7\">", f);
		html_group_name(f, order[i], true);
		fputs("</th></tr>\n", f);
		struct row_reader rd = rows_begin(order[i]->rows);
		while (next_row(&rd))
			html_row(f, &rd.row);
		fputs("</tbody>\n", f);
	}
	fputs("</table>\n", f);
}

/* One number cell per action of n: DS all five, NS none, update, reject. */
static void html_action_cells(FILE *f, const uint64_t *n, bool ns)
{
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (!ns || k == CDS_ACTION_NONE || k == CDS_ACTION_UPDATE || k == CDS_ACTION_REJECT)
			fprintf(f, "<td class=\"num\">%llu</td>", (unsigned long long)n[k]);
}

/* Per registry profile: counts and trends, one row each. */
static void html_registries(const struct cds_report *r, FILE *f)
{
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	fputs("<h2>Registry profiles</h2>\n<table id=\"registries\"><thead><tr><th>profile</th>"
	      "<th>domains</th>",
	      f);
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		fprintf(f, "<th>DS %s</th>", cds_action_name((enum cds_action)k));
	fputs("<th>NS none</th><th>NS update</th><th>NS reject</th><th>change sets</th>"
	      "<th>new rejections</th><th>fixed</th><th>still rejected</th><th>first scans</th>"
	      "</tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const struct counts *c = &order[i]->c;
		fputs("<tr data-registry=\"", f);
		cds_report_html_escape(f, order[i]->name ? order[i]->name : "");
		fputs("\"><td>", f);
		html_group_name(f, order[i], false);
		fprintf(f, "</td><td class=\"num\">%llu</td>", (unsigned long long)c->domains);
		html_action_cells(f, c->ds, false);
		html_action_cells(f, c->ns, true);
		fprintf(f, "<td class=\"num\">%llu</td><td class=\"num new\">%llu</td>"
			   "<td class=\"num fixed\">%llu</td><td class=\"num\">%llu</td>"
			   "<td class=\"num\">%llu</td></tr>\n",
			(unsigned long long)c->changesets, (unsigned long long)c->new_rejections,
			(unsigned long long)c->fixed, (unsigned long long)c->still_rejected,
			(unsigned long long)c->first_scans);
	}
	fputs("</tbody></table>\n", f);
}

/* One trend line as a table row: domain, what it is now, what it was. */
static void html_trend_row(FILE *f, json_object *o, bool fixed)
{
	char codes[512];
	fprintf(f, "<tr class=\"%s\"><td>", fixed ? "fixed" : "new-rejection");
	cds_report_html_escape(f, get_str(o, "domain", NULL));
	fprintf(f, "</td><td>%s</td><td>DS %s, NS %s</td><td>", fixed ? "fixed" : "new rejection",
		get_str(o, "ds", NULL), get_str(o, "ns", NULL));
	codes_text(get(o, fixed ? "reasons" : "rejected"), codes, sizeof(codes));
	cds_report_html_escape(f, codes);
	fputs("</td><td>", f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		before_text(o, m);
		fclose(m);
		cds_report_html_escape(f, buf ? buf : "");
	}
	free(buf);
	fputs("</td></tr>\n", f);
}

/* Per registry profile, the domains newly rejected and those fixed. */
static void html_trends(const struct cds_report *r, FILE *f)
{
	const struct group *order[MAX_GROUPS];
	size_t n = groups_sorted(r, order);
	if (!r->compared)
		return;
	fprintf(f, "<h2>Against the previous scan</h2>\n<p>Each domain's verdict compared with its "
		   "delegation's newest earlier result %s: <strong>%llu</strong> new rejections, "
		   "<strong>%llu</strong> fixed, %llu still rejected (for the same reasons), %llu "
		   "first scans.</p>\n",
		previous_basis(r),
		(unsigned long long)r->all.new_rejections, (unsigned long long)r->all.fixed,
		(unsigned long long)r->all.still_rejected, (unsigned long long)r->all.first_scans);
	for (size_t i = 0; i < n; i++) {
		const struct group *g = order[i];
		if (!g->c.new_rejections && !g->c.fixed)
			continue;
		fputs("<h3>", f);
		html_group_name(f, g, true);
		fputs("</h3>\n<table class=\"trends\" data-registry=\"", f);
		cds_report_html_escape(f, g->name ? g->name : "");
		fputs("\"><thead><tr><th>domain</th><th>trend</th><th>now</th><th>reasons</th>"
		      "<th>before</th></tr></thead><tbody>\n",
		      f);
		for (int pass = 0; pass < 2; pass++) {
			struct trend_reader t = trends_begin(g->trends, pass ? 'F' : 'N');
			const char *line;
			while ((line = next_trend(&t))) {
				json_object *o = json_tokener_parse(line);
				if (o)
					html_trend_row(f, o, pass == 1);
				json_object_put(o);
			}
		}
		fputs("</tbody></table>\n", f);
	}
}

static void html_candidates(const struct cds_report *r, FILE *f)
{
	if (!r->ncandidates)
		return;
	fputs("<h2>Bootstrap candidates (accept-after-delay)</h2>\n<table id=\"candidates\">"
	      "<thead><tr><th>domain</th><th>scans</th><th>hours</th><th>first seen</th>"
	      "</tr></thead><tbody>\n",
	      f);
	struct candidate c;
	rewind(r->candidates);
	while (next_candidate(r->candidates, &c)) {
		char ts[32];
		cds_time_format((time_t)c.first, ts, sizeof(ts));
		fputs("<tr><td>", f);
		cds_report_html_escape(f, c.domain);
		fprintf(f, "</td><td>%u of %u</td><td>%lld of %lld</td><td>%s</td></tr>\n",
			c.scans, c.needed, candidate_hours(&c), c.delay / 3600, ts);
	}
	fputs("</tbody></table>\n", f);
}

/* One self-contained file: no external script, style or font, so that an
 * operator can open it anywhere or mail it. */
static void write_html(const struct cds_report *r, FILE *f, const char *a, const char *b)
{
	html_head(r, f, a, b);
	html_chart(r, f);
	html_registries(r, f);
	html_trends(r, f);
	html_domains(r, f);
	write_registry_notes(r, f, true);
	html_candidates(r, f);
	/* The filter: a reason chosen in the list, or given as #reason=CODE in
	 * the address (so that a link can point at one reason). */
	fputs("<script>\n"
	      "(function(){\n"
	      "var sel=document.getElementById('filter');\n"
	      "function apply(){var want=sel.value,n=0;\n"
	      " document.querySelectorAll('#domains tbody tr[data-reasons]').forEach(function(tr){\n"
	      "  var show=!want||(' '+tr.dataset.reasons).indexOf(' '+want+' ')>=0;\n"
	      "  tr.classList.toggle('hidden',!show);if(show)n++;});\n"
	      " document.getElementById('shown').textContent=n+' shown';}\n"
	      "var m=location.hash.match(/reason=([a-z0-9-]+)/);if(m)sel.value=m[1];\n"
	      "sel.addEventListener('change',apply);apply();\n"
	      "})();\n</script>\n</body></html>\n",
	      f);
}

void cds_report_progress(const struct cds_report *r, uint64_t total, double elapsed_s, bool tty,
			 bool final)
{
	uint64_t done = r->all.domains;
	double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
	double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
	if (tty) {
		fprintf(stderr, "\rscanned %llu/%llu  %.0f/s  ETA %.0fs  rejects %llu   %s",
			(unsigned long long)done, (unsigned long long)total, rate, eta,
			(unsigned long long)r->all.rejects, final ? "\n" : "");
		fflush(stderr);
	} else {
		cds_log_info("progress (scanned %llu of %llu, %.0f/s, eta %.0fs, rejects %llu)",
			     (unsigned long long)done, (unsigned long long)total, rate, eta,
			     (unsigned long long)r->all.rejects);
	}
}

void cds_report_summary(const struct cds_report *r, double elapsed_s, FILE *f)
{
	fprintf(f,
		"scanned %llu delegations%s: DS update %llu, delete %llu, bootstrap %llu, reject "
		"%llu, none %llu; %llu change sets created (%.1f s)\n",
		(unsigned long long)r->all.domains, r->dry_run ? " (dry run)" : "",
		(unsigned long long)r->all.ds[CDS_ACTION_UPDATE],
		(unsigned long long)r->all.ds[CDS_ACTION_DELETE],
		(unsigned long long)r->all.ds[CDS_ACTION_BOOTSTRAP],
		(unsigned long long)r->all.ds[CDS_ACTION_REJECT], (unsigned long long)r->all.ds[CDS_ACTION_NONE],
		(unsigned long long)r->all.changesets, elapsed_s);
}

int cds_report_write(const struct cds_report *r, enum cds_report_format format, FILE *f)
{
	char a[32], b[32];
	cds_time_format(r->started, a, sizeof(a));
	cds_time_format(r->finished, b, sizeof(b));
	switch (format) {
	case CDS_REPORT_JSON:
		return write_json(r, f, a, b);
	case CDS_REPORT_HTML:
		write_html(r, f, a, b);
		return 0;
	default:
		write_text(r, f, a, b);
		return 0;
	}
}
