/* SPDX-License-Identifier: MIT */
/*
 * cmd-usage.c: `genv usage`, the machine-readable side of genv remote:
 * `snapshot` prints this machine's processes, environments and devices as
 * the JSON other hosts read over SSH (json.dumps(indent=2) and a newline,
 * exactly as 1.4.3). Each subcommand is one entry of usage_subs[].
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "cli/options.h"
#include "core/snapshot.h"
#include "core/state.h"
#include "core/state-json.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* ---- snapshot ---- */

static const char *const snapshot_formats[] = { "json", NULL };
static const char *const snapshot_types[] = { "devices", "envs", "processes", NULL };

static const struct cli_cmd usage_snapshot_cmd = {
	.name = "usage snapshot",
	.summary = "Print a snapshot of the GPU usage of this machine as JSON",
	.usage = "genv usage snapshot [-h] [--format {json}] [--type {devices,envs,processes}]",
	.help = "options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --format {json}       Output format (only json)\n"
		"  --type {devices,envs,processes}\n"
		"                        Print only this part (default: processes, envs\n"
		"                        and devices together); reading other users'\n"
		"                        processes needs root\n",
};

static int
usage_snapshot(int argc, char **argv)
{
	const char *format = "json", *type = NULL;
	const struct cli_opt opts[] = {
		{ "--format", NULL, CLI_OPT_CHOICE, &format, snapshot_formats, NULL },
		{ "--type", NULL, CLI_OPT_CHOICE, &type, snapshot_types, NULL },
		{ NULL },
	};
	struct snapshot s = SNAPSHOT_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	unsigned parts = SNAPSHOT_ALL;
	int r = cli_parse_options(&usage_snapshot_cmd, argc, argv, opts, 0);

	if (r < 0)
		return r == CLI_PARSE_HELP ? 0 : 2;
	if (type)
		parts = !strcmp(type, "devices") ? SNAPSHOT_DEVICES :
			!strcmp(type, "envs") ? SNAPSHOT_ENVS : SNAPSHOT_PROCESSES;

	r = snapshot_read(&s, parts, &warnings, &err);
	for (size_t i = 0; i < warnings.nr; i++)
		fprintf(stderr, "%s\n", warnings.v[i]);
	if (r < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	switch (parts) {
	case SNAPSHOT_DEVICES:
		devices_serialize(&s.devices, &out);
		break;
	case SNAPSHOT_ENVS:
		envs_serialize(&s.envs, &out);
		break;
	case SNAPSHOT_PROCESSES:
		processes_serialize(&s.processes, &out);
		break;
	default:
		snapshot_serialize(&s, &out);
		break;
	}
	strbuf_addch(&out, '\n');
	fwrite(out.buf, 1, out.len, stdout);
out:
	snapshot_release(&s);
	strvec_clear(&warnings);
	strbuf_release(&err);
	strbuf_release(&out);
	return r < 0 ? 1 : 0;
}

/* ---- dispatch ---- */

struct usage_sub {
	const char *name;
	int (*run)(int argc, char **argv);  /* argv[0] is the subcommand name */
};

static const struct usage_sub usage_subs[] = {
	{ "execute", usage_execute_run },  /* cmd-enforce.c */
	{ "snapshot", usage_snapshot },
};

static int
usage_run(int argc, char **argv)
{
	static const struct cli_opt no_opts[] = { { NULL } };
	const char *names[ARRAY_SIZE(usage_subs) + 1];
	int i = cli_parse_options(&cli_cmd_usage, argc, argv, no_opts,
				  CLI_PARSE_STOP_AT_POSITIONAL);
	int sub;

	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (i == argc)
		return cli_usage_error(&cli_cmd_usage,
				       "the following arguments are required: SUBCOMMAND");
	for (size_t k = 0; k < ARRAY_SIZE(usage_subs); k++)
		names[k] = usage_subs[k].name;
	names[ARRAY_SIZE(usage_subs)] = NULL;
	sub = cli_find_subcommand(&cli_cmd_usage, names, argv[i]);
	if (sub < 0)
		return 2;
	return usage_subs[sub].run(argc - i, argv + i);
}

const struct cli_cmd cli_cmd_usage = {
	.name = "usage",
	.summary = "GPU usage miscellaneous",
	.usage = "genv usage [-h] SUBCOMMAND ...",
	.help = "subcommands:\n"
		"    execute     Terminate processes and detach environments as the\n"
		"                report on standard input says (`genv remote enforce`)\n"
		"    snapshot    Print this machine's processes, environments and devices\n"
		"                as JSON (what `genv remote` reads over SSH)\n"
		"\noptions:\n"
		"  -h, --help  show this help message and exit\n",
	.run = usage_run,
};
