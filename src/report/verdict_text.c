/* A verdict in words, for people at a terminal (`check` without --json). */
#include <stdio.h>

#include "cdscan/model.h"
#include "cdscan/report.h"

static void print_list(FILE *f, const char *label, const struct cds_strlist *l)
{
	struct cds_strlist sorted = {0};
	for (size_t i = 0; i < l->n; i++)
		cds_strlist_add(&sorted, l->v[i]);
	cds_strlist_sort(&sorted);
	fprintf(f, "  %-9s", label);
	if (sorted.n == 0)
		fputs(" (none)", f);
	for (size_t i = 0; i < sorted.n; i++)
		fprintf(f, "%s%s", i ? "\n            " : " ", sorted.v[i]);
	fputc('\n', f);
	cds_strlist_clear(&sorted);
}

static void print_side(FILE *f, const char *title, const struct cds_verdict_side *s)
{
	fprintf(f, "%s: %s", title, cds_action_name(s->action));
	for (size_t i = 0; i < s->reason_count; i++)
		fprintf(f, "%s%s", i ? ", " : " (", cds_reason_code(s->reasons[i]));
	fprintf(f, "%s\n", s->reason_count ? ")" : "");
	for (size_t i = 0; i < s->reason_count; i++)
		fprintf(f, "  why:     %s\n", cds_reason_text(s->reasons[i]));
	if (s->detail[0])
		fprintf(f, "  detail:  %s\n", s->detail);
	if (s->add.n || s->rem.n) {
		print_list(f, "add:", &s->add);
		print_list(f, "remove:", &s->rem);
	}
}

void cds_verdict_print_text(const struct cds_verdict *v, FILE *f)
{
	char ts[32];
	cds_time_format(v->checked_at, ts, sizeof(ts));
	fprintf(f, "%s  checked %s, delegation %s\n", v->domain, ts,
		v->ds.n ? (v->secure		  ? "secure"
			   : v->secure_checked ? "signed, but not secure"
					       : "signed, DNSSEC status not checked (no signal; "
						 "scan.full-status is off)")
			: "insecure (no DS)");
	print_list(f, "NS:", &v->ns);
	print_list(f, "DS:", &v->ds);
	fputs("servers:\n", f);
	for (size_t i = 0; i < v->server_count; i++) {
		const struct cds_verdict_server *s = &v->servers[i];
		fprintf(f, "  %s %s: ", s->name, s->address[0] ? s->address : "(no address)");
		if (!s->ok) {
			fprintf(f, "UNUSABLE (%s)\n", s->error);
			continue;
		}
		if (s->dnskey_asked)
			fprintf(f, "SOA %lu, %zu DNSKEY, ", s->soa_serial, s->dnskey_count);
		else
			fprintf(f, "SOA %lu, DNSKEY not asked, ", s->soa_serial);
		fprintf(f, "%zu CDS, %zu CDNSKEY, %s\n", s->cds.n, s->cdnskey.n,
			s->csync ? "CSYNC" : "no CSYNC");
	}
	for (size_t i = 0; i < v->excluded.n; i++)
		fprintf(f, "  left out: %s\n", v->excluded.v[i]);
	print_side(f, "DS", &v->ds_side);
	for (size_t i = 0; i < v->bootstrap.signal_count; i++) {
		const struct cds_verdict_signal *g = &v->bootstrap.signals[i];
		fprintf(f, "  signal under %s (zone %s): %s%s%s\n", g->ns,
			g->zone[0] ? g->zone : "?", cds_signal_status_name(g->status), g->detail[0] ? ", " : "", g->detail);
	}
	if (v->bootstrap.observed) {
		char first[32];
		cds_time_format(v->bootstrap.first_seen, first, sizeof(first));
		fprintf(f, "  observed: %u of %u scans since %s (%llu hours required)\n",
			v->bootstrap.scans, v->bootstrap.scans_needed, first,
			(unsigned long long)(v->bootstrap.delay_needed_s / 3600));
	}
	if (v->ds_side.proposed.n && v->ds_side.action != CDS_ACTION_NONE &&
	    v->ds_side.action != CDS_ACTION_REJECT)
		print_list(f, "new DS:", &v->ds_side.proposed);
	print_side(f, "NS", &v->ns_side);
	if (v->ns_side.action == CDS_ACTION_UPDATE) {
		print_list(f, "new NS:", &v->ns_side.proposed);
		for (size_t i = 0; i < v->glue_count; i++) {
			fprintf(f, "  glue %s:", v->glue[i].name);
			for (size_t k = 0; k < v->glue[i].addresses.n; k++)
				fprintf(f, " %s", v->glue[i].addresses.v[k]);
			fputc('\n', f);
		}
	}
}
