/* An EPP session over TLS (RFC 5734): TCP, TLS with OpenSSL (certificate
 * and host name verified unless turned off, client certificate optional),
 * every EPP data unit behind a 4-octet length that counts itself; the
 * server's <greeting>, then <login>, commands, <logout>.  Blocking sockets
 * with a deadline per exchange: epp send talks to one registry at a time
 * and waits for each answer before the next command anyway (RFC 5730 §2.1:
 * one command in flight is what every registry accepts). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cdscan/epp.h"
#include "cdscan/error.h"

/* Largest EPP data unit accepted from a server. */
#define MAX_FRAME (4u << 20)

struct cds_epp_session {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint64_t timeout_ms;
	unsigned seq; /* for session clTRIDs */
	char cltrid_prefix[64];
};

static void ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Wait until the socket is readable/writable as SSL wants, or the deadline. */
static int wait_io(struct cds_epp_session *s, int ssl_ret, uint64_t deadline)
{
	int e = SSL_get_error(s->ssl, ssl_ret);
	short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
	if (!ev)
		return CDS_EUNAVAIL;
	uint64_t t = now_ms();
	if (t >= deadline)
		return CDS_ETIMEDOUT;
	struct pollfd p = {.fd = s->fd, .events = ev};
	int r = poll(&p, 1, (int)(deadline - t));
	if (r == 0)
		return CDS_ETIMEDOUT;
	return r < 0 ? CDS_EUNAVAIL : 0;
}

static int io_all(struct cds_epp_session *s, bool write, uint8_t *buf, size_t len,
		  uint64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		int n = write ? SSL_write(s->ssl, buf + off, (int)(len - off))
			      : SSL_read(s->ssl, buf + off, (int)(len - off));
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		int r = wait_io(s, n, deadline);
		if (r != 0)
			return r;
	}
	return 0;
}

/* RFC 5734 §4: a 32-bit total length (header included), then the XML. */
static int frame_write(struct cds_epp_session *s, const char *xml, size_t len)
{
	uint64_t deadline = now_ms() + s->timeout_ms;
	uint8_t hdr[4];
	uint32_t total = (uint32_t)len + 4;
	hdr[0] = (uint8_t)(total >> 24), hdr[1] = (uint8_t)(total >> 16);
	hdr[2] = (uint8_t)(total >> 8), hdr[3] = (uint8_t)total;
	int r = io_all(s, true, hdr, 4, deadline);
	return r ? r : io_all(s, true, (uint8_t *)xml, len, deadline);
}

static int frame_read(struct cds_epp_session *s, char **out, size_t *len)
{
	uint64_t deadline = now_ms() + s->timeout_ms;
	uint8_t hdr[4];
	int r = io_all(s, false, hdr, 4, deadline);
	if (r != 0)
		return r;
	uint32_t total = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
			 hdr[3];
	if (total < 5 || total > MAX_FRAME)
		return CDS_EDATA;
	char *buf = malloc(total - 4 + 1);
	if (!buf)
		return CDS_ENOMEM;
	if ((r = io_all(s, false, (uint8_t *)buf, total - 4, deadline)) != 0) {
		free(buf);
		return r;
	}
	buf[total - 4] = '\0';
	*out = buf;
	*len = total - 4;
	return 0;
}

int cds_epp_exchange(struct cds_epp_session *s, const char *xml, size_t len,
		     struct cds_epp_response *resp, char **raw, size_t *rawlen, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	int r = frame_write(s, xml, len);
	if (r == 0)
		r = frame_read(s, &buf, &n);
	if (r != 0) {
		snprintf(err, errlen, "%s", r == CDS_ETIMEDOUT ? "no response in time"
					    : r == CDS_EDATA   ? "malformed EPP frame"
							       : "connection lost");
		return r == CDS_EDATA ? CDS_EDATA : CDS_EUNAVAIL;
	}
	r = cds_epp_parse_response(buf, n, resp);
	if (r != 0 || resp->greeting) {
		snprintf(err, errlen, "the server's answer is not an EPP response");
		free(buf);
		return CDS_EDATA;
	}
	if (raw) {
		*raw = buf;
		*rawlen = n;
	} else {
		free(buf);
	}
	return 0;
}

static int tcp_connect(const char *host, uint16_t port, uint64_t timeout_ms, char *err,
		       size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	int g = getaddrinfo(host, p, &hints, &ai);
	if (g != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(g));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
			snprintf(err, errlen, "%s port %s: %s", host, p, strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (poll(&pf, 1, (int)timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			snprintf(err, errlen, "%s port %s: %s", host, p,
				 soerr ? strerror(soerr) : "connection timed out");
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

void cds_epp_close(struct cds_epp_session *s, bool logout)
{
	if (!s)
		return;
	if (logout && s->ssl) {
		char *xml = NULL, *raw = NULL;
		size_t len = 0, rl = 0;
		char cltrid[96], err[128];
		struct cds_epp_response resp;
		snprintf(cltrid, sizeof(cltrid), "%s-logout", s->cltrid_prefix);
		if (cds_epp_logout(cltrid, &xml, &len) == 0)
			cds_epp_exchange(s, xml, len, &resp, &raw, &rl, err, sizeof(err));
		free(xml);
		free(raw);
	}
	if (s->ssl) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* The TLS context: TLS 1.2 at least, the server verified against the CA
 * file (or the system's), the client certificate when there is one. */
static int tls_context(struct cds_epp_session *s, const struct cds_epp_endpoint *ep, char *err,
		       size_t errlen)
{
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx) {
		ssl_error(err, errlen, "TLS");
		return CDS_EUNAVAIL;
	}
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	if (ep->verify) {
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
		if ((ep->ca_file ? SSL_CTX_load_verify_locations(s->ctx, ep->ca_file, NULL)
				 : SSL_CTX_set_default_verify_paths(s->ctx)) != 1) {
			ssl_error(err, errlen, ep->ca_file ? ep->ca_file : "the system's CA bundle");
			return CDS_ECONFIG;
		}
	}
	if (ep->client_cert &&
	    (SSL_CTX_use_certificate_chain_file(s->ctx, ep->client_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(s->ctx, ep->client_key ? ep->client_key : ep->client_cert,
					 SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(s->ctx) != 1)) {
		ssl_error(err, errlen, ep->client_cert);
		return CDS_ECONFIG;
	}
	return 0;
}

/* Connect and shake hands; the certificate must carry the server's name,
 * or its address when it is one. */
static int tls_connect(struct cds_epp_session *s, const struct cds_epp_endpoint *ep, char *err,
		       size_t errlen)
{
	s->fd = tcp_connect(ep->server, ep->port, s->timeout_ms, err, errlen);
	if (s->fd < 0)
		return CDS_EUNAVAIL;
	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) {
		ssl_error(err, errlen, "TLS");
		return CDS_EUNAVAIL;
	}
	SSL_set_tlsext_host_name(s->ssl, ep->server);
	if (ep->verify) {
		unsigned char a[16];
		X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
		if (inet_pton(AF_INET, ep->server, a) == 1 || inet_pton(AF_INET6, ep->server, a) == 1)
			X509_VERIFY_PARAM_set1_ip_asc(vp, ep->server);
		else
			SSL_set1_host(s->ssl, ep->server);
	}
	uint64_t deadline = now_ms() + s->timeout_ms;
	for (;;) {
		int c = SSL_connect(s->ssl);
		if (c == 1)
			return 0;
		if (SSL_get_error(s->ssl, c) == SSL_ERROR_SSL || wait_io(s, c, deadline) != 0) {
			long v = SSL_get_verify_result(s->ssl);
			if (v != X509_V_OK)
				snprintf(err, errlen, "%s: certificate: %s", ep->server,
					 X509_verify_cert_error_string(v));
			else
				ssl_error(err, errlen, "TLS handshake");
			return CDS_EUNAVAIL;
		}
	}
}

/* The greeting (RFC 5730 §2.4), then <login>. */
static int greet_and_login(struct cds_epp_session *s, const struct cds_epp_endpoint *ep,
			   char *err, size_t errlen)
{
	char *buf = NULL, *xml = NULL, cltrid[96];
	size_t n = 0, len = 0;
	struct cds_epp_response resp;
	int r = frame_read(s, &buf, &n);
	if (r != 0 || cds_epp_parse_response(buf, n, &resp) != 0 || !resp.greeting) {
		snprintf(err, errlen, "%s: no EPP greeting", ep->server);
		free(buf);
		return CDS_EUNAVAIL;
	}
	free(buf);
	snprintf(cltrid, sizeof(cltrid), "%s-login", s->cltrid_prefix);
	if ((r = cds_epp_login(ep->username, ep->password, cltrid, &xml, &len)) != 0)
		return r;
	r = cds_epp_exchange(s, xml, len, &resp, NULL, NULL, err, errlen);
	/* The login carried the password: wipe the copy. */
	OPENSSL_cleanse(xml, len);
	free(xml);
	if (r != 0)
		return r;
	if (resp.code != 1000) {
		snprintf(err, errlen, "login refused: %d %s", resp.code, resp.msg);
		return resp.code == 2200 || resp.code == 2201 ? CDS_ECONFIG : CDS_EUNAVAIL;
	}
	return 0;
}

int cds_epp_open(const struct cds_epp_endpoint *ep, struct cds_epp_session **out, char *err,
		 size_t errlen)
{
	struct cds_epp_session *s = calloc(1, sizeof(*s));
	int r;
	if (!s)
		return CDS_ENOMEM;
	s->fd = -1;
	s->timeout_ms = ep->timeout_ms ? ep->timeout_ms : 30000;
	snprintf(s->cltrid_prefix, sizeof(s->cltrid_prefix), "cdscan-session-%ld-%ld",
		 (long)getpid(), (long)time(NULL));
	if ((r = tls_context(s, ep, err, errlen)) != 0 || (r = tls_connect(s, ep, err, errlen)) != 0 ||
	    (r = greet_and_login(s, ep, err, errlen)) != 0) {
		cds_epp_close(s, false);
		return r;
	}
	*out = s;
	return 0;
}
