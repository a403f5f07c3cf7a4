/* cdscan domain show|history|suspend|resume|approve-csync: one delegation's
 * state in the store, for people (or --json), and the operator's say over
 * its automation.  The SQL is in src/db/domain.c. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/error.h"
#include "cdscan/log.h"

/* domain history without --limit. */
#define HISTORY_DEFAULT_LIMIT 50

/* Who runs the command, for the domain's history: the user sudo was run
 * by, else the effective user. */
static const char *operator_login(void)
{
	const char *sudo = getenv("SUDO_USER");
	if (sudo && *sudo)
		return sudo;
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : NULL;
}

/* The error of a domain command, said once; its exit code. */
static int fail(const struct cds_cli *cli, int r, const char *err)
{
	if (r == CDS_ENOENT) {
		fprintf(stderr, "cdscan: %s: no delegation %s in the database\n",
			cds_cli_command_name(cli->command), cli->domain);
		return CDS_EXIT_DATAERR;
	}
	fprintf(stderr, "cdscan: %s: %s\n", cds_cli_command_name(cli->command),
		err[0] ? err : cds_strerror(r));
	return r == CDS_EDATA ? CDS_EXIT_DATAERR : cds_error_exit_code(r);
}

/* "label  item" lines, the label on the first only; "-" for none. */
static void print_list(const char *label, const struct cds_strlist *l)
{
	if (l->n == 0)
		printf("%-16s -\n", label);
	for (size_t i = 0; i < l->n; i++)
		printf("%-16s %s\n", i ? "" : label, l->v[i]);
}

static void print_state(const struct cds_db_domain *d)
{
	if (d->removed_at[0])
		printf("%-16s removed from the zone since %s\n", "state", d->removed_at);
	if (d->suspended)
		printf("%-16s suspended since %s by %s: %s\n", "automation", d->suspended_at,
		       d->suspended_by, d->suspended_reason);
	else if (d->opted_out)
		printf("%-16s opted out\n", "automation");
	else
		printf("%-16s on\n", "automation");
	printf("%-16s %s\n", "replay baseline",
	       d->baseline[0] ? d->baseline : "none (no signal is stale)");
	if (d->ds_changed_at[0])
		printf("%-16s %s (seen by import)\n", "ds changed", d->ds_changed_at);
	if (d->csync_approved)
		printf("%-16s serial %u approved, for the next scan\n", "csync approval",
		       (unsigned)d->csync_approved_serial);
	print_list("failing", &d->failing);
	print_list("excluded", &d->excluded);
	if (d->failures)
		printf("%-16s %s%s (retrying after %d failed scans)\n", "next scan",
		       d->next_scan_at, d->due ? ", due now" : "", d->failures);
	else
		printf("%-16s %s%s\n", "next scan", d->next_scan_at, d->due ? ", due now" : "");
}

static int show(const struct cds_cli *cli, const struct cds_conf *conf, struct cds_db *db)
{
	char err[600] = "";
	uint64_t unreachable_s = conf->policy.unreachable_after_ms / 1000;
	if (cli->json) {
		char *json = NULL;
		int r = cds_db_domain_json(db, cli->domain, unreachable_s, &json, err, sizeof(err));
		if (r != 0)
			return fail(cli, r, err);
		printf("%s\n", json);
		free(json);
		return CDS_EXIT_OK;
	}
	struct cds_db_domain d;
	int r = cds_db_domain_get(db, cli->domain, unreachable_s, &d, err, sizeof(err));
	if (r == 0) {
		printf("%-16s %s (zone %s)\n", "domain", d.domain, d.zone);
		print_list("ns", &d.ns);
		print_list("ds", &d.ds);
		print_list("glue", &d.glue);
		print_state(&d);
		print_list("verdicts", &d.verdicts);
		print_list("change sets", &d.changes);
	}
	cds_db_domain_clear(&d);
	return r ? fail(cli, r, err) : CDS_EXIT_OK;
}

static int history(const struct cds_cli *cli, struct cds_db *db)
{
	char err[600] = "";
	size_t limit = cli->has_limit ? (size_t)cli->limit : HISTORY_DEFAULT_LIMIT;
	char *json = NULL;
	struct cds_db_history h = {0};
	int r = cds_db_domain_history(db, cli->domain, limit, &h, cli->json ? &json : NULL, err,
				      sizeof(err));
	if (r != 0)
		return fail(cli, r, err);
	if (json)
		printf("%s\n", json);
	for (size_t i = 0; i < h.count; i++)
		printf("%s  %-19s %s\n", h.rows[i].at, h.rows[i].what, h.rows[i].text);
	if (!json && h.count == 0)
		printf("%s: nothing yet\n", cli->domain);
	free(json);
	cds_db_history_free(&h);
	return CDS_EXIT_OK;
}

static int suspend(const struct cds_cli *cli, struct cds_db *db)
{
	char err[600] = "";
	struct cds_db_domain_change c;
	const char *reason = cli->reason ? cli->reason : "suspended by the operator";
	int r = cds_db_domain_suspend(db, cli->domain, CDS_ACTOR_OPERATOR, reason,
				      operator_login(), &c, err, sizeof(err));
	if (r != 0)
		return fail(cli, r, err);
	if (c.changed) {
		cds_log_notice("%s suspended (%s)", cli->domain, reason);
		printf("%s suspended: %s\n", cli->domain, reason);
	} else {
		printf("%s is already suspended (since %s, by %s: %s): nothing changed\n",
		       cli->domain, c.since, c.by, c.reason);
	}
	return CDS_EXIT_OK;
}

static int resume(const struct cds_cli *cli, struct cds_db *db)
{
	char err[600] = "";
	struct cds_db_domain_change c;
	const char *reason = cli->reason ? cli->reason : "resumed by the operator";
	int r = cds_db_domain_resume(db, cli->domain, reason, operator_login(), &c, err,
				     sizeof(err));
	if (r != 0)
		return fail(cli, r, err);
	if (c.changed) {
		cds_log_notice("%s resumed (%s)", cli->domain, reason);
		printf("%s resumed: %s; it is due for a scan now\n", cli->domain, reason);
	} else {
		printf("%s is not suspended: nothing changed\n", cli->domain);
	}
	return CDS_EXIT_OK;
}

static int approve_csync(const struct cds_cli *cli, struct cds_db *db)
{
	char err[600] = "", why[400] = "";
	struct cds_db_domain_change c;
	int r = cds_db_domain_approve_csync(db, cli->domain, operator_login(), &c, why,
					    sizeof(why), err, sizeof(err));
	if (r == CDS_EDATA) {
		fprintf(stderr, "cdscan: domain approve-csync: %s: %s\n", cli->domain, why);
		return CDS_EXIT_DATAERR;
	}
	if (r != 0)
		return fail(cli, r, err);
	cds_log_notice("%s: CSYNC serial %u approved", cli->domain, (unsigned)c.serial);
	printf("%s: CSYNC serial %u approved; the domain is due for a scan now, which acts on it "
	       "once if it still validates\n",
	       cli->domain, (unsigned)c.serial);
	return CDS_EXIT_OK;
}

int cds_cmd_domain(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct cds_db *db;
	char err[600];
	int r = cds_db_connect(conf->database, &db, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "cdscan: %s: %s\n", cds_cli_command_name(cli->command), err);
		return cds_error_exit_code(r);
	}
	switch (cli->command) {
	case CDS_CMD_DOMAIN_SHOW:
		r = show(cli, conf, db);
		break;
	case CDS_CMD_DOMAIN_HISTORY:
		r = history(cli, db);
		break;
	case CDS_CMD_DOMAIN_SUSPEND:
		r = suspend(cli, db);
		break;
	case CDS_CMD_DOMAIN_RESUME:
		r = resume(cli, db);
		break;
	default:
		r = approve_csync(cli, db);
	}
	cds_db_close(db);
	return r;
}
