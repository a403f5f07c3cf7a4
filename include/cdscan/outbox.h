/* The outbox: pending change sets from the store to an output adapter.
 * epp-spool writes each as EPP documents into a directory, json as one line
 * each, epp-tls sends them in a live EPP session to each registry.  One
 * adapter interface behind one drain, with the two ways of handing over an
 * adapter can have: durable (spool, json: a change set is marked sent once
 * the adapter holds it durably; a crash before leaves it pending and the
 * resend uses the same clTRID) or acknowledged (epp-tls: the attempt is on
 * record before each command goes out, and the change set is done only
 * when the registry has applied it; nothing is applied twice). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cdscan/conf.h"
#include "cdscan/epp.h"

/* What a drain did. */
struct cds_outbox_result {
	uint64_t sent;    /* handed over (spool, json) or applied (epp-tls) */
	uint64_t failed;  /* failed alone, with the reason kept */
	uint64_t waiting; /* left pending: no profile takes them, registry out of reach */
	/* Where they went, for messages (borrowed); empty when the drain did
	 * not get as far as the store. */
	const char *destination;
};

/*
 * Hand pending change sets to adapter (spool_dir: NULL for the config's);
 * at most limit when has_limit.  Returns 0; CDS_ECONFIG (the adapter's
 * settings: no epp.server, an unusable spool directory or json file);
 * CDS_EUNAVAIL (the store; another epp-tls sender; change sets left
 * waiting); or another error (writing the output), with err set.  out is
 * filled in every case.
 */
int cds_outbox_drain(const struct cds_conf *conf, enum cds_output_adapter adapter,
		     const char *spool_dir, bool has_limit, uint64_t limit,
		     struct cds_outbox_result *out, char *err, size_t errlen);

/* One answer of cds_outbox_domain_info: for names[i], the result code
 * (1000: info is what the registry holds; else msg says why).  info is
 * valid during the call only.  A nonzero return stops the look-ups and is
 * returned by cds_outbox_domain_info. */
typedef int (*cds_outbox_info_cb)(void *arg, size_t i, int code, const char *msg,
				  const struct cds_epp_info *info);

/*
 * <domain:info> (RFC 5731 §3.1.2, secDNS-1.1 infData, RFC 5910 §5.1.2) of
 * names[0..n) (normalised) at reg's EPP server, in up to
 * reg->epp.info_sessions sessions at once (threads, each its own session),
 * a lost session opened again up to epp.retries times.  cb runs once per
 * name, one call at a time, in any order, on any of the threads.  Returns
 * 0, CDS_ECONFIG (password, certificates, a refused login), CDS_EUNAVAIL
 * (the server out of reach), CDS_ENOMEM or cb's code, with err set.
 */
int cds_outbox_domain_info(const struct cds_registry *reg, const char *const *names, size_t n,
			   cds_outbox_info_cb cb, void *arg, char *err, size_t errlen);
