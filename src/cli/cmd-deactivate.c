/* SPDX-License-Identifier: MIT */
/*
 * cmd-deactivate.c: remove the calling shell from its environment (the
 * environment and its devices go when its last shell goes) and print the
 * shell code that restores the variables activation replaced.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "core/store.h"
#include "shell/shell.h"
#include "util/strbuf.h"

static int
deactivate_run(int argc, char **argv, void *ctx UNUSED)
{
	const char *syntax_name = NULL;
	long shell_pid = 0;
	/* what the shell function passes */
	const struct option opts[] = {
		OPT_INTEGER("--shell", &shell_pid, NULL, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_STRING("--syntax", &syntax_name, NULL, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_END(),
	};
	enum shell_syntax syntax;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int rc;

	cli_parse_options(&cli_cmd_deactivate, argc, argv, opts);
	if (shell_pid <= 0) {
		print_not_initialized(stderr);
		return 1;
	}
	if (shell_syntax_parse(syntax_name, &syntax, &err) < 0) {
		rc = cli_usage_error(&cli_cmd_deactivate, "argument --syntax: %s", err.buf);
		goto out;
	}
	if (!active_eid()) {
		cli_error(NOT_ACTIVE_ERROR);
		rc = 1;
		goto out;
	}
	if (store_deactivate_pid(shell_pid, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
		goto out;
	}
	shell_emit_deactivate(&out, syntax);
	fwrite(out.buf, 1, out.len, stdout);
	rc = 0;
out:
	strbuf_release(&err);
	strbuf_release(&out);
	return rc;
}

const struct cli_cmd cli_cmd_deactivate = {
	.name = "deactivate",
	.summary = "Deactivate shell environment",
	.description =
	"Removes this shell from its environment and restores the variables\n"
	"activation changed (PATH, the prompt, CUDA_VISIBLE_DEVICES, ...). The\n"
	"environment and its devices are released when its last shell leaves.\n"
	"Use it through the shell function; this help goes to stderr.\n",
	.flags = CMD_HELP_STDERR,
	.run = deactivate_run,
};
