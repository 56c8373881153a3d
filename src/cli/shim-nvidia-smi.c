/* SPDX-License-Identifier: MIT */
/*
 * shim-nvidia-smi.c: what genv does when it runs as "nvidia-smi" (the
 * link in libexec/genv/shims that `genv activate` puts first on PATH).
 * The library decides (shim/shim.h): exec the real nvidia-smi limited to
 * the environment's GPUs, or show its table as the environment sees it.
 */
#include "compat.h"
#include "cli/cli.h"
#include "shim/shim.h"
#include "util/run.h"
#include "util/strbuf.h"

#include <unistd.h>

int
shim_nvidia_smi_main(int argc, char **argv)
{
	struct smi_plan plan = SMI_PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (smi_plan_make(&plan, argc, argv, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	switch (plan.mode) {
	case SMI_NO_DEVICES:
		puts("No devices were found");
		rc = 6;
		break;
	case SMI_EXEC:
		fflush(stdout);
		run_execvp((const char *const *)plan.argv.v);
		cli_error("nvidia-smi (genv shim): cannot run '%s': %s", plan.argv.v[0],
			  strerror(errno));
		break;
	case SMI_FILTER:
		fflush(stdout);
		if (smi_run_filtered(&plan, STDOUT_FILENO, &rc, &err) < 0) {
			cli_error("nvidia-smi (genv shim): %s", err.buf);
			rc = 1;
		}
		break;
	}
out:
	smi_plan_release(&plan);
	strbuf_release(&err);
	return rc;
}
