/* SPDX-License-Identifier: MIT */
/*
 * shim.c: finding the real program behind a shim, GENV_BYPASS, and the
 * nvidia-smi shim's plan and filtered run (shim.h).
 */
#include "compat.h"
#include "shim/shim.h"
#include "shim/smi-filter.h"
#include "core/memory.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "util/run.h"

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Files are compared by identity (device and inode), not by realpath():
 * no readlink() per path component on every nvidia-smi run, and a hard
 * link or a bind mount of the shim counts as the shim too.
 */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* stat() of the directory part of path; -1 when it has none. */
static int
stat_dir_of(const char *path, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	struct strbuf dir = STRBUF_INIT;
	int rc;

	if (!slash)
		return -1;
	strbuf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	rc = stat(dir.buf, st);
	strbuf_release(&dir);
	return rc;
}

/* file is an executable regular file that is not self (NULL: unknown). */
static int
is_real_candidate(const char *file, const struct stat *self)
{
	struct stat st;

	if (stat(file, &st) || !S_ISREG(st.st_mode) || access(file, X_OK))
		return 0;
	return !self || !same_file(&st, self);
}

/*
 * The PATH entries a shim that ran us already searched past: another
 * genv's shim found further along PATH (two installs, or a static shim and
 * a linked one) starts after them, instead of finding the first shim again
 * and calling it back forever.
 */
#define SHIM_PATH_NEXT "GENV_SHIM_PATH_NEXT"

static long
shim_path_start(void)
{
	const char *v = getenv(SHIM_PATH_NEXT);
	char *end;
	long n;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end || n < 0 ? 0 : n;
}

int
shim_find_real(const char *name, const char *argv0, struct strbuf *found)
{
	const char *path = getenv("PATH");
	struct stat shim_dir, self, dir;
	int skip_dir = !stat_dir_of(argv0, &shim_dir);
	int know_self = !stat("/proc/self/exe", &self);
	struct strbuf cand = STRBUF_INIT;
	long start = shim_path_start(), index = 0;
	int rc = -1;

	if (!path)
		path = "/bin:/usr/bin";
	for (;; index++) {
		size_t n = strcspn(path, ":");

		strbuf_reset(&cand);
		if (n)
			strbuf_add(&cand, path, n);
		else
			strbuf_addch(&cand, '.');   /* an empty entry is the current dir */
		if (index >= start && !stat(cand.buf, &dir) &&
		    !(skip_dir && same_file(&dir, &shim_dir))) {
			strbuf_addf(&cand, "/%s", name);
			if (is_real_candidate(cand.buf, know_self ? &self : NULL)) {
				strbuf_addbuf(found, &cand);
				rc = 0;
				break;
			}
		}
		if (!path[n])
			break;
		path += n + 1;
	}
	if (!rc) {
		strbuf_reset(&cand);
		strbuf_addf(&cand, "%ld", index + 1);
		setenv(SHIM_PATH_NEXT, cand.buf, 1);
	}
	strbuf_release(&cand);
	return rc;
}

int
shim_bypass(const char *shim, int *bypass, struct strbuf *err)
{
	const char *v = getenv("GENV_BYPASS");
	char *end;
	long n;

	*bypass = 0;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (errno || *end) {
		strbuf_addf(err, "%s (genv shim): GENV_BYPASS must be an integer, not '%s'",
			    shim, v);
		return -1;
	}
	*bypass = n != 0;
	return 0;
}

/* Did the user choose devices already (-i N, -iN, --id N, --id=N)? */
static int
is_id_option(const char *arg)
{
	return !strcmp(arg, "--id") || starts_with(arg, "--id=") || starts_with(arg, "-i");
}

/*
 * The plain table, possibly looped: every argument is -i/--id or
 * -l/--loop/-lms/--loop-ms (with its value). Anything else (queries, -L,
 * -q, subcommands, --help) is not the table and passes through.
 */
static int
is_table_invocation(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-i") || !strcmp(a, "--id") || !strcmp(a, "-l") ||
		    !strcmp(a, "--loop") || !strcmp(a, "-lms") || !strcmp(a, "--loop-ms")) {
			i++;   /* its value */
			continue;
		}
		if (starts_with(a, "--id=") || starts_with(a, "--loop=") ||
		    starts_with(a, "--loop-ms=") ||
		    (starts_with(a, "-i") && a[2] >= '0' && a[2] <= '9'))
			continue;
		return 0;
	}
	return 1;
}

static long long
capacity_mib(const char *capacity)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long long bytes;
	int rc;

	if (!capacity || !*capacity)
		return -1;
	rc = memory_to_bytes(capacity, &bytes, &err);
	strbuf_release(&err);
	return rc < 0 ? -1 : (long long)(bytes >> 20);
}

int
smi_plan_make(struct smi_plan *p, int argc, char **argv, struct strbuf *err)
{
	const char *visible = getenv("CUDA_VISIBLE_DEVICES");
	const char *eid = getenv("GENV_ENVIRONMENT_ID");
	struct strbuf real = STRBUF_INIT;
	int bypass, has_id = 0;

	if (shim_find_real("nvidia-smi", argv[0], &real) < 0) {
		strbuf_addstr(err, "Could not find the path of 'nvidia-smi'");
		return -1;
	}
	if (shim_bypass("nvidia-smi", &bypass, err) < 0) {
		strbuf_release(&real);
		return -1;
	}
	strvec_push(&p->argv, real.buf);
	strbuf_release(&real);
	for (int i = 1; i < argc; i++)
		has_id |= is_id_option(argv[i]);
	if (!bypass && visible && (!*visible || !strcmp(visible, "-1"))) {
		/* detached: exactly what nvidia-smi says for --id=-1 */
		p->mode = SMI_NO_DEVICES;
		return 0;
	}
	if (!bypass && visible && !has_id)
		strvec_pushf(&p->argv, "--id=%s", visible);
	for (int i = 1; i < argc; i++)
		strvec_push(&p->argv, argv[i]);
	if (!bypass && eid && *eid && is_table_invocation(argc, argv)) {
		p->mode = SMI_FILTER;
		p->eid = eid;
		p->capacity = getenv("GENV_GPU_MEMORY");
		p->capacity_mib = capacity_mib(p->capacity);
	}
	return 0;
}

void
smi_plan_release(struct smi_plan *p)
{
	strvec_clear(&p->argv);
}

struct smi_run {
	struct smi_filter filter;
	struct strbuf out;
	const char *eid;
	int fd;
	int write_failed;
};

/* A process is the environment's when its GENV_ENVIRONMENT_ID says so. */
static int
process_is_own(long pid, void *data)
{
	const struct smi_run *r = data;
	char *eid = NULL;
	int own;

	if (proc_environ_get(pid, "GENV_ENVIRONMENT_ID", &eid) < 0)
		return 0;   /* unreadable counts as "not mine", as in 1.4.3 */
	own = eid && !strcmp(eid, r->eid);
	free(eid);
	return own;
}

static void
smi_flush(struct smi_run *r)
{
	if (r->out.len && !r->write_failed && write_all(r->fd, r->out.buf, r->out.len) < 0)
		r->write_failed = 1;   /* keep reading: nvidia-smi must not block */
	strbuf_reset(&r->out);
}

static void
smi_chunk(const char *buf, size_t len, void *data)
{
	struct smi_run *r = data;

	smi_filter_feed(&r->filter, buf, len, &r->out);
	smi_flush(r);
}

int
smi_run_filtered(const struct smi_plan *p, int out_fd, int *exit_code,
		 struct strbuf *err)
{
	struct smi_run r = { SMI_FILTER_INIT, STRBUF_INIT, p->eid, out_fd, 0 };
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int status, rc;

	r.filter.capacity_mib = p->capacity_mib;
	r.filter.capacity = p->capacity;
	r.filter.own = process_is_own;
	r.filter.own_data = &r;
	rc = run_stream((const char *const *)p->argv.v, smi_chunk, &r, &status, err);
	if (!rc) {
		smi_filter_finish(&r.filter, &r.out);
		smi_flush(&r);
		*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) :
			     128 + WTERMSIG(status);
	}
	signal(SIGPIPE, old_pipe);
	smi_filter_release(&r.filter);
	strbuf_release(&r.out);
	return rc;
}
