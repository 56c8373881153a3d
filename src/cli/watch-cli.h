/* SPDX-License-Identifier: MIT */
/*
 * watch-cli.h: the live views of `genv remote`: `genv remote ... top`
 * (cmd-top.c, with `genv top`) and `genv remote ... monitor`
 * (remote-monitor.c). Their run functions take the struct remote_ctx of
 * cli/remote.h.
 */
#ifndef GENV_CLI_WATCH_CLI_H
#define GENV_CLI_WATCH_CLI_H

struct cli_cmd;

extern const struct cli_cmd cli_cmd_remote_top;
extern const struct cli_cmd cli_cmd_remote_monitor;

#endif
