/* A registrar's portfolio (cdscan import --domains): one domain per line,
 * as CSV (domain[,registry[,contact]]) or JSON lines ({"domain",
 * "registry", "ns", "ds", "contact"}), read strictly and streamed one line at a time, every bound on a
 * line a limit the caller gives (the import: section of the config). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/conf.h"
#include "cdscan/util.h"

enum cds_portfolio_format {
	CDS_PORTFOLIO_CSV = 0, /* domain[,registry[,contact]] */
	CDS_PORTFOLIO_JSONL,   /* one JSON object per line */
};

/* Longest registry profile name a line may give. */
#define CDS_PORTFOLIO_REGISTRY_MAX 63

/* Enough for 16 statuses of RFC 5731 §2.3 joined by ','. */
#define CDS_PORTFOLIO_STATUS_TEXT 800

/* What one file may cost (cdscan.yaml(5) import:). */
struct cds_portfolio_limits {
	uint32_t max_line;    /* octets of a line, its newline not counted */
	uint32_t max_ns;      /* NS names of a line */
	uint32_t max_ds;      /* DS records of a line */
	uint32_t max_domains; /* lines with a domain in a file */
};

/* One line's domain.  The arrays are owned by the entry (sized by the
 * limits at cds_portfolio_entry_init) and rewritten by every parse. */
struct cds_portfolio_entry {
	char domain[CDS_DNAME_BUFSIZE];                /* normalised, at least two labels */
	char zone[CDS_DNAME_BUFSIZE];                  /* its parent: domain less its first label */
	char registry[CDS_PORTFOLIO_REGISTRY_MAX + 1]; /* "" when the line gives none */
	/* The customer's mail address (cds_mail_address_check), "" when the
	 * line gives none: where notifications about the domain go. */
	char contact[CDS_MAIL_ADDRESS_MAX + 1];
	bool has_ns;                                   /* the line gave "ns" (jsonl) */
	bool has_ds;                                   /* the line gave "ds" (jsonl; [] is a set) */
	char (*ns)[CDS_DNAME_BUFSIZE];                 /* normalised, sorted, no duplicates */
	size_t ns_count;
	struct cds_ds *ds; /* sorted by text, no duplicates */
	size_t ds_count;
	/* The registry's statuses (RFC 5731 §2.3), joined by ',' when asked
	 * (import --from epp); "" otherwise. */
	char status[CDS_PORTFOLIO_STATUS_TEXT];
	const char *file; /* where it was read (the reader's) */
	unsigned long line;
};

/* Size the entry's arrays for limits.  Returns 0 or CDS_ENOMEM. */
int cds_portfolio_entry_init(struct cds_portfolio_entry *e,
                             const struct cds_portfolio_limits *limits);
/* Free the arrays.  Accepts a zeroed entry. */
void cds_portfolio_entry_deinit(struct cds_portfolio_entry *e);

/* Sort e's NS names and DS records and drop duplicates (after filling
 * them from elsewhere, as import --from epp does).  Returns 0. */
int cds_portfolio_entry_sort(struct cds_portfolio_entry *e);

/*
 * Parse one line (len octets, no newline; may hold NUL octets, which are
 * refused) into e.  first: the file's first line, where a CSV header
 * ("domain", "domain,registry" or "domain,registry,contact") is skipped.  Returns 1 with e filled, 0
 * for a line without a domain (empty, a "#" comment, a CSV header), or
 * CDS_EDATA with the reason in err (without file and line).
 */
int cds_portfolio_parse_line(enum cds_portfolio_format format, const char *line, size_t len,
                             bool first, const struct cds_portfolio_limits *limits,
                             struct cds_portfolio_entry *e, char *err, size_t errlen);

struct cds_portfolio_reader;

/* Open path ("-": standard input, named "stdin" in messages).  Returns 0,
 * CDS_ENOMEM, or CDS_EDATA with "FILE: reason" in err. */
int cds_portfolio_open(const char *path, enum cds_portfolio_format format,
                       const struct cds_portfolio_limits *limits, struct cds_portfolio_reader **out,
                       char *err, size_t errlen);

/*
 * The next line's domain, into *e (initialised for the same limits; its
 * file points into the reader).  Returns 1, 0 at the end, or CDS_EDATA
 * with "FILE:LINE: reason" in err (the reader is then unusable).
 */
int cds_portfolio_next(struct cds_portfolio_reader *r, struct cds_portfolio_entry *e, char *err,
                       size_t errlen);

/* Close (not standard input) and free.  Accepts NULL. */
void cds_portfolio_close(struct cds_portfolio_reader *r);

/*
 * The registry profile of e (conf's), checked: a registry the line names
 * must be a configured profile that serves the domain's TLD; a line
 * without one gets the profile whose TLD is the domain's (cds_conf_
 * registry_for), or none.  *out: the profile or NULL.  Returns 0, or
 * CDS_EDATA with "FILE:LINE: reason" in err.
 */
int cds_portfolio_registry(const struct cds_conf *conf, const struct cds_portfolio_entry *e,
                           const struct cds_registry **out, char *err, size_t errlen);
