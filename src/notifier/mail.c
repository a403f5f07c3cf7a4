/* The mail channel: an RFC 5322 message, handed to a sendmail-compatible
 * command (no shell) or written into a maildir (tmp/ then new/). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cdscan/error.h"
#include "cdscan/util.h"
#include "notifier_internal.h"

extern char **environ;

void buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* Length of the UTF-8 sequence starting at s (1 for a stray octet), so
 * that an encoded word never splits a character (RFC 2047 §5 (3)). */
static size_t seq_len(const unsigned char *s, size_t left)
{
	size_t n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc0 ? 2 : 1;
	return n > left ? left : n;
}

/* text as RFC 2047 "B" encoded words, each at most 75 octets (§2), folded
 * onto continuation lines. */
static void encoded_words(struct buf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text), i = 0;
	bool first = true;
	while (i < len) {
		size_t n = 0;
		/* 45 octets make 60 of base64: with "=?UTF-8?B?" and "?=", 72. */
		while (i + n < len && n + seq_len(s + i + n, len - i - n) <= 45)
			n += seq_len(s + i + n, len - i - n);
		unsigned char out[64];
		int k = EVP_EncodeBlock(out, s + i, (int)n);
		buf_str(b, first ? "=?UTF-8?B?" : "\n =?UTF-8?B?");
		buf_put(b, (const char *)out, (size_t)k);
		buf_str(b, "?=");
		first = false;
		i += n;
	}
}

/* A header's text: plain when it is short printable ASCII, else encoded
 * words.  Control characters (CR and LF among them) are spaces first: no
 * value can start a header line of its own. */
static void header_text(struct buf *b, const char *text, size_t max)
{
	size_t n = strlen(text) < max ? strlen(text) : max;
	char *t = strndup(text, n);
	bool ascii = true;
	if (!t) {
		b->oom = true;
		return;
	}
	/* Cut at a character boundary. */
	while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80 && n < strlen(text))
		t[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20 || c == 0x7f)
			t[i] = ' ';
		else if (c >= 0x80)
			ascii = false;
	}
	if (ascii && n <= 66 && !strstr(t, "=?"))
		buf_str(b, t);
	else
		encoded_words(b, t);
	free(t);
}

/* The body in quoted-printable (RFC 2045 §6.7): any octet and any line
 * length travel intact; line breaks are LF, other control characters but
 * TAB are left out. */
static void quoted_printable(struct buf *b, const char *body)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (const unsigned char *s = (const unsigned char *)body; *s; s++) {
		char enc[4] = {0};
		size_t n = 1;
		if (*s == '\n') {
			buf_str(b, "\n");
			col = 0;
			continue;
		}
		if (*s < 0x20 && *s != '\t')
			continue;
		bool at_end = s[1] == '\n' || s[1] == '\0';
		if (*s == '=' || *s >= 0x7f || ((*s == ' ' || *s == '\t') && at_end)) {
			enc[0] = '=';
			enc[1] = hex[*s >> 4];
			enc[2] = hex[*s & 15];
			n = 3;
		} else {
			enc[0] = (char)*s;
		}
		if (col + n > 75) {
			buf_str(b, "=\n");
			col = 0;
		}
		buf_put(b, enc, n);
		col += n;
	}
	if (col)
		buf_str(b, "\n");
}

/* RFC 5322 §3.3 date, in English whatever the locale. */
static void date_header(struct buf *b, time_t now)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	char t[64];
	gmtime_r(&now, &tm);
	snprintf(t, sizeof(t), "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\n", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	buf_str(b, t);
}

int cds_notifier_mail_message(const struct cds_channel *ch, const char *to, const char *subject,
			      const char *body, const char *msgid, time_t now, char **out,
			      size_t *len)
{
	struct buf b = {0};
	*out = NULL;
	if (cds_mail_address_check(to, strlen(to)) != 0 || !ch->from ||
	    cds_mail_address_check(ch->from, strlen(ch->from)) != 0)
		return CDS_EDATA;
	buf_str(&b, "From: ");
	if (ch->from_name && *ch->from_name) {
		header_text(&b, ch->from_name, 64);
		buf_str(&b, " ");
	}
	buf_str(&b, "<");
	buf_str(&b, ch->from);
	buf_str(&b, ">\nTo: <");
	buf_str(&b, to);
	buf_str(&b, ">\nSubject: ");
	header_text(&b, subject, 200);
	buf_str(&b, "\n");
	date_header(&b, now);
	buf_str(&b, "Message-ID: <");
	buf_str(&b, msgid);
	buf_str(&b, strchr(ch->from, '@'));
	buf_str(&b, ">\nMIME-Version: 1.0\n"
		    "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: quoted-printable\n"
		    "Auto-Submitted: auto-generated\n\n");
	quoted_printable(&b, body);
	if (b.oom) {
		free(b.p);
		return CDS_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* mkdir -p, each new directory 0700. */
static int make_dirs(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The maildir convention (maildir(5)): written and synced in tmp/ under
 * a name no other process makes (time, pid, a counter, random octets,
 * host), then renamed into new/, so a reader never sees half a message. */
int maildir_deliver(const char *dir, const char *msg, size_t len, const char *rnd, char *err,
		    size_t errlen)
{
	static unsigned counter;
	char host[128] = "localhost", name[512], tmp[4096], dst[4096], sub[4096];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	gethostname(host, sizeof(host) - 1);
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':')
			*h = '_';
	snprintf(name, sizeof(name), "%lld.M%ldP%dQ%u_%s.%s", (long long)ts.tv_sec,
		 ts.tv_nsec / 1000, (int)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED),
		 rnd, host);
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (int i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		if (make_dirs(sub) != 0) {
			snprintf(err, errlen, "cannot create %s (%s)", sub, strerror(errno));
			return CDS_EUNAVAIL;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
	snprintf(dst, sizeof(dst), "%s/new/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s (%s)", tmp, strerror(errno));
		return CDS_EUNAVAIL;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, msg + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
		snprintf(err, errlen, "cannot write %s (%s)", tmp, strerror(errno));
		if (off < len)
			close(fd);
		unlink(tmp);
		return CDS_EUNAVAIL;
	}
	return 0;
}

/* Wait for pid until deadline (ms on the monotonic clock); killed then. */
static int wait_child(pid_t pid, uint64_t timeout_ms, int *status)
{
	for (uint64_t waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		poll(NULL, 0, 10);
	}
}

/* The message on the standard input of the channel's command, run
 * without a shell, with the recipient as its last argument.  The input is
 * a socket, written with MSG_NOSIGNAL: a command that exits early costs
 * an error, never a SIGPIPE. */
int sendmail_deliver(const struct cds_channel *ch, const char *to, const char *msg, size_t len,
		     char *err, size_t errlen)
{
	char *argv[CDS_CHANNEL_MAX_ARGV + 2];
	int sv[2], status = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	for (size_t i = 0; i < ch->sendmail_argc; i++)
		argv[i] = ch->sendmail[i];
	argv[ch->sendmail_argc] = (char *)to;
	argv[ch->sendmail_argc + 1] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair (%s)", strerror(errno));
		return CDS_EUNAVAIL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (e != 0) {
		close(sv[0]);
		snprintf(err, errlen, "cannot run %s (%s)", argv[0], strerror(e));
		return CDS_EUNAVAIL;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(sv[0], msg + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(sv[0]);
	int t = wait_child(pid, ch->timeout_ms, &status);
	if (t != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || off < len) {
		if (t == 1)
			snprintf(err, errlen, "%s did not finish within %llums", argv[0],
				 (unsigned long long)ch->timeout_ms);
		else if (WIFEXITED(status))
			snprintf(err, errlen, "%s exited with %d", argv[0], WEXITSTATUS(status));
		else
			snprintf(err, errlen, "%s ended abnormally", argv[0]);
		return CDS_EUNAVAIL;
	}
	return 0;
}
