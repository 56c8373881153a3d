/* SPDX-License-Identifier: MIT */
/*
 * cmd-config.c: show or change the active environment's configuration
 * (name, gpu-memory, gpus), and save it to or load it from the project's
 * `.genv` directory. Unlike 1.4.3 the state is written only when the
 * configuration changes, and --load without a `.genv` directory is an
 * error instead of silently clearing everything.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/active.h"
#include "core/state-check.h"
#include "core/project-config.h"
#include "core/store.h"
#include "util/strbuf.h"
#include "util/strvec.h"

enum config_field { FIELD_GPU_MEMORY, FIELD_GPUS, FIELD_NAME, FIELD_NONE = -1 };
static const char *const field_names[] = { "gpu-memory", "gpus", "name", NULL };
static const enum env_config_field env_fields[] = {
	ENV_CONFIG_GPU_MEMORY, ENV_CONFIG_GPUS, ENV_CONFIG_NAME,
};

static void
print_config(const struct env_config *c, enum config_field field)
{
	switch (field) {
	case FIELD_GPU_MEMORY:
		if (c->gpu_memory)
			printf("%s\n", c->gpu_memory);
		break;
	case FIELD_GPUS:
		if (c->has_gpus)
			printf("%ld\n", c->gpus);
		break;
	case FIELD_NAME:
		if (c->name)
			printf("%s\n", c->name);
		break;
	case FIELD_NONE:
		if (c->gpu_memory)
			printf("gpu-memory: %s\n", c->gpu_memory);
		if (c->has_gpus)
			printf("gpus: %ld\n", c->gpus);
		if (c->name)
			printf("name: %s\n", c->name);
		break;
	}
}

/* argparse mixes options and positionals: parse around each positional. */
static int
parse_args(int argc, char **argv, const struct cli_opt *opts, struct strvec *pos)
{
	int base = 0;

	for (;;) {
		int next = cli_parse_options(&cli_cmd_config, argc - base, argv + base, opts,
					     CLI_PARSE_STOP_AT_POSITIONAL);

		if (next < 0)
			return next;
		base += next;
		if (base >= argc)
			return 0;
		strvec_push(pos, argv[base]);
	}
}

static void
show_config(const struct env_config *c, void *field)
{
	print_config(c, *(enum config_field *)field);
}

/* Checks the positionals FIELD [VALUE]; returns 0 or the exit status. */
static int
check_positionals(const struct strvec *pos, enum config_field *field, long *gpus)
{
	struct strbuf err = STRBUF_INIT;
	const char *value;
	int f, rc = 2;

	if (pos->nr > 2) {
		cli_usage_error(&cli_cmd_config, "unrecognized arguments: %s", pos->v[2]);
		goto out;
	}
	if (pos->nr >= 1) {
		f = cli_find_subcommand(&cli_cmd_config, field_names, pos->v[0]);
		if (f < 0)
			goto out;
		*field = f;
	}
	if (pos->nr == 2) {
		value = pos->v[1];
		if (*field == FIELD_GPUS) {
			if (cli_parse_long(&cli_cmd_config, "value", value, gpus) < 0)
				goto out;
			if (*gpus < 0) {
				cli_usage_error(&cli_cmd_config, "argument value: must not be negative: '%s'", value);
				goto out;
			}
			if (state_check_range(&state_gpus_range, *gpus, &err) < 0) {
				cli_usage_error(&cli_cmd_config, "argument value: %s", err.buf);
				goto out;
			}
		} else if ((*field == FIELD_GPU_MEMORY && state_check_memory(value, &err) < 0) ||
			   (*field == FIELD_NAME && state_check_name(value, &err) < 0)) {
			cli_usage_error(&cli_cmd_config, "argument value: %s", err.buf);
			goto out;
		}
	}
	rc = 0;
out:
	strbuf_release(&err);
	return rc;
}

static int
config_run(int argc, char **argv)
{
	int quiet = 0, refresh = 0, clear = 0, load = 0, save = 0;
	const struct cli_opt opts[] = {
		{ "--quiet", "-q", CLI_OPT_FLAG, &quiet, NULL, NULL },
		{ "--refresh", NULL, CLI_OPT_FLAG, &refresh, NULL, NULL },
		{ "--clear", NULL, CLI_OPT_FLAG, &clear, NULL, NULL },
		{ "--load", NULL, CLI_OPT_FLAG, &load, NULL, NULL },
		{ "--save", NULL, CLI_OPT_FLAG, &save, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL },
	};
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, home = STRBUF_INIT;
	struct configure_request r = CONFIGURE_REQUEST_INIT;
	enum config_field field = FIELD_NONE;
	int rc;

	rc = parse_args(argc, argv, opts, &pos);
	if (rc < 0) {
		rc = rc == CLI_PARSE_HELP ? 0 : 2;
		goto out;
	}
	if (quiet + refresh > 1)
		rc = cli_usage_error(&cli_cmd_config, "argument --refresh: not allowed with argument -q/--quiet");
	else
		rc = check_positionals(&pos, &field, &r.gpus);
	if (rc)
		goto out;
	rc = 1;
	r.eid = active_eid();
	if (!r.eid) {
		cli_error(NOT_ACTIVE_ERROR);
		goto out;
	}
	if ((load || save) && project_config_dir(&home) < 0 && load) {
		print_no_home(stderr);
		goto out;
	}
	r.project_dir = home.len ? home.buf : NULL;
	r.load = load;
	r.save = save;
	r.has_field = field != FIELD_NONE;
	r.field = r.has_field ? env_fields[field] : ENV_CONFIG_NAME;
	r.clear = clear;
	r.value = pos.nr == 2 ? pos.v[1] : NULL;
	if (!quiet && !refresh && !clear && !r.value) {
		r.show = show_config;
		r.show_data = &field;
	}
	if (store_configure(&r, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (save && !home.len)
		fprintf(stderr, "warning: not saved: no .genv directory in the "
			"current directory or in $HOME\n");
	rc = 0;
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&home);
	return rc;
}

const struct cli_cmd cli_cmd_config = {
	.name = "config",
	.summary = "Configure the current environment",
	.usage = "genv config [-h] [-q | --refresh] [--clear] [--load] [--save] "
		 "[{gpu-memory,gpus,name} [VALUE]]",
	.help =
	"Shows the configuration of the active environment, or changes one field\n"
	"(genv config name my-env) or clears it (genv config name --clear).\n"
	"\n"
	"positional arguments:\n"
	"  {gpu-memory,gpus,name}\n"
	"                 the field to show or change (default: all of them)\n"
	"  VALUE          the new value\n"
	"\n"
	"options:\n"
	"  -h, --help     show this help message and exit\n"
	"  -q, --quiet    do not print the configuration\n"
	"  --refresh      only update the shell from the state\n"
	"  --clear        clear the field (or the whole configuration)\n"
	"  --load         load the configuration from the .genv directory\n"
	"  --save         save the configuration to the .genv directory\n"
	"\n"
	"The .genv directory is the first of $PWD/.genv and $HOME/.genv that\n"
	"exists; it holds one file per field (name, gpu-memory, gpus).\n",
	.run = config_run,
};
