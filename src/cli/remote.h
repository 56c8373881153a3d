/* SPDX-License-Identifier: MIT */
/*
 * remote.h: what `genv remote` (cmd-remote.c) gives its subcommands: the
 * hosts and how to reach them, as its options chose. `genv remote
 * enforce` lives in remote-enforce.c.
 */
#ifndef GENV_CLI_REMOTE_H
#define GENV_CLI_REMOTE_H

#include "remote/fanout.h"
#include "remote/hosts.h"
#include "util/strbuf.h"

struct cli_cmd;

struct remote_ctx {
	struct hostlist hosts;
	struct fanout_opts fan;
	struct strbuf control_dir;
	int exit_on_error;
	int quiet;
	int progress_shown;        /* the progress line is on the terminal */
	long progress_last_ms;     /* when it was last drawn */
};

/* `genv remote enforce`: its run function takes a struct remote_ctx */
extern const struct cli_cmd cli_cmd_remote_enforce;

#endif
