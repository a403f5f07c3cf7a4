/* Unit tests of command-line parsing: accepted forms and usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/cli.h"
#include "cdscan/error.h"

#define ARGV(...) ((char *[]){"cdscan", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"cdscan", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cli, err, ...) cds_cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cli, err, sizeof(err))

static const char DS2[] = "2371 13 2 "
			  "1F987CC6583E92DF0890718C42EB95ABF2B7B1A1B9C1B3D1E1F1A1B1C1D1E1F1";

static void test_check_full(void **state)
{
	struct cds_cli cli;
	char err[256];
	int r = PARSE(&cli, err, "-c", "/etc/x.yaml", "-vv", "--log-format", "json", "check",
		      "Child.TEST", "--ns", "ns1.provider-a.net@127.53.1.1", "--ns",
		      "NS1.provider-a.net.@::1#5300", "--ns", "ns2.provider-b.net", "--ds",
		      (char *)DS2, "--last-change", "2026-11-29T18:00:00Z", "--json",
		      "--resolver", "127.53.0.53#53", "--trust-anchor", "/tmp/ta");
	assert_int_equal(r, 0);
	assert_int_equal(cli.command, CDS_CMD_CHECK);
	assert_string_equal(cli.config_file, "/etc/x.yaml");
	assert_int_equal(cli.verbosity, 2);
	assert_true(cli.has_log_format && cli.log_format == CDS_LOG_JSON);
	assert_string_equal(cli.domain, "child.test.");
	assert_int_equal(cli.ns_count, 3);
	assert_string_equal(cli.ns[1].name, "ns1.provider-a.net.");
	assert_true(cli.ns[1].has_addr);
	char a[64];
	cds_addr_format(&cli.ns[1].addr, a, sizeof(a));
	assert_string_equal(a, "::1#5300");
	assert_false(cli.ns[2].has_addr);
	assert_int_equal(cli.ds_count, 1);
	assert_int_equal(cli.ds[0].keytag, 2371);
	assert_true(cli.has_last_change);
	assert_int_equal((long long)cli.last_change, 1795975200LL);
	assert_true(cli.json);
	assert_string_equal(cli.trust_anchor, "/tmp/ta");
	cds_cli_free(&cli);
}

static void test_scan_and_others(void **state)
{
	struct cds_cli cli;
	char err[256];
	assert_int_equal(PARSE(&cli, err, "scan", "--dry-run", "--domain", "A.test", "--domain",
			       "b.test.", "--limit", "10", "--output", "json", "--report",
			       "/tmp/r.html", "--format", "html"),
			 0);
	assert_int_equal(cli.command, CDS_CMD_SCAN);
	assert_true(cli.dry_run);
	assert_int_equal(cli.domain_count, 2);
	assert_string_equal(cli.domains[0], "a.test.");
	assert_true(cli.has_limit && cli.limit == 10);
	assert_int_equal(cli.output, CDS_OUTPUT_JSON);
	assert_int_equal(cli.report_format, CDS_REPORT_HTML);
	cds_cli_free(&cli);

	assert_int_equal(PARSE(&cli, err, "db", "init"), 0);
	assert_int_equal(cli.command, CDS_CMD_DB_INIT);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "epp", "send", "--limit", "5"), 0);
	assert_int_equal(cli.command, CDS_CMD_EPP_SEND);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "import", "--zone", "/tmp/z", "--origin", "TEST"), 0);
	assert_string_equal(cli.origin, "test.");
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "import", "--domains", "-", "--format", "jsonl", "--from",
			       "epp"),
			 0);
	assert_string_equal(cli.domains_file, "-");
	assert_int_equal(cli.import_format, CDS_IMPORT_JSONL);
	assert_int_equal(cli.import_from, CDS_IMPORT_FROM_EPP);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "import", "--domains", "p.csv", "--from", "dns"), 0);
	assert_int_equal(cli.import_format, CDS_IMPORT_CSV);
	assert_int_equal(cli.import_from, CDS_IMPORT_FROM_DNS);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "scan", "--help"), 0);
	assert_true(cli.help);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "--version"), 0);
	assert_true(cli.version);
	cds_cli_free(&cli);
}

/* Each usage error: arguments and a piece of the message. */
static void expect_usage(int argc, char **argv, const char *part)
{
	struct cds_cli cli;
	char err[256];
	int r = cds_cli_parse(argc, argv, &cli, err, sizeof(err));
	if (r != CDS_EUSAGE || !strstr(err, part))
		fail_msg("argv[1]=%s: got %d '%s', want usage error with '%s'", argv[1], r, err,
			 part);
	cds_cli_free(&cli);
}

#define EXPECT_USAGE(part, ...) expect_usage(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), part)

static void test_usage_errors(void **state)
{
	EXPECT_USAGE("no command", "-v");
	EXPECT_USAGE("unknown command", "frobnicate");
	EXPECT_USAGE("unknown option '--bogus'", "--bogus", "check", "x.test");
	EXPECT_USAGE("unknown option '--bogus'", "check", "x.test", "--bogus");
	EXPECT_USAGE("needs an argument", "check", "x.test", "--ns");
	EXPECT_USAGE("expected one DOMAIN", "check");
	EXPECT_USAGE("expected one DOMAIN", "check", "a.test", "b.test");
	EXPECT_USAGE("not a domain name", "check", "a..test");
	EXPECT_USAGE("not a domain name", "check", "bad name.test");
	EXPECT_USAGE("not a domain name", "check", ".");
	EXPECT_USAGE("not an IPv4 or IPv6", "check", "a.test", "--ns", "ns1.x@300.1.1.1");
	EXPECT_USAGE("not an IPv4 or IPv6", "check", "a.test", "--ns", "ns1.x@127.0.0.1#70000");
	EXPECT_USAGE("expected NAME or NAME@ADDR", "check", "a.test", "--ns", "@127.0.0.1");
	EXPECT_USAGE("not a host name", "check", "a.test", "--ns", "a b@127.0.0.1");
	EXPECT_USAGE("KEYTAG ALG", "check", "a.test", "--ns", "n.x", "--ds", "1 13 2 ABC");
	EXPECT_USAGE("KEYTAG ALG", "check", "a.test", "--ns", "n.x", "--ds", "1 13 2 ABCD");
	EXPECT_USAGE("KEYTAG ALG", "check", "a.test", "--ns", "n.x", "--ds", "70000 13 2 AB");
	EXPECT_USAGE("KEYTAG ALG", "check", "a.test", "--ns", "n.x", "--ds", "1 13 2 XYZW");
	EXPECT_USAGE("--ds needs --ns", "check", "a.test", "--ds", (char *)DS2);
	EXPECT_USAGE("cannot be combined", "check", "a.test", "--parent-zone", "z", "--ns", "n.x");
	EXPECT_USAGE("RFC 3339", "check", "a.test", "--last-change", "yesterday");
	EXPECT_USAGE("RFC 3339", "check", "a.test", "--last-change", "2026-02-30T00:00:00Z");
	EXPECT_USAGE("not an IPv4 or IPv6", "check", "a.test", "--resolver", "localhost");
	EXPECT_USAGE("--zone FILE is required", "import");
	EXPECT_USAGE("not both", "import", "--zone", "z", "--domains", "d");
	EXPECT_USAGE("expected csv or jsonl", "import", "--domains", "d", "--format", "xml");
	EXPECT_USAGE("expected dns or epp", "import", "--domains", "d", "--from", "whois");
	EXPECT_USAGE("--origin goes with --zone", "import", "--domains", "d", "--origin", "t");
	EXPECT_USAGE("go with --domains", "import", "--zone", "z", "--from", "epp");
	EXPECT_USAGE("expected text or json", "--log-format", "xml", "check", "a.test");
	EXPECT_USAGE("expected epp-spool", "scan", "--output", "smtp");
	EXPECT_USAGE("expected text, json or html", "scan", "--format", "pdf");
	EXPECT_USAGE("expected a number", "scan", "--limit", "0");
	EXPECT_USAGE("needs a subcommand", "db");
	EXPECT_USAGE("needs a subcommand", "epp", "receive");
	EXPECT_USAGE("unexpected argument", "db", "init", "now");
	EXPECT_USAGE("domain show|history|suspend|resume|approve-csync", "domain");
	EXPECT_USAGE("(not 'frob')", "domain", "frob", "x.test");
	EXPECT_USAGE("expected one domain NAME", "domain", "show");
	EXPECT_USAGE("expected one domain NAME", "domain", "suspend", "a.test", "b.test");
	EXPECT_USAGE("not a domain name", "domain", "history", "a..test");
	EXPECT_USAGE("unknown option '--reason'", "domain", "show", "a.test", "--reason", "x");
	EXPECT_USAGE("unknown option '--json'", "domain", "suspend", "a.test", "--json");
	EXPECT_USAGE("unknown option '--limit'", "domain", "show", "a.test", "--limit", "3");
	EXPECT_USAGE("1 to 400 characters", "domain", "suspend", "a.test", "--reason", "");
	EXPECT_USAGE("without control characters", "domain", "resume", "a.test", "--reason",
		     "two\nlines");
	EXPECT_USAGE("expected a number", "domain", "history", "a.test", "--limit", "-1");
}

/* The domain commands: one NAME, normalised, and their options. */
static void test_domain(void **state)
{
	struct cds_cli cli;
	char err[256];
	assert_int_equal(PARSE(&cli, err, "domain", "show", "Child.TEST", "--json"), 0);
	assert_int_equal(cli.command, CDS_CMD_DOMAIN_SHOW);
	assert_string_equal(cli.domain, "child.test.");
	assert_true(cli.json);
	assert_string_equal(cds_cli_command_name(cli.command), "domain show");
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "domain", "history", "--limit", "7", "child.test."), 0);
	assert_int_equal(cli.command, CDS_CMD_DOMAIN_HISTORY);
	assert_true(cli.has_limit && cli.limit == 7 && !cli.json);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "domain", "suspend", "child.test", "--reason",
			       "multi-signer migration"),
			 0);
	assert_int_equal(cli.command, CDS_CMD_DOMAIN_SUSPEND);
	assert_string_equal(cli.reason, "multi-signer migration");
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "domain", "resume", "child.test"), 0);
	assert_int_equal(cli.command, CDS_CMD_DOMAIN_RESUME);
	assert_null(cli.reason);
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "domain", "approve-csync", "child.test"), 0);
	assert_int_equal(cli.command, CDS_CMD_DOMAIN_APPROVE_CSYNC);
	assert_string_equal(cds_cli_command_name(cli.command), "domain approve-csync");
	cds_cli_free(&cli);
	assert_int_equal(PARSE(&cli, err, "domain", "--help"), 0);
	assert_true(cli.help && cli.command == CDS_CMD_DOMAIN_SHOW);
	cds_cli_free(&cli);
}

/* dsync: names normalised, defaults, every option. */
static void test_dsync(void **state)
{
	struct cds_cli cli;
	char err[256];
	assert_int_equal(PARSE(&cli, err, "dsync", "--zone", "TEST", "--target", "Notify.Nic.Test"),
			 0);
	assert_int_equal(cli.command, CDS_CMD_DSYNC);
	assert_string_equal(cds_cli_command_name(cli.command), "dsync");
	assert_string_equal(cli.dsync.zone, "test.");
	assert_string_equal(cli.dsync.target, "notify.nic.test.");
	assert_int_equal(cli.dsync.port, 53);
	assert_int_equal(cli.dsync.ttl, 3600);
	assert_int_equal(cli.dsync.child_count, 0);
	assert_false(cli.dsync.no_wildcard || cli.dsync.generic);
	cds_cli_free(&cli);

	assert_int_equal(PARSE(&cli, err, "dsync", "--target", "n.example.", "--zone", "co.uk.",
			       "--port", "65535", "--ttl", "0", "--generic", "--no-wildcard"),
			 0);
	assert_string_equal(cli.dsync.zone, "co.uk.");
	assert_int_equal(cli.dsync.port, 65535);
	assert_int_equal(cli.dsync.ttl, 0);
	assert_true(cli.dsync.no_wildcard && cli.dsync.generic);
	cds_cli_free(&cli);

	/* The root may be the parent; children in any case, below it. */
	assert_int_equal(PARSE(&cli, err, "dsync", "--zone", ".", "--target", "n.example",
			       "--child", "TEST", "--child", "b.a.test", "--ttl", "2147483647"),
			 0);
	assert_string_equal(cli.dsync.zone, ".");
	assert_int_equal(cli.dsync.child_count, 2);
	assert_string_equal(cli.dsync.children[0], "test.");
	assert_string_equal(cli.dsync.children[1], "b.a.test.");
	assert_int_equal(cli.dsync.ttl, 2147483647u);
	cds_cli_free(&cli);

	assert_int_equal(PARSE(&cli, err, "dsync", "--help"), 0);
	assert_true(cli.help && cli.command == CDS_CMD_DSYNC);
	cds_cli_free(&cli);
}

static void test_dsync_usage_errors(void **state)
{
	EXPECT_USAGE("--zone PARENT is required", "dsync");
	EXPECT_USAGE("--zone PARENT is required", "dsync", "--target", "n.test");
	EXPECT_USAGE("--target NAME is required", "dsync", "--zone", "test");
	EXPECT_USAGE("--zone 'a..test': not a domain name", "dsync", "--zone", "a..test",
		     "--target", "n.test");
	EXPECT_USAGE("not a domain name", "dsync", "--zone", "*.test", "--target", "n.test");
	EXPECT_USAGE("--target '.': not a host name", "dsync", "--zone", "test", "--target", ".");
	EXPECT_USAGE("not a host name", "dsync", "--zone", "test", "--target", "*.n.test");
	EXPECT_USAGE("not a host name", "dsync", "--zone", "test", "--target", "n test");
	EXPECT_USAGE("from 1 to 65535", "dsync", "--zone", "test", "--target", "n", "--port", "0");
	EXPECT_USAGE("from 1 to 65535", "dsync", "--zone", "test", "--target", "n", "--port",
		     "65536");
	EXPECT_USAGE("from 1 to 65535", "dsync", "--zone", "test", "--target", "n", "--port", "");
	EXPECT_USAGE("from 0 to 2147483647", "dsync", "--zone", "test", "--target", "n", "--ttl",
		     "2147483648");
	EXPECT_USAGE("from 0 to 2147483647", "dsync", "--zone", "test", "--target", "n", "--ttl",
		     "1h");
	EXPECT_USAGE("'a.net.' is not below the zone test.", "dsync", "--zone", "test",
		     "--target", "n", "--child", "a.net");
	EXPECT_USAGE("is not below the zone", "dsync", "--zone", "test", "--target", "n",
		     "--child", "test");
	EXPECT_USAGE("not a child zone name", "dsync", "--zone", ".", "--target", "n", "--child",
		     ".");
	EXPECT_USAGE("exclude each other", "dsync", "--zone", "test", "--target", "n", "--child",
		     "a.test", "--no-wildcard");
	EXPECT_USAGE("unexpected argument 'x.test'", "dsync", "--zone", "test", "--target", "n",
		     "x.test");
	EXPECT_USAGE("dsync: unknown option '--listen'", "dsync", "--listen", "127.0.0.1");
	EXPECT_USAGE("needs an argument", "dsync", "--zone", "test", "--target");
	/* "*._dsync." and a parent of 245 characters make 254: the longest
	 * name; 246 do not fit. */
	char l63[64], parent[300];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	snprintf(parent, sizeof(parent), "%s.%s.%s.%.53s", l63, l63, l63, l63);
	EXPECT_USAGE("longer than 255 octets", "dsync", "--zone", parent, "--target", "n");
	struct cds_cli cli;
	char err[256];
	assert_int_equal(PARSE(&cli, err, "dsync", "--zone", parent, "--target", "n",
			       "--no-wildcard"),
			 0);
	cds_cli_free(&cli);
	parent[strlen(parent) - 1] = '\0';
	assert_int_equal(PARSE(&cli, err, "dsync", "--zone", parent, "--target", "n"), 0);
	cds_cli_free(&cli);
	/* A child's owner: the child's name and "_dsync.", 254 at most. */
	char child[400];
	snprintf(parent, sizeof(parent), "%s.%s.%s.", l63, l63, l63);
	snprintf(child, sizeof(child), "%.55s.%s", l63, parent);
	EXPECT_USAGE("longer than 255 octets (--child", "dsync", "--zone", parent, "--target", "n",
		     "--child", child);
	snprintf(child, sizeof(child), "%.54s.%s", l63, parent);
	assert_int_equal(PARSE(&cli, err, "dsync", "--zone", parent, "--target", "n", "--child",
			       child),
			 0);
	cds_cli_free(&cli);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_full),
		cmocka_unit_test(test_scan_and_others),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_dsync),
		cmocka_unit_test(test_dsync_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
