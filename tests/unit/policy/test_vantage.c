/* Unit tests of vantage agreement (src/policy/vantage.c): the canonical
 * observation of a side (order-independent, action and set, glue for NS;
 * nothing for rejected or waiting sides), the agreement rule (N distinct
 * vantages, a different observation blocks, the window, self's old row and
 * duplicates not counted), and holding a side back. */
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

#define DS1 "2371 13 2 C7A1B2"
#define DS2 "60485 13 2 F1B6C3"
#define DS3 "11111 13 2 ABCDEF"

static void add_all(struct cds_strlist *l, const char *const *v)
{
	for (; *v; v++)
		assert_int_equal(cds_strlist_add(l, *v), 0);
}

/* A DS side: update from {DS1} to the given set (in the given order). */
static void ds_update(struct cds_verdict *v, const char *const *proposed)
{
	memset(v, 0, sizeof(*v));
	add_all(&v->ds_side.current, (const char *const[]){DS1, NULL});
	add_all(&v->ds_side.proposed, proposed);
	assert_int_equal(cds_verdict_side_diff(&v->ds_side), 0);
	cds_verdict_decide(&v->ds_side, CDS_ACTION_UPDATE, CDS_R_DS_UPDATED, NULL);
	cds_verdict_decide(&v->ns_side, CDS_ACTION_NONE, CDS_R_NO_CSYNC, NULL);
	v->signal_inception = 1000;
}

static char *fp_of(const struct cds_verdict *v, enum cds_kind k)
{
	char *fp = NULL;
	assert_int_equal(cds_policy_vantage_fingerprint(v, k, &fp), 0);
	assert_non_null(fp);
	return fp;
}

static void test_fingerprint_canonical(void **state)
{
	struct cds_verdict a, b, c;
	ds_update(&a, (const char *const[]){DS2, DS1, NULL});
	ds_update(&b, (const char *const[]){DS1, DS2, NULL});
	ds_update(&c, (const char *const[]){DS1, DS3, NULL});
	char *fa = fp_of(&a, CDS_KIND_DS), *fb = fp_of(&b, CDS_KIND_DS),
	     *fc = fp_of(&c, CDS_KIND_DS);
	assert_string_equal(fa, "update: " DS1 ", " DS2);
	assert_string_equal(fa, fb);     /* order does not matter */
	assert_string_not_equal(fa, fc); /* the set does */
	/* Nothing to change is an observation too, of the current set. */
	char *fn = fp_of(&a, CDS_KIND_NS);
	assert_string_equal(fn, "none: ");
	/* A rejected side observed nothing. */
	char *fr = NULL;
	a.ds_side.reason_count = 0;
	cds_verdict_decide(&a.ds_side, CDS_ACTION_REJECT, CDS_R_NS_UNREACHABLE, NULL);
	assert_int_equal(cds_policy_vantage_fingerprint(&a, CDS_KIND_DS, &fr), CDS_ENOENT);
	assert_null(fr);
	/* Nor did one waiting for accept-after-delay. */
	a.ds_side.reason_count = 0;
	cds_verdict_decide(&a.ds_side, CDS_ACTION_NONE, CDS_R_BOOTSTRAP_PENDING, NULL);
	assert_int_equal(cds_policy_vantage_fingerprint(&a, CDS_KIND_DS, &fr), CDS_ENOENT);
	free(fa);
	free(fb);
	free(fc);
	free(fn);
	cds_verdict_clear(&a);
	cds_verdict_clear(&b);
	cds_verdict_clear(&c);
}

static void ns_update(struct cds_verdict *v, const char *addr)
{
	memset(v, 0, sizeof(*v));
	add_all(&v->ns_side.current, (const char *const[]){"ns.child.test.", NULL});
	add_all(&v->ns_side.proposed,
	        (const char *const[]){"ns2.child.test.", "ns1.provider.net.", NULL});
	assert_int_equal(cds_verdict_side_diff(&v->ns_side), 0);
	cds_verdict_decide(&v->ns_side, CDS_ACTION_UPDATE, CDS_R_NS_UPDATED, NULL);
	cds_verdict_decide(&v->ds_side, CDS_ACTION_NONE, CDS_R_NO_SIGNAL, NULL);
	struct cds_verdict_glue *g =
	    cds_verdict_glue_add(&v->glue, &v->glue_count, "ns2.child.test.");
	assert_non_null(g);
	add_all(&g->addresses, (const char *const[]){addr, "2001:db8::2", NULL});
	g = cds_verdict_glue_add(&v->glue_current, &v->glue_current_count, "ns.child.test.");
	assert_non_null(g);
	add_all(&g->addresses, (const char *const[]){"192.0.2.1", NULL});
	v->csync_approval_used = true;
}

static void test_fingerprint_ns_glue(void **state)
{
	struct cds_verdict a, b;
	ns_update(&a, "192.0.2.2");
	ns_update(&b, "192.0.2.99");
	char *fa = fp_of(&a, CDS_KIND_NS), *fb = fp_of(&b, CDS_KIND_NS);
	assert_string_equal(fa, "update: ns1.provider.net., ns2.child.test.; glue "
	                        "ns2.child.test. 192.0.2.2 2001:db8::2");
	assert_string_not_equal(fa, fb); /* same NS set, other glue */
	free(fa);
	free(fb);
	cds_verdict_clear(&a);
	cds_verdict_clear(&b);
}

#define NOW    1000000
#define WINDOW 3600

static enum cds_vantage_outcome agree(const struct cds_vantage_seen *seen, size_t n,
                                      uint32_t required, char *detail)
{
	return cds_policy_vantage_agree("a", "update: X", seen, n, NOW, WINDOW, required, detail,
	                                512);
}

static void test_agree_rule(void **state)
{
	char d[512];
	/* One vantage required: today's behaviour. */
	assert_int_equal(agree(NULL, 0, 1, d), CDS_VANTAGE_AGREED);
	/* Two required, only self so far (its own older row does not count). */
	struct cds_vantage_seen own[] = {{"a", "update: X", NOW - 10}};
	assert_int_equal(agree(own, 1, 2, d), CDS_VANTAGE_WAITING);
	assert_non_null(strstr(d, "1 of 2 vantages have observed this signal so far (a)"));
	/* b saw the same within the window. */
	struct cds_vantage_seen same[] = {{"a", "update: X", NOW - 10},
	                                  {"b", "update: X", NOW - 60}};
	assert_int_equal(agree(same, 2, 2, d), CDS_VANTAGE_AGREED);
	assert_non_null(strstr(d, "2 of 2"));
	/* ... but before the window: not counted (no replay of an old one). */
	struct cds_vantage_seen old[] = {{"b", "update: X", NOW - WINDOW - 1}};
	assert_int_equal(agree(old, 1, 2, d), CDS_VANTAGE_WAITING);
	/* A duplicate row of one vantage counts once. */
	struct cds_vantage_seen dup[] = {{"b", "update: X", NOW}, {"b", "update: X", NOW}};
	assert_int_equal(agree(dup, 2, 3, d), CDS_VANTAGE_WAITING);
	/* b saw something else: held back, whoever agrees. */
	struct cds_vantage_seen other[] = {{"b", "update: Y", NOW - 5}, {"c", "update: X", NOW}};
	assert_int_equal(agree(other, 2, 2, d), CDS_VANTAGE_DISAGREED);
	assert_non_null(strstr(d, "b saw \"update: Y\" at "));
	assert_non_null(strstr(d, "2 saw this signal (a, c)"));
	/* b's different observation left the window: it no longer blocks. */
	struct cds_vantage_seen stale[] = {{"b", "none: ", NOW - WINDOW - 100},
	                                   {"c", "update: X", NOW}};
	assert_int_equal(agree(stale, 2, 2, d), CDS_VANTAGE_AGREED);
}

static void test_hold(void **state)
{
	struct cds_verdict v;
	ds_update(&v, (const char *const[]){DS1, DS2, NULL});
	assert_int_equal(cds_policy_vantage_hold(&v, CDS_KIND_DS, "1 of 2"), 0);
	assert_int_equal(v.ds_side.action, CDS_ACTION_REJECT);
	assert_int_equal(v.ds_side.reason_count, 1);
	assert_int_equal(v.ds_side.reasons[0], CDS_R_VANTAGE_DISAGREEMENT);
	assert_string_equal(v.ds_side.detail, "1 of 2");
	assert_true(cds_strlist_equal(&v.ds_side.proposed, &v.ds_side.current));
	assert_int_equal(v.ds_side.add.n + v.ds_side.rem.n, 0);
	assert_int_equal(v.signal_inception, 0);
	struct cds_change_set cs;
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_DS, &cs), CDS_ENOENT);
	cds_verdict_clear(&v);

	ns_update(&v, "192.0.2.2");
	assert_int_equal(cds_policy_vantage_hold(&v, CDS_KIND_NS, "disagree"), 0);
	assert_int_equal(v.ns_side.action, CDS_ACTION_REJECT);
	assert_false(v.csync_approval_used);
	assert_int_equal(v.glue_count, 1);
	assert_string_equal(v.glue[0].name, "ns.child.test.");
	assert_int_equal(cds_policy_change_set(&v, CDS_KIND_NS, &cs), CDS_ENOENT);
	cds_verdict_clear(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_canonical),
	    cmocka_unit_test(test_fingerprint_ns_glue),
	    cmocka_unit_test(test_agree_rule),
	    cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
