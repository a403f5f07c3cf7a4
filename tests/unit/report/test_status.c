/* Unit tests of the status page (src/report/status.c, advice.c): every
 * reason has advice in words; the page of an insecure delegation names
 * the RFC 9615 signal names under each nameserver; a rejected verdict's
 * reasons, words and advice appear; outside text is escaped; damaged
 * JSON is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/model.h"
#include "cdscan/report.h"

static void test_every_reason_has_advice(void **state)
{
	(void)state;
	for (int r = 0; r < CDS_R_COUNT; r++) {
		const char *code = cds_reason_code((enum cds_reason)r);
		const char *a = cds_report_reason_advice(code);
		if (strlen(a) < 20)
			fail_msg("reason %s has no advice", code);
	}
	assert_string_equal(cds_report_reason_advice("no-such-reason"), "");
	assert_string_equal(cds_report_reason_advice(NULL), "");
}

/* The page of json, as a string (caller frees). */
static char *page(const char *json, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	*rc = cds_report_status_html(json, f);
	fclose(f);
	return buf;
}

static const char insecure[] =
	"{\"domain\": \"child.test.\", \"zone\": \"test.\", \"ns\": [\"ns1.p.net.\", "
	"\"ns2.p.net.\"], \"ds\": [], \"glue\": {}, \"automation\": \"on\", \"removed\": false,"
	" \"next_scan_at\": \"2026-12-02T00:00:00Z\", \"consecutive_failures\": 0,"
	" \"failing\": [], \"change_sets\": [], \"verdicts\": [{\"scanned_at\": "
	"\"2026-12-01T00:00:00Z\", \"dry_run\": false, \"verdict\": {\"secure\": false,"
	" \"servers\": [{\"name\": \"ns1.p.net.\", \"address\": \"192.0.2.1\", \"ok\": false,"
	" \"error\": \"<script>alert(1)</script>\"}], \"ds\": {\"action\": \"reject\","
	" \"reasons\": [\"bootstrap-signal-missing\"], \"detail\": \"a&b\"}, \"ns\": "
	"{\"action\": \"none\", \"reasons\": [\"no-csync\"]}}}]}";

static void test_insecure_page(void **state)
{
	(void)state;
	int rc;
	char *html = page(insecure, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(html, "<code>_dsboot.child.test._signal.ns1.p.net.</code>"));
	assert_non_null(strstr(html, "<code>_dsboot.child.test._signal.ns2.p.net.</code>"));
	assert_non_null(strstr(html, "class=\"reason\">bootstrap-signal-missing</code>"));
	assert_non_null(strstr(html, cds_report_reason_advice("bootstrap-signal-missing")));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, "a&amp;b"));
	free(html);
}

static void test_secure_page_and_bad_json(void **state)
{
	(void)state;
	int rc;
	char *html = page("{\"domain\": \"s.test.\", \"ns\": [\"ns1.p.net.\"], \"ds\": "
			  "[\"1 13 2 AA\"], \"automation\": \"suspended\", \"suspension\": "
			  "{\"since\": \"2026-12-01T00:00:00Z\", \"by\": \"registry\", "
			  "\"registry_status\": \"serverUpdateProhibited\"}, \"verdicts\": [],"
			  " \"registry_status\": [\"ok\", \"<b>x</b>\"],"
			  " \"change_sets\": [{\"kind\": \"ds\", \"action\": \"update\", \"state\":"
			  " \"done\", \"add\": [\"2 13 2 BB\"], \"rem\": []}]}",
			  &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(html, "_dsboot."));
	assert_non_null(strstr(html, "Not scanned yet."));
	assert_non_null(strstr(html, "by the registry: <span id=\"suspension\">"
				     "serverUpdateProhibited</span>"));
	assert_non_null(strstr(html, "<code>2 13 2 BB</code>"));
	assert_non_null(strstr(html, "<td id=\"registry-status\">ok, &lt;b&gt;x&lt;/b&gt;</td>"));
	free(html);
	html = page("[1, 2]", &rc);
	assert_int_equal(rc, CDS_EDATA);
	free(html);
	html = page("{not json", &rc);
	assert_int_equal(rc, CDS_EDATA);
	free(html);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reason_has_advice),
		cmocka_unit_test(test_insecure_page),
		cmocka_unit_test(test_secure_page_and_bad_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
