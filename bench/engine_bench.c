/* Engine benchmark: scan N delegations taken round-robin from a running
 * lab's lab.json (each zone repeated), through the real scanner and decision,
 * with a bounded number in flight, and report domains/s, queries/s, CPU time
 * and peak RSS.  Usage: engine_bench LAB_JSON N CONCURRENCY
 * Measures; asserts nothing about speed (the machines are shared). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "cdscan/conf.h"
#include "cdscan/policy.h"
#include "cdscan/scan.h"

struct bench {
	struct cds_scanner *scanner;
	struct cds_conf conf;
	struct cds_delegation *zones;
	size_t zone_count;
	size_t target, started, done;
	size_t actions[5];
	size_t failures;
};

static void start_next(struct bench *b);

static void done_cb(struct cds_scan_result *res, void *arg)
{
	struct bench *b = arg;
	struct cds_verdict v;
	if (cds_policy_decide(res, &b->conf, time(NULL), &v) == 0) {
		b->actions[v.ds_side.action]++;
		cds_verdict_clear(&v);
	} else {
		b->failures++;
	}
	cds_scan_result_free(res);
	b->done++;
	start_next(b);
}

static void start_next(struct bench *b)
{
	if (b->started >= b->target)
		return;
	struct cds_delegation *d = &b->zones[b->started % b->zone_count];
	b->started++;
	if (cds_scanner_scan(b->scanner, d, NULL, done_cb, b) != 0)
		b->failures++;
}

static int load_lab(const char *path, struct bench *b)
{
	json_object *lab = json_object_from_file(path), *zones, *servers;
	if (!lab || !json_object_object_get_ex(lab, "zones", &zones) ||
	    !json_object_object_get_ex(lab, "servers", &servers))
		return -1;
	b->zones = calloc((size_t)json_object_object_length(zones), sizeof(*b->zones));
	json_object_object_foreach(zones, name, z)
	{
		json_object *ns, *ds, *prov;
		json_object_object_get_ex(z, "provider", &prov);
		if (json_object_get_boolean(prov))
			continue;
		struct cds_delegation *d = &b->zones[b->zone_count];
		memset(d, 0, sizeof(*d));
		snprintf(d->domain, sizeof(d->domain), "%s", name);
		json_object_object_get_ex(z, "ns", &ns);
		json_object_object_get_ex(z, "ds", &ds);
		d->ns = calloc(json_object_array_length(ns), sizeof(*d->ns));
		bool usable = true;
		for (size_t i = 0; i < json_object_array_length(ns); i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(ns, i));
			json_object *srv, *addr, *down;
			json_object_object_get_ex(servers, n, &srv);
			json_object_object_get_ex(srv, "address", &addr);
			json_object_object_get_ex(srv, "down", &down);
			/* Skip zones with dead servers: they measure timeouts. */
			if (json_object_get_boolean(down))
				usable = false;
			snprintf(d->ns[i].name, sizeof(d->ns[i].name), "%s", n);
			cds_addr_parse(json_object_get_string(addr), 53, &d->ns[i].addrs[0]);
			d->ns[i].addr_count = 1;
		}
		d->ns_count = json_object_array_length(ns);
		d->ds = calloc(json_object_array_length(ds) + 1, sizeof(*d->ds));
		for (size_t i = 0; i < json_object_array_length(ds); i++)
			cds_ds_parse(json_object_get_string(json_object_array_get_idx(ds, i)),
				     &d->ds[d->ds_count++]);
		if (usable) {
			b->zone_count++;
		} else {
			free(d->ns);
			free(d->ds);
		}
	}
	json_object_put(lab);
	return b->zone_count ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	if (argc != 4) {
		fprintf(stderr, "usage: engine_bench LAB_JSON N CONCURRENCY\n");
		return 64;
	}
	b.target = strtoul(argv[2], NULL, 10);
	size_t conc = strtoul(argv[3], NULL, 10);
	if (load_lab(argv[1], &b) != 0 || cds_conf_init(&b.conf) != 0) {
		fprintf(stderr, "engine_bench: cannot read %s\n", argv[1]);
		return 66;
	}
	b.conf.scan.max_queries = 100000;
	b.conf.scan.per_server_queries = 100000;
	b.conf.scan.per_server_qps = 10000000;
	b.conf.scan.timeout_ms = 2000;
	b.conf.policy.max_ds = 64;
	/* The lab's nameservers are on loopback (resolver.allow-addresses). */
	cds_prefix_parse("127.0.0.0/8", &b.conf.resolver.allow[b.conf.resolver.allow_count++]);
	const char *resolver[] = {"127.0.0.1"};
	uv_loop_t loop;
	uv_loop_init(&loop);
	if (cds_scanner_new(&loop, &b.conf, resolver, 1, &b.scanner) != 0)
		return 70;
	struct timespec t0, t1;
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < conc; i++)
		start_next(&b);
	uv_run(&loop, UV_RUN_DEFAULT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &r1);
	struct cds_scanner_stats st;
	cds_scanner_stats(b.scanner, &st);
	uint64_t queries = st.queries, answers = st.answers;
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
			      r0.ru_stime.tv_sec) +
		     (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
			      r0.ru_stime.tv_usec) / 1e6;
	printf("domains %zu (from %zu lab zones), concurrency %zu\n", b.done, b.zone_count, conc);
	printf("wall %.2fs: %.0f domains/s, %.0f queries/s (%lu queries, %lu answers)\n", s,
	       (double)b.done / s, (double)queries / s, (unsigned long)queries,
	       (unsigned long)answers);
	printf("cpu %.2fs: %.1f ms per 1,000 domains; peak RSS %ld KiB\n", cpu,
	       cpu * 1000.0 / ((double)b.done / 1000.0),
	       r1.ru_maxrss);
	printf("ds actions: none %zu, update %zu, delete %zu, reject %zu; failures %zu\n",
	       b.actions[0], b.actions[1], b.actions[2], b.actions[4], b.failures);
	cds_scanner_free(b.scanner);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return b.failures || b.done != b.target ? 1 : 0;
}
