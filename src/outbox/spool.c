/* The epp-spool adapter (CONTRACT.md "EPP spool"): each change set's EPP
 * commands as files in the spool directory (the registry profile's, else
 * output.spool-dir), DOMAIN-ID.xml with its host commands beside it as
 * DOMAIN-ID.before-K.xml and .after-K.xml, written in send order so that a
 * reader taking files as they appear sees them in an order the registry
 * accepts.  Each file is durable before the next is written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "outbox_internal.h"

struct spool {
	const char *dir; /* borrowed: the config's or the command line's */
};

/* Write xml into dir as DOMAIN-ID[.SUFFIX].xml atomically: a temporary
 * file, fsync, rename, fsync of the folder.  The temporary file is created
 * anew (O_EXCL) and never through a symbolic link (O_NOFOLLOW): a spool
 * directory shared with another account must not redirect the write.
 * Returns 0 (durable) or a negative errno, with err set. */
static int spool_write(const char *dir, const char *domain, int64_t id, const char *suffix,
		       const char *xml, size_t len, char *err, size_t errlen)
{
	char name[CDS_DNAME_BUFSIZE], path[4096], tmp[4096], sfx[40] = "";
	int fd = -1, dfd = -1, e = 0;
	snprintf(name, sizeof(name), "%s", domain);
	size_t nl = strlen(name);
	if (nl > 1 && name[nl - 1] == '.')
		name[nl - 1] = '\0';
	if (suffix && *suffix)
		snprintf(sfx, sizeof(sfx), ".%.30s", suffix);
	snprintf(path, sizeof(path), "%s/%s-%lld%s.xml", dir, name, (long long)id, sfx);
	snprintf(tmp, sizeof(tmp), "%s/.%s-%lld%s.xml.tmp", dir, name, (long long)id, sfx);
	unlink(tmp); /* a crashed run's leftover (or a planted link) */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, xml + off, len - off);
		if (n < 0 && errno != EINTR)
			goto fail;
		off += n > 0 ? (size_t)n : 0;
	}
	/* Durable before it becomes visible, and the rename durable too. */
	if (fsync(fd) != 0)
		goto fail;
	e = close(fd);
	fd = -1;
	if (e != 0 || rename(tmp, path) != 0)
		goto fail;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0)
		goto fail;
	close(dfd);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	unlink(tmp);
	snprintf(err, errlen, "spool %s: %s", path, strerror(e));
	return -e;
}

static int spool_open(const struct cds_conf *conf, const char *spool_dir, void **state,
		      char *err, size_t errlen)
{
	struct stat st;
	if (stat(spool_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "output.spool-dir %s is not a directory", spool_dir);
		return CDS_ECONFIG;
	}
	struct spool *s = malloc(sizeof(*s));
	if (!s)
		return CDS_ENOMEM;
	s->dir = spool_dir;
	*state = s;
	return 0;
}

static int spool_send(void *state, const struct outgoing *o, enum send_status *st, char *svtrid,
		      size_t svlen, char *why, size_t whylen)
{
	struct spool *s = state;
	const struct cds_change_set *cs = o->cs;
	const char *dir = o->reg && o->reg->spool_dir ? o->reg->spool_dir : s->dir;
	for (size_t k = 0; k < o->plan->n; k++) {
		const struct cds_epp_step *step = &o->plan->steps[k];
		int r = spool_write(dir, cs->domain, cs->id, step->suffix, step->xml, step->len, why,
				    whylen);
		if (r != 0)
			return r;
	}
	cds_log_info("change set %lld of %s spooled (clTRID %s)", (long long)cs->id, cs->domain,
		     cs->cltrid);
	*st = SEND_OK;
	return 0;
}

static const char *spool_destination(void *state)
{
	return ((struct spool *)state)->dir;
}

static void spool_close(void *state)
{
	free(state);
}

const struct adapter cds_spool_adapter = {
	.name = "epp-spool", .durable = true, .epp = true, .routed = true,
	.open = spool_open, .send = spool_send, .destination = spool_destination,
	.close = spool_close,
};
