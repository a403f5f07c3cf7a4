/* libFuzzer target: the RFC 9615 trust path (src/dns/trust.c), fed through
 * the interface its unit tests use: a resolver played in the same loop
 * (127.0.0.1, a kernel-chosen port) that answers each question with the
 * fuzzer's messages, through the real transport.
 *
 * Input: the name looked up, NUL; a mode byte; the trust anchor's owner,
 * NUL, and its DS in presentation form, NUL; then answers, each the owner
 * name asked for, NUL, the type (2 octets), a length (2 octets) and that
 * many octets of message without ID, QDCOUNT and question: flags (2),
 * ANCOUNT, NSCOUNT, ARCOUNT (2 each), then the sections.  The resolver
 * rebuilds the message around the question it was asked (so compression
 * pointers to offset 12 point at the question name, as in the message the
 * answer was cut from), gives each answer for its (name, type) once in
 * input order and the last one again after that, and REFUSED to anything
 * else.  Mode bit 0: cds_trust_zone_of instead of cds_trust_rrset; bit 1:
 * CDNSKEY instead of CDS; bits 2-7: after the first look-up the clock
 * moves on by that many times 97 s and the same look-up runs again, on
 * the cache (expired entries asked again).  With the clock not moved, the
 * second answer must equal the first: the cache may not change a verdict.
 * The clock (CDSCAN_NOW) starts at 1800000000 (2027-01-15T08:00:00Z);
 * make_trust_seeds writes seeds valid then. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "cdscan/dns.h"
#include "cdscan/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_TIME ((time_t)1800000000)
#define MAX_ANSWERS 64
#define MAX_MESSAGE 65000

/* One answer of the input. */
struct canned {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	const uint8_t *body;
	size_t len;
	bool used;
};

struct world {
	uv_loop_t loop;
	uv_udp_t udp;
	struct cds_addr addr;
	struct canned answers[MAX_ANSWERS];
	size_t n;
	int calls;
	enum cds_dnssec_status status;
	bool missing;
	int error;
};

static struct world w;

/* The question of a query: its name as text and type; false when
 * malformed. */
static bool question(const uint8_t *m, size_t len, char *name, uint16_t *type, size_t *end)
{
	size_t o = 12, out = 0;
	while (o < len && m[o]) {
		size_t l = m[o++];
		if (l > 63 || o + l > len || out + l + 2 > CDS_DNAME_BUFSIZE)
			return false;
		for (size_t k = 0; k < l; k++)
			name[out++] = (char)m[o++];
		name[out++] = '.';
	}
	if (o + 5 > len)
		return false;
	if (out == 0)
		name[out++] = '.';
	name[out] = '\0';
	*type = (uint16_t)(m[o + 1] << 8 | m[o + 2]);
	*end = o + 5;
	return true;
}

/* The answer for (name, type): the first not given yet, else the last. */
static struct canned *pick(const char *name, uint16_t type)
{
	struct canned *last = NULL;
	for (size_t i = 0; i < w.n; i++) {
		struct canned *c = &w.answers[i];
		if (c->type != type || strcasecmp(c->name, name) != 0)
			continue;
		if (!c->used) {
			c->used = true;
			return c;
		}
		last = c;
	}
	return last;
}

static void send_cb(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

static void alloc_cb(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	static char buf[4096];
	(void)h;
	(void)s;
	*b = uv_buf_init(buf, sizeof(buf));
}

/* ID and question from the query, the rest from the input (or REFUSED). */
static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	const uint8_t *q = (const uint8_t *)buf->base;
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	size_t qend;
	(void)h;
	(void)flags;
	if (n < 17 || !from || !question(q, (size_t)n, name, &type, &qend))
		return;
	const struct canned *c = pick(name, type);
	size_t body = c && c->len >= 8 ? c->len - 8 : 0;
	uv_udp_send_t *req = malloc(sizeof(*req) + qend + body);
	if (!req)
		return;
	uint8_t *m = (uint8_t *)(req + 1);
	memcpy(m, q, qend);
	m[2] = 0x80;
	m[3] = 5; /* REFUSED */
	memset(m + 6, 0, 6);
	if (c && c->len >= 8) {
		m[2] = c->body[0] | 0x80;
		m[3] = c->body[1];
		memcpy(m + 6, c->body + 2, 6);
		memcpy(m + qend, c->body + 8, body);
	}
	uv_buf_t b = uv_buf_init((char *)m, (unsigned)(qend + body));
	if (uv_udp_send(req, &w.udp, &b, 1, from, send_cb) != 0)
		free(req);
}

static bool world_up(void)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);
	if (uv_loop_init(&w.loop) != 0 || uv_ip4_addr("127.0.0.1", 0, &sin) != 0 ||
	    uv_udp_init(&w.loop, &w.udp) != 0 ||
	    uv_udp_bind(&w.udp, (const struct sockaddr *)&sin, 0) != 0)
		return false;
	uv_udp_getsockname(&w.udp, (struct sockaddr *)&w.addr.ss, &len);
	w.addr.len = (socklen_t)len;
	return uv_udp_recv_start(&w.udp, alloc_cb, recv_cb) == 0;
}

static void result_cb(const struct cds_trust_result *r, void *arg)
{
	(void)arg;
	/* What a caller reads must be readable. */
	if (r->set)
		for (size_t i = 0; i < r->set->count; i++)
			if (r->set->rdata[i].len && !r->set->rdata[i].data)
				abort();
	if (r->status == CDS_DNSSEC_SECURE && r->missing && r->set && r->set->count)
		abort(); /* missing, yet records */
	w.status = r->status;
	w.missing = r->missing;
	w.error = r->error;
	w.calls++;
	if (getenv("FUZZ_TRUST_VERBOSE")) /* what a seed reaches */
		fprintf(stderr, "status %d missing %d error %d zone %s: %s\n", r->status, r->missing,
			r->error, r->zone ? r->zone : "-", r->why ? r->why : "");
}

static void set_clock(time_t t)
{
	char txt[32];
	cds_time_format(t, txt, sizeof(txt));
	setenv("CDSCAN_NOW", txt, 1);
}

/* One look-up, run to its end. */
static bool look_up(struct cds_trust *t, const char *qname, unsigned mode)
{
	w.calls = 0;
	int r = mode & 1 ? cds_trust_zone_of(t, qname, result_cb, NULL)
			 : cds_trust_rrset(t, qname, mode & 2 ? CDS_T_CDNSKEY : CDS_T_CDS, result_cb,
					   NULL);
	if (r != 0)
		return false;
	while (w.calls == 0)
		uv_run(&w.loop, UV_RUN_ONCE);
	if (w.calls != 1)
		abort(); /* the callback runs exactly once */
	return true;
}

/* A NUL-terminated text at data[*off]; NULL when there is none. */
static const char *text(const uint8_t *data, size_t size, size_t *off)
{
	const uint8_t *nul = *off < size ? memchr(data + *off, 0, size - *off) : NULL;
	if (!nul)
		return NULL;
	const char *s = (const char *)data + *off;
	*off = (size_t)(nul - data) + 1;
	return s;
}

/* The answers after the header. */
static void read_answers(const uint8_t *data, size_t size, size_t off)
{
	w.n = 0;
	while (w.n < MAX_ANSWERS) {
		const char *name = text(data, size, &off);
		if (!name || off + 4 > size)
			break;
		struct canned *c = &w.answers[w.n];
		size_t len = (size_t)(data[off + 2] << 8 | data[off + 3]);
		c->type = (uint16_t)(data[off] << 8 | data[off + 1]);
		off += 4;
		if (len > size - off)
			len = size - off;
		if (len > MAX_MESSAGE)
			len = MAX_MESSAGE;
		if (cds_dname_normalize(name, c->name) != 0)
			snprintf(c->name, sizeof(c->name), ".");
		c->body = data + off;
		c->len = len;
		c->used = false;
		off += len;
		w.n++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		if (!world_up())
			abort();
		ready = true;
	}
	size_t off = 0;
	char qname[CDS_DNAME_BUFSIZE] = "_dsboot.child.test._signal.ns1.prov.test.";
	char owner[CDS_DNAME_BUFSIZE] = "test.";
	const char *q = text(data, size, &off);
	unsigned mode = off < size ? data[off++] : 0;
	const char *a_owner = text(data, size, &off), *a_ds = text(data, size, &off);
	struct cds_ds ds;
	if (q && cds_dname_normalize(q, qname) != 0)
		return 0;
	if (a_owner && cds_dname_normalize(a_owner, owner) != 0)
		return 0;
	if (!a_ds || cds_ds_parse(a_ds, &ds) != 0)
		return 0;
	read_answers(data, size, off);

	struct cds_transport_opts o = {.max_inflight = 64, .per_server_inflight = 64,
				       .per_server_qps = 1000000, .timeout_ms = 500,
				       .retries = 0, .edns_size = 4096};
	struct cds_transport *tr = NULL;
	if (cds_transport_new(&w.loop, &o, &tr) != 0)
		abort();
	struct cds_trust *t = cds_trust_new(&w.loop, tr, &w.addr);
	if (!t)
		abort();
	cds_trust_set_anchor(t, owner, &ds, 1);
	set_clock(BASE_TIME);
	if (look_up(t, qname, mode)) {
		enum cds_dnssec_status first = w.status;
		bool missing = w.missing;
		int error = w.error;
		set_clock(BASE_TIME + (time_t)(mode >> 2) * 97);
		if (look_up(t, qname, mode) && mode >> 2 == 0 &&
		    (w.status != first || w.missing != missing || w.error != error))
			abort(); /* the cache changed the verdict */
	}
	/* Answers still in flight (asked for by a look-up that ended without
	 * them) come in before the cache they go to is freed. */
	while (cds_transport_pending(tr) > 0)
		uv_run(&w.loop, UV_RUN_ONCE);
	cds_trust_free(t);
	cds_transport_free(tr);
	uv_run(&w.loop, UV_RUN_NOWAIT); /* the transport's handles close */
	unsetenv("CDSCAN_NOW");
	return 0;
}
