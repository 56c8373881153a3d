/* SPDX-License-Identifier: MIT */
/*
 * cmd-llm.c: `genv llm serve|ps|attach`, LLMs served by ollama, each in
 * an environment of its own named llm/MODEL/PORT (core/llm.h), with
 * 1.4.3's options and outputs (and the comma its csv missed).
 */
#include "compat.h"
#include "cli/active.h"
#include "core/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/table.h"
#include "core/llm.h"
#include "core/memory.h"
#include "shell/shell.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <unistd.h>

#define NO_OLLAMA "Could not find ollama.\nYou should install it if it's not already installed.\n" \
	"Otherwise, $PATH is probably not configured properly."

static const struct cli_cmd llm_serve_cmd = {
	.name = "llm serve",
	.summary = "Serve an LLM with ollama in an environment of its own",
	.usage = "genv llm serve [-h] [--host HOST] [-p PORT] [--gpus GPUS] "
		 "[--gpu-memory GPU_MEMORY] MODEL",
	.help = "Runs 'ollama serve' in a new environment named llm/MODEL/PORT, with\n"
		"OLLAMA_HOST=HOST:PORT, and releases the environment when ollama exits.\n"
		"Without --port ollama binds a free port itself (no race), which genv\n"
		"then reads and names the environment after.\n"
		"\n"
		"positional arguments:\n"
		"  MODEL                 the model, as 'ollama run' names it\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --host HOST           address to listen on (default: 127.0.0.1)\n"
		"  -p PORT, --port PORT  port to listen on (default, or 0: a free one)\n"
		"  --gpus GPUS           number of GPUs to attach\n"
		"  --gpu-memory GPU_MEMORY\n"
		"                        GPU memory per device (e.g. 4g, 512mi)\n",
};

static const struct cli_cmd llm_ps_cmd = {
	.name = "llm ps",
	.summary = "List the served LLMs",
	.usage = "genv llm ps [-h] [--no-header] [--timestamp] [--format {csv,tui}]",
	.help = "options:\n"
		"  -h, --help           show this help message and exit\n"
		"  --no-header          Do not print column headers\n"
		"  --timestamp          Print the creation time instead of how long ago it was\n"
		"  --format {csv,tui}   Output format; tui (the default) or csv\n",
};

static const struct cli_cmd llm_attach_cmd = {
	.name = "llm attach",
	.summary = "Run 'ollama run MODEL' against the served model",
	.usage = "genv llm attach [-h] MODEL",
	.help = "positional arguments:\n"
		"  MODEL       a model served with 'genv llm serve'\n"
		"\n"
		"options:\n"
		"  -h, --help  show this help message and exit\n",
};

int
llm_parse_model(const struct cli_cmd *cmd, int argc, char **argv, const struct cli_opt *opts,
		const char **model)
{
	int pos = cli_parse_options(cmd, argc, argv, opts, CLI_PARSE_STOP_AT_POSITIONAL);

	if (pos < 0)
		return pos == CLI_PARSE_HELP ? 0 : 2;
	if (pos >= argc)
		return cli_usage_error(cmd, "the following arguments are required: MODEL");
	*model = argv[pos];
	pos = cli_parse_options(cmd, argc - pos, argv + pos, opts, 0);
	if (pos < 0)
		return pos == CLI_PARSE_HELP ? 0 : 2;
	return -1;
}

/* ollama's environment, as genv exec gives its command one */
static void
export_env(const char *eid, const struct env_config *config, const char *indices)
{
	struct shell_env env;

	active_shell_env(&env, eid, config, indices);
	shell_env_apply(&env, SHELL_ENV_ID | SHELL_ENV_CONFIG | SHELL_ENV_DEVICES);
}

static int
llm_serve(int argc, char **argv)
{
	struct llm_serve s = LLM_SERVE_INIT;
	int seen_gpus = 0, seen_port = 0, code, rc;
	const struct cli_opt opts[] = {
		{ "--host", NULL, CLI_OPT_STRING, &s.host, NULL, NULL },
		{ "--port", "-p", CLI_OPT_LONG, &s.port, NULL, &seen_port },
		{ "--gpus", NULL, CLI_OPT_LONG, &s.gpus, NULL, &seen_gpus },
		{ "--gpu-memory", NULL, CLI_OPT_STRING, &s.gpu_memory, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL },
	};
	struct strbuf err = STRBUF_INIT;
	unsigned long long bytes;

	rc = llm_parse_model(&llm_serve_cmd, argc, argv, opts, &s.model);
	if (rc >= 0)
		return rc;
	if (seen_port && (s.port < 0 || s.port > 65535))
		return cli_usage_error(&llm_serve_cmd, "argument -p/--port: not a port: '%ld'", s.port);
	if (seen_gpus && s.gpus < 0)
		return cli_usage_error(&llm_serve_cmd, "argument --gpus: must not be negative: '%ld'",
				       s.gpus);
	if (s.gpu_memory && memory_to_bytes(s.gpu_memory, &bytes, &err) < 0) {
		rc = cli_usage_error(&llm_serve_cmd, "argument --gpu-memory: %s", err.buf);
		strbuf_release(&err);
		return rc;
	}
	if (seen_port && !s.port)
		s.port = -1;   /* 0: any free port, as ollama binds it */
	if (active_eid()) {
		cli_error("Already running in an active environment");
		return 1;
	}
	s.ollama = "ollama";
	s.export_env = export_env;
	if (llm_serve_start(&s, &code, &err) < 0) {
		cli_error("%s", err.buf);
		rc = code;
	} else {
		if (s.bound_port >= 0)
			cli_error("genv: serving %s at %s:%ld in environment %s (%s)", s.model,
				  s.host, s.bound_port, s.eid.buf, s.name.buf);
		strbuf_reset(&err);
		rc = llm_serve_wait(&s, &err);
		if (err.len)
			cli_error("genv llm serve: could not release environment '%s': %s",
				  s.eid.buf, err.buf);
	}
	llm_serve_release(&s);
	strbuf_release(&err);
	return rc;
}

static int
llm_ps(int argc, char **argv)
{
	static const size_t widths[] = { 12, 8, 21, 8, 16 };
	static const char *const header[] = { "MODEL", "PORT", "CREATED", "EID", "USER", "PID(S)" };
	struct table_opts topts = TABLE_OPTS_INIT;
	struct cli_opt opts[4] = { { NULL } };
	struct llm_list l = LLM_LIST_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, port = STRBUF_INIT,
		      created = STRBUF_INIT, user = STRBUF_INIT, pids = STRBUF_INIT;
	enum table_format fmt;
	time_t now = clock_wall();
	int rc = 1;

	table_opts_bind(opts, &topts);
	if (argc && (rc = cli_parse_options(&llm_ps_cmd, argc, argv, opts, 0)) < 0)
		return rc == CLI_PARSE_HELP ? 0 : 2;
	fmt = table_opts_format(&topts);
	if (llm_list_local(&l, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
		goto out;
	}
	if (!topts.no_header)
		table_row(&out, fmt, widths, header, 6);
	for (size_t i = 0; i < l.nr; i++) {
		const struct env *e = l.v[i].env;

		strbuf_reset(&port);
		strbuf_reset(&created);
		strbuf_reset(&user);
		strbuf_reset(&pids);
		if (l.v[i].port >= 0)
			strbuf_addf(&port, "%ld", l.v[i].port);
		else
			strbuf_addstr(&port, "N/A");
		table_time(&created, e->creation, topts.timestamp, now);
		if (e->username)
			strbuf_addf(&user, "%s(%lld)", e->username, e->uid);
		else
			strbuf_addf(&user, "%lld", e->uid);
		table_join_longs(&pids, e->pids, e->pids_nr, " ");
		table_row(&out, fmt, widths, (const char *const[]){ l.v[i].model, port.buf,
				created.buf, e->eid, user.buf, pids.buf }, 6);
	}
	fwrite(out.buf, 1, out.len, stdout);
	rc = 0;
out:
	llm_list_release(&l);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&port);
	strbuf_release(&created);
	strbuf_release(&user);
	strbuf_release(&pids);
	return rc;
}

static int
llm_attach(int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, NULL, 0, NULL, NULL, NULL } };
	struct llm_list l = LLM_LIST_INIT;
	struct strbuf err = STRBUF_INIT, host = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	const struct llm_entry *found;
	const char *model = NULL;
	int rc = llm_parse_model(&llm_attach_cmd, argc, argv, opts, &model);

	if (rc >= 0)
		return rc;
	rc = 1;
	if (llm_list_local(&l, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	found = llm_find(&l, model);
	if (!found) {
		cli_error("Could not find LLM model '%s'", model);
		goto out;
	}
	strbuf_addf(&host, "localhost:%ld", found->port);
	setenv("OLLAMA_HOST", host.buf, 1);   /* ours wins (1.4.3: the caller's did) */
	strvec_pushv(&args, (const char *const[]){ "ollama", "run", model, NULL });
	fflush(stdout);
	run_execvp((const char *const *)args.v);
	if (errno == ENOENT)
		cli_error("%s", NO_OLLAMA);
	else
		cli_error("genv llm attach: cannot run ollama: %s", strerror(errno));
out:
	strvec_clear(&args);
	llm_list_release(&l);
	strbuf_release(&err);
	strbuf_release(&host);
	return rc;
}

static const char *const llm_sub_names[] = { "attach", "ps", "serve", NULL };
static int (*const llm_sub_fns[])(int, char **) = { llm_attach, llm_ps, llm_serve };

static int
llm_run(int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, NULL, 0, NULL, NULL, NULL } };
	int i = cli_parse_options(&cli_cmd_llm, argc, argv, opts, CLI_PARSE_STOP_AT_POSITIONAL);
	int sub;

	if (i < 0)
		return i == CLI_PARSE_HELP ? 0 : 2;
	if (i == argc)
		return llm_ps(0, NULL);
	sub = cli_find_subcommand(&cli_cmd_llm, llm_sub_names, argv[i]);
	if (sub < 0)
		return 2;
	return llm_sub_fns[sub](argc - i, argv + i);
}

const struct cli_cmd cli_cmd_llm = {
	.name = "llm",
	.summary = "Run and attach to LLMs",
	.usage = "genv llm [-h] {attach,ps,serve} ...",
	.help = "Serves LLMs with ollama, each in an environment of its own named\n"
		"llm/MODEL/PORT, and attaches to them. Without a subcommand: ps.\n"
		"\n"
		"subcommands:\n"
		"    attach              Run 'ollama run MODEL' against the served model\n"
		"    ps                  List the served LLMs\n"
		"    serve               Serve an LLM with ollama in an environment of its own\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n",
	.run = llm_run,
};
