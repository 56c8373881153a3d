/* SPDX-License-Identifier: MIT */
/*
 * options.h: a small argparse-compatible option parser for commands with
 * subcommands (devices, envs, usage, ...). It accepts what Python's
 * argparse accepts for genv 1.4.3 command lines (--opt VALUE, --opt=VALUE,
 * unambiguous prefixes such as --no-h, nargs='+' lists) and reports
 * mistakes with argparse's wording through cli_usage_error().
 *
 * Values of string options point into argv (borrowed); lists are copied
 * into the caller's strvec, which the caller clears.
 */
#ifndef GENV_CLI_OPTIONS_H
#define GENV_CLI_OPTIONS_H

struct cli_cmd;

enum cli_opt_type {
	CLI_OPT_FLAG,    /* store_true; value: int * */
	CLI_OPT_STRING,  /* value: const char ** */
	CLI_OPT_LONG,    /* an int; value: long * */
	CLI_OPT_CHOICE,  /* one of choices; value: const char ** */
	CLI_OPT_LIST,    /* nargs='+' (choices optional); value: struct strvec * */
};

struct cli_opt {
	const char *name;   /* "--eid" */
	const char *alias;  /* "--queries", "-o" or NULL */
	enum cli_opt_type type;
	void *value;
	const char *const *choices;  /* NULL-terminated, or NULL for any */
	int *seen;                   /* set to 1 when given; may be NULL */
};

enum cli_parse_flags {
	/* Stop at the first positional argument (a subcommand name). */
	CLI_PARSE_STOP_AT_POSITIONAL = 1 << 0,
};

#define CLI_PARSE_HELP  (-2)  /* help was printed: exit 0 */
#define CLI_PARSE_ERROR (-1)  /* usage error was printed: exit 2 */

/*
 * Parses argv[1..argc-1] (argv[0] is the command name) against opts
 * (terminated by an entry with name NULL); -h/--help prints cmd's help.
 * Returns the index of the first positional argument (or argc), with
 * CLI_PARSE_STOP_AT_POSITIONAL; without it any positional argument is an
 * "unrecognized arguments" error and argc is returned on success.
 */
int cli_parse_options(const struct cli_cmd *cmd, int argc, char **argv,
		      const struct cli_opt *opts, unsigned flags);

/*
 * The position of name in names (NULL-terminated). An unknown name is a
 * usage error of parent listing the choices, argparse style ("argument
 * SUBCOMMAND: invalid choice: 'x' (choose from 'ps', 'query')"): returns -1
 * after printing it.
 */
int cli_find_subcommand(const struct cli_cmd *parent, const char *const *names,
			const char *name);

#endif
