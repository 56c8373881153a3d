/* SPDX-License-Identifier: MIT */
/* cmd-version.c: print the genv version. */
#include "compat.h"
#include "cli/cli.h"

static int
version_run(int argc, char **argv, void *ctx UNUSED)
{
	const struct option opts[] = { OPT_END() };

	cli_parse_options(&cli_cmd_version, argc, argv, opts);
	printf("%s\n", GENV_VERSION);
	return 0;
}

const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.summary = "Print Genv version",
	.run = version_run,
};
