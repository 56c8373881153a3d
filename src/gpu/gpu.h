/* SPDX-License-Identifier: MIT */
/*
 * gpu.h: what genv needs to know about the machine's GPUs, read from NVML.
 * NVML is loaded with dlopen at run time (libnvidia-ml.so.1, then
 * libnvidia-ml.so, or the absolute path in $GENV_NVML_LIBRARY), so genv
 * builds and runs without NVIDIA headers or libraries; only commands that
 * really need GPU data fail when the driver is missing.
 *
 * NVML is initialised once per process (on the first call) and shut down
 * by gpu_close() (registered with atexit by the first successful open).
 */
#ifndef GENV_GPU_GPU_H
#define GENV_GPU_GPU_H

#include <stddef.h>

struct strbuf;

/* The optional readings of a device that NVML gave (gpu_device.valid). */
enum gpu_reading {
	GPU_HAS_UTILIZATION = 1 << 0,  /* util_gpu and util_mem */
	GPU_HAS_TEMPERATURE = 1 << 1,
	GPU_HAS_POWER       = 1 << 2,
	GPU_HAS_POWER_LIMIT = 1 << 3,
};

struct gpu_device {
	unsigned index;               /* NVML index (PCI order) */
	long minor;                   /* /dev/nvidia<minor>; -1 when NVML cannot tell */
	char *uuid;                   /* "GPU-..." (owned) */
	char *name;                   /* "NVIDIA A100-SXM4-40GB" (owned) */
	unsigned long long mem_total; /* bytes */
	unsigned long long mem_used;  /* bytes */
	/*
	 * Filled by gpu_query_devices(GPU_QUERY_READINGS) only; a reading
	 * is meaningful when its bit is set in valid.
	 */
	unsigned valid;               /* enum gpu_reading */
	unsigned util_gpu;            /* % of the last sample period with a kernel running */
	unsigned util_mem;            /* % of it with device memory being read or written */
	unsigned temperature;         /* degrees C (GPU die) */
	unsigned power_mw;            /* power draw, milliwatts */
	unsigned power_limit_mw;      /* enforced power limit, milliwatts */
	unsigned read_errors;         /* readings NVML failed to give (not "unsupported") */
};

struct gpu_devices {
	struct gpu_device *v;
	size_t nr, alloc;
};
#define GPU_DEVICES_INIT { NULL, 0, 0 }

struct gpu_process {
	unsigned pid;
	unsigned device_index;        /* NVML index of the device it runs on */
	char *device_uuid;            /* owned */
	int used_known;               /* 0 when NVML reports "not available" */
	unsigned long long used;      /* bytes of GPU memory used on that device */
};

struct gpu_processes {
	struct gpu_process *v;
	size_t nr, alloc;
};
#define GPU_PROCESSES_INIT { NULL, 0, 0 }

/*
 * Loads and initialises NVML if not done yet (a failure is not remembered:
 * the next call tries again). Returns 0, or -1 with one of:
 *   "NVIDIA driver not found: libnvidia-ml.so.1 could not be loaded (<dlerror>)"
 *   "NVIDIA driver not found: <path> (GENV_NVML_LIBRARY) could not be loaded (<dlerror>)"
 *   "NVIDIA driver not found: <path> (genv.conf) is not loaded: <why>"
 *   "GENV_NVML_LIBRARY must be an absolute path, not '<value>'"
 *   "the NVML library <name> lacks the required function '<symbol>'"
 *   "NVML initialisation failed: <nvmlErrorString> (code <n>)",
 *     e.g. "Driver Not Loaded (code 9)".
 * A driver without any GPU is not an error (nvmlInitWithFlags NO_GPUS).
 */
int gpu_open(struct strbuf *err);

/*
 * The library the installation chose (genv.conf): from now on NVML is
 * loaded from path (NULL: the driver's names) and $GENV_NVML_LIBRARY is
 * not read. A path is loaded only if only root can have changed it (see
 * path_root_only); otherwise gpu_open() fails saying why.
 */
void gpu_set_library(const char *path);
/*
 * Shuts NVML down and unloads it; safe to call when not open or twice.
 * A forked child that will not exec must leave with _exit(), or this
 * atexit handler shuts down the parent's NVML session state in the child.
 */
void gpu_close(void);

/*
 * Both listers open NVML if needed and append to *out; on error (-1 and a
 * message naming the GPU and the NVML error) *out may hold a part of the
 * list: release it either way.
 *
 * Lists the devices in index order. Devices NVML counts but refuses to
 * give a handle for (NO_PERMISSION inside cgroups) are skipped, so indices
 * can have holes. mem_used is NVML's _v2 "used" (without the driver's
 * reserved memory) when the driver has it, else v1's.
 */
int gpu_list_devices(struct gpu_devices *out, struct strbuf *err);

enum gpu_query_flags {
	/*
	 * Also read utilization, temperature and power (what a monitor
	 * shows). Each is optional: a driver without the function, a device
	 * that does not support it (NOT_SUPPORTED) or does not allow it
	 * (NO_PERMISSION) leaves its bit out of valid; another NVML error
	 * leaves it out too and counts in read_errors, without failing
	 * the listing.
	 */
	GPU_QUERY_READINGS = 1 << 0,
};
/* gpu_list_devices() with flags (enum gpu_query_flags). */
int gpu_query_devices(struct gpu_devices *out, unsigned flags, struct strbuf *err);
/*
 * Lists compute processes on every device (one entry per pid and device),
 * in device order, then in NVML's order. A device that cannot report
 * processes (NOT_SUPPORTED) contributes none.
 */
int gpu_list_processes(struct gpu_processes *out, struct strbuf *err);

/* Appends the driver's version ("550.54.15"), opening NVML if needed. */
int gpu_driver_version(struct strbuf *out, struct strbuf *err);

void gpu_device_release(struct gpu_device *g);
void gpu_devices_release(struct gpu_devices *d);
void gpu_processes_release(struct gpu_processes *p);

#endif
