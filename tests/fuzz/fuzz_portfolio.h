/* What both portfolio fuzz targets check of a parsed line. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/portfolio.h"

/* Small limits, so that the fuzzer reaches them. */
static const struct cds_portfolio_limits fuzz_limits = {512, 4, 4, 1000};

static void fuzz_portfolio_line(enum cds_portfolio_format format, const uint8_t *data, size_t size)
{
	static struct cds_portfolio_entry e;
	char err[512], again[CDS_DNAME_BUFSIZE];
	if (!e.ns && cds_portfolio_entry_init(&e, &fuzz_limits) != 0)
		abort();
	err[0] = '\0';
	int r = cds_portfolio_parse_line(format, (const char *)data, size, size % 2, &fuzz_limits,
	                                 &e, err, sizeof(err));
	if (r == CDS_EDATA && !err[0])
		abort(); /* an error says why */
	if (r != 1)
		return;
	/* A domain is normalised, below a TLD, in its zone. */
	if (cds_dname_normalize(e.domain, again) != 0 || strcmp(again, e.domain) != 0 ||
	    !cds_dname_is_subdomain(e.domain, e.zone) || strcmp(e.domain, e.zone) == 0 ||
	    strcmp(e.zone, ".") == 0)
		abort();
	/* A contact goes into a mail header: it passed the check, and holds
	 * no octet a header line could break at. */
	if (e.contact[0] && (cds_mail_address_check(e.contact, strlen(e.contact)) != 0 ||
			     strpbrk(e.contact, "\r\n \t\"<>,;:\\")))
		abort();
	if (e.ns_count > fuzz_limits.max_ns || e.ds_count > fuzz_limits.max_ds ||
	    (e.has_ns && e.ns_count == 0))
		abort();
	for (size_t i = 1; i < e.ns_count; i++)
		if (strcmp(e.ns[i - 1], e.ns[i]) >= 0)
			abort(); /* sorted, no duplicates */
	for (size_t i = 0; i < e.ds_count; i++) {
		char t[CDS_DS_TEXT_MAX];
		struct cds_ds d;
		cds_ds_format(&e.ds[i], t);
		if (cds_ds_parse(t, &d) != 0 || memcmp(&d, &e.ds[i], sizeof(d)) != 0)
			abort(); /* a DS stored is one its text gives back */
	}
}
