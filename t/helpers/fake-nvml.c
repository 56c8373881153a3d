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
 *   reserved <gpu-index> <MiB>                (driver-reserved memory: counted
 *                                              in v1 "used", apart in v2)
 *   missing <nvml-function>                   (it returns FUNCTION_NOT_FOUND,
 *                                              as on an older driver)
 *   init_error <nvml-code>                    (every init fails with it)
 *   noperm <gpu-index>                        (handle: NO_PERMISSION)
 *   # comment (also after a line's content), blank lines
 * proc lines may come before their gpu line; noperm/util/temp must follow it.
 *
 * No variable or no file: init returns 9 (Driver Not Loaded), as on a
 * machine without a driver. A malformed line: init returns 999 (Unknown).
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
enum { OK = 0, UNINIT = 1, INVAL = 2, NOPERM = 4, INSUFF = 7, NODRIVER = 9,
       VERSION_MISMATCH = 25, UNKNOWN = 999 };
#define NA_VALUE (~0ULL)             /* NVML_VALUE_NOT_AVAILABLE */
#define MIB (1024ULL * 1024ULL)
#define MEMORY_V2_VERSION 0x02000028u /* sizeof(nvmlMemory_v2_t) | 2 << 24 */

struct fgpu {
	unsigned index, util_gpu, util_mem, temp;
	int noperm;
	unsigned long long total_mib, reserved_mib;
	char uuid[96], name[96];
};
struct fproc { unsigned gpu, pid; unsigned long long used; };

typedef struct fgpu *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct { unsigned pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;
typedef struct { unsigned pid; unsigned long long usedGpuMemory;
		 unsigned gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;  /* v2 */
typedef struct { unsigned gpu, memory; } nvmlUtilization_t;

static struct fgpu *gpus;
static struct fproc *procs;
static size_t nr_gpus, nr_procs;
static char missing[1024];            /* " name name ... " */
static int init_count;

static void *grow(void *v, size_t n, size_t size)
{
	void *p = realloc(v, (n + 1) * size);

	return p ? p : (abort(), NULL);
}

static void forget(void)
{
	free(gpus);
	free(procs);
	gpus = NULL;
	procs = NULL;
	nr_gpus = nr_procs = 0;
	missing[0] = '\0';
}

static struct fgpu *gpu_at(unsigned index)
{
	for (size_t i = 0; i < nr_gpus; i++)
		if (gpus[i].index == index)
			return &gpus[i];
	return NULL;
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
	return rc;
}

/* ---- the exported NVML API */

static int is_missing(const char *fn)
{
	char key[128];

	snprintf(key, sizeof(key), " %s ", fn);
	return strstr(missing, key) != NULL;
}
#define FUNCTION_NOT_FOUND 13

nvmlReturn_t nvmlInit_v2(void)
{
	nvmlReturn_t rc = load_inventory();

	init_count += rc == OK;
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
	if (!(dev) || (dev) < gpus || (dev) >= gpus + nr_gpus) return INVAL; \
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
	*count = (unsigned)nr_gpus;
	return OK;
}
nvmlReturn_t nvmlDeviceGetCount(unsigned *count) { return nvmlDeviceGetCount_v2(count); }

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t *dev)
{
	struct fgpu *g = gpu_at(index);

	CHECK(dev);
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
	*index = dev->index;
	return OK;
}

/* used = what the device's processes use ("na" ones count as 0) + reserved */
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem)
{
	CHECK_DEV(dev, mem);
	mem->total = dev->total_mib * MIB;
	mem->used = dev->reserved_mib * MIB;
	for (size_t i = 0; i < nr_procs; i++)
		if (procs[i].gpu == dev->index && procs[i].used != NA_VALUE)
			mem->used += procs[i].used;
	mem->free = mem->used < mem->total ? mem->total - mem->used : 0;
	return OK;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev, nvmlMemory_v2_t *mem)
{
	nvmlMemory_t v1;

	CHECK_DEV(dev, mem);
	if (is_missing("nvmlDeviceGetMemoryInfo_v2"))
		return FUNCTION_NOT_FOUND;
	if (mem->version != MEMORY_V2_VERSION)
		return VERSION_MISMATCH;
	nvmlDeviceGetMemoryInfo(dev, &v1);
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
	CHECK_DEV(dev, u);
	*u = (nvmlUtilization_t){ dev->util_gpu, dev->util_mem };
	return OK;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, int sensor, unsigned *temp)
{
	CHECK_DEV(dev, temp);
	if (sensor != 0)   /* NVML_TEMPERATURE_GPU */
		return INVAL;
	*temp = dev->temp;
	return OK;
}
