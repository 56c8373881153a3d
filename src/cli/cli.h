/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the command tree. Every command and subcommand is one struct
 * cli_cmd row: its name, its help texts, the function that runs it and
 * the rows of its own subcommands (tmux's cmd_entry, git's
 * OPT_SUBCOMMAND). commands.c lists the top-level rows; a command with
 * subcommands lists its rows beside it. The run function declares its
 * options table (util/parse-options.h) and calls cli_parse_options() or,
 * with subcommands, cli_parse_subcommand() then cli_run() on the chosen
 * row. Only the CLI layer parses argv, prints, and chooses exit codes
 * (0 ok, 1 failed, 2 usage).
 */
#ifndef GENV_CLI_CLI_H
#define GENV_CLI_CLI_H

#include <stdio.h>
#include "util/parse-options.h"

struct strbuf;

enum cli_cmd_flags {
	CMD_HIDDEN      = 1 << 0,  /* not listed in its parent's help */
	CMD_HELP_STDERR = 1 << 1,  /* stdout is eval'ed: help goes to stderr */
};

struct cli_cmd {
	const char *name;          /* the word that selects it ("ps") */
	const char *alias;         /* another word for it, never listed ("llms") */
	const char *summary;       /* first line of its help */
	const char *brief;         /* its line in the parent's help (NULL: summary) */
	const char *description;   /* paragraphs after the summary */
	const char *epilog;        /* paragraphs after the options */
	const char *usage_prog;    /* the usage line's "genv remote ... envs" (NULL:
				      the words that lead to it) */
	int help_column;           /* where option help starts (0: computed) */
	unsigned flags;
	/* argv[0] is its name; ctx is what the parent shares; returns the exit status */
	int (*run)(int argc, char **argv, void *ctx);
	const struct cli_cmd *const *subcmds;  /* NULL-terminated, or NULL */
};

/* genv itself: its subcommands are the commands of commands.c */
extern const struct cli_cmd cli_genv;
extern const struct cli_cmd *const cli_cmds[];

extern const struct cli_cmd cli_cmd_activate;
extern const struct cli_cmd cli_cmd_attach;
extern const struct cli_cmd cli_cmd_config;
extern const struct cli_cmd cli_cmd_deactivate;
extern const struct cli_cmd cli_cmd_detach;
extern const struct cli_cmd cli_cmd_devices;
extern const struct cli_cmd cli_cmd_doctor;
extern const struct cli_cmd cli_cmd_enforce;
extern const struct cli_cmd cli_cmd_envs;
extern const struct cli_cmd cli_cmd_exec;
extern const struct cli_cmd cli_cmd_home;
extern const struct cli_cmd cli_cmd_llm;
extern const struct cli_cmd cli_cmd_lock;
extern const struct cli_cmd cli_cmd_monitor;
extern const struct cli_cmd cli_cmd_remote;
extern const struct cli_cmd cli_cmd_shell;
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_top;
extern const struct cli_cmd cli_cmd_usage;
extern const struct cli_cmd cli_cmd_version;

/*
 * Runs cmd: argv[0] is its name, ctx what its run function receives.
 * Returns the exit status. main() runs cli_genv; a command with
 * subcommands runs the one cli_parse_subcommand() chose.
 */
int cli_run(const struct cli_cmd *cmd, int argc, char **argv, void *ctx);

/*
 * Parses the options of cmd, the command being run, with argparse's
 * syntax and words. -h/--help prints the help generated from cmd and opts
 * (stdout, or stderr for CMD_HELP_STDERR) and exits 0; a mistake prints
 * the usage and "genv CMD: error: ..." on stderr and exits 2. Returns the
 * index of the first word of an OPT_REMAINDER, or argc. The table is
 * copied (a helper may declare it), the places it points to must outlive
 * the command.
 */
int cli_parse_options(const struct cli_cmd *cmd, int argc, char **argv,
		      const struct option *opts);
/*
 * The same for a command with subcommands: opts has one OPT_SUBCOMMAND
 * entry (its value is ignored), whose choices are cmd->subcmds. Sets *sub
 * to the chosen row (NULL when there was no word for it) and returns the
 * index of its word. The required options of cmd are checked once the
 * subcommand has parsed its own, as argparse does, so that `genv remote
 * devices --help` works without the hosts.
 */
int cli_parse_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
			 const struct option *opts, const struct cli_cmd **sub);
/*
 * Both steps for a command that has nothing to do between them: parses
 * cmd's options, then runs the chosen subcommand with ctx, or dflt
 * without arguments when there was no word for one (`genv devices` is
 * `genv devices ps`; dflt may be NULL when a subcommand is required).
 */
int cli_run_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
		       const struct option *opts, const struct cli_cmd *dflt, void *ctx);

/*
 * genv __complete WORDS...: the shell completions' helper. WORDS are the
 * command line up to the word being typed (its last, maybe empty;
 * WORDS[0] is "genv"). Prints the words that may stand there, one a line
 * ("WORD" or "WORD<TAB>HELP"), or ":files" first when the shell should
 * also offer file names; walks the command tree as a run would, so it
 * always matches the tables. cli_completing() tells run functions that
 * do work between parsing and their subcommand to skip it.
 */
int cli_complete(int argc, char **argv);
int cli_completing(void);

/*
 * Prints prefix (may be NULL) and text, both quote_display()ed, and a
 * newline: for lines others wrote (a host's stderr, names in findings).
 */
void cli_print_line(FILE *out, const char *prefix, const char *text);

/*
 * Appends a value as the query commands print it: as it is for a script,
 * but quote_display()ed when stdout is a terminal (as ls -q is the
 * default there), so that others' ids and names cannot drive it.
 */
void cli_add_value(struct strbuf *out, const char *value);

/* Prints "<message>\n" on stderr (1.4.3 prints its errors bare); error.c. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Prints the usage of cmd (a command being run) and "genv <name>: error:
 * <message>" on stderr, argparse style, and returns 2.
 */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the help of cmd (a command being run); returns 0. */
int cli_help(const struct cli_cmd *cmd);

/*
 * Parses a decimal integer argument value; on a bad value reports
 * "argument OPT: invalid int value: 'V'" via cli_usage_error and returns -1.
 */
int cli_parse_long(const struct cli_cmd *cmd, const char *opt, const char *value,
		   long *out);

/*
 * Checks a --gpu-memory value and points *value at its 1.4.3 spelling,
 * kept in buf ("4GB" -> "4g", core/memory.h), for values sent to other
 * hosts, which may run genv 1.4.3. On a bad value reports "argument
 * --gpu-memory: invalid memory size ..." via cli_usage_error and returns
 * -1. A NULL *value is fine.
 */
int cli_parse_memory(const struct cli_cmd *cmd, const char **value, struct strbuf *buf);

/*
 * Flushes stdout: a failure to write it (full disk) turns status 0 into 1,
 * as git does; a closed pipe is not reported. Returns the final status.
 */
int cli_finish(int status);
NORETURN void cli_exit(int status);

/*
 * genv called as "nvidia-smi" (shim-nvidia-smi.c): execs the real
 * nvidia-smi limited to $CUDA_VISIBLE_DEVICES; returns only on failure.
 */
int shim_nvidia_smi_main(int argc, char **argv);
/*
 * genv called as "docker" or "podman" (name): the real one with --gpus
 * meaning the environment's devices; as "genv-docker": `docker run` with
 * the genv runtime (shim-docker.c). Return only on failure.
 */
int shim_docker_main(int argc, char **argv, const char *name);
int genv_docker_main(int argc, char **argv);
/* genv as the OCI runtime "genv" and as its prestart hook (shim-oci.c). */
int genv_container_runtime_main(int argc, char **argv);
int genv_container_hook_main(int argc, char **argv);

/* The version string ("1.4.3-c" style is avoided: tools compare it). */
#define GENV_VERSION "1.4.3"
/*
 * This implementation's own version (`genv version -v`) is GENV_C_VERSION,
 * which the Makefile defines for cmd-version.c from the file VERSION.
 */
/*
 * Prints GENV_VERSION and, when verbose, a second line naming this
 * implementation and its own version (what `genv version -v` says).
 */
void cli_print_version(int verbose);

#endif
