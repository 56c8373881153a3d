/* SPDX-License-Identifier: MIT */
/*
 * live.c: a machine's snapshot plus live GPU data, its one-line JSON
 * form, and the `genv usage snapshot --watch` loop (live.h).
 */
#include "compat.h"
#include "core/live.h"
#include "core/memory.h"
#include "core/snapshot.h"
#include "core/state-json.h"
#include "core/store.h"
#include "core/timefmt.h"
#include "gpu/gpu.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/passwd.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/term.h"
#include "util/xalloc.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

/* Command lines are shown, not parsed: keep the first bytes only. */
#define LIVE_MAX_COMMAND 256

void
live_init(struct live *l)
{
	struct live blank = LIVE_INIT;

	*l = blank;
}

void
live_release(struct live *l)
{
	free(l->hostname);
	free(l->time);
	free(l->error);
	snapshot_release(&l->snap);
	for (size_t i = 0; i < l->gpus_nr; i++) {
		free(l->gpus[i].uuid);
		free(l->gpus[i].name);
	}
	free(l->gpus);
	for (size_t i = 0; i < l->procs_nr; i++) {
		free(l->procs[i].user);
		free(l->procs[i].command);
	}
	free(l->procs);
	live_init(l);
}

const struct live_gpu *
live_find_gpu(const struct live *l, long index)
{
	for (size_t i = 0; i < l->gpus_nr; i++)
		if (l->gpus[i].index == index)
			return &l->gpus[i];
	return NULL;
}

const struct live_proc *
live_find_proc(const struct live *l, long pid)
{
	for (size_t i = 0; i < l->procs_nr; i++)
		if (l->procs[i].pid == pid)
			return &l->procs[i];
	return NULL;
}

static struct live_gpu *
add_gpu(struct live *l, long index)
{
	struct live_gpu *g;

	ALLOC_GROW(l->gpus, l->gpus_nr + 1, l->gpus_alloc);
	g = &l->gpus[l->gpus_nr++];
	memset(g, 0, sizeof(*g));
	g->index = index;
	return g;
}

static struct live_proc *
add_proc(struct live *l, long pid)
{
	struct live_proc *p;

	ALLOC_GROW(l->procs, l->procs_nr + 1, l->procs_alloc);
	p = &l->procs[l->procs_nr++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->uid = -1;
	p->env_known = 1;
	return p;
}

static void
set_identity(struct live *l)
{
	char host[256];
	struct strbuf now = STRBUF_INIT;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	l->hostname = xstrdup(host);
	genv_time_format(&now, time(NULL));
	l->time = strbuf_detach(&now, NULL);
}

/* The login name of uid, looked up once per snapshot and uid. */
static char *
user_name(const struct live *l, long long uid)
{
	struct strbuf name = STRBUF_INIT;

	for (size_t i = 0; i < l->procs_nr; i++)
		if (l->procs[i].uid == uid && l->procs[i].user)
			return xstrdup(l->procs[i].user);
	if (passwd_lookup(uid, &name, NULL) < 0)
		return NULL;
	return strbuf_detach(&name, NULL);
}

/* The command line, arguments joined by blanks; NULL for a kernel thread or a gone process. */
static char *
command_line(long pid)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf raw = STRBUF_INIT;
	char *cmd = NULL;

	if (!proc_cmdline(pid, &argv) && argv.nr) {
		for (size_t i = 0; i < argv.nr && raw.len < LIVE_MAX_COMMAND; i++)
			strbuf_addf(&raw, "%s%s", i ? " " : "", argv.v[i]);
		if (raw.len > LIVE_MAX_COMMAND)
			strbuf_setlen(&raw, LIVE_MAX_COMMAND);
		cmd = xstrdup(raw.buf);
	}
	strvec_clear(&argv);
	strbuf_release(&raw);
	return cmd;
}

/* Whether pid's environment is readable: if not, a null eid says nothing. */
static int
environ_readable(long pid)
{
	char *value = NULL;
	int rc = proc_environ_get(pid, "GENV_ENVIRONMENT_ID", &value);

	free(value);
	return !rc || (errno != EACCES && errno != EPERM);
}

static void
take_process_info(struct live *l)
{
	for (size_t i = 0; i < l->snap.processes.nr; i++) {
		const struct process *sp = &l->snap.processes.v[i];
		char *user = user_name(l, sp->uid);
		struct live_proc *p = add_proc(l, sp->pid);

		p->uid = sp->uid;
		p->user = user;
		p->command = command_line(sp->pid);
		p->env_known = sp->eid || environ_readable(sp->pid);
	}
}

static int
take_gpus(struct live *l, struct strbuf *err)
{
	struct gpu_devices devs = GPU_DEVICES_INIT;
	int rc = gpu_query_devices(&devs, GPU_QUERY_READINGS, err);

	for (size_t i = 0; !rc && i < devs.nr; i++) {
		const struct gpu_device *d = &devs.v[i];
		struct live_gpu *g = add_gpu(l, (long)d->index);

		g->uuid = d->uuid ? xstrdup(d->uuid) : NULL;
		g->name = d->name ? xstrdup(d->name) : NULL;
		g->mem_total = d->mem_total;
		g->mem_used = d->mem_used;
		g->valid = LIVE_GPU_MEMORY;
		if (d->valid & GPU_HAS_UTILIZATION) {
			g->util = d->util_gpu > 100 ? 100 : d->util_gpu;
			g->util_mem = d->util_mem > 100 ? 100 : d->util_mem;
			g->valid |= LIVE_GPU_UTIL;
		}
		if (d->valid & GPU_HAS_TEMPERATURE) {
			g->temp = d->temperature;
			g->valid |= LIVE_GPU_TEMP;
		}
		if (d->valid & GPU_HAS_POWER) {
			g->power_mw = d->power_mw;
			g->valid |= LIVE_GPU_POWER;
		}
		if (d->valid & GPU_HAS_POWER_LIMIT) {
			g->power_limit_mw = d->power_limit_mw;
			g->valid |= LIVE_GPU_POWER_LIMIT;
		}
		l->nvml_errors += d->read_errors;
	}
	gpu_devices_release(&devs);
	return rc;
}

/* All or nothing: the snapshot, then the GPUs. */
static int
take_all(struct live *l, struct store *st, struct strvec *warnings, struct strbuf *why)
{
	if (snapshot_take(st, &l->snap, SNAPSHOT_ALL, warnings, why) < 0)
		return -1;
	return take_gpus(l, why);
}

/*
 * What can be read, each failure said in why. Without NVML's process
 * list, environments and attachments still tell who holds what.
 */
static void
take_partial(struct live *l, struct store *st, struct strvec *warnings, struct strbuf *why)
{
	struct strbuf state = STRBUF_INIT, err = STRBUF_INIT;

	if (snapshot_take(st, &l->snap, SNAPSHOT_ALL, warnings, &err) < 0) {
		strbuf_addf(&state, "processes and environments: %s", err.buf);
		strbuf_reset(&err);
		if (snapshot_take(st, &l->snap, SNAPSHOT_ENVS | SNAPSHOT_DEVICES, warnings, &err) < 0)
			strbuf_addf(&state, "; environments: %s", err.buf);
		else
			l->nvml_errors++;   /* only the process list failed */
		strbuf_reset(&err);
	}
	if (take_gpus(l, &err) < 0) {
		l->nvml_errors++;
		strbuf_addf(why, "GPUs: %s", err.buf);
	}
	if (state.len)
		strbuf_addf(why, "%s%s", why->len ? "; " : "", state.buf);
	strbuf_release(&state);
	strbuf_release(&err);
}

int
live_collect(struct live *l, struct store *st, unsigned flags, struct strbuf *err)
{
	struct store own = STORE_INIT;
	struct strvec warnings = STRVEC_INIT;   /* per-process trivia: not for a live view */
	struct strbuf why = STRBUF_INIT;
	int rc = 0;

	set_identity(l);
	/* no lock: saves are atomic, and anyone may hold the lock forever */
	if (!st && store_init(&own, &why) < 0)
		rc = -1;
	else if (flags & LIVE_COLLECT_PARTIAL)
		take_partial(l, st ? st : &own, &warnings, &why);
	else
		rc = take_all(l, st ? st : &own, &warnings, &why);
	if (!rc && (flags & LIVE_COLLECT_PROCESS_INFO))
		take_process_info(l);
	if (rc < 0) {
		char *host = l->hostname, *stamp = l->time;

		l->hostname = l->time = NULL;
		live_release(l);
		l->hostname = host;
		l->time = stamp;
		l->error = xstrdup(why.buf);
	}
	strbuf_addbuf(err, &why);
	store_release(&own);
	strvec_clear(&warnings);
	strbuf_release(&why);
	return rc;
}

void
live_gpu_devices(struct gpu_devices *out, const struct live *l)
{
	for (size_t i = 0; i < l->gpus_nr; i++) {
		const struct live_gpu *g = &l->gpus[i];
		struct gpu_device *d;

		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		d = &out->v[out->nr++];
		memset(d, 0, sizeof(*d));
		d->index = (unsigned)g->index;
		d->minor = -1;
		d->uuid = xstrdup_or_null(g->uuid);
		d->name = xstrdup_or_null(g->name);
		d->mem_total = g->mem_total;
		d->mem_used = g->mem_used;
		if (g->valid & LIVE_GPU_UTIL) {
			d->util_gpu = g->util;
			d->util_mem = g->util_mem;
			d->valid |= GPU_HAS_UTILIZATION;
		}
		if (g->valid & LIVE_GPU_TEMP) {
			d->temperature = g->temp;
			d->valid |= GPU_HAS_TEMPERATURE;
		}
		if (g->valid & LIVE_GPU_POWER) {
			d->power_mw = (unsigned)g->power_mw;
			d->valid |= GPU_HAS_POWER;
		}
		if (g->valid & LIVE_GPU_POWER_LIMIT) {
			d->power_limit_mw = (unsigned)g->power_limit_mw;
			d->valid |= GPU_HAS_POWER_LIMIT;
		}
	}
}

/* ---- the watch line ---- */

static json_t *
gpu_to_json(const struct live_gpu *g)
{
	json_t *o = json_object();

	json_object_set_new(o, "index", json_integer(g->index));
	if (g->uuid)
		json_object_set_new(o, "uuid", json_string_or_null(g->uuid));
	if (g->name)
		json_object_set_new(o, "name", json_string_or_null(g->name));
	if (g->valid & LIVE_GPU_MEMORY) {
		json_object_set_new(o, "memory_total", json_integer((json_int_t)g->mem_total));
		json_object_set_new(o, "memory_used", json_integer((json_int_t)g->mem_used));
	}
	if (g->valid & LIVE_GPU_UTIL) {
		json_object_set_new(o, "utilization", json_integer(g->util));
		json_object_set_new(o, "memory_utilization", json_integer(g->util_mem));
	}
	if (g->valid & LIVE_GPU_TEMP)
		json_object_set_new(o, "temperature", json_integer(g->temp));
	if (g->valid & LIVE_GPU_POWER)
		json_object_set_new(o, "power", json_integer((json_int_t)g->power_mw));
	if (g->valid & LIVE_GPU_POWER_LIMIT)
		json_object_set_new(o, "power_limit", json_integer((json_int_t)g->power_limit_mw));
	return o;
}

static json_t *
proc_to_json(const struct live_proc *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "pid", json_integer(p->pid));
	if (p->uid >= 0)
		json_object_set_new(o, "uid", json_integer(p->uid));
	if (p->user)
		json_object_set_new(o, "user", json_string_or_null(p->user));
	if (p->command)
		json_object_set_new(o, "command", json_string_or_null(p->command));
	json_object_set_new(o, "env_known", json_boolean(p->env_known));
	return o;
}

void
live_serialize(const struct live *l, struct strbuf *out)
{
	json_t *o = json_object(), *a;

	json_object_set_new(o, "watch", json_integer(LIVE_WATCH_VERSION));
	json_object_set_new(o, "hostname", json_string_or_null(l->hostname ? l->hostname : ""));
	json_object_set_new(o, "time", json_string(l->time ? l->time : ""));
	if (l->error) {
		json_object_set_new(o, "error", json_string_or_null(l->error));
	} else {
		json_object_set_new(o, "snapshot", snapshot_to_json(&l->snap));
		a = json_array();
		for (size_t i = 0; i < l->gpus_nr; i++)
			json_array_append_new(a, gpu_to_json(&l->gpus[i]));
		json_object_set_new(o, "gpus", a);
		a = json_array();
		for (size_t i = 0; i < l->procs_nr; i++)
			json_array_append_new(a, proc_to_json(&l->procs[i]));
		json_object_set_new(o, "process_info", a);
	}
	json_dump_py(out, o, JSON_STYLE_LINE);
	json_decref(o);
}

/* Unpacks optional non-negative integers: absent ones stay at -1. */
#define LIVE_ABSENT ((json_int_t)-1)

/* The optional readings of a GPU, in the order of gpu_readings[]. */
enum { R_TOTAL, R_USED, R_UTIL, R_MEM_UTIL, R_TEMP, R_POWER, R_POWER_LIMIT, R__COUNT };
static const struct {
	const char *key;
	json_int_t max;
} gpu_readings[R__COUNT] = {
	{ "memory_total", INT64_MAX }, { "memory_used", INT64_MAX },
	{ "utilization", 100 }, { "memory_utilization", 100 }, { "temperature", 1000 },
	{ "power", UINT32_MAX }, { "power_limit", UINT32_MAX },
};

static void
set_readings(struct live_gpu *g, const json_int_t *r)
{
	if (r[R_TOTAL] >= 0 && r[R_USED] >= 0) {
		g->mem_total = (unsigned long long)r[R_TOTAL];
		g->mem_used = (unsigned long long)r[R_USED];
		g->valid |= LIVE_GPU_MEMORY;
	}
	if (r[R_UTIL] >= 0) {
		g->util = (unsigned)r[R_UTIL];
		g->util_mem = r[R_MEM_UTIL] >= 0 ? (unsigned)r[R_MEM_UTIL] : 0;
		g->valid |= LIVE_GPU_UTIL;
	}
	if (r[R_TEMP] >= 0) {
		g->temp = (unsigned)r[R_TEMP];
		g->valid |= LIVE_GPU_TEMP;
	}
	if (r[R_POWER] >= 0) {
		g->power_mw = (unsigned long)r[R_POWER];
		g->valid |= LIVE_GPU_POWER;
	}
	if (r[R_POWER_LIMIT] >= 0) {
		g->power_limit_mw = (unsigned long)r[R_POWER_LIMIT];
		g->valid |= LIVE_GPU_POWER_LIMIT;
	}
}

static int
gpu_from_json(struct live *l, const json_t *o, size_t i, struct strbuf *err)
{
	json_int_t index = LIVE_ABSENT, r[R__COUNT];
	const char *uuid = NULL, *name = NULL;
	struct live_gpu *g;
	json_error_t je;

	if (json_unpack_ex((json_t *)o, &je, 0, "{s:I, s?s, s?s}", "index", &index,
			   "uuid", &uuid, "name", &name) < 0) {
		strbuf_addf(err, "gpus[%zu]: %s", i, je.text);
		return -1;
	}
	for (size_t k = 0; k < R__COUNT; k++) {
		const json_t *v = json_object_get(o, gpu_readings[k].key);

		r[k] = v ? (json_is_integer(v) ? json_integer_value(v) : -2) : LIVE_ABSENT;
		if (v && (r[k] < 0 || r[k] > gpu_readings[k].max)) {
			strbuf_addf(err, "gpus[%zu].%s: not an integer in 0..%lld", i,
				    gpu_readings[k].key, (long long)gpu_readings[k].max);
			return -1;
		}
	}
	if (index < 0) {
		strbuf_addf(err, "gpus[%zu]: a value is out of range", i);
		return -1;
	}
	if (live_find_gpu(l, (long)index)) {
		strbuf_addf(err, "gpus[%zu]: index %lld is listed twice", i, (long long)index);
		return -1;
	}
	g = add_gpu(l, (long)index);
	g->uuid = xstrdup_or_null(uuid);
	g->name = xstrdup_or_null(name);
	set_readings(g, r);
	return 0;
}

static int
proc_from_json(struct live *l, const json_t *o, size_t i, struct strbuf *err)
{
	json_int_t pid = LIVE_ABSENT, uid = LIVE_ABSENT;
	const char *user = NULL, *command = NULL;
	int env_known = 1;
	struct live_proc *p;
	json_error_t je;

	if (json_unpack_ex((json_t *)o, &je, 0, "{s:I, s?I, s?s, s?s, s?b}",
			   "pid", &pid, "uid", &uid, "user", &user,
			   "command", &command, "env_known", &env_known) < 0) {
		strbuf_addf(err, "process_info[%zu]: %s", i, je.text);
		return -1;
	}
	if (pid <= 0 || uid < LIVE_ABSENT) {
		strbuf_addf(err, "process_info[%zu]: a value is out of range", i);
		return -1;
	}
	p = add_proc(l, (long)pid);
	p->uid = uid;
	p->user = xstrdup_or_null(user);
	p->command = xstrdup_or_null(command);
	p->env_known = env_known;
	return 0;
}

/* The parts after "snapshot"; both lists are optional. */
static int
lists_from_json(struct live *l, const json_t *gpus, const json_t *procs, struct strbuf *err)
{
	size_t i;
	json_t *v;

	if ((gpus && !json_is_array(gpus)) || (procs && !json_is_array(procs))) {
		strbuf_addstr(err, "gpus and process_info must be arrays");
		return -1;
	}
	json_array_foreach(gpus, i, v)
		if (gpu_from_json(l, v, i, err) < 0)
			return -1;
	json_array_foreach(procs, i, v)
		if (proc_from_json(l, v, i, err) < 0)
			return -1;
	return 0;
}

static int
live_from_json(struct live *l, json_t *o, struct strbuf *err)
{
	json_int_t version;
	const char *host, *stamp, *error = NULL;
	json_t *snap = NULL, *gpus = NULL, *procs = NULL;
	json_error_t je;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:s, s:s, s?s, s?o, s?o, s?o}",
			   "watch", &version, "hostname", &host, "time", &stamp,
			   "error", &error, "snapshot", &snap, "gpus", &gpus,
			   "process_info", &procs) < 0) {
		strbuf_addstr(err, je.text);
		return -1;
	}
	if (version != LIVE_WATCH_VERSION) {
		strbuf_addf(err, "version %lld is not %d", (long long)version, LIVE_WATCH_VERSION);
		return -1;
	}
	l->hostname = xstrdup(host);
	l->time = xstrdup(stamp);
	if (error) {
		l->error = xstrdup(error);
		return 0;
	}
	if (!snap) {
		strbuf_addstr(err, "neither a snapshot nor an error");
		return -1;
	}
	if (snapshot_from_json(&l->snap, snap, "snapshot", err) < 0)
		return -1;
	return lists_from_json(l, gpus, procs, err);
}

int
live_parse_line(struct live *l, const char *text, size_t len, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	json_t *o = json_parse(text, len, "watch line", err);
	int rc;

	if (!o)
		return -1;
	rc = live_from_json(l, o, &why);
	json_decref(o);
	if (rc < 0) {
		strbuf_addf(err, "watch line: %s", why.buf);
		live_release(l);
	}
	strbuf_release(&why);
	return rc;
}

void
live_from_snapshot(struct live *l, struct snapshot *s, const char *hostname)
{
	struct snapshot empty = SNAPSHOT_INIT;
	struct strbuf now = STRBUF_INIT, ignored = STRBUF_INIT;

	l->hostname = xstrdup(hostname);
	genv_time_format(&now, time(NULL));
	l->time = strbuf_detach(&now, NULL);
	l->snap = *s;
	*s = empty;
	l->partial = 1;
	for (size_t i = 0; i < l->snap.devices.nr; i++) {
		const struct device *d = &l->snap.devices.v[i];
		struct live_gpu *g = add_gpu(l, d->index);
		unsigned long long bytes;

		if (memory_to_bytes(d->total_memory, &g->mem_total, &ignored) < 0)
			g->mem_total = 0;
		for (size_t p = 0; p < l->snap.processes.nr; p++) {
			const struct process *sp = &l->snap.processes.v[p];

			for (size_t u = 0; u < sp->usage_nr; u++)
				if (sp->usage[u].index == d->index &&
				    !memory_to_bytes(sp->usage[u].gpu_memory, &bytes, &ignored))
					g->mem_used += bytes;
		}
		g->valid = LIVE_GPU_MEMORY;
	}
	strbuf_release(&ignored);
}

/* ---- the watch loop ---- */

/*
 * Sleeps until the monotonic time until_ms; returns -1 early when the
 * reader of fd is gone or our parent changed (the session ended).
 */
static int
watch_sleep(int fd, pid_t parent, int64_t until_ms)
{
	for (;;) {
		/* no events asked: only an error or a hangup wakes us up */
		struct pollfd pfd = { .fd = fd, .events = 0 };
		int64_t now = clock_monotonic_ms();
		int r;

		if (getppid() != parent)
			return -1;
		if (now >= until_ms)
			return 0;
		/* look at the parent at least once a second */
		r = poll(&pfd, fd >= 0, (int)(until_ms - now < 1000 ? until_ms - now : 1000));
		if (r > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return -1;
	}
}

int
live_watch(const struct live_watch_opts *o, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;
	pid_t parent = getppid();
	int64_t next = clock_monotonic_ms();

	if (o->interval_ms < 1) {
		strbuf_addf(err, "the interval must be at least 1 ms, not %ld", o->interval_ms);
		return -1;
	}
	for (;;) {
		struct live l = LIVE_INIT;

		live_collect(&l, NULL, LIVE_COLLECT_PROCESS_INFO, &why);
		strbuf_reset(&why);
		strbuf_reset(&line);
		live_serialize(&l, &line);
		strbuf_addch(&line, '\n');
		live_release(&l);
		if (o->emit(&line, o->data) < 0)
			break;
		/* a fixed rhythm: a slow snapshot delays one line, not all later ones */
		next += o->interval_ms;
		if (next < clock_monotonic_ms())
			next = clock_monotonic_ms();
		if (watch_sleep(o->watch_fd, parent, next) < 0)
			break;
	}
	strbuf_release(&line);
	strbuf_release(&why);
	return 0;
}

int
live_feed(struct strbuf *buf, size_t max, struct live *l, struct strbuf *err)
{
	const char *end = memrchr(buf->buf, '\n', buf->len), *start;
	size_t used;
	int rc;

	if (!end) {
		if (buf->len > max) {
			strbuf_addf(err, "watch line: longer than %zu bytes", max);
			live_release(l);
			return -1;
		}
		return 0;
	}
	used = (size_t)(end - buf->buf) + 1;
	/* the newest non-blank line */
	while (end > buf->buf && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	start = end;
	while (start > buf->buf && start[-1] != '\n')
		start--;
	rc = 0;
	if (end > start) {
		live_release(l);
		rc = live_parse_line(l, start, (size_t)(end - start), err) < 0 ? -1 : 1;
	}
	memmove(buf->buf, buf->buf + used, buf->len - used);
	strbuf_setlen(buf, buf->len - used);
	return rc;
}
