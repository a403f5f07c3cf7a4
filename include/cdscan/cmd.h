/* The commands of the command line, each from parsed arguments and the
 * configuration to an exit code (CONTRACT.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/cli.h"
#include "cdscan/conf.h"

/* cdscan check: one delegation, verdict on stdout.  Returns an exit code. */
int cds_cmd_check(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan db init: create or migrate the schema. */
int cds_cmd_db_init(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan import: a parent zone file's delegations into the table. */
int cds_cmd_import(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan import --domains: a registrar's portfolio into the table. */
int cds_cmd_import_domains(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan epp send: pending change sets to the output adapter. */
int cds_cmd_epp_send(const struct cds_cli *cli, const struct cds_conf *conf);

/* Hand pending change sets to adapter (spool_dir: NULL for the config's),
 * at most limit when has_limit, and say how it went.  Returns an exit
 * code.  epp send, and scan with --output or --spool-dir. */
int cds_cmd_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		  const char *spool_dir, bool has_limit, uint64_t limit);

/* cdscan scan: due delegations, decided, recorded, reported. */
int cds_cmd_scan(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan domain show|history|suspend|resume|approve-csync NAME: one
 * delegation's state, and the operator's say over its automation. */
int cds_cmd_domain(const struct cds_cli *cli, const struct cds_conf *conf);

/* cdscan daemon: runs until SIGTERM.  conf is taken over (the daemon
 * replaces it on reload); the caller may only deinitialise it after. */
int cds_cmd_daemon(const struct cds_cli *cli, struct cds_conf *conf);

/* cdscan dsync: the DSYNC records (RFC 9859) of a parent zone on stdout.
 * Needs neither database nor configuration. */
int cds_cmd_dsync(const struct cds_cli *cli, const struct cds_conf *conf);
