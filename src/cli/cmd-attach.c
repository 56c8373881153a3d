/* SPDX-License-Identifier: MIT */
/*
 * cmd-attach.c: attach devices to the active environment, by count (the
 * configured GENV_GPUS by default) or by index. Prints nothing; the shell
 * function then runs `genv shell --reattach` to update the shell.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/active.h"
#include "core/devices.h"
#include "core/store.h"
#include "util/strbuf.h"

static int
attach_run(int argc, char **argv)
{
	long count = -1, index = -1;
	int config = 0, refresh = 0, over = 0, seen_count = 0, seen_index = 0;
	const struct cli_opt opts[] = {
		{ "--config", NULL, CLI_OPT_FLAG, &config, NULL, NULL },
		{ "--count", NULL, CLI_OPT_LONG, &count, NULL, &seen_count },
		{ "--index", NULL, CLI_OPT_LONG, &index, NULL, &seen_index },
		{ "--refresh", NULL, CLI_OPT_FLAG, &refresh, NULL, NULL },
		{ "--over-subscribe", "-o", CLI_OPT_FLAG, &over, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL },
	};
	struct attach_request req = ATTACH_REQUEST_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *eid, *env_gpus;
	int rc;

	rc = cli_parse_options(&cli_cmd_attach, argc, argv, opts, 0);
	if (rc == CLI_PARSE_HELP)
		return 0;
	if (rc < 0)
		return 2;
	if (config + seen_count + seen_index + refresh > 1) {
		return cli_usage_error(&cli_cmd_attach,
				       "arguments --config, --count, --index and --refresh "
				       "are mutually exclusive");
	}
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
	.usage = "genv attach [-h] [--config | --count COUNT | --index INDEX | --refresh] [-o]",
	.help =
	"Attaches GPUs to the active environment. Without options, as many as the\n"
	"configuration asks for (genv config gpus); devices already attached stay.\n"
	"\n"
	"options:\n"
	"  -h, --help            show this help message and exit\n"
	"  --config              attach as configured (the default)\n"
	"  --count COUNT         have at least COUNT devices attached\n"
	"  --index INDEX         attach the device at INDEX\n"
	"  --refresh             only update the shell from the state\n"
	"  -o, --over-subscribe  allow devices that other environments use\n",
	.run = attach_run,
};
