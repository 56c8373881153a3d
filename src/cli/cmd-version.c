/* SPDX-License-Identifier: MIT */
/* cmd-version.c: print the genv version. */
#include "compat.h"
#include "cli/cli.h"

static int
version_run(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			return cli_help(&cli_cmd_version);
		return cli_usage_error(&cli_cmd_version, "unrecognized arguments: %s", argv[1]);
	}
	printf("%s\n", GENV_VERSION);
	return 0;
}

const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.summary = "Print Genv version",
	.usage = "genv version [-h]",
	.help = "options:\n  -h, --help  show this help message and exit\n",
	.run = version_run,
};
