/* SPDX-License-Identifier: MIT */
/*
 * shim-oci.c: genv called as "genv-container-runtime" (the OCI runtime
 * docker and podman know as "genv") and as "genv-container-runtime-hook"
 * (the prestart hook the runtime adds to each container). The work is
 * the library's (shim/oci.h); the runtime then becomes the real runtime,
 * whose exit status is therefore the container engine's answer.
 */
#include "compat.h"
#include "cli/cli.h"
#include "shim/oci.h"
#include "util/fileio.h"
#include "util/run.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <unistd.h>

#define RUNTIME_NAME "genv-container-runtime"

int
genv_container_runtime_main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, runtime = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;

	if (oci_runtime_prepare(argc, argv, RUNTIME_NAME "-hook", &err) < 0 ||
	    oci_find_runtime(&runtime, &err) < 0) {
		cli_error(RUNTIME_NAME ": %s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	strvec_push(&args, runtime.buf);
	for (int i = 1; i < argc; i++)
		strvec_push(&args, argv[i]);
	fflush(stdout);
	run_execvp((const char *const *)args.v);   /* args.v[0] is runtime.buf */
	cli_error(RUNTIME_NAME ": cannot run '%s': %s", runtime.buf, strerror(errno));
	strvec_clear(&args);
	strbuf_release(&runtime);
	strbuf_release(&err);
	return 1;
}

int
genv_container_hook_main(int argc UNUSED, char **argv UNUSED)
{
	struct oci_hook_result r = OCI_HOOK_RESULT_INIT;
	struct strbuf state = STRBUF_INIT, err = STRBUF_INIT;
	int rc = 0;

	if (read_fd_sb(&state, 0) < 0) {
		strbuf_addstr(&err, "cannot read the OCI state on standard input");
		strbuf_add_errno(&err, errno);
		rc = 1;
	} else if (oci_hook_run(state.buf, state.len, &r, &err) < 0) {
		rc = 1;
	}
	if (rc)
		cli_error(RUNTIME_NAME "-hook: %s", err.buf);
	oci_hook_result_release(&r);
	strbuf_release(&state);
	strbuf_release(&err);
	return rc;
}
