/* SPDX-License-Identifier: MIT */
/*
 * remote-enforce.c: the command line of `genv remote enforce`: its
 * options, and the daemon loop around remote_enforce_cycle()
 * (src/remote/remote-enforce.c does the work).
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "cli/remote.h"
#include "remote/remote-enforce.h"
#include "remote/hosts.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The longest wait between cycles while no host answers. */
#define MAX_BACKOFF 300

static int remote_enforce_run(int argc, char **argv, void *ctx);

const struct cli_cmd cli_cmd_remote_enforce = {
	.name = "enforce",
	.summary = "Enforce GPU usage on the hosts",
	.brief = "Enforce GPU usage on the hosts (sudo genv on each)",
	.usage_prog = "genv remote enforce",
	.description =
	"The rules of `genv enforce` (see its --help) over all hosts at once: each\n"
	"cycle runs `sudo genv usage snapshot` on every host, prints the findings\n"
	"(\"[host] ...\"; a user over --max-devices-per-user is counted over all\n"
	"hosts), then runs `sudo genv usage execute` with the report on every host\n"
	"that has something to do and prints its output as \"[host] line\". A host\n"
	"that fails is reported and skipped. Logins other than root need\n"
	"passwordless sudo for genv on the hosts (a host where sudo is missing or\n"
	"wants a password is reported as such). Each host's genv writes its own\n"
	"audit log. While no host answers, the wait between cycles doubles (up\n"
	"to 300 seconds). The daemon stops when its parent process ends.\n",
	.epilog = "As in 1.4.3, GENV_TERMINATE_PROCESSES is not passed on to the hosts.\n",
	.run = remote_enforce_run,
};

/*
 * A daemon started from a terminal stops with it: SIGTERM (a clean stop,
 * see enforce_install_stop_handlers) when the parent goes away.
 */
static void
exit_with_parent(void)
{
	pid_t parent = getppid();

	if (parent == 1)
		return;  /* started by init (a service): it stays */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		raise(SIGTERM);  /* it went away before prctl */
}

/*
 * The wait before the next cycle: interval, doubled after each cycle in
 * which no host answered (up to MAX_BACKOFF), so a host without sudo or a
 * network outage is not retried every few seconds for ever.
 */
static long
next_wait(long interval, long wait, int failed, size_t hosts)
{
	long max = interval > MAX_BACKOFF ? interval : MAX_BACKOFF;

	if (failed <= 0 || (size_t)failed < hosts)
		return interval;
	wait = wait > max / 2 ? max : wait * 2;
	cli_error("genv remote enforce: no host answered; next try in %ld seconds", wait);
	return wait;
}

/* The options of `genv remote enforce`, into a (initialised). */
static void
remote_enforce_parse(int argc, char **argv, struct enforce_args *a)
{
	const struct option opts[] = {
		OPT_INTEGER("--interval", &a->interval, "SECONDS",
			    "Seconds between cycles (default: 10); 0 = once", .flags = PARSE_OPT_MIN),
		OPT_BOOL("--non-env-processes", &a->rules.non_env_processes,
			 "Processes outside environments (default: off)",
			 .flags = PARSE_OPT_NEGATABLE),
		OPT_BOOL("--env-devices", &a->rules.env_devices,
			 "Processes on devices their environment is not\n"
			 "attached to (default: on)",
			 .flags = PARSE_OPT_NEGATABLE | PARSE_OPT_USAGE_BREAK),
		OPT_BOOL("--env-memory", &a->rules.env_memory,
			 "Environments over their GPU memory (default: on)",
			 .flags = PARSE_OPT_NEGATABLE),
		OPT_INTEGER("--max-devices-per-user", &a->rules.max_devices_per_user, "MAXIMUM",
			    "Devices a user may hold over all hosts",
			    .seen = &a->rules.max_devices, .flags = PARSE_OPT_USAGE_BREAK),
		OPT_CALLBACK("--max-devices-for-user", &a->rules, "USERNAME=MAXIMUM",
			     enforce_limit_option, "Per-user exceptions to --max-devices-per-user",
			     .flags = PARSE_OPT_MULTI | PARSE_OPT_USAGE_BREAK),
		OPT_BOOL("--dry-run", &a->dry_run,
			 "Print findings and \"[host] [dry-run] ...\" actions;\n"
			 "contact no host for execution", .flags = PARSE_OPT_USAGE_BREAK),
		OPT_INTEGER("--grace", &a->grace, "SECONDS",
			    "Have the hosts SIGKILL processes still running\n"
			    "SECONDS after SIGTERM (`usage execute --grace`;\n"
			    "needs this genv on the hosts: 1.4.3 rejects it).\n"
			    "Without it hosts send SIGTERM only, as in 1.4.3",
			    .flags = PARSE_OPT_MIN, .seen = &a->grace_given),
		OPT_END(),
	};

	cli_parse_options(&cli_cmd_remote_enforce, argc, argv, opts);
}

static int
remote_enforce_run(int argc, char **argv, void *ctx)
{
	const struct remote_ctx *remote = ctx;
	const struct hostlist *hosts = &remote->hosts;
	const struct fanout_opts *fan = &remote->fan;
	struct enforce_args a;
	struct remote_enforce_options o;
	int rc;

	enforce_args_init(&a);
	remote_enforce_parse(argc, argv, &a);
	o.rules = &a.rules;
	o.dry_run = a.dry_run;
	o.grace = a.grace_given ? a.grace : -1;
	o.exit_on_error = remote->exit_on_error;
	o.quiet = remote->quiet;
	if (a.interval == 0) {
		rc = remote_enforce_cycle(hosts, fan, &o, &enforce_cli_sink) ? 1 : 0;
	} else {
		long wait = a.interval;

		enforce_install_stop_handlers();
		exit_with_parent();
		do {
			int failed = remote_enforce_cycle(hosts, fan, &o, &enforce_cli_sink);

			if (failed < 0)
				break;
			wait = next_wait(a.interval, wait, failed, hosts->nr);
		} while (!enforce_wait_between_cycles(wait));
		rc = enforce_stop_requested() ? 0 : 1;
	}
	enforce_args_release(&a);
	return rc;
}
