/* Unit tests of logging: thresholds, text and JSON lines, redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/log.h"

static char *capture(enum cds_log_level threshold, enum cds_log_format fmt,
		     enum cds_log_level level, const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cds_log_setup(threshold, fmt, f);
	cds_log(level, "%s", msg);
	fclose(f);
	cds_log_setup(CDS_LOG_INFO, CDS_LOG_TEXT, NULL);
	return buf;
}

static void test_threshold_and_text(void **state)
{
	char *out = capture(CDS_LOG_INFO, CDS_LOG_TEXT, CDS_LOG_DEBUG, "hidden");
	assert_string_equal(out, "");
	free(out);
	out = capture(CDS_LOG_INFO, CDS_LOG_TEXT, CDS_LOG_WARNING, "server down (127.0.0.2)");
	assert_non_null(strstr(out, " warning: server down (127.0.0.2)\n"));
	assert_non_null(strstr(out, "cdscan["));
	free(out);
}

/* A registry's <msg> with a newline cannot forge a second log line. */
static void test_text_forged_line(void **state)
{
	char *out = capture(CDS_LOG_INFO, CDS_LOG_TEXT, CDS_LOG_ERROR,
			    "2306 bad\n2026-12-01T00:00:00Z cdscan[1] notice: all good\r\x01");
	assert_non_null(strstr(out, "2306 bad\\n2026-12-01T00:00:00Z cdscan[1] notice: all good"
				    "\\r\\u0001\n"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
	free(out);
}

static void test_json(void **state)
{
	char *out = capture(CDS_LOG_DEBUG, CDS_LOG_JSON, CDS_LOG_ERROR, "bad \"name\"\n\x01");
	assert_non_null(strstr(out, "\"level\":\"error\""));
	assert_non_null(strstr(out, "\"msg\":\"bad \\\"name\\\"\\n\\u0001\"}\n"));
	assert_int_equal(out[0], '{');
	free(out);
}

static void test_levels(void **state)
{
	enum cds_log_level l;
	assert_int_equal(cds_log_level_parse("debug", &l), 0);
	assert_int_equal(l, CDS_LOG_DEBUG);
	assert_int_equal(cds_log_level_parse("loud", &l), -1);
	assert_string_equal(cds_log_level_name(CDS_LOG_NOTICE), "notice");
}

static void expect_redacted(const char *in, const char *want)
{
	char out[256];
	cds_log_redact_conninfo(in, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("redact '%s': got '%s', want '%s'", in, out, want);
	assert_null(strstr(out, "s3cret"));
}

static void test_redaction(void **state)
{
	expect_redacted("host=/tmp dbname=x", "host=/tmp dbname=x");
	expect_redacted("host=db password=s3cret dbname=x", "host=db password=*** dbname=x");
	expect_redacted("password = 's3 cret\\' s3cret' user=u", "password = *** user=u");
	expect_redacted("postgresql://u:s3cret@db:5432/x", "postgresql://u:***@db:5432/x");
	expect_redacted("postgres://u@db/x?password=s3cret&sslmode=require",
			"postgres://u@db/x?password=***&sslmode=require");
	expect_redacted("postgresql://db/x", "postgresql://db/x");
	/* The output never overflows and stays terminated. */
	char small[8];
	cds_log_redact_conninfo("password=s3cret", small, sizeof(small));
	assert_int_equal(strlen(small), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_and_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text_forged_line),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_redaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
