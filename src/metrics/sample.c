/* SPDX-License-Identifier: MIT */
/*
 * sample.c: collecting a sample of the machine for genv monitor, and the
 * two things made of it: the Prometheus text and the live page's JSON
 * (sample.h).
 */
#include "compat.h"
#include "metrics/sample.h"
#include "core/devices.h"
#include "core/live.h"
#include "core/memory.h"
#include "core/state-json.h"
#include "core/timefmt.h"
#include "metrics/prom.h"
#include "util/clock.h"
#include "util/xalloc.h"

static const struct gpu_device *
find_gpu(const struct gpu_devices *g, unsigned index)
{
	for (size_t i = 0; i < g->nr; i++)
		if (g->v[i].index == index)
			return &g->v[i];
	return NULL;
}

static void
append_copy(struct gpu_devices *to, const struct gpu_device *d)
{
	ALLOC_GROW(to->v, to->nr + 1, to->alloc);
	to->v[to->nr] = *d;
	to->v[to->nr].uuid = xstrdup_or_null(d->uuid);
	to->v[to->nr].name = xstrdup_or_null(d->name);
	to->nr++;
}

/* 1.4.3 never drops a device's series: keep what NVML stopped reporting. */
static void
remember_gone(struct metrics_sample *s, const struct metrics_sample *prev)
{
	const struct gpu_devices *lists[2] = { &prev->gpus, &prev->gone };

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->nr; i++)
			if (!find_gpu(&s->gpus, lists[l]->v[i].index))
				append_copy(&s->gone, &lists[l]->v[i]);
}

void
metrics_sample_take(struct metrics_sample *s, const struct metrics_sample *prev,
		    struct store *st)
{
	double start = clock_monotonic_seconds();
	struct live l = LIVE_INIT;

	s->taken = (double)clock_wall();
	if (prev) {
		s->collect_errors = prev->collect_errors;
		s->nvml_errors = prev->nvml_errors;
	}
	live_collect(&l, st, LIVE_COLLECT_PARTIAL, &s->error);
	/* the renderers take NVML's devices, and the snapshot as it is */
	s->hostname = l.hostname;
	l.hostname = NULL;
	live_gpu_devices(&s->gpus, &l);
	s->snap = l.snap;
	l.snap = (struct snapshot)SNAPSHOT_INIT;
	s->nvml_errors += l.nvml_errors;
	live_release(&l);
	if (prev)
		remember_gone(s, prev);
	s->collect_errors += s->error.len > 0;
	s->collect_seconds = clock_monotonic_seconds() - start;
}

void
metrics_sample_release(struct metrics_sample *s)
{
	free(s->hostname);
	gpu_devices_release(&s->gpus);
	gpu_devices_release(&s->gone);
	snapshot_release(&s->snap);
	strbuf_release(&s->error);
	*s = (struct metrics_sample)METRICS_SAMPLE_INIT;
}

void
metrics_sample_render(const struct metrics_sample *s, struct strbuf *out)
{
	struct prom_host h = { NULL, 1, &s->gpus, &s->gone, &s->snap };
	struct prom_exporter e = { s->collect_seconds, s->taken, s->collect_errors, s->nvml_errors };

	prom_render(out, &h, 1);
	prom_render_exporter(out, &e);
}

/* ---- the page's JSON ---- */

static json_t *
reading(const struct gpu_device *g, unsigned bit, double v)
{
	return g && (g->valid & bit) ? json_real(v) : json_null();
}

static json_t *
epoch_or_null(const char *stamp)
{
	time_t t;

	return stamp && !genv_time_parse(stamp, &t) ? json_integer((json_int_t)t) : json_null();
}

static json_t *
bytes_or_null(const char *memory)
{
	struct strbuf ignored = STRBUF_INIT;
	unsigned long long b;
	int ok = memory && !memory_to_bytes(memory, &b, &ignored);

	strbuf_release(&ignored);
	return ok ? json_integer((json_int_t)b) : json_null();
}

static json_t *
holders_json(const struct snapshot *snap, const struct device *dev)
{
	json_t *list = json_array();

	for (size_t a = 0; dev && a < dev->att_nr; a++) {
		const struct attachment *at = &dev->att[a];
		const struct env *e = envs_find(&snap->envs, at->eid);

		json_array_append_new(list, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			"eid", json_string_or_null(at->eid),
			"name", json_string_or_null(e ? e->config.name : NULL),
			"username", json_string_or_null(e ? e->username : NULL),
			"gpu_memory", json_string_or_null(at->gpu_memory),
			"gpu_memory_bytes", bytes_or_null(at->gpu_memory),
			"since", epoch_or_null(at->time),
			"since_text", json_string_or_null(at->time)));
	}
	return list;
}

static json_t *
gpu_processes_json(const struct snapshot *snap, long index, json_int_t *used)
{
	json_t *list = json_array();

	*used = 0;
	for (size_t i = 0; i < snap->processes.nr; i++) {
		const struct process *p = &snap->processes.v[i];

		for (size_t u = 0; u < p->usage_nr; u++) {
			json_t *bytes;

			if (p->usage[u].index != index)
				continue;
			bytes = bytes_or_null(p->usage[u].gpu_memory);
			*used += json_integer_value(bytes);
			json_array_append_new(list, json_pack("{s:I,s:o,s:b,s:o}",
				"pid", (json_int_t)p->pid,
				"eid", json_string_or_null(p->eid),
				"in_environment", p->eid && envs_find(&snap->envs, p->eid),
				"memory", bytes));
		}
	}
	return list;
}

/* A GPU from NVML (g) or, when NVML cannot tell, from devices.json (dev) only. */
static json_t *
gpu_json(const struct snapshot *snap, const struct gpu_device *g, const struct device *dev,
	 long index)
{
	json_int_t used;
	json_t *procs = gpu_processes_json(snap, index, &used);

	return json_pack("{s:I,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		"index", (json_int_t)index,
		"uuid", json_string_or_null(g ? g->uuid : NULL),
		"name", json_string_or_null(g ? g->name : NULL),
		"memory_total", g ? json_integer((json_int_t)g->mem_total)
				  : bytes_or_null(dev ? dev->total_memory : NULL),
		"memory_used", g ? json_integer((json_int_t)g->mem_used) : json_null(),
		"processes_memory", used,
		"utilization", reading(g, GPU_HAS_UTILIZATION, g ? g->util_gpu : 0),
		"memory_utilization", reading(g, GPU_HAS_UTILIZATION, g ? g->util_mem : 0),
		"temperature", reading(g, GPU_HAS_TEMPERATURE, g ? g->temperature : 0),
		"power_watts", reading(g, GPU_HAS_POWER, g ? g->power_mw / 1000.0 : 0),
		"power_limit_watts", reading(g, GPU_HAS_POWER_LIMIT, g ? g->power_limit_mw / 1000.0 : 0),
		"holders", holders_json(snap, dev),
		"processes", procs);
}

static json_t *
gpus_json(const struct metrics_sample *s)
{
	json_t *list = json_array();

	for (size_t i = 0; i < s->gpus.nr; i++) {
		const struct gpu_device *g = &s->gpus.v[i];

		json_array_append_new(list, gpu_json(&s->snap, g, devices_find(&s->snap.devices, g->index),
						     g->index));
	}
	for (size_t i = 0; i < s->snap.devices.nr; i++) {
		const struct device *d = &s->snap.devices.v[i];

		if (d->index >= 0 && !find_gpu(&s->gpus, (unsigned)d->index))
			json_array_append_new(list, gpu_json(&s->snap, NULL, d, d->index));
	}
	return list;
}

static json_t *
env_json(const struct snapshot *snap, const struct env *e)
{
	json_t *gpus = json_array();
	json_int_t procs = 0, used = 0;

	for (size_t d = 0; d < snap->devices.nr; d++)
		if (device_has_eid(&snap->devices.v[d], e->eid))
			json_array_append_new(gpus, json_integer(snap->devices.v[d].index));
	for (size_t i = 0; i < snap->processes.nr; i++) {
		const struct process *p = &snap->processes.v[i];

		if (!p->eid || strcmp(p->eid, e->eid))
			continue;
		procs++;
		for (size_t u = 0; u < p->usage_nr; u++) {
			json_t *b = bytes_or_null(p->usage[u].gpu_memory);

			used += json_integer_value(b);
			json_decref(b);
		}
	}
	return json_pack("{s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I}",
		"eid", json_string_or_null(e->eid),
		"name", json_string_or_null(e->config.name),
		"username", json_string_or_null(e->username),
		"uid", (json_int_t)e->uid,
		"created", epoch_or_null(e->creation),
		"creation", json_string_or_null(e->creation),
		"gpus", gpus,
		"gpu_memory", json_string_or_null(e->config.gpu_memory),
		"gpus_requested", e->config.has_gpus ? json_integer(e->config.gpus) : json_null(),
		"pids", (json_int_t)(e->pids_nr + e->kernel_ids.nr),
		"processes", procs,
		"memory_used", used);
}

json_t *
metrics_sample_to_json(const struct metrics_sample *s, unsigned interval)
{
	json_t *envs = json_array();

	for (size_t i = 0; i < s->snap.envs.nr; i++)
		json_array_append_new(envs, env_json(&s->snap, &s->snap.envs.v[i]));
	return json_pack("{s:o,s:f,s:I,s:f,s:o,s:o,s:o,s:o}",
		"hostname", json_string_or_null(s->hostname),
		"time", s->taken,
		"interval", (json_int_t)interval,
		"collect_seconds", s->collect_seconds,
		"error", s->error.len ? json_string_or_null(s->error.buf) : json_null(),
		"gpus", gpus_json(s),
		"envs", envs,
		"snapshot", snapshot_to_json(&s->snap));
}
