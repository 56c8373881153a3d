/* SPDX-License-Identifier: MIT */
/*
 * remote-monitor.h: `genv remote ... monitor`, one Prometheus exporter for
 * many hosts. The hosts are read through remote/stream.h: one ssh session
 * per host for the whole run, each printing a snapshot every interval
 * (`genv usage snapshot --watch`, run as root as 1.4.3's monitor does);
 * the exposition text is rendered (metrics/prom.h, every label set with
 * `hostname` first) when a snapshot arrives, and scrapes are answered from
 * memory by the HTTP server (metrics/server.h) in another thread.
 *
 * As in 1.4.3, a host that does not answer is left out (its label sets
 * disappear) until it answers again; a host without genv exports only
 * genv_is_installed 0. Hosts running genv 1.4.3 are read with one-shot
 * snapshots: their device readings are limited to memory (no nvidia-smi
 * query, unlike 1.4.3's monitor).
 */
#ifndef GENV_METRICS_REMOTE_MONITOR_H
#define GENV_METRICS_REMOTE_MONITOR_H

#include "metrics/monitor.h"
#include "remote/stream.h"

struct hostlist;
struct strbuf;

struct remote_monitor_opts {
	const struct hostlist *hosts;
	struct stream_opts stream;   /* ssh and remote genv; interval and root are set here */
	struct monitor_opts serve;   /* bind, port, interval, timeout, config_dir, ready */
};

/*
 * Serves until SIGINT or SIGTERM, then ends every ssh session and returns
 * 0. Returns -1 with err when it cannot start (address in use, config
 * files) or the server fails.
 */
int remote_monitor_run(const struct remote_monitor_opts *o, struct strbuf *err);

/*
 * Appends the exposition text of the hosts' newest snapshots (hosts that
 * are down are left out). Exposed for tests.
 */
void remote_monitor_render(const struct stream *s, struct strbuf *out);

#endif
