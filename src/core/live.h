/* SPDX-License-Identifier: MIT */
/*
 * live.h: what `genv top` and the monitors show of one machine at one
 * moment: the `genv usage snapshot` data (processes, environments,
 * devices with their attachments) plus what NVML says about each GPU
 * right now (memory in use, utilization, ...) and who runs each GPU
 * process (user, command line).
 *
 * Its wire form is one line of JSON (the "watch line"), printed by
 * `genv usage snapshot --watch` once per interval and read back by
 * `genv remote top` and `genv remote monitor` over one ssh session:
 *
 *   {"watch": 1, "hostname": "gpu-server-1", "time": "24/11/2026 01:12:49",
 *    "snapshot": {<exactly the 1.4.3 Snapshot object>},
 *    "gpus": [{"index": 0, "uuid": "GPU-...", "name": "NVIDIA A100",
 *              "memory_total": 17179869184, "memory_used": 4294967296,
 *              "utilization": 37, "memory_utilization": 12, "temperature": 40,
 *              "power": 71250, "power_limit": 400000}],
 *    "process_info": [{"pid": 4242, "uid": 1000, "user": "alice",
 *                      "command": "python train.py", "env_known": true}]}
 *
 * A machine that cannot take a snapshot (NVML failing, a corrupt state
 * file) prints {"watch": 1, "hostname": ..., "time": ..., "error": "..."}
 * instead, and goes on trying. GPU fields NVML does not report are left
 * out; readers ignore keys they do not know, so fields can be added
 * without breaking older readers. "time" is the machine's local time in
 * genv's state format, so that "since" columns are computed against the
 * machine's own clock.
 */
#ifndef GENV_CORE_LIVE_H
#define GENV_CORE_LIVE_H

#include <stddef.h>
#include "core/state.h"

struct gpu_devices;
struct store;
struct strbuf;

#define LIVE_WATCH_VERSION 1

enum live_gpu_valid {
	LIVE_GPU_MEMORY = 1 << 0,  /* mem_total and mem_used */
	LIVE_GPU_UTIL   = 1 << 1,
	LIVE_GPU_TEMP   = 1 << 2,
	LIVE_GPU_POWER  = 1 << 3,
	LIVE_GPU_POWER_LIMIT = 1 << 4,
};

struct live_gpu {
	long index;                   /* the device index of the snapshot */
	char *uuid;                   /* NULL when unknown */
	char *name;                   /* NULL when unknown */
	unsigned long long mem_total; /* bytes */
	unsigned long long mem_used;  /* bytes */
	unsigned util;                /* percent of time a kernel ran, 0..100 */
	unsigned util_mem;            /* percent of time memory was accessed (with util) */
	unsigned temp;                /* degrees C */
	unsigned long power_mw;       /* milliwatts */
	unsigned long power_limit_mw; /* enforced power limit, milliwatts */
	unsigned valid;               /* enum live_gpu_valid */
};

struct live_proc {
	long pid;
	long long uid;     /* -1 when unknown */
	char *user;        /* login name of uid, or NULL */
	char *command;     /* command line (arguments joined by blanks), or NULL;
			    * like every name here, as the system gave it:
			    * escape it to show it */
	int env_known;     /* 0: its environment could not be read (permissions),
			    * so a null eid does not mean "outside any environment" */
};

struct live {
	char *hostname;
	char *time;                   /* "%d/%m/%Y %H:%M:%S", the machine's clock */
	char *error;                  /* no snapshot, and why; NULL when there is one */
	struct snapshot snap;
	struct live_gpu *gpus;        /* in index order */
	size_t gpus_nr, gpus_alloc;
	struct live_proc *procs;      /* in pid order */
	size_t procs_nr, procs_alloc;
	int partial;                  /* from a 1.4.3 one-shot snapshot: no NVML
				       * data; memory in use is the sum of the
				       * processes' and utilization is unknown */
	unsigned nvml_errors;         /* live_collect(): NVML calls that failed
				       * (a list, a GPU's reading); not sent */
};
#define LIVE_INIT { NULL, NULL, NULL, SNAPSHOT_INIT, NULL, 0, 0, NULL, 0, 0, 0, 0 }

void live_init(struct live *l);
void live_release(struct live *l);

/* The GPU with that index, the process info of pid; NULL when none. */
const struct live_gpu *live_find_gpu(const struct live *l, long index);
const struct live_proc *live_find_proc(const struct live *l, long pid);

enum live_collect_flags {
	LIVE_COLLECT_PROCESS_INFO = 1 << 0,  /* who runs each GPU process (/proc) */
	LIVE_COLLECT_PARTIAL      = 1 << 1,  /* what can be read, not all or nothing */
};

/*
 * The one collector of this machine's live view (`genv top`, `genv usage
 * snapshot --watch`, `genv monitor`): fills l (empty) with the snapshot
 * (processes, environments, devices) of the state directory st (NULL:
 * resolved here) joined with what NVML reads of every GPU now. The state
 * is read without the lock: saves are atomic, and a lock held for long by
 * someone else must not freeze a live view. NVML stays initialised for
 * the next call. Per-process problems are not errors (the process info
 * says what is unknown).
 *
 * All or nothing by default: returns -1 with a message in err, l->error
 * set to it and l holding only hostname and time. With
 * LIVE_COLLECT_PARTIAL, what cannot be read is left empty (without NVML's
 * process list, the environments and devices are still read), said in err
 * ("GPUs: ...; processes and environments: ...; environments: ...") and
 * 0 returned (-1 only when st is NULL and the state directory cannot be
 * resolved). l->nvml_errors counts NVML's failures either way.
 */
int live_collect(struct live *l, struct store *st, unsigned flags, struct strbuf *err);

/* Appends l's GPUs to out as NVML's devices with their readings (gpu/gpu.h). */
void live_gpu_devices(struct gpu_devices *out, const struct live *l);

/* Appends l as one watch line (no newline). */
void live_serialize(const struct live *l, struct strbuf *out);

/*
 * Parses a watch line into l (empty). Returns 0, or -1 with a message
 * naming the problem ("watch line: gpus[1].index: ...") and l empty.
 */
int live_parse_line(struct live *l, const char *text, size_t len, struct strbuf *err);

/*
 * The newline-delimited stream of watch lines: takes every complete line
 * off the front of buf (what has arrived so far; a partial last line is
 * left for later) and parses the newest into l, replacing what l held.
 * Older lines are dropped unread (they are out of date) and blank lines
 * skipped. Returns 1 when l holds a new snapshot, 0 when no complete line
 * arrived, -1 when the newest line is not a valid watch line (err says
 * why; l is then empty). A partial line longer than max is an error too.
 */
int live_feed(struct strbuf *buf, size_t max, struct live *l, struct strbuf *err);

/*
 * Fills l (empty) from a 1.4.3 snapshot, taking its contents over (s is
 * left empty): GPUs are those of the devices part, memory in use is what
 * the processes use, and partial is set.
 */
void live_from_snapshot(struct live *l, struct snapshot *s, const char *hostname);

/* ---- `genv usage snapshot --watch` ---- */

/* Writes one line (with its newline); returns -1 when the reader is gone. */
typedef int (*live_emit_fn)(const struct strbuf *line, void *data);

struct live_watch_opts {
	long interval_ms;     /* between two snapshots (>= 1) */
	int watch_fd;         /* our output: stop when its reader closes it */
	live_emit_fn emit;
	void *data;
};

/*
 * Prints a watch line every interval until the reader of watch_fd goes
 * away (the descriptor reports an error or hangup, or emit fails) or our
 * parent process exits (the ssh session that started us is gone). A
 * snapshot that fails is an error line, not the end. Returns 0, or -1
 * with a message in err when it could not start.
 */
int live_watch(const struct live_watch_opts *o, struct strbuf *err);

#endif
