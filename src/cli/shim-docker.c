/* SPDX-License-Identifier: MIT */
/*
 * shim-docker.c: genv called as "docker" or "podman" (the links in
 * libexec/genv/shims: `--gpus N|all` in an environment means its own
 * devices) and as "genv-docker" (`docker run` under the genv runtime,
 * one environment per container). The argv rewriting is the library's
 * (shim/docker.h); here we find the programs, print and exec.
 */
#include "compat.h"
#include "cli/cli.h"
#include "shim/docker.h"
#include "shim/shim.h"
#include "util/quote.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <unistd.h>

int
shim_docker_main(int argc, char **argv, const char *name)
{
	enum container_engine engine = strcmp(name, "podman") ? ENGINE_DOCKER : ENGINE_PODMAN;
	const char *eid = getenv("GENV_ENVIRONMENT_ID");
	struct strbuf real = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	int bypass, rc = 1;

	if (shim_find_real(name, argv[0], &real) < 0) {
		cli_error("Could not find the path of '%s'", name);
		goto out;
	}
	if (shim_bypass(name, &bypass, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	strvec_push(&args, real.buf);
	if (bypass || !eid || !*eid) {
		for (int i = 1; i < argc; i++)
			strvec_push(&args, argv[i]);
	} else if (docker_shim_args(engine, argc, argv, eid, getenv("CUDA_VISIBLE_DEVICES"),
				    &args, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	fflush(stdout);
	run_execvp((const char *const *)args.v);   /* args.v[0] is real.buf */
	cli_error("%s (genv shim): cannot run '%s': %s", name, real.buf, strerror(errno));
out:
	strvec_clear(&args);
	strbuf_release(&real);
	strbuf_release(&err);
	return rc;
}

static void
print_genv_docker_help(void)
{
	fputs("usage: genv-docker [DOCKER OPTIONS] run [GENV OPTIONS] [RUN OPTIONS] IMAGE [COMMAND] [ARG...]\n"
	      "\n"
	      "Runs 'docker run' (or $GENV_DOCKER) with the genv container runtime, which\n"
	      "registers an environment for the container, attaches its devices and\n"
	      "mounts the nvidia-smi shim and the device locks into it.\n"
	      "\n"
	      "genv options (after 'run'):\n"
	      "  --gpus N              attach N devices\n"
	      "  --gpu-memory M        GPU memory per device (e.g. 4g, 512mi)\n"
	      "  --eid ID              environment identifier (default: the container id)\n"
	      "  --no-activate         do not register an environment\n"
	      "  --no-attach           do not attach devices\n"
	      "  --no-shims            do not mount the nvidia-smi shim\n"
	      "  --no-device-locks     do not mount the device lock files\n"
	      "  --over-subscribe      allow devices that other environments use\n"
	      "  --dry-run             print the docker command instead of running it\n"
	      "(--activate, --attach, --shims, --device-locks and --no-over-subscribe\n"
	      "undo their opposites.)\n"
	      "\n", stdout);
}

int
genv_docker_main(int argc, char **argv)
{
	struct genv_docker d = GENV_DOCKER_INIT;
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	struct strvec full = STRVEC_INIT;
	const char *docker = getenv("GENV_DOCKER");
	int rc = 1;

	if (!docker || !*docker)
		docker = "docker";
	if (genv_docker_parse(&d, argc, argv, &err) < 0) {
		cli_error("genv-docker: [ERROR]: %s", err.buf);
		goto out;
	}
	if (d.help)
		print_genv_docker_help();
	strvec_push(&full, docker);
	strvec_pushv(&full, (const char *const *)d.args.v);
	if (d.dry_run) {
		/* quoted for a shell: what to paste, not what docker gets */
		sq_quote_argv(&line, (const char *const *)full.v);
		puts(line.buf);
		rc = 0;
		goto out;
	}
	fflush(stdout);
	run_execvp((const char *const *)full.v);
	rc = errno == ENOENT ? 127 : 126;
	cli_error("genv-docker: [ERROR]: Could not run '%s': %s", docker, strerror(errno));
out:
	strvec_clear(&full);
	genv_docker_release(&d);
	strbuf_release(&err);
	strbuf_release(&line);
	return rc;
}
