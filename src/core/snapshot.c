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
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <unistd.h>

/* Reads /proc/<pid>/<name>; errno is kept from the failing call. */
static int
read_proc_file(long pid, const char *name, struct strbuf *sb)
{
	struct strbuf path = STRBUF_INIT, ignored = STRBUF_INIT;
	int rc, saved;

	strbuf_addf(&path, "/proc/%ld/%s", pid, name);
	rc = read_file_sb(sb, path.buf, &ignored);
	saved = errno;
	strbuf_release(&path);
	strbuf_release(&ignored);
	errno = saved;
	return rc;
}

int
process_read_identity(long pid, char **eid, long long *uid)
{
	struct strbuf status = STRBUF_INIT, environ_sb = STRBUF_INIT;
	const char *line, *next;
	const char *found = NULL;
	size_t found_len = 0;
	int saved;

	*eid = NULL;
	*uid = -1;
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if (read_proc_file(pid, "status", &status) < 0)
		goto fail;
	for (line = status.buf; line; line = next) {
		const char *rest;

		next = strchr(line, '\n');
		if (next)
			next++;

		if (skip_prefix(line, "Uid:", &rest)) {
			char *end;
			long long n = strtoll(rest, &end, 10);

			if (end != rest)
				*uid = n;
			break;
		}
	}
	if (read_proc_file(pid, "environ", &environ_sb) < 0)
		goto fail;
	/* NUL-separated; the last definition wins, as in a Python dict */
	for (size_t off = 0; off < environ_sb.len;) {
		const char *entry = environ_sb.buf + off;
		size_t len = strnlen(entry, environ_sb.len - off);
		const char *value;

		if (skip_prefix(entry, "GENV_ENVIRONMENT_ID=", &value)) {
			found = value;
			found_len = len - (size_t)(value - entry);
		}
		off += len + 1;
	}
	if (found)
		*eid = xstrndup(found, found_len);
	strbuf_release(&status);
	strbuf_release(&environ_sb);
	return 0;
fail:
	saved = errno;
	strbuf_release(&status);
	strbuf_release(&environ_sb);
	errno = saved;
	return -1;
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
		struct process *p = processes_find(ps, (long)g->pid);

		if (!p)
			p = processes_append(ps, (long)g->pid, NULL);
		strbuf_reset(&mem);
		/* NVML's "not available" (some MIG/WSL setups) counts as 0 */
		strbuf_addf(&mem, "%llumi", g->used_known ? g->used >> 20 : 0ULL);
		process_add_usage(p, (long)g->device_index, mem.buf);
	}
	gpu_processes_release(&gps);
	strbuf_release(&mem);

	if (ps->nr)
		qsort(ps->v, ps->nr, sizeof(*ps->v), cmp_pid);
	for (size_t i = 0; i < ps->nr; i++) {
		struct process *p = &ps->v[i];

		if (process_read_identity(p->pid, &p->eid, &p->uid) < 0) {
			if (errno == EACCES || errno == EPERM)
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
