/* DNS transport on libuv: UDP/TCP queries with retries and politeness limits
 * (see include/cdscan/transport.h for why it is not getdns's). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/transport.h"

#define SERVER_BUCKETS 65536u
#define UDP_BUF_MAX 4096u
/* Datagrams taken by one recvmmsg: libuv splits the buffer it is given into
 * chunks of 64 KiB (UV__UDP_DGRAM_MAXSIZE), at most 20 of them. */
#define UDP_RECV_CHUNK 65536u
#define UDP_RECV_BATCH 20u
/* Ended queries kept for reuse (query_new): a query is 1.5 kB, a size
 * glibc's malloc serves from its large bins, consolidating and splitting
 * free chunks at every call (a fifth of a scan's CPU was malloc and free,
 * bench/RESULTS.md, issue #20). */
#define SPARE_QUERIES_MAX 4096u
#define TCP_MSG_MAX 65535u
#define PUMP_INTERVAL_MS 5
/* The one-second window of per_server_qps, kept as counts of 20 ms slots:
 * WINDOW_SLOTS + 1 of them hold every send of the last second. */
#define WINDOW_SLOTS 50u
#define SLOT_NS 20000000u
/* UDP sockets are shared by the queries to one server address: a socket per
 * query cost a socket, connect, epoll and close system call each (13% of a
 * scan's CPU).  Each socket still has a kernel-random source port, serves at
 * most UDP_SOCK_USES queries before a fresh one takes over, and carries at
 * most UDP_SOCK_INFLIGHT at once, each with an ID unique on it. */
#define UDP_SOCK_USES 512u
#define UDP_SOCK_INFLIGHT 64u
#define UDP_ID_BUCKETS 64u
/* The congestion window (server_window) is halved only when more than this
 * share of a server's recent attempts, a moving average over about
 * LOSS_SPAN of them, timed out. */
#define LOSS_CUT 0.1
#define LOSS_SPAN 64.0

struct query;
struct udp_sock;

/* One server address: its limits' state and the queries waiting for it. */
struct server {
	struct cds_addr addr;
	struct server *hash_next;
	uint32_t inflight;            /* queries started, not completed */
	uint32_t qps;                 /* its limit: messages in any one second */
	double burst;                 /* tokens the bucket holds at most */
	double tokens;                /* qps token bucket */
	uint64_t refilled_ns;         /* uv_hrtime() of the last refill */
	uint32_t slots[WINDOW_SLOTS + 1]; /* sends per 20 ms slot, the last second */
	uint32_t window_sum;          /* their sum */
	uint64_t slot_at;             /* the newest slot (uv_hrtime() / SLOT_NS) */
	uint32_t token_waiters;       /* queries started, waiting for a token to send again */
	struct query *wait_head;      /* FIFO of queries not yet started */
	struct query *wait_tail;
	struct server *ready_next;    /* in t->ready: has waiting queries */
	bool in_ready;
	struct udp_sock *socks;       /* connected UDP sockets to this address */
	/* Congestion window (server_lost): the queries it may have in flight,
	 * at most per_server_inflight. */
	double cwnd;
	uint64_t cut_ns;              /* uv_hrtime() of its last halving */
	bool answered;                /* an answer came since then */
	double loss;                  /* share of recent attempts lost (moving average) */
	uint32_t outstanding;         /* attempts sent, not answered nor timed out */
	uint32_t room_woken;          /* queries woken from the FIFO, room kept for them */
	struct query *room_head;      /* FIFO of started queries whose next */
	struct query *room_tail;      /* message waits for room in the window */
};

/* A connected UDP socket shared by queries to one server. */
struct udp_sock {
	uv_udp_t h;
	struct cds_transport *t;
	struct server *srv;
	struct udp_sock *next;        /* in srv->socks */
	struct query *queries;        /* in flight on it (query.sock_next) */
	/* The same by ID (query.id_next): an answer finds its query without
	 * comparing it with every other one in flight (a linear search was
	 * 4.5% of a scan's CPU). */
	struct query *by_id[UDP_ID_BUCKETS];
	uint32_t inflight, uses;
	bool retired;                 /* takes no new query; closes when idle */
	/* Datagrams whose tokens are taken, leaving at the end of this loop
	 * phase with one sendmmsg (flush_out). */
	struct query *out[UDP_SOCK_INFLIGHT];
	uint32_t out_count;
	struct udp_sock *out_next;    /* in t->out_socks while out_count > 0 */
};

struct query {
	struct cds_transport *t;
	struct server *srv;
	struct query *wait_next;
	struct query *spare_next;        /* in t->spare once released */
	cds_transport_cb cb;
	void *arg;

	uint8_t msg[12 + 256 + 4 + 11]; /* header, question, OPT */
	uint16_t msglen;
	uint16_t qname_len;              /* question name, wire form, at msg + 12 */
	uint16_t qtype;
	uint32_t attempts;
	uint32_t retries;                /* further UDP attempts after a timeout */
	uint64_t timeout_ms;             /* per attempt */
	int deferred_error;              /* start failed: report from the timer */
	bool tcp;
	bool tcp_only;                   /* CDS_QUERY_TCP or opts.tcp_only */
	bool done;
	/* Started, its next message (a retry, or the question over TCP after a
	 * truncated answer) waits for a token of the server's bucket. */
	bool token_wait;
	bool tcp_next;                   /* that message goes over TCP */
	bool attempt_out;                /* an attempt counted in srv->outstanding */
	bool room_wait;                  /* in srv's room FIFO */
	bool room_woken;                 /* taken out of it, room kept for it */
	bool room_held;                  /* counted in srv->token_waiters for it
					  * (in the FIFO, or woken from it) */
	struct query *room_next;
	bool tcp_closing;                /* its connection closes for a retry */
	bool tcp_token_due;              /* TCP fallback: connected, its token not yet taken */
	/* A datagram with its ID or its question came, not both: its timeout
	 * says so (CDS_EMISMATCH). */
	bool mismatched;

	uv_timer_t timer;
	uv_tcp_t tcp_handle;
	uv_connect_t connect;
	uv_write_t write;
	uv_udp_send_t send;
	uint8_t open_handles;            /* handles and requests to end before free */
	bool tcp_open, timer_open;
	bool send_pending;               /* send in flight: its callback is due */
	bool out_queued;                 /* in sock->out, not yet sent */
	uint64_t out_slot;               /* the window slot its token was counted in */

	struct udp_sock *sock;           /* the UDP socket it is on, if any */
	struct query *sock_next, *sock_prev;
	struct query *id_next;           /* in sock->by_id */
	bool id_linked;
	uint8_t *tcpbuf;                 /* length prefix + message */
	size_t tcplen;
	uint8_t lenbuf[2];               /* TCP length prefix of the query */
};

struct cds_transport {
	uv_loop_t *loop;
	struct cds_transport_opts opts;
	struct cds_transport_stats stats;
	struct server **buckets;
	size_t pending;       /* accepted, callback not yet run */
	uint32_t inflight;    /* started, not completed */
	struct server *ready_head, *ready_tail;
	uv_timer_t pump_timer; /* wakes throttled servers */
	bool pump_armed;
	/* Sockets with datagrams to send, flushed before and after each
	 * poll for I/O (flush_out). */
	struct udp_sock *out_socks;
	uv_prepare_t out_prepare;
	uv_check_t out_check;
	int closing;          /* handles of its own still to close */
	bool freeing;         /* cds_transport_free was called */
	size_t live;          /* queries not yet released (their handles open) */
	struct query *spare;  /* released queries for reuse */
	size_t nspare;
	/* Where every UDP socket receives (udp_alloc_cb): UDP_RECV_BATCH
	 * chunks, read before the next receive, so one buffer serves all. */
	uint8_t *recv_buf;
	uint8_t random[512];  /* getrandom() pool for IDs */
	size_t random_used;
};

static uint16_t random_id(struct cds_transport *t)
{
	if (t->random_used + 2 > sizeof(t->random)) {
		if (getrandom(t->random, sizeof(t->random), 0) != (ssize_t)sizeof(t->random)) {
			/* getrandom() on a urandom pool does not fail after boot;
			 * fall back to a weaker source rather than stop scanning. */
			for (size_t i = 0; i < sizeof(t->random); i++)
				t->random[i] = (uint8_t)rand();
		}
		t->random_used = 0;
	}
	uint16_t id = (uint16_t)(t->random[t->random_used] << 8 | t->random[t->random_used + 1]);
	t->random_used += 2;
	return id;
}

/* The hash of what addr_equal compares (family, port, address) and nothing
 * else: an address built with other bytes in sin_zero or sin6_flowinfo
 * must find the same server, or it would get limits of its own. */
static uint32_t addr_hash(const struct cds_addr *a)
{
	const uint8_t *b;
	size_t n;
	uint16_t port;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss;
		b = (const uint8_t *)&x->sin_addr, n = sizeof(x->sin_addr), port = x->sin_port;
	} else {
		const struct sockaddr_in6 *x = (const void *)&a->ss;
		b = (const uint8_t *)&x->sin6_addr, n = sizeof(x->sin6_addr), port = x->sin6_port;
	}
	uint32_t h = 2166136261u;
	h = (h ^ (uint8_t)(port >> 8)) * 16777619u;
	h = (h ^ (uint8_t)port) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static bool addr_equal(const struct cds_addr *a, const struct cds_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/*
 * The qps limit per server address: at most qps messages (first tries,
 * retries and TCP fallbacks alike) in any one-second window, which is how a
 * server that rate-limits counts them.  Two checks: a token bucket at qps
 * per second holding a quarter of a second, which spreads the sends, and
 * the count of the last second's sends in 20 ms slots, which bounds any
 * window: the last 51 slots hold every send of the second before now, and
 * a send is made only while they hold fewer than qps.  After the loop was
 * held up (a database round trip, a busy machine) the bucket lets the
 * scanner catch up on what it missed, within that bound.  Both run on
 * uv_hrtime(), not the loop's cached time: a long loop iteration would
 * otherwise stamp sends spread over it with its start.
 */
static uint32_t qps_of(const struct cds_transport *t, const struct cds_addr *addr)
{
	uint32_t qps = t->opts.per_server_qps;
	int best = -1;
	for (size_t i = 0; i < t->opts.qps_limit_count; i++) {
		const struct cds_qps_limit *l = &t->opts.qps_limits[i];
		if ((int)l->prefix.len > best && cds_prefix_contains(&l->prefix, addr)) {
			best = l->prefix.len;
			qps = l->qps;
		}
	}
	return qps;
}

static struct server *server_get(struct cds_transport *t, const struct cds_addr *addr)
{
	uint32_t b = addr_hash(addr) % SERVER_BUCKETS;
	for (struct server *s = t->buckets[b]; s; s = s->hash_next)
		if (addr_equal(&s->addr, addr))
			return s;
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->addr = *addr;
	s->qps = qps_of(t, addr);
	s->burst = s->qps / 4 ? (double)(s->qps / 4) : 1.0;
	s->tokens = s->burst;
	s->cwnd = t->opts.per_server_inflight;
	s->refilled_ns = uv_hrtime();
	s->slot_at = s->refilled_ns / SLOT_NS;
	s->hash_next = t->buckets[b];
	t->buckets[b] = s;
	return s;
}

/* Forget the slots older than a second before now. */
static void window_advance(struct server *s, uint64_t now)
{
	uint64_t cur = now / SLOT_NS;
	if (cur - s->slot_at > WINDOW_SLOTS) {
		memset(s->slots, 0, sizeof(s->slots));
		s->window_sum = 0;
	} else {
		while (s->slot_at < cur) {
			uint32_t *slot = &s->slots[++s->slot_at % (WINDOW_SLOTS + 1)];
			s->window_sum -= *slot;
			*slot = 0;
		}
	}
	s->slot_at = cur;
}

static bool take_token(struct server *s)
{
	uint64_t now = uv_hrtime();
	s->tokens += (double)(now - s->refilled_ns) * s->qps / 1e9;
	s->refilled_ns = now;
	if (s->tokens > s->burst)
		s->tokens = s->burst;
	if (s->tokens < 1)
		return false;
	window_advance(s, now);
	if (s->window_sum >= s->qps)
		return false;
	s->tokens -= 1;
	s->slots[s->slot_at % (WINDOW_SLOTS + 1)]++;
	s->window_sum++;
	return true;
}

/* Milliseconds until s may send again (at least 1): a token, or the
 * window's oldest slot going out of it. */
static uint64_t token_wait_ms(const struct server *s)
{
	if (s->window_sum >= s->qps)
		return SLOT_NS / 1000000u;
	double ms = (1.0 - s->tokens) * 1000.0 / s->qps;
	return ms < 1 ? 1 : (uint64_t)ms + 1;
}

static void timer_cb(uv_timer_t *timer);

/*
 * A congestion window per server address, as resolvers keep one: when an
 * attempt to a server that is answering times out and more than LOSS_CUT
 * of its recent attempts were lost, the attempts it may have outstanding
 * (sent, neither answered nor timed out: first tries, retries and TCP
 * fallbacks alike) are halved, at most once per attempt timeout and to 1
 * at least, and each answer adds 1/window back, up to per_server_inflight.
 * A retry waits for room like a new query (retries first): the retries of
 * a burst of lost queries are what keeps a server's full buffer full.
 *
 * A server whose receive buffer overflows (NSD sharing saturated cores
 * with the scanners dropped 0.4-1.8% of a scan's queries, bench/RESULTS.md,
 * issue #20) then gets fewer at once instead of losing every attempt of
 * some queries in a burst.  Only losses in numbers count: the Internet
 * loses a datagram in fifty here and there, and halving for each (tried:
 * the network model's 0-2% loss per address cut windows 362 times and the
 * scan reached 60% of the providers' bound instead of 92%) starves far
 * servers.  A server that never answers keeps its window: it is not
 * congested, it is down, and its queries end by timeout as before.
 */
static uint32_t server_window(const struct cds_transport *t, const struct server *s)
{
	uint32_t w = s->cwnd < 1 ? 1 : (uint32_t)s->cwnd;
	return w < t->opts.per_server_inflight ? w : t->opts.per_server_inflight;
}

static void server_lost(struct cds_transport *t, struct server *s, uint64_t timeout_ms)
{
	uint64_t now = uv_hrtime();
	s->loss += (1.0 - s->loss) / LOSS_SPAN;
	if (!s->answered || s->loss < LOSS_CUT || now - s->cut_ns < timeout_ms * 1000000u)
		return;
	s->answered = false;
	s->cut_ns = now;
	s->cwnd = s->cwnd / 2 < 1 ? 1 : s->cwnd / 2;
	t->stats.window_cuts++;
}

static void attempt_begin(struct query *q)
{
	if (!q->attempt_out) {
		q->attempt_out = true;
		q->srv->outstanding++;
	}
}

/* Wake the queries waiting for room in s's window, as many as it has room
 * for (each tries again from its timer, not from inside the caller). */
static void room_wake(const struct cds_transport *t, struct server *s)
{
	while (s->room_head && s->outstanding + s->room_woken < server_window(t, s)) {
		struct query *w = s->room_head;
		s->room_head = w->room_next;
		if (!s->room_head)
			s->room_tail = NULL;
		w->room_next = NULL;
		w->room_wait = false;
		w->room_woken = true;
		s->room_woken++;
		uv_timer_start(&w->timer, timer_cb, 0, 0); /* still room_held */
	}
}

/* q's attempt ended (answered, timed out, truncated, failed). */
static void attempt_end(struct query *q)
{
	struct server *s = q->srv;
	if (!q->attempt_out)
		return;
	q->attempt_out = false;
	s->outstanding--;
	room_wake(q->t, s);
}

/* May q's next message go now, as far as the window goes?  Room kept for
 * queries woken from the FIFO is theirs; a query not woken goes behind
 * the ones waiting. */
static bool room_for(const struct cds_transport *t, const struct server *s,
		     const struct query *q)
{
	if (q->attempt_out)
		return true; /* a TCP fallback's message: its attempt is counted */
	if (!q->room_woken && s->room_head)
		return false;
	uint32_t kept = s->room_woken - (q->room_woken ? 1u : 0u);
	return s->outstanding + kept < server_window(t, s);
}

/* q's next message waits for room in its server's window: at the FIFO's
 * head if it was woken already (its room was taken meanwhile), else at its
 * tail. */
static void room_wait(struct query *q)
{
	struct server *s = q->srv;
	bool front = q->room_woken;
	if (q->room_woken) {
		q->room_woken = false;
		s->room_woken--;
	}
	if (!q->room_held) {
		q->room_held = true;
		s->token_waiters++; /* no new query takes the room first */
	}
	q->room_wait = true;
	if (front) {
		q->room_next = s->room_head;
		s->room_head = q;
		if (!s->room_tail)
			s->room_tail = q;
	} else {
		q->room_next = NULL;
		if (s->room_tail)
			s->room_tail->room_next = q;
		else
			s->room_head = q;
		s->room_tail = q;
	}
	uv_timer_stop(&q->timer);
}

/* q no longer waits (woken and going, or ended). */
static void room_unwait(struct query *q)
{
	struct server *s = q->srv;
	if (q->room_woken) {
		q->room_woken = false;
		s->room_woken--;
	}
	if (q->room_held) {
		q->room_held = false;
		s->token_waiters--;
	}
	if (!q->room_wait)
		return;
	q->room_wait = false;
	struct query *prev = NULL;
	for (struct query *w = s->room_head; w; prev = w, w = w->room_next)
		if (w == q) {
			if (prev)
				prev->room_next = w->room_next;
			else
				s->room_head = w->room_next;
			if (s->room_tail == w)
				s->room_tail = prev;
			break;
		}
	q->room_next = NULL;
}

static void server_answered(const struct cds_transport *t, struct server *s)
{
	s->answered = true;
	s->loss -= s->loss / LOSS_SPAN;
	if (s->cwnd < t->opts.per_server_inflight) {
		s->cwnd += 1.0 / s->cwnd;
		if (s->cwnd > t->opts.per_server_inflight)
			s->cwnd = t->opts.per_server_inflight;
	}
}

/* May a new query to s start now?  Retries and fallbacks waiting for a
 * token or for room in the window go first (both count in token_waiters):
 * a new query never takes what one of them needs. */
static bool may_start(struct cds_transport *t, struct server *s)
{
	return t->inflight < t->opts.max_inflight && s->inflight < t->opts.per_server_inflight &&
	       s->outstanding < server_window(t, s) &&
	       s->token_waiters == 0 && take_token(s);
}

static void ready_push(struct cds_transport *t, struct server *s, bool front)
{
	if (s->in_ready)
		return;
	s->in_ready = true;
	if (front) {
		s->ready_next = t->ready_head;
		t->ready_head = s;
		if (!t->ready_tail)
			t->ready_tail = s;
	} else {
		s->ready_next = NULL;
		if (t->ready_tail)
			t->ready_tail->ready_next = s;
		else
			t->ready_head = s;
		t->ready_tail = s;
	}
}

static struct server *ready_pop(struct cds_transport *t)
{
	struct server *s = t->ready_head;
	if (!s)
		return NULL;
	t->ready_head = s->ready_next;
	if (!t->ready_head)
		t->ready_tail = NULL;
	s->in_ready = false;
	s->ready_next = NULL;
	return s;
}

static void start_query(struct query *q);
static void timer_cb(uv_timer_t *timer);
static void send_again(struct query *q);
static int tcp_write_query(struct query *q);
static void pump(struct cds_transport *t);
static void out_unlink(struct query *q);

static void pump_timer_cb(uv_timer_t *timer)
{
	struct cds_transport *t = timer->data;
	t->pump_armed = false;
	pump(t);
}

/* Start waiting queries while the limits allow, round robin over servers. */
static void pump(struct cds_transport *t)
{
	bool throttled = false;
	size_t rounds = 0;
	struct server *first_throttled = NULL;

	while (t->inflight < t->opts.max_inflight) {
		struct server *s = ready_pop(t);
		if (!s || s == first_throttled) {
			if (s)
				ready_push(t, s, true);
			break;
		}
		while (s->wait_head && may_start(t, s)) {
			struct query *q = s->wait_head;
			s->wait_head = q->wait_next;
			if (!s->wait_head)
				s->wait_tail = NULL;
			q->wait_next = NULL;
			start_query(q);
		}
		if (!s->wait_head)
			continue;
		if (t->inflight >= t->opts.max_inflight) {
			ready_push(t, s, true);
			break;
		}
		if (s->inflight >= t->opts.per_server_inflight ||
		    s->outstanding >= server_window(t, s))
			continue; /* re-queued when one of its queries completes */
		/* Out of tokens: try again after a short wait. */
		throttled = true;
		if (!first_throttled)
			first_throttled = s;
		ready_push(t, s, false);
		if (++rounds > SERVER_BUCKETS)
			break;
	}
	if (throttled && !t->pump_armed) {
		t->pump_armed = true;
		uv_timer_start(&t->pump_timer, pump_timer_cb, PUMP_INTERVAL_MS, 0);
	}
}

/* One holder of the query (a handle, a send) is done with it. */
static void transport_destroy(struct cds_transport *t);

static void release(struct query *q)
{
	if (--q->open_handles > 0)
		return;
	struct cds_transport *t = q->t;
	free(q->tcpbuf);
	t->live--;
	if (!t->freeing && t->nspare < SPARE_QUERIES_MAX) {
		q->spare_next = t->spare;
		t->spare = q;
		t->nspare++;
		return;
	}
	free(q);
	/* The transport's own handles closed before this query's last one. */
	if (t->freeing && t->closing == 0 && t->live == 0)
		transport_destroy(t);
}

/* A zeroed query: a spare one, else a new one. */
static struct query *query_new(struct cds_transport *t)
{
	struct query *q = t->spare;
	if (q) {
		t->spare = q->spare_next;
		t->nspare--;
	} else if (!(q = malloc(sizeof(*q)))) {
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->t = t;
	t->live++;
	return q;
}

/* A query that never opened a handle. */
static void query_drop(struct query *q)
{
	q->open_handles = 1;
	release(q);
}

static void close_cb(uv_handle_t *h)
{
	release(h->data);
}

/* ------------------------------------------------------ UDP sockets --- */

static void sock_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void sock_close(struct udp_sock *s)
{
	if (s->srv) {
		struct udp_sock **pp = &s->srv->socks;
		while (*pp && *pp != s)
			pp = &(*pp)->next;
		if (*pp)
			*pp = s->next;
		s->srv = NULL;
	}
	uv_close((uv_handle_t *)&s->h, sock_close_cb);
}

static struct query **id_bucket(struct udp_sock *s, const uint8_t *msg)
{
	return &s->by_id[((unsigned)msg[0] << 8 | msg[1]) % UDP_ID_BUCKETS];
}

static void id_unlink(struct query *q)
{
	if (!q->id_linked)
		return;
	struct query **pp = id_bucket(q->sock, q->msg);
	while (*pp && *pp != q)
		pp = &(*pp)->id_next;
	if (*pp)
		*pp = q->id_next;
	q->id_next = NULL;
	q->id_linked = false;
}

static void sock_detach(struct query *q)
{
	struct udp_sock *s = q->sock;
	if (!s)
		return;
	if (q->out_queued)
		out_unlink(q);
	id_unlink(q);
	if (q->sock_prev)
		q->sock_prev->sock_next = q->sock_next;
	else
		s->queries = q->sock_next;
	if (q->sock_next)
		q->sock_next->sock_prev = q->sock_prev;
	q->sock_next = q->sock_prev = NULL;
	q->sock = NULL;
	s->inflight--;
	if (s->retired && s->inflight == 0)
		sock_close(s);
}

static void close_handles(struct query *q)
{
	sock_detach(q);
	if (q->timer_open) {
		q->timer_open = false;
		uv_close((uv_handle_t *)&q->timer, close_cb);
	}
	if (q->tcp_open) {
		q->tcp_open = false;
		uv_close((uv_handle_t *)&q->tcp_handle, close_cb);
	}
}

/* Complete a query: callback once, then release its limits and handles. */
static void finish(struct query *q, int status, const uint8_t *answer, size_t len)
{
	struct cds_transport *t = q->t;
	struct server *s = q->srv;

	if (q->done)
		return;
	q->done = true;
	if (q->token_wait) {
		q->token_wait = false;
		s->token_waiters--;
	}
	room_unwait(q);
	attempt_end(q);
	if (status == 0) {
		t->stats.answers++;
		server_answered(t, s);
	} else if (status == CDS_ETIMEDOUT || (status == CDS_EMISMATCH && !q->tcp)) {
		t->stats.timeouts++;
	} else {
		t->stats.errors++;
	}
	room_wake(t, s); /* room q kept or the window gained */
	t->inflight--;
	s->inflight--;
	t->pending--;
	if (q->timer_open)
		uv_timer_stop(&q->timer);
	q->cb(status, answer, len, q->arg);
	close_handles(q);
	if (s->wait_head)
		ready_push(t, s, false);
	pump(t);
}

/* The message a holds q's question (name compared case-insensitively,
 * RFC 4343; type and class exactly). */
static bool question_equal(const struct query *q, const uint8_t *a, size_t len)
{
	if (a[4] != 0 || a[5] != 1)
		return false;
	size_t qend = 12 + (size_t)q->qname_len + 4;
	if (len < qend)
		return false;
	for (size_t i = 12; i < qend; i++) {
		uint8_t x = a[i], y = q->msg[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* The answer belongs to our query: same ID, QR set, same question. */
static bool answer_matches(const struct query *q, const uint8_t *a, size_t len)
{
	if (len < 12 || a[0] != q->msg[0] || a[1] != q->msg[1] || !(a[2] & 0x80))
		return false;
	return question_equal(q, a, len);
}

/* Whose answer a datagram that matches no query was meant to be: the query
 * on the socket with its ID, else one with its question.  RFC 5452 §4:
 * it is dropped all the same (an off-path spoofer guessing IDs must not end
 * a query early), but when the query times out, the error says that only
 * such answers came: a server that answers with a wrong ID, question or
 * class is broken, not slow. */
static struct query *meant_for(struct query *queries, const uint8_t *a, size_t len)
{
	if (len < 12)
		return NULL;
	for (struct query *q = queries; q; q = q->sock_next)
		if (a[0] == q->msg[0] && a[1] == q->msg[1])
			return q;
	for (struct query *q = queries; q; q = q->sock_next)
		if (question_equal(q, a, len))
			return q;
	return NULL;
}

static void new_id(struct query *q)
{
	uint16_t id = random_id(q->t);
	q->msg[0] = (uint8_t)(id >> 8);
	q->msg[1] = (uint8_t)id;
}

/* ------------------------------------------------------------- TCP --- */

static void tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct query *q = h->data;
	size_t cap = TCP_MSG_MAX + 2;
	if (!q->tcpbuf)
		q->tcpbuf = malloc(cap);
	if (!q->tcpbuf || q->tcplen >= cap) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)q->tcpbuf + q->tcplen, (unsigned)(cap - q->tcplen));
}

static void tcp_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct query *q = stream->data;
	if (nread == UV_ENOBUFS) {
		finish(q, CDS_ENOMEM, NULL, 0);
		return;
	}
	if (nread < 0) {
		finish(q, nread == UV_EOF ? -ECONNRESET : (int)nread, NULL, 0);
		return;
	}
	q->tcplen += (size_t)nread;
	if (q->tcplen < 2)
		return;
	size_t need = (size_t)q->tcpbuf[0] << 8 | q->tcpbuf[1];
	if (q->tcplen < need + 2)
		return;
	if (!answer_matches(q, q->tcpbuf + 2, need)) {
		q->t->stats.mismatched++;
		finish(q, CDS_EMISMATCH, NULL, 0);
		return;
	}
	finish(q, 0, q->tcpbuf + 2, need);
}

static void tcp_write_cb(uv_write_t *req, int status)
{
	struct query *q = req->data;
	if (status < 0 && status != UV_ECANCELED)
		finish(q, status, NULL, 0);
}

static void tcp_connect_cb(uv_connect_t *req, int status)
{
	struct query *q = req->data;
	if (q->done || q->tcp_closing)
		return; /* (UV_ECANCELED: closed for a retry) */
	if (status < 0) {
		finish(q, status, NULL, 0);
		return;
	}
	if (q->tcp_token_due) {
		/* A fallback's message takes its token now that it can leave:
		 * taken before the connection, it would count at the wrong time. */
		q->tcp_token_due = false;
		send_again(q);
		return;
	}
	int r = tcp_write_query(q);
	if (r != 0)
		finish(q, r, NULL, 0);
}

/* Write q's question on its connected TCP handle and read the answer. */
static int tcp_write_query(struct query *q)
{
	uint8_t *len = q->lenbuf;
	len[0] = (uint8_t)(q->msglen >> 8);
	len[1] = (uint8_t)q->msglen;
	uv_buf_t bufs[2] = {uv_buf_init((char *)len, 2), uv_buf_init((char *)q->msg, q->msglen)};
	q->write.data = q;
	int r = uv_write(&q->write, (uv_stream_t *)&q->tcp_handle, bufs, 2, tcp_write_cb);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&q->tcp_handle, tcp_alloc_cb, tcp_read_cb);
	if (r == 0)
		q->t->stats.sent++;
	return r;
}

static void timer_cb(uv_timer_t *timer);

/* scan.source-address for a query to srv: the address to bind first, or
 * NULL (none configured, or one of the other family). */
static const struct sockaddr *source_for(const struct cds_transport *t, const struct server *srv)
{
	if (!t->opts.has_source || t->opts.source.ss.ss_family != srv->addr.ss.ss_family)
		return NULL;
	return (const struct sockaddr *)&t->opts.source.ss;
}

static int start_tcp(struct query *q)
{
	int r = uv_tcp_init(q->t->loop, &q->tcp_handle);
	if (r != 0)
		return r;
	q->tcp_handle.data = q;
	q->tcp_open = true;
	q->open_handles++;
	q->tcp = true;
	q->connect.data = q;
	const struct sockaddr *src = source_for(q->t, q->srv);
	if (src && (r = uv_tcp_bind(&q->tcp_handle, src, 0)) != 0)
		return r;
	return uv_tcp_connect(&q->connect, &q->tcp_handle, (const struct sockaddr *)&q->srv->addr.ss,
			      tcp_connect_cb);
}

/* ------------------------------------------------------------- UDP --- */

static void udp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct udp_sock *s = h->data;
	*buf = uv_buf_init((char *)s->t->recv_buf, UDP_RECV_CHUNK * UDP_RECV_BATCH);
}

/* One datagram, or the end of a receive: with UV_UDP_RECVMMSG libuv calls
 * this once per datagram of a recvmmsg (UV_UDP_MMSG_CHUNK), then once with
 * UV_UDP_MMSG_FREE; a receive that found nothing comes as nread 0 and no
 * flag.  One recvmmsg instead of a recvmsg per datagram (the receive side
 * was a twentieth of a scan's CPU: bench/RESULTS.md, issue #20). */
static void udp_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct udp_sock *s = h->data;
	(void)from;
	/* The socket closed at an earlier datagram of this batch (its last
	 * query ended on a retired socket): the rest is for no query. */
	if (uv_is_closing((uv_handle_t *)h))
		return;
	if (nread == 0) {
		if (!(flags & UV_UDP_MMSG_CHUNK))
			s->t->stats.recv_calls++;
		return;
	}
	if (nread < 0) {
		s->t->stats.recv_calls++;
		/* ICMP port unreachable on the connected socket: nothing listens
		 * at the address; every query on it gets the error. */
		s->retired = true;
		while (s->queries)
			finish(s->queries, (int)nread, NULL, 0);
		return;
	}
	if (!(flags & UV_UDP_MMSG_CHUNK))
		s->t->stats.recv_calls++; /* a recvmsg of one datagram */
	s->t->stats.received++;
	const uint8_t *a = (const uint8_t *)buf->base;
	/* A datagram longer than UDP_BUF_MAX counts as truncated, as when it
	 * was received into a buffer of that size. */
	size_t len = (size_t)nread;
	bool partial = (flags & UV_UDP_PARTIAL) || len > UDP_BUF_MAX;
	if (len > UDP_BUF_MAX)
		len = UDP_BUF_MAX;
	struct query *q = len >= 12 ? *id_bucket(s, a) : NULL;
	while (q && !answer_matches(q, a, len))
		q = q->id_next;
	if (!q) {
		s->t->stats.mismatched++;
		if ((q = meant_for(s->queries, a, len)) != NULL)
			q->mismatched = true;
		return;
	}
	bool truncated = (a[2] & 0x02) || partial;
	if (!truncated) {
		finish(q, 0, a, len);
		return;
	}
	/* RFC 7766: a truncated answer is asked again over TCP (a message to
	 * the server like any other: it takes a token). */
	q->t->stats.tcp_fallbacks++;
	attempt_end(q);
	sock_detach(q);
	/* TCP gets a whole timeout of its own (send_again restarts the
	 * timer): a truncated answer to a retry must not leave TCP only what
	 * remained of the retry's timeout (scanners across a loaded network
	 * timed out RSA CDNSKEY over TCP: bench/RESULTS.md, issue #20). */
	q->tcp_next = true;
	send_again(q);
}

static void window_restamp(struct server *s, uint64_t slot, uint64_t now);

static void udp_send_cb(uv_udp_send_t *req, int status)
{
	struct query *q = req->data;
	q->send_pending = false;
	if (status == 0) /* it left only now: counted at this time */
		window_restamp(q->srv, q->out_slot, uv_hrtime());
	if (status < 0 && status != UV_ECANCELED)
		finish(q, status, NULL, 0);
	release(q);
}

/* A socket for a query to srv: one with room, else a new one. */
static struct udp_sock *sock_get(struct cds_transport *t, struct server *srv, int *err)
{
	for (struct udp_sock *s = srv->socks; s; s = s->next)
		if (!s->retired && s->inflight < UDP_SOCK_INFLIGHT)
			return s;
	struct udp_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		*err = CDS_ENOMEM;
		return NULL;
	}
	*err = uv_udp_init_ex(t->loop, &s->h, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (*err != 0) {
		free(s);
		return NULL;
	}
	s->h.data = s;
	/* An idle socket must not keep the loop running: the queries' timers
	 * do while there is work. */
	uv_unref((uv_handle_t *)&s->h);
	s->t = t;
	s->srv = srv;
	s->next = srv->socks;
	srv->socks = s;
	/* A connected socket gets a random source port from the kernel and
	 * only sees datagrams from the server. */
	const struct sockaddr *src = source_for(t, srv);
	*err = src ? uv_udp_bind(&s->h, src, 0) : 0;
	if (*err == 0)
		*err = uv_udp_connect(&s->h, (const struct sockaddr *)&srv->addr.ss);
	if (*err == 0)
		*err = uv_udp_recv_start(&s->h, udp_alloc_cb, udp_recv_cb);
	if (*err != 0) {
		sock_close(s);
		return NULL;
	}
	return s;
}

/* A fresh ID for q, unique among the queries on its socket. */
static void sock_new_id(struct query *q)
{
	if (!q->sock) {
		new_id(q);
		return;
	}
	id_unlink(q);
	for (;;) {
		new_id(q);
		struct query **b = id_bucket(q->sock, q->msg);
		struct query *o = *b;
		while (o && (o->msg[0] != q->msg[0] || o->msg[1] != q->msg[1]))
			o = o->id_next;
		if (!o) {
			q->id_next = *b;
			*b = q;
			q->id_linked = true;
			return;
		}
	}
}

/* Send q's datagram now (libuv's queue when the socket's buffer is full). */
static int udp_send_now(struct query *q)
{
	uv_buf_t b = uv_buf_init((char *)q->msg, q->msglen);
	int r = uv_udp_try_send(&q->sock->h, &b, 1, NULL);
	if (r >= 0) {
		q->t->stats.sent++;
		q->t->stats.send_calls++;
		return 0;
	}
	if (r != UV_EAGAIN)
		return r;
	q->send.data = q;
	r = uv_udp_send(&q->send, &q->sock->h, &b, 1, NULL, udp_send_cb);
	if (r == 0) {
		q->send_pending = true;
		q->open_handles++;
		q->t->stats.sent++;
	}
	return r;
}

/*
 * q's token is taken (in slot s->slot_at of its server's window): its
 * datagram joins its socket's outbox, which leaves with one sendmmsg at the
 * end of this phase of the loop (flush_out).  A sendmsg per datagram was
 * the largest single item of a scan's profile (bench/RESULTS.md, issue
 * #20).  libuv's own queue (uv_udp_send) batches too, but holds datagrams
 * until the socket is next writable, after the token's time: a server
 * counting per second saw more than its limit.  Here the window counts
 * each datagram again at the moment it leaves (window_restamp), so the
 * limit holds for the times the server sees.
 */
static int udp_send(struct query *q)
{
	if (q->send_pending || q->out_queued)
		return 0; /* the previous datagram has not left yet: it counts */
	struct udp_sock *s = q->sock;
	struct cds_transport *t = q->t;
	q->out_slot = q->srv->slot_at;
	if (s->out_count >= UDP_SOCK_INFLIGHT)
		return udp_send_now(q); /* (not reached: one entry per query on s) */
	if (s->out_count == 0) {
		s->out_next = t->out_socks;
		t->out_socks = s;
	}
	s->out[s->out_count++] = q;
	q->out_queued = true;
	return 0;
}

/* Count a send taken in window slot `slot` at `now`, when it left. */
static void window_restamp(struct server *s, uint64_t slot, uint64_t now)
{
	window_advance(s, now);
	if (slot == s->slot_at)
		return;
	if (s->slot_at - slot <= WINDOW_SLOTS)
		s->slots[slot % (WINDOW_SLOTS + 1)]--; /* moved: the sum is the same */
	else
		s->window_sum++; /* its slot has left the window already */
	s->slots[s->slot_at % (WINDOW_SLOTS + 1)]++;
}

/* Take q out of its socket's outbox (it ends before its datagram left;
 * its token stays spent). */
static void out_unlink(struct query *q)
{
	struct udp_sock *s = q->sock;
	q->out_queued = false;
	for (uint32_t i = 0; i < s->out_count; i++)
		if (s->out[i] == q) {
			s->out[i] = s->out[--s->out_count];
			break;
		}
	if (s->out_count == 0) {
		struct udp_sock **pp = &q->t->out_socks;
		while (*pp && *pp != s)
			pp = &(*pp)->out_next;
		if (*pp)
			*pp = s->out_next;
		s->out_next = NULL;
	}
}

/* Send every outbox: one sendmmsg per socket.  What the kernel does not take
 * (a full buffer, an error) goes the single way, which reports the error to
 * its query. */
static void flush_out(struct cds_transport *t)
{
	while (t->out_socks) {
		struct udp_sock *s = t->out_socks;
		t->out_socks = s->out_next;
		s->out_next = NULL;
		uint32_t n = s->out_count;
		struct query *qs[UDP_SOCK_INFLIGHT];
		struct mmsghdr mm[UDP_SOCK_INFLIGHT];
		struct iovec iov[UDP_SOCK_INFLIGHT];
		memcpy(qs, s->out, n * sizeof(*qs));
		s->out_count = 0;
		memset(mm, 0, n * sizeof(*mm));
		for (uint32_t i = 0; i < n; i++) {
			qs[i]->out_queued = false;
			iov[i].iov_base = qs[i]->msg;
			iov[i].iov_len = qs[i]->msglen;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		uint32_t sent = 0;
		uv_os_fd_t fd;
		if (uv_fileno((uv_handle_t *)&s->h, &fd) == 0) {
			while (sent < n) {
				int r = sendmmsg(fd, mm + sent, n - sent, 0);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				sent += (uint32_t)r;
				t->stats.send_calls++;
			}
		}
		uint64_t now = uv_hrtime();
		for (uint32_t i = 0; i < sent; i++) {
			window_restamp(qs[i]->srv, qs[i]->out_slot, now);
			t->stats.sent++;
		}
		for (uint32_t i = sent; i < n; i++) {
			int r = udp_send_now(qs[i]);
			if (r == 0 && !qs[i]->send_pending) /* (queued: udp_send_cb) */
				window_restamp(qs[i]->srv, qs[i]->out_slot, uv_hrtime());
			else if (r != 0)
				finish(qs[i], r, NULL, 0);
		}
	}
}

static void out_prepare_cb(uv_prepare_t *h)
{
	flush_out(h->data);
}

static void out_check_cb(uv_check_t *h)
{
	flush_out(h->data);
}

static int start_udp(struct query *q)
{
	int r = 0;
	struct udp_sock *s = sock_get(q->t, q->srv, &r);
	if (!s)
		return r;
	q->sock = s;
	q->sock_prev = NULL;
	q->sock_next = s->queries;
	if (s->queries)
		s->queries->sock_prev = q;
	s->queries = q;
	s->inflight++;
	if (++s->uses >= UDP_SOCK_USES)
		s->retired = true;
	sock_new_id(q);
	return udp_send(q);
}

/* Send q's next message (a retry, or the question over TCP after a
 * truncated answer) when its server's bucket has a token; until then q's
 * timer polls for one.  Either way the attempt's timeout starts when the
 * message goes out. */
static void send_again(struct query *q)
{
	struct server *s = q->srv;
	int r;
	if (!room_for(q->t, s, q)) {
		if (!q->room_wait)
			room_wait(q);
		return;
	}
	room_unwait(q);
	if (q->tcp_next) {
		/* Connect first; the message takes its token when it can leave
		 * (tcp_connect_cb).  A wait for a UDP retry's token ends here
		 * (a late truncated answer came meanwhile): the timer now
		 * times the connection. */
		if (q->token_wait) {
			q->token_wait = false;
			s->token_waiters--;
		}
		q->tcp_next = false;
		q->tcp_token_due = true;
		attempt_begin(q);
		r = start_tcp(q);
		if (r != 0) {
			finish(q, r, NULL, 0);
			return;
		}
		uv_timer_start(&q->timer, timer_cb, q->timeout_ms, 0);
		return;
	}
	if (!take_token(s)) {
		if (!q->token_wait) {
			q->token_wait = true;
			s->token_waiters++;
		}
		uv_timer_start(&q->timer, timer_cb, token_wait_ms(s), 0);
		return;
	}
	if (q->token_wait) {
		q->token_wait = false;
		s->token_waiters--;
	}
	attempt_begin(q);
	if (q->tcp) {
		q->tcp_token_due = false;
		r = tcp_write_query(q);
	} else {
		sock_new_id(q);
		r = udp_send(q);
	}
	if (r != 0) {
		finish(q, r, NULL, 0);
		return;
	}
	uv_timer_start(&q->timer, timer_cb, q->timeout_ms, 0);
}

/* The connection of a TCP query that timed out is closed: ask again over a
 * new one (a token of its own, when it is connected). */
static void tcp_retry_close_cb(uv_handle_t *h)
{
	struct query *q = h->data;
	q->tcp_closing = false;
	if (!q->done) {
		q->tcplen = 0;
		q->tcp_next = true;
		send_again(q);
	}
	release(q);
}

static void timer_cb(uv_timer_t *timer)
{
	struct query *q = timer->data;
	if (q->deferred_error) {
		finish(q, q->deferred_error, NULL, 0);
		return;
	}
	if (q->token_wait || q->room_held) {
		send_again(q);
		return;
	}
	/* An attempt timed out (a TCP connection not yet made counts too). */
	attempt_end(q);
	server_lost(q->t, q->srv, q->timeout_ms);
	if (!q->tcp && q->sock && q->attempts <= q->retries) {
		q->attempts++;
		send_again(q);
		return;
	}
	/* TCP is asked again too, while attempts remain (a truncated answer's
	 * fallback, or a TCP-only query): over a new connection, as the
	 * old one may be what was lost.  The attempts count UDP's and TCP's
	 * together. */
	if (q->tcp && q->tcp_open && q->attempts <= q->retries) {
		q->attempts++;
		uv_timer_stop(&q->timer); /* restarted with the new connection */
		q->tcp_open = false;
		q->tcp_closing = true;
		uv_close((uv_handle_t *)&q->tcp_handle, tcp_retry_close_cb);
		return;
	}
	finish(q, q->mismatched && !q->tcp ? CDS_EMISMATCH : CDS_ETIMEDOUT, NULL, 0);
}

static void start_query(struct query *q)
{
	struct cds_transport *t = q->t;
	int r;

	t->inflight++;
	q->srv->inflight++;
	q->attempts = 1;
	attempt_begin(q);
	r = q->tcp_only ? start_tcp(q) : start_udp(q);
	if (r != 0) {
		/* libuv contract: the callback runs later, never from inside
		 * cds_transport_query; the timer reports the error. */
		q->deferred_error = r;
		uv_timer_start(&q->timer, timer_cb, 0, 0);
		return;
	}
	uv_timer_start(&q->timer, timer_cb, q->timeout_ms, q->timeout_ms);
}

int cds_transport_query(struct cds_transport *t, const struct cds_addr *server,
			const char *qname, uint16_t qtype, unsigned flags, cds_transport_cb cb,
			void *arg)
{
	return cds_transport_query_timeout(t, server, qname, qtype, flags, 0, cb, arg);
}

int cds_transport_query_timeout(struct cds_transport *t, const struct cds_addr *server,
				const char *qname, uint16_t qtype, unsigned flags,
				uint64_t timeout_ms, cds_transport_cb cb, void *arg)
{
	uint8_t wire[256];
	int wl = cds_dname_to_wire(qname, wire);
	if (wl < 0)
		return CDS_EINVAL;
	struct query *q = query_new(t);
	if (!q)
		return CDS_ENOMEM;
	q->cb = cb;
	q->arg = arg;
	q->qtype = qtype;
	q->tcp_only = t->opts.tcp_only || (flags & CDS_QUERY_TCP);
	q->retries = (flags & CDS_QUERY_ONCE) ? 0 : t->opts.retries;
	/* A resolver recurses before it answers: it gets its own timeout. */
	q->timeout_ms = timeout_ms                                      ? timeout_ms
			: (flags & CDS_QUERY_RD) && t->opts.rd_timeout_ms ? t->opts.rd_timeout_ms
									  : t->opts.timeout_ms;
	q->srv = server_get(t, server);
	if (!q->srv) {
		query_drop(q);
		return CDS_ENOMEM;
	}
	/* Header: ID, flags (RD as asked; AD/CD clear), 1 question, 1 additional. */
	uint8_t *m = q->msg;
	new_id(q);
	m[2] = (flags & CDS_QUERY_RD) ? 0x01 : 0x00;
	m[3] = (flags & CDS_QUERY_CD) ? 0x10 : 0x00;
	m[4] = 0, m[5] = 1, m[6] = 0, m[7] = 0, m[8] = 0, m[9] = 0, m[10] = 0, m[11] = 1;
	memcpy(m + 12, wire, (size_t)wl);
	q->qname_len = (uint16_t)wl;
	size_t o = 12 + (size_t)wl;
	m[o++] = (uint8_t)(qtype >> 8);
	m[o++] = (uint8_t)qtype;
	m[o++] = 0, m[o++] = 1; /* IN */
	/* OPT (RFC 6891): root owner, type 41, class = payload size, TTL =
	 * extended RCODE, version, DO flag; no options. */
	m[o++] = 0, m[o++] = 0, m[o++] = 41;
	m[o++] = (uint8_t)(t->opts.edns_size >> 8);
	m[o++] = (uint8_t)t->opts.edns_size;
	m[o++] = 0, m[o++] = 0;
	m[o++] = (flags & CDS_QUERY_DO) ? 0x80 : 0x00;
	m[o++] = 0, m[o++] = 0, m[o++] = 0;
	q->msglen = (uint16_t)o;

	if (uv_timer_init(t->loop, &q->timer) != 0) {
		query_drop(q);
		return CDS_ENOMEM;
	}
	q->timer.data = q;
	q->timer_open = true;
	q->open_handles = 1;
	t->pending++;
	t->stats.queries++;

	struct server *s = q->srv;
	if (!s->wait_head && may_start(t, s)) {
		start_query(q);
		return 0;
	}
	if (s->wait_tail)
		s->wait_tail->wait_next = q;
	else
		s->wait_head = q;
	s->wait_tail = q;
	ready_push(t, s, false);
	/* Throttled servers are retried by the pump timer; arm it if needed. */
	if (!t->pump_armed) {
		t->pump_armed = true;
		uv_timer_start(&t->pump_timer, pump_timer_cb, PUMP_INTERVAL_MS, 0);
	}
	return 0;
}

int cds_transport_new(uv_loop_t *loop, const struct cds_transport_opts *opts,
		      struct cds_transport **out)
{
	if (!opts->max_inflight || !opts->per_server_inflight || !opts->per_server_qps ||
	    !opts->timeout_ms || opts->edns_size < 512)
		return CDS_EINVAL;
	struct cds_transport *t = calloc(1, sizeof(*t));
	if (!t)
		return CDS_ENOMEM;
	t->buckets = calloc(SERVER_BUCKETS, sizeof(*t->buckets));
	t->recv_buf = malloc(UDP_RECV_CHUNK * UDP_RECV_BATCH);
	if (!t->buckets || !t->recv_buf) {
		free(t->buckets);
		free(t->recv_buf);
		free(t);
		return CDS_ENOMEM;
	}
	t->loop = loop;
	t->opts = *opts;
	t->random_used = sizeof(t->random);
	uv_timer_init(loop, &t->pump_timer);
	t->pump_timer.data = t;
	/* Unreferenced: the outboxes' flush keeps no loop running. */
	uv_prepare_init(loop, &t->out_prepare);
	t->out_prepare.data = t;
	uv_prepare_start(&t->out_prepare, out_prepare_cb);
	uv_unref((uv_handle_t *)&t->out_prepare);
	uv_check_init(loop, &t->out_check);
	t->out_check.data = t;
	uv_check_start(&t->out_check, out_check_cb);
	uv_unref((uv_handle_t *)&t->out_check);
	/* Queries in flight hold sockets (RLIMIT_NOFILE defaults to 1024). */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	*out = t;
	return 0;
}

size_t cds_transport_pending(const struct cds_transport *t)
{
	return t->pending;
}

void cds_transport_stats(const struct cds_transport *t, struct cds_transport_stats *out)
{
	*out = t->stats;
}

static void transport_destroy(struct cds_transport *t)
{
	for (size_t i = 0; i < SERVER_BUCKETS; i++) {
		struct server *s = t->buckets[i];
		while (s) {
			struct server *next = s->hash_next;
			free(s);
			s = next;
		}
	}
	while (t->spare) {
		struct query *q = t->spare;
		t->spare = q->spare_next;
		free(q);
	}
	free(t->buckets);
	free(t->recv_buf);
	free(t);
}

static void pump_close_cb(uv_handle_t *h)
{
	struct cds_transport *t = h->data;
	if (--t->closing > 0)
		return; /* the last of its three handles frees it */
	if (t->live > 0)
		return; /* a query's handle still closes: its release frees it */
	transport_destroy(t);
}

void cds_transport_free(struct cds_transport *t)
{
	if (!t)
		return;
	/* No query is pending (the contract): close the idle sockets. */
	for (size_t i = 0; i < SERVER_BUCKETS; i++)
		for (struct server *s = t->buckets[i]; s; s = s->hash_next)
			while (s->socks)
				sock_close(s->socks);
	t->freeing = true;
	t->closing = 3;
	uv_close((uv_handle_t *)&t->pump_timer, pump_close_cb);
	uv_close((uv_handle_t *)&t->out_prepare, pump_close_cb);
	uv_close((uv_handle_t *)&t->out_check, pump_close_cb);
}
