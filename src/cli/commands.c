/* SPDX-License-Identifier: MIT */
/* commands.c: the command table; keep it alphabetical. */
#include "compat.h"
#include "cli/cli.h"

const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_activate,
	&cli_cmd_attach,
	&cli_cmd_config,
	&cli_cmd_deactivate,
	&cli_cmd_detach,
	&cli_cmd_devices,
	&cli_cmd_doctor,
	&cli_cmd_enforce,
	&cli_cmd_envs,
	&cli_cmd_exec,
	&cli_cmd_home,
	&cli_cmd_llm,
	&cli_cmd_lock,
	&cli_cmd_monitor,
	&cli_cmd_remote,
	&cli_cmd_shell,
	&cli_cmd_status,
	&cli_cmd_top,
	&cli_cmd_usage,
	&cli_cmd_version,
	NULL
};
