/* Unit tests of what the HTTP endpoint decides without a socket: which
 * representation an Accept header prefers (src/daemon/http.c), and the
 * status page made from a domain's JSON (src/report/status.c), with
 * hostile strings in every field that comes from outside and JSON of the
 * wrong shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/http.h"
#include "cdscan/report.h"

static void test_accept(void **state)
{
	assert_false(cds_http_accept_html(NULL));
	assert_false(cds_http_accept_html(""));
	assert_false(cds_http_accept_html("*/*"));
	assert_false(cds_http_accept_html("application/json"));
	assert_true(cds_http_accept_html("text/html"));
	assert_true(cds_http_accept_html("TEXT/HTML"));
	assert_true(cds_http_accept_html("text/*"));
	/* Chromium's navigation. */
	assert_true(cds_http_accept_html(
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
		"image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"));
	/* A tie is JSON; the most specific range decides. */
	assert_false(cds_http_accept_html("text/html, application/json"));
	assert_false(cds_http_accept_html("text/html;q=0.5, application/json"));
	assert_true(cds_http_accept_html("application/json;q=0.9, text/html"));
	assert_false(cds_http_accept_html("text/html;q=0"));
	assert_false(cds_http_accept_html("text/*;q=0.9, text/html;q=0.1, */*;q=0.5"));
	assert_true(cds_http_accept_html("application/*;q=0.2, text/html;level=1;q=0.3"));
	/* Junk around a valid range. */
	assert_true(cds_http_accept_html(" , ,;;q=, text/html ;  q=0.8 , */*;q=0.1"));
	assert_false(cds_http_accept_html(";q=1,,,"));
	/* An overlong range is ignored, not truncated into another. */
	char big[400];
	memset(big, 'a', sizeof(big));
	memcpy(big, "text/html", 9);
	big[sizeof(big) - 1] = '\0';
	assert_false(cds_http_accept_html(big));
}

/* The page for json, as a string. */
static char *page(const char *json, int want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cds_report_status_html(json, f), want);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Every text that can come from outside (a child's servers, a registry)
 * holds markup; none of it may reach the page as markup.  The shape is
 * cds_db_domain_public_json's. */
static const char hostile[] =
	"{\"domain\": \"child.test.\", \"zone\": \"test.\", \"ns\": [\"ns1.<b>.test.\"],"
	" \"ds\": [\"1 13 2 AA\"], \"glue\": {\"<i>ns.child.test.\": [\"192.0.2.1\"]},"
	" \"automation\": \"suspended\", \"next_scan_at\": \"2026-12-01T00:00:00Z\","
	" \"suspension\": {\"since\": \"2026-11-30T00:00:00Z\", \"by\": \"registry\","
	"   \"registry_status\": \"<script>alert(1)</script>\"},"
	" \"failing\": [{\"name\": \"ns2.test.\", \"address\": \"192.0.2.2\", \"failures\": 3,"
	"   \"error\": \"\\\"><img src=x onerror=alert(2)>\", \"excluded\": true}],"
	" \"verdicts\": [{\"scanned_at\": \"2026-11-30T12:00:00Z\", \"dry_run\": false,"
	"   \"verdict\": {\"secure\": true, \"servers\": [{\"name\": \"ns1.test.\","
	"     \"address\": \"192.0.2.1\", \"ok\": false, \"error\": \"<svg onload=alert(3)>\","
	"     \"cds\": [\"<u>\"], \"csync\": \"1 3 NS <a href=x>\"}],"
	"     \"ds\": {\"action\": \"update\", \"reasons\": [\"ds-updated\", \"<em>x\"],"
	"       \"detail\": \"a & b\", \"add\": [\"2 13 2 BB\"], \"rem\": [\"1 13 2 AA\"]},"
	"     \"ns\": {\"action\": \"none\", \"reasons\": [\"no-csync\"]}}},"
	"   {\"scanned_at\": \"2026-11-29T12:00:00Z\", \"dry_run\": true, \"verdict\":"
	"     {\"ds\": {\"action\": \"<blink>\"}, \"ns\": {\"action\": \"none\"}}}],"
	" \"change_sets\": [{\"kind\": \"ds\", \"action\": \"update\","
	"   \"state\": \"</td></tr></table><script>alert(4)</script>\", \"add\": [],"
	"   \"rem\": []}]}";

static void test_status_escaped(void **state)
{
	char *html = page(hostile, 0);
	const char *markup[] = {"<script", "<img", "<b>",  "<i>",    "<svg",
				"<u>",     "<a ",  "<em>", "<blink>"};
	for (size_t i = 0; i < sizeof(markup) / sizeof(markup[0]); i++)
		assert_null(strstr(html, markup[i]));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
	assert_non_null(strstr(html, "a &amp; b"));
	assert_non_null(strstr(html, "<title>cdscan: child.test.</title>"));
	assert_non_null(strstr(html, "<h1 id=\"domain\">child.test.</h1>"));
	assert_non_null(strstr(html, "<td id=\"ds-action\">update</td>"));
	assert_non_null(strstr(html, "<td id=\"ns-action\">none</td>"));
	assert_non_null(strstr(html, "a valid, authenticated, consistent signal"));
	assert_non_null(strstr(html, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"));
	/* The structure is the page's own. */
	assert_int_equal(count(html, "<table"), count(html, "</table>"));
	assert_int_equal(count(html, "<tr>") + count(html, "<tr "), count(html, "</tr>"));
	assert_int_equal(count(html, "<html"), 1);
	free(html);
}

/* JSON that is no object is refused; fields of the wrong type or missing
 * give a page all the same (the store's JSON may change shape). */
static void test_status_shapes(void **state)
{
	free(page("[1, 2]", CDS_EDATA));
	free(page("not json", CDS_EDATA));
	free(page("", CDS_EDATA));
	char *html = page("{}", 0);
	assert_non_null(strstr(html, "Not scanned yet."));
	free(html);
	html = page("{\"domain\": 5, \"ns\": \"x\", \"glue\": [1], \"suspension\": \"y\","
		    " \"verdicts\": [7, {\"verdict\": [] }], \"failing\": {}, \"change_sets\":"
		    " [null, 3], \"removed\": true}",
		    0);
	assert_non_null(strstr(html, "<h1 id=\"domain\">5</h1>"));
	assert_non_null(strstr(html, "removed from the zone"));
	free(html);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_status_escaped),
		cmocka_unit_test(test_status_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
