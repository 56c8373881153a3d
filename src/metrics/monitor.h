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
 *
 * `genv remote ... monitor` (metrics/remote-monitor.h) shares its options
 * and its start-up and end (monitor_start(), monitor_stop()).
 */
#ifndef GENV_METRICS_MONITOR_H
#define GENV_METRICS_MONITOR_H

#include <signal.h>
#include "core/store.h"
#include "metrics/server.h"
#include "util/strbuf.h"

struct option;

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
	const char *config_dir;      /* NULL: "metrics" in the state directory (in
					the protected mode, a user's: the
					runtime directory's genv/metrics) */
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

/* ---- what both monitors share ---- */

/* Their command lines' values, as parsed (util/parse-options.h). */
struct monitor_args {
	long port, interval, timeout;
	const char *bind, *config_dir;
};
#define MONITOR_ARGS_INIT { 8000, 10, 10, NULL, NULL }

/* The entries monitor_options() fills, OPT_END() included. */
#define MONITOR_OPTIONS_NR 6

/*
 * Fills opts with the options' table (--config-dir, -p/--port,
 * -i/--interval, --bind, --timeout) storing into a; the two monitors word
 * the help of --interval and --bind their own way.
 */
void monitor_options(struct option *opts, struct monitor_args *a, const char *interval_help,
		     const char *bind_help);

/*
 * Checks a's ranges and sets o's bind, port, interval, timeout and
 * config_dir (o->ready and o->data are left alone). Returns -1 with err
 * ("argument -p/--port: must be between 0 and 65535: '70000'").
 */
int monitor_opts_from_args(struct monitor_opts *o, const struct monitor_args *a,
			   struct strbuf *err);

/* A monitor's server while it runs: from monitor_start() to monitor_stop(). */
struct monitor_server {
	struct store st;             /* the state directory */
	struct strbuf config_dir;    /* where the config files were published */
	unsigned port;               /* the real port, also when 0 was asked */
	int listen_fd;               /* until monitor_serve() takes it, or -1 */
	int stop_fd;                 /* a signalfd for SIGINT and SIGTERM, or -1 */
	sigset_t saved;              /* the signal mask before */
};

/*
 * Blocks SIGINT and SIGTERM (threads started later inherit the mask) and
 * watches them with a signalfd, loads libmicrohttpd (first: without it,
 * nothing is published and no port is taken), opens the state directory,
 * listens on o->bind and o->port and publishes the configuration files
 * (metrics/config.h). Returns -1 with err when one of them fails.
 * monitor_stop() undoes it, whatever it returned.
 */
int monitor_start(struct monitor_server *srv, const struct monitor_opts *o, struct strbuf *err);

/* Calls o->ready, when there is one, with where srv listens. */
void monitor_announce(const struct monitor_server *srv, const struct monitor_opts *o);

/*
 * Serves with handler until SIGINT or SIGTERM (http_serve()); the
 * listening socket is closed on return.
 */
int monitor_serve(struct monitor_server *srv, unsigned timeout, http_handler_fn handler,
		  void *data, struct strbuf *err);

/* Consumes the stop signal, restores the signal mask and releases srv. */
void monitor_stop(struct monitor_server *srv);

#endif
