/* cdscan epp send: hand pending DS change sets to the output adapter.
 * epp-spool writes one EPP document per change set and marks it sent once
 * the file is durable; a crash in between leaves it pending, and the resend
 * rewrites the same file with the same clTRID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/epp.h"
#include "cdscan/error.h"
#include "cdscan/log.h"

#define SEND_BATCH 100

int cds_cmd_epp_send(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct cds_db *db;
	struct cds_db_changes ch;
	char err[700];
	uint64_t sent = 0;
	int e;

	if (conf->output.adapter != CDS_OUTPUT_EPP_SPOOL) {
		fprintf(stderr, "cdscan: epp send: only the epp-spool adapter is in this version "
				"(output.adapter)\n");
		return CDS_EXIT_SOFTWARE;
	}
	struct stat st;
	if (stat(conf->output.spool_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cdscan: epp send: output.spool-dir %s is not a directory\n",
			conf->output.spool_dir);
		return CDS_EXIT_CONFIG;
	}
	if ((e = cds_db_connect(conf->database, &db, err, sizeof(err))) != 0) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		return cds_error_exit_code(e);
	}
	for (;;) {
		size_t want = SEND_BATCH;
		if (cli->has_limit && cli->limit - sent < want)
			want = (size_t)(cli->limit - sent);
		if (want == 0)
			break;
		if ((e = cds_db_changes_claim(db, want, &ch, err, sizeof(err))) != 0)
			break;
		if (ch.count == 0) {
			e = cds_db_changes_commit(db, &ch, err, sizeof(err));
			break;
		}
		for (size_t i = 0; i < ch.count && e == 0; i++) {
			const struct cds_db_change *c = &ch.items[i];
			struct cds_epp_ds_change d = {
				.domain = c->domain, .cltrid = c->cltrid,
				.remove_all = strcmp(c->action, "delete") == 0,
				.add = (const char *const *)c->add, .nadd = c->nadd,
				.rem = (const char *const *)c->rem, .nrem = c->nrem};
			char *xml = NULL;
			size_t len = 0;
			e = cds_epp_ds_update(&d, &xml, &len);
			if (e != 0) {
				snprintf(err, sizeof(err), "change set %lld of %s: cannot build EPP (%s)",
					 (long long)c->id, c->domain, cds_strerror(e));
				break;
			}
			e = cds_epp_spool_write(conf->output.spool_dir, c->domain, c->id, xml, len, err,
						sizeof(err));
			free(xml);
			if (e == 0)
				e = cds_db_change_sent(db, c->id, err, sizeof(err));
			if (e == 0) {
				sent++;
				cds_log_info("change set %lld of %s spooled (clTRID %s)", (long long)c->id,
					     c->domain, c->cltrid);
			}
		}
		if (e != 0) {
			cds_db_changes_abort(db, &ch);
			break;
		}
		if ((e = cds_db_changes_commit(db, &ch, err, sizeof(err))) != 0)
			break;
	}
	cds_db_close(db);
	printf("%llu change sets spooled to %s\n", (unsigned long long)sent,
	       conf->output.spool_dir);
	if (e != 0) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		return e < 0 && e > -1000 ? CDS_EXIT_SOFTWARE : cds_error_exit_code(e);
	}
	return CDS_EXIT_OK;
}
