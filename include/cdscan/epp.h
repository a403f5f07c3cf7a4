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

/*
 * Write xml into dir as DOMAIN-ID.xml (DOMAIN without the trailing dot)
 * atomically: a temporary file, fsync, rename, fsync of the folder.  When
 * this returns 0 the file is durable.  Returns 0 or a negative errno, with
 * err set.
 */
int cds_epp_spool_write(const char *dir, const char *domain, int64_t id, const char *xml,
			size_t len, char *err, size_t errlen);
