/* libFuzzer target: one line of a CSV portfolio (import --domains
 * --format csv, src/portfolio/portfolio.c).  The input is the line. */
#include "fuzz_portfolio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_portfolio_line(CDS_PORTFOLIO_CSV, data, size);
	return 0;
}
