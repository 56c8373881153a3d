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
#include "core/envs.h"
#include "core/memory.h"
#include "core/store.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <sys/stat.h>
#include <unistd.h>

enum config_field { FIELD_GPU_MEMORY, FIELD_GPUS, FIELD_NAME, FIELD_NONE = -1 };
static const char *const field_names[] = { "gpu-memory", "gpus", "name", NULL };

static int
write_config(const char *eid, const struct env_config *config, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	struct env *e;
	int rc = -1;

	if (store_txn_begin(&t, 0, err) < 0)
		goto out;
	e = registered_env(&t.envs, eid, err);
	if (!e)
		goto out;
	env_config_release(&e->config);
	env_config_copy(&e->config, config);
	if (store_save_envs(&t.st, &t.envs, err) < 0)
		goto out;
	rc = 0;
out:
	store_txn_release(&t);
	return rc;
}

/* Reads <dir>/<file> stripped; *value stays NULL when the file is missing. */
static int
read_home_file(const char *dir, const char *file, char **value, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ignored = STRBUF_INIT;
	int rc = 0;

	strbuf_addf(&path, "%s/%s", dir, file);
	if (read_file_sb(&text, path.buf, &ignored) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "cannot read '%s'", path.buf);
			strbuf_add_errno(err, errno);
			rc = -1;
		}
	} else {
		strbuf_trim(&text);
		*value = strbuf_detach(&text, NULL);
	}
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ignored);
	return rc;
}

static int
load_home(const char *dir, struct env_config *c, struct strbuf *err)
{
	char *gpus = NULL;
	unsigned long long bytes;
	int rc = -1;

	if (read_home_file(dir, "name", &c->name, err) < 0 ||
	    read_home_file(dir, "gpu-memory", &c->gpu_memory, err) < 0 ||
	    read_home_file(dir, "gpus", &gpus, err) < 0)
		goto out;
	if (c->gpu_memory && memory_to_bytes(c->gpu_memory, &bytes, err) < 0) {
		strbuf_addf(err, " (in '%s/gpu-memory')", dir);
		goto out;
	}
	if (gpus) {
		char *end;

		errno = 0;
		c->gpus = strtol(gpus, &end, 10);
		if (!*gpus || *end || errno || c->gpus < 0) {
			strbuf_addf(err, "'%s/gpus' holds '%s', not a number of devices",
				    dir, gpus);
			goto out;
		}
		c->has_gpus = 1;
	}
	rc = 0;
out:
	free(gpus);
	return rc;
}

static int
save_home_file(const char *dir, const char *file, const char *value, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	mode_t mask = umask(0);
	int rc = 0;

	umask(mask);
	strbuf_addf(&path, "%s/%s", dir, file);
	if (value) {
		rc = write_file_atomic(path.buf, value, strlen(value), 0666 & ~mask, err);
	} else if (unlink(path.buf) < 0 && errno != ENOENT) {
		strbuf_addf(err, "cannot remove '%s'", path.buf);
		strbuf_add_errno(err, errno);
		rc = -1;
	}
	strbuf_release(&path);
	return rc;
}

static int
save_home(const char *dir, const struct env_config *c, struct strbuf *err)
{
	struct strbuf gpus = STRBUF_INIT;
	int rc;

	if (c->has_gpus)
		strbuf_addf(&gpus, "%ld", c->gpus);
	rc = save_home_file(dir, "name", c->name, err);
	if (!rc)
		rc = save_home_file(dir, "gpu-memory", c->gpu_memory, err);
	if (!rc)
		rc = save_home_file(dir, "gpus", c->has_gpus ? gpus.buf : NULL, err);
	strbuf_release(&gpus);
	return rc;
}

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
	struct env_config config = ENV_CONFIG_INIT;
	struct store st = STORE_INIT;
	enum config_field field = FIELD_NONE;
	const char *value = NULL, *eid;
	long gpus = 0;
	int rc, changed;

	rc = parse_args(argc, argv, opts, &pos);
	if (rc == CLI_PARSE_HELP) {
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		rc = 2;
		goto out;
	}
	rc = 2;
	if (quiet + refresh > 1) {
		cli_usage_error(&cli_cmd_config, "argument --refresh: not allowed with argument -q/--quiet");
		goto out;
	}
	if (pos.nr > 2) {
		cli_usage_error(&cli_cmd_config, "unrecognized arguments: %s", pos.v[2]);
		goto out;
	}
	if (pos.nr >= 1) {
		int f = cli_find_subcommand(&cli_cmd_config, field_names, pos.v[0]);

		if (f < 0)
			goto out;
		field = f;
	}
	if (pos.nr == 2) {
		unsigned long long bytes;

		value = pos.v[1];
		if (field == FIELD_GPUS) {
			if (cli_parse_long(&cli_cmd_config, "value", value, &gpus) < 0)
				goto out;
			if (gpus < 0) {
				cli_usage_error(&cli_cmd_config, "argument value: must not be negative: '%s'", value);
				goto out;
			}
		} else if (field == FIELD_GPU_MEMORY && memory_to_bytes(value, &bytes, &err) < 0) {
			cli_usage_error(&cli_cmd_config, "argument value: %s", err.buf);
			goto out;
		}
	}

	rc = 1;
	eid = active_eid();
	if (!eid) {
		cli_error(NOT_ACTIVE_ERROR);
		goto out;
	}
	if (load || save) {
		if (genv_home_dir(&home) < 0 && load) {
			print_no_home(stderr);
			goto out;
		}
	}
	if (load) {
		if (load_home(home.buf, &config, &err) < 0) {
			cli_error("%s", err.buf);
			goto out;
		}
	} else {
		if (store_init(&st, &err) < 0 || state_env_config(&st, eid, &config, &err) < 0) {
			cli_error("%s", err.buf);
			goto out;
		}
	}

	changed = load;
	if (field == FIELD_NONE) {
		if (clear) {
			env_config_release(&config);
			changed = 1;
		} else if (!quiet && !refresh) {
			print_config(&config, field);
		}
	} else if (clear || value) {
		char **slot = field == FIELD_NAME ? &config.name :
			      field == FIELD_GPU_MEMORY ? &config.gpu_memory : NULL;

		if (slot) {
			free(*slot);
			*slot = clear ? NULL : xstrdup(value);
		} else {
			config.has_gpus = !clear;
			config.gpus = clear ? 0 : gpus;
		}
		changed = 1;
	} else if (!quiet && !refresh) {
		print_config(&config, field);
	}

	if (changed && write_config(eid, &config, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (save) {
		if (!home.len) {
			fprintf(stderr, "warning: not saved: no .genv directory in the "
				"current directory or in $HOME\n");
		} else if (save_home(home.buf, &config, &err) < 0) {
			cli_error("%s", err.buf);
			goto out;
		}
	}
	rc = 0;
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&home);
	env_config_release(&config);
	store_release(&st);
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
