/* The scanner: one transport, one resolver address cache and one RFC 9615
 * trust cache per run, shared by every delegation it scans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/error.h"
#include "cdscan/log.h"
#include "cdscan/zone.h"
#include "scan_internal.h"

/* Read "nameserver ADDR" lines of /etc/resolv.conf. */
static size_t system_resolvers(struct cds_addr *out, size_t max)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[512];
	size_t n = 0;
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    cds_addr_parse(addr, 53, &out[n]) == 0)
			n++;
	}
	fclose(f);
	return n;
}

/* The resolvers given, else the config's, else the system's. */
static void pick_resolvers(struct cds_scanner *s, const struct cds_conf *conf,
			   const char *const *resolvers, size_t count)
{
	if (!resolvers || count == 0) {
		resolvers = (const char *const *)conf->resolver.addresses;
		count = conf->resolver.address_count;
	}
	for (size_t i = 0; i < count && s->resolver_count < SCAN_MAX_RESOLVERS; i++)
		if (cds_addr_parse(resolvers[i], 53, &s->resolvers[s->resolver_count]) == 0)
			s->resolver_count++;
	if (s->resolver_count == 0)
		s->resolver_count = system_resolvers(s->resolvers, SCAN_MAX_RESOLVERS);
}

int cds_scanner_new(uv_loop_t *loop, const struct cds_conf *conf, const char *const *resolvers,
		    size_t resolver_count, struct cds_scanner **out)
{
	struct cds_scanner *s = calloc(1, sizeof(*s));
	int r = CDS_ENOMEM;
	if (!s)
		return CDS_ENOMEM;
	s->loop = loop;
	s->conf = conf;
	pick_resolvers(s, conf, resolvers, resolver_count);
	if (s->resolver_count == 0) {
		r = CDS_ECONFIG;
		goto fail;
	}
	struct cds_transport_opts o = {
		.max_inflight = conf->scan.max_queries,
		.per_server_inflight = conf->scan.per_server_queries,
		.per_server_qps = conf->scan.per_server_qps,
		.qps_limits = conf->scan.qps_limits,
		.qps_limit_count = conf->scan.qps_limit_count,
		.timeout_ms = conf->scan.timeout_ms,
		.rd_timeout_ms = conf->resolver.timeout_ms,
		.retries = conf->scan.retries,
		.tcp_only = conf->scan.transport == CDS_TRANSPORT_TCP,
		.edns_size = (uint16_t)conf->scan.edns_buffer_size,
	};
	/* The config loader checked it (an address without a port). */
	o.has_source = conf->scan.source_address &&
		       cds_addr_parse(conf->scan.source_address, 0, &o.source) == 0;
	if (!(s->cache = addr_cache_new()) || (r = cds_transport_new(loop, &o, &s->transport)) != 0)
		goto fail;
	if (!(s->trust = cds_trust_new(loop, s->transport, &s->resolvers[0]))) {
		r = CDS_ENOMEM;
		goto fail;
	}
	s->report_timeout_ms = conf->error_reporting.timeout_ms;
	if (conf->error_reporting.enabled && !(s->reporter = ereporter_new(conf))) {
		r = CDS_ENOMEM;
		goto fail;
	}
	cds_trust_set_limits(s->trust, &conf->limits);
	cds_trust_set_cache_max_ttl(s->trust, (uint32_t)(conf->resolver.cache_max_ttl_ms / 1000));
	*out = s;
	return 0;
fail:
	cds_scanner_free(s);
	return r;
}

int cds_scanner_trust_anchor(struct cds_scanner *s, const char *path, char *err, size_t errlen)
{
	struct cds_zone_reader *z;
	struct cds_zone_rr rr;
	struct cds_ds ds[16];
	char owner[CDS_DNAME_BUFSIZE] = "";
	size_t n = 0;
	int r = cds_zone_open(path, ".", &z, err, errlen);
	if (r != 0)
		return CDS_EDATA;
	while ((r = cds_zone_next(z, &rr, err, errlen)) == 1) {
		if (rr.type != CDS_T_DS && rr.type != CDS_T_DNSKEY)
			continue;
		if (owner[0] && strcmp(owner, rr.owner) != 0) {
			snprintf(err, errlen, "%s:%u: trust anchors for two zones (%s and %s)", rr.file,
				 rr.line, owner, rr.owner);
			r = CDS_EDATA;
			break;
		}
		snprintf(owner, sizeof(owner), "%s", rr.owner);
		if (n < 16)
			ds[n++] = rr.ds;
	}
	cds_zone_close(z);
	if (r == 0 && n == 0) {
		snprintf(err, errlen, "%s: no DS or DNSKEY record", path);
		r = CDS_EDATA;
	}
	if (r != 0)
		return CDS_EDATA;
	return cds_trust_set_anchor(s->trust, owner, ds, n);
}

int cds_scanner_bootstrap_anchor(struct cds_scanner *s, const struct cds_conf *conf,
				 const char *path, char *err, size_t errlen)
{
	if (!conf->policy.bootstrap_authenticated)
		return 0;
	if (!path)
		path = conf->resolver.trust_anchor;
	char why[400];
	int r = path ? cds_scanner_trust_anchor(s, path, why, sizeof(why)) : CDS_EDATA;
	if (r != 0)
		snprintf(err, errlen,
			 "the trust anchor for RFC 9615 signals: %s (--trust-anchor, "
			 "resolver.trust-anchor; or policy.bootstrap.authenticated: false)",
			 path ? why : "none set");
	return r;
}

bool scan_addr_refused(const struct cds_scanner *s, const char *domain, const char *name,
		       const struct cds_addr *a, char *why, size_t whylen)
{
	const char *what = cds_addr_special(a);
	char txt[64];
	if (!what)
		return false;
	for (size_t i = 0; i < s->conf->resolver.allow_count; i++)
		if (cds_prefix_contains(&s->conf->resolver.allow[i], a))
			return false;
	cds_addr_format(a, txt, sizeof(txt));
	snprintf(why, whylen, "%s: %s, not asked (resolver.allow-addresses)", txt, what);
	cds_log_info("%s: nameserver %s at %s not asked: %s (resolver.allow-addresses exempts "
		     "prefixes)",
		     domain, name, txt, what);
	return true;
}

void cds_scanner_stats(const struct cds_scanner *s, struct cds_scanner_stats *out)
{
	struct cds_transport_stats st;
	cds_transport_stats(s->transport, &st);
	*out = (struct cds_scanner_stats){.scans = s->scans,
					  .queries = st.sent,
					  .answers = st.answers,
					  .timeouts = st.timeouts,
					  .tcp_fallbacks = st.tcp_fallbacks,
					  .skipped = s->skipped,
					  .window_cuts = st.window_cuts,
					  .send_calls = st.send_calls,
					  .received = st.received,
					  .recv_calls = st.recv_calls,
					  .bitmap_skipped = s->bitmap_skipped,
					  .reports = s->reports};
}

void cds_scanner_free(struct cds_scanner *s)
{
	if (!s)
		return;
	if (s->reports_inflight > 0) {
		s->free_when_idle = true; /* the last report's callback frees it */
		return;
	}
	ereporter_free(s->reporter);
	addr_cache_free(s->cache);
	cds_trust_free(s->trust);
	cds_transport_free(s->transport);
	free(s);
}
