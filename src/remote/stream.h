/* SPDX-License-Identifier: MIT */
/*
 * stream.h: live snapshots of many hosts for as long as a viewer runs
 * (`genv remote top`, `genv remote monitor`), at a cost that does not grow
 * with time: ONE ssh session per host, started once, in which
 * `genv usage snapshot --watch --interval N` prints a watch line (see
 * core/live.h) every N seconds. Steady state spawns no process at all;
 * the caller's poll() loop reads the sessions' pipes.
 *
 * A host whose session ends or goes silent (ssh fails, the host
 * reboots, sshd is killed, genv hangs) is DOWN: its snapshot is dropped,
 * the reason kept, and it is reconnected after a delay that doubles from
 * 1 s up to backoff_max_ms and starts again at 1 s once it answers. A
 * host that runs genv 1.4.3 (its `usage snapshot` has no --watch and
 * fails with a usage error) is asked with one-shot `genv usage snapshot`
 * commands instead, one ssh per interval.
 *
 * Use:
 *   stream_init(&s, &hosts, &opts);
 *   loop: n = stream_poll(&s, pfd, &timeout);  (plus the caller's own fds)
 *         poll(pfd, n, timeout);
 *         if (stream_service(&s)) redraw from s.v[i].live ...
 *   stream_release(&s);
 */
#ifndef GENV_REMOTE_STREAM_H
#define GENV_REMOTE_STREAM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include "core/live.h"
#include "remote/fanout.h"
#include "util/run.h"
#include "util/strbuf.h"

struct hostlist;

enum stream_state {
	STREAM_CONNECTING,   /* a session is starting: no snapshot yet */
	STREAM_UP,           /* live holds the newest snapshot */
	STREAM_DOWN,         /* no session; error says why; retry at retry_ms */
};

struct stream_host {
	const struct host *host;  /* borrowed from the hostlist */
	enum stream_state state;
	struct live live;         /* STREAM_UP: the newest snapshot */
	struct strbuf error;      /* STREAM_DOWN: one line for the user */
	int legacy;               /* a 1.4.3 host: one-shot snapshots */
	int no_genv;              /* STREAM_DOWN: the host has no genv (exit 127) */
	int answered;             /* a snapshot came, or the host failed, at least once */
	int64_t last_ms;          /* when the newest snapshot came */
	int64_t retry_ms;         /* STREAM_DOWN: next attempt */
	unsigned long snapshots;  /* snapshots received so far */
	unsigned long sessions;   /* ssh processes started so far */

	/* private to stream.c */
	struct run_task task;
	int running;              /* task is a live child */
	int got_line;             /* this session has sent a snapshot */
	char *stale_reason;       /* why we ended the session ourselves */
	int64_t started_ms, due_ms;
	long backoff_ms;
};

enum stream_root {
	STREAM_AS_ROOT_IF_ALLOWED,  /* top: sudo -n when it works */
	STREAM_AS_ROOT,             /* monitor: sudo -n, as 1.4.3 */
};

struct stream_opts {
	struct fanout_opts fan;     /* ssh, remote genv, and parallel: at most
				     * that many sessions starting at once (not
				     * answered yet); command_timeout is not used */
	long interval;              /* seconds between snapshots (>= 1) */
	long backoff_max_ms;        /* <= 0: 30 s */
	enum stream_root root;
};
#define STREAM_OPTS_INIT { FANOUT_OPTS_INIT, 1, 0, STREAM_AS_ROOT_IF_ALLOWED }

struct stream {
	struct stream_host *v;
	size_t nr;
	struct stream_opts opts;
	struct strbuf watch_cmd;    /* the remote commands */
	struct strbuf once_cmd;
	struct run_opts run;
};

/* Sets s up for the hosts of hl (borrowed) and starts every session. */
void stream_init(struct stream *s, const struct hostlist *hl, const struct stream_opts *o);
/* Ends every session (SIGTERM, then SIGKILL) and frees s. */
void stream_release(struct stream *s);

/*
 * Fills pfd (room for STREAM_POLLFDS(s) entries) with what the sessions
 * wait on and returns how many; sets *timeout_ms to how long poll() may
 * sleep before stream_service() is due.
 */
#define STREAM_POLLFDS(s) (RUN_TASK_FDS * (s)->nr)
size_t stream_poll(struct stream *s, struct pollfd *pfd, int *timeout_ms);
/*
 * Reads what the sessions sent, ends silent ones, notes ended ones, and
 * starts the sessions and one-shots that are due. Returns the number of
 * hosts whose state or snapshot changed.
 */
size_t stream_service(struct stream *s);

/* Whether every host has answered or failed at least once. */
int stream_all_answered(const struct stream *s);

#endif
