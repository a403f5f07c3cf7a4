/* libFuzzer target: CSYNC rdata (RFC 7477 §2.1) and its type bitmap
 * (RFC 4034 §4.1.2), as a nameserver may serve it.  Parsing and formatting
 * must agree: what parses must format, and the types found by the parser
 * must appear in the presentation form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_csync c;
	/* A copy of exactly size bytes, so that an over-read is caught by the
	 * sanitizer rather than hidden by libFuzzer's buffer. */
	uint8_t *rd = malloc(size ? size : 1);
	if (!rd)
		return 0;
	memcpy(rd, data, size);
	int parsed = cds_csync_parse(rd, size, &c);
	static char text[65536 * 12];
	int formatted = cds_csync_format(rd, size, text, sizeof(text));
	if (parsed == 0) {
		if (formatted != 0)
			abort(); /* parsed but not formattable */
		if (c.ns && !strstr(text, " NS"))
			abort();
		if (c.aaaa && !strstr(text, " AAAA"))
			abort();
	}
	free(rd);
	return 0;
}
