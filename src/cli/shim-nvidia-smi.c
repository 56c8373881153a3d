/* SPDX-License-Identifier: MIT */
/*
 * shim-nvidia-smi.c: what genv does when it runs as "nvidia-smi" (the
 * symlink in libexec/genv/shims that `genv activate` puts first on PATH).
 * It runs the real nvidia-smi restricted to the environment's GPUs
 * (--id=$CUDA_VISIBLE_DEVICES), with no shell and no output rewriting.
 */
#include "compat.h"
#include "cli/cli.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHIM_NAME "nvidia-smi"

/* realpath() of the directory part of path, or NULL when it has none. */
static char *
real_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct strbuf dir = STRBUF_INIT;
	char *real;

	if (!slash)
		return NULL;
	strbuf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	real = realpath(dir.buf, NULL);
	strbuf_release(&dir);
	return real;
}

static int
same_path(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/*
 * Looks up the real nvidia-smi on PATH, as `which` would, but never returns
 * a shim: directories that are the shim's own are skipped, and so is any
 * candidate that resolves to this very executable (a shim dir reached
 * through another name), which would otherwise exec itself forever.
 */
static int
find_real_nvidia_smi(const char *argv0, struct strbuf *found)
{
	const char *path = getenv("PATH");
	char *shim_dir = real_dir_of(argv0);
	char *self = proc_self_exe();
	struct strbuf cand = STRBUF_INIT;
	int rc = -1;

	if (!path)
		path = "/bin:/usr/bin";
	while (rc < 0) {
		size_t n = strcspn(path, ":");
		char *dir_real, *cand_real;
		struct stat st;

		strbuf_reset(&cand);
		if (n)
			strbuf_add(&cand, path, n);
		else
			strbuf_addch(&cand, '.');   /* an empty entry is the current dir */
		dir_real = realpath(cand.buf, NULL);
		strbuf_addstr(&cand, "/" SHIM_NAME);
		if (dir_real && !same_path(dir_real, shim_dir) &&
		    !stat(cand.buf, &st) && S_ISREG(st.st_mode) && !access(cand.buf, X_OK)) {
			cand_real = realpath(cand.buf, NULL);
			if (!same_path(cand_real, self)) {
				strbuf_addbuf(found, &cand);
				rc = 0;
			}
			free(cand_real);
		}
		free(dir_real);
		if (!path[n])
			break;
		path += n + 1;
	}
	strbuf_release(&cand);
	free(shim_dir);
	free(self);
	return rc;
}

/* GENV_BYPASS: a non-zero integer runs nvidia-smi untouched. */
static int
bypass_requested(int *bypass)
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
		cli_error("nvidia-smi (genv shim): GENV_BYPASS must be an integer, not '%s'", v);
		return -1;
	}
	*bypass = n != 0;
	return 0;
}

/* Did the user choose devices already (-i N, -iN, --id N, --id=N)? */
static int
has_id_option(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--id") || starts_with(argv[i], "--id=") ||
		    starts_with(argv[i], "-i"))
			return 1;
	return 0;
}

int
shim_nvidia_smi_main(int argc, char **argv)
{
	struct strbuf real = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	const char *visible = getenv("CUDA_VISIBLE_DEVICES");
	int bypass;

	if (find_real_nvidia_smi(argv[0], &real) < 0) {
		cli_error("Could not find the path of '" SHIM_NAME "'");
		return 1;
	}
	if (bypass_requested(&bypass) < 0) {
		strbuf_release(&real);
		return 1;
	}
	if (!bypass && visible && (!*visible || !strcmp(visible, "-1"))) {
		/* detached: exactly what nvidia-smi says for --id=-1 */
		strbuf_release(&real);
		puts("No devices were found");
		return 6;
	}
	strvec_push(&args, real.buf);
	if (!bypass && visible && !has_id_option(argc, argv))
		strvec_pushf(&args, "--id=%s", visible);
	for (int i = 1; i < argc; i++)
		strvec_push(&args, argv[i]);
	fflush(stdout);
	execv(real.buf, args.v);
	cli_error("nvidia-smi (genv shim): cannot run '%s': %s", real.buf, strerror(errno));
	strvec_clear(&args);
	strbuf_release(&real);
	return 1;
}
