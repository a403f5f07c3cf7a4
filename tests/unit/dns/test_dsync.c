/* Unit tests of DSYNC records (src/dns/dsync.c, RFC 9859): owner names,
 * wire form, presentation form and the generic form of RFC 3597. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

static void test_owner(void **state)
{
	char out[CDS_DNAME_BUFSIZE];
	assert_int_equal(cds_dsync_owner("test.", CDS_DSYNC_OWNER_WILDCARD, NULL, out), 0);
	assert_string_equal(out, "*._dsync.test.");
	assert_int_equal(cds_dsync_owner("co.uk.", CDS_DSYNC_OWNER_ZONE, NULL, out), 0);
	assert_string_equal(out, "_dsync.co.uk.");
	/* RFC 9859 §3.2: the child's labels below the parent, then _dsync. */
	assert_int_equal(cds_dsync_owner("example.", CDS_DSYNC_OWNER_CHILD, "child.example.", out),
			 0);
	assert_string_equal(out, "child._dsync.example.");
	assert_int_equal(cds_dsync_owner("jp.", CDS_DSYNC_OWNER_CHILD, "city.ise.mie.jp.", out), 0);
	assert_string_equal(out, "city.ise.mie._dsync.jp.");
	/* The root as parent. */
	assert_int_equal(cds_dsync_owner(".", CDS_DSYNC_OWNER_WILDCARD, NULL, out), 0);
	assert_string_equal(out, "*._dsync.");
	assert_int_equal(cds_dsync_owner(".", CDS_DSYNC_OWNER_CHILD, "test.", out), 0);
	assert_string_equal(out, "test._dsync.");
	/* A child must lie strictly below the parent, at a label boundary. */
	assert_int_equal(cds_dsync_owner("test.", CDS_DSYNC_OWNER_CHILD, "test.", out), CDS_EINVAL);
	assert_int_equal(cds_dsync_owner("test.", CDS_DSYNC_OWNER_CHILD, "a.net.", out), CDS_EINVAL);
	assert_int_equal(cds_dsync_owner("est.", CDS_DSYNC_OWNER_CHILD, "a.test.", out), CDS_EINVAL);
	assert_int_equal(cds_dsync_owner("test.", CDS_DSYNC_OWNER_CHILD, NULL, out), CDS_EINVAL);
}

/* A parent of 3 labels of 63 and one of last: 192 + last + 1 characters. */
static void long_parent(char *buf, size_t len, int last)
{
	char l63[64], ll[64];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(ll, 'b', (size_t)last);
	ll[last] = '\0';
	snprintf(buf, len, "%s.%s.%s.%s.", l63, l63, l63, ll);
}

static void test_owner_length(void **state)
{
	char parent[300], out[CDS_DNAME_BUFSIZE], norm[CDS_DNAME_BUFSIZE];
	/* 245 characters: "*._dsync." makes 254, 255 octets in wire form. */
	long_parent(parent, sizeof(parent), 52);
	assert_int_equal(cds_dname_normalize(parent, norm), 0);
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_WILDCARD, NULL, out), 0);
	assert_int_equal(strlen(out), 254);
	assert_int_equal(cds_dname_normalize(out, norm), 0);
	/* One more: 256 octets, no name. */
	long_parent(parent, sizeof(parent), 53);
	assert_int_equal(cds_dname_normalize(parent, norm), 0);
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_WILDCARD, NULL, out), CDS_ERANGE);
	/* Without the wildcard label it still fits. */
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_ZONE, NULL, out), 0);
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_CHILD, "a.b." /* not below */, out),
			 CDS_EINVAL);
	/* A child of 247 characters has an owner of 254; of 248, none. */
	char child[300];
	long_parent(parent, sizeof(parent), 52);
	assert_int_equal(cds_dname_normalize(parent, norm), 0);
	snprintf(child, sizeof(child), "c.%s", norm);
	assert_int_equal(strlen(child), 247);
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_CHILD, child, out), 0);
	assert_int_equal(strlen(out), 254);
	long_parent(parent, sizeof(parent), 53);
	assert_int_equal(cds_dname_normalize(parent, norm), 0);
	snprintf(child, sizeof(child), "c.%s", norm);
	assert_int_equal(cds_dsync_owner(norm, CDS_DSYNC_OWNER_CHILD, child, out), CDS_ERANGE);
}

static void test_wire_and_text(void **state)
{
	static const uint8_t want[] = {0x00, 0x3b, 0x01, 0x00, 0x35, 6,   'n', 'o',
				       't',  'i',  'f',  'y',  3,    'n', 'i', 'c',
				       4,    't',  'e',  's',  't',  0};
	struct cds_dsync d = {.rrtype = CDS_T_CDS, .scheme = CDS_DSYNC_SCHEME_NOTIFY, .port = 53};
	uint8_t wire[CDS_DSYNC_WIRE_MAX];
	char text[600];

	strcpy(d.target, "notify.nic.test.");
	assert_int_equal(cds_dsync_to_wire(&d, wire, sizeof(wire)), sizeof(want));
	assert_memory_equal(wire, want, sizeof(want));
	assert_int_equal(cds_dsync_format(&d, text, sizeof(text)), 0);
	assert_string_equal(text, "CDS NOTIFY 53 notify.nic.test.");
	assert_int_equal(cds_rdata_format_generic(wire, sizeof(want), text, sizeof(text)), 0);
	assert_string_equal(text, "\\# 22 003B010035066E6F74696679036E6963047465737400");

	/* RFC 9859 §2.3's example: CSYNC, port 5360 (0x14f0). */
	d.rrtype = CDS_T_CSYNC;
	d.port = 5360;
	strcpy(d.target, "csync-scanner.example.net.");
	int n = cds_dsync_to_wire(&d, wire, sizeof(wire));
	assert_int_equal(n, 5 + 27);
	assert_int_equal(wire[0] << 8 | wire[1], 62);
	assert_int_equal(wire[2], 1);
	assert_int_equal(wire[3], 0x14);
	assert_int_equal(wire[4], 0xf0);
	assert_int_equal(cds_dsync_format(&d, text, sizeof(text)), 0);
	assert_string_equal(text, "CSYNC NOTIFY 5360 csync-scanner.example.net.");
	/* Unassigned schemes and unknown types by number (RFC 3597 §5). */
	d.scheme = 200;
	d.rrtype = 65000;
	assert_int_equal(cds_dsync_format(&d, text, sizeof(text)), 0);
	assert_string_equal(text, "TYPE65000 200 5360 csync-scanner.example.net.");
	assert_int_equal(cds_dsync_format(&d, text, 10), CDS_ERANGE);
	/* Too small a buffer, a name that is not one. */
	assert_int_equal(cds_dsync_to_wire(&d, wire, 31), CDS_ERANGE);
	strcpy(d.target, "a..b.");
	assert_int_equal(cds_dsync_to_wire(&d, wire, sizeof(wire)), CDS_EINVAL);
}

static void test_generic(void **state)
{
	static const uint8_t rd[] = {0xab, 0x01};
	char text[16];
	assert_int_equal(cds_rdata_format_generic(rd, 0, text, sizeof(text)), 0);
	assert_string_equal(text, "\\# 0");
	assert_int_equal(cds_rdata_format_generic(rd, 2, text, sizeof(text)), 0);
	assert_string_equal(text, "\\# 2 AB01");
	/* "\# 2 AB01" is 9 characters: 10 octets with the NUL, not 9. */
	assert_int_equal(cds_rdata_format_generic(rd, 2, text, 10), 0);
	assert_int_equal(cds_rdata_format_generic(rd, 2, text, 9), CDS_ERANGE);
	assert_true(CDS_RDATA_GENERIC_TEXT(CDS_DSYNC_WIRE_MAX) >= 4 + 3 + 1 + 2 * 260 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_owner_length),
		cmocka_unit_test(test_wire_and_text),
		cmocka_unit_test(test_generic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
