/* genzones: the benchmark's child zones, signed in-process.
 *
 * ldns-keygen + ldns-signzone cost ~70 ms per zone (two processes, fresh
 * keys); 200,000 zones would take hours.  Here keys come from a pool made
 * once (ECDSA P-256 mostly, some RSA-2048 and Ed25519) and every zone is
 * signed by ldns in this process: the signatures are real and valid, the
 * keys shared between zones (each zone's DS still differs: it hashes the
 * owner name).
 *
 * Output in DIR: a/ and b/ (the zone files the two nameserver addresses
 * serve; they differ only where a scenario wants the servers to disagree),
 * nsd-a.conf and nsd-b.conf zone lists, bench.zone (the parent: NS, DS and
 * in-bailiwick glue of every child), queries.txt (the scanner's query mix,
 * for dnsperf), sample.txt (a few domains of each kind, for the script
 * comparison) and expected.json (the count of every reason code a correct
 * scan must give).
 *
 * Usage: genzones [-j JOBS] [-c ADDR_C] DIR N ADDR_A ADDR_B [ADDR_SILENT] [PROVIDERS]
 *
 * -j JOBS: sign in JOBS processes (zone i in process i % JOBS; the first
 * writes every list), for the 2,000,000-zone runs.  -c ADDR_C: a zone whose
 * servers disagree has its second nameserver at ADDR_C instead of ADDR_B,
 * and the zones served there are listed in nsd-c.zones, so that one server
 * can answer at both ADDR_A and ADDR_B with the a/ files (bench/run
 * --one-nsd: one NSD's memory, not two, for the big sizes).
 *
 * PROVIDERS (bench/run --network-model): a file of lines "WEIGHT ADDR1
 * ADDR2" (a DNS provider: its zones' ns1 at ADDR1, ns2 at ADDR2) and
 * "dead ADDR" (an address that never answers); each zone's provider is
 * drawn by weight (the same draw for the same N), a lame delegation's
 * second nameserver is a dead address in turn.  ADDR_A and ADDR_B then
 * only name the parent's own server. */
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind {
	K_NOSIG,   /* secure, no CDS/CDNSKEY: no-signal */
	K_INSECURE, /* no DS, unsigned: no-signal */
	K_SAME,    /* CDS/CDNSKEY = current DS: signal-unchanged */
	K_ROLL,    /* second KSK in, CDS for both: ds-updated */
	K_BOGUS,   /* DS for a key the zone does not use: bogus */
	K_BREAK,   /* CDS for a key not in the DNSKEY RRset: breaks-chain */
	K_MISMATCH, /* CDS and CDNSKEY name different keys: cds-cdnskey-mismatch */
	K_INCONS,  /* only server B publishes CDS: ns-inconsistent */
	K_CSYNC,   /* CSYNC that changes nothing: csync-unchanged */
	K_UNREACH, /* the second nameserver never answers: ns-unreachable */
	K_COUNT,
};

static const char *const ds_reason[K_COUNT] = {
	"no-signal", "no-signal", "signal-unchanged", "ds-updated", "bogus",
	"breaks-chain", "cds-cdnskey-mismatch", "ns-inconsistent", "no-signal",
	"ns-unreachable"};

/* The mix (per 1,000 zones): ~85% no signal (some insecure), ~8% unchanged,
 * ~4% rollovers, ~2% rejects of four kinds, ~1% CSYNC, and with a silent
 * address given, 0.5% whose second nameserver never answers (a lame
 * delegation, ns-unreachable on the DS side: every scan meets some, and
 * each costs the scanner its timeouts). */
static bool with_silent;
static enum kind kind_of(unsigned long i)
{
	unsigned r = (unsigned)(i * 7919 % 1000); /* spread kinds over the names */
	if (r < 775 || (r < 780 && !with_silent))
		return K_NOSIG;
	if (r < 780)
		return K_UNREACH;
	if (r < 850)
		return K_INSECURE;
	if (r < 930)
		return K_SAME;
	if (r < 970)
		return K_ROLL;
	if (r < 975)
		return K_BOGUS;
	if (r < 980)
		return K_BREAK;
	if (r < 985)
		return K_MISMATCH;
	if (r < 990)
		return K_INCONS;
	return K_CSYNC;
}

#define POOL_P256 64
#define POOL_RSA 8
#define POOL_ED 16

/* The providers of a --network-model run. */
#define MAX_PROVIDERS 4096
static struct provider {
	double cum;            /* cumulative weight up to and including this one */
	char a[64], b[64];     /* its two addresses */
} providers[MAX_PROVIDERS];
static size_t nproviders;
static char dead[64][64];
static size_t ndead;

static void load_providers(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	char line[256], w[64], a[64], b[64];
	double cum = 0;
	while (fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%63s %63s %63s", w, a, b);
		if (n == 2 && strcmp(w, "dead") == 0 && ndead < 64) {
			snprintf(dead[ndead++], 64, "%s", a);
		} else if (n == 3 && nproviders < MAX_PROVIDERS && atof(w) > 0) {
			cum += atof(w);
			providers[nproviders].cum = cum;
			snprintf(providers[nproviders].a, 64, "%s", a);
			snprintf(providers[nproviders].b, 64, "%s", b);
			nproviders++;
		} else if (n > 0 && line[0] != '#') {
			fprintf(stderr, "genzones: %s: bad line: %s", path, line);
			exit(1);
		}
	}
	fclose(f);
	if (!nproviders || !ndead) {
		fprintf(stderr, "genzones: %s: no provider or no dead address\n", path);
		exit(1);
	}
}

/* Zone i's provider: a weighted draw from a hash of i (reproducible). */
static const struct provider *provider_of(unsigned long i)
{
	uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15u;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9u;
	h ^= h >> 32;
	double x = (double)(h >> 11) / 9007199254740992.0 * providers[nproviders - 1].cum;
	size_t lo = 0, hi = nproviders - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (providers[mid].cum > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &providers[lo];
}

static ldns_key *pool_p256[POOL_P256], *pool_rsa[POOL_RSA], *pool_ed[POOL_ED];

static ldns_key *make_key(ldns_signing_algorithm alg, int bits)
{
	ldns_key *k = ldns_key_new_frm_algorithm(alg, (uint16_t)bits);
	if (!k) {
		fprintf(stderr, "genzones: key generation failed\n");
		exit(1);
	}
	ldns_key_set_flags(k, 257);
	/* ldns leaves the key tag of a new key 0: the RRSIGs carry it. */
	ldns_rr *pub = ldns_key2rr(k);
	ldns_key_set_keytag(k, ldns_calc_keytag(pub));
	ldns_rr_free(pub);
	return k;
}

/* Two distinct keys of the zone's algorithm: 90% P-256, 7% RSA-2048, 3%
 * Ed25519. */
static void keys_for(unsigned long i, ldns_key **a, ldns_key **b)
{
	unsigned r = (unsigned)(i * 104729 % 100);
	ldns_key **pool = r < 90 ? pool_p256 : r < 97 ? pool_rsa : pool_ed;
	size_t n = r < 90 ? POOL_P256 : r < 97 ? POOL_RSA : POOL_ED;
	*a = pool[i % n];
	*b = pool[(i + 1) % n];
}

static ldns_rr *rr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static ldns_rr *rr(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ldns_rr *r = NULL;
	if (ldns_rr_new_frm_str(&r, buf, 300, NULL, NULL) != LDNS_STATUS_OK) {
		fprintf(stderr, "genzones: bad record: %s\n", buf);
		exit(1);
	}
	return r;
}

/* A pooled key now belongs to owner (ldns keeps the owner in the key). */
static void set_owner(ldns_key *k, ldns_rdf *o)
{
	ldns_rdf *old = ldns_key_pubkey_owner(k);
	ldns_key_set_pubkey_owner(k, o);
	if (old)
		ldns_rdf_deep_free(old);
}

/* DNSKEY and DS (SHA-256) of a pooled key as owner's. */
static ldns_rr *dnskey_of(ldns_key *k, const char *owner)
{
	set_owner(k, ldns_dname_new_frm_str(owner));
	ldns_rr *d = ldns_key2rr(k);
	ldns_rr_set_ttl(d, 300);
	return d;
}

static char *text_of(const ldns_rr *r)
{
	char *s = ldns_rr2str(r);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The rdata of a record in presentation form (after owner, TTL, class, type). */
static char *rdata_of(const ldns_rr *r)
{
	char *s = text_of(r);
	char *p = s;
	for (int f = 0; f < 4 && p; f++) {
		p = strpbrk(p, " \t");
		while (p && (*p == ' ' || *p == '\t'))
			p++;
	}
	char *out = strdup(p ? p : "");
	free(s);
	return out;
}

/* Sign the records with the keys and write the zone to path. */
static void write_zone(const char *path, const char *origin, ldns_rr_list *rrs, ldns_key **keys,
		       size_t nkeys)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	if (nkeys == 0) {
		ldns_rr_list_print(f, rrs);
		fclose(f);
		return;
	}
	ldns_dnssec_zone *dz = ldns_dnssec_zone_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
		ldns_dnssec_zone_add_rr(dz, ldns_rr_clone(ldns_rr_list_rr(rrs, i)));
	ldns_key_list *kl = ldns_key_list_new();
	ldns_rdf *o = ldns_dname_new_frm_str(origin);
	uint32_t now = (uint32_t)time(NULL);
	for (size_t i = 0; i < nkeys; i++) {
		set_owner(keys[i], ldns_rdf_clone(o));
		ldns_key_set_inception(keys[i], now - 3600);
		ldns_key_set_expiration(keys[i], now + 30 * 86400);
		ldns_key_list_push_key(kl, keys[i]);
	}
	ldns_rr_list *added = ldns_rr_list_new();
	if (ldns_dnssec_zone_sign(dz, added, kl, ldns_dnssec_default_replace_signatures, NULL) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "genzones: signing %s failed\n", origin);
		exit(1);
	}
	ldns_dnssec_zone_print(f, dz);
	fclose(f);
	/* The keys belong to the pool: ldns_key_list_free frees the keys it
	 * counts, so count none. */
	ldns_key_list_set_key_count(kl, 0);
	ldns_key_list_free(kl);
	ldns_rr_list_free(added);
	ldns_dnssec_zone_deep_free(dz);
	ldns_rdf_deep_free(o);
}

static void usage(void)
{
	fprintf(stderr, "usage: genzones [-j JOBS] [-c ADDR_C] DIR N ADDR_A ADDR_B [ADDR_SILENT] "
			"[PROVIDERS]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	const char *addr_c = NULL;
	long jobs = 1;
	for (int o; (o = getopt(argc, argv, "j:c:")) != -1;) {
		if (o == 'j' && (jobs = strtol(optarg, NULL, 10)) >= 1 && jobs <= 64)
			continue;
		if (o == 'c') {
			addr_c = optarg;
			continue;
		}
		usage();
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 5 || argc > 7)
		usage();
	const char *dir = argv[1], *addr_a = argv[3], *addr_b = argv[4];
	const char *addr_silent = argc >= 6 ? argv[5] : NULL;
	with_silent = addr_silent != NULL;
	if (argc == 7)
		load_providers(argv[6]);
	unsigned long lame_seen = 0;
	unsigned long n = strtoul(argv[2], NULL, 10);
	char path[4096];
	for (size_t i = 0; i < POOL_P256; i++)
		pool_p256[i] = make_key(LDNS_SIGN_ECDSAP256SHA256, 256);
	for (size_t i = 0; i < POOL_RSA; i++)
		pool_rsa[i] = make_key(LDNS_SIGN_RSASHA256, 2048);
	for (size_t i = 0; i < POOL_ED; i++)
		pool_ed[i] = make_key(LDNS_SIGN_ED25519, 256);
	snprintf(path, sizeof(path), "%s/a", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/b", dir);
	mkdir(path, 0755);
	/* The workers after the first sign their share and write no list:
	 * theirs go to /dev/null. */
	long w = 0;
	pid_t kids[64];
	for (long j = 1; j < jobs; j++) {
		kids[j] = fork();
		if (kids[j] < 0) {
			perror("fork");
			return 1;
		}
		if (kids[j] == 0) {
			w = j;
			break;
		}
	}
#define LIST(name) fopen(w ? "/dev/null" : (snprintf(path, sizeof(path), "%s/" name, dir), path), "w")
	FILE *parent = LIST("bench.zone"), *ca = LIST("nsd-a.zones"), *cb = LIST("nsd-b.zones");
	FILE *cc = LIST("nsd-c.zones"), *qf = LIST("queries.txt"), *sf = LIST("sample.txt");
#undef LIST
	if (!parent || !ca || !cb || !cc || !qf || !sf) {
		perror(dir);
		return 1;
	}
	fprintf(parent, "$ORIGIN bench.\n$TTL 300\n@ SOA ns.bench. hostmaster.bench. 1 3600 600 "
			"86400 300\n@ NS ns.bench.\nns.bench. A %s\n",
		addr_a);
	unsigned long count[K_COUNT] = {0};
	unsigned sampled[K_COUNT] = {0};
	static const char *const qtypes[] = {"SOA", "DNSKEY", "CDS", "CDNSKEY", "CSYNC", "NS"};
	for (unsigned long i = 0; i < n; i++) {
		enum kind k = kind_of(i);
		count[k]++;
		if (w && i % (unsigned long)jobs != (unsigned long)w) {
			/* Not this worker's zone: only the draw of the lame
			 * addresses must stay in step. */
			lame_seen += k == K_UNREACH && nproviders;
			continue;
		}
		char name[128];
		snprintf(name, sizeof(name), "z%lu.bench.", i);
		ldns_key *ka, *kb;
		keys_for(i, &ka, &kb);
		ldns_rr *dka = dnskey_of(ka, name), *dkb = dnskey_of(kb, name);
		ldns_rr *dsa = ldns_key_rr2ds(dka, LDNS_SHA256), *dsb = ldns_key_rr2ds(dkb, LDNS_SHA256);
		char *dka_t = rdata_of(dka), *dkb_t = rdata_of(dkb);
		char *dsa_t = rdata_of(dsa), *dsb_t = rdata_of(dsb);
		ldns_rr_list *base = ldns_rr_list_new();
		ldns_rr_list_push_rr(base, rr("%s 300 IN SOA ns1.%s hostmaster.%s 1 3600 600 86400 300",
					      name, name, name));
		ldns_rr_list_push_rr(base, rr("%s 300 IN NS ns1.%s", name, name));
		ldns_rr_list_push_rr(base, rr("%s 300 IN NS ns2.%s", name, name));
		const char *first = addr_a, *second = addr_b;
		if (nproviders) {
			const struct provider *p = provider_of(i);
			first = p->a;
			second = p->b;
		}
		ldns_rr_list_push_rr(base, rr("ns1.%s 300 IN A %s", name, first));
		/* A lame delegation's second address: nothing answers there. */
		if (k == K_UNREACH)
			second = nproviders ? dead[lame_seen++ % ndead] : addr_silent;
		else if (k == K_INCONS && addr_c)
			second = addr_c;
		ldns_rr_list_push_rr(base, rr("ns2.%s 300 IN A %s", name, second));
		ldns_rr_list_push_rr(base, rr("www.%s 300 IN A 192.0.2.1", name));
		/* What the parent holds. */
		fprintf(parent, "%s NS ns1.%s\n%s NS ns2.%s\nns1.%s A %s\nns2.%s A %s\n", name, name,
			name, name, name, first, name, second);
		bool signed_zone = k != K_INSECURE;
		if (signed_zone)
			fprintf(parent, "%s DS %s\n", name, k == K_BOGUS ? dsb_t : dsa_t);
		ldns_key *sign[2] = {ka, kb};
		size_t nsign = signed_zone ? 1 : 0;
		ldns_rr_list *a = ldns_rr_list_clone(base), *b = NULL;
		if (signed_zone)
			ldns_rr_list_push_rr(a, ldns_rr_clone(dka));
		switch (k) {
		case K_SAME:
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsa_t));
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDNSKEY %s", name, dka_t));
			break;
		case K_ROLL:
			ldns_rr_list_push_rr(a, ldns_rr_clone(dkb));
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsa_t));
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsb_t));
			nsign = 2;
			break;
		case K_BOGUS: /* the parent's DS names kb; the zone uses ka */
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsa_t));
			break;
		case K_BREAK:
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsb_t));
			break;
		case K_MISMATCH:
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDS %s", name, dsa_t));
			ldns_rr_list_push_rr(a, rr("%s 300 IN CDNSKEY %s", name, dkb_t));
			break;
		case K_INCONS:
			b = ldns_rr_list_clone(a);
			ldns_rr_list_push_rr(b, rr("%s 300 IN CDS %s", name, dsa_t));
			break;
		case K_CSYNC:
			ldns_rr_list_push_rr(a, rr("%s 300 IN CSYNC 1 1 NS A AAAA", name));
			break;
		default:
			break;
		}
		snprintf(path, sizeof(path), "%s/a/%szone", dir, name);
		bool mine = i % (unsigned long)jobs == (unsigned long)w;
		if (mine)
			write_zone(path, name, a, sign, nsign);
		fprintf(ca, "zone:\n\tname: %s\n\tzonefile: %s\n", name, path);
		if (b) {
			snprintf(path, sizeof(path), "%s/b/%szone", dir, name);
			if (mine)
				write_zone(path, name, b, sign, nsign);
			fprintf(cc, "zone:\n\tname: %s\n\tzonefile: %s\n", name, path);
		}
		fprintf(cb, "zone:\n\tname: %s\n\tzonefile: %s/%s/%szone\n", name, dir, b ? "b" : "a",
			name);
		for (size_t q = 0; q < 6; q++)
			fprintf(qf, "%s %s\n", name, qtypes[q]);
		/* The script's sample: signed zones that answer (the script
		 * would wait out the silent server's timeouts too, but at 0.5%
		 * of the mix, not in every tenth sample). */
		if (sampled[k] < 10 && signed_zone && k != K_UNREACH) {
			sampled[k]++;
			fprintf(sf, "%s %s %s\n", name, ds_reason[k], k == K_BOGUS ? dsb_t : dsa_t);
		}
		ldns_rr_list_deep_free(base);
		ldns_rr_list_deep_free(a);
		if (b)
			ldns_rr_list_deep_free(b);
		ldns_rr_free(dka);
		ldns_rr_free(dkb);
		ldns_rr_free(dsa);
		ldns_rr_free(dsb);
		free(dka_t);
		free(dkb_t);
		free(dsa_t);
		free(dsb_t);
	}
	fclose(parent);
	fclose(ca);
	fclose(cb);
	fclose(cc);
	fclose(qf);
	fclose(sf);
	if (w)
		return 0;
	for (long j = 1; j < jobs; j++) {
		int st = 0;
		if (waitpid(kids[j], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "genzones: worker %ld failed\n", j);
			return 1;
		}
	}
	FILE *ef = fopen((snprintf(path, sizeof(path), "%s/expected.json", dir), path), "w");
	/* The report counts every reason of both sides. */
	unsigned long ds[K_COUNT] = {0};
	fprintf(ef, "{\"domains\": %lu, \"reasons\": {", n);
	const char *seen[K_COUNT];
	size_t nseen = 0;
	for (int k = 0; k < K_COUNT; k++) {
		size_t s = 0;
		while (s < nseen && strcmp(seen[s], ds_reason[k]) != 0)
			s++;
		if (s == nseen)
			seen[nseen++] = ds_reason[k];
		ds[s] += count[k];
	}
	for (size_t s = 0; s < nseen; s++)
		if (ds[s])
			fprintf(ef, "\"%s\": %lu, ", seen[s], ds[s]);
	/* The NS side: no CSYNC but for the CSYNC kind (a lame delegation's
	 * reachable server has none either). */
	fprintf(ef, "\"no-csync\": %lu, \"csync-unchanged\": %lu}, \"kinds\": {",
		n - count[K_CSYNC], count[K_CSYNC]);
	static const char *const kname[K_COUNT] = {"no-signal",  "insecure",      "unchanged",
						   "rollover",   "bogus",         "breaks-chain",
						   "mismatch",   "inconsistent",  "csync",
						   "unreachable"};
	for (int k = 0; k < K_COUNT; k++)
		fprintf(ef, "%s\"%s\": %lu", k ? ", " : "", kname[k], count[k]);
	fprintf(ef, "}}\n");
	fclose(ef);
	for (size_t i = 0; i < POOL_P256; i++)
		ldns_key_deep_free(pool_p256[i]);
	for (size_t i = 0; i < POOL_RSA; i++)
		ldns_key_deep_free(pool_rsa[i]);
	for (size_t i = 0; i < POOL_ED; i++)
		ldns_key_deep_free(pool_ed[i]);
	return 0;
}
