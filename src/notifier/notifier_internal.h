/* What the files of src/notifier share; not part of the interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cdscan/conf.h"
#include "cdscan/notifier.h"

/* A growing text; oom set (and the text kept) when memory ran out. */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};
void buf_put(struct buf *b, const char *s, size_t n);
void buf_str(struct buf *b, const char *s);

/* mail.c: msg into the maildir dir (rnd: random hex for the file name);
 * msg to the channel's sendmail command for to.  0 or CDS_EUNAVAIL with
 * err set. */
int maildir_deliver(const char *dir, const char *msg, size_t len, const char *rnd, char *err,
		    size_t errlen);
int sendmail_deliver(const struct cds_channel *ch, const char *to, const char *msg, size_t len,
		     char *err, size_t errlen);

/* webhook.c: POST body to the channel's url, signed.  0 or CDS_EUNAVAIL
 * (retry) with err set. */
int webhook_deliver(const struct cds_channel *ch, const char *event, int64_t notice_id,
		    const char *body, size_t len, char *err, size_t errlen);
