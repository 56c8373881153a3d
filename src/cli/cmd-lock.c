/* SPDX-License-Identifier: MIT */
/*
 * cmd-lock.c: run a command while holding the device locks of the active
 * environment, so that environments over-subscribing a GPU take turns.
 * The locks are flocks on $GENV_TMPDIR/devices/<index>.lock, taken in
 * ascending index order (no deadlock between two lockers), as 1.4.3 does.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "core/device-locks.h"
#include "util/strbuf.h"

static int
lock_run(int argc, char **argv, void *ctx UNUSED)
{
	const struct option opts[] = {
		OPT_REMAINDER("COMMAND", "the command and its arguments"),
		OPT_END(),
	};
	struct device_locks locks = DEVICE_LOCKS_INIT;
	struct strbuf err = STRBUF_INIT;
	int pos, rc = 1;

	pos = cli_parse_options(&cli_cmd_lock, argc, argv, opts);
	if (active_lock_devices(active_eid(), &locks, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	rc = pos < argc ? cli_run_foreground(argv + pos) : 0;
out:
	device_locks_release(&locks);
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_lock = {
	.name = "lock",
	.summary = "Lock over-subscribed devices",
	.description =
	"Runs COMMAND (no shell) while holding the locks of the devices the\n"
	"active environment is attached to, waiting for other environments that\n"
	"hold them; exits with COMMAND's status. Outside an environment nothing\n"
	"is locked.\n",
	.run = lock_run,
};
