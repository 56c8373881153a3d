/* SPDX-License-Identifier: MIT */
/*
 * cmd-remote.c: `genv remote`, genv across many machines over ssh: list
 * their devices and environments, query environments by name, and open
 * a shell in a new environment on a host that has the GPUs asked for.
 * Command lines and outputs are those of genv 1.4.3; hosts are queried in
 * parallel (bounded), each with a timeout, and a failing host never hides
 * the others' answers.
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "cli/remote.h"
#include "cli/table.h"
#include "cli/watch-cli.h"
#include "core/llm.h"
#include "core/ps-json.h"
#include "core/state.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/remote.h"
#include "remote/ssh.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/term.h"

#include <time.h>
#include <unistd.h>

#define REMOTE_DEFAULT_CONNECT_TIMEOUT 10
#define REMOTE_DEFAULT_COMMAND_TIMEOUT 60
#define REMOTE_DEFAULT_PARALLEL 32

static int remote_devices(int argc, char **argv, void *data);
static int remote_envs(int argc, char **argv, void *data);
static int remote_query(int argc, char **argv, void *data);
static int remote_activate(int argc, char **argv, void *data);
static int remote_llm(int argc, char **argv, void *data);

static const struct cli_cmd remote_devices_cmd = {
	.name = "devices",
	.summary = "Query devices on the hosts",
	.usage_prog = "genv remote ... devices",
	.help_column = 24,
	.run = remote_devices,
};

static const struct cli_cmd remote_envs_cmd = {
	.name = "envs",
	.summary = "Query environments on the hosts",
	.usage_prog = "genv remote ... envs",
	.help_column = 24,
	.run = remote_envs,
};

static const struct cli_cmd remote_query_cmd = {
	.name = "query",
	.summary = "Query environments by name on the hosts",
	.brief = "Query environments by name",
	.usage_prog = "genv remote ... query",
	.run = remote_query,
};

static const struct cli_cmd remote_activate_cmd = {
	.name = "activate",
	.summary = "Open a shell in a new environment on a host with enough resources",
	.brief = "Open a shell in a new environment on a host",
	.usage_prog = "genv remote ... activate",
	.epilog =
	"The host with the fewest available devices that still has enough is\n"
	"chosen (ties: host order). The devices are reserved on the host in the\n"
	"same ssh connection that opens the login shell; if another user took\n"
	"them in the meantime, the next host is tried.\n",
	.run = remote_activate,
};

static const struct cli_cmd remote_llm_cmd;   /* with its subcommands, below */

static const struct cli_cmd *const remote_subcmds[] = {
	&remote_activate_cmd, &remote_devices_cmd, &cli_cmd_remote_enforce, &remote_envs_cmd,
	&remote_llm_cmd, &cli_cmd_remote_monitor, &remote_query_cmd, &cli_cmd_remote_top, NULL
};

/* ---- progress while hosts are waited on (stderr a terminal only) ---- */

#define PROGRESS_DELAY_MS 300   /* fast calls show nothing */
#define PROGRESS_EVERY_MS 250   /* redrawn at most 4 times a second */

/* "genv: 3/6 hosts done, waiting for user2@gpu-server-5 (4s)", in place */
static void
draw_progress(const struct fanout_progress *p, void *data)
{
	struct remote_ctx *ctx = data;
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	unsigned rows, cols;

	if (p->elapsed_ms < PROGRESS_DELAY_MS || !p->slowest ||
	    (ctx->progress_shown && p->elapsed_ms - ctx->progress_last_ms < PROGRESS_EVERY_MS))
		return;
	strbuf_addf(&line, "genv: %zu/%zu hosts done, waiting for ", p->done, p->total);
	quote_display(&line, host_entry(p->slowest));
	strbuf_addf(&line, " (%lds)", p->waited_ms / 1000);
	/* a line that wrapped could not be erased with \r */
	strbuf_addch(&out, '\r');
	if (!term_size(STDERR_FILENO, &rows, &cols) && cols > 1 && term_width(line.buf) >= cols)
		term_add_fit(&out, line.buf, cols - 1);
	else
		strbuf_addbuf(&out, &line);
	strbuf_addstr(&out, "\033[K");
	fwrite(out.buf, 1, out.len, stderr);
	fflush(stderr);
	ctx->progress_shown = 1;
	ctx->progress_last_ms = p->elapsed_ms;
	strbuf_release(&line);
	strbuf_release(&out);
}

/* Before asking the hosts: a progress line, if stderr is a terminal and not -q. */
static void
progress_begin(struct remote_ctx *ctx)
{
	const char *term = getenv("TERM");

	if (ctx->quiet || !isatty(STDERR_FILENO) || !term || !strcmp(term, "dumb"))
		return;
	ctx->fan.progress = draw_progress;
	ctx->fan.progress_data = ctx;
}

/* Once every host answered or failed: the line is erased, nothing is left. */
static void
progress_end(struct remote_ctx *ctx)
{
	if (ctx->progress_shown)
		fputs("\r\033[K", stderr);
	ctx->progress_shown = 0;
	ctx->fan.progress = NULL;
	ctx->fan.progress_data = NULL;
}

/* ---- output of per-host problems (host order) ---- */

/* "[host] text" on stderr: the text comes from the host, escaped */
static void
print_host_line(const char *host, const char *text)
{
	struct strbuf prefix = STRBUF_INIT;

	strbuf_addf(&prefix, "[%s] ", host);
	cli_print_line(stderr, prefix.buf, text);
	strbuf_release(&prefix);
}

/* How many hosts failed: "genv: 4 of 6 hosts failed", or that none answered. */
static void
print_failed_count(const struct remote_answers *ans)
{
	size_t failed = ans->nr - ans->answered;

	if (!ans->answered)
		fprintf(stderr, "genv: no host answered (%zu %s failed)\n", failed,
			failed == 1 ? "host" : "hosts");
	else
		fprintf(stderr, "genv: %zu of %zu hosts failed\n", failed, ans->nr);
}

/*
 * Whether no host answered, for the commands that need one: they fail
 * with that (said even with -q: it is their error, not a host's report).
 */
static int
none_answered(const struct remote_ctx *ctx, const struct remote_answers *ans)
{
	if (ans->answered)
		return 0;
	if (ctx->quiet)
		print_failed_count(ans);
	return 1;
}

/*
 * Prints each failed host's message (unless -q) and each answering host's
 * stderr lines as "[host] line", then how many failed (unless -q). With
 * -e, stops at the first failure and returns -1. Returns the number of
 * failed hosts otherwise.
 */
static int
report_hosts(struct remote_ctx *ctx, const struct remote_answers *ans)
{
	int failed = 0;

	progress_end(ctx);
	fflush(stdout);
	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];

		if (!h->ok) {
			failed++;
			if (ctx->exit_on_error || !ctx->quiet)
				cli_print_line(stderr, NULL, h->error.buf);
			if (ctx->exit_on_error)
				return -1;
			continue;
		}
		for (size_t j = 0; j < h->warnings.nr; j++)
			print_host_line(h->host->name, h->warnings.v[j]);
	}
	if (failed && !ctx->quiet)
		print_failed_count(ans);
	return failed;
}

/* The library's notes about hosts (unless -q), and its own lines. */
static void
say_on_stderr(const struct host *h, const char *line, void *data)
{
	const struct remote_ctx *ctx = data;

	if (ctx->quiet)
		return;
	if (h)
		print_host_line(host_entry(h), line);
	else
		cli_print_line(stderr, NULL, line);
}

/*
 * --format json: one object per host in hostfile order, a failed host's
 * with its error (core/ps-json.h).
 */
static void
print_hosts_json(const struct remote_answers *ans, const char *key)
{
	static const struct envs no_envs = ENVS_INIT;
	struct strbuf out = STRBUF_INIT;
	json_t *hosts = json_array();

	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];
		json_t *list = NULL;

		if (h->ok && !strcmp(key, "devices"))
			list = ps_json_devices(&h->devices, &no_envs);
		else if (h->ok)
			list = ps_json_envs(&h->envs);
		json_array_append_new(hosts, ps_json_host(h->host->name, key, list,
							  h->ok ? NULL : h->error.buf));
	}
	table_json(&out, ps_json_document("hosts", hosts));
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

/* ---- devices ---- */

static void
print_devices(const struct remote_answers *ans, enum table_format fmt, int no_header,
	      int no_summary)
{
	static const size_t widths[] = { 25, 9 };
	struct strbuf out = STRBUF_INIT, total_s = STRBUF_INIT, free_s = STRBUF_INIT;
	size_t total = 0, available = 0;

	if (!no_header)
		table_row(&out, fmt, widths,
			  (const char *const[]){ "HOST", "TOTAL", "AVAILABLE" }, 3);
	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];

		if (!h->ok)
			continue;
		strbuf_reset(&total_s);
		strbuf_reset(&free_s);
		strbuf_addf(&total_s, "%zu", h->devices.nr);
		strbuf_addf(&free_s, "%zu", h->available);
		table_row(&out, fmt, widths,
			  (const char *const[]){ h->host->name, total_s.buf, free_s.buf }, 3);
		total += h->devices.nr;
		available += h->available;
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu devices with %zu available on %zu hosts\n",
			    total, available, ans->answered);
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	strbuf_release(&total_s);
	strbuf_release(&free_s);
}

static int
remote_devices(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	int no_header = 0, no_summary = 0, failed;
	const char *format = "tui";
	const struct option opts[] = {
		OPT_BOOL("--no-header", &no_header, "Do not print column headers"),
		OPT_BOOL("--no-summary", &no_summary, "Do not print the summary line"),
		OPT_CHOICE("--format", &format, table_format_json_choices,
			   "Output format; tui (the default), csv or json"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;

	cli_parse_options(&remote_devices_cmd, argc, argv, opts);
	progress_begin(ctx);
	remote_ask_devices(&ans, &ctx->hosts, &ctx->fan);
	failed = report_hosts(ctx, &ans);
	if (failed >= 0 && table_format_of(format) == TABLE_JSON)
		print_hosts_json(&ans, "devices");
	else if (failed >= 0)
		print_devices(&ans, table_format_of(format), no_header, no_summary);
	remote_answers_release(&ans);
	return failed ? 1 : 0;
}

/* ---- envs ---- */

static void
print_envs(const struct remote_answers *ans, enum table_format fmt, int no_header,
	   int no_summary, int timestamp)
{
	static const size_t widths[] = { 25, 8, 16, 16 };
	struct strbuf out = STRBUF_INIT, created = STRBUF_INIT;
	time_t now = clock_wall();
	size_t count = 0;

	if (!no_header)
		table_row(&out, fmt, widths,
			  (const char *const[]){ "HOST", "ID", "USER", "NAME", "CREATED" }, 5);
	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];

		for (size_t e = 0; h->ok && e < h->envs.nr; e++) {
			const struct env *env = &h->envs.v[e];

			strbuf_reset(&created);
			table_time(&created, env->creation, timestamp, now);
			table_row(&out, fmt, widths,
				  (const char *const[]){ h->host->name, env->eid,
							 env->username ? env->username : "",
							 env->config.name ? env->config.name : "",
							 created.buf }, 5);
			count++;
		}
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu environments on %zu hosts\n", count,
			    ans->answered);
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	strbuf_release(&created);
}

static int
remote_envs(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	int no_header = 0, no_summary = 0, timestamp = 0, failed;
	const char *format = "tui";
	const struct option opts[] = {
		OPT_BOOL("--no-header", &no_header, "Do not print column headers"),
		OPT_BOOL("--no-summary", &no_summary, "Do not print the summary line"),
		OPT_BOOL("--timestamp", &timestamp, "Print the creation time instead of its age"),
		OPT_CHOICE("--format", &format, table_format_json_choices,
			   "Output format; tui (the default), csv or json"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;

	cli_parse_options(&remote_envs_cmd, argc, argv, opts);
	progress_begin(ctx);
	remote_ask_envs(&ans, &ctx->hosts, &ctx->fan);
	failed = report_hosts(ctx, &ans);
	if (failed >= 0 && table_format_of(format) == TABLE_JSON)
		print_hosts_json(&ans, "envs");
	else if (failed >= 0)
		print_envs(&ans, table_format_of(format), no_header, no_summary, timestamp);
	remote_answers_release(&ans);
	return failed ? 1 : 0;
}

/* ---- query ---- */

static const char *const query_choices[] = { "hostname", "eid", "creation", NULL };

/* One line per environment: the queried fields, comma-separated. */
static void
print_query(const struct remote_answers *ans, const struct strvec *queries)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];

		for (size_t e = 0; h->ok && e < h->envs.nr; e++) {
			const struct env *env = &h->envs.v[e];

			for (size_t q = 0; q < queries->nr; q++) {
				const char *field = queries->v[q];

				if (q)
					strbuf_addch(&out, ',');
				if (!strcmp(field, "hostname"))
					cli_add_value(&out, h->host->name);
				else if (!strcmp(field, "eid"))
					cli_add_value(&out, env->eid);
				else
					cli_add_value(&out, env->creation);
			}
			strbuf_addch(&out, '\n');
		}
	}
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

static int
remote_query(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	const char *name = NULL;
	struct strvec queries = STRVEC_INIT;
	const struct option opts[] = {
		OPT_STRING("--name", &name, NULL, "Environment name", .flags = PARSE_OPT_REQUIRED),
		OPT_LIST("--query|--queries", &queries, query_choices,
			 "Fields to print (separate words); printed\n"
			 "comma-separated, one line per environment",
			 .flags = PARSE_OPT_REQUIRED,
			 .invocation = "--query, --queries {hostname,eid,creation} [...]"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;
	int failed;

	cli_parse_options(&remote_query_cmd, argc, argv, opts);
	progress_begin(ctx);
	remote_ask_named(&ans, &ctx->hosts, &ctx->fan, name);
	failed = report_hosts(ctx, &ans);
	if (failed >= 0)
		print_query(&ans, &queries);
	remote_answers_release(&ans);
	strvec_clear(&queries);
	return failed ? 1 : 0;
}

/* ---- activate ---- */

static int
remote_activate(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	long gpus = 0;
	const char *gpu_memory = NULL, *name = NULL;
	int no_prompt = 0, has_gpus = 0, rc = 1;
	const struct option opts[] = {
		OPT_INTEGER("--gpus", &gpus, NULL, "Number of devices to reserve", .seen = &has_gpus),
		OPT_STRING("--gpu-memory", &gpu_memory, NULL,
			   "Memory per device (e.g. 4g); devices with that much\n"
			   "unreserved memory count as available"),
		OPT_STRING("--name", &name, NULL, "Environment name"),
		OPT_BOOL("--no-prompt", &no_prompt, "Do not change the shell prompt"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;
	struct strbuf err = STRBUF_INIT, memory = STRBUF_INIT;

	cli_parse_options(&remote_activate_cmd, argc, argv, opts);
	if (has_gpus && gpus < 0)
		return cli_usage_error(&remote_activate_cmd,
				       "argument --gpus: must not be negative: '%ld'", gpus);
	if (cli_parse_memory(&remote_activate_cmd, &gpu_memory, &memory) < 0) {
		strbuf_release(&memory);
		return 2;
	}

	progress_begin(ctx);
	remote_ask_devices(&ans, &ctx->hosts, &ctx->fan);
	if (report_hosts(ctx, &ans) >= 0 && !none_answered(ctx, &ans)) {
		const struct remote_activate req = {
			.remote_genv = ctx->fan.remote_genv, .gpus = gpus,
			.gpu_memory = gpu_memory, .name = name, .prompt = !no_prompt,
		};

		if (remote_activate_shell(&ans, &ctx->fan, &req, say_on_stderr, ctx,
					  &rc, &err) < 0) {
			cli_error("%s", err.buf);
			rc = 1;
		}
	}
	remote_answers_release(&ans);
	strbuf_release(&err);
	strbuf_release(&memory);
	return rc;
}

/* ---- llm ---- */

static int remote_llm_ps(int argc, char **argv, void *data);
static int remote_llm_serve(int argc, char **argv, void *data);
static int remote_llm_attach(int argc, char **argv, void *data);

static const struct cli_cmd remote_llm_ps_cmd = {
	.name = "ps",
	.summary = "List the LLMs served on the hosts",
	.usage_prog = "genv remote ... llm ps",
	.help_column = 24,
	.run = remote_llm_ps,
};

static const struct cli_cmd remote_llm_serve_cmd = {
	.name = "serve",
	.summary = "Run 'genv llm serve' on a host with enough resources",
	.usage_prog = "genv remote ... llm serve",
	.description =
	"The host is chosen as for activate (the fewest available devices that\n"
	"suffice); the session is 'genv llm serve MODEL' there, over ssh with the\n"
	"-l and -t of genv remote.\n",
	.run = remote_llm_serve,
};

static const struct cli_cmd remote_llm_attach_cmd = {
	.name = "attach",
	.summary = "Run 'genv llm attach MODEL' on the host serving it",
	.usage_prog = "genv remote ... llm attach",
	.run = remote_llm_attach,
};

static const struct cli_cmd *const remote_llm_subcmds[] = {
	&remote_llm_attach_cmd, &remote_llm_ps_cmd, &remote_llm_serve_cmd, NULL
};

static const struct cli_cmd remote_llm_cmd = {
	.name = "llm",
	.alias = "llms",   /* 1.4.3's, never listed */
	.summary = "Serve, list and attach to LLMs on the hosts",
	.usage_prog = "genv remote ... llm",
	.description = "Without a subcommand: ps.\n",
	.help_column = 24,
	.run = remote_llm,
	.subcmds = remote_llm_subcmds,
};

/* `genv ARGS` on host h in a session of ours; its exit status. */
static int
remote_session(const struct remote_ctx *ctx, const struct host *h, const char *const *args)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (remote_genv_session(h, &ctx->fan, args, &rc, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
	}
	strbuf_release(&err);
	return rc;
}

static void
print_llms(const struct remote_answers *ans, const struct table_opts *topts, int no_summary)
{
	static const size_t widths[] = { 25, 12, 8, 21, 8 };
	struct strbuf out = STRBUF_INIT, port = STRBUF_INIT, created = STRBUF_INIT;
	time_t now = clock_wall();
	size_t count = 0;

	if (!topts->no_header)
		table_row(&out, table_opts_format(topts), widths, (const char *const[]){
			  "HOST", "MODEL", "PORT", "CREATED", "EID", "USER" }, 6);
	for (size_t i = 0; i < ans->nr; i++) {
		struct llm_list l = LLM_LIST_INIT;

		if (ans->v[i].ok)
			llm_list_add(&l, &ans->v[i].envs, 0);
		for (size_t k = 0; k < l.nr; k++) {
			const struct env *e = l.v[k].env;

			strbuf_reset(&port);
			strbuf_reset(&created);
			if (l.v[k].port >= 0)
				strbuf_addf(&port, "%ld", l.v[k].port);
			else
				strbuf_addstr(&port, "N/A");
			table_time(&created, e->creation, topts->timestamp, now);
			table_row(&out, table_opts_format(topts), widths, (const char *const[]){
				  ans->v[i].host->name, l.v[k].model, port.buf, created.buf, e->eid,
				  e->username ? e->username : "" }, 6);
			count++;
		}
		llm_list_release(&l);
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu LLMs on %zu hosts\n", count, ans->answered);
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	strbuf_release(&port);
	strbuf_release(&created);
}

static int
remote_llm_ps(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	struct table_opts topts = TABLE_OPTS_INIT;
	int no_summary = 0, failed;
	const struct option opts[] = {
		OPT_BOOL("--no-header", &topts.no_header, "Do not print column headers"),
		OPT_BOOL("--no-summary", &no_summary, "Do not print the summary line"),
		OPT_BOOL("--timestamp", &topts.timestamp, "Print the creation time instead of its age"),
		OPT_CHOICE("--format", &topts.format, table_format_choices,
			   "Output format; tui is the default"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;

	cli_parse_options(&remote_llm_ps_cmd, argc, argv, opts);
	progress_begin(ctx);
	remote_ask_envs(&ans, &ctx->hosts, &ctx->fan);
	failed = report_hosts(ctx, &ans);
	if (failed >= 0)
		print_llms(&ans, &topts, no_summary);
	remote_answers_release(&ans);
	return failed ? 1 : 0;
}

static int
remote_llm_serve(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	long gpus = -1;
	const char *gpu_memory = NULL, *model = NULL;
	int has_gpus = 0, rc;
	const struct option opts[] = {
		OPT_POSITIONAL("MODEL", &model, "MODEL", "the model to serve",
			       .flags = PARSE_OPT_REQUIRED),
		OPT_INTEGER("--gpus", &gpus, NULL, "Number of devices to attach", .seen = &has_gpus),
		OPT_STRING("--gpu-memory", &gpu_memory, NULL, "Memory per device (e.g. 4g)"),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;
	struct strvec args = STRVEC_INIT;
	struct strbuf line = STRBUF_INIT, memory = STRBUF_INIT;
	size_t *order = NULL, n;

	cli_parse_options(&remote_llm_serve_cmd, argc, argv, opts);
	if (has_gpus && gpus < 0)
		return cli_usage_error(&remote_llm_serve_cmd,
				       "argument --gpus: must not be negative: '%ld'", gpus);
	if (cli_parse_memory(&remote_llm_serve_cmd, &gpu_memory, &memory) < 0) {
		strbuf_release(&memory);
		return 2;
	}
	progress_begin(ctx);
	remote_ask_devices(&ans, &ctx->hosts, &ctx->fan);
	rc = 1;
	if (report_hosts(ctx, &ans) < 0 || none_answered(ctx, &ans))
		goto out;
	n = remote_choose_hosts(&ans, gpus, gpu_memory, &order, say_on_stderr, ctx);
	strvec_pushv(&args, (const char *const[]){ "llm", "serve", model, NULL });
	if (has_gpus) {
		strvec_push(&args, "--gpus");
		strvec_pushf(&args, "%ld", gpus);
	}
	if (gpu_memory)
		strvec_pushv(&args, (const char *const[]){ "--gpu-memory", gpu_memory, NULL });
	if (n) {
		struct strbuf doing = STRBUF_INIT;

		strbuf_addf(&doing, "serving %s", model);
		remote_describe_choice(&line, &ans, order[0], 0, gpus, gpu_memory, doing.buf);
		strbuf_release(&doing);
		say_on_stderr(NULL, line.buf, ctx);
		rc = remote_session(ctx, ans.v[order[0]].host, (const char *const *)args.v);
	} else {
		if (remote_describe_shortfall(&line, &ans, gpus, gpu_memory))
			say_on_stderr(NULL, line.buf, ctx);
		cli_error("Cannot find a host with enough available resources");
	}
out:
	free(order);
	remote_answers_release(&ans);
	strvec_clear(&args);
	strbuf_release(&line);
	strbuf_release(&memory);
	return rc;
}

static int
remote_llm_attach(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	const char *model = NULL;
	const struct option opts[] = {
		OPT_POSITIONAL("MODEL", &model, "MODEL",
			       "a model served on one of the hosts (the first in host order)",
			       .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	struct remote_answers ans = REMOTE_ANSWERS_INIT;
	const struct host *found;
	int rc = 1;

	cli_parse_options(&remote_llm_attach_cmd, argc, argv, opts);
	progress_begin(ctx);
	remote_ask_envs(&ans, &ctx->hosts, &ctx->fan);
	if (report_hosts(ctx, &ans) >= 0 && !none_answered(ctx, &ans)) {
		found = remote_llm_host(&ans, model);
		if (found)
			rc = remote_session(ctx, found,
					    (const char *const[]){ "llm", "attach", model, NULL });
		else
			cli_error("Could not find LLM model '%s'", model);
	}
	remote_answers_release(&ans);
	return rc;
}

static int
remote_llm(int argc, char **argv, void *data)
{
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, NULL, "subcommands"),
		OPT_END(),
	};

	return cli_run_subcommand(&remote_llm_cmd, argc, argv, opts, &remote_llm_ps_cmd, data);
}

/* ---- global options ---- */

static int
env_true(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no");
}

/* -l USER: a login name ssh can take neither for an option nor for a host */
static int
check_user(const struct option *opt, const char *arg, struct strbuf *err)
{
	if (!*arg || *arg == '-' || strpbrk(arg, "@ \t\n")) {
		strbuf_addf(err, "invalid user name '%s'", arg);
		return -1;
	}
	*(const char **)opt->value = arg;
	return 0;
}

/* What the options of `genv remote` say. */
struct remote_opts {
	const char *hosts_spec, *hostfile, *user, *remote_genv;
	long timeout, parallel, command_timeout;
	int exit_on_error, quiet, reuse;
};

/* Reads the hosts and fills ctx as o says; -1 after reporting a bad host list. */
static int
remote_setup(struct remote_ctx *ctx, const struct remote_opts *o)
{
	const char *ssh_program = getenv("GENV_SSH"), *remote_genv = o->remote_genv;
	struct strbuf err = STRBUF_INIT;

	if ((o->hosts_spec ? hostlist_parse_list(&ctx->hosts, o->hosts_spec, o->user, &err)
			   : hostlist_read_file(&ctx->hosts, o->hostfile, o->user, &err)) < 0) {
		fflush(stdout);
		fprintf(stderr, "genv remote: error: %s\n", err.buf);
		strbuf_release(&err);
		return -1;
	}
	if (!remote_genv)
		remote_genv = getenv("GENV_REMOTE_GENV");
	ctx->exit_on_error = o->exit_on_error;
	ctx->quiet = o->quiet;
	ctx->fan.remote_genv = remote_genv && *remote_genv ? remote_genv : "genv";
	ctx->fan.parallel = (size_t)o->parallel;
	ctx->fan.command_timeout = o->command_timeout;
	ctx->fan.ssh.connect_timeout = o->timeout;
	if (ssh_program && *ssh_program)
		ctx->fan.ssh.program = ssh_program;
	if (o->reuse || env_true("GENV_SSH_REUSE")) {
		if (ssh_control_dir(&ctx->control_dir, &err) < 0) {
			/* sharing is an optimisation: go on without it */
			if (!o->quiet)
				fprintf(stderr, "genv remote: not reusing connections: %s\n", err.buf);
		} else {
			ctx->fan.ssh.control_dir = ctx->control_dir.buf;
		}
	}
	strbuf_release(&err);
	return 0;
}

static int
remote_run(int argc, char **argv, void *data UNUSED)
{
	struct remote_opts o = {
		.timeout = REMOTE_DEFAULT_CONNECT_TIMEOUT,
		.parallel = REMOTE_DEFAULT_PARALLEL,
		.command_timeout = REMOTE_DEFAULT_COMMAND_TIMEOUT,
	};
	const struct option opts[] = {
		OPT_STRING("-H|-host|--host", &o.hosts_spec, "HOSTNAMES",
			   "Comma-separated hosts, each HOST or USER@HOST",
			   .xgroup = 1, .flags = PARSE_OPT_REQUIRED | PARSE_OPT_COMPLETE_HOSTS),
		OPT_STRING("-hostfile|--hostfile", &o.hostfile, NULL,
			   "File with one HOST or USER@HOST per line ('#'\n"
			   "starts a comment)", .xgroup = 1),
		OPT_CALLBACK("-l|--username", &o.user, NULL, check_user,
			     "Login name for hosts given without USER@"),
		OPT_INTEGER("-t|--timeout", &o.timeout, NULL,
			    "ssh connect timeout in seconds (default 10; 0: ssh's\n"
			    "own)", .flags = PARSE_OPT_MIN),
		OPT_BOOL("-e|--exit-on-error", &o.exit_on_error,
			 "Stop at the first host that fails (host order)"),
		OPT_BOOL("-q|--quiet", &o.quiet, "Do not report hosts that fail"),
		OPT_INTEGER("--parallel", &o.parallel, "N", "Query at most N hosts at once (default 32)",
			    .flags = PARSE_OPT_MIN, .min = 1),
		OPT_INTEGER("--command-timeout", &o.command_timeout, "SECONDS",
			    "Give up on a host that has not answered after\n"
			    "SECONDS (default 60; 0: never)", .flags = PARSE_OPT_MIN),
		OPT_BOOL("--reuse-connections", &o.reuse,
			 "Share one ssh connection per host between genv\n"
			 "calls (ControlMaster; sockets in $XDG_RUNTIME_DIR/\n"
			 "genv-ssh or /tmp/genv-ssh-UID, kept 60 s); also\n"
			 "GENV_SSH_REUSE=1"),
		OPT_STRING("--remote-genv", &o.remote_genv, "PATH",
			   "genv on the hosts (default: genv on their PATH;\n"
			   "also GENV_REMOTE_GENV)"),
		OPT_SUBCOMMAND(NULL, NULL, "subcommands"),
		OPT_END(),
	};
	struct remote_ctx ctx = { HOSTLIST_INIT, FANOUT_OPTS_INIT, STRBUF_INIT, 0, 0, 0, 0 };
	const struct cli_cmd *sub;
	int i, rc = 2;

	i = cli_parse_subcommand(&cli_cmd_remote, argc, argv, opts, &sub);
	if (!sub)
		return 0;   /* 1.4.3: no subcommand, nothing to do */
	/* without hosts, the subcommand shows its help or reports them missing */
	if ((o.hosts_spec || o.hostfile) && !cli_completing() && remote_setup(&ctx, &o) < 0)
		goto out;
	rc = cli_run(sub, argc - i, argv + i, &ctx);
out:
	hostlist_release(&ctx.hosts);
	strbuf_release(&ctx.control_dir);
	return rc;
}

const struct cli_cmd cli_cmd_remote = {
	.name = "remote",
	.summary = "Run genv commands on remote hosts over ssh",
	.epilog =
	"Exit status: 0 when every host answered, 1 when any failed, 2 on usage\n"
	"errors. ssh runs with BatchMode=yes and stdin from /dev/null; $GENV_SSH\n"
	"names another ssh program.\n",
	.run = remote_run,
	.subcmds = remote_subcmds,
};
