/* SPDX-License-Identifier: MIT */
/* commands.c: the command table; keep it alphabetical. */
#include "compat.h"
#include "cli/cli.h"

const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_devices,
	&cli_cmd_enforce,
	&cli_cmd_envs,
	&cli_cmd_usage,
	&cli_cmd_version,
	NULL
};
