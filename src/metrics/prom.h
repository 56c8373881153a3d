/* SPDX-License-Identifier: MIT */
/*
 * prom.h: the Prometheus text exposition (format 0.0.4) of what `genv
 * monitor` and `genv remote monitor` export. Pure functions: data in,
 * text appended to a strbuf; no I/O, no clock, no NVML.
 *
 * The 16 genv_* gauges of genv 1.4.3 come first, with its names, HELP
 * texts, label names, label sets and order, so that its dashboards and
 * alerts keep working; our additions follow under names 1.4.3 does not
 * use (see prom.c and doc/genv.1). As in 1.4.3, labels are printed sorted
 * by name, values the way Python's prometheus_client prints floats
 * ("1.0", "4.4040192e+09", "1.7179869184e+010"), and a metric without
 * samples still has its HELP and TYPE lines.
 */
#ifndef GENV_METRICS_PROM_H
#define GENV_METRICS_PROM_H

#include <stddef.h>

struct strbuf;
struct gpu_devices;
struct snapshot;

/* One machine's data. */
struct prom_host {
	const char *hostname;            /* NULL locally: no hostname label */
	int genv_installed;
	/*
	 * Device series: the GPUs NVML reports now (with readings), and
	 * those it reported before but no longer does, kept with their last
	 * values (1.4.3 never removes device label sets). Either may be NULL.
	 */
	const struct gpu_devices *gpus;
	const struct gpu_devices *gone;
	/*
	 * Processes, environments and devices (attachments), cleaned up: a
	 * label set is exported only while its pid, eid or username is
	 * here. NULL when genv is not installed (then only genv_is_installed
	 * and the device series are exported).
	 */
	const struct snapshot *snap;
};

/*
 * Appends the genv_* metrics of hosts[0..nr-1]: each metric's HELP and
 * TYPE once, then its samples for every host in order.
 */
void prom_render(struct strbuf *out, const struct prom_host *hosts, size_t nr);

/* The exporter's own health, for genv monitor. */
struct prom_exporter {
	double collect_seconds;          /* how long the last collection took */
	double collect_timestamp;        /* when it was taken (seconds since the epoch) */
	unsigned long long collect_errors;  /* collections that failed in part */
	unsigned long long nvml_errors;     /* NVML calls that failed */
};

/* Appends the genv_exporter_* metrics except the scrape duration. */
void prom_render_exporter(struct strbuf *out, const struct prom_exporter *e);
/* Appends genv_exporter_scrape_duration_seconds (measured by the caller). */
void prom_render_scrape_duration(struct strbuf *out, double seconds);

/*
 * Appends v as prometheus_client writes a sample value: Python's repr()
 * of the float, except that numbers of 7 or more integer digits get
 * Go-style exponents ("4.4040192e+09", "1.7179869184e+010"); "NaN",
 * "+Inf", "-Inf".
 */
void prom_format_value(struct strbuf *out, double v);

#endif
