/* SPDX-License-Identifier: MIT */
/*
 * cmd-activate.c: register the calling shell in an environment (creating
 * it, configuring it, attaching devices) and print the shell code that
 * activates it. Runs through the shell function, which evaluates stdout;
 * so errors and help go to stderr, and nothing is printed on failure.
 * A failed activation leaves the state as it was (1.4.3 kept the env).
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/active.h"
#include "core/store.h"
#include "shell/shell.h"
#include "util/strbuf.h"

/* The checks argparse and 1.4.3 make before anything is done; 0 or an exit status. */
static int
check_options(long shell_pid, const struct activation *a, int seen_gpus)
{
	if (shell_pid <= 0) {
		print_not_initialized(stderr);
		return 1;
	}
	return active_check_options(&cli_cmd_activate, "--eid/--id", a, seen_gpus);
}

/*
 * Registers the shell and prints the code that activates it; with
 * inline_state, the reconfigure/reattach code is part of it.
 */
static int
activate(const struct activation *a, enum shell_syntax syntax, int prompt,
	 int inline_state)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, shims = STRBUF_INIT;
	struct strbuf indices = STRBUF_INIT, state_code = STRBUF_INIT;
	struct env_config config = ENV_CONFIG_INIT;
	struct shell_env env;
	int rc = 1;

	if (store_activate(a, inline_state ? &config : NULL,
			   inline_state ? &indices : NULL, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (inline_state) {
		active_shell_env(&env, a->eid, &config, indices.buf);
		shell_emit_reconfigure(&state_code, syntax, &env);
		shell_emit_reattach(&state_code, syntax, &env);
	}
	shell_emit_activate(&out, syntax, a->eid,
			    shell_shims_dir(&shims) < 0 ? NULL : shims.buf, prompt,
			    inline_state ? state_code.buf : NULL);
	fwrite(out.buf, 1, out.len, stdout);
	rc = 0;
out:
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&shims);
	strbuf_release(&indices);
	strbuf_release(&state_code);
	env_config_release(&config);
	return rc;
}

static int
activate_run(int argc, char **argv)
{
	const char *eid_opt = NULL, *name = NULL, *gpu_memory = NULL, *syntax_name = NULL;
	long gpus = -1, shell_pid = 0;
	int seen_gpus = 0, no_prompt = 0, no_attach = 0, over = 0, no_load = 0;
	int inline_state = 0;
	const struct cli_opt opts[] = {
		{ "--eid", "--id", CLI_OPT_STRING, &eid_opt, NULL, NULL },
		{ "--name", NULL, CLI_OPT_STRING, &name, NULL, NULL },
		{ "--gpu-memory", NULL, CLI_OPT_STRING, &gpu_memory, NULL, NULL },
		{ "--gpus", NULL, CLI_OPT_LONG, &gpus, NULL, &seen_gpus },
		{ "--no-prompt", NULL, CLI_OPT_FLAG, &no_prompt, NULL, NULL },
		{ "--no-attach", NULL, CLI_OPT_FLAG, &no_attach, NULL, NULL },
		{ "--over-subscribe", "-o", CLI_OPT_FLAG, &over, NULL, NULL },
		{ "--no-load", NULL, CLI_OPT_FLAG, &no_load, NULL, NULL },
		{ "--shell", NULL, CLI_OPT_LONG, &shell_pid, NULL, NULL },
		{ "--syntax", NULL, CLI_OPT_STRING, &syntax_name, NULL, NULL },
		/* hidden: print the reconfigure/reattach code instead of re-running genv */
		{ "--inline", NULL, CLI_OPT_FLAG, &inline_state, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL },
	};
	enum shell_syntax syntax = SHELL_SYNTAX_POSIX;
	struct strbuf err = STRBUF_INIT, eid = STRBUF_INIT;
	struct activation a = ACTIVATION_INIT;
	int rc;

	rc = cli_parse_options(&cli_cmd_activate, argc, argv, opts, 0);
	if (rc == CLI_PARSE_HELP)
		return 0;
	if (rc < 0)
		return 2;
	a.eid = eid_opt;
	a.pid = shell_pid;
	a.has_config = name || gpu_memory || seen_gpus;
	a.name = name;
	a.gpu_memory = gpu_memory;
	a.gpus = gpus;
	a.attach = !no_attach;
	a.over_subscribe = over;
	if (shell_pid > 0 && shell_syntax_parse(syntax_name, &syntax, &err) < 0)
		rc = cli_usage_error(&cli_cmd_activate, "argument --syntax: %s", err.buf);
	else
		rc = check_options(shell_pid, &a, seen_gpus);
	if (!rc && active_eid()) {
		cli_error("Already running in an active environment");
		rc = 1;
	}
	if (rc)
		goto out;
	if (eid_opt)
		strbuf_addstr(&eid, eid_opt);
	else
		strbuf_addf(&eid, "%ld", shell_pid);
	a.eid = eid.buf;
	rc = activate(&a, syntax, !no_prompt, inline_state);
out:
	strbuf_release(&err);
	strbuf_release(&eid);
	return rc;
}

const struct cli_cmd cli_cmd_activate = {
	.name = "activate",
	.summary = "Activate shell environment",
	.usage = "genv activate [-h] [--eid EID] [--name NAME] [--gpu-memory GPU_MEMORY] "
		 "[--gpus GPUS] [--no-prompt] [--no-attach] [-o]",
	.help =
	"Registers this shell in an environment and activates it: the shell gets\n"
	"GENV_ENVIRONMENT_ID, the configuration, CUDA_VISIBLE_DEVICES with the\n"
	"attached GPUs and genv's nvidia-smi on PATH. Use it through the shell\n"
	"function (eval \"$(genv shell --init)\"); this help goes to stderr because\n"
	"the shell evaluates standard output.\n"
	"\n"
	"options:\n"
	"  -h, --help            show this help message and exit\n"
	"  --eid EID, --id EID   environment identifier (default: the shell's pid);\n"
	"                        an existing id joins that environment\n"
	"\n"
	"configuration (replaces the environment's configuration when given):\n"
	"  --name NAME           environment name\n"
	"  --gpu-memory GPU_MEMORY\n"
	"                        GPU memory per device (e.g. 4g, 512mi)\n"
	"  --gpus GPUS           number of GPUs to attach\n"
	"\n"
	"behaviour:\n"
	"  --no-prompt           do not prefix the prompt with (genv)\n"
	"  --no-attach           configure --gpus but do not attach devices now\n"
	"  -o, --over-subscribe  allow devices that other environments use\n"
	"  --no-load             accepted for compatibility; does nothing\n",
	.flags = CMD_HELP_STDERR,
	.run = activate_run,
};
