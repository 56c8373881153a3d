/* SPDX-License-Identifier: MIT */
/*
 * oci.h: the genv container runtime (registered with docker/podman as
 * runtime "genv"; reference §8.4) and its prestart hook (§8.5).
 *
 * The runtime edits the OCI bundle before handing over to the real
 * runtime (nvidia-container-runtime, else runc, else crun): the container
 * process gets GENV_CONTAINER=1, GENV_ENVIRONMENT_ID (the container id
 * unless given) and /opt/genv/shims first on PATH, and the bundle gets
 * genv's prestart hook. `runc exec --process FILE` gets the same
 * environment.
 *
 * The hook, given the OCI state on stdin, registers the environment for
 * the container's init pid and attaches its devices through the store
 * (the same locked transaction as `genv activate`), tells the NVIDIA hook
 * which devices to expose (NVIDIA_VISIBLE_DEVICES), and bind-mounts the
 * nvidia-smi shim (read-only) and the environment's device lock files
 * into the container. The variables GENV_ACTIVATE, GENV_ATTACH,
 * GENV_MOUNT_SHIMS, GENV_MOUNT_DEVICE_LOCKS (0 disables) and
 * GENV_ALLOW_OVER_SUBSCRIPTION (1 enables), GENV_GPUS and GENV_GPU_MEMORY
 * are read from the container's environment, as genv-docker sets them.
 */
#ifndef GENV_SHIM_OCI_H
#define GENV_SHIM_OCI_H

#include "util/strbuf.h"
#include "util/strvec.h"

/* Where the container sees the shims and the device locks. */
#define OCI_SHIMS_DIR "/opt/genv/shims"
#define OCI_LOCKS_DIR "/var/tmp/genv/devices"

/*
 * The runtime's part for a runtime command line (argv[1..]): edits the
 * bundle's config.json for `create` (hook_argv0 is how the hook is
 * called: path = the genv executable, args[0] = hook_argv0) or the
 * process file for `exec`; other commands are left alone.
 */
int oci_runtime_prepare(int argc, char **argv, const char *hook_argv0,
			struct strbuf *err);

/* The real runtime: nvidia-container-runtime, runc or crun on PATH. */
int oci_find_runtime(struct strbuf *found, struct strbuf *err);

/* What the hook did, for its log line. */
struct oci_hook_result {
	struct strbuf eid;
	struct strbuf indices;   /* "0,2"; "" when none */
	struct strvec mounts;    /* container paths mounted */
};
#define OCI_HOOK_RESULT_INIT { STRBUF_INIT, STRBUF_INIT, STRVEC_INIT }
void oci_hook_result_release(struct oci_hook_result *r);

/*
 * The prestart hook: state is the OCI state JSON (its "pid" and
 * "bundle"; the bundle defaults to the current directory).
 */
int oci_hook_run(const char *state, size_t len, struct oci_hook_result *r,
		 struct strbuf *err);

#endif
