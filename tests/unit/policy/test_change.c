/* Unit tests of change sets built from decided verdicts
 * (src/policy/change.c): DS changes with the keys for keyData registries,
 * NS changes with host operations in an order an EPP server accepts (RFC
 * 5731, RFC 5732): creates and address updates before the domain update,
 * deletes after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/policy.h"

static void add_all(struct cds_strlist *l, const char *const *v)
{
	for (; *v; v++)
		assert_int_equal(cds_strlist_add(l, *v), 0);
}

static void glue(struct cds_verdict_glue **g, size_t *n, const char *name, const char *addr)
{
	struct cds_verdict_glue *e = cds_verdict_glue_add(g, n, name);
	assert_non_null(e);
	add_all(&e->addresses, (const char *const[]){addr, NULL});
}

static void test_ds_change(void **state)
{
	struct cds_verdict v = {0};
	struct cds_change_set cs;
	snprintf(v.domain, sizeof(v.domain), "child.test.");
	v.servers = calloc(1, sizeof(*v.servers));
	v.server_count = 1;
	add_all(&v.servers[0].cdnskey, (const char *const[]){"257 3 13 BBBB", NULL});
	add_all(&v.ds_side.current, (const char *const[]){"1 13 2 AA", NULL});
	add_all(&v.ds_side.proposed, (const char *const[]){"2 13 2 BB", NULL});
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_DS, &cs), CDS_ENOENT);
	cds_verdict_decide(&v.ds_side, CDS_ACTION_UPDATE, CDS_R_DS_UPDATED, NULL);
	assert_int_equal(cds_verdict_side_diff(&v.ds_side), 0);
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_DS, &cs), 0);
	assert_string_equal(cs.domain, "child.test.");
	assert_int_equal(cs.kind, CDS_KIND_DS);
	assert_int_equal(cs.action, CDS_ACTION_UPDATE);
	assert_string_equal(cs.add.v[0], "2 13 2 BB");
	assert_string_equal(cs.rem.v[0], "1 13 2 AA");
	assert_string_equal(cs.keys.v[0], "257 3 13 BBBB");
	assert_int_equal(cs.op_count, 0);
	cds_change_set_clear(&cs);
	/* A rejection changes nothing. */
	v.ds_side.action = CDS_ACTION_REJECT;
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_DS, &cs), CDS_ENOENT);
	cds_verdict_clear(&v);
}

/* ns1 keeps its name and moves address, ns2 goes, ns3 comes. */
static void test_ns_change_order(void **state)
{
	struct cds_verdict v = {0};
	struct cds_change_set cs;
	snprintf(v.domain, sizeof(v.domain), "child.test.");
	add_all(&v.ns_side.current, (const char *const[]){"ns1.child.test.", "ns2.child.test.", NULL});
	add_all(&v.ns_side.proposed, (const char *const[]){"ns1.child.test.", "ns3.child.test.", NULL});
	glue(&v.glue_current, &v.glue_current_count, "ns1.child.test.", "192.0.2.1");
	glue(&v.glue_current, &v.glue_current_count, "ns2.child.test.", "192.0.2.2");
	glue(&v.glue, &v.glue_count, "ns1.child.test.", "192.0.2.9");
	glue(&v.glue, &v.glue_count, "ns3.child.test.", "192.0.2.3");
	cds_verdict_decide(&v.ns_side, CDS_ACTION_UPDATE, CDS_R_NS_UPDATED, NULL);
	assert_int_equal(cds_verdict_side_diff(&v.ns_side), 0);
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_NS, &cs), 0);
	assert_int_equal(cs.op_count, 4);
	assert_int_equal(cs.ops[0].kind, CDS_NS_OP_HOST_UPDATE);
	assert_string_equal(cs.ops[0].name, "ns1.child.test.");
	assert_string_equal(cs.ops[0].add.v[0], "192.0.2.9");
	assert_string_equal(cs.ops[0].rem.v[0], "192.0.2.1");
	assert_int_equal(cs.ops[1].kind, CDS_NS_OP_HOST_CREATE);
	assert_string_equal(cs.ops[1].name, "ns3.child.test.");
	assert_string_equal(cs.ops[1].add.v[0], "192.0.2.3");
	assert_int_equal(cs.ops[2].kind, CDS_NS_OP_DOMAIN_UPDATE);
	assert_string_equal(cs.ops[2].add.v[0], "ns3.child.test.");
	assert_string_equal(cs.ops[2].rem.v[0], "ns2.child.test.");
	assert_int_equal(cs.ops[3].kind, CDS_NS_OP_HOST_DELETE);
	assert_string_equal(cs.ops[3].name, "ns2.child.test.");
	assert_int_equal(cs.glue_count, 2);
	assert_int_equal(cs.keys.n, 0);
	cds_change_set_clear(&cs);
	cds_verdict_clear(&v);
}

/* Glue only: one host update, no domain update, nothing deleted. */
static void test_ns_glue_only(void **state)
{
	struct cds_verdict v = {0};
	struct cds_change_set cs;
	add_all(&v.ns_side.current, (const char *const[]){"ns1.child.test.", "ns1.p.net.", NULL});
	add_all(&v.ns_side.proposed, (const char *const[]){"ns1.child.test.", "ns1.p.net.", NULL});
	glue(&v.glue_current, &v.glue_current_count, "ns1.child.test.", "192.0.2.1");
	glue(&v.glue, &v.glue_count, "ns1.child.test.", "2001:db8::1");
	cds_verdict_decide(&v.ns_side, CDS_ACTION_UPDATE, CDS_R_NS_UPDATED, NULL);
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_NS, &cs), 0);
	assert_int_equal(cs.op_count, 1);
	assert_int_equal(cs.ops[0].kind, CDS_NS_OP_HOST_UPDATE);
	assert_string_equal(cs.ops[0].add.v[0], "2001:db8::1");
	cds_change_set_clear(&cs);
	cds_verdict_clear(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ds_change),
		cmocka_unit_test(test_ns_change_order),
		cmocka_unit_test(test_ns_glue_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
