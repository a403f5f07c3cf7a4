/* Error codes shared by every cdscan module, and their text. */
#pragma once

#include <errno.h>

/*
 * Functions return 0 or a negative code: -errno values for system errors,
 * and the project codes below (all below -1000 so that they never collide
 * with errno).  Foreign errors (getdns, libuv, OpenSSL, libpq) are translated
 * into these where they arise.
 */
enum cds_error {
	CDS_EOK = 0,
	CDS_ENOMEM = -ENOMEM,
	CDS_EINVAL = -EINVAL,
	CDS_ERANGE = -ERANGE,
	CDS_ENOENT = -ENOENT,
	CDS_ETIMEDOUT = -ETIMEDOUT, /* no answer in time (a query, a session) */

	CDS_EUSAGE = -1001,    /* command line is wrong */
	CDS_ECONFIG = -1002,   /* configuration file is wrong */
	CDS_EDATA = -1003,     /* input data (zone file, DS text) is malformed */
	CDS_EUNAVAIL = -1004,  /* a required service does not answer */
	CDS_EINTERNAL = -1005, /* a bug or an impossible state */
	CDS_ESYNTAX = -1006,   /* text does not parse */
	CDS_EDNS = -1007,      /* a DNS library call failed */
	CDS_ECRYPTO = -1008,   /* an OpenSSL call failed */
	CDS_EMISMATCH = -1009, /* a server's only answers were not for the query */
};

/* Exit codes of the process (sysexits.h values, CONTRACT.md). */
enum cds_exit {
	CDS_EXIT_OK = 0,
	CDS_EXIT_USAGE = 64,
	CDS_EXIT_DATAERR = 65,
	CDS_EXIT_UNAVAILABLE = 69,
	CDS_EXIT_SOFTWARE = 70,
	CDS_EXIT_CONFIG = 78,
};

/* Text for an error code; the returned string is static. */
const char *cds_strerror(int code);

/* The process exit code that belongs to an error code. */
int cds_error_exit_code(int code);
