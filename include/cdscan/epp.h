/* EPP output: <domain:update> documents with the secDNS-1.1 extension
 * (RFC 5731, RFC 5910) built with libxml2, and the epp-spool adapter
 * (CONTRACT.md "EPP spool"): one document per change set, written
 * atomically. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A change set as the outbox holds it. */
struct cds_epp_change_in {
	const char *kind;       /* "ds" or "ns" */
	const char *action;     /* update, delete, bootstrap */
	const char *domain;
	const char *cltrid;
	const char *const *add; /* DS texts (kind ds) */
	size_t nadd;
	const char *const *rem;
	size_t nrem;
	const char *payload;    /* the change set's JSON payload */
	bool key_data;          /* the registry takes keyData (RFC 5910 §4.2) */
	bool host_attr;         /* the registry takes hostAttr (RFC 5731 §1.1) */
};

/* One EPP command of a plan. */
struct cds_epp_step {
	int role;          /* -1 before the change set's command, 0 it, 1 after */
	char cltrid[96];   /* stable across resends */
	char suffix[24];   /* spool file: DOMAIN-ID.SUFFIX.xml; empty for role 0 */
	char what[300];    /* "host:create ns1.example.test." for logs */
	int host_op;       /* enum cds_epp_host_op of a host command */
	char host[256];
	char *xml;
	size_t len;
};

struct cds_epp_plan {
	struct cds_epp_step *steps; /* in the order to send */
	size_t n;
};

/*
 * The EPP commands of a change set, in an order an EPP server accepts: for
 * kind ns with host objects, host:create/host:update of in-bailiwick names
 * before the domain update and host:delete after it; with hostAttr a single
 * domain update.  Returns 0, CDS_EDATA (a malformed change set) or
 * CDS_ENOMEM.
 */
int cds_epp_plan(const struct cds_epp_change_in *in, struct cds_epp_plan *out);
void cds_epp_plan_free(struct cds_epp_plan *p);

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

/*
 * Write xml into dir as DOMAIN-ID.xml, or DOMAIN-ID.SUFFIX.xml for the
 * host commands around it (DOMAIN without the trailing dot), atomically: a temporary file, fsync, rename, fsync of the folder.  When
 * this returns 0 the file is durable.  Returns 0 or a negative errno, with
 * err set.
 */
int cds_epp_spool_write(const char *dir, const char *domain, int64_t id, const char *suffix,
			const char *xml, size_t len, char *err, size_t errlen);
