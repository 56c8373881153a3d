/* SPDX-License-Identifier: MIT */
/*
 * active.h: what the per-user commands (activate, attach, config, status,
 * lock, exec, ...) share: the calling process's active environment as its
 * environment variables describe it, the same facts looked up in the
 * state, the shims and `.genv` directories, and the
 * texts 1.4.3 prints when the shell is not set up.
 */
#ifndef GENV_CLI_ACTIVE_H
#define GENV_CLI_ACTIVE_H

#include <stdio.h>
#include "core/state.h"
#include "shell/shell.h"

struct cli_cmd;
struct store;
struct strbuf;

/* GENV_ENVIRONMENT_ID of this process, or NULL when not active. */
const char *active_eid(void);

/* "Your shell is not properly initialized ..." (§7.4), with its blank line. */
void print_not_initialized(FILE *out);
/* The `genv home` error text (no .genv directory), with its blank line. */
void print_no_home(FILE *out);

/*
 * Appends the realpath of <dir of this executable>/../libexec/genv/shims.
 * Returns -1 (out untouched) when that directory does not exist.
 */
int genv_shims_dir(struct strbuf *out);

/* Appends the first existing of $PWD/.genv and $HOME/.genv; -1 if none. */
int genv_home_dir(struct strbuf *out);

/*
 * Attached device indices of eid from the state (under the global lock),
 * comma-separated into out ("" when none or when devices.json does not
 * exist yet).
 */
int state_attached_list(struct store *st, const char *eid, struct strbuf *out,
			struct strbuf *err);

/*
 * The environment eid in envs, or NULL with a message telling the user how
 * to recover (the shell's environment was cleaned up or never saved).
 */
struct env *registered_env(const struct envs *envs, const char *eid, struct strbuf *err);

/*
 * Copies the configuration of eid from envs.json (under the global lock)
 * into *config (caller releases). Fails when eid is not registered.
 */
int state_env_config(struct store *st, const char *eid, struct env_config *config,
		     struct strbuf *err);

/*
 * The indices this process is attached to, as 1.4.3's sdk.attached()
 * finds them: with GENV_SHELL or GENV_PYTHON, from CUDA_VISIBLE_DEVICES;
 * with GENV_CONTAINER, from the device lock files; otherwise from the
 * state. *v is malloc'ed (NULL if none).
 */
int active_attached_indices(struct store *st, const char *eid, long **v, size_t *nr,
			    struct strbuf *err);

/*
 * Runs argv (looked up on PATH, no shell) in the foreground and returns
 * the status genv should exit with: the child's exit code, 128+N when a
 * signal N killed it, 127 when the program was not found and 126 when it
 * could not be executed (both reported on stderr). SIGINT, SIGTERM and
 * SIGHUP sent to genv are passed on to the child; the terminal's ^C
 * reaches the child directly and is not sent twice.
 */
int run_foreground(char *const *argv);

/* "Not running in an active environment", the error of commands that need one. */
#define NOT_ACTIVE_ERROR "Not running in an active environment"

/*
 * Append the shell code that brings the shell in line with the state of
 * eid: CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER (emit_reattach, what
 * `genv shell --reattach` prints) or the configuration variables
 * (emit_reconfigure, `genv shell --reconfigure`).
 */
int emit_reattach(const char *eid, enum shell_syntax syntax, struct strbuf *out,
		  struct strbuf *err);
int emit_reconfigure(const char *eid, enum shell_syntax syntax, struct strbuf *out,
		     struct strbuf *err);

#endif
