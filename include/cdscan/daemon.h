/* cdscan daemon: the scan pipeline run continuously at the pace of
 * scan.interval, RFC 9859 NOTIFY(CDS/CDNSKEY/CSYNC) intake that scans a
 * notified delegation out of turn, change sets handed to the output
 * adapter as they are made, and the HTTP endpoint; SIGHUP reloads the
 * configuration, SIGTERM drains (cdscan(8) DAEMON). */
#pragma once

#include <stddef.h>

#include "cdscan/conf.h"

/* What the command line says over the configuration. */
struct cds_daemon_opts {
	const char *config_path;    /* re-read on SIGHUP; NULL: the built-in defaults */
	const char *const *listen;  /* replaces daemon.listen when listen_count > 0 */
	size_t listen_count;
	const char *http;           /* replaces daemon.http */
	const char *resolver;       /* replaces resolver.addresses */
	const char *trust_anchor;   /* replaces resolver.trust-anchor */
};

/* Run until SIGTERM or SIGINT.  conf is taken over (deinitialised and
 * replaced on reload; the caller must not use it after).  Returns an exit
 * code: 0 after a drain; 69 when the database, the resolver or a listen
 * address is unavailable at the start; 78 for a configuration the daemon
 * cannot use. */
int cds_daemon_run(struct cds_conf *conf, const struct cds_daemon_opts *o);
