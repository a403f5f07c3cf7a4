/* cdscan epp send: hand pending change sets (DS and NS) to the output adapter.
 * epp-spool writes one EPP document per change set and marks it sent once
 * the file is durable; a crash in between leaves it pending, and the resend
 * rewrites the same file with the same clTRID.  json writes one change set
 * per line for registries that feed their own pipeline. */
#include <json-c/json.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/epp.h"
#include "cdscan/error.h"
#include "cdscan/log.h"

#define SEND_BATCH 100

/* One change set as a JSON line (the json adapter). */
static int json_line(FILE *out, const struct cds_db_change *c)
{
	json_object *o = json_object_new_object(), *add = json_object_new_array(),
		    *rem = json_object_new_array();
	if (!o || !add || !rem)
		return CDS_ENOMEM;
	for (size_t k = 0; k < c->nadd; k++)
		json_object_array_add(add, json_object_new_string(c->add[k]));
	for (size_t k = 0; k < c->nrem; k++)
		json_object_array_add(rem, json_object_new_string(c->rem[k]));
	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "domain", json_object_new_string(c->domain));
	json_object_object_add(o, "kind", json_object_new_string(c->kind));
	json_object_object_add(o, "action", json_object_new_string(c->action));
	json_object_object_add(o, "add", add);
	json_object_object_add(o, "rem", rem);
	json_object_object_add(o, "cltrid", json_object_new_string(c->cltrid));
	/* NS change sets: the ordered host and domain operations. */
	json_object *payload = json_tokener_parse(c->payload);
	if (payload)
		json_object_object_add(o, "payload", payload);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ferror(out) ? -EIO : 0;
}

/* Make what the json adapter wrote durable before the change sets are
 * marked sent. */
static int json_flush(FILE *out)
{
	if (fflush(out) != 0)
		return -errno;
	if (out != stdout && fsync(fileno(out)) != 0)
		return -errno;
	return 0;
}

int cds_epp_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		  const char *spool_dir, bool has_limit, uint64_t limit)
{
	struct cds_db *db;
	struct cds_db_changes ch;
	char err[700];
	uint64_t sent = 0;
	int e;

	if (!spool_dir)
		spool_dir = conf->output.spool_dir;
	if (adapter == CDS_OUTPUT_EPP_TLS) {
		bool any = false;
		for (size_t i = 0; i < conf->registry_count; i++)
			any |= conf->registries[i].epp.server != NULL;
		if (!any) {
			fprintf(stderr, "cdscan: epp send: the epp-tls adapter needs a registry "
					"profile with epp.server (registries in cdscan.yaml(5))\n");
			return CDS_EXIT_CONFIG;
		}
		if ((e = cds_db_connect(conf->database, &db, err, sizeof(err))) != 0) {
			fprintf(stderr, "cdscan: epp send: %s\n", err);
			return cds_error_exit_code(e);
		}
		uint64_t failed = 0;
		e = cds_epp_send_tls(conf, has_limit, limit, db, &sent, &failed, err, sizeof(err));
		cds_db_close(db);
		printf("%llu change sets applied by the registries, %llu failed\n",
		       (unsigned long long)sent, (unsigned long long)failed);
		if (e != 0) {
			fprintf(stderr, "cdscan: epp send: %s\n", err);
			return cds_error_exit_code(e);
		}
		return CDS_EXIT_OK;
	}
	FILE *out = NULL;
	if (adapter == CDS_OUTPUT_JSON) {
		out = strcmp(conf->output.json_file, "-") == 0 ? stdout
							       : fopen(conf->output.json_file, "a");
		if (!out) {
			fprintf(stderr, "cdscan: epp send: output.json-file %s: %s\n",
				conf->output.json_file, strerror(errno));
			return CDS_EXIT_CONFIG;
		}
	}
	struct stat st;
	if (adapter == CDS_OUTPUT_EPP_SPOOL &&
	    (stat(spool_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "cdscan: epp send: output.spool-dir %s is not a directory\n",
			spool_dir);
		return CDS_EXIT_CONFIG;
	}
	if ((e = cds_db_connect(conf->database, &db, err, sizeof(err))) != 0) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		if (out && out != stdout)
			fclose(out);
		return cds_error_exit_code(e);
	}
	for (;;) {
		size_t want = SEND_BATCH;
		if (has_limit && limit - sent < want)
			want = (size_t)(limit - sent);
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
			if (adapter == CDS_OUTPUT_JSON) {
				if ((e = json_line(out, c)) != 0)
					snprintf(err, sizeof(err), "output.json-file: %s", cds_strerror(e));
				continue;
			}
			const struct cds_registry *reg = cds_conf_registry_for(conf, c->domain);
			if (conf->registry_count && !reg) {
				/* scan makes none; one left from before the profiles
				 * changed waits for an operator. */
				cds_log_warning("change set %lld of %s: no registry profile takes %s; "
						"left pending",
						(long long)c->id, c->domain, c->domain);
				continue;
			}
			const char *dir = reg && reg->spool_dir ? reg->spool_dir : spool_dir;
			struct cds_epp_change_in in = {
				.kind = c->kind, .action = c->action, .domain = c->domain,
				.cltrid = c->cltrid, .add = (const char *const *)c->add,
				.nadd = c->nadd, .rem = (const char *const *)c->rem, .nrem = c->nrem,
				.payload = c->payload,
				.key_data = reg && reg->ds_interface == 1,
				.host_attr = reg && reg->host_model == 1};
			struct cds_epp_plan plan;
			e = cds_epp_plan(&in, &plan);
			if (e == CDS_EDATA) {
				/* This change set cannot be said in EPP (keyData from a
				 * child without CDNSKEY, a damaged payload): it fails
				 * alone, with the reason kept. */
				char why[200];
				snprintf(why, sizeof(why), "cannot be expressed in EPP%s",
					 in.key_data && strcmp(c->kind, "ds") == 0
						 ? ": the registry takes keyData and the child "
						   "publishes no CDNSKEY"
						 : "");
				cds_log_error("change set %lld of %s %s", (long long)c->id, c->domain,
					      why);
				e = cds_db_change_failed(db, c->id, why, err, sizeof(err));
				continue;
			}
			if (e != 0) {
				snprintf(err, sizeof(err), "change set %lld of %s: cannot build EPP (%s)",
					 (long long)c->id, c->domain, cds_strerror(e));
				break;
			}
			/* Host commands before the change set's own file, those
			 * after it last: a reader taking files as they appear
			 * sees them in an order the registry accepts. */
			for (size_t k = 0; k < plan.n && e == 0; k++)
				e = cds_epp_spool_write(dir, c->domain, c->id,
							plan.steps[k].suffix, plan.steps[k].xml,
							plan.steps[k].len, err, sizeof(err));
			cds_epp_plan_free(&plan);
			if (e == 0)
				e = cds_db_change_sent(db, c->id, err, sizeof(err));
			if (e == 0) {
				sent++;
				cds_log_info("change set %lld of %s spooled (clTRID %s)", (long long)c->id,
					     c->domain, c->cltrid);
			}
		}
		/* json: the lines are durable before the change sets are marked. */
		if (e == 0 && adapter == CDS_OUTPUT_JSON) {
			if ((e = json_flush(out)) != 0)
				snprintf(err, sizeof(err), "output.json-file: %s", cds_strerror(e));
			for (size_t i = 0; i < ch.count && e == 0; i++)
				if ((e = cds_db_change_sent(db, ch.items[i].id, err, sizeof(err))) == 0)
					sent++;
		}
		if (e != 0) {
			cds_db_changes_abort(db, &ch);
			break;
		}
		if ((e = cds_db_changes_commit(db, &ch, err, sizeof(err))) != 0)
			break;
	}
	cds_db_close(db);
	if (out && out != stdout)
		fclose(out);
	/* With json on standard output the count goes to the log, not into the
	 * data stream. */
	if (adapter == CDS_OUTPUT_JSON)
		cds_log_notice("%llu change sets written to %s", (unsigned long long)sent,
			       conf->output.json_file);
	else
		printf("%llu change sets spooled to %s\n", (unsigned long long)sent,
		       spool_dir);
	if (e != 0) {
		fprintf(stderr, "cdscan: epp send: %s\n", err);
		return e < 0 && e > -1000 ? CDS_EXIT_SOFTWARE : cds_error_exit_code(e);
	}
	return CDS_EXIT_OK;
}

int cds_cmd_epp_send(const struct cds_cli *cli, const struct cds_conf *conf)
{
	return cds_epp_drain(conf, cli->has_output ? cli->output : conf->output.adapter, NULL,
			     cli->has_limit, cli->limit);
}
