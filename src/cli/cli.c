/* Command line parsing and help texts (CONTRACT.md "Commands"). */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/cli.h"
#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/version.h"

static int usage(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CDS_EUSAGE;
}

static const struct {
	const char *word1, *word2;
	enum cds_command cmd;
} commands[] = {
	{"check", NULL, CDS_CMD_CHECK},   {"db", "init", CDS_CMD_DB_INIT},
	{"import", NULL, CDS_CMD_IMPORT}, {"scan", NULL, CDS_CMD_SCAN},
	{"epp", "send", CDS_CMD_EPP_SEND}, {"daemon", NULL, CDS_CMD_DAEMON},
	{"domain", "show", CDS_CMD_DOMAIN_SHOW}, {"domain", "history", CDS_CMD_DOMAIN_HISTORY},
	{"domain", "suspend", CDS_CMD_DOMAIN_SUSPEND}, {"domain", "resume", CDS_CMD_DOMAIN_RESUME},
	{"domain", "approve-csync", CDS_CMD_DOMAIN_APPROVE_CSYNC},
	{"dsync", NULL, CDS_CMD_DSYNC},
};

const char *cds_cli_command_name(enum cds_command command)
{
	static const char *const names[] = {
		[CDS_CMD_NONE] = "", [CDS_CMD_CHECK] = "check", [CDS_CMD_DB_INIT] = "db init",
		[CDS_CMD_IMPORT] = "import", [CDS_CMD_SCAN] = "scan",
		[CDS_CMD_EPP_SEND] = "epp send", [CDS_CMD_DAEMON] = "daemon",
		[CDS_CMD_DOMAIN_SHOW] = "domain show", [CDS_CMD_DOMAIN_HISTORY] = "domain history",
		[CDS_CMD_DOMAIN_SUSPEND] = "domain suspend", [CDS_CMD_DOMAIN_RESUME] = "domain resume",
		[CDS_CMD_DOMAIN_APPROVE_CSYNC] = "domain approve-csync",
		[CDS_CMD_DSYNC] = "dsync",
	};
	return names[command];
}

enum {
	OPT_NS = 256,
	OPT_DS,
	OPT_PARENT_ZONE,
	OPT_RESOLVER,
	OPT_TRUST_ANCHOR,
	OPT_LAST_CHANGE,
	OPT_JSON,
	OPT_ZONE,
	OPT_ORIGIN,
	OPT_DRY_RUN,
	OPT_DOMAIN,
	OPT_LIMIT,
	OPT_OUTPUT,
	OPT_SPOOL_DIR,
	OPT_REPORT,
	OPT_FORMAT,
	OPT_LOG_FORMAT,
	OPT_CHECK_CONFIG,
	OPT_REASON,
	OPT_LISTEN,
	OPT_HTTP,
	OPT_DOMAINS,
	OPT_IMPORT_FORMAT,
	OPT_FROM,
};

static int grow(void **arr, size_t count, size_t size)
{
	void *n = realloc(*arr, (count + 1) * size);
	if (!n)
		return CDS_ENOMEM;
	*arr = n;
	return 0;
}

static int parse_ns(struct cds_cli *cli, const char *arg, char *err, size_t errlen)
{
	char name[CDS_DNAME_BUFSIZE + 1];
	const char *at = strchr(arg, '@');
	size_t nl = at ? (size_t)(at - arg) : strlen(arg);
	struct cds_cli_ns ns = {0};

	if (nl == 0 || nl >= sizeof(name))
		return usage(err, errlen, "--ns '%s': expected NAME or NAME@ADDR", arg);
	memcpy(name, arg, nl);
	name[nl] = '\0';
	if (cds_dname_normalize(name, ns.name) != 0 || strcmp(ns.name, ".") == 0)
		return usage(err, errlen, "--ns '%s': '%s' is not a host name", arg, name);
	if (at) {
		if (cds_addr_parse(at + 1, 53, &ns.addr) != 0)
			return usage(err, errlen, "--ns '%s': '%s' is not an IPv4 or IPv6 address",
				     arg, at + 1);
		ns.has_addr = true;
	}
	if (grow((void **)&cli->ns, cli->ns_count, sizeof(ns)) != 0)
		return CDS_ENOMEM;
	cli->ns[cli->ns_count++] = ns;
	return 0;
}

/* Options of each command; long-only options use the OPT_ values. */
static const struct option check_opts[] = {
	{"ns", required_argument, NULL, OPT_NS},
	{"ds", required_argument, NULL, OPT_DS},
	{"parent-zone", required_argument, NULL, OPT_PARENT_ZONE},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
	{"last-change", required_argument, NULL, OPT_LAST_CHANGE},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option import_opts[] = {
	{"zone", required_argument, NULL, OPT_ZONE},
	{"origin", required_argument, NULL, OPT_ORIGIN},
	{"domains", required_argument, NULL, OPT_DOMAINS},
	{"format", required_argument, NULL, OPT_IMPORT_FORMAT},
	{"from", required_argument, NULL, OPT_FROM},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option scan_opts[] = {
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"spool-dir", required_argument, NULL, OPT_SPOOL_DIR},
	{"report", required_argument, NULL, OPT_REPORT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option epp_send_opts[] = {
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option daemon_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"http", required_argument, NULL, OPT_HTTP},
	{"resolver", required_argument, NULL, OPT_RESOLVER},
	{"trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option domain_show_opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option domain_history_opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option domain_reason_opts[] = {
	{"reason", required_argument, NULL, OPT_REASON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
/* dsync's options, in a range of their own: no other command has them. */
enum {
	OPT_DSYNC_ZONE = 512,
	OPT_TARGET,
	OPT_PORT,
	OPT_TTL,
	OPT_CHILD,
	OPT_NO_WILDCARD,
	OPT_GENERIC,
};
static const struct option dsync_opts[] = {
	{"zone", required_argument, NULL, OPT_DSYNC_ZONE},
	{"target", required_argument, NULL, OPT_TARGET},
	{"port", required_argument, NULL, OPT_PORT},
	{"ttl", required_argument, NULL, OPT_TTL},
	{"child", required_argument, NULL, OPT_CHILD},
	{"no-wildcard", no_argument, NULL, OPT_NO_WILDCARD},
	{"generic", no_argument, NULL, OPT_GENERIC},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const struct option help_only_opts[] = {
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const struct option *command_options(enum cds_command cmd)
{
	switch (cmd) {
	case CDS_CMD_CHECK:
		return check_opts;
	case CDS_CMD_IMPORT:
		return import_opts;
	case CDS_CMD_SCAN:
		return scan_opts;
	case CDS_CMD_EPP_SEND:
		return epp_send_opts;
	case CDS_CMD_DAEMON:
		return daemon_opts;
	case CDS_CMD_DOMAIN_SHOW:
		return domain_show_opts;
	case CDS_CMD_DOMAIN_HISTORY:
		return domain_history_opts;
	case CDS_CMD_DOMAIN_SUSPEND:
	case CDS_CMD_DOMAIN_RESUME:
		return domain_reason_opts;
	case CDS_CMD_DSYNC:
		return dsync_opts;
	default:
		return help_only_opts;
	}
}

/* The name of a text among names[0..n), as its index, or -1. */
static int one_of(const char *arg, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	return -1;
}

/* --output and --format: one of a few words. */
static int word_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	static const char *const outputs[] = {"epp-spool", "epp-tls", "json"};
	static const enum cds_output_adapter output_of[] = {CDS_OUTPUT_EPP_SPOOL,
							     CDS_OUTPUT_EPP_TLS, CDS_OUTPUT_JSON};
	static const char *const formats[] = {"text", "json", "html"};
	static const enum cds_report_format format_of[] = {CDS_REPORT_TEXT, CDS_REPORT_JSON,
							    CDS_REPORT_HTML};
	int i;
	if (c == OPT_OUTPUT) {
		if ((i = one_of(arg, outputs, 3)) < 0)
			return usage(err, errlen,
				     "--output '%s': expected epp-spool, epp-tls or json", arg);
		cli->output = output_of[i];
		cli->has_output = true;
		return 0;
	}
	if ((i = one_of(arg, formats, 3)) < 0)
		return usage(err, errlen, "--format '%s': expected text, json or html", arg);
	cli->report_format = format_of[i];
	return 0;
}

/* import's --format csv|jsonl and --from dns|epp. */
static int import_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	static const char *const formats[] = {"csv", "jsonl"};
	static const char *const froms[] = {"dns", "epp"};
	int i;
	if (c == OPT_IMPORT_FORMAT) {
		if ((i = one_of(arg, formats, 2)) < 0)
			return usage(err, errlen, "--format '%s': expected csv or jsonl", arg);
		cli->import_format = i == 0 ? CDS_IMPORT_CSV : CDS_IMPORT_JSONL;
		return 0;
	}
	if ((i = one_of(arg, froms, 2)) < 0)
		return usage(err, errlen, "--from '%s': expected dns or epp", arg);
	cli->import_from = i == 0 ? CDS_IMPORT_FROM_DNS : CDS_IMPORT_FROM_EPP;
	return 0;
}

/* Longest --reason: it is stored and shown in one line. */
#define REASON_MAX 400

/* --reason TEXT: a line of text for the domain's history. */
static int reason_option(struct cds_cli *cli, const char *arg, char *err, size_t errlen)
{
	size_t n = strlen(arg);
	if (n == 0 || n > REASON_MAX)
		return usage(err, errlen, "--reason: expected a text of 1 to %d characters (got %zu)",
			     REASON_MAX, n);
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return usage(err, errlen, "--reason: one line of text, without control "
						  "characters");
	cli->reason = arg;
	return 0;
}

/* daemon --listen ADDR (repeatable) and --http ADDR. */
static int daemon_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	struct cds_addr addr;
	const char *opt = c == OPT_LISTEN ? "--listen" : "--http";
	if (cds_addr_parse(arg, c == OPT_LISTEN ? 53 : 9153, &addr) != 0)
		return usage(err, errlen, "%s '%s': not an IPv4 or IPv6 address[#port]", opt, arg);
	if (c == OPT_HTTP) {
		cli->http = arg;
		return 0;
	}
	if (cli->listen_count >= CDS_CLI_MAX_LISTEN)
		return usage(err, errlen, "--listen: at most %d addresses", CDS_CLI_MAX_LISTEN);
	cli->listen[cli->listen_count++] = arg;
	return 0;
}

/* Options whose value is parsed and checked now. */
static int value_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	struct cds_ds ds;
	struct cds_addr addr;
	char name[CDS_DNAME_BUFSIZE];

	switch (c) {
	case OPT_DS:
		if (cds_ds_parse(arg, &ds) != 0)
			return usage(err, errlen,
				     "--ds '%s': expected 'KEYTAG ALG DIGESTTYPE HEX' with a digest "
				     "of the right length",
				     arg);
		if (grow((void **)&cli->ds, cli->ds_count, sizeof(ds)) != 0)
			return CDS_ENOMEM;
		cli->ds[cli->ds_count++] = ds;
		return 0;
	case OPT_RESOLVER:
		if (cds_addr_parse(arg, 53, &addr) != 0)
			return usage(err, errlen, "--resolver '%s': not an IPv4 or IPv6 address",
				     arg);
		cli->resolver = arg;
		return 0;
	case OPT_LAST_CHANGE:
		if (cds_time_parse(arg, &cli->last_change) != 0)
			return usage(err, errlen,
				     "--last-change '%s': expected an RFC 3339 time such as "
				     "2026-11-29T18:00:00Z",
				     arg);
		cli->has_last_change = true;
		return 0;
	case OPT_ORIGIN:
		if (cds_dname_normalize(arg, cli->origin) != 0)
			return usage(err, errlen, "--origin '%s': not a domain name", arg);
		cli->has_origin = true;
		return 0;
	case OPT_DOMAIN:
		if (cds_dname_normalize(arg, name) != 0 || strcmp(name, ".") == 0)
			return usage(err, errlen, "--domain '%s': not a domain name", arg);
		if (grow((void **)&cli->domains, cli->domain_count, sizeof(*cli->domains)) != 0)
			return CDS_ENOMEM;
		memcpy(cli->domains[cli->domain_count++], name, sizeof(name));
		return 0;
	case OPT_LIMIT:
		if (cds_uint_parse(arg, 1, UINT32_MAX, &cli->limit) != 0)
			return usage(err, errlen, "--limit '%s': expected a number from 1", arg);
		cli->has_limit = true;
		return 0;
	case OPT_OUTPUT:
	case OPT_FORMAT:
		return word_option(cli, c, arg, err, errlen);
	case OPT_REASON:
		return reason_option(cli, arg, err, errlen);
	case OPT_LISTEN:
	case OPT_HTTP:
		return daemon_option(cli, c, arg, err, errlen);
	case OPT_IMPORT_FORMAT:
	case OPT_FROM:
		return import_option(cli, c, arg, err, errlen);
	default:
		return usage(err, errlen, "internal: unhandled option %d", c);
	}
}

/* A name for dsync (--zone, --target, --child; what it is in words): no
 * wildcard label, and the root only where it may be the parent zone. */
static int dsync_name(const char *opt, const char *what, const char *arg, bool root_ok,
		      char out[CDS_DNAME_BUFSIZE], char *err, size_t errlen)
{
	if (cds_dname_normalize(arg, out) != 0 || strchr(out, '*') ||
	    (!root_ok && strcmp(out, ".") == 0))
		return usage(err, errlen, "%s '%s': not a %s name", opt, arg, what);
	return 0;
}

/* The options of dsync. */
static int dsync_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	struct cds_cli_dsync *d = &cli->dsync;
	char name[CDS_DNAME_BUFSIZE];
	uint64_t n;

	switch (c) {
	case OPT_DSYNC_ZONE:
		return dsync_name("--zone", "domain", arg, true, d->zone, err, errlen);
	case OPT_TARGET:
		return dsync_name("--target", "host", arg, false, d->target, err, errlen);
	case OPT_PORT:
		/* RFC 9859 §2.1: consumers ignore a DSYNC with port 0. */
		if (cds_uint_parse(arg, 1, 65535, &n) != 0)
			return usage(err, errlen, "--port '%s': expected a number from 1 to 65535",
				     arg);
		d->port = (uint16_t)n;
		return 0;
	case OPT_TTL:
		/* RFC 2181 §8: a TTL is 0 to 2^31 - 1 seconds. */
		if (cds_uint_parse(arg, 0, INT32_MAX, &n) != 0)
			return usage(err, errlen,
				     "--ttl '%s': expected seconds from 0 to 2147483647", arg);
		d->ttl = (uint32_t)n;
		return 0;
	case OPT_CHILD:
		if (dsync_name("--child", "child zone", arg, false, name, err, errlen) != 0)
			return CDS_EUSAGE;
		if (grow((void **)&d->children, d->child_count, sizeof(*d->children)) != 0)
			return CDS_ENOMEM;
		memcpy(d->children[d->child_count++], name, sizeof(name));
		return 0;
	case OPT_NO_WILDCARD:
		d->no_wildcard = true;
		return 0;
	case OPT_GENERIC:
		d->generic = true;
		return 0;
	default:
		return usage(err, errlen, "internal: unhandled option %d", c);
	}
}

/* dsync's arguments together: both names given, every child below the
 * zone, and every owner name short enough (RFC 9859 §3). */
static int dsync_check(struct cds_cli *cli, int rest, char **args, char *err, size_t errlen)
{
	struct cds_cli_dsync *d = &cli->dsync;
	char owner[CDS_DNAME_BUFSIZE];
	int r;

	if (rest != 0)
		return usage(err, errlen, "dsync: unexpected argument '%s'", args[0]);
	if (!d->zone[0])
		return usage(err, errlen, "dsync: --zone PARENT is required");
	if (!d->target[0])
		return usage(err, errlen, "dsync: --target NAME is required");
	if (d->child_count && d->no_wildcard)
		return usage(err, errlen, "dsync: --child and --no-wildcard exclude each other");
	for (size_t i = 0; i < d->child_count; i++) {
		r = cds_dsync_owner(d->zone, CDS_DSYNC_OWNER_CHILD, d->children[i], owner);
		if (r == CDS_EINVAL)
			return usage(err, errlen, "dsync: --child '%s' is not below the zone %s",
				     d->children[i], d->zone);
		if (r != 0)
			return usage(err, errlen,
				     "dsync: the DSYNC owner name would be longer than 255 octets "
				     "(--child '%s')",
				     d->children[i]);
	}
	r = cds_dsync_owner(d->zone, d->no_wildcard ? CDS_DSYNC_OWNER_ZONE : CDS_DSYNC_OWNER_WILDCARD,
			    NULL, owner);
	if (r != 0 && !d->child_count)
		return usage(err, errlen,
			     "dsync: the DSYNC owner name would be longer than 255 octets "
			     "(--zone '%s')",
			     d->zone);
	return 0;
}

static int command_option(struct cds_cli *cli, int c, const char *arg, char *err, size_t errlen)
{
	if (c >= OPT_DSYNC_ZONE)
		return dsync_option(cli, c, arg, err, errlen);
	switch (c) {
	case 'h':
		cli->help = true;
		return 0;
	case OPT_NS:
		return parse_ns(cli, arg, err, errlen);
	case OPT_PARENT_ZONE:
		cli->parent_zone = arg;
		return 0;
	case OPT_TRUST_ANCHOR:
		cli->trust_anchor = arg;
		return 0;
	case OPT_JSON:
		cli->json = true;
		return 0;
	case OPT_ZONE:
		cli->zone_file = arg;
		return 0;
	case OPT_DOMAINS:
		cli->domains_file = arg;
		return 0;
	case OPT_DRY_RUN:
		cli->dry_run = true;
		return 0;
	case OPT_SPOOL_DIR:
		cli->spool_dir = arg;
		return 0;
	case OPT_REPORT:
		cli->report_file = arg;
		return 0;
	default:
		return value_option(cli, c, arg, err, errlen);
	}
}

/* getopt_long with our own messages (opterr = 0) so that tests can read them. */
static int bad_option(int c, char **argv, const char *what, char *err, size_t errlen)
{
	const char *opt = argv[optind - 1];
	if (c == ':')
		return usage(err, errlen, "%soption '%s' needs an argument", what, opt);
	return usage(err, errlen, "%sunknown option '%s'", what, opt);
}

/* The one NAME of a domain command. */
static int domain_name(struct cds_cli *cli, int rest, char **args, const char *ctx, char *err,
		       size_t errlen)
{
	if (rest != 1)
		return usage(err, errlen, "%sexpected one domain NAME, got %d arguments", ctx, rest);
	if (cds_dname_normalize(args[0], cli->domain) != 0 || strcmp(cli->domain, ".") == 0)
		return usage(err, errlen, "%s'%s' is not a domain name", ctx, args[0]);
	return 0;
}

/* import: a zone file or a portfolio, and the options of each only. */
static int import_check(struct cds_cli *cli, int rest, char **args, char *err, size_t errlen)
{
	if (rest != 0)
		return usage(err, errlen, "import: unexpected argument '%s'", args[0]);
	if (!cli->zone_file && !cli->domains_file)
		return usage(err, errlen, "import: --zone FILE is required (or --domains FILE|-)");
	if (cli->zone_file && cli->domains_file)
		return usage(err, errlen, "import: --zone or --domains, not both");
	if (cli->zone_file && (cli->import_format != CDS_IMPORT_CSV ||
			       cli->import_from != CDS_IMPORT_FROM_NONE))
		return usage(err, errlen, "import: --format and --from go with --domains");
	if (cli->domains_file && cli->has_origin)
		return usage(err, errlen, "import: --origin goes with --zone");
	return 0;
}

static int parse_command(int argc, char **argv, struct cds_cli *cli, char *err, size_t errlen)
{
	const struct option *opts = command_options(cli->command);
	char ctx[32];
	int c, r;

	snprintf(ctx, sizeof(ctx), "%s: ", cds_cli_command_name(cli->command));
	if (cli->command == CDS_CMD_DSYNC) {
		cli->dsync.port = CDS_DSYNC_DEFAULT_PORT;
		cli->dsync.ttl = CDS_DSYNC_DEFAULT_TTL;
	}
	/* argv[0] is the command word; getopt starts after it. optind = 0
	 * makes glibc's getopt start afresh. */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option(c, argv, ctx, err, errlen);
		r = command_option(cli, c, optarg, err, errlen);
		if (r != 0)
			return r;
	}
	if (cli->help)
		return 0;

	int rest = argc - optind;
	char **args = argv + optind;
	switch (cli->command) {
	case CDS_CMD_CHECK:
		if (rest != 1)
			return usage(err, errlen, "check: expected one DOMAIN, got %d arguments",
				     rest);
		if (cds_dname_normalize(args[0], cli->domain) != 0 ||
		    strcmp(cli->domain, ".") == 0)
			return usage(err, errlen, "check: '%s' is not a domain name", args[0]);
		if (cli->ds_count && !cli->ns_count)
			return usage(err, errlen, "check: --ds needs --ns as well");
		if (cli->parent_zone && (cli->ns_count || cli->ds_count))
			return usage(err, errlen,
				     "check: --parent-zone cannot be combined with --ns/--ds");
		return 0;
	case CDS_CMD_IMPORT:
		return import_check(cli, rest, args, err, errlen);
	case CDS_CMD_DOMAIN_SHOW:
	case CDS_CMD_DOMAIN_HISTORY:
	case CDS_CMD_DOMAIN_SUSPEND:
	case CDS_CMD_DOMAIN_RESUME:
	case CDS_CMD_DOMAIN_APPROVE_CSYNC:
		return domain_name(cli, rest, args, ctx, err, errlen);
	case CDS_CMD_DSYNC:
		return dsync_check(cli, rest, args, err, errlen);
	default:
		if (rest != 0)
			return usage(err, errlen, "%sunexpected argument '%s'", ctx, args[0]);
		return 0;
	}
}

/* The subcommands of word w1, as "a|b|c", into buf. */
static void subcommands(const char *w1, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && o < len; i++)
		if (strcmp(w1, commands[i].word1) == 0 && commands[i].word2)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "|" : "",
					      commands[i].word2);
}

/* The command words at argv[optind] (and the next, for a command with
 * subcommands), then the command's own arguments. */
static int find_command(int argc, char **argv, struct cds_cli *cli, char *err, size_t errlen)
{
	const char *w1 = argv[optind];
	const char *w2 = optind + 1 < argc ? argv[optind + 1] : NULL;
	int first = -1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(w1, commands[i].word1) != 0)
			continue;
		if (first < 0)
			first = (int)i;
		if (commands[i].word2 && (!w2 || strcmp(w2, commands[i].word2) != 0))
			continue;
		cli->command = commands[i].cmd;
		int skip = commands[i].word2 ? 1 : 0;
		return parse_command(argc - optind - skip, argv + optind + skip, cli, err, errlen);
	}
	if (first < 0)
		return usage(err, errlen, "unknown command '%s'", w1);
	if (w2 && strcmp(w2, "--help") == 0) {
		cli->command = commands[first].cmd;
		cli->help = true;
		return 0;
	}
	char subs[128];
	subcommands(w1, subs, sizeof(subs));
	if (w2)
		return usage(err, errlen, "'%s' needs a subcommand: %s %s (not '%s')", w1, w1, subs,
			     w2);
	return usage(err, errlen, "'%s' needs a subcommand: %s %s", w1, w1, subs);
}

int cds_cli_parse(int argc, char **argv, struct cds_cli *cli, char *err, size_t errlen)
{
	static const struct option global_opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
		{"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(cli, 0, sizeof(*cli));
	if (errlen)
		err[0] = '\0';
	opterr = 0;
	optind = 0;
	/* '+': stop at the command word, whose options are parsed apart. */
	while ((c = getopt_long(argc, argv, "+:c:vqhV", global_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->config_file = optarg;
			break;
		case 'v':
			cli->verbosity++;
			break;
		case 'q':
			cli->verbosity--;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") == 0)
				cli->log_format = CDS_LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cli->log_format = CDS_LOG_JSON;
			else
				return usage(err, errlen,
					     "--log-format '%s': expected text or json", optarg);
			cli->has_log_format = true;
			break;
		case OPT_CHECK_CONFIG:
			cli->check_config = true;
			break;
		case 'h':
			cli->help = true;
			break;
		case 'V':
			cli->version = true;
			break;
		default:
			return bad_option(c, argv, "", err, errlen);
		}
	}
	if (optind >= argc) {
		if (cli->help || cli->version || cli->check_config)
			return 0;
		return usage(err, errlen, "no command given");
	}
	return find_command(argc, argv, cli, err, errlen);
}

void cds_cli_free(struct cds_cli *cli)
{
	if (!cli)
		return;
	free(cli->ns);
	free(cli->ds);
	free(cli->domains);
	free(cli->dsync.children);
	memset(cli, 0, sizeof(*cli));
}

static const char help_overview[] =
	"usage: cdscan [-c FILE] [-v|-q] [--log-format text|json] COMMAND [ARGS]\n"
	"\n"
	"Parent-side DNSSEC delegation automation: reads CDS, CDNSKEY and CSYNC at\n"
	"every nameserver of a child zone, authenticates them and decides DS and NS\n"
	"changes (RFC 7344, 7477, 8078, 9615).\n"
	"\n"
	"commands:\n"
	"  check DOMAIN         check one delegation and print the verdict\n"
	"  db init              create or migrate the database schema\n"
	"  import --zone FILE   load the delegations of a parent zone file\n"
	"  import --domains FILE|-\n"
	"                       load a registrar's portfolio (csv or jsonl)\n"
	"  scan                 scan due delegations and emit change sets\n"
	"  epp send             hand pending change sets to the output adapter\n"
	"  dsync --zone PARENT --target NAME\n"
	"                       print the DSYNC records (RFC 9859) that send the\n"
	"                       children's NOTIFY(CDS) and NOTIFY(CSYNC) to NAME\n"
	"  domain show|history NAME\n"
	"                       one delegation's state, verdicts, change sets, events\n"
	"  domain suspend|resume NAME [--reason TEXT]\n"
	"                       stop / restart automation for one domain\n"
	"  domain approve-csync NAME\n"
	"                       act once on a CSYNC without the immediate flag\n"
	"  daemon               scan continuously, take NOTIFY, serve metrics\n"
	"\n"
	"global options:\n"
	"  -c, --config FILE    configuration file (default: " CDSCAN_SYSCONFDIR
	"/cdscan/cdscan.yaml if present, else built-in defaults)\n"
	"  -v, --verbose        more log output (twice: debug)\n"
	"  -q, --quiet          errors only\n"
	"      --log-format F   log lines as text or json (stderr)\n"
	"      --check-config   validate the configuration and exit\n"
	"  -h, --help           this text; 'cdscan COMMAND --help' for a command\n"
	"  -V, --version        print the version\n"
	"\n"
	"environment: CDSCAN_DATABASE overrides the 'database' key.\n"
	"exit codes: 0 done, 64 usage, 65 bad data, 69 service unavailable,\n"
	"            70 internal error, 78 configuration error.  See cdscan(8).\n";

static const char help_check[] =
	"usage: cdscan check DOMAIN [--ns NAME[@ADDR]]... [--ds 'KEYTAG ALG DIGESTTYPE HEX']...\n"
	"                           [--parent-zone FILE] [--resolver ADDR] [--trust-anchor FILE]\n"
	"                           [--last-change RFC3339-TIME] [--json]\n"
	"\n"
	"Ask every nameserver of DOMAIN directly (RD=0) for its CDS, CDNSKEY, CSYNC,\n"
	"DNSKEY, SOA and NS, authenticate them against the parent's DS set and print\n"
	"the verdict.  No database is needed.\n"
	"\n"
	"  --ns NAME[@ADDR]     a nameserver of the delegation (repeatable; without\n"
	"                       @ADDR its A and AAAA are looked up)\n"
	"  --ds 'TAG ALG DT HEX'  a DS record of the parent (repeatable)\n"
	"  --parent-zone FILE   take NS and DS from this parent zone file\n"
	"  --resolver ADDR      validating resolver (ADDR or ADDR#PORT)\n"
	"  --trust-anchor FILE  trust anchor for the resolver's answers\n"
	"  --last-change TIME   when the parent last changed the DS set; older\n"
	"                       signals are rejected as stale-signal\n"
	"  --json               print the verdict as JSON (CONTRACT.md)\n"
	"Without --ns and --parent-zone the delegation is looked up in DNS.\n";

static const char help_db_init[] = "usage: cdscan db init\n"
				   "\n"
				   "Create the schema or apply the migrations the database lacks.\n"
				   "Idempotent; refuses a database newer than this binary.\n";

static const char help_import[] =
	"usage: cdscan import --zone FILE [--origin NAME]\n"
	"       cdscan import --domains FILE|- [--format csv|jsonl] [--from dns|epp]\n"
	"\n"
	"Load NS, DS and in-bailiwick glue of every delegation in a parent zone file\n"
	"into the delegation table: insert new, update changed, mark removed.\n"
	"Or a registrar's portfolio, one domain per line: the same, each domain in\n"
	"its parent zone, removed only within the registries the file covers.\n"
	"\n"
	"  --zone FILE          the parent zone file ($ORIGIN, $TTL, $INCLUDE)\n"
	"  --origin NAME        origin when the file has no $ORIGIN\n"
	"  --domains FILE|-     the portfolio ('-': standard input)\n"
	"  --format csv|jsonl   csv: domain[,registry] (default); jsonl:\n"
	"                       {\"domain\", \"registry\", \"ns\": [...], \"ds\": [...]}\n"
	"  --from dns|epp       where NS and DS a line lacks are read\n";

static const char help_scan[] =
	"usage: cdscan scan [--dry-run] [--domain NAME]... [--limit N]\n"
	"                   [--resolver ADDR] [--trust-anchor FILE]\n"
	"                   [--output epp-spool|epp-tls|json] [--spool-dir DIR]\n"
	"                   [--report FILE] [--format text|json|html]\n"
	"\n"
	"Scan the delegations that are due, decide, and hand change sets to the\n"
	"output adapter.\n"
	"\n"
	"  --dry-run            record results, create no change set\n"
	"  --domain NAME        scan this delegation now, due or not (repeatable)\n"
	"  --limit N            scan at most N delegations\n"
	"  --resolver ADDR      validating resolver (ADDR or ADDR#PORT)\n"
	"  --trust-anchor FILE  trust anchor for the resolver's answers\n"
	"  --output ADAPTER     epp-spool, epp-tls or json (overrides output.adapter)\n"
	"  --spool-dir DIR      directory for epp-spool files\n"
	"  --report FILE        write the operator's report to FILE\n"
	"  --format F           report format: text, json or html\n";

static const char help_epp_send[] = "usage: cdscan epp send [--limit N]\n"
				    "\n"
				    "Hand pending change sets to the configured output adapter;\n"
				    "a resend uses the same clTRID.\n"
				    "\n"
				    "  --limit N            send at most N change sets\n";

static const char help_daemon[] =
	"usage: cdscan daemon [--listen ADDR]... [--http ADDR] [--resolver ADDR]\n"
	"                     [--trust-anchor FILE]\n"
	"\n"
	"Scan continuously (each delegation once per scan.interval, spread over it),\n"
	"take RFC 9859 NOTIFY(CDS/CDNSKEY/CSYNC) on UDP and TCP and scan a notified\n"
	"delegation at once, hand change sets to the output adapter, and serve\n"
	"/metrics, /healthz and /status/DOMAIN over HTTP, until SIGTERM (drains).\n"
	"SIGHUP reloads the configuration.\n"
	"\n"
	"  --listen ADDR        take NOTIFY here (port 53 unless ADDR#PORT); repeat\n"
	"                       for more; replaces daemon.listen\n"
	"  --http ADDR          the HTTP endpoint (port 9153 unless ADDR#PORT);\n"
	"                       replaces daemon.http\n"
	"  --resolver ADDR      validating resolver (replaces resolver.addresses)\n"
	"  --trust-anchor FILE  the root's trust anchor for RFC 9615 bootstrap\n";

static const char help_dsync[] =
	"usage: cdscan dsync --zone PARENT --target NAME [--port N] [--ttl N]\n"
	"                    [--child NAME]... [--no-wildcard] [--generic]\n"
	"\n"
	"Print the DSYNC records (RFC 9859) the parent zone PARENT publishes so that\n"
	"its children's operators send NOTIFY(CDS) (new CDS or CDNSKEY) and\n"
	"NOTIFY(CSYNC) to NAME, as zone file lines.  NAME must have an address\n"
	"record.  Each record is followed by its other form as a comment.\n"
	"\n"
	"  --zone PARENT        the parent zone\n"
	"  --target NAME        the host that takes the NOTIFYs (cdscan daemon)\n"
	"  --port N             its port (default 53)\n"
	"  --ttl N              the records' TTL in seconds (default 3600)\n"
	"  --child NAME         for this child only, at NAME's own labels before\n"
	"                       _dsync.PARENT (repeatable; default: *._dsync.PARENT,\n"
	"                       every child)\n"
	"  --no-wildcard        at _dsync.PARENT, for a zone that cannot hold a\n"
	"                       wildcard (children need one more query)\n"
	"  --generic            as TYPE66 \\# ... (RFC 3597), for servers that do not\n"
	"                       know the DSYNC type yet (NSD 4.6, ldns 1.8)\n";

static const char help_domain[] =
	"usage: cdscan domain show NAME [--json]\n"
	"       cdscan domain history NAME [--limit N] [--json]\n"
	"       cdscan domain suspend NAME [--reason TEXT]\n"
	"       cdscan domain resume NAME [--reason TEXT]\n"
	"       cdscan domain approve-csync NAME\n"
	"\n"
	"One delegation in the database.\n"
	"\n"
	"  show                 NS, DS, glue, replay baseline, suspension, approved CSYNC,\n"
	"                       failing and excluded addresses, next scan, newest\n"
	"                       verdicts and open change sets\n"
	"  history              verdicts, change sets and events, newest first\n"
	"  suspend              stop automation: verdicts say 'suspended', change sets\n"
	"                       wait, until resume\n"
	"  resume               restart automation; the domain is scanned at once\n"
	"  approve-csync        act once on the CSYNC whose immediate flag is clear\n"
	"                       (the newest verdict's csync-not-immediate), if it\n"
	"                       still validates at the next scan, which is due at once\n"
	"\n"
	"  --json               show, history: as JSON\n"
	"  --limit N            history: at most N lines (default 50)\n"
	"  --reason TEXT        suspend, resume: why, kept in the history\n"
	"exit codes: 65 unknown domain or nothing to approve, 69 database.\n";

void cds_cli_help(FILE *f, enum cds_command command)
{
	switch (command) {
	case CDS_CMD_CHECK:
		fputs(help_check, f);
		break;
	case CDS_CMD_DB_INIT:
		fputs(help_db_init, f);
		break;
	case CDS_CMD_IMPORT:
		fputs(help_import, f);
		break;
	case CDS_CMD_SCAN:
		fputs(help_scan, f);
		break;
	case CDS_CMD_EPP_SEND:
		fputs(help_epp_send, f);
		break;
	case CDS_CMD_DAEMON:
		fputs(help_daemon, f);
		break;
	case CDS_CMD_DOMAIN_SHOW:
	case CDS_CMD_DOMAIN_HISTORY:
	case CDS_CMD_DOMAIN_SUSPEND:
	case CDS_CMD_DOMAIN_RESUME:
	case CDS_CMD_DOMAIN_APPROVE_CSYNC:
		fputs(help_domain, f);
		break;
	case CDS_CMD_DSYNC:
		fputs(help_dsync, f);
		break;
	default:
		fputs(help_overview, f);
	}
}
