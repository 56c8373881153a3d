/* SPDX-License-Identifier: MIT */
/*
 * active.c: helpers shared by the per-user commands (active.h): the
 * calling process's environment as its variables and the state describe
 * it, the shims and `.genv` directories, and 1.4.3's set-up texts.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/devices.h"
#include "core/state.h"
#include "core/store.h"
#include "shell/shell.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
active_eid(void)
{
	const char *eid = getenv("GENV_ENVIRONMENT_ID");

	return eid && *eid ? eid : NULL;
}

void
print_not_initialized(FILE *out)
{
	fputs("Your shell is not properly initialized at the moment.\n"
	      "Run the following command to initialize it.\n"
	      "You should also add it to your ~/.bashrc or any equivalent file.\n"
	      "\n"
	      "    eval \"$(genv shell --init)\"\n"
	      "\n", out);
}

void
print_no_home(FILE *out)
{
	fputs("Could not find any Genv configuration directory.\n"
	      "\n"
	      "Create a directory named '.genv' under one of the following directories:\n"
	      "  1) Current working directory (i.e. $PWD)\n"
	      "  2) Home directory (i.e. $HOME)\n"
	      "\n", out);
}

int
genv_shims_dir(struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	char *exe, *real;
	char *slash;

	exe = proc_self_exe();
	if (!exe)
		return -1;
	slash = strrchr(exe, '/');
	strbuf_add(&path, exe, slash ? (size_t)(slash - exe) : 0);
	strbuf_addstr(&path, "/../libexec/genv/shims");
	free(exe);
	real = realpath(path.buf, NULL);
	strbuf_release(&path);
	if (!real)
		return -1;
	strbuf_addstr(out, real);
	free(real);
	return 0;
}

static int
is_dir(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

int
genv_home_dir(struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	const char *home = getenv("HOME");
	char *cwd = getcwd(NULL, 0);
	int rc = -1;

	if (cwd) {
		strbuf_addf(&path, "%s/.genv", cwd);
		free(cwd);
		if (is_dir(path.buf)) {
			strbuf_addbuf(out, &path);
			rc = 0;
			goto out;
		}
	}
	if (home && *home) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/.genv", home);
		if (is_dir(path.buf)) {
			strbuf_addbuf(out, &path);
			rc = 0;
		}
	}
out:
	strbuf_release(&path);
	return rc;
}

int
state_attached_list(struct store *st, const char *eid, struct strbuf *out,
		    struct strbuf *err)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int rc = -1;

	/* no devices.json yet: nothing can be attached, and NVML is not needed */
	if (!store_has(st, "devices.json"))
		return 0;
	if (store_lock(st, err) < 0)
		return -1;
	/*
	 * Only the attachments matter here: read the file as it is instead of
	 * reconciling it with NVML, which costs more than the rest of the
	 * command (this runs after every activate, attach and detach).
	 */
	store_path(st, "devices.json", &path);
	if (read_file_sb(&text, path.buf, err) < 0 ||
	    devices_parse(&devs, text.buf, text.len, path.buf, err) < 0)
		goto out;
	devices_attached_list(&devs, eid, out);
	rc = 0;
out:
	store_unlock(st);
	devices_release(&devs);
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

struct env *
registered_env(const struct envs *envs, const char *eid, struct strbuf *err)
{
	struct env *e = envs_find(envs, eid);

	if (!e)
		strbuf_addf(err, "Environment '%s' is not registered "
			    "(run 'genv deactivate' and activate it again)", eid);
	return e;
}

int
state_env_config(struct store *st, const char *eid, struct env_config *config,
		 struct strbuf *err)
{
	struct envs envs = ENVS_INIT;
	struct env *e;
	int rc = -1;

	if (store_lock(st, err) < 0)
		return -1;
	if (store_load_envs(st, &envs, 0, err) < 0)
		goto out;
	e = registered_env(&envs, eid, err);
	if (!e)
		goto out;
	env_config_copy(config, &e->config);
	rc = 0;
out:
	store_unlock(st);
	envs_release(&envs);
	return rc;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* GENV_CONTAINER: the bind-mounted $GENV_TMPDIR/devices/<i>.lock files */
static int
lock_file_indices(struct store *st, long **v, size_t *nr, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	size_t alloc = 0;
	struct dirent *de;
	DIR *d;

	store_path(st, "devices", &dir);
	d = opendir(dir.buf);
	if (!d) {
		int saved = errno;

		if (saved == ENOENT) {
			strbuf_release(&dir);
			return 0;
		}
		strbuf_addf(err, "cannot read '%s'", dir.buf);
		strbuf_add_errno(err, saved);
		strbuf_release(&dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char *end;
		long i;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		errno = 0;
		i = strtol(de->d_name, &end, 10);
		if (errno || strcmp(end, ".lock"))
			continue;
		ALLOC_GROW(*v, *nr + 1, alloc);
		(*v)[(*nr)++] = i;
	}
	closedir(d);
	strbuf_release(&dir);
	if (*nr)
		qsort(*v, *nr, sizeof(**v), cmp_long);
	return 0;
}

int
active_attached_indices(struct store *st, const char *eid, long **v, size_t *nr,
			struct strbuf *err)
{
	struct strbuf list = STRBUF_INIT;
	int rc;

	*v = NULL;
	*nr = 0;
	if (getenv("GENV_SHELL") || getenv("GENV_PYTHON"))
		return shell_parse_visible_devices(getenv("CUDA_VISIBLE_DEVICES"), v, nr, err);
	if (getenv("GENV_CONTAINER"))
		return lock_file_indices(st, v, nr, err);
	/* 1.4.3 gives up here; the state knows (e.g. under `genv exec`) */
	rc = state_attached_list(st, eid, &list, err);
	if (!rc)
		rc = shell_parse_visible_devices(list.buf, v, nr, err);
	strbuf_release(&list);
	return rc;
}

static volatile sig_atomic_t foreground_pid;

static void
forward_signal(int sig, siginfo_t *si, void *ucontext)
{
	(void)ucontext;
	/* a terminal signals its whole foreground group: the child has it */
	if (si && si->si_code == SI_KERNEL)
		return;
	if (foreground_pid > 0)
		kill((pid_t)foreground_pid, sig);
}

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP };

int
run_foreground(char *const *argv)
{
	struct sigaction old[ARRAY_SIZE(forwarded_signals)], sa;
	sigset_t block, saved_mask;
	int pipefd[2], status = 0, child_errno = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_error("genv: cannot create a pipe: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&block, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &saved_mask);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
		sigaction(forwarded_signals[i], NULL, &old[i]);
		/* a signal the caller ignores (nohup) stays ignored */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(forwarded_signals[i], &sa, NULL);
	}

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
			sigaction(forwarded_signals[i], &old[i], NULL);
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		close(pipefd[0]);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(pipefd[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	if (pid < 0) {
		cli_error("genv: cannot fork: %s", strerror(errno));
		status = -1;
	} else {
		foreground_pid = pid;
	}
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	close(pipefd[1]);
	if (pid > 0) {
		do
			n = read(pipefd[0], &child_errno, sizeof(child_errno));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(child_errno))
			child_errno = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(pipefd[0]);
	foreground_pid = 0;
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaction(forwarded_signals[i], &old[i], NULL);

	if (pid < 0)
		return 1;
	if (child_errno) {
		cli_error("genv: %s: %s", argv[0], strerror(child_errno));
		return child_errno == ENOENT ? 127 : 126;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
emit_reattach(const char *eid, enum shell_syntax syntax, struct strbuf *out,
	 struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct strbuf list = STRBUF_INIT;
	int rc = -1;

	if (store_init(&st, err) < 0 || state_attached_list(&st, eid, &list, err) < 0)
		goto out;
	shell_emit_reattach(out, syntax, list.buf);
	rc = 0;
out:
	store_release(&st);
	strbuf_release(&list);
	return rc;
}

int
emit_reconfigure(const char *eid, enum shell_syntax syntax, struct strbuf *out,
	    struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf gpus = STRBUF_INIT;
	int rc = -1;

	if (store_init(&st, err) < 0 || state_env_config(&st, eid, &c, err) < 0)
		goto out;
	if (c.has_gpus)
		strbuf_addf(&gpus, "%ld", c.gpus);
	shell_emit_reconfigure(out, syntax, c.name, c.gpu_memory,
			       c.has_gpus ? gpus.buf : NULL);
	rc = 0;
out:
	store_release(&st);
	env_config_release(&c);
	strbuf_release(&gpus);
	return rc;
}
