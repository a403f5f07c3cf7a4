/* The commands of the command line, each from parsed arguments and the
 * configuration to an exit code (CONTRACT.md). */
#pragma once

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

/* cdscan epp send: pending change sets to the output adapter. */
int cds_cmd_epp_send(const struct cds_cli *cli, const struct cds_conf *conf);

struct cds_db;

/* The epp-tls adapter: every pending change set to its registry's EPP server
 * (db connected).  *sent and *failed count outcomes.  Returns 0,
 * CDS_EUNAVAIL (another sender runs; a registry out of reach: its change
 * sets stay pending) or CDS_ENOMEM, with err set. */
int cds_epp_send_tls(const struct cds_conf *conf, bool has_limit, uint64_t limit,
		     struct cds_db *db, uint64_t *sent, uint64_t *failed, char *err, size_t errlen);

/* Hand pending change sets to adapter (spool_dir: NULL for the config's);
 * at most limit when has_limit.  Returns an exit code.  epp send, and scan
 * with --output or --spool-dir. */
int cds_epp_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		  const char *spool_dir, bool has_limit, uint64_t limit);

/* cdscan scan: due delegations, decided, recorded, reported. */
int cds_cmd_scan(const struct cds_cli *cli, const struct cds_conf *conf);
