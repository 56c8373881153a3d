/* SPDX-License-Identifier: MIT */
/*
 * cmd-envs.c: `genv envs`, the admin view of envs.json: list environments
 * (ps), query fields, find environments by pid or kernel id, and activate,
 * configure or deactivate environments by id. envs.json is written back
 * only when something changed (unlike 1.4.3, which rewrites it every time).
 */
#include "compat.h"
#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/table.h"
#include "core/state.h"
#include "core/state-check.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct envs_ctx {
	int no_cleanup;
	int reset;
};

static unsigned
ctx_flags(const struct envs_ctx *ctx)
{
	return admin_store_flags(ctx->no_cleanup, ctx->reset);
}

/* Parses options of a leaf subcommand; returns -1 with *status set if done. */
static int
parse_leaf(const struct cli_cmd *cmd, int argc, char **argv,
	   const struct cli_opt *opts, int *status)
{
	int r = cli_parse_options(cmd, argc, argv, opts, 0);

	if (r >= 0)
		return 0;
	*status = r == CLI_PARSE_HELP ? 0 : 2;
	return -1;
}

static int
required(const struct cli_cmd *cmd, const char *what)
{
	return cli_usage_error(cmd, "the following arguments are required: %s", what);
}

/* ---- ps ---- */

static const struct cli_cmd envs_ps_cmd = {
	.name = "envs ps",
	.summary = "Print information about active environments",
	.usage = "genv envs ps [-h] [--no-header] [--timestamp] [--format {csv,tui}]",
	.help = "options:\n"
		"  -h, --help           show this help message and exit\n"
		"  --no-header          Do not print column headers\n"
		"  --timestamp          Print the creation time instead of how long ago it was\n"
		"  --format {csv,tui}   Output format; tui (the default) or csv\n",
};

static int
envs_ps(struct envs_ctx *ctx, int argc, char **argv)
{
	static const size_t widths[] = { 8, 16, 16, 21 };
	static const char *const header[] = { "ID", "USER", "NAME", "CREATED", "PID(S)" };
	struct table_opts topts = TABLE_OPTS_INIT;
	struct cli_opt opts[4] = { { NULL } };
	struct strbuf out = STRBUF_INIT, user = STRBUF_INIT, created = STRBUF_INIT,
		      pids = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	enum table_format fmt;
	time_t now;
	int status, rc;

	table_opts_bind(opts, &topts);
	if (argc && parse_leaf(&envs_ps_cmd, argc, argv, opts, &status) < 0)
		return status;
	fmt = table_opts_format(&topts);
	rc = store_admin_envs(ctx_flags(ctx), &envs, &err);
	now = clock_wall();
	if (!rc && !topts.no_header)
		table_row(&out, fmt, widths, header, 5);
	for (size_t i = 0; i < envs.nr; i++) {
		const struct env *e = &envs.v[i];
		const char *cells[5];

		strbuf_reset(&user);
		strbuf_reset(&created);
		strbuf_reset(&pids);
		if (e->username)
			strbuf_addf(&user, "%s(%lld)", e->username, e->uid);
		else
			strbuf_addf(&user, "%lld", e->uid);
		table_time(&created, e->creation, topts.timestamp, now);
		table_join_longs(&pids, e->pids, e->pids_nr, " ");
		cells[0] = e->eid;
		cells[1] = user.buf;
		cells[2] = e->config.name ? e->config.name : "";
		cells[3] = created.buf;
		cells[4] = pids.buf;
		table_row(&out, fmt, widths, cells, 5);
	}
	strbuf_release(&user);
	strbuf_release(&created);
	strbuf_release(&pids);
	envs_release(&envs);
	return admin_finish(rc, &out, &err);
}

/* ---- query ---- */

static const char *const envs_query_choices[] = {
	"eid", "creation", "uid", "username", "config.name", "config.gpus",
	"config.gpu_memory", "pids", "kernel_ids", NULL
};

static const struct cli_cmd envs_query_cmd = {
	.name = "envs query",
	.summary = "Query environment fields, one line per environment with the values joined by commas",
	.usage = "genv envs query [-h] [--eid EID] --query "
		 "{eid,creation,uid,username,config.name,config.gpus,config.gpu_memory,pids,kernel_ids} "
		 "[{eid,creation,uid,username,config.name,config.gpus,config.gpu_memory,pids,kernel_ids} ...]",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --eid EID             Only this environment\n"
		"  --query Q [Q ...], --queries Q [Q ...]\n"
		"                        Fields to print; unset values print as nothing\n"
		"                        and lists (pids, kernel_ids) are space-separated\n",
};

static void
query_env(struct strbuf *out, const struct env *e, const struct strvec *q)
{
	for (size_t i = 0; i < q->nr; i++) {
		const char *f = q->v[i];

		if (i)
			strbuf_addch(out, ',');
		if (!strcmp(f, "eid"))
			strbuf_addstr(out, e->eid);
		else if (!strcmp(f, "creation"))
			strbuf_addstr(out, e->creation);
		else if (!strcmp(f, "uid"))
			strbuf_addf(out, "%lld", e->uid);
		else if (!strcmp(f, "username"))
			strbuf_addstr(out, e->username ? e->username : "");
		else if (!strcmp(f, "config.name"))
			strbuf_addstr(out, e->config.name ? e->config.name : "");
		else if (!strcmp(f, "config.gpus")) {
			if (e->config.has_gpus)
				strbuf_addf(out, "%ld", e->config.gpus);
		} else if (!strcmp(f, "config.gpu_memory"))
			strbuf_addstr(out, e->config.gpu_memory ? e->config.gpu_memory : "");
		else if (!strcmp(f, "pids"))
			table_join_longs(out, e->pids, e->pids_nr, " ");
		else if (!strcmp(f, "kernel_ids"))
			for (size_t j = 0; j < e->kernel_ids.nr; j++)
				strbuf_addf(out, "%s%s", j ? " " : "", e->kernel_ids.v[j]);
	}
	strbuf_addch(out, '\n');
}

static int
envs_query(struct envs_ctx *ctx, int argc, char **argv)
{
	struct strvec queries = STRVEC_INIT;
	const char *eid = NULL;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ "--query", "--queries", CLI_OPT_LIST, &queries, envs_query_choices, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	int status, rc;

	if (parse_leaf(&envs_query_cmd, argc, argv, opts, &status) < 0) {
		strvec_clear(&queries);
		return status;
	}
	if (!queries.nr)
		return required(&envs_query_cmd, "--query/--queries");
	rc = store_admin_envs(ctx_flags(ctx), &envs, &err);
	for (size_t i = 0; i < envs.nr; i++)
		if (!eid || !strcmp(eid, envs.v[i].eid))
			query_env(&out, &envs.v[i], &queries);
	strvec_clear(&queries);
	envs_release(&envs);
	return admin_finish(rc, &out, &err);
}

/* ---- find ---- */

static const struct cli_cmd envs_find_cmd = {
	.name = "envs find",
	.summary = "Print the environments a process or a Jupyter kernel belongs to",
	.usage = "genv envs find [-h] (--pid PID | --kernel-id KERNEL_ID)",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --pid PID             Process identifier\n"
		"  --kernel-id KERNEL_ID\n"
		"                        Jupyter kernel identifier\n",
};

static int
pid_or_kernel(const struct cli_cmd *cmd, int has_pid, const char *kernel_id)
{
	if (has_pid && kernel_id) {
		cli_usage_error(cmd, "argument --kernel-id: not allowed with argument --pid");
		return -1;
	}
	if (!has_pid && !kernel_id) {
		cli_usage_error(cmd, "one of the arguments --pid --kernel-id is required");
		return -1;
	}
	return 0;
}

static int
envs_find_run(struct envs_ctx *ctx, int argc, char **argv)
{
	const char *kernel_id = NULL;
	long pid = 0;
	int has_pid = 0, status;
	const struct cli_opt opts[] = {
		{ "--pid", NULL, CLI_OPT_LONG, &pid, NULL, &has_pid },
		{ "--kernel-id", NULL, CLI_OPT_STRING, &kernel_id, NULL, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	int rc;

	if (parse_leaf(&envs_find_cmd, argc, argv, opts, &status) < 0)
		return status;
	if (pid_or_kernel(&envs_find_cmd, has_pid, kernel_id) < 0)
		return 2;
	rc = store_admin_envs(ctx_flags(ctx), &envs, &err);
	for (size_t i = 0; i < envs.nr; i++) {
		const struct env *e = &envs.v[i];
		int match = 0;

		if (has_pid) {
			for (size_t j = 0; j < e->pids_nr && !match; j++)
				match = e->pids[j] == pid;
		} else {
			match = strvec_has(&e->kernel_ids, kernel_id);
		}
		if (match)
			strbuf_addf(&out, "%s\n", e->eid);
	}
	envs_release(&envs);
	return admin_finish(rc, &out, &err);
}

/* ---- activate ---- */

static const struct cli_cmd envs_activate_cmd = {
	.name = "envs activate",
	.summary = "Activate an environment: create it if needed and add a process or a Jupyter kernel to it",
	.usage = "genv envs activate [-h] --eid EID --uid UID [--username USERNAME] "
		 "(--pid PID | --kernel-id KERNEL_ID)",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --eid EID             Environment identifier\n"
		"  --uid UID             Owner user id (an integer)\n"
		"  --username USERNAME   Owner user name (optional)\n"
		"  --pid PID             Process to add to the environment\n"
		"  --kernel-id KERNEL_ID\n"
		"                        Jupyter kernel to add to the environment\n",
};

static int
envs_activate_run(struct envs_ctx *ctx, int argc, char **argv)
{
	const char *eid = NULL, *username = NULL, *kernel_id = NULL;
	long uid = 0, pid = 0;
	int has_uid = 0, has_pid = 0, status;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ "--uid", NULL, CLI_OPT_LONG, &uid, NULL, &has_uid },
		{ "--username", NULL, CLI_OPT_STRING, &username, NULL, NULL },
		{ "--pid", NULL, CLI_OPT_LONG, &pid, NULL, &has_pid },
		{ "--kernel-id", NULL, CLI_OPT_STRING, &kernel_id, NULL, NULL },
		{ NULL },
	};
	struct env_registration r = { NULL, 0, NULL, 0, NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	if (parse_leaf(&envs_activate_cmd, argc, argv, opts, &status) < 0)
		return status;
	if (!eid || !has_uid)
		return required(&envs_activate_cmd, !eid && !has_uid ? "--eid, --uid" :
				!eid ? "--eid" : "--uid");
	if (pid_or_kernel(&envs_activate_cmd, has_pid, kernel_id) < 0)
		return 2;
	/* pid 0 would mean "none" to the library: refuse it here already */
	if (has_pid && state_check_range(&state_pid_range, pid, &err) < 0)
		return admin_finish(-1, &out, &err);
	r.eid = eid;
	r.uid = uid;
	r.username = username;
	r.pid = has_pid ? pid : 0;
	r.kernel_id = kernel_id;
	return admin_finish(store_admin_activate(ctx_flags(ctx), &r, &err), &out, &err);
}

/* ---- config ---- */

static const struct cli_cmd envs_config_cmd = {
	.name = "envs config",
	.summary = "Configure an environment",
	.usage = "genv envs config [-h] --eid EID {gpus,name,gpu-memory} ...",
	.help = "fields:\n"
		"    gpus        genv envs config --eid EID gpus (--count N | --clear)\n"
		"    name        genv envs config --eid EID name (--name NAME | --clear)\n"
		"    gpu-memory  genv envs config --eid EID gpu-memory (--gpu-memory M | --clear)\n"
		"\noptions:\n"
		"  -h, --help  show this help message and exit\n"
		"  --eid EID   Environment identifier (an unknown one is ignored)\n",
};

static const struct cli_cmd envs_config_gpus_cmd = {
	.name = "envs config gpus",
	.summary = "Configure the device count of an environment",
	.usage = "genv envs config gpus [-h] (--count COUNT | --clear)",
	.help = "options:\n"
		"  -h, --help     show this help message and exit\n"
		"  --count COUNT  Number of devices\n"
		"  --clear        Unset the device count\n",
};

static const struct cli_cmd envs_config_name_cmd = {
	.name = "envs config name",
	.summary = "Configure the name of an environment",
	.usage = "genv envs config name [-h] (--name NAME | --clear)",
	.help = "options:\n"
		"  -h, --help   show this help message and exit\n"
		"  --name NAME  Environment name\n"
		"  --clear      Unset the name\n",
};

static const struct cli_cmd envs_config_memory_cmd = {
	.name = "envs config gpu-memory",
	.summary = "Configure the GPU memory capacity of an environment",
	.usage = "genv envs config gpu-memory [-h] (--gpu-memory GPU_MEMORY | --clear)",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --gpu-memory GPU_MEMORY\n"
		"                        Memory per device, e.g. 4g, 512mi (units b, k, m, g,\n"
		"                        ki, mi, gi)\n"
		"  --clear               Unset the memory capacity\n",
};

static const char *const config_fields[] = { "gpus", "name", "gpu-memory", NULL };
static const enum env_config_field env_fields[] = {
	ENV_CONFIG_GPUS, ENV_CONFIG_NAME, ENV_CONFIG_GPU_MEMORY,
};

static int
envs_config_run(struct envs_ctx *ctx, int argc, char **argv)
{
	static const struct cli_cmd *const field_cmds[] = {
		&envs_config_gpus_cmd, &envs_config_name_cmd, &envs_config_memory_cmd,
	};
	static const char *const value_opts[] = { "--count", "--name", "--gpu-memory" };
	const char *eid = NULL, *value = NULL;
	long count = 0;
	int clear = 0, has_value = 0, field, i;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ NULL },
	};
	struct cli_opt field_opts[] = {
		{ NULL, NULL, CLI_OPT_STRING, &value, NULL, &has_value },
		{ "--clear", NULL, CLI_OPT_FLAG, &clear, NULL, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	i = cli_parse_options(&envs_config_cmd, argc, argv, opts, CLI_PARSE_STOP_AT_POSITIONAL);
	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (i == argc)
		return required(&envs_config_cmd, !eid ? "--eid, field" : "field");
	field = cli_find_subcommand(&envs_config_cmd, config_fields, argv[i]);
	if (field < 0)
		return 2;
	field_opts[0].name = value_opts[field];
	if (field == 0) {
		field_opts[0].type = CLI_OPT_LONG;
		field_opts[0].value = &count;
	}
	i = cli_parse_options(field_cmds[field], argc - i, argv + i, field_opts, 0);
	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (has_value && clear)
		return cli_usage_error(field_cmds[field], "argument --clear: not allowed with argument %s",
				       value_opts[field]);
	if (!has_value && !clear)
		return cli_usage_error(field_cmds[field], "one of the arguments %s --clear is required",
				       value_opts[field]);
	if (!eid)
		return required(&envs_config_cmd, "--eid");
	/* a negative count would mean "unset" to the library: refuse it here already */
	if (field == 0 && has_value && state_check_range(&state_gpus_range, count, &err) < 0)
		return admin_finish(-1, &out, &err);
	return admin_finish(store_admin_configure(ctx_flags(ctx), eid, env_fields[field],
					    clear ? NULL : value, clear ? -1 : count, &err),
		      &out, &err);
}

/* ---- deactivate ---- */

static const struct cli_cmd envs_deactivate_cmd = {
	.name = "envs deactivate",
	.summary = "Remove a process from every environment (environments left empty are removed)",
	.usage = "genv envs deactivate [-h] --pid PID",
	.help = "options:\n"
		"  -h, --help  show this help message and exit\n"
		"  --pid PID   Process identifier\n",
};

static int
envs_deactivate_run(struct envs_ctx *ctx, int argc, char **argv)
{
	long pid = 0;
	int has_pid = 0, status;
	const struct cli_opt opts[] = {
		{ "--pid", NULL, CLI_OPT_LONG, &pid, NULL, &has_pid },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	if (parse_leaf(&envs_deactivate_cmd, argc, argv, opts, &status) < 0)
		return status;
	if (!has_pid)
		return required(&envs_deactivate_cmd, "--pid");
	return admin_finish(store_admin_deactivate(ctx_flags(ctx), pid, &err), &out, &err);
}

/* ---- dispatch ---- */

static const char *const envs_sub_names[] = {
	"ps", "query", "find", "activate", "config", "deactivate", NULL
};
static int (*const envs_sub_fns[])(struct envs_ctx *, int, char **) = {
	envs_ps, envs_query, envs_find_run, envs_activate_run, envs_config_run,
	envs_deactivate_run,
};

static int
envs_run(int argc, char **argv)
{
	struct envs_ctx ctx = { 0, 0 };
	const struct cli_opt opts[] = {
		{ "--no-cleanup", NULL, CLI_OPT_FLAG, &ctx.no_cleanup, NULL, NULL },
		{ "--reset", NULL, CLI_OPT_FLAG, &ctx.reset, NULL, NULL },
		{ NULL },
	};
	int i = cli_parse_options(&cli_cmd_envs, argc, argv, opts,
				  CLI_PARSE_STOP_AT_POSITIONAL);
	int sub;

	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (i == argc)
		return envs_ps(&ctx, 0, NULL);
	sub = cli_find_subcommand(&cli_cmd_envs, envs_sub_names, argv[i]);
	if (sub < 0)
		return 2;
	return envs_sub_fns[sub](&ctx, argc - i, argv + i);
}

const struct cli_cmd cli_cmd_envs = {
	.name = "envs",
	.summary = "Query and manage environments",
	.usage = "genv envs [-h] [--no-cleanup] [--reset] "
		 "{ps,query,find,activate,config,deactivate} ...",
	.help = "subcommands (default: ps):\n"
		"    ps          Print the active environments\n"
		"    query       Query environment fields (for scripts)\n"
		"    find        Print the environments of a process or Jupyter kernel\n"
		"    activate    Create an environment or add a process or kernel to it\n"
		"    config      Configure an environment\n"
		"    deactivate  Remove a process from every environment\n"
		"\noptions:\n"
		"  -h, --help    show this help message and exit\n"
		"  --no-cleanup  Keep processes that are gone and environments left empty\n"
		"  --reset       Forget all environments\n"
		"\nRun 'genv envs SUBCOMMAND --help' for the options of a subcommand.\n",
	.run = envs_run,
};
