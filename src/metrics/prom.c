/* SPDX-License-Identifier: MIT */
/*
 * prom.c: the Prometheus text of genv's metrics (prom.h). A table lists
 * every metric in exposition order; each entry has a function that emits
 * one host's samples. Label values are escaped and forced to valid UTF-8
 * (environment and user names are whatever users typed).
 */
#include "compat.h"
#include "metrics/prom.h"
#include "core/devices.h"
#include "core/memory.h"
#include "core/state.h"
#include "core/timefmt.h"
#include "gpu/gpu.h"
#include "util/strbuf.h"

#include <math.h>

#define MIB (1024.0 * 1024.0)
#define MAX_LABELS 6

/* ---- values ---- */

/* Python's repr() of a finite non-negative float: shortest round-trip digits. */
static void
python_repr(struct strbuf *out, double v)
{
	char digits[32], buf[40];
	int exp10 = 0, n = 0;

	/* the fewest significant digits that read back as v */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v || prec == 17)
			break;
	}
	for (const char *p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	exp10 = atoi(strchr(buf, 'e') + 1);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';

	if (v == 0) {
		strbuf_addstr(out, "0.0");
	} else if (exp10 < -4 || exp10 >= 16) {
		strbuf_addch(out, digits[0]);
		if (n > 1)
			strbuf_addf(out, ".%s", digits + 1);
		strbuf_addf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	} else if (exp10 < 0) {
		strbuf_addstr(out, "0.");
		for (int i = 0; i < -exp10 - 1; i++)
			strbuf_addch(out, '0');
		strbuf_addstr(out, digits);
	} else if (n <= exp10 + 1) {
		strbuf_addstr(out, digits);
		for (int i = n; i < exp10 + 1; i++)
			strbuf_addch(out, '0');
		strbuf_addstr(out, ".0");
	} else {
		strbuf_addf(out, "%.*s.%s", exp10 + 1, digits, digits + exp10 + 1);
	}
}

void
prom_format_value(struct strbuf *out, double v)
{
	struct strbuf repr = STRBUF_INIT;
	const char *dot;

	if (isnan(v)) {
		strbuf_addstr(out, "NaN");
		return;
	}
	if (isinf(v)) {
		strbuf_addstr(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (signbit(v))
		strbuf_addch(&repr, '-');
	python_repr(&repr, fabs(v));
	dot = strchr(repr.buf, '.');
	/* prometheus_client's floatToGoString: Go switches to exponents sooner */
	if (v > 0 && dot && dot - repr.buf > 6) {
		size_t intlen = (size_t)(dot - repr.buf), end;
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "%c.%.*s%s", repr.buf[0], (int)intlen - 1, repr.buf + 1, dot + 1);
		for (end = m.len; end && (m.buf[end - 1] == '0' || m.buf[end - 1] == '.'); end--)
			;
		strbuf_setlen(&m, end);
		strbuf_addf(out, "%se+0%zu", m.buf, intlen - 1);
		strbuf_release(&m);
	} else {
		strbuf_addbuf(out, &repr);
	}
	strbuf_release(&repr);
}

/* ---- samples ---- */

struct label {
	const char *name, *value;
};

static void
add_escaped(struct strbuf *out, const char *s)
{
	struct strbuf valid = STRBUF_INIT;

	strbuf_add_utf8(&valid, s);
	for (const char *p = valid.buf; *p; p++) {
		if (*p == '\\' || *p == '"')
			strbuf_addch(out, '\\');
		if (*p == '\n')
			strbuf_addstr(out, "\\n");
		else
			strbuf_addch(out, *p);
	}
	strbuf_release(&valid);
}

/* "name{a="x",b="y"} value\n", labels sorted by name, hostname among them */
static void
sample(struct strbuf *out, const char *metric, const struct prom_host *h,
       const struct label *labels, size_t nr, double v)
{
	struct label all[MAX_LABELS + 1];
	size_t n = 0;

	if (h->hostname)
		all[n++] = (struct label){ "hostname", h->hostname };
	for (size_t i = 0; i < nr && n < ARRAY_SIZE(all); i++)
		all[n++] = labels[i];
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(all[k - 1].name, all[k].name) > 0; k--) {
			struct label t = all[k];

			all[k] = all[k - 1];
			all[k - 1] = t;
		}
	strbuf_addstr(out, metric);
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(out, "%s%s=\"", i ? "," : "{", all[i].name);
		add_escaped(out, all[i].value);
		strbuf_addch(out, '"');
	}
	if (n)
		strbuf_addch(out, '}');
	strbuf_addch(out, ' ');
	prom_format_value(out, v);
	strbuf_addch(out, '\n');
}

static void
header(struct strbuf *out, const char *name, const char *help, const char *type)
{
	/* HELP escapes backslash and newline; ours are constants without either */
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- what the metrics count ---- */

static const char *
env_username(const struct snapshot *s, const char *eid)
{
	const struct env *e = eid ? envs_find(&s->envs, eid) : NULL;

	return e ? e->username : NULL;
}

static int
env_of_user(const struct env *e, const char *username)
{
	return e->username && !strcmp(e->username, username);
}

/* The first env of each distinct non-null username: that is the user. */
static int
first_of_user(const struct snapshot *s, size_t i)
{
	const struct env *e = &s->envs.v[i];

	if (!e->username)
		return 0;
	for (size_t k = 0; k < i; k++)
		if (env_of_user(&s->envs.v[k], e->username))
			return 0;
	return 1;
}

static size_t
user_attached_devices(const struct snapshot *s, const char *username)
{
	size_t n = 0;

	for (size_t d = 0; d < s->devices.nr; d++) {
		const struct device *dev = &s->devices.v[d];
		int held = 0;

		for (size_t a = 0; a < dev->att_nr && !held; a++) {
			const char *u = env_username(s, dev->att[a].eid);

			held = u && !strcmp(u, username);
		}
		n += held;
	}
	return n;
}

static size_t
user_processes(const struct snapshot *s, const char *username)
{
	size_t n = 0;

	for (size_t p = 0; p < s->processes.nr; p++) {
		const char *u = env_username(s, s->processes.v[p].eid);

		n += u && !strcmp(u, username);
	}
	return n;
}

static unsigned long long
memory_bytes(const char *s)
{
	struct strbuf ignored = STRBUF_INIT;
	unsigned long long b = 0;

	if (!s || memory_to_bytes(s, &b, &ignored) < 0)
		b = 0;
	strbuf_release(&ignored);
	return b;
}

/* ---- the metrics: one emitter per metric, called for each host ---- */

struct metric;
typedef void (*emit_fn)(struct strbuf *, const struct metric *, const struct prom_host *);

struct metric {
	const char *name, *help, *type;
	emit_fn emit;
	unsigned what;      /* for the shared device emitters: which reading */
	int needs_genv;     /* only for hosts where genv is installed */
};

enum user_value { USER_DEVICES, USER_ENVIRONMENTS, USER_PROCESSES };
enum attachment_value { ATT_INFO, ATT_SINCE, ATT_MEMORY };

enum device_value {
	DEV_MEM_TOTAL, DEV_MEM_USED, DEV_TEMP, DEV_UTIL, DEV_MEM_UTIL, DEV_POWER,
	DEV_POWER_LIMIT, DEV_INFO,
};

/* Returns 0 when the device does not have this reading. */
static int
device_value(const struct gpu_device *g, unsigned what, double *v)
{
	switch (what) {
	case DEV_MEM_TOTAL:   /* 1.4.3 reads whole MiB from nvidia-smi */
		*v = (double)(g->mem_total >> 20) * MIB;
		return 1;
	case DEV_MEM_USED:
		*v = (double)(g->mem_used >> 20) * MIB;
		return 1;
	case DEV_TEMP:
		*v = g->temperature;
		return !!(g->valid & GPU_HAS_TEMPERATURE);
	case DEV_UTIL:
		*v = g->util_gpu;
		return !!(g->valid & GPU_HAS_UTILIZATION);
	case DEV_MEM_UTIL:
		*v = g->util_mem;
		return !!(g->valid & GPU_HAS_UTILIZATION);
	case DEV_POWER:
		*v = g->power_mw / 1000.0;
		return !!(g->valid & GPU_HAS_POWER);
	case DEV_POWER_LIMIT:
		*v = g->power_limit_mw / 1000.0;
		return !!(g->valid & GPU_HAS_POWER_LIMIT);
	default:
		*v = 1;
		return 1;
	}
}

static void
emit_device_list(struct strbuf *out, const struct metric *m, const struct prom_host *h,
		 const struct gpu_devices *gpus)
{
	char index[24];

	for (size_t i = 0; gpus && i < gpus->nr; i++) {
		const struct gpu_device *g = &gpus->v[i];
		struct label l[3] = { { "index", index }, { "name", g->name ? g->name : "" },
				      { "uuid", g->uuid ? g->uuid : "" } };
		double v;

		snprintf(index, sizeof(index), "%u", g->index);
		if (device_value(g, m->what, &v))
			sample(out, m->name, h, l, m->what == DEV_INFO ? 3 : 1, v);
	}
}

static void
emit_device(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	emit_device_list(out, m, h, h->gpus);
	emit_device_list(out, m, h, h->gone);
}

static void
emit_is_installed(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	sample(out, m->name, h, NULL, 0, h->genv_installed ? 1 : 0);
}

static void
emit_attached_devices(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	size_t n = 0;

	for (size_t d = 0; d < h->snap->devices.nr; d++)
		n += h->snap->devices.v[d].att_nr > 0;
	sample(out, m->name, h, NULL, 0, (double)n);
}

static void
emit_environments(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	sample(out, m->name, h, NULL, 0, (double)h->snap->envs.nr);
}

static void
emit_processes(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	sample(out, m->name, h, NULL, 0, (double)h->snap->processes.nr);
}

static void
emit_users(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->snap->envs.nr; i++)
		n += first_of_user(h->snap, i);
	sample(out, m->name, h, NULL, 0, (double)n);
}

static void
emit_env_attached(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	for (size_t i = 0; i < h->snap->envs.nr; i++) {
		const char *eid = h->snap->envs.v[i].eid;
		struct label l = { "eid", eid };

		sample(out, m->name, h, &l, 1,
		       (double)devices_attached_count(&h->snap->devices, eid));
	}
}

static void
emit_env_processes(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	const struct processes *ps = &h->snap->processes;

	for (size_t i = 0; i < h->snap->envs.nr; i++) {
		const char *eid = h->snap->envs.v[i].eid;
		struct label l = { "eid", eid };
		size_t n = 0;

		for (size_t p = 0; p < ps->nr; p++)
			n += ps->v[p].eid && !strcmp(ps->v[p].eid, eid);
		sample(out, m->name, h, &l, 1, (double)n);
	}
}

static void
emit_process_devices(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	char pid[24];

	for (size_t i = 0; i < h->snap->processes.nr; i++) {
		const struct process *p = &h->snap->processes.v[i];
		struct label l[2] = { { "pid", pid }, { "eid", p->eid ? p->eid : "" } };

		snprintf(pid, sizeof(pid), "%ld", p->pid);
		sample(out, m->name, h, l, 2, (double)p->usage_nr);
	}
}

static void
emit_process_memory(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	char pid[24], device[24];

	for (size_t i = 0; i < h->snap->processes.nr; i++) {
		const struct process *p = &h->snap->processes.v[i];

		snprintf(pid, sizeof(pid), "%ld", p->pid);
		for (size_t u = 0; u < p->usage_nr; u++) {
			struct label l[3] = { { "pid", pid }, { "eid", p->eid ? p->eid : "" },
					      { "device", device } };

			snprintf(device, sizeof(device), "%ld", p->usage[u].index);
			sample(out, m->name, h, l, 3, (double)memory_bytes(p->usage[u].gpu_memory));
		}
	}
}

static void
emit_per_user(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	const struct snapshot *s = h->snap;

	for (size_t i = 0; i < s->envs.nr; i++) {
		const char *user = s->envs.v[i].username;
		struct label l = { "username", user };
		double v = 0;

		if (!first_of_user(s, i))
			continue;
		if (m->what == USER_DEVICES)
			v = (double)user_attached_devices(s, user);
		else if (m->what == USER_ENVIRONMENTS)
			for (size_t k = 0; k < s->envs.nr; k++)
				v += env_of_user(&s->envs.v[k], user);
		else
			v = (double)user_processes(s, user);
		sample(out, m->name, h, &l, 1, v);
	}
}

/* Our additions about who holds a device: one sample per attachment. */
static void
emit_attachments(struct strbuf *out, const struct metric *m, const struct prom_host *h)
{
	const struct snapshot *s = h->snap;
	char index[24];

	for (size_t d = 0; d < s->devices.nr; d++) {
		const struct device *dev = &s->devices.v[d];

		snprintf(index, sizeof(index), "%ld", dev->index);
		for (size_t a = 0; a < dev->att_nr; a++) {
			const struct attachment *at = &dev->att[a];
			const struct env *e = envs_find(&s->envs, at->eid);
			struct label l[4] = {
				{ "index", index }, { "eid", at->eid },
				{ "environment", e && e->config.name ? e->config.name : "" },
				{ "username", e && e->username ? e->username : "" },
			};
			time_t t;

			if (m->what == ATT_INFO)
				sample(out, m->name, h, l, 4, 1);
			else if (m->what == ATT_SINCE && at->time && !genv_time_parse(at->time, &t))
				sample(out, m->name, h, l, 2, (double)t);
			else if (m->what == ATT_MEMORY && at->gpu_memory)
				sample(out, m->name, h, l, 2, (double)memory_bytes(at->gpu_memory));
		}
	}
}

/* 1.4.3's registration order, then ours */
static const struct metric metrics[] = {
	{ "genv_attached_devices_total", "Number of attached devices", "gauge",
	  emit_attached_devices, 0, 1 },
	{ "genv_device_memory_total_bytes", "Device total memory in bytes", "gauge",
	  emit_device, DEV_MEM_TOTAL, 0 },
	{ "genv_device_memory_used_bytes", "Device used memory in bytes", "gauge",
	  emit_device, DEV_MEM_USED, 0 },
	{ "genv_device_temperature", "Device temperature in degrees C", "gauge",
	  emit_device, DEV_TEMP, 0 },
	{ "genv_device_utilization", "Device utilization", "gauge", emit_device, DEV_UTIL, 0 },
	{ "genv_environments_total", "Number of active environments", "gauge",
	  emit_environments, 0, 1 },
	{ "genv_environment_attached_devices_total", "Number of attached devices of an environment",
	  "gauge", emit_env_attached, 0, 1 },
	{ "genv_environment_processes_total", "Number of running processes in an environment",
	  "gauge", emit_env_processes, 0, 1 },
	{ "genv_is_installed", "Genv installation status", "gauge", emit_is_installed, 0, 0 },
	{ "genv_processes_total", "Number of running processes", "gauge", emit_processes, 0, 1 },
	{ "genv_process_devices_total", "Number of devices used by a process", "gauge",
	  emit_process_devices, 0, 1 },
	{ "genv_process_used_gpu_memory_bytes", "Used GPU memory by a process", "gauge",
	  emit_process_memory, 0, 1 },
	{ "genv_users_total", "Number of active users", "gauge", emit_users, 0, 1 },
	{ "genv_user_attached_devices_total", "Number of attached devices of a user", "gauge",
	  emit_per_user, USER_DEVICES, 1 },
	{ "genv_user_environments_total", "Number of active environments of a user", "gauge",
	  emit_per_user, USER_ENVIRONMENTS, 1 },
	{ "genv_user_processes_total", "Number of running processes of a user", "gauge",
	  emit_per_user, USER_PROCESSES, 1 },

	/* ours */
	{ "genv_device_info", "Device name and UUID (value 1)", "gauge", emit_device, DEV_INFO, 0 },
	{ "genv_device_memory_utilization",
	  "Percent of the last sample period during which device memory was read or written",
	  "gauge", emit_device, DEV_MEM_UTIL, 0 },
	{ "genv_device_power_watts", "Device power draw in watts", "gauge", emit_device, DEV_POWER, 0 },
	{ "genv_device_power_limit_watts", "Device enforced power limit in watts", "gauge",
	  emit_device, DEV_POWER_LIMIT, 0 },
	{ "genv_device_attachment_info",
	  "Environment attached to a device, with its name and owner (value 1)", "gauge",
	  emit_attachments, ATT_INFO, 1 },
	{ "genv_device_attachment_timestamp_seconds",
	  "When an environment was attached to a device, in seconds since the epoch", "gauge",
	  emit_attachments, ATT_SINCE, 1 },
	{ "genv_device_attachment_memory_bytes",
	  "GPU memory an environment may use on a device (absent when it holds the whole device)",
	  "gauge", emit_attachments, ATT_MEMORY, 1 },
};

void
prom_render(struct strbuf *out, const struct prom_host *hosts, size_t nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		const struct metric *m = &metrics[i];

		header(out, m->name, m->help, m->type);
		for (size_t k = 0; k < nr; k++)
			if (!m->needs_genv || hosts[k].snap)
				m->emit(out, m, &hosts[k]);
	}
}

void
prom_render_exporter(struct strbuf *out, const struct prom_exporter *e)
{
	static const struct prom_host local = { NULL, 1, NULL, NULL, NULL };

	header(out, "genv_exporter_collect_duration_seconds",
	       "How long the last collection of GPU, process and environment data took", "gauge");
	sample(out, "genv_exporter_collect_duration_seconds", &local, NULL, 0, e->collect_seconds);
	header(out, "genv_exporter_collect_timestamp_seconds",
	       "When the data served was collected, in seconds since the epoch", "gauge");
	sample(out, "genv_exporter_collect_timestamp_seconds", &local, NULL, 0, e->collect_timestamp);
	header(out, "genv_exporter_collect_errors_total",
	       "Collections that could not read everything, since the exporter started", "counter");
	sample(out, "genv_exporter_collect_errors_total", &local, NULL, 0, (double)e->collect_errors);
	header(out, "genv_exporter_nvml_errors_total",
	       "NVML calls that failed, since the exporter started", "counter");
	sample(out, "genv_exporter_nvml_errors_total", &local, NULL, 0, (double)e->nvml_errors);
}

void
prom_render_scrape_duration(struct strbuf *out, double seconds)
{
	static const struct prom_host local = { NULL, 1, NULL, NULL, NULL };

	header(out, "genv_exporter_scrape_duration_seconds",
	       "How long rendering this response took", "gauge");
	sample(out, "genv_exporter_scrape_duration_seconds", &local, NULL, 0, seconds);
}
