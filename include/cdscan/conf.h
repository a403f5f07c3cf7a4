/* Configuration: defaults, the YAML file (libyaml), the environment. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/log.h"
#include "cdscan/model.h"

enum cds_transport_mode {
	CDS_TRANSPORT_UDP = 0, /* UDP, TCP after a truncated answer */
	CDS_TRANSPORT_TCP,     /* TCP only */
};

enum cds_output_adapter {
	CDS_OUTPUT_EPP_SPOOL = 0,
	CDS_OUTPUT_EPP_TLS,
	CDS_OUTPUT_JSON,
};

/* resolver.address-families, as the index of resolver.families. */
enum cds_family { CDS_FAMILY_IPV4 = 0, CDS_FAMILY_IPV6 };

/* Most resolver addresses the config takes. */
#define CDS_CONF_MAX_RESOLVERS 8
/* scan.vantages: at most this many vantages required. */
#define CDS_CONF_MAX_VANTAGES 16
/* scan.vantage: the longest vantage name. */
#define CDS_CONF_VANTAGE_MAX 63

/* Most addresses daemon.listen takes. */
#define CDS_CONF_MAX_LISTEN 8
/* Most entries scan.per-prefix-qps takes. */
#define CDS_CONF_MAX_QPS_LIMITS 256
/* Most prefixes resolver.allow-addresses takes. */
#define CDS_CONF_MAX_ALLOW 64

/* Most registry profiles, and TLDs per profile. */
#define CDS_CONF_MAX_REGISTRIES 32
#define CDS_REGISTRY_MAX_TLDS 64

/* The domain statuses of RFC 5731 §2.3, as registries-N.lock-statuses
 * indexes them (cds_epp_status_names). */
#define CDS_EPP_STATUS_COUNT 17
extern const char *const cds_epp_status_names[CDS_EPP_STATUS_COUNT + 1];

/* A policy key a registry profile may override: as the top level, or set. */
enum cds_tristate { CDS_INHERIT = 0, CDS_NO, CDS_YES };

/* ------------------------------------------------------ notifications --- */

/* Most notification channels, channels per event, and words of a
 * channel's sendmail command. */
#define CDS_CONF_MAX_CHANNELS 16
#define CDS_CHANNEL_MAX_ARGV 16

enum cds_channel_type {
	CDS_CHANNEL_MAIL = 0, /* RFC 5322 messages: sendmail command or maildir */
	CDS_CHANNEL_WEBHOOK,  /* HTTP POST of the notice as JSON, HMAC-signed */
	CDS_CHANNEL_JSON,     /* one JSON line per notice, appended to a file */
};

/* A named channel (notifications.channels). */
struct cds_channel {
	char *name;
	enum cds_channel_type type;
	char *sendmail[CDS_CHANNEL_MAX_ARGV]; /* mail: the command, no shell */
	size_t sendmail_argc;
	char *maildir;      /* mail: a maildir instead ({contact} allowed) */
	char *from;         /* mail: the From address (checked) */
	char *from_name;    /* mail: its display name, or NULL */
	char *url;          /* webhook: http:// or https:// */
	char *secret_file;  /* webhook: HMAC key, first line of this file */
	char *secret_env;   /* or of this environment variable */
	uint64_t timeout_ms; /* mail (sendmail) and webhook: one delivery */
	char *file;         /* json: the file lines are appended to */
	unsigned line;      /* where the channel starts in the file */
};

/* Which channels each event goes to, and who the customer is when the
 * delegation has no contact (notifications.default, a profile's notify). */
struct cds_notify_routes {
	struct {
		char *names[CDS_CONF_MAX_CHANNELS]; /* channel names */
		size_t count;
		bool set;              /* given (a profile's unset event inherits) */
		int index[CDS_CONF_MAX_CHANNELS]; /* into channels (after the load) */
		unsigned line, column; /* where it was given */
	} ev[CDS_EVENT_COUNT];
	char *contact; /* fallback recipient (checked), or NULL */
};

/* The template placeholders (cdscan.yaml(5) NOTIFICATIONS). */
enum cds_placeholder {
	CDS_PH_DOMAIN = 0, CDS_PH_REGISTRY, CDS_PH_EVENT, CDS_PH_REASON, CDS_PH_REASON_TEXT,
	CDS_PH_DETAIL, CDS_PH_ADVICE, CDS_PH_DS_ADD, CDS_PH_DS_REM, CDS_PH_NS_ADD,
	CDS_PH_NS_REM, CDS_PH_CONTACT, CDS_PH_STREAK, CDS_PH_TIME, CDS_PH_COUNT
};
/* "domain", "registry", ...: the names as written between braces. */
extern const char *const cds_placeholder_names[CDS_PH_COUNT];

struct cds_template {
	char *subject; /* one line once expanded (control characters become spaces) */
	char *body;
};

/* A registry profile (the registrar's view: one per registry it talks to):
 * which TLDs it serves, how it takes DS and NS changes, and how to reach its
 * EPP server. */
struct cds_registry {
	char *name;
	char *tlds[CDS_REGISTRY_MAX_TLDS]; /* normalised zone names */
	size_t tld_count;
	bool scans_cds_itself; /* the registry acts on CDS itself: skip its TLDs */
	enum cds_ds_interface ds_interface; /* dsData or keyData (RFC 5910) */
	enum cds_host_model host_model;     /* hostObj or hostAttr (RFC 5731) */
	char *spool_dir;       /* epp-spool: this registry's files (NULL: output.spool-dir) */
	struct {
		char *server;          /* host name or address */
		uint32_t port;
		char *username;        /* EPP client ID */
		char *password_file;   /* the password, first line of this file */
		char *password_env;    /* or of this environment variable */
		char *client_cert;     /* PEM file, optional */
		char *client_key;      /* PEM file, optional */
		char *ca_file;         /* PEM bundle; NULL: the system's */
		bool verify;           /* verify the server's certificate and name */
		uint64_t timeout_ms;   /* per command */
		uint32_t retries;      /* further attempts of a command */
		uint32_t info_sessions; /* import --from epp: sessions at once */
	} epp;
	struct {
		enum cds_tristate allow_delete, csync, bootstrap_authenticated,
			bootstrap_after_delay;
	} policy;
	/* Statuses (RFC 5731 §2.3, index of cds_epp_status_names) under
	 * which the registry refuses a domain update: a domain the last
	 * import --from epp found with one is suspended while it lasts. */
	bool lock_statuses[CDS_EPP_STATUS_COUNT];
	struct cds_notify_routes notify; /* notify: (unset events: notifications.default) */
	unsigned line; /* where the profile starts in the file */
};

/* The whole configuration.  Strings are owned by the struct (freed by
 * cds_conf_deinit).  Every field is a key documented in cdscan.yaml(5). */
struct cds_conf {
	char *source;   /* file the config came from, or NULL for defaults */
	char *database; /* libpq connection string (CDSCAN_DATABASE wins) */

	struct {
		char *addresses[CDS_CONF_MAX_RESOLVERS]; /* "ADDR[#PORT]" texts */
		size_t address_count;  /* 0: the system's resolv.conf */
		char *trust_anchor;    /* DS or DNSKEY file of the root (or lab root) */
		uint64_t timeout_ms;   /* per query to a resolver (it recurses) */
		/* address-families: the NS addresses asked ([0] IPv4, [1] IPv6);
		 * a scanner without IPv6 leaves IPv6 addresses out */
		bool families[2];
		/* allow-addresses: special-purpose space (cds_addr_special:
		 * loopback, private, link-local, ...) that nameserver addresses
		 * may nevertheless be in; none by default */
		struct cds_prefix allow[CDS_CONF_MAX_ALLOW];
		size_t allow_count;
		/* cache-max-ttl: the longest an RFC 9615 look-up's answer or a
		 * zone's validation is reused (also bounded by TTLs and RRSIG
		 * expirations) */
		uint64_t cache_max_ttl_ms;
	} resolver;

	struct {
		uint32_t concurrency;        /* domains in flight */
		uint32_t max_queries;        /* queries in flight, all servers */
		uint32_t per_server_queries; /* queries in flight per server address */
		uint32_t per_server_qps;     /* queries per second per server address */
		/* per-prefix-qps: per_server_qps for the addresses in these
		 * prefixes instead (longest match); none by default */
		struct cds_qps_limit qps_limits[CDS_CONF_MAX_QPS_LIMITS];
		size_t qps_limit_count;
		uint64_t timeout_ms;         /* per query attempt */
		uint32_t retries;            /* further attempts after a timeout */
		enum cds_transport_mode transport;
		uint32_t edns_buffer_size;   /* advertised EDNS(0) UDP size */
		uint32_t batch_size;         /* delegations claimed per transaction */
		uint64_t lease_ms;           /* a claimed delegation is due again after it */
		uint64_t interval_ms;        /* between two scans of a delegation */
		uint32_t flag_unreachable_after; /* consecutive failed scans to flag */
		uint64_t results_retention_ms;   /* scan results kept this long */
		/* After a scan with an unusable server (RFC 9975 §3): the next
		 * one after retry-after, doubling with each failure, never later
		 * than max-backoff (nor than interval, if that is longer). */
		uint64_t retry_after_ms;
		uint64_t max_backoff_ms;
		/* What a CSYNC may make the scan ask, once it and the child's NS
		 * set validate (RFC 7477 §3.4 data, probes of what it adds):
		 * NS names in the child's NS set, addresses per name, probed
		 * addresses per delegation.  More is rejected, never asked. */
		uint32_t csync_max_ns;
		uint32_t csync_max_addresses;
		uint32_t csync_max_probes;
		/* Vantage agreement (several scanners at different places
		 * sharing one database): this scanner's name (NULL: the host
		 * name, cds_conf_vantage_of), how many distinct vantages must
		 * have observed the same signal within vantage_window_ms before
		 * a change set is made (1: no agreement needed). */
		char *vantage;
		uint32_t vantages;
		uint64_t vantage_window_ms;
		/* "ADDR": the scan's queries of that family leave from it (a
		 * multi-homed scanner); NULL: the kernel's choice. */
		char *source_address;
		/* full-status: ask SOA, DNSKEY and NS (and validate) at every
		 * address of every zone; off: only where some address has a
		 * CDS, CDNSKEY or CSYNC (the rest: `secure` not checked) */
		bool full_status;
		/* type-bitmaps: for a delegation with DS, ask CDS first at each
		 * address and CDNSKEY and CSYNC only when the apex's NSEC or
		 * NSEC3 in that empty answer lists them (or there is none);
		 * off: all three at once (scan/job.c) */
		bool type_bitmaps;
		/* dnskey-cache: verified signatures kept per delegation in the
		 * database across scans (sigcache.h); at most max-entries of
		 * them, max-bytes in all */
		bool sigcache_enabled;
		uint32_t sigcache_max_entries;
		uint32_t sigcache_max_bytes;
	} scan;

	struct {
		bool algorithms[256];   /* DNSKEY algorithms accepted */
		bool digest_types[256]; /* DS digest types accepted */
		bool compute_digests[256]; /* digest types computed from CDNSKEY */
		bool allow_delete;      /* accept RFC 8078 delete signals */
		uint32_t max_ds;        /* most DS records a delegation may get */
		bool csync;             /* process CSYNC (RFC 7477) */
		bool bootstrap_authenticated; /* RFC 9615 */
		bool bootstrap_after_delay;   /* RFC 8078 §3.3 */
		uint32_t bootstrap_delay_scans;
		uint64_t bootstrap_delay_ms;
		/* RFC 9975 §3: an address failing this long (0: never) is left
		 * out of the decision until it answers again. */
		uint64_t unreachable_after_ms;
		/* (policy.nsec3-max-iterations is limits.nsec3_max_iterations) */
	} policy;

	/* Bounds on the work outside input may cost (the limits: section;
	 * each field a key, dns.h says why each default). */
	struct cds_dnssec_limits limits;

	struct {
		enum cds_output_adapter adapter;
		char *spool_dir; /* epp-spool: where EPP files go */
		char *json_file; /* json: "-" for stdout */
	} output;

	struct {
		enum cds_log_level level;
		enum cds_log_format format;
	} log;

	/* RFC 9567 error reports of rejections to the agent domain a child's
	 * nameserver names in its Report-Channel option (error-reporting:). */
	struct {
		bool enabled;
		uint32_t per_agent_rate;   /* reports per minute per agent (a burst as many) */
		uint32_t max_agents;       /* agent domains tracked at once */
		uint64_t dedup_window_ms;  /* the same report is not sent again within it */
		uint32_t max_remembered;   /* reports remembered for the window */
		uint32_t max_agent_length; /* octets of an agent domain, wire form */
		uint64_t timeout_ms;       /* a report's answer is waited for so long */
	} error_reporting;

	/* cdscan daemon (cdscan.yaml(5) DAEMON). */
	struct {
		char *listen[CDS_CONF_MAX_LISTEN]; /* NOTIFY on UDP and TCP: "ADDR[#PORT]" */
		size_t listen_count;
		char *http;               /* the HTTP endpoint's ADDR[#PORT]; NULL: none */
		/* Due delegations are claimed at pace_percent/100 times
		 * (active delegations / scan.interval) per second: a full
		 * table's scans spread over the cycle, with room to catch up. */
		uint32_t pace_percent;
		uint64_t tick_ms;            /* the scheduler's beat: pace, writes, NOTIFY queue */
		uint64_t output_interval_ms; /* 0: change sets handed over as created */
		uint64_t grace_ms;           /* SIGTERM: scans running may finish within */
		uint32_t http_max_connections;
		uint32_t http_per_ip;        /* connections per client address */
		uint64_t http_timeout_ms;    /* an idle HTTP connection is closed after */
		uint32_t http_max_request;   /* octets of request line and headers */
		uint32_t http_max_url;       /* octets of a URL path (longer: 414) */
		struct {
			uint32_t source_rate;    /* NOTIFYs per second per source prefix */
			uint32_t source_burst;
			uint32_t source_prefix4; /* a source is its /source_prefix4 (IPv4) */
			uint32_t source_prefix6; /* or /source_prefix6 (IPv6) */
			uint64_t domain_interval_ms; /* one NOTIFY-driven scan per domain per */
			uint32_t domain_burst;
			uint32_t rate;           /* NOTIFYs per second from everyone */
			uint32_t max_tracked;    /* source and domain buckets kept */
			uint32_t max_pending;    /* notified domains waiting for a scan */
			uint32_t max_scans;      /* NOTIFY-driven scans claimed at once */
			uint32_t tcp_clients;    /* TCP connections at once */
			uint64_t tcp_timeout_ms; /* an idle TCP connection is closed after */
		} notify;
	} daemon;
	struct cds_registry registries[CDS_CONF_MAX_REGISTRIES];
	size_t registry_count; /* 0: one registry, the output.* settings */

	/* Notifications to customers and systems (notifications:). */
	struct {
		struct cds_channel channels[CDS_CONF_MAX_CHANNELS];
		size_t channel_count; /* 0: notifications off */
		struct cds_template templates[CDS_EVENT_COUNT];
		struct cds_notify_routes defaults; /* domains of no profile, unset events */
		uint32_t consecutive;   /* rejected-repeatedly after this many scans */
		uint32_t max_per_run;   /* deliveries per run (scan, epp send, daemon pass) */
		uint32_t max_attempts;  /* a delivery is given up after so many */
		uint64_t backoff_ms;    /* first retry after, doubling */
		uint64_t max_backoff_ms;
		uint32_t max_message;   /* octets of one message or request body */
		uint64_t interval_ms;   /* the daemon delivers at least this often */
	} notifications;

	/* cdscan import --domains: what a portfolio file may cost. */
	struct {
		uint32_t max_line;    /* octets of a line */
		uint32_t max_ns;      /* NS names of a line */
		uint32_t max_ds;      /* DS records of a line */
		uint32_t max_domains; /* domains of a file */
	} import;
};

/* The profile whose TLD is the longest suffix of domain, or NULL. */
/* Is name a vantage name: 1 to CDS_CONF_VANTAGE_MAX letters, digits, '.',
 * '-' or '_'? */
bool cds_conf_vantage_name_ok(const char *name);

/* This scanner's vantage name: scan.vantage, else the host name (cut to
 * CDS_CONF_VANTAGE_MAX, characters outside the name alphabet made '_'),
 * into buf (at least CDS_CONF_VANTAGE_MAX + 1 bytes). */
void cds_conf_vantage_of(const struct cds_conf *conf, char *buf, size_t len);

const struct cds_registry *cds_conf_registry_for(const struct cds_conf *conf, const char *domain);

/* The channels event goes to for a delegation of profile reg (NULL: none),
 * as indexes into conf->notifications.channels, into idx (at most
 * CDS_CONF_MAX_CHANNELS); returns how many. */
size_t cds_conf_channels_for(const struct cds_conf *conf, const struct cds_registry *reg,
			     enum cds_event event, int *idx);

/* The channel called name, or NULL. */
const struct cds_channel *cds_conf_channel(const struct cds_conf *conf, const char *name);

/* conf with the profile's policy overrides applied, into *out (a shallow
 * copy: out borrows conf's strings and must not be deinitialised). */
void cds_conf_effective(const struct cds_conf *conf, const struct cds_registry *reg,
			struct cds_conf *out);

/* Where a config error is: file, position, key path ("scan.timeout"). */
struct cds_conf_error {
	char file[256];
	unsigned line;   /* 1-based; 0 when not tied to a position */
	unsigned column; /* 1-based */
	char key[128];
	char message[256];
};

/* Fill conf with the built-in defaults.  Returns 0 or CDS_ENOMEM. */
int cds_conf_init(struct cds_conf *conf);

/*
 * Build a configuration from the defaults and the YAML file at path.  On
 * success *out is a new config; on error *out is untouched, err says where
 * and why, and the return is CDS_ECONFIG (or CDS_ENOMEM).  This is the
 * "parse, validate, swap" of a reload: nothing is half-applied.
 */
int cds_conf_load_file(const char *path, struct cds_conf *out, struct cds_conf_error *err);

/* The same for a YAML text in memory; name stands for the file name. */
int cds_conf_load_buffer(const char *buf, size_t len, const char *name, struct cds_conf *out,
			 struct cds_conf_error *err);

/* Apply the environment (CDSCAN_DATABASE overrides database). */
int cds_conf_apply_env(struct cds_conf *conf);

/* Free what conf owns.  Accepts a zeroed struct. */
void cds_conf_deinit(struct cds_conf *conf);

/* "FILE:LINE:COLUMN: key 'KEY': MESSAGE" into buf. */
void cds_conf_error_format(const struct cds_conf_error *err, char *buf, size_t len);

/* Call cb with the dotted path of every key the schema knows (for docs and
 * their tests). */
void cds_conf_foreach_key(void (*cb)(const char *path, void *arg), void *arg);
