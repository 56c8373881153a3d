/* SPDX-License-Identifier: MIT */
/*
 * shim.h: what genv does when it runs under the name of another program
 * (the links in libexec/genv/shims that `genv activate` puts first on
 * PATH): find the real program on PATH, honour GENV_BYPASS, and for
 * nvidia-smi decide how to run it: exec'ed as it is (query modes, -L,
 * ...), limited to the environment's GPUs with --id, or with its table
 * rewritten for the environment (smi-filter.h).
 */
#ifndef GENV_SHIM_SHIM_H
#define GENV_SHIM_SHIM_H

#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * Looks up name on PATH as `which` would, skipping the directory argv0 is
 * in (the shims) and any candidate that is this very executable under
 * another name (which would exec itself forever), both known by device
 * and inode: symbolic and hard links alike. Appends the path to found; -1
 * when there is none. It starts after the PATH entries a shim that ran
 * this one searched already, and exports where the next shim (if what it
 * found is one of another genv) starts: GENV_SHIM_PATH_NEXT.
 */
int shim_find_real(const char *name, const char *argv0, struct strbuf *found);

/*
 * GENV_BYPASS: a non-zero integer means "run the real program untouched".
 * Sets *bypass; -1 with a message when the value is not an integer.
 */
int shim_bypass(const char *shim, int *bypass, struct strbuf *err);

enum smi_mode {
	SMI_EXEC,        /* exec argv as it is */
	SMI_FILTER,      /* run argv and rewrite its table (smi_run_filtered) */
	SMI_NO_DEVICES,  /* detached: "No devices were found", exit 6 */
};

struct smi_plan {
	enum smi_mode mode;
	struct strvec argv;     /* the real nvidia-smi and its arguments */
	const char *eid;        /* the environment (SMI_FILTER) */
	const char *capacity;   /* GENV_GPU_MEMORY, or NULL */
	long long capacity_mib; /* -1 when unset or not a memory string */
};
#define SMI_PLAN_INIT { SMI_EXEC, STRVEC_INIT, NULL, NULL, -1 }

/*
 * Decides from the arguments and the environment variables
 * (CUDA_VISIBLE_DEVICES, GENV_ENVIRONMENT_ID, GENV_GPU_MEMORY,
 * GENV_BYPASS) what to run. The table is rewritten only for the plain
 * table (no arguments besides -i/--id and -l/--loop); an --id of the
 * user's own is kept as it is.
 */
int smi_plan_make(struct smi_plan *p, int argc, char **argv, struct strbuf *err);
void smi_plan_release(struct smi_plan *p);

/*
 * Runs the plan's argv, feeding its stdout through the filter to out_fd
 * as it comes; *exit_code is what the shim exits with (nvidia-smi's
 * status, 128+N if signal N killed it).
 */
int smi_run_filtered(const struct smi_plan *p, int out_fd, int *exit_code,
		     struct strbuf *err);

#endif
