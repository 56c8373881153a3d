/* SPDX-License-Identifier: MIT */
/* llm.c: LLMs served by ollama in environments of their own (llm.h). */
#include "compat.h"
#include "core/llm.h"
#include "core/envs.h"
#include "core/state-check.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/proc.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <sys/wait.h>
#include <unistd.h>

#define LISTEN_POLL_MS 20

void
llm_list_release(struct llm_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].model);
	free(l->v);
	envs_release(&l->envs);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

int
llm_parse_name(const char *name, struct strbuf *model, long *port)
{
	const char *rest, *slash;

	if (!name || !skip_prefix(name, "llm/", &rest) || !*rest)
		return 0;
	slash = strchr(rest, '/');
	*port = -1;
	if (!slash) {
		strbuf_addstr(model, rest);
		return 1;
	}
	if (slash == rest)
		return 0;
	strbuf_add(model, rest, (size_t)(slash - rest));
	/* 1.4.3: ^llm/[^/]+/(\d+)$; anything else has no port */
	if (slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1) &&
	    strlen(slash + 1) <= 5)
		*port = strtol(slash + 1, NULL, 10);
	return 1;
}

/* The first TCP port one of the environment's processes listens on. */
static long
env_listen_port(const struct env *e)
{
	long port = -1;

	for (size_t i = 0; i < e->pids_nr && port < 0; i++) {
		long *ports;
		size_t nr;

		if (!proc_listen_ports(e->pids[i], &ports, &nr) && nr)
			port = ports[0];
		free(ports);
	}
	return port;
}

void
llm_list_add(struct llm_list *l, const struct envs *envs, int local)
{
	for (size_t i = 0; i < envs->nr; i++) {
		const struct env *e = &envs->v[i];
		struct strbuf model = STRBUF_INIT;
		long port;

		if (!llm_parse_name(e->config.name, &model, &port)) {
			strbuf_release(&model);
			continue;
		}
		if (port < 0 && local)
			port = env_listen_port(e);
		ALLOC_GROW(l->v, l->nr + 1, l->alloc);
		l->v[l->nr].env = e;
		l->v[l->nr].model = strbuf_detach(&model, NULL);
		l->v[l->nr].port = port;
		l->nr++;
	}
}

int
llm_list_local(struct llm_list *l, struct strbuf *err)
{
	struct store st = STORE_INIT;
	int rc = -1;

	/* a read: no lock (store.h) */
	if (store_init(&st, err) < 0 ||
	    store_load_envs(&st, &l->envs, STORE_CLEANUP, err) < 0)
		goto out;
	llm_list_add(l, &l->envs, 1);
	rc = 0;
out:
	store_release(&st);
	return rc;
}

const struct llm_entry *
llm_find(const struct llm_list *l, const char *model)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].model, model) && l->v[i].port >= 0)
			return &l->v[i];
	return NULL;
}

/* The environment ollama runs in, as 1.4.3's sdk.activate() sets it. */
static void
export_environment(const struct llm_serve *s, const struct env_config *c,
		   const char *indices)
{
	struct strbuf sb = STRBUF_INIT;

	if (s->export_env)
		s->export_env(s->eid.buf, c, indices);
	setenv("GENV_PYTHON", "1", 1);
	strbuf_addf(&sb, "%s:%ld", s->host, s->port >= 0 ? s->port : 0L);
	setenv("OLLAMA_HOST", sb.buf, 1);   /* ours wins (1.4.3: the caller's did) */
	strbuf_release(&sb);
}

/* Renames eid to name under the lock. */
static int
rename_env(const char *eid, const char *name, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	struct env *e;
	int rc = -1;

	if (state_check_name(name, err) < 0 || store_txn_begin(&t, 0, err) < 0)
		goto out;
	e = envs_find(&t.envs, eid);
	if (!e) {
		strbuf_addf(err, "environment '%s' is gone", eid);
		goto out;
	}
	free(e->config.name);
	e->config.name = xstrdup(name);
	rc = store_save_envs(&t.st, &t.envs, err);
out:
	store_txn_release(&t);
	return rc;
}

/* Polls until ollama listens (its port) or ends or time is up (-1). */
static long
wait_for_port(pid_t pid, long wait_ms)
{
	int64_t deadline = clock_monotonic_ms() + wait_ms;

	for (;;) {
		siginfo_t si;
		long *ports;
		size_t nr;
		long port = -1;

		if (!proc_listen_ports(pid, &ports, &nr) && nr)
			port = ports[0];
		free(ports);
		if (port >= 0)
			return port;
		memset(&si, 0, sizeof(si));
		/* ended (not reaped: llm_serve_wait does that) */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
			return -1;
		if (clock_monotonic_ms() >= deadline)
			return -1;
		usleep(LISTEN_POLL_MS * 1000);
	}
}

static int
activate(struct llm_serve *s, long pid, int first, struct env_config *c,
	 struct strbuf *indices, struct strbuf *err)
{
	struct activation a = ACTIVATION_INIT;

	a.eid = s->eid.buf;
	a.pid = pid;
	a.has_config = first;
	a.name = s->name.buf;
	a.gpu_memory = s->gpu_memory;
	a.gpus = first ? s->gpus : -1;
	return store_activate(&a, c, indices, err);
}

int
llm_serve_start(struct llm_serve *s, int *exit_code, struct strbuf *err)
{
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf indices = STRBUF_INIT, ignored = STRBUF_INIT;
	const char *argv[] = { s->ollama, "serve", NULL };
	int rc = -1;

	*exit_code = 1;
	strbuf_addf(&s->eid, "%ld", (long)getpid());
	strbuf_addf(&s->name, "llm/%s", s->model);
	if (s->port >= 0)
		strbuf_addf(&s->name, "/%ld", s->port);
	if (activate(s, (long)getpid(), 1, &c, &indices, err) < 0)
		goto out;
	export_environment(s, &c, indices.buf);
	if (run_fg_start(&s->fg, argv, exit_code, err) < 0) {
		if (*exit_code == 127) {
			strbuf_reset(err);
			strbuf_addstr(err, "Could not find ollama.\nYou should install it if it's not already installed.\n"
				      "Otherwise, $PATH is probably not configured properly.");
			*exit_code = 1;
		}
		store_deactivate_pid((long)getpid(), &ignored);
		goto out;
	}
	/* ollama's own pid keeps the environment if genv is killed */
	if (activate(s, (long)s->fg.pid, 0, NULL, NULL, &ignored) < 0)
		strbuf_reset(&ignored);
	s->bound_port = wait_for_port(s->fg.pid, s->listen_wait_ms);
	if (s->port < 0 && s->bound_port >= 0) {
		strbuf_addf(&s->name, "/%ld", s->bound_port);
		rename_env(s->eid.buf, s->name.buf, &ignored);
	}
	rc = 0;
out:
	env_config_release(&c);
	strbuf_release(&indices);
	strbuf_release(&ignored);
	return rc;
}

int
llm_serve_wait(struct llm_serve *s, struct strbuf *err)
{
	int code = run_fg_wait(&s->fg);

	/* ollama's pid is dead: the cleanup drops it, and genv's pid goes now */
	if (store_deactivate_pid((long)getpid(), err) < 0)
		return code ? code : 1;
	return code;
}

void
llm_serve_release(struct llm_serve *s)
{
	strbuf_release(&s->eid);
	strbuf_release(&s->name);
}
