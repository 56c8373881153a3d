/* SPDX-License-Identifier: MIT */
/*
 * remote-enforce.c: `genv remote enforce`, enforcement over many hosts in
 * the 1.4.3 protocol: every cycle takes `sudo genv usage snapshot` from
 * each host (in parallel), runs the rules over all of them at once (the
 * per-user device limit counts devices across hosts), and sends each host
 * with something to do its report through `sudo genv usage execute`.
 * A host that is down or answers nonsense is reported and skipped.
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "core/enforce.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/quote.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static const struct cli_cmd remote_enforce_cmd = {
	.name = "remote enforce",
	.summary = "Enforce GPU usage on the hosts",
	.usage = "genv remote enforce [-h] [--interval SECONDS] [--non-env-processes | --no-non-env-processes]\n"
		 "                           [--env-devices | --no-env-devices] [--env-memory | --no-env-memory]\n"
		 "                           [--max-devices-per-user MAXIMUM]\n"
		 "                           [--max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]]\n"
		 "                           [--dry-run]",
	.help = "The rules of `genv enforce` (see its --help) over all hosts at once: each\n"
		"cycle runs `sudo genv usage snapshot` on every host, prints the findings\n"
		"(\"[host] ...\"; a user over --max-devices-per-user is counted over all\n"
		"hosts), then runs `sudo genv usage execute` with the report on every host\n"
		"that has something to do and prints its output as \"[host] line\". A host\n"
		"that fails is reported and skipped. Needs passwordless sudo for genv on\n"
		"the hosts. Each host's genv writes its own audit log.\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --interval SECONDS    Seconds between cycles (default: 10); 0 = once\n"
		"  --non-env-processes, --no-non-env-processes (default: off)\n"
		"  --env-devices, --no-env-devices (default: on)\n"
		"  --env-memory, --no-env-memory (default: on)\n"
		"  --max-devices-per-user MAXIMUM\n"
		"  --max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]\n"
		"  --dry-run             Print findings and \"[host] [dry-run] ...\" actions;\n"
		"                        contact no host for execution\n"
		"\nGENV_TERMINATE_PROCESSES=0 is passed on to the hosts (1.4.3 did not).\n",
};

struct remote_enforce {
	const struct hostlist *hosts;
	const struct fanout_opts *fan;
	int exit_on_error, quiet;
	struct enforce_args args;
};

/* Appends text's lines (trimmed as a whole, like 1.4.3's .strip()). */
static void
split_lines(struct strvec *lines, const struct strbuf *text)
{
	struct strbuf t = STRBUF_INIT;

	strbuf_addbuf(&t, text);
	strbuf_trim(&t);
	for (const char *p = t.buf; t.len && *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		size_t len = strlen(line);

		while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		strvec_push_nodup(lines, line);
		p += n + (p[n] == '\n');
	}
	strbuf_release(&t);
}

/* The first line of a host's stderr, for a failure message. */
static void
add_first_line(struct strbuf *out, const struct strbuf *err)
{
	struct strvec lines = STRVEC_INIT;

	split_lines(&lines, err);
	for (size_t i = 0; i < lines.nr; i++)
		strbuf_addf(out, "%s%s", i ? "; " : "", lines.v[i]);
	strvec_clear(&lines);
}

/* A failure message for task t on h, or 0 when it exited with status 0. */
static int
task_failure(const struct run_task *t, const struct host *h, long timeout,
	     struct strbuf *msg)
{
	int code;

	if (t->state == RUN_FAILED) {
		strbuf_addf(msg, "Failed running SSH command on %s (%s)", h->name, t->error.buf);
		return 1;
	}
	if (t->timed_out) {
		strbuf_addf(msg, "Failed running SSH command on %s (no answer within %ld seconds)",
			    h->name, timeout);
		return 1;
	}
	code = run_task_exit_code(t);
	if (!code)
		return 0;
	strbuf_addf(msg, "Failed running SSH command on %s (", h->name);
	if (t->err.len)
		add_first_line(msg, &t->err);
	else if (code < 0)
		strbuf_addstr(msg, "ssh was killed by a signal");
	else
		strbuf_addf(msg, "exit status %d", code);
	strbuf_addch(msg, ')');
	return 1;
}

static void
run_on_hosts(struct run_task *tasks, size_t n, const struct fanout_opts *fan)
{
	struct run_opts ropts = RUN_OPTS_INIT;

	ropts.max_parallel = fan->parallel ? fan->parallel : 1;
	ropts.timeout_ms = fan->command_timeout > 0 ? fan->command_timeout * 1000 : 0;
	ropts.kill_grace_ms = 1000;
	run_parallel(tasks, n, &ropts);
}

static void
print_host_lines(const char *host, const struct strbuf *text, FILE *out)
{
	struct strvec lines = STRVEC_INIT;
	struct strbuf prefix = STRBUF_INIT;

	split_lines(&lines, text);
	strbuf_addf(&prefix, "[%s] ", host);
	enforce_print_lines(&lines, out, prefix.buf);
	strvec_clear(&lines);
	strbuf_release(&prefix);
}

/* Reports a failed host; returns -1 when -e says to stop. */
static int
host_failed(const struct remote_enforce *re, const struct strbuf *msg)
{
	fflush(stdout);
	if (!re->quiet || re->exit_on_error)
		fprintf(stderr, "%s\n", msg->buf);
	return re->exit_on_error ? -1 : 0;
}

/*
 * Takes the snapshots; fills surveys (one per answering host, hostname set)
 * and host_of (index into hosts). Returns the number of failed hosts, or
 * -1 when -e stopped at one.
 */
static int
take_snapshots(const struct remote_enforce *re, struct survey *surveys, size_t *nr,
	       size_t *host_of)
{
	const struct hostlist *hl = re->hosts;
	struct run_task *tasks = xcalloc(hl->nr + 1, sizeof(*tasks));
	struct strbuf cmd = STRBUF_INIT, msg = STRBUF_INIT;
	int failed = 0;

	strbuf_addstr(&cmd, "sudo ");
	sq_quote_if_needed(&cmd, re->fan->remote_genv ? re->fan->remote_genv : "genv");
	strbuf_addstr(&cmd, " usage snapshot");
	for (size_t i = 0; i < hl->nr; i++) {
		run_task_init(&tasks[i]);
		ssh_build_argv(&tasks[i].argv, &re->fan->ssh, &hl->v[i], cmd.buf);
	}
	run_on_hosts(tasks, hl->nr, re->fan);

	*nr = 0;
	for (size_t i = 0; i < hl->nr; i++) {
		struct run_task *t = &tasks[i];
		struct snapshot snap = SNAPSHOT_INIT;
		struct strbuf why = STRBUF_INIT;

		strbuf_reset(&msg);
		if (!task_failure(t, &hl->v[i], re->fan->command_timeout, &msg) &&
		    snapshot_parse(&snap, t->out.buf, t->out.len, "snapshot", &why) < 0) {
			strbuf_addf(&msg, "Invalid answer from %s to '%s' (", hl->v[i].name, cmd.buf);
			add_first_line(&msg, &why);
			strbuf_addstr(&msg, ")");
		}
		strbuf_release(&why);
		if (msg.len) {
			failed++;
			snapshot_release(&snap);
			if (host_failed(re, &msg) < 0) {
				failed = -1;
				break;
			}
			continue;
		}
		fflush(stdout);
		print_host_lines(hl->v[i].name, &t->err, stderr);
		host_of[*nr] = i;
		survey_init(&surveys[(*nr)++], hl->v[i].name, &snap);
	}
	for (size_t i = 0; i < hl->nr; i++)
		run_task_release(&tasks[i]);
	free(tasks);
	strbuf_release(&cmd);
	strbuf_release(&msg);
	return failed;
}

/* Runs the reports on their hosts; returns the number of failed hosts or -1. */
static int
execute_reports(const struct remote_enforce *re, const struct report *reports,
		const size_t *host_of, size_t nr)
{
	const struct hostlist *hl = re->hosts;
	struct run_task *tasks = xcalloc(nr + 1, sizeof(*tasks));
	size_t *which = xcalloc(nr + 1, sizeof(*which)), n = 0;
	struct strbuf cmd = STRBUF_INIT, json = STRBUF_INIT, msg = STRBUF_INIT;
	int failed = 0;

	for (size_t s = 0; s < nr; s++) {
		if (report_is_empty(&reports[s]))
			continue;
		/*
		 * The report goes to genv's stdin through the remote shell (our
		 * runner gives ssh /dev/null); genv, 1.4.3's too, reads stdin.
		 */
		strbuf_reset(&json);
		report_serialize(&reports[s], &json);
		strbuf_reset(&cmd);
		strbuf_addstr(&cmd, "printf '%s' ");
		sq_quote(&cmd, json.buf);
		strbuf_addstr(&cmd, " | sudo ");
		if (!enforce_send_signals())
			strbuf_addstr(&cmd, "GENV_TERMINATE_PROCESSES=0 ");
		sq_quote_if_needed(&cmd, re->fan->remote_genv ? re->fan->remote_genv : "genv");
		strbuf_addstr(&cmd, " usage execute");
		run_task_init(&tasks[n]);
		ssh_build_argv(&tasks[n].argv, &re->fan->ssh, &hl->v[host_of[s]], cmd.buf);
		which[n++] = host_of[s];
	}
	run_on_hosts(tasks, n, re->fan);

	for (size_t k = 0; k < n; k++) {
		const struct host *h = &hl->v[which[k]];

		fflush(stdout);
		print_host_lines(h->name, &tasks[k].out, stdout);
		fflush(stdout);
		strbuf_reset(&msg);
		if (task_failure(&tasks[k], h, re->fan->command_timeout, &msg)) {
			failed++;
			if (host_failed(re, &msg) < 0) {
				failed = -1;
				break;
			}
			continue;
		}
		print_host_lines(h->name, &tasks[k].err, stderr);
	}
	for (size_t k = 0; k < n; k++)
		run_task_release(&tasks[k]);
	free(tasks);
	free(which);
	strbuf_release(&cmd);
	strbuf_release(&json);
	strbuf_release(&msg);
	return failed;
}

/* One cycle; returns the number of failed hosts, or -1 to stop (-e). */
static int
remote_cycle(const struct remote_enforce *re)
{
	size_t n = re->hosts->nr, nr = 0;
	struct survey *surveys = xcalloc(n + 1, sizeof(*surveys));
	struct report *reports = xcalloc(n + 1, sizeof(*reports));
	size_t *host_of = xcalloc(n + 1, sizeof(*host_of));
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	int failed, more;

	failed = take_snapshots(re, surveys, &nr, host_of);
	if (failed < 0)
		goto out;
	enforce_run_rules(surveys, nr, &re->args.rules, &out, &warnings);
	enforce_print_lines(&out, stdout, NULL);
	fflush(stdout);
	enforce_print_lines(&warnings, stderr, NULL);
	for (size_t s = 0; s < nr; s++)
		survey_report(&surveys[s], &reports[s]);

	if (re->args.dry_run) {
		struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
		struct strbuf err = STRBUF_INIT, prefix = STRBUF_INIT;

		xo.dry_run = 1;
		for (size_t s = 0; s < nr; s++) {
			strvec_clear(&out);
			strvec_clear(&warnings);
			enforce_execute(NULL, &reports[s], &xo, &out, &warnings, NULL, &err);
			strbuf_reset(&prefix);
			strbuf_addf(&prefix, "[%s] ", surveys[s].hostname);
			enforce_print_lines(&out, stdout, prefix.buf);
		}
		strbuf_release(&err);
		strbuf_release(&prefix);
		goto out;
	}
	more = execute_reports(re, reports, host_of, nr);
	failed = more < 0 ? -1 : failed + more;
out:
	fflush(stdout);
	for (size_t s = 0; s < nr; s++) {
		survey_release(&surveys[s]);
		report_release(&reports[s]);
	}
	free(surveys);
	free(reports);
	free(host_of);
	strvec_clear(&out);
	strvec_clear(&warnings);
	return failed;
}

int
remote_enforce_run(const struct hostlist *hosts, const struct fanout_opts *fan,
		   int exit_on_error, int quiet, int argc, char **argv)
{
	struct remote_enforce re;
	int rc;

	re.hosts = hosts;
	re.fan = fan;
	re.exit_on_error = exit_on_error;
	re.quiet = quiet;
	enforce_args_init(&re.args);
	rc = enforce_parse_args(&remote_enforce_cmd, argc, argv, &re.args);
	if (rc < 0) {
		enforce_args_release(&re.args);
		return rc == CLI_ENFORCE_HELP ? 0 : 2;
	}
	if (re.args.interval == 0) {
		rc = remote_cycle(&re) ? 1 : 0;
	} else {
		enforce_install_stop_handlers();
		do {
			if (remote_cycle(&re) < 0)
				break;
		} while (!enforce_wait_between_cycles(re.args.interval));
		rc = enforce_stop_requested() ? 0 : 1;
	}
	enforce_args_release(&re.args);
	return rc;
}
