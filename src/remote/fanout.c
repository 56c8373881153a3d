/* SPDX-License-Identifier: MIT */
/*
 * fanout.c: one ssh per host through run_parallel(), then a verdict per
 * host: its snapshot, or one line saying why there is none (fanout.h).
 */
#include "compat.h"
#include "remote/fanout.h"
#include "core/state-json.h"
#include "remote/hosts.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/xalloc.h"

void
fanout_result_release(struct fanout_result *r)
{
	strbuf_release(&r->error);
	strvec_clear(&r->warnings);
	devices_release(&r->devices);
	envs_release(&r->envs);
	snapshot_release(&r->snapshot);
	strvec_clear(&r->output);
}

void
fanout_results_free(struct fanout_result *results, size_t n)
{
	if (!results)
		return;
	for (size_t i = 0; i < n; i++)
		fanout_result_release(&results[i]);
	free(results);
}

void
fanout_result_init(struct fanout_result *r, const struct host *h)
{
	memset(r, 0, sizeof(*r));
	r->host = h;
	strbuf_init(&r->error, 0);
	strvec_init(&r->warnings);
	strvec_init(&r->output);
	r->devices = (struct devices)DEVICES_INIT;
	r->envs = (struct envs)ENVS_INIT;
	r->snapshot = (struct snapshot)SNAPSHOT_INIT;
}

/* Appends text's lines (after trimming the whole) to lines. */
static void
add_lines(struct strvec *lines, const struct strbuf *text)
{
	struct strbuf t = STRBUF_INIT, line = STRBUF_INIT;

	strbuf_addbuf(&t, text);
	strbuf_trim(&t);
	for (const char *p = t.buf; t.len && *p;) {
		size_t n = strcspn(p, "\n");

		strbuf_reset(&line);
		strbuf_add(&line, p, n);
		strbuf_rtrim(&line);
		strvec_push(lines, line.buf);
		p += n + (p[n] == '\n');
	}
	strbuf_release(&t);
	strbuf_release(&line);
}

/* Appends text with surrounding blanks dropped and lines joined by "; ". */
static void
add_one_line(struct strbuf *out, const char *text, size_t len)
{
	struct strbuf t = STRBUF_INIT;
	int sep = 0;

	strbuf_add(&t, text, len);
	strbuf_trim(&t);
	for (const char *p = t.buf; *p;) {
		size_t n = strcspn(p, "\r\n");
		const char *line = p;
		size_t m = n;

		while (m && (line[m - 1] == ' ' || line[m - 1] == '\t'))
			m--;
		if (m) {
			if (sep)
				strbuf_addstr(out, "; ");
			strbuf_add(out, line, m);
			sep = 1;
		}
		p += n;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	strbuf_release(&t);
}

/* A shell's "command not found" (bash, dash, zsh, busybox all say so). */
static int
says_not_found(const struct strbuf *err)
{
	return strstr(err->buf, "not found") || strstr(err->buf, "No such file");
}

/*
 * When the failure is sudo's (not root there, and sudo missing or wanting
 * a password), says so and how to fix it, and returns 1; else 0.
 */
static int
judge_sudo(struct fanout_result *r, int exit_code, const struct strbuf *err)
{
	const char *name = host_entry(r->host);
	const char *fix = "run it as root (log in as root), or allow this login "
		"passwordless sudo for `genv usage` on the host "
		"(e.g. 'USER ALL=(root) NOPASSWD: /usr/bin/genv usage *')";

	/* sh's "sudo: not found" (dash) / "sudo: command not found" (bash) */
	if (exit_code == 127 && (strstr(err->buf, "sudo: not found") ||
				 strstr(err->buf, "sudo: command not found")))
		strbuf_addf(&r->error, "cannot run genv as root on %s: the login is not root "
			    "and sudo is not installed there; %s", name, fix);
	else if (exit_code == 1 && starts_with(err->buf, "sudo: ") &&
		 (strstr(err->buf, "password is required") ||
		  strstr(err->buf, "terminal is required") ||
		  strstr(err->buf, "not in the sudoers") ||
		  strstr(err->buf, "not allowed to execute"))) {
		strbuf_addf(&r->error, "cannot run genv as root on %s: `sudo -n` refused (", name);
		add_one_line(&r->error, err->buf, err->len);
		strbuf_addf(&r->error, "); %s", fix);
	} else {
		return 0;
	}
	return 1;
}

/* 0 when the command ran to exit status 0; else -1 and r->error says why. */
static int
judge_exit(struct fanout_result *r, int exit_code, int timed_out, long timeout,
	   const struct strbuf *err)
{
	const char *name = host_entry(r->host);

	if (timed_out) {
		strbuf_addf(&r->error,
			    "Failed running SSH command on %s (no answer within %ld seconds)",
			    name, timeout);
		return -1;
	}
	if (judge_sudo(r, exit_code, err))
		return -1;
	if (exit_code == 127 && says_not_found(err)) {
		strbuf_addf(&r->error,
			    "genv is not installed on %s or not on its non-interactive PATH; "
			    "install it or pass --remote-genv /path/to/genv", name);
		return -1;
	}
	if (exit_code != 0) {
		size_t before;

		strbuf_addf(&r->error, "Failed running SSH command on %s (", name);
		before = r->error.len;
		add_one_line(&r->error, err->buf, err->len);
		if (r->error.len == before && exit_code < 0)
			strbuf_addstr(&r->error, "ssh was killed by a signal");
		else if (r->error.len == before)
			strbuf_addf(&r->error, "exit status %d", exit_code);
		strbuf_addch(&r->error, ')');
		return -1;
	}
	return 0;
}

void
fanout_judge(struct fanout_result *r, enum fanout_type type, const char *cmd,
	     int exit_code, int timed_out, long timeout,
	     const struct strbuf *out, const struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT, text = STRBUF_INIT;
	const char *name = host_entry(r->host);
	int rc;

	r->ok = 0;
	if (judge_exit(r, exit_code, timed_out, timeout, err) < 0)
		goto out;
	strbuf_addbuf(&text, out);
	strbuf_trim(&text);
	if (!text.len) {
		strbuf_addstr(&why, "no output");
		rc = -1;
	} else if (type == FANOUT_DEVICES) {
		rc = devices_parse(&r->devices, text.buf, text.len, "snapshot", &why);
	} else if (type == FANOUT_ENVS) {
		rc = envs_parse(&r->envs, text.buf, text.len, "snapshot", &why);
	} else {
		rc = snapshot_parse(&r->snapshot, text.buf, text.len, "snapshot", &why);
	}
	if (rc < 0) {
		strbuf_addf(&r->error, "Invalid answer from %s to '%s' (", name, cmd);
		add_one_line(&r->error, why.buf, why.len);
		strbuf_addstr(&r->error, "); is genv there compatible with genv 1.4.3?");
		devices_release(&r->devices);
		envs_release(&r->envs);
		snapshot_release(&r->snapshot);
		goto out;
	}

	/* 1.4.3 strips the whole stderr, then repeats each line */
	add_lines(&r->warnings, err);
	r->ok = 1;
out:
	strbuf_release(&why);
	strbuf_release(&text);
}

struct fanout_tick {
	const struct fanout_opts *o;
	int64_t start_ms;
};

/* run_parallel()'s tick: where we stand, for o->progress. */
static void
fanout_tick(const struct run_task *tasks, size_t n, void *data)
{
	const struct fanout_tick *ft = data;
	struct fanout_progress p = { 0, n, NULL, 0, 0 };
	int64_t now = clock_monotonic_ms(), oldest = INT64_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct run_task *t = &tasks[i];

		if (t->state == RUN_EXITED || t->state == RUN_FAILED)
			p.done++;
		else if (t->state == RUN_RUNNING && t->started_ms < oldest) {
			oldest = t->started_ms;
			p.slowest = ((const struct fanout_result *)t->data)->host;
		}
	}
	p.waited_ms = p.slowest ? (long)(now - oldest) : 0;
	p.elapsed_ms = (long)(now - ft->start_ms);
	ft->o->progress(&p, ft->o->progress_data);
}

/*
 * Runs cmd (in the remote shell's place: "exec ...") on every host, or
 * with payloads on every host i whose payloads[i] is not NULL, with that
 * on its stdin. Each ssh holds our end
 * of its stdin until it is gone, and the hosts run cmd tied to the session
 * (ssh_tied_command), so a command we give up on dies on its host too.
 * Returns the finished tasks of the hosts that ran, in host order, each
 * with data pointing at its host's result; *nrun says how many.
 */
static struct run_task *
fanout_run(const struct hostlist *hl, const char *cmd,
	   const struct strbuf *const *payloads, const struct fanout_opts *o,
	   struct fanout_result *results, size_t *nrun)
{
	struct run_task *tasks = xcalloc(hl->nr ? hl->nr : 1, sizeof(*tasks));
	struct run_opts ropts = RUN_OPTS_INIT;
	struct strbuf wire = STRBUF_INIT;
	struct fanout_tick tick = { o, clock_monotonic_ms() };
	size_t n = 0;

	for (size_t i = 0; i < hl->nr; i++) {
		struct run_task *t = &tasks[n];
		const struct strbuf *in = payloads ? payloads[i] : NULL;

		if (payloads && !in)
			continue;
		run_task_init(t);
		strbuf_reset(&wire);
		ssh_tied_command(&wire, cmd, in ? (long long)in->len : -1);
		ssh_build_argv(&t->argv, &o->ssh, &hl->v[i], wire.buf);
		t->in = in;
		t->hold_stdin = 1;
		t->data = &results[i];
		n++;
	}
	strbuf_release(&wire);
	ropts.max_parallel = o->parallel ? o->parallel : 1;
	if (ropts.max_parallel > n)
		ropts.max_parallel = n ? n : 1;
	ropts.timeout_ms = o->command_timeout > 0 ? o->command_timeout * 1000 : 0;
	ropts.kill_grace_ms = 1000;
	if (o->progress) {
		ropts.tick = fanout_tick;
		ropts.cb_data = &tick;
	}
	run_parallel(tasks, n, &ropts);
	*nrun = n;
	return tasks;
}

static size_t
count_failed(const struct fanout_result *results, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += !results[i].ok;
	return failed;
}

/* The verdict on a task that did not run to its end, or 0. */
static int
judge_start(struct fanout_result *r, const struct run_task *t, const char *cmd)
{
	if (t->state == RUN_FAILED) {
		strbuf_addf(&r->error, "Failed running SSH command on %s (%s)",
			    host_entry(r->host), t->error.buf);
		return -1;
	}
	if (t->truncated) {
		strbuf_addf(&r->error,
			    "Invalid answer from %s to '%s' (more than 64 MiB of output)",
			    host_entry(r->host), cmd);
		return -1;
	}
	return 0;
}

struct fanout_result *
fanout_snapshot(const struct hostlist *hl, enum fanout_type type,
		const struct fanout_opts *o, size_t *failed)
{
	struct fanout_result *results = xcalloc(hl->nr ? hl->nr : 1, sizeof(*results));
	struct run_task *tasks;
	size_t nrun;
	struct strbuf cmd = STRBUF_INIT, run = STRBUF_INIT;
	const char *remote_genv = o->remote_genv ? o->remote_genv : "genv";

	/* cmd names the command in messages; run is what the host runs */
	if (type == FANOUT_SNAPSHOT) {
		ssh_genv_command(&cmd, remote_genv,
				 (const char *const[]){ "usage", "snapshot", NULL }, 1);
	} else {
		ssh_snapshot_command(&cmd, remote_genv,
				     type == FANOUT_DEVICES ? "devices" : "envs");
		strbuf_addstr(&run, "exec ");
	}
	strbuf_addbuf(&run, &cmd);
	for (size_t i = 0; i < hl->nr; i++)
		fanout_result_init(&results[i], &hl->v[i]);
	tasks = fanout_run(hl, run.buf, NULL, o, results, &nrun);

	for (size_t k = 0; k < nrun; k++) {
		struct run_task *t = &tasks[k];
		struct fanout_result *r = t->data;

		if (!judge_start(r, t, cmd.buf))
			fanout_judge(r, type, cmd.buf, run_task_exit_code(t), t->timed_out,
				     o->command_timeout, &t->out, &t->err);
		run_task_release(t);
	}
	free(tasks);
	*failed = count_failed(results, hl->nr);
	strbuf_release(&cmd);
	strbuf_release(&run);
	return results;
}

struct fanout_result *
fanout_execute(const struct hostlist *hl, const struct strbuf *const *payloads,
	       const char *const *extra_args, const struct fanout_opts *o, size_t *failed)
{
	struct fanout_result *results = xcalloc(hl->nr ? hl->nr : 1, sizeof(*results));
	struct strvec args = STRVEC_INIT;
	struct strbuf cmd = STRBUF_INIT;
	struct run_task *tasks;
	size_t nrun;

	strvec_pushv(&args, (const char *const[]){ "usage", "execute", NULL });
	if (extra_args)
		strvec_pushv(&args, extra_args);
	ssh_genv_command(&cmd, o->remote_genv ? o->remote_genv : "genv",
			 (const char *const *)args.v, 1);
	for (size_t i = 0; i < hl->nr; i++) {
		fanout_result_init(&results[i], &hl->v[i]);
		results[i].ok = results[i].skipped = !payloads[i];
	}
	tasks = fanout_run(hl, cmd.buf, payloads, o, results, &nrun);

	for (size_t k = 0; k < nrun; k++) {
		struct run_task *t = &tasks[k];
		struct fanout_result *r = t->data;

		if (!judge_start(r, t, cmd.buf) &&
		    !judge_exit(r, run_task_exit_code(t), t->timed_out,
				o->command_timeout, &t->err)) {
			/* the answer is lines for the user, not JSON */
			add_lines(&r->output, &t->out);
			add_lines(&r->warnings, &t->err);
			r->ok = 1;
		}
		run_task_release(t);
	}
	free(tasks);
	*failed = count_failed(results, hl->nr);
	strvec_clear(&args);
	strbuf_release(&cmd);
	return results;
}
