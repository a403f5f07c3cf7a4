/* The NOTIFY listener's sockets (daemon_internal.h): UDP and TCP on each
 * address, on the daemon's loop.  What a message means and whether it is
 * answered is the caller's (listener_fn); here are only the transports and
 * their limits: a bounded number of TCP connections, each closed when idle,
 * messages framed by their two-octet length (RFC 1035 §4.2.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"
#include "daemon_internal.h"

#define MAX_ADDRS 8
#define TCP_BUF (2 + 65535)
/* Answers a TCP client has not read, at most: a client that sends and
 * never reads is closed rather than queued for without end. */
#define TCP_MAX_UNREAD (64 * 1024)

struct listener;

/* One TCP client. */
struct conn {
	uv_tcp_t tcp;           /* first: the handle's data is the conn */
	uv_timer_t idle;
	struct listener *l;
	struct conn *prev, *next; /* in l->conns */
	int closing;            /* handles still to close */
	size_t have;            /* octets in buf */
	uint8_t buf[TCP_BUF];
};

struct listener {
	uv_loop_t *loop;
	uv_udp_t udp[MAX_ADDRS];
	uv_tcp_t tcp[MAX_ADDRS];
	size_t nudp, ntcp;
	struct listener_limits lim;
	listener_fn fn;
	void *arg;
	struct conn *conns;     /* open TCP connections */
	size_t nconns;
	int open_handles;       /* freed when the last closes */
	bool closing;
	struct listener_stats stats;
	uint8_t rbuf[65536];    /* UDP receive buffer (one loop thread) */
};

/* A TCP answer on its way: the request and its data together. */
struct wreq {
	uv_write_t req;
	uint8_t data[2 + CDS_NOTIFY_ANSWER_MAX];
};

static void listener_unref(struct listener *l)
{
	if (--l->open_handles == 0)
		free(l);
}

static void listener_handle_closed(uv_handle_t *h)
{
	listener_unref(h->data);
}

/* ------------------------------------------------------------- UDP --- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct listener *l = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)l->rbuf, sizeof(l->rbuf));
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *src,
		     unsigned flags)
{
	struct listener *l = h->data;
	uint8_t out[CDS_NOTIFY_ANSWER_MAX];
	if (nread <= 0 || !src || (flags & UV_UDP_PARTIAL) || l->closing)
		return;
	l->stats.udp_messages++;
	size_t n = l->fn((const uint8_t *)buf->base, (size_t)nread, src, out, l->arg);
	if (n == 0)
		return;
	/* An answer that cannot go out now is dropped: the sender retries
	 * (RFC 1996 §3.6), and a listener must never queue without bound. */
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
	if (uv_udp_try_send(h, &b, 1, src) < 0)
		l->stats.send_failed++;
}

/* ------------------------------------------------------------- TCP --- */

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->closing > 0)
		return;
	struct listener *l = c->l;
	free(c);
	listener_unref(l);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	struct listener *l = c->l;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->idle, conn_closed);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_idle(uv_timer_t *t)
{
	struct conn *c = t->data;
	c->l->stats.tcp_idle_closed++;
	conn_close(c);
}

static void written(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

/* Answer every whole message in the buffer; keep a partial one. */
static void conn_peer(struct conn *c, struct sockaddr_storage *ss);

static void conn_messages(struct conn *c)
{
	struct sockaddr_storage peer;
	size_t off = 0;
	conn_peer(c, &peer);
	while (c->have - off >= 2) {
		size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
		if (c->have - off < 2 + mlen)
			break;
		c->l->stats.tcp_messages++;
		/* Idle is measured from the last whole message: a client that
		 * dribbles a byte at a time does not keep its place. */
		uv_timer_again(&c->idle);
		struct wreq *w = malloc(sizeof(*w));
		size_t n = w ? c->l->fn(c->buf + off + 2, mlen, (const struct sockaddr *)&peer,
					   w->data + 2, c->l->arg) : 0;
		off += 2 + mlen;
		if (n == 0) {
			free(w);
			continue;
		}
		w->data[0] = (uint8_t)(n >> 8);
		w->data[1] = (uint8_t)n;
		uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(n + 2));
		if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, written) != 0) {
			free(w);
			c->l->stats.send_failed++;
		}
	}
	memmove(c->buf, c->buf + off, c->have - off);
	c->have -= off;
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	(void)suggested;
	*buf = uv_buf_init((char *)c->buf + c->have, (unsigned)(TCP_BUF - c->have));
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	(void)buf;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->have += (size_t)nread;
	conn_messages(c);
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > TCP_MAX_UNREAD) {
		c->l->stats.tcp_unread_closed++;
		conn_close(c);
	}
}

/* The source address of a TCP client, for the rate limits. */
static void conn_peer(struct conn *c, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)ss, &len);
}

static void tcp_accept(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	if (status < 0 || l->closing)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->l = l;
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->idle);
	c->tcp.data = c->idle.data = c;
	l->open_handles++;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || l->nconns > l->lim.tcp_clients) {
		/* Accepted to take it off the backlog, and closed at once. */
		l->stats.tcp_refused++;
		conn_close(c);
		return;
	}
	uv_timer_start(&c->idle, conn_idle, l->lim.tcp_timeout_ms, l->lim.tcp_timeout_ms);
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

/* ----------------------------------------------------------- setup --- */

static int bind_one(struct listener *l, const char *text, char *err, size_t errlen)
{
	struct cds_addr a;
	int r;
	if (cds_addr_parse(text, 53, &a) != 0) {
		snprintf(err, errlen, "listen address '%s': not an IPv4 or IPv6 address", text);
		return CDS_ECONFIG;
	}
	const struct sockaddr *sa = (const struct sockaddr *)&a.ss;
	uv_udp_t *u = &l->udp[l->nudp];
	uv_udp_init(l->loop, u);
	u->data = l;
	l->open_handles++;
	l->nudp++;
	if ((r = uv_udp_bind(u, sa, 0)) != 0 || (r = uv_udp_recv_start(u, udp_alloc, udp_recv)) != 0)
		goto fail;
	if (l->lim.tcp_clients == 0)
		return 0;
	uv_tcp_t *t = &l->tcp[l->ntcp];
	uv_tcp_init(l->loop, t);
	t->data = l;
	l->open_handles++;
	l->ntcp++;
	if ((r = uv_tcp_bind(t, sa, 0)) != 0 || (r = uv_listen((uv_stream_t *)t, 128, tcp_accept)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", text, uv_strerror(r));
	return CDS_EUNAVAIL;
}

int listener_start(uv_loop_t *loop, const char *const *addrs, size_t n,
		   const struct listener_limits *lim, listener_fn fn, void *arg,
		   struct listener **out, char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r = 0;
	if (!l)
		return CDS_ENOMEM;
	*l = (struct listener){.loop = loop, .lim = *lim, .fn = fn, .arg = arg};
	l->open_handles = 1; /* the listener's own reference, until closed */
	if (n > MAX_ADDRS) {
		snprintf(err, errlen, "at most %d listen addresses", MAX_ADDRS);
		r = CDS_ECONFIG;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = bind_one(l, addrs[i], err, errlen);
	if (r != 0) {
		listener_close(l);
		return r;
	}
	*out = l;
	return 0;
}

void listener_close(struct listener *l)
{
	if (!l || l->closing)
		return;
	l->closing = true;
	while (l->conns)
		conn_close(l->conns);
	for (size_t i = 0; i < l->nudp; i++)
		uv_close((uv_handle_t *)&l->udp[i], listener_handle_closed);
	for (size_t i = 0; i < l->ntcp; i++)
		uv_close((uv_handle_t *)&l->tcp[i], listener_handle_closed);
	listener_unref(l);
}

void listener_stats(const struct listener *l, struct listener_stats *out)
{
	*out = l->stats;
}
