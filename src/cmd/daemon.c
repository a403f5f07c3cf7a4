/* cdscan daemon: the command line to the daemon layer (src/daemon). */
#include "cdscan/cmd.h"
#include "cdscan/daemon.h"

int cds_cmd_daemon(const struct cds_cli *cli, struct cds_conf *conf)
{
	const struct cds_daemon_opts o = {
		.config_path = conf->source,
		.listen = cli->listen,
		.listen_count = cli->listen_count,
		.http = cli->http,
		.resolver = cli->resolver,
		.trust_anchor = cli->trust_anchor,
	};
	return cds_daemon_run(conf, &o);
}
