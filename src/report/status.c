/* One domain's state as a small HTML page for its holder and DNS operator
 * (the daemon's /status/DOMAIN for a browser), from the public JSON of
 * cds_db_domain_public_json: what the parent holds, what each nameserver
 * served, the verdict with its reasons in words and what to do about
 * them, the RFC 9615 signal names an insecure delegation can publish, and
 * the history.  No script, usable as plain HTML.  Every text in that JSON
 * may come from outside (a child's nameserver errors and CSYNC, a
 * registry's status): all of it is escaped. */
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

/* How automation stands: on, opted out, or suspended since when, by
 * whom, and the registry's lock when that is the cause. */
static void automation(FILE *f, json_object *d)
{
	json_object *susp = get(d, "suspension");
	fputs("<tr><th>automation</th><td id=\"automation\">", f);
	if (susp && json_object_is_type(susp, json_type_object)) {
		fputs("<span class=\"bad\">suspended</span> since ", f);
		esc(f, str(susp, "since"));
		fputs(" by the ", f);
		esc(f, str(susp, "by"));
		if (get(susp, "registry_status")) {
			fputs(": <span id=\"suspension\">", f);
			esc(f, str(susp, "registry_status"));
			fputs("</span>", f);
		}
	} else {
		esc(f, str(d, "automation"));
	}
	fputs("</td></tr>\n", f);
	/* The statuses the last import --from epp read (a lock among them
	 * holds automation: the verdicts say so). */
	json_object *st = get(d, "registry_status");
	if (st && json_object_is_type(st, json_type_array)) {
		fputs("<tr><th>statuses at the registry</th><td id=\"registry-status\">", f);
		size_t n = json_object_array_length(st);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", f);
			esc(f, json_object_get_string(json_object_array_get_idx(st, i)));
		}
		fputs(n ? "" : "none", f);
		fputs("</td></tr>\n", f);
	}
}

/* Zone, NS, DS, glue, and what automation does with the domain. */
static void delegation(FILE *f, json_object *d)
{
	fputs("<h2>What the parent holds</h2>\n<table id=\"delegation\">\n", f);
	row(f, "zone", "zone", str(d, "zone"));
	fputs("<tr><th>NS</th><td id=\"ns\">", f);
	lines(f, get(d, "ns"));
	fputs("</td></tr>\n<tr><th>DS</th><td id=\"ds\">", f);
	lines(f, get(d, "ds"));
	fputs("</td></tr>\n<tr><th>glue</th><td id=\"glue\">", f);
	glue(f, get(d, "glue"));
	fputs("</td></tr>\n", f);
	automation(f, d);
	row(f, "next-scan", "next scan", str(d, "next_scan_at"));
	row(f, "failures", "consecutive failed scans", str(d, "consecutive_failures"));
	if (json_object_get_boolean(get(d, "removed")))
		row(f, "removed", "removed from the zone", "yes");
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
	fprintf(f, "</td><td class=\"advice\" id=\"%s-advice\">", kind);
	for (size_t i = 0;
	     json_object_is_type(reasons, json_type_array) && i < json_object_array_length(reasons);
	     i++) {
		fputs(i ? "<br>" : "", f);
		esc(f, cds_report_reason_advice(
			       json_object_get_string(json_object_array_get_idx(reasons, i))));
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
	/* secure_checked false: the scan asked no DNSKEY (no signal,
	 * scan.full-status off). */
	json_object *checked = get(v, "secure_checked");
	if (checked && !json_object_get_boolean(checked))
		fputs("; the DS set was not checked against the child's keys (no signal; "
		      "scan.full-status is off).</p>\n", f);
	else
		fprintf(f, "; the DS set %s the child's keys.</p>\n",
			json_object_get_boolean(get(v, "secure")) ? "authenticates"
								  : "does not authenticate");
	fputs("<table id=\"verdict\"><thead><tr><th></th><th>action</th><th>reasons</th>"
	      "<th>what to do</th><th>detail</th><th>add</th><th>remove</th></tr></thead><tbody>\n",
	      f);
	side(f, v, "ds", "DS");
	side(f, v, "ns", "NS");
	fputs("</tbody></table>\n<h2>What each nameserver served</h2>\n", f);
	servers(f, get(v, "servers"));
}

/* RFC 9615 §2: an insecure delegation's first DS can come from CDS and
 * CDNSKEY published at _dsboot.DOMAIN._signal.NS (DOMAIN without its
 * final dot), beside the apex signal, under each nameserver's name, in
 * that nameserver's own signed zone. */
static void bootstrap(FILE *f, json_object *d)
{
	json_object *ds = get(d, "ds"), *ns = get(d, "ns");
	if (json_object_is_type(ds, json_type_array) && json_object_array_length(ds) > 0)
		return;
	if (!json_object_is_type(ns, json_type_array))
		return;
	char child[256];
	snprintf(child, sizeof(child), "%s", str(d, "domain"));
	size_t n = strlen(child);
	if (n > 1 && child[n - 1] == '.')
		child[n - 1] = '\0';
	fputs("<h2>Getting a first DS (RFC 9615)</h2>\n<p>The delegation is insecure (no DS). "
	      "To have its first DS added automatically, sign the zone, publish CDS and CDNSKEY "
	      "at its apex, and the same records at each of these names, in the nameservers' own "
	      "signed zones:</p>\n<ul id=\"bootstrap\">\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(ns); i++) {
		fputs("<li><code>_dsboot.", f);
		esc(f, child);
		fputs("._signal.", f);
		esc(f, json_object_get_string(json_object_array_get_idx(ns, i)));
		fputs("</code></li>\n", f);
	}
	fputs("</ul>\n", f);
}

/* Reason codes in parentheses, comma-separated. */
static void codes(FILE *f, json_object *arr)
{
	if (!json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		fputs(i ? ", " : " (", f);
		esc(f, json_object_get_string(json_object_array_get_idx(arr, i)));
	}
	fputs(json_object_array_length(arr) ? ")" : "", f);
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
		codes(f, get(get(v, "ds"), "reasons"));
		fputs(", NS ", f);
		esc(f, str(get(v, "ns"), "action"));
		codes(f, get(get(v, "ns"), "reasons"));
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

/* The last change sets, whatever their state. */
static void changes(FILE *f, json_object *list)
{
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
		return;
	fputs("<h2>Changes at the parent</h2>\n<table id=\"changes\"><thead><tr><th>kind</th>"
	      "<th>action</th><th>state</th><th>add</th><th>remove</th><th>created</th>"
	      "<th>last update</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i);
		const char *before[] = {str(c, "kind"), str(c, "action"), str(c, "state")};
		const char *after[] = {str(c, "created_at"), str(c, "updated_at")};
		fputs("<tr>", f);
		cells(f, before, 3);
		fputs("<td>", f);
		lines(f, get(c, "add"));
		fputs("</td><td>", f);
		lines(f, get(c, "rem"));
		fputs("</td>", f);
		cells(f, after, 2);
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
	} else {
		fputs("<h2>Latest verdict</h2>\n<p id=\"no-verdict\">Not scanned yet.</p>\n", f);
	}
	bootstrap(f, d);
	if (json_object_is_type(verdicts, json_type_array))
		earlier(f, verdicts);
	failing(f, get(d, "failing"));
	changes(f, get(d, "change_sets"));
	fputs("</body></html>\n", f);
	json_object_put(d);
	return ferror(f) ? CDS_ENOMEM : 0;
}
