/* SPDX-License-Identifier: MIT */
/*
 * main.c: global options, command lookup and dispatch. Also the only place
 * that decides what a failure to write stdout means (exit 1, as git does).
 */
#include "compat.h"
#include "cli/cli.h"
#include "core/protect.h"
#include "util/priv.h"
#include "util/strbuf.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sys/auxv.h>
/*
 * Sanitizer builds only: LeakSanitizer checks a process by tracing it,
 * which the kernel forbids for a setgid process run by anyone but root,
 * and ASan cannot read ASAN_OPTIONS there either; skip the leak check
 * instead of dying at exit. Leaks are checked in the other runs.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return getauxval(AT_SECURE) && getuid() ? "detect_leaks=0" : "";
}
#endif

static const char main_usage[] = "usage: genv [-h] [--version] SUBCOMMAND ...\n";

static void
print_main_help(FILE *out)
{
	fputs(main_usage, out);
	fputs("\nGPU environments and cluster management for shared machines\n"
	      "\nsubcommands:\n", out);
	for (size_t i = 0; cli_cmds[i]; i++) {
		const struct cli_cmd *c = cli_cmds[i];

		if (c->flags & CMD_HIDDEN)
			continue;
		if (strlen(c->name) <= 10)
			fprintf(out, "    %-10s  %s\n", c->name, c->summary);
		else
			fprintf(out, "    %s\n                %s\n", c->name, c->summary);
	}
	fputs("\noptions:\n"
	      "  -h, --help  show this help message and exit\n"
	      "  --version   print the genv version and exit\n"
	      "\nRun 'genv SUBCOMMAND --help' for the options of a subcommand.\n", out);
}

const struct cli_cmd *
cli_lookup(const char *name)
{
	if (!strcmp(name, "llms"))
		name = "llm";   /* 1.4.3's alias, not listed */
	for (size_t i = 0; cli_cmds[i]; i++)
		if (!strcmp(cli_cmds[i]->name, name))
			return cli_cmds[i];
	return NULL;   /* exact names only: scripts must not break */
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "usage: %s\n", cmd->usage);
	fprintf(stderr, "genv %s: error: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int
cli_help(const struct cli_cmd *cmd)
{
	FILE *out = (cmd->flags & CMD_HELP_STDERR) ? stderr : stdout;

	fprintf(out, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(out, "\n%s", cmd->help);
	return 0;
}

int
cli_parse_long(const struct cli_cmd *cmd, const char *opt, const char *value,
	       long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (!*value || *end || errno) {
		cli_usage_error(cmd, "argument %s: invalid int value: '%s'", opt, value);
		return -1;
	}
	*out = v;
	return 0;
}

/* stdout errors (full disk, closed pipe) must not be reported as success. */
static int
finish_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		fprintf(stderr, "genv: cannot write to standard output: %s\n", strerror(errno));
		return status ? status : 1;
	}
	return status;
}

/*
 * Before anything else: descriptors 0-2, the group privilege of a
 * protected install and what the caller's environment may still change
 * (doc/security.md).
 */
static int
startup(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	priv_startup();
	rc = protect_init(&warn, &err);
	fputs(warn.buf, stderr);
	if (rc < 0)
		cli_error("%s", err.buf);
	strbuf_release(&warn);
	strbuf_release(&err);
	return rc;
}

/*
 * The multi-call names that need no state (all but the container hook,
 * which registers the container) run as their caller, nothing more.
 */
static int
drop_for_shim(const char *called_as)
{
	static const char *const stateless[] = {
		"nvidia-smi", "docker", "podman", "genv-docker", "genv-container-runtime",
	};

	for (size_t i = 0; i < ARRAY_SIZE(stateless); i++) {
		if (strcmp(called_as, stateless[i]))
			continue;
		if (priv_drop() < 0) {
			cli_error("%s (genv): cannot drop the group privilege: %s", called_as,
				  strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	const char *called_as = argc > 0 ? strrchr(argv[0], '/') : NULL;

	/*
	 * A big state is millions of small JSON values freed at once; with
	 * fastbins glibc then merges them all again on the next large
	 * allocation (a quarter of `genv envs` with 100k environments).
	 */
	mallopt(M_MXFAST, 0);
	if (startup() < 0)
		return 1;
	/* multi-call binary: the shims and bin/genv-docker are links to genv */
	called_as = called_as ? called_as + 1 : argc > 0 ? argv[0] : "";
	if (drop_for_shim(called_as) < 0)
		return 1;
	if (!strcmp(called_as, "nvidia-smi"))
		return finish_stdout(shim_nvidia_smi_main(argc, argv));
	if (!strcmp(called_as, "docker") || !strcmp(called_as, "podman"))
		return finish_stdout(shim_docker_main(argc, argv, called_as));
	if (!strcmp(called_as, "genv-docker"))
		return finish_stdout(genv_docker_main(argc, argv));
	if (!strcmp(called_as, "genv-container-runtime"))
		return finish_stdout(genv_container_runtime_main(argc, argv));
	if (!strcmp(called_as, "genv-container-runtime-hook"))
		return finish_stdout(genv_container_hook_main(argc, argv));
	if (argc < 2) {
		print_main_help(stdout);
		return finish_stdout(0);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_main_help(stdout);
		return finish_stdout(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s\n", GENV_VERSION);
		return finish_stdout(0);
	}
	if (!strcmp(argv[1], "--list-cmds")) {
		for (size_t i = 0; cli_cmds[i]; i++)
			printf("%s\n", cli_cmds[i]->name);
		return finish_stdout(0);
	}
	cmd = cli_lookup(argv[1]);
	if (!cmd) {
		struct strbuf names = STRBUF_INIT;

		for (size_t i = 0; cli_cmds[i]; i++)
			strbuf_addf(&names, "%s'%s'", i ? ", " : "", cli_cmds[i]->name);
		fputs(main_usage, stderr);
		fprintf(stderr, "genv: error: argument SUBCOMMAND: invalid choice: '%s' (choose from %s)\n",
			argv[1], names.buf);
		strbuf_release(&names);
		return 2;
	}
	return finish_stdout(cmd->run(argc - 1, argv + 1));
}
