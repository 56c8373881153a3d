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

struct remote_enforce {
	const struct hostlist *hosts;
	const struct fanout_opts *fan;
	int exit_on_error, quiet;
	struct enforce_args args;
};

/* Reports a failed host; returns -1 when -e says to stop. */
static int
host_failed(const struct remote_enforce *re, const struct fanout_result *r)
{
	fflush(stdout);
	if (!re->quiet || re->exit_on_error)
		fprintf(stderr, "%s\n", r->error.buf);
	return re->exit_on_error ? -1 : 0;
}

static void
print_host_lines(const char *host, const struct strvec *lines, FILE *out)
{
	struct strbuf prefix = STRBUF_INIT;

	strbuf_addf(&prefix, "[%s] ", host);
	enforce_print_lines(lines, out, prefix.buf);
	strbuf_release(&prefix);
}

/*
 * Takes the snapshots (`sudo genv usage snapshot`); fills surveys (one per
 * answering host, hostname set) and host_of (index into hosts). Returns
 * the number of failed hosts, or -1 when -e stopped at one.
 */
static int
take_snapshots(const struct remote_enforce *re, struct survey *surveys, size_t *nr,
	       size_t *host_of)
{
	const struct hostlist *hl = re->hosts;
	struct fanout_result *res;
	size_t nfailed;
	int failed = 0;

	res = fanout_snapshot(hl, FANOUT_SNAPSHOT, re->fan, &nfailed);
	*nr = 0;
	for (size_t i = 0; i < hl->nr; i++) {
		if (!res[i].ok) {
			failed++;
			if (host_failed(re, &res[i]) < 0) {
				failed = -1;
				break;
			}
			continue;
		}
		fflush(stdout);
		print_host_lines(hl->v[i].name, &res[i].warnings, stderr);
		host_of[*nr] = i;
		survey_init(&surveys[(*nr)++], hl->v[i].name, &res[i].snapshot);
	}
	fanout_results_free(res, hl->nr);
	return failed;
}

/*
 * Sends each non-empty report to its host (`sudo genv usage execute`, the
 * report on stdin); returns the number of failed hosts or -1.
 */
static int
execute_reports(const struct remote_enforce *re, const struct report *reports,
		const size_t *host_of, size_t nr)
{
	const struct hostlist *hl = re->hosts;
	struct strbuf *json = xcalloc(hl->nr + 1, sizeof(*json));
	const struct strbuf **payloads = xcalloc(hl->nr + 1, sizeof(*payloads));
	struct fanout_result *res;
	struct strbuf grace = STRBUF_INIT;
	size_t nfailed;
	int failed = 0;

	for (size_t i = 0; i < hl->nr; i++)
		strbuf_init(&json[i], 0);
	for (size_t s = 0; s < nr; s++) {
		if (report_is_empty(&reports[s]))
			continue;
		report_serialize(&reports[s], &json[host_of[s]]);
		payloads[host_of[s]] = &json[host_of[s]];
	}
	/*
	 * Only when asked: hosts running genv 1.4.3 reject --grace (and then
	 * execute nothing), and without it every host sends SIGTERM only.
	 */
	if (re->args.grace_given)
		strbuf_addf(&grace, "%ld", re->args.grace);
	res = fanout_execute(hl, payloads,
			     re->args.grace_given ? (const char *const[]){ "--grace", grace.buf, NULL }
						  : NULL,
			     re->fan, &nfailed);
	for (size_t i = 0; i < hl->nr; i++) {
		if (res[i].ok && res[i].skipped)
			continue;
		fflush(stdout);
		print_host_lines(hl->v[i].name, &res[i].output, stdout);
		fflush(stdout);
		if (!res[i].ok) {
			failed++;
			if (host_failed(re, &res[i]) < 0) {
				failed = -1;
				break;
			}
			continue;
		}
		print_host_lines(hl->v[i].name, &res[i].warnings, stderr);
	}
	fanout_results_free(res, hl->nr);
	for (size_t i = 0; i < hl->nr; i++)
		strbuf_release(&json[i]);
	free(json);
	free(payloads);
	strbuf_release(&grace);
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
