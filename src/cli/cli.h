/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the command table. Each subcommand lives in cmd-<name>.c and
 * exports one struct cli_cmd; commands.c lists them. Only the CLI layer
 * parses argv, prints, and chooses exit codes (0 ok, 1 failed, 2 usage).
 */
#ifndef GENV_CLI_CLI_H
#define GENV_CLI_CLI_H

#include <stdio.h>

enum cli_cmd_flags {
	CMD_HIDDEN      = 1 << 0,  /* not listed in `genv --help` */
	CMD_HELP_STDERR = 1 << 1,  /* stdout is eval'ed: help goes to stderr */
};

struct cli_cmd {
	const char *name;
	const char *summary;   /* one line for `genv --help` */
	const char *usage;     /* "genv attach [--count N | --index I] [-o]" */
	const char *help;      /* option descriptions, printed after usage */
	unsigned flags;
	/* argv[0] is the command name; returns the exit status. */
	int (*run)(int argc, char **argv);
};

extern const struct cli_cmd *const cli_cmds[];

extern const struct cli_cmd cli_cmd_activate;
extern const struct cli_cmd cli_cmd_attach;
extern const struct cli_cmd cli_cmd_config;
extern const struct cli_cmd cli_cmd_deactivate;
extern const struct cli_cmd cli_cmd_detach;
extern const struct cli_cmd cli_cmd_devices;
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
extern const struct cli_cmd cli_cmd_usage;
extern const struct cli_cmd cli_cmd_version;

const struct cli_cmd *cli_lookup(const char *name);

/* Prints "<message>\n" on stderr (1.4.3 prints its errors bare). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Prints the command's usage and "genv <name>: error: <message>" on
 * stderr, argparse style, and returns 2.
 */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints usage + help (stdout, or stderr for CMD_HELP_STDERR); returns 0. */
int cli_help(const struct cli_cmd *cmd);

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

/*
 * Parses a decimal integer option value; on a bad value reports
 * "argument OPT: invalid int value: 'V'" via cli_usage_error and returns -1.
 */
int cli_parse_long(const struct cli_cmd *cmd, const char *opt, const char *value,
		   long *out);

/*
 * `genv llm` and `genv remote llm`: parses MODEL and the options around it
 * (in any order, as argparse). Returns -1 to go on, else the status to
 * exit with (help printed: 0, usage error: 2).
 */
struct cli_opt;
int llm_parse_model(const struct cli_cmd *cmd, int argc, char **argv,
		    const struct cli_opt *opts, const char **model);

/* The version string ("1.4.3-c" style is avoided: tools compare it). */
#define GENV_VERSION "1.4.3"

#endif
