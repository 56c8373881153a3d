/* SPDX-License-Identifier: MIT */
/*
 * cmd-status.c: describe the active environment as this process sees it
 * (its environment variables), in genv 1.4.3's words.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "core/active.h"
#include "core/ps-json.h"
#include "util/quote.h"
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

/* The configuration block; the values are escaped (quote_display). */
static void
print_configuration(void)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "\nConfiguration\n    Name: ");
	quote_display(&out, value_or_na(getenv("GENV_ENVIRONMENT_NAME")));
	strbuf_addstr(&out, "\n    Device count: ");
	quote_display(&out, gpus_or_na(getenv("GENV_GPUS")));
	strbuf_addstr(&out, "\n    GPU memory capacity: ");
	quote_display(&out, value_or_na(getenv("GENV_GPU_MEMORY")));
	strbuf_addstr(&out, "\n\n");
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

static const char *const status_formats[] = { "json", "tui", NULL };

/* --format json: the same facts as a core/ps-json.h document */
static void
print_json(const char *eid, const long *idx, size_t nr)
{
	struct strbuf out = STRBUF_INIT;

	table_json(&out, ps_json_status(eid, idx, nr, getenv("GENV_ENVIRONMENT_NAME"),
					getenv("GENV_GPUS"), getenv("GENV_GPU_MEMORY")));
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
}

static void
print_indices(const long *idx, size_t nr)
{
	if (nr) {
		printf("Attached to GPUs at indices ");
		for (size_t i = 0; i < nr; i++)
			printf("%s%ld", i ? "," : "", idx[i]);
		printf("\n");
	} else {
		printf("Detached from GPUs\n");
	}
	print_configuration();
}

static int
status_run(int argc, char **argv, void *ctx UNUSED)
{
	const char *format = "tui";
	const struct option opts[] = {
		OPT_CHOICE("--format", &format, status_formats,
			   "Output format; tui (the default) or json (see genv(1))"),
		OPT_END(),
	};
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	const char *eid;
	long *idx = NULL;
	size_t nr = 0;
	int json, rc = 1;

	cli_parse_options(&cli_cmd_status, argc, argv, opts);
	eid = active_eid();
	json = !strcmp(format, "json");
	if (!eid && !json) {
		printf("Environment is not active\n");
		return 0;
	}
	if (!json) {
		strbuf_addstr(&line, "Environment is active (");
		quote_display(&line, eid);
		strbuf_addstr(&line, ")\n");
		fwrite(line.buf, 1, line.len, stdout);
	}
	if (eid && active_attached_indices(eid, &idx, &nr, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (json)
		print_json(eid, idx, nr);
	else
		print_indices(idx, nr);
	rc = 0;
out:
	free(idx);
	strbuf_release(&err);
	strbuf_release(&line);
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
