/* Inside the daemon: the NOTIFY listener's sockets (listener.c), used by
 * the scheduler (daemon.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "cdscan/notify.h"

/* One message from a client: answer into out (CDS_NOTIFY_ANSWER_MAX
 * bytes), return the answer's length, or 0 to send nothing. */
typedef size_t (*listener_fn)(const uint8_t *wire, size_t len, const struct sockaddr *src,
			      uint8_t *out, void *arg);

struct listener_limits {
	uint32_t tcp_clients;    /* TCP connections at once (0: no TCP) */
	uint64_t tcp_timeout_ms; /* an idle connection is closed after */
};

struct listener;

/* Bind UDP and TCP on each of addrs ("ADDR[#PORT]", port 53 by default)
 * and hand every message to fn.  Returns 0, or an error with the address
 * and why in err (nothing is left bound). */
int listener_start(uv_loop_t *loop, const char *const *addrs, size_t n,
		   const struct listener_limits *lim, listener_fn fn, void *arg,
		   struct listener **out, char *err, size_t errlen);

/* Close every socket and connection; freed once the loop has run the
 * close callbacks.  Accepts NULL. */
void listener_close(struct listener *l);

/* Connections refused because tcp-clients were open, and those closed
 * idle, since the start. */
struct listener_stats {
	uint64_t udp_messages, tcp_messages;
	uint64_t tcp_refused, tcp_idle_closed, tcp_unread_closed, send_failed;
};
void listener_stats(const struct listener *l, struct listener_stats *out);

/* ------------------------------------------------------ the daemon --- */

#include <stdatomic.h>
#include <stdbool.h>
#include <uthash.h>

#include "cdscan/daemon.h"
#include "cdscan/db.h"
#include "cdscan/http.h"
#include "cdscan/metrics.h"
#include "cdscan/pipeline.h"
#include "cdscan/scan.h"

/* A notified delegation waiting for its out-of-turn claim (intake.c).
 * In the daemon's pending table, whose insertion order is the queue. */
struct pending {
	UT_hash_handle hh;
	char name[CDS_DNAME_BUFSIZE];
	double not_before; /* a scanner holds it: try again after */
	double since;      /* when the NOTIFY came */
	unsigned tries;
};

/* What the intake has done since the start (mirrored into the metrics). */
struct intake_stats {
	uint64_t received[4];   /* by QTYPE: CDS, CDNSKEY, CSYNC, other */
	uint64_t accepted;      /* queued for an out-of-turn scan */
	uint64_t coalesced;     /* already queued */
	uint64_t limited_source, limited_global, limited_domain, limited_queue;
	uint64_t refused, notauth, formerr, notimp, servfail, dropped;
	uint64_t claimed;       /* notified delegations claimed */
	uint64_t given_up;      /* held by another scanner past the lease */
};

struct daemon {
	uv_loop_t loop;
	struct cds_conf *conf;        /* the running configuration (owned) */
	struct cds_conf *next;        /* a reloaded one waiting for a quiet moment */
	struct cds_daemon_opts opts;
	char *config_path;            /* opts.config_path's copy (the conf's goes on reload) */
	struct cds_db *db;
	struct cds_scanner *scanner;
	struct cds_pipeline *pipeline;
	struct listener *listener;
	struct cds_metrics *metrics;  /* always; read by the HTTP thread */
	struct cds_http *http;        /* daemon.http, or NULL */
	uv_timer_t tick, kick, watchdog;
	uv_signal_t sighup, sigterm, sigint;
	/* The pace (daemon.pace). */
	double credit, paced_at, counted_at;
	uint64_t active;              /* active delegations at the last count */
	/* NOTIFY intake. */
	struct cds_buckets *by_source, *by_domain, *everyone;
	struct pending *pending;      /* uthash; order = queue */
	size_t npending;
	struct intake_stats in;
	struct listener_stats heard;  /* the listener's, taken when it closes */
	/* Output. */
	uv_work_t drain_req;
	bool draining, changes_waiting;
	double drained_at;
	bool drain_changes; /* this drain hands change sets over (else notices only) */
	double noted_at;    /* the last notifications pass began */
	uint64_t epp_errors, changesets;
	struct cds_scanner_stats scanned; /* of the scanners before this one */
	/* Life. */
	bool stopping, reloading, abandoned;
	atomic_bool resolver_ok;      /* read by the HTTP thread (/healthz) */
	bool probing;
	double probed_at;
	uint64_t reloads_ok, reloads_failed;
	double deadline;              /* SIGTERM + daemon.grace */
	double db_retry_at;           /* the store went away: reconnect then */
	unsigned db_failures;
	int exit_code;
};

double daemon_now(void);

/* The scanners' counters since the start. */
void daemon_scanner_stats(const struct daemon *d, struct cds_scanner_stats *out);

/* intake.c: one message from the listener (listener_fn). */
size_t intake_message(const uint8_t *wire, size_t len, const struct sockaddr *src, uint8_t *out,
		      void *arg);
/* Claim what is queued and due (out of turn). */
void intake_claim(struct daemon *d);
/* The rate limiters for d->conf (again after a reload).  Returns 0 or
 * CDS_ENOMEM. */
int intake_setup(struct daemon *d);
void intake_free(struct daemon *d);
