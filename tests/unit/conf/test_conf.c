/* Unit tests of the configuration loader: defaults, good files, and every
 * kind of bad file with the position and key it must report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cdscan/conf.h"
#include "cdscan/error.h"

static void test_defaults(void **state)
{
	struct cds_conf c;
	assert_int_equal(cds_conf_init(&c), 0);
	assert_string_equal(c.database, "dbname=cdscan");
	assert_int_equal(c.resolver.address_count, 0);
	assert_string_equal(c.resolver.trust_anchor, "/usr/share/dns/root.key");
	assert_int_equal(c.resolver.timeout_ms, 5000);
	assert_int_equal(c.scan.timeout_ms, 2000);
	assert_int_equal(c.scan.transport, CDS_TRANSPORT_UDP);
	assert_int_equal(c.scan.edns_buffer_size, 1232);
	assert_true(c.policy.algorithms[8] && c.policy.algorithms[13] && c.policy.algorithms[15]);
	assert_false(c.policy.algorithms[5] || c.policy.algorithms[7] || c.policy.algorithms[1]);
	assert_true(c.policy.digest_types[2] && c.policy.digest_types[4]);
	assert_false(c.policy.digest_types[1]);
	assert_true(c.policy.compute_digests[2]);
	assert_true(c.policy.allow_delete && c.policy.csync && c.policy.bootstrap_authenticated);
	assert_false(c.policy.bootstrap_after_delay);
	assert_int_equal(c.policy.bootstrap_delay_scans, 3);
	assert_true(c.policy.bootstrap_delay_ms == UINT64_C(72) * 3600 * 1000);
	assert_int_equal(c.output.adapter, CDS_OUTPUT_EPP_SPOOL);
	assert_int_equal(c.log.level, CDS_LOG_INFO);
	/* #16: no special-purpose space is allowed by default; the limits. */
	assert_int_equal(c.resolver.allow_count, 0);
	assert_true(c.resolver.cache_max_ttl_ms == 3600 * 1000);
	assert_int_equal(c.scan.csync_max_ns, 16);
	assert_int_equal(c.scan.csync_max_addresses, 8);
	assert_int_equal(c.scan.csync_max_probes, 32);
	/* #20: one vantage (today's behaviour), named after the host. */
	assert_int_equal(c.scan.vantages, 1);
	assert_true(c.scan.vantage_window_ms == 3600 * 1000);
	assert_null(c.scan.vantage);
	assert_null(c.scan.source_address);
	char me[CDS_CONF_VANTAGE_MAX + 1];
	cds_conf_vantage_of(&c, me, sizeof(me));
	assert_true(cds_conf_vantage_name_ok(me));
	/* The limits' defaults are dns.h's, whatever the schema's text says. */
	assert_memory_equal(&c.limits, &cds_dnssec_limits_default, sizeof(c.limits));
	assert_int_equal(c.limits.keys_per_tag, 4);
	assert_int_equal(c.limits.nsec3_max_iterations, 150);
	cds_conf_deinit(&c);
}

/* The limits: section, and NSEC3 iterations under either name. */
static void test_limits(void **state)
{
	static const char y[] = "limits:\n"
				"  keys-per-tag: 2\n"
				"  rrsigs-tried-per-rrset: 3\n"
				"  verifications-per-rrset: 5\n"
				"  verifications-per-delegation: 200\n"
				"  records-per-rrset: 100\n"
				"  rrsigs-per-rrset: 6\n"
				"  dnskeys-per-rrset: 12\n"
				"  rsa-min-bits: 2048\n"
				"  rsa-max-bits: 3072\n"
				"  rsa-max-exponent-octets: 3\n"
				"  nsec3-max-iterations: 0\n";
	static const char old[] = "policy:\n  nsec3-max-iterations: 50\n";
	struct cds_conf c;
	struct cds_conf_error e;
	assert_int_equal(cds_conf_load_buffer(y, strlen(y), "l.yaml", &c, &e), 0);
	const struct cds_dnssec_limits want = {
		.keys_per_tag = 2, .rrsigs_tried = 3, .verifications_per_rrset = 5,
		.verifications_per_delegation = 200, .records_per_rrset = 100,
		.rrsigs_per_rrset = 6, .dnskeys_per_rrset = 12, .rsa_min_bits = 2048,
		.rsa_max_bits = 3072, .rsa_max_exponent_octets = 3, .nsec3_max_iterations = 0};
	assert_memory_equal(&c.limits, &want, sizeof(want));
	cds_conf_deinit(&c);
	assert_int_equal(cds_conf_load_buffer(old, strlen(old), "o.yaml", &c, &e), 0);
	assert_int_equal(c.limits.nsec3_max_iterations, 50);
	cds_conf_deinit(&c);
}

static void test_example_file(void **state)
{
	struct cds_conf c;
	struct cds_conf_error e;
	int r = cds_conf_load_file(CDSCAN_SOURCE_DIR "/conf/cdscan.yaml", &c, &e);
	if (r != 0) {
		char msg[600];
		cds_conf_error_format(&e, msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	assert_non_null(c.source);
	cds_conf_deinit(&c);
}

static void test_full_file(void **state)
{
	static const char y[] = "database: \"host=/tmp dbname=x password=secret\"\n"
				"resolver:\n"
				"  addresses: [127.53.0.53, '::1#5353']\n"
				"  trust-anchor: /tmp/root.key\n"
				"  allow-addresses: [127.53.0.0/16, '::1', 'fd00::/8']\n"
				"  cache-max-ttl: 10m\n"
				"scan:\n"
				"  concurrency: 50\n"
				"  csync-max-ns: 4\n"
				"  timeout: 750ms\n"
				"  transport: tcp\n"
				"  retries: 0\n"
				"  per-prefix-qps: ['192.0.2.0/24 500', '2001:db8::1 7']\n"
				"policy:\n"
				"  algorithms: [13, 14]\n"
				"  allow-delete: no\n"
				"  bootstrap:\n"
				"    accept-after-delay: true\n"
				"    delay: 3d\n"
				"output:\n"
				"  adapter: json\n"
				"log:\n"
				"  level: debug\n"
				"  format: json\n";
	struct cds_conf c;
	struct cds_conf_error e;
	assert_int_equal(cds_conf_load_buffer(y, strlen(y), "t.yaml", &c, &e), 0);
	assert_string_equal(c.database, "host=/tmp dbname=x password=secret");
	assert_int_equal(c.resolver.address_count, 2);
	assert_string_equal(c.resolver.addresses[1], "::1#5353");
	assert_int_equal(c.resolver.allow_count, 3);
	assert_int_equal(c.resolver.allow[0].family, AF_INET);
	assert_int_equal(c.resolver.allow[0].len, 16);
	assert_int_equal(c.resolver.allow[1].len, 128);
	assert_int_equal(c.resolver.allow[2].len, 8);
	assert_true(c.resolver.cache_max_ttl_ms == 600 * 1000);
	assert_int_equal(c.scan.csync_max_ns, 4);
	assert_int_equal(c.scan.concurrency, 50);
	assert_int_equal(c.scan.timeout_ms, 750);
	assert_int_equal(c.scan.transport, CDS_TRANSPORT_TCP);
	assert_int_equal(c.scan.retries, 0);
	assert_int_equal(c.scan.qps_limit_count, 2);
	assert_int_equal(c.scan.qps_limits[0].prefix.len, 24);
	assert_int_equal(c.scan.qps_limits[0].qps, 500);
	assert_int_equal(c.scan.qps_limits[1].prefix.family, AF_INET6);
	assert_int_equal(c.scan.qps_limits[1].qps, 7);
	assert_true(c.policy.algorithms[13] && c.policy.algorithms[14]);
	/* A list replaces the default, it does not add to it. */
	assert_false(c.policy.algorithms[8]);
	assert_false(c.policy.allow_delete);
	assert_true(c.policy.bootstrap_after_delay);
	assert_true(c.policy.bootstrap_delay_ms == UINT64_C(3) * 86400 * 1000);
	assert_int_equal(c.output.adapter, CDS_OUTPUT_JSON);
	assert_int_equal(c.log.level, CDS_LOG_DEBUG);
	assert_int_equal(c.log.format, CDS_LOG_JSON);
	cds_conf_deinit(&c);
}

static void test_empty_file(void **state)
{
	struct cds_conf c;
	struct cds_conf_error e;
	assert_int_equal(cds_conf_load_buffer("", 0, "empty.yaml", &c, &e), 0);
	assert_int_equal(c.scan.batch_size, 500);
	cds_conf_deinit(&c);
	assert_int_equal(cds_conf_load_buffer("# only a comment\n", 17, "c.yaml", &c, &e), 0);
	cds_conf_deinit(&c);
}

/* Each bad file: the text, and the line, column and key the error names. */
static const struct bad_case {
	const char *yaml;
	unsigned line, column;
	const char *key;
	const char *message_part;
} bad_cases[] = {
	{"scan:\n  concurency: 5\n", 2, 3, "scan.concurency", "unknown key"},
	{"databse: x\n", 1, 1, "databse", "unknown key"},
	{"scan:\n  concurrency: many\n", 2, 16, "scan.concurrency", "whole number"},
	{"scan:\n  concurrency: 0\n", 2, 16, "scan.concurrency", "out of range"},
	{"scan:\n  retries: 11\n", 2, 12, "scan.retries", "out of range"},
	{"scan:\n  timeout: 10ms\n", 2, 12, "scan.timeout", "out of range"},
	{"scan:\n  transport: quic\n", 2, 14, "scan.transport", "not one of"},
	{"policy:\n  algorithms: 13\n", 2, 15, "policy.algorithms", "expected a list"},
	{"policy:\n  algorithms: [13, 300]\n", 2, 20, "policy.algorithms", "not a number"},
	{"policy:\n  algorithms: []\n", 2, 15, "policy.algorithms", "must not be empty"},
	{"policy:\n  allow-delete: maybe\n", 2, 17, "policy.allow-delete", "true or false"},
	{"policy:\n  bootstrap:\n    delay: soon\n", 3, 12, "policy.bootstrap.delay", "duration"},
	{"resolver:\n  addresses: [dns.example]\n", 2, 15, "resolver.addresses", "IPv4 or IPv6"},
	{"daemon:\n  listen: [127.0.0.1, notify.example]\n", 2, 23, "daemon.listen",
	 "IPv4 or IPv6"},
	{"daemon:\n  http: localhost\n", 2, 9, "daemon.http", "IPv4 or IPv6"},
	{"daemon:\n  pace: 99\n", 2, 9, "daemon.pace", "out of range"},
	{"daemon:\n  notify:\n    source-prefix-v4: 33\n", 3, 23, "daemon.notify.source-prefix-v4",
	 "out of range"},
	{"resolver:\n  allow-addresses: [10.0.0.1/8]\n", 2, 21, "resolver.allow-addresses",
	 "host bits clear"},
	{"resolver:\n  allow-addresses: 10.0.0.0/8\n", 2, 20, "resolver.allow-addresses",
	 "expected a list"},
	{"resolver:\n  cache-max-ttl: 8d\n", 2, 18, "resolver.cache-max-ttl", "out of range"},
	{"scan:\n  csync-max-addresses: 17\n", 2, 24, "scan.csync-max-addresses",
	 "out of range"},
	{"scan:\n  per-prefix-qps: ['192.0.2.0/24']\n", 2, 20, "scan.per-prefix-qps",
	 "is not \"PREFIX QPS\""},
	{"scan:\n  per-prefix-qps: ['192.0.2.0/24 0']\n", 2, 20, "scan.per-prefix-qps",
	 "QPS in [1, 10000000]"},
	{"scan:\n  per-prefix-qps: ['192.0.2.1/24 5']\n", 2, 20, "scan.per-prefix-qps",
	 "host bits clear"},
	{"scan:\n  per-prefix-qps: ['192.0.2.0/24 5x']\n", 2, 20, "scan.per-prefix-qps",
	 "PREFIX QPS"},
	{"scan:\n  csync-max-ns: 0\n", 2, 17, "scan.csync-max-ns", "out of range"},
	{"scan:\n  vantage: zurich 1\n", 2, 12, "scan.vantage", "not a vantage name"},
	{"scan:\n  vantage: ''\n", 2, 12, "scan.vantage", "not a vantage name"},
	{"scan:\n  vantages: 0\n", 2, 13, "scan.vantages", "out of range 1..16"},
	{"scan:\n  vantages: 17\n", 2, 13, "scan.vantages", "out of range"},
	{"scan:\n  vantage-window: 10s\n", 2, 19, "scan.vantage-window", "out of range"},
	{"scan:\n  source-address: 127.0.0.2#53\n", 2, 19, "scan.source-address",
	 "no port"},
	{"scan:\n  source-address: scanner.example\n", 2, 19, "scan.source-address",
	 "IPv4 or IPv6"},
	{"log: verbose\n", 1, 6, "log", "mapping"},
	{"scan: [1]\n", 1, 7, "scan", "mapping"},
	{"database: [a]\n", 1, 11, "database", "single value"},
	{"scan:\n  retries: 1\n  retries: 2\n", 3, 3, "scan.retries", "twice"},
	{"- a\n- b\n", 1, 1, "", "mapping"},
	{"scan:\n  retries: [1\n", 3, 1, "", "YAML syntax"},
	{"a: 1\n---\nb: 2\n", 1, 1, "a", "unknown key"},
	{"log:\n  level: info\n---\nlog: {}\n", 4, 1, "", "one YAML document"},
	{"policy:\n  compute-digests: [4]\n  digest-types: [2]\n", 0, 0,
	 "policy.compute-digests", "not in policy.digest-types"},
	{"limits:\n  keys-per-tag: 0\n", 2, 17, "limits.keys-per-tag", "out of range 1..64"},
	{"limits:\n  records-per-rrset: 70000\n", 2, 22, "limits.records-per-rrset",
	 "out of range 16..65535"},
	{"limits:\n  rsa-min-bits: 4096\n  rsa-max-bits: 2048\n", 0, 0, "limits.rsa-min-bits",
	 "above limits.rsa-max-bits (2048)"},
	/* One setting under two names (the older one kept): only one may be
	 * given, wherever the other is. */
	{"policy:\n  nsec3-max-iterations: 10\nlimits:\n  nsec3-max-iterations: 20\n", 4, 25,
	 "limits.nsec3-max-iterations",
	 "the same setting as policy.nsec3-max-iterations (line 2): give only one of them"},
};

/* #20: the vantage keys. */
static void test_vantage(void **state)
{
	struct cds_conf c;
	struct cds_conf_error e;
	char me[CDS_CONF_VANTAGE_MAX + 1];
	const char y[] = "scan:\n  vantage: zrh-1.example\n  vantages: 3\n"
			 "  vantage-window: 2h\n  source-address: '::1'\n";
	assert_int_equal(cds_conf_load_buffer(y, strlen(y), "v.yaml", &c, &e), 0);
	assert_string_equal(c.scan.vantage, "zrh-1.example");
	assert_int_equal(c.scan.vantages, 3);
	assert_true(c.scan.vantage_window_ms == 2 * 3600 * 1000);
	assert_string_equal(c.scan.source_address, "::1");
	cds_conf_vantage_of(&c, me, sizeof(me));
	assert_string_equal(me, "zrh-1.example");
	cds_conf_deinit(&c);
	assert_false(cds_conf_vantage_name_ok("a b"));
	assert_false(cds_conf_vantage_name_ok(""));
	assert_false(cds_conf_vantage_name_ok("0123456789012345678901234567890123456789012345678901"
					      "234567890123"));
	assert_true(cds_conf_vantage_name_ok("0123456789012345678901234567890123456789012345678901"
					     "23456789012"));
}

static void test_bad_files(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct cds_conf c;
		struct cds_conf_error e;
		unsigned char untouched[sizeof(c)];
		memset(untouched, 0x5a, sizeof(untouched));
		memcpy(&c, untouched, sizeof(c));
		int r = cds_conf_load_buffer(b->yaml, strlen(b->yaml), "bad.yaml", &c, &e);
		if (r != CDS_ECONFIG)
			fail_msg("case %zu (%s): expected CDS_ECONFIG, got %d", i, b->yaml, r);
		/* On error the output is untouched: nothing half-applied, in any
		 * byte of it (not only the first). */
		if (memcmp(&c, untouched, sizeof(c)) != 0)
			fail_msg("case %zu (%s): the output was written on error", i, b->yaml);
		if (e.line != b->line || e.column != b->column || strcmp(e.key, b->key) != 0 ||
		    !strstr(e.message, b->message_part))
			fail_msg("case %zu: got %u:%u key '%s' '%s', want %u:%u key '%s' '%s'", i,
				 e.line, e.column, e.key, e.message, b->line, b->column, b->key,
				 b->message_part);
		assert_string_equal(e.file, "bad.yaml");
	}
}

static void test_error_format(void **state)
{
	struct cds_conf c;
	struct cds_conf_error e;
	char msg[600];
	const char y[] = "scan:\n  transport: quic\n";
	assert_int_equal(cds_conf_load_buffer(y, strlen(y), "/etc/cdscan.yaml", &c, &e),
			 CDS_ECONFIG);
	cds_conf_error_format(&e, msg, sizeof(msg));
	assert_string_equal(msg, "/etc/cdscan.yaml:2:14: key 'scan.transport': 'quic' is not "
				 "one of: udp, tcp");
}

static void test_missing_file(void **state)
{
	struct cds_conf c;
	struct cds_conf_error e;
	assert_int_equal(cds_conf_load_file("/nonexistent/cdscan.yaml", &c, &e), CDS_ECONFIG);
	assert_string_equal(e.file, "/nonexistent/cdscan.yaml");
	assert_non_null(strstr(e.message, "cannot open"));
}

static void test_env_override(void **state)
{
	struct cds_conf c;
	assert_int_equal(cds_conf_init(&c), 0);
	setenv("CDSCAN_DATABASE", "host=/run/x dbname=y", 1);
	assert_int_equal(cds_conf_apply_env(&c), 0);
	assert_string_equal(c.database, "host=/run/x dbname=y");
	unsetenv("CDSCAN_DATABASE");
	cds_conf_deinit(&c);
}

/* Every key of the schema is documented in cdscan.yaml(5). */
static void check_key_documented(const char *path, void *arg)
{
	const char *man = arg;
	const char *leaf = strrchr(path, '.');
	leaf = leaf ? leaf + 1 : path;
	char pattern[160];
	/* Keys appear in the man page as ".It Cm KEY" (mdoc) with '-' escaped. */
	snprintf(pattern, sizeof(pattern), "\n.It Cm %s", leaf);
	char escaped[320];
	size_t o = 0;
	for (const char *p = pattern; *p && o + 3 < sizeof(escaped); p++) {
		if (*p == '-')
			escaped[o++] = '\\';
		escaped[o++] = *p;
	}
	escaped[o] = '\0';
	if (!strstr(man, pattern) && !strstr(man, escaped))
		fail_msg("key %s is not documented in man/cdscan.yaml.5", path);
}

static void test_keys_documented(void **state)
{
	FILE *f = fopen(CDSCAN_SOURCE_DIR "/man/cdscan.yaml.5", "r");
	assert_non_null(f);
	static char man[200000];
	size_t n = fread(man, 1, sizeof(man) - 1, f);
	fclose(f);
	man[n] = '\0';
	cds_conf_foreach_key(check_key_documented, man);
}

/* Registry profiles: defaults per profile, the longest TLD wins, policy
 * overrides, and the errors a profile can have. */
static void test_registries(void **state)
{
	static const char y[] = "policy:\n  allow-delete: true\n"
				"registries:\n"
				"  - name: nic-se\n"
				"    tlds: [se, NU.]\n"
				"    ds-interface: keyData\n"
				"    epp:\n      server: epp.nic.se\n      username: r42\n"
				"      password-env: SE_PW\n"
				"    policy:\n      allow-delete: false\n"
				"  - name: co-se\n    tlds: [co.se]\n    host-model: hostAttr\n"
				"    lock-statuses: [serverHold, clientHold]\n"
				"  - name: nic-ch\n    tlds: [ch]\n    scans-cds-itself: true\n";
	struct cds_conf c, eff;
	struct cds_conf_error e;
	assert_int_equal(cds_conf_load_buffer(y, sizeof(y) - 1, "r.yaml", &c, &e), 0);
	assert_int_equal(c.registry_count, 3);
	const struct cds_registry *se = &c.registries[0];
	assert_string_equal(se->name, "nic-se");
	assert_int_equal(se->tld_count, 2);
	assert_string_equal(se->tlds[1], "nu.");
	assert_int_equal(se->ds_interface, CDS_KEY_DATA);
	assert_int_equal(se->host_model, CDS_HOST_OBJ);
	assert_int_equal(se->epp.port, 700);
	assert_true(se->epp.verify);
	assert_true(se->epp.timeout_ms == 30000);
	assert_string_equal(se->epp.password_env, "SE_PW");
	assert_int_equal(c.registries[1].host_model, CDS_HOST_ATTR);
	/* lock-statuses: RFC 5731 §2.3 names, the default or the profile's */
	for (size_t i = 0; i < CDS_EPP_STATUS_COUNT; i++) {
		const char *n = cds_epp_status_names[i];
		bool dflt = strcmp(n, "clientUpdateProhibited") == 0 ||
			    strcmp(n, "serverUpdateProhibited") == 0 ||
			    strcmp(n, "pendingDelete") == 0 || strcmp(n, "pendingTransfer") == 0 ||
			    strcmp(n, "pendingUpdate") == 0;
		bool co = strcmp(n, "serverHold") == 0 || strcmp(n, "clientHold") == 0;
		if (se->lock_statuses[i] != dflt || c.registries[1].lock_statuses[i] != co)
			fail_msg("lock-statuses: %s", n);
	}
	assert_null(cds_epp_status_names[CDS_EPP_STATUS_COUNT]);
	assert_true(c.registries[2].scans_cds_itself);
	assert_ptr_equal(cds_conf_registry_for(&c, "example.se."), se);
	assert_ptr_equal(cds_conf_registry_for(&c, "shop.co.se."), &c.registries[1]);
	assert_ptr_equal(cds_conf_registry_for(&c, "x.nu."), se);
	assert_null(cds_conf_registry_for(&c, "example.fi."));
	assert_null(cds_conf_registry_for(&c, "se."));
	cds_conf_effective(&c, se, &eff);
	assert_false(eff.policy.allow_delete);
	assert_true(eff.policy.csync);
	cds_conf_effective(&c, &c.registries[1], &eff);
	assert_true(eff.policy.allow_delete);
	cds_conf_deinit(&c);

	static const struct {
		const char *yaml, *key, *msg;
		unsigned line;
	} bad[] = {
		{"registries:\n  - tlds: [se]\n", "registries", "needs a name", 2},
		{"registries:\n  - name: a\n", "registries", "lists no tlds", 2},
		{"registries:\n  - name: a\n    tlds: [se]\n  - name: b\n    tlds: [nu, se]\n",
		 "registries", "se. is in registries 'a' and 'b'", 4},
		{"registries:\n  - name: a\n    tlds: [se]\n  - name: a\n    tlds: [nu]\n",
		 "registries", "defined twice", 4},
		{"registries:\n  - name: a\n    tlds: ['bad name']\n", "registries.tlds",
		 "not a domain name", 3},
		{"registries:\n  - name: a\n    tlds: [se]\n    lock-statuses: [locked]\n",
		 "registries.lock-statuses", "not one of the words", 4},
		{"registries:\n  - name: a\n    tlds: [se]\n    host-model: hostobj\n",
		 "registries.host-model", "not one of", 4},
		{"registries:\n  - name: a\n    tlds: [se]\n    epp:\n      password-file: /x\n"
		 "      password-env: X\n",
		 "registries", "not both", 2},
		{"registries:\n  - name: a\n    tlds: [se]\n    policy:\n      csync: maybe\n",
		 "registries.policy.csync", "true or false", 5},
		{"registries: {name: a}\n", "registries", "list of registry profiles", 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = cds_conf_load_buffer(bad[i].yaml, strlen(bad[i].yaml), "b.yaml", &c, &e);
		if (r != CDS_ECONFIG || strcmp(e.key, bad[i].key) != 0 ||
		    !strstr(e.message, bad[i].msg) || e.line != bad[i].line)
			fail_msg("case %zu: r=%d key '%s' line %u message '%s'", i, r, e.key, e.line,
				 e.message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),       cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_full_file),      cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_vantage),
		cmocka_unit_test(test_bad_files),      cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_missing_file),   cmocka_unit_test(test_env_override),
		cmocka_unit_test(test_keys_documented), cmocka_unit_test(test_registries),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
