/* SPDX-License-Identifier: MIT */
/*
 * cmd-enforce.c: the command lines of `genv enforce` (enforce_cycle()
 * every --interval seconds until SIGINT/SIGTERM) and `genv usage execute`
 * (enforce_report_execute() on the Report read from standard input, what
 * `genv remote enforce` sends over SSH), and what they share with `genv
 * remote enforce`: the options, the sink that prints, the daemon's wait.
 * The work is in core/enforce-*.c.
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "core/enforce.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#define DEFAULT_INTERVAL 10
#define DEFAULT_GRACE 10

static int enforce_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_enforce = {
	.name = "enforce",
	.summary = "Enforce GPU usage",
	.description =
	"Every --interval seconds, look at the processes NVML reports on the GPUs,\n"
	"judge them against the rules below (in this order), print what breaks a\n"
	"rule, then terminate the offending processes (SIGTERM, then SIGKILL when\n"
	"they are still running after --grace seconds) and detach environments\n"
	"from devices. Run it as root: other users' processes can neither be\n"
	"identified nor signalled otherwise.\n"
	"\n"
	"A process belongs to an environment when GENV_ENVIRONMENT_ID in its\n"
	"environment names an existing environment AND the process runs as that\n"
	"environment's owner (real uid). A process claiming another user's\n"
	"environment, or an environment that no longer exists (orphaned), is\n"
	"treated as outside any environment (genv 1.4.3 let those escape).\n",
	.epilog =
	"GENV_TERMINATE_PROCESSES=0 prints the same lines but sends no signal.\n"
	"SIGINT or SIGTERM stops the daemon after the current cycle (exit 0).\n"
	"Run by another user than root, it says so first, judges only the processes\n"
	"it can identify (not other users'), and a dry run writes no audit log\n"
	"unless --audit-log is given.\n",
	.run = enforce_run,
};

int
enforce_limit_option(const struct option *opt, const char *arg, struct strbuf *err)
{
	return enforce_options_add_limit(opt->value, arg, err);
}

void
enforce_args_init(struct enforce_args *a)
{
	memset(a, 0, sizeof(*a));
	a->rules = (struct enforce_options)ENFORCE_OPTIONS_INIT;
	a->interval = DEFAULT_INTERVAL;
	a->grace = DEFAULT_GRACE;
}

void
enforce_args_release(struct enforce_args *a)
{
	enforce_options_release(&a->rules);
}

/*
 * Findings and actions on stdout, the rest on stderr, in the order said;
 * escaped: they hold environment ids, user names and hosts' output.
 */
static void
print_line(void *data, enum enforce_stream stream, const char *line)
{
	(void)data;
	if (stream == ENFORCE_OUT) {
		cli_print_line(stdout, NULL, line);
		return;
	}
	fflush(stdout);
	cli_print_line(stderr, NULL, line);
}

static void
flush_stdout(void *data)
{
	(void)data;
	fflush(stdout);
}

const struct enforce_sink enforce_cli_sink = { print_line, flush_stdout, NULL };

void
enforce_cycle_options_init(struct enforce_cycle_options *o, const struct enforce_args *a)
{
	memset(o, 0, sizeof(*o));
	o->rules = &a->rules;
	o->dry_run = a->dry_run;
	o->grace_ms = a->grace < 0 ? -1 : a->grace * 1000;
	o->audit_log = a->audit_log;
	o->no_audit_log = a->no_audit_log;
}

/* ---- genv enforce ---- */

static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stop_requested = 1;
	if (stop_pipe[1] >= 0 && write(stop_pipe[1], "x", 1) < 0) {
		/* pipe full: the flag is enough */
	}
	errno = saved;
}

void
enforce_install_stop_handlers(void)
{
	struct sigaction sa;

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		stop_pipe[0] = stop_pipe[1] = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;  /* a cycle in progress runs to its end */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
enforce_stop_requested(void)
{
	return stop_requested;
}

int
enforce_wait_between_cycles(long seconds)
{
	int64_t deadline = clock_monotonic_ms() + (int64_t)seconds * 1000;
	int64_t left_ms = (int64_t)seconds * 1000;

	while (!stop_requested && left_ms > 0) {
		struct pollfd pfd = { stop_pipe[0], POLLIN, 0 };
		int timeout = left_ms > 60000 ? 60000 : (int)left_ms;

		if (stop_pipe[0] >= 0)
			poll(&pfd, 1, timeout);
		else
			poll(NULL, 0, timeout);
		left_ms = deadline - clock_monotonic_ms();
	}
	return stop_requested;
}

/* The options of `genv enforce`, into a (initialised). */
static void
enforce_parse(int argc, char **argv, struct enforce_args *a)
{
	const struct option opts[] = {
		OPT_INTEGER("--interval", &a->interval, "SECONDS",
			    "Seconds between cycles (default: 10); 0 runs one\n"
			    "cycle and exits", .flags = PARSE_OPT_MIN),
		OPT_BOOL("--non-env-processes", &a->rules.non_env_processes,
			 "Terminate GPU processes that run outside any\n"
			 "environment (default: off)", .flags = PARSE_OPT_NEGATABLE),
		OPT_BOOL("--env-devices", &a->rules.env_devices,
			 "Terminate processes using devices their\n"
			 "environment is not attached to (default: on)",
			 .flags = PARSE_OPT_NEGATABLE | PARSE_OPT_USAGE_BREAK),
		OPT_BOOL("--env-memory", &a->rules.env_memory,
			 "Terminate processes of environments using more\n"
			 "GPU memory than configured, until back under it\n"
			 "(default: on)", .flags = PARSE_OPT_NEGATABLE),
		OPT_INTEGER("--max-devices-per-user", &a->rules.max_devices_per_user, "MAXIMUM",
			    "Detach environments of users attached to more\n"
			    "than MAXIMUM devices (lowest indices first), and\n"
			    "terminate their processes there",
			    .seen = &a->rules.max_devices, .flags = PARSE_OPT_USAGE_BREAK),
		OPT_CALLBACK("--max-devices-for-user", &a->rules, "USERNAME=MAXIMUM",
			     enforce_limit_option,
			     "Per-user exceptions to --max-devices-per-user\n"
			     "(used only together with it)",
			     .flags = PARSE_OPT_MULTI | PARSE_OPT_USAGE_BREAK),
		OPT_BOOL("--dry-run", &a->dry_run,
			 "Print findings and what would be done\n"
			 "(\"[dry-run] ...\"); signal nothing, detach nothing",
			 .flags = PARSE_OPT_USAGE_BREAK),
		OPT_INTEGER("--grace", &a->grace, "SECONDS",
			    "Seconds to wait after SIGTERM before sending\n"
			    "SIGKILL to processes still running (default: 10)",
			    .flags = PARSE_OPT_MIN, .seen = &a->grace_given),
		OPT_STRING("--audit-log", &a->audit_log, "PATH",
			   "Append one JSON line per action (time, host, rule,\n"
			   "pid, uid, eid, action, result) to PATH (default:\n"
			   "enforce.log in the state directory, $GENV_TMPDIR or\n"
			   "/var/tmp/genv; use e.g. /var/log/genv/enforce.log\n"
			   "for a log other users cannot touch)", .xgroup = 1),
		OPT_BOOL("--no-audit-log", &a->no_audit_log, "Do not write the audit log",
			 .xgroup = 1),
		OPT_END(),
	};

	cli_parse_options(&cli_cmd_enforce, argc, argv, opts);
}

/*
 * Said once, up front: without root, other users' processes are unknown
 * (their environ is unreadable), so they are not judged; a dry run then
 * writes no audit log (a root-owned one would refuse us anyway).
 */
static void
warn_not_root(const struct enforce_args *a, struct enforce_cycle_options *o)
{
	cli_error("genv enforce: not running as root: other users' processes cannot be "
		  "identified or signalled and are not judged (run it as root to enforce "
		  "for every user)");
	if (a->dry_run && !a->audit_log && !a->no_audit_log) {
		o->no_audit_log = 1;
		cli_error("genv enforce: dry run as a user: no audit log is written "
			  "(--audit-log PATH writes one)");
	}
}

static int
enforce_run(int argc, char **argv, void *ctx UNUSED)
{
	struct enforce_args a;
	struct enforce_cycle_options o;
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT;
	int rc;

	enforce_args_init(&a);
	enforce_parse(argc, argv, &a);
	enforce_cycle_options_init(&o, &a);
	if (geteuid() != 0)
		warn_not_root(&a, &o);
	if (store_init(&st, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
		goto out;
	}
	if (a.interval)
		enforce_install_stop_handlers();
	do {
		/* a daemon keeps going after a failed cycle (state or NVML trouble) */
		strbuf_reset(&err);
		rc = enforce_cycle(&st, &o, &enforce_cli_sink, &err);
		if (rc < 0)
			cli_error("%s", err.buf);
	} while (a.interval && !enforce_wait_between_cycles(a.interval));
	rc = a.interval ? 0 : rc != 0;
out:
	store_release(&st);
	strbuf_release(&err);
	enforce_args_release(&a);
	return rc;
}

/* ---- genv usage execute ---- */

static int usage_execute_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_usage_execute = {
	.name = "execute",
	.summary = "Execute an enforcement report read from standard input",
	.brief = "Terminate processes and detach environments as the\n"
		 "report on standard input says (`genv remote enforce`)",
	.description =
	"Reads a report (the JSON `genv remote enforce` sends: processes to\n"
	"terminate, environments to detach per device) from standard input,\n"
	"sends SIGTERM to the processes (unless GENV_TERMINATE_PROCESSES=0) and\n"
	"detaches the environments, printing one line per action.\n",
	.help_column = 24,
	.run = usage_execute_run,
};

static int
usage_execute_run(int argc, char **argv, void *ctx UNUSED)
{
	struct enforce_args a;
	int grace_given = 0;
	const struct option opts[] = {
		OPT_INTEGER("--grace", &a.grace, "SECONDS",
			    "Also SIGKILL processes still running SECONDS after\n"
			    "SIGTERM (default: SIGTERM only, as genv 1.4.3)",
			    .flags = PARSE_OPT_MIN, .seen = &grace_given),
		OPT_STRING("--audit-log", &a.audit_log, "PATH",
			   "Append one JSON line per action to PATH (default:\n"
			   "enforce.log in the state directory)", .xgroup = 1),
		OPT_BOOL("--no-audit-log", &a.no_audit_log, "Do not write the audit log",
			 .xgroup = 1),
		OPT_END(),
	};
	struct enforce_cycle_options o;
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	int rc = 1;

	enforce_args_init(&a);
	a.grace = -1;
	cli_parse_options(&cli_cmd_usage_execute, argc, argv, opts);
	if (read_fd_sb(&in, 0) < 0) {
		cli_error("cannot read standard input: %s", strerror(errno));
		goto out;
	}
	/* without --grace, SIGTERM only, as 1.4.3 */
	if (!grace_given)
		a.grace = -1;
	enforce_cycle_options_init(&o, &a);
	rc = enforce_report_execute(in.buf, in.len, "standard input", &o,
				    &enforce_cli_sink, &err);
	if (rc < 0)
		cli_error("%s", err.buf);
	rc = rc != 0;
out:
	enforce_args_release(&a);
	strbuf_release(&in);
	strbuf_release(&err);
	return rc;
}
