/* SPDX-License-Identifier: MIT */
/*
 * cmd-detach.c: detach the active environment from one device or from all
 * of them. Prints nothing; the shell function then runs
 * `genv shell --reattach`.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "core/store.h"
#include "util/strbuf.h"

static int
detach_run(int argc, char **argv, void *ctx UNUSED)
{
	long index = -1;
	int seen_index = 0;
	const struct option opts[] = {
		OPT_INTEGER("--index", &index, NULL, "detach only the device at INDEX",
			    .seen = &seen_index),
		OPT_END(),
	};
	struct strbuf err = STRBUF_INIT;
	const char *eid;
	int rc;

	cli_parse_options(&cli_cmd_detach, argc, argv, opts);
	if (seen_index && index < 0)
		return cli_usage_error(&cli_cmd_detach, "argument --index: must not be negative");
	eid = active_eid();
	if (!eid) {
		cli_error(NOT_ACTIVE_ERROR);
		return 1;
	}
	rc = 0;
	if (store_detach(eid, seen_index ? index : -1, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
	}
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_detach = {
	.name = "detach",
	.summary = "Detach devices from this environment",
	.description =
	"Detaches the active environment from the device at INDEX, or from all\n"
	"of its devices.\n",
	.run = detach_run,
};
