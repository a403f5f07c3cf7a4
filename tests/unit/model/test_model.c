/* Unit tests of the model (src/model): names and their parsing, string
 * lists, and the change set's payload as the store keeps it, written and
 * read back, with damaged payloads refused. */
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

static void add_all(struct cds_strlist *l, const char *const *v)
{
	for (; *v; v++)
		assert_int_equal(cds_strlist_add(l, *v), 0);
}

static void test_names(void **state)
{
	for (int a = 0; a < CDS_ACTION_COUNT; a++) {
		enum cds_action back;
		assert_int_equal(cds_action_parse(cds_action_name((enum cds_action)a), &back), 0);
		assert_int_equal(back, a);
	}
	enum cds_kind k;
	assert_int_equal(cds_kind_parse("ns", &k), 0);
	assert_int_equal(k, CDS_KIND_NS);
	assert_int_equal(cds_kind_parse("mx", &k), CDS_EDATA);
	enum cds_action a;
	assert_int_equal(cds_action_parse("Update", &a), CDS_EDATA);
	assert_true(cds_action_changes(CDS_ACTION_BOOTSTRAP));
	assert_false(cds_action_changes(CDS_ACTION_REJECT));
	assert_string_equal(cds_reason_code(CDS_R_CSYNC_NS_NOT_SERVING), "csync-ns-not-serving");
	for (int r = 0; r < CDS_R_COUNT; r++) {
		enum cds_reason back;
		assert_int_equal(cds_reason_parse(cds_reason_code((enum cds_reason)r), &back), 0);
		assert_int_equal(back, r);
	}
	enum cds_reason r;
	assert_int_equal(cds_reason_parse("Bogus", &r), CDS_EDATA);
	assert_int_equal(cds_reason_parse("", &r), CDS_EDATA);
	assert_string_equal(cds_signal_status_name(CDS_SIGNAL_MISSING), "missing");
	assert_string_equal(cds_query_name(CDS_Q_CDNSKEY), "CDNSKEY");
	assert_int_equal(cds_query_type(CDS_Q_CSYNC), CDS_T_CSYNC);
	assert_string_equal(cds_ns_op_name(CDS_NS_OP_HOST_DELETE), "host-delete");
}

static void test_strlist(void **state)
{
	struct cds_strlist a = {0}, b = {0}, d = {0};
	add_all(&a, (const char *const[]){"c", "a", "b", "a", NULL});
	assert_int_equal(a.n, 3); /* duplicates kept out */
	add_all(&b, (const char *const[]){"b", "x", NULL});
	assert_int_equal(cds_strlist_minus(&a, &b, &d), 0);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0], "a"); /* sorted */
	assert_string_equal(d.v[1], "c");
	assert_false(cds_strlist_equal(&a, &b));
	assert_int_equal(cds_strlist_copy(&b, &a), 0);
	assert_int_equal(b.n, 4);
	cds_strlist_clear(&a);
	cds_strlist_clear(&b);
	cds_strlist_clear(&d);
}

/* The verdict's lists are printed sorted, each string once, whatever order
 * (and repeats) the verdict holds them in; printing leaves them as they
 * were.  Ten entries take the path for lists longer than eight. */
static void test_verdict_lists_sorted(void **state)
{
	(void)state;
	struct cds_verdict v;
	memset(&v, 0, sizeof(v));
	snprintf(v.domain, sizeof(v.domain), "child.test.");
	for (const char *const *s = (const char *const[]){"ns2.x.", "ns1.x.", "ns2.x.", NULL}; *s; s++)
		assert_int_equal(cds_strlist_push(&v.ns, *s), 0);
	char name[32];
	for (int i = 9; i >= 0; i--) {
		snprintf(name, sizeof(name), "%d 13 2 AA", i);
		assert_int_equal(cds_strlist_push(&v.ds_side.proposed, name), 0);
	}
	assert_int_equal(cds_strlist_push(&v.ds_side.proposed, "5 13 2 AA"), 0);
	char *json = cds_verdict_to_json(&v, false);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"ns\":[\"ns1.x.\",\"ns2.x.\"]"));
	assert_non_null(strstr(json, "\"proposed\":[\"0 13 2 AA\",\"1 13 2 AA\",\"2 13 2 AA\","
				     "\"3 13 2 AA\",\"4 13 2 AA\",\"5 13 2 AA\",\"6 13 2 AA\","
				     "\"7 13 2 AA\",\"8 13 2 AA\",\"9 13 2 AA\"]"));
	assert_string_equal(v.ns.v[0], "ns2.x."); /* the verdict unchanged */
	assert_int_equal(v.ds_side.proposed.n, 11);
	free(json);
	cds_verdict_clear(&v);
}

/* An NS change set: glue, and the operations in their order. */
static void ns_change(struct cds_change_set *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->kind = CDS_KIND_NS;
	add_all(&cs->proposed, (const char *const[]){"ns1.child.test.", "ns3.child.test.", NULL});
	struct cds_verdict_glue *g = cds_verdict_glue_add(&cs->glue, &cs->glue_count,
							  "ns3.child.test.");
	assert_non_null(g);
	add_all(&g->addresses, (const char *const[]){"192.0.2.3", "2001:db8::3", NULL});
	struct cds_ns_op *op = cds_change_set_add_op(cs, CDS_NS_OP_HOST_CREATE, "ns3.child.test.");
	add_all(&op->add, (const char *const[]){"192.0.2.3", "2001:db8::3", NULL});
	op = cds_change_set_add_op(cs, CDS_NS_OP_DOMAIN_UPDATE, NULL);
	add_all(&op->add, (const char *const[]){"ns3.child.test.", NULL});
	add_all(&op->rem, (const char *const[]){"ns2.child.test.", NULL});
	assert_non_null(cds_change_set_add_op(cs, CDS_NS_OP_HOST_DELETE, "ns2.child.test."));
}

static void test_payload_round_trip(void **state)
{
	struct cds_change_set cs, back = {0};
	ns_change(&cs);
	char *json = cds_change_set_payload(&cs);
	assert_non_null(json);
	back.kind = CDS_KIND_NS;
	assert_int_equal(cds_change_set_read_payload(&back, json), 0);
	assert_true(cds_strlist_equal(&back.proposed, &cs.proposed));
	assert_int_equal(back.glue_count, 1);
	assert_true(cds_strlist_equal(&back.glue[0].addresses, &cs.glue[0].addresses));
	assert_int_equal(back.op_count, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.ops[i].kind, cs.ops[i].kind);
		assert_string_equal(back.ops[i].name, cs.ops[i].name);
		assert_true(cds_strlist_equal(&back.ops[i].add, &cs.ops[i].add));
		assert_true(cds_strlist_equal(&back.ops[i].rem, &cs.ops[i].rem));
	}
	/* The stored form is the one the store always had: "addrs" on a
	 * host-create, no name on the domain update. */
	assert_non_null(strstr(json, "\"op\":\"host-create\",\"name\":\"ns3.child.test.\","
				     "\"addrs\":[\"192.0.2.3\",\"2001:db8::3\"]"));
	assert_non_null(strstr(json, "{\"op\":\"domain-update\",\"add\""));
	free(json);
	cds_change_set_clear(&back);
	cds_change_set_clear(&cs);
}

static void test_ds_payload_and_line(void **state)
{
	struct cds_change_set cs = {0}, back = {0};
	cs.id = 42;
	cs.kind = CDS_KIND_DS;
	cs.action = CDS_ACTION_UPDATE;
	snprintf(cs.domain, sizeof(cs.domain), "child.test.");
	snprintf(cs.cltrid, sizeof(cs.cltrid), "cdscan-ds-7");
	add_all(&cs.add, (const char *const[]){"2 13 2 AB", NULL});
	add_all(&cs.proposed, (const char *const[]){"2 13 2 AB", NULL});
	add_all(&cs.keys, (const char *const[]){"257 3 13 AAAA", NULL});
	char *json = cds_change_set_payload(&cs);
	assert_int_equal(cds_change_set_read_payload(&back, json), 0);
	assert_int_equal(back.keys.n, 1);
	assert_string_equal(back.keys.v[0], "257 3 13 AAAA");
	assert_int_equal(back.op_count, 0);
	char *line = cds_change_set_to_json(&cs);
	assert_non_null(strstr(line, "\"id\":42,\"domain\":\"child.test.\",\"kind\":\"ds\","
				     "\"action\":\"update\",\"add\":[\"2 13 2 AB\"]"));
	assert_non_null(strstr(line, "\"cltrid\":\"cdscan-ds-7\",\"payload\":{\"proposed\""));
	free(line);
	free(json);
	cds_change_set_clear(&back);
	cds_change_set_clear(&cs);
}

/* What the store holds is read as untrusted: anything not a payload is
 * CDS_EDATA, never a crash or a half-read change set used anyway. */
static void test_damaged_payloads(void **state)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{\"proposed\": 5}", "{\"proposed\": [1]}",
		"{\"ops\": 5}", "{\"ops\": [{\"op\": \"host-move\", \"name\": \"a.\"}]}",
		"{\"ops\": [{\"op\": \"host-create\"}]}", "{\"glue\": {\"a.\": \"1.2.3.4\"}}",
		"{\"ops\": [{\"op\": \"host-update\", \"name\": \"a.\", \"add\": {}}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cds_change_set cs = {0};
		if (cds_change_set_read_payload(&cs, bad[i]) != CDS_EDATA)
			fail_msg("payload %zu (%s) was accepted", i, bad[i]);
		cds_change_set_clear(&cs);
	}
	struct cds_change_set cs = {0};
	assert_int_equal(cds_change_set_read_payload(&cs, NULL), CDS_EDATA);
	assert_int_equal(cds_change_set_read_payload(&cs, "{}"), 0);
	cds_change_set_clear(&cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_strlist),
		cmocka_unit_test(test_verdict_lists_sorted),
		cmocka_unit_test(test_payload_round_trip),
		cmocka_unit_test(test_ds_payload_and_line),
		cmocka_unit_test(test_damaged_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
