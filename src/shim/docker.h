/* SPDX-License-Identifier: MIT */
/*
 * docker.h: containers with genv, as 1.4.3 does them (reference §8.2,
 * §8.3), as argv rewriting with no shell in between:
 *
 *  - the docker/podman shim (`docker run --gpus N|all ...` in an
 *    environment): the devices asked for become the environment's own, and
 *    the container gets GENV_ENVIRONMENT_ID;
 *  - genv-docker (`genv-docker run --gpus 2 --gpu-memory 4g ...`): runs
 *    the container under the genv OCI runtime with the configuration in
 *    its environment, so that the runtime hook registers an environment
 *    for it.
 */
#ifndef GENV_SHIM_DOCKER_H
#define GENV_SHIM_DOCKER_H

#include "util/strbuf.h"
#include "util/strvec.h"

enum container_engine {
	ENGINE_DOCKER,   /* --gpus device=I (repeated), --gpus 0 for none */
	ENGINE_PODMAN,   /* --gpus I (repeated, CDI ids), nothing for none */
};

/*
 * Appends to out the arguments (argv[1..argc-1]) the real engine gets
 * when called from environment eid attached to the devices in visible
 * (CUDA_VISIBLE_DEVICES: indices, or GPU UUIDs in a Slurm job; NULL, ""
 * or "-1" = none). The first --gpus N,
 * --gpus all or --gpus=... is replaced with the environment's devices
 * (the first N; all), followed by -e GENV_ENVIRONMENT_ID=eid. Errors
 * (1.4.3's texts): "Requested N devices but only M are attached to
 * environment", "Unsupported value for '--gpus' (V)", a --gpus without
 * a value, and a device that is neither an index nor a UUID.
 */
int docker_shim_args(enum container_engine engine, int argc, char **argv,
		     const char *eid, const char *visible, struct strvec *out,
		     struct strbuf *err);

struct genv_docker {
	struct strvec args;   /* the engine's arguments (not argv[0]) */
	int dry_run;
	int help;             /* --help was given (also passed on) */
};
#define GENV_DOCKER_INIT { STRVEC_INIT, 0, 0 }

/*
 * genv-docker's command line (argv[1..]): arguments before `run` pass
 * through; after it, genv's options (--gpus N, --gpu-memory M, --eid ID,
 * --[no-]activate, --[no-]attach, --[no-]shims, --[no-]device-locks,
 * --[no-]over-subscribe, --dry-run) are taken out and become
 * --runtime=genv and -e GENV_...=... right after `run`.
 */
int genv_docker_parse(struct genv_docker *d, int argc, char **argv, struct strbuf *err);
void genv_docker_release(struct genv_docker *d);

#endif
