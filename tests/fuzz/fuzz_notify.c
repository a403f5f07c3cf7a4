/* libFuzzer target: a message sent to the daemon's NOTIFY listener (RFC
 * 1996, RFC 9859 §4), from anyone on the Internet.  The parser must never
 * read past the message, its verdict and the answer must agree (an answer
 * echoes exactly the question that parsed), and the source key must stay
 * in its 17 bytes for any prefix lengths. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_notify_req r;
	uint8_t out[CDS_NOTIFY_ANSWER_MAX];
	uint8_t *m = malloc(size ? size : 1);
	if (!m)
		return 0;
	memcpy(m, data, size); /* exactly size bytes: an over-read is caught */
	int rc = cds_notify_parse(m, size, &r);
	if (rc == CDS_RCODE_NOERROR && (r.qname[0] == '\0' || r.question_len < 5))
		abort(); /* accepted without a name */
	if (rc != CDS_NOTIFY_DROP) {
		size_t n = cds_notify_answer(&r, rc, out);
		if (n < 12 || n > sizeof(out) || (out[2] & 0x80) == 0 || (out[3] & 0xf) != rc)
			abort();
		if (r.question_len && memcmp(out + 12, m + 12, r.question_len) != 0)
			abort();
	}
	/* The source key from whatever address bytes came in. */
	struct sockaddr_in6 sa = {.sin6_family = size && (data[0] & 1) ? AF_INET6 : AF_INET};
	uint8_t key[17];
	memcpy(&sa.sin6_addr, data, size < 16 ? size : 16);
	cds_notify_source_key((struct sockaddr *)&sa, size > 1 ? data[1] : 0,
			      size > 2 ? data[2] : 0, key);
	free(m);
	return 0;
}
