/* Unit tests of the notifier's parts: template expansion and its checks at
 * load (file:line:column and key), mail addresses, the RFC 5322 message
 * (no header injection through a value, RFC 2047 for non-ASCII, quoted-
 * printable body), the placeholder values from a stored verdict, and the
 * webhook's HMAC-SHA256 signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "cdscan/error.h"
#include "cdscan/notifier.h"
#include "cdscan/util.h"

static void test_template(void **state)
{
	const char *names[] = {"domain", "reason"};
	const char *values[] = {"example.test", "bogus"};
	char *out = NULL, bad[64];
	size_t at = 0;
	assert_int_equal(cds_template_expand("{domain}: {reason} {{x}} }}", names, values, 2, &out,
					     &at, bad, sizeof(bad)),
			 0);
	assert_string_equal(out, "example.test: bogus {x} }");
	free(out);
	assert_int_equal(cds_template_expand("", names, values, 2, &out, &at, bad, sizeof(bad)), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(cds_template_expand("ok {domian} x", names, NULL, 2, NULL, &at, bad,
					     sizeof(bad)),
			 CDS_EDATA);
	assert_int_equal(at, 3);
	assert_string_equal(bad, "domian");
	assert_int_equal(cds_template_expand("a {domain", names, NULL, 2, NULL, &at, bad,
					     sizeof(bad)),
			 CDS_EDATA);
	assert_int_equal(at, 2);
	assert_int_equal(cds_template_expand("a } b", names, NULL, 2, NULL, &at, bad, sizeof(bad)),
			 CDS_EDATA);
	/* A value is never read as a template. */
	const char *tricky[] = {"{reason}", "x"};
	assert_int_equal(cds_template_expand("{domain}", names, tricky, 2, &out, &at, bad,
					     sizeof(bad)),
			 0);
	assert_string_equal(out, "{reason}");
	free(out);
}

/* A config with an unknown placeholder is refused naming file, line,
 * column and key. */
static void test_conf_placeholder(void **state)
{
	static const char yaml[] = "notifications:\n"
				   "  templates:\n"
				   "    signal-rejected:\n"
				   "      body: |\n"
				   "        Hello,\n"
				   "        see {domian} now\n";
	struct cds_conf c;
	struct cds_conf_error err;
	char msg[600];
	assert_int_equal(cds_conf_load_buffer(yaml, strlen(yaml), "n.yaml", &c, &err),
			 CDS_ECONFIG);
	cds_conf_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "n.yaml:6:13: key 'notifications.templates.signal-rejected.body'"
				    ": unknown placeholder {domian}"));
	static const char route[] = "notifications:\n"
				    "  channels:\n"
				    "    - {name: log, type: json, file: /tmp/x}\n"
				    "  default:\n"
				    "    suspended: [log, nosuch]\n";
	assert_int_equal(cds_conf_load_buffer(route, strlen(route), "r.yaml", &c, &err),
			 CDS_ECONFIG);
	cds_conf_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "r.yaml:5:16: key 'notifications.default.suspended': no "
				    "channel 'nosuch'"));
	static const char good[] = "notifications:\n"
				   "  channels:\n"
				   "    - {name: log, type: json, file: /tmp/x}\n"
				   "    - {name: m, type: mail, maildir: '/tmp/m/{contact}', from: a@b.example}\n"
				   "  default:\n"
				   "    suspended: [log, m]\n"
				   "registries:\n"
				   "  - name: r\n"
				   "    tlds: [test]\n"
				   "    notify:\n"
				   "      suspended: []\n";
	assert_int_equal(cds_conf_load_buffer(good, strlen(good), "g.yaml", &c, &err), 0);
	int idx[CDS_CONF_MAX_CHANNELS];
	assert_int_equal(cds_conf_channels_for(&c, NULL, CDS_EVENT_SUSPENDED, idx), 2);
	assert_int_equal(idx[1], 1);
	assert_int_equal(cds_conf_channels_for(&c, &c.registries[0], CDS_EVENT_SUSPENDED, idx), 0);
	assert_int_equal(cds_conf_channels_for(&c, &c.registries[0], CDS_EVENT_CHANGE_APPLIED, idx),
			 0);
	cds_conf_deinit(&c);
	static const char badfrom[] = "notifications:\n"
				      "  channels:\n"
				      "    - {name: m, type: mail, sendmail: [/usr/sbin/sendmail],"
				      " from: \"a@b.example\\r\\nBcc: x@y.example\"}\n";
	assert_int_equal(cds_conf_load_buffer(badfrom, strlen(badfrom), "f.yaml", &c, &err),
			 CDS_ECONFIG);
}

static void test_address(void **state)
{
	static const char *const good[] = {"a@b.example", "first.last+tag@sub.example.org",
					   "x_y-z@a-b.example"};
	static const char *const bad[] = {
		"", "a", "@b.example", "a@", "a@b", ".a@b.example", "a.@b.example", "a..b@c.example",
		"a@-b.example", "a@b-.example", "a b@c.example", "a@b.example\r\nBcc: e@f.example",
		"a/../x@b.example", "\"q\"@b.example", "a@b@c.example", "a@b..example",
		"-oQ/tmp/x@b.example"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(cds_mail_address_check(good[i], strlen(good[i])), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cds_mail_address_check(bad[i], strlen(bad[i])), CDS_EDATA);
	char longer[300];
	memset(longer, 'a', sizeof(longer));
	memcpy(longer + 60, "@", 1);
	memcpy(longer + 250, ".example", 9);
	assert_int_equal(cds_mail_address_check(longer, strlen(longer)), CDS_EDATA);
	assert_int_equal(cds_mail_address_check("a@b.example\0x", 13), CDS_EDATA);
}

/* The header lines of msg (up to the empty line), unfolded. */
static int header_lines(const char *msg)
{
	int n = 0;
	for (const char *p = msg; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
		if (*p != ' ' && *p != '\t')
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

static void test_message(void **state)
{
	struct cds_channel ch = {.from = "dnssec@registrar.example", .from_name = "Registrar"};
	char *msg = NULL;
	size_t len = 0;
	assert_int_equal(cds_notifier_mail_message(&ch, "bob@customer.example",
						   "x.test: refused\r\nBcc: eve@evil.example",
						   "line one\nsee = here\n", "id1", 1700000000, &msg,
						   &len),
			 0);
	assert_int_equal(header_lines(msg), 9);
	assert_null(strstr(msg, "\nBcc:"));
	assert_non_null(strstr(msg, "Subject: x.test: refused  Bcc: eve@evil.example\n"));
	assert_non_null(strstr(msg, "From: Registrar <dnssec@registrar.example>\n"));
	assert_non_null(strstr(msg, "To: <bob@customer.example>\n"));
	assert_non_null(strstr(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"));
	assert_non_null(strstr(msg, "Message-ID: <id1@registrar.example>\n"));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=utf-8\n"));
	assert_non_null(strstr(msg, "\n\nline one\nsee =3D here\n"));
	free(msg);
	/* Non-ASCII: encoded words, none longer than 75 octets. */
	assert_int_equal(cds_notifier_mail_message(&ch, "bob@customer.example",
						   "Ändrad DNSSEC för räksmörgås.test", "é\n", "id2",
						   1700000000, &msg, &len),
			 0);
	char *s = strstr(msg, "Subject: =?UTF-8?B?");
	assert_non_null(s);
	for (char *w = strstr(s, "=?"); w && w < strstr(s, "\nDate"); w = strstr(w + 2, "=?"))
		assert_true(strstr(w, "?=") - w + 2 <= 75);
	assert_non_null(strstr(msg, "\n\n=C3=A9\n"));
	free(msg);
	/* A recipient that is no address is refused, never written. */
	assert_int_equal(cds_notifier_mail_message(&ch, "bob@x.example\nBcc: e@f.example", "s",
						   "b", "id3", 0, &msg, &len),
			 CDS_EDATA);
	assert_null(msg);
}

static void test_values(void **state)
{
	struct cds_db_delivery d = {.id = 1, .notice_id = 2, .event = CDS_EVENT_SIGNAL_REJECTED,
				    .domain = "bogus.test.", .streak = 1,
				    .created_at = "2026-12-02T08:00:00Z"};
	d.payload = "{\"domain\":\"bogus.test.\",\"ds\":{\"action\":\"reject\",\"reasons\":[\"bogus\"],"
		    "\"detail\":\"ns1 (127.0.0.1): no DNSKEY matches\",\"add\":[],\"rem\":[]},"
		    "\"ns\":{\"action\":\"none\",\"reasons\":[\"no-csync\"],\"add\":[],\"rem\":[]}}";
	char *v[CDS_PH_COUNT];
	assert_int_equal(cds_notifier_values(&d, "nic", "bob@customer.example", v), 0);
	assert_string_equal(v[CDS_PH_DOMAIN], "bogus.test");
	assert_string_equal(v[CDS_PH_REASON], "bogus");
	assert_non_null(strstr(v[CDS_PH_REASON_TEXT], "does not validate"));
	assert_string_equal(v[CDS_PH_DETAIL], "ns1 (127.0.0.1): no DNSKEY matches");
	assert_non_null(strstr(v[CDS_PH_ADVICE], "Fix the zone's signatures"));
	assert_string_equal(v[CDS_PH_DS_ADD], "(none)");
	assert_string_equal(v[CDS_PH_CONTACT], "bob@customer.example");
	assert_string_equal(v[CDS_PH_REGISTRY], "nic");
	cds_notifier_values_free(v);
	struct cds_db_delivery c = d;
	c.event = CDS_EVENT_CHANGE_APPLIED;
	c.payload = "{\"kind\":\"ds\",\"action\":\"update\",\"add\":[\"1 13 2 AB\"],\"rem\":[],"
		    "\"verdict\":null}";
	assert_int_equal(cds_notifier_values(&c, "", "", v), 0);
	assert_string_equal(v[CDS_PH_DS_ADD], "1 13 2 AB");
	assert_string_equal(v[CDS_PH_DS_REM], "(none)");
	assert_string_equal(v[CDS_PH_NS_ADD], "(none)");
	assert_string_equal(v[CDS_PH_EVENT], "change-applied");
	cds_notifier_values_free(v);
	c.payload = "not json";
	assert_int_equal(cds_notifier_values(&c, "", "", v), CDS_EDATA);
}

static void test_signature(void **state)
{
	char sig[80];
	const char *body = "{\"a\":1}";
	assert_int_equal(cds_notifier_signature("key", 3, "1700000000", body, strlen(body), sig,
						sizeof(sig)),
			 0);
	assert_string_equal(sig, "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e"
				 "22e6ad03");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template),   cmocka_unit_test(test_conf_placeholder),
		cmocka_unit_test(test_address),    cmocka_unit_test(test_message),
		cmocka_unit_test(test_values),     cmocka_unit_test(test_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
