/* SPDX-License-Identifier: MIT */
/*
 * cmd-devices.c: `genv devices`, the admin view of devices.json: list the
 * attachments (ps), query fields, find an environment's devices, and
 * attach or detach environments by id. Unlike 1.4.3, the file is written
 * back only when something changed (cleanup, NVML reconciliation, a
 * mutation), so read-only queries never race other writers.
 */
#include "compat.h"
#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "core/devices.h"
#include "core/envs.h"
#include "core/ps-json.h"
#include "core/state.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct devices_ctx {
	int no_cleanup;
	int reset;	struct table_opts topts;  /* ps's, also given before the subcommand */
};

static unsigned
ctx_flags(const struct devices_ctx *ctx)
{
	return admin_store_flags(ctx->no_cleanup, ctx->reset);
}

/* ---- ps ---- */

static int devices_ps(int argc, char **argv, void *data);

static const struct cli_cmd devices_ps_cmd = {
	.name = "ps",
	.summary = "Print information about devices and their attachments",
	.brief = "Print devices and the environments attached to them",
	.help_column = 23,
	.run = devices_ps,
};

static int
devices_ps(int argc, char **argv, void *data)
{
	static const size_t widths[] = { 8, 12, 16 };
	static const char *const header[] = { "ID", "ENV ID", "ENV NAME", "ATTACHED" };
	struct devices_ctx *ctx = data;
	struct table_opts topts = ctx->topts;
	const struct option opts[] = {
		OPT_TABLE_OPTIONS_JSON(&topts,
				       "Print the attachment time instead of how long ago it was", 0),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, idx = STRBUF_INIT, when = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct envs_index by_eid = ENVS_INDEX_INIT;
	struct devices devs = DEVICES_INIT;
	enum table_format fmt;
	time_t now;
	int r;

	cli_parse_options(&devices_ps_cmd, argc, argv, opts);
	fmt = table_opts_format(&topts);
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	now = clock_wall();
	envs_index_build(&by_eid, &envs);
	/* job mode is said above the table, for people (not in csv or json) */
	if (!r && !topts.no_header && fmt == TABLE_TUI && !store_describe_job(&out, &err) && out.len)
		strbuf_addch(&out, '\n');
	if (!r && fmt == TABLE_JSON)
		table_json(&out, ps_json_document("devices", ps_json_devices(&devs, &envs)));
	else if (!r && !topts.no_header)
		table_row(&out, fmt, widths, header, 4);
	for (size_t i = 0; fmt != TABLE_JSON && i < devs.nr; i++) {
		const struct device *d = &devs.v[i];

		strbuf_reset(&idx);
		strbuf_addf(&idx, "%ld", d->index);
		if (!d->att_nr) {
			const char *cells[] = { idx.buf, "", "", "" };

			table_row(&out, fmt, widths, cells, 4);
		}
		for (size_t j = 0; j < d->att_nr; j++) {
			const struct attachment *a = &d->att[j];
			const struct env *e = envs_index_find(&by_eid, a->eid);
			const char *name = e && e->config.name ? e->config.name : "";
			const char *cells[4];

			strbuf_reset(&when);
			table_time(&when, a->time, topts.timestamp, now);
			cells[0] = idx.buf;
			cells[1] = a->eid;
			cells[2] = name;
			cells[3] = when.buf;
			table_row(&out, fmt, widths, cells, 4);
		}
	}
	strbuf_release(&idx);
	strbuf_release(&when);
	envs_index_release(&by_eid);
	envs_release(&envs);
	devices_release(&devs);
	return admin_finish(r, &out, &err);
}

/* ---- query ---- */

static const char *const devices_query_choices[] = {
	"index", "eids", "total_memory", "attachments", NULL
};

static int devices_query(int argc, char **argv, void *data);

static const struct cli_cmd devices_query_cmd = {
	.name = "query",
	.summary = "Query device fields, one line per device with the values joined by commas",
	.brief = "Query device fields (for scripts)",
	.run = devices_query,
};

/* EID+GPU_MEMORY+TIME, the time's space as '_' */
static void
query_attachment(struct strbuf *out, const struct attachment *a, size_t nth)
{
	struct strbuf time = STRBUF_INIT;

	strbuf_addstr(out, nth ? " " : "");
	cli_add_value(out, a->eid);
	strbuf_addch(out, '+');
	cli_add_value(out, a->gpu_memory ? a->gpu_memory : "");
	strbuf_addch(out, '+');
	for (const char *c = a->time; *c; c++)
		strbuf_addch(&time, *c == ' ' ? '_' : *c);
	cli_add_value(out, time.buf);
	strbuf_release(&time);
}

static void
query_device(struct strbuf *out, const struct device *d, const struct strvec *q)
{
	for (size_t i = 0; i < q->nr; i++) {
		const char *f = q->v[i];

		if (i)
			strbuf_addch(out, ',');
		if (!strcmp(f, "index")) {
			strbuf_addf(out, "%ld", d->index);
		} else if (!strcmp(f, "eids")) {
			for (size_t j = 0; j < d->att_nr; j++) {
				strbuf_addstr(out, j ? " " : "");
				cli_add_value(out, d->att[j].eid);
			}
		} else if (!strcmp(f, "total_memory")) {
			cli_add_value(out, d->total_memory);
		} else if (!strcmp(f, "attachments")) {
			for (size_t j = 0; j < d->att_nr; j++)
				query_attachment(out, &d->att[j], j);
		}
	}
	strbuf_addch(out, '\n');
}

static int
devices_query(int argc, char **argv, void *data)
{
	struct devices_ctx *ctx = data;
	struct strvec queries = STRVEC_INIT;
	const struct option opts[] = {
		OPT_LIST("--query|--queries", &queries, devices_query_choices,
			 "Fields to print: the device index, the attached\n"
			 "environment ids, the total memory, and the\n"
			 "attachments as EID+GPU_MEMORY+TIME",
			 .flags = PARSE_OPT_REQUIRED,
			 .invocation = "--query {index,eids,total_memory,attachments} [...], "
				       "--queries ..."),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	int r;

	cli_parse_options(&devices_query_cmd, argc, argv, opts);
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	for (size_t i = 0; i < devs.nr; i++)
		query_device(&out, &devs.v[i], &queries);
	strvec_clear(&queries);
	envs_release(&envs);
	devices_release(&devs);
	return admin_finish(r, &out, &err);
}

/* ---- find ---- */

static int devices_find_run(int argc, char **argv, void *data);

static const struct cli_cmd devices_find_cmd = {
	.name = "find",
	.summary = "Print the indices of the devices attached to an environment",
	.brief = "Print the devices an environment is attached to",
	.run = devices_find_run,
};

static int
devices_find_run(int argc, char **argv, void *data)
{
	struct devices_ctx *ctx = data;
	const char *eid = NULL;
	const struct option opts[] = {
		OPT_STRING("--eid", &eid, NULL, "Environment identifier", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	int r;

	cli_parse_options(&devices_find_cmd, argc, argv, opts);
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	devices_attached_list(&devs, eid, &out);
	strbuf_addch(&out, '\n');
	envs_release(&envs);
	devices_release(&devs);
	return admin_finish(r, &out, &err);
}

/* ---- attach ---- */

static int devices_attach_run(int argc, char **argv, void *data);

static const struct cli_cmd devices_attach_cmd = {
	.name = "attach",
	.summary = "Attach an environment to devices",
	.epilog = "Prints the indices the environment is attached to afterwards.\n",
	.run = devices_attach_run,
};

static int
devices_attach_run(int argc, char **argv, void *data)
{
	struct devices_ctx *ctx = data;
	const char *eid = NULL;
	int over = 0, has_count = 0, has_index = 0;
	long count = -1, index = -1;
	const struct option opts[] = {
		OPT_STRING("--eid", &eid, NULL, "Environment identifier", .flags = PARSE_OPT_REQUIRED),
		OPT_BOOL("--allow-over-subscription", &over, "Also use devices that are not available"),
		OPT_INTEGER("--count", &count, NULL,
			    "Make the environment attached to exactly COUNT\n"
			    "devices (attaching or detaching); defaults to the\n"
			    "environment's configured device count",
			    .xgroup = 1, .seen = &has_count),
		OPT_INTEGER("--index", &index, NULL, "Attach the device at INDEX",
			    .xgroup = 1, .seen = &has_index),
		OPT_END(),
	};
	struct admin_attach a = ADMIN_ATTACH_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	cli_parse_options(&devices_attach_cmd, argc, argv, opts);
	a.eid = eid;
	a.over_subscribe = over;
	a.has_index = has_index;
	a.index = index;
	a.has_count = has_count;
	a.count = count;
	r = store_admin_attach(ctx_flags(ctx), &a, &out, &err);
	strbuf_addch(&out, '\n');
	return admin_finish(r, &out, &err);
}

/* ---- detach ---- */

static int devices_detach_run(int argc, char **argv, void *data);

static const struct cli_cmd devices_detach_cmd = {
	.name = "detach",
	.summary = "Detach an environment from devices",
	.run = devices_detach_run,
};

static int
devices_detach_run(int argc, char **argv, void *data)
{
	struct devices_ctx *ctx = data;
	const char *eid = NULL;
	int quiet = 0, has_index = 0;
	long index = -1;
	const struct option opts[] = {
		OPT_STRING("--eid", &eid, NULL, "Environment identifier", .flags = PARSE_OPT_REQUIRED),
		OPT_INTEGER("--index", &index, NULL,
			    "Detach only from the device at INDEX (default: from all)",
			    .seen = &has_index),
		OPT_BOOL("--quiet", &quiet, "Do not print the indices still attached afterwards"),
		OPT_END(),
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	cli_parse_options(&devices_detach_cmd, argc, argv, opts);
	r = store_admin_detach(ctx_flags(ctx), eid, !has_index, index,
			       quiet ? NULL : &out, &err);
	if (!quiet)
		strbuf_addch(&out, '\n');
	return admin_finish(r, &out, &err);
}

/* ---- dispatch ---- */

static const struct cli_cmd *const devices_subcmds[] = {
	&devices_ps_cmd, &devices_query_cmd, &devices_find_cmd, &devices_attach_cmd,
	&devices_detach_cmd, NULL
};

static int
devices_run(int argc, char **argv, void *data UNUSED)
{
	struct devices_ctx ctx = { 0, 0, TABLE_OPTS_INIT };
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, NULL, "subcommands (default: ps)"),
		OPT_BOOL("--no-cleanup", &ctx.no_cleanup, "Keep attachments of environments that are gone"),
		OPT_BOOL("--reset", &ctx.reset,
			 "Forget all attachments and rebuild the device list from\n"
			 "the GPUs of this machine"),
		OPT_TABLE_OPTIONS_JSON(&ctx.topts, "Print the attachment time instead of how long ago it was", PARSE_OPT_NOUSAGE),
		OPT_END(),
	};

	return cli_run_subcommand(&cli_cmd_devices, argc, argv, opts, &devices_ps_cmd, &ctx);
}

const struct cli_cmd cli_cmd_devices = {
	.name = "devices",
	.summary = "Query and manage devices",
	.epilog = "Run 'genv devices SUBCOMMAND --help' for the options of a subcommand.\n",
	.run = devices_run,
	.subcmds = devices_subcmds,
};
