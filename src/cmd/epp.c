/* cdscan epp send: the outbox drained to the configured output adapter
 * (src/outbox), its outcome in words and as an exit code. */
#include <stdio.h>

#include "cdscan/cmd.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/notifier.h"
#include "cdscan/outbox.h"

int cds_cmd_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		  const char *spool_dir, bool has_limit, uint64_t limit)
{
	struct cds_outbox_result res;
	char err[700];
	int e = cds_outbox_drain(conf, adapter, spool_dir, has_limit, limit, &res, err, sizeof(err));
	if (e == CDS_ECONFIG || (e != 0 && !res.destination[0])) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		return cds_error_exit_code(e);
	}
	if (adapter == CDS_OUTPUT_EPP_TLS)
		printf("%llu change sets applied by the registries, %llu failed\n",
		       (unsigned long long)res.sent, (unsigned long long)res.failed);
	else if (adapter == CDS_OUTPUT_JSON)
		/* With json on standard output the count goes to the log, not
		 * into the data stream. */
		cds_log_notice("%llu change sets written to %s", (unsigned long long)res.sent,
			       res.destination);
	else
		printf("%llu change sets spooled to %s\n", (unsigned long long)res.sent,
		       res.destination);
	if (e != 0) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		/* A system error writing the output is the software's to report. */
		return e < 0 && e > -1000 ? CDS_EXIT_SOFTWARE : cds_error_exit_code(e);
	}
	return CDS_EXIT_OK;
}

int cds_cmd_epp_send(const struct cds_cli *cli, const struct cds_conf *conf)
{
	int rc = cds_cmd_drain(conf, cli->has_output ? cli->output : conf->output.adapter, NULL,
			       cli->has_limit, cli->limit);
	/* What the registries applied, told (and what waits from before). */
	cds_notifier_run_once(conf, NULL);
	return rc;
}
