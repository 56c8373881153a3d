/* SPDX-License-Identifier: MIT */
/*
 * cmd-home.c: print the `.genv` configuration directory that `genv config
 * --save/--load` use: the first of $PWD/.genv and $HOME/.genv that exists.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/project-config.h"
#include "util/strbuf.h"

static int
home_run(int argc, char **argv, void *ctx UNUSED)
{
	int quiet = 0;
	const struct option opts[] = {
		OPT_BOOL("--quiet|-q", &quiet, "print nothing and succeed when there is none"),
		OPT_END(),
	};
	struct strbuf home = STRBUF_INIT;
	int rc = 0;

	cli_parse_options(&cli_cmd_home, argc, argv, opts);
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
	.description =
	"Prints the genv configuration directory: the first of $PWD/.genv and\n"
	"$HOME/.genv that exists.\n",
	.run = home_run,
};
