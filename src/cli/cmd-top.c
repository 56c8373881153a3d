/* SPDX-License-Identifier: MIT */
/*
 * cmd-top.c: `genv top` and `genv remote ... top`: who holds which GPU
 * and what runs on it, live (src/top does the work).
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "cli/watch-cli.h"
#include "top/top.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <unistd.h>

#define TOP_KEYS \
	"Keys: q quits; arrows, j, k, PgUp, PgDn, Home and End scroll. Flagged:\n" \
	"IDLE (a GPU held by an environment with nothing running on it), NO-ENV\n" \
	"(a process outside any environment), OTHER-ENV (a process of an\n" \
	"environment that does not hold that GPU). NO_COLOR=1 turns colors off.\n"

static int top_run_cmd(int argc, char **argv, void *ctx);
static int remote_top_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_top = {
	.name = "top",
	.summary = "Show the GPUs, their holders and processes, live",
	.description =
	"Per GPU: memory and utilization, the environment holding it (its\n"
	"user, since when) and the processes running on it.\n",
	.epilog = TOP_KEYS,
	.run = top_run_cmd,
};

const struct cli_cmd cli_cmd_remote_top = {
	.name = "top",
	.summary = "Show the GPUs of the hosts, their holders and processes, live",
	.brief = "Show the GPUs of the hosts, their holders and\n"
		 "processes, live (one ssh session per host)",
	.usage_prog = "genv remote ... top",
	.epilog = TOP_KEYS
	"\nOne ssh session per host stays open (genv usage snapshot --watch);\n"
	"a host that fails is shown as DOWN and reconnected, 1 s, 2 s, 4 s ...\n"
	"up to 30 s later. Hosts with genv 1.4.3 are asked once per refresh.\n",
	.run = remote_top_run,
};

/*
 * Parses the options of cmd and runs the view: of this machine when
 * remote is NULL, else of its hosts. Returns the exit status.
 */
static int
top_cli_run(const struct cli_cmd *cmd, const struct remote_ctx *remote, int argc, char **argv)
{
	struct top_opts o = TOP_OPTS_INIT;
	const struct option opts[] = {
		OPT_INTEGER("-i|--interval", &o.interval, NULL,
			    "Seconds between refreshes (default 1)"),
		OPT_BOOL("--once", &o.once,
			 "Print one plain table and exit (the default when\n"
			 "standard output is not a terminal)"),
		OPT_END(),
	};
	struct strbuf table = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec problems = STRVEC_INIT;
	const char *no_color = getenv("NO_COLOR");
	int quiet = remote && remote->quiet, exit_on_error = remote && remote->exit_on_error;
	int r;

	cli_parse_options(cmd, argc, argv, opts);
	if (o.interval < 1 || o.interval > 3600)
		return cli_usage_error(cmd, "argument -i/--interval: must be 1..3600 seconds: '%ld'",
				       o.interval);
	if (remote) {
		o.hosts = &remote->hosts;
		o.stream.fan = remote->fan;
	}
	o.stream.interval = o.interval;
	o.in_fd = STDIN_FILENO;
	o.out_fd = STDOUT_FILENO;
	o.color = !no_color || !*no_color;

	r = top_run(&o, &table, &problems, &err);
	if (r < 0) {
		cli_error("%s", err.buf);
		r = 1;
	} else if (r > 0 && exit_on_error) {
		cli_error("%s", problems.v[0]);
		r = 1;
	} else {
		fwrite(table.buf, 1, table.len, stdout);
		fflush(stdout);
		for (size_t i = 0; i < problems.nr && !quiet; i++)
			fprintf(stderr, "%s\n", problems.v[i]);
		r = r > 0;
	}
	strbuf_release(&table);
	strbuf_release(&err);
	strvec_clear(&problems);
	return r;
}

static int
top_run_cmd(int argc, char **argv, void *ctx UNUSED)
{
	return top_cli_run(&cli_cmd_top, NULL, argc, argv);
}

static int
remote_top_run(int argc, char **argv, void *ctx)
{
	return top_cli_run(&cli_cmd_remote_top, ctx, argc, argv);
}
