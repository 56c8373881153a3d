/* SPDX-License-Identifier: MIT */
/* cmd-version.c: print the genv version. */
#include "compat.h"
#include "cli/cli.h"

void
cli_print_version(int verbose)
{
	/* 1.4.3's line first and alone by default: tools compare it */
	printf("%s\n", GENV_VERSION);
	if (verbose)
		printf("genv in C %s (a C11 implementation of genv %s)\n",
		       GENV_C_VERSION, GENV_VERSION);
}

static int
version_run(int argc, char **argv, void *ctx UNUSED)
{
	int verbose = 0;
	const struct option opts[] = {
		OPT_BOOL("-v|--verbose", &verbose,
			 "also say that this is genv in C, and its own version"),
		OPT_END(),
	};

	cli_parse_options(&cli_cmd_version, argc, argv, opts);
	cli_print_version(verbose);
	return 0;
}

const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.summary = "Print Genv version",
	.run = version_run,
};
