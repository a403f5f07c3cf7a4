/* Unit tests of RFC 9567 error reporting in the DNS layer: the
 * Report-Channel option read from an answer (src/dns/message.c) and the
 * report QNAME (src/dns/name.c): its form, the 255-octet limit, the agent
 * domain's validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

/* An answer to child.test. SOA (no records) with an OPT record holding
 * the given options (raw option bytes: code, length, data). */
static size_t answer_with_opt(uint8_t *m, const uint8_t *opts, size_t olen, int opt_count)
{
	static const uint8_t head[] = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t q[] = {5, 'c', 'h', 'i', 'l', 'd', 4, 't', 'e', 's', 't', 0, 0, 6, 0, 1};
	size_t o = 0;
	memcpy(m, head, sizeof(head));
	m[11] = (uint8_t)opt_count;
	o = sizeof(head);
	memcpy(m + o, q, sizeof(q));
	o += sizeof(q);
	for (int i = 0; i < opt_count; i++) {
		/* root owner, type 41, class 1232, TTL 0 (DO set), rdlength */
		const uint8_t rr[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0,
				      (uint8_t)(olen >> 8), (uint8_t)olen};
		memcpy(m + o, rr, sizeof(rr));
		o += sizeof(rr);
		memcpy(m + o, opts, olen);
		o += olen;
	}
	return o;
}

/* Option 18 with the wire name given. */
static size_t report_channel(uint8_t *out, const uint8_t *name, size_t nlen)
{
	out[0] = 0, out[1] = 18, out[2] = (uint8_t)(nlen >> 8), out[3] = (uint8_t)nlen;
	memcpy(out + 4, name, nlen);
	return 4 + nlen;
}

static const uint8_t AGENT[] = {5, 'A', 'g', 'e', 'n', 't', 4, 't', 'e', 's', 't', 0};

static void test_option_read(void **state)
{
	(void)state;
	uint8_t opts[600], m[1024];
	char agent[CDS_DNAME_BUFSIZE];
	/* A cookie option first (RFC 7873, code 10), then Report-Channel. */
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	memcpy(opts, cookie, sizeof(cookie));
	size_t ol = sizeof(cookie) + report_channel(opts + sizeof(cookie), AGENT, sizeof(AGENT));
	size_t n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), 0);
	assert_string_equal(agent, "agent.test."); /* lower-cased */
	/* No option 18: ENOENT; no OPT at all: ENOENT. */
	n = answer_with_opt(m, cookie, sizeof(cookie), 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_ENOENT);
	assert_string_equal(agent, "");
	n = answer_with_opt(m, opts, 0, 0);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_ENOENT);
}

static void test_option_rejected(void **state)
{
	(void)state;
	uint8_t opts[600], m[1300], name[300];
	char agent[CDS_DNAME_BUFSIZE];
	size_t ol, n;
	/* Longer than max-agent-length (12 octets here: 11 is the limit). */
	ol = report_channel(opts, AGENT, sizeof(AGENT));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 11, agent), CDS_EDATA);
	assert_int_equal(cds_answer_report_channel(m, n, 12, agent), 0);
	/* The root is no agent. */
	ol = report_channel(opts, (const uint8_t *)"\0", 1);
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	/* A compression pointer (RFC 9567 §5: uncompressed). */
	static const uint8_t ptr[] = {1, 'a', 0xc0, 12};
	ol = report_channel(opts, ptr, sizeof(ptr));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	/* Octets that would need escaping in a name: a dot, a space. */
	static const uint8_t dot[] = {3, 'a', '.', 'b', 4, 't', 'e', 's', 't', 0};
	static const uint8_t sp[] = {3, 'a', ' ', 'b', 0};
	ol = report_channel(opts, dot, sizeof(dot));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	ol = report_channel(opts, sp, sizeof(sp));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	/* Bytes after the name, or a name without its root label. */
	memcpy(name, AGENT, sizeof(AGENT));
	name[sizeof(AGENT)] = 7;
	ol = report_channel(opts, name, sizeof(AGENT) + 1);
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	ol = report_channel(opts, AGENT, sizeof(AGENT) - 1);
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	/* Two Report-Channel options, or two OPT records: no agent. */
	ol = report_channel(opts, AGENT, sizeof(AGENT));
	ol += report_channel(opts + ol, AGENT, sizeof(AGENT));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	assert_string_equal(agent, "");
	ol = report_channel(opts, AGENT, sizeof(AGENT));
	n = answer_with_opt(m, opts, ol, 2);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	assert_string_equal(agent, ""); /* not the first OPT's (found by the fuzz target) */
	/* An option whose length runs past the OPT rdata. */
	ol = report_channel(opts, AGENT, sizeof(AGENT));
	opts[3] = 40;
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n, 128, agent), CDS_EDATA);
	/* A truncated message. */
	ol = report_channel(opts, AGENT, sizeof(AGENT));
	n = answer_with_opt(m, opts, ol, 1);
	assert_int_equal(cds_answer_report_channel(m, n - 1, 128, agent), CDS_EDATA);
}

static void test_qname(void **state)
{
	(void)state;
	char out[CDS_DNAME_BUFSIZE];
	assert_int_equal(cds_error_report_qname("child.test.", CDS_T_CDS, 7, "agent.test.", out), 0);
	assert_string_equal(out, "_er.59.child.test.7._er.agent.test.");
	/* Names in any case, without the trailing dot. */
	assert_int_equal(cds_error_report_qname("Child.Test", CDS_T_DNSKEY, 9, "AGENT.net", out),
			 0);
	assert_string_equal(out, "_er.48.child.test.9._er.agent.net.");
	assert_int_equal(cds_error_report_qname("child.test.", CDS_T_CSYNC, 10, "a.b.c.", out), 0);
	assert_string_equal(out, "_er.62.child.test.10._er.a.b.c.");
	/* RFC 9567: no report about the agent's own names (a loop). */
	assert_int_equal(cds_error_report_qname("agent.test.", CDS_T_CDS, 7, "agent.test.", out),
			 CDS_EINVAL);
	assert_int_equal(cds_error_report_qname("x.agent.test.", CDS_T_CDS, 7, "agent.test.", out),
			 CDS_EINVAL);
	/* ... but a name that only ends in the same letters is another name. */
	assert_int_equal(cds_error_report_qname("xagent.test.", CDS_T_CDS, 7, "agent.test.", out),
			 0);
	/* The root, and names that do not normalise. */
	assert_int_equal(cds_error_report_qname(".", CDS_T_CDS, 7, "agent.test.", out), CDS_EINVAL);
	assert_int_equal(cds_error_report_qname("child.test.", CDS_T_CDS, 7, ".", out), CDS_EINVAL);
	assert_int_equal(cds_error_report_qname("a b.test.", CDS_T_CDS, 7, "agent.test.", out),
			 CDS_EINVAL);
	assert_int_equal(cds_error_report_qname("child.test.", CDS_T_CDS, 7, "a..test.", out),
			 CDS_EINVAL);
}

/* A name of labels of 63 and a last one of last octets (text form). */
static void long_name(char *buf, size_t len, int labels, int last, const char *tail)
{
	size_t o = 0;
	for (int l = 0; l < labels; l++) {
		memset(buf + o, 'a' + l, 63);
		o += 63;
		buf[o++] = '.';
	}
	memset(buf + o, 'z', (size_t)last);
	o += (size_t)last;
	snprintf(buf + o, len - o, ".%s", tail);
}

static void test_qname_length(void **state)
{
	(void)state;
	char q[CDS_DNAME_BUFSIZE], out[CDS_DNAME_BUFSIZE];
	/* "_er.59." (7) + qname + "7._er.agent.test." (17) + 1 root octet:
	 * a qname of 230 text octets makes 254 + 1 = 255 in wire form. */
	long_name(q, sizeof(q), 3, 230 - 3 * 64 - 1 - 5, "test.");
	assert_int_equal(strlen(q), 230);
	assert_int_equal(cds_error_report_qname(q, CDS_T_CDS, 7, "agent.test.", out), 0);
	assert_int_equal(strlen(out), 254);
	/* One octet more (a two-digit code): over 255, not sent. */
	assert_int_equal(cds_error_report_qname(q, CDS_T_CDS, 10, "agent.test.", out),
			 CDS_ERANGE);
	long_name(q, sizeof(q), 3, 230 - 3 * 64 - 1 - 5 + 1, "test.");
	assert_int_equal(cds_error_report_qname(q, CDS_T_CDS, 7, "agent.test.", out), CDS_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_read),
		cmocka_unit_test(test_option_rejected),
		cmocka_unit_test(test_qname),
		cmocka_unit_test(test_qname_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
