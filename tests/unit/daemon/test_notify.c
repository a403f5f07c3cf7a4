/* The NOTIFY intake's pure parts: the message, the answer, the buckets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cdscan/notify.h"

/* A message: header (id 0x1234, flags), qdcount, then the question. */
static size_t message(uint8_t *m, uint16_t flags, uint16_t qdcount, const char *wire_name,
		      size_t name_len, uint16_t qtype, uint16_t qclass)
{
	memset(m, 0, 12);
	m[0] = 0x12;
	m[1] = 0x34;
	m[2] = (uint8_t)(flags >> 8);
	m[3] = (uint8_t)flags;
	m[5] = (uint8_t)qdcount;
	memcpy(m + 12, wire_name, name_len);
	size_t o = 12 + name_len;
	m[o++] = (uint8_t)(qtype >> 8);
	m[o++] = (uint8_t)qtype;
	m[o++] = (uint8_t)(qclass >> 8);
	m[o++] = (uint8_t)qclass;
	return o;
}

#define NOTIFY_FLAGS (4 << 11)
#define NAME "\x07" "example" "\x04" "test" "\x00"

static void test_parse_ok(void **state)
{
	uint8_t m[512], out[CDS_NOTIFY_ANSWER_MAX];
	struct cds_notify_req r;
	size_t n = message(m, NOTIFY_FLAGS | 0x0100 /* RD */, 1, "\x07" "ExAmple" "\x04" "test",
			   14, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_NOERROR);
	assert_string_equal(r.qname, "example.test.");
	assert_int_equal(r.qtype, CDS_T_CDS);
	size_t a = cds_notify_answer(&r, CDS_RCODE_NOERROR, out);
	assert_int_equal(a, n);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x34);
	assert_int_equal(out[2], 0x80 | (4 << 3) | 0x01); /* QR, NOTIFY, RD echoed */
	assert_int_equal(out[3], 0);                      /* RA clear, NOERROR */
	assert_int_equal(out[5], 1);
	assert_memory_equal(out + 12, m + 12, n - 12);    /* the question as asked */
	for (uint16_t t = CDS_T_CDNSKEY; t <= CDS_T_CSYNC; t += 2) {
		n = message(m, NOTIFY_FLAGS, 1, NAME, 14, t, 1);
		assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_NOERROR);
	}
}

static void test_parse_rejects(void **state)
{
	uint8_t m[512], out[CDS_NOTIFY_ANSWER_MAX];
	struct cds_notify_req r;
	size_t n = message(m, NOTIFY_FLAGS, 1, NAME, 14, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, 11, &r), CDS_NOTIFY_DROP);          /* runt */
	m[2] |= 0x80;
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_NOTIFY_DROP);           /* a response */
	n = message(m, 0 /* QUERY */, 1, NAME, 14, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_NOTIMP);
	assert_int_equal(cds_notify_answer(&r, CDS_RCODE_NOTIMP, out), 12);     /* no question */
	assert_int_equal(out[3] & 0xf, CDS_RCODE_NOTIMP);
	n = message(m, NOTIFY_FLAGS, 2, NAME, 14, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_FORMERR);         /* 2 questions */
	n = message(m, NOTIFY_FLAGS, 1, NAME, 14, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n - 1, &r), CDS_RCODE_FORMERR);     /* cut short */
	n = message(m, NOTIFY_FLAGS, 1, "\xc0\x0c", 2, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_FORMERR);         /* pointer */
	n = message(m, NOTIFY_FLAGS, 1, NAME, 14, CDS_T_SOA, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_REFUSED);         /* SOA */
	n = message(m, NOTIFY_FLAGS, 1, NAME, 14, CDS_T_CDS, 3);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_REFUSED);         /* CH */
	n = message(m, NOTIFY_FLAGS, 1, "\x03" "a b" "\x00", 5, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_REFUSED);         /* no host name */
	assert_int_equal(cds_notify_answer(&r, CDS_RCODE_REFUSED, out), n);      /* echoed */
}

/* The longest name a question may hold is 255 octets with its root label;
 * one more is malformed (found by fuzz_notify: a 256-octet name was
 * echoed into an answer buffer sized for 255). */
static void test_name_length(void **state)
{
	uint8_t name[300], m[600], out[CDS_NOTIFY_ANSWER_MAX];
	struct cds_notify_req r;
	size_t o = 0;
	for (int i = 0; i < 4; i++) { /* 4 x (1 + 62) = 252, + "a" label 2 = 254, + root */
		name[o++] = 62;
		memset(name + o, 'a', 62);
		o += 62;
	}
	name[o++] = 1;
	name[o++] = 'b';
	name[o++] = 0;
	assert_int_equal(o, 255);
	size_t n = message(m, NOTIFY_FLAGS, 1, (const char *)name, o, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_NOERROR);
	assert_int_equal(cds_notify_answer(&r, CDS_RCODE_NOERROR, out), n);
	name[o - 3] = 2; /* the last label one octet longer: 256 */
	name[o - 1] = 'c';
	name[o++] = 0;
	n = message(m, NOTIFY_FLAGS, 1, (const char *)name, o, CDS_T_CDS, 1);
	assert_int_equal(cds_notify_parse(m, n, &r), CDS_RCODE_FORMERR);
	assert_int_equal(cds_notify_answer(&r, CDS_RCODE_FORMERR, out), 12);
}

static void test_buckets(void **state)
{
	struct cds_buckets *b = cds_buckets_new(2.0, 3, 2);
	assert_non_null(b);
	for (int i = 0; i < 3; i++)
		assert_true(cds_buckets_take(b, "a", 1, 10.0));
	assert_false(cds_buckets_take(b, "a", 1, 10.0));   /* burst used */
	assert_true(cds_buckets_take(b, "b", 1, 10.0));    /* another key has its own */
	assert_false(cds_buckets_take(b, "a", 1, 10.4));   /* 0.8 of a token */
	assert_true(cds_buckets_take(b, "a", 1, 10.5));    /* one: 2 per second */
	assert_false(cds_buckets_take(b, "a", 1, 9.0));    /* the clock going back gives none */
	assert_true(cds_buckets_take(b, "c", 1, 10.5));    /* table full: "b" forgotten, */
	assert_int_equal(cds_buckets_count(b), 2);         /* never more than max_keys */
	assert_false(cds_buckets_take(b, "a", 1, 10.5));   /* "a" was used: kept */
	assert_true(cds_buckets_take(b, "a", 1, 100.0));   /* refilled, to the burst only: */
	assert_true(cds_buckets_take(b, "a", 1, 100.0));
	assert_true(cds_buckets_take(b, "a", 1, 100.0));
	assert_false(cds_buckets_take(b, "a", 1, 100.0));
	cds_buckets_free(b);
}

static void test_source_key(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, b = a, c = a;
	struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = x;
	uint8_t ka[17], kb[17], kc[17], kx[17], ky[17];
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.200", &b.sin_addr);
	inet_pton(AF_INET, "192.0.3.1", &c.sin_addr);
	inet_pton(AF_INET6, "2001:db8:1:ff00::1", &x.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:ff7f::9", &y.sin6_addr);
	size_t n = cds_notify_source_key((struct sockaddr *)&a, 24, 56, ka);
	assert_int_equal(n, 5);
	cds_notify_source_key((struct sockaddr *)&b, 24, 56, kb);
	cds_notify_source_key((struct sockaddr *)&c, 24, 56, kc);
	assert_memory_equal(ka, kb, n);                    /* one /24 */
	assert_memory_not_equal(ka, kc, n);
	cds_notify_source_key((struct sockaddr *)&b, 32, 56, kb);
	assert_memory_not_equal(ka, kb, n);                /* /32: each its own */
	n = cds_notify_source_key((struct sockaddr *)&x, 24, 56, kx);
	assert_int_equal(n, 17);
	cds_notify_source_key((struct sockaddr *)&y, 24, 56, ky);
	assert_memory_equal(kx, ky, n);                    /* one /56 */
	cds_notify_source_key((struct sockaddr *)&y, 24, 64, ky);
	assert_memory_not_equal(kx, ky, n);
	/* IPv4 senders on a dual-stack socket are their IPv4 /24s (found in
	 * review: all of them shared the /56 of ::ffff:0:0). */
	struct sockaddr_in6 m1 = {.sin6_family = AF_INET6}, m2 = m1;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m1.sin6_addr);
	inet_pton(AF_INET6, "::ffff:198.51.100.7", &m2.sin6_addr);
	n = cds_notify_source_key((struct sockaddr *)&m1, 24, 56, kx);
	assert_int_equal(n, 5);
	assert_memory_equal(kx, ka, n);                    /* = 192.0.2.1's key */
	cds_notify_source_key((struct sockaddr *)&m2, 24, 56, ky);
	assert_memory_not_equal(kx, ky, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_source_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
