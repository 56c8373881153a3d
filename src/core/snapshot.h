/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h: a read-only joined view of the machine, as `genv usage
 * snapshot` prints it and `genv enforce` judges it: GPU processes (from
 * NVML, with the environment each belongs to from /proc/PID/environ), and
 * the envs and devices state after cleanup (not saved).
 */
#ifndef GENV_CORE_SNAPSHOT_H
#define GENV_CORE_SNAPSHOT_H

#include "core/state.h"

struct store;
struct strbuf;
struct strvec;

enum snapshot_parts {
	SNAPSHOT_PROCESSES = 1 << 0,
	SNAPSHOT_ENVS      = 1 << 1,
	SNAPSHOT_DEVICES   = 1 << 2,
	SNAPSHOT_ALL       = 7,
};

/*
 * Fills the requested parts of s. It needs no lock (store.h): loading
 * alone never saves anything.
 * Per-process problems (environ unreadable, process gone) do not fail the
 * call: 1.4.3's messages ("[WARNING] Not enough permissions to query
 * environment of process 42", "[DEBUG] Process 42 already terminated")
 * are appended to warnings for the caller to print on stderr.
 */
int snapshot_take(struct store *st, struct snapshot *s, unsigned parts,
		  struct strvec *warnings, struct strbuf *err);

/*
 * `genv usage snapshot`: snapshot_take() (without the lock, unlike
 * 1.4.3), the state directory resolved here.
 */
int snapshot_read(struct snapshot *s, unsigned parts, struct strvec *warnings,
		  struct strbuf *err);

/*
 * Reads GENV_ENVIRONMENT_ID and the real uid of pid from /proc. *eid is
 * set to a malloc'ed string or NULL; *uid to -1 when unknown. Returns 0,
 * or -1 with errno EACCES/EPERM (no permission) or ENOENT/ESRCH (gone).
 */
int process_read_identity(long pid, char **eid, long long *uid);

#endif
