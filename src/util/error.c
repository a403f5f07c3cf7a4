/* Text and exit codes for the error codes of include/cdscan/error.h. */
#include <string.h>

#include "cdscan/error.h"

const char *cds_strerror(int code)
{
	switch (code) {
	case CDS_EOK:
		return "success";
	case CDS_EUSAGE:
		return "usage error";
	case CDS_ECONFIG:
		return "configuration error";
	case CDS_EDATA:
		return "malformed input data";
	case CDS_EUNAVAIL:
		return "service unavailable";
	case CDS_EINTERNAL:
		return "internal error";
	case CDS_ESYNTAX:
		return "syntax error";
	case CDS_EDNS:
		return "DNS library error";
	case CDS_ECRYPTO:
		return "cryptographic library error";
	case CDS_EMISMATCH:
		return "only answers that are not for the query (wrong ID, question or QR bit)";
	default:
		if (code < 0 && code > -1000)
			return strerror(-code);
		return "unknown error";
	}
}

int cds_error_exit_code(int code)
{
	switch (code) {
	case CDS_EOK:
		return CDS_EXIT_OK;
	case CDS_EUSAGE:
		return CDS_EXIT_USAGE;
	case CDS_ECONFIG:
		return CDS_EXIT_CONFIG;
	case CDS_EDATA:
	case CDS_ESYNTAX:
		return CDS_EXIT_DATAERR;
	case CDS_EUNAVAIL:
		return CDS_EXIT_UNAVAILABLE;
	default:
		return CDS_EXIT_SOFTWARE;
	}
}
