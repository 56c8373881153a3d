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
in_range(const char *opt, long v, long min, long max)
{
	if (v >= min && v <= max)
		return 1;
	cli_usage_error(&cli_cmd_remote_monitor, "argument %s: must be between %ld and %ld: '%ld'",
			opt, min, max, v);
	return 0;
}

static int
remote_monitor_cmd_run(int argc, char **argv, void *ctx)
{
	const struct remote_ctx *remote = ctx;
	long port = 8000, interval = 10, timeout = 10;
	const char *config_dir = NULL, *bind = NULL;
	const struct option opts[] = {
		OPT_STRING("--config-dir", &config_dir, NULL,
			   "Where to write the Prometheus and Grafana\n"
			   "configuration files (default: metrics in the\n"
			   "state directory, /var/tmp/genv/metrics)"),
		OPT_INTEGER("-p|--port", &port, NULL,
			    "Port to listen on (default: 8000; 0: any free port)"),
		OPT_INTEGER("-i|--interval", &interval, NULL, "Seconds between snapshots (default: 10)"),
		OPT_STRING("--bind", &bind, "ADDR",
			   "Address to listen on, IPv4 or IPv6 (default:\n"
			   "0.0.0.0, every IPv4 interface, as genv 1.4.3)"),
		OPT_INTEGER("--timeout", &timeout, "SECONDS",
			    "Close connections that take longer than this\n"
			    "for a request, or stay idle that long (default: 10)",
			    .flags = PARSE_OPT_USAGE_BREAK),
		OPT_END(),
	};
	struct remote_monitor_opts o = { &remote->hosts, STREAM_OPTS_INIT, { 0 } };
	struct strbuf err = STRBUF_INIT;
	int r;

	cli_parse_options(&cli_cmd_remote_monitor, argc, argv, opts);
	if (!in_range("-p/--port", port, 0, 65535) || !in_range("-i/--interval", interval, 1, 86400) ||
	    !in_range("--timeout", timeout, 1, 3600))
		return 2;
	o.stream.fan = remote->fan;
	o.serve = (struct monitor_opts){ bind, (unsigned)port, (unsigned)interval,
					 (unsigned)timeout, config_dir, say_ready,
					 (void *)&remote->hosts };
	r = remote_monitor_run(&o, &err);
	if (r < 0)
		cli_error("genv remote monitor: %s", err.buf);
	strbuf_release(&err);
	return r < 0 ? 1 : 0;
}
