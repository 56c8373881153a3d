/* SPDX-License-Identifier: MIT */
/*
 * fanout.c: one ssh per host through run_parallel(), then a verdict per
 * host: its snapshot, or one line saying why there is none (fanout.h).
 */
#include "compat.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "util/run.h"
#include "util/xalloc.h"

void
fanout_result_release(struct fanout_result *r)
{
	strbuf_release(&r->error);
	strvec_clear(&r->warnings);
	devices_release(&r->devices);
	envs_release(&r->envs);
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

static void
result_init(struct fanout_result *r, const struct host *h)
{
	memset(r, 0, sizeof(*r));
	r->host = h;
	strbuf_init(&r->error, 0);
	strvec_init(&r->warnings);
	r->devices = (struct devices)DEVICES_INIT;
	r->envs = (struct envs)ENVS_INIT;
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

void
fanout_judge(struct fanout_result *r, enum fanout_type type, const char *cmd,
	     int exit_code, int timed_out, long timeout,
	     const struct strbuf *out, const struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT, text = STRBUF_INIT;
	const char *name = r->host->name;
	int rc;

	r->ok = 0;
	if (timed_out) {
		strbuf_addf(&r->error,
			    "Failed running SSH command on %s (no answer within %ld seconds)",
			    name, timeout);
		goto out;
	}
	if (exit_code == 127 && says_not_found(err)) {
		strbuf_addf(&r->error,
			    "genv is not installed on %s or not on its non-interactive PATH; "
			    "install it or pass --remote-genv /path/to/genv", name);
		goto out;
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
		goto out;
	}

	strbuf_addbuf(&text, out);
	strbuf_trim(&text);
	if (!text.len) {
		strbuf_addstr(&why, "no output");
		rc = -1;
	} else if (type == FANOUT_DEVICES) {
		rc = devices_parse(&r->devices, text.buf, text.len, "snapshot", &why);
	} else {
		rc = envs_parse(&r->envs, text.buf, text.len, "snapshot", &why);
	}
	if (rc < 0) {
		strbuf_addf(&r->error, "Invalid answer from %s to '%s' (", name, cmd);
		add_one_line(&r->error, why.buf, why.len);
		strbuf_addstr(&r->error, "); is genv there compatible with genv 1.4.3?");
		devices_release(&r->devices);
		envs_release(&r->envs);
		goto out;
	}

	/* 1.4.3 strips the whole stderr, then repeats each line */
	strbuf_reset(&text);
	strbuf_addbuf(&text, err);
	strbuf_trim(&text);
	for (const char *p = text.buf; text.len && *p;) {
		size_t n = strcspn(p, "\n");
		struct strbuf line = STRBUF_INIT;

		strbuf_add(&line, p, n);
		strbuf_rtrim(&line);
		strvec_push(&r->warnings, line.buf);
		strbuf_release(&line);
		p += n + (p[n] == '\n');
	}
	r->ok = 1;
out:
	strbuf_release(&why);
	strbuf_release(&text);
}

struct fanout_result *
fanout_snapshot(const struct hostlist *hl, enum fanout_type type,
		const struct fanout_opts *o, size_t *failed)
{
	struct fanout_result *results = xcalloc(hl->nr ? hl->nr : 1, sizeof(*results));
	struct run_task *tasks = xcalloc(hl->nr ? hl->nr : 1, sizeof(*tasks));
	struct run_opts ropts = RUN_OPTS_INIT;
	struct strbuf cmd = STRBUF_INIT;

	ssh_snapshot_command(&cmd, o->remote_genv ? o->remote_genv : "genv",
			     type == FANOUT_DEVICES ? "devices" : "envs");
	for (size_t i = 0; i < hl->nr; i++) {
		result_init(&results[i], &hl->v[i]);
		run_task_init(&tasks[i]);
		ssh_build_argv(&tasks[i].argv, &o->ssh, &hl->v[i], cmd.buf);
	}
	ropts.max_parallel = o->parallel ? o->parallel : 1;
	ropts.timeout_ms = o->command_timeout > 0 ? o->command_timeout * 1000 : 0;
	ropts.kill_grace_ms = 1000;
	run_parallel(tasks, hl->nr, &ropts);

	*failed = 0;
	for (size_t i = 0; i < hl->nr; i++) {
		struct run_task *t = &tasks[i];
		struct fanout_result *r = &results[i];

		if (t->state == RUN_FAILED) {
			strbuf_addf(&r->error, "Failed running SSH command on %s (%s)",
				    r->host->name, t->error.buf);
		} else if (t->truncated) {
			strbuf_addf(&r->error,
				    "Invalid answer from %s to '%s' (more than 64 MiB of output)",
				    r->host->name, cmd.buf);
		} else {
			fanout_judge(r, type, cmd.buf, run_task_exit_code(t), t->timed_out,
				     o->command_timeout, &t->out, &t->err);
		}
		if (!r->ok)
			(*failed)++;
		run_task_release(t);
	}
	free(tasks);
	strbuf_release(&cmd);
	return results;
}
