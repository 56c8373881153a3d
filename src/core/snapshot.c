/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c: a read-only view of GPU processes, environments and devices
 * (snapshot.h), as `genv usage snapshot` prints it and enforcement judges
 * it. State is loaded with cleanup and never saved.
 */
#include "compat.h"
#include "core/snapshot.h"
#include "core/store.h"
#include "gpu/gpu.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

int
process_read_identity(long pid, char **eid, long long *uid)
{
	*eid = NULL;
	*uid = -1;
	/* a status without a Uid line just leaves the uid unknown */
	if (proc_real_uid(pid, uid) < 0 && errno != EINVAL)
		return -1;
	return proc_environ_get(pid, "GENV_ENVIRONMENT_ID", eid);
}

static int
cmp_pid(const void *a, const void *b)
{
	const struct process *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
take_processes(struct processes *ps, struct strvec *warnings, struct strbuf *err)
{
	struct gpu_processes gps = GPU_PROCESSES_INIT;
	struct strbuf mem = STRBUF_INIT;

	if (gpu_open(err) < 0 || gpu_list_processes(&gps, err) < 0) {
		gpu_processes_release(&gps);
		return -1;
	}
	for (size_t i = 0; i < gps.nr; i++) {
		const struct gpu_process *g = &gps.v[i];
		struct process *p;
		long index;

		/* in a Slurm job, only the job's GPUs, by their index there */
		if (store_device_position(g->device_index, &index) < 0)
			continue;
		p = processes_find(ps, (long)g->pid);
		if (!p)
			p = processes_append(ps, (long)g->pid, NULL);
		strbuf_reset(&mem);
		/* NVML's "not available" (some MIG/WSL setups) counts as 0 */
		strbuf_addf(&mem, "%llumi", g->used_known ? g->used >> 20 : 0ULL);
		process_add_usage(p, index, mem.buf);
	}
	gpu_processes_release(&gps);
	strbuf_release(&mem);

	if (ps->nr)
		qsort(ps->v, ps->nr, sizeof(*ps->v), cmp_pid);
	for (size_t i = 0; i < ps->nr; i++) {
		struct process *p = &ps->v[i];

		if (process_read_identity(p->pid, &p->eid, &p->uid) < 0) {
			/* another user's process, and we are not root */
			p->hidden = errno == EACCES || errno == EPERM;
			if (p->hidden)
				strvec_pushf(warnings, "[WARNING] Not enough permissions to query environment of process %ld",
					     p->pid);
			else
				strvec_pushf(warnings, "[DEBUG] Process %ld already terminated",
					     p->pid);
		}
	}
	return 0;
}

int
snapshot_take(struct store *st, struct snapshot *s, unsigned parts,
	      struct strvec *warnings, struct strbuf *err)
{
	/* 1.4.3's order: processes first, then envs, then devices */
	if ((parts & SNAPSHOT_PROCESSES) && take_processes(&s->processes, warnings, err) < 0)
		goto fail;
	if ((parts & SNAPSHOT_ENVS) &&
	    store_load_envs(st, &s->envs, STORE_CLEANUP, err) < 0)
		goto fail;
	if ((parts & SNAPSHOT_DEVICES) &&
	    store_load_devices(st, &s->devices, (parts & SNAPSHOT_ENVS) ? &s->envs : NULL,
			       STORE_CLEANUP, err) < 0)
		goto fail;
	return 0;
fail:
	snapshot_release(s);
	return -1;
}

int
snapshot_read(struct snapshot *s, unsigned parts, struct strvec *warnings,
	      struct strbuf *err)
{
	struct store st = STORE_INIT;
	int rc = store_init(&st, err);

	/* no lock: saves are atomic, and anyone may hold the lock forever */
	if (!rc)
		rc = snapshot_take(&st, s, parts, warnings, err);
	store_release(&st);
	return rc;
}
