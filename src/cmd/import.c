/* cdscan import --domains: a registrar's portfolio into the delegation
 * table (the portfolio reader, the registry profiles, the store). */
#include <stdio.h>
#include <time.h>

#include "cdscan/cmd.h"
#include "cdscan/db.h"
#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/portfolio.h"

/* The reader behind cds_db_import_domains' callback. */
struct feed {
	const struct cds_conf *conf;
	struct cds_portfolio_reader *reader;
	struct cds_portfolio_entry e;
};

static int next_domain(void *arg, struct cds_db_portfolio_row *d, char *err, size_t errlen)
{
	struct feed *f = arg;
	const struct cds_registry *reg;
	int r = cds_portfolio_next(f->reader, &f->e, err, errlen);
	if (r != 1)
		return r;
	if ((r = cds_portfolio_registry(f->conf, &f->e, &reg, err, errlen)) != 0)
		return r;
	/* Without --from, the file is the whole truth: a line that does not
	 * say its NS and DS sets (an empty "ds" says: unsigned) cannot be
	 * taken, or an absent "ds" would read as a DS set removed. */
	if (!f->e.has_ns || !f->e.has_ds) {
		snprintf(err, errlen,
		         "%s:%lu: %s: no \"%s\" (give NS and DS in the line, as "
		         "jsonl, or read them with --from dns|epp)",
		         f->e.file, f->e.line, f->e.domain, f->e.has_ns ? "ds" : "ns");
		return CDS_EDATA;
	}
	*d = (struct cds_db_portfolio_row){
	    .domain = f->e.domain,
	    .zone = f->e.zone,
	    .registry = reg ? reg->name : NULL,
	    .ns = (const char(*)[CDS_DNAME_BUFSIZE])f->e.ns,
	    .ns_count = f->e.ns_count,
	    .ds = f->e.ds,
	    .ds_count = f->e.ds_count,
	    .file = f->e.file,
	    .line = f->e.line,
	};
	return 1;
}

static void print_counts(const struct cds_cli *cli, const struct cds_import_counts *c, double s)
{
	printf("imported %s: %llu domains in %llu zones: %llu delegations: %llu inserted, "
	       "%llu changed, %llu unchanged, %llu removed, %llu suspended (%.1f s)\n",
	       cli->domains_file, (unsigned long long)c->records, (unsigned long long)c->zones,
	       (unsigned long long)c->delegations, (unsigned long long)c->inserted,
	       (unsigned long long)c->changed, (unsigned long long)c->unchanged,
	       (unsigned long long)c->removed, (unsigned long long)c->suspended, s);
	if (c->ds_outside || c->ds_cdscan)
		cds_log_info("import: %llu DS sets changed outside cdscan (replay baseline set to "
		             "now), %llu as cdscan's change sets proposed (baseline kept)",
		             (unsigned long long)c->ds_outside, (unsigned long long)c->ds_cdscan);
}

int cds_cmd_import_domains(const struct cds_cli *cli, const struct cds_conf *conf)
{
	struct cds_portfolio_limits lim = {conf->import.max_line, conf->import.max_ns,
	                                   conf->import.max_ds, conf->import.max_domains};
	struct feed f = {.conf = conf};
	struct cds_db *db = NULL;
	struct cds_import_counts c;
	struct timespec t0, t1;
	char err[600];
	int r;
	if (cli->import_from != CDS_IMPORT_FROM_NONE) {
		fprintf(stderr, "cdscan: import: --from is not implemented in this build yet\n");
		return CDS_EXIT_USAGE;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((r = cds_portfolio_entry_init(&f.e, &lim)) != 0 ||
	    (r = cds_portfolio_open(cli->domains_file,
	                            cli->import_format == CDS_IMPORT_JSONL ? CDS_PORTFOLIO_JSONL
	                                                                   : CDS_PORTFOLIO_CSV,
	                            &lim, &f.reader, err, sizeof(err))) != 0 ||
	    (r = cds_db_connect(conf->database, &db, err, sizeof(err))) != 0 ||
	    (r = cds_db_import_domains(db, next_domain, &f, &c, err, sizeof(err))) != 0) {
		if (r == CDS_ENOMEM)
			snprintf(err, sizeof(err), "out of memory");
		fprintf(stderr, "cdscan: import: %s\n", err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_counts(cli, &c,
	             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (c.suspended)
		cds_log_warning("import: %llu domains suspended: their DS set was removed outside "
		                "cdscan",
		                (unsigned long long)c.suspended);
out:
	cds_db_close(db);
	cds_portfolio_close(f.reader);
	cds_portfolio_entry_deinit(&f.e);
	return r == 0 ? CDS_EXIT_OK : cds_error_exit_code(r);
}
