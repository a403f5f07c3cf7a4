/* Message templates: {name} placeholders in text from the configuration,
 * checked when the configuration is loaded and expanded per message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/util.h"

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom || n == 0)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static int bad_at(size_t *at, size_t off, char *bad, size_t badlen, const char *what, size_t n)
{
	*at = off;
	snprintf(bad, badlen, "%.*s", (int)(n > 64 ? 64 : n), what);
	return CDS_EDATA;
}

int cds_template_expand(const char *tmpl, const char *const *names, const char *const *values,
			size_t n, char **out, size_t *at, char *bad, size_t badlen)
{
	struct out o = {0};
	const char *s = tmpl;
	if (out)
		*out = NULL;
	put(&o, "", 0);
	while (*s) {
		size_t lit = strcspn(s, "{}");
		if (values)
			put(&o, s, lit);
		s += lit;
		if (!*s)
			break;
		if (s[0] == s[1]) { /* {{ or }} */
			if (values)
				put(&o, s, 1);
			s += 2;
			continue;
		}
		if (*s == '}')
			return free(o.p), bad_at(at, (size_t)(s - tmpl), bad, badlen, "}", 1);
		const char *end = strchr(s + 1, '}');
		size_t len = end ? (size_t)(end - s - 1) : 0;
		size_t i = 0;
		while (end && i < n && !(strlen(names[i]) == len && memcmp(names[i], s + 1, len) == 0))
			i++;
		if (!end || i == n)
			return free(o.p), bad_at(at, (size_t)(s - tmpl), bad, badlen,
						 end ? s + 1 : "{", end ? len : 1);
		if (values && values[i])
			put(&o, values[i], strlen(values[i]));
		s = end + 1;
	}
	if (o.oom) {
		free(o.p);
		return CDS_ENOMEM;
	}
	if (values && out && !o.p)
		o.p = strdup("");
	if (values && out)
		*out = o.p;
	else
		free(o.p);
	return values && out && !*out ? CDS_ENOMEM : 0;
}
