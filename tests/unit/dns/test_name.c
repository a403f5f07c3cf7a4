/* Unit tests of domain names in one place (src/dns/name.c): normalised
 * text as people and zone files write it, and wire form, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

static void test_dname(void **state)
{
	char out[CDS_DNAME_BUFSIZE];
	assert_int_equal(cds_dname_normalize("Child.TEST", out), 0);
	assert_string_equal(out, "child.test.");
	assert_int_equal(cds_dname_normalize("child.test.", out), 0);
	assert_string_equal(out, "child.test.");
	assert_int_equal(cds_dname_normalize(".", out), 0);
	assert_string_equal(out, ".");
	assert_int_equal(cds_dname_normalize("_dsboot.child.test._signal.ns1.x", out), 0);
	assert_int_equal(cds_dname_normalize("", out), CDS_ESYNTAX);
	assert_int_equal(cds_dname_normalize("a..b", out), CDS_ESYNTAX);
	assert_int_equal(cds_dname_normalize(".a", out), CDS_ESYNTAX);
	assert_int_equal(cds_dname_normalize("a.b..", out), CDS_ESYNTAX);
	assert_int_equal(cds_dname_normalize("a b.test", out), CDS_ESYNTAX);
	assert_int_equal(cds_dname_normalize("a\\.b.test", out), CDS_ESYNTAX);
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_int_equal(cds_dname_normalize(label, out), CDS_ESYNTAX);
	label[63] = '\0';
	assert_int_equal(cds_dname_normalize(label, out), 0);
	/* 4 labels of 63 = 255 octets in wire form with the root: too long by one. */
	char longname[400];
	snprintf(longname, sizeof(longname), "%s.%s.%s.%s", label, label, label, label);
	assert_int_equal(cds_dname_normalize(longname, out), CDS_ESYNTAX);
	/* 63.63.63.62 is 256 octets in wire form, 63.63.63.61 exactly 255. */
	longname[strlen(longname) - 1] = '\0';
	assert_int_equal(cds_dname_normalize(longname, out), CDS_ESYNTAX);
	longname[strlen(longname) - 1] = '\0';
	assert_int_equal(cds_dname_normalize(longname, out), 0);
	assert_int_equal(strlen(out), 254);

	assert_true(cds_dname_is_subdomain("a.b.test.", "test."));
	assert_true(cds_dname_is_subdomain("test.", "test."));
	assert_true(cds_dname_is_subdomain("x.", "."));
	assert_false(cds_dname_is_subdomain("atest.", "test."));
	assert_false(cds_dname_is_subdomain("test.", "a.test."));
}

/* Wire form and back: the same name, lower case; a name a host cannot have
 * (an escape would be needed) and malformed wire are refused. */
static void test_wire(void **state)
{
	uint8_t w[256];
	char out[CDS_DNAME_BUFSIZE];
	int n = cds_dname_to_wire("ns1.child.test.", w);
	assert_int_equal(n, 16);
	assert_memory_equal(w, "\3ns1\5child\4test\0", 16);
	assert_int_equal(cds_dname_from_wire(w, (size_t)n, out), 0);
	assert_string_equal(out, "ns1.child.test.");
	assert_int_equal(cds_dname_to_wire(".", w), 1);
	assert_int_equal(cds_dname_from_wire(w, 1, out), 0);
	assert_string_equal(out, ".");
	static const uint8_t upper[] = "\3NS1\4Test\0";
	assert_int_equal(cds_dname_from_wire(upper, sizeof(upper) - 1, out), 0);
	assert_string_equal(out, "ns1.test.");
	static const uint8_t space[] = "\3a b\4test\0";
	assert_int_equal(cds_dname_from_wire(space, sizeof(space) - 1, out), CDS_EDATA);
	static const uint8_t cut[] = "\3ns1\4te";
	assert_int_equal(cds_dname_from_wire(cut, sizeof(cut) - 1, out), CDS_EDATA);
	static const uint8_t trailing[] = "\3ns1\0\0";
	assert_int_equal(cds_dname_from_wire(trailing, sizeof(trailing) - 1, out), CDS_EDATA);
	char label[80];
	memset(label, 'a', 64);
	strcpy(label + 64, ".test.");
	assert_int_equal(cds_dname_to_wire(label, w), CDS_EINVAL);
	assert_int_equal(cds_dname_to_wire("a..test.", w), CDS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dname),
		cmocka_unit_test(test_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
