/* The daemon's HTTP endpoint (libmicrohttpd): GET /metrics (Prometheus
 * text), /healthz, /status/DOMAIN (JSON, or HTML for a browser).  It runs
 * on one thread of its own with a database connection of its own: the
 * daemon's loop never waits for it, and it never touches the loop. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/metrics.h"

/* The defaults of struct cds_http_opts, for a field left 0. */
#define CDS_HTTP_DEFAULT_PORT               9153 /* when listen names none */
#define CDS_HTTP_DEFAULT_MAX_CONNECTIONS    32
#define CDS_HTTP_DEFAULT_PER_IP_CONNECTIONS 8
#define CDS_HTTP_DEFAULT_TIMEOUT_S          10
#define CDS_HTTP_DEFAULT_REQUEST_BYTES      16384
#define CDS_HTTP_DEFAULT_URL_BYTES          1024
#define CDS_HTTP_DEFAULT_DB_CONNECT_S       5
#define CDS_HTTP_DEFAULT_DB_STATEMENT_MS    5000

/* What the endpoint serves, where, and its limits.  A limit left 0 takes
 * its default (CDS_HTTP_DEFAULT_*). */
struct cds_http_opts {
	/* ADDR to listen on (CONTRACT.md): "127.0.0.1#9153", "::1#9153"; no
	 * port: CDS_HTTP_DEFAULT_PORT.  Borrowed during cds_http_start. */
	const char *listen;
	/* libpq connection string of the endpoint's own connection (copied). */
	const char *conninfo;
	/* The daemon's metrics (borrowed: must outlive the endpoint). */
	struct cds_metrics *metrics;
	/* Set by the daemon while its resolver answers; /healthz reads it.
	 * Borrowed (must outlive the endpoint); NULL: not checked. */
	const atomic_bool *resolver_up;
	/* policy.unreachable-after in seconds, for /status (which failing
	 * addresses a decision leaves out). */
	uint64_t unreachable_after_s;
	unsigned max_connections;    /* open at once, all clients */
	unsigned per_ip_connections; /* open at once from one address */
	unsigned timeout_s;          /* an idle connection is closed after */
	/* Memory per connection, which bounds the request line and headers
	 * (libmicrohttpd answers 414 or 431 beyond it). */
	size_t max_request_bytes;
	size_t max_url_bytes;          /* longer URL path: 414 */
	unsigned db_connect_timeout_s; /* libpq connect_timeout (at least 2) */
	unsigned db_statement_ms;      /* statement_timeout of each query */
};

struct cds_http;

/*
 * Listen on o->listen and start the endpoint's thread; it answers at once.
 * The database is connected by the first request that needs it, and again
 * after it was lost, never here: starting does not wait for the database.
 * Call from the loop thread (or any one thread).  Returns 0, CDS_ESYNTAX
 * (o->listen is no ADDR), CDS_EINVAL (no metrics), CDS_EUNAVAIL (cannot
 * listen: the address in use, not local, no permission) or CDS_ENOMEM,
 * with err set.
 */
int cds_http_start(const struct cds_http_opts *o, struct cds_http **out, char *err, size_t errlen);

/* The port h listens on. */
uint16_t cds_http_port(const struct cds_http *h);

/* Stop listening, close every connection, end the thread (waiting for a
 * request in progress, which the database timeouts bound), close the
 * database connection and free h.  Same thread as cds_http_start.  Accepts
 * NULL. */
void cds_http_stop(struct cds_http *h);

/* Does an HTTP Accept header prefer text/html to application/json
 * (RFC 9110 §12.5.1: the q of the most specific matching range)?  NULL or
 * a tie: no (JSON). */
bool cds_http_accept_html(const char *accept);
