/* SPDX-License-Identifier: MIT */
/*
 * envs.c: environment lifecycle (envs.h): activation, deactivation by
 * pid, and the liveness cleanup that makes an environment disappear once
 * its last process (or Jupyter kernel) is gone.
 */
#include "compat.h"
#include "core/envs.h"
#include "core/state-check.h"
#include "core/timefmt.h"
#include "util/clock.h"
#include "util/passwd.h"
#include "util/priv.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct env *
envs_activate(struct envs *envs, const char *eid, long long uid,
	      const char *username, long pid, const char *kernel_id)
{
	struct env *e = envs_find(envs, eid);

	if (!e) {
		struct strbuf now = STRBUF_INIT;

		e = envs_append(envs, eid);
		genv_time_format(&now, clock_wall());
		e->creation = strbuf_detach(&now, NULL);
		e->uid = uid;
		e->username = xstrdup_or_null(username);
	}
	if (pid > 0)
		env_add_pid(e, pid);
	if (kernel_id)
		strvec_push(&e->kernel_ids, kernel_id);
	return e;
}

/* One pass: removing them one by one moves the rest each time. */
static void
envs_drop_empty(struct envs *envs)
{
	size_t kept = 0;

	for (size_t i = 0; i < envs->nr; i++) {
		if (!envs->v[i].pids_nr && !envs->v[i].kernel_ids.nr)
			env_release(&envs->v[i]);
		else
			envs->v[kept++] = envs->v[i];
	}
	envs->nr = kept;
}

void
envs_deactivate_pid(struct envs *envs, long pid)
{
	for (size_t i = 0; i < envs->nr; i++) {
		struct env *e = &envs->v[i];
		size_t kept = 0;

		for (size_t j = 0; j < e->pids_nr; j++)
			if (e->pids[j] != pid)
				e->pids[kept++] = e->pids[j];
		e->pids_nr = kept;
	}
	envs_drop_empty(envs);
}

int
pid_is_alive(long pid)
{
	/* 0 and negatives would probe process groups, which always "live" */
	if (pid <= 0 || pid > INT_MAX)
		return 0;
	return !kill((pid_t)pid, 0) || errno == EPERM;
}

/*
 * Jupyter keeps kernel-<id>.json in its runtime directory while the kernel
 * runs. 1.4.3 asks `jupyter --runtime-dir`; we look where Jupyter puts it
 * ($JUPYTER_RUNTIME_DIR, else <data dir>/runtime), so that it also works
 * when jupyter is not on PATH.
 */
int
kernel_is_alive(const char *kernel_id)
{
	const char *runtime = getenv("JUPYTER_RUNTIME_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int alive = 0;

	if (state_check_kernel_id(kernel_id, NULL) < 0)
		return 0;
	for (int i = 0; i < 3 && !alive; i++) {
		strbuf_reset(&path);
		if (i == 0 && runtime && *runtime)
			strbuf_addstr(&path, runtime);
		else if (i == 1 && xdg && *xdg)
			strbuf_addf(&path, "%s/jupyter/runtime", xdg);
		else if (i == 2 && home && *home)
			strbuf_addf(&path, "%s/.local/share/jupyter/runtime", home);
		else
			continue;
		strbuf_addf(&path, "/kernel-%s.json", kernel_id);
		alive = !stat(path.buf, &st);
	}
	strbuf_release(&path);
	return alive;
}

/*
 * Root judging a kernel of another user's environment: root's own runtime
 * directory says nothing about it (1.4.3 dropped every such kernel, and
 * with it the environment and its GPUs, on each root command). Only the
 * owner's default runtime directory, <home>/.local/share/jupyter/runtime,
 * can tell: the kernel is gone when that directory exists and has no
 * kernel-<id>.json; when it cannot tell (no such user or directory, a
 * runtime directory elsewhere) the kernel is kept.
 */
static int
kernel_of_owner_is_alive(const char *kernel_id, long long owner)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int alive = 1;

	if (state_check_kernel_id(kernel_id, NULL) < 0)
		return 0;
	if (!passwd_lookup(owner, NULL, &path) && path.len) {
		strbuf_addstr(&path, "/.local/share/jupyter/runtime");
		if (!stat(path.buf, &st) && S_ISDIR(st.st_mode)) {
			strbuf_addf(&path, "/kernel-%s.json", kernel_id);
			alive = !(stat(path.buf, &st) < 0 && errno == ENOENT);
		}
	}
	strbuf_release(&path);
	return alive;
}

void
envs_cleanup(struct envs *envs)
{
	for (size_t i = 0; i < envs->nr; i++) {
		struct env *e = &envs->v[i];
		size_t kept = 0;

		for (size_t j = 0; j < e->pids_nr; j++)
			if (pid_is_alive(e->pids[j]))
				e->pids[kept++] = e->pids[j];
		e->pids_nr = kept;

		/*
		 * Only the owner's runtime directory tells (doc/security.md):
		 * another user's genv must not drop them; root looks in the
		 * owner's.
		 */
		int own = e->uid == (long long)getuid();

		if (getuid() && !own)
			continue;
		kept = 0;
		for (size_t j = 0; j < e->kernel_ids.nr; j++) {
			char *id = e->kernel_ids.v[j];

			if (own ? kernel_is_alive(id) : kernel_of_owner_is_alive(id, e->uid))
				e->kernel_ids.v[kept++] = id;
			else
				free(id);
		}
		e->kernel_ids.nr = kept;
		if (e->kernel_ids.alloc)
			e->kernel_ids.v[kept] = NULL;
	}
	envs_drop_empty(envs);
}

const char *
genv_username(void)
{
	static const char *const vars[] = { "LOGNAME", "USER", "LNAME", "USERNAME" };
	static char *from_passwd;
	struct strbuf name = STRBUF_INIT;

	/* a privileged genv records the real uid's name, not the caller's say */
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = priv_getenv(vars[i]);

		if (v && *v)
			return v;
	}
	if (from_passwd)
		return from_passwd;
	if (!passwd_lookup(getuid(), &name, NULL))
		from_passwd = strbuf_detach(&name, NULL);
	strbuf_release(&name);
	return from_passwd;
}
