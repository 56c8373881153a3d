/* SPDX-License-Identifier: MIT */
/*
 * main.c: genv itself, the root of the command tree: its global options
 * and the dispatch to the commands of commands.c.
 */
#include "compat.h"
#include "cli/cli.h"
#include "core/protect.h"
#include "util/priv.h"
#include "util/strbuf.h"

#include <malloc.h>
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

static int
print_version(const struct option *opt, const char *arg, struct strbuf *err)
{
	(void)opt, (void)arg, (void)err;
	printf("%s\n", GENV_VERSION);
	return PARSE_OPT_CB_DONE;
}

static int
list_cmds(const struct option *opt, const char *arg, struct strbuf *err)
{
	(void)opt, (void)arg, (void)err;
	for (size_t i = 0; cli_cmds[i]; i++)
		printf("%s\n", cli_cmds[i]->name);
	return PARSE_OPT_CB_DONE;
}

static int
genv_run(int argc, char **argv, void *ctx)
{
	const struct cli_cmd *cmd;
	/* exact command names only: scripts must not break */
	const struct option opts[] = {
		OPT_SUBCOMMAND(NULL, "SUBCOMMAND", "subcommands", .names = "SUBCOMMAND",
			       .flags = PARSE_OPT_NAME_IN_ERRORS | PARSE_OPT_TAKE_UNKNOWN),
		OPT_CALLBACK("--version", NULL, NULL, print_version,
			     "print the genv version and exit", .flags = PARSE_OPT_NOARG),
		OPT_CALLBACK("--list-cmds", NULL, NULL, list_cmds, NULL,
			     .flags = PARSE_OPT_NOARG | PARSE_OPT_HIDDEN),
		OPT_END(),
	};
	int i = cli_parse_subcommand(&cli_genv, argc, argv, opts, &cmd);

	if (!cmd)
		return cli_help(&cli_genv);
	return cli_run(cmd, argc - i, argv + i, ctx);
}

const struct cli_cmd cli_genv = {
	.name = "genv",
	.summary = "GPU environments and cluster management for shared machines",
	.epilog = "Run 'genv SUBCOMMAND --help' for the options of a subcommand.\n",
	.run = genv_run,
	.subcmds = cli_cmds,
};

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
		return cli_finish(shim_nvidia_smi_main(argc, argv));
	if (!strcmp(called_as, "docker") || !strcmp(called_as, "podman"))
		return cli_finish(shim_docker_main(argc, argv, called_as));
	if (!strcmp(called_as, "genv-docker"))
		return cli_finish(genv_docker_main(argc, argv));
	if (!strcmp(called_as, "genv-container-runtime"))
		return cli_finish(genv_container_runtime_main(argc, argv));
	if (!strcmp(called_as, "genv-container-runtime-hook"))
		return cli_finish(genv_container_hook_main(argc, argv));
	if (argc > 1 && !strcmp(argv[1], "__complete"))
		return cli_finish(cli_complete(argc - 2, argv + 2));
	return cli_finish(cli_run(&cli_genv, argc, argv, NULL));
}
