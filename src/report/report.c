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
 * written, so memory does not grow with the number of domains.
 */

struct cds_report {
	bool dry_run;
	unsigned flag_after;
	time_t started, finished;
	uint64_t domains, changesets, rejects, flagged;
	uint64_t ds[CDS_ACTION_COUNT], ns[CDS_ACTION_COUNT];
	uint64_t reasons[CDS_R_COUNT];
	uint64_t reason_action[CDS_R_COUNT][CDS_ACTION_COUNT]; /* for the chart's colours */
	FILE *spill;  /* the rows, one per line */
	size_t nrows;
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
	r->spill = tmpfile();
	r->candidates = tmpfile();
	r->unrouted = tmpfile();
	if (!r->spill || !r->candidates || !r->unrouted) {
		if (r->spill)
			fclose(r->spill);
		if (r->candidates)
			fclose(r->candidates);
		if (r->unrouted)
			fclose(r->unrouted);
		free(r);
		return NULL;
	}
	return r;
}

void cds_report_free(struct cds_report *r)
{
	if (!r)
		return;
	fclose(r->spill);
	fclose(r->candidates);
	fclose(r->unrouted);
	free(r);
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
	return r->domains;
}

uint64_t cds_report_rejects(const struct cds_report *r)
{
	return r->rejects;
}

uint64_t cds_report_changesets(const struct cds_report *r)
{
	return r->changesets;
}

uint64_t cds_report_ds_count(const struct cds_report *r, enum cds_action a)
{
	return r->ds[a];
}

void cds_report_times(struct cds_report *r, time_t started, time_t finished)
{
	r->started = started;
	r->finished = finished;
}

int cds_report_add(struct cds_report *r, const struct cds_verdict *v, unsigned failures,
		   bool changeset)
{
	bool unusable = false;
	for (size_t s = 0; s < v->server_count; s++)
		unusable |= !v->servers[s].ok;
	bool flagged = unusable && failures >= r->flag_after;
	r->domains++;
	r->ds[v->ds_side.action]++;
	r->ns[v->ns_side.action]++;
	for (size_t k = 0; k < v->ds_side.reason_count; k++) {
		r->reasons[v->ds_side.reasons[k]]++;
		r->reason_action[v->ds_side.reasons[k]][v->ds_side.action]++;
	}
	for (size_t k = 0; k < v->ns_side.reason_count; k++) {
		r->reasons[v->ns_side.reasons[k]]++;
		r->reason_action[v->ns_side.reasons[k]][v->ns_side.action]++;
	}
	r->changesets += changeset;
	r->flagged += flagged;
	r->rejects += v->ds_side.action == CDS_ACTION_REJECT || v->ns_side.action == CDS_ACTION_REJECT;
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
	int n = fprintf(r->spill, "%u %d %s\n", failures, flagged ? 1 : 0, s);
	free(s);
	if (n < 0)
		return -errno;
	r->nrows++;
	return 0;
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

static struct row_reader rows_begin(const struct cds_report *r)
{
	struct row_reader rd = {.f = r->spill};
	fflush(r->spill);
	rewind(r->spill);
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

/* --------------------------------------------------------------- JSON --- */

/* The report's head and summary, as one small object. */
static json_object *json_head(const struct cds_report *r, const char *a, const char *b)
{
	json_object *o = json_object_new_object(), *sum = json_object_new_object();
	json_object *ds = json_object_new_object(), *ns = json_object_new_object();
	json_object *reasons = json_object_new_object();
	if (!o || !sum || !ds || !ns || !reasons) {
		json_object_put(o);
		json_object_put(sum);
		json_object_put(ds);
		json_object_put(ns);
		json_object_put(reasons);
		return NULL;
	}
	json_object_object_add(o, "started_at", json_object_new_string(a));
	json_object_object_add(o, "finished_at", json_object_new_string(b));
	json_object_object_add(o, "dry_run", json_object_new_boolean(r->dry_run));
	json_object_object_add(sum, "domains", json_object_new_int64((int64_t)r->domains));
	for (int k = 0; k < CDS_ACTION_COUNT; k++) {
		if (r->ds[k])
			json_object_object_add(ds, cds_action_name((enum cds_action)k),
					       json_object_new_int64((int64_t)r->ds[k]));
		if (r->ns[k])
			json_object_object_add(ns, cds_action_name((enum cds_action)k),
					       json_object_new_int64((int64_t)r->ns[k]));
	}
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (r->reasons[k])
			json_object_object_add(reasons, cds_reason_code((enum cds_reason)k),
					       json_object_new_int64((int64_t)r->reasons[k]));
	json_object_object_add(sum, "ds", ds);
	json_object_object_add(sum, "ns", ns);
	json_object_object_add(sum, "reasons", reasons);
	json_object_object_add(sum, "change_sets", json_object_new_int64((int64_t)r->changesets));
	json_object_object_add(sum, "flagged_unreachable", json_object_new_int64((int64_t)r->flagged));
	json_object_object_add(o, "summary", sum);
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

/* Added to the contract: registry profiles' notes. */
static void json_registries(const struct cds_report *r, FILE *f)
{
	char line[CDS_DNAME_BUFSIZE + 2];
	bool first = true;
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
	fputs("]}", f);
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
	fputs(",\n  \"domains\": [", f);
	struct row_reader rd = rows_begin(r);
	bool first = true;
	while (next_row(&rd)) {
		fprintf(f, "%s\n    %s", first ? "" : ",",
			json_object_to_json_string_ext(rd.row.verdict, JSON_C_TO_STRING_PLAIN |
										JSON_C_TO_STRING_NOSLASHESCAPE));
		first = false;
	}
	fputs(first ? "]" : "\n  ]", f);
	json_candidates(r, f);
	json_registries(r, f);
	fputs("\n}\n", f);
	json_object_put(o);
	return 0;
}

/* --------------------------------------------------------------- text --- */

static void write_counts_text(const struct cds_report *r, FILE *f)
{
	fprintf(f, "domains scanned: %llu, change sets created: %llu\n",
		(unsigned long long)r->domains, (unsigned long long)r->changesets);
	fprintf(f, "DS actions:");
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->ds[k])
			fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
				(unsigned long long)r->ds[k]);
	fprintf(f, "\nNS actions:");
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->ns[k])
			fprintf(f, " %s %llu", cds_action_name((enum cds_action)k),
				(unsigned long long)r->ns[k]);
	fprintf(f, "\n\nreasons:\n");
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (r->reasons[k])
			fprintf(f, "  %8llu  %-24s %s\n", (unsigned long long)r->reasons[k],
				cds_reason_code((enum cds_reason)k), cds_reason_text((enum cds_reason)k));
}

static void write_text(const struct cds_report *r, FILE *f, const char *a, const char *b)
{
	fprintf(f, "cdscan scan report%s\nstarted %s, finished %s\n\n",
		r->dry_run ? " (dry run: no change set was created)" : "", a, b);
	write_counts_text(r, f);
	if (r->nskipped || r->nunrouted) {
		fputc('\n', f);
		write_registry_notes(r, f, false);
	}
	fprintf(f, "\ndomains with an action or a rejection:\n");
	struct row_reader rd = rows_begin(r);
	while (next_row(&rd)) {
		json_object *v = rd.row.verdict;
		json_object *rs = get_arr(v, "ds", "reasons");
		const char *code = json_object_get_string(json_object_array_get_idx(rs, 0));
		fprintf(f, "  %-32s DS %-9s %-24s %s\n", get_str(v, "domain", NULL),
			get_str(v, "ds", "action"), code, cds_report_reason_text(code));
		json_object *ns_rs = get_arr(v, "ns", "reasons");
		const char *ns_code = json_object_get_string(json_object_array_get_idx(ns_rs, 0));
		if (strcmp(get_str(v, "ns", "action"), "none") != 0)
			fprintf(f, "  %-32s NS %-9s %-24s %s\n", "", get_str(v, "ns", "action"),
				ns_code, cds_report_reason_text(ns_code));
		if (rd.row.flagged)
			fprintf(f, "  %-32s a nameserver has been unusable for %u consecutive "
				   "scans\n",
				"", rd.row.failures);
	}
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
	      "td.why{min-width:16em}\n</style></head><body>\n", f);
	fprintf(f, "<h1>cdscan scan report</h1>\n<p>Started %s, finished %s.%s</p>\n", a, b,
		r->dry_run ? " <strong>Dry run: no change set was created.</strong>" : "");
	fprintf(f, "<table id=\"summary\"><tr><th>domains scanned</th><td class=\"num\">%llu</td>"
		   "</tr><tr><th>change sets created</th><td class=\"num\">%llu</td></tr>"
		   "<tr><th>rejected</th><td class=\"num\">%llu</td></tr>"
		   "<tr><th>flagged unreachable</th><td class=\"num\">%llu</td></tr>",
		(unsigned long long)r->domains, (unsigned long long)r->changesets,
		(unsigned long long)r->rejects, (unsigned long long)r->flagged);
	for (int k = 0; k < CDS_ACTION_COUNT; k++)
		if (r->ds[k])
			fprintf(f, "<tr><th>DS %s</th><td class=\"num\">%llu</td></tr>",
				cds_action_name((enum cds_action)k), (unsigned long long)r->ds[k]);
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
		if (r->reasons[k] > max)
			max = r->reasons[k];
		bars += r->reasons[k] > 0;
	}
	fprintf(f, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" "
		   "height=\"%d\" role=\"img\" aria-label=\"actions per reason\">\n",
		bars * 22 + 30);
	int y = 0;
	for (int k = 0; k < CDS_R_COUNT; k++) {
		if (!r->reasons[k])
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
			(unsigned long long)r->reasons[k]);
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

/* The domains with an action or a rejection, with a filter by reason. */
static void html_domains(const struct cds_report *r, FILE *f)
{
	fputs("<h2>Domains with an action or a rejection</h2>\n<p><label>Reason: "
	      "<select id=\"filter\"><option value=\"\">all</option>",
	      f);
	for (int k = 0; k < CDS_R_COUNT; k++)
		if (r->reasons[k])
			fprintf(f, "<option value=\"%s\">%s (%llu)</option>",
				cds_reason_code((enum cds_reason)k), cds_reason_code((enum cds_reason)k),
				(unsigned long long)r->reasons[k]);
	fputs("</select></label> <span id=\"shown\"></span></p>\n<table id=\"domains\"><thead><tr>"
	      "<th>domain</th><th>DS</th><th>reasons</th><th>why</th><th>add</th><th>remove</th>"
	      "<th>NS</th></tr></thead><tbody>\n",
	      f);
	struct row_reader rd = rows_begin(r);
	while (next_row(&rd))
		html_row(f, &rd.row);
	fputs("</tbody></table>\n", f);
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
	html_domains(r, f);
	write_registry_notes(r, f, true);
	html_candidates(r, f);
	/* The filter: a reason chosen in the list, or given as #reason=CODE in
	 * the address (so that a link can point at one reason). */
	fputs("<script>\n"
	      "(function(){\n"
	      "var sel=document.getElementById('filter');\n"
	      "function apply(){var want=sel.value,n=0;\n"
	      " document.querySelectorAll('#domains tbody tr').forEach(function(tr){\n"
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
	uint64_t done = r->domains;
	double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
	double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
	if (tty) {
		fprintf(stderr, "\rscanned %llu/%llu  %.0f/s  ETA %.0fs  rejects %llu   %s",
			(unsigned long long)done, (unsigned long long)total, rate, eta,
			(unsigned long long)r->rejects, final ? "\n" : "");
		fflush(stderr);
	} else {
		cds_log_info("progress (scanned %llu of %llu, %.0f/s, eta %.0fs, rejects %llu)",
			     (unsigned long long)done, (unsigned long long)total, rate, eta,
			     (unsigned long long)r->rejects);
	}
}

void cds_report_summary(const struct cds_report *r, double elapsed_s, FILE *f)
{
	fprintf(f,
		"scanned %llu delegations%s: DS update %llu, delete %llu, bootstrap %llu, reject "
		"%llu, none %llu; %llu change sets created (%.1f s)\n",
		(unsigned long long)r->domains, r->dry_run ? " (dry run)" : "",
		(unsigned long long)r->ds[CDS_ACTION_UPDATE],
		(unsigned long long)r->ds[CDS_ACTION_DELETE],
		(unsigned long long)r->ds[CDS_ACTION_BOOTSTRAP],
		(unsigned long long)r->ds[CDS_ACTION_REJECT], (unsigned long long)r->ds[CDS_ACTION_NONE],
		(unsigned long long)r->changesets, elapsed_s);
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
