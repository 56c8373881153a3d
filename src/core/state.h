/* SPDX-License-Identifier: MIT */
/*
 * state.h: genv's data model: environments, devices and their
 * attachments, GPU processes, snapshots, and what may be done to them in
 * memory. Loading and saving are store.h's; the JSON form is
 * state-json.h's.
 */
#ifndef GENV_CORE_STATE_H
#define GENV_CORE_STATE_H

#include <stddef.h>
#include "util/strvec.h"

struct strbuf;

/* ----- environments (envs.json) ----- */

struct env_config {
	char *name;        /* NULL when unset (JSON null) */
	char *gpu_memory;  /* e.g. "4g"; NULL when unset */
	int has_gpus;      /* 0 when "gpus" is null */
	long gpus;
};
#define ENV_CONFIG_INIT { NULL, NULL, 0, 0 }

struct env {
	char *eid;
	long long uid;
	char *creation;    /* local time "%d/%m/%Y %H:%M:%S" */
	char *username;    /* NULL when null */
	struct env_config config;
	long *pids;        /* duplicates allowed, in attach order */
	size_t pids_nr, pids_alloc;
	struct strvec kernel_ids;
};

struct envs {
	struct env *v;
	size_t nr, alloc;
};
#define ENVS_INIT { NULL, 0, 0 }

void env_config_release(struct env_config *c);
void env_config_copy(struct env_config *dst, const struct env_config *src);

enum env_config_field {
	ENV_CONFIG_NAME,
	ENV_CONFIG_GPU_MEMORY,
	ENV_CONFIG_GPUS,
};
/*
 * Sets one field: name and gpu-memory to value, gpus to gpus. A NULL
 * value (or gpus < 0 for ENV_CONFIG_GPUS) unsets the field.
 */
void env_config_set_field(struct env_config *c, enum env_config_field field,
			  const char *value, long gpus);
/* Deep copy of src into dst (dst is overwritten, not released). */
void env_copy(struct env *dst, const struct env *src);
void env_release(struct env *e);
void env_add_pid(struct env *e, long pid);
void envs_release(struct envs *envs);
struct env *envs_find(const struct envs *envs, const char *eid);
/* Appends a zeroed env (eid copied, may be NULL; kernel_ids initialised). */
struct env *envs_append(struct envs *envs, const char *eid);
/* Removes envs->v[i], keeping the order of the rest. */
void envs_remove_at(struct envs *envs, size_t i);
/*
 * The position of the first env whose eid an earlier one has, or envs->nr
 * when the eids are unique. O(n log n) whatever the eids.
 */
size_t envs_first_duplicate(const struct envs *envs);

/*
 * Envs by eid, for code that looks many up: O(log n) per lookup whatever
 * the eids (sorted, not hashed, so no input can make it slow). It points
 * into the envs it was built from: build it again after they change.
 */
struct envs_index {
	const struct env **v;
	size_t nr;
};
#define ENVS_INDEX_INIT { NULL, 0 }

void envs_index_build(struct envs_index *idx, const struct envs *envs);
/* The first env (in envs order) with eid, or NULL: envs_find(), faster. */
const struct env *envs_index_find(const struct envs_index *idx, const char *eid);
void envs_index_release(struct envs_index *idx);

/* ----- devices (devices.json) ----- */

struct attachment {
	char *eid;
	char *gpu_memory;  /* NULL = the whole device */
	char *time;        /* "%d/%m/%Y %H:%M:%S" */
};

struct device {
	long index;
	char *total_memory;  /* "<MiB>mi" */
	struct attachment *att;
	size_t att_nr, att_alloc;
};

struct devices {
	struct device *v;
	size_t nr, alloc;
};
#define DEVICES_INIT { NULL, 0, 0 }

void device_release(struct device *d);
void device_copy(struct device *dst, const struct device *src);
/* Appends an attachment (strings copied; gpu_memory may be NULL). */
void device_attach(struct device *d, const char *eid, const char *gpu_memory,
		   const char *time);
/* Removes every attachment of eid; returns how many were removed. */
size_t device_detach(struct device *d, const char *eid);
int device_has_eid(const struct device *d, const char *eid);
void devices_release(struct devices *devs);
struct device *devices_append(struct devices *devs, long index, const char *total_memory);
/* The device whose "index" field is index, or NULL. */
struct device *devices_find(const struct devices *devs, long index);
/*
 * The position of the first device whose index an earlier one has, or
 * devs->nr when the indices are unique. O(n log n).
 */
size_t devices_first_duplicate(const struct devices *devs);

/* ----- GPU processes (never stored; `usage snapshot`) ----- */

struct process_usage {
	long index;          /* device index */
	char *gpu_memory;    /* "<MiB>mi" */
};

struct process {
	long pid;
	struct process_usage *usage;
	size_t usage_nr, usage_alloc;
	char *eid;           /* GENV_ENVIRONMENT_ID of the process, NULL if none */
	/* Local knowledge only, never in JSON: */
	long long uid;       /* real uid of the process, -1 when unknown */
	int hidden;          /* its environment was unreadable to us (EACCES/EPERM) */
};

struct processes {
	struct process *v;
	size_t nr, alloc;
};
#define PROCESSES_INIT { NULL, 0, 0 }

void process_release(struct process *p);
void process_copy(struct process *dst, const struct process *src);
void processes_release(struct processes *ps);
struct process *processes_find(const struct processes *ps, long pid);
/* Appends a process with no usage (eid copied, may be NULL; uid -1). */
struct process *processes_append(struct processes *ps, long pid, const char *eid);
void process_add_usage(struct process *p, long index, const char *gpu_memory);

/* ----- snapshot: {"processes": ..., "envs": ..., "devices": ...} ----- */

struct snapshot {
	struct processes processes;
	struct envs envs;
	struct devices devices;
};
#define SNAPSHOT_INIT { PROCESSES_INIT, ENVS_INIT, DEVICES_INIT }

void snapshot_release(struct snapshot *s);

#endif
