/* Streaming zone file reader: directives and line joining here, each record
 * parsed by ldns (ldns_rr_new_frm_str). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/zone.h"

#define MAX_INCLUDE_DEPTH 16
/* The longest line the reader takes, physical or joined by parentheses:
 * an RR's rdata is at most 65535 octets, a little over 128 KiB as hex.  A
 * file without line ends (a device, a damaged file) is an error, not all
 * of memory. */
#define MAX_LINE (1u << 20)

/* One open file of the $INCLUDE stack. */
struct frame {
	FILE *f;
	char *path;
	unsigned line;
	ldns_rdf *origin; /* the origin when this file was entered, restored after */
};

struct cds_zone_reader {
	struct frame stack[MAX_INCLUDE_DEPTH];
	int depth;            /* frames in use */
	ldns_rdf *origin;     /* current $ORIGIN */
	ldns_rdf *prev;       /* previous owner, for omitted owners */
	uint32_t default_ttl; /* current $TTL */
	char *buf;            /* the logical line being built */
	size_t cap;
	char *phys;           /* the physical line being read */
	size_t physcap;
};

static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, errlen, "%s:%u: %s", file, line, msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
	return CDS_EDATA;
}

static int push_file(struct cds_zone_reader *z, const char *path, char *err, size_t errlen,
		     const char *from, unsigned from_line)
{
	if (z->depth >= MAX_INCLUDE_DEPTH)
		return fail(err, errlen, from, from_line, "$INCLUDE nested deeper than %d",
			    MAX_INCLUDE_DEPTH);
	FILE *f = fopen(path, "r");
	struct stat st;
	if (!f)
		return from ? fail(err, errlen, from, from_line, "$INCLUDE %s: %s", path,
				   strerror(errno))
			    : fail(err, errlen, path, 0, "cannot open (%s)", strerror(errno));
	/* An included file is a file: a device or a FIFO named in a zone
	 * would never end, or block the import. */
	if (from && (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))) {
		fclose(f);
		return fail(err, errlen, from, from_line, "$INCLUDE %s: not a regular file", path);
	}
	struct frame *fr = &z->stack[z->depth];
	fr->f = f;
	if (!(fr->path = strdup(path))) {
		fclose(f);
		return CDS_ENOMEM;
	}
	fr->line = 0;
	fr->origin = z->origin ? ldns_rdf_clone(z->origin) : NULL;
	z->depth++;
	return 0;
}

static void pop_file(struct cds_zone_reader *z)
{
	struct frame *fr = &z->stack[--z->depth];
	fclose(fr->f);
	free(fr->path);
	/* RFC 1035 §5.1: $INCLUDE does not change the origin of the parent file. */
	if (z->origin)
		ldns_rdf_deep_free(z->origin);
	z->origin = fr->origin;
}

int cds_zone_open(const char *path, const char *origin, struct cds_zone_reader **out, char *err,
		  size_t errlen)
{
	struct cds_zone_reader *z = calloc(1, sizeof(*z));
	if (!z)
		return CDS_ENOMEM;
	z->default_ttl = 3600;
	if (origin && ldns_str2rdf_dname(&z->origin, origin) != LDNS_STATUS_OK) {
		free(z);
		return fail(err, errlen, path, 0, "bad origin %s", origin);
	}
	int r = push_file(z, path, err, errlen, NULL, 0);
	if (r != 0) {
		if (z->origin)
			ldns_rdf_deep_free(z->origin);
		free(z);
		return r;
	}
	*out = z;
	return 0;
}

void cds_zone_close(struct cds_zone_reader *z)
{
	if (!z)
		return;
	while (z->depth > 0)
		pop_file(z);
	if (z->origin)
		ldns_rdf_deep_free(z->origin);
	if (z->prev)
		ldns_rdf_deep_free(z->prev);
	free(z->buf);
	free(z->phys);
	free(z);
}

static int append(struct cds_zone_reader *z, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > z->cap) {
		size_t cap = (*len + n + 1) * 2;
		char *b = realloc(z->buf, cap);
		if (!b)
			return CDS_ENOMEM;
		z->buf = b;
		z->cap = cap;
	}
	memcpy(z->buf + *len, s, n);
	*len += n;
	z->buf[*len] = '\0';
	return 0;
}

/*
 * The next physical line of fr into z->phys, its end included: 1 with its
 * length in *out, 0 at the end of the file, or CDS_EDATA for a read error
 * (never taken for the end: a zone cut short would look like delegations
 * removed) or a line longer than MAX_LINE.
 */
static int physical_line(struct cds_zone_reader *z, struct frame *fr, size_t *out, char *err,
			 size_t errlen)
{
	size_t n = 0;
	int c;
	while ((c = getc_unlocked(fr->f)) != EOF) {
		if (n + 1 >= z->physcap) {
			if (z->physcap >= MAX_LINE)
				return fail(err, errlen, fr->path, fr->line + 1,
					    "a line longer than %u octets", MAX_LINE);
			size_t cap = z->physcap ? z->physcap * 2 : 4096;
			char *b = realloc(z->phys, cap < MAX_LINE ? cap : MAX_LINE);
			if (!b)
				return CDS_ENOMEM;
			z->phys = b;
			z->physcap = cap < MAX_LINE ? cap : MAX_LINE;
		}
		z->phys[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (ferror(fr->f))
		return fail(err, errlen, fr->path, fr->line + 1, "read error (%s)", strerror(errno));
	*out = n;
	return n > 0;
}

/*
 * Build the next logical line: comments removed, parenthesised continuations
 * joined (RFC 1035 §5.1), quotes respected.  Returns 1 with the line in
 * z->buf and its first line number in *start, 0 at the end of all files.
 */
static int logical_line(struct cds_zone_reader *z, unsigned *start, char *err, size_t errlen)
{
	size_t len = 0;
	int depth = 0;
	bool quoted = false;

	while (z->depth > 0) {
		struct frame *fr = &z->stack[z->depth - 1];
		size_t n = 0;
		int pr = physical_line(z, fr, &n, err, errlen);
		if (pr < 0)
			return pr;
		if (pr == 0) {
			if (depth > 0)
				return fail(err, errlen, fr->path, fr->line,
					    "end of file inside parentheses");
			if (len > 0)
				return 1;
			pop_file(z);
			continue;
		}
		fr->line++;
		if (len == 0)
			*start = fr->line;
		for (size_t i = 0; i < n; i++) {
			char c = z->phys[i];
			if (c == '\n' || c == '\r')
				break;
			if (quoted) {
				if (c == '\\' && i + 1 < n) {
					if (append(z, &len, z->phys + i, 2) != 0)
						return CDS_ENOMEM;
					i++;
					continue;
				}
				if (c == '"')
					quoted = false;
			} else if (c == '"') {
				quoted = true;
			} else if (c == ';') {
				break;
			} else if (c == '(' || c == ')') {
				depth += c == '(' ? 1 : -1;
				if (depth < 0)
					return fail(err, errlen, fr->path, fr->line,
						    "')' without '('");
				c = ' ';
			}
			if (append(z, &len, &c, 1) != 0)
				return CDS_ENOMEM;
		}
		if (len > MAX_LINE)
			return fail(err, errlen, fr->path, *start,
				    "a record longer than %u octets", MAX_LINE);
		if (depth > 0) {
			if (append(z, &len, " ", 1) != 0)
				return CDS_ENOMEM;
			continue;
		}
		/* Skip lines with nothing but blanks. */
		size_t k = 0;
		while (k < len && isspace((unsigned char)z->buf[k]))
			k++;
		if (k == len) {
			len = 0;
			continue;
		}
		return 1;
	}
	return 0;
}

static int directive(struct cds_zone_reader *z, const char *line, unsigned lineno, char *err,
		     size_t errlen)
{
	struct frame *fr = &z->stack[z->depth - 1];
	char word[16], arg1[1024] = "", arg2[1024] = "";
	int n = sscanf(line, "%15s %1023s %1023s", word, arg1, arg2);
	if (strcasecmp(word, "$ORIGIN") == 0 && n >= 2) {
		ldns_rdf *o = NULL;
		if (ldns_str2rdf_dname(&o, arg1) != LDNS_STATUS_OK)
			return fail(err, errlen, fr->path, lineno, "$ORIGIN %s: not a name", arg1);
		/* A relative $ORIGIN is relative to the current one. */
		if (arg1[strlen(arg1) - 1] != '.' && z->origin) {
			ldns_rdf *abs = ldns_dname_cat_clone(o, z->origin);
			ldns_rdf_deep_free(o);
			o = abs;
		}
		if (z->origin)
			ldns_rdf_deep_free(z->origin);
		z->origin = o;
		return 0;
	}
	if (strcasecmp(word, "$TTL") == 0 && n >= 2) {
		const char *end = NULL;
		uint32_t ttl = ldns_str2period(arg1, &end);
		if (!end || *end)
			return fail(err, errlen, fr->path, lineno, "$TTL %s: not a TTL", arg1);
		z->default_ttl = ttl;
		return 0;
	}
	if (strcasecmp(word, "$INCLUDE") == 0 && n >= 2) {
		char path[4096];
		/* A relative path is taken from the including file's folder. */
		if (arg1[0] == '/') {
			snprintf(path, sizeof(path), "%s", arg1);
		} else {
			char *copy = strdup(fr->path);
			if (!copy)
				return CDS_ENOMEM;
			snprintf(path, sizeof(path), "%s/%s", dirname(copy), arg1);
			free(copy);
		}
		char *from = strdup(fr->path);
		if (!from)
			return CDS_ENOMEM;
		int r = push_file(z, path, err, errlen, from, lineno);
		free(from);
		if (r != 0)
			return r;
		if (n >= 3) {
			ldns_rdf *o = NULL;
			if (ldns_str2rdf_dname(&o, arg2) != LDNS_STATUS_OK)
				return fail(err, errlen, path, 0, "$INCLUDE origin %s: not a name",
					    arg2);
			if (z->origin)
				ldns_rdf_deep_free(z->origin);
			z->origin = o;
		}
		return 0;
	}
	return fail(err, errlen, fr->path, lineno, "unknown or incomplete directive %s", word);
}

static int dname_text(const ldns_rdf *rdf, char out[CDS_DNAME_BUFSIZE])
{
	char *s = ldns_rdf2str(rdf);
	int r = s ? cds_dname_normalize(s, out) : CDS_ENOMEM;
	free(s);
	return r;
}

int cds_zone_next(struct cds_zone_reader *z, struct cds_zone_rr *rr, char *err, size_t errlen)
{
	for (;;) {
		unsigned lineno = 0;
		int r = logical_line(z, &lineno, err, errlen);
		if (r <= 0)
			return r;
		struct frame *fr = &z->stack[z->depth - 1];
		if (z->buf[0] == '$') {
			r = directive(z, z->buf, lineno, err, errlen);
			if (r != 0)
				return r;
			continue;
		}
		ldns_rr *lr = NULL;
		ldns_rdf *prev = z->prev ? ldns_rdf_clone(z->prev) : NULL;
		ldns_status st = ldns_rr_new_frm_str(&lr, z->buf, z->default_ttl, z->origin, &prev);
		if (st != LDNS_STATUS_OK) {
			if (prev)
				ldns_rdf_deep_free(prev);
			return fail(err, errlen, fr->path, lineno, "%s", ldns_get_errorstr_by_id(st));
		}
		if (z->prev)
			ldns_rdf_deep_free(z->prev);
		z->prev = prev ? prev : ldns_rdf_clone(ldns_rr_owner(lr));
		memset(rr, 0, sizeof(*rr));
		rr->file = fr->path;
		rr->line = lineno;
		rr->type = (uint16_t)ldns_rr_get_type(lr);
		rr->ttl = ldns_rr_ttl(lr);
		r = dname_text(ldns_rr_owner(lr), rr->owner);
		if (r == 0 && rr->type == LDNS_RR_TYPE_NS && ldns_rr_rd_count(lr) == 1) {
			r = dname_text(ldns_rr_rdf(lr, 0), rr->target);
		} else if (r == 0 && rr->type == LDNS_RR_TYPE_DS && ldns_rr_rd_count(lr) == 4) {
			ldns_rdf *dg = ldns_rr_rdf(lr, 3);
			rr->ds.keytag = ldns_rdf2native_int16(ldns_rr_rdf(lr, 0));
			rr->ds.algorithm = ldns_rdf2native_int8(ldns_rr_rdf(lr, 1));
			rr->ds.digest_type = ldns_rdf2native_int8(ldns_rr_rdf(lr, 2));
			if (ldns_rdf_size(dg) == 0 || ldns_rdf_size(dg) > CDS_DS_DIGEST_MAX) {
				r = CDS_ESYNTAX;
			} else {
				rr->ds.digest_len = (uint8_t)ldns_rdf_size(dg);
				memcpy(rr->ds.digest, ldns_rdf_data(dg), ldns_rdf_size(dg));
			}
		} else if (r == 0 && rr->type == LDNS_RR_TYPE_DNSKEY && ldns_rr_rd_count(lr) == 4) {
			/* A DNSKEY (a trust anchor file) stands for its SHA-256 DS. */
			ldns_buffer *b = ldns_buffer_new(1024);
			if (!b || ldns_rr_rdata2buffer_wire(b, lr) != LDNS_STATUS_OK ||
			    cds_ds_from_dnskey(rr->owner, ldns_buffer_begin(b),
					       ldns_buffer_position(b), 2, &rr->ds) != 0)
				r = CDS_ESYNTAX;
			if (b)
				ldns_buffer_free(b);
		} else if (r == 0 && (rr->type == LDNS_RR_TYPE_A || rr->type == LDNS_RR_TYPE_AAAA) &&
			   ldns_rr_rd_count(lr) == 1) {
			ldns_rdf *a = ldns_rr_rdf(lr, 0);
			cds_addr_from_rdata(ldns_rdf_data(a), ldns_rdf_size(a), 53, &rr->addr);
		}
		ldns_rr_free(lr);
		if (r != 0)
			return fail(err, errlen, fr->path, lineno,
				    "a name with characters cdscan does not handle, or a bad DS");
		return 1;
	}
}
