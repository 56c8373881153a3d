/* SPDX-License-Identifier: MIT */
/*
 * gpu-nvml.c: the GPU layer on top of NVML, loaded with dlopen so that genv
 * needs no NVIDIA header or library to build. The few NVML types and codes
 * we use are declared here; symbols are resolved from a table, newest
 * versioned name first.
 */
#include "compat.h"
#include "gpu/gpu.h"
#include "util/priv.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dlfcn.h>
#include <sys/stat.h>

/* ---- NVML as we declare it (LP64 layouts; see nvml.h from any driver) */

typedef int nvml_ret;                  /* nvmlReturn_t */
typedef struct nvml_device *nvml_dev;  /* nvmlDevice_t, opaque */

enum {
	NVML_SUCCESS = 0,
	NVML_ERROR_NOT_SUPPORTED = 3,
	NVML_ERROR_NO_PERMISSION = 4,
	NVML_ERROR_INSUFFICIENT_SIZE = 7,
	NVML_ERROR_FUNCTION_NOT_FOUND = 13,
	NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
};
#define NVML_INIT_FLAG_NO_GPUS 1u      /* a driver without GPUs is not an error */
#define NVML_VALUE_NOT_AVAILABLE (~0ULL)
#define NVML_BUFFER_SIZE 96            /* NVML_DEVICE_{UUID,NAME}_V2_BUFFER_SIZE */

struct nvml_memory_v1 {
	unsigned long long total, free, used;
};
struct nvml_memory_v2 {
	unsigned version;              /* NVML_MEMORY_V2_VERSION */
	unsigned long long total, reserved, free, used;
};
/* NVML_STRUCT_VERSION(Memory, 2): the struct size with the version in the top byte */
#define NVML_MEMORY_V2_VERSION ((unsigned)sizeof(struct nvml_memory_v2) | 2u << 24)

struct nvml_process_v1 {               /* plain nvmlDeviceGet*RunningProcesses */
	unsigned pid;
	unsigned long long used;
};
struct nvml_process_v2 {               /* the _v2 and _v3 entry points */
	unsigned pid;
	unsigned long long used;
	unsigned gpu_instance_id, compute_instance_id;
};

struct nvml_utilization {
	unsigned gpu, memory;          /* percent */
};
#define NVML_TEMPERATURE_GPU 0         /* nvmlTemperatureSensors_t: the die */

_Static_assert(sizeof(struct nvml_memory_v2) == 40, "nvmlMemory_v2_t layout");
_Static_assert(sizeof(struct nvml_process_v1) == 16, "nvmlProcessInfo_v1_t layout");
_Static_assert(sizeof(struct nvml_process_v2) == 24, "nvmlProcessInfo_v2_t layout");

typedef nvml_ret (*nvml_procs_fn)(nvml_dev, unsigned *, void *);

static nvml_ret (*p_init_flags)(unsigned);
static nvml_ret (*p_init)(void);
static nvml_ret (*p_shutdown)(void);
static const char *(*p_error_string)(nvml_ret);
static nvml_ret (*p_count)(unsigned *);
static nvml_ret (*p_by_index)(unsigned, nvml_dev *);
static nvml_ret (*p_uuid)(nvml_dev, char *, unsigned);
static nvml_ret (*p_name)(nvml_dev, char *, unsigned);
static nvml_ret (*p_minor)(nvml_dev, unsigned *);
static nvml_ret (*p_memory_v2)(nvml_dev, struct nvml_memory_v2 *);
static nvml_ret (*p_memory)(nvml_dev, struct nvml_memory_v1 *);
static nvml_procs_fn p_procs_v3, p_procs_v2, p_procs_v1;
static nvml_ret (*p_utilization)(nvml_dev, struct nvml_utilization *);
static nvml_ret (*p_temperature)(nvml_dev, int, unsigned *);
static nvml_ret (*p_power)(nvml_dev, unsigned *);
static nvml_ret (*p_power_limit)(nvml_dev, unsigned *);
static nvml_ret (*p_driver_version)(char *, unsigned);

static const struct nvml_sym {
	void **slot;
	int required;
	const char *names[3];          /* newest first */
} nvml_syms[] = {
	{ (void **)&p_init_flags,   0, { "nvmlInitWithFlags" } },
	{ (void **)&p_init,         1, { "nvmlInit_v2", "nvmlInit" } },
	{ (void **)&p_shutdown,     1, { "nvmlShutdown" } },
	{ (void **)&p_error_string, 1, { "nvmlErrorString" } },
	{ (void **)&p_count,        1, { "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount" } },
	{ (void **)&p_by_index,     1, { "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex" } },
	{ (void **)&p_uuid,         1, { "nvmlDeviceGetUUID" } },
	{ (void **)&p_name,         1, { "nvmlDeviceGetName" } },
	{ (void **)&p_minor,        0, { "nvmlDeviceGetMinorNumber" } },
	{ (void **)&p_memory_v2,    0, { "nvmlDeviceGetMemoryInfo_v2" } },
	{ (void **)&p_memory,       1, { "nvmlDeviceGetMemoryInfo" } },
	/* each process-list version has its own record layout */
	{ (void **)&p_procs_v3,     0, { "nvmlDeviceGetComputeRunningProcesses_v3" } },
	{ (void **)&p_procs_v2,     0, { "nvmlDeviceGetComputeRunningProcesses_v2" } },
	{ (void **)&p_procs_v1,     0, { "nvmlDeviceGetComputeRunningProcesses" } },
	/* readings for monitors: every one optional */
	{ (void **)&p_utilization,  0, { "nvmlDeviceGetUtilizationRates" } },
	{ (void **)&p_temperature,  0, { "nvmlDeviceGetTemperature" } },
	{ (void **)&p_power,        0, { "nvmlDeviceGetPowerUsage" } },
	{ (void **)&p_power_limit,  0, { "nvmlDeviceGetEnforcedPowerLimit",
				     "nvmlDeviceGetPowerManagementLimit" } },
	{ (void **)&p_driver_version, 0, { "nvmlSystemGetDriverVersion" } },
};

static void *nvml_lib;
static const char *nvml_lib_name;      /* what was dlopen()ed, for messages */
static int nvml_initialised;

static void
add_nvml_error(struct strbuf *err, nvml_ret rc)
{
	strbuf_addf(err, "%s (code %d)", p_error_string(rc), rc);
}

static void
forget_symbols(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(nvml_syms); i++)
		*nvml_syms[i].slot = NULL;
}

/* Set by gpu_set_library(): the installation's choice, not the caller's. */
static int lib_fixed;
static char *lib_fixed_path;

void
gpu_set_library(const char *path)
{
	free(lib_fixed_path);
	lib_fixed_path = path ? xstrdup(path) : NULL;
	lib_fixed = 1;
}

/* dlopens NVML; the message names the library that was looked for. */
static int
load_library(struct strbuf *err)
{
	const char *path = lib_fixed ? lib_fixed_path : getenv("GENV_NVML_LIBRARY");
	const char *origin = lib_fixed ? "genv.conf" : "GENV_NVML_LIBRARY";

	if (path && *path) {
		struct strbuf why = STRBUF_INIT;

		/* an override must not wander through the library search path */
		if (*path != '/') {
			strbuf_addf(err, "GENV_NVML_LIBRARY must be an absolute path, not '%s'", path);
			return -1;
		}
		nvml_lib_name = path;
		/* code the installation names must be code only root can change */
		if (lib_fixed && path_root_only(path, S_IFREG, (gid_t)-1, &why) < 0) {
			strbuf_addf(err, "NVIDIA driver not found: %s (%s) is not loaded: %s",
				    path, origin, why.buf);
			strbuf_release(&why);
			return -1;
		}
		strbuf_release(&why);
		nvml_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!nvml_lib) {
			strbuf_addf(err, "NVIDIA driver not found: %s (%s) could not be loaded (%s)",
				    path, origin, dlerror());
			return -1;
		}
		return 0;
	}
	nvml_lib_name = "libnvidia-ml.so.1";
	nvml_lib = dlopen(nvml_lib_name, RTLD_NOW | RTLD_LOCAL);
	if (!nvml_lib) {
		/* keep the error of the name every driver installs */
		struct strbuf why = STRBUF_INIT;

		strbuf_addstr(&why, dlerror());
		nvml_lib_name = "libnvidia-ml.so";
		nvml_lib = dlopen(nvml_lib_name, RTLD_NOW | RTLD_LOCAL);
		if (!nvml_lib)
			strbuf_addf(err, "NVIDIA driver not found: libnvidia-ml.so.1 could not be loaded (%s)",
				    why.buf);
		strbuf_release(&why);
		if (!nvml_lib)
			return -1;
	}
	return 0;
}

static int
resolve_symbols(struct strbuf *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(nvml_syms); i++) {
		const struct nvml_sym *s = &nvml_syms[i];

		*s->slot = NULL;
		for (size_t j = 0; j < ARRAY_SIZE(s->names) && s->names[j] && !*s->slot; j++)
			*s->slot = dlsym(nvml_lib, s->names[j]);
		if (!*s->slot && s->required) {
			strbuf_addf(err, "the NVML library %s lacks the required function '%s'",
				    nvml_lib_name, s->names[0]);
			return -1;
		}
	}
	if (!p_procs_v3 && !p_procs_v2 && !p_procs_v1) {
		strbuf_addf(err, "the NVML library %s lacks the required function "
			    "'nvmlDeviceGetComputeRunningProcesses'", nvml_lib_name);
		return -1;
	}
	return 0;
}

int
gpu_open(struct strbuf *err)
{
	static int atexit_registered;
	nvml_ret rc;

	if (nvml_initialised)
		return 0;
	if (load_library(err) < 0)
		return -1;
	if (resolve_symbols(err) < 0)
		goto fail;
	rc = p_init_flags ? p_init_flags(NVML_INIT_FLAG_NO_GPUS) : p_init();
	if (rc != NVML_SUCCESS) {
		strbuf_addstr(err, "NVML initialisation failed: ");
		add_nvml_error(err, rc);
		goto fail;
	}
	nvml_initialised = 1;
	if (!atexit_registered) {
		atexit(gpu_close);
		atexit_registered = 1;
	}
	return 0;
fail:
	dlclose(nvml_lib);
	nvml_lib = NULL;
	forget_symbols();
	return -1;
}

void
gpu_close(void)
{
	if (nvml_initialised)
		p_shutdown();
	nvml_initialised = 0;
	if (nvml_lib)
		dlclose(nvml_lib);
	nvml_lib = NULL;
	forget_symbols();
}

/* ---- devices */

/*
 * Gets the handle of device index; returns 1 when NVML refuses it
 * (NO_PERMISSION: a device outside our cgroup), which callers skip.
 */
static int
device_handle(unsigned index, nvml_dev *dev, struct strbuf *err)
{
	nvml_ret rc = p_by_index(index, dev);

	if (rc == NVML_ERROR_NO_PERMISSION)
		return 1;
	if (rc != NVML_SUCCESS) {
		strbuf_addf(err, "cannot get a handle for GPU %u: ", index);
		add_nvml_error(err, rc);
		return -1;
	}
	return 0;
}

static int
device_count(unsigned *count, struct strbuf *err)
{
	nvml_ret rc = p_count(count);

	if (rc != NVML_SUCCESS) {
		strbuf_addstr(err, "cannot count the GPUs: ");
		add_nvml_error(err, rc);
		return -1;
	}
	return 0;
}

static int
device_string(nvml_dev dev, unsigned index, const char *what,
	      nvml_ret (*fn)(nvml_dev, char *, unsigned), char **out, struct strbuf *err)
{
	char buf[NVML_BUFFER_SIZE];
	nvml_ret rc = fn(dev, buf, sizeof(buf));

	if (rc != NVML_SUCCESS) {
		strbuf_addf(err, "cannot read the %s of GPU %u: ", what, index);
		add_nvml_error(err, rc);
		return -1;
	}
	buf[sizeof(buf) - 1] = '\0';
	*out = xstrdup(buf);
	return 0;
}

static int
device_memory(nvml_dev dev, struct gpu_device *d, struct strbuf *err)
{
	struct nvml_memory_v1 v1;
	nvml_ret rc = NVML_ERROR_FUNCTION_NOT_FOUND;

	if (p_memory_v2) {
		struct nvml_memory_v2 v2 = { .version = NVML_MEMORY_V2_VERSION };

		rc = p_memory_v2(dev, &v2);
		if (rc == NVML_SUCCESS) {
			d->mem_total = v2.total;
			d->mem_used = v2.used;
			return 0;
		}
	}
	/* older drivers: no _v2, or a _v2 that does not know this version */
	if (rc == NVML_ERROR_FUNCTION_NOT_FOUND || rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH ||
	    rc == NVML_ERROR_NOT_SUPPORTED)
		rc = p_memory(dev, &v1);
	if (rc != NVML_SUCCESS) {
		strbuf_addf(err, "cannot read the memory of GPU %u: ", d->index);
		add_nvml_error(err, rc);
		return -1;
	}
	d->mem_total = v1.total;
	d->mem_used = v1.used;
	return 0;
}

/*
 * Records the outcome of one optional reading: its bit set on success, an
 * error counted unless the device or driver just cannot tell. Returns
 * whether the value is good (a failed call may have scribbled on it).
 */
static int
reading_ok(struct gpu_device *d, nvml_ret rc, unsigned bit)
{
	if (rc == NVML_SUCCESS) {
		d->valid |= bit;
		return 1;
	}
	if (rc != NVML_ERROR_NOT_SUPPORTED && rc != NVML_ERROR_NO_PERMISSION &&
	    rc != NVML_ERROR_FUNCTION_NOT_FOUND)
		d->read_errors++;
	return 0;
}

static void
device_readings(nvml_dev dev, struct gpu_device *d)
{
	struct nvml_utilization u = { 0, 0 };

	if (p_utilization && reading_ok(d, p_utilization(dev, &u), GPU_HAS_UTILIZATION)) {
		d->util_gpu = u.gpu;
		d->util_mem = u.memory;
	}
	if (p_temperature && !reading_ok(d, p_temperature(dev, NVML_TEMPERATURE_GPU, &d->temperature),
					 GPU_HAS_TEMPERATURE))
		d->temperature = 0;
	if (p_power && !reading_ok(d, p_power(dev, &d->power_mw), GPU_HAS_POWER))
		d->power_mw = 0;
	if (p_power_limit && !reading_ok(d, p_power_limit(dev, &d->power_limit_mw), GPU_HAS_POWER_LIMIT))
		d->power_limit_mw = 0;
}

int
gpu_list_devices(struct gpu_devices *out, struct strbuf *err)
{
	return gpu_query_devices(out, 0, err);
}

int
gpu_query_devices(struct gpu_devices *out, unsigned flags, struct strbuf *err)
{
	unsigned count;

	if (gpu_open(err) < 0 || device_count(&count, err) < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		struct gpu_device d = { .index = i, .minor = -1 };
		nvml_dev dev;
		int got = device_handle(i, &dev, err);
		unsigned minor;

		if (got < 0)
			return -1;
		if (got > 0)
			continue;
		/* optional: only job mode needs it, to find the node's GPU */
		if (p_minor && p_minor(dev, &minor) == NVML_SUCCESS)
			d.minor = (long)minor;
		if (device_string(dev, i, "UUID", p_uuid, &d.uuid, err) < 0 ||
		    device_string(dev, i, "name", p_name, &d.name, err) < 0 ||
		    device_memory(dev, &d, err) < 0) {
			free(d.uuid);
			free(d.name);
			return -1;
		}
		if (flags & GPU_QUERY_READINGS)
			device_readings(dev, &d);
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = d;
	}
	return 0;
}

/* ---- processes */

static const struct procs_variant {
	nvml_procs_fn *fn;
	size_t stride;
	const char *name;
} procs_variants[] = {
	{ &p_procs_v3, sizeof(struct nvml_process_v2), "nvmlDeviceGetComputeRunningProcesses_v3" },
	{ &p_procs_v2, sizeof(struct nvml_process_v2), "nvmlDeviceGetComputeRunningProcesses_v2" },
	{ &p_procs_v1, sizeof(struct nvml_process_v1), "nvmlDeviceGetComputeRunningProcesses" },
};

#define PROCS_FIRST_GUESS 32
#define PROCS_MAX_TRIES 8
#define PROCS_MAX_ROOM (1u << 20)   /* a bogus count must not become a huge malloc */

/*
 * Calls one process-list entry point with a buffer that grows on
 * INSUFFICIENT_SIZE (the list changes between calls, so leave slack).
 * On success *buf holds *count records of v->stride bytes.
 */
static nvml_ret
query_processes(const struct procs_variant *v, nvml_dev dev, void **buf, unsigned *count)
{
	unsigned room = PROCS_FIRST_GUESS;
	nvml_ret rc = NVML_ERROR_INSUFFICIENT_SIZE;

	for (int tries = 0; tries < PROCS_MAX_TRIES && rc == NVML_ERROR_INSUFFICIENT_SIZE; tries++) {
		*buf = xrealloc(*buf, room * v->stride);
		*count = room;
		rc = (*v->fn)(dev, count, *buf);
		if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
			if (*count >= PROCS_MAX_ROOM / 2)
				break;
			room = (*count > room ? *count : room) * 2;
		}
	}
	return rc;
}

static int
device_processes(nvml_dev dev, unsigned index, const char *uuid,
		 struct gpu_processes *out, struct strbuf *err)
{
	const struct procs_variant *v = NULL;
	void *buf = NULL;
	unsigned count = 0;
	nvml_ret rc = NVML_ERROR_FUNCTION_NOT_FOUND;

	/* newest first; a stub that says "not here" hands over to the next */
	for (size_t i = 0; i < ARRAY_SIZE(procs_variants); i++) {
		if (!*procs_variants[i].fn)
			continue;
		v = &procs_variants[i];
		rc = query_processes(v, dev, &buf, &count);
		if (rc != NVML_ERROR_FUNCTION_NOT_FOUND && rc != NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
			break;
	}
	if (rc == NVML_ERROR_NOT_SUPPORTED) {
		count = 0;      /* this device cannot tell: nothing known to run there */
	} else if (rc != NVML_SUCCESS) {
		strbuf_addf(err, "cannot list the processes of GPU %u (%s): ", index, v ? v->name : "?");
		if (rc == NVML_ERROR_INSUFFICIENT_SIZE)
			strbuf_addstr(err, "the list kept growing while it was read");
		else
			add_nvml_error(err, rc);
		free(buf);
		return -1;
	}
	for (unsigned i = 0; i < count; i++) {
		const char *rec = (const char *)buf + i * v->stride;
		struct gpu_process *p;
		unsigned long long used;

		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		p = &out->v[out->nr++];
		if (v->stride == sizeof(struct nvml_process_v1)) {
			const struct nvml_process_v1 *r = (const void *)rec;
			p->pid = r->pid;
			used = r->used;
		} else {
			const struct nvml_process_v2 *r = (const void *)rec;
			p->pid = r->pid;
			used = r->used;
		}
		p->device_index = index;
		p->device_uuid = xstrdup(uuid);
		p->used_known = used != NVML_VALUE_NOT_AVAILABLE;
		p->used = p->used_known ? used : 0;
	}
	free(buf);
	return 0;
}

int
gpu_list_processes(struct gpu_processes *out, struct strbuf *err)
{
	unsigned count;

	if (gpu_open(err) < 0 || device_count(&count, err) < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		nvml_dev dev;
		char *uuid = NULL;
		int got = device_handle(i, &dev, err);

		if (got > 0)
			continue;
		if (got < 0 || device_string(dev, i, "UUID", p_uuid, &uuid, err) < 0)
			return -1;
		got = device_processes(dev, i, uuid, out, err);
		free(uuid);
		if (got < 0)
			return -1;
	}
	return 0;
}

void
gpu_device_release(struct gpu_device *g)
{
	free(g->uuid);
	free(g->name);
	g->uuid = g->name = NULL;
}

void
gpu_devices_release(struct gpu_devices *d)
{
	for (size_t i = 0; i < d->nr; i++)
		gpu_device_release(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->nr = d->alloc = 0;
}

void
gpu_processes_release(struct gpu_processes *p)
{
	for (size_t i = 0; i < p->nr; i++)
		free(p->v[i].device_uuid);
	free(p->v);
	p->v = NULL;
	p->nr = p->alloc = 0;
}

int
gpu_driver_version(struct strbuf *out, struct strbuf *err)
{
	char buf[96];  /* NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE is 80 */
	nvml_ret rc;

	if (gpu_open(err) < 0)
		return -1;
	if (!p_driver_version) {
		strbuf_addf(err, "the NVML library %s cannot tell its driver version", nvml_lib_name);
		return -1;
	}
	rc = p_driver_version(buf, sizeof(buf));
	if (rc) {
		strbuf_addstr(err, "cannot read the driver version: ");
		add_nvml_error(err, rc);
		return -1;
	}
	buf[sizeof(buf) - 1] = '\0';
	strbuf_addstr(out, buf);
	return 0;
}
