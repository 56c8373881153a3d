/* SPDX-License-Identifier: MIT */
/*
 * active.c: the texts and conversions the per-user commands share
 * (active.h).
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/state-check.h"
#include "core/store.h"
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

int
active_check_options(const struct cli_cmd *cmd, const char *eid_opt,
		     const struct activation *a, int seen_gpus)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	if (seen_gpus && a->gpus < 0)
		rc = cli_usage_error(cmd, "argument --gpus: must not be negative: '%ld'", a->gpus);
	else if (seen_gpus && state_check_range(&state_gpus_range, a->gpus, &err) < 0)
		rc = cli_usage_error(cmd, "argument --gpus: %s", err.buf);
	else if (a->gpu_memory && state_check_memory(a->gpu_memory, &err) < 0)
		rc = cli_usage_error(cmd, "argument --gpu-memory: %s", err.buf);
	else if (a->name && state_check_name(a->name, &err) < 0)
		rc = cli_usage_error(cmd, "argument --name: %s", err.buf);
	else if (a->eid && !*a->eid)
		rc = cli_usage_error(cmd, "argument %s: must not be empty", eid_opt);
	else if (a->eid && state_check_eid(a->eid, &err) < 0)
		rc = cli_usage_error(cmd, "argument %s: %s", eid_opt, err.buf);
	strbuf_release(&err);
	return rc;
}

void
active_shell_env(struct shell_env *env, const char *eid,
		 const struct env_config *c, const char *indices)
{
	/* the one environment this process prints */
	static struct strbuf visible = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;

	*env = (struct shell_env)SHELL_ENV_INIT;
	env->eid = eid;
	env->indices = indices;
	strbuf_reset(&visible);
	if (indices && store_visible_devices(indices, &visible, &err) < 0)
		cli_error("genv: %s", err.buf);
	else if (indices)
		env->indices = visible.buf;
	strbuf_release(&err);
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
