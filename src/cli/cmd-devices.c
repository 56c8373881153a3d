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
#include "cli/options.h"
#include "cli/table.h"
#include "core/devices.h"
#include "core/envs.h"
#include "core/state.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct devices_ctx {
	int no_cleanup;
	int reset;
};

static unsigned
ctx_flags(const struct devices_ctx *ctx)
{
	return admin_store_flags(ctx->no_cleanup, ctx->reset);
}

/* ---- ps ---- */

static const struct cli_cmd devices_ps_cmd = {
	.name = "devices ps",
	.summary = "Print information about devices and their attachments",
	.usage = "genv devices ps [-h] [--no-header] [--timestamp] [--format {csv,tui}]",
	.help = "options:\n"
		"  -h, --help           show this help message and exit\n"
		"  --no-header          Do not print column headers\n"
		"  --timestamp          Print the attachment time instead of how long ago it was\n"
		"  --format {csv,tui}   Output format; tui (the default) or csv\n",
};

static int
devices_ps(struct devices_ctx *ctx, int argc, char **argv)
{
	static const size_t widths[] = { 8, 12, 16 };
	static const char *const header[] = { "ID", "ENV ID", "ENV NAME", "ATTACHED" };
	struct table_opts topts = TABLE_OPTS_INIT;
	struct cli_opt opts[4] = { { NULL } };
	struct strbuf out = STRBUF_INIT, idx = STRBUF_INIT, when = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct envs_index by_eid = ENVS_INDEX_INIT;
	struct devices devs = DEVICES_INIT;
	enum table_format fmt;
	time_t now;
	int r;

	table_opts_bind(opts, &topts);
	if (argc) {
		r = cli_parse_options(&devices_ps_cmd, argc, argv, opts, 0);
		if (r < 0)
			return r == CLI_PARSE_HELP ? 0 : 2;
	}
	fmt = table_opts_format(&topts);
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	now = clock_wall();
	envs_index_build(&by_eid, &envs);
	if (!r && !topts.no_header)
		table_row(&out, fmt, widths, header, 4);
	for (size_t i = 0; i < devs.nr; i++) {
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

static const struct cli_cmd devices_query_cmd = {
	.name = "devices query",
	.summary = "Query device fields, one line per device with the values joined by commas",
	.usage = "genv devices query [-h] --query {index,eids,total_memory,attachments} "
		 "[{index,eids,total_memory,attachments} ...]",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --query {index,eids,total_memory,attachments} [...], --queries ...\n"
		"                        Fields to print: the device index, the attached\n"
		"                        environment ids, the total memory, and the\n"
		"                        attachments as EID+GPU_MEMORY+TIME\n",
};

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
			for (size_t j = 0; j < d->att_nr; j++)
				strbuf_addf(out, "%s%s", j ? " " : "", d->att[j].eid);
		} else if (!strcmp(f, "total_memory")) {
			strbuf_addstr(out, d->total_memory);
		} else if (!strcmp(f, "attachments")) {
			for (size_t j = 0; j < d->att_nr; j++) {
				const struct attachment *a = &d->att[j];

				strbuf_addf(out, "%s%s+%s+", j ? " " : "", a->eid,
					    a->gpu_memory ? a->gpu_memory : "");
				for (const char *c = a->time; *c; c++)
					strbuf_addch(out, *c == ' ' ? '_' : *c);
			}
		}
	}
	strbuf_addch(out, '\n');
}

static int
devices_query(struct devices_ctx *ctx, int argc, char **argv)
{
	struct strvec queries = STRVEC_INIT;
	const struct cli_opt opts[] = {
		{ "--query", "--queries", CLI_OPT_LIST, &queries, devices_query_choices, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	int r = cli_parse_options(&devices_query_cmd, argc, argv, opts, 0);

	if (r < 0 || !queries.nr) {
		strvec_clear(&queries);
		if (r == CLI_PARSE_HELP)
			return 0;
		if (r >= 0)
			cli_usage_error(&devices_query_cmd,
					"the following arguments are required: --query/--queries");
		return 2;
	}
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	for (size_t i = 0; i < devs.nr; i++)
		query_device(&out, &devs.v[i], &queries);
	strvec_clear(&queries);
	envs_release(&envs);
	devices_release(&devs);
	return admin_finish(r, &out, &err);
}

/* ---- find ---- */

static const struct cli_cmd devices_find_cmd = {
	.name = "devices find",
	.summary = "Print the indices of the devices attached to an environment",
	.usage = "genv devices find [-h] --eid EID",
	.help = "options:\n"
		"  -h, --help  show this help message and exit\n"
		"  --eid EID   Environment identifier\n",
};

static int
devices_find_run(struct devices_ctx *ctx, int argc, char **argv)
{
	const char *eid = NULL;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	int r = cli_parse_options(&devices_find_cmd, argc, argv, opts, 0);

	if (r < 0 || !eid) {
		if (r == CLI_PARSE_HELP)
			return 0;
		if (r >= 0)
			cli_usage_error(&devices_find_cmd,
					"the following arguments are required: --eid");
		return 2;
	}
	r = store_admin_devices(ctx_flags(ctx), &envs, &devs, &err);
	devices_attached_list(&devs, eid, &out);
	strbuf_addch(&out, '\n');
	envs_release(&envs);
	devices_release(&devs);
	return admin_finish(r, &out, &err);
}

/* ---- attach ---- */

static const struct cli_cmd devices_attach_cmd = {
	.name = "devices attach",
	.summary = "Attach an environment to devices",
	.usage = "genv devices attach [-h] --eid EID [--allow-over-subscription] "
		 "[--count COUNT | --index INDEX]",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --eid EID             Environment identifier\n"
		"  --allow-over-subscription\n"
		"                        Also use devices that are not available\n"
		"  --count COUNT         Make the environment attached to exactly COUNT\n"
		"                        devices (attaching or detaching); defaults to the\n"
		"                        environment's configured device count\n"
		"  --index INDEX         Attach the device at INDEX\n"
		"\nPrints the indices the environment is attached to afterwards.\n",
};

static int
devices_attach_run(struct devices_ctx *ctx, int argc, char **argv)
{
	const char *eid = NULL;
	int over = 0, has_count = 0, has_index = 0;
	long count = -1, index = -1;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ "--allow-over-subscription", NULL, CLI_OPT_FLAG, &over, NULL, NULL },
		{ "--count", NULL, CLI_OPT_LONG, &count, NULL, &has_count },
		{ "--index", NULL, CLI_OPT_LONG, &index, NULL, &has_index },
		{ NULL },
	};
	struct admin_attach a = ADMIN_ATTACH_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r = cli_parse_options(&devices_attach_cmd, argc, argv, opts, 0);

	if (r >= 0 && has_count && has_index) {
		cli_usage_error(&devices_attach_cmd,
				"argument --index: not allowed with argument --count");
		r = CLI_PARSE_ERROR;
	} else if (r >= 0 && !eid) {
		cli_usage_error(&devices_attach_cmd,
				"the following arguments are required: --eid");
		r = CLI_PARSE_ERROR;
	}
	if (r < 0)
		return r == CLI_PARSE_HELP ? 0 : 2;
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

static const struct cli_cmd devices_detach_cmd = {
	.name = "devices detach",
	.summary = "Detach an environment from devices",
	.usage = "genv devices detach [-h] --eid EID [--index INDEX] [--quiet]",
	.help = "options:\n"
		"  -h, --help     show this help message and exit\n"
		"  --eid EID      Environment identifier\n"
		"  --index INDEX  Detach only from the device at INDEX (default: from all)\n"
		"  --quiet        Do not print the indices still attached afterwards\n",
};

static int
devices_detach_run(struct devices_ctx *ctx, int argc, char **argv)
{
	const char *eid = NULL;
	int quiet = 0, has_index = 0;
	long index = -1;
	const struct cli_opt opts[] = {
		{ "--eid", NULL, CLI_OPT_STRING, &eid, NULL, NULL },
		{ "--index", NULL, CLI_OPT_LONG, &index, NULL, &has_index },
		{ "--quiet", NULL, CLI_OPT_FLAG, &quiet, NULL, NULL },
		{ NULL },
	};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r = cli_parse_options(&devices_detach_cmd, argc, argv, opts, 0);

	if (r >= 0 && !eid) {
		cli_usage_error(&devices_detach_cmd,
				"the following arguments are required: --eid");
		r = CLI_PARSE_ERROR;
	}
	if (r < 0)
		return r == CLI_PARSE_HELP ? 0 : 2;
	r = store_admin_detach(ctx_flags(ctx), eid, !has_index, index,
			       quiet ? NULL : &out, &err);
	if (!quiet)
		strbuf_addch(&out, '\n');
	return admin_finish(r, &out, &err);
}

/* ---- dispatch ---- */

static const char *const devices_sub_names[] = {
	"ps", "query", "find", "attach", "detach", NULL
};
static int (*const devices_sub_fns[])(struct devices_ctx *, int, char **) = {
	devices_ps, devices_query, devices_find_run, devices_attach_run, devices_detach_run,
};

static int
devices_run(int argc, char **argv)
{
	struct devices_ctx ctx = { 0, 0 };
	const struct cli_opt opts[] = {
		{ "--no-cleanup", NULL, CLI_OPT_FLAG, &ctx.no_cleanup, NULL, NULL },
		{ "--reset", NULL, CLI_OPT_FLAG, &ctx.reset, NULL, NULL },
		{ NULL },
	};
	int i = cli_parse_options(&cli_cmd_devices, argc, argv, opts,
				  CLI_PARSE_STOP_AT_POSITIONAL);
	int sub;

	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (i == argc)
		return devices_ps(&ctx, 0, NULL);
	sub = cli_find_subcommand(&cli_cmd_devices, devices_sub_names, argv[i]);
	if (sub < 0)
		return 2;
	return devices_sub_fns[sub](&ctx, argc - i, argv + i);
}

const struct cli_cmd cli_cmd_devices = {
	.name = "devices",
	.summary = "Query and manage devices",
	.usage = "genv devices [-h] [--no-cleanup] [--reset] {ps,query,find,attach,detach} ...",
	.help = "subcommands (default: ps):\n"
		"    ps          Print devices and the environments attached to them\n"
		"    query       Query device fields (for scripts)\n"
		"    find        Print the devices an environment is attached to\n"
		"    attach      Attach an environment to devices\n"
		"    detach      Detach an environment from devices\n"
		"\noptions:\n"
		"  -h, --help    show this help message and exit\n"
		"  --no-cleanup  Keep attachments of environments that are gone\n"
		"  --reset       Forget all attachments and rebuild the device list from\n"
		"                the GPUs of this machine\n"
		"\nRun 'genv devices SUBCOMMAND --help' for the options of a subcommand.\n",
	.run = devices_run,
};
