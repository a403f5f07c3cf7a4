/* Logging to stderr as text or JSON lines, and password redaction. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdscan/log.h"
#include "cdscan/util.h"

static enum cds_log_level log_threshold = CDS_LOG_INFO;
static enum cds_log_format log_format = CDS_LOG_TEXT;
static FILE *log_stream;

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

void cds_log_setup(enum cds_log_level level, enum cds_log_format format, FILE *stream)
{
	log_threshold = level;
	log_format = format;
	log_stream = stream;
}

enum cds_log_level cds_log_level(void)
{
	return log_threshold;
}

const char *cds_log_level_name(enum cds_log_level level)
{
	if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "?";
}

int cds_log_level_parse(const char *text, enum cds_log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum cds_log_level)i;
			return 0;
		}
	}
	return -1;
}

void cds_json_escape(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
}

/* A text log line's message: control characters escaped (\n, \r, \t,
 * \u00XX), everything else as it is. */
static void text_escape(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
}

void cds_logv(enum cds_log_level level, const char *fmt, va_list ap)
{
	char msg[2048], ts[32];
	FILE *f = log_stream ? log_stream : stderr;

	if (level > log_threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cds_time_format(time(NULL), ts, sizeof(ts));
	/* One fprintf per line keeps lines whole when several processes share
	 * the stream (stdio locks the FILE for the call). */
	if (log_format == CDS_LOG_JSON) {
		flockfile(f);
		fprintf(f, "{\"ts\":\"%s\",\"level\":\"%s\",\"pid\":%ld,\"msg\":\"", ts,
			cds_log_level_name(level), (long)getpid());
		cds_json_escape(f, msg);
		fputs("\"}\n", f);
		funlockfile(f);
	} else {
		/* Text from outside (a registry's <msg>, a server's error) must
		 * not forge log lines: control characters are escaped as in JSON. */
		flockfile(f);
		fprintf(f, "%s cdscan[%ld] %s: ", ts, (long)getpid(), cds_log_level_name(level));
		text_escape(f, msg);
		fputc('\n', f);
		funlockfile(f);
	}
	fflush(f);
}

void cds_log(enum cds_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cds_logv(level, fmt, ap);
	va_end(ap);
}

/* Append n bytes of s to out, keeping room for the NUL. */
static void put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	while (n-- > 0 && *o + 1 < outlen)
		out[(*o)++] = *s++;
	out[*o] = '\0';
}

void cds_log_redact_conninfo(const char *ci, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = ci;

	if (outlen == 0)
		return;
	out[0] = '\0';
	/* URI form: scheme://[user[:password]@]host... (libpq "Connection URIs"). */
	if (strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0) {
		const char *auth = strstr(ci, "://") + 3;
		const char *end = auth + strcspn(auth, "/?");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			put(out, outlen, &o, ci, (size_t)(colon + 1 - ci));
			put(out, outlen, &o, "***", 3);
			p = at;
		}
		/* Query parameters may carry password=... too: fall through to
		 * the key=value scan for the rest. */
	}
	while (*p) {
		if ((p == ci || !isalnum((unsigned char)p[-1])) && strncmp(p, "password", 8) == 0) {
			const char *q = p + 8;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				put(out, outlen, &o, p, (size_t)(q - p));
				put(out, outlen, &o, "***", 3);
				/* Skip the value: quoted with backslash escapes, or up
				 * to the next space or '&' (URI query). */
				if (*q == '\'') {
					for (q++; *q && *q != '\''; q++)
						if (*q == '\\' && q[1])
							q++;
					if (*q)
						q++;
				} else {
					while (*q && *q != ' ' && *q != '&')
						q++;
				}
				p = q;
				continue;
			}
		}
		put(out, outlen, &o, p, 1);
		p++;
	}
}
