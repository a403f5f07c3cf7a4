/* cdscan db init and cdscan import: the database side of the command line. */
#include <stdio.h>
#include <time.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/error.h"
#include "cdscan/log.h"

static int connect_or_report(const struct cds_conf *conf, struct cds_db **db)
{
	char err[600];
	int r = cds_db_connect(conf->database, db, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "cdscan: %s\n", err);
	return r;
}

int cds_cmd_db_init(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct cds_db *db;
	char err[600];
	int from = 0, to = 0;
	int r = connect_or_report(conf, &db);
	if (r != 0)
		return cds_error_exit_code(r);
	r = cds_db_migrate(db, &from, &to, err, sizeof(err));
	cds_db_close(db);
	if (r != 0) {
		fprintf(stderr, "cdscan: db init: %s\n", err);
		return cds_error_exit_code(r);
	}
	if (from == to)
		printf("database schema is up to date (version %d)\n", to);
	else
		printf("database schema migrated from version %d to %d\n", from, to);
	return CDS_EXIT_OK;
}

int cds_cmd_import(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct cds_db *db;
	struct cds_import_counts c;
	char err[600];
	struct timespec t0, t1;
	if (cli->domains_file)
		return cds_cmd_import_domains(cli, conf);
	int r = connect_or_report(conf, &db);
	if (r != 0)
		return cds_error_exit_code(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = cds_db_import_zone(db, cli->zone_file, cli->has_origin ? cli->origin : NULL, &c, err,
			       sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cds_db_close(db);
	if (r != 0) {
		fprintf(stderr, "cdscan: import: %s\n", err);
		return cds_error_exit_code(r);
	}
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("imported %s from %s: %llu delegations: %llu inserted, %llu changed, "
	       "%llu unchanged, %llu removed, %llu suspended (%llu records, %.1f s)\n",
	       c.zone, cli->zone_file, (unsigned long long)c.delegations,
	       (unsigned long long)c.inserted, (unsigned long long)c.changed,
	       (unsigned long long)c.unchanged, (unsigned long long)c.removed,
	       (unsigned long long)c.suspended, (unsigned long long)c.records, s);
	if (c.ds_outside || c.ds_cdscan)
		cds_log_info("import: %llu DS sets changed outside cdscan (replay baseline set to "
			     "now), %llu as cdscan's change sets proposed (baseline kept)",
			     (unsigned long long)c.ds_outside, (unsigned long long)c.ds_cdscan);
	if (c.suspended)
		cds_log_warning("import: %llu domains suspended: their DS set was removed outside "
				"cdscan",
				(unsigned long long)c.suspended);
	return CDS_EXIT_OK;
}
