/* libFuzzer target: the Report-Channel option (RFC 9567 §5) in an answer
 * from a child's nameserver, anyone on the Internet.  The parser must
 * never read past the message; an agent it accepts must be a normalised
 * name within the length limit, not the root, and the report QNAME built
 * with it must be a name cdscan can send (255 octets at most). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_agent(const uint8_t *m, size_t size, size_t max_len)
{
	char agent[CDS_DNAME_BUFSIZE], norm[CDS_DNAME_BUFSIZE], qname[CDS_DNAME_BUFSIZE];
	uint8_t wire[256];
	int r = cds_answer_report_channel(m, size, max_len, agent);
	if (r != 0) {
		if (agent[0] != '\0')
			abort(); /* no agent when refused */
		return;
	}
	if (cds_dname_normalize(agent, norm) != 0 || strcmp(norm, agent) != 0 ||
	    strcmp(agent, ".") == 0)
		abort();
	int wl = cds_dname_to_wire(agent, wire);
	if (wl < 2 || (size_t)wl > max_len)
		abort();
	r = cds_error_report_qname("child.test.", CDS_T_CDS, 7, agent, qname);
	if (r == 0 && (cds_dname_to_wire(qname, wire) < 0 || strlen(qname) + 1 > 255))
		abort();
	if (r != 0 && r != CDS_ERANGE && r != CDS_EINVAL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m = malloc(size ? size : 1);
	if (!m)
		return 0;
	memcpy(m, data, size); /* exactly size bytes: an over-read is caught */
	check_agent(m, size, 128);
	check_agent(m, size, 255);
	check_agent(m, size, 2);
	free(m);
	return 0;
}
