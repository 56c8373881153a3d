/* SPDX-License-Identifier: MIT */
/*
 * remote-monitor.c: `genv remote ... monitor`, one Prometheus exporter for
 * all the hosts (metrics/remote-monitor.h does the work).
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "cli/watch-cli.h"
#include "metrics/remote-monitor.h"
#include "util/strbuf.h"

static int remote_monitor_cmd_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_remote_monitor = {
	.name = "monitor",
	.summary = "Export the hosts' GPU and environment metrics to Prometheus",
	.brief = "Export the hosts' metrics to Prometheus (one ssh\n"
		 "session per host)",
	.usage_prog = "genv remote ... monitor",
	.description =
	"Serves /metrics: the genv_* metrics of every host that answers, each\n"
	"label set with the host's name as its first label, hostname (those of\n"
	"genv 1.4.3 and the additions of genv monitor). One ssh session per host\n"
	"stays open and brings a snapshot every --interval seconds (genv usage\n"
	"snapshot --watch, through sudo -n unless the login is root); a host\n"
	"that fails is left out until it answers again, and is reconnected\n"
	"after 1 s, 2 s, 4 s ... up to 30 s. SIGINT or SIGTERM stops it.\n",
	.run = remote_monitor_cmd_run,
};

static void
say_ready(const struct monitor_ready *r, void *data)
{
	const struct hostlist *hosts = data;
	int v6 = strchr(r->addr, ':') != NULL;

	fprintf(stderr, "genv remote monitor: serving http://%s%s%s:%u/metrics for %zu hosts; "
		"config files in %s\n", v6 ? "[" : "", r->addr, v6 ? "]" : "", r->port,
		hosts->nr, r->config_dir);
	fflush(stderr);
}

static int
remote_monitor_cmd_run(int argc, char **argv, void *ctx)
{
	const struct remote_ctx *remote = ctx;
	struct monitor_args a = MONITOR_ARGS_INIT;
	struct option opts[MONITOR_OPTIONS_NR];
	struct remote_monitor_opts o = { &remote->hosts, STREAM_OPTS_INIT, { 0 } };
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	monitor_options(opts, &a, "Seconds between snapshots (default: 10)",
			"Address to listen on, IPv4 or IPv6 (default:\n"
			"0.0.0.0, every IPv4 interface, as genv 1.4.3)");
	cli_parse_options(&cli_cmd_remote_monitor, argc, argv, opts);
	o.stream.fan = remote->fan;
	o.serve.ready = say_ready;
	o.serve.data = (void *)&remote->hosts;
	if (monitor_opts_from_args(&o.serve, &a, &err) < 0) {
		rc = cli_usage_error(&cli_cmd_remote_monitor, "%s", err.buf);
	} else if (remote_monitor_run(&o, &err) < 0) {
		cli_error("genv remote monitor: %s", err.buf);
		rc = 1;
	}
	strbuf_release(&err);
	return rc;
}
