/* SPDX-License-Identifier: MIT */
/*
 * fanout.h: ask many hosts for a genv snapshot at once and parse what
 * they answer (`genv usage snapshot --type devices|envs`, the 1.4.3
 * protocol), over ssh, at most `parallel` connections at a time, each
 * bounded by a command timeout.
 *
 * A host that fails never spoils the others: each result says on its own
 * whether its host answered, and if not, why, in one line meant for the
 * user (1.4.3's "Failed running SSH command on HOST (...)" for ssh and
 * remote command failures; dedicated messages for a missing remote genv,
 * a timeout, and an answer that is not a valid snapshot).
 */
#ifndef GENV_REMOTE_FANOUT_H
#define GENV_REMOTE_FANOUT_H

#include <stddef.h>
#include "core/state.h"
#include "remote/ssh.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct host;
struct hostlist;

enum fanout_type {
	FANOUT_DEVICES,    /* genv usage snapshot --type devices */
	FANOUT_ENVS,       /* genv usage snapshot --type envs */
	FANOUT_SNAPSHOT,   /* genv usage snapshot (all of it; as root) */
};

/* Where a fan-out stands while it waits (fanout_opts.progress). */
struct fanout_progress {
	size_t done, total;          /* hosts that answered or failed, of all */
	const struct host *slowest;  /* the host waited on longest, or NULL */
	long waited_ms;              /* how long slowest has been waited on */
	long elapsed_ms;             /* since the fan-out started */
};
typedef void (*fanout_progress_fn)(const struct fanout_progress *p, void *data);

struct fanout_opts {
	struct ssh_opts ssh;
	const char *remote_genv;   /* "genv" unless configured */
	size_t parallel;           /* at most this many ssh at once */
	long command_timeout;      /* seconds per host; <= 0: none */
	fanout_progress_fn progress;  /* NULL, or called about every 100 ms */
	void *progress_data;          /* while hosts are still being waited on */
};
#define FANOUT_OPTS_INIT { SSH_OPTS_INIT, "genv", 32, 60, NULL, NULL }

struct fanout_result {
	const struct host *host;   /* borrowed from the hostlist */
	int ok;
	struct strbuf error;       /* !ok: one line, no newline */
	struct strvec warnings;    /* ok: the host's stderr, line by line */
	struct devices devices;    /* FANOUT_DEVICES and ok */
	struct envs envs;          /* FANOUT_ENVS and ok */
	struct snapshot snapshot;  /* FANOUT_SNAPSHOT and ok */
	struct strvec output;      /* fanout_execute(): stdout, line by line */
	int skipped;               /* fanout_execute(): nothing to send there */
};

/* An empty result for host h (borrowed). */
void fanout_result_init(struct fanout_result *r, const struct host *h);
void fanout_result_release(struct fanout_result *r);
void fanout_results_free(struct fanout_result *results, size_t n);

/*
 * Queries every host of hl. Returns a malloc'ed array of hl->nr results in
 * host order (free with fanout_results_free) and sets *failed to the
 * number of hosts that did not answer properly.
 */
struct fanout_result *fanout_snapshot(const struct hostlist *hl, enum fanout_type type,
				      const struct fanout_opts *o, size_t *failed);

/*
 * Runs `genv usage execute [extra_args]` as root (see ssh_genv_command) on
 * every host i whose payloads[i] is not NULL, with payloads[i] (a 1.4.3
 * Report, JSON) on its stdin; other hosts are skipped (ok, skipped set).
 * A host is ok when the command exits 0; its stdout and stderr lines are
 * in output and warnings. Returns results like fanout_snapshot().
 */
struct fanout_result *fanout_execute(const struct hostlist *hl,
				     const struct strbuf *const *payloads,
				     const char *const *extra_args,
				     const struct fanout_opts *o, size_t *failed);

/*
 * Turns what running ssh produced into a result (exposed for unit tests):
 * classifies failures and parses the snapshot. exit_code is -1 when ssh
 * was killed; timed_out says our deadline killed it.
 */
void fanout_judge(struct fanout_result *r, enum fanout_type type, const char *cmd,
		  int exit_code, int timed_out, long timeout,
		  const struct strbuf *out, const struct strbuf *err);

#endif
