/* SPDX-License-Identifier: MIT */
/*
 * cmd-doctor.c: `genv doctor`: the checks of core/doctor.c, one line
 * each; with -H/--hostfile, every host's version and doctor instead
 * (remote/doctor-hosts.c).
 */
#include "compat.h"
#include "cli/cli.h"
#include "core/doctor.h"
#include "remote/doctor-hosts.h"
#include "remote/fanout.h"
#include "remote/hosts.h"
#include "util/strvec.h"

static int
doctor_local(void)
{
	struct doctor d = DOCTOR_INIT;
	int failed = doctor_run(&d, getenv("SHELL"), getenv("HOME"));

	for (size_t i = 0; i < d.nr; i++) {
		const struct doctor_finding *f = &d.v[i];

		printf("%-4s  %-7s  %s", doctor_level_name(f->level), f->check, f->detail);
		if (f->fix)
			printf("; fix: %s", f->fix);
		putchar('\n');
	}
	doctor_release(&d);
	return failed ? 1 : 0;
}

static int
doctor_remote(const char *spec, const char *hostfile)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct fanout_opts fan = FANOUT_OPTS_INIT;
	struct strvec lines = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *ssh = getenv("GENV_SSH"), *genv = getenv("GENV_REMOTE_GENV");
	int rc = 1;

	if ((spec ? hostlist_parse_list(&hl, spec, NULL, &err)
		  : hostlist_read_file(&hl, hostfile, NULL, &err)) < 0) {
		cli_error("genv doctor: error: %s", err.buf);
		goto out;
	}
	if (ssh && *ssh)
		fan.ssh.program = ssh;
	if (genv && *genv)
		fan.remote_genv = genv;
	rc = doctor_hosts(&hl, &fan, &lines) ? 1 : 0;
	for (size_t i = 0; i < lines.nr; i++)
		printf("%s\n", lines.v[i]);
out:
	hostlist_release(&hl);
	strvec_clear(&lines);
	strbuf_release(&err);
	return rc;
}

static int
doctor_cmd_run(int argc, char **argv, void *ctx UNUSED)
{
	const char *spec = NULL, *hostfile = NULL;
	const struct option opts[] = {
		OPT_STRING("-H|--host", &spec, "HOSTS",
			   "check these hosts over ssh instead (comma-separated,\n"
			   "[user@]host): each one's genv version and doctor\n"
			   "lines, as \"[host] line\"; an unreachable host FAILs",
			   .xgroup = 1, .flags = PARSE_OPT_COMPLETE_HOSTS),
		OPT_STRING("--hostfile", &hostfile, "HOSTFILE",
			   "the hosts of a hostfile (as genv remote reads it)", .xgroup = 1),
		OPT_END(),
	};

	cli_parse_options(&cli_cmd_doctor, argc, argv, opts);
	if (spec || hostfile)
		return doctor_remote(spec, hostfile);
	return doctor_local();
}

const struct cli_cmd cli_cmd_doctor = {
	.name = "doctor",
	.summary = "Check that this machine is ready for genv",
	.description =
	"Checks, one line each (ok, warn or FAIL, what was found and how to fix\n"
	"it): the NVIDIA driver (NVML loadable, its version), the GPUs it sees, the\n"
	"state directory (mode, owner, shared or protected), the genv integration\n"
	"of your shell ($SHELL: bash, zsh or fish) and a running `genv enforce`.\n"
	"Exits 0 unless a check FAILs (warnings do not fail).\n",
	.run = doctor_cmd_run,
};
