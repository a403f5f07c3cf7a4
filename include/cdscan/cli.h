/* Command line of cdscan (CONTRACT.md "Commands"): parsing and help texts.
 * Parsing checks the syntax of every argument (names, addresses, DS, times)
 * so that a malformed one is a usage error (exit 64) before any work. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cdscan/conf.h"
#include "cdscan/log.h"
#include "cdscan/report.h"
#include "cdscan/util.h"

enum cds_command {
	CDS_CMD_NONE = 0,
	CDS_CMD_CHECK,
	CDS_CMD_DB_INIT,
	CDS_CMD_IMPORT,
	CDS_CMD_SCAN,
	CDS_CMD_EPP_SEND,
	CDS_CMD_DAEMON,
	CDS_CMD_DOMAIN_SHOW,
	CDS_CMD_DOMAIN_HISTORY,
	CDS_CMD_DOMAIN_SUSPEND,
	CDS_CMD_DOMAIN_RESUME,
	CDS_CMD_DOMAIN_APPROVE_CSYNC,
	CDS_CMD_DSYNC,
};

/* import --domains --format: the portfolio's format. */
enum cds_import_format { CDS_IMPORT_CSV = 0, CDS_IMPORT_JSONL };
/* import --domains --from: where NS and DS the file lacks come from. */
enum cds_import_from { CDS_IMPORT_FROM_NONE = 0, CDS_IMPORT_FROM_DNS, CDS_IMPORT_FROM_EPP };

/* cdscan dsync: the defaults of --port and --ttl. */
#define CDS_DSYNC_DEFAULT_PORT 53
#define CDS_DSYNC_DEFAULT_TTL 3600

/* The arguments of cdscan dsync (RFC 9859). */
struct cds_cli_dsync {
	char zone[CDS_DNAME_BUFSIZE];   /* --zone PARENT, normalised; "" until given */
	char target[CDS_DNAME_BUFSIZE]; /* --target NAME, normalised; "" until given */
	uint16_t port;                  /* --port N, 1..65535 */
	uint32_t ttl;                   /* --ttl N, 0..2^31-1 (RFC 2181 §8) */
	char (*children)[CDS_DNAME_BUFSIZE]; /* --child, normalised, each below zone */
	size_t child_count;
	bool no_wildcard;               /* --no-wildcard: at _dsync.PARENT */
	bool generic;                   /* --generic: records in RFC 3597 form */
};

/* One --ns NAME[@ADDR]. */
struct cds_cli_ns {
	char name[CDS_DNAME_BUFSIZE]; /* normalised */
	bool has_addr;                /* false: resolve NAME */
	struct cds_addr addr;
};

/* Most --listen addresses. */
#define CDS_CLI_MAX_LISTEN 8

/* The parsed command line.  Plain pointers point into argv (owned by the
 * caller); the arrays are owned by the struct (cds_cli_free). */
struct cds_cli {
	/* global */
	const char *config_file;    /* -c FILE, or NULL */
	int verbosity;              /* +1 per -v, -1 per -q */
	bool has_log_format;
	enum cds_log_format log_format;
	bool help;                  /* --help (for the command, if any) */
	bool version;               /* --version */
	bool check_config;          /* --check-config */
	enum cds_command command;

	/* check, domain ... */
	char domain[CDS_DNAME_BUFSIZE]; /* normalised */
	struct cds_cli_ns *ns;      /* --ns, in order given */
	size_t ns_count;
	struct cds_ds *ds;          /* --ds */
	size_t ds_count;
	const char *parent_zone;    /* --parent-zone FILE */
	bool has_last_change;
	time_t last_change;         /* --last-change */
	bool json;                  /* --json (check, domain show, domain history) */
	const char *reason;         /* domain suspend|resume --reason TEXT */

	/* check, scan, daemon */
	const char *resolver;       /* --resolver ADDR (validated) */
	const char *trust_anchor;   /* --trust-anchor FILE */

	/* daemon */
	const char *listen[CDS_CLI_MAX_LISTEN]; /* --listen ADDR (validated) */
	size_t listen_count;
	const char *http;           /* --http ADDR (validated) */

	/* import */
	const char *zone_file;      /* --zone FILE */
	bool has_origin;
	char origin[CDS_DNAME_BUFSIZE]; /* --origin NAME */
	const char *domains_file;   /* --domains FILE|- (a registrar's portfolio) */
	enum cds_import_format import_format; /* --format csv|jsonl */
	enum cds_import_from import_from;     /* --from dns|epp */

	/* scan, epp send, domain history */
	bool dry_run;
	char (*domains)[CDS_DNAME_BUFSIZE]; /* --domain, normalised */
	size_t domain_count;
	bool has_limit;
	uint64_t limit;             /* --limit N */
	bool has_output;
	enum cds_output_adapter output; /* --output */
	const char *spool_dir;      /* --spool-dir DIR */
	const char *report_file;    /* --report FILE */
	enum cds_report_format report_format; /* --format */

	struct cds_cli_dsync dsync;  /* dsync (its children array owned) */
};

/*
 * Parse argv into cli (zeroed first).  Returns 0, or CDS_EUSAGE with a
 * one-line reason in err, or CDS_ENOMEM.  Uses getopt_long (not reentrant):
 * main thread only.
 */
int cds_cli_parse(int argc, char **argv, struct cds_cli *cli, char *err, size_t errlen);

/* Free what cli owns.  Accepts a zeroed struct. */
void cds_cli_free(struct cds_cli *cli);

/* Print the help text of a command (CDS_CMD_NONE: the overview). */
void cds_cli_help(FILE *f, enum cds_command command);

/* The name of a command as typed ("db init"). */
const char *cds_cli_command_name(enum cds_command command);
