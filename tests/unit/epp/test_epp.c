/* Unit tests of EPP documents (built with libxml2) and response parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/epp.h"
#include "cdscan/error.h"

static const char *DS_A = "2371 13 2 1F987CC6583E92DF0890718C42EB95ABF2B7B1A1B9C1B3D1E1F1A1B1C1D1E1F1";
static const char *DS_B = "100 8 4 "
			  "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20"
			  "2122232425262728292A2B2C2D2E2F30";

static void test_update(void **state)
{
	const char *add[] = {DS_A}, *rem[] = {DS_B};
	struct cds_epp_ds_change c = {.domain = "child.test.", .cltrid = "cdscan-ds-1<&>",
				      .add = add, .nadd = 1, .rem = rem, .nrem = 1};
	char *xml;
	size_t len;
	assert_int_equal(cds_epp_ds_update(&c, &xml, &len), 0);
	assert_int_equal(strlen(xml), len);
	assert_non_null(strstr(xml, "<domain:name>child.test</domain:name>"));
	/* RFC 5910: rem before add; names escaped by libxml2. */
	char *r = strstr(xml, "<secDNS:rem>"), *a = strstr(xml, "<secDNS:add>");
	assert_non_null(r);
	assert_non_null(a);
	assert_true(r < a);
	assert_non_null(strstr(xml, "<secDNS:keyTag>2371</secDNS:keyTag>"));
	assert_non_null(strstr(xml, "<secDNS:digestType>4</secDNS:digestType>"));
	assert_non_null(strstr(xml, "<clTRID>cdscan-ds-1&lt;&amp;&gt;</clTRID>"));
	free(xml);

	struct cds_epp_ds_change del = {.domain = "child.test.", .cltrid = "x", .remove_all = true};
	assert_int_equal(cds_epp_ds_update(&del, &xml, &len), 0);
	assert_non_null(strstr(xml, "<secDNS:all>true</secDNS:all>"));
	assert_null(strstr(xml, "<secDNS:add>"));
	free(xml);

	const char *bad[] = {"1 13 2 XYZ"};
	struct cds_epp_ds_change b = {.domain = "child.test.", .cltrid = "x", .add = bad, .nadd = 1};
	assert_int_equal(cds_epp_ds_update(&b, &xml, &len), CDS_EDATA);
}

static int parse(const char *s, struct cds_epp_response *r)
{
	return cds_epp_parse_response(s, strlen(s), r);
}

static void test_responses(void **state)
{
	struct cds_epp_response r;
	assert_int_equal(parse("<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response>"
			       "<result code=\"1000\"><msg>Command completed successfully</msg>"
			       "</result><trID><clTRID>cdscan-ds-23</clTRID><svTRID>S-1</svTRID>"
			       "</trID></response></epp>",
			       &r),
			 0);
	assert_int_equal(r.code, 1000);
	assert_string_equal(r.msg, "Command completed successfully");
	assert_string_equal(r.cltrid, "cdscan-ds-23");
	assert_string_equal(r.svtrid, "S-1");
	assert_int_equal(parse("<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response>"
			       "<result code=\"2303\"><msg>Object does not exist</msg></result>"
			       "</response></epp>",
			       &r),
			 0);
	assert_int_equal(r.code, 2303);
	assert_string_equal(r.cltrid, "");
	assert_int_equal(parse("<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><greeting>"
			       "<svID>x</svID></greeting></epp>",
			       &r),
			 0);
	assert_true(r.greeting);
	/* Not EPP, not well-formed, no result code, a code out of range. */
	assert_int_equal(parse("<epp xmlns=\"urn:other\"><response><result code=\"1000\"/>"
			       "</response></epp>",
			       &r),
			 CDS_EDATA);
	assert_int_equal(parse("<epp", &r), CDS_EDATA);
	assert_int_equal(parse("<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response>"
			       "<result><msg>x</msg></result></response></epp>",
			       &r),
			 CDS_EDATA);
	assert_int_equal(parse("<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response>"
			       "<result code=\"99999\"/></response></epp>",
			       &r),
			 CDS_EDATA);
	/* A DTD with entities is refused before anything is read. */
	assert_int_equal(parse("<?xml version=\"1.0\"?><!DOCTYPE epp [<!ENTITY a \"aa\">]>"
			       "<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response>"
			       "<result code=\"1000\"><msg>&a;</msg></result></response></epp>",
			       &r),
			 CDS_EDATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
