/* netrelay: the benchmark's network model (issue #20), a userspace relay in
 * front of the authoritative servers.  The kernel here has no netem, and
 * loopback answers in microseconds, never loses a datagram and never
 * rate-limits; the Internet does all three.  Each "provider address" the
 * relay listens on has its own round-trip time, loss, rate limit (as large
 * providers apply, RRL-like: a query over the limit gets no answer), or
 * never answers at all; queries are forwarded to an NSD backend and its
 * answers sent back from the provider address after the round-trip time.
 *
 * It also counts, per address, the queries received in every sliding
 * one-second window (kernel receive timestamps, SO_TIMESTAMPNS, so that a
 * busy relay reading a backlog late does not compress them), and reports
 * the most seen: the proof that the scanner kept every provider under its
 * limit.
 *
 * Usage: netrelay CONFIG STATS_JSON
 *   CONFIG: "seed N" and lines "ADDR BACKEND RTT_MS LOSS LIMIT DEAD"
 *   (LOSS: the probability that one exchange is lost, half of it on the
 *   query's way and half on the answer's; LIMIT: queries per second, 0 for
 *   none; DEAD 1: takes queries, never answers).  Port 53 everywhere.
 *   On SIGTERM or SIGINT it writes its counters to STATS_JSON and exits.
 *
 * Written by hand: a relay with per-address delay, loss and limits and
 * exact window counts is what no packaged tool does without netem (tc is
 * not available in this kernel); libuv runs the loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_ADDRS 1024
#define MAX_BACKENDS 8
#define BATCH 64
#define MSG_MAX 4096

/* An answer waiting for its address's round-trip time. */
struct delayed {
	struct delayed *next;
	uint64_t due_ms;
	struct sockaddr_in to;
	uint16_t len;
	uint8_t msg[];
};

struct addr {
	char text[64];
	struct sockaddr_in sa;
	int backend;
	uint64_t rtt_ms;
	double loss;
	uint32_t limit;
	bool dead;
	uint64_t rng;
	int fd;
	uv_poll_t poll;
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct delayed *head, *tail; /* FIFO: the delay is the same for all */
	/* Arrival times (ns) within the last second: a ring. */
	uint64_t *win;
	size_t win_cap, win_head, win_len;
	/* Counters. */
	uint64_t received, answered, rate_limited, lost_query, lost_answer, dead_dropped,
	    tcp_queries, max_window, backend_lost;
};

/* A query forwarded to a backend, by the relay's own ID. */
struct slot {
	struct sockaddr_in client;
	uint16_t client_id;
	int16_t addr; /* -1: free */
};

struct backend {
	struct sockaddr_in sa;
	int fd;
	uv_poll_t poll;
	uint16_t next_id;
	struct slot slots[65536];
};

static struct addr addrs[MAX_ADDRS];
static size_t naddrs;
static struct backend backends[MAX_BACKENDS];
static size_t nbackends;
static uv_loop_t *loop;
static const char *stats_path;
static uint64_t seed = 1;

static double rnd(struct addr *a)
{
	/* xorshift64*: reproducible per address from the seed. */
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return (double)((a->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Count an arrival at time ns; returns the arrivals in the window (ns-1s, ns]. */
static uint64_t window_push(struct addr *a, uint64_t ns)
{
	while (a->win_len && a->win[a->win_head] + 1000000000ULL <= ns) {
		a->win_head = (a->win_head + 1) % a->win_cap;
		a->win_len--;
	}
	if (a->win_len == a->win_cap) { /* saturated: count stays at cap */
		a->win_head = (a->win_head + 1) % a->win_cap;
		a->win_len--;
	}
	a->win[(a->win_head + a->win_len) % a->win_cap] = ns;
	a->win_len++;
	if (a->win_len > a->max_window)
		a->max_window = a->win_len;
	return a->win_len;
}

static void send_due(uv_timer_t *t)
{
	struct addr *a = t->data;
	uint64_t now = uv_now(loop);
	while (a->head && a->head->due_ms <= now) {
		struct delayed *d = a->head;
		a->head = d->next;
		if (!a->head)
			a->tail = NULL;
		if (sendto(a->fd, d->msg, d->len, 0, (struct sockaddr *)&d->to, sizeof(d->to)) >= 0)
			a->answered++;
		free(d);
	}
	if (a->head)
		uv_timer_start(&a->timer, send_due, a->head->due_ms - now, 0);
}

static void enqueue(struct addr *a, const struct sockaddr_in *to, const uint8_t *m, size_t len)
{
	struct delayed *d = malloc(sizeof(*d) + len);
	if (!d)
		return;
	d->next = NULL;
	d->due_ms = uv_now(loop) + a->rtt_ms;
	d->to = *to;
	d->len = (uint16_t)len;
	memcpy(d->msg, m, len);
	if (a->tail)
		a->tail->next = d;
	else
		a->head = d;
	a->tail = d;
	if (!uv_is_active((uv_handle_t *)&a->timer))
		uv_timer_start(&a->timer, send_due, a->rtt_ms, 0);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The offset of the wall clock from the monotonic one, seen at each read:
 * its spread says whether the wall clock was stepped or slewed during the
 * run (a VM's time service does), which would squeeze or stretch windows
 * counted on it. */
static int64_t off_min = INT64_MAX, off_max = INT64_MIN;

/* A datagram's receive time on the monotonic clock: the kernel's stamp
 * (SO_TIMESTAMPNS, wall clock, taken when the sender's packet was queued
 * to us) moved by the wall clock's offset now. */
static uint64_t ts_of(struct msghdr *h, int64_t off)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec - off);
		}
	return (uint64_t)clock_ns(CLOCK_MONOTONIC);
}

/* A query at a provider address. */
static void on_query(struct addr *a, uint8_t *m, size_t len, const struct sockaddr_in *from,
		     uint64_t ns)
{
	a->received++;
	uint64_t in_window = window_push(a, ns);
	if (len < 12)
		return;
	if (a->dead) {
		a->dead_dropped++;
		return;
	}
	if (a->limit && in_window > a->limit) {
		a->rate_limited++;
		return;
	}
	if (a->loss > 0 && rnd(a) < a->loss / 2) {
		a->lost_query++;
		return;
	}
	struct backend *b = &backends[a->backend];
	uint16_t id = b->next_id++;
	struct slot *s = &b->slots[id];
	if (s->addr >= 0)
		addrs[s->addr].backend_lost++; /* its answer never came back */
	s->client = *from;
	s->client_id = (uint16_t)(m[0] << 8 | m[1]);
	s->addr = (int16_t)(a - addrs);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	send(b->fd, m, len, 0);
}

static void on_addr_readable(uv_poll_t *p, int status, int events)
{
	struct addr *a = p->data;
	static uint8_t bufs[BATCH][MSG_MAX];
	static char cbufs[BATCH][128];
	static struct sockaddr_in froms[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	if (status < 0)
		return;
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = MSG_MAX;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &froms[i];
			mm[i].msg_hdr.msg_namelen = sizeof(froms[i]);
			mm[i].msg_hdr.msg_control = cbufs[i];
			mm[i].msg_hdr.msg_controllen = sizeof(cbufs[i]);
		}
		int n = recvmmsg(a->fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int64_t off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
		if (off < off_min)
			off_min = off;
		if (off > off_max)
			off_max = off;
		for (int i = 0; i < n; i++)
			on_query(a, bufs[i], mm[i].msg_len, &froms[i], ts_of(&mm[i].msg_hdr, off));
		if (n < BATCH)
			return;
	}
}

static void on_backend_readable(uv_poll_t *p, int status, int events)
{
	struct backend *b = p->data;
	uint8_t m[MSG_MAX];
	if (status < 0)
		return;
	for (;;) {
		ssize_t n = recv(b->fd, m, sizeof(m), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (n < 12)
			continue;
		uint16_t id = (uint16_t)(m[0] << 8 | m[1]);
		struct slot *s = &b->slots[id];
		if (s->addr < 0)
			continue;
		struct addr *a = &addrs[s->addr];
		s->addr = -1;
		m[0] = (uint8_t)(s->client_id >> 8);
		m[1] = (uint8_t)s->client_id;
		if (a->loss > 0 && rnd(a) < a->loss / 2) {
			a->lost_answer++;
			continue;
		}
		enqueue(a, &s->client, m, (size_t)n);
	}
}

/* ------------------------------------------------------------- TCP --- */

/* One client connection, piped to a backend connection; the backend's
 * bytes reach the client after the address's round-trip time. */
struct conn {
	struct addr *a;
	uv_tcp_t client, server;
	uv_connect_t connect;
	uv_timer_t timer;
	int open;                 /* handles not yet closed */
	bool connected, closing;
	bool server_eof;          /* the backend is done: close once its bytes are out */
	uv_shutdown_t shutdown;
	uint8_t *pending;         /* client bytes before the backend connection is up */
	size_t pending_len;
	size_t parsed;            /* client bytes counted into messages */
	uint8_t lenbuf[2];
	size_t lenhave, skip;     /* message framing of the client's stream */
	struct delayed *head, *tail;
};

struct wreq {
	uv_write_t w;
	uv_buf_t b;
	char data[];
};

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open == 0) {
		while (c->head) {
			struct delayed *d = c->head;
			c->head = d->next;
			free(d);
		}
		free(c->pending);
		free(c);
	}
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->client, conn_closed);
	uv_close((uv_handle_t *)&c->server, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void shutdown_done(uv_shutdown_t *r, int status)
{
	conn_close(r->data);
}

/* The backend closed: let the client have what is still held back (its
 * round-trip time), then close. */
static void finish_when_sent(struct conn *c)
{
	if (c->head || c->closing)
		return;
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->client, shutdown_done) != 0)
		conn_close(c);
}

static void write_done(uv_write_t *w, int status)
{
	free(w->data);
}

static void write_to(uv_tcp_t *t, const void *data, size_t len)
{
	struct wreq *r = malloc(sizeof(*r) + len);
	if (!r)
		return;
	memcpy(r->data, data, len);
	r->b = uv_buf_init(r->data, (unsigned)len);
	r->w.data = r;
	if (uv_write(&r->w, (uv_stream_t *)t, &r->b, 1, write_done) != 0)
		free(r);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char buf[65536];
	*b = uv_buf_init(buf, sizeof(buf));
}

/* Count the DNS messages in the client's stream (2-octet length prefix). */
static void count_messages(struct conn *c, const uint8_t *p, size_t n)
{
	while (n) {
		if (c->skip) {
			size_t k = n < c->skip ? n : c->skip;
			c->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		c->lenbuf[c->lenhave++] = *p++;
		n--;
		if (c->lenhave == 2) {
			c->lenhave = 0;
			c->skip = (size_t)c->lenbuf[0] << 8 | c->lenbuf[1];
			c->a->received++;
			c->a->tcp_queries++;
			window_push(c->a, (uint64_t)clock_ns(CLOCK_MONOTONIC));
		}
	}
}

static void conn_send_due(uv_timer_t *t)
{
	struct conn *c = t->data;
	uint64_t now = uv_now(loop);
	while (c->head && c->head->due_ms <= now) {
		struct delayed *d = c->head;
		c->head = d->next;
		if (!c->head)
			c->tail = NULL;
		write_to(&c->client, d->msg, d->len);
		free(d);
	}
	if (c->head)
		uv_timer_start(&c->timer, conn_send_due, c->head->due_ms - now, 0);
	else if (c->server_eof)
		finish_when_sent(c);
}

static void server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	if (n < 0) {
		c->server_eof = true;
		uv_read_stop(s);
		finish_when_sent(c);
		return;
	}
	if (n == 0)
		return;
	struct delayed *d = malloc(sizeof(*d) + (size_t)n);
	if (!d)
		return;
	d->next = NULL;
	d->due_ms = uv_now(loop) + c->a->rtt_ms;
	d->len = (uint16_t)n;
	memcpy(d->msg, b->base, (size_t)n);
	if (c->tail)
		c->tail->next = d;
	else
		c->head = d;
	c->tail = d;
	if (!uv_is_active((uv_handle_t *)&c->timer))
		uv_timer_start(&c->timer, conn_send_due, c->a->rtt_ms, 0);
	c->a->answered++;
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0)
		return;
	count_messages(c, (const uint8_t *)b->base, (size_t)n);
	if (c->connected) {
		write_to(&c->server, b->base, (size_t)n);
		return;
	}
	uint8_t *p = realloc(c->pending, c->pending_len + (size_t)n);
	if (!p) {
		conn_close(c);
		return;
	}
	memcpy(p + c->pending_len, b->base, (size_t)n);
	c->pending = p;
	c->pending_len += (size_t)n;
}

static void server_connected(uv_connect_t *r, int status)
{
	struct conn *c = r->data;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	c->connected = true;
	if (c->pending_len)
		write_to(&c->server, c->pending, c->pending_len);
	free(c->pending);
	c->pending = NULL;
	c->pending_len = 0;
	uv_read_start((uv_stream_t *)&c->server, alloc_cb, server_read);
}

static void on_tcp_conn(uv_stream_t *l, int status)
{
	struct addr *a = l->data;
	if (status < 0) {
		fprintf(stderr, "netrelay: %s: accept: %s\n", a->text, uv_strerror(status));
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->a = a;
	uv_tcp_init(loop, &c->client);
	uv_tcp_init(loop, &c->server);
	uv_timer_init(loop, &c->timer);
	c->client.data = c->server.data = c->timer.data = c->connect.data = c;
	c->open = 3;
	if (uv_accept(l, (uv_stream_t *)&c->client) != 0) {
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->client, alloc_cb, client_read);
	if (uv_tcp_connect(&c->connect, &c->server,
			   (const struct sockaddr *)&backends[a->backend].sa, server_connected) != 0)
		conn_close(c);
}

/* ----------------------------------------------------------- set-up --- */

static int backend_of(const char *text)
{
	struct sockaddr_in sa;
	if (uv_ip4_addr(text, 53, &sa) != 0)
		return -1;
	for (size_t i = 0; i < nbackends; i++)
		if (backends[i].sa.sin_addr.s_addr == sa.sin_addr.s_addr)
			return (int)i;
	if (nbackends == MAX_BACKENDS)
		return -1;
	struct backend *b = &backends[nbackends];
	b->sa = sa;
	b->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int big = 8 << 20;
	setsockopt(b->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (b->fd < 0 || connect(b->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	for (size_t i = 0; i < 65536; i++)
		b->slots[i].addr = -1;
	uv_poll_init(loop, &b->poll, b->fd);
	b->poll.data = b;
	uv_poll_start(&b->poll, UV_READABLE, on_backend_readable);
	return (int)nbackends++;
}

static void write_stats(void)
{
	FILE *f = fopen(stats_path, "w");
	if (!f) {
		perror(stats_path);
		return;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "{\"clock_offset_spread_ms\": %.3f, \"cpu_s\": %.3f, \"addresses\": [\n",
		off_max >= off_min ? (double)(off_max - off_min) / 1e6 : 0.0,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		    ru.ru_stime.tv_usec / 1e6);
	for (size_t i = 0; i < naddrs; i++) {
		struct addr *a = &addrs[i];
		fprintf(f,
			"%s{\"addr\": \"%s\", \"rtt_ms\": %llu, \"loss\": %g, \"limit\": %u, "
			"\"dead\": %s, \"received\": %llu, \"answered\": %llu, \"rate_limited\": %llu, "
			"\"lost_query\": %llu, \"lost_answer\": %llu, \"dead_dropped\": %llu, "
			"\"tcp_queries\": %llu, \"max_window\": %llu, \"backend_lost\": %llu}\n",
			i ? "," : "", a->text, (unsigned long long)a->rtt_ms, a->loss, a->limit,
			a->dead ? "true" : "false", (unsigned long long)a->received,
			(unsigned long long)a->answered, (unsigned long long)a->rate_limited,
			(unsigned long long)a->lost_query, (unsigned long long)a->lost_answer,
			(unsigned long long)a->dead_dropped, (unsigned long long)a->tcp_queries,
			(unsigned long long)a->max_window, (unsigned long long)a->backend_lost);
	}
	fprintf(f, "]}\n");
	fclose(f);
}

static void on_signal(uv_signal_t *s, int sig)
{
	write_stats();
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: netrelay CONFIG STATS_JSON\n");
		return 64;
	}
	stats_path = argv[2];
	loop = uv_default_loop();
	/* Two sockets per address and two per TCP connection: more than the
	 * default 1,024 descriptors at a few hundred addresses. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	char line[512];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char addr[64], backend[64];
		unsigned long long rtt, limit, seedv;
		double loss;
		int dead;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "seed %llu", &seedv) == 1) {
			seed = seedv;
			continue;
		}
		if (sscanf(line, "%63s %63s %llu %lf %llu %d", addr, backend, &rtt, &loss, &limit,
			   &dead) != 6 ||
		    naddrs == MAX_ADDRS) {
			fprintf(stderr, "netrelay: %s:%u: bad line\n", argv[1], lineno);
			return 1;
		}
		struct addr *a = &addrs[naddrs];
		snprintf(a->text, sizeof(a->text), "%s", addr);
		if (uv_ip4_addr(addr, 53, &a->sa) != 0 || (a->backend = backend_of(backend)) < 0) {
			fprintf(stderr, "netrelay: %s:%u: bad address\n", argv[1], lineno);
			return 1;
		}
		a->rtt_ms = rtt;
		a->loss = loss;
		a->limit = (uint32_t)limit;
		a->dead = dead != 0;
		a->rng = seed * 0x9E3779B97F4A7C15ULL + naddrs + 1;
		a->win_cap = (limit ? 2 * limit : 100000) + 1024;
		a->win = malloc(a->win_cap * sizeof(*a->win));
		a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int one = 1, big = 8 << 20;
		setsockopt(a->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		setsockopt(a->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		if (!a->win || a->fd < 0 || bind(a->fd, (struct sockaddr *)&a->sa, sizeof(a->sa)) != 0) {
			fprintf(stderr, "netrelay: %s: %s\n", addr, strerror(errno));
			return 1;
		}
		uv_poll_init(loop, &a->poll, a->fd);
		a->poll.data = a;
		uv_poll_start(&a->poll, UV_READABLE, on_addr_readable);
		uv_timer_init(loop, &a->timer);
		a->timer.data = a;
		if (!a->dead) {
			uv_tcp_init(loop, &a->tcp);
			a->tcp.data = a;
			if (uv_tcp_bind(&a->tcp, (struct sockaddr *)&a->sa, 0) != 0 ||
			    uv_listen((uv_stream_t *)&a->tcp, 4096, on_tcp_conn) != 0) {
				fprintf(stderr, "netrelay: %s: TCP listen failed\n", addr);
				return 1;
			}
		}
		naddrs++;
	}
	fclose(f);
	uv_signal_t sterm, sint;
	uv_signal_init(loop, &sterm);
	uv_signal_start(&sterm, on_signal, SIGTERM);
	uv_signal_init(loop, &sint);
	uv_signal_start(&sint, on_signal, SIGINT);
	printf("netrelay: %zu addresses, %zu backends\n", naddrs, nbackends);
	fflush(stdout);
	return uv_run(loop, UV_RUN_DEFAULT);
}
