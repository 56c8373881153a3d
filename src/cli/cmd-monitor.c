/* SPDX-License-Identifier: MIT */
/*
 * cmd-monitor.c: `genv monitor`, the Prometheus exporter and live web page
 * of this machine (metrics/monitor.h does the work).
 */
#include "compat.h"
#include "cli/cli.h"
#include "metrics/monitor.h"
#include "util/strbuf.h"

static int monitor_cmd_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_monitor = {
	.name = "monitor",
	.summary = "Export this machine's GPU and environment metrics (Prometheus, web page)",
	.description =
	"Serves, over HTTP: / a live page of every GPU (memory, utilization,\n"
	"who holds it since when, its processes) and of the environments;\n"
	"/metrics the genv_* Prometheus metrics (those of genv 1.4.3 and more);\n"
	"/api/snapshot the page's data as JSON. GPUs and environments are read\n"
	"every --interval seconds; requests are answered from memory. First,\n"
	"configuration files for a Prometheus and a Grafana are written to\n"
	"--config-dir. SIGINT or SIGTERM stops it (exit 0).\n",
	.run = monitor_cmd_run,
};

static void
say_ready(const struct monitor_ready *r, void *data)
{
	int v6 = strchr(r->addr, ':') != NULL;

	(void)data;
	fprintf(stderr, "genv monitor: serving http://%s%s%s:%u/ (Prometheus metrics at /metrics); "
		"config files in %s\n", v6 ? "[" : "", r->addr, v6 ? "]" : "", r->port,
		r->config_dir);
	fflush(stderr);
}

static int
monitor_cmd_run(int argc, char **argv, void *ctx UNUSED)
{
	struct monitor_args a = MONITOR_ARGS_INIT;
	struct option opts[MONITOR_OPTIONS_NR];
	struct monitor_opts mo = { .ready = say_ready };
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	monitor_options(opts, &a, "Seconds between readings (default: 10)",
			"Address to listen on, IPv4 or IPv6 (default:\n"
			"0.0.0.0, every IPv4 interface, as genv 1.4.3;\n"
			"127.0.0.1 keeps it to this machine)");
	cli_parse_options(&cli_cmd_monitor, argc, argv, opts);
	if (monitor_opts_from_args(&mo, &a, &err) < 0) {
		rc = cli_usage_error(&cli_cmd_monitor, "%s", err.buf);
	} else if (monitor_run(&mo, &err) < 0) {
		cli_error("genv monitor: %s", err.buf);
		rc = 1;
	}
	strbuf_release(&err);
	return rc;
}
