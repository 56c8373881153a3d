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
check_range(const char *opt, long v, long min, long max)
{
	if (v >= min && v <= max)
		return 0;
	cli_usage_error(&cli_cmd_monitor, "argument %s: must be between %ld and %ld: '%ld'",
			opt, min, max, v);
	return -1;
}

static int
monitor_cmd_run(int argc, char **argv, void *ctx UNUSED)
{
	long port = 8000, interval = 10, timeout = 10;
	const char *config_dir = NULL, *bind = NULL;
	const struct option opts[] = {
		OPT_STRING("--config-dir", &config_dir, NULL,
			   "Where to write the Prometheus and Grafana\n"
			   "configuration files (default: metrics in the\n"
			   "state directory, /var/tmp/genv/metrics)"),
		OPT_INTEGER("-p|--port", &port, NULL,
			    "Port to listen on (default: 8000; 0: any free port)"),
		OPT_INTEGER("-i|--interval", &interval, NULL, "Seconds between readings (default: 10)"),
		OPT_STRING("--bind", &bind, "ADDR",
			   "Address to listen on, IPv4 or IPv6 (default:\n"
			   "0.0.0.0, every IPv4 interface, as genv 1.4.3;\n"
			   "127.0.0.1 keeps it to this machine)"),
		OPT_INTEGER("--timeout", &timeout, "SECONDS",
			    "Close connections that take longer than this\n"
			    "for a request, or stay idle that long (default: 10)",
			    .flags = PARSE_OPT_USAGE_BREAK),
		OPT_END(),
	};
	struct monitor_opts mo = { 0 };
	struct strbuf err = STRBUF_INIT;

	cli_parse_options(&cli_cmd_monitor, argc, argv, opts);
	if (check_range("-p/--port", port, 0, 65535) < 0 ||
	    check_range("-i/--interval", interval, 1, 86400) < 0 ||
	    check_range("--timeout", timeout, 1, 3600) < 0)
		return 2;
	mo = (struct monitor_opts){ bind, (unsigned)port, (unsigned)interval, (unsigned)timeout,
				    config_dir, say_ready, NULL };
	if (monitor_run(&mo, &err) < 0) {
		cli_error("genv monitor: %s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	strbuf_release(&err);
	return 0;
}
