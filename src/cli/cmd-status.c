/* SPDX-License-Identifier: MIT */
/*
 * cmd-status.c: describe the active environment as this process sees it
 * (its environment variables), in genv 1.4.3's words.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "core/active.h"
#include "util/strbuf.h"

static const char *
value_or_na(const char *v)
{
	return v && *v ? v : "N/A";
}

/* Python prints `int(GENV_GPUS) or 'N/A'`: 0 is N/A too. */
static const char *
gpus_or_na(const char *v)
{
	char *end;
	long n;

	if (!v || !*v)
		return "N/A";
	n = strtol(v, &end, 10);
	if (!*end && n == 0)
		return "N/A";
	return v;
}

static int
status_run(int argc, char **argv, void *ctx UNUSED)
{
	const struct option opts[] = { OPT_END() };
	struct strbuf err = STRBUF_INIT;
	const char *eid;
	long *idx = NULL;
	size_t nr = 0;
	int rc;

	cli_parse_options(&cli_cmd_status, argc, argv, opts);
	eid = active_eid();
	if (!eid) {
		printf("Environment is not active\n");
		return 0;
	}
	printf("Environment is active (%s)\n", eid);
	rc = 1;
	if (active_attached_indices(eid, &idx, &nr, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (nr) {
		printf("Attached to GPUs at indices ");
		for (size_t i = 0; i < nr; i++)
			printf("%s%ld", i ? "," : "", idx[i]);
		printf("\n");
	} else {
		printf("Detached from GPUs\n");
	}
	printf("\nConfiguration\n"
	       "    Name: %s\n"
	       "    Device count: %s\n"
	       "    GPU memory capacity: %s\n"
	       "\n",
	       value_or_na(getenv("GENV_ENVIRONMENT_NAME")),
	       gpus_or_na(getenv("GENV_GPUS")),
	       value_or_na(getenv("GENV_GPU_MEMORY")));
	rc = 0;
out:
	free(idx);
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.summary = "Show status of the current environment",
	.description =
	"Shows whether this shell runs in an active environment, the GPUs it is\n"
	"attached to and its configuration.\n",
	.run = status_run,
};
