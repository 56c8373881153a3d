/* SPDX-License-Identifier: MIT */
/*
 * cmd-usage.c: `genv usage`, the machine-readable side of genv remote:
 * `snapshot` prints this machine's processes, environments and devices as
 * the JSON other hosts read over SSH (json.dumps(indent=2) and a newline,
 * exactly as 1.4.3). `execute` is in cmd-enforce.c.
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "core/live.h"
#include "core/snapshot.h"
#include "core/state.h"
#include "core/state-json.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/fileio.h"

#include <signal.h>
#include <unistd.h>

/* ---- snapshot ---- */

static const char *const snapshot_formats[] = { "json", NULL };
static const char *const snapshot_types[] = { "devices", "envs", "processes", NULL };

static int usage_snapshot(int argc, char **argv, void *ctx);

static const struct cli_cmd usage_snapshot_cmd = {
	.name = "snapshot",
	.summary = "Print a snapshot of the GPU usage of this machine as JSON",
	.brief = "Print this machine's processes, environments and devices\n"
		 "as JSON (what `genv remote` reads over SSH)",
	.run = usage_snapshot,
};

static int
emit_line(const struct strbuf *line, void *data)
{
	(void)data;
	return write_all(STDOUT_FILENO, line->buf, line->len);
}

/*
 * --watch (hidden: the protocol of `genv remote top` and `remote monitor`):
 * one line of JSON per interval until the reader goes away.
 */
static int
snapshot_watch(long interval)
{
	struct live_watch_opts o = { .interval_ms = interval * 1000, .watch_fd = STDOUT_FILENO,
				     .emit = emit_line };
	struct strbuf err = STRBUF_INIT;
	int rc;

	/* a reader that is gone is the normal end, not a signal death */
	signal(SIGPIPE, SIG_IGN);
	rc = live_watch(&o, &err);
	if (rc < 0)
		cli_error("%s", err.buf);
	strbuf_release(&err);
	return rc < 0 ? 1 : 0;
}

static int
usage_snapshot(int argc, char **argv, void *ctx UNUSED)
{
	const char *format = "json", *type = NULL;
	long interval = 1;
	int watch = 0;
	const struct option opts[] = {
		OPT_CHOICE("--format", &format, snapshot_formats, "Output format (only json)"),
		OPT_CHOICE("--type", &type, snapshot_types,
			   "Print only this part (default: processes, envs\n"
			   "and devices together); reading other users'\n"
			   "processes needs root", .xgroup = 1),
		OPT_BOOL("--watch", &watch, NULL, .flags = PARSE_OPT_HIDDEN, .xgroup = 1),
		OPT_INTEGER("--interval", &interval, NULL, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_END(),
	};
	struct snapshot s = SNAPSHOT_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	unsigned parts = SNAPSHOT_ALL;
	int r;

	cli_parse_options(&usage_snapshot_cmd, argc, argv, opts);
	if (interval < 1 || interval > 86400)
		return cli_usage_error(&usage_snapshot_cmd,
				       "argument --interval: must be 1..86400 seconds: '%ld'",
				       interval);
	if (watch)
		return snapshot_watch(interval);
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

static const struct cli_cmd *const usage_subcmds[] = {
	&cli_cmd_usage_execute, &usage_snapshot_cmd, NULL
};

static int
usage_run(int argc, char **argv, void *ctx)
{
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, "SUBCOMMAND", "subcommands", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};

	return cli_run_subcommand(&cli_cmd_usage, argc, argv, opts, NULL, ctx);
}

const struct cli_cmd cli_cmd_usage = {
	.name = "usage",
	.summary = "GPU usage miscellaneous",
	.run = usage_run,
	.subcmds = usage_subcmds,
};
