/* SPDX-License-Identifier: MIT */
/*
 * remote-enforce.c: the command line of `genv remote enforce`: its
 * options, and the daemon loop around remote_enforce_cycle()
 * (src/remote/remote-enforce.c does the work).
 */
#include "compat.h"
#include "cli/cli.h"
#include "cli/enforce-cli.h"
#include "remote/remote-enforce.h"

static const struct cli_cmd remote_enforce_cmd = {
	.name = "remote enforce",
	.summary = "Enforce GPU usage on the hosts",
	.usage = "genv remote enforce [-h] [--interval SECONDS] [--non-env-processes | --no-non-env-processes]\n"
		 "                           [--env-devices | --no-env-devices] [--env-memory | --no-env-memory]\n"
		 "                           [--max-devices-per-user MAXIMUM]\n"
		 "                           [--max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]]\n"
		 "                           [--dry-run] [--grace SECONDS]",
	.help = "The rules of `genv enforce` (see its --help) over all hosts at once: each\n"
		"cycle runs `sudo genv usage snapshot` on every host, prints the findings\n"
		"(\"[host] ...\"; a user over --max-devices-per-user is counted over all\n"
		"hosts), then runs `sudo genv usage execute` with the report on every host\n"
		"that has something to do and prints its output as \"[host] line\". A host\n"
		"that fails is reported and skipped. Logins other than root need\n"
		"passwordless sudo for genv on the hosts. Each host's genv writes its own\n"
		"audit log.\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  --interval SECONDS    Seconds between cycles (default: 10); 0 = once\n"
		"  --non-env-processes, --no-non-env-processes\n"
		"                        Processes outside environments (default: off)\n"
		"  --env-devices, --no-env-devices\n"
		"                        Processes on devices their environment is not\n"
		"                        attached to (default: on)\n"
		"  --env-memory, --no-env-memory\n"
		"                        Environments over their GPU memory (default: on)\n"
		"  --max-devices-per-user MAXIMUM\n"
		"                        Devices a user may hold over all hosts\n"
		"  --max-devices-for-user USERNAME=MAXIMUM [USERNAME=MAXIMUM ...]\n"
		"                        Per-user exceptions to --max-devices-per-user\n"
		"  --dry-run             Print findings and \"[host] [dry-run] ...\" actions;\n"
		"                        contact no host for execution\n"
		"  --grace SECONDS       Have the hosts SIGKILL processes still running\n"
		"                        SECONDS after SIGTERM (`usage execute --grace`;\n"
		"                        needs this genv on the hosts: 1.4.3 rejects it).\n"
		"                        Without it hosts send SIGTERM only, as in 1.4.3\n"
		"\nAs in 1.4.3, GENV_TERMINATE_PROCESSES is not passed on to the hosts.\n",
};

int
remote_enforce_run(const struct hostlist *hosts, const struct fanout_opts *fan,
		   int exit_on_error, int quiet, int argc, char **argv)
{
	struct enforce_args a;
	struct remote_enforce_options o;
	int rc;

	enforce_args_init(&a);
	rc = enforce_parse_args(&remote_enforce_cmd, argc, argv, &a);
	if (rc < 0) {
		enforce_args_release(&a);
		return rc == CLI_ENFORCE_HELP ? 0 : 2;
	}
	o.rules = &a.rules;
	o.dry_run = a.dry_run;
	o.grace = a.grace_given ? a.grace : -1;
	o.exit_on_error = exit_on_error;
	o.quiet = quiet;
	if (a.interval == 0) {
		rc = remote_enforce_cycle(hosts, fan, &o, &enforce_cli_sink) ? 1 : 0;
	} else {
		enforce_install_stop_handlers();
		do {
			if (remote_enforce_cycle(hosts, fan, &o, &enforce_cli_sink) < 0)
				break;
		} while (!enforce_wait_between_cycles(a.interval));
		rc = enforce_stop_requested() ? 0 : 1;
	}
	enforce_args_release(&a);
	return rc;
}
