/* libFuzzer target: the zone file reader (src/zone/zonefile.c), as `import
 * --zone` and the trust anchor file use it.  Input: a zone file; a line
 * "%%" splits off a second file, "inc", beside it, so that $INCLUDE inc
 * (and $INCLUDE with an origin) is reached.  Every record read must come
 * with a normalised owner, a file and a line; the reader ends, with a
 * record count or an error, and frees what it holds. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static bool write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char mark[] = "\n%%\n";
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_zone.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	const uint8_t *split = NULL;
	for (size_t i = 0; i + 4 <= size && !split; i++)
		if (memcmp(data + i, mark, 4) == 0)
			split = data + i;
	size_t main_len = split ? (size_t)(split - data) + 1 : size;
	if (!write_file("zone", data, main_len) ||
	    !write_file("inc", split ? split + 4 : data, split ? size - main_len - 3 : 0))
		abort();
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/zone", dir);
	struct cds_zone_reader *z = NULL;
	if (cds_zone_open(path, "test.", &z, err, sizeof(err)) != 0)
		return 0;
	struct cds_zone_rr rr;
	int r;
	err[0] = '\0';
	while ((r = cds_zone_next(z, &rr, err, sizeof(err))) == 1) {
		char again[CDS_DNAME_BUFSIZE];
		if (!rr.file || rr.line == 0 || cds_dname_normalize(rr.owner, again) != 0 ||
		    strcmp(again, rr.owner) != 0)
			abort();
	}
	if (r == CDS_EDATA && !err[0])
		abort(); /* an error says what and where */
	cds_zone_close(z);
	return 0;
}
