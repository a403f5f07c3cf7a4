/* Unit tests of EPP documents (built with libxml2) and response parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>

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

/* An NS change set of child.test. as the store reads it back. */
static void ns_change(struct cds_change_set *cs, const char *payload)
{
	cds_change_set_clear(cs);
	snprintf(cs->domain, sizeof(cs->domain), "child.test.");
	snprintf(cs->cltrid, sizeof(cs->cltrid), "cdscan-ns-7");
	cs->kind = CDS_KIND_NS;
	cs->action = CDS_ACTION_UPDATE;
	assert_int_equal(cds_change_set_read_payload(cs, payload), 0);
}

/* A plan from an NS change set's payload: host objects around the domain
 * update with hostObj, one domain update with hostAttr. */
static void test_ns_plan(void **state)
{
	static const char payload[] =
		"{\"proposed\": [\"ns1.p.net.\", \"ns3.child.test.\"],"
		" \"glue\": {\"ns3.child.test.\": [\"192.0.2.3\", \"2001:db8::3\"]},"
		" \"ops\": [{\"op\": \"host-create\", \"name\": \"ns3.child.test.\","
		" \"addrs\": [\"192.0.2.3\", \"2001:db8::3\"]},"
		" {\"op\": \"domain-update\", \"add\": [\"ns3.child.test.\"],"
		" \"rem\": [\"ns2.child.test.\"]},"
		" {\"op\": \"host-delete\", \"name\": \"ns2.child.test.\"}]}";
	struct cds_change_set cs = {0};
	struct cds_epp_profile obj = {.host_model = CDS_HOST_OBJ}, attr = {.host_model = CDS_HOST_ATTR};
	struct cds_epp_plan p;
	ns_change(&cs, payload);
	assert_int_equal(cds_epp_plan(&cs, &obj, &p), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.steps[0].role, -1);
	assert_string_equal(p.steps[0].cltrid, "cdscan-ns-7-b1");
	assert_string_equal(p.steps[0].suffix, "before-1");
	assert_non_null(strstr(p.steps[0].xml, "<host:create"));
	assert_non_null(strstr(p.steps[0].xml, "<host:addr ip=\"v6\">2001:db8::3</host:addr>"));
	assert_string_equal(p.steps[0].want, "192.0.2.3,2001:db8::3");
	assert_int_equal(p.steps[1].role, 0);
	assert_string_equal(p.steps[1].cltrid, "cdscan-ns-7");
	assert_string_equal(p.steps[1].suffix, "");
	assert_non_null(strstr(p.steps[1].xml, "<domain:hostObj>ns3.child.test</domain:hostObj>"));
	char *add = strstr(p.steps[1].xml, "<domain:add>"), *rem = strstr(p.steps[1].xml, "<domain:rem>");
	assert_true(add && rem && add < rem);
	assert_string_equal(p.steps[1].want, "ns1.p.net,ns3.child.test");
	assert_int_equal(p.steps[2].role, 1);
	assert_non_null(strstr(p.steps[2].xml, "<host:delete"));
	assert_int_equal(p.steps[2].check, CDS_EPP_CHECK_GONE);
	cds_epp_plan_free(&p);

	assert_int_equal(cds_epp_plan(&cs, &attr, &p), 0);
	assert_int_equal(p.n, 1);
	assert_null(strstr(p.steps[0].xml, "<host:"));
	assert_non_null(strstr(p.steps[0].xml, "<domain:hostName>ns3.child.test</domain:hostName>"));
	assert_non_null(strstr(p.steps[0].xml, "<domain:hostAddr ip=\"v4\">192.0.2.3"));
	cds_epp_plan_free(&p);

	/* Glue only: the host update is the change set's own command. */
	static const char glue_only[] =
		"{\"proposed\": [], \"glue\": {}, \"ops\": [{\"op\": \"host-update\","
		" \"name\": \"ns1.child.test.\", \"add\": [\"192.0.2.9\"], \"rem\": [\"192.0.2.1\"]}]}";
	ns_change(&cs, glue_only);
	assert_int_equal(cds_epp_plan(&cs, &obj, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.steps[0].role, 0);
	assert_string_equal(p.steps[0].cltrid, "cdscan-ns-7");
	char *ha = strstr(p.steps[0].xml, "<host:add>"), *hr = strstr(p.steps[0].xml, "<host:rem>");
	assert_true(ha && hr && ha < hr);
	cds_epp_plan_free(&p);
	cds_change_set_clear(&cs);
	/* Nothing to send is no plan. */
	ns_change(&cs, "{\"proposed\": [], \"ops\": []}");
	assert_int_equal(cds_epp_plan(&cs, &obj, &p), CDS_EDATA);
	cds_change_set_clear(&cs);
}

/* keyData: the key set replaced as a whole; none to send is an error. */
static void test_key_data(void **state)
{
	const char *keys[] = {"257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
			      "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="};
	struct cds_epp_ds_change c = {.domain = "child.test.", .cltrid = "k", .key_data = true,
				      .had_ds = true, .keys = keys, .nkeys = 1};
	char *xml;
	size_t len;
	assert_int_equal(cds_epp_ds_update(&c, &xml, &len), 0);
	char *rem = strstr(xml, "<secDNS:all>true</secDNS:all>"), *add = strstr(xml, "<secDNS:keyData>");
	assert_true(rem && add && rem < add);
	assert_non_null(strstr(xml, "<secDNS:flags>257</secDNS:flags>"));
	assert_null(strstr(xml, "dsData"));
	free(xml);
	c.had_ds = false; /* a bootstrap: nothing to remove */
	assert_int_equal(cds_epp_ds_update(&c, &xml, &len), 0);
	assert_null(strstr(xml, "<secDNS:rem>"));
	free(xml);
	c.nkeys = 0;
	assert_int_equal(cds_epp_ds_update(&c, &xml, &len), CDS_EDATA);
}

/* A registry lock (RFC 5731 §2.3): the statuses that forbid updates. */
static void test_info_lock(void **state)
{
	static const char dom[] =
		"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response><result code=\"1000\">"
		"<msg>ok</msg></result><resData><domain:infData "
		"xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\"><domain:name>child.test"
		"</domain:name><domain:status s=\"clientTransferProhibited\"/>"
		"<domain:status s=\"serverUpdateProhibited\">by court order</domain:status>"
		"<domain:status s=\"clientUpdateProhibited\"/></domain:infData></resData>"
		"<trID><svTRID>1</svTRID></trID></response></epp>";
	struct cds_epp_info *info = malloc(sizeof(*info));
	char which[128], small[8];
	assert_non_null(info);
	assert_int_equal(cds_epp_parse_info(dom, sizeof(dom) - 1, info), 0);
	assert_int_equal(info->nstatus, 3);
	assert_string_equal(info->status[0], "clientTransferProhibited");
	assert_true(cds_epp_info_update_prohibited(info, which, sizeof(which)));
	assert_string_equal(which, "serverUpdateProhibited, clientUpdateProhibited");
	/* A short buffer still answers, truncated. */
	assert_true(cds_epp_info_update_prohibited(info, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	/* A transfer lock alone is no update lock. */
	info->nstatus = 1;
	assert_false(cds_epp_info_update_prohibited(info, which, sizeof(which)));
	free(info);
}

/* <info> responses read back: NS, DS, keys, host addresses. */
static void test_info(void **state)
{
	static const char dom[] =
		"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response><result code=\"1000\">"
		"<msg>ok</msg></result><resData><domain:infData "
		"xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\"><domain:name>child.test"
		"</domain:name><domain:status s=\"ok\"/>"
		"<domain:ns><domain:hostObj>ns1.p.net</domain:hostObj><domain:hostAttr>"
		"<domain:hostName>ns2.child.test</domain:hostName></domain:hostAttr></domain:ns>"
		"</domain:infData></resData><extension><secDNS:infData "
		"xmlns:secDNS=\"urn:ietf:params:xml:ns:secDNS-1.1\"><secDNS:dsData><secDNS:keyTag>2371"
		"</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType>"
		"<secDNS:digest>1f987cc6583e92df0890718c42eb95abf2b7b1a1b9c1b3d1e1f1a1b1c1d1e1f1"
		"</secDNS:digest></secDNS:dsData></secDNS:infData></extension><trID><svTRID>1</svTRID>"
		"</trID></response></epp>";
	struct cds_epp_info *info = malloc(sizeof(*info));
	assert_non_null(info);
	assert_int_equal(cds_epp_parse_info(dom, sizeof(dom) - 1, info), 0);
	assert_true(info->domain);
	assert_int_equal(info->nns, 2);
	assert_string_equal(info->ns[1], "ns2.child.test");
	assert_int_equal(info->nds, 1);
	assert_string_equal(info->ds[0], DS_A); /* normalised: upper-case hex */
	char which[64];
	assert_int_equal(info->nstatus, 1);
	assert_false(cds_epp_info_update_prohibited(info, which, sizeof(which)));
	assert_string_equal(which, "");
	static const char host[] =
		"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><response><result code=\"1000\">"
		"<msg>ok</msg></result><resData><host:infData xmlns:host=\"urn:ietf:params:xml:ns:"
		"host-1.0\"><host:name>ns3.child.test</host:name><host:addr ip=\"v4\">192.0.2.3"
		"</host:addr></host:infData></resData><trID><svTRID>1</svTRID></trID></response></epp>";
	assert_int_equal(cds_epp_parse_info(host, sizeof(host) - 1, info), 0);
	assert_true(info->host && !info->domain);
	assert_int_equal(info->naddrs, 1);
	assert_string_equal(info->addrs[0], "192.0.2.3");
	assert_int_equal(cds_epp_parse_info("<epp/>", 6, info), CDS_EDATA);
	free(info);
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
		cmocka_unit_test(test_ns_plan),
		cmocka_unit_test(test_key_data),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_lock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
