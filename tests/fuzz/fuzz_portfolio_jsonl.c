/* libFuzzer target: one line of a JSON-lines portfolio (import --domains
 * --format jsonl, src/portfolio/portfolio.c, json-c).  The input is the
 * line. */
#include "fuzz_portfolio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_portfolio_line(CDS_PORTFOLIO_JSONL, data, size);
	return 0;
}
