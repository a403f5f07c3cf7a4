/* The PostgreSQL store (libpq, parameterised queries only): connection,
 * forward-only migrations, and the import of a parent zone's delegations.
 * PGconn stays inside src/db. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One migration, compiled in from sql/NNNN_name.sql. */
struct cds_migration {
	int version;
	const char *name;
	const char *sql;
};

/* All migrations, in version order (generated). */
extern const struct cds_migration cds_migrations[];
extern const size_t cds_migration_count;

struct cds_db;

/* Connect.  Returns 0, or CDS_EUNAVAIL with the reason in err (the
 * connection string is never in it: it may hold a password). */
int cds_db_connect(const char *conninfo, struct cds_db **out, char *err, size_t errlen);

/* Close.  Accepts NULL. */
void cds_db_close(struct cds_db *db);

/*
 * Apply the migrations the database lacks, each in its own transaction,
 * serialised against concurrent runs.  *from and *to get the versions
 * before and after.  Returns 0, CDS_EDATA (the database is newer than this
 * binary) or CDS_EUNAVAIL, with err set.
 */
int cds_db_migrate(struct cds_db *db, int *from, int *to, char *err, size_t errlen);

/* What an import did. */
struct cds_import_counts {
	uint64_t records;     /* NS, DS, A and AAAA records read */
	uint64_t delegations; /* delegations in the file */
	uint64_t inserted;    /* new in the table */
	uint64_t changed;     /* NS, DS or glue differ from the table */
	uint64_t unchanged;
	uint64_t removed;     /* in the table, no longer in the file: marked */
	char zone[256];       /* the parent zone (apex) */
};

/*
 * Import the delegations of a parent zone file: stream its NS, DS, A and
 * AAAA records into a staging table (COPY), then merge set-based in one
 * transaction (insert new, update changed, mark removed).  origin: for a
 * file without $ORIGIN, may be NULL.  Returns 0, CDS_EDATA (the file; err
 * names file:line) or CDS_EUNAVAIL (the database).
 */
int cds_db_import_zone(struct cds_db *db, const char *path, const char *origin,
		       struct cds_import_counts *out, char *err, size_t errlen);
