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
#include "core/devices.h"
#include "core/llm.h"
#include "core/memory.h"
#include "core/ps-json.h"
#include "core/state.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <sys/wait.h>
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
	&remote_llm_cmd, &remote_query_cmd, NULL
};

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

/*
 * Prints each failed host's message (unless -q) and each answering host's
 * stderr lines as "[host] line". With -e, stops at the first failure and
 * returns -1. Returns the number of failed hosts otherwise.
 */
static int
report_hosts(const struct remote_ctx *ctx, const struct fanout_result *res, size_t n)
{
	int failed = 0;

	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		if (!res[i].ok) {
			failed++;
			if (ctx->exit_on_error || !ctx->quiet)
				cli_print_line(stderr, NULL, res[i].error.buf);
			if (ctx->exit_on_error)
				return -1;
			continue;
		}
		for (size_t j = 0; j < res[i].warnings.nr; j++)
			print_host_line(res[i].host->name, res[i].warnings.v[j]);
	}
	return failed;
}

static struct fanout_result *
query_hosts(const struct remote_ctx *ctx, enum fanout_type type, int *failed,
	    size_t *answered)
{
	struct fanout_result *res;
	size_t nfailed;

	res = fanout_snapshot(&ctx->hosts, type, &ctx->fan, &nfailed);
	*failed = report_hosts(ctx, res, ctx->hosts.nr);
	*answered = ctx->hosts.nr - nfailed;
	return res;
}

/*
 * --format json: one object per host in hostfile order, a failed host's
 * with its error (core/ps-json.h).
 */
static void
print_hosts_json(const struct remote_ctx *ctx, const struct fanout_result *res,
		 const char *key)
{
	static const struct envs no_envs = ENVS_INIT;
	struct strbuf out = STRBUF_INIT;
	json_t *hosts = json_array();

	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		const struct fanout_result *r = &res[i];
		json_t *list = NULL;

		if (r->ok && !strcmp(key, "devices"))
			list = ps_json_devices(&r->devices, &no_envs);
		else if (r->ok)
			list = ps_json_envs(&r->envs);
		json_array_append_new(hosts, ps_json_host(r->host->name, key, list,
							  r->ok ? NULL : r->error.buf));
	}
	table_json(&out, ps_json_document("hosts", hosts));
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

/* ---- devices ---- */

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
	static const size_t widths[] = { 25, 9 };
	struct fanout_result *res;
	struct strbuf out = STRBUF_INIT, total_s = STRBUF_INIT, free_s = STRBUF_INIT;
	enum table_format fmt;
	size_t answered, total = 0, available = 0;

	cli_parse_options(&remote_devices_cmd, argc, argv, opts);
	fmt = table_format_of(format);

	res = query_hosts(ctx, FANOUT_DEVICES, &failed, &answered);
	if (failed < 0)
		goto out;
	if (fmt == TABLE_JSON) {
		print_hosts_json(ctx, res, "devices");
		goto out;
	}
	if (!no_header)
		table_row(&out, fmt, widths,
			  (const char *const[]){ "HOST", "TOTAL", "AVAILABLE" }, 3);
	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		const struct devices *devs = &res[i].devices;
		size_t free_nr = 0;

		if (!res[i].ok)
			continue;
		for (size_t d = 0; d < devs->nr; d++)
			free_nr += devs->v[d].att_nr == 0;   /* 1.4.3: no attachment at all */
		strbuf_reset(&total_s);
		strbuf_reset(&free_s);
		strbuf_addf(&total_s, "%zu", devs->nr);
		strbuf_addf(&free_s, "%zu", free_nr);
		table_row(&out, fmt, widths,
			  (const char *const[]){ res[i].host->name, total_s.buf, free_s.buf }, 3);
		total += devs->nr;
		available += free_nr;
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu devices with %zu available on %zu hosts\n",
			    total, available, answered);
	fwrite(out.buf, 1, out.len, stdout);
out:
	fanout_results_free(res, ctx->hosts.nr);
	strbuf_release(&out);
	strbuf_release(&total_s);
	strbuf_release(&free_s);
	return failed ? 1 : 0;
}

/* ---- envs ---- */

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
	static const size_t widths[] = { 25, 8, 16, 16 };
	struct fanout_result *res;
	struct strbuf out = STRBUF_INIT, created = STRBUF_INIT;
	enum table_format fmt;
	size_t answered, count = 0;
	time_t now;

	cli_parse_options(&remote_envs_cmd, argc, argv, opts);
	fmt = table_format_of(format);

	res = query_hosts(ctx, FANOUT_ENVS, &failed, &answered);
	if (failed < 0)
		goto out;
	if (fmt == TABLE_JSON) {
		print_hosts_json(ctx, res, "envs");
		goto out;
	}
	now = clock_wall();
	if (!no_header)
		table_row(&out, fmt, widths,
			  (const char *const[]){ "HOST", "ID", "USER", "NAME", "CREATED" }, 5);
	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		if (!res[i].ok)
			continue;
		for (size_t e = 0; e < res[i].envs.nr; e++) {
			const struct env *env = &res[i].envs.v[e];

			strbuf_reset(&created);
			table_time(&created, env->creation, timestamp, now);
			table_row(&out, fmt, widths,
				  (const char *const[]){ res[i].host->name, env->eid,
							 env->username ? env->username : "",
							 env->config.name ? env->config.name : "",
							 created.buf }, 5);
			count++;
		}
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu environments on %zu hosts\n", count, answered);
	fwrite(out.buf, 1, out.len, stdout);
out:
	fanout_results_free(res, ctx->hosts.nr);
	strbuf_release(&out);
	strbuf_release(&created);
	return failed ? 1 : 0;
}

/* ---- query ---- */

static const char *const query_choices[] = { "hostname", "eid", "creation", NULL };

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
	struct fanout_result *res;
	struct strbuf out = STRBUF_INIT;
	size_t answered;
	int failed;

	cli_parse_options(&remote_query_cmd, argc, argv, opts);

	res = query_hosts(ctx, FANOUT_ENVS, &failed, &answered);
	if (failed < 0)
		goto out;
	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		if (!res[i].ok)
			continue;
		for (size_t e = 0; e < res[i].envs.nr; e++) {
			const struct env *env = &res[i].envs.v[e];

			if (!env->config.name || strcmp(env->config.name, name))
				continue;
			for (size_t q = 0; q < queries.nr; q++) {
				const char *field = queries.v[q];

				if (q)
					strbuf_addch(&out, ',');
				if (!strcmp(field, "hostname"))
					cli_add_value(&out, res[i].host->name);
				else if (!strcmp(field, "eid"))
					cli_add_value(&out, env->eid);
				else
					cli_add_value(&out, env->creation);
			}
			strbuf_addch(&out, '\n');
		}
	}
	fwrite(out.buf, 1, out.len, stdout);
out:
	fanout_results_free(res, ctx->hosts.nr);
	strvec_clear(&queries);
	strbuf_release(&out);
	return failed ? 1 : 0;
}

/* ---- activate ---- */

struct candidate {
	size_t host;       /* index into the host list */
	size_t usable;     /* devices that can take the request */
};

/* Fewest usable devices first (best fit), then host order. */
static int
candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->usable != y->usable)
		return x->usable < y->usable ? -1 : 1;
	return x->host < y->host ? -1 : x->host > y->host;
}

/*
 * The hosts that answered and have gpus devices able to take gpu_memory
 * each: best fit first (fewest usable devices, then host order); without
 * gpus every host, in host order, as 1.4.3.
 */
static struct candidate *
choose_hosts(const struct remote_ctx *ctx, const struct fanout_result *res, long gpus,
	     const char *gpu_memory, size_t *ncand)
{
	struct candidate *cand = xcalloc(ctx->hosts.nr ? ctx->hosts.nr : 1, sizeof(*cand));
	struct strbuf err = STRBUF_INIT;

	*ncand = 0;
	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		const struct devices *devs = &res[i].devices;
		size_t usable = 0;

		if (!res[i].ok)
			continue;
		for (size_t d = 0; d < devs->nr; d++) {
			int ok = 0;

			strbuf_reset(&err);
			if (device_is_available(&devs->v[d], gpu_memory, &ok, &err) < 0) {
				/* a remote attachment with a memory string we cannot read */
				if (!ctx->quiet)
					print_host_line(res[i].host->name, err.buf);
				ok = 0;
			}
			usable += ok != 0;
		}
		if (gpus > 0 && usable < (size_t)gpus)
			continue;
		cand[*ncand].host = i;
		cand[*ncand].usable = usable;
		(*ncand)++;
	}
	if (gpus > 0)
		qsort(cand, *ncand, sizeof(*cand), candidate_cmp);
	strbuf_release(&err);
	return cand;
}

static int
remote_activate(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	long gpus = 0;
	const char *gpu_memory = NULL, *name = NULL;
	int no_prompt = 0, has_gpus = 0, failed, rc = 1;
	const struct option opts[] = {
		OPT_INTEGER("--gpus", &gpus, NULL, "Number of devices to reserve", .seen = &has_gpus),
		OPT_STRING("--gpu-memory", &gpu_memory, NULL,
			   "Memory per device (e.g. 4g); devices with that much\n"
			   "unreserved memory count as available"),
		OPT_STRING("--name", &name, NULL, "Environment name"),
		OPT_BOOL("--no-prompt", &no_prompt, "Do not change the shell prompt"),
		OPT_END(),
	};
	struct fanout_result *res = NULL;
	struct candidate *cand = NULL;
	size_t ncand = 0, answered;
	struct strbuf err = STRBUF_INIT;
	unsigned long long bytes;
	off_t stdin_start;
	int r;

	cli_parse_options(&remote_activate_cmd, argc, argv, opts);
	if (has_gpus && gpus < 0)
		return cli_usage_error(&remote_activate_cmd,
				       "argument --gpus: must not be negative: '%ld'", gpus);
	if (gpu_memory && memory_to_bytes(gpu_memory, &bytes, &err) < 0) {
		r = cli_usage_error(&remote_activate_cmd, "argument --gpu-memory: %s", err.buf);
		strbuf_release(&err);
		return r;
	}

	res = query_hosts(ctx, FANOUT_DEVICES, &failed, &answered);
	if (failed < 0)
		goto out;
	cand = choose_hosts(ctx, res, gpus, gpu_memory, &ncand);

	/*
	 * ssh forwards our stdin as soon as it connects, even to a host whose
	 * reservation then fails; a script on stdin is rewound for the next.
	 */
	stdin_start = lseek(STDIN_FILENO, 0, SEEK_CUR);
	for (size_t c = 0; c < ncand; c++) {
		const struct host *h = &ctx->hosts.v[cand[c].host];
		struct remote_activate ra = {
			.remote_genv = ctx->fan.remote_genv,
			.host = h->name,
			.gpus = gpus,
			.gpu_memory = gpu_memory,
			.name = name,
			.prompt = !no_prompt,
		};
		struct ssh_opts so = ctx->fan.ssh;
		struct strvec cmd = STRVEC_INIT;
		struct strbuf remote_cmd = STRBUF_INIT;
		int status = 0, started;

		/* a terminal gets one remotely too; a pipe (a script) stays a pipe */
		so.interactive = isatty(STDIN_FILENO);
		ssh_activate_command(&remote_cmd, &ra);
		ssh_build_argv(&cmd, &so, h, remote_cmd.buf);
		fflush(stdout);
		fflush(stderr);
		strbuf_reset(&err);
		started = run_interactive((const char *const *)cmd.v, &status, &err);
		strvec_clear(&cmd);
		strbuf_release(&remote_cmd);
		if (started < 0) {
			cli_error("%s", err.buf);
			rc = 1;
			goto out;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == SSH_ACTIVATE_TAKEN) {
			if (!ctx->quiet && c + 1 < ncand)
				fprintf(stderr, "genv: trying the next host\n");
			if (stdin_start >= 0)
				lseek(STDIN_FILENO, stdin_start, SEEK_SET);
			continue;
		}
		/* the session is over: its status is ours, as if we had exec'ed ssh */
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		goto out;
	}
	cli_error("Cannot find a host with enough available resources");
	rc = 1;
out:
	fanout_results_free(res, ctx->hosts.nr);
	free(cand);
	strbuf_release(&err);
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

/* `genv ARGS` on host h in a session of ours (a terminal if we have one). */
static int
remote_session(const struct remote_ctx *ctx, const struct host *h, const char *const *args)
{
	struct ssh_opts so = ctx->fan.ssh;
	struct strvec cmd = STRVEC_INIT;
	struct strbuf remote_cmd = STRBUF_INIT, err = STRBUF_INIT;
	int status = 0, rc = 1;

	so.interactive = isatty(STDIN_FILENO);
	ssh_genv_command(&remote_cmd, ctx->fan.remote_genv, args, 0);
	ssh_build_argv(&cmd, &so, h, remote_cmd.buf);
	fflush(stdout);
	fflush(stderr);
	if (run_interactive((const char *const *)cmd.v, &status, &err) < 0)
		cli_error("%s", err.buf);
	else
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	strvec_clear(&cmd);
	strbuf_release(&remote_cmd);
	strbuf_release(&err);
	return rc;
}

static int
remote_llm_ps(int argc, char **argv, void *data)
{
	static const size_t widths[] = { 25, 12, 8, 21, 8 };
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
	struct strbuf out = STRBUF_INIT, port = STRBUF_INIT, created = STRBUF_INIT;
	struct fanout_result *res;
	size_t answered, count = 0;
	time_t now;

	cli_parse_options(&remote_llm_ps_cmd, argc, argv, opts);
	res = query_hosts(ctx, FANOUT_ENVS, &failed, &answered);
	if (failed < 0)
		goto out;
	now = clock_wall();
	if (!topts.no_header)
		table_row(&out, table_opts_format(&topts), widths, (const char *const[]){
			  "HOST", "MODEL", "PORT", "CREATED", "EID", "USER" }, 6);
	for (size_t i = 0; i < ctx->hosts.nr; i++) {
		struct llm_list l = LLM_LIST_INIT;

		if (res[i].ok)
			llm_list_add(&l, &res[i].envs, 0);
		for (size_t k = 0; k < l.nr; k++) {
			const struct env *e = l.v[k].env;

			strbuf_reset(&port);
			strbuf_reset(&created);
			if (l.v[k].port >= 0)
				strbuf_addf(&port, "%ld", l.v[k].port);
			else
				strbuf_addstr(&port, "N/A");
			table_time(&created, e->creation, topts.timestamp, now);
			table_row(&out, table_opts_format(&topts), widths, (const char *const[]){
				  res[i].host->name, l.v[k].model, port.buf, created.buf, e->eid,
				  e->username ? e->username : "" }, 6);
			count++;
		}
		llm_list_release(&l);
	}
	if (!no_summary)
		strbuf_addf(&out, "\nTotal %zu LLMs on %zu hosts\n", count, answered);
	fwrite(out.buf, 1, out.len, stdout);
out:
	fanout_results_free(res, ctx->hosts.nr);
	strbuf_release(&out);
	strbuf_release(&port);
	strbuf_release(&created);
	return failed ? 1 : 0;
}

static int
remote_llm_serve(int argc, char **argv, void *data)
{
	struct remote_ctx *ctx = data;
	long gpus = -1;
	const char *gpu_memory = NULL, *model = NULL;
	int has_gpus = 0, failed, rc;
	const struct option opts[] = {
		OPT_POSITIONAL("MODEL", &model, "MODEL", "the model to serve",
			       .flags = PARSE_OPT_REQUIRED),
		OPT_INTEGER("--gpus", &gpus, NULL, "Number of devices to attach", .seen = &has_gpus),
		OPT_STRING("--gpu-memory", &gpu_memory, NULL, "Memory per device (e.g. 4g)"),
		OPT_END(),
	};
	struct fanout_result *res;
	struct candidate *cand;
	struct strvec args = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	unsigned long long bytes;
	size_t ncand, answered;

	cli_parse_options(&remote_llm_serve_cmd, argc, argv, opts);
	if (has_gpus && gpus < 0)
		return cli_usage_error(&remote_llm_serve_cmd,
				       "argument --gpus: must not be negative: '%ld'", gpus);
	if (gpu_memory && memory_to_bytes(gpu_memory, &bytes, &err) < 0) {
		rc = cli_usage_error(&remote_llm_serve_cmd, "argument --gpu-memory: %s", err.buf);
		strbuf_release(&err);
		return rc;
	}
	res = query_hosts(ctx, FANOUT_DEVICES, &failed, &answered);
	rc = 1;
	if (failed < 0)
		goto out;
	cand = choose_hosts(ctx, res, gpus, gpu_memory, &ncand);
	strvec_pushv(&args, (const char *const[]){ "llm", "serve", model, NULL });
	if (has_gpus) {
		strvec_push(&args, "--gpus");
		strvec_pushf(&args, "%ld", gpus);
	}
	if (gpu_memory)
		strvec_pushv(&args, (const char *const[]){ "--gpu-memory", gpu_memory, NULL });
	if (ncand)
		rc = remote_session(ctx, &ctx->hosts.v[cand[0].host], (const char *const *)args.v);
	else
		cli_error("Cannot find a host with enough available resources");
	free(cand);
out:
	fanout_results_free(res, ctx->hosts.nr);
	strvec_clear(&args);
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
	struct fanout_result *res;
	const struct host *found = NULL;
	size_t answered;
	int failed, rc;

	cli_parse_options(&remote_llm_attach_cmd, argc, argv, opts);
	res = query_hosts(ctx, FANOUT_ENVS, &failed, &answered);
	rc = 1;
	for (size_t i = 0; failed >= 0 && i < ctx->hosts.nr && !found; i++) {
		struct llm_list l = LLM_LIST_INIT;

		if (res[i].ok)
			llm_list_add(&l, &res[i].envs, 0);
		for (size_t k = 0; k < l.nr && !found; k++)
			if (!strcmp(l.v[k].model, model))
				found = res[i].host;
		llm_list_release(&l);
	}
	if (found)
		rc = remote_session(ctx, found, (const char *const[]){ "llm", "attach", model, NULL });
	else if (failed >= 0)
		cli_error("Could not find LLM model '%s'", model);
	fanout_results_free(res, ctx->hosts.nr);
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
	struct remote_ctx ctx = { HOSTLIST_INIT, FANOUT_OPTS_INIT, STRBUF_INIT, 0, 0 };
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
