/* Resolver-side validation benchmark: the same validated look-ups through a
 * validating resolver, done by cdscan's src/dns/trust.c (CD set, the chain
 * validated here link by link) or by getdns 1.6 as a validating stub; prints
 * look-ups/s, CPU per look-up, queries sent, RSS and the statuses
 * (bench/README.md; bench/trust_run drives it on the lab).  Measures; asserts
 * nothing about speed.
 *
 *   trust_bench --method trust|getdns-sync|getdns-async|getdns-uv|getdns-thread
 *               --resolver ADDR --anchor FILE --names FILE
 *               [--inflight K] [--ext all|status|only-secure|chain] [--list]
 *
 * FILE of names: "NAME TYPE" a line (TYPE: A, NS, SOA, DS, DNSKEY, CDS,
 * CDNSKEY).  With --list, one line "LOOKUP NAME TYPE STATUS MISSING" per
 * look-up; always one line "RESULT {json}" at the end.  TRUST_BENCH_DEBUG=1
 * in the environment prints why getdns look-ups ended in error.
 *
 * trust.h is internal to src/dns; the benchmark includes it to measure
 * exactly what the scanner runs for RFC 9615 signals (cds_trust_rrset), on
 * a fresh cache as at the start of a scan. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <getdns/getdns.h>
#include <getdns/getdns_ext_libuv.h>
#include <getdns/getdns_extra.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cdscan/dns.h"
#include "cdscan/transport.h"
#include "cdscan/util.h"
#include "cdscan/zone.h"
#include "cdscan/trust.h"

/* What both sides' answers are mapped to (RFC 4035 §4.3, plus "no answer"). */
enum outcome { O_SECURE, O_INSECURE, O_BOGUS, O_INDETERMINATE, O_ERROR, O_COUNT };
static const char *const outcome_names[O_COUNT] = {"secure", "insecure", "bogus", "indeterminate",
                                                   "error"};

struct bench;

struct lookup {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	enum outcome outcome;
	bool missing; /* NXDOMAIN or NODATA */
	struct bench *b;
};

struct bench {
	const char *method;
	const char *ext_name;
	const char *resolver;
	const char *anchor;
	struct lookup *q;
	size_t n, started, done;
	size_t inflight;
	bool starting;
	int (*start)(struct bench *b, struct lookup *l);
	size_t counts[O_COUNT];
	size_t missing;
	size_t submit_errors;
	double t_start, t_last_ok; /* the run began; the last look-up with an answer ended */
	uint64_t queries;          /* sent to the resolver */
	uv_loop_t *loop;           /* trust, getdns-uv */
	/* trust */
	struct cds_transport *transport;
	struct cds_trust *trust;
	/* getdns */
	getdns_context *ctx;
	getdns_dict *ext;
	/* getdns-thread: look-ups handed to getdns's thread, outcomes back */
	pthread_t thread;
	pthread_mutex_t lock;
	int wake_fd;                   /* eventfd the getdns loop watches */
	getdns_eventloop_event wake;   /* ... as an event of that loop */
	uv_async_t async;              /* the uv loop's wake-up */
	struct lookup **todo, **taken; /* for getdns (n each) */
	size_t todo_n;
	struct handback *back, *back_taken; /* for the uv loop (n each) */
	size_t back_n;
	bool quit;
};

/* An outcome on its way from getdns's thread to the uv loop. */
struct handback {
	struct lookup *l;
	enum outcome o;
	bool missing;
};

/* --------------------------------------------------- queries sent --- */

/* getdns sends its UDP queries with sendto and its TCP ones with send; the
 * benchmark counts them by standing in front of libc's.  (cdscan's
 * transport uses neither and counts its own: cds_transport_stats.) */
static uint64_t libc_sends;

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "sendto");
	libc_sends++;
	return real(fd, buf, len, flags, to, tolen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "send");
	libc_sends++;
	return real(fd, buf, len, flags);
}

/* -------------------------------------------------------- helpers --- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the whole process (every thread), user + system. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Peak RSS of this program (VmHWM: ru_maxrss would carry the peak of the
 * process image before exec, the driver's Python). */
static long maxrss_kib(void)
{
	char line[128];
	long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", CDS_T_A},           {"NS", CDS_T_NS},   {"SOA", CDS_T_SOA},        {"DS", CDS_T_DS},
    {"DNSKEY", CDS_T_DNSKEY}, {"CDS", CDS_T_CDS}, {"CDNSKEY", CDS_T_CDNSKEY}};

static const char *type_name(uint16_t t)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return types[i].name;
	return "?";
}

static int load_names(const char *path, struct bench *b)
{
	char line[600] = "", name[300], type[20];
	size_t cap = 0;
	int r = -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%299s %19s", name, type) != 2)
			continue;
		if (b->n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct lookup *q = realloc(b->q, cap * sizeof(*q));
			if (!q)
				goto out;
			b->q = q;
		}
		struct lookup *l = &b->q[b->n];
		memset(l, 0, sizeof(*l));
		l->b = b;
		if (cds_dname_normalize(name, l->name) != 0)
			goto out;
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(types[i].name, type) == 0)
				l->type = types[i].type;
		if (!l->type)
			goto out;
		b->n++;
	}
	r = 0;
out:
	if (r != 0)
		fprintf(stderr, "trust_bench: %s: cannot use the line: %s", path, line);
	fclose(f);
	return r;
}

static void record(struct lookup *l, enum outcome o, bool missing)
{
	struct bench *b = l->b;
	l->outcome = o;
	l->missing = missing;
	b->counts[o]++;
	b->missing += missing;
	b->done++;
	if (o != O_ERROR)
		b->t_last_ok = now_s();
	if (b->done == b->n && b->loop)
		uv_stop(b->loop);
}

/* Keep b->inflight look-ups going.  A look-up may finish inside start
 * (trust.c answers from its cache at once), hence the guard: the loop
 * here, not recursion, starts the next one. */
static void start_more(struct bench *b)
{
	if (b->starting)
		return;
	b->starting = true;
	while (b->started < b->n && b->started - b->done < b->inflight) {
		struct lookup *l = &b->q[b->started++];
		if (b->start(b, l) != 0) {
			b->submit_errors++;
			record(l, O_ERROR, false);
		}
	}
	b->starting = false;
}

/* -------------------------------------------- (a) cdscan's trust.c --- */

static void trust_cb(const struct cds_trust_result *r, void *arg)
{
	struct lookup *l = arg;
	enum outcome o = O_ERROR;
	switch (r->error ? CDS_DNSSEC_ERROR : r->status) {
	case CDS_DNSSEC_SECURE:
		o = O_SECURE;
		break;
	case CDS_DNSSEC_INSECURE:
		o = O_INSECURE;
		break;
	case CDS_DNSSEC_BOGUS:
		o = O_BOGUS;
		break;
	case CDS_DNSSEC_INDETERMINATE:
		o = O_INDETERMINATE;
		break;
	default:
		break;
	}
	record(l, o, r->missing);
	start_more(l->b);
}

static int trust_start(struct bench *b, struct lookup *l)
{
	return cds_trust_rrset(b->trust, l->name, l->type, trust_cb, l);
}

/* The anchor's DS records (DNSKEYs become their SHA-256 DS), as the
 * scanner reads resolver.trust-anchor (cds_scanner_trust_anchor). */
static int trust_anchor(struct bench *b)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	struct cds_ds ds[16];
	char owner[CDS_DNAME_BUFSIZE] = "", err[300];
	size_t n = 0;
	int r;
	if (cds_zone_open(b->anchor, ".", &z, err, sizeof(err)) != 0) {
		fprintf(stderr, "trust_bench: %s\n", err);
		return -1;
	}
	while ((r = cds_zone_next(z, &rr, err, sizeof(err))) == 1) {
		if ((rr.type == CDS_T_DS || rr.type == CDS_T_DNSKEY) && n < 16) {
			snprintf(owner, sizeof(owner), "%s", rr.owner);
			ds[n++] = rr.ds;
		}
	}
	cds_zone_close(z);
	if (r != 0 || n == 0) {
		fprintf(stderr, "trust_bench: %s: no usable DS\n", b->anchor);
		return -1;
	}
	return cds_trust_set_anchor(b->trust, owner, ds, n);
}

static int trust_setup(struct bench *b)
{
	struct cds_addr resolver;
	/* The product's limits on one server (64 in flight, 2,000 q/s) are
	 * politeness towards authoritative servers; here both sides may ask
	 * the resolver as fast as they go.  Timeout and retries: cdscan's
	 * defaults for a resolver (resolver.timeout 5 s, scan.retries 2). */
	struct cds_transport_opts o = {
	    .max_inflight = 4096,
	    .per_server_inflight = 4096,
	    .per_server_qps = 10000000,
	    .timeout_ms = 2000,
	    .rd_timeout_ms = 5000,
	    .retries = 2,
	    .edns_size = 1232,
	};
	if (cds_addr_parse(b->resolver, 53, &resolver) != 0 ||
	    cds_transport_new(b->loop, &o, &b->transport) != 0 ||
	    !(b->trust = cds_trust_new(b->loop, b->transport, &resolver)))
		return -1;
	b->start = trust_start;
	return trust_anchor(b);
}

static void trust_run(struct bench *b)
{
	struct cds_transport_stats st;
	start_more(b);
	if (b->done < b->n)
		uv_run(b->loop, UV_RUN_DEFAULT);
	cds_transport_stats(b->transport, &st);
	b->queries = st.sent;
}

static void trust_teardown(struct bench *b)
{
	cds_trust_free(b->trust);
	cds_transport_free(b->transport);
}

/* ------------------------------------------ (b) getdns as a stub --- */

static enum outcome getdns_outcome(uint32_t dnssec_status)
{
	switch (dnssec_status) {
	case GETDNS_DNSSEC_SECURE:
		return O_SECURE;
	case GETDNS_DNSSEC_INSECURE:
		return O_INSECURE;
	case GETDNS_DNSSEC_BOGUS:
		return O_BOGUS;
	case GETDNS_DNSSEC_INDETERMINATE:
		return O_INDETERMINATE;
	default:
		return O_ERROR;
	}
}

/* The look-up's outcome from getdns's response: the first reply's
 * dnssec_status (--ext all keeps every reply).  With dnssec_return_status
 * getdns leaves bogus replies out and answers NO_NAME with no reply at all
 * (recorded as error: the caller cannot tell more); with
 * dnssec_return_only_secure it answers ALL_BOGUS_ANSWERS or
 * NO_SECURE_ANSWERS (insecure, or a denial not proven). */
static enum outcome getdns_judge(const struct lookup *l, getdns_callback_type_t t,
                                 getdns_dict *resp, bool *missing)
{
	uint32_t status = 0, dstat = 0, rcode = 0, type = 0;
	getdns_list *answer = NULL;
	getdns_dict *reply = NULL;
	size_t count = 0;
	bool found = false, debug = getenv("TRUST_BENCH_DEBUG") != NULL;
	*missing = false;
	if (t != GETDNS_CALLBACK_COMPLETE || !resp ||
	    getdns_dict_get_int(resp, "status", &status) != GETDNS_RETURN_GOOD) {
		if (debug)
			fprintf(stderr, "%s %s: callback type %d\n", l->name, type_name(l->type),
			        (int)t);
		return O_ERROR;
	}
	if (status == GETDNS_RESPSTATUS_ALL_BOGUS_ANSWERS)
		return O_BOGUS;
	if (status == GETDNS_RESPSTATUS_NO_SECURE_ANSWERS)
		return O_INSECURE; /* insecure, or a denial not proven */
	if (getdns_dict_get_dict(resp, "/replies_tree/0", &reply) != GETDNS_RETURN_GOOD ||
	    getdns_dict_get_int(reply, "/header/rcode", &rcode) != GETDNS_RETURN_GOOD) {
		if (debug)
			fprintf(stderr, "%s %s: no reply (status %u)\n", l->name,
			        type_name(l->type), status);
		return O_ERROR;
	}
	if (rcode != 0 && rcode != 3) {
		if (debug)
			fprintf(stderr, "%s %s: rcode %u\n", l->name, type_name(l->type), rcode);
		return O_ERROR;
	}
	if (getdns_dict_get_int(reply, "dnssec_status", &dstat) != GETDNS_RETURN_GOOD)
		dstat = strcmp(l->b->ext_name, "only-secure") == 0 ? GETDNS_DNSSEC_SECURE : 0;
	if (getdns_dict_get_list(reply, "answer", &answer) == GETDNS_RETURN_GOOD)
		getdns_list_get_length(answer, &count);
	for (size_t i = 0; i < count && !found; i++) {
		getdns_dict *rr = NULL;
		found = getdns_list_get_dict(answer, i, &rr) == GETDNS_RETURN_GOOD &&
		        getdns_dict_get_int(rr, "type", &type) == GETDNS_RETURN_GOOD &&
		        type == l->type;
	}
	*missing = !found;
	return getdns_outcome(dstat);
}

static void getdns_record(struct lookup *l, getdns_callback_type_t t, getdns_dict *resp)
{
	bool missing;
	enum outcome o = getdns_judge(l, t, resp, &missing);
	record(l, o, missing);
}

static void getdns_cb(getdns_context *ctx, getdns_callback_type_t t, getdns_dict *resp, void *arg,
                      getdns_transaction_t id)
{
	struct lookup *l = arg;
	getdns_record(l, t, resp);
	getdns_dict_destroy(resp);
	start_more(l->b);
}

static int getdns_start(struct bench *b, struct lookup *l)
{
	getdns_transaction_t id;
	return getdns_general(b->ctx, l->name, l->type, b->ext, l, &id, getdns_cb) ==
	               GETDNS_RETURN_GOOD
	           ? 0
	           : -1;
}

/* (b') getdns on its own event loop in a thread of its own, beside the uv
 * loop, as cdscan would have to run it (its libuv extension does not
 * survive a TCP fallback): look-ups go to that thread through a list and an
 * eventfd its loop watches, outcomes come back through a uv_async.  The
 * context is used by that thread only while it runs (getdns contexts are
 * not thread-safe). */
static void thread_answer_cb(getdns_context *ctx, getdns_callback_type_t t, getdns_dict *resp,
                             void *arg, getdns_transaction_t id)
{
	struct lookup *l = arg;
	struct bench *b = l->b;
	bool missing;
	enum outcome o = getdns_judge(l, t, resp, &missing);
	getdns_dict_destroy(resp);
	pthread_mutex_lock(&b->lock);
	b->back[b->back_n++] = (struct handback){l, o, missing};
	pthread_mutex_unlock(&b->lock);
	uv_async_send(&b->async);
}

/* In getdns's thread: submit what the uv loop handed over. */
static void thread_wake_cb(void *arg)
{
	struct bench *b = arg;
	getdns_eventloop *loop = NULL;
	uint64_t v;
	size_t n;
	bool quit;
	if (read(b->wake_fd, &v, sizeof(v)) != sizeof(v))
		return;
	pthread_mutex_lock(&b->lock);
	n = b->todo_n;
	memcpy(b->taken, b->todo, n * sizeof(*b->todo));
	b->todo_n = 0;
	quit = b->quit;
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < n; i++) {
		getdns_transaction_t id;
		if (getdns_general(b->ctx, b->taken[i]->name, b->taken[i]->type, b->ext,
		                   b->taken[i], &id, thread_answer_cb) != GETDNS_RETURN_GOOD)
			thread_answer_cb(b->ctx, GETDNS_CALLBACK_ERROR, NULL, b->taken[i], 0);
	}
	if (quit && getdns_context_get_eventloop(b->ctx, &loop) == GETDNS_RETURN_GOOD)
		loop->vmt->clear(loop, &b->wake); /* run() returns when nothing is left */
}

static void *thread_main(void *arg)
{
	struct bench *b = arg;
	getdns_eventloop *loop = NULL;
	if (getdns_context_get_eventloop(b->ctx, &loop) != GETDNS_RETURN_GOOD)
		return NULL;
	b->wake = (getdns_eventloop_event){.userarg = b, .read_cb = thread_wake_cb};
	if (loop->vmt->schedule(loop, b->wake_fd, UINT64_MAX, &b->wake) != GETDNS_RETURN_GOOD)
		return NULL;
	loop->vmt->run(loop);
	return NULL;
}

/* On the uv loop: the outcomes getdns's thread handed back. */
static void thread_back_cb(uv_async_t *h)
{
	struct bench *b = h->data;
	size_t n;
	pthread_mutex_lock(&b->lock);
	n = b->back_n;
	memcpy(b->back_taken, b->back, n * sizeof(*b->back));
	b->back_n = 0;
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < n; i++)
		record(b->back_taken[i].l, b->back_taken[i].o, b->back_taken[i].missing);
	start_more(b);
}

static void thread_wake(struct bench *b)
{
	uint64_t one = 1;
	if (write(b->wake_fd, &one, sizeof(one)) != sizeof(one))
		perror("trust_bench: eventfd");
}

static int thread_start(struct bench *b, struct lookup *l)
{
	pthread_mutex_lock(&b->lock);
	b->todo[b->todo_n++] = l;
	pthread_mutex_unlock(&b->lock);
	thread_wake(b);
	return 0;
}

static int thread_setup(struct bench *b)
{
	b->todo = calloc(b->n, sizeof(*b->todo));
	b->taken = calloc(b->n, sizeof(*b->taken));
	b->back = calloc(b->n, sizeof(*b->back));
	b->back_taken = calloc(b->n, sizeof(*b->back_taken));
	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!b->todo || !b->taken || !b->back || !b->back_taken || b->wake_fd < 0 ||
	    pthread_mutex_init(&b->lock, NULL) != 0 ||
	    uv_async_init(b->loop, &b->async, thread_back_cb) != 0)
		return -1;
	b->async.data = b;
	return pthread_create(&b->thread, NULL, thread_main, b) == 0 ? 0 : -1;
}

static void thread_stop(struct bench *b)
{
	pthread_mutex_lock(&b->lock);
	b->quit = true;
	pthread_mutex_unlock(&b->lock);
	thread_wake(b);
	pthread_join(b->thread, NULL);
	uv_close((uv_handle_t *)&b->async, NULL);
	close(b->wake_fd);
	free(b->todo);
	free(b->taken);
	free(b->back);
	free(b->back_taken);
}

static getdns_list *getdns_upstreams(const char *addr)
{
	uint8_t a[16];
	bool v6 = strchr(addr, ':') != NULL;
	getdns_bindata type = {4, (uint8_t *)(v6 ? "IPv6" : "IPv4")};
	getdns_bindata data = {v6 ? 16 : 4, a};
	getdns_list *l = getdns_list_create();
	getdns_dict *d = getdns_dict_create();
	if (!l || !d || inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1 ||
	    getdns_dict_set_bindata(d, "address_type", &type) != GETDNS_RETURN_GOOD ||
	    getdns_dict_set_bindata(d, "address_data", &data) != GETDNS_RETURN_GOOD ||
	    getdns_list_set_dict(l, 0, d) != GETDNS_RETURN_GOOD) {
		getdns_list_destroy(l);
		l = NULL;
	}
	getdns_dict_destroy(d);
	return l;
}

/* A stub context: the resolver as its only upstream, the lab's root DS as
 * its only trust anchor, 5 s per query (cdscan's resolver.timeout). */
static int getdns_setup(struct bench *b)
{
	getdns_list *up = NULL, *tas = NULL;
	int r = -1;
	FILE *f = fopen(b->anchor, "r");
	if (!f || getdns_fp2rr_list(f, &tas, NULL, 3600) != GETDNS_RETURN_GOOD)
		goto out;
	if (getdns_context_create(&b->ctx, 0) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_resolution_type(b->ctx, GETDNS_RESOLUTION_STUB) !=
	        GETDNS_RETURN_GOOD ||
	    !(up = getdns_upstreams(b->resolver)) ||
	    getdns_context_set_upstream_recursive_servers(b->ctx, up) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_dnssec_trust_anchors(b->ctx, tas) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_timeout(b->ctx, 5000) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_appdata_dir(b->ctx, "/nonexistent") != GETDNS_RETURN_GOOD)
		goto out;
	b->ext = getdns_dict_create();
	/* "all" keeps bogus replies, with their status: with
	 * dnssec_return_status alone getdns drops them and answers NO_NAME,
	 * which a caller cannot tell from a name that does not exist. */
	if (strcmp(b->ext_name, "only-secure") == 0)
		getdns_dict_set_int(b->ext, "dnssec_return_only_secure", GETDNS_EXTENSION_TRUE);
	else if (strcmp(b->ext_name, "all") == 0)
		getdns_dict_set_int(b->ext, "dnssec_return_all_statuses", GETDNS_EXTENSION_TRUE);
	else
		getdns_dict_set_int(b->ext, "dnssec_return_status", GETDNS_EXTENSION_TRUE);
	if (strcmp(b->ext_name, "chain") == 0)
		getdns_dict_set_int(b->ext, "dnssec_return_validation_chain",
		                    GETDNS_EXTENSION_TRUE);
	if (strcmp(b->method, "getdns-uv") == 0 &&
	    getdns_extension_set_libuv_loop(b->ctx, b->loop) != GETDNS_RETURN_GOOD)
		goto out;
	b->start = getdns_start;
	if (strcmp(b->method, "getdns-thread") == 0) {
		b->start = thread_start;
		if (thread_setup(b) != 0)
			goto out;
	}
	r = 0;
out:
	if (f)
		fclose(f);
	getdns_list_destroy(up);
	getdns_list_destroy(tas);
	if (r != 0)
		fprintf(stderr, "trust_bench: getdns context set-up failed\n");
	return r;
}

static void getdns_run(struct bench *b)
{
	uint64_t before = libc_sends;
	if (strcmp(b->method, "getdns-sync") == 0) {
		for (size_t i = 0; i < b->n; i++) {
			getdns_dict *resp = NULL;
			getdns_return_t r =
			    getdns_general_sync(b->ctx, b->q[i].name, b->q[i].type, b->ext, &resp);
			b->started++;
			getdns_record(&b->q[i],
			              r == GETDNS_RETURN_GOOD ? GETDNS_CALLBACK_COMPLETE
			                                      : GETDNS_CALLBACK_ERROR,
			              resp);
			getdns_dict_destroy(resp);
		}
	} else {
		start_more(b);
		if (b->loop) { /* getdns-uv, getdns-thread */
			if (b->done < b->n)
				uv_run(b->loop, UV_RUN_DEFAULT);
			if (strcmp(b->method, "getdns-thread") == 0)
				thread_stop(b);
		} else {
			getdns_context_run(b->ctx);
		}
	}
	b->queries = libc_sends - before;
}

static void getdns_teardown(struct bench *b)
{
	getdns_dict_destroy(b->ext);
	if (b->ctx)
		getdns_context_destroy(b->ctx);
}

/* ------------------------------------------------------------ main --- */

static void usage(void)
{
	fprintf(stderr, "usage: trust_bench --method "
	                "trust|getdns-sync|getdns-async|getdns-uv|getdns-thread "
	                "--resolver ADDR --anchor FILE --names FILE [--inflight K] "
	                "[--ext all|status|only-secure|chain] [--list]\n");
	exit(2);
}

static void report(const struct bench *b, double setup_s, double wall_s, double cpu, long rss_start,
                   long rss_setup)
{
	size_t ok = b->n - b->counts[O_ERROR];
	double until_ok = b->t_last_ok - b->t_start;
	printf("RESULT {\"method\": \"%s\", \"ext\": \"%s\", \"lookups\": %zu, \"inflight\": %zu, "
	       "\"setup_s\": %.4f, \"wall_s\": %.4f, \"lookups_per_s\": %.1f, \"cpu_s\": %.4f, "
	       "\"cpu_ms_per_lookup\": %.4f, \"queries\": %llu, \"queries_per_lookup\": %.3f, "
	       "\"rss_start_kib\": %ld, \"rss_after_setup_kib\": %ld, \"maxrss_kib\": %ld, "
	       "\"missing\": %zu, \"submit_errors\": %zu, \"answered_per_s\": %.1f",
	       b->method, strcmp(b->method, "trust") == 0 ? "-" : b->ext_name, b->n, b->inflight,
	       setup_s, wall_s, wall_s > 0 ? (double)b->n / wall_s : 0.0, cpu,
	       b->n ? cpu * 1000 / (double)b->n : 0.0, (unsigned long long)b->queries,
	       b->n ? (double)b->queries / (double)b->n : 0.0, rss_start, rss_setup, maxrss_kib(),
	       b->missing, b->submit_errors, until_ok > 0 ? (double)ok / until_ok : 0.0);
	for (int o = 0; o < O_COUNT; o++)
		printf(", \"%s\": %zu", outcome_names[o], b->counts[o]);
	printf("}\n");
}

int main(int argc, char **argv)
{
	struct bench b = {.method = "trust", .ext_name = "all", .inflight = 100};
	const char *names = NULL;
	bool list = false, is_trust;
	uv_loop_t loop;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--list") == 0) {
			list = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (strcmp(a, "--method") == 0)
			b.method = v;
		else if (strcmp(a, "--resolver") == 0)
			b.resolver = v;
		else if (strcmp(a, "--anchor") == 0)
			b.anchor = v;
		else if (strcmp(a, "--names") == 0)
			names = v;
		else if (strcmp(a, "--inflight") == 0)
			b.inflight = strtoul(v, NULL, 10);
		else if (strcmp(a, "--ext") == 0)
			b.ext_name = v;
		else
			usage();
	}
	is_trust = strcmp(b.method, "trust") == 0;
	if (!b.resolver || !b.anchor || !names || b.inflight == 0 ||
	    (!is_trust && strcmp(b.method, "getdns-sync") != 0 &&
	     strcmp(b.method, "getdns-async") != 0 && strcmp(b.method, "getdns-uv") != 0 &&
	     strcmp(b.method, "getdns-thread") != 0))
		usage();
	if (strcmp(b.method, "getdns-sync") == 0)
		b.inflight = 1;
	if (load_names(names, &b) != 0 || b.n == 0)
		return 1;
	if (is_trust || strcmp(b.method, "getdns-uv") == 0 ||
	    strcmp(b.method, "getdns-thread") == 0) {
		uv_loop_init(&loop);
		b.loop = &loop;
	}

	long rss_start = rss_kib();
	double t0 = now_s();
	if ((is_trust ? trust_setup(&b) : getdns_setup(&b)) != 0)
		return 1;
	double t1 = now_s(), c1 = cpu_s();
	long rss_setup = rss_kib();
	b.t_start = t1;
	if (is_trust)
		trust_run(&b);
	else
		getdns_run(&b);
	double t2 = now_s(), c2 = cpu_s();

	if (list)
		for (size_t i = 0; i < b.n; i++)
			printf("LOOKUP %s %s %s %s\n", b.q[i].name, type_name(b.q[i].type),
			       outcome_names[b.q[i].outcome],
			       b.q[i].missing ? "missing" : "present");
	report(&b, t1 - t0, t2 - t1, c2 - c1, rss_start, rss_setup);
	fflush(stdout); /* before the teardown, which getdns's libuv extension may not survive */
	if (is_trust)
		trust_teardown(&b);
	else
		getdns_teardown(&b);
	if (b.loop) {
		uv_run(b.loop, UV_RUN_NOWAIT); /* the handles' close callbacks */
		uv_loop_close(b.loop);
	}
	free(b.q);
	return b.done == b.n ? 0 : 1;
}
