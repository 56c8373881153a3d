/* SPDX-License-Identifier: MIT */
/*
 * sample.h: one look at this machine for `genv monitor`: the GPUs with
 * their readings (NVML), the processes on them and the environments and
 * attachments (state, cleaned up but never saved), with the time it was
 * taken and how long that took. A sample is immutable once taken; the
 * monitor serves every scrape and page refresh from the latest one.
 */
#ifndef GENV_METRICS_SAMPLE_H
#define GENV_METRICS_SAMPLE_H

#include "core/state.h"
#include "gpu/gpu.h"
#include "util/json.h"
#include "util/strbuf.h"

struct store;

struct metrics_sample {
	char *hostname;
	double taken;                    /* wall clock, seconds since the epoch */
	double collect_seconds;          /* how long collecting took */
	struct gpu_devices gpus;         /* what NVML reports now */
	struct gpu_devices gone;         /* reported before, not now: last values */
	struct snapshot snap;            /* processes, envs and devices (attachments) */
	struct strbuf error;             /* what could not be read, "" when all was */
	/* since the monitor started (carried from sample to sample) */
	unsigned long long collect_errors, nvml_errors;
};
#define METRICS_SAMPLE_INIT { NULL, 0, 0, GPU_DEVICES_INIT, GPU_DEVICES_INIT, \
			      SNAPSHOT_INIT, STRBUF_INIT, 0, 0 }

/*
 * Collects a sample into s (empty) from NVML and the state directory st
 * (without the state lock), through live_collect() (core/live.h) as `genv
 * top` does. prev, the previous sample or NULL, carries the error
 * counters and the GPUs to remember. Never fails: what cannot be read is
 * left empty and described in s->error.
 */
void metrics_sample_take(struct metrics_sample *s, const struct metrics_sample *prev,
			 struct store *st);
void metrics_sample_release(struct metrics_sample *s);

/* Appends the /metrics text: prom_render() and the exporter's own metrics. */
void metrics_sample_render(const struct metrics_sample *s, struct strbuf *out);

/*
 * The /api/snapshot document of the live page: "snapshot" is exactly what
 * `genv usage snapshot` prints, "gpus" and "envs" join it with the live
 * readings (holders, processes and memory per GPU; times as seconds since
 * the epoch); also hostname, time, interval, collect_seconds, error.
 */
json_t *metrics_sample_to_json(const struct metrics_sample *s, unsigned interval);

#endif
