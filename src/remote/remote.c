/* SPDX-License-Identifier: MIT */
/*
 * remote.c: the procedures of `genv remote` (remote.h) over the fan-out
 * of fanout.c and the command lines of ssh.c.
 */
#include "compat.h"
#include "remote/remote.h"
#include "core/devices.h"
#include "core/llm.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/run.h"
#include "util/xalloc.h"

#include <sys/wait.h>
#include <unistd.h>

void
remote_answers_release(struct remote_answers *ans)
{
	for (size_t i = 0; i < ans->nr; i++) {
		strbuf_release(&ans->v[i].error);
		strvec_clear(&ans->v[i].warnings);
		devices_release(&ans->v[i].devices);
		envs_release(&ans->v[i].envs);
	}
	free(ans->v);
	ans->v = NULL;
	ans->nr = ans->answered = 0;
}

/* Queries every host; each record takes over what its fan-out result holds. */
static void
ask(struct remote_answers *ans, const struct hostlist *hl, enum fanout_type type,
    const struct fanout_opts *o)
{
	size_t failed;
	struct fanout_result *res = fanout_snapshot(hl, type, o, &failed);

	ans->v = xcalloc(hl->nr ? hl->nr : 1, sizeof(*ans->v));
	ans->nr = hl->nr;
	ans->answered = hl->nr - failed;
	for (size_t i = 0; i < hl->nr; i++) {
		struct remote_host *h = &ans->v[i];
		struct fanout_result *r = &res[i];

		h->host = r->host;
		h->ok = r->ok;
		h->error = r->error;
		h->warnings = r->warnings;
		h->devices = r->devices;
		h->envs = r->envs;
		strbuf_init(&r->error, 0);
		strvec_init(&r->warnings);
		r->devices = (struct devices)DEVICES_INIT;
		r->envs = (struct envs)ENVS_INIT;
	}
	fanout_results_free(res, hl->nr);
}

void
remote_ask_devices(struct remote_answers *ans, const struct hostlist *hl,
		   const struct fanout_opts *o)
{
	ask(ans, hl, FANOUT_DEVICES, o);
	for (size_t i = 0; i < ans->nr; i++) {
		const struct devices *devs = &ans->v[i].devices;

		for (size_t d = 0; d < devs->nr; d++)
			ans->v[i].available += devs->v[d].att_nr == 0;
	}
}

void
remote_ask_envs(struct remote_answers *ans, const struct hostlist *hl,
		const struct fanout_opts *o)
{
	ask(ans, hl, FANOUT_ENVS, o);
}

void
remote_ask_named(struct remote_answers *ans, const struct hostlist *hl,
		 const struct fanout_opts *o, const char *name)
{
	ask(ans, hl, FANOUT_ENVS, o);
	for (size_t i = 0; i < ans->nr; i++) {
		struct envs *envs = &ans->v[i].envs;

		for (size_t e = envs->nr; e-- > 0;)
			if (!envs->v[e].config.name || strcmp(envs->v[e].config.name, name))
				envs_remove_at(envs, e);
	}
}

const struct host *
remote_llm_host(const struct remote_answers *ans, const char *model)
{
	const struct host *found = NULL;

	for (size_t i = 0; i < ans->nr && !found; i++) {
		struct llm_list l = LLM_LIST_INIT;

		if (ans->v[i].ok)
			llm_list_add(&l, &ans->v[i].envs, 0);
		for (size_t k = 0; k < l.nr && !found; k++)
			if (!strcmp(l.v[k].model, model))
				found = ans->v[i].host;
		llm_list_release(&l);
	}
	return found;
}

/* ---- activate ---- */

struct candidate {
	size_t host;       /* index into the answers */
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

/* How many devices of h can take gpu_memory; unreadable ones count as taken. */
static size_t
usable_devices(const struct remote_host *h, const char *gpu_memory, remote_say_fn note,
	       void *note_data)
{
	struct strbuf err = STRBUF_INIT;
	size_t usable = 0;

	for (size_t d = 0; d < h->devices.nr; d++) {
		int ok = 0;

		strbuf_reset(&err);
		if (device_is_available(&h->devices.v[d], gpu_memory, &ok, &err) < 0) {
			/* a remote attachment with a memory string we cannot read */
			if (note)
				note(h->host, err.buf, note_data);
			ok = 0;
		}
		usable += ok != 0;
	}
	strbuf_release(&err);
	return usable;
}

/* The candidates of remote_choose_hosts(), in its order, in *out (malloc'ed). */
static size_t
choose(const struct remote_answers *ans, long gpus, const char *gpu_memory,
       struct candidate **out, remote_say_fn note, void *note_data)
{
	struct candidate *cand = xcalloc(ans->nr ? ans->nr : 1, sizeof(*cand));
	size_t n = 0;

	for (size_t i = 0; i < ans->nr; i++) {
		size_t usable;

		if (!ans->v[i].ok)
			continue;
		usable = usable_devices(&ans->v[i], gpu_memory, note, note_data);
		if (gpus > 0 && usable < (size_t)gpus)
			continue;
		cand[n].host = i;
		cand[n].usable = usable;
		n++;
	}
	/* without --gpus any host will do: take them in host order, as 1.4.3 */
	if (gpus > 0)
		qsort(cand, n, sizeof(*cand), candidate_cmp);
	*out = cand;
	return n;
}

size_t
remote_choose_hosts(const struct remote_answers *ans, long gpus, const char *gpu_memory,
		    size_t **order, remote_say_fn note, void *note_data)
{
	struct candidate *cand;
	size_t n = choose(ans, gpus, gpu_memory, &cand, note, note_data);

	*order = xcalloc(n ? n : 1, sizeof(**order));
	for (size_t c = 0; c < n; c++)
		(*order)[c] = cand[c].host;
	free(cand);
	return n;
}

void
remote_describe_choice(struct strbuf *line, const struct remote_answers *ans, size_t host,
		       size_t try, long gpus, const char *gpu_memory, const char *doing)
{
	const struct remote_host *h = &ans->v[host];
	size_t usable = usable_devices(h, gpu_memory, NULL, NULL);
	size_t total = h->devices.nr;

	strbuf_addf(line, "genv: %s on %s: %zu of %zu GPU%s ", doing, host_entry(h->host),
		    usable, total, total == 1 ? "" : "s");
	if (gpu_memory)
		strbuf_addf(line, "can take %s", gpu_memory);
	else
		strbuf_addstr(line, "available");
	if (gpus > 0) {
		strbuf_addf(line, " (%sbest fit for --gpus %ld", try ? "next " : "", gpus);
		if (gpu_memory)
			strbuf_addf(line, " --gpu-memory %s", gpu_memory);
		strbuf_addstr(line, ": the fewest that suffice)");
	} else {
		strbuf_addf(line, " (%s host that answered; no GPUs asked)",
			    try ? "the next" : "the first");
	}
}

/* Hosts a shortfall line names before it says how many more there are. */
#define SHORTFALL_HOSTS 8

int
remote_describe_shortfall(struct strbuf *line, const struct remote_answers *ans, long gpus,
			  const char *gpu_memory)
{
	size_t named = 0, answered = 0;

	if (gpus <= 0)
		return 0;
	strbuf_addf(line, "genv: requested %ld GPU%s", gpus, gpus == 1 ? "" : "s");
	if (gpu_memory)
		strbuf_addf(line, " that can take %s each", gpu_memory);
	strbuf_addstr(line, "; no host has that many:");
	for (size_t i = 0; i < ans->nr; i++) {
		const struct remote_host *h = &ans->v[i];

		if (!h->ok)
			continue;
		if (answered++ >= SHORTFALL_HOSTS)
			continue;
		strbuf_addf(line, "%s %s %zu of %zu", named++ ? "," : "", host_entry(h->host),
			    usable_devices(h, gpu_memory, NULL, NULL), h->devices.nr);
	}
	if (answered > named)
		strbuf_addf(line, " and %zu more host%s", answered - named,
			    answered - named == 1 ? "" : "s");
	return answered > 0;
}

/*
 * ssh into h running remote_cmd with our terminal (a terminal remotely
 * too, if we have one; a pipe, a script, stays a pipe). Returns 0 with the
 * waitpid status in *status, or -1 with err when ssh cannot be started.
 */
static int
session(const struct host *h, const struct fanout_opts *o, const char *remote_cmd,
	int *status, struct strbuf *err)
{
	struct ssh_opts so = o->ssh;
	struct strvec cmd = STRVEC_INIT;
	int rc;

	so.interactive = isatty(STDIN_FILENO);
	ssh_build_argv(&cmd, &so, h, remote_cmd);
	rc = run_interactive((const char *const *)cmd.v, status, err);
	strvec_clear(&cmd);
	return rc;
}

/* The exit code a session's waitpid status stands for, as a shell reports it. */
static int
session_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
remote_genv_session(const struct host *h, const struct fanout_opts *o,
		    const char *const *args, int *exit_code, struct strbuf *err)
{
	struct strbuf remote_cmd = STRBUF_INIT;
	int status = 0, rc;

	ssh_genv_command(&remote_cmd, o->remote_genv, args, 0);
	rc = session(h, o, remote_cmd.buf, &status, err);
	if (!rc)
		*exit_code = session_exit_code(status);
	strbuf_release(&remote_cmd);
	return rc;
}

/* One attempt at remote activate on h (ssh_activate_command). */
static int
activate_on(const struct host *h, const struct fanout_opts *o,
	    const struct remote_activate *req, int *status, struct strbuf *err)
{
	struct remote_activate ra = *req;
	struct strbuf remote_cmd = STRBUF_INIT;
	int rc;

	ra.host = host_entry(h);
	ssh_activate_command(&remote_cmd, &ra);
	rc = session(h, o, remote_cmd.buf, status, err);
	strbuf_release(&remote_cmd);
	return rc;
}

int
remote_activate_shell(const struct remote_answers *ans, const struct fanout_opts *o,
		      const struct remote_activate *req, remote_say_fn say, void *say_data,
		      int *exit_code, struct strbuf *err)
{
	struct candidate *cand;
	size_t n;
	off_t stdin_start;
	int rc = -1;

	n = choose(ans, req->gpus, req->gpu_memory, &cand, say, say_data);
	/*
	 * ssh forwards our stdin as soon as it connects, even to a host whose
	 * reservation then fails; a script on stdin is rewound for the next.
	 */
	stdin_start = lseek(STDIN_FILENO, 0, SEEK_CUR);
	for (size_t c = 0; c < n; c++) {
		int status = 0;

		if (say) {
			struct strbuf line = STRBUF_INIT;

			remote_describe_choice(&line, ans, cand[c].host, c, req->gpus,
					       req->gpu_memory, "activating");
			say(NULL, line.buf, say_data);
			strbuf_release(&line);
		}
		if (activate_on(ans->v[cand[c].host].host, o, req, &status, err) < 0)
			goto out;
		if (WIFEXITED(status) && WEXITSTATUS(status) == SSH_ACTIVATE_TAKEN) {
			if (say && c + 1 < n)
				say(NULL, "genv: trying the next host", say_data);
			if (stdin_start >= 0)
				lseek(STDIN_FILENO, stdin_start, SEEK_SET);
			continue;
		}
		/* the session is over: its status is ours, as if we had exec'ed ssh */
		*exit_code = session_exit_code(status);
		rc = 0;
		goto out;
	}
	if (!n && say) {
		struct strbuf line = STRBUF_INIT;

		if (remote_describe_shortfall(&line, ans, req->gpus, req->gpu_memory))
			say(NULL, line.buf, say_data);
		strbuf_release(&line);
	}
	strbuf_addstr(err, "Cannot find a host with enough available resources");
out:
	free(cand);
	return rc;
}
