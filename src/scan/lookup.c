/* Look-ups for `check` in real-DNS mode: the parent's NS set and the DS set
 * through the resolver, and the delegation as one of the parent's own
 * servers refers to it. */
#include <stdio.h>
#include <stdlib.h>

#include "cdscan/error.h"
#include "scan_internal.h"

struct lookup {
	char name[CDS_DNAME_BUFSIZE];
	uint16_t type;
	const struct cds_dnssec_limits *limits; /* the scanner's (limits.*) */
	cds_lookup_cb cb;
	void *arg;
};

static void lookup_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct lookup *l = arg;
	struct cds_answer_info info;
	struct cds_rrset set;
	if (status != 0) {
		l->cb(status, NULL, false, l->arg);
	} else if (cds_answer_parse(wire, len, l->name, l->type, l->limits, &info, &set) != 0) {
		l->cb(CDS_EDATA, NULL, false, l->arg);
	} else {
		if (info.rcode != 0 && info.rcode != 3)
			l->cb(CDS_EUNAVAIL, NULL, false, l->arg);
		else
			l->cb(0, &set, info.ad, l->arg);
		cds_rrset_clear(&set);
	}
	free(l);
}

int cds_scanner_lookup(struct cds_scanner *s, const char *qname, uint16_t qtype,
		       unsigned flags, cds_lookup_cb cb, void *arg)
{
	struct lookup *l = malloc(sizeof(*l));
	if (!l)
		return CDS_ENOMEM;
	snprintf(l->name, sizeof(l->name), "%s", qname);
	l->type = qtype;
	l->limits = &s->conf->limits;
	l->cb = cb;
	l->arg = arg;
	int r = cds_transport_query(s->transport, &s->resolvers[0], qname, qtype,
				    CDS_QUERY_RD | CDS_QUERY_DO | flags, lookup_answer_cb, l);
	if (r != 0)
		free(l);
	return r;
}

struct referral_q {
	char domain[CDS_DNAME_BUFSIZE];
	cds_referral_cb cb;
	void *arg;
};

static void referral_answer_cb(int status, const uint8_t *wire, size_t len, void *arg)
{
	struct referral_q *q = arg;
	struct cds_referral *ref = malloc(sizeof(*ref));
	if (!ref)
		q->cb(CDS_ENOMEM, NULL, q->arg);
	else if (status != 0)
		q->cb(status, NULL, q->arg);
	else if ((status = cds_referral_parse(wire, len, q->domain, ref)) != 0)
		q->cb(status, NULL, q->arg);
	else
		q->cb(0, ref, q->arg);
	free(ref);
	free(q);
}

int cds_scanner_referral(struct cds_scanner *s, const struct cds_addr *server, const char *domain,
			 cds_referral_cb cb, void *arg)
{
	struct referral_q *q = malloc(sizeof(*q));
	if (!q)
		return CDS_ENOMEM;
	snprintf(q->domain, sizeof(q->domain), "%s", domain);
	q->cb = cb;
	q->arg = arg;
	int r = cds_transport_query(s->transport, server, domain, CDS_T_NS, 0, referral_answer_cb,
				    q);
	if (r != 0)
		free(q);
	return r;
}
