/* Unit tests of the zone file reader: directives, relative and omitted
 * owners, parentheses, $INCLUDE (with origin, restored after), errors with
 * file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/zone.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cdscan-zone-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_records(void **state)
{
	write_file("test.zone",
		   "$ORIGIN test.\n"
		   "$TTL 1h\n"
		   "@ IN SOA ns.nic ( hostmaster 1 ; serial\n"
		   "     3600 600 86400 300 )\n"
		   "child      NS ns1.provider-a.net.\n"
		   "           NS ns1.child ; relative, in-bailiwick\n"
		   "child 300  DS 2371 13 2 ( 1F987CC6583E92DF0890718C42EB95AB\n"
		   "                          F2B7B1A1B9C1B3D1E1F1A1B1C1D1E1F1 )\n"
		   "ns1.child  A 192.0.2.1\n"
		   "           AAAA 2001:db8::1\n"
		   "www TXT \"a ; not a comment (\"\n"
		   "$INCLUDE more.zone sub.test.\n"
		   "after NS ns2.provider-b.net.\n");
	write_file("more.zone", "x NS ns.example.\n");
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	char err[512];
	char path[128];
	snprintf(path, sizeof(path), "%s/test.zone", dir);
	assert_int_equal(cds_zone_open(path, NULL, &z, err, sizeof(err)), 0);

	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "test.");
	assert_int_equal(rr.type, 6);
	assert_int_equal(rr.ttl, 3600);
	assert_int_equal(rr.line, 3);

	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "child.test.");
	assert_string_equal(rr.target, "ns1.provider-a.net.");
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "child.test.");
	assert_string_equal(rr.target, "ns1.child.test.");
	assert_int_equal(rr.line, 6);

	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_int_equal(rr.type, 43);
	assert_int_equal(rr.ttl, 300);
	assert_int_equal(rr.ds.keytag, 2371);
	assert_int_equal(rr.ds.digest_len, 32);
	assert_int_equal(rr.ds.digest[0], 0x1F);

	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "ns1.child.test.");
	char a[64];
	cds_addr_format(&rr.addr, a, sizeof(a));
	assert_string_equal(a, "192.0.2.1");
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "ns1.child.test.");
	cds_addr_format(&rr.addr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");

	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_int_equal(rr.type, 16);

	/* The included file, with its own origin. */
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "x.sub.test.");
	assert_non_null(strstr(rr.file, "more.zone"));
	assert_int_equal(rr.line, 1);
	/* Back in the including file: the origin is test. again. */
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 1);
	assert_string_equal(rr.owner, "after.test.");
	assert_int_equal(rr.line, 13);
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), 0);
	cds_zone_close(z);
}

static void expect_error(const char *text, const char *origin, const char *where,
			 const char *what)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	char err[512] = "", path[128];
	/* An empty what would be found in any message. */
	assert_true(where[0] != '\0' && what[0] != '\0');
	write_file("bad.zone", text);
	snprintf(path, sizeof(path), "%s/bad.zone", dir);
	int r = cds_zone_open(path, origin, &z, err, sizeof(err));
	if (r == 0) {
		while ((r = cds_zone_next(z, &rr, err, sizeof(err))) == 1)
			;
		cds_zone_close(z);
	}
	if (r != CDS_EDATA || !strstr(err, where) || !strstr(err, what))
		fail_msg("got %d '%s', want '%s' and '%s'", r, err, where, what);
}

static void test_errors(void **state)
{
	/* ldns's own words (ldns_get_errorstr_by_id) for the record. */
	expect_error("$ORIGIN test.\na NS ns1.x.\nb NS\n", NULL, "bad.zone:3:", "value expected");
	expect_error("$ORIGIN test.\na DS 1 13 2 XYZ\n", NULL, "bad.zone:2:",
		     "could not parse the RR's rdata");
	expect_error("a NS ( ns1.x.\n", "test.", "bad.zone:1:", "inside parentheses");
	expect_error("a NS ns1.x. )\n", "test.", "bad.zone:1:", "without '('");
	expect_error("$INCLUDE nothere.zone\n", "test.", "bad.zone:1:", "nothere.zone");
	expect_error("$FOO bar\n", "test.", "bad.zone:1:", "directive");
	expect_error("$INCLUDE bad.zone\n", "test.", "bad.zone:1:", "nested deeper");
	char err[256];
	struct cds_zone_reader *z;
	assert_int_equal(cds_zone_open("/nonexistent.zone", NULL, &z, err, sizeof(err)),
			 CDS_EDATA);
	assert_non_null(strstr(err, "/nonexistent.zone: cannot open"));
}

/* A file without line ends, an included device, a read error: each an
 * error naming the file, never all of memory nor a zone silently cut
 * short (an import would take the rest for delegations removed). */
static void test_limits(void **state)
{
	size_t big = (1u << 20) + 10;
	char *text = malloc(big + 64);
	assert_non_null(text);
	memset(text, 'a', big);
	text[big] = '\0';
	expect_error(text, "test.", "bad.zone:1:", "a line longer than 1048576 octets");
	/* The same length spread over lines inside parentheses. */
	size_t o = (size_t)sprintf(text, "a TXT (\n");
	while (o < big) {
		memcpy(text + o, "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n", 53);
		o += 53;
	}
	strcpy(text + o, ")\n");
	expect_error(text, "test.", "bad.zone:1:", "a record longer than 1048576 octets");
	free(text);
	expect_error("a NS ns1.x.\n$INCLUDE /dev/zero\n", "test.", "bad.zone:2:",
		     "$INCLUDE /dev/zero: not a regular file");
	expect_error("$INCLUDE /\n", "test.", "bad.zone:1:", "not a regular file");
	/* A read error is not the end of the file. */
	char err[256];
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	assert_int_equal(cds_zone_open(dir, "test.", &z, err, sizeof(err)), 0);
	assert_int_equal(cds_zone_next(z, &rr, err, sizeof(err)), CDS_EDATA);
	assert_non_null(strstr(err, "read error"));
	cds_zone_close(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
