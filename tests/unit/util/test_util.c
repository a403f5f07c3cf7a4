/* Unit tests of the shared parsers: names, addresses, DS, times, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/util.h"

static void test_addr(void **state)
{
	struct cds_addr a;
	char buf[64];
	assert_int_equal(cds_addr_parse("127.0.0.2", 53, &a), 0);
	cds_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.2");
	assert_int_equal(cds_addr_parse("127.0.0.2#5300", 53, &a), 0);
	cds_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.2#5300");
	assert_int_equal(cds_addr_parse("::1", 53, &a), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	cds_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
	assert_int_equal(cds_addr_parse("2001:DB8::1#53", 53, &a), 0);
	cds_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(cds_addr_parse("", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("#53", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("1.2.3.4#", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("1.2.3.4#0", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("1.2.3.4#65536", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("1.2.3", 53, &a), CDS_ESYNTAX);
	assert_int_equal(cds_addr_parse("ns1.example", 53, &a), CDS_ESYNTAX);
}

/* The address judged special, and the words naming it contain what
 * (NULL: an ordinary unicast address). */
static void special_is(const char *text, const char *what)
{
	struct cds_addr a;
	assert_int_equal(cds_addr_parse(text, 53, &a), 0);
	const char *got = cds_addr_special(&a);
	if (!what) {
		if (got)
			fail_msg("%s is not special, judged %s", text, got);
		return;
	}
	if (!got || !strstr(got, what))
		fail_msg("%s: wanted '%s', got '%s'", text, what, got ? got : "(ordinary)");
}

/* Special-purpose space (RFC 6890): every kind the scan refuses, the edges
 * of each range, and ordinary addresses on both sides. */
static void test_addr_special(void **state)
{
	special_is("0.0.0.0", "unspecified");
	special_is("10.0.0.1", "private (RFC 1918");
	special_is("10.255.255.255", "private");
	special_is("11.0.0.1", NULL);
	special_is("100.64.0.1", "shared (RFC 6598");
	special_is("100.127.255.255", "shared");
	special_is("100.128.0.0", NULL);
	special_is("100.63.255.255", NULL);
	special_is("127.53.1.1", "loopback");
	special_is("169.254.10.1", "link-local");
	special_is("172.16.0.1", "private");
	special_is("172.31.255.255", "private");
	special_is("172.32.0.1", NULL);
	special_is("192.0.2.7", "documentation");
	special_is("192.168.1.1", "private");
	special_is("198.18.0.1", "benchmarking");
	special_is("198.51.100.1", "documentation");
	special_is("203.0.113.9", "documentation");
	special_is("224.0.0.1", "multicast");
	special_is("239.255.255.255", "multicast");
	special_is("255.255.255.255", "reserved");
	special_is("8.8.8.8", NULL);
	special_is("193.0.14.129", NULL);
	special_is("::", "unspecified");
	special_is("::1", "loopback");
	special_is("::ffff:127.0.0.1", "loopback");
	special_is("::ffff:10.1.2.3", "private");
	special_is("::ffff:8.8.8.8", NULL);
	special_is("64:ff9b::a00:1", "private");   /* NAT64 of 10.0.0.1 */
	special_is("64:ff9b::808:808", NULL);      /* NAT64 of 8.8.8.8 */
	special_is("2002:c0a8:101::1", "private"); /* 6to4 of 192.168.1.1 */
	special_is("fd00::53", "unique local");
	special_is("fc12::1", "unique local");
	special_is("fe80::1", "link-local");
	special_is("ff02::1", "multicast");
	special_is("2001:db8::53", "documentation");
	special_is("3fff::1", "documentation");
	special_is("2001:2::1", "benchmarking");
	special_is("100::1", "discard");
	special_is("2001:500:2f::f", NULL);
	special_is("2a00:1450::1", NULL);
}

static void test_prefix(void **state)
{
	struct cds_prefix p;
	struct cds_addr a;
	char buf[64];
	assert_int_equal(cds_prefix_parse("127.53.0.0/16", &p), 0);
	cds_prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "127.53.0.0/16");
	assert_int_equal(cds_addr_parse("127.53.1.1", 53, &a), 0);
	assert_true(cds_prefix_contains(&p, &a));
	assert_int_equal(cds_addr_parse("127.54.0.1", 53, &a), 0);
	assert_false(cds_prefix_contains(&p, &a));
	/* An IPv4-mapped address is its IPv4 address. */
	assert_int_equal(cds_addr_parse("::ffff:127.53.0.9", 53, &a), 0);
	assert_true(cds_prefix_contains(&p, &a));
	assert_int_equal(cds_addr_parse("::1", 53, &a), 0);
	assert_false(cds_prefix_contains(&p, &a));
	/* A bare address is a host prefix. */
	assert_int_equal(cds_prefix_parse("::1", &p), 0);
	assert_int_equal(p.len, 128);
	assert_true(cds_prefix_contains(&p, &a));
	assert_int_equal(cds_prefix_parse("fd00::/8", &p), 0);
	assert_int_equal(cds_addr_parse("fd53::1", 53, &a), 0);
	assert_true(cds_prefix_contains(&p, &a));
	assert_int_equal(cds_prefix_parse("0.0.0.0/0", &p), 0);
	assert_int_equal(cds_addr_parse("10.0.0.1", 53, &a), 0);
	assert_true(cds_prefix_contains(&p, &a));
	/* Host bits set, lengths out of range, no address: refused. */
	assert_int_equal(cds_prefix_parse("10.0.0.1/8", &p), CDS_ESYNTAX);
	assert_int_equal(cds_prefix_parse("10.0.0.0/33", &p), CDS_ESYNTAX);
	assert_int_equal(cds_prefix_parse("fd00::/129", &p), CDS_ESYNTAX);
	assert_int_equal(cds_prefix_parse("/8", &p), CDS_ESYNTAX);
	assert_int_equal(cds_prefix_parse("10.0.0.0/", &p), CDS_ESYNTAX);
	assert_int_equal(cds_prefix_parse("example.test/8", &p), CDS_ESYNTAX);
}

static void test_ds(void **state)
{
	struct cds_ds ds;
	char buf[CDS_DS_TEXT_MAX];
	const char *sha256 = "2371 13 2 1f987cc6583e92df0890718c42eb95ab"
			     "f2b7b1a1b9c1b3d1e1f1a1b1c1d1e1f1";
	assert_int_equal(cds_ds_parse(sha256, &ds), 0);
	assert_int_equal(ds.keytag, 2371);
	assert_int_equal(ds.algorithm, 13);
	assert_int_equal(ds.digest_type, 2);
	assert_int_equal(ds.digest_len, 32);
	cds_ds_format(&ds, buf);
	assert_string_equal(buf, "2371 13 2 1F987CC6583E92DF0890718C42EB95ABF2B7B1A1B9C1B3D1E1F1"
				 "A1B1C1D1E1F1");
	/* Zone files split long digests with spaces. */
	assert_int_equal(cds_ds_parse("2371 13 2 1F987CC6583E92DF0890718C42EB95AB "
				      "F2B7B1A1B9C1B3D1E1F1A1B1C1D1E1F1",
				      &ds),
			 0);
	/* RFC 8078 §4 delete. */
	assert_int_equal(cds_ds_parse("0 0 0 00", &ds), 0);
	cds_ds_format(&ds, buf);
	assert_string_equal(buf, "0 0 0 00");
	assert_int_equal(cds_ds_parse("0 0 0 0000", &ds), CDS_ESYNTAX);
	/* SHA-1 is 20 octets, SHA-384 48. */
	assert_int_equal(cds_ds_parse("1 8 1 0102030405060708090A0B0C0D0E0F1011121314", &ds), 0);
	assert_int_equal(cds_ds_parse("1 8 1 0102030405060708090A0B0C0D0E0F10111213", &ds),
			 CDS_ESYNTAX);
	assert_int_equal(cds_ds_parse("1 8 4 0102", &ds), CDS_ESYNTAX);
	/* An unknown digest type takes any length. */
	assert_int_equal(cds_ds_parse("1 8 99 0102", &ds), 0);
	assert_int_equal(cds_ds_parse("1 8 2", &ds), CDS_ESYNTAX);
	assert_int_equal(cds_ds_parse("1 8 2 0", &ds), CDS_ESYNTAX);
	assert_int_equal(cds_ds_parse("-1 8 2 00", &ds), CDS_ESYNTAX);
	assert_int_equal(cds_ds_parse("1 256 2 00", &ds), CDS_ESYNTAX);
	assert_int_equal(cds_ds_parse("", &ds), CDS_ESYNTAX);
	/* GOST (type 3) is 32 octets too. */
	assert_int_equal(cds_ds_parse("1 12 3 0102030405060708090A0B0C0D0E0F10"
				      "1112131415161718191A1B1C1D1E1F", &ds),
			 CDS_ESYNTAX);
}

static void test_ds_digest_length(void **state)
{
	(void)state;
	assert_int_equal(cds_ds_digest_length(1), 20);
	assert_int_equal(cds_ds_digest_length(2), 32);
	assert_int_equal(cds_ds_digest_length(3), 32);
	assert_int_equal(cds_ds_digest_length(4), 48);
	assert_int_equal(cds_ds_digest_length(0), 0);
	assert_int_equal(cds_ds_digest_length(5), 0);
	assert_int_equal(cds_ds_digest_length(255), 0);
}

static void test_time_and_duration(void **state)
{
	time_t t;
	char buf[32];
	assert_int_equal(cds_time_parse("2026-11-29T18:00:00Z", &t), 0);
	assert_int_equal((long long)t, 1795975200LL);
	cds_time_format(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-29T18:00:00Z");
	assert_int_equal(cds_time_parse("2026-11-29T19:00:00.123+01:00", &t), 0);
	assert_int_equal((long long)t, 1795975200LL);
	assert_int_equal(cds_time_parse("2026-11-29T17:30:00-00:30", &t), 0);
	assert_int_equal((long long)t, 1795975200LL);
	assert_int_equal(cds_time_parse("2026-11-29", &t), CDS_ESYNTAX);
	assert_int_equal(cds_time_parse("2026-11-29T18:00:00", &t), CDS_ESYNTAX);
	assert_int_equal(cds_time_parse("2026-02-29T18:00:00Z", &t), CDS_ESYNTAX);
	assert_int_equal(cds_time_parse("2026-13-01T18:00:00Z", &t), CDS_ESYNTAX);
	assert_int_equal(cds_time_parse("2026-11-29T18:00:00Zjunk", &t), CDS_ESYNTAX);

	uint64_t ms;
	assert_int_equal(cds_duration_parse("250ms", &ms), 0);
	assert_true(ms == 250);
	assert_int_equal(cds_duration_parse("2s", &ms), 0);
	assert_true(ms == 2000);
	assert_int_equal(cds_duration_parse("3", &ms), 0);
	assert_true(ms == 3000);
	assert_int_equal(cds_duration_parse("5m", &ms), 0);
	assert_true(ms == 300000);
	assert_int_equal(cds_duration_parse("72h", &ms), 0);
	assert_true(ms == UINT64_C(259200000));
	assert_int_equal(cds_duration_parse("1d", &ms), 0);
	assert_true(ms == UINT64_C(86400000));
	assert_int_equal(cds_duration_parse("h", &ms), CDS_ESYNTAX);
	assert_int_equal(cds_duration_parse("2 s", &ms), CDS_ESYNTAX);
	assert_int_equal(cds_duration_parse("2w", &ms), CDS_ESYNTAX);
	assert_int_equal(cds_duration_parse("-1s", &ms), CDS_ESYNTAX);
	assert_int_equal(cds_duration_parse("99999999999999999999999d", &ms), CDS_ERANGE);

	uint64_t v;
	assert_int_equal(cds_uint_parse("42", 0, 100, &v), 0);
	assert_int_equal(cds_uint_parse("101", 0, 100, &v), CDS_ERANGE);
	assert_int_equal(cds_uint_parse("+1", 0, 100, &v), CDS_ESYNTAX);
	assert_int_equal(cds_uint_parse("18446744073709551616", 0, UINT64_MAX, &v), CDS_ERANGE);
}

/* RFC 1982 §3.2 serial arithmetic, around the wrap of 2^32 too. */
static void test_serial_arithmetic(void **state)
{
	(void)state;
	assert_int_equal(cds_serial_compare(1, 2), CDS_SERIAL_LESS);
	assert_int_equal(cds_serial_compare(2, 1), CDS_SERIAL_GREATER);
	assert_int_equal(cds_serial_compare(7, 7), CDS_SERIAL_EQUAL);
	/* Across the wrap: 0xFFFFFFFF + 1 = 0, so 0xFFFFFFFF < 0 < 5. */
	assert_int_equal(cds_serial_compare(0xFFFFFFFFu, 0), CDS_SERIAL_LESS);
	assert_int_equal(cds_serial_compare(0, 0xFFFFFFFFu), CDS_SERIAL_GREATER);
	assert_int_equal(cds_serial_compare(0xFFFFFF00u, 5), CDS_SERIAL_LESS);
	assert_int_equal(cds_serial_compare(5, 0xFFFFFF00u), CDS_SERIAL_GREATER);
	/* The largest step forward is 2^31 - 1. */
	assert_int_equal(cds_serial_compare(10, 10 + 0x7FFFFFFFu), CDS_SERIAL_LESS);
	assert_int_equal(cds_serial_compare(10 + 0x7FFFFFFFu, 10), CDS_SERIAL_GREATER);
	/* 2^31 + 1 ahead in plain numbers is behind in serial arithmetic. */
	assert_int_equal(cds_serial_compare(10, 10 + 0x80000001u), CDS_SERIAL_GREATER);
	assert_int_equal(cds_serial_compare(0x80000005u, 4), CDS_SERIAL_LESS);
	/* Exactly 2^31 apart: undefined in both directions. */
	assert_int_equal(cds_serial_compare(0, 0x80000000u), CDS_SERIAL_UNDEFINED);
	assert_int_equal(cds_serial_compare(0x80000000u, 0), CDS_SERIAL_UNDEFINED);
	assert_int_equal(cds_serial_compare(0xC0000000u, 0x40000000u), CDS_SERIAL_UNDEFINED);
	/* A date-based serial incremented past the wrap stays greater. */
	assert_int_equal(cds_serial_compare(4294967290u, 4294967290u + 20u), CDS_SERIAL_LESS);
}

static void test_errors(void **state)
{
	assert_string_equal(cds_strerror(CDS_ECONFIG), "configuration error");
	assert_string_equal(cds_strerror(CDS_ENOMEM), strerror(ENOMEM));
	assert_int_equal(cds_error_exit_code(CDS_EUSAGE), 64);
	assert_int_equal(cds_error_exit_code(CDS_EDATA), 65);
	assert_int_equal(cds_error_exit_code(CDS_EUNAVAIL), 69);
	assert_int_equal(cds_error_exit_code(CDS_ENOMEM), 70);
	assert_int_equal(cds_error_exit_code(CDS_ECONFIG), 78);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_special),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_ds),
		cmocka_unit_test(test_ds_digest_length),
		cmocka_unit_test(test_time_and_duration),
		cmocka_unit_test(test_serial_arithmetic),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
