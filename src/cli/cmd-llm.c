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
#include "cli/table.h"
#include "core/llm.h"
#include "shell/shell.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <unistd.h>

#define NO_OLLAMA "Could not find ollama.\nYou should install it if it's not already installed.\n" \
	"Otherwise, $PATH is probably not configured properly."

static int llm_serve(int argc, char **argv, void *ctx);
static int llm_ps(int argc, char **argv, void *ctx);
static int llm_attach(int argc, char **argv, void *ctx);

static const struct cli_cmd llm_serve_cmd = {
	.name = "serve",
	.summary = "Serve an LLM with ollama in an environment of its own",
	.description =
	"Runs 'ollama serve' in a new environment named llm/MODEL/PORT, with\n"
	"OLLAMA_HOST=HOST:PORT, and releases the environment when ollama exits.\n"
	"Without --port ollama binds a free port itself (no race), which genv\n"
	"then reads and names the environment after.\n",
	.run = llm_serve,
};

static const struct cli_cmd llm_ps_cmd = {
	.name = "ps",
	.summary = "List the served LLMs",
	.help_column = 23,
	.run = llm_ps,
};

static const struct cli_cmd llm_attach_cmd = {
	.name = "attach",
	.summary = "Run 'ollama run MODEL' against the served model",
	.run = llm_attach,
};

/* ollama's environment, as genv exec gives its command one */
static void
export_env(const char *eid, const struct env_config *config, const char *indices)
{
	struct shell_env env;

	active_shell_env(&env, eid, config, indices);
	shell_env_apply(&env, SHELL_ENV_ID | SHELL_ENV_CONFIG | SHELL_ENV_DEVICES);
}

static int
llm_serve(int argc, char **argv, void *ctx UNUSED)
{
	struct llm_serve s = LLM_SERVE_INIT;
	int seen_gpus = 0, seen_port = 0, code, rc;
	const struct option opts[] = {
		OPT_POSITIONAL("MODEL", &s.model, "MODEL", "the model, as 'ollama run' names it",
			       .flags = PARSE_OPT_REQUIRED),
		OPT_STRING("--host", &s.host, NULL, "address to listen on (default: 127.0.0.1)"),
		OPT_INTEGER("--port|-p", &s.port, NULL,
			    "port to listen on (default, or 0: a free one)", .seen = &seen_port),
		OPT_INTEGER("--gpus", &s.gpus, NULL, "number of GPUs to attach", .seen = &seen_gpus),
		OPT_STRING("--gpu-memory", &s.gpu_memory, NULL, "GPU memory per device (e.g. 4g, 512mi)"),
		OPT_END(),
	};
	struct strbuf err = STRBUF_INIT, memory = STRBUF_INIT;

	cli_parse_options(&llm_serve_cmd, argc, argv, opts);
	if (seen_port && (s.port < 0 || s.port > 65535))
		return cli_usage_error(&llm_serve_cmd, "argument -p/--port: not a port: '%ld'", s.port);
	if (seen_gpus && s.gpus < 0)
		return cli_usage_error(&llm_serve_cmd, "argument --gpus: must not be negative: '%ld'",
				       s.gpus);
	if (cli_parse_memory(&llm_serve_cmd, &s.gpu_memory, &memory) < 0) {
		strbuf_release(&memory);
		return 2;
	}
	if (seen_port && !s.port)
		s.port = -1;   /* 0: any free port, as ollama binds it */
	if (active_eid()) {
		cli_error("Already running in an active environment");
		strbuf_release(&memory);
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
	strbuf_release(&memory);
	return rc;
}

static int
llm_ps(int argc, char **argv, void *ctx UNUSED)
{
	static const size_t widths[] = { 12, 8, 21, 8, 16 };
	static const char *const header[] = { "MODEL", "PORT", "CREATED", "EID", "USER", "PID(S)" };
	struct table_opts topts = TABLE_OPTS_INIT;
	const struct option opts[] = {
		OPT_TABLE_OPTIONS(&topts, "Print the creation time instead of how long ago it was"),
		OPT_END(),
	};
	struct llm_list l = LLM_LIST_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, port = STRBUF_INIT,
		      created = STRBUF_INIT, user = STRBUF_INIT, pids = STRBUF_INIT;
	enum table_format fmt;
	time_t now = clock_wall();
	int rc = 1;

	cli_parse_options(&llm_ps_cmd, argc, argv, opts);
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
llm_attach(int argc, char **argv, void *ctx UNUSED)
{
	const char *model = NULL;
	const struct option opts[] = {
		OPT_POSITIONAL("MODEL", &model, "MODEL", "a model served with 'genv llm serve'",
			       .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	struct llm_list l = LLM_LIST_INIT;
	struct strbuf err = STRBUF_INIT, host = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	const struct llm_entry *found;
	int rc = 1;

	cli_parse_options(&llm_attach_cmd, argc, argv, opts);
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

static const struct cli_cmd *const llm_subcmds[] = {
	&llm_attach_cmd, &llm_ps_cmd, &llm_serve_cmd, NULL
};

static int
llm_run(int argc, char **argv, void *ctx)
{
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, NULL, "subcommands"),
		OPT_END(),
	};

	return cli_run_subcommand(&cli_cmd_llm, argc, argv, opts, &llm_ps_cmd, ctx);
}

const struct cli_cmd cli_cmd_llm = {
	.name = "llm",
	.alias = "llms",   /* 1.4.3's, never listed */
	.summary = "Run and attach to LLMs",
	.description =
	"Serves LLMs with ollama, each in an environment of its own named\n"
	"llm/MODEL/PORT, and attaches to them. Without a subcommand: ps.\n",
	.help_column = 24,
	.run = llm_run,
	.subcmds = llm_subcmds,
};
