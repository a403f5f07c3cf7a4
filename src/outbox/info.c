/* <domain:info> of many domains at one registry (import --from epp): a few
 * EPP sessions at once, each on a thread of its own taking the next name,
 * answers handed to the caller one at a time.  Threads rather than an event
 * loop because the session (session.c) is blocking, and a registry allows
 * a registrar only a few sessions: epp.info-sessions of them. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "outbox_internal.h"

/* What the workers share (mu guards next, stop, r, err and cb). */
struct job {
	const struct cds_registry *reg;
	const char *const *names;
	size_t n;
	cds_outbox_info_cb cb;
	void *arg;
	char password[512];
	pthread_mutex_t mu;
	size_t next; /* the next name to ask */
	int r;       /* the first error */
	char err[512];
};

struct worker {
	struct job *job;
	pthread_t tid;
	struct cds_epp_session *s;
	struct cds_epp_info *info; /* large: one per worker */
	size_t index;              /* of the worker, in its clTRIDs */
	unsigned serial;
};

static void fail(struct job *j, int r, const char *err)
{
	pthread_mutex_lock(&j->mu);
	if (j->r == 0) {
		j->r = r;
		snprintf(j->err, sizeof(j->err), "%s", err);
	}
	pthread_mutex_unlock(&j->mu);
}

/* The next name's index, or n when done or stopped. */
static size_t take(struct job *j)
{
	pthread_mutex_lock(&j->mu);
	size_t i = j->r == 0 && j->next < j->n ? j->next++ : j->n;
	pthread_mutex_unlock(&j->mu);
	return i;
}

/* One <info> exchange on the worker's session.  Returns 0 with *code, or
 * CDS_EUNAVAIL / CDS_EDATA (the session is then dropped). */
static int ask(struct worker *w, const char *name, int *code, char *msg, size_t msglen, char *err,
               size_t errlen)
{
	char cltrid[96], *xml = NULL, *raw = NULL;
	size_t len = 0, rl = 0;
	struct cds_epp_response resp;
	snprintf(cltrid, sizeof(cltrid), "cdscan-import-%zu-%u", w->index, ++w->serial);
	int r = cds_epp_info(false, name, cltrid, &xml, &len);
	if (r == 0)
		r = cds_epp_exchange(w->s, xml, len, &resp, &raw, &rl, err, errlen);
	free(xml);
	if (r == 0) {
		*code = resp.code;
		snprintf(msg, msglen, "%s", resp.msg);
		if (resp.code == 1000 && (r = cds_epp_parse_info(raw, rl, w->info)) != 0)
			snprintf(err, errlen, "domain:info %s: the answer is not an infData", name);
	}
	free(raw);
	return r;
}

/* Ask for one name, with a new session when the old one was lost. */
static int one(struct worker *w, size_t i)
{
	struct job *j = w->job;
	char err[512] = "", msg[512] = "";
	int code = 0, r = CDS_EUNAVAIL;
	for (unsigned t = 0; t <= j->reg->epp.retries && r == CDS_EUNAVAIL; t++) {
		if (!w->s &&
		    (r = cds_outbox_epp_open(j->reg, j->password, &w->s, err, sizeof(err))) != 0)
			continue;
		if ((r = ask(w, j->names[i], &code, msg, sizeof(msg), err, sizeof(err))) != 0) {
			cds_epp_close(w->s, false);
			w->s = NULL;
		}
	}
	if (r != 0) {
		fail(j, r, err);
		return r;
	}
	pthread_mutex_lock(&j->mu);
	r = j->r == 0 ? j->cb(j->arg, i, code, msg, code == 1000 ? w->info : NULL) : j->r;
	pthread_mutex_unlock(&j->mu);
	if (r != 0)
		fail(j, r, "");
	return r;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->job;
	for (size_t i = take(j); i < j->n; i = take(j))
		if (one(w, i) != 0)
			break;
	cds_epp_close(w->s, true);
	w->s = NULL;
	return NULL;
}

int cds_outbox_domain_info(const struct cds_registry *reg, const char *const *names, size_t n,
                           cds_outbox_info_cb cb, void *arg, char *err, size_t errlen)
{
	struct job *j = calloc(1, sizeof(*j));
	size_t nw = reg->epp.info_sessions ? reg->epp.info_sessions : 1, started = 0;
	struct worker *w = NULL;
	int r;
	if (!j)
		return CDS_ENOMEM;
	*j = (struct job){.reg = reg, .names = names, .n = n, .cb = cb, .arg = arg};
	pthread_mutex_init(&j->mu, NULL);
	if (nw > n)
		nw = n;
	if ((r = cds_outbox_epp_password(reg, j->password, sizeof(j->password), err, errlen)) != 0)
		goto out;
	if (!reg->epp.server) {
		snprintf(err, errlen, "registry %s: no epp.server to ask", reg->name);
		r = CDS_ECONFIG;
		goto out;
	}
	if (!(w = calloc(nw ? nw : 1, sizeof(*w)))) {
		r = CDS_ENOMEM;
		goto out;
	}
	/* libxml2 initialises itself on first use, which is not safe on
	 * several threads at once: a first document here, before them. */
	char *xml = NULL;
	size_t len = 0;
	if (n && cds_epp_info(false, names[0], "cdscan-import-init", &xml, &len) != 0) {
		r = CDS_ENOMEM;
		goto out;
	}
	free(xml);
	for (; started < nw; started++) {
		w[started].job = j;
		w[started].index = started;
		if (!(w[started].info = malloc(sizeof(*w[started].info))) ||
		    pthread_create(&w[started].tid, NULL, work, &w[started]) != 0) {
			free(w[started].info);
			fail(j, CDS_ENOMEM, "cannot start an EPP session thread");
			break;
		}
	}
	for (size_t i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		free(w[i].info);
	}
	if ((r = j->r) != 0 && j->err[0])
		snprintf(err, errlen, "registry %s: %s", reg->name, j->err);
out:
	OPENSSL_cleanse(j->password, sizeof(j->password));
	pthread_mutex_destroy(&j->mu);
	free(w);
	free(j);
	return r;
}
