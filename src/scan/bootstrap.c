/* The RFC 9615 phase (§4.2 step 3), run only when the policy layer says the
 * signals can decide: for every NS host name outside the child, the
 * signaling name's CDS and CDNSKEY and whether the host's zone is secure,
 * through the resolver and validated from the trust anchor (trust.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "scan_internal.h"

/* What one look-up of a signal asks. */
enum signal_what { ASK_CDS = CDS_SIGNAL_CDS, ASK_CDNSKEY = CDS_SIGNAL_CDNSKEY, ASK_ZONE };

struct signal_q {
	struct job *job;
	size_t host;
	enum signal_what what;
};

static void take_zone(struct cds_bootstrap_signal *sig, const struct cds_trust_result *r)
{
	sig->zone_status = r->status;
	if (r->zone)
		snprintf(sig->zone, sizeof(sig->zone), "%s", r->zone);
	snprintf(sig->zone_why, sizeof(sig->zone_why), "%s", r->why ? r->why : "");
}

static void take_signal(struct cds_bootstrap_signal *sig, int k, const struct cds_trust_result *r)
{
	sig->status[k] = r->status;
	sig->missing[k] = r->missing;
	sig->error[k] = r->error;
	snprintf(sig->why[k], sizeof(sig->why[k]), "%s", r->why ? r->why : "");
	if (r->set && r->set->count && cds_rrset_copy_records(r->set, &sig->sets[k]) != 0) {
		sig->status[k] = CDS_DNSSEC_ERROR;
		sig->error[k] = CDS_ENOMEM;
		snprintf(sig->why[k], sizeof(sig->why[k]), "out of memory");
	}
}

static void signal_cb(const struct cds_trust_result *r, void *arg)
{
	struct signal_q *q = arg;
	struct job *j = q->job;
	struct cds_bootstrap_signal *sig = &j->res->signals[q->host];
	if (q->what == ASK_ZONE)
		take_zone(sig, r);
	else
		take_signal(sig, (int)q->what, r);
	free(q);
	job_step_done(j);
}

/* Record that a look-up could not be made. */
static void ask_failed(struct cds_bootstrap_signal *sig, enum signal_what what, int error,
		       const char *why)
{
	if (what == ASK_ZONE) {
		sig->zone_status = CDS_DNSSEC_ERROR;
		snprintf(sig->zone_why, sizeof(sig->zone_why), "%s", why);
		return;
	}
	sig->status[what] = CDS_DNSSEC_ERROR;
	sig->error[what] = error;
	snprintf(sig->why[what], sizeof(sig->why[what]), "%s", why);
}

/* Start one look-up of host h's signal (qname) or zone. */
static void ask(struct job *j, size_t h, enum signal_what what, const char *qname)
{
	struct cds_bootstrap_signal *sig = &j->res->signals[h];
	struct signal_q *q = malloc(sizeof(*q));
	int r = CDS_ENOMEM;
	if (q) {
		*q = (struct signal_q){.job = j, .host = h, .what = what};
		/* The callback may run at once (cached): count it first. */
		job_step_begin(j);
		r = what == ASK_ZONE ? cds_trust_zone_of(j->s->trust, sig->ns, signal_cb, q)
				     : cds_trust_rrset(j->s->trust, qname,
						       what == ASK_CDNSKEY ? CDS_T_CDNSKEY : CDS_T_CDS,
						       signal_cb, q);
		if (r != 0) {
			j->pending--;
			free(q);
		}
	}
	if (r != 0)
		ask_failed(sig, what, r, "out of memory");
}

/* A new signal entry for host name ns, unless it has one. */
static struct cds_bootstrap_signal *signal_for(struct cds_scan_result *res, const char *ns)
{
	for (size_t h = 0; h < res->signal_count; h++)
		if (strcmp(res->signals[h].ns, ns) == 0)
			return NULL;
	struct cds_bootstrap_signal *sig = &res->signals[res->signal_count++];
	snprintf(sig->ns, sizeof(sig->ns), "%s", ns);
	return sig;
}

void bootstrap_fetch(struct job *j)
{
	const struct cds_delegation *d = j->d;
	struct cds_scan_result *res = j->res;
	res->signals_asked = true;
	res->signals = calloc(d->ns_count ? d->ns_count : 1, sizeof(*res->signals));
	if (!res->signals)
		return; /* nothing asked: the decision says so */
	for (size_t i = 0; i < d->ns_count; i++) {
		const char *ns = d->ns[i].name;
		struct cds_bootstrap_signal *sig;
		if (cds_dname_is_subdomain(ns, d->domain) || !(sig = signal_for(res, ns)))
			continue;
		size_t h = (size_t)(sig - res->signals);
		char qname[CDS_DNAME_BUFSIZE + 32];
		/* "_dsboot." + child + "_signal." + host: too long a name cannot
		 * carry a signal (RFC 9615 §3.1 leaves such children out). */
		int len = snprintf(qname, sizeof(qname), "_dsboot.%s_signal.%s", d->domain, ns);
		bool too_long = len < 0 || (size_t)len >= CDS_DNAME_BUFSIZE - 1;
		for (int what = ASK_CDS; what <= ASK_CDNSKEY; what++) {
			if (too_long)
				ask_failed(sig, (enum signal_what)what, CDS_EINVAL,
					   "the signaling name would exceed 255 octets");
			else
				ask(j, h, (enum signal_what)what, qname);
		}
		ask(j, h, ASK_ZONE, NULL);
	}
}
