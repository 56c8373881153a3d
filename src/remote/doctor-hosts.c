/* SPDX-License-Identifier: MIT */
/* doctor-hosts.c: `genv doctor` on many hosts (doctor-hosts.h). */
#include "compat.h"
#include "remote/doctor-hosts.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* `genv version -v` (1.4.3: `genv version`), then `genv doctor`. */
static void
remote_command(struct strbuf *cmd, const char *genv)
{
	static const char *const version_v[] = { "version", "-v", NULL };
	static const char *const version[] = { "version", NULL };
	static const char *const doctor[] = { "doctor", NULL };

	ssh_genv_command(cmd, genv, version_v, 0);
	strbuf_addstr(cmd, " 2>/dev/null || ");
	ssh_genv_command(cmd, genv, version, 0);
	strbuf_addstr(cmd, "; ");
	ssh_genv_command(cmd, genv, doctor, 0);
}

/* The host's lines; returns 1 when it failed or its doctor found a FAIL. */
static int
judge_host(const struct host *h, const struct run_task *t, struct strvec *lines)
{
	struct strbuf version = STRBUF_INIT;
	struct strvec found = STRVEC_INIT;
	const char *p = t->out.buf;
	int code = run_task_exit_code(t);

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, "ok ", 3) || !strncmp(p, "warn", 4) || !strncmp(p, "FAIL", 4))
			strvec_pushf(&found, "[%s] %.*s", h->name, (int)n, p);
		else if (n)
			strbuf_addf(&version, "%s%.*s", version.len ? " / " : "", (int)n, p);
		p += n + (p[n] == '\n');
	}
	if (version.len)
		strvec_pushf(lines, "[%s] version  %s", h->name, version.buf);
	for (size_t i = 0; i < found.nr; i++)
		strvec_push(lines, found.v[i]);
	if (!found.nr && !version.len) {
		const char *why = t->error.len ? t->error.buf : t->err.len ? t->err.buf : "ssh failed";

		strvec_pushf(lines, "[%s] FAIL  ssh      no answer (%.*s); fix: check that "
			     "'ssh %s genv version' works", h->name, (int)strcspn(why, "\r\n"),
			     why, host_entry(h));
	}
	else if (!found.nr)
		strvec_pushf(lines, "[%s] FAIL  doctor   its genv has no doctor; fix: install "
			     "genv in C there (the package)", h->name);
	code = code != 0 || !found.nr;
	strbuf_release(&version);
	strvec_clear(&found);
	return code;
}

int
doctor_hosts(const struct hostlist *hl, const struct fanout_opts *o, struct strvec *lines)
{
	struct run_task *tasks = xcalloc(hl->nr + 1, sizeof(*tasks));
	struct run_opts ro = RUN_OPTS_INIT;
	struct strbuf cmd = STRBUF_INIT, tied = STRBUF_INIT;
	int failed = 0;

	remote_command(&cmd, o->remote_genv ? o->remote_genv : "genv");
	/* given up on at the command timeout, it ends on the host too */
	ssh_tied_command(&tied, cmd.buf, -1);
	for (size_t i = 0; i < hl->nr; i++) {
		run_task_init(&tasks[i]);
		ssh_build_argv(&tasks[i].argv, &o->ssh, &hl->v[i], tied.buf);
		tasks[i].hold_stdin = 1;
	}
	ro.max_parallel = o->parallel;
	ro.timeout_ms = o->command_timeout > 0 ? o->command_timeout * 1000 : 0;
	run_parallel(tasks, hl->nr, &ro);
	for (size_t i = 0; i < hl->nr; i++) {
		failed += judge_host(&hl->v[i], &tasks[i], lines);
		run_task_release(&tasks[i]);
	}
	free(tasks);
	strbuf_release(&cmd);
	strbuf_release(&tied);
	return failed;
}
