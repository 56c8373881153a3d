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
#include "cli/table.h"
#include "core/ps-json.h"
#include "core/state.h"
#include "core/state-check.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct envs_ctx {
	int no_cleanup;
	int reset;	struct table_opts topts;  /* ps's, also given before the subcommand */
};

static unsigned
ctx_flags(const struct envs_ctx *ctx)
{
	return admin_store_flags(ctx->no_cleanup, ctx->reset);
}

/* ---- ps ---- */

static int envs_ps(int argc, char **argv, void *data);

static const struct cli_cmd envs_ps_cmd = {
	.name = "ps",
	.summary = "Print information about active environments",
	.brief = "Print the active environments",
	.help_column = 23,
	.run = envs_ps,
};

static int
envs_ps(int argc, char **argv, void *data)
{
	static const size_t widths[] = { 8, 16, 16, 21 };
	static const char *const header[] = { "ID", "USER", "NAME", "CREATED", "PID(S)" };
	struct envs_ctx *ctx = data;
	struct table_opts topts = ctx->topts;
	const struct option opts[] = {
		OPT_TABLE_OPTIONS_JSON(&topts, "Print the creation time instead of how long ago it was",
				       0),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, user = STRBUF_INIT, created = STRBUF_INIT,
		      pids = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	enum table_format fmt;
	time_t now;
	int rc;

	cli_parse_options(&envs_ps_cmd, argc, argv, opts);
	fmt = table_opts_format(&topts);
	rc = store_admin_envs(ctx_flags(ctx), &envs, &err);
	now = clock_wall();
	if (!rc && fmt == TABLE_JSON)
		table_json(&out, ps_json_document("envs", ps_json_envs(&envs)));
	else if (!rc && !topts.no_header)
		table_row(&out, fmt, widths, header, 5);
	for (size_t i = 0; fmt != TABLE_JSON && i < envs.nr; i++) {
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

static int envs_query(int argc, char **argv, void *data);

static const struct cli_cmd envs_query_cmd = {
	.name = "query",
	.summary = "Query environment fields, one line per environment with the values joined by commas",
	.brief = "Query environment fields (for scripts)",
	.run = envs_query,
};

static void
query_env(struct strbuf *out, const struct env *e, const struct strvec *q)
{
	for (size_t i = 0; i < q->nr; i++) {
		const char *f = q->v[i];

		if (i)
			strbuf_addch(out, ',');
		/* others' text: escaped on a terminal (cli_add_value) */
		if (!strcmp(f, "eid"))
			cli_add_value(out, e->eid);
		else if (!strcmp(f, "creation"))
			cli_add_value(out, e->creation);
		else if (!strcmp(f, "uid"))
			strbuf_addf(out, "%lld", e->uid);
		else if (!strcmp(f, "username"))
			cli_add_value(out, e->username ? e->username : "");
		else if (!strcmp(f, "config.name"))
			cli_add_value(out, e->config.name ? e->config.name : "");
		else if (!strcmp(f, "config.gpus")) {
			if (e->config.has_gpus)
				strbuf_addf(out, "%ld", e->config.gpus);
		} else if (!strcmp(f, "config.gpu_memory"))
			cli_add_value(out, e->config.gpu_memory ? e->config.gpu_memory : "");
		else if (!strcmp(f, "pids"))
			table_join_longs(out, e->pids, e->pids_nr, " ");
		else if (!strcmp(f, "kernel_ids"))
			for (size_t j = 0; j < e->kernel_ids.nr; j++) {
				strbuf_addstr(out, j ? " " : "");
				cli_add_value(out, e->kernel_ids.v[j]);
			}
	}
	strbuf_addch(out, '\n');
}

static int
envs_query(int argc, char **argv, void *data)
{
	struct envs_ctx *ctx = data;
	struct strvec queries = STRVEC_INIT;
	const char *eid = NULL;
	const struct option opts[] = {
		OPT_STRING("--eid", &eid, NULL, "Only this environment"),
		OPT_LIST("--query|--queries", &queries, envs_query_choices,
			 "Fields to print; unset values print as nothing\n"
			 "and lists (pids, kernel_ids) are space-separated",
			 .flags = PARSE_OPT_REQUIRED,
			 .invocation = "--query Q [Q ...], --queries Q [Q ...]"),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	int rc;

	cli_parse_options(&envs_query_cmd, argc, argv, opts);
	rc = store_admin_envs(ctx_flags(ctx), &envs, &err);
	for (size_t i = 0; i < envs.nr; i++)
		if (!eid || !strcmp(eid, envs.v[i].eid))
			query_env(&out, &envs.v[i], &queries);
	strvec_clear(&queries);
	envs_release(&envs);
	return admin_finish(rc, &out, &err);
}

/* ---- find ---- */

static int envs_find_run(int argc, char **argv, void *data);

static const struct cli_cmd envs_find_cmd = {
	.name = "find",
	.summary = "Print the environments a process or a Jupyter kernel belongs to",
	.brief = "Print the environments of a process or Jupyter kernel",
	.run = envs_find_run,
};

static int
envs_find_run(int argc, char **argv, void *data)
{
	struct envs_ctx *ctx = data;
	const char *kernel_id = NULL;
	long pid = 0;
	int has_pid = 0;
	const struct option opts[] = {
		OPT_INTEGER("--pid", &pid, NULL, "Process identifier",
			    .xgroup = 1, .flags = PARSE_OPT_REQUIRED, .seen = &has_pid),
		OPT_STRING("--kernel-id", &kernel_id, NULL, "Jupyter kernel identifier", .xgroup = 1),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	int rc;

	cli_parse_options(&envs_find_cmd, argc, argv, opts);
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
		if (match) {
			cli_add_value(&out, e->eid);
			strbuf_addch(&out, '\n');
		}
	}
	envs_release(&envs);
	return admin_finish(rc, &out, &err);
}

/* ---- activate ---- */

static int envs_activate_run(int argc, char **argv, void *data);

static const struct cli_cmd envs_activate_cmd = {
	.name = "activate",
	.summary = "Activate an environment: create it if needed and add a process or a Jupyter kernel to it",
	.brief = "Create an environment or add a process or kernel to it",
	.run = envs_activate_run,
};

static int
envs_activate_run(int argc, char **argv, void *data)
{
	struct envs_ctx *ctx = data;
	const char *eid = NULL, *username = NULL, *kernel_id = NULL;
	long uid = 0, pid = 0;
	int has_pid = 0;
	const struct option opts[] = {
		OPT_STRING("--eid", &eid, NULL, "Environment identifier", .flags = PARSE_OPT_REQUIRED),
		OPT_INTEGER("--uid", &uid, NULL, "Owner user id (an integer)",
			    .flags = PARSE_OPT_REQUIRED),
		OPT_STRING("--username", &username, NULL, "Owner user name (optional)"),
		OPT_INTEGER("--pid", &pid, NULL, "Process to add to the environment",
			    .xgroup = 1, .flags = PARSE_OPT_REQUIRED, .seen = &has_pid),
		OPT_STRING("--kernel-id", &kernel_id, NULL, "Jupyter kernel to add to the environment",
			   .xgroup = 1),
		OPT_END(),
	};
	struct env_registration r = { NULL, 0, NULL, 0, NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	cli_parse_options(&envs_activate_cmd, argc, argv, opts);
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

/* What `genv envs config` gives the field subcommands. */
struct envs_config {
	struct envs_ctx *ctx;
	const char *eid;
};

/* Sets (value; count for gpus) or clears one field of the environment. */
static int
envs_config_set(struct envs_config *c, enum env_config_field field, int clear,
		const char *value, long count)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	/* a negative count would mean "unset" to the library: refuse it here already */
	if (field == ENV_CONFIG_GPUS && !clear && state_check_range(&state_gpus_range, count, &err) < 0)
		return admin_finish(-1, &out, &err);
	return admin_finish(store_admin_configure(ctx_flags(c->ctx), c->eid, field,
						  clear ? NULL : value, clear ? -1 : count, &err),
			    &out, &err);
}

static int envs_config_gpus(int argc, char **argv, void *data);
static int envs_config_name(int argc, char **argv, void *data);
static int envs_config_memory(int argc, char **argv, void *data);

static const struct cli_cmd envs_config_gpus_cmd = {
	.name = "gpus",
	.summary = "Configure the device count of an environment",
	.brief = "genv envs config --eid EID gpus (--count N | --clear)",
	.run = envs_config_gpus,
};

static const struct cli_cmd envs_config_name_cmd = {
	.name = "name",
	.summary = "Configure the name of an environment",
	.brief = "genv envs config --eid EID name (--name NAME | --clear)",
	.run = envs_config_name,
};

static const struct cli_cmd envs_config_memory_cmd = {
	.name = "gpu-memory",
	.summary = "Configure the GPU memory capacity of an environment",
	.brief = "genv envs config --eid EID gpu-memory (--gpu-memory M | --clear)",
	.run = envs_config_memory,
};

static int
envs_config_gpus(int argc, char **argv, void *data)
{
	long count = 0;
	int clear = 0;
	const struct option opts[] = {
		OPT_INTEGER("--count", &count, NULL, "Number of devices",
			    .xgroup = 1, .flags = PARSE_OPT_REQUIRED),
		OPT_BOOL("--clear", &clear, "Unset the device count", .xgroup = 1),
		OPT_END(),
	};

	cli_parse_options(&envs_config_gpus_cmd, argc, argv, opts);
	return envs_config_set(data, ENV_CONFIG_GPUS, clear, NULL, count);
}

static int
envs_config_name(int argc, char **argv, void *data)
{
	const char *name = NULL;
	int clear = 0;
	const struct option opts[] = {
		OPT_STRING("--name", &name, NULL, "Environment name",
			   .xgroup = 1, .flags = PARSE_OPT_REQUIRED),
		OPT_BOOL("--clear", &clear, "Unset the name", .xgroup = 1),
		OPT_END(),
	};

	cli_parse_options(&envs_config_name_cmd, argc, argv, opts);
	return envs_config_set(data, ENV_CONFIG_NAME, clear, name, 0);
}

static int
envs_config_memory(int argc, char **argv, void *data)
{
	const char *memory = NULL;
	int clear = 0;
	const struct option opts[] = {
		OPT_STRING("--gpu-memory", &memory, NULL,
			   "Memory per device, e.g. 4g, 512mi (units b, k, m, g,\n"
			   "ki, mi, gi)",
			   .xgroup = 1, .flags = PARSE_OPT_REQUIRED),
		OPT_BOOL("--clear", &clear, "Unset the memory capacity", .xgroup = 1),
		OPT_END(),
	};

	cli_parse_options(&envs_config_memory_cmd, argc, argv, opts);
	return envs_config_set(data, ENV_CONFIG_GPU_MEMORY, clear, memory, 0);
}

static const struct cli_cmd *const envs_config_fields[] = {
	&envs_config_gpus_cmd, &envs_config_name_cmd, &envs_config_memory_cmd, NULL
};

static int envs_config_run(int argc, char **argv, void *data);

static const struct cli_cmd envs_config_cmd = {
	.name = "config",
	.summary = "Configure an environment",
	.run = envs_config_run,
	.subcmds = envs_config_fields,
};

static int
envs_config_run(int argc, char **argv, void *data)
{
	struct envs_config c = { data, NULL };
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, NULL, "fields", .names = "field", .flags = PARSE_OPT_REQUIRED),
		OPT_STRING("--eid", &c.eid, NULL, "Environment identifier (an unknown one is ignored)",
			   .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};

	return cli_run_subcommand(&envs_config_cmd, argc, argv, opts, NULL, &c);
}

/* ---- deactivate ---- */

static int envs_deactivate_run(int argc, char **argv, void *data);

static const struct cli_cmd envs_deactivate_cmd = {
	.name = "deactivate",
	.summary = "Remove a process from every environment (environments left empty are removed)",
	.brief = "Remove a process from every environment",
	.run = envs_deactivate_run,
};

static int
envs_deactivate_run(int argc, char **argv, void *data)
{
	struct envs_ctx *ctx = data;
	long pid = 0;
	const struct option opts[] = {
		OPT_INTEGER("--pid", &pid, NULL, "Process identifier", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	cli_parse_options(&envs_deactivate_cmd, argc, argv, opts);
	return admin_finish(store_admin_deactivate(ctx_flags(ctx), pid, &err), &out, &err);
}

/* ---- dispatch ---- */

static const struct cli_cmd *const envs_subcmds[] = {
	&envs_ps_cmd, &envs_query_cmd, &envs_find_cmd, &envs_activate_cmd, &envs_config_cmd,
	&envs_deactivate_cmd, NULL
};

static int
envs_run(int argc, char **argv, void *data UNUSED)
{
	struct envs_ctx ctx = { 0, 0, TABLE_OPTS_INIT };
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, NULL, "subcommands (default: ps)"),
		OPT_BOOL("--no-cleanup", &ctx.no_cleanup,
			 "Keep processes that are gone and environments left empty"),
		OPT_BOOL("--reset", &ctx.reset, "Forget all environments"),
		OPT_TABLE_OPTIONS_JSON(&ctx.topts, "Print the creation time instead of how long ago it was", PARSE_OPT_NOUSAGE),
		OPT_END(),
	};

	return cli_run_subcommand(&cli_cmd_envs, argc, argv, opts, &envs_ps_cmd, &ctx);
}

const struct cli_cmd cli_cmd_envs = {
	.name = "envs",
	.summary = "Query and manage environments",
	.epilog = "Run 'genv envs SUBCOMMAND --help' for the options of a subcommand.\n",
	.run = envs_run,
	.subcmds = envs_subcmds,
};
