/* cdscan: command line and wiring only (STYLE.md); the work is in src/<layer>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdscan/cli.h"
#include "cdscan/cmd.h"
#include "cdscan/conf.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/version.h"

#define DEFAULT_CONFIG CDSCAN_SYSCONFDIR "/cdscan/cdscan.yaml"

/* Load the configuration: -c FILE, else the default file if it exists, else
 * the built-in defaults.  Prints the error and returns an exit code. */
static int load_config(const struct cds_cli *cli, struct cds_conf *conf)
{
	const char *path = cli->config_file;
	struct cds_conf_error err;
	char msg[800];
	int r;

	if (!path && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path)
		r = cds_conf_load_file(path, conf, &err);
	else
		r = cds_conf_init(conf);
	if (r == CDS_ECONFIG) {
		cds_conf_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "cdscan: %s\n", msg);
		return CDS_EXIT_CONFIG;
	}
	if (r == 0)
		r = cds_conf_apply_env(conf);
	if (r != 0) {
		fprintf(stderr, "cdscan: configuration: %s\n", cds_strerror(r));
		return CDS_EXIT_SOFTWARE;
	}
	return CDS_EXIT_OK;
}

static void setup_logging(const struct cds_cli *cli, const struct cds_conf *conf)
{
	int level = (int)conf->log.level + cli->verbosity;
	enum cds_log_format format = cli->has_log_format ? cli->log_format : conf->log.format;

	if (cli->verbosity < 0)
		level = CDS_LOG_ERROR;
	if (level > CDS_LOG_DEBUG)
		level = CDS_LOG_DEBUG;
	if (level < CDS_LOG_ERROR)
		level = CDS_LOG_ERROR;
	cds_log_setup((enum cds_log_level)level, format, NULL);
}

/* The command's own work; its exit code. */
static int run_command(const struct cds_cli *cli, struct cds_conf *conf)
{
	switch (cli->command) {
	case CDS_CMD_CHECK:
		return cds_cmd_check(cli, conf);
	case CDS_CMD_DB_INIT:
		return cds_cmd_db_init(cli, conf);
	case CDS_CMD_IMPORT:
		return cds_cmd_import(cli, conf);
	case CDS_CMD_SCAN:
		return cds_cmd_scan(cli, conf);
	case CDS_CMD_EPP_SEND:
		return cds_cmd_epp_send(cli, conf);
	case CDS_CMD_DOMAIN_SHOW:
	case CDS_CMD_DOMAIN_HISTORY:
	case CDS_CMD_DOMAIN_SUSPEND:
	case CDS_CMD_DOMAIN_RESUME:
	case CDS_CMD_DOMAIN_APPROVE_CSYNC:
		return cds_cmd_domain(cli, conf);
	case CDS_CMD_DAEMON:
		return cds_cmd_daemon(cli, conf);
	case CDS_CMD_DSYNC:
		return cds_cmd_dsync(cli, conf);
	default:
		/* The commands arrive one issue at a time; until a command's
		 * module exists it says so and fails with the internal-error
		 * code, so that no script mistakes it for a successful run. */
		fprintf(stderr, "cdscan: the '%s' command is not available in this version (%s)\n",
			cds_cli_command_name(cli->command), CDSCAN_VERSION);
		return CDS_EXIT_SOFTWARE;
	}
}

int main(int argc, char **argv)
{
	struct cds_cli cli;
	struct cds_conf conf = {0};
	char err[512];
	int rc, r;

	r = cds_cli_parse(argc, argv, &cli, err, sizeof(err));
	if (r != 0) {
		if (r == CDS_EUSAGE)
			fprintf(stderr, "cdscan: %s\nTry 'cdscan --help'.\n", err);
		else
			fprintf(stderr, "cdscan: %s\n", cds_strerror(r));
		cds_cli_free(&cli);
		return cds_error_exit_code(r);
	}
	if (cli.version) {
		printf("cdscan %s\n", CDSCAN_VERSION);
		cds_cli_free(&cli);
		return CDS_EXIT_OK;
	}
	if (cli.help) {
		cds_cli_help(stdout, cli.command);
		cds_cli_free(&cli);
		return CDS_EXIT_OK;
	}
	rc = load_config(&cli, &conf);
	if (rc != CDS_EXIT_OK)
		goto out;
	setup_logging(&cli, &conf);
	if (cli.check_config) {
		printf("%s: ok\n", conf.source ? conf.source : "(built-in defaults)");
		if (cli.command == CDS_CMD_NONE)
			goto out;
	}
	{
		char redacted[512];
		cds_log_redact_conninfo(conf.database, redacted, sizeof(redacted));
		cds_log_debug("configuration loaded (file %s, database %s)",
			      conf.source ? conf.source : "none", redacted);
	}
	rc = run_command(&cli, &conf);
out:
	cds_conf_deinit(&conf);
	cds_cli_free(&cli);
	return rc;
}
