/* The daemon's HTTP endpoint: libmicrohttpd with its own polling thread.
 *
 * One thread (MHD_USE_AUTO_INTERNAL_THREAD: epoll on Linux) reads and
 * writes every connection without blocking and runs the handlers, rather
 * than a thread per connection: the handlers' work is the database, and a
 * libpq connection may be used by one thread at a time, so requests would
 * queue for the one connection anyway; one thread uses it without a lock,
 * costs one stack whatever the clients do, and a slow or idle client holds
 * a connection slot (bounded, and closed after the timeout), never the
 * thread.  What a handler can wait for is bounded by the database
 * timeouts.  The daemon's loop shares only the metrics (atomics) and the
 * resolver flag (an atomic) with this thread. */
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdscan/db.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/http.h"
#include "cdscan/log.h"
#include "cdscan/report.h"
#include "cdscan/util.h"

/* What pg_stat_activity shows for the endpoint's connection. */
#define APP_NAME "cdscan-http"

struct cds_http {
	struct MHD_Daemon *mhd;
	struct cds_http_opts o; /* defaults filled in; listen and conninfo not kept */
	char *conninfo;         /* owned copy */
	uint16_t port;
	/* The HTTP thread's alone, after cds_http_start. */
	struct cds_db *db; /* NULL: not connected (yet, or lost) */
	bool db_down;      /* the last request found it down (logged once) */
};

static void fill_defaults(struct cds_http_opts *o)
{
#define DEFAULT(field, value)                                                                      \
	do {                                                                                       \
		if (!o->field)                                                                     \
			o->field = value;                                                          \
	} while (0)
	DEFAULT(max_connections, CDS_HTTP_DEFAULT_MAX_CONNECTIONS);
	DEFAULT(per_ip_connections, CDS_HTTP_DEFAULT_PER_IP_CONNECTIONS);
	DEFAULT(timeout_s, CDS_HTTP_DEFAULT_TIMEOUT_S);
	DEFAULT(max_request_bytes, CDS_HTTP_DEFAULT_REQUEST_BYTES);
	DEFAULT(max_url_bytes, CDS_HTTP_DEFAULT_URL_BYTES);
	DEFAULT(db_connect_timeout_s, CDS_HTTP_DEFAULT_DB_CONNECT_S);
	DEFAULT(db_statement_ms, CDS_HTTP_DEFAULT_DB_STATEMENT_MS);
#undef DEFAULT
}

/* ----------------------------------------------------------- database --- */

/* One piece of work on the database. */
typedef int (*db_work_t)(struct cds_db *db, void *arg, char *err, size_t errlen);

/*
 * Run work on the endpoint's connection, connecting first when there is
 * none.  When the server dropped the connection (a restart, a failover),
 * the work runs once more on a new one, so that the first request after a
 * restart is answered; a query that merely failed (a statement timeout)
 * is not repeated.  A database that went down or came back is logged once.
 */
static int with_db(struct cds_http *h, db_work_t work, void *arg)
{
	char err[512] = "";
	int r = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!h->db && (r = cds_db_connect_bounded(
				       h->conninfo, APP_NAME, h->o.db_connect_timeout_s,
				       h->o.db_statement_ms, &h->db, err, sizeof(err))) != 0)
			break;
		if ((r = work(h->db, arg, err, sizeof(err))) == 0 || cds_db_connection_ok(h->db))
			break;
		cds_db_close(h->db);
		h->db = NULL;
	}
	bool down = r == CDS_EUNAVAIL;
	if (down && !h->db_down)
		cds_log_warning("http: the database does not answer (%s)", err);
	else if (!down && h->db_down)
		cds_log_notice("http: the database answers again");
	h->db_down = down;
	return r;
}

static int ping_work(struct cds_db *db, void *arg, char *err, size_t errlen)
{
	return cds_db_ping(db, err, errlen);
}

static int gauges_work(struct cds_db *db, void *arg, char *err, size_t errlen)
{
	return cds_db_gauges_read(db, arg, err, errlen);
}

/* /status: one domain's public JSON, with this many of its latest
 * verdicts and change sets (cdscan(8), HTTP endpoint). */
#define STATUS_HISTORY 10
struct status_query {
	const char *domain;
	uint64_t unreachable_after_s;
	char *json; /* out, owned */
};

static int status_work(struct cds_db *db, void *arg, char *err, size_t errlen)
{
	struct status_query *q = arg;
	free(q->json);
	q->json = NULL;
	return cds_db_domain_public_json(db, q->domain, q->unreachable_after_s, STATUS_HISTORY,
					 &q->json, err, errlen);
}

/* ---------------------------------------------------------- responses --- */

/* Headers every response carries: nothing is cached (metrics and state
 * change from one request to the next), no type is sniffed. */
static const char *const common_headers[] = {
	"Cache-Control", "no-store", "X-Content-Type-Options", "nosniff", NULL,
};

/* The status page: styles inline, nothing else loads or runs, even if some
 * text escaped its escaping. */
static const char *const html_headers[] = {
	"Content-Security-Policy",
	"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
	"frame-ancestors 'none'",
	"Vary",
	"Accept",
	NULL,
};
static const char *const json_headers[] = {"Vary", "Accept", NULL};
static const char *const allow_headers[] = {"Allow", "GET, HEAD", NULL};

static void add_headers(struct MHD_Response *resp, const char *const *h)
{
	for (; h && h[0]; h += 2)
		MHD_add_response_header(resp, h[0], h[1]);
}

/* Queue body (len bytes; owned: malloc'd, freed by libmicrohttpd, else
 * static) with status, type and the extra headers (name, value, ...,
 * NULL). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, bool owned, const char *const *extra)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	add_headers(resp, common_headers);
	add_headers(resp, extra);
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A static text. */
static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *s,
			    const char *const *extra)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)s, strlen(s), false, extra);
}

/* A JSON error object; domain (normalised: letters, digits, '-', '_', '*'
 * and dots, nothing to escape) or NULL. */
static enum MHD_Result json_error(struct MHD_Connection *c, unsigned status, const char *error,
				  const char *domain)
{
	char *body = NULL;
	int n = domain ? asprintf(&body, "{\"error\": \"%s\", \"domain\": \"%s\"}\n", error, domain)
		       : asprintf(&body, "{\"error\": \"%s\"}\n", error);
	if (n < 0)
		return MHD_NO;
	return reply(c, status, "application/json", body, (size_t)n, true, json_headers);
}

/* ---------------------------------------------------------- endpoints --- */

static enum MHD_Result serve_metrics(struct cds_http *h, struct MHD_Connection *c)
{
	struct cds_db_gauges g;
	bool up = with_db(h, gauges_work, &g) == 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	int r = cds_metrics_render(h->o.metrics, up ? &g : NULL, f);
	if (fclose(f) != 0 || r != 0) {
		free(buf);
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	return reply(c, MHD_HTTP_OK, CDS_METRICS_CONTENT_TYPE, buf, len, true, NULL);
}

/* 200 while the database answers a trivial query and the daemon's
 * resolver is up; 503 with the reason otherwise (details in the log). */
static enum MHD_Result serve_health(struct cds_http *h, struct MHD_Connection *c)
{
	bool db = with_db(h, ping_work, NULL) == 0;
	bool resolver =
		!h->o.resolver_up || atomic_load_explicit(h->o.resolver_up, memory_order_relaxed);
	if (db && resolver)
		return text(c, MHD_HTTP_OK, "ok\n", NULL);
	if (db)
		return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "resolver unreachable\n", NULL);
	if (resolver)
		return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable\n", NULL);
	return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable, resolver unreachable\n",
		    NULL);
}

/* The domain's page for a browser; json is consumed. */
static enum MHD_Result serve_html(struct MHD_Connection *c, char *json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r = f ? cds_report_status_html(json, f) : CDS_ENOMEM;
	if (f && fclose(f) != 0 && r == 0)
		r = CDS_ENOMEM;
	free(json);
	if (r != 0) {
		free(buf);
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the page\n", NULL);
	}
	return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", buf, len, true, html_headers);
}

/* /status/NAME: the JSON of `domain show --json`, or its page when the
 * client prefers HTML. */
static enum MHD_Result serve_status(struct cds_http *h, struct MHD_Connection *c, const char *name)
{
	char domain[CDS_DNAME_BUFSIZE];
	if (cds_dname_normalize(name, domain) != 0)
		return json_error(c, MHD_HTTP_BAD_REQUEST, "malformed domain name", NULL);
	struct status_query q = {.domain = domain, .unreachable_after_s = h->o.unreachable_after_s};
	int r = with_db(h, status_work, &q);
	if (r != 0) {
		free(q.json);
		if (r == CDS_ENOENT)
			return json_error(c, MHD_HTTP_NOT_FOUND, "no such delegation", domain);
		if (r == CDS_EUNAVAIL)
			return json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database unavailable",
					  NULL);
		return json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error", NULL);
	}
	const char *accept =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	if (cds_http_accept_html(accept))
		return serve_html(c, q.json);
	return reply(c, MHD_HTTP_OK, "application/json", q.json, strlen(q.json), true,
		     json_headers);
}

/* Does the request announce a body? */
static bool has_body(struct MHD_Connection *c)
{
	const char *len =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (len && strcmp(len, "0") != 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* libmicrohttpd's handler.  A GET or HEAD is answered on the second call,
 * once the request is complete (answered on the first, libmicrohttpd
 * closes the connection after the response, losing keep-alive).  Any other
 * method, or a body, is refused at once and never read: libmicrohttpd
 * closes such a connection after the response. */
static enum MHD_Result request_cb(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	static const char seen; /* *req once the first call is done */
	struct cds_http *h = cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", allow_headers);
	if (!*req) {
		/* A GET has no body (RFC 9110 §9.3.1); one announced is
		 * refused before it is read. */
		if (has_body(c))
			return text(c, MHD_HTTP_BAD_REQUEST, "a GET request has no body\n", NULL);
		*req = (void *)&seen;
		return MHD_YES;
	}
	if (*upload_size) { /* cannot be: no body was announced */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strlen(url) > h->o.max_url_bytes)
		return text(c, MHD_HTTP_URI_TOO_LONG, "URI too long\n", NULL);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, c);
	if (strcmp(url, "/healthz") == 0)
		return serve_health(h, c);
	if (strncmp(url, "/status/", 8) == 0)
		return serve_status(h, c, url + 8);
	return text(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
}

/* ------------------------------------------------------------- Accept --- */

/* The q parameter of a media range's parameters (after its first ';'):
 * 1 without one (RFC 9110 §12.4.2). */
static double range_q(const char *params)
{
	while (params && *params) {
		params += strspn(params, " \t");
		if ((params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
			double q = strtod(params + 2, NULL);
			if (!(q > 0)) /* also NaN */
				return 0;
			return q < 1 ? q : 1;
		}
		params = strchr(params, ';');
		if (params)
			params++;
	}
	return 1;
}

/* How specifically the range (type/subtype, lower case) names type: 3
 * exactly, 2 as type / *, 1 as * / *, 0 not at all. */
static int specificity(const char *range, const char *type)
{
	size_t major = strcspn(type, "/");
	if (strcmp(range, type) == 0)
		return 3;
	if (strncmp(range, type, major + 1) == 0 && strcmp(range + major + 1, "*") == 0)
		return 2;
	return strcmp(range, "*/*") == 0 ? 1 : 0;
}

/* One media range (n bytes at p): how specifically it names type, and its
 * q into *q.  A range longer than any media type is ignored. */
static int one_range(const char *p, size_t n, const char *type, double *q)
{
	char range[128];
	if (n >= sizeof(range))
		return 0;
	memcpy(range, p, n);
	range[n] = '\0';
	char *start = range + strspn(range, " \t"), *params = strchr(start, ';');
	if (params)
		*params++ = '\0';
	start[strcspn(start, " \t")] = '\0';
	for (char *s = start; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	*q = range_q(params);
	return specificity(start, type);
}

/* The q an Accept header gives type: that of its most specific range. */
static double accept_q(const char *accept, const char *type)
{
	double q = 0, rq = 0;
	int best = 0;
	for (const char *p = accept; *p;) {
		size_t n = strcspn(p, ",");
		int spec = one_range(p, n, type, &rq);
		if (spec > best) {
			best = spec;
			q = rq;
		}
		p += n + (p[n] == ',');
	}
	return q;
}

bool cds_http_accept_html(const char *accept)
{
	if (!accept)
		return false;
	double html = accept_q(accept, "text/html");
	return html > 0 && html > accept_q(accept, "application/json");
}

/* -------------------------------------------------------- start, stop --- */

/* libmicrohttpd's messages are about single connections (a client gone,
 * the connection limit reached): for debugging, not for every flood. */
static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	cds_log_debug("http: %s", msg);
}

/* A listening TCP socket on a, so that a failure says why (errno). */
static int listen_on(const struct cds_addr *a, const char *text, int *fd, char *err, size_t errlen)
{
	int one = 1, s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (a->ss.ss_family == AF_INET6 &&
	     setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(s, (const struct sockaddr *)&a->ss, a->len) != 0 || listen(s, 64) != 0) {
		snprintf(err, errlen, "cannot listen on %s for HTTP (%s)", text, strerror(errno));
		if (s >= 0)
			close(s);
		return CDS_EUNAVAIL;
	}
	*fd = s;
	return 0;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* libmicrohttpd on the listening socket fd, which it owns once started. */
static int start_mhd(struct cds_http *h, int fd, int family, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct stat before, after;
	fstat(fd, &before);
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, request_cb, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log_cb, h,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, h->o.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.per_ip_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, h->o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		h->o.max_request_bytes, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
	if (h->mhd)
		return 0;
	snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd %s)", MHD_get_version());
	/* Close the socket unless libmicrohttpd did: the same descriptor
	 * number may be another thread's new file by now, so it is closed
	 * only while it is still this socket. */
	if (fstat(fd, &after) == 0 && after.st_ino == before.st_ino &&
	    after.st_dev == before.st_dev)
		close(fd);
	return CDS_EUNAVAIL;
}

int cds_http_start(const struct cds_http_opts *o, struct cds_http **out, char *err, size_t errlen)
{
	struct cds_addr addr;
	int fd = -1, r;
	if (!o->metrics) {
		snprintf(err, errlen, "no metrics for the HTTP endpoint");
		return CDS_EINVAL;
	}
	if (!o->listen || cds_addr_parse(o->listen, CDS_HTTP_DEFAULT_PORT, &addr) != 0) {
		snprintf(err, errlen, "malformed HTTP listen address '%s' (want ADDR or ADDR#PORT)",
			 o->listen ? o->listen : "");
		return CDS_ESYNTAX;
	}
	struct cds_http *h = calloc(1, sizeof(*h));
	if (!h || !(h->conninfo = strdup(o->conninfo ? o->conninfo : ""))) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return CDS_ENOMEM;
	}
	h->o = *o;
	h->o.listen = h->o.conninfo = NULL;
	fill_defaults(&h->o);
	if ((r = listen_on(&addr, o->listen, &fd, err, errlen)) != 0)
		goto fail;
	h->port = port_of(fd);
	if ((r = start_mhd(h, fd, addr.ss.ss_family, err, errlen)) != 0)
		goto fail;
	*out = h;
	return 0;
fail:
	free(h->conninfo);
	free(h);
	return r;
}

uint16_t cds_http_port(const struct cds_http *h)
{
	return h->port;
}

void cds_http_stop(struct cds_http *h)
{
	if (!h)
		return;
	/* Joins the thread: no handler runs after this. */
	MHD_stop_daemon(h->mhd);
	cds_db_close(h->db);
	free(h->conninfo);
	free(h);
}
