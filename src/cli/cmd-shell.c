/* SPDX-License-Identifier: MIT */
/*
 * cmd-shell.c: the shell integration's entry points: the init code
 * (`eval "$(genv shell --init)"`, or `genv shell --init fish | source`),
 * and the code the shell function evaluates to refresh the shell from the
 * state after attach/detach/config (--reattach, --reconfigure).
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "core/state.h"
#include "core/store.h"
#include "shell/shell.h"
#include "util/strbuf.h"

/*
 * The code that brings the shell in line with the state of eid: its
 * devices (--reattach) or its configuration (--reconfigure).
 */
static int
emit_state(const char *eid, int reattach, enum shell_syntax syntax,
	   struct strbuf *out, struct strbuf *err)
{
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf indices = STRBUF_INIT;
	struct shell_env env;
	int rc = reattach ? store_attached_list(eid, &indices, err) :
			    store_env_config(eid, &c, err);

	if (!rc) {
		active_shell_env(&env, eid, &c, indices.buf);
		if (reattach)
			shell_emit_reattach(out, syntax, &env);
		else
			shell_emit_reconfigure(out, syntax, &env);
	}
	env_config_release(&c);
	strbuf_release(&indices);
	return rc;
}

static int
shell_run(int argc, char **argv, void *ctx UNUSED)
{
	int init = 0, deinit = 0, ok = 0, do_reattach = 0, do_reconfigure = 0;
	const char *shell_name = NULL, *eid;
	const struct option opts[] = {
		OPT_POSITIONAL("SHELL", &shell_name, "bash|zsh|fish",
			       "the language of the printed code (default: bash, which\n"
			       "zsh understands too)"),
		OPT_BOOL("--init", &init, "print the code that defines the genv shell function",
			 .xgroup = 1, .flags = PARSE_OPT_LIST_CONFLICT),
		OPT_BOOL("--deinit", &deinit, "print the code that removes it", .xgroup = 1),
		OPT_BOOL("--ok", &ok, "tell whether the shell is set up", .xgroup = 1),
		OPT_BOOL("--reattach", &do_reattach,
			 "print the code that updates CUDA_VISIBLE_DEVICES", .xgroup = 1),
		OPT_BOOL("--reconfigure", &do_reconfigure,
			 "print the code that updates the configuration variables", .xgroup = 1),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	enum shell_syntax syntax = SHELL_SYNTAX_POSIX;
	int rc;

	/* options may follow the shell name: genv shell fish --init */
	cli_parse_options(&cli_cmd_shell, argc, argv, opts);
	if (shell_syntax_parse(shell_name, &syntax, &err) < 0) {
		rc = cli_usage_error(&cli_cmd_shell, "argument SHELL: %s", err.buf);
		goto out;
	}

	rc = 0;
	if (init) {
		shell_init_script(&out, syntax);
	} else if (deinit) {
		shell_deinit_script(&out, syntax);
	} else if (ok) {
		strbuf_addstr(&out,
			"Your shell is initialized properly and you are all set.\n"
			"Run the following command to check the status of your environment:\n"
			"\n"
			"    genv status\n"
			"\n"
			"If you are not sure how to continue from here, check out the quick "
			"start tutorial at https://docs.genv.dev/overview/quickstart.html.\n"
			"\n");
	} else if (do_reattach || do_reconfigure) {
		eid = active_eid();
		if (!eid) {
			cli_error(NOT_ACTIVE_ERROR);
			rc = 1;
			goto out;
		}
		if (emit_state(eid, do_reattach, syntax, &out, &err) < 0) {
			cli_error("%s", err.buf);
			rc = 1;
			goto out;
		}
	} else {
		/* the binary itself, not the shell function, was run */
		print_not_initialized(stdout);
	}
	fwrite(out.buf, 1, out.len, stdout);
out:
	strbuf_release(&out);
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_shell = {
	.name = "shell",
	.summary = "Shell support",
	.description =
	"Set up a shell for genv. Add this line to ~/.bashrc or ~/.zshrc:\n"
	"\n"
	"    command -v genv >/dev/null && eval \"$(genv shell --init)\"\n"
	"\n"
	"and this one to ~/.config/fish/config.fish:\n"
	"\n"
	"    command -v genv >/dev/null; and genv shell --init fish | source\n",
	.run = shell_run,
};
