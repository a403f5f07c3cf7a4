/* The adapter interface of the outbox, and what the drain (outbox.c) and
 * the adapters (spool.c, json.c, tls.c) share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cdscan/db.h"
#include "cdscan/epp.h"
#include "cdscan/outbox.h"

/* What sending one change set came to. */
enum send_status {
	SEND_OK = 0, /* handed over / applied (svtrid: the registry's id, if any) */
	SEND_FAILED, /* this change set cannot be carried: failed alone, why kept */
	SEND_LATER,  /* left pending for a later run (the registry is out of reach) */
	SEND_LOCKED, /* the registry forbids updates of the domain (a lock, why
			says which): the change set fails, the domain is suspended */
};

/* One change set on its way: the change set, its registry profile (NULL
 * without profiles) and its EPP commands (for adapters that speak EPP). */
struct outgoing {
	const struct cds_change_set *cs;
	const struct cds_registry *reg;
	const struct cds_epp_plan *plan; /* NULL for adapters without EPP */
};

struct adapter {
	const char *name;
	bool durable;  /* true: marked sent once held durably; false: acknowledged */
	bool epp;      /* speaks EPP: the drain plans each change set */
	bool routed;   /* needs a registry profile when profiles are configured */
	/* Check settings and open.  Returns 0 or an error (CDS_ECONFIG) with err. */
	int (*open)(const struct cds_conf *conf, const char *spool_dir, void **state, char *err,
		    size_t errlen);
	/* Can change sets for reg go out now?  NULL: yes; else why not (they
	 * stay pending).  May be NULL. */
	const char *(*blocked)(void *state, const struct cds_registry *reg);
	/* Send one.  Returns 0 with *st, or an error that stops the drain. */
	int (*send)(void *state, const struct outgoing *o, enum send_status *st, char *svtrid,
		    size_t svlen, char *why, size_t whylen);
	/* Make everything sent so far durable (durable adapters; may be NULL). */
	int (*flush)(void *state, char *err, size_t errlen);
	/* Where the change sets went, for messages: borrowed from the
	 * configuration or the caller, valid after close. */
	const char *(*destination)(void *state);
	void (*close)(void *state);
};

extern const struct adapter cds_spool_adapter;
extern const struct adapter cds_json_adapter;
extern const struct adapter cds_tls_adapter;

/* A registry's EPP password (epp.password-env, else the first line of
 * epp.password-file, RFC 5730 pwType) into out.  Returns 0 or CDS_ECONFIG
 * with err set (never the password).  The caller wipes out. */
int cds_outbox_epp_password(const struct cds_registry *reg, char *out, size_t outlen, char *err,
			    size_t errlen);

/* A logged-in session to reg's EPP server (cds_epp_open).  Same returns. */
int cds_outbox_epp_open(const struct cds_registry *reg, const char *password,
			struct cds_epp_session **out, char *err, size_t errlen);
