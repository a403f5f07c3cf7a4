/* libFuzzer target: parsing what an EPP server sends (responses, greetings). */
#include <stddef.h>
#include <stdint.h>

#include "cdscan/epp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_epp_response r;
	cds_epp_parse_response((const char *)data, size, &r);
	return 0;
}
