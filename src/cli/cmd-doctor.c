/* SPDX-License-Identifier: MIT */
/* cmd-doctor.c: `genv doctor`: the checks of core/doctor.c, one line each. */
#include "compat.h"
#include "cli/cli.h"
#include "core/doctor.h"

static int
doctor_cmd_run(int argc, char **argv)
{
	struct doctor d = DOCTOR_INIT;
	int failed;

	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			return cli_help(&cli_cmd_doctor);
		return cli_usage_error(&cli_cmd_doctor, "unrecognized arguments: %s", argv[1]);
	}
	failed = doctor_run(&d, getenv("SHELL"), getenv("HOME"));
	for (size_t i = 0; i < d.nr; i++) {
		const struct doctor_finding *f = &d.v[i];

		printf("%-4s  %-7s  %s", doctor_level_name(f->level), f->check, f->detail);
		if (f->fix)
			printf("; fix: %s", f->fix);
		putchar('\n');
	}
	doctor_release(&d);
	return failed ? 1 : 0;
}

const struct cli_cmd cli_cmd_doctor = {
	.name = "doctor",
	.summary = "Check that this machine is ready for genv",
	.usage = "genv doctor [-h]",
	.help = "Checks, one line each (ok, warn or FAIL, what was found and how to fix\n"
		"it): the NVIDIA driver (NVML loadable, its version), the GPUs it sees, the\n"
		"state directory (mode, owner, shared), the genv integration of your shell\n"
		"($SHELL: bash, zsh or fish) and a running `genv enforce`. Exits 0 unless\n"
		"a check FAILs (warnings do not fail).\n"
		"\n"
		"options:\n"
		"  -h, --help  show this help message and exit\n",
	.run = doctor_cmd_run,
};
