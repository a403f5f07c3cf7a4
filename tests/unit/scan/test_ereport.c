/* Unit tests of the RFC 9567 report limiter (src/scan/ereport.c): the same
 * report once per dedup-window, per-agent-rate a minute per agent, and
 * max-agents / max-remembered bounding its memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "../../../src/scan/scan_internal.h"

#define MIN_MS 60000u

static struct ereporter *reporter(uint32_t rate, uint32_t agents, uint64_t window_ms,
				  uint32_t remembered)
{
	struct cds_conf c;
	assert_int_equal(cds_conf_init(&c), 0);
	c.error_reporting.per_agent_rate = rate;
	c.error_reporting.max_agents = agents;
	c.error_reporting.dedup_window_ms = window_ms;
	c.error_reporting.max_remembered = remembered;
	struct ereporter *r = ereporter_new(&c);
	cds_conf_deinit(&c);
	assert_non_null(r);
	return r;
}

static const char *q(int i)
{
	static char buf[8][CDS_DNAME_BUFSIZE];
	char *b = buf[i % 8];
	snprintf(b, CDS_DNAME_BUFSIZE, "_er.59.c%d.test.7._er.agent.test.", i);
	return b;
}

static void test_defaults(void **state)
{
	(void)state;
	struct cds_conf c;
	assert_int_equal(cds_conf_init(&c), 0);
	assert_true(c.error_reporting.enabled);
	assert_int_equal(c.error_reporting.per_agent_rate, 10);
	assert_int_equal(c.error_reporting.max_agents, 10000);
	assert_int_equal(c.error_reporting.dedup_window_ms, 24 * 3600 * 1000ull);
	assert_int_equal(c.error_reporting.max_remembered, 100000);
	assert_int_equal(c.error_reporting.max_agent_length, 128);
	assert_int_equal(c.error_reporting.timeout_ms, 500);
	cds_conf_deinit(&c);
}

static void test_dedup(void **state)
{
	(void)state;
	struct ereporter *r = reporter(100, 10, 3600000, 1000);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(1), 1000), ER_SEND);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(1), 2000), ER_DUPLICATE);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(2), 2000), ER_SEND);
	/* Once the window is over, the report goes again. */
	assert_int_equal(ereporter_admit(r, "agent.test.", q(1), 1000 + 3600000), ER_SEND);
	ereporter_free(r);
	/* A window of 0 remembers nothing: only the rate holds. */
	r = reporter(100, 10, 0, 1000);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(1), 1000), ER_SEND);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(1), 1001), ER_SEND);
	ereporter_free(r);
}

static void test_rate(void **state)
{
	(void)state;
	struct ereporter *r = reporter(3, 10, 3600000, 1000);
	/* A burst of rate, then one per 60/rate seconds. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ereporter_admit(r, "agent.test.", q(i), 5000), ER_SEND);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(3), 5000), ER_RATE);
	/* Suppressed by the rate, not remembered: it may go later. */
	assert_int_equal(ereporter_admit(r, "agent.test.", q(3), 5000 + MIN_MS / 3), ER_SEND);
	assert_int_equal(ereporter_admit(r, "agent.test.", q(4), 5000 + MIN_MS / 3), ER_RATE);
	/* Another agent has a bucket of its own. */
	assert_int_equal(ereporter_admit(r, "other.test.", q(4), 5000 + MIN_MS / 3), ER_SEND);
	ereporter_free(r);
}

static void test_bounds(void **state)
{
	(void)state;
	/* Two agents at most: a third waits until one's bucket is full
	 * again (then it is forgotten). */
	struct ereporter *r = reporter(2, 2, 3600000, 1000);
	assert_int_equal(ereporter_admit(r, "a.test.", q(1), 0), ER_SEND);
	assert_int_equal(ereporter_admit(r, "b.test.", q(2), 0), ER_SEND);
	assert_int_equal(ereporter_admit(r, "c.test.", q(3), 0), ER_FULL);
	assert_int_equal(ereporter_admit(r, "c.test.", q(3), MIN_MS), ER_SEND);
	ereporter_free(r);
	/* Two reports remembered at most: a third is not sent until one's
	 * window ends (never sent twice within a window). */
	r = reporter(100, 10, 1000, 2);
	assert_int_equal(ereporter_admit(r, "a.test.", q(1), 0), ER_SEND);
	assert_int_equal(ereporter_admit(r, "a.test.", q(2), 10), ER_SEND);
	assert_int_equal(ereporter_admit(r, "a.test.", q(3), 20), ER_FULL);
	assert_int_equal(ereporter_admit(r, "a.test.", q(1), 30), ER_DUPLICATE);
	assert_int_equal(ereporter_admit(r, "a.test.", q(3), 1000), ER_SEND);
	ereporter_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
