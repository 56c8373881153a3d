/* SPDX-License-Identifier: MIT */
/*
 * active.c: the texts and conversions the per-user commands share
 * (active.h).
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "util/run.h"
#include "util/strbuf.h"

void
print_not_initialized(FILE *out)
{
	fputs("Your shell is not properly initialized at the moment.\n"
	      "Run the following command to initialize it.\n"
	      "You should also add it to your ~/.bashrc or any equivalent file.\n"
	      "\n"
	      "    eval \"$(genv shell --init)\"\n"
	      "\n", out);
}

void
print_no_home(FILE *out)
{
	fputs("Could not find any Genv configuration directory.\n"
	      "\n"
	      "Create a directory named '.genv' under one of the following directories:\n"
	      "  1) Current working directory (i.e. $PWD)\n"
	      "  2) Home directory (i.e. $HOME)\n"
	      "\n", out);
}

void
active_shell_env(struct shell_env *env, const char *eid,
		 const struct env_config *c, const char *indices)
{
	*env = (struct shell_env)SHELL_ENV_INIT;
	env->eid = eid;
	env->indices = indices;
	if (c) {
		env->name = c->name;
		env->gpu_memory = c->gpu_memory;
		env->has_gpus = c->has_gpus;
		env->gpus = c->gpus;
	}
}

int
cli_run_foreground(char **argv)
{
	struct strbuf err = STRBUF_INIT;
	int rc = run_foreground((const char *const *)argv, &err);

	if (err.len)
		cli_error("genv: %s", err.buf);
	strbuf_release(&err);
	return rc < 0 ? 1 : rc;
}
