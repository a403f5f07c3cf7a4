/* RFC 9859 NOTIFY intake: the message from the wire, the answer, and the
 * token buckets that keep one source, one domain or everyone from costing
 * more than the configuration allows.  No sockets here (listener: daemon.h);
 * every function is a pure function of its input and the clock it is
 * given, so that the parser can be fuzzed and the limits unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cdscan/dns.h"

/* DNS header values the intake uses (RFC 1035 §4.1.1, RFC 1996 §3). */
#define CDS_OPCODE_NOTIFY 4
#define CDS_RCODE_NOERROR 0
#define CDS_RCODE_FORMERR 1
#define CDS_RCODE_NOTIMP 4
#define CDS_RCODE_REFUSED 5
#define CDS_RCODE_NOTAUTH 9
/* Not an rcode: no answer at all (a response, a runt, a rate-limited
 * source). */
#define CDS_NOTIFY_DROP (-1)

/* The largest answer: the header and an echoed question. */
#define CDS_NOTIFY_ANSWER_MAX (12 + 255 + 4)

/* A NOTIFY as parsed (cds_notify_parse). */
struct cds_notify_req {
	uint16_t id;
	uint16_t flags;                /* as received (opcode, RD are echoed) */
	uint16_t qtype, qclass;
	char qname[CDS_DNAME_BUFSIZE]; /* normalised; "" if it did not parse */
	const uint8_t *question;       /* the question's wire form, to echo */
	size_t question_len;           /* 0: none to echo */
};

/*
 * Parse a message sent to the listener.  Returns the rcode to answer with
 * or CDS_NOTIFY_DROP:
 *  - DROP: shorter than a header, or a response (QR set: answering it
 *    could start a loop between two listeners);
 *  - NOTIMP: an opcode other than NOTIFY;
 *  - FORMERR: not exactly one question, or a question that does not parse
 *    (compression in it, past the end);
 *  - REFUSED: class not IN, a type other than CDS, CDNSKEY or CSYNC
 *    (RFC 9859 §4: SOA NOTIFYs are for secondaries, not for a parent), or
 *    a name no delegation can have (octets a host name cannot hold);
 *  - NOERROR: a NOTIFY(CDS|CDNSKEY|CSYNC) for req->qname, which the caller
 *    still has to find in its table.
 * req->question points into wire.
 */
int cds_notify_parse(const uint8_t *wire, size_t len, struct cds_notify_req *req);

/* The answer to req (RFC 1996 §4.7: same ID and opcode, QR set, the
 * question echoed) with rcode, into out (CDS_NOTIFY_ANSWER_MAX bytes).
 * Returns its length. */
size_t cds_notify_answer(const struct cds_notify_req *req, int rcode, uint8_t *out);

/* --------------------------------------------------- token buckets --- */

/* A table of token buckets keyed by bytes (a source prefix, a domain):
 * each holds at most burst tokens and gains rate per second.  At most
 * max_keys are kept; beyond that the least recently used one is
 * forgotten, so a flood of distinct keys costs bounded memory. */
struct cds_buckets;

struct cds_buckets *cds_buckets_new(double rate, uint32_t burst, uint32_t max_keys);
void cds_buckets_free(struct cds_buckets *b);

/* Take one token from key's bucket at time now (seconds, monotonic).
 * True if there was one. */
bool cds_buckets_take(struct cds_buckets *b, const void *key, size_t keylen, double now);

/* Keys tracked now. */
size_t cds_buckets_count(const struct cds_buckets *b);

/* The key of a source address: its first prefix4 (IPv4) or prefix6 (IPv6)
 * bits and the family, into key (17 bytes).  Returns the key's length. */
size_t cds_notify_source_key(const struct sockaddr *sa, unsigned prefix4, unsigned prefix6,
			     uint8_t key[17]);
