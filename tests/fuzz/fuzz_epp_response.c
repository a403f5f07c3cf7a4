/* libFuzzer target: parsing what an EPP server sends (responses, greetings,
 * info data). */
#include <stddef.h>
#include <stdint.h>

#include "cdscan/epp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_epp_response r;
	cds_epp_parse_response((const char *)data, size, &r);
	/* <info> responses (domain, host, secDNS) read after a lost answer. */
	static struct cds_epp_info info;
	cds_epp_parse_info((const char *)data, size, &info);
	return 0;
}
