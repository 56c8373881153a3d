/* SPDX-License-Identifier: MIT */
/*
 * monitor.h: `genv monitor`, a Prometheus exporter and live web page for
 * this machine. NVML is initialised once; a background thread collects a
 * sample (metrics/sample.h) every interval; every request is answered
 * from the latest sample in memory by the HTTP server (metrics/server.h):
 *
 *   /              the live page (self-contained HTML, refreshes itself)
 *   /metrics       Prometheus text (metrics/prom.h)
 *   /api/snapshot  the page's JSON
 *
 * The configuration files for Prometheus and Grafana are published first
 * (metrics/config.h).
 */
#ifndef GENV_METRICS_MONITOR_H
#define GENV_METRICS_MONITOR_H

struct strbuf;

struct monitor_ready {
	const char *addr;            /* what we listen on, e.g. "0.0.0.0" */
	unsigned port;               /* the real port, also when 0 was asked */
	const char *config_dir;      /* where the config files were published */
};

struct monitor_opts {
	const char *bind;            /* IPv4/IPv6 literal; NULL: 0.0.0.0, as 1.4.3 */
	unsigned port;               /* 0: any free port */
	unsigned interval;           /* seconds between collections (>= 1) */
	unsigned timeout;            /* seconds a request may take (>= 1) */
	const char *config_dir;      /* NULL: "metrics" in the state directory */
	/* called once when serving (e.g. to say where); may be NULL */
	void (*ready)(const struct monitor_ready *r, void *data);
	void *data;
};

/*
 * Serves until SIGINT or SIGTERM (blocked while it runs and read from a
 * signalfd, in every thread), then returns 0. Returns -1 with err when it
 * cannot start (state directory, address in use, config files) or the
 * server fails.
 */
int monitor_run(const struct monitor_opts *o, struct strbuf *err);

#endif
