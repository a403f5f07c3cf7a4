/* Vantage agreement (scan.vantages, cdscan.yaml(5) VANTAGES): what one
 * scanner observed of a side, as text that scanners elsewhere compare byte
 * for byte, and the rule that decides from every vantage's latest
 * observation whether a change may be made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/error.h"
#include "cdscan/policy.h"

/* A growing text. */
struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *s)
{
	size_t n = strlen(s);
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *p = realloc(t->s, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->s = p;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The strings of l in byte order, joined by sep (l itself is left as it
 * is: the verdict is the caller's). */
static void put_sorted(struct text *t, const struct cds_strlist *l, const char *sep)
{
	if (l->n == 0)
		return; /* (qsort and memcpy take no NULL, even for nothing) */
	char **v = malloc(l->n * sizeof(*v));
	if (!v) {
		t->oom = true;
		return;
	}
	memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			put(t, sep);
		put(t, v[i]);
	}
	free(v);
}

static int cmp_glue(const void *a, const void *b)
{
	return strcmp((*(const struct cds_verdict_glue *const *)a)->name,
	              (*(const struct cds_verdict_glue *const *)b)->name);
}

/* The glue, name by name in byte order, each with its sorted addresses. */
static void put_glue(struct text *t, const struct cds_verdict_glue *g, size_t n)
{
	if (n == 0)
		return;
	const struct cds_verdict_glue **v = malloc(n * sizeof(*v));
	if (!v) {
		t->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &g[i];
	qsort(v, n, sizeof(*v), cmp_glue);
	for (size_t i = 0; i < n; i++) {
		put(t, "; glue ");
		put(t, v[i]->name);
		put(t, " ");
		put_sorted(t, &v[i]->addresses, " ");
	}
	free(v);
}

/* Has the side observed something comparable: a change it would make, or
 * (action none) that there is nothing to change?  Sides decided before the
 * child's data is looked at (suspended, opted out), waiting (bootstrap-
 * pending, csync-not-immediate) or rejected observed nothing. */
static bool observed(const struct cds_verdict_side *s)
{
	if (cds_action_changes(s->action))
		return true;
	if (s->action != CDS_ACTION_NONE || s->reason_count == 0)
		return false;
	switch (s->reasons[0]) {
	case CDS_R_NO_SIGNAL:
	case CDS_R_SIGNAL_UNCHANGED:
	case CDS_R_NO_CSYNC:
	case CDS_R_CSYNC_UNCHANGED:
		return true;
	default:
		return false;
	}
}

int cds_policy_vantage_fingerprint(const struct cds_verdict *v, enum cds_kind kind, char **out)
{
	const struct cds_verdict_side *s = cds_verdict_side_const(v, kind);
	struct text t = {0};
	*out = NULL;
	if (!observed(s))
		return CDS_ENOENT;
	/* What it would act on: the action and the whole proposed set (with
	 * no change, proposed equals current), and for NS the proposed glue.
	 * Canonical: sorted, names lower case, digests upper case (as the
	 * verdict holds them). */
	put(&t, cds_action_name(s->action));
	put(&t, ": ");
	put_sorted(&t, &s->proposed, ", ");
	if (kind == CDS_KIND_NS)
		put_glue(&t, v->glue, v->glue_count);
	if (t.oom || !t.s) {
		free(t.s);
		return CDS_ENOMEM;
	}
	*out = t.s;
	return 0;
}

/* A fingerprint for people: cut to about max characters. */
static void short_fp(char *buf, size_t len, const char *fp, size_t max)
{
	if (strlen(fp) <= max)
		snprintf(buf, len, "%s", fp);
	else
		snprintf(buf, len, "%.*s...", (int)max, fp);
}

/* Does seen[0..i) hold vantage name already (the store keeps one row per
 * vantage; a caller's duplicate counts once)? */
static bool seen_before(const struct cds_vantage_seen *seen, size_t i, const char *name)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(seen[j].vantage, name) == 0)
			return true;
	return false;
}

enum cds_vantage_outcome cds_policy_vantage_agree(const char *self, const char *fingerprint,
                                                  const struct cds_vantage_seen *seen, size_t n,
                                                  time_t now, uint64_t window_s, uint32_t required,
                                                  char *detail, size_t len)
{
	char agree[256], differ[400] = "";
	size_t same = 1, others = 0, a = 0, d = 0;
	a = (size_t)snprintf(agree, sizeof(agree), "%s", self);
	for (size_t i = 0; i < n; i++) {
		const struct cds_vantage_seen *o = &seen[i];
		/* This vantage's own row is its previous scan: the present one
		 * replaces it.  Outside the window an observation no longer
		 * counts, for or against: a vantage that saw the child before
		 * it changed does not hold it back for ever, and an old
		 * observation cannot be replayed into an agreement. */
		if (strcmp(o->vantage, self) == 0 || seen_before(seen, i, o->vantage) ||
		    o->at + (time_t)window_s < now)
			continue;
		if (strcmp(o->fingerprint, fingerprint) == 0) {
			same++;
			if (a < sizeof(agree))
				a += (size_t)snprintf(agree + a, sizeof(agree) - a, ", %s",
				                      o->vantage);
			continue;
		}
		others++;
		if (others <= 3 && d < sizeof(differ)) {
			char when[32], fp[128];
			struct tm tm;
			time_t at = o->at;
			gmtime_r(&at, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			short_fp(fp, sizeof(fp), o->fingerprint, 96);
			d += (size_t)snprintf(differ + d, sizeof(differ) - d,
			                      "%s%s saw \"%s\" at %s", d ? "; " : "", o->vantage,
			                      fp, when);
		}
	}
	if (others > 0) {
		snprintf(detail, len,
		         "vantages disagree: %zu saw this signal (%s), %zu a different one: %s%s",
		         same, agree, others, differ, others > 3 ? "; ..." : "");
		return CDS_VANTAGE_DISAGREED;
	}
	if (same >= required) {
		snprintf(detail, len, "%zu of %u vantages observed this signal (%s)", same,
		         (unsigned)required, agree);
		return CDS_VANTAGE_AGREED;
	}
	snprintf(detail, len,
	         "%zu of %u vantages have observed this signal so far (%s); waiting for the "
	         "others within scan.vantage-window (%llu s)",
	         same, (unsigned)required, agree, (unsigned long long)window_s);
	return CDS_VANTAGE_WAITING;
}

/* The proposed glue back to the parent's. */
static int glue_back(struct cds_verdict *v)
{
	struct cds_verdict_glue *g = NULL;
	size_t n = 0;
	for (size_t i = 0; i < v->glue_current_count; i++) {
		struct cds_verdict_glue *e = cds_verdict_glue_add(&g, &n, v->glue_current[i].name);
		if (!e || cds_strlist_copy(&e->addresses, &v->glue_current[i].addresses) != 0) {
			cds_verdict_glue_free(g, n);
			return CDS_ENOMEM;
		}
	}
	cds_verdict_glue_free(v->glue, v->glue_count);
	v->glue = g;
	v->glue_count = n;
	return 0;
}

int cds_policy_vantage_hold(struct cds_verdict *v, enum cds_kind kind, const char *detail)
{
	struct cds_verdict_side *s = cds_verdict_side_of(v, kind);
	/* Nothing changes: the side is a reject like any other, its proposed
	 * set the current one (CONTRACT.md). */
	s->reason_count = 0;
	cds_verdict_decide(s, CDS_ACTION_REJECT, CDS_R_VANTAGE_DISAGREEMENT, "%s", detail);
	cds_strlist_clear(&s->proposed);
	cds_strlist_clear(&s->add);
	cds_strlist_clear(&s->rem);
	if (cds_strlist_copy(&s->proposed, &s->current) != 0)
		return CDS_ENOMEM;
	if (kind == CDS_KIND_DS) {
		/* No change made: the replay baseline stays where it is. */
		v->signal_inception = 0;
		return 0;
	}
	/* An operator's CSYNC approval is kept for the decision that acts. */
	v->csync_approval_used = false;
	return glue_back(v);
}
