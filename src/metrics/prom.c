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
#include "util/xalloc.h"

#include <math.h>

#define MIB (1024.0 * 1024.0)
#define MAX_LABELS 6

/* ---- values ---- */

/* Writes n in decimal ending at end (no NUL); returns where it starts. */
static char *
decimal(char *end, unsigned long long n)
{
	do
		*--end = (char)('0' + n % 10);
	while (n /= 10);
	return end;
}

/* A label value from a number (pid, index); buf has room for any long. */
static const char *
number_label(char buf[24], long n)
{
	char *start;

	buf[23] = '\0';
	start = decimal(buf + 23, (unsigned long long)(n < 0 ? -n : n));
	if (n < 0)
		*--start = '-';
	return start;
}

/* Python's repr() of a finite non-negative float: shortest round-trip digits. */
static void
python_repr(struct strbuf *out, double v)
{
	char digits[32], buf[40];
	int exp10 = 0, n = 0;

	/* most values are counts and bytes: integers print exactly, at once */
	if (v < 1e16 && v == (double)(unsigned long long)v) {
		char text[24];
		const char *d = decimal(text + sizeof(text), (unsigned long long)v);

		strbuf_add(out, d, (size_t)(text + sizeof(text) - d));
		strbuf_addstr(out, ".0");
		return;
	}
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
	if (v >= 0 && v < 1e6 && v == (double)(unsigned)v) {   /* most samples: counts */
		python_repr(out, v);
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
	const char *p = s;

	/* the usual case: printable ASCII without a character to escape */
	while (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
		p++;
	if (!*p) {
		strbuf_add(out, s, (size_t)(p - s));
		return;
	}
	strbuf_add_utf8(&valid, s);
	for (p = valid.buf; *p; p++) {
		if (*p == '\\' || *p == '"')
			strbuf_addch(out, '\\');
		if (*p == '\n')
			strbuf_addstr(out, "\\n");
		else
			strbuf_addch(out, *p);
	}
	strbuf_release(&valid);
}

/*
 * "name{a="x",b="y"} value\n". labels come sorted by name; hostname is
 * inserted where it sorts.
 */
static void
sample(struct strbuf *out, const char *metric, const struct prom_host *h,
       const struct label *labels, size_t nr, double v)
{
	struct label all[MAX_LABELS + 1];
	size_t n = 0;

	for (size_t i = 0; i < nr && n < MAX_LABELS; i++) {
		if (h->hostname && n == i && strcmp(labels[i].name, "hostname") > 0)
			all[n++] = (struct label){ "hostname", h->hostname };
		all[n++] = labels[i];
	}
	if (h->hostname && n == nr)
		all[n++] = (struct label){ "hostname", h->hostname };
	strbuf_addstr(out, metric);
	for (size_t i = 0; i < n; i++) {
		strbuf_addch(out, i ? ',' : '{');
		strbuf_addstr(out, all[i].name);
		strbuf_addstr(out, "=\"");
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
	strbuf_addstr(out, "# HELP ");
	strbuf_addstr(out, name);
	strbuf_addch(out, ' ');
	strbuf_addstr(out, help);
	strbuf_addstr(out, "\n# TYPE ");
	strbuf_addstr(out, name);
	strbuf_addch(out, ' ');
	strbuf_addstr(out, type);
	strbuf_addch(out, '\n');
}

/* ---- what the metrics count, tallied once per host ---- */

#define NONE ((size_t)-1)

struct tally {
	size_t nr_users;
	const char **users;      /* distinct non-null usernames, in env order */
	size_t *env_user;        /* per env: its user, or NONE */
	size_t *proc_env;        /* per process: its env, or NONE */
	size_t *env_procs, *env_devices;
	size_t *user_envs, *user_procs, *user_devices;
	size_t attached_devices; /* devices with at least one attachment */
};

static size_t *
counters(size_t n)
{
	return xcalloc(n ? n : 1, sizeof(size_t));
}

static void
tally_users(struct tally *t, const struct envs *envs)
{
	t->users = xcalloc(envs->nr ? envs->nr : 1, sizeof(*t->users));
	t->env_user = counters(envs->nr);
	for (size_t i = 0; i < envs->nr; i++) {
		const char *u = envs->v[i].username;
		size_t k = 0;

		t->env_user[i] = NONE;
		if (!u)
			continue;
		while (k < t->nr_users && strcmp(t->users[k], u))
			k++;
		if (k == t->nr_users)
			t->users[t->nr_users++] = u;
		t->env_user[i] = k;
	}
}

/* Devices are counted once per environment and user, however often attached. */
static void
tally_devices(struct tally *t, const struct snapshot *s)
{
	size_t *env_seen = counters(s->envs.nr), *user_seen = counters(t->nr_users);

	for (size_t d = 0; d < s->devices.nr; d++) {
		const struct device *dev = &s->devices.v[d];

		t->attached_devices += dev->att_nr > 0;
		for (size_t a = 0; a < dev->att_nr; a++) {
			const struct env *e = envs_find(&s->envs, dev->att[a].eid);
			size_t i = e ? (size_t)(e - s->envs.v) : NONE, u;

			if (i == NONE || env_seen[i] == d + 1)
				continue;
			env_seen[i] = d + 1;
			t->env_devices[i]++;
			u = t->env_user[i];
			if (u != NONE && user_seen[u] != d + 1) {
				user_seen[u] = d + 1;
				t->user_devices[u]++;
			}
		}
	}
	free(env_seen);
	free(user_seen);
}

static void
tally_init(struct tally *t, const struct snapshot *s)
{
	memset(t, 0, sizeof(*t));
	tally_users(t, &s->envs);
	t->proc_env = counters(s->processes.nr);
	t->env_procs = counters(s->envs.nr);
	t->env_devices = counters(s->envs.nr);
	t->user_envs = counters(t->nr_users);
	t->user_procs = counters(t->nr_users);
	t->user_devices = counters(t->nr_users);
	for (size_t i = 0; i < s->envs.nr; i++)
		if (t->env_user[i] != NONE)
			t->user_envs[t->env_user[i]]++;
	for (size_t p = 0; p < s->processes.nr; p++) {
		const char *eid = s->processes.v[p].eid;
		const struct env *e = eid ? envs_find(&s->envs, eid) : NULL;
		size_t i = e ? (size_t)(e - s->envs.v) : NONE;

		t->proc_env[p] = i;
		if (i == NONE)
			continue;
		t->env_procs[i]++;
		if (t->env_user[i] != NONE)
			t->user_procs[t->env_user[i]]++;
	}
	tally_devices(t, s);
}

static void
tally_release(struct tally *t)
{
	free(t->users);
	free(t->env_user);
	free(t->proc_env);
	free(t->env_procs);
	free(t->env_devices);
	free(t->user_envs);
	free(t->user_procs);
	free(t->user_devices);
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
typedef void (*emit_fn)(struct strbuf *, const struct metric *, const struct prom_host *,
			const struct tally *);

struct metric {
	const char *name, *help, *type;
	emit_fn emit;
	unsigned what;      /* for the shared emitters: which value */
	int needs_genv;     /* only for hosts where genv is installed */
};

enum user_value { USER_DEVICES, USER_ENVIRONMENTS, USER_PROCESSES };
enum env_value { ENV_DEVICES, ENV_PROCESSES };
enum total_value { TOTAL_ATTACHED, TOTAL_ENVS, TOTAL_PROCESSES, TOTAL_USERS, TOTAL_INSTALLED };
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
		struct label l[3] = { { "index", number_label(index, g->index) },
				      { "name", g->name ? g->name : "" },
				      { "uuid", g->uuid ? g->uuid : "" } };
		double v;

		if (device_value(g, m->what, &v))
			sample(out, m->name, h, l, m->what == DEV_INFO ? 3 : 1, v);
	}
}

static void
emit_device(struct strbuf *out, const struct metric *m, const struct prom_host *h,
	    const struct tally *t)
{
	(void)t;
	emit_device_list(out, m, h, h->gpus);
	emit_device_list(out, m, h, h->gone);
}

static void
emit_total(struct strbuf *out, const struct metric *m, const struct prom_host *h,
	   const struct tally *t)
{
	double v = 0;

	switch (m->what) {
	case TOTAL_ATTACHED:
		v = (double)t->attached_devices;
		break;
	case TOTAL_ENVS:
		v = (double)h->snap->envs.nr;
		break;
	case TOTAL_PROCESSES:
		v = (double)h->snap->processes.nr;
		break;
	case TOTAL_USERS:
		v = (double)t->nr_users;
		break;
	default:
		v = h->genv_installed ? 1 : 0;
		break;
	}
	sample(out, m->name, h, NULL, 0, v);
}

static void
emit_per_env(struct strbuf *out, const struct metric *m, const struct prom_host *h,
	     const struct tally *t)
{
	for (size_t i = 0; i < h->snap->envs.nr; i++) {
		struct label l = { "eid", h->snap->envs.v[i].eid };

		sample(out, m->name, h, &l, 1,
		       (double)(m->what == ENV_DEVICES ? t->env_devices[i] : t->env_procs[i]));
	}
}

static void
emit_per_user(struct strbuf *out, const struct metric *m, const struct prom_host *h,
	      const struct tally *t)
{
	for (size_t u = 0; u < t->nr_users; u++) {
		struct label l = { "username", t->users[u] };
		size_t v = m->what == USER_DEVICES ? t->user_devices[u] :
			   m->what == USER_ENVIRONMENTS ? t->user_envs[u] : t->user_procs[u];

		sample(out, m->name, h, &l, 1, (double)v);
	}
}

static void
emit_process_devices(struct strbuf *out, const struct metric *m, const struct prom_host *h,
		     const struct tally *t)
{
	char pid[24];

	(void)t;
	for (size_t i = 0; i < h->snap->processes.nr; i++) {
		const struct process *p = &h->snap->processes.v[i];
		struct label l[2] = { { "eid", p->eid ? p->eid : "" },
				      { "pid", number_label(pid, p->pid) } };

		sample(out, m->name, h, l, 2, (double)p->usage_nr);
	}
}

static void
emit_process_memory(struct strbuf *out, const struct metric *m, const struct prom_host *h,
		    const struct tally *t)
{
	char pid[24], device[24];

	(void)t;
	for (size_t i = 0; i < h->snap->processes.nr; i++) {
		const struct process *p = &h->snap->processes.v[i];

		const char *pid_label = number_label(pid, p->pid);

		for (size_t u = 0; u < p->usage_nr; u++) {
			struct label l[3] = { { "device", number_label(device, p->usage[u].index) },
					      { "eid", p->eid ? p->eid : "" }, { "pid", pid_label } };

			sample(out, m->name, h, l, 3, (double)memory_bytes(p->usage[u].gpu_memory));
		}
	}
}

/* Our additions about who holds a device: one sample per attachment. */
static void
emit_attachments(struct strbuf *out, const struct metric *m, const struct prom_host *h,
		 const struct tally *t)
{
	const struct snapshot *s = h->snap;
	char index[24];

	(void)t;
	for (size_t d = 0; d < s->devices.nr; d++) {
		const struct device *dev = &s->devices.v[d];

		const char *index_label = number_label(index, dev->index);

		for (size_t a = 0; a < dev->att_nr; a++) {
			const struct attachment *at = &dev->att[a];
			const struct env *e = envs_find(&s->envs, at->eid);
			struct label info[4] = {
				{ "eid", at->eid },
				{ "environment", e && e->config.name ? e->config.name : "" },
				{ "index", index_label },
				{ "username", e && e->username ? e->username : "" },
			};
			struct label l[2] = { { "eid", at->eid }, { "index", index_label } };
			time_t when;

			if (m->what == ATT_INFO)
				sample(out, m->name, h, info, 4, 1);
			else if (m->what == ATT_SINCE && at->time && !genv_time_parse(at->time, &when))
				sample(out, m->name, h, l, 2, (double)when);
			else if (m->what == ATT_MEMORY && at->gpu_memory)
				sample(out, m->name, h, l, 2, (double)memory_bytes(at->gpu_memory));
		}
	}
}

/* 1.4.3's registration order, then ours */
static const struct metric metrics[] = {
	{ "genv_attached_devices_total", "Number of attached devices", "gauge",
	  emit_total, TOTAL_ATTACHED, 1 },
	{ "genv_device_memory_total_bytes", "Device total memory in bytes", "gauge",
	  emit_device, DEV_MEM_TOTAL, 0 },
	{ "genv_device_memory_used_bytes", "Device used memory in bytes", "gauge",
	  emit_device, DEV_MEM_USED, 0 },
	{ "genv_device_temperature", "Device temperature in degrees C", "gauge",
	  emit_device, DEV_TEMP, 0 },
	{ "genv_device_utilization", "Device utilization", "gauge", emit_device, DEV_UTIL, 0 },
	{ "genv_environments_total", "Number of active environments", "gauge",
	  emit_total, TOTAL_ENVS, 1 },
	{ "genv_environment_attached_devices_total", "Number of attached devices of an environment",
	  "gauge", emit_per_env, ENV_DEVICES, 1 },
	{ "genv_environment_processes_total", "Number of running processes in an environment",
	  "gauge", emit_per_env, ENV_PROCESSES, 1 },
	{ "genv_is_installed", "Genv installation status", "gauge", emit_total, TOTAL_INSTALLED, 0 },
	{ "genv_processes_total", "Number of running processes", "gauge",
	  emit_total, TOTAL_PROCESSES, 1 },
	{ "genv_process_devices_total", "Number of devices used by a process", "gauge",
	  emit_process_devices, 0, 1 },
	{ "genv_process_used_gpu_memory_bytes", "Used GPU memory by a process", "gauge",
	  emit_process_memory, 0, 1 },
	{ "genv_users_total", "Number of active users", "gauge", emit_total, TOTAL_USERS, 1 },
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
	struct tally *t = xcalloc(nr ? nr : 1, sizeof(*t));
	static const struct snapshot none = SNAPSHOT_INIT;

	for (size_t k = 0; k < nr; k++)
		tally_init(&t[k], hosts[k].snap ? hosts[k].snap : &none);
	for (size_t i = 0; i < ARRAY_SIZE(metrics); i++) {
		const struct metric *m = &metrics[i];

		header(out, m->name, m->help, m->type);
		for (size_t k = 0; k < nr; k++)
			if (!m->needs_genv || hosts[k].snap)
				m->emit(out, m, &hosts[k], &t[k]);
	}
	for (size_t k = 0; k < nr; k++)
		tally_release(&t[k]);
	free(t);
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
