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
activate_run(int argc, char **argv, void *ctx UNUSED)
{
	const char *eid_opt = NULL, *name = NULL, *gpu_memory = NULL, *syntax_name = NULL;
	long gpus = -1, shell_pid = 0;
	int seen_gpus = 0, no_prompt = 0, no_attach = 0, over = 0, no_load = 0;
	int inline_state = 0;
	const struct option opts[] = {
		OPT_STRING("--eid|--id", &eid_opt, NULL,
			   "environment identifier (default: the shell's pid);\n"
			   "an existing id joins that environment"),
		OPT_GROUP("configuration (replaces the environment's configuration when given)"),
		OPT_STRING("--name", &name, NULL, "environment name"),
		OPT_STRING("--gpu-memory", &gpu_memory, NULL, "GPU memory per device (e.g. 4g, 512mi)"),
		OPT_INTEGER("--gpus", &gpus, NULL, "number of GPUs to attach", .seen = &seen_gpus),
		OPT_GROUP("behaviour"),
		OPT_BOOL("--no-prompt", &no_prompt, "do not prefix the prompt with (genv)"),
		OPT_BOOL("--no-attach", &no_attach, "configure --gpus but do not attach devices now"),
		OPT_BOOL("--over-subscribe|-o", &over, "allow devices that other environments use"),
		OPT_BOOL("--no-load", &no_load, "accepted for compatibility; does nothing",
			 .flags = PARSE_OPT_NOUSAGE),
		/* what the shell function passes */
		OPT_INTEGER("--shell", &shell_pid, NULL, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_STRING("--syntax", &syntax_name, NULL, NULL, .flags = PARSE_OPT_HIDDEN),
		/* print the reconfigure/reattach code instead of re-running genv */
		OPT_BOOL("--inline", &inline_state, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_END(),
	};
	enum shell_syntax syntax = SHELL_SYNTAX_POSIX;
	struct strbuf err = STRBUF_INIT, eid = STRBUF_INIT;
	struct activation a = ACTIVATION_INIT;
	int rc;

	cli_parse_options(&cli_cmd_activate, argc, argv, opts);
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
	.description =
	"Registers this shell in an environment and activates it: the shell gets\n"
	"GENV_ENVIRONMENT_ID, the configuration, CUDA_VISIBLE_DEVICES with the\n"
	"attached GPUs and genv's nvidia-smi on PATH. Use it through the shell\n"
	"function (eval \"$(genv shell --init)\"); this help goes to stderr because\n"
	"the shell evaluates standard output.\n",
	.flags = CMD_HELP_STDERR,
	.run = activate_run,
};
