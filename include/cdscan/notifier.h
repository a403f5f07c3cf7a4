/* Notifications to customers and systems (cdscan.yaml(5) NOTIFICATIONS):
 * the notices the store wrote (a verdict's state changed, a change set was
 * applied) routed to channels and delivered after the commit that made
 * them: mail (RFC 5322, to a sendmail command or a maildir), webhook (HTTP
 * POST, HMAC-SHA256 signed, libcurl) and json (lines appended to a file).
 * Delivery is at least once: a process killed after a delivery and before
 * its row's update delivers it again on the next run. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cdscan/conf.h"
#include "cdscan/db.h"

/* What one run did, per channel (conf's index; CDS_CONF_MAX_CHANNELS: a
 * channel no longer configured) and outcome. */
struct cds_notifier_stats {
	uint64_t routed; /* notices routed */
	uint64_t n[CDS_CONF_MAX_CHANNELS + 1][3]; /* [channel][enum cds_delivery_outcome] */
};

/* "sent", "retry", "failed": the metric's outcome label. */
const char *cds_notifier_outcome_name(enum cds_delivery_outcome o);

/*
 * Route the notices not yet routed, then deliver the due deliveries, at
 * most notifications.max-per-run, one transaction each.  Adds to *st.
 * Blocks (sendmail, HTTP): the daemon calls it on a worker thread with a
 * connection of its own.  Returns 0 or CDS_EUNAVAIL (the database).
 */
int cds_notifier_run(const struct cds_conf *conf, struct cds_db *db,
		     struct cds_notifier_stats *st, char *err, size_t errlen);

/* Connect to conf's database, run, log one line of what was done, close;
 * what was done also added to *st (may be NULL).  For the end of scan and
 * epp send, and the daemon's worker; errors are logged, not returned (the
 * notices stay for the next run). */
void cds_notifier_run_once(const struct cds_conf *conf, struct cds_notifier_stats *st);

/* ---------------------------------------- the parts, for unit tests --- */

/* The placeholder values of a claimed delivery (its payload read), owned
 * by the caller (cds_notifier_values_free).  contact: the recipient ("" for
 * none).  Returns 0, CDS_ENOMEM or CDS_EDATA (a payload that is no JSON). */
int cds_notifier_values(const struct cds_db_delivery *d, const char *registry,
			const char *contact, char *values[CDS_PH_COUNT]);
void cds_notifier_values_free(char *values[CDS_PH_COUNT]);

/*
 * A complete RFC 5322 message (From, To, Subject (RFC 2047 encoded when
 * not plain ASCII or long), Date, Message-ID, MIME-Version, Content-Type
 * text/plain; charset=utf-8, Content-Transfer-Encoding quoted-printable,
 * Auto-Submitted), lines ending in LF, into *out (owned).  Control
 * characters of subject become spaces; to must pass
 * cds_mail_address_check (CDS_EDATA otherwise).  msgid: the local part of
 * the Message-ID.  Returns 0, CDS_ENOMEM or CDS_EDATA.
 */
int cds_notifier_mail_message(const struct cds_channel *ch, const char *to, const char *subject,
			      const char *body, const char *msgid, time_t now, char **out,
			      size_t *len);

/* "sha256=" and the hex HMAC-SHA256 of "TIMESTAMP.BODY" under key, into
 * out (at least 72 octets).  Returns 0 or CDS_EINTERNAL. */
int cds_notifier_signature(const char *key, size_t keylen, const char *timestamp,
			   const char *body, size_t bodylen, char *out, size_t outlen);
