/* SPDX-License-Identifier: MIT */
/*
 * envs.h: environment lifecycle on a loaded struct envs (the caller loads
 * and saves through store.h under the global lock). Semantics are genv
 * 1.4.3's: an environment lives while one of its pids (or Jupyter kernels)
 * lives; joining an existing eid appends the pid.
 */
#ifndef GENV_CORE_ENVS_H
#define GENV_CORE_ENVS_H

#include "core/state.h"

struct strbuf;

/*
 * Creates eid if absent (creation = now, uid, username which may be NULL)
 * and appends pid (if > 0) and kernel_id (if not NULL). Returns the env.
 */
struct env *envs_activate(struct envs *envs, const char *eid, long long uid,
			  const char *username, long pid, const char *kernel_id);
/* Removes pid from every env, then drops envs with no pids and no kernels. */
void envs_deactivate_pid(struct envs *envs, long pid);
/* Drops dead pids and kernels, then empty envs (see store_load_envs). */
void envs_cleanup(struct envs *envs);
/* 1 if pid is alive for genv's purposes (kill(pid, 0) succeeds or EPERM). */
int pid_is_alive(long pid);
/*
 * 1 if Jupyter's runtime file kernel-<id>.json exists in
 * $JUPYTER_RUNTIME_DIR, $XDG_DATA_HOME/jupyter/runtime or
 * $HOME/.local/share/jupyter/runtime (whichever are set): the caller's
 * own kernels. envs_cleanup() judges other users' kernels (as root) by
 * their owner's runtime directory.
 */
int kernel_is_alive(const char *kernel_id);

/*
 * The login name as Python's getpass.getuser() finds it: $LOGNAME, $USER,
 * $LNAME, $USERNAME, else the passwd entry of getuid(). NULL if none.
 * Returns a static or environment string (do not free).
 */
const char *genv_username(void);

#endif
