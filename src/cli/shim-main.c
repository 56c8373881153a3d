/* SPDX-License-Identifier: MIT */
/*
 * shim-main.c: main() of the nvidia-smi shim the container hook mounts
 * into containers (libexec/genv/container/nvidia-smi). Linked statically
 * from the shim's objects alone, so that it runs in any image and pulls
 * in nothing else of genv (the monitor's HTTP and TLS libraries, say).
 */
#include "compat.h"
#include "cli/cli.h"

int
main(int argc, char **argv)
{
	int rc = shim_nvidia_smi_main(argc, argv);

	if (fflush(stdout) && errno != EPIPE)
		return rc ? rc : 1;
	return rc;
}
