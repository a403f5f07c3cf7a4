/* libFuzzer target: the answer-handling path.  Input: the domain and the
 * parent's DS (each NUL-terminated text), the time of the check (4 bytes),
 * then DNS messages, each behind a 2-byte length, handed in turn to two
 * servers as their SOA, DNSKEY, CDS, CDNSKEY, CSYNC and NS answers, then
 * as each server's CSYNC data (NS, A and AAAA of ns1.DOMAIN).  With the DS
 * text "-HOST" the delegation is insecure, its second nameserver is HOST
 * (default ns2.example.), and two more messages are the RFC 9615 signal
 * (CDS, CDNSKEY) under HOST, judged per a status byte (which also selects
 * accept-after-delay).  Then the decision runs and the verdict is rendered
 * as JSON.  Every RRset cdscan's validator calls secure is validated by
 * getdns too (tests/common/oracle.c), which must agree; so is every
 * denial of existence (NSEC/NSEC3) that cdscan's cds_dnssec_denial calls
 * secure; the apex's type bitmap is read as scan.type-bitmaps reads it.
 * Seeds are real answers from the lab (make_answer_seeds.py) and
 * NSEC3 answers made in-process (make_denial_seeds.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/conf.h"
#include "cdscan/policy.h"
#include "cdscan/scan.h"
#include "oracle.h"
#include "testsign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An empty answer's denial, judged by cdscan and, where the DNSKEY RRset
 * validates with ds, by getdns: never secure where getdns calls it bogus
 * (getdns calls a proven absent DS "insecure", and has its own NSEC3
 * iteration limits by key size: only its BOGUS counts). */
static void check_denial(const char *zone, const struct cds_rrset *set,
			 const struct cds_rrset *keys, const struct cds_ds *ds, time_t now)
{
	char why[512];
	static const uint16_t types[] = {CDS_T_CDNSKEY, CDS_T_CSYNC};
	bool listed[2];
	if (set->count || !set->denial_count)
		return;
	/* scan.type-bitmaps reads the apex's bitmap from the same records
	 * (run here for the sanitizers: it judges nothing to compare). */
	(void)cds_denial_apex_types(zone, set, 150, types, 2, listed);
	if (cds_dnssec_denial(zone, set, keys, ts_work(now), why,
			      sizeof(why)) == CDS_DNSSEC_SECURE &&
	    cds_dnssec_validate(zone, keys, keys, ds, 1, ts_work(now)) == CDS_DNSSEC_SECURE &&
	    oracle_denial(zone, set, keys, ds, 1, now) == CDS_DNSSEC_BOGUS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cds_conf conf;
	static bool ready;
	if (!ready) {
		if (cds_conf_init(&conf) != 0)
			return 0;
		ready = true;
	}
	char domain[CDS_DNAME_BUFSIZE] = "fuzz.test.";
	struct cds_ds ds;
	bool have_ds = false, insecure = false;
	char host[CDS_DNAME_BUFSIZE] = "ns2.example.";
	size_t off = 0;
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	if (nul) {
		cds_dname_normalize(text, domain);
		off = (size_t)(nul - data) + 1;
		nul = memchr(data + off, 0, size - off);
		if (nul) {
			insecure = text[off] == '-';
			if (insecure)
				cds_dname_normalize(text + off + 1, host);
			have_ds = cds_ds_parse(text + off, &ds) == 0;
			off = (size_t)(nul - data) + 1;
		}
	}
	if (!have_ds)
		cds_ds_parse("12345 13 2 "
			     "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20",
			     &ds);
	time_t now = 1800000000;
	if (off + 4 <= size) {
		now = (time_t)((uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
			       (uint32_t)data[off + 2] << 8 | data[off + 3]);
		off += 4;
	}
	struct cds_ns_entry ns[2] = {{.name = "ns1.fuzz.test."}, {.name = ""}};
	/* The first nameserver is ns1.DOMAIN, in bailiwick: its A and AAAA
	 * are the CSYNC data below, denied in DOMAIN's zone. */
	size_t dl = strlen(domain);
	if (strcmp(domain, ".") != 0 && dl + 4 < sizeof(ns[0].name)) {
		memcpy(ns[0].name, "ns1.", 4);
		memcpy(ns[0].name + 4, domain, dl + 1);
	}
	memcpy(ns[1].name, host, sizeof(host));
	cds_addr_parse("127.0.0.1", 53, &ns[0].addrs[0]);
	ns[0].addr_count = 1;
	cds_addr_parse("::1", 53, &ns[1].addrs[0]);
	ns[1].addr_count = 1;
	struct cds_delegation d = {.ns = ns, .ns_count = 2,
				   .ds = &ds, .ds_count = insecure ? 0 : 1, .has_last_change = true,
				   .last_change = now - 86400};
	memcpy(d.domain, domain, sizeof(domain));
	struct cds_server_result servers[2];
	memset(servers, 0, sizeof(servers));
	for (int s = 0; s < 2; s++) {
		snprintf(servers[s].name, sizeof(servers[s].name), "%s", ns[s].name);
		servers[s].addr = ns[s].addrs[0];
		servers[s].has_addr = true;
		servers[s].ok = true;
	}
	for (int i = 0; i < 2 * CDS_Q_COUNT && off + 2 <= size; i++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		cds_server_take_answer(&servers[i / CDS_Q_COUNT], (enum cds_query_kind)(i % CDS_Q_COUNT),
				       d.domain, NULL, 0, data + off, len);
		off += len;
	}
	/* The differential check: never secure where getdns says otherwise. */
	for (int s = 0; s < 2; s++) {
		const struct cds_rrset *keys = &servers[s].sets[CDS_Q_DNSKEY];
		for (int k = 0; k < CDS_Q_COUNT; k++) {
			const struct cds_rrset *set = &servers[s].sets[k];
			if (cds_dnssec_validate(d.domain, set, keys, &ds, 1, ts_work(now)) ==
				    CDS_DNSSEC_SECURE &&
			    oracle_validate(d.domain, set, keys, &ds, 1, now) != CDS_DNSSEC_SECURE)
				abort();
			check_denial(d.domain, set, keys, &ds, now);
		}
	}
	/* Further messages: the CSYNC data of each server (NS again, A and
	 * AAAA of the in-bailiwick NS name), the second SOA taken as equal. */
	struct cds_csync_data csd[2];
	struct cds_csync_host hosts[2];
	memset(csd, 0, sizeof(csd));
	memset(hosts, 0, sizeof(hosts));
	for (int s = 0; s < 2 && off + 2 <= size; s++) {
		struct cds_answer_info info;
		csd[s].ok = true;
		csd[s].hosts = &hosts[s];
		csd[s].host_count = 1;
		csd[s].soa_after = true;
		csd[s].soa_serial_after = servers[s].soa_serial;
		snprintf(hosts[s].name, sizeof(hosts[s].name), "%s", ns[0].name);
		struct cds_rrset *sets[3] = {&csd[s].ns, &hosts[s].a, &hosts[s].aaaa};
		static const uint16_t types[3] = {CDS_T_NS, CDS_T_A, CDS_T_AAAA};
		for (int k = 0; k < 3 && off + 2 <= size; k++) {
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (len > size - off)
				len = size - off;
			cds_answer_parse(data + off, len, k ? hosts[s].name : d.domain, types[k],
					 NULL, &info, sets[k]);
			sets[k]->present = true;
			check_denial(d.domain, sets[k], &servers[s].sets[CDS_Q_DNSKEY], &ds, now);
			off += len;
		}
		servers[s].csync = &csd[s];
	}
	struct cds_scan_result res = {.delegation = &d, .servers = servers, .server_count = 2,
				      .scanned_at = now};
	struct cds_bootstrap_signal sig;
	memset(&sig, 0, sizeof(sig));
	if (insecure && off < size) {
		uint8_t st = data[off++];
		conf.policy.bootstrap_after_delay = st & 0x80;
		memcpy(sig.ns, host, sizeof(host));
		snprintf(sig.zone, sizeof(sig.zone), "%s", host);
		sig.zone_status = (enum cds_dnssec_status)(st & 3);
		char qname[2 * CDS_DNAME_BUFSIZE + 32];
		snprintf(qname, sizeof(qname), "_dsboot.%s_signal.%s", d.domain, host);
		for (int k = 0; k < 2 && off + 2 <= size; k++) {
			struct cds_answer_info info;
			size_t len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (len > size - off)
				len = size - off;
			cds_answer_parse(data + off, len, qname, k ? CDS_T_CDNSKEY : CDS_T_CDS,
					 NULL, &info, &sig.sets[k]);
			off += len;
			sig.missing[k] = sig.sets[k].count == 0;
			sig.status[k] = (enum cds_dnssec_status)((st >> (2 + 2 * k)) & 3);
			char signer[CDS_DNAME_BUFSIZE];
			for (size_t i = 0; i < sig.sets[k].sig_count; i++)
				cds_rrsig_signer(&sig.sets[k].sigs[i], signer);
		}
		res.signals = &sig;
		res.signal_count = 1;
		res.signals_asked = true;
		res.signal_over_tcp = st & 0x40;
	}
	struct cds_verdict v;
	if (cds_policy_decide(&res, &conf, now, &v) == 0) {
		free(cds_verdict_to_json(&v, false));
		cds_verdict_clear(&v);
	}
	for (int s = 0; s < 2; s++) {
		for (int k = 0; k < CDS_Q_COUNT; k++)
			cds_rrset_clear(&servers[s].sets[k]);
		cds_rrset_clear(&csd[s].ns);
		cds_rrset_clear(&hosts[s].a);
		cds_rrset_clear(&hosts[s].aaaa);
	}
	cds_rrset_clear(&sig.sets[0]);
	cds_rrset_clear(&sig.sets[1]);
	return 0;
}
