/* EPP (RFC 5730-5734, RFC 5910): command documents built with libxml2
 * (<domain:update> with the secDNS-1.1 extension, host objects, session
 * commands), the plan of commands that carries a change set, responses
 * parsed as untrusted input, and the session over TLS.  The outbox's
 * adapters (src/outbox) decide where the documents go. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cdscan/model.h"

/* A DS change to send. */
struct cds_epp_ds_change {
	const char *domain;            /* normalised, with the trailing dot */
	const char *cltrid;            /* stable for the change set */
	bool remove_all;               /* RFC 8078 delete: <secDNS:rem><secDNS:all> */
	const char *const *add;        /* DS texts "KEYTAG ALG DIGESTTYPE HEX" */
	size_t nadd;
	const char *const *rem;
	size_t nrem;
	/* Registries that take keys (RFC 5910 keyData): the whole key set is
	 * replaced: <secDNS:rem><secDNS:all> (when the parent had DS) and
	 * <secDNS:add> of every key. */
	bool key_data;
	bool had_ds;
	const char *const *keys;       /* CDNSKEY texts "FLAGS PROTOCOL ALG BASE64" */
	size_t nkeys;
};

/*
 * Build the EPP command document for c.  *xml (malloc'd, the caller frees)
 * and *len get the UTF-8 document.  Returns 0, CDS_EDATA (a malformed DS
 * text) or CDS_ENOMEM.
 */
int cds_epp_ds_update(const struct cds_epp_ds_change *c, char **xml, size_t *len);

/* A host object command (RFC 5732). */
enum cds_epp_host_op { CDS_EPP_HOST_CREATE = 0, CDS_EPP_HOST_UPDATE, CDS_EPP_HOST_DELETE };

struct cds_epp_host_change {
	enum cds_epp_host_op op;
	const char *host;       /* normalised */
	const char *cltrid;
	const char *const *add; /* addresses (create: all of them) */
	size_t nadd;
	const char *const *rem;
	size_t nrem;
};

/* <host:create>, <host:update> (add, rem of addresses) or <host:delete>.
 * Returns 0, CDS_EDATA (a malformed address, an empty update) or
 * CDS_ENOMEM. */
int cds_epp_host_command(const struct cds_epp_host_change *c, char **xml, size_t *len);

/* A name server of a domain update: hostObj uses the name only, hostAttr
 * (RFC 5731 §1.1) the name and its addresses. */
struct cds_epp_host {
	const char *name;
	const char *const *addrs;
	size_t naddrs;
};

struct cds_epp_ns_change {
	const char *domain;
	const char *cltrid;
	bool host_attr;
	const struct cds_epp_host *add;
	size_t nadd;
	const struct cds_epp_host *rem;
	size_t nrem;
};

/* <domain:update> adding and removing name servers.  Returns 0, CDS_EDATA
 * or CDS_ENOMEM. */
int cds_epp_ns_update(const struct cds_epp_ns_change *c, char **xml, size_t *len);

/* How one registry takes changes (its profile, conf.h). */
struct cds_epp_profile {
	enum cds_ds_interface ds_interface; /* dsData or keyData (RFC 5910 §4) */
	enum cds_host_model host_model;     /* hostObj or hostAttr (RFC 5731 §1.1) */
};

enum cds_epp_check {
	CDS_EPP_CHECK_DS = 0,   /* domain:info: the DS set equals want */
	CDS_EPP_CHECK_KEYS,     /* domain:info: the key set equals want */
	CDS_EPP_CHECK_NS,       /* domain:info: the NS names equal want */
	CDS_EPP_CHECK_HOST,     /* host:info: the addresses equal want */
	CDS_EPP_CHECK_GONE,     /* host:info: no such object (2303) */
};

/* One EPP command of a plan. */
struct cds_epp_step {
	int role;          /* -1 before the change set's command, 0 it, 1 after */
	char cltrid[96];   /* stable across resends */
	char suffix[24];   /* spool file: DOMAIN-ID.SUFFIX.xml; empty for role 0 */
	char what[300];    /* "host:create ns1.example.test." for logs */
	enum cds_epp_host_op host_op; /* of a host command */
	char host[256];
	char *xml;
	size_t len;
	/* How to tell, after a lost response, whether the command is in place
	 * (an <info> and the state it must show): */
	enum cds_epp_check check;
	char *want;        /* sorted items joined by ',' (malloc'd) */
};


struct cds_epp_plan {
	struct cds_epp_step *steps; /* in the order to send */
	size_t n;
};

/*
 * The EPP commands of a change set for a registry with profile pr, in an
 * order an EPP server accepts: for kind ns with host objects,
 * host:create/host:update of in-bailiwick names before the domain update
 * and host:delete after it; with hostAttr a single domain update.  Returns
 * 0, CDS_EDATA (the change set cannot be said in EPP: keyData without
 * keys, a malformed DS text, nothing to send) or CDS_ENOMEM.
 */
int cds_epp_plan(const struct cds_change_set *cs, const struct cds_epp_profile *pr,
		 struct cds_epp_plan *out);
void cds_epp_plan_free(struct cds_epp_plan *p);

/* items sorted and joined by ',' into *out (malloc'd); names lose their
 * trailing dot.  The form of cds_epp_step.want.  Returns 0 or CDS_ENOMEM. */
int cds_epp_want(const char *const *items, size_t n, bool names, char **out);

/* Session commands (RFC 5730 §2.9.1): <login> with the domain and host
 * object URIs and the secDNS-1.1 extension; <logout>; <info> of a domain
 * (hosts="all") or of a host.  Same returns as above. */
int cds_epp_login(const char *clid, const char *password, const char *cltrid, char **xml,
		  size_t *len);
int cds_epp_logout(const char *cltrid, char **xml, size_t *len);
int cds_epp_info(bool host, const char *name, const char *cltrid, char **xml, size_t *len);

/* What an <info> response says (RFC 5731 §3.1.2, RFC 5732 §3.1.2, RFC 5910
 * §5.1.2), as texts: NS names and DS without the trailing dot as EPP writes
 * them, DS in presentation form, keys "FLAGS PROTOCOL ALG BASE64". */
#define CDS_EPP_INFO_MAX 64
#define CDS_EPP_INFO_TEXT 1200
#define CDS_EPP_STATUS_MAX 16 /* RFC 5731 defines 17 values; a domain has a few */
#define CDS_EPP_STATUS_TEXT 48
struct cds_epp_info {
	bool domain, host; /* which infData was there */
	char ns[CDS_EPP_INFO_MAX][CDS_EPP_INFO_TEXT];
	size_t nns;
	char addrs[CDS_EPP_INFO_MAX][CDS_EPP_INFO_TEXT];
	size_t naddrs;
	char ds[CDS_EPP_INFO_MAX][CDS_EPP_INFO_TEXT];
	size_t nds;
	char keys[CDS_EPP_INFO_MAX][CDS_EPP_INFO_TEXT];
	size_t nkeys;
	/* domain:status values (RFC 5731 §2.3), "clientUpdateProhibited" */
	char status[CDS_EPP_STATUS_MAX][CDS_EPP_STATUS_TEXT];
	size_t nstatus;
};

/* Parse an <info> response (untrusted: as cds_epp_parse_response).  Returns
 * 0, CDS_EDATA or CDS_ERANGE (more than CDS_EPP_INFO_MAX items). */
int cds_epp_parse_info(const char *buf, size_t len, struct cds_epp_info *out);

/* Does a domain's status forbid updates (RFC 5731 §2.3:
 * clientUpdateProhibited, serverUpdateProhibited)?  Those statuses, joined
 * by ", ", into which (empty when none). */
bool cds_epp_info_update_prohibited(const struct cds_epp_info *info, char *which, size_t len);

/* What an EPP server answered (RFC 5730 §2.6). */
struct cds_epp_response {
	int code;          /* result code: 1000, 1001, 2xxx; 0 when absent */
	char msg[512];     /* the result's <msg> text */
	char cltrid[64];   /* <trID><clTRID>, empty when absent */
	char svtrid[64];   /* <trID><svTRID> */
	bool greeting;     /* the document is a <greeting> */
};

/*
 * Parse a response or greeting document from an EPP server (untrusted
 * input: libxml2 with network access and entity expansion off).  Returns 0,
 * or CDS_EDATA for anything that is not a well-formed EPP response or
 * greeting.
 */
int cds_epp_parse_response(const char *buf, size_t len, struct cds_epp_response *out);

/* Where and how to reach a registry's EPP server (RFC 5734). */
struct cds_epp_endpoint {
	const char *server;
	uint16_t port;
	const char *username;
	const char *password;
	const char *client_cert; /* PEM, or NULL */
	const char *client_key;  /* PEM, or NULL: in client_cert */
	const char *ca_file;     /* NULL: the system's */
	bool verify;
	uint64_t timeout_ms;     /* per exchange */
};

struct cds_epp_session;

/*
 * Connect, TLS, read the greeting, log in.  Returns 0 with *out, or
 * CDS_EUNAVAIL (connection, TLS, a refused login that may pass later),
 * CDS_ECONFIG (certificate files; a login refused for its credentials,
 * 2200/2201) or CDS_ENOMEM, with err set.  The password never reaches err.
 */
int cds_epp_open(const struct cds_epp_endpoint *ep, struct cds_epp_session **out, char *err,
		 size_t errlen);

/*
 * Send one command and read its response.  raw (optional) gets the response
 * document (malloc'd).  Returns 0 (resp filled, whatever its code),
 * CDS_EUNAVAIL (connection lost or no answer in time: whether the command
 * was applied is unknown) or CDS_EDATA (not an EPP response).
 */
int cds_epp_exchange(struct cds_epp_session *s, const char *xml, size_t len,
		     struct cds_epp_response *resp, char **raw, size_t *rawlen, char *err,
		     size_t errlen);

/* Log out (when logout and the session still works), close, free. */
void cds_epp_close(struct cds_epp_session *s, bool logout);

