/* SPDX-License-Identifier: MIT */
/*
 * active.h: what the per-user commands (activate, attach, config, status,
 * lock, exec, ...) print alike: 1.4.3's texts for a shell that is not set
 * up, for a missing `.genv` directory and for running outside an
 * environment, and the shell-variable view of an environment the state
 * describes.
 */
#ifndef GENV_CLI_ACTIVE_H
#define GENV_CLI_ACTIVE_H

#include <stdio.h>
#include "core/state.h"
#include "core/store.h"
#include "shell/shell.h"

struct cli_cmd;

/* "Your shell is not properly initialized ...", with its blank line. */
void print_not_initialized(FILE *out);
/* The `genv home` error text (no .genv directory), with its blank line. */
void print_no_home(FILE *out);

/* "Not running in an active environment", the error of commands that need one. */
#define NOT_ACTIVE_ERROR "Not running in an active environment"

/*
 * Fills env (for the shell renderers) from eid, its configuration c
 * (may be NULL) and its attached devices indices (may be NULL). env
 * borrows the strings.
 */
void active_shell_env(struct shell_env *env, const char *eid,
		      const struct env_config *c, const char *indices);

/*
 * The checks `genv activate` and `genv exec` make, argparse style, on the
 * options they share before anything is done: --gpus (given when
 * seen_gpus), --gpu-memory, --name and the eid (its option spelled
 * eid_opt), by the rules the state holds them to (state-check.h).
 * Returns 0, or 2 after a usage error of cmd.
 */
int active_check_options(const struct cli_cmd *cmd, const char *eid_opt,
			 const struct activation *a, int seen_gpus);

/*
 * Runs argv (no shell) in the foreground (run_foreground()) and returns
 * the status genv exits with, after saying on stderr why it could not run.
 */
int cli_run_foreground(char **argv);

#endif
