/* SPDX-License-Identifier: MIT */
/*
 * cmd-home.c: print the `.genv` configuration directory that `genv config
 * --save/--load` use: the first of $PWD/.genv and $HOME/.genv that exists.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/project-config.h"
#include "util/strbuf.h"

static int
home_run(int argc, char **argv)
{
	int quiet = 0;
	const struct cli_opt opts[] = {
		{ "--quiet", "-q", CLI_OPT_FLAG, &quiet, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL },
	};
	struct strbuf home = STRBUF_INIT;
	int rc;

	rc = cli_parse_options(&cli_cmd_home, argc, argv, opts, 0);
	if (rc == CLI_PARSE_HELP)
		return 0;
	if (rc < 0)
		return 2;
	rc = 0;
	if (project_config_dir(&home) < 0) {
		if (!quiet) {
			fflush(stdout);
			print_no_home(stderr);
			rc = 1;
		}
	} else {
		printf("%s\n", home.buf);
	}
	strbuf_release(&home);
	return rc;
}

const struct cli_cmd cli_cmd_home = {
	.name = "home",
	.summary = "Show the home directory of the current environment",
	.usage = "genv home [-h] [-q]",
	.help =
	"Prints the genv configuration directory: the first of $PWD/.genv and\n"
	"$HOME/.genv that exists.\n"
	"\n"
	"options:\n"
	"  -h, --help   show this help message and exit\n"
	"  -q, --quiet  print nothing and succeed when there is none\n",
	.run = home_run,
};
