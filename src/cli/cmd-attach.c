/* SPDX-License-Identifier: MIT */
/*
 * cmd-attach.c: attach devices to the active environment, by count (the
 * configured GENV_GPUS by default) or by index. Prints nothing; the shell
 * function then runs `genv shell --reattach` to update the shell.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "core/devices.h"
#include "core/store.h"
#include "util/strbuf.h"

static int
attach_run(int argc, char **argv, void *ctx UNUSED)
{
	long count = -1, index = -1;
	int config = 0, refresh = 0, over = 0, seen_count = 0, seen_index = 0;
	const struct option opts[] = {
		OPT_BOOL("--config", &config, "attach as configured (the default)",
			 .xgroup = 1, .flags = PARSE_OPT_LIST_CONFLICT),
		OPT_INTEGER("--count", &count, NULL, "have at least COUNT devices attached",
			    .xgroup = 1, .seen = &seen_count),
		OPT_INTEGER("--index", &index, NULL, "attach the device at INDEX",
			    .xgroup = 1, .seen = &seen_index),
		OPT_BOOL("--refresh", &refresh, "only update the shell from the state", .xgroup = 1),
		OPT_BOOL("--over-subscribe|-o", &over, "allow devices that other environments use"),
		OPT_END(),
	};
	struct attach_request req = ATTACH_REQUEST_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *eid, *env_gpus;
	int rc;

	cli_parse_options(&cli_cmd_attach, argc, argv, opts);
	if ((seen_count && count < 0) || (seen_index && index < 0))
		return cli_usage_error(&cli_cmd_attach, "argument --%s: must not be negative",
				       seen_count ? "count" : "index");
	eid = active_eid();
	if (!eid) {
		cli_error(NOT_ACTIVE_ERROR);
		return 1;
	}
	if (refresh)
		return 0;  /* the shell function re-reads the state */
	req.over_subscribe = over;
	req.gpu_memory = getenv("GENV_GPU_MEMORY");
	if (req.gpu_memory && !*req.gpu_memory)
		req.gpu_memory = NULL;
	if (seen_index) {
		req.index = index;
	} else if (seen_count) {
		req.count = count;
	} else if ((env_gpus = getenv("GENV_GPUS")) && *env_gpus) {
		char *end;

		errno = 0;
		req.count = strtol(env_gpus, &end, 10);
		if (errno || *end || req.count < 0) {
			cli_error("GENV_GPUS is '%s', not a number of devices", env_gpus);
			return 1;
		}
	} else {
		return 0;  /* nothing configured, nothing asked */
	}
	if (store_attach(eid, &req, &err) < 0) {
		cli_error("%s", err.buf);
		rc = 1;
	} else {
		rc = 0;
	}
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_attach = {
	.name = "attach",
	.summary = "Attach devices to this environment",
	.description =
	"Attaches GPUs to the active environment. Without options, as many as the\n"
	"configuration asks for (genv config gpus); devices already attached stay.\n",
	.run = attach_run,
};
