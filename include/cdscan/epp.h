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
};

/*
 * Build the EPP command document for c.  *xml (malloc'd, the caller frees)
 * and *len get the UTF-8 document.  Returns 0, CDS_EDATA (a malformed DS
 * text) or CDS_ENOMEM.
 */
int cds_epp_ds_update(const struct cds_epp_ds_change *c, char **xml, size_t *len);

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
 * Write xml into dir as DOMAIN-ID.xml (DOMAIN without the trailing dot)
 * atomically: a temporary file, fsync, rename, fsync of the folder.  When
 * this returns 0 the file is durable.  Returns 0 or a negative errno, with
 * err set.
 */
int cds_epp_spool_write(const char *dir, const char *domain, int64_t id, const char *xml,
			size_t len, char *err, size_t errlen);
