/* SPDX-License-Identifier: MIT */
/*
 * stream.c: one long-lived ssh session per host carrying watch lines,
 * with reconnection and a one-shot fallback for genv 1.4.3 (stream.h).
 * Sessions are run.c tasks serviced from the caller's poll() loop.
 */
#include "compat.h"
#include "remote/stream.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/clock.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <poll.h>

#define STREAM_BACKOFF_MIN_MS 1000
#define STREAM_BACKOFF_MAX_MS 30000
/* A watch line beyond this is not a snapshot we want to hold. */
#define STREAM_MAX_LINE ((size_t)16 << 20)
/* Of a session's stderr, only the end matters (why it ended). */
#define STREAM_MAX_STDERR 65536
#define STREAM_KEEP_STDERR 4096

static long
backoff_max(const struct stream *s)
{
	return s->opts.backoff_max_ms > 0 ? s->opts.backoff_max_ms : STREAM_BACKOFF_MAX_MS;
}

/* How long a session may stay silent before we give up on it. */
static int64_t
silence_ms(const struct stream *s)
{
	return 3 * (int64_t)s->opts.interval * 1000 + 5000;
}

static int64_t
connect_ms(const struct stream *s)
{
	long t = s->opts.fan.ssh.connect_timeout;

	return (int64_t)(t > 0 ? t : 10) * 1000;
}

/* When a running session (or one-shot) has been silent for too long. */
static int64_t
stale_deadline(const struct stream *s, const struct stream_host *h)
{
	if (h->got_line && !h->legacy)
		return h->last_ms + silence_ms(s);
	return h->started_ms + connect_ms(s) + silence_ms(s);
}

static void
host_down(struct stream *s, struct stream_host *h, int64_t now, const char *why)
{
	/* a remote shell's "command not found" (ssh's own failures are 255) */
	h->no_genv = h->running == 0 && run_task_exit_code(&h->task) == 127;
	strbuf_reset(&h->error);
	strbuf_addstr(&h->error, why);
	live_release(&h->live);
	h->state = STREAM_DOWN;
	h->answered = 1;
	/* it may come back upgraded: try the stream first again */
	h->legacy = 0;
	h->retry_ms = now + h->backoff_ms;
	h->backoff_ms = h->backoff_ms * 2 > backoff_max(s) ? backoff_max(s) : h->backoff_ms * 2;
}

static void
host_up(struct stream_host *h, int64_t now)
{
	h->state = STREAM_UP;
	h->answered = 1;
	h->last_ms = now;
	h->snapshots++;
	h->backoff_ms = STREAM_BACKOFF_MIN_MS;
	h->no_genv = 0;
	strbuf_reset(&h->error);
}

static void
host_start(struct stream *s, struct stream_host *h, int64_t now)
{
	run_task_release(&h->task);
	run_task_init(&h->task);
	ssh_build_argv(&h->task.argv, &s->opts.fan.ssh, h->host,
		       h->legacy ? s->once_cmd.buf : s->watch_cmd.buf);
	run_task_start(&h->task, &s->run);
	h->sessions++;
	h->started_ms = now;
	h->got_line = 0;
	free(h->stale_reason);
	h->stale_reason = NULL;
	if (h->task.state == RUN_FAILED) {
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&why, "Failed running SSH command on %s (%s)",
			    host_entry(h->host), h->task.error.buf);
		host_down(s, h, now, why.buf);
		strbuf_release(&why);
		return;
	}
	h->running = 1;
	if (h->state == STREAM_DOWN)
		h->state = STREAM_CONNECTING;
}

/* 1.4.3's argparse refusing --watch: exit 2 and "unrecognized arguments". */
static int
refuses_watch(const struct stream_host *h)
{
	return !h->legacy && !h->got_line && run_task_exit_code(&h->task) == 2 &&
	       strstr(h->task.err.buf, "unrecognized arguments");
}

/* A one-shot `genv usage snapshot` of a 1.4.3 host finished. */
static void
oneshot_ended(struct stream *s, struct stream_host *h, int64_t now)
{
	struct fanout_result r;

	fanout_result_init(&r, h->host);
	fanout_judge(&r, FANOUT_SNAPSHOT, s->once_cmd.buf, run_task_exit_code(&h->task),
		     h->task.timed_out, silence_ms(s) / 1000, &h->task.out, &h->task.err);
	if (h->stale_reason) {
		host_down(s, h, now, h->stale_reason);
	} else if (!r.ok) {
		host_down(s, h, now, r.error.buf);
	} else {
		live_release(&h->live);
		live_from_snapshot(&h->live, &r.snapshot, h->host->name);
		host_up(h, now);
		h->legacy = 1;
		h->due_ms = h->started_ms + s->opts.interval * 1000;
	}
	fanout_result_release(&r);
}

/* A watch session ended: fall back to one-shots, or the host is down. */
static void
session_ended(struct stream *s, struct stream_host *h, int64_t now)
{
	struct fanout_result r;
	int code = run_task_exit_code(&h->task);

	if (refuses_watch(h)) {
		h->legacy = 1;
		host_start(s, h, now);
		return;
	}
	if (h->stale_reason) {
		host_down(s, h, now, h->stale_reason);
		return;
	}
	fanout_result_init(&r, h->host);
	if (code != 0) {
		/* the wording `genv remote` uses for a failed ssh */
		fanout_judge(&r, FANOUT_SNAPSHOT, s->watch_cmd.buf, code, 0, 0,
			     &h->task.out, &h->task.err);
	} else {
		strbuf_addf(&r.error, "genv on %s stopped sending snapshots", host_entry(h->host));
	}
	host_down(s, h, now, r.error.buf);
	fanout_result_release(&r);
}

/* Ends a running session early; it is reaped (and judged) later. */
static void
end_session(struct stream_host *h, const char *why)
{
	if (!h->stale_reason)
		h->stale_reason = xstrdup(why);
	run_task_expire(&h->task);
}

/* Reads a running session's output; returns 1 when the host changed. */
static int
read_session(struct stream_host *h, int64_t now)
{
	struct strbuf why = STRBUF_INIT;
	int changed = 0, rc;

	if (h->task.err.len > STREAM_MAX_STDERR) {
		size_t cut = h->task.err.len - STREAM_KEEP_STDERR;

		memmove(h->task.err.buf, h->task.err.buf + cut, STREAM_KEEP_STDERR);
		strbuf_setlen(&h->task.err, STREAM_KEEP_STDERR);
	}
	if (h->legacy || h->stale_reason)
		return 0;   /* a one-shot is read whole at its end */
	rc = live_feed(&h->task.out, STREAM_MAX_LINE, &h->live, &why);
	if (rc > 0) {
		h->got_line = 1;
		host_up(h, now);
		changed = 1;
	} else if (rc < 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "Invalid answer from %s (%s); is genv there up to date?",
			    host_entry(h->host), why.buf);
		end_session(h, msg.buf);
		h->state = STREAM_CONNECTING;
		strbuf_release(&msg);
		changed = 1;
	}
	strbuf_release(&why);
	return changed;
}

static int
service_host(struct stream *s, struct stream_host *h, int64_t now)
{
	int changed = 0;

	if (h->running) {
		int done = run_task_service(&h->task, &s->run);

		changed = read_session(h, now);
		if (done) {
			h->running = 0;
			if (h->legacy)
				oneshot_ended(s, h, now);
			else
				session_ended(s, h, now);
			return 1;
		}
		if (now >= stale_deadline(s, h) && !h->stale_reason) {
			struct strbuf msg = STRBUF_INIT;

			strbuf_addf(&msg, "no snapshot from %s for %lld seconds", host_entry(h->host),
				    (long long)((now - (h->got_line ? h->last_ms : h->started_ms)) / 1000));
			end_session(h, msg.buf);
			strbuf_release(&msg);
		}
		return changed;
	}
	return 0;
}

/* Whether h waits for a session (or a 1.4.3 one-shot) to be started. */
static int
wants_start(const struct stream_host *h, int64_t now)
{
	if (h->running)
		return 0;
	if (h->state == STREAM_DOWN)
		return now >= h->retry_ms;
	if (h->state == STREAM_UP)
		return h->legacy && now >= h->due_ms;
	return 1;   /* CONNECTING and never started */
}

/* Sessions started that have not answered yet: at most --parallel of them. */
static size_t
starting(const struct stream *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr; i++)
		n += s->v[i].running && (s->v[i].legacy || !s->v[i].got_line);
	return n;
}

static size_t
start_due(struct stream *s, int64_t now)
{
	size_t limit = s->opts.fan.parallel ? s->opts.fan.parallel : 1;
	size_t busy = starting(s), started = 0;

	for (size_t i = 0; i < s->nr && busy < limit; i++) {
		struct stream_host *h = &s->v[i];

		if (!wants_start(h, now))
			continue;
		host_start(s, h, now);
		busy += h->running;
		started++;
	}
	return started;
}

size_t
stream_service(struct stream *s)
{
	int64_t now = clock_monotonic_ms();
	size_t changed = 0;

	for (size_t i = 0; i < s->nr; i++)
		changed += service_host(s, &s->v[i], now) > 0;
	return changed + start_due(s, now);
}

size_t
stream_poll(struct stream *s, struct pollfd *pfd, int *timeout_ms)
{
	int64_t now = clock_monotonic_ms(), wake = now + 60000;
	size_t limit = s->opts.fan.parallel ? s->opts.fan.parallel : 1, n = 0;
	int room = starting(s) < limit;

	for (size_t i = 0; i < s->nr; i++) {
		struct stream_host *h = &s->v[i];

		if (!room && wants_start(h, now)) {
			continue;   /* waits for a slot: a session's answer wakes us */
		} else if (h->running) {
			n += run_task_poll(&h->task, pfd + n, &wake);
			if (!h->stale_reason && stale_deadline(s, h) < wake)
				wake = stale_deadline(s, h);
		} else if (h->state == STREAM_DOWN) {
			wake = h->retry_ms < wake ? h->retry_ms : wake;
		} else if (h->legacy) {
			wake = h->due_ms < wake ? h->due_ms : wake;
		} else {
			wake = now;   /* never started */
		}
	}
	*timeout_ms = wake > now ? (int)(wake - now) : 0;
	return n;
}

int
stream_all_answered(const struct stream *s)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!s->v[i].answered)
			return 0;
	return 1;
}

void
stream_init(struct stream *s, const struct hostlist *hl, const struct stream_opts *o)
{
	struct run_opts ropts = RUN_OPTS_INIT;
	struct strvec args = STRVEC_INIT;
	int root = o->root == STREAM_AS_ROOT ? 1 : SSH_ROOT_IF_ALLOWED;
	const char *genv = o->fan.remote_genv ? o->fan.remote_genv : "genv";
	int64_t now = clock_monotonic_ms();

	memset(s, 0, sizeof(*s));
	s->opts = *o;
	if (s->opts.interval < 1)
		s->opts.interval = 1;
	/* a session lives long: a shared master would only add a process */
	s->opts.fan.ssh.control_dir = NULL;
	strbuf_init(&s->watch_cmd, 0);
	strbuf_init(&s->once_cmd, 0);
	strvec_pushv(&args, (const char *const[]){ "usage", "snapshot", "--watch", "--interval", NULL });
	strvec_pushf(&args, "%ld", s->opts.interval);
	ssh_genv_command(&s->watch_cmd, genv, (const char *const *)args.v, root);
	ssh_genv_command(&s->once_cmd, genv, (const char *const[]){ "usage", "snapshot", NULL },
			 root);
	strvec_clear(&args);
	ropts.kill_grace_ms = 1000;
	s->run = ropts;

	s->nr = hl->nr;
	s->v = xcalloc(hl->nr ? hl->nr : 1, sizeof(*s->v));
	for (size_t i = 0; i < hl->nr; i++) {
		struct stream_host *h = &s->v[i];

		h->host = &hl->v[i];
		h->state = STREAM_CONNECTING;
		live_init(&h->live);
		strbuf_init(&h->error, 0);
		run_task_init(&h->task);
		h->backoff_ms = STREAM_BACKOFF_MIN_MS;
	}
	start_due(s, now);
}

void
stream_release(struct stream *s)
{
	size_t running;

	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i].running)
			run_task_expire(&s->v[i].task);
	/* SIGTERM now, SIGKILL after the grace: this ends within about a second */
	do {
		running = 0;
		for (size_t i = 0; i < s->nr; i++) {
			struct stream_host *h = &s->v[i];

			if (h->running && run_task_service(&h->task, &s->run))
				h->running = 0;
			running += h->running;
		}
		if (running)
			poll(NULL, 0, 10);
	} while (running);
	for (size_t i = 0; i < s->nr; i++) {
		struct stream_host *h = &s->v[i];

		live_release(&h->live);
		strbuf_release(&h->error);
		run_task_release(&h->task);
		free(h->stale_reason);
	}
	free(s->v);
	strbuf_release(&s->watch_cmd);
	strbuf_release(&s->once_cmd);
	memset(s, 0, sizeof(*s));
}
