/* SPDX-License-Identifier: MIT */
/*
 * remote.h: the procedures of `genv remote` (the CLI parses, calls one of
 * these and prints what it returns):
 *
 *  - ask every host for its devices or environments, in parallel, and get
 *    one record per host back, in host order: the answer, or one line
 *    saying why there is none;
 *  - choose the hosts for `remote activate` and `remote llm serve` (best
 *    fit: the host with the fewest devices that can take the request,
 *    among those with enough);
 *  - open the user's shell in a new environment on the first chosen host
 *    that can still reserve it, or a session of `genv ARGS` on a host.
 *
 * The hosts speak the 1.4.3 protocol (fanout.h, ssh.h).
 */
#ifndef GENV_REMOTE_REMOTE_H
#define GENV_REMOTE_REMOTE_H

#include <stddef.h>
#include "core/state.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct fanout_opts;
struct host;
struct hostlist;
struct remote_activate;

/* One host's answer. */
struct remote_host {
	const struct host *host;   /* borrowed from the hostlist */
	int ok;                    /* it answered with a valid snapshot */
	struct strbuf error;       /* !ok: one line for the user */
	struct strvec warnings;    /* ok: its stderr, line by line */
	struct devices devices;    /* remote_ask_devices() */
	size_t available;          /* of those, devices nobody is attached to (1.4.3) */
	struct envs envs;          /* remote_ask_envs(); remote_ask_named(): those so named */
};

struct remote_answers {
	struct remote_host *v;     /* one per host, in host order */
	size_t nr;
	size_t answered;           /* hosts that are ok */
};
#define REMOTE_ANSWERS_INIT { NULL, 0, 0 }

void remote_answers_release(struct remote_answers *ans);

/* `genv remote devices`: every host's devices (fills devices, available). */
void remote_ask_devices(struct remote_answers *ans, const struct hostlist *hl,
			const struct fanout_opts *o);
/* `genv remote envs`: every host's environments. */
void remote_ask_envs(struct remote_answers *ans, const struct hostlist *hl,
		     const struct fanout_opts *o);
/* `genv remote query --name NAME`: every host's environments called name. */
void remote_ask_named(struct remote_answers *ans, const struct hostlist *hl,
		      const struct fanout_opts *o, const char *name);

/* `genv remote llm attach`: the first host, in host order, serving model. */
const struct host *remote_llm_host(const struct remote_answers *ans, const char *model);

/*
 * Gets a line for the user: about host h (the line may hold text h sent),
 * or genv's own when h is NULL. No newline.
 */
typedef void (*remote_say_fn)(const struct host *h, const char *line, void *data);

/*
 * Chooses the hosts for `remote activate` among those of ans (from
 * remote_ask_devices) that answered. With gpus > 0: the hosts with at
 * least gpus devices that can take gpu_memory (NULL: whole devices; see
 * device_is_available), fewest such devices first, ties in host order.
 * Without: every host that answered, in host order, as 1.4.3. A device
 * whose attachments cannot be read counts as taken, and note (may be NULL)
 * gets why. Returns how many hosts there are, their indices into ans->v
 * in *order (malloc'ed; free it).
 */
size_t remote_choose_hosts(const struct remote_answers *ans, long gpus,
			   const char *gpu_memory, size_t **order, remote_say_fn note,
			   void *note_data);

/*
 * Appends why host (an index into ans->v) is the one chosen for a request
 * of gpus devices that can take gpu_memory: "genv: DOING on HOST: 3 of 4
 * GPUs available (best fit for --gpus 2: the fewest that suffice)"; try
 * says whether hosts before it were tried already ("next best fit").
 */
void remote_describe_choice(struct strbuf *line, const struct remote_answers *ans,
			    size_t host, size_t try, long gpus, const char *gpu_memory,
			    const char *doing);

/*
 * When no host can take a request of gpus > 0 devices: appends what was
 * asked and what each host that answered has ("genv: requested 2 GPUs; no
 * host has that many: gpu-server-1 1 of 4, gpu-server-2 0 of 2", the first
 * few hosts and how many more). Returns 1 when it wrote a line, 0 when
 * there is nothing to say (no GPUs asked, no host answered).
 */
int remote_describe_shortfall(struct strbuf *line, const struct remote_answers *ans,
			      long gpus, const char *gpu_memory);

/*
 * Runs `genv ARGS` (the remote genv of o) on h over ssh with our terminal
 * (`remote llm serve|attach`). Returns 0 once the session ran, with its
 * exit status in *exit_code, or -1 with err when ssh could not be started.
 */
int remote_genv_session(const struct host *h, const struct fanout_opts *o,
			const char *const *args, int *exit_code, struct strbuf *err);

/*
 * `genv remote activate`: tries the hosts remote_choose_hosts() picks
 * (req->gpus, req->gpu_memory), in that order. On each it runs ssh with
 * our terminal and ssh_activate_command(req with that host): the
 * environment is reserved in the same connection that becomes the login
 * shell. A host that lost a race for its devices (exit SSH_ACTIVATE_TAKEN)
 * is followed by the next one, with stdin rewound when it is a file (a
 * script). say (NULL: silent) gets the notes of remote_choose_hosts(),
 * before each attempt which host it is and why (remote_describe_choice),
 * "genv: trying the next host", and when no host fits from the start,
 * what each has (remote_describe_shortfall), all three with host NULL.
 *
 * Returns 0 once a session ran, with its status in *exit_code (as if we
 * had exec'ed ssh); -1 with err when no host could take it or ssh could
 * not be started.
 */
int remote_activate_shell(const struct remote_answers *ans, const struct fanout_opts *o,
			  const struct remote_activate *req, remote_say_fn say,
			  void *say_data, int *exit_code, struct strbuf *err);

#endif
