/* The portfolio reader of `import --domains`: CSV and JSON lines, one
 * domain per line, read one line at a time into a bounded buffer. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/portfolio.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CDS_EDATA;
}

int cds_portfolio_entry_init(struct cds_portfolio_entry *e,
                             const struct cds_portfolio_limits *limits)
{
	memset(e, 0, sizeof(*e));
	e->ns = calloc(limits->max_ns ? limits->max_ns : 1, sizeof(*e->ns));
	e->ds = calloc(limits->max_ds ? limits->max_ds : 1, sizeof(*e->ds));
	if (!e->ns || !e->ds) {
		cds_portfolio_entry_deinit(e);
		return CDS_ENOMEM;
	}
	return 0;
}

void cds_portfolio_entry_deinit(struct cds_portfolio_entry *e)
{
	free(e->ns);
	free(e->ds);
	e->ns = NULL;
	e->ds = NULL;
}

/* Printable text for a message: at most 60 octets, control octets as '?'. */
static const char *shown(const char *s, size_t len, char out[64])
{
	size_t n = len < 60 ? len : 60;
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	memcpy(out + n, len > 60 ? "..." : "", len > 60 ? 4 : 1);
	return out;
}

/* The domain of a line: a name below a TLD (two labels at least), no
 * wildcard; its zone is the parent name, where its delegation is. */
static int set_domain(struct cds_portfolio_entry *e, const char *text, size_t len, char *err,
                      size_t errlen)
{
	char buf[CDS_DNAME_BUFSIZE], s[64];
	if (len == 0 || len >= sizeof(buf))
		return bad(err, errlen, "'%s' is not a domain name", shown(text, len, s));
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (cds_dname_normalize(buf, e->domain) != 0 || strchr(e->domain, '*'))
		return bad(err, errlen, "'%s' is not a domain name", shown(text, len, s));
	const char *dot = strchr(e->domain, '.');
	if (!dot[1])
		return bad(err, errlen, "'%s' is a top-level name, not a registered domain",
		           e->domain);
	snprintf(e->zone, sizeof(e->zone), "%s", dot + 1);
	return 0;
}

/* A registry profile name: letters, digits, '-', '_', '.' (the profiles
 * themselves are checked against the configuration by the caller). */
static int set_registry(struct cds_portfolio_entry *e, const char *text, size_t len, char *err,
                        size_t errlen)
{
	char s[64];
	if (len == 0 || len > CDS_PORTFOLIO_REGISTRY_MAX)
		return bad(err, errlen, "registry '%s': 1 to %d characters", shown(text, len, s),
		           CDS_PORTFOLIO_REGISTRY_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return bad(err, errlen, "registry '%s': not a profile name",
			           shown(text, len, s));
	}
	memcpy(e->registry, text, len);
	e->registry[len] = '\0';
	return 0;
}

/* The customer's mail address (notifications): strictly checked, since it
 * goes into a mail header (cds_mail_address_check). */
static int set_contact(struct cds_portfolio_entry *e, const char *text, size_t len, char *err,
                       size_t errlen)
{
	char s[64];
	if (cds_mail_address_check(text, len) != 0)
		return bad(err, errlen,
		           "contact '%s': not a mail address cdscan takes (local@host.name, at "
		           "most %d octets, no quotes, spaces or control characters)",
		           shown(text, len, s), CDS_MAIL_ADDRESS_MAX);
	memcpy(e->contact, text, len);
	e->contact[len] = '\0';
	return 0;
}

static void clear(struct cds_portfolio_entry *e)
{
	e->domain[0] = e->zone[0] = e->registry[0] = e->status[0] = e->contact[0] = '\0';
	e->has_ns = e->has_ds = false;
	e->ns_count = e->ds_count = 0;
}

/* ------------------------------------------------------------------ CSV --- */

/* One CSV field: as is, or in double quotes without quotes inside (a
 * domain or a registry name never holds one). */
static int csv_field(const char **p, const char *end, const char **f, size_t *flen, char *err,
                     size_t errlen)
{
	const char *s = *p;
	if (s < end && *s == '"') {
		const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
		if (!q || (q + 1 < end && q[1] != ','))
			return bad(err, errlen,
			           "a quoted field must end in a quote before ',' or "
			           "the end of the line");
		*f = s + 1;
		*flen = (size_t)(q - s - 1);
		*p = q + 1;
		return 0;
	}
	const char *c = memchr(s, ',', (size_t)(end - s));
	*f = s;
	*flen = (size_t)((c ? c : end) - s);
	if (memchr(s, '"', *flen))
		return bad(err, errlen, "a quote inside an unquoted field");
	*p = c ? c : end;
	return 0;
}

static bool header_word(const char *f, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(f, word, len) == 0;
}

/*
 * CSV by hand, not by a library: Debian has no well-kept C CSV library
 * that fits (libcsv is unmaintained since 2013), and this format is two
 * fields that can hold neither a comma nor a quote: RFC 4180 quoting is
 * accepted for them, nothing else of it is needed.
 */
static int parse_csv(const char *line, size_t len, bool first, struct cds_portfolio_entry *e,
                     char *err, size_t errlen)
{
	const char *p = line, *end = line + len, *f[3];
	size_t flen[3] = {0, 0, 0}, n = 0;
	int r;
	while (n < 3) {
		if ((r = csv_field(&p, end, &f[n], &flen[n], err, errlen)) != 0)
			return r;
		n++;
		if (p == end)
			break;
		p++; /* the comma */
		if (n == 3)
			return bad(err, errlen,
			           "more than three fields (expected domain[,registry[,contact]])");
	}
	if (first && header_word(f[0], flen[0], "domain") &&
	    (n == 1 || header_word(f[1], flen[1], "registry")) &&
	    (n < 3 || header_word(f[2], flen[2], "contact")))
		return 0;
	if ((r = set_domain(e, f[0], flen[0], err, errlen)) != 0)
		return r;
	/* An empty registry field with a contact: the profile by TLD. */
	if (n >= 2 && (n == 2 || flen[1] > 0) &&
	    (r = set_registry(e, f[1], flen[1], err, errlen)) != 0)
		return r;
	if (n == 3 && (r = set_contact(e, f[2], flen[2], err, errlen)) != 0)
		return r;
	return 1;
}

/* ------------------------------------------------------------ JSON lines --- */

/* A JSON string, without NUL characters (\u0000 would cut it short). */
static int json_text(json_object *v, const char *key, const char **s, size_t *len, char *err,
                     size_t errlen)
{
	if (!json_object_is_type(v, json_type_string))
		return bad(err, errlen, "\"%s\": expected a string", key);
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (strlen(*s) != *len)
		return bad(err, errlen, "\"%s\": a string with a NUL character", key);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int cmp_ds(const void *a, const void *b)
{
	char ta[CDS_DS_TEXT_MAX], tb[CDS_DS_TEXT_MAX];
	cds_ds_format(a, ta);
	cds_ds_format(b, tb);
	return strcmp(ta, tb);
}

int cds_portfolio_entry_sort(struct cds_portfolio_entry *e)
{
	size_t o = 0;
	qsort(e->ns, e->ns_count, sizeof(*e->ns), cmp_name);
	for (size_t i = 0; i < e->ns_count; i++)
		if (o == 0 || strcmp(e->ns[o - 1], e->ns[i]) != 0)
			memmove(e->ns[o++], e->ns[i], sizeof(*e->ns));
	e->ns_count = o;
	qsort(e->ds, e->ds_count, sizeof(*e->ds), cmp_ds);
	o = 0;
	for (size_t i = 0; i < e->ds_count; i++)
		if (o == 0 || cmp_ds(&e->ds[o - 1], &e->ds[i]) != 0)
			e->ds[o++] = e->ds[i];
	e->ds_count = o;
	return 0;
}

/* "ns": [NAME, ...], host names; sorted, duplicates dropped. */
static int json_ns(json_object *v, const struct cds_portfolio_limits *limits,
                   struct cds_portfolio_entry *e, char *err, size_t errlen)
{
	char buf[CDS_DNAME_BUFSIZE], s[64];
	if (!json_object_is_type(v, json_type_array))
		return bad(err, errlen, "\"ns\": expected an array of names");
	size_t n = json_object_array_length(v);
	if (n == 0)
		return bad(err, errlen, "\"ns\": a delegation needs at least one nameserver");
	if (n > limits->max_ns)
		return bad(err, errlen, "\"ns\": %zu names, more than import.max-ns (%u)", n,
		           limits->max_ns);
	for (size_t i = 0; i < n; i++) {
		const char *t;
		size_t tl;
		if (json_text(json_object_array_get_idx(v, i), "ns", &t, &tl, err, errlen) != 0)
			return CDS_EDATA;
		if (tl >= sizeof(buf) || cds_dname_normalize(t, e->ns[e->ns_count]) != 0 ||
		    strchr(e->ns[e->ns_count], '*') || strcmp(e->ns[e->ns_count], ".") == 0)
			return bad(err, errlen, "\"ns\": '%s' is not a host name", shown(t, tl, s));
		e->ns_count++;
	}
	e->has_ns = true;
	return cds_portfolio_entry_sort(e);
}

/* "ds": ["KEYTAG ALG DIGESTTYPE HEX", ...]: checked as `import --zone` and
 * `check --ds` check a DS (digest length per type); no delete DS (RFC
 * 8078 §4 is a signal of the child, never a parent's record). */
static int json_ds(json_object *v, const struct cds_portfolio_limits *limits,
                   struct cds_portfolio_entry *e, char *err, size_t errlen)
{
	char s[64];
	if (!json_object_is_type(v, json_type_array))
		return bad(err, errlen, "\"ds\": expected an array of DS texts");
	size_t n = json_object_array_length(v);
	if (n > limits->max_ds)
		return bad(err, errlen, "\"ds\": %zu records, more than import.max-ds (%u)", n,
		           limits->max_ds);
	for (size_t i = 0; i < n; i++) {
		const char *t;
		size_t tl;
		struct cds_ds *d = &e->ds[e->ds_count];
		if (json_text(json_object_array_get_idx(v, i), "ds", &t, &tl, err, errlen) != 0)
			return CDS_EDATA;
		if (cds_ds_parse(t, d) != 0 || d->algorithm == 0)
			return bad(err, errlen,
			           "\"ds\": '%s' is not 'KEYTAG ALG DIGESTTYPE HEX' with a digest "
			           "of the right length",
			           shown(t, tl, s));
		e->ds_count++;
	}
	e->has_ds = true;
	return cds_portfolio_entry_sort(e);
}

/* The members of a line's object: each known key once, no other key. */
static int json_members(json_object *o, const struct cds_portfolio_limits *limits,
                        struct cds_portfolio_entry *e, char *err, size_t errlen)
{
	const char *t;
	size_t tl;
	int r;
	json_object_object_foreach(o, key, v)
	{
		if (strcmp(key, "domain") == 0) {
			if ((r = json_text(v, key, &t, &tl, err, errlen)) != 0 ||
			    (r = set_domain(e, t, tl, err, errlen)) != 0)
				return r;
		} else if (strcmp(key, "registry") == 0) {
			if ((r = json_text(v, key, &t, &tl, err, errlen)) != 0 ||
			    (r = set_registry(e, t, tl, err, errlen)) != 0)
				return r;
		} else if (strcmp(key, "ns") == 0) {
			if ((r = json_ns(v, limits, e, err, errlen)) != 0)
				return r;
		} else if (strcmp(key, "ds") == 0) {
			if ((r = json_ds(v, limits, e, err, errlen)) != 0)
				return r;
		} else if (strcmp(key, "contact") == 0) {
			if ((r = json_text(v, key, &t, &tl, err, errlen)) != 0 ||
			    (r = set_contact(e, t, tl, err, errlen)) != 0)
				return r;
		} else {
			char s[64];
			return bad(err, errlen,
			           "unknown key \"%s\" (expected domain, registry, ns, "
			           "ds, contact)",
			           shown(key, strlen(key), s));
		}
	}
	if (!e->domain[0])
		return bad(err, errlen, "no \"domain\"");
	return 1;
}

/* One JSON object per line, parsed by json-c in strict mode (RFC 8259:
 * no comments, single quotes or trailing commas), three levels deep at
 * most, nothing but white space after it. */
static int parse_jsonl(const char *line, size_t len, const struct cds_portfolio_limits *limits,
                       struct cds_portfolio_entry *e, char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new_ex(3);
	json_object *o = NULL;
	int r;
	if (!tok)
		return CDS_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error je = json_tokener_get_error(tok);
		r = bad(err, errlen, "not a JSON object (%s)",
		        je == json_tokener_continue ? "the line ends inside it"
		                                    : json_tokener_error_desc(je));
		goto out;
	}
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (line[i] != ' ' && line[i] != '\t') {
			r = bad(err, errlen, "text after the JSON object");
			goto out;
		}
	if (!json_object_is_type(o, json_type_object)) {
		r = bad(err, errlen, "expected a JSON object");
		goto out;
	}
	/* json-c keeps the last of two equal keys (documented in cdscan(8)). */
	r = json_members(o, limits, e, err, errlen);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

static bool blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return line[i] == '#';
	return true;
}

int cds_portfolio_parse_line(enum cds_portfolio_format format, const char *line, size_t len,
                             bool first, const struct cds_portfolio_limits *limits,
                             struct cds_portfolio_entry *e, char *err, size_t errlen)
{
	clear(e);
	if (len > 0 && line[len - 1] == '\r')
		len--; /* CRLF line ends, as spreadsheets write them */
	if (memchr(line, '\0', len))
		return bad(err, errlen, "a NUL octet in the line");
	if (len > limits->max_line)
		return bad(err, errlen, "line longer than import.max-line (%u octets)",
		           limits->max_line);
	if (blank(line, len))
		return 0;
	if (format == CDS_PORTFOLIO_CSV)
		return parse_csv(line, len, first, e, err, errlen);
	return parse_jsonl(line, len, limits, e, err, errlen);
}

/* --------------------------------------------------------------- reader --- */

struct cds_portfolio_reader {
	FILE *f;
	bool is_stdin;
	enum cds_portfolio_format format;
	struct cds_portfolio_limits limits;
	unsigned long line;    /* lines read */
	unsigned long domains; /* lines with a domain */
	char *buf;             /* max_line + 2 octets: a CR and one more */
	char name[256];        /* the file as messages name it */
};

int cds_portfolio_open(const char *path, enum cds_portfolio_format format,
                       const struct cds_portfolio_limits *limits, struct cds_portfolio_reader **out,
                       char *err, size_t errlen)
{
	struct cds_portfolio_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->buf = malloc((size_t)limits->max_line + 2))) {
		free(r);
		return CDS_ENOMEM;
	}
	r->format = format;
	r->limits = *limits;
	r->is_stdin = strcmp(path, "-") == 0;
	snprintf(r->name, sizeof(r->name), "%s", r->is_stdin ? "stdin" : path);
	r->f = r->is_stdin ? stdin : fopen(path, "r");
	if (!r->f) {
		bad(err, errlen, "%s: %s", path, strerror(errno));
		cds_portfolio_close(r);
		return CDS_EDATA;
	}
	*out = r;
	return 0;
}

/* One line into r->buf: its length, or -1 at the end of the file, or -2
 * when it is longer than the buffer (the rest of it is not read). */
static long read_line(struct cds_portfolio_reader *r)
{
	size_t n = 0, cap = (size_t)r->limits.max_line + 2;
	int c;
	while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
		if (n == cap)
			return -2;
		r->buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return -1;
	return (long)n;
}

int cds_portfolio_next(struct cds_portfolio_reader *r, struct cds_portfolio_entry *e, char *err,
                       size_t errlen)
{
	char why[400];
	int rc;
	for (;;) {
		long n = read_line(r);
		if (n == -1)
			return ferror(r->f) ? bad(err, errlen, "%s:%lu: %s", r->name, r->line + 1,
			                          strerror(errno))
			                    : 0;
		r->line++;
		if (n == -2)
			return bad(err, errlen,
			           "%s:%lu: line longer than import.max-line (%u octets)", r->name,
			           r->line, r->limits.max_line);
		rc = cds_portfolio_parse_line(r->format, r->buf, (size_t)n, r->line == 1,
		                              &r->limits, e, why, sizeof(why));
		if (rc == 0)
			continue;
		if (rc < 0)
			return rc == CDS_EDATA
			           ? bad(err, errlen, "%s:%lu: %s", r->name, r->line, why)
			           : rc;
		if (++r->domains > r->limits.max_domains)
			return bad(err, errlen, "%s:%lu: more than import.max-domains (%u) domains",
			           r->name, r->line, r->limits.max_domains);
		e->file = r->name;
		e->line = r->line;
		return 1;
	}
}

void cds_portfolio_close(struct cds_portfolio_reader *r)
{
	if (!r)
		return;
	if (r->f && !r->is_stdin)
		fclose(r->f);
	free(r->buf);
	free(r);
}

/* ------------------------------------------------------------- registry --- */

static bool serves(const struct cds_registry *reg, const char *domain)
{
	for (size_t k = 0; k < reg->tld_count; k++)
		if (cds_dname_is_subdomain(domain, reg->tlds[k]) && strcmp(domain, reg->tlds[k]))
			return true;
	return false;
}

int cds_portfolio_registry(const struct cds_conf *conf, const struct cds_portfolio_entry *e,
                           const struct cds_registry **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!e->registry[0]) {
		*out = cds_conf_registry_for(conf, e->domain);
		return 0;
	}
	for (size_t i = 0; i < conf->registry_count; i++)
		if (strcmp(conf->registries[i].name, e->registry) == 0)
			*out = &conf->registries[i];
	if (!*out)
		return bad(err, errlen, "%s:%lu: unknown registry '%s' (%s)", e->file, e->line,
		           e->registry,
		           conf->registry_count ? "not one of the profiles under registries:"
		                                : "the configuration has no registries:");
	if (!serves(*out, e->domain))
		return bad(err, errlen,
		           "%s:%lu: registry '%s' does not serve %s (its tlds do not"
		           " hold it)",
		           e->file, e->line, e->registry, e->domain);
	return 0;
}
