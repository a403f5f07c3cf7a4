/* Configuration loading: a declarative schema table (as Knot DNS does) fed by
 * the libyaml document loader, with file:line:column in every error. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cdscan/conf.h"
#include "cdscan/error.h"
#include "cdscan/util.h"

enum key_type {
	K_SECTION,   /* a mapping of further keys */
	K_STRING,    /* char * */
	K_BOOL,      /* bool */
	K_UINT,      /* uint32_t in [min, max] */
	K_DURATION,  /* uint64_t milliseconds in [min, max] */
	K_ENUM,      /* int: index into names */
	K_UINT8_SET, /* bool[256]: a non-empty list of numbers in [min, max] */
	K_WORD_SET,  /* bool[n]: a non-empty list of words from names (n of them) */
	K_ADDR_LIST, /* the resolver address list */
	K_PREFIX_LIST, /* resolver.allow-addresses: address prefixes */
	K_QPS_LIST,  /* scan.per-prefix-qps: "PREFIX QPS" */
	K_LISTEN_LIST, /* daemon.listen: addresses to take NOTIFY on */
	K_ADDR,      /* char *: one ADDR[#PORT] */
	K_HOST_ADDR, /* char *: one ADDR, no port (a source address) */
	K_WORD,      /* char *: a vantage name (cds_conf_vantage_name_ok) */
	K_NAME_LIST, /* a registry's TLDs */
	K_TRISTATE,  /* enum cds_tristate: true or false, unset inherits */
	K_PROFILES,  /* the list of registry profiles */
	K_CHANNELS,  /* the list of notification channels */
	K_ROUTE,     /* an event's channels: a list of channel names */
	K_TEMPLATE,  /* char *: text with {placeholders} (cds_placeholder_names) */
	K_MAIL,      /* char *: a mail address (cds_mail_address_check) */
	K_ARGV,      /* a command's words (a channel's sendmail) */
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;              /* into struct cds_conf */
	uint64_t min, max;          /* K_UINT, K_DURATION, K_UINT8_SET */
	const char *const *names;   /* K_ENUM values, NULL-terminated */
	const char *def;            /* default as it would be written in the file */
	const struct key *children; /* K_SECTION */
};

#define OFF(field) offsetof(struct cds_conf, field)
#define ROFF(field) offsetof(struct cds_registry, field)
#define CHOFF(field) offsetof(struct cds_channel, field)

static const char *const transport_names[] = {"udp", "tcp", NULL};
static const char *const adapter_names[] = {"epp-spool", "epp-tls", "json", NULL};
static const char *const level_names[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const format_names[] = {"text", "json", NULL};

static const char *const family_names[] = {"ipv4", "ipv6", NULL};

static const struct key resolver_keys[] = {
	{"addresses", K_ADDR_LIST, 0, 0, 0, NULL, NULL, NULL},
	{"address-families", K_WORD_SET, OFF(resolver.families), 0, 0, family_names, "ipv4,ipv6",
	 NULL},
	{"trust-anchor", K_STRING, OFF(resolver.trust_anchor), 0, 0, NULL,
	 "/usr/share/dns/root.key", NULL},
	{"timeout", K_DURATION, OFF(resolver.timeout_ms), 100, 60000, NULL, "5s", NULL},
	{"allow-addresses", K_PREFIX_LIST, 0, 0, 0, NULL, NULL, NULL},
	{"cache-max-ttl", K_DURATION, OFF(resolver.cache_max_ttl_ms), 0, UINT64_C(7) * 86400000,
	 NULL, "1h", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* scan.dnskey-cache: signature verifications remembered across scans
 * (src/dns/sigcache.c, sql/0008_dnskey_cache.sql). */
static const struct key dnskey_cache_keys[] = {
	{"enabled", K_BOOL, OFF(scan.sigcache_enabled), 0, 0, NULL, "true", NULL},
	{"max-entries", K_UINT, OFF(scan.sigcache_max_entries), 1, 256, NULL, "16", NULL},
	{"max-bytes", K_UINT, OFF(scan.sigcache_max_bytes), 1024, 1048576, NULL, "32768", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key scan_keys[] = {
	{"concurrency", K_UINT, OFF(scan.concurrency), 1, 1000000, NULL, "1000", NULL},
	{"max-queries-in-flight", K_UINT, OFF(scan.max_queries), 1, 1000000, NULL, "4096", NULL},
	{"per-server-queries-in-flight", K_UINT, OFF(scan.per_server_queries), 1, 100000, NULL,
	 "64", NULL},
	{"per-server-qps", K_UINT, OFF(scan.per_server_qps), 1, 10000000, NULL, "2000", NULL},
	{"per-prefix-qps", K_QPS_LIST, 0, 1, 10000000, NULL, NULL, NULL},
	{"timeout", K_DURATION, OFF(scan.timeout_ms), 50, 60000, NULL, "2s", NULL},
	{"retries", K_UINT, OFF(scan.retries), 0, 10, NULL, "2", NULL},
	{"transport", K_ENUM, OFF(scan.transport), 0, 0, transport_names, "udp", NULL},
	{"edns-buffer-size", K_UINT, OFF(scan.edns_buffer_size), 512, 4096, NULL, "1232", NULL},
	{"batch-size", K_UINT, OFF(scan.batch_size), 1, 100000, NULL, "500", NULL},
	{"lease", K_DURATION, OFF(scan.lease_ms), 1000, 86400000, NULL, "10m", NULL},
	{"interval", K_DURATION, OFF(scan.interval_ms), 1000, UINT64_C(365) * 86400000, NULL, "1d",
	 NULL},
	{"flag-unreachable-after", K_UINT, OFF(scan.flag_unreachable_after), 1, 1000, NULL, "3",
	 NULL},
	{"retry-after", K_DURATION, OFF(scan.retry_after_ms), 1000, 86400000, NULL, "5m", NULL},
	{"max-backoff", K_DURATION, OFF(scan.max_backoff_ms), 60000, UINT64_C(365) * 86400000, NULL,
	 "1d", NULL},
	{"results-retention", K_DURATION, OFF(scan.results_retention_ms), 3600000,
	 UINT64_C(3650) * 86400000, NULL, "90d", NULL},
	{"csync-max-ns", K_UINT, OFF(scan.csync_max_ns), 1, 1000, NULL, "16", NULL},
	{"csync-max-addresses", K_UINT, OFF(scan.csync_max_addresses), 1, CDS_NS_MAX_ADDRS, NULL,
	 "8", NULL},
	{"csync-max-probes", K_UINT, OFF(scan.csync_max_probes), 1, 1000, NULL, "32", NULL},
	/* Vantage agreement (cdscan.yaml(5) VANTAGES): this scanner's name
	 * (unset: the host name), how many distinct vantages must have seen a
	 * signal before it is acted on, and within how long. */
	{"vantage", K_WORD, OFF(scan.vantage), 0, 0, NULL, NULL, NULL},
	{"vantages", K_UINT, OFF(scan.vantages), 1, CDS_CONF_MAX_VANTAGES, NULL, "1", NULL},
	{"vantage-window", K_DURATION, OFF(scan.vantage_window_ms), 60000,
	 UINT64_C(30) * 86400000, NULL, "1h", NULL},
	/* The address the scan's queries leave from (a multi-homed scanner),
	 * for queries of its family; unset: the kernel's choice. */
	{"source-address", K_HOST_ADDR, OFF(scan.source_address), 0, 0, NULL, NULL, NULL},
	{"full-status", K_BOOL, OFF(scan.full_status), 0, 0, NULL, "false", NULL},
	{"type-bitmaps", K_BOOL, OFF(scan.type_bitmaps), 0, 0, NULL, "true", NULL},
	{"dnskey-cache", K_SECTION, 0, 0, 0, NULL, NULL, dnskey_cache_keys},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key bootstrap_keys[] = {
	{"authenticated", K_BOOL, OFF(policy.bootstrap_authenticated), 0, 0, NULL, "true", NULL},
	{"accept-after-delay", K_BOOL, OFF(policy.bootstrap_after_delay), 0, 0, NULL, "false", NULL},
	{"delay-scans", K_UINT, OFF(policy.bootstrap_delay_scans), 1, 1000, NULL, "3", NULL},
	{"delay", K_DURATION, OFF(policy.bootstrap_delay_ms), 0, UINT64_C(365) * 86400000, NULL,
	 "72h", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* Defaults: RFC 9904 (IANA "use for DNSSEC signing") MUST and RECOMMENDED
 * algorithms, and the digest types not marked MUST NOT for delegation. */
static const struct key policy_keys[] = {
	{"algorithms", K_UINT8_SET, OFF(policy.algorithms), 1, 255, NULL, "8,13,15", NULL},
	{"digest-types", K_UINT8_SET, OFF(policy.digest_types), 1, 255, NULL, "2,4", NULL},
	{"compute-digests", K_UINT8_SET, OFF(policy.compute_digests), 1, 255, NULL, "2", NULL},
	{"allow-delete", K_BOOL, OFF(policy.allow_delete), 0, 0, NULL, "true", NULL},
	{"max-ds", K_UINT, OFF(policy.max_ds), 1, 64, NULL, "8", NULL},
	{"csync", K_BOOL, OFF(policy.csync), 0, 0, NULL, "true", NULL},
	{"unreachable-after", K_DURATION, OFF(policy.unreachable_after_ms), 0,
	 UINT64_C(365) * 86400000, NULL, "72h", NULL},
	/* The older name of limits.nsec3-max-iterations (the same setting; its
	 * default is given there, and the file may set only one of them). */
	{"nsec3-max-iterations", K_UINT, OFF(limits.nsec3_max_iterations), 0, 65535, NULL, NULL,
	 NULL},
	{"bootstrap", K_SECTION, 0, 0, 0, NULL, NULL, bootstrap_keys},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

#define TEXT(x) #x
#define DEFAULT(x) TEXT(x)

/* Work limits on outside input: each default is dns.h's (CDS_LIMIT_*, where
 * each is justified), so the two cannot drift. */
static const struct key limits_keys[] = {
	{"keys-per-tag", K_UINT, OFF(limits.keys_per_tag), 1, 64, NULL,
	 DEFAULT(CDS_LIMIT_KEYS_PER_TAG), NULL},
	{"rrsigs-tried-per-rrset", K_UINT, OFF(limits.rrsigs_tried), 1, 64, NULL,
	 DEFAULT(CDS_LIMIT_RRSIGS_TRIED), NULL},
	{"verifications-per-rrset", K_UINT, OFF(limits.verifications_per_rrset), 1, 1024, NULL,
	 DEFAULT(CDS_LIMIT_VERIFICATIONS_PER_RRSET), NULL},
	{"verifications-per-delegation", K_UINT, OFF(limits.verifications_per_delegation), 1,
	 1000000, NULL, DEFAULT(CDS_LIMIT_VERIFICATIONS_PER_DELEGATION), NULL},
	{"records-per-rrset", K_UINT, OFF(limits.records_per_rrset), 16, 65535, NULL,
	 DEFAULT(CDS_LIMIT_RECORDS_PER_RRSET), NULL},
	{"rrsigs-per-rrset", K_UINT, OFF(limits.rrsigs_per_rrset), 1, 1024, NULL,
	 DEFAULT(CDS_LIMIT_RRSIGS_PER_RRSET), NULL},
	{"dnskeys-per-rrset", K_UINT, OFF(limits.dnskeys_per_rrset), 1, 1024, NULL,
	 DEFAULT(CDS_LIMIT_DNSKEYS_PER_RRSET), NULL},
	{"rsa-min-bits", K_UINT, OFF(limits.rsa_min_bits), 512, 16384, NULL,
	 DEFAULT(CDS_LIMIT_RSA_MIN_BITS), NULL},
	{"rsa-max-bits", K_UINT, OFF(limits.rsa_max_bits), 512, 16384, NULL,
	 DEFAULT(CDS_LIMIT_RSA_MAX_BITS), NULL},
	{"rsa-max-exponent-octets", K_UINT, OFF(limits.rsa_max_exponent_octets), 1, 512, NULL,
	 DEFAULT(CDS_LIMIT_RSA_MAX_EXPONENT_OCTETS), NULL},
	{"nsec3-max-iterations", K_UINT, OFF(limits.nsec3_max_iterations), 0, 65535, NULL,
	 DEFAULT(CDS_LIMIT_NSEC3_MAX_ITERATIONS), NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key output_keys[] = {
	{"adapter", K_ENUM, OFF(output.adapter), 0, 0, adapter_names, "epp-spool", NULL},
	{"spool-dir", K_STRING, OFF(output.spool_dir), 0, 0, NULL, "/var/spool/cdscan", NULL},
	{"json-file", K_STRING, OFF(output.json_file), 0, 0, NULL, "-", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key log_keys[] = {
	{"level", K_ENUM, OFF(log.level), 0, 0, level_names, "info", NULL},
	{"format", K_ENUM, OFF(log.format), 0, 0, format_names, "text", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const char *const ds_interface_names[] = {"dsData", "keyData", NULL};
static const char *const host_model_names[] = {"hostObj", "hostAttr", NULL};

static const struct key registry_epp_keys[] = {
	{"server", K_STRING, ROFF(epp.server), 0, 0, NULL, NULL, NULL},
	{"port", K_UINT, ROFF(epp.port), 1, 65535, NULL, "700", NULL},
	{"username", K_STRING, ROFF(epp.username), 0, 0, NULL, NULL, NULL},
	{"password-file", K_STRING, ROFF(epp.password_file), 0, 0, NULL, NULL, NULL},
	{"password-env", K_STRING, ROFF(epp.password_env), 0, 0, NULL, NULL, NULL},
	{"client-certificate", K_STRING, ROFF(epp.client_cert), 0, 0, NULL, NULL, NULL},
	{"client-key", K_STRING, ROFF(epp.client_key), 0, 0, NULL, NULL, NULL},
	{"ca-file", K_STRING, ROFF(epp.ca_file), 0, 0, NULL, NULL, NULL},
	{"verify", K_BOOL, ROFF(epp.verify), 0, 0, NULL, "true", NULL},
	{"timeout", K_DURATION, ROFF(epp.timeout_ms), 100, 600000, NULL, "30s", NULL},
	{"retries", K_UINT, ROFF(epp.retries), 0, 20, NULL, "3", NULL},
	{"info-sessions", K_UINT, ROFF(epp.info_sessions), 1, 64, NULL, "4", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key registry_policy_keys[] = {
	{"allow-delete", K_TRISTATE, ROFF(policy.allow_delete), 0, 0, NULL, NULL, NULL},
	{"csync", K_TRISTATE, ROFF(policy.csync), 0, 0, NULL, NULL, NULL},
	{"bootstrap-authenticated", K_TRISTATE, ROFF(policy.bootstrap_authenticated), 0, 0, NULL,
	 NULL, NULL},
	{"accept-after-delay", K_TRISTATE, ROFF(policy.bootstrap_after_delay), 0, 0, NULL, NULL,
	 NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* RFC 5731 §2.3, in its order. */
const char *const cds_epp_status_names[CDS_EPP_STATUS_COUNT + 1] = {
	"clientDeleteProhibited", "clientHold", "clientRenewProhibited",
	"clientTransferProhibited", "clientUpdateProhibited", "inactive", "ok",
	"pendingCreate", "pendingDelete", "pendingRenew", "pendingTransfer", "pendingUpdate",
	"serverDeleteProhibited", "serverHold", "serverRenewProhibited",
	"serverTransferProhibited", "serverUpdateProhibited", NULL};

/* An event's channels, and the fallback recipient: notifications.default
 * (offsets into the config) and a profile's notify (into the profile). */
#define ROUTE_KEYS(O, base)                                                                \
	{"change-applied", K_ROUTE, O(base.ev[CDS_EVENT_CHANGE_APPLIED]), 0, 0, NULL, NULL, NULL}, \
	{"signal-rejected", K_ROUTE, O(base.ev[CDS_EVENT_SIGNAL_REJECTED]), 0, 0, NULL, NULL,  \
	 NULL},                                                                                \
	{"rejected-repeatedly", K_ROUTE, O(base.ev[CDS_EVENT_REJECTED_REPEATEDLY]), 0, 0, NULL, \
	 NULL, NULL},                                                                          \
	{"bootstrap-pending", K_ROUTE, O(base.ev[CDS_EVENT_BOOTSTRAP_PENDING]), 0, 0, NULL,    \
	 NULL, NULL},                                                                          \
	{"bootstrap-accepted", K_ROUTE, O(base.ev[CDS_EVENT_BOOTSTRAP_ACCEPTED]), 0, 0, NULL,  \
	 NULL, NULL},                                                                          \
	{"suspended", K_ROUTE, O(base.ev[CDS_EVENT_SUSPENDED]), 0, 0, NULL, NULL, NULL},       \
	{"contact", K_MAIL, O(base.contact), 0, 0, NULL, NULL, NULL},                          \
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL}

static const struct key registry_notify_keys[] = {ROUTE_KEYS(ROFF, notify)};
static const struct key default_route_keys[] = {ROUTE_KEYS(OFF, notifications.defaults)};

static const struct key registry_keys[] = {
	{"name", K_STRING, ROFF(name), 0, 0, NULL, NULL, NULL},
	{"tlds", K_NAME_LIST, ROFF(tlds), 0, 0, NULL, NULL, NULL},
	{"scans-cds-itself", K_BOOL, ROFF(scans_cds_itself), 0, 0, NULL, "false", NULL},
	{"ds-interface", K_ENUM, ROFF(ds_interface), 0, 0, ds_interface_names, "dsData", NULL},
	{"host-model", K_ENUM, ROFF(host_model), 0, 0, host_model_names, "hostObj", NULL},
	{"spool-dir", K_STRING, ROFF(spool_dir), 0, 0, NULL, NULL, NULL},
	{"lock-statuses", K_WORD_SET, ROFF(lock_statuses), 0, 0, cds_epp_status_names,
	 "clientUpdateProhibited,serverUpdateProhibited,pendingDelete,pendingTransfer,"
	 "pendingUpdate",
	 NULL},
	{"epp", K_SECTION, 0, 0, 0, NULL, NULL, registry_epp_keys},
	{"policy", K_SECTION, 0, 0, 0, NULL, NULL, registry_policy_keys},
	{"notify", K_SECTION, 0, 0, 0, NULL, NULL, registry_notify_keys},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* RFC 9859 NOTIFY intake: what one source, one domain and everyone may
 * cost (token buckets), and how much state a flood may make. */
static const struct key notify_keys[] = {
	{"source-rate", K_UINT, OFF(daemon.notify.source_rate), 1, 1000000, NULL, "20", NULL},
	{"source-burst", K_UINT, OFF(daemon.notify.source_burst), 1, 1000000, NULL, "100", NULL},
	{"source-prefix-v4", K_UINT, OFF(daemon.notify.source_prefix4), 8, 32, NULL, "24", NULL},
	{"source-prefix-v6", K_UINT, OFF(daemon.notify.source_prefix6), 16, 128, NULL, "56", NULL},
	{"domain-interval", K_DURATION, OFF(daemon.notify.domain_interval_ms), 0,
	 UINT64_C(86400000), NULL, "1m", NULL},
	{"domain-burst", K_UINT, OFF(daemon.notify.domain_burst), 1, 1000, NULL, "2", NULL},
	{"rate", K_UINT, OFF(daemon.notify.rate), 1, 10000000, NULL, "500", NULL},
	{"max-tracked", K_UINT, OFF(daemon.notify.max_tracked), 16, 100000000, NULL, "100000",
	 NULL},
	{"max-pending", K_UINT, OFF(daemon.notify.max_pending), 1, 10000000, NULL, "10000", NULL},
	{"max-scans", K_UINT, OFF(daemon.notify.max_scans), 1, 1000000, NULL, "100", NULL},
	{"tcp-clients", K_UINT, OFF(daemon.notify.tcp_clients), 0, 100000, NULL, "100", NULL},
	{"tcp-timeout", K_DURATION, OFF(daemon.notify.tcp_timeout_ms), 100, 600000, NULL, "10s",
	 NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key daemon_keys[] = {
	{"listen", K_LISTEN_LIST, 0, 0, 0, NULL, NULL, NULL},
	{"http", K_ADDR, OFF(daemon.http), 0, 0, NULL, NULL, NULL},
	{"pace", K_UINT, OFF(daemon.pace_percent), 100, 100000, NULL, "125", NULL},
	{"tick", K_DURATION, OFF(daemon.tick_ms), 50, 60000, NULL, "250ms", NULL},
	{"output-interval", K_DURATION, OFF(daemon.output_interval_ms), 0,
	 UINT64_C(86400000), NULL, "0", NULL},
	{"grace", K_DURATION, OFF(daemon.grace_ms), 0, 3600000, NULL, "30s", NULL},
	{"http-max-connections", K_UINT, OFF(daemon.http_max_connections), 1, 100000, NULL, "64",
	 NULL},
	{"http-connections-per-ip", K_UINT, OFF(daemon.http_per_ip), 1, 100000, NULL, "8", NULL},
	{"http-timeout", K_DURATION, OFF(daemon.http_timeout_ms), 1000, 600000, NULL, "10s",
	 NULL},
	{"http-max-request", K_UINT, OFF(daemon.http_max_request), 1024, 1048576, NULL, "16384",
	 NULL},
	{"http-max-url", K_UINT, OFF(daemon.http_max_url), 64, 65536, NULL, "1024", NULL},
	{"notify", K_SECTION, 0, 0, 0, NULL, NULL, notify_keys},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* import --domains: bounds on a portfolio file (outside input). */
static const struct key import_keys[] = {
	{"max-line", K_UINT, OFF(import.max_line), 256, 16777216, NULL, "65536", NULL},
	{"max-ns", K_UINT, OFF(import.max_ns), 1, 64, NULL, "16", NULL},
	{"max-ds", K_UINT, OFF(import.max_ds), 1, 64, NULL, "16", NULL},
	{"max-domains", K_UINT, OFF(import.max_domains), 1, 100000000, NULL, "10000000", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key error_reporting_keys[] = {
	{"enabled", K_BOOL, OFF(error_reporting.enabled), 0, 0, NULL, "true", NULL},
	{"per-agent-rate", K_UINT, OFF(error_reporting.per_agent_rate), 1, 100000, NULL, "10",
	 NULL},
	{"max-agents", K_UINT, OFF(error_reporting.max_agents), 1, 10000000, NULL, "10000", NULL},
	{"dedup-window", K_DURATION, OFF(error_reporting.dedup_window_ms), 0,
	 UINT64_C(30) * 86400000, NULL, "24h", NULL},
	{"max-remembered", K_UINT, OFF(error_reporting.max_remembered), 1, 100000000, NULL,
	 "100000", NULL},
	{"max-agent-length", K_UINT, OFF(error_reporting.max_agent_length), 2, 255, NULL, "128",
	 NULL},
	{"timeout", K_DURATION, OFF(error_reporting.timeout_ms), 50, 60000, NULL, "500ms", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

const char *const cds_placeholder_names[CDS_PH_COUNT] = {
	"domain", "registry", "event", "reason", "reason_text", "detail", "advice",
	"ds_add", "ds_rem",   "ns_add", "ns_rem", "contact",   "streak", "time"};

static const char *const channel_type_names[] = {"mail", "webhook", "json", NULL};

static const struct key channel_keys[] = {
	{"name", K_STRING, CHOFF(name), 0, 0, NULL, NULL, NULL},
	{"type", K_ENUM, CHOFF(type), 0, 0, channel_type_names, "mail", NULL},
	{"sendmail", K_ARGV, CHOFF(sendmail), 0, 0, NULL, NULL, NULL},
	{"maildir", K_STRING, CHOFF(maildir), 0, 0, NULL, NULL, NULL},
	{"from", K_MAIL, CHOFF(from), 0, 0, NULL, NULL, NULL},
	{"from-name", K_STRING, CHOFF(from_name), 0, 0, NULL, NULL, NULL},
	{"url", K_STRING, CHOFF(url), 0, 0, NULL, NULL, NULL},
	{"secret-file", K_STRING, CHOFF(secret_file), 0, 0, NULL, NULL, NULL},
	{"secret-env", K_STRING, CHOFF(secret_env), 0, 0, NULL, NULL, NULL},
	{"timeout", K_DURATION, CHOFF(timeout_ms), 100, 600000, NULL, "10s", NULL},
	{"file", K_STRING, CHOFF(file), 0, 0, NULL, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* The built-in messages: plain words, the reason's text and advice from
 * the same tables as the report and the status page. */
#define TEMPLATE_KEYS(ev, S, B)                                                    \
	static const struct key tmpl_##ev[] = {                                            \
		{"subject", K_TEMPLATE, OFF(notifications.templates[ev].subject), 0, 0, NULL,   \
		 S, NULL},                                                                \
		{"body", K_TEMPLATE, OFF(notifications.templates[ev].body), 0, 0, NULL, B,      \
		 NULL},                                                                         \
		{NULL, 0, 0, 0, 0, NULL, NULL, NULL}}
#define BODY_END "\n-- \ncdscan, for {registry}\n"
TEMPLATE_KEYS(CDS_EVENT_CHANGE_APPLIED, "{domain}: the registry applied a DNS change",
	      "The registry applied a change to the delegation of {domain}.\n\n"
	      "DS records added:   {ds_add}\nDS records removed: {ds_rem}\n"
	      "NS records added:   {ns_add}\nNS records removed: {ns_rem}\n" BODY_END);
TEMPLATE_KEYS(CDS_EVENT_SIGNAL_REJECTED, "{domain}: DNSSEC change not made ({reason})",
	      "The DNS operator of {domain} asks for a change of its delegation, and it was "
	      "not made.\n\nWhy: {reason_text}\nDetail: {detail}\n\nWhat to do: {advice}\n"
	      BODY_END);
TEMPLATE_KEYS(CDS_EVENT_REJECTED_REPEATEDLY,
	      "{domain}: DNSSEC change still not made after {streak} checks ({reason})",
	      "The change the DNS operator of {domain} asks for has been refused {streak} "
	      "times in a row.\n\nWhy: {reason_text}\nDetail: {detail}\n\n"
	      "What to do: {advice}\n" BODY_END);
TEMPLATE_KEYS(CDS_EVENT_BOOTSTRAP_PENDING, "{domain}: DNSSEC being turned on",
	      "The DNS operator of {domain} asks for DNSSEC to be turned on. The signal has "
	      "been seen and is watched for a while before the DS records are added.\n"
	      BODY_END);
TEMPLATE_KEYS(CDS_EVENT_BOOTSTRAP_ACCEPTED, "{domain}: DNSSEC turned on",
	      "DNSSEC is being turned on for {domain}: the DS records {ds_add} go to the "
	      "registry.\n" BODY_END);
TEMPLATE_KEYS(CDS_EVENT_SUSPENDED, "{domain}: DNSSEC automation suspended",
	      "Changes of the delegation of {domain} are not made automatically for now.\n\n"
	      "Why: {reason_text}\nDetail: {detail}\n" BODY_END);

static const struct key template_keys[] = {
	{"change-applied", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_CHANGE_APPLIED},
	{"signal-rejected", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_SIGNAL_REJECTED},
	{"rejected-repeatedly", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_REJECTED_REPEATEDLY},
	{"bootstrap-pending", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_BOOTSTRAP_PENDING},
	{"bootstrap-accepted", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_BOOTSTRAP_ACCEPTED},
	{"suspended", K_SECTION, 0, 0, 0, NULL, NULL, tmpl_CDS_EVENT_SUSPENDED},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key notifications_keys[] = {
	{"channels", K_CHANNELS, 0, 0, 0, NULL, NULL, channel_keys},
	{"templates", K_SECTION, 0, 0, 0, NULL, NULL, template_keys},
	{"default", K_SECTION, 0, 0, 0, NULL, NULL, default_route_keys},
	{"consecutive", K_UINT, OFF(notifications.consecutive), 2, 100000, NULL, "3", NULL},
	{"max-per-run", K_UINT, OFF(notifications.max_per_run), 1, 10000000, NULL, "10000", NULL},
	{"max-attempts", K_UINT, OFF(notifications.max_attempts), 1, 100, NULL, "8", NULL},
	{"backoff", K_DURATION, OFF(notifications.backoff_ms), 0, 86400000, NULL, "1m", NULL},
	{"max-backoff", K_DURATION, OFF(notifications.max_backoff_ms), 0,
	 UINT64_C(7) * 86400000, NULL, "6h", NULL},
	{"max-message", K_UINT, OFF(notifications.max_message), 1024, 16777216, NULL, "262144",
	 NULL},
	{"interval", K_DURATION, OFF(notifications.interval_ms), 1000, 86400000, NULL, "1m", NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct key root_keys[] = {
	{"database", K_STRING, OFF(database), 0, 0, NULL, "dbname=cdscan", NULL},
	{"resolver", K_SECTION, 0, 0, 0, NULL, NULL, resolver_keys},
	{"scan", K_SECTION, 0, 0, 0, NULL, NULL, scan_keys},
	{"policy", K_SECTION, 0, 0, 0, NULL, NULL, policy_keys},
	{"limits", K_SECTION, 0, 0, 0, NULL, NULL, limits_keys},
	{"output", K_SECTION, 0, 0, 0, NULL, NULL, output_keys},
	{"log", K_SECTION, 0, 0, 0, NULL, NULL, log_keys},
	{"registries", K_PROFILES, 0, 0, 0, NULL, NULL, registry_keys},
	{"daemon", K_SECTION, 0, 0, 0, NULL, NULL, daemon_keys},
	{"import", K_SECTION, 0, 0, 0, NULL, NULL, import_keys},
	{"error-reporting", K_SECTION, 0, 0, 0, NULL, NULL, error_reporting_keys},
	{"notifications", K_SECTION, 0, 0, 0, NULL, NULL, notifications_keys},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* A scalar setting the file gave, and where: two keys that name one
 * setting (an older name and its new one, policy.nsec3-max-iterations and
 * limits.nsec3-max-iterations) must not both be given. */
struct given {
	const void *dst;
	unsigned line;
	char path[128];
};

/* State of one load: where errors go. */
struct loader {
	const char *file;
	const char *buf; /* the file's text (a template's error is located in it) */
	size_t buflen;
	struct cds_conf *conf;
	struct cds_conf_error *err;
	char *base; /* what key offsets are relative to: conf, or a registry */
	struct given *given; /* the scalars the file set (owned; freed by the load) */
	size_t given_count;
};

static char *base_of(struct loader *ld)
{
	return ld->base ? ld->base : (char *)ld->conf;
}

static int fail(struct loader *ld, const yaml_node_t *node, const char *key, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int fail(struct loader *ld, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
	struct cds_conf_error *e = ld->err;
	va_list ap;

	if (!e)
		return CDS_ECONFIG;
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	if (node) {
		e->line = (unsigned)node->start_mark.line + 1;
		e->column = (unsigned)node->start_mark.column + 1;
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return CDS_ECONFIG;
}

static int set_string(char **dst, const char *text)
{
	char *copy = strdup(text);
	if (!copy)
		return CDS_ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static bool parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};
	for (int i = 0; yes[i]; i++) {
		if (strcmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Note that the file sets dst (as path, at node); an error when another
 * key already set it. */
static int note_given(struct loader *ld, const void *dst, const char *path,
		      const yaml_node_t *node)
{
	for (size_t i = 0; i < ld->given_count; i++)
		if (ld->given[i].dst == dst)
			return fail(ld, node, path,
				    "the same setting as %s (line %u): give only one of them",
				    ld->given[i].path, ld->given[i].line);
	struct given *g = realloc(ld->given, (ld->given_count + 1) * sizeof(*g));
	if (!g)
		return CDS_ENOMEM;
	ld->given = g;
	g[ld->given_count].dst = dst;
	g[ld->given_count].line = (unsigned)node->start_mark.line + 1;
	snprintf(g[ld->given_count].path, sizeof(g->path), "%s", path);
	ld->given_count++;
	return 0;
}

/* A string key whose text is checked first: an address (with or without a
 * port) or a vantage name. */
static int set_checked_string(struct loader *ld, const struct key *k, const char *path,
			      const yaml_node_t *node, const char *text, char **dst)
{
	struct cds_addr a;
	if (k->type == K_WORD && !cds_conf_vantage_name_ok(text))
		return fail(ld, node, path,
			    "'%s' is not a vantage name (1 to %d letters, digits, '.', '-', '_')",
			    text, CDS_CONF_VANTAGE_MAX);
	if (k->type == K_HOST_ADDR && (strchr(text, '#') || cds_addr_parse(text, 0, &a) != 0))
		return fail(ld, node, path, "'%s' is not an IPv4 or IPv6 address (no port)", text);
	if (k->type == K_ADDR && cds_addr_parse(text, 9153, &a) != 0)
		return fail(ld, node, path, "'%s' is not an IPv4 or IPv6 address[#port]", text);
	return set_string(dst, text);
}

/* Where in the file the octet at offset of a scalar's value is, for an
 * error about it: the line counted from the node (a block scalar's text
 * starts on the line after its '|'), the column where needle is on that
 * line of the file's text (else the node's). */
static void locate(const struct loader *ld, const yaml_node_t *node, size_t offset,
		   const char *needle, yaml_node_t *at)
{
	const char *v = (const char *)node->data.scalar.value;
	bool block = node->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		     node->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
	size_t line = node->start_mark.line + (block ? 1 : 0);
	for (size_t i = 0; i < offset && v[i]; i++)
		line += v[i] == '\n';
	*at = *node;
	at->start_mark.line = line;
	if (!ld->buf)
		return;
	const char *p = ld->buf, *end = ld->buf + ld->buflen;
	for (size_t l = 0; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((eol ? eol : end) - p), k = strlen(needle);
	for (size_t i = 0; k && i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0) {
			at->start_mark.column = i;
			return;
		}
}

/* A template's placeholders, checked against cds_placeholder_names. */
static int check_template(struct loader *ld, const char *path, const yaml_node_t *node,
			  const char *text)
{
	size_t off = 0;
	char bad[80], needle[84], known[256] = "";
	if (cds_template_expand(text, cds_placeholder_names, NULL, CDS_PH_COUNT, NULL, &off, bad,
				sizeof(bad)) == 0)
		return 0;
	yaml_node_t at;
	bool brace = strcmp(bad, "{") == 0 || strcmp(bad, "}") == 0;
	snprintf(needle, sizeof(needle), brace ? "%s" : "{%s}", bad);
	if (node)
		locate(ld, node, off, needle, &at);
	for (int i = 0; i < CDS_PH_COUNT; i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s{%s}",
			 i ? " " : "", cds_placeholder_names[i]);
	if (brace)
		return fail(ld, node ? &at : NULL, path,
			    "a lone '%s' (write {{ or }} for a brace)", bad);
	return fail(ld, node ? &at : NULL, path, "unknown placeholder {%s} (known: %s)", bad,
		    known);
}

/* Set one scalar key from its text.  node may be NULL (defaults). */
static int set_scalar(struct loader *ld, const struct key *k, const char *path,
		      const yaml_node_t *node, const char *text)
{
	void *dst = base_of(ld) + k->offset;
	uint64_t v;
	int r;
	bool b;

	if (node && (r = note_given(ld, dst, path, node)) != 0)
		return r;

	switch (k->type) {
	case K_STRING:
		return set_string((char **)dst, text);
	case K_WORD:
	case K_HOST_ADDR:
	case K_ADDR:
		return set_checked_string(ld, k, path, node, text, (char **)dst);
	case K_TEMPLATE:
		if ((r = check_template(ld, path, node, text)) != 0)
			return r;
		return set_string((char **)dst, text);
	case K_MAIL:
		if (cds_mail_address_check(text, strlen(text)) != 0)
			return fail(ld, node, path,
				    "'%s' is not a mail address cdscan takes (local@host.name, at "
				    "most %d octets, no quotes, spaces or control characters)",
				    text, CDS_MAIL_ADDRESS_MAX);
		return set_string((char **)dst, text);
	case K_BOOL:
		if (!parse_bool(text, (bool *)dst))
			return fail(ld, node, path, "expected true or false, got '%s'", text);
		return 0;
	case K_TRISTATE:
		if (!parse_bool(text, &b))
			return fail(ld, node, path, "expected true or false, got '%s'", text);
		*(enum cds_tristate *)dst = b ? CDS_YES : CDS_NO;
		return 0;
	case K_UINT:
		r = cds_uint_parse(text, k->min, k->max, &v);
		if (r == CDS_ERANGE)
			return fail(ld, node, path, "%s is out of range %llu..%llu", text,
				    (unsigned long long)k->min, (unsigned long long)k->max);
		if (r != 0)
			return fail(ld, node, path, "expected a whole number, got '%s'", text);
		*(uint32_t *)dst = (uint32_t)v;
		return 0;
	case K_DURATION:
		r = cds_duration_parse(text, &v);
		if (r == 0 && (v < k->min || v > k->max))
			r = CDS_ERANGE;
		if (r == CDS_ERANGE)
			return fail(ld, node, path, "%s is out of range %llums..%llums", text,
				    (unsigned long long)k->min, (unsigned long long)k->max);
		if (r != 0)
			return fail(ld, node, path,
				    "expected a duration such as 500ms, 2s, 5m, 72h or 3d, got '%s'",
				    text);
		*(uint64_t *)dst = v;
		return 0;
	case K_ENUM:
		for (int i = 0; k->names[i]; i++) {
			if (strcmp(text, k->names[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
		}
		char choices[128] = "";
		for (int i = 0; k->names[i]; i++) {
			strncat(choices, i ? ", " : "", sizeof(choices) - strlen(choices) - 1);
			strncat(choices, k->names[i], sizeof(choices) - strlen(choices) - 1);
		}
		return fail(ld, node, path, "'%s' is not one of: %s", text, choices);
	default:
		return fail(ld, node, path, "internal: not a scalar key");
	}
}

/* A channel name: letters, digits, '-', '_', '.', at most 63. */
static bool channel_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-_.", s[i])))
			return false;
	return true;
}

/* One word of an event's channel list or of a sendmail command. */
static int add_word(struct loader *ld, const struct key *k, const char *path,
		    const yaml_node_t *node, const char *text)
{
	if (k->type == K_ROUTE) {
		__typeof__(((struct cds_notify_routes *)0)->ev[0]) *rt =
			(void *)(base_of(ld) + k->offset);
		if (!channel_name_ok(text))
			return fail(ld, node, path, "'%s' is not a channel name", text);
		if (rt->count >= CDS_CONF_MAX_CHANNELS)
			return fail(ld, node, path, "more than %d channels", CDS_CONF_MAX_CHANNELS);
		return set_string(&rt->names[rt->count++], text);
	}
	if (k->type == K_ARGV) {
		struct cds_channel *ch = (struct cds_channel *)base_of(ld);
		if (ch->sendmail_argc >= CDS_CHANNEL_MAX_ARGV)
			return fail(ld, node, path, "more than %d words", CDS_CHANNEL_MAX_ARGV);
		if (!*text)
			return fail(ld, node, path, "an empty word");
		return set_string(&ch->sendmail[ch->sendmail_argc++], text);
	}
	return fail(ld, node, path, "internal: not a word list");
}

/* Add one element to a list key.  node may be NULL (defaults). */
/* scan.per-prefix-qps: one "PREFIX QPS" entry. */
static int add_qps_limit(struct loader *ld, const struct key *k, const char *path,
			 const yaml_node_t *node, const char *text)
{
	if (ld->conf->scan.qps_limit_count >= CDS_CONF_MAX_QPS_LIMITS)
		return fail(ld, node, path, "more than %d entries", CDS_CONF_MAX_QPS_LIMITS);
	struct cds_qps_limit *l = &ld->conf->scan.qps_limits[ld->conf->scan.qps_limit_count];
	char prefix[128], rest[32];
	unsigned long long qps = 0;
	char *end = NULL;
	if (sscanf(text, "%127s %31s", prefix, rest) != 2 ||
	    cds_prefix_parse(prefix, &l->prefix) != 0 ||
	    (qps = strtoull(rest, &end, 10), *end != '\0') || rest[0] == '-' ||
	    qps < k->min || qps > k->max)
		return fail(ld, node, path,
			    "'%s' is not \"PREFIX QPS\" such as \"192.0.2.0/24 500\" "
			    "(host bits clear, QPS in [%llu, %llu])",
			    text, (unsigned long long)k->min, (unsigned long long)k->max);
	l->qps = (uint32_t)qps;
	ld->conf->scan.qps_limit_count++;
	return 0;
}

static int add_element(struct loader *ld, const struct key *k, const char *path,
		       const yaml_node_t *node, const char *text)
{
	uint64_t v;
	int r;

	if (k->type == K_ROUTE || k->type == K_ARGV)
		return add_word(ld, k, path, node, text);
	if (k->type == K_UINT8_SET) {
		r = cds_uint_parse(text, k->min, k->max, &v);
		if (r != 0)
			return fail(ld, node, path, "'%s' is not a number in %llu..%llu", text,
				    (unsigned long long)k->min, (unsigned long long)k->max);
		((bool *)(base_of(ld) + k->offset))[v] = true;
		return 0;
	}
	if (k->type == K_WORD_SET) {
		for (int i = 0; k->names[i]; i++) {
			if (strcmp(text, k->names[i]) == 0) {
				((bool *)(base_of(ld) + k->offset))[i] = true;
				return 0;
			}
		}
		return fail(ld, node, path, "'%s' is not one of the words this list takes", text);
	}
	if (k->type == K_NAME_LIST) {
		struct cds_registry *reg = (struct cds_registry *)base_of(ld);
		char name[CDS_DNAME_BUFSIZE];
		if (cds_dname_normalize(text, name) != 0)
			return fail(ld, node, path, "'%s' is not a domain name", text);
		if (reg->tld_count >= CDS_REGISTRY_MAX_TLDS)
			return fail(ld, node, path, "more than %d names", CDS_REGISTRY_MAX_TLDS);
		if (set_string(&reg->tlds[reg->tld_count], name) != 0)
			return CDS_ENOMEM;
		reg->tld_count++;
		return 0;
	}
	if (k->type == K_PREFIX_LIST) {
		if (ld->conf->resolver.allow_count >= CDS_CONF_MAX_ALLOW)
			return fail(ld, node, path, "more than %d prefixes", CDS_CONF_MAX_ALLOW);
		struct cds_prefix *p = &ld->conf->resolver.allow[ld->conf->resolver.allow_count];
		if (cds_prefix_parse(text, p) != 0)
			return fail(ld, node, path,
				    "'%s' is not an address prefix such as 127.0.0.0/8 or fd00::/8 "
				    "(host bits clear)",
				    text);
		ld->conf->resolver.allow_count++;
		return 0;
	}
	if (k->type == K_QPS_LIST)
		return add_qps_limit(ld, k, path, node, text);
	if (k->type == K_LISTEN_LIST) {
		struct cds_addr a;
		if (cds_addr_parse(text, 53, &a) != 0)
			return fail(ld, node, path, "'%s' is not an IPv4 or IPv6 address[#port]",
				    text);
		if (ld->conf->daemon.listen_count >= CDS_CONF_MAX_LISTEN)
			return fail(ld, node, path, "more than %d addresses", CDS_CONF_MAX_LISTEN);
		if (set_string(&ld->conf->daemon.listen[ld->conf->daemon.listen_count], text) != 0)
			return CDS_ENOMEM;
		ld->conf->daemon.listen_count++;
		return 0;
	}
	/* K_ADDR_LIST */
	struct cds_addr addr;
	if (cds_addr_parse(text, 53, &addr) != 0)
		return fail(ld, node, path, "'%s' is not an IPv4 or IPv6 address[#port]", text);
	if (ld->conf->resolver.address_count >= CDS_CONF_MAX_RESOLVERS)
		return fail(ld, node, path, "more than %d addresses", CDS_CONF_MAX_RESOLVERS);
	char **slot = &ld->conf->resolver.addresses[ld->conf->resolver.address_count];
	if (set_string(slot, text) != 0)
		return CDS_ENOMEM;
	ld->conf->resolver.address_count++;
	return 0;
}

static void clear_list(struct loader *ld, const struct key *k)
{
	if (k->type == K_ROUTE) {
		__typeof__(((struct cds_notify_routes *)0)->ev[0]) *rt =
			(void *)(base_of(ld) + k->offset);
		for (size_t i = 0; i < rt->count; i++) {
			free(rt->names[i]);
			rt->names[i] = NULL;
		}
		rt->count = 0;
		return;
	}
	if (k->type == K_ARGV) {
		struct cds_channel *ch = (struct cds_channel *)base_of(ld);
		for (size_t i = 0; i < ch->sendmail_argc; i++) {
			free(ch->sendmail[i]);
			ch->sendmail[i] = NULL;
		}
		ch->sendmail_argc = 0;
		return;
	}
	if (k->type == K_UINT8_SET) {
		memset(base_of(ld) + k->offset, 0, 256 * sizeof(bool));
		return;
	}
	if (k->type == K_WORD_SET) {
		for (int i = 0; k->names[i]; i++)
			((bool *)(base_of(ld) + k->offset))[i] = false;
		return;
	}
	if (k->type == K_NAME_LIST) {
		struct cds_registry *reg = (struct cds_registry *)base_of(ld);
		for (size_t i = 0; i < reg->tld_count; i++) {
			free(reg->tlds[i]);
			reg->tlds[i] = NULL;
		}
		reg->tld_count = 0;
		return;
	}
	if (k->type == K_PREFIX_LIST) {
		ld->conf->resolver.allow_count = 0;
		return;
	}
	if (k->type == K_QPS_LIST) {
		ld->conf->scan.qps_limit_count = 0;
		return;
	}
	if (k->type == K_LISTEN_LIST) {
		for (size_t i = 0; i < ld->conf->daemon.listen_count; i++) {
			free(ld->conf->daemon.listen[i]);
			ld->conf->daemon.listen[i] = NULL;
		}
		ld->conf->daemon.listen_count = 0;
		return;
	}
	for (size_t i = 0; i < ld->conf->resolver.address_count; i++) {
		free(ld->conf->resolver.addresses[i]);
		ld->conf->resolver.addresses[i] = NULL;
	}
	ld->conf->resolver.address_count = 0;
}

static int apply_defaults(struct loader *ld, const struct key *keys, const char *prefix)
{
	char path[128];
	int r = 0;

	for (const struct key *k = keys; k->name && r == 0; k++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
		if (k->type == K_SECTION) {
			r = apply_defaults(ld, k->children, path);
		} else if (k->type == K_PROFILES || k->type == K_NAME_LIST || k->type == K_TRISTATE ||
			   k->type == K_CHANNELS || k->type == K_ROUTE || k->type == K_ARGV) {
			continue; /* none by default */
		} else if (k->type == K_UINT8_SET || k->type == K_WORD_SET || k->type == K_ADDR_LIST ||
			   k->type == K_PREFIX_LIST || k->type == K_LISTEN_LIST ||
			   k->type == K_QPS_LIST) {
			clear_list(ld, k);
			for (const char *p = k->def; p && *p && r == 0;) {
				char item[64];
				size_t n = strcspn(p, ",");
				snprintf(item, sizeof(item), "%.*s", (int)n, p);
				r = add_element(ld, k, path, NULL, item);
				p += n + (p[n] == ',');
			}
		} else if (k->def) {
			r = set_scalar(ld, k, path, NULL, k->def);
		}
	}
	return r;
}

static const char *scalar_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int load_mapping(struct loader *ld, yaml_document_t *doc, yaml_node_t *map,
			const struct key *keys, const char *prefix);
static int load_profiles(struct loader *ld, yaml_document_t *doc, const struct key *k,
			 const char *path, yaml_node_t *val);
static int load_channels(struct loader *ld, yaml_document_t *doc, const struct key *k,
			 const char *path, yaml_node_t *val);

static int load_value(struct loader *ld, yaml_document_t *doc, const struct key *k,
		      const char *path, yaml_node_t *val)
{
	switch (k->type) {
	case K_SECTION:
		if (val->type == YAML_SCALAR_NODE && val->data.scalar.length == 0)
			return 0; /* "section:" with nothing under it */
		if (val->type != YAML_MAPPING_NODE)
			return fail(ld, val, path, "expected a mapping of keys");
		return load_mapping(ld, doc, val, k->children, path);
	case K_PROFILES:
		return load_profiles(ld, doc, k, path, val);
	case K_CHANNELS:
		return load_channels(ld, doc, k, path, val);
	case K_ROUTE: {
		__typeof__(((struct cds_notify_routes *)0)->ev[0]) *rt =
			(void *)(base_of(ld) + k->offset);
		rt->set = true;
		rt->line = (unsigned)val->start_mark.line + 1;
		rt->column = (unsigned)val->start_mark.column + 1;
	}
		/* fall through */
	case K_ARGV:
	case K_UINT8_SET:
	case K_WORD_SET:
	case K_ADDR_LIST:
	case K_PREFIX_LIST:
	case K_QPS_LIST:
	case K_LISTEN_LIST:
	case K_NAME_LIST:
		if (val->type != YAML_SEQUENCE_NODE)
			return fail(ld, val, path, "expected a list, such as [1, 2]");
		clear_list(ld, k);
		for (yaml_node_item_t *it = val->data.sequence.items.start;
		     it < val->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(doc, *it);
			if (!item || item->type != YAML_SCALAR_NODE)
				return fail(ld, item ? item : val, path,
					    "list elements must be plain values");
			int r = add_element(ld, k, path, item, scalar_text(item));
			if (r != 0)
				return r;
		}
		if ((k->type == K_UINT8_SET || k->type == K_WORD_SET) &&
		    val->data.sequence.items.start == val->data.sequence.items.top)
			return fail(ld, val, path, "the list must not be empty");
		return 0;
	default:
		if (val->type != YAML_SCALAR_NODE)
			return fail(ld, val, path, "expected a single value, not a %s",
				    val->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return set_scalar(ld, k, path, val, scalar_text(val));
	}
}

/* registries: a list of mappings, each a profile with its own defaults. */
static int load_profiles(struct loader *ld, yaml_document_t *doc, const struct key *k,
			 const char *path, yaml_node_t *val)
{
	if (val->type != YAML_SEQUENCE_NODE)
		return fail(ld, val, path, "expected a list of registry profiles");
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_MAPPING_NODE)
			return fail(ld, item ? item : val, path,
				    "each registry profile is a mapping of keys");
		if (ld->conf->registry_count >= CDS_CONF_MAX_REGISTRIES)
			return fail(ld, item, path, "more than %d registry profiles",
				    CDS_CONF_MAX_REGISTRIES);
		struct cds_registry *reg = &ld->conf->registries[ld->conf->registry_count++];
		reg->line = (unsigned)item->start_mark.line + 1;
		ld->base = (char *)reg;
		int r = apply_defaults(ld, k->children, path);
		if (r == 0)
			r = load_mapping(ld, doc, item, k->children, path);
		ld->base = NULL;
		if (r != 0)
			return r;
		yaml_node_t at = *item;
		if (!reg->name || !*reg->name)
			return fail(ld, &at, path, "a registry profile needs a name");
		if (reg->tld_count == 0)
			return fail(ld, &at, path, "registry '%s' lists no tlds", reg->name);
		for (size_t i = 0; i + 1 < ld->conf->registry_count; i++) {
			const struct cds_registry *o = &ld->conf->registries[i];
			if (strcmp(o->name, reg->name) == 0)
				return fail(ld, &at, path, "registry '%s' defined twice", reg->name);
			for (size_t a = 0; a < o->tld_count; a++)
				for (size_t b = 0; b < reg->tld_count; b++)
					if (strcmp(o->tlds[a], reg->tlds[b]) == 0)
						return fail(ld, &at, path,
							    "%s is in registries '%s' and '%s'",
							    reg->tlds[b], o->name, reg->name);
		}
		if (reg->epp.password_file && reg->epp.password_env)
			return fail(ld, &at, path,
				    "registry '%s': give password-file or password-env, not both",
				    reg->name);
	}
	return 0;
}

/* The rules of one channel, once read. */
static int check_channel(struct loader *ld, const struct cds_channel *ch, const yaml_node_t *at,
			 const char *path)
{
	yaml_node_t n = *at;
	if (!ch->name || !channel_name_ok(ch->name))
		return fail(ld, &n, path, "a channel needs a name (letters, digits, '-', '_', '.')");
	if (ch->type == CDS_CHANNEL_MAIL) {
		if (!ch->sendmail_argc == !ch->maildir)
			return fail(ld, &n, path, "channel '%s': give sendmail or maildir (one)",
				    ch->name);
		if (!ch->from)
			return fail(ld, &n, path, "channel '%s': a mail channel needs from",
				    ch->name);
		if (ch->maildir && cds_template_expand(ch->maildir, cds_placeholder_names +
						       CDS_PH_CONTACT, NULL, 1, NULL,
						       &(size_t){0}, (char[8]){0}, 8) != 0)
			return fail(ld, &n, path,
				    "channel '%s': maildir may hold {contact}, no other placeholder",
				    ch->name);
		if (ch->from_name && strpbrk(ch->from_name, "\r\n\"\\<>"))
			return fail(ld, &n, path, "channel '%s': from-name holds a line break, quote, "
				    "backslash or angle bracket", ch->name);
	} else if (ch->type == CDS_CHANNEL_WEBHOOK) {
		if (!ch->url || (strncmp(ch->url, "http://", 7) != 0 &&
				 strncmp(ch->url, "https://", 8) != 0))
			return fail(ld, &n, path, "channel '%s': a webhook needs an http(s):// url",
				    ch->name);
		if (!ch->secret_file == !ch->secret_env)
			return fail(ld, &n, path,
				    "channel '%s': give secret-file or secret-env (one)", ch->name);
	} else if (!ch->file) {
		return fail(ld, &n, path, "channel '%s': a json channel needs file", ch->name);
	}
	for (size_t i = 0; i + 1 < ld->conf->notifications.channel_count; i++)
		if (strcmp(ld->conf->notifications.channels[i].name, ch->name) == 0)
			return fail(ld, &n, path, "channel '%s' defined twice", ch->name);
	return 0;
}

/* notifications.channels: a list of mappings, each a channel. */
static int load_channels(struct loader *ld, yaml_document_t *doc, const struct key *k,
			 const char *path, yaml_node_t *val)
{
	if (val->type != YAML_SEQUENCE_NODE)
		return fail(ld, val, path, "expected a list of channels");
	for (yaml_node_item_t *it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (!item || item->type != YAML_MAPPING_NODE)
			return fail(ld, item ? item : val, path, "each channel is a mapping of keys");
		if (ld->conf->notifications.channel_count >= CDS_CONF_MAX_CHANNELS)
			return fail(ld, item, path, "more than %d channels", CDS_CONF_MAX_CHANNELS);
		struct cds_channel *ch =
			&ld->conf->notifications.channels[ld->conf->notifications.channel_count++];
		ch->line = (unsigned)item->start_mark.line + 1;
		ld->base = (char *)ch;
		int r = apply_defaults(ld, k->children, path);
		if (r == 0)
			r = load_mapping(ld, doc, item, k->children, path);
		ld->base = NULL;
		if (r == 0)
			r = check_channel(ld, ch, item, path);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Walk a mapping along the schema.  The walk follows the schema, never the
 * document's own structure, so alias cycles in hostile input cannot recurse. */
static int load_mapping(struct loader *ld, yaml_document_t *doc, yaml_node_t *map,
			const struct key *keys, const char *prefix)
{
	uint64_t seen = 0;
	char path[128];

	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pair->value);
		if (!kn || !vn)
			return fail(ld, map, prefix, "malformed mapping");
		if (kn->type != YAML_SCALAR_NODE)
			return fail(ld, kn, prefix, "keys must be plain words");
		const char *name = scalar_text(kn);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		const struct key *k = keys;
		while (k->name && strcmp(k->name, name) != 0)
			k++;
		if (!k->name)
			return fail(ld, kn, path, "unknown key");
		uint64_t bit = UINT64_C(1) << (k - keys);
		if (seen & bit)
			return fail(ld, kn, path, "key given twice");
		seen |= bit;
		int r = load_value(ld, doc, k, path, vn);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Every channel an event names exists: indexes filled. */
static int resolve_routes(struct loader *ld, struct cds_notify_routes *rt, const char *prefix)
{
	char path[128];
	for (int e = 0; e < CDS_EVENT_COUNT; e++) {
		snprintf(path, sizeof(path), "%s.%s", prefix, cds_event_name((enum cds_event)e));
		for (size_t i = 0; i < rt->ev[e].count; i++) {
			size_t k = 0;
			while (k < ld->conf->notifications.channel_count &&
			       strcmp(ld->conf->notifications.channels[k].name, rt->ev[e].names[i]) != 0)
				k++;
			if (k == ld->conf->notifications.channel_count) {
				yaml_node_t at = {0};
				at.start_mark.line = rt->ev[e].line ? rt->ev[e].line - 1 : 0;
				at.start_mark.column = rt->ev[e].column ? rt->ev[e].column - 1 : 0;
				return fail(ld, rt->ev[e].line ? &at : NULL, path,
					    "no channel '%s' in notifications.channels",
					    rt->ev[e].names[i]);
			}
			rt->ev[e].index[i] = (int)k;
		}
	}
	return 0;
}

/* Rules between keys, checked after the whole file is read. */
static int check_conf(struct loader *ld)
{
	struct cds_conf *c = ld->conf;
	int r = resolve_routes(ld, &c->notifications.defaults, "notifications.default");
	for (size_t i = 0; i < c->registry_count && r == 0; i++)
		r = resolve_routes(ld, &c->registries[i].notify, "registries.notify");
	if (r != 0)
		return r;
	if (c->scan.per_server_queries > c->scan.max_queries)
		return fail(ld, NULL, "scan.per-server-queries-in-flight",
			    "%u is above scan.max-queries-in-flight (%u)",
			    c->scan.per_server_queries, c->scan.max_queries);
	for (int i = 0; i < 256; i++) {
		if (c->policy.compute_digests[i] && !c->policy.digest_types[i])
			return fail(ld, NULL, "policy.compute-digests",
				    "digest type %d is not in policy.digest-types", i);
	}
	if (c->limits.rsa_min_bits > c->limits.rsa_max_bits)
		return fail(ld, NULL, "limits.rsa-min-bits", "%u is above limits.rsa-max-bits (%u)",
			    c->limits.rsa_min_bits, c->limits.rsa_max_bits);
	return 0;
}

static bool vantage_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

bool cds_conf_vantage_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CDS_CONF_VANTAGE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!vantage_char(name[i]))
			return false;
	return true;
}

void cds_conf_vantage_of(const struct cds_conf *conf, char *buf, size_t len)
{
	char host[256] = "";
	if (conf->scan.vantage) {
		snprintf(buf, len, "%s", conf->scan.vantage);
		return;
	}
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	host[CDS_CONF_VANTAGE_MAX] = '\0';
	for (char *p = host; *p; p++)
		if (!vantage_char(*p))
			*p = '_';
	snprintf(buf, len, "%s", host);
}

int cds_conf_init(struct cds_conf *conf)
{
	struct loader ld = {.file = "(defaults)", .conf = conf, .err = NULL};

	memset(conf, 0, sizeof(*conf));
	int r = apply_defaults(&ld, root_keys, "");
	if (r != 0)
		cds_conf_deinit(conf);
	return r;
}

int cds_conf_load_buffer(const char *buf, size_t len, const char *name, struct cds_conf *out,
			 struct cds_conf_error *err)
{
	struct cds_conf conf;
	struct loader ld = {.file = name, .buf = buf, .buflen = len, .conf = &conf, .err = err};
	yaml_parser_t parser;
	yaml_document_t doc;
	int r;

	r = cds_conf_init(&conf);
	if (r != 0)
		return r;
	if (!yaml_parser_initialize(&parser)) {
		cds_conf_deinit(&conf);
		return CDS_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_node_t at = {0};
		at.start_mark = parser.problem_mark;
		r = fail(&ld, &at, "", "YAML syntax error: %s%s%s",
			 parser.problem ? parser.problem : "unknown",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		cds_conf_deinit(&conf);
		return r;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		if (root->type != YAML_MAPPING_NODE)
			r = fail(&ld, root, "", "the file must be a mapping of keys");
		else
			r = load_mapping(&ld, &doc, root, root_keys, "");
	}
	/* A second document in the file would be silently ignored: refuse it. */
	if (r == 0) {
		yaml_document_t extra;
		if (yaml_parser_load(&parser, &extra)) {
			yaml_node_t *more = yaml_document_get_root_node(&extra);
			if (more)
				r = fail(&ld, more, "", "only one YAML document is allowed");
			yaml_document_delete(&extra);
		}
	}
	if (r == 0)
		r = check_conf(&ld);
	free(ld.given);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r != 0) {
		cds_conf_deinit(&conf);
		return r;
	}
	r = set_string(&conf.source, name);
	if (r != 0) {
		cds_conf_deinit(&conf);
		return r;
	}
	*out = conf;
	return 0;
}

int cds_conf_load_file(const char *path, struct cds_conf *out, struct cds_conf_error *err)
{
	struct loader ld = {.file = path, .conf = NULL, .err = err};
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (!f)
		return fail(&ld, NULL, "", "cannot open (%s)", strerror(errno));
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20)) {
				fclose(f);
				free(buf);
				return fail(&ld, NULL, "", "file is larger than 16 MiB");
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return CDS_ENOMEM;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return fail(&ld, NULL, "", "read error (%s)", strerror(errno));
	}
	fclose(f);
	r = cds_conf_load_buffer(buf, len, path, out, err);
	free(buf);
	return r;
}

int cds_conf_apply_env(struct cds_conf *conf)
{
	const char *db = getenv("CDSCAN_DATABASE");
	if (db && *db)
		return set_string(&conf->database, db);
	return 0;
}

static void routes_deinit(struct cds_notify_routes *rt)
{
	for (int e = 0; e < CDS_EVENT_COUNT; e++)
		for (size_t i = 0; i < rt->ev[e].count; i++)
			free(rt->ev[e].names[i]);
	free(rt->contact);
}

static void notifications_deinit(struct cds_conf *conf)
{
	for (size_t i = 0; i < conf->notifications.channel_count; i++) {
		struct cds_channel *ch = &conf->notifications.channels[i];
		free(ch->name);
		for (size_t k = 0; k < ch->sendmail_argc; k++)
			free(ch->sendmail[k]);
		free(ch->maildir);
		free(ch->from);
		free(ch->from_name);
		free(ch->url);
		free(ch->secret_file);
		free(ch->secret_env);
		free(ch->file);
	}
	for (int e = 0; e < CDS_EVENT_COUNT; e++) {
		free(conf->notifications.templates[e].subject);
		free(conf->notifications.templates[e].body);
	}
	routes_deinit(&conf->notifications.defaults);
}

void cds_conf_deinit(struct cds_conf *conf)
{
	if (!conf)
		return;
	notifications_deinit(conf);
	free(conf->source);
	free(conf->database);
	for (size_t i = 0; i < CDS_CONF_MAX_RESOLVERS; i++)
		free(conf->resolver.addresses[i]);
	free(conf->resolver.trust_anchor);
	for (size_t i = 0; i < CDS_CONF_MAX_LISTEN; i++)
		free(conf->daemon.listen[i]);
	free(conf->daemon.http);
	free(conf->scan.vantage);
	free(conf->scan.source_address);
	free(conf->output.spool_dir);
	free(conf->output.json_file);
	for (size_t i = 0; i < conf->registry_count; i++) {
		struct cds_registry *r = &conf->registries[i];
		free(r->name);
		for (size_t k = 0; k < r->tld_count; k++)
			free(r->tlds[k]);
		free(r->spool_dir);
		free(r->epp.server);
		free(r->epp.username);
		free(r->epp.password_file);
		free(r->epp.password_env);
		free(r->epp.client_cert);
		free(r->epp.client_key);
		free(r->epp.ca_file);
		routes_deinit(&r->notify);
	}
	memset(conf, 0, sizeof(*conf));
}

void cds_conf_error_format(const struct cds_conf_error *err, char *buf, size_t len)
{
	char where[300];
	if (err->line)
		snprintf(where, sizeof(where), "%s:%u:%u", err->file, err->line, err->column);
	else
		snprintf(where, sizeof(where), "%s", err->file);
	if (err->key[0])
		snprintf(buf, len, "%s: key '%s': %s", where, err->key, err->message);
	else
		snprintf(buf, len, "%s: %s", where, err->message);
}

static void foreach_key(const struct key *keys, const char *prefix,
			void (*cb)(const char *path, void *arg), void *arg)
{
	char path[128];
	for (const struct key *k = keys; k->name; k++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
		if (k->type == K_SECTION || k->type == K_PROFILES || k->type == K_CHANNELS)
			foreach_key(k->children, path, cb, arg);
		else
			cb(path, arg);
	}
}

void cds_conf_foreach_key(void (*cb)(const char *path, void *arg), void *arg)
{
	foreach_key(root_keys, "", cb, arg);
}

const struct cds_registry *cds_conf_registry_for(const struct cds_conf *conf, const char *domain)
{
	const struct cds_registry *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < conf->registry_count; i++) {
		const struct cds_registry *r = &conf->registries[i];
		for (size_t k = 0; k < r->tld_count; k++) {
			size_t l = strlen(r->tlds[k]);
			if (l > best_len && cds_dname_is_subdomain(domain, r->tlds[k]) &&
			    strcmp(domain, r->tlds[k]) != 0) {
				best = r;
				best_len = l;
			}
		}
	}
	return best;
}

static void override(bool *dst, enum cds_tristate t)
{
	if (t != CDS_INHERIT)
		*dst = t == CDS_YES;
}

void cds_conf_effective(const struct cds_conf *conf, const struct cds_registry *reg,
			struct cds_conf *out)
{
	memcpy(out, conf, sizeof(*out));
	if (!reg)
		return;
	override(&out->policy.allow_delete, reg->policy.allow_delete);
	override(&out->policy.csync, reg->policy.csync);
	override(&out->policy.bootstrap_authenticated, reg->policy.bootstrap_authenticated);
	override(&out->policy.bootstrap_after_delay, reg->policy.bootstrap_after_delay);
}

size_t cds_conf_channels_for(const struct cds_conf *conf, const struct cds_registry *reg,
			     enum cds_event event, int *idx)
{
	if ((unsigned)event >= CDS_EVENT_COUNT)
		return 0;
	const struct cds_notify_routes *rt =
		reg && reg->notify.ev[event].set ? &reg->notify : &conf->notifications.defaults;
	for (size_t i = 0; i < rt->ev[event].count; i++)
		idx[i] = rt->ev[event].index[i];
	return rt->ev[event].count;
}

const struct cds_channel *cds_conf_channel(const struct cds_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->notifications.channel_count; i++)
		if (strcmp(conf->notifications.channels[i].name, name) == 0)
			return &conf->notifications.channels[i];
	return NULL;
}
