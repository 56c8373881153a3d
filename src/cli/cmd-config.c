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
#include "core/active.h"
#include "core/state-check.h"
#include "core/project-config.h"
#include "core/store.h"
#include "util/strbuf.h"

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
			cli_print_line(stdout, NULL, c->gpu_memory);
		break;
	case FIELD_GPUS:
		if (c->has_gpus)
			printf("%ld\n", c->gpus);
		break;
	case FIELD_NAME:
		if (c->name)
			cli_print_line(stdout, NULL, c->name);
		break;
	case FIELD_NONE:
		if (c->gpu_memory)
			cli_print_line(stdout, "gpu-memory: ", c->gpu_memory);
		if (c->has_gpus)
			printf("gpus: %ld\n", c->gpus);
		if (c->name)
			cli_print_line(stdout, "name: ", c->name);
		break;
	}
}

static void
show_config(const struct env_config *c, void *field)
{
	print_config(c, *(enum config_field *)field);
}

/* Checks the VALUE given for field; returns 0 or the exit status. */
static int
check_value(enum config_field field, const char *value, long *gpus)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 2;

	if (field == FIELD_GPUS) {
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
	} else if ((field == FIELD_GPU_MEMORY && state_check_memory(value, &err) < 0) ||
		   (field == FIELD_NAME && state_check_name(value, &err) < 0)) {
		cli_usage_error(&cli_cmd_config, "argument value: %s", err.buf);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&err);
	return rc;
}

static int
config_run(int argc, char **argv, void *ctx UNUSED)
{
	int quiet = 0, refresh = 0, clear = 0, load = 0, save = 0;
	const char *field_name = NULL, *value = NULL;
	const struct option opts[] = {
		OPT_POSITIONAL(NULL, &field_name, NULL,
			       "the field to show or change (default: all of them)",
			       .choices = field_names),
		OPT_POSITIONAL(NULL, &value, "VALUE", "the new value"),
		OPT_BOOL("-q|--quiet", &quiet, "do not print the configuration", .xgroup = 1),
		OPT_BOOL("--refresh", &refresh, "only update the shell from the state", .xgroup = 1),
		OPT_BOOL("--clear", &clear, "clear the field (or the whole configuration)"),
		OPT_BOOL("--load", &load, "load the configuration from the .genv directory"),
		OPT_BOOL("--save", &save, "save the configuration to the .genv directory"),
		OPT_END(),
	};
	struct strbuf err = STRBUF_INIT, home = STRBUF_INIT;
	struct configure_request r = CONFIGURE_REQUEST_INIT;
	enum config_field field = FIELD_NONE;
	int rc;

	cli_parse_options(&cli_cmd_config, argc, argv, opts);
	for (int f = 0; field_name && field_names[f]; f++)
		if (!strcmp(field_name, field_names[f]))
			field = f;
	rc = value ? check_value(field, value, &r.gpus) : 0;
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
	r.value = value;
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
	strbuf_release(&err);
	strbuf_release(&home);
	return rc;
}

const struct cli_cmd cli_cmd_config = {
	.name = "config",
	.summary = "Configure the current environment",
	.description =
	"Shows the configuration of the active environment, or changes one field\n"
	"(genv config name my-env) or clears it (genv config name --clear).\n",
	.epilog =
	"The .genv directory is the first of $PWD/.genv and $HOME/.genv that\n"
	"exists; it holds one file per field (name, gpu-memory, gpus).\n",
	.help_column = 17,
	.run = config_run,
};
