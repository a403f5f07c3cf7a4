/* DNS transport on libuv: sends one query to one server address and returns
 * the raw answer.  UDP with random IDs and source ports, TCP after a truncated
 * answer or when configured, retries after timeouts, and politeness limits:
 * queries in flight in total and per server address, queries per second per
 * server address.  Queries beyond the limits wait in a per-server FIFO.
 *
 * Why not getdns's own transport: shared/NOTES-getdns.md measured it at
 * 7,000-22,000 queries/s with timeouts under load and aborts with its libuv
 * binding; the scan needs several times that against many addresses. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cdscan/util.h"

/* Limits and behaviour; see scan.* in cdscan.yaml(5). */
struct cds_transport_opts {
	uint32_t max_inflight;        /* queries in flight, all servers */
	uint32_t per_server_inflight; /* queries in flight per server address */
	/* Messages (first tries, retries, TCP fallbacks) per server address in
	 * any one-second window, unless qps_limits says otherwise */
	uint32_t per_server_qps;
	/* Limits for the addresses inside prefixes, the longest match winning
	 * (NULL and 0: none).  Borrowed: must outlive the transport. */
	const struct cds_qps_limit *qps_limits;
	size_t qps_limit_count;
	uint64_t timeout_ms;          /* per attempt */
	uint64_t rd_timeout_ms;       /* per attempt of a CDS_QUERY_RD query (0: timeout_ms) */
	uint32_t retries;             /* further UDP attempts after a timeout */
	bool tcp_only;                /* never UDP */
	uint16_t edns_size;           /* advertised EDNS(0) payload size */
	/* scan.source-address: queries to servers of its family leave from
	 * it (port 0: the kernel picks one); has_source false: the kernel's
	 * choice of address too. */
	bool has_source;
	struct cds_addr source;
};

/* Counters since cds_transport_new. */
struct cds_transport_stats {
	uint64_t queries;       /* queries asked for */
	uint64_t sent;          /* datagrams or TCP messages sent (retries count) */
	uint64_t send_calls;    /* system calls that sent UDP datagrams (sendmmsg
				 * sends a socket's outbox at once) */
	uint64_t received;      /* UDP datagrams received */
	uint64_t recv_calls;    /* system calls that received UDP datagrams or
				 * found none (recvmmsg takes up to 20 at once) */
	uint64_t answers;       /* queries completed with an answer */
	uint64_t timeouts;      /* completed with CDS_ETIMEDOUT (UDP: or CDS_EMISMATCH) */
	uint64_t errors;        /* queries completed with another error */
	uint64_t tcp_fallbacks; /* truncated UDP answers retried over TCP */
	uint64_t mismatched;    /* datagrams dropped: wrong ID or question */
	uint64_t window_cuts;   /* a server's congestion window halved (more than
				 * a tenth of an answering server's recent
				 * attempts timed out) */
};

struct cds_transport;

/* Query flags. */
#define CDS_QUERY_RD 0x01 /* recursion desired (to a resolver) */
#define CDS_QUERY_DO 0x02 /* DNSSEC OK */
#define CDS_QUERY_CD 0x04 /* checking disabled (RFC 4035 §3.2.2) */
#define CDS_QUERY_TCP 0x08 /* over TCP only (no UDP first) */
#define CDS_QUERY_ONCE 0x10 /* one attempt, no retry after a timeout (an RFC 9567
			       report: its answer does not matter) */

/*
 * Called exactly once per accepted query, on the loop thread.  status is 0
 * with the answer (a whole DNS message whose ID and question match the
 * query; not otherwise checked), or a negative error with answer NULL.  The
 * answer is valid only during the call.
 */
typedef void (*cds_transport_cb)(int status, const uint8_t *answer, size_t len, void *arg);

/* Create a transport on loop.  Raises RLIMIT_NOFILE to its hard limit (each
 * query in flight holds a socket).  Returns 0, CDS_EINVAL or CDS_ENOMEM. */
int cds_transport_new(uv_loop_t *loop, const struct cds_transport_opts *opts,
		      struct cds_transport **out);

/*
 * Ask server for (qname, qtype, IN).  qname is a normalised name
 * (cds_dname_normalize).  On 0 the callback runs later, exactly once; on an
 * error return it never runs.  Returns 0, CDS_EINVAL (bad name) or
 * CDS_ENOMEM.
 */
int cds_transport_query(struct cds_transport *t, const struct cds_addr *server,
			const char *qname, uint16_t qtype, unsigned flags, cds_transport_cb cb,
			void *arg);

/* The same with the time one attempt waits for its answer (0: the
 * transport's, timeout_ms or rd_timeout_ms). */
int cds_transport_query_timeout(struct cds_transport *t, const struct cds_addr *server,
				const char *qname, uint16_t qtype, unsigned flags,
				uint64_t timeout_ms, cds_transport_cb cb, void *arg);

/* Queries accepted and not yet completed. */
size_t cds_transport_pending(const struct cds_transport *t);

/* Copy the counters. */
void cds_transport_stats(const struct cds_transport *t, struct cds_transport_stats *out);

/*
 * Free the transport.  Only when no query is pending (every callback has
 * run); the memory is released when the loop runs next (the handles close
 * asynchronously), so run the loop once more before closing it.  Accepts NULL.
 */
void cds_transport_free(struct cds_transport *t);
