/* Logging: one line per event on stderr, as text or JSON (the only global
 * state besides main.c, as STYLE.md allows). */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum cds_log_level {
	CDS_LOG_ERROR = 0,
	CDS_LOG_WARNING,
	CDS_LOG_NOTICE,
	CDS_LOG_INFO,
	CDS_LOG_DEBUG,
};

enum cds_log_format {
	CDS_LOG_TEXT = 0,
	CDS_LOG_JSON,
};

/* Set the threshold, format and stream (NULL: stderr).  Main thread only,
 * before other threads exist. */
void cds_log_setup(enum cds_log_level level, enum cds_log_format format, FILE *stream);

/* Current threshold. */
enum cds_log_level cds_log_level(void);

/* Write one line if level is at or above the threshold.  Messages are
 * lower case with detail in parentheses (STYLE.md). */
void cds_log(enum cds_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cds_logv(enum cds_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define cds_log_error(...)   cds_log(CDS_LOG_ERROR, __VA_ARGS__)
#define cds_log_warning(...) cds_log(CDS_LOG_WARNING, __VA_ARGS__)
#define cds_log_notice(...)  cds_log(CDS_LOG_NOTICE, __VA_ARGS__)
#define cds_log_info(...)    cds_log(CDS_LOG_INFO, __VA_ARGS__)
#define cds_log_debug(...)   cds_log(CDS_LOG_DEBUG, __VA_ARGS__)

/* Parse "error", "warning", "notice", "info", "debug".  Returns 0 or -1. */
int cds_log_level_parse(const char *text, enum cds_log_level *out);
/* Name of a level. */
const char *cds_log_level_name(enum cds_log_level level);

/*
 * Copy a libpq connection string with every password replaced by "***",
 * both in key=value form (password=..., quoted or not) and in URI form
 * (postgresql://user:secret@host).  Use before a connection string goes
 * into a log line or an error message.  out is always NUL-terminated.
 */
void cds_log_redact_conninfo(const char *conninfo, char *out, size_t outlen);

/* Write s as a JSON string body (no quotes) with escaping, to f. */
void cds_json_escape(FILE *f, const char *s);
