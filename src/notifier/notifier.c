/* The notifier: notices routed to channels, each delivery rendered from its
 * templates and handed to its channel after the transaction that wrote the
 * notice committed, its outcome recorded (sent; retried with exponential
 * back-off across runs; given up after notifications.max-attempts). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/model.h"
#include "cdscan/report.h"
#include "cdscan/util.h"
#include "notifier_internal.h"

const char *cds_notifier_outcome_name(enum cds_delivery_outcome o)
{
	static const char *const names[] = {"sent", "retry", "failed"};
	return (unsigned)o < 3 ? names[o] : "?";
}

/* ----------------------------------------------------------- values --- */

/* The strings of a JSON array joined by sep, "(none)" when empty. */
static void join_array(struct buf *b, json_object *arr, const char *sep)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		buf_str(b, i ? sep : "");
		buf_str(b, s ? s : "");
	}
	if (n == 0)
		buf_str(b, "(none)");
}

static json_object *member(json_object *o, const char *a, const char *b)
{
	json_object *x = NULL, *y = NULL;
	if (!o || !json_object_object_get_ex(o, a, &x))
		return NULL;
	if (!b)
		return x;
	return json_object_object_get_ex(x, b, &y) ? y : NULL;
}

/* The reasons worth saying: a rejected side's, else the DS side's (or
 * the change set's side). */
static void reasons(json_object *verdict, const char *only_side, struct buf *code,
		    struct buf *text, struct buf *advice, struct buf *detail)
{
	static const char *const sides[] = {"ds", "ns"};
	bool any_reject = false;
	for (int s = 0; s < 2; s++) {
		const char *a = json_object_get_string(member(verdict, sides[s], "action"));
		any_reject |= a && strcmp(a, "reject") == 0;
	}
	for (int s = 0; s < 2; s++) {
		const char *a = json_object_get_string(member(verdict, sides[s], "action"));
		if (only_side ? strcmp(only_side, sides[s]) != 0
			      : any_reject ? !(a && strcmp(a, "reject") == 0) : s != 0)
			continue;
		json_object *rs = member(verdict, sides[s], "reasons");
		for (size_t i = 0; rs && i < json_object_array_length(rs); i++) {
			const char *c = json_object_get_string(json_object_array_get_idx(rs, i));
			enum cds_reason r;
			if (!c)
				continue;
			buf_str(code, code->len ? ", " : "");
			buf_str(code, c);
			if (cds_reason_parse(c, &r) == 0) {
				buf_str(text, text->len ? " " : "");
				buf_str(text, cds_reason_text(r));
			}
			const char *adv = cds_report_reason_advice(c);
			if (*adv && !(advice->p && strstr(advice->p, adv))) {
				buf_str(advice, advice->len ? " " : "");
				buf_str(advice, adv);
			}
		}
		const char *d = json_object_get_string(member(verdict, sides[s], "detail"));
		if (d && *d) {
			buf_str(detail, detail->len ? "; " : "");
			buf_str(detail, d);
		}
	}
}

/* DS and NS added and removed: the change set's own lists for
 * change-applied (its kind's; the other kind none), else the verdict's. */
static void changes(json_object *p, json_object *verdict, bool change, struct buf *out[4])
{
	const char *kind = change ? json_object_get_string(member(p, "kind", NULL)) : NULL;
	static const char *const sides[] = {"ds", "ns"};
	for (int s = 0; s < 2; s++) {
		json_object *add, *rem;
		if (change) {
			bool mine = kind && strcmp(kind, sides[s]) == 0;
			add = mine ? member(p, "add", NULL) : NULL;
			rem = mine ? member(p, "rem", NULL) : NULL;
		} else {
			add = member(verdict, sides[s], "add");
			rem = member(verdict, sides[s], "rem");
		}
		join_array(out[2 * s], add, ", ");
		join_array(out[2 * s + 1], rem, ", ");
	}
}

static char *take(struct buf *b, const char *fallback)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (b->len == 0) {
		free(b->p);
		return strdup(fallback);
	}
	return b->p;
}

int cds_notifier_values(const struct cds_db_delivery *d, const char *registry,
			const char *contact, char *values[CDS_PH_COUNT])
{
	struct buf code = {0}, text = {0}, advice = {0}, detail = {0}, ch[4] = {{0}};
	struct buf *chp[4] = {&ch[0], &ch[1], &ch[2], &ch[3]};
	char streak[16], domain[CDS_DNAME_BUFSIZE];
	memset(values, 0, CDS_PH_COUNT * sizeof(*values));
	json_object *p = json_tokener_parse(d->payload ? d->payload : "");
	if (!p)
		return CDS_EDATA;
	bool change = d->event == CDS_EVENT_CHANGE_APPLIED;
	json_object *verdict = change ? member(p, "verdict", NULL) : p;
	reasons(verdict, change ? json_object_get_string(member(p, "kind", NULL)) : NULL, &code,
		&text, &advice, &detail);
	changes(p, verdict, change, chp);
	/* A name for people: without the root's dot. */
	snprintf(domain, sizeof(domain), "%s", d->domain);
	size_t dl = strlen(domain);
	if (dl > 1 && domain[dl - 1] == '.')
		domain[dl - 1] = '\0';
	snprintf(streak, sizeof(streak), "%d", d->streak);
	values[CDS_PH_DOMAIN] = strdup(domain);
	values[CDS_PH_REGISTRY] = strdup(registry && *registry ? registry : "the registry");
	values[CDS_PH_EVENT] = strdup(cds_event_name(d->event));
	values[CDS_PH_REASON] = take(&code, "none");
	values[CDS_PH_REASON_TEXT] = take(&text, "");
	values[CDS_PH_DETAIL] = take(&detail, "(none)");
	values[CDS_PH_ADVICE] = take(&advice, "Nothing to do.");
	for (int i = 0; i < 4; i++)
		values[CDS_PH_DS_ADD + i] = take(&ch[i], "(none)");
	values[CDS_PH_CONTACT] = strdup(contact ? contact : "");
	values[CDS_PH_STREAK] = strdup(streak);
	values[CDS_PH_TIME] = strdup(d->created_at);
	json_object_put(p);
	for (int i = 0; i < CDS_PH_COUNT; i++)
		if (!values[i]) {
			cds_notifier_values_free(values);
			return CDS_ENOMEM;
		}
	return 0;
}

void cds_notifier_values_free(char *values[CDS_PH_COUNT])
{
	for (int i = 0; i < CDS_PH_COUNT; i++) {
		free(values[i]);
		values[i] = NULL;
	}
}

/* ---------------------------------------------------------- routing --- */

/* The profile of a delegation: the one stored with it, else by TLD. */
static const struct cds_registry *profile_of(const struct cds_conf *conf, const char *registry,
					     const char *domain)
{
	for (size_t i = 0; registry && *registry && i < conf->registry_count; i++)
		if (strcmp(conf->registries[i].name, registry) == 0)
			return &conf->registries[i];
	return cds_conf_registry_for(conf, domain);
}

static size_t route_cb(void *arg, enum cds_event event, const char *domain,
		       const char *registry, const char **names, size_t max)
{
	const struct cds_conf *conf = arg;
	int idx[CDS_CONF_MAX_CHANNELS];
	size_t n = cds_conf_channels_for(conf, profile_of(conf, registry, domain), event, idx);
	for (size_t i = 0; i < n && i < max; i++)
		names[i] = conf->notifications.channels[idx[i]].name;
	return n < max ? n : max;
}

/* --------------------------------------------------------- delivery --- */

/* The recipient: the delegation's contact, else its profile's
 * notify.contact, else notifications.default.contact; "" for none. */
static const char *recipient(const struct cds_conf *conf, const struct cds_registry *reg,
			     const struct cds_db_delivery *d)
{
	if (d->contact[0])
		return d->contact;
	if (reg && reg->notify.contact)
		return reg->notify.contact;
	return conf->notifications.defaults.contact ? conf->notifications.defaults.contact : "";
}

/* The notice as one JSON object: the webhook's body and the json
 * channel's line. */
static char *notice_json(const struct cds_db_delivery *d, char *const *values,
			 const char *subject, const char *text)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "notice", json_object_new_int64(d->notice_id));
	json_object_object_add(o, "event", json_object_new_string(cds_event_name(d->event)));
	json_object_object_add(o, "domain", json_object_new_string(d->domain));
	json_object_object_add(o, "registry", d->registry[0]
						      ? json_object_new_string(d->registry)
						      : NULL);
	json_object_object_add(o, "contact", values[CDS_PH_CONTACT][0]
						     ? json_object_new_string(values[CDS_PH_CONTACT])
						     : NULL);
	json_object_object_add(o, "created_at", json_object_new_string(d->created_at));
	json_object_object_add(o, "streak", json_object_new_int(d->streak));
	json_object_object_add(o, "subject", json_object_new_string(subject));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, d->event == CDS_EVENT_CHANGE_APPLIED ? "change" : "verdict",
			       json_tokener_parse(d->payload));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = s ? strdup(s) : NULL;
	json_object_put(o);
	return out;
}

/* One line appended in one write (O_APPEND: lines of several processes
 * never interleave). */
static int json_deliver(const struct cds_channel *ch, const char *line, char *err,
			size_t errlen)
{
	int fd = open(ch->file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	size_t len = strlen(line);
	char *l = malloc(len + 2);
	if (fd < 0 || !l) {
		snprintf(err, errlen, "cannot open %s (%s)", ch->file, strerror(errno));
		free(l);
		if (fd >= 0)
			close(fd);
		return CDS_EUNAVAIL;
	}
	memcpy(l, line, len);
	l[len] = '\n';
	ssize_t w = write(fd, l, len + 1);
	int r = (w == (ssize_t)(len + 1) && close(fd) == 0) ? 0 : CDS_EUNAVAIL;
	if (r != 0) {
		snprintf(err, errlen, "cannot write %s (%s)", ch->file, strerror(errno));
		if (w != (ssize_t)(len + 1))
			close(fd);
	}
	free(l);
	return r;
}

static void random_hex(char *out, size_t n)
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(r) && 2 * i + 2 < n; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static int mail_deliver(const struct cds_channel *ch, const struct cds_db_delivery *d,
			const char *to, const char *subject, const char *body, uint32_t max,
			char *err, size_t errlen)
{
	char msgid[96], rnd[40] = "", *msg = NULL, *dir = NULL;
	size_t len = 0, at = 0;
	random_hex(rnd, sizeof(rnd));
	snprintf(msgid, sizeof(msgid), "cdscan.%lld.%lld.%.16s", (long long)d->notice_id,
		 (long long)d->id, rnd);
	if (!*to || cds_mail_address_check(to, strlen(to)) != 0) {
		snprintf(err, errlen, "no usable recipient (the delegation has no contact, and "
				      "notify.contact is not set)");
		return CDS_EDATA;
	}
	int r = cds_notifier_mail_message(ch, to, subject, body, msgid, time(NULL), &msg, &len);
	if (r == 0 && len > max) {
		snprintf(err, errlen, "the message has %zu octets, more than "
				      "notifications.max-message (%u)", len, max);
		r = CDS_EDATA;
	}
	if (r == 0 && ch->maildir) {
		const char *name = "contact";
		char bad[8];
		/* The address was checked: no '/', never "." or "..". */
		r = cds_template_expand(ch->maildir, &name, &to, 1, &dir, &at, bad, sizeof(bad));
		if (r == 0)
			r = maildir_deliver(dir, msg, len, rnd, err, errlen);
	} else if (r == 0) {
		r = sendmail_deliver(ch, to, msg, len, err, errlen);
	}
	free(dir);
	free(msg);
	return r;
}

/* Render and hand over one delivery.  CDS_EDATA: it can never succeed. */
static int deliver(const struct cds_conf *conf, const struct cds_channel *ch,
		   const struct cds_db_delivery *d, char *err, size_t errlen)
{
	const struct cds_registry *reg = profile_of(conf, d->registry, d->domain);
	const struct cds_template *t = &conf->notifications.templates[d->event];
	char *values[CDS_PH_COUNT], *subject = NULL, *body = NULL, *json = NULL, bad[80];
	size_t at;
	int r = cds_notifier_values(d, reg ? reg->name : d->registry, recipient(conf, reg, d),
				    values);
	if (r != 0) {
		snprintf(err, errlen, "the notice's payload is not JSON");
		return r;
	}
	const char *const *v = (const char *const *)values;
	if ((r = cds_template_expand(t->subject, cds_placeholder_names, v, CDS_PH_COUNT, &subject,
				     &at, bad, sizeof(bad))) != 0 ||
	    (r = cds_template_expand(t->body, cds_placeholder_names, v, CDS_PH_COUNT, &body, &at,
				     bad, sizeof(bad))) != 0) {
		snprintf(err, errlen, "template: %s", r == CDS_ENOMEM ? "out of memory" : bad);
		goto out;
	}
	if (ch->type == CDS_CHANNEL_MAIL) {
		r = mail_deliver(ch, d, values[CDS_PH_CONTACT], subject, body,
				 conf->notifications.max_message, err, errlen);
		goto out;
	}
	if (!(json = notice_json(d, values, subject, body))) {
		r = CDS_ENOMEM;
		snprintf(err, errlen, "out of memory");
	} else if (strlen(json) > conf->notifications.max_message) {
		snprintf(err, errlen, "the notice has %zu octets, more than "
				      "notifications.max-message (%u)",
			 strlen(json), conf->notifications.max_message);
		r = CDS_EDATA;
	} else if (ch->type == CDS_CHANNEL_WEBHOOK) {
		r = webhook_deliver(ch, cds_event_name(d->event), d->notice_id, json, strlen(json),
				    err, errlen);
	} else {
		r = json_deliver(ch, json, err, errlen);
	}
out:
	free(json);
	free(subject);
	free(body);
	cds_notifier_values_free(values);
	return r;
}

/* Exponential back-off: backoff, doubled per attempt, at most max-backoff. */
static uint64_t retry_after(const struct cds_conf *conf, int attempts)
{
	uint64_t ms = conf->notifications.backoff_ms;
	for (int i = 0; i < attempts && ms < conf->notifications.max_backoff_ms; i++)
		ms *= 2;
	if (ms > conf->notifications.max_backoff_ms)
		ms = conf->notifications.max_backoff_ms;
	return ms / 1000;
}

static int deliver_one(const struct cds_conf *conf, struct cds_db *db, struct cds_db_delivery *d,
		       struct cds_notifier_stats *st, char *err, size_t errlen)
{
	char why[512] = "";
	const struct cds_channel *ch = cds_conf_channel(conf, d->channel);
	enum cds_delivery_outcome o;
	int r = CDS_ECONFIG;
	if (!ch)
		snprintf(why, sizeof(why), "channel '%s' is no longer configured", d->channel);
	else if (d->event == CDS_EVENT_COUNT)
		snprintf(why, sizeof(why), "an event this version does not know");
	else
		r = deliver(conf, ch, d, why, sizeof(why));
	if (r == 0)
		o = CDS_DELIVERY_SENT;
	else if (r == CDS_EDATA || r == CDS_ECONFIG || d->attempts + 1 >= (int)conf->notifications.max_attempts)
		o = CDS_DELIVERY_FAILED;
	else
		o = CDS_DELIVERY_RETRY;
	uint64_t again = retry_after(conf, d->attempts);
	if (o == CDS_DELIVERY_FAILED)
		cds_log_warning("notification %s of %s to channel %s given up after %d attempts (%s)",
				cds_event_name(d->event), d->domain, d->channel, d->attempts + 1, why);
	else if (o == CDS_DELIVERY_RETRY)
		cds_log_notice("notification %s of %s to channel %s failed, again in %llus (%s)",
			       cds_event_name(d->event), d->domain, d->channel,
			       (unsigned long long)again, why);
	else
		cds_log_info("notification %s of %s sent to channel %s", cds_event_name(d->event),
			     d->domain, d->channel);
	size_t k = ch ? (size_t)(ch - conf->notifications.channels) : CDS_CONF_MAX_CHANNELS;
	st->n[k][o]++;
	return cds_db_delivery_finish(db, d, o, again, why, err, errlen);
}

int cds_notifier_run(const struct cds_conf *conf, struct cds_db *db,
		     struct cds_notifier_stats *st, char *err, size_t errlen)
{
	uint64_t routed = 0, total = 0, left = conf->notifications.max_per_run;
	int r;
	/* Routing is cheap (two statements per 500 notices), also with no
	 * channel configured (the notices are then done); as many notices as
	 * deliveries a run may make. */
	do {
		if ((r = cds_db_notices_route(db, 500, route_cb, (void *)conf, &routed, err,
					      errlen)) != 0)
			return r;
		st->routed += routed;
		total += routed;
	} while (routed == 500 && total < conf->notifications.max_per_run);
	while (left-- > 0) {
		struct cds_db_delivery d;
		bool got = false;
		if ((r = cds_db_delivery_claim(db, &d, &got, err, errlen)) != 0)
			return r;
		if (!got)
			break;
		if ((r = deliver_one(conf, db, &d, st, err, errlen)) != 0)
			return r;
	}
	return 0;
}

void cds_notifier_run_once(const struct cds_conf *conf, struct cds_notifier_stats *out)
{
	struct cds_notifier_stats st = {0};
	struct cds_db *db = NULL;
	char err[600];
	/* With no channel there is only routing to do (the notices are then
	 * done): a failure is no news to anyone. */
	if (cds_db_connect(conf->database, &db, err, sizeof(err)) != 0 ||
	    cds_notifier_run(conf, db, &st, err, sizeof(err)) != 0)
		cds_log(conf->notifications.channel_count ? CDS_LOG_WARNING : CDS_LOG_INFO,
			"notifications: %s (they stay queued for the next run)", err);
	cds_db_close(db);
	uint64_t sum[3] = {0};
	for (size_t k = 0; k <= CDS_CONF_MAX_CHANNELS; k++)
		for (int o = 0; o < 3; o++)
			sum[o] += st.n[k][o];
	if (out) {
		out->routed += st.routed;
		for (size_t k = 0; k <= CDS_CONF_MAX_CHANNELS; k++)
			for (int o = 0; o < 3; o++)
				out->n[k][o] += st.n[k][o];
	}
	if (sum[0] || sum[1] || sum[2])
		cds_log_notice("notifications: %llu sent, %llu to retry, %llu given up",
			       (unsigned long long)sum[0], (unsigned long long)sum[1],
			       (unsigned long long)sum[2]);
}
