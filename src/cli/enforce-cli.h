/* SPDX-License-Identifier: MIT */
/*
 * enforce-cli.h: what `genv enforce`, `genv usage execute` and `genv remote
 * enforce` share in the CLI layer (cmd-enforce.c): the enforce options as
 * parsed from argv, the sink that prints what enforcement says, and the
 * daemon's wait between cycles.
 */
#ifndef GENV_CLI_ENFORCE_CLI_H
#define GENV_CLI_ENFORCE_CLI_H

#include "core/enforce.h"

struct cli_cmd;
struct option;
struct strbuf;

struct enforce_args {
	struct enforce_options rules;
	long interval;          /* seconds; 0 = one cycle */
	long grace;             /* seconds between SIGTERM and SIGKILL */
	int grace_given;        /* --grace was on the command line */
	int dry_run;
	int no_audit_log;
	const char *audit_log;  /* borrowed from argv; NULL = default path */
};

void enforce_args_init(struct enforce_args *a);
void enforce_args_release(struct enforce_args *a);
/* --max-devices-for-user USERNAME=MAXIMUM: an option callback; value is the rules */
int enforce_limit_option(const struct option *opt, const char *arg, struct strbuf *err);
/* Prints what the enforcement procedures say: stdout, or stderr for ENFORCE_ERR. */
extern const struct enforce_sink enforce_cli_sink;
/* The procedures' options from the parsed arguments (a->grace < 0: none). */
void enforce_cycle_options_init(struct enforce_cycle_options *o,
				const struct enforce_args *a);

/*
 * Daemon mode: SIGINT and SIGTERM only set a flag (and wake the wait), so
 * the cycle in progress completes; enforce_wait_between_cycles() sleeps
 * seconds or until such a signal, and returns 1 when it is time to stop.
 */
void enforce_install_stop_handlers(void);
int enforce_wait_between_cycles(long seconds);
int enforce_stop_requested(void);

/* `genv usage execute`, a subcommand of cmd-usage.c */
extern const struct cli_cmd cli_cmd_usage_execute;

#endif
