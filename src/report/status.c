/* One domain's state as a small HTML page (the daemon's /status/DOMAIN for
 * a browser), from the JSON `domain show --json` prints.  Every text in
 * that JSON may come from outside (a child's nameserver errors and CSYNC,
 * a registry's message, an operator's reason): all of it is escaped. */
#include <json-c/json.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/report.h"
#include "report_internal.h"

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The member key of o as text, or "" (null and absent alike). */
static const char *str(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	const char *s = v ? json_object_get_string(v) : NULL;
	return s ? s : "";
}

static void esc(FILE *f, const char *s)
{
	cds_report_html_escape(f, s ? s : "");
}

/* The strings of an array, one per line. */
static void lines(FILE *f, json_object *arr)
{
	if (!json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		fputs(i ? "<br><code>" : "<code>", f);
		esc(f, json_object_get_string(json_object_array_get_idx(arr, i)));
		fputs("</code>", f);
	}
}

/* One row of a two-column table: a header and an escaped value. */
static void row(FILE *f, const char *id, const char *th, const char *value)
{
	fprintf(f, "<tr><th>%s</th><td id=\"%s\">", th, id);
	esc(f, value);
	fputs("</td></tr>\n", f);
}

static void head(FILE *f, const char *domain)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>cdscan: ",
	      f);
	esc(f, domain);
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin:1em 0}\n"
	      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\n"
	      "th{background:#f1f3f5}code{font-size:90%;word-break:break-all}\n"
	      ".bad{color:#e03131}\n</style></head><body>\n<h1 id=\"domain\">",
	      f);
	esc(f, domain);
	fputs("</h1>\n", f);
}

/* The glue object: NS name -> addresses. */
static void glue(FILE *f, json_object *g)
{
	if (!json_object_is_type(g, json_type_object))
		return;
	json_object_object_foreach(g, name, addrs)
	{
		esc(f, name);
		fputs(" ", f);
		lines(f, addrs);
		fputs("<br>", f);
	}
}

/* Zone, NS, DS, glue, and what automation does with the domain. */
static void delegation(FILE *f, json_object *d)
{
	json_object *susp = get(d, "suspension");
	fputs("<table id=\"delegation\">\n", f);
	row(f, "zone", "zone", str(d, "zone"));
	fputs("<tr><th>NS</th><td id=\"ns\">", f);
	lines(f, get(d, "ns"));
	fputs("</td></tr>\n<tr><th>DS</th><td id=\"ds\">", f);
	lines(f, get(d, "ds"));
	fputs("</td></tr>\n<tr><th>glue</th><td id=\"glue\">", f);
	glue(f, get(d, "glue"));
	fputs("</td></tr>\n<tr><th>automation</th><td id=\"automation\">", f);
	if (susp && json_object_is_type(susp, json_type_object)) {
		fputs("<span class=\"bad\">suspended</span> since ", f);
		esc(f, str(susp, "since"));
		fputs(" by ", f);
		esc(f, str(susp, "by"));
		fputs(": <span id=\"suspension\">", f);
		esc(f, str(susp, "reason"));
		fputs("</span>", f);
	} else {
		fputs(json_object_get_boolean(get(d, "opted_out")) ? "opted out" : "on", f);
	}
	fputs("</td></tr>\n", f);
	row(f, "baseline", "replay baseline", str(d, "replay_baseline"));
	row(f, "next-scan", "next scan", str(d, "next_scan_at"));
	row(f, "failures", "consecutive failed scans", str(d, "consecutive_failures"));
	if (get(d, "removed_at"))
		row(f, "removed", "removed from the zone", str(d, "removed_at"));
	fputs("</table>\n", f);
}

/* One side of a verdict: its action, reasons (codes and words), detail,
 * and what it adds and removes. */
static void side(FILE *f, json_object *v, const char *kind, const char *label)
{
	json_object *s = get(v, kind), *reasons = get(s, "reasons");
	fprintf(f, "<tr><th>%s</th><td id=\"%s-action\">", label, kind);
	esc(f, str(s, "action"));
	fprintf(f, "</td><td id=\"%s-reasons\">", kind);
	for (size_t i = 0;
	     json_object_is_type(reasons, json_type_array) && i < json_object_array_length(reasons);
	     i++) {
		const char *code = json_object_get_string(json_object_array_get_idx(reasons, i));
		fputs(i ? "<br><code class=\"reason\">" : "<code class=\"reason\">", f);
		esc(f, code);
		fputs("</code> ", f);
		esc(f, cds_report_reason_text(code ? code : ""));
	}
	fputs("</td><td>", f);
	esc(f, str(s, "detail"));
	fputs("</td><td>", f);
	lines(f, get(s, "add"));
	fputs("</td><td>", f);
	lines(f, get(s, "rem"));
	fputs("</td></tr>\n", f);
}

/* What every nameserver address answered. */
static void servers(FILE *f, json_object *list)
{
	if (!json_object_is_type(list, json_type_array))
		return;
	fputs("<table id=\"servers\"><thead><tr><th>nameserver</th><th>address</th><th>answer</th>"
	      "<th>CDS</th><th>CDNSKEY</th><th>CSYNC</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		bool ok = json_object_get_boolean(get(s, "ok"));
		fputs("<tr><td>", f);
		esc(f, str(s, "name"));
		fputs("</td><td>", f);
		esc(f, str(s, "address"));
		fputs(ok ? "</td><td>ok" : "</td><td class=\"bad\">", f);
		if (!ok)
			esc(f, str(s, "error"));
		fputs("</td><td>", f);
		lines(f, get(s, "cds"));
		fputs("</td><td>", f);
		lines(f, get(s, "cdnskey"));
		fputs("</td><td>", f);
		esc(f, str(s, "csync"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* The newest verdict in full. */
static void latest(FILE *f, json_object *entry)
{
	json_object *v = get(entry, "verdict");
	fputs("<h2>Latest verdict</h2>\n<p>Scanned <span id=\"scanned-at\">", f);
	esc(f, str(entry, "scanned_at"));
	fputs("</span>", f);
	if (json_object_get_boolean(get(entry, "dry_run")))
		fputs(" (dry run: no change set was made)", f);
	fprintf(f, "; the DS set %s the child's keys.</p>\n",
		json_object_get_boolean(get(v, "secure")) ? "authenticates"
							  : "does not authenticate");
	fputs("<table id=\"verdict\"><thead><tr><th></th><th>action</th><th>reasons</th>"
	      "<th>detail</th><th>add</th><th>remove</th></tr></thead><tbody>\n",
	      f);
	side(f, v, "ds", "DS");
	side(f, v, "ns", "NS");
	fputs("</tbody></table>\n", f);
	servers(f, get(v, "servers"));
}

/* The older verdicts, one line each. */
static void earlier(FILE *f, json_object *verdicts)
{
	size_t n = json_object_array_length(verdicts);
	if (n < 2)
		return;
	fputs("<h2>Earlier verdicts</h2>\n<ul id=\"earlier\">\n", f);
	for (size_t i = 1; i < n; i++) {
		json_object *e = json_object_array_get_idx(verdicts, i), *v = get(e, "verdict");
		fputs("<li>", f);
		esc(f, str(e, "scanned_at"));
		fputs(": DS ", f);
		esc(f, str(get(v, "ds"), "action"));
		fputs(", NS ", f);
		esc(f, str(get(v, "ns"), "action"));
		fputs(json_object_get_boolean(get(e, "dry_run")) ? " (dry run)</li>\n" : "</li>\n",
		      f);
	}
	fputs("</ul>\n", f);
}

/* Table cells, each escaped. */
static void cells(FILE *f, const char *const *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		fputs("<td>", f);
		esc(f, v[k]);
		fputs("</td>", f);
	}
}

/* Addresses that gave no usable answer, and since when. */
static void failing(FILE *f, json_object *list)
{
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
		return;
	fputs("<h2>Failing nameserver addresses</h2>\n<table id=\"failing\"><thead><tr>"
	      "<th>nameserver</th><th>address</th><th>since</th><th>scans</th><th>last error</th>"
	      "<th>left out</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *a = json_object_array_get_idx(list, i);
		const char *row[] = {str(a, "name"), str(a, "address"), str(a, "since"),
				     str(a, "failures"), str(a, "error")};
		fputs("<tr>", f);
		cells(f, row, sizeof(row) / sizeof(row[0]));
		fprintf(f, "<td>%s</td></tr>\n",
			json_object_get_boolean(get(a, "excluded")) ? "yes" : "no");
	}
	fputs("</tbody></table>\n", f);
}

/* The change sets not yet done. */
static void changes(FILE *f, json_object *list)
{
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
		return;
	fputs("<h2>Open change sets</h2>\n<table id=\"changes\"><thead><tr><th>id</th><th>kind</th>"
	      "<th>action</th><th>state</th><th>add</th><th>remove</th><th>attempts</th>"
	      "<th>last error</th><th>created</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i);
		const char *before[] = {str(c, "id"), str(c, "kind"), str(c, "action"),
					str(c, "state")};
		const char *after[] = {str(c, "attempts"), str(c, "last_error"),
				       str(c, "created_at")};
		fputs("<tr>", f);
		cells(f, before, 4);
		fputs("<td>", f);
		lines(f, get(c, "add"));
		fputs("</td><td>", f);
		lines(f, get(c, "rem"));
		fputs("</td>", f);
		cells(f, after, 3);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

int cds_report_status_html(const char *json, FILE *f)
{
	json_object *d = json_tokener_parse(json);
	if (!json_object_is_type(d, json_type_object)) {
		json_object_put(d);
		return CDS_EDATA;
	}
	json_object *verdicts = get(d, "verdicts");
	head(f, str(d, "domain"));
	delegation(f, d);
	if (json_object_is_type(verdicts, json_type_array) &&
	    json_object_array_length(verdicts) > 0) {
		latest(f, json_object_array_get_idx(verdicts, 0));
		earlier(f, verdicts);
	} else {
		fputs("<h2>Latest verdict</h2>\n<p id=\"no-verdict\">Not scanned yet.</p>\n", f);
	}
	failing(f, get(d, "failing"));
	changes(f, get(d, "change_sets"));
	fputs("</body></html>\n", f);
	json_object_put(d);
	return ferror(f) ? CDS_ENOMEM : 0;
}
