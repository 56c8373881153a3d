/* SPDX-License-Identifier: MIT */
/*
 * cli.c: running the command tree. Each command being run has a frame
 * (its row, the words that led to it, its options table), so that a usage
 * error or the help of any of them can be printed from the table, and a
 * parent's required options are checked after its subcommand parsed its
 * own. Parsing itself is util/parse-options.c.
 */
#include "compat.h"
#include "cli/cli.h"
#include "core/memory.h"
#include "remote/host-names.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <unistd.h>

#define CLI_MAX_DEPTH 8

struct cli_frame {
	const struct cli_cmd *cmd;
	struct strbuf prog;          /* "genv devices ps" */
	struct option *opts;         /* the table, subcommands filled in */
	struct parse_opt_ctx parse;
	const char **sub_names;      /* "name", or "name|alias", of each subcommand */
	const char **sub_help;
	struct strvec owned;         /* the "name|alias" strings */
	int sub;                     /* chosen subcommand, or -1 */
};

static struct cli_frame frames[CLI_MAX_DEPTH];
static int depth;
static int completing;  /* genv __complete: parsing only proposes words */

static struct cli_frame *
frame_of(const struct cli_cmd *cmd)
{
	for (int i = depth - 1; i >= 0; i--)
		if (frames[i].cmd == cmd)
			return &frames[i];
	fprintf(stderr, "BUG: command '%s' is not running\n", cmd->name);
	abort();
}

static void
frame_release(struct cli_frame *f)
{
	strbuf_release(&f->prog);
	parse_opt_ctx_release(&f->parse);
	free(f->opts);
	free(f->sub_names);
	free(f->sub_help);
	strvec_clear(&f->owned);
	memset(f, 0, sizeof(*f));
}

int
cli_run(const struct cli_cmd *cmd, int argc, char **argv, void *ctx)
{
	struct cli_frame *f;
	int rc;

	if (depth == CLI_MAX_DEPTH) {
		fprintf(stderr, "BUG: commands nested too deep\n");
		abort();
	}
	f = &frames[depth];
	f->cmd = cmd;
	strbuf_init(&f->prog, 0);
	if (depth) {
		strbuf_addbuf(&f->prog, &frames[depth - 1].prog);
		strbuf_addch(&f->prog, ' ');
	}
	strbuf_addstr(&f->prog, cmd->name);
	f->parse = (struct parse_opt_ctx)PARSE_OPT_CTX_INIT;
	strvec_init(&f->owned);
	f->sub = -1;
	depth++;
	rc = cmd->run(argc, argv, ctx);
	frame_release(&frames[--depth]);
	return rc;
}

/* "llm|llms": how the parser spells a subcommand that has an alias */
static const char *
name_and_alias(struct strvec *owned, const struct cli_cmd *c)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, c->name);
	strbuf_addch(&sb, '|');
	strbuf_addstr(&sb, c->alias);
	strvec_push_nodup(owned, strbuf_detach(&sb, NULL));
	return owned->v[owned->nr - 1];
}

/* The table the frame parses with: opts, its subcommand entry naming cmd->subcmds. */
static void
frame_set_options(struct cli_frame *f, const struct option *opts)
{
	const struct cli_cmd *const *subs = f->cmd->subcmds;
	size_t n = 0, nsubs = 0;

	while (opts[n].type != OPTION_END)
		n++;
	free(f->opts);
	f->opts = xcalloc(n + 1, sizeof(*f->opts));
	memcpy(f->opts, opts, (n + 1) * sizeof(*opts));
	while (subs && subs[nsubs])
		nsubs++;
	if (!f->sub_names) {
		f->sub_names = xcalloc(nsubs + 1, sizeof(*f->sub_names));
		f->sub_help = xcalloc(nsubs + 1, sizeof(*f->sub_help));
		for (size_t k = 0; k < nsubs; k++) {
			const struct cli_cmd *c = subs[k];

			f->sub_names[k] = c->alias ? name_and_alias(&f->owned, c) : c->name;
			if (!(c->flags & CMD_HIDDEN))
				f->sub_help[k] = c->brief ? c->brief : c->summary;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (f->opts[i].type != OPTION_SUBCOMMAND)
			continue;
		f->opts[i].choices = f->sub_names;
		f->opts[i].choice_help = f->sub_help;
		f->opts[i].value = &f->sub;
	}
}

static const struct option no_options[] = { OPT_END() };

static void
frame_usage(struct strbuf *out, const struct cli_frame *f)
{
	parse_options_usage(out, f->cmd->usage_prog ? f->cmd->usage_prog : f->prog.buf,
			    f->opts ? f->opts : no_options);
}

static void
print_usage_error(const struct cli_frame *f, const char *msg)
{
	struct strbuf out = STRBUF_INIT;

	frame_usage(&out, f);
	strbuf_addf(&out, "%s: error: %s\n", f->prog.buf, msg);
	fflush(stdout);
	fputs(out.buf, stderr);
	strbuf_release(&out);
}

static void
print_help(const struct cli_frame *f)
{
	const struct cli_cmd *cmd = f->cmd;
	struct parse_help help = {
		.prog = cmd->usage_prog ? cmd->usage_prog : f->prog.buf,
		.summary = cmd->summary,
		.description = cmd->description,
		.epilog = cmd->epilog,
		.column = cmd->help_column,
	};
	struct strbuf out = STRBUF_INIT;

	parse_options_help(&out, &help, f->opts ? f->opts : no_options);
	fputs(out.buf, (cmd->flags & CMD_HELP_STDERR) ? stderr : stdout);
	strbuf_release(&out);
}

/* argparse checks a parent's required options once its subcommand parsed. */
static void
check_parents(void)
{
	struct strbuf err = STRBUF_INIT;

	for (int i = depth - 2; i >= 0; i--) {
		struct cli_frame *f = &frames[i];

		if (!f->opts || f->parse.checked)
			continue;
		if (parse_options_check(&f->parse, &err) < 0) {
			print_usage_error(f, err.buf);
			cli_exit(2);
		}
	}
	strbuf_release(&err);
}

/*
 * Completion walks the same frames as a run: each command's table comes
 * from its own run function (tables live there), and a subcommand word
 * hands over to the subcommand; the table that holds the word being typed
 * prints the candidates and ends the program before the command runs.
 */
/*
 * The names of ~/.ssh/config that continue cur, a comma-separated list
 * (`-H a,b`): the last item is completed, the others kept.
 */
static void
complete_hosts(const char *cur, struct strvec *out)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf path = STRBUF_INIT;
	const char *home = getenv("HOME"), *comma = strrchr(cur, ',');
	size_t keep = comma ? (size_t)(comma - cur) + 1 : 0;

	if (!home || !*home)
		return;
	strbuf_addf(&path, "%s/.ssh/config", home);
	host_names_from_ssh_config(path.buf, &names);
	for (size_t i = 0; i < names.nr; i++)
		if (starts_with(names.v[i], cur + keep))
			strvec_pushf(out, "%.*s%s", (int)keep, cur, names.v[i]);
	strvec_clear(&names);
	strbuf_release(&path);
}

static int
complete_frame(struct cli_frame *f, int argc, char **argv, const struct cli_cmd **sub)
{
	struct strvec out = STRVEC_INIT;
	int r = parse_options_complete(f->opts, argc, argv, &out);

	if (r > 0 && sub && f->sub >= 0) {
		*sub = f->cmd->subcmds[f->sub];
		strvec_clear(&out);
		return r;
	}
	if (r == PARSE_COMPLETE_HOSTS)
		complete_hosts(argv[argc - 1], &out);
	if (r == PARSE_COMPLETE_FILES)
		puts(":files");
	for (size_t i = 0; i < out.nr; i++)
		puts(out.v[i]);
	strvec_clear(&out);
	cli_exit(0);
}

int
cli_completing(void)
{
	return completing;
}

int
cli_complete(int argc, char **argv)
{
	char *words[] = { (char *)"genv", (char *)"", NULL };

	completing = 1;
	if (argc < 2)
		return cli_run(&cli_genv, 2, words, NULL);
	return cli_run(&cli_genv, argc, argv, NULL);
}

int
cli_parse_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
		     const struct option *opts, const struct cli_cmd **sub)
{
	struct cli_frame *f = frame_of(cmd);
	struct strbuf err = STRBUF_INIT;
	int r;

	frame_set_options(f, opts);
	if (completing)
		return complete_frame(f, argc, argv, sub);
	f->sub = -1;
	r = parse_options(&f->parse, f->opts, argc, argv, &err);
	switch (r) {
	case PARSE_OPTIONS_HELP:
		print_help(f);
		cli_exit(0);
	case PARSE_OPTIONS_DONE:
		cli_exit(0);
	case PARSE_OPTIONS_ERROR:
		print_usage_error(f, err.buf);
		cli_exit(2);
	}
	strbuf_release(&err);
	if (sub)
		*sub = f->sub >= 0 ? cmd->subcmds[f->sub] : NULL;
	if (f->sub < 0)
		check_parents();
	return r;
}

int
cli_parse_options(const struct cli_cmd *cmd, int argc, char **argv,
		  const struct option *opts)
{
	return cli_parse_subcommand(cmd, argc, argv, opts, NULL);
}

int
cli_run_subcommand(const struct cli_cmd *cmd, int argc, char **argv,
		   const struct option *opts, const struct cli_cmd *dflt, void *ctx)
{
	const struct cli_cmd *sub;
	int i = cli_parse_subcommand(cmd, argc, argv, opts, &sub);
	/* argv is never written to: parsing only reads and borrows it */
	char *dflt_argv[] = { dflt ? (char *)dflt->name : NULL, NULL };

	if (!sub)
		return cli_run(dflt, 1, dflt_argv, ctx);
	return cli_run(sub, argc - i, argv + i, ctx);
}

int
cli_help(const struct cli_cmd *cmd)
{
	print_help(frame_of(cmd));
	return 0;
}

void
cli_add_value(struct strbuf *out, const char *value)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	if (tty)
		quote_display(out, value);
	else
		strbuf_addstr(out, value);
}

void
cli_print_line(FILE *out, const char *prefix, const char *text)
{
	struct strbuf line = STRBUF_INIT;

	if (prefix)
		quote_display(&line, prefix);
	quote_display(&line, text);
	strbuf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, out);
	strbuf_release(&line);
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	print_usage_error(frame_of(cmd), msg.buf);
	strbuf_release(&msg);
	return 2;
}

int
cli_parse_long(const struct cli_cmd *cmd, const char *opt, const char *value,
	       long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (!*value || *end || errno) {
		cli_usage_error(cmd, "argument %s: invalid int value: '%s'", opt, value);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_parse_memory(const struct cli_cmd *cmd, const char **value, struct strbuf *buf)
{
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	if (*value && memory_normalize(*value, buf, &err) < 0) {
		cli_usage_error(cmd, "argument --gpu-memory: %s", err.buf);
		rc = -1;
	} else if (*value) {
		*value = buf->buf;
	}
	strbuf_release(&err);
	return rc;
}

int
cli_finish(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		fprintf(stderr, "genv: cannot write to standard output: %s\n", strerror(errno));
		return status ? status : 1;
	}
	return status;
}

void
cli_exit(int status)
{
	exit(cli_finish(status));
}
