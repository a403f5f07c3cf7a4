/* The one answer judge of the scan layer: is an answer a server gave usable
 * (RFC 9975 §3), and what it holds, for the apex answers and for the data a
 * CSYNC points to alike. */
#include <stdio.h>
#include <string.h>

#include "cdscan/error.h"
#include "scan_internal.h"

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					    "NOTIMP",  "REFUSED"};
	if (rcode >= 0 && rcode < 6)
		return names[rcode];
	return "unexpected RCODE";
}

/* A transport error in words. */
static const char *status_text(int status)
{
	if (status == CDS_ETIMEDOUT)
		return "timeout";
	if (status == CDS_EMISMATCH)
		return "timeout: only answers that are not for the query came (wrong ID, "
		       "question or QR bit)";
	if (status == -ECONNREFUSED)
		return "connection refused";
	return cds_strerror(status);
}

bool scan_judge(enum judge_mode mode, const char *qname, uint16_t type,
		const struct cds_dnssec_limits *limits, int status, const uint8_t *wire, size_t len,
		struct cds_rrset *set, struct cds_answer_info *info, char *why, size_t whylen)
{
	const char *bad = NULL;
	int r;
	cds_rrset_clear(set);
	if (status != 0)
		bad = status_text(status);
	else if ((r = cds_answer_parse(wire, len, qname, type, limits, info, set)) != 0)
		bad = r == CDS_ERANGE ? info->limit : "malformed answer";
	else if (info->rcode != 0 && info->rcode != 3)
		bad = rcode_name(info->rcode);
	else if (!info->aa && mode == JUDGE_APEX)
		bad = info->referral ? "lame: referral instead of an answer"
				     : "answer not authoritative (lame)";
	else if (!info->aa)
		bad = info->referral ? "below a zone cut (not the child's data)"
				     : "answer not authoritative";
	else if (info->rcode == 3 && mode == JUDGE_APEX)
		bad = "NXDOMAIN for the zone apex (lame)";
	else if (info->alias && mode == JUDGE_APEX)
		/* RFC 2181 §10.1: a CNAME has no other data beside it, and the
		 * apex has its SOA and NS: a server that answers for the zone
		 * with one does not serve the zone. */
		bad = "CNAME at the zone apex (lame)";
	set->present = true;
	if (bad)
		snprintf(why, whylen, "%s", bad);
	return bad == NULL;
}

void scan_server_fail(struct cds_server_result *srv, const char *why)
{
	if (!srv->ok)
		return; /* keep the first reason */
	srv->ok = false;
	snprintf(srv->error, sizeof(srv->error), "%s", why);
}

void cds_server_take_answer(struct cds_server_result *srv, enum cds_query_kind kind,
			    const char *domain, const struct cds_dnssec_limits *limits, int status,
			    const uint8_t *wire, size_t len)
{
	struct cds_answer_info info;
	char why[CDS_LIMIT_TEXT_MAX], msg[sizeof(srv->error)];
	if (!scan_judge(JUDGE_APEX, domain, cds_query_type(kind), limits, status, wire, len,
			&srv->sets[kind], &info, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "%s: %.120s", cds_query_name(kind), why);
		scan_server_fail(srv, msg);
	} else if (kind == CDS_Q_SOA) {
		if (srv->sets[kind].count != 1)
			scan_server_fail(srv, "no SOA at the zone apex (lame)");
		srv->soa_serial = info.soa_serial;
	} else if (srv->sets[kind].count == 0 &&
		   (kind == CDS_Q_CDS || kind == CDS_Q_CDNSKEY || kind == CDS_Q_CSYNC)) {
		/* RFC 2308 §3: an authoritative empty answer carries its
		 * zone's SOA.  The zone's own SOA there says the server serves
		 * this apex, as the SOA query would; without it (or with a
		 * zone above's) only the SOA query can tell (job.c). */
		if (!info.apex_soa)
			srv->probe_no_soa = true;
		else if (!srv->sets[CDS_Q_SOA].present)
			srv->soa_serial = info.apex_soa_serial;
	}
}

void scan_absent_by_bitmap(struct cds_server_result *srv, enum cds_query_kind kind)
{
	const struct cds_rrset *cds = &srv->sets[CDS_Q_CDS];
	struct cds_rrset *set = &srv->sets[kind];
	cds_rrset_clear(set);
	memcpy(set->owner, cds->owner, cds->owner_len);
	set->owner_len = cds->owner_len;
	set->type = cds_query_type(kind);
	set->rcode = 0;
	set->present = true;
}
