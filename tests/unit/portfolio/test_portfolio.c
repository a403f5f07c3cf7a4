/* Unit tests of the portfolio reader (import --domains): CSV fields,
 * quoting, headers, comments, CRLF; JSON lines; limits; the reader's
 * file:line; registry profiles checked against the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/error.h"
#include "cdscan/portfolio.h"

static const struct cds_portfolio_limits lim = {400, 3, 2, 3};

static int csv(const char *line, bool first, struct cds_portfolio_entry *e)
{
	char err[300];
	return cds_portfolio_parse_line(CDS_PORTFOLIO_CSV, line, strlen(line), first, &lim, e, err,
	                                sizeof(err));
}

static void test_csv(void **state)
{
	struct cds_portfolio_entry e;
	assert_int_equal(cds_portfolio_entry_init(&e, &lim), 0);
	assert_int_equal(csv("Example.TEST", false, &e), 1);
	assert_string_equal(e.domain, "example.test.");
	assert_string_equal(e.zone, "test.");
	assert_string_equal(e.registry, "");
	assert_false(e.has_ns);
	assert_false(e.has_ds);
	assert_int_equal(csv("a.b.test.,nic-test\r", false, &e), 1);
	assert_string_equal(e.domain, "a.b.test.");
	assert_string_equal(e.zone, "b.test.");
	assert_string_equal(e.registry, "nic-test");
	assert_int_equal(csv("\"a.test\",\"nic-test\"", false, &e), 1);
	assert_string_equal(e.registry, "nic-test");
	/* A header only on the first line; comments and empty lines anywhere. */
	assert_int_equal(csv("Domain,Registry", true, &e), 0);
	assert_int_equal(csv("domain", true, &e), 0);
	assert_int_equal(csv("domain,registry", false, &e), CDS_EDATA);
	assert_int_equal(csv("  # a comment", false, &e), 0);
	assert_int_equal(csv("", false, &e), 0);
	/* Strict: no third field, no stray quote, no empty registry, no TLD. */
	assert_int_equal(csv("a.test,nic-test,x", false, &e), CDS_EDATA);
	assert_int_equal(csv("a.test,\"nic-test", false, &e), CDS_EDATA);
	assert_int_equal(csv("a.test,\"nic-test\"x", false, &e), CDS_EDATA);
	assert_int_equal(csv("a\"b.test", false, &e), CDS_EDATA);
	assert_int_equal(csv("a.test,", false, &e), CDS_EDATA);
	assert_int_equal(csv("a.test,nic test", false, &e), CDS_EDATA);
	assert_int_equal(csv("test", false, &e), CDS_EDATA);
	assert_int_equal(csv("*.test", false, &e), CDS_EDATA);
	assert_int_equal(csv(" a.test", false, &e), CDS_EDATA);
	char nul[] = "a.test\0x";
	char err[200];
	assert_int_equal(cds_portfolio_parse_line(CDS_PORTFOLIO_CSV, nul, sizeof(nul) - 1, false,
	                                          &lim, &e, err, sizeof(err)),
	                 CDS_EDATA);
	cds_portfolio_entry_deinit(&e);
}

static int jsonl(const char *line, struct cds_portfolio_entry *e, char *err)
{
	return cds_portfolio_parse_line(CDS_PORTFOLIO_JSONL, line, strlen(line), false, &lim, e,
	                                err, 300);
}

static void test_jsonl(void **state)
{
	struct cds_portfolio_entry e;
	char err[300];
	assert_int_equal(cds_portfolio_entry_init(&e, &lim), 0);
	assert_int_equal(
	    jsonl("{\"domain\": \"A.Test\", \"ns\": [\"b.\", \"A\", \"a.\"], "
	          "\"ds\": [\"2 13 2 "
	          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
	          " \"1 13 2 "
	          "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\"]}",
	          &e, err),
	    1);
	assert_string_equal(e.domain, "a.test.");
	assert_int_equal(e.ns_count, 2);
	assert_string_equal(e.ns[0], "a.");
	assert_string_equal(e.ns[1], "b.");
	assert_int_equal(e.ds_count, 2);
	assert_int_equal(e.ds[0].keytag, 1);
	assert_true(e.has_ns && e.has_ds);
	assert_int_equal(jsonl("{\"domain\": \"a.test\", \"ds\": []}", &e, err), 1);
	assert_false(e.has_ns);
	assert_true(e.has_ds);
	assert_int_equal(e.ds_count, 0);
	assert_int_equal(jsonl("{\"ns\": [\"a.\"]}", &e, err), CDS_EDATA);
	assert_non_null(strstr(err, "no \"domain\""));
	assert_int_equal(
	    jsonl("{\"domain\": \"a.test\", \"ns\": [\"a.\", \"b.\", \"c.\", \"d.\"]}", &e, err),
	    CDS_EDATA);
	assert_non_null(strstr(err, "import.max-ns (3)"));
	assert_int_equal(jsonl("{\"domain\": \"a.test\"} {}", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("{\"domain\": \"a.test\",}", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("{'domain': 'a.test'}", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("[\"a.test\"]", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("{\"domain\": {\"x\": {\"y\": [1]}}}", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("{\"domain\": \"a.test\", \"ns\": \"a.\"}", &e, err), CDS_EDATA);
	assert_int_equal(jsonl("{\"domain\": \"a.test\", \"ds\": [\"1 13 2 AB\"]}", &e, err),
	                 CDS_EDATA);
	cds_portfolio_entry_deinit(&e);
}

static void test_reader(void **state)
{
	char path[] = "/tmp/cdscan-portfolio-XXXXXX", err[300];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("domain,registry\n\na.test\n# x\nb.test,nic\nc.test\nd.test\n", f);
	fclose(f);
	struct cds_portfolio_reader *r;
	struct cds_portfolio_entry e;
	assert_int_equal(cds_portfolio_entry_init(&e, &lim), 0);
	assert_int_equal(cds_portfolio_open(path, CDS_PORTFOLIO_CSV, &lim, &r, err, sizeof(err)),
	                 0);
	assert_int_equal(cds_portfolio_next(r, &e, err, sizeof(err)), 1);
	assert_int_equal(e.line, 3);
	assert_int_equal(cds_portfolio_next(r, &e, err, sizeof(err)), 1);
	assert_int_equal(e.line, 5);
	assert_int_equal(cds_portfolio_next(r, &e, err, sizeof(err)), 1);
	/* The fourth domain is one more than max_domains. */
	assert_int_equal(cds_portfolio_next(r, &e, err, sizeof(err)), CDS_EDATA);
	char want[400];
	snprintf(want, sizeof(want), "%s:7: more than import.max-domains (3) domains", path);
	assert_string_equal(err, want);
	cds_portfolio_close(r);
	remove(path);

	/* The registry of a line: a configured profile serving its TLD. */
	struct cds_conf conf = {0};
	char *tld = "test.";
	conf.registry_count = 1;
	conf.registries[0].name = "nic";
	conf.registries[0].tlds[0] = tld;
	conf.registries[0].tld_count = 1;
	const struct cds_registry *reg;
	e.file = "f";
	e.line = 9;
	assert_int_equal(csv("b.test,nic", false, &e), 1);
	assert_int_equal(cds_portfolio_registry(&conf, &e, &reg, err, sizeof(err)), 0);
	assert_ptr_equal(reg, &conf.registries[0]);
	assert_int_equal(csv("b.test", false, &e), 1);
	assert_int_equal(cds_portfolio_registry(&conf, &e, &reg, err, sizeof(err)), 0);
	assert_ptr_equal(reg, &conf.registries[0]);
	assert_int_equal(csv("b.example", false, &e), 1);
	assert_int_equal(cds_portfolio_registry(&conf, &e, &reg, err, sizeof(err)), 0);
	assert_null(reg);
	assert_int_equal(csv("b.example,nic", false, &e), 1);
	e.file = "f";
	e.line = 9;
	assert_int_equal(cds_portfolio_registry(&conf, &e, &reg, err, sizeof(err)), CDS_EDATA);
	assert_non_null(strstr(err, "f:9: registry 'nic' does not serve b.example."));
	assert_int_equal(csv("b.test,other", false, &e), 1);
	assert_int_equal(cds_portfolio_registry(&conf, &e, &reg, err, sizeof(err)), CDS_EDATA);
	assert_non_null(strstr(err, "unknown registry 'other'"));
	cds_portfolio_entry_deinit(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_jsonl),
	    cmocka_unit_test(test_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
