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

static const char enforce_help[] =
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
	"treated as outside any environment (genv 1.4.3 let those escape).\n"
	"\n"
	"options:\n"
	"  -h, --help            show this help message and exit\n"
	"  --interval SECONDS    Seconds between cycles (default: 10); 0 runs one\n"
	"                        cycle and exits\n"
	"  --non-env-processes, --no-non-env-processes\n"
	"                        Terminate GPU processes that run outside any\n"
	"                        environment (default: off)\n"
	"  --env-devices, --no-env-devices\n"
	"                        Terminate processes using devices their\n"
	"                        environment is not attached to (default: on)\n"
	"  --env-memory, --no-env-memory\n"
	"                        Terminate processes of environments using more\n"
	"                        GPU memory than configured, until back under it\n"
	"                        (default: on)\n"
	"  --max-devices-per-user MAXIMUM\n"
	"                        Detach environments of users attached to more\n"
	"                        than MAXIMUM devices (lowest indices first), and\n"
	"                        terminate their processes there\n"
	"  --max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]\n"
	"                        Per-user exceptions to --max-devices-per-user\n"
	"                        (used only together with it)\n"
	"  --dry-run             Print findings and what would be done\n"
	"                        (\"[dry-run] ...\"); signal nothing, detach nothing\n"
	"  --grace SECONDS       Seconds to wait after SIGTERM before sending\n"
	"                        SIGKILL to processes still running (default: 10)\n"
	"  --audit-log PATH      Append one JSON line per action (time, host, rule,\n"
	"                        pid, uid, eid, action, result) to PATH (default:\n"
	"                        enforce.log in the state directory, $GENV_TMPDIR or\n"
	"                        /var/tmp/genv; use e.g. /var/log/genv/enforce.log\n"
	"                        for a log other users cannot touch)\n"
	"  --no-audit-log        Do not write the audit log\n"
	"\n"
	"GENV_TERMINATE_PROCESSES=0 prints the same lines but sends no signal.\n"
	"SIGINT or SIGTERM stops the daemon after the current cycle (exit 0).\n";

static int enforce_run(int argc, char **argv);

const struct cli_cmd cli_cmd_enforce = {
	.name = "enforce",
	.summary = "Enforce GPU usage",
	.usage = "genv enforce [-h] [--interval SECONDS] [--non-env-processes | --no-non-env-processes]\n"
		 "                    [--env-devices | --no-env-devices] [--env-memory | --no-env-memory]\n"
		 "                    [--max-devices-per-user MAXIMUM]\n"
		 "                    [--max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]]\n"
		 "                    [--dry-run] [--grace SECONDS] [--audit-log PATH | --no-audit-log]",
	.help = enforce_help,
	.run = enforce_run,
};

/* ---- option parsing shared by enforce, usage execute and remote enforce ---- */

/*
 * Returns the value of option name at argv[*i] ("--name VALUE" or
 * "--name=VALUE"), advancing *i; NULL when argv[*i] is not that option.
 * *missing is set when the option is there without a value.
 */
static const char *
option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	const char *arg = argv[*i], *rest;

	if (!skip_prefix(arg, name, &rest))
		return NULL;
	if (*rest == '=')
		return rest + 1;
	if (*rest)
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

static int
parse_nonneg(const struct cli_cmd *cmd, const char *opt, const char *value, long *out)
{
	if (cli_parse_long(cmd, opt, value, out) < 0)
		return -1;
	if (*out < 0) {
		cli_usage_error(cmd, "argument %s: must not be negative: '%s'", opt, value);
		return -1;
	}
	return 0;
}

int
enforce_parse_args(const struct cli_cmd *cmd, int argc, char **argv,
		   struct enforce_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		int missing = 0;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			cli_help(cmd);
			return CLI_ENFORCE_HELP;
		}
#define FLAG(name, field, val) \
		if (!strcmp(arg, name)) { a->field = val; continue; }
		FLAG("--non-env-processes", rules.non_env_processes, 1)
		FLAG("--no-non-env-processes", rules.non_env_processes, 0)
		FLAG("--env-devices", rules.env_devices, 1)
		FLAG("--no-env-devices", rules.env_devices, 0)
		FLAG("--env-memory", rules.env_memory, 1)
		FLAG("--no-env-memory", rules.env_memory, 0)
		FLAG("--dry-run", dry_run, 1)
		FLAG("--no-audit-log", no_audit_log, 1)
#undef FLAG
		if ((v = option_value(argc, argv, &i, "--interval", &missing))) {
			if (parse_nonneg(cmd, "--interval", v, &a->interval) < 0)
				return -1;
			continue;
		}
		if ((v = option_value(argc, argv, &i, "--grace", &missing))) {
			if (parse_nonneg(cmd, "--grace", v, &a->grace) < 0)
				return -1;
			a->grace_given = 1;
			continue;
		}
		if ((v = option_value(argc, argv, &i, "--max-devices-per-user", &missing))) {
			if (cli_parse_long(cmd, "--max-devices-per-user", v,
					   &a->rules.max_devices_per_user) < 0)
				return -1;
			a->rules.max_devices = 1;
			continue;
		}
		if ((v = option_value(argc, argv, &i, "--audit-log", &missing))) {
			a->audit_log = v;
			continue;
		}
		if (!strcmp(arg, "--max-devices-for-user")) {
			int n = 0;

			/* nargs='+': every following word that is not an option */
			while (i + 1 < argc && argv[i + 1][0] != '-') {
				struct strbuf err = STRBUF_INIT;

				if (enforce_options_add_limit(&a->rules, argv[++i], &err) < 0) {
					cli_usage_error(cmd, "argument --max-devices-for-user: %s", err.buf);
					strbuf_release(&err);
					return -1;
				}
				strbuf_release(&err);
				n++;
			}
			if (!n) {
				cli_usage_error(cmd, "argument --max-devices-for-user: expected at least one argument");
				return -1;
			}
			continue;
		}
		if (missing) {
			cli_usage_error(cmd, "argument %s: expected one argument", arg);
			return -1;
		}
		cli_usage_error(cmd, "unrecognized arguments: %s", arg);
		return -1;
	}
	return 0;
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

/* Findings and actions on stdout, the rest on stderr, in the order said. */
static void
print_line(void *data, enum enforce_stream stream, const char *line)
{
	(void)data;
	if (stream == ENFORCE_OUT) {
		fputs(line, stdout);
		putchar('\n');
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
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

static int
enforce_run(int argc, char **argv)
{
	struct enforce_args a;
	struct enforce_cycle_options o;
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT;
	int rc;

	enforce_args_init(&a);
	rc = enforce_parse_args(&cli_cmd_enforce, argc, argv, &a);
	if (rc < 0) {
		enforce_args_release(&a);
		return rc == CLI_ENFORCE_HELP ? 0 : 2;
	}
	enforce_cycle_options_init(&o, &a);
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

static const struct cli_cmd usage_execute_cmd = {
	.name = "usage execute",
	.summary = "Execute an enforcement report read from standard input",
	.usage = "genv usage execute [-h] [--grace SECONDS] [--audit-log PATH | --no-audit-log]",
	.help = "Reads a report (the JSON `genv remote enforce` sends: processes to\n"
		"terminate, environments to detach per device) from standard input,\n"
		"sends SIGTERM to the processes (unless GENV_TERMINATE_PROCESSES=0) and\n"
		"detaches the environments, printing one line per action.\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --grace SECONDS       Also SIGKILL processes still running SECONDS after\n"
		"                        SIGTERM (default: SIGTERM only, as genv 1.4.3)\n"
		"  --audit-log PATH      Append one JSON line per action to PATH (default:\n"
		"                        enforce.log in the state directory)\n"
		"  --no-audit-log        Do not write the audit log\n",
};

int
usage_execute_run(int argc, char **argv)
{
	struct enforce_args a;
	struct enforce_cycle_options o;
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	int rc = 1, grace_given = 0;

	enforce_args_init(&a);
	a.grace = -1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		int missing = 0;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			cli_help(&usage_execute_cmd);
			rc = 0;
			goto out;
		}
		if (!strcmp(arg, "--no-audit-log")) {
			a.no_audit_log = 1;
			continue;
		}
		if ((v = option_value(argc, argv, &i, "--grace", &missing))) {
			if (parse_nonneg(&usage_execute_cmd, "--grace", v, &a.grace) < 0) {
				rc = 2;
				goto out;
			}
			grace_given = 1;
			continue;
		}
		if ((v = option_value(argc, argv, &i, "--audit-log", &missing))) {
			a.audit_log = v;
			continue;
		}
		if (missing)
			rc = cli_usage_error(&usage_execute_cmd, "argument %s: expected one argument", arg);
		else
			rc = cli_usage_error(&usage_execute_cmd, "unrecognized arguments: %s", arg);
		goto out;
	}

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
