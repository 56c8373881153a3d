/* SPDX-License-Identifier: MIT */
/*
 * fake-nvml.c: a tiny libnvidia-ml.so.1 for tests. It answers the public
 * NVML calls genv uses from an inventory file named by
 * $GENV_FAKE_NVML_CONFIG (else $FAKE_NVML_CONFIG), re-read at every init:
 *
 *   gpu <index> <uuid> <total-MiB> <name with spaces...>
 *   proc <gpu-index> <pid> <used-MiB | na>
 *   util <gpu-index> <gpu-%> <memory-%>       (optional, default 0 0)
 *   temp <gpu-index> <celsius>                (optional, default 40)
 *   power <gpu-index> <watts> [<limit-watts>] (optional; without it the power
 *                                              functions return NOT_SUPPORTED,
 *                                              as many boards do)
 *   fail <gpu-index> <nvml-function> <code>   (that function returns code for
 *                                              that GPU: 3 = NOT_SUPPORTED,
 *                                              15 = GPU is lost, ...)
 *   reserved <gpu-index> <MiB>                (driver-reserved memory: counted
 *                                              in v1 "used", apart in v2)
 *   missing <nvml-function>                   (it returns FUNCTION_NOT_FOUND,
 *                                              as on an older driver)
 *   init_error <nvml-code>                    (every init fails with it)
 *   noperm <gpu-index>                        (handle: NO_PERMISSION)
 *   watch                                     (see below)
 *   init_log <path>                           (each successful init appends
 *                                              "init <pid>" to path)
 *   devnodes <dir>                            (GPU i is dir/nvidia<i>: see below)
 *   # comment (also after a line's content), blank lines
 * proc lines may come before their gpu line; noperm/util/temp/power/fail
 * must follow it. `missing` and `fail` apply to the device functions that
 * read memory, utilization, temperature and power.
 *
 * The file is read at init only, unless it says `watch`: then it is read
 * again at the start of each device enumeration (nvmlDeviceGetCount) when
 * it changed (inode, size or mtime), as a driver shows GPUs, processes and
 * readings change under a long-running process. Replace a watched file
 * atomically (write another, then mv): a half-written one is malformed.
 *
 * With `devnodes`, init shows only the GPUs whose node this process may
 * open, as the driver does inside a devices cgroup (Slurm's ConstrainDevices):
 * open(O_RDWR) failing with EPERM, EACCES or ENOENT hides the GPU; success,
 * ENXIO or ENODEV (a node made with mknod, no driver behind it) shows it.
 * The GPUs shown are renumbered 0..k-1 in index order (nvmlDeviceGetIndex,
 * GetHandleByIndex); their UUIDs stay, and nvmlDeviceGetMinorNumber gives
 * the configured index (/dev/nvidia<minor>) with or without `devnodes`.
 * proc/util/... lines keep naming the configured index.
 *
 * No variable or no file: init returns 9 (Driver Not Loaded), as on a
 * machine without a driver. A malformed line: init returns 999 (Unknown).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int nvmlReturn_t;
enum { OK = 0, UNINIT = 1, INVAL = 2, NOPERM = 4, INSUFF = 7, NODRIVER = 9,
       VERSION_MISMATCH = 25, UNKNOWN = 999 };
#define NA_VALUE (~0ULL)             /* NVML_VALUE_NOT_AVAILABLE */
#define MIB (1024ULL * 1024ULL)
#define MEMORY_V2_VERSION 0x02000028u /* sizeof(nvmlMemory_v2_t) | 2 << 24 */

struct fgpu {
	unsigned index;                   /* configured: the minor number */
	unsigned pos;                     /* NVML's index; NOT_SHOWN when hidden */
	unsigned util_gpu, util_mem, temp;
	int noperm, has_power;
	unsigned power_mw, power_limit_mw;
	unsigned long long total_mib, reserved_mib;
	char uuid[96], name[96];
};
struct fproc { unsigned gpu, pid; unsigned long long used; };
struct ffail { unsigned gpu; int code; char fn[96]; };

typedef struct fgpu *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct { unsigned pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
typedef struct { unsigned pid; unsigned long long usedGpuMemory;
		 unsigned gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;  /* v2 */
typedef struct { unsigned gpu, memory; } nvmlUtilization_t;

static struct fgpu *gpus;
static struct fproc *procs;
static struct ffail *fails;
static size_t nr_gpus, nr_procs, nr_fails, nr_shown;
static char devnodes[512];            /* "" or the directory of nvidia<i> */
#define NOT_SHOWN (~0u)
static char missing[1024];            /* " name name ... " */
static char init_log[512];
static int init_count, watching;
static struct stat loaded;            /* the file as last read, for `watch` */

static void *grow(void *v, size_t n, size_t size)
{
	void *p = realloc(v, (n + 1) * size);

	return p ? p : (abort(), NULL);
}

static void forget(void)
{
	free(gpus);
	free(procs);
	free(fails);
	gpus = NULL;
	procs = NULL;
	fails = NULL;
	nr_gpus = nr_procs = nr_fails = 0;
	missing[0] = '\0';
	init_log[0] = '\0';
	devnodes[0] = '\0';
	watching = 0;
	nr_shown = 0;
}

static struct fgpu *gpu_at(unsigned index)
{
	for (size_t i = 0; i < nr_gpus; i++)
		if (gpus[i].index == index)
			return &gpus[i];
	return NULL;
}

/* "power <gpu-index> <watts> [<limit-watts>]" */
static int parse_power(const char *line)
{
	unsigned a;
	double w, limit = 0;
	int n = 0, got = sscanf(line, "power %u %lf %n", &a, &w, &n);
	struct fgpu *g = gpu_at(a);

	if (got != 2 || !g || w < 0)
		return UNKNOWN;
	if (line[n] && (sscanf(line + n, "%lf %n", &limit, &got) != 1 || line[n + got] || limit < 0))
		return UNKNOWN;
	g->has_power = 1;
	g->power_mw = (unsigned)(w * 1000 + 0.5);
	g->power_limit_mw = (unsigned)(limit * 1000 + 0.5);
	return 0;
}

/* Parses one line; returns 0, or UNKNOWN when it is malformed. */
static int parse_line(char *line, int *init_error)
{
	char word[32], uuid[96], used[32];
	unsigned a, b, c;
	unsigned long long mib;
	int n = 0;
	struct fgpu *g;
	char *end;

	for (end = line; *end && *end != '\n' && *end != '\r'; end++)
		if (*end == '#' && (end == line || end[-1] == ' ' || end[-1] == '\t'))
			break;                  /* a comment, whole-line or trailing */
	while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	line += strspn(line, " \t");
	if (!*line)
		return 0;
	if (sscanf(line, "%31s", word) != 1)
		return UNKNOWN;
	if (!strcmp(word, "gpu")) {
		if (sscanf(line, "gpu %u %95s %llu %n", &a, uuid, &mib, &n) != 3 || !line[n] || gpu_at(a))
			return UNKNOWN;
		gpus = grow(gpus, nr_gpus, sizeof(*gpus));
		g = &gpus[nr_gpus++];
		memset(g, 0, sizeof(*g));
		g->index = a;
		g->total_mib = mib;
		g->temp = 40;
		snprintf(g->uuid, sizeof(g->uuid), "%s", uuid);
		snprintf(g->name, sizeof(g->name), "%s", line + n);
		return 0;
	}
	if (!strcmp(word, "proc")) {
		if (sscanf(line, "proc %u %u %31s %n", &a, &b, used, &n) != 3 || line[n])
			return UNKNOWN;
		procs = grow(procs, nr_procs, sizeof(*procs));
		procs[nr_procs] = (struct fproc){ a, b, NA_VALUE };
		if (strcmp(used, "na")) {
			if (sscanf(used, "%llu%n", &mib, &n) != 1 || used[n])
				return UNKNOWN;
			procs[nr_procs].used = mib * MIB;
		}
		nr_procs++;
		return 0;
	}
	if (!strcmp(word, "watch") && !line[5]) {
		watching = 1;
		return 0;
	}
	if (!strcmp(word, "devnodes") && sscanf(line, "devnodes %511s %n", devnodes, &n) == 1 && !line[n])
		return 0;
	if (!strcmp(word, "init_log") && sscanf(line, "init_log %511s %n", init_log, &n) == 1 && !line[n])
		return 0;
	if (!strcmp(word, "fail") && sscanf(line, "fail %u %95s %u %n", &a, uuid, &b, &n) == 3 && !line[n] &&
	    gpu_at(a)) {
		fails = grow(fails, nr_fails, sizeof(*fails));
		fails[nr_fails] = (struct ffail){ a, (int)b, "" };
		snprintf(fails[nr_fails++].fn, sizeof(fails->fn), "%s", uuid);
		return 0;
	}
	if (!strcmp(word, "power"))
		return parse_power(line);
	if (!strcmp(word, "init_error") && sscanf(line, "init_error %u %n", &a, &n) == 1 && !line[n]) {
		*init_error = (int)a;
		return 0;
	}
	if (!strcmp(word, "missing") && sscanf(line, "missing %95s %n", uuid, &n) == 1 && !line[n]) {
		size_t len = strlen(missing);
		return snprintf(missing + len, sizeof(missing) - len, " %s ", uuid) >=
		       (int)(sizeof(missing) - len) ? UNKNOWN : 0;
	}
	/* the rest change a gpu already listed */
	if (!strcmp(word, "noperm") && sscanf(line, "noperm %u %n", &a, &n) == 1 && !line[n] && (g = gpu_at(a)))
		g->noperm = 1;
	else if (!strcmp(word, "util") && sscanf(line, "util %u %u %u %n", &a, &b, &c, &n) == 3 && !line[n] && (g = gpu_at(a)))
		g->util_gpu = b, g->util_mem = c;
	else if (!strcmp(word, "temp") && sscanf(line, "temp %u %u %n", &a, &b, &n) == 2 && !line[n] && (g = gpu_at(a)))
		g->temp = b;
	else if (!strcmp(word, "reserved") && sscanf(line, "reserved %u %llu %n", &a, &mib, &n) == 2 && !line[n] && (g = gpu_at(a)))
		g->reserved_mib = mib;
	else
		return UNKNOWN;
	return 0;
}

/* Whether this process may open GPU g's node, as the driver checks. */
static int node_allowed(const struct fgpu *g)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/nvidia%u", devnodes, g->index);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENXIO || errno == ENODEV;
}

/* NVML's indices: every GPU's own, or 0..k-1 over the ones shown. */
static void number_shown(void)
{
	nr_shown = 0;
	for (unsigned i = 0; i < nr_gpus; i++) {
		struct fgpu *g = gpu_at(i);

		g->pos = NOT_SHOWN;
		if (!devnodes[0] || node_allowed(g))
			g->pos = (unsigned)nr_shown++;
	}
}

static nvmlReturn_t load_inventory(void)
{
	const char *path = getenv("GENV_FAKE_NVML_CONFIG");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0, init_error = 0;
	FILE *f;

	if (!path || !*path)
		path = getenv("FAKE_NVML_CONFIG");
	forget();
	if (!path || !*path || !(f = fopen(path, "r")))
		return NODRIVER;
	if (fstat(fileno(f), &loaded) < 0)
		memset(&loaded, 0, sizeof(loaded));
	while (!rc && getline(&line, &cap, f) >= 0)
		rc = parse_line(line, &init_error);
	free(line);
	fclose(f);
	for (size_t i = 0; !rc && i < nr_procs; i++)
		if (!gpu_at(procs[i].gpu))
			rc = UNKNOWN;
	for (size_t i = 0; !rc && i < nr_gpus; i++)   /* indices are 0..count-1 */
		if (gpus[i].index >= nr_gpus)
			rc = UNKNOWN;
	if (!rc)
		rc = init_error;
	if (rc)
		forget();
	else
		number_shown();
	return rc;
}

/* With `watch`: the file was replaced or rewritten since it was read. */
static int inventory_changed(void)
{
	const char *path = getenv("GENV_FAKE_NVML_CONFIG");
	struct stat now;

	if (!path || !*path)
		path = getenv("FAKE_NVML_CONFIG");
	if (!path || !*path || stat(path, &now) < 0)
		return 0;
	return now.st_ino != loaded.st_ino || now.st_dev != loaded.st_dev ||
	       now.st_size != loaded.st_size || now.st_mtim.tv_sec != loaded.st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != loaded.st_mtim.tv_nsec;
}

static void log_init(void)
{
	FILE *f;

	if (!init_log[0] || !(f = fopen(init_log, "a")))
		return;
	fprintf(f, "init %ld\n", (long)getpid());
	fclose(f);
}

/* ---- the exported NVML API */

static int is_missing(const char *fn)
{
	char key[128];

	snprintf(key, sizeof(key), " %s ", fn);
	return strstr(missing, key) != NULL;
}
#define FUNCTION_NOT_FOUND 13

/* What a `missing` or `fail` line makes fn return for dev, else OK. */
static nvmlReturn_t injected(const struct fgpu *dev, const char *fn)
{
	if (is_missing(fn))
		return FUNCTION_NOT_FOUND;
	for (size_t i = 0; i < nr_fails; i++)
		if (fails[i].gpu == dev->index && !strcmp(fails[i].fn, fn))
			return fails[i].code;
	return OK;
}

nvmlReturn_t nvmlInit_v2(void)
{
	nvmlReturn_t rc = load_inventory();

	init_count += rc == OK;
	if (rc == OK)
		log_init();
	return rc;
}
nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
nvmlReturn_t nvmlInitWithFlags(unsigned flags) { (void)flags; return nvmlInit_v2(); }

nvmlReturn_t nvmlShutdown(void)
{
	if (!init_count)
		return UNINIT;
	if (--init_count == 0)
		forget();
	return OK;
}

const char *nvmlErrorString(nvmlReturn_t rc)
{
	static const char *const text[] = {
		[0] = "Success", [1] = "Uninitialized", [2] = "Invalid Argument",
		[3] = "Not Supported", [4] = "Insufficient Permissions",
		[5] = "Already Initialized", [6] = "Not Found", [7] = "Insufficient Size",
		[8] = "Insufficient External Power", [9] = "Driver Not Loaded",
		[10] = "Timeout", [12] = "NVML Shared Library Not Found",
		[13] = "Function Not Found", [15] = "GPU is lost",
		[17] = "The operating system has blocked the request.",
		[18] = "RM has detected an NVML/RM version mismatch.",
		[25] = "Argument version mismatch",
	};
	if (rc >= 0 && (size_t)rc < sizeof(text) / sizeof(text[0]) && text[rc])
		return text[rc];
	return "Unknown Error";
}

/* Every call: initialised first, then a non-NULL output argument. */
#define CHECK(out) do { \
	if (!init_count) return UNINIT; \
	if (!(out)) return INVAL; \
} while (0)
/* ...and a handle that points at a device of the current inventory. */
#define CHECK_DEV(dev, out) do { \
	CHECK(out); \
	if (!(dev) || (dev) < gpus || (dev) >= gpus + nr_gpus || (dev)->pos == NOT_SHOWN) \
		return INVAL; \
} while (0)

static nvmlReturn_t copy_str(char *buf, unsigned len, const char *s)
{
	if (strlen(s) >= len)
		return INSUFF;
	memcpy(buf, s, strlen(s) + 1);
	return OK;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned len)
{
	CHECK(buf);
	return copy_str(buf, len, "550.54.15");
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *count)
{
	CHECK(count);
	if (watching && inventory_changed()) {
		nvmlReturn_t rc = load_inventory();

		if (rc != OK)
			return rc;
	}
	*count = (unsigned)nr_shown;
	return OK;
}
nvmlReturn_t nvmlDeviceGetCount(unsigned *count) { return nvmlDeviceGetCount_v2(count); }

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *dev)
{
	struct fgpu *g = NULL;

	CHECK(dev);
	for (size_t i = 0; i < nr_gpus && index != NOT_SHOWN; i++)
		if (gpus[i].pos == index)
			g = &gpus[i];
	if (!g)
		return INVAL;
	if (g->noperm)
		return NOPERM;
	*dev = g;
	return OK;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned i, nvmlDevice_t *dev)
{ return nvmlDeviceGetHandleByIndex_v2(i, dev); }

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *buf, unsigned len)
{
	CHECK_DEV(dev, buf);
	return copy_str(buf, len, dev->uuid);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *buf, unsigned len)
{
	CHECK_DEV(dev, buf);
	return copy_str(buf, len, dev->name);
}

nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t dev, unsigned *index)
{
	CHECK_DEV(dev, index);
	*index = dev->pos;
	return OK;
}

nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t dev, unsigned *minor)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, minor);
	if ((rc = injected(dev, __func__)))
		return rc;
	*minor = dev->index;
	return OK;
}

/* used = what the device's processes use ("na" ones count as 0) + reserved */
static void memory_of(const struct fgpu *dev, nvmlMemory_t *mem)
{
	mem->total = dev->total_mib * MIB;
	mem->used = dev->reserved_mib * MIB;
	for (size_t i = 0; i < nr_procs; i++)
		if (procs[i].gpu == dev->index && procs[i].used != NA_VALUE)
			mem->used += procs[i].used;
	mem->free = mem->used < mem->total ? mem->total - mem->used : 0;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, mem);
	if ((rc = injected(dev, __func__)))
		return rc;
	memory_of(dev, mem);
	return OK;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *mem)
{
	nvmlMemory_t v1;
	nvmlReturn_t rc;

	CHECK_DEV(dev, mem);
	if ((rc = injected(dev, __func__)))
		return rc;
	if (mem->version != MEMORY_V2_VERSION)
		return VERSION_MISMATCH;
	memory_of(dev, &v1);
	*mem = (nvmlMemory_v2_t){ MEMORY_V2_VERSION, v1.total, dev->reserved_mib * MIB, v1.free,
				  v1.used - dev->reserved_mib * MIB };
	return OK;
}

/* NVML's sizing contract: *count too small -> INSUFFICIENT_SIZE and the count. */
static nvmlReturn_t list_procs(const char *fn, nvmlDevice_t dev, unsigned *count, void *infos, int v1)
{
	unsigned n = 0, i = 0;

	CHECK_DEV(dev, count);
	if (is_missing(fn))
		return FUNCTION_NOT_FOUND;
	for (size_t k = 0; k < nr_procs; k++)
		n += procs[k].gpu == dev->index;
	if (*count < n) {
		*count = n;
		return INSUFF;
	}
	if (n && !infos)
		return INVAL;
	for (size_t k = 0; k < nr_procs; k++) {
		struct fproc *p = &procs[k];

		if (p->gpu != dev->index)
			continue;
		if (v1)
			((nvmlProcessInfo_v1_t *)infos)[i++] = (nvmlProcessInfo_v1_t){ p->pid, p->used };
		else
			((nvmlProcessInfo_t *)infos)[i++] =
				(nvmlProcessInfo_t){ p->pid, p->used, 0xFFFFFFFFu, 0xFFFFFFFFu };
	}
	*count = n;
	return OK;
}

/* _v3 and _v2 fill nvmlProcessInfo_t (24 bytes), the plain one v1 (16 bytes) */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned *n, void *infos)
{ return list_procs(__func__, d, n, infos, 0); }
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned *n, void *infos)
{ return list_procs(__func__, d, n, infos, 0); }
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned *n, void *infos)
{ return list_procs(__func__, d, n, infos, 1); }

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t dev, unsigned *count, void *infos)
{
	(void)infos;   /* a compute-only box */
	CHECK_DEV(dev, count);
	*count = 0;
	return OK;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t dev, nvmlUtilization_t *u)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, u);
	if ((rc = injected(dev, __func__)))
		return rc;
	*u = (nvmlUtilization_t){ dev->util_gpu, dev->util_mem };
	return OK;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, int sensor, unsigned *temp)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, temp);
	if (sensor != 0)   /* NVML_TEMPERATURE_GPU */
		return INVAL;
	if ((rc = injected(dev, __func__)))
		return rc;
	*temp = dev->temp;
	return OK;
}

#define NOT_SUPPORTED 3

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned *mw)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, mw);
	if ((rc = injected(dev, __func__)))
		return rc;
	if (!dev->has_power)
		return NOT_SUPPORTED;
	*mw = dev->power_mw;
	return OK;
}

/* a limit of 0 W in the inventory: the board has none to report */
static nvmlReturn_t power_limit(nvmlDevice_t dev, unsigned *mw, const char *fn)
{
	nvmlReturn_t rc;

	CHECK_DEV(dev, mw);
	if ((rc = injected(dev, fn)))
		return rc;
	if (!dev->has_power || !dev->power_limit_mw)
		return NOT_SUPPORTED;
	*mw = dev->power_limit_mw;
	return OK;
}
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t dev, unsigned *mw)
{ return power_limit(dev, mw, __func__); }
nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t dev, unsigned *mw)
{ return power_limit(dev, mw, __func__); }
