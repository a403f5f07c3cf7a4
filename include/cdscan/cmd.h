/* The commands of the command line, each from parsed arguments and the
 * configuration to an exit code (CONTRACT.md). */
#pragma once

#include "cdscan/cli.h"
#include "cdscan/conf.h"

/* cdscan check: one delegation, verdict on stdout.  Returns an exit code. */
int cds_cmd_check(const struct cds_cli *cli, const struct cds_conf *conf);
