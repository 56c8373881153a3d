/* SPDX-License-Identifier: MIT */
/*
 * cmd-exec.c: run one command in a fresh environment without any shell
 * integration: register an environment for this process, attach devices,
 * run the command with GENV_ENVIRONMENT_ID, CUDA_VISIBLE_DEVICES and the
 * configuration in its environment, and release everything when it ends.
 * If genv itself is killed, its pid dies and the usual cleanup releases
 * the environment at the next state load.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/store.h"
#include "shell/shell.h"
#include "util/strbuf.h"

#include <unistd.h>

/* sysexits.h's EX_TEMPFAIL: the GPUs asked for are taken; try again later */
#define EXEC_NO_DEVICES 75

static int
exec_run(int argc, char **argv, void *ctx UNUSED)
{
	struct activation o = ACTIVATION_INIT;
	int seen_gpus = 0;
	const struct option opts[] = {
		OPT_INTEGER("--gpus", &o.gpus, NULL, "number of GPUs to attach", .seen = &seen_gpus),
		OPT_STRING("--gpu-memory", &o.gpu_memory, NULL, "GPU memory per device (e.g. 4g, 512mi)"),
		OPT_STRING("--name", &o.name, NULL, "environment name"),
		OPT_STRING("--id|--eid", &o.eid, "EID",
			   "environment identifier (default: genv's pid); an\n"
			   "existing id joins that environment"),
		OPT_BOOL("--over-subscribe|-o", &o.over_subscribe,
			 "allow devices that other environments use"),
		OPT_REMAINDER("COMMAND", "the program to run and its arguments",
			      .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	struct env_config config = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, eid = STRBUF_INIT, indices = STRBUF_INIT;
	struct shell_env env;
	int pos, refused = 0, rc = 1;

	pos = cli_parse_options(&cli_cmd_exec, argc, argv, opts);
	rc = active_check_options(&cli_cmd_exec, "--id/--eid", &o, seen_gpus);
	if (rc)
		goto out;
	rc = 1;
	if (o.eid)
		strbuf_addstr(&eid, o.eid);
	else
		strbuf_addf(&eid, "%ld", (long)getpid());
	o.eid = eid.buf;
	o.pid = (long)getpid();
	o.has_config = o.name || o.gpu_memory || seen_gpus;

	o.refused = &refused;
	if (store_activate(&o, &config, &indices, &err) < 0) {
		cli_error("%s", err.buf);
		rc = refused ? EXEC_NO_DEVICES : 1;
		goto out;
	}
	active_shell_env(&env, eid.buf, &config, indices.buf);
	shell_env_apply(&env, SHELL_ENV_ID | SHELL_ENV_CONFIG | SHELL_ENV_DEVICES);
	rc = cli_run_foreground(argv + pos);

	strbuf_reset(&err);
	if (store_deactivate_pid((long)getpid(), &err) < 0)
		cli_error("genv exec: could not release environment '%s': %s", eid.buf, err.buf);
out:
	env_config_release(&config);
	strbuf_release(&err);
	strbuf_release(&eid);
	strbuf_release(&indices);
	return rc;
}

const struct cli_cmd cli_cmd_exec = {
	.name = "exec",
	.summary = "Run a command in a new environment",
	.description =
	"Runs COMMAND (no shell) in an environment of its own, without any shell\n"
	"set-up: registers the environment, attaches GPUS devices, runs COMMAND\n"
	"with GENV_ENVIRONMENT_ID, CUDA_VISIBLE_DEVICES (-1 when none),\n"
	"CUDA_DEVICE_ORDER=PCI_BUS_ID and the configuration variables, and\n"
	"releases the environment and its devices when COMMAND ends. Exits with\n"
	"COMMAND's status (128+N if signal N killed it, 127 if not found), or\n"
	"75 without running it when the GPUs asked for are not available.\n"
	"SIGINT, SIGTERM and SIGHUP are passed on to COMMAND.\n",
	.run = exec_run,
};
