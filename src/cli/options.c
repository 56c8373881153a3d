/* SPDX-License-Identifier: MIT */
/*
 * options.c: argparse-compatible option parsing for the commands that have
 * subcommands, so that every 1.4.3 command line keeps working and mistakes
 * are reported with argparse's words and exit status 2.
 */
#include "compat.h"
#include "cli/options.h"
#include "cli/cli.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static void
opt_display(struct strbuf *out, const struct cli_opt *o)
{
	strbuf_addstr(out, o->name);
	if (o->alias)
		strbuf_addf(out, "/%s", o->alias);
}

/* argparse takes "-5" as a value, "-x" and "--x" as the next option. */
static int
looks_like_option(const char *s)
{
	char *end;

	if (s[0] != '-' || !s[1])
		return 0;
	errno = 0;
	(void)strtod(s, &end);
	return *end != '\0';
}

static int
is_choice(const char *const *choices, const char *v)
{
	if (!choices)
		return 1;
	for (size_t i = 0; choices[i]; i++)
		if (!strcmp(choices[i], v))
			return 1;
	return 0;
}

static int
bad_choice(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	struct strbuf name = STRBUF_INIT, list = STRBUF_INIT;

	opt_display(&name, o);
	for (size_t i = 0; o->choices[i]; i++)
		strbuf_addf(&list, "%s'%s'", i ? ", " : "", o->choices[i]);
	cli_usage_error(cmd, "argument %s: invalid choice: '%s' (choose from %s)",
			name.buf, v, list.buf);
	strbuf_release(&name);
	strbuf_release(&list);
	return CLI_PARSE_ERROR;
}

/*
 * Finds the option spelled arg (before any '='): an exact name first, then
 * a unique prefix of a long option, as argparse's allow_abbrev does.
 */
static const struct cli_opt *
find_opt(const struct cli_cmd *cmd, const struct cli_opt *opts, const char *arg,
	 size_t len, int *error)
{
	const struct cli_opt *match = NULL;
	struct strbuf matches = STRBUF_INIT;
	int n = 0;

	*error = 0;
	for (const struct cli_opt *o = opts; o->name; o++) {
		if ((strlen(o->name) == len && !strncmp(o->name, arg, len)) ||
		    (o->alias && strlen(o->alias) == len && !strncmp(o->alias, arg, len)))
			return o;
	}
	if (len < 3 || strncmp(arg, "--", 2))
		return NULL;
	for (const struct cli_opt *o = opts; o->name; o++) {
		const char *names[2] = { o->name, o->alias };

		for (int k = 0; k < 2; k++) {
			if (!names[k] || strncmp(names[k], "--", 2) ||
			    strncmp(names[k], arg, len))
				continue;
			strbuf_addf(&matches, "%s%s", n ? ", " : "", names[k]);
			if (match != o)
				n++;
			match = o;
		}
	}
	if (n > 1) {
		cli_usage_error(cmd, "ambiguous option: %.*s could match %s",
				(int)len, arg, matches.buf);
		*error = 1;
		match = NULL;
	}
	strbuf_release(&matches);
	return match;
}

static int
store_value(const struct cli_cmd *cmd, const struct cli_opt *o, const char *v)
{
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	switch (o->type) {
	case CLI_OPT_STRING:
		*(const char **)o->value = v;
		break;
	case CLI_OPT_CHOICE:
		if (!is_choice(o->choices, v))
			return bad_choice(cmd, o, v);
		*(const char **)o->value = v;
		break;
	case CLI_OPT_LONG:
		opt_display(&name, o);
		if (cli_parse_long(cmd, name.buf, v, (long *)o->value) < 0)
			ret = CLI_PARSE_ERROR;
		break;
	case CLI_OPT_LIST:
		if (!is_choice(o->choices, v))
			return bad_choice(cmd, o, v);
		strvec_push((struct strvec *)o->value, v);
		break;
	case CLI_OPT_FLAG:
		break;
	}
	strbuf_release(&name);
	return ret;
}

int
cli_parse_options(const struct cli_cmd *cmd, int argc, char **argv,
		  const struct cli_opt *opts, unsigned flags)
{
	struct strbuf extra = STRBUF_INIT;
	int only_positional = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq, *value = NULL;
		const struct cli_opt *o;
		struct strbuf name = STRBUF_INIT;
		int error;

		if (only_positional || !looks_like_option(arg)) {
			if (flags & CLI_PARSE_STOP_AT_POSITIONAL)
				break;
			strbuf_addf(&extra, "%s%s", extra.len ? " " : "", arg);
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_positional = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			strbuf_release(&extra);
			cli_help(cmd);
			return CLI_PARSE_HELP;
		}
		eq = starts_with(arg, "--") ? strchr(arg, '=') : NULL;
		o = find_opt(cmd, opts, arg, eq ? (size_t)(eq - arg) : strlen(arg), &error);
		if (error) {
			strbuf_release(&extra);
			return CLI_PARSE_ERROR;
		}
		if (!o) {
			strbuf_addf(&extra, "%s%s", extra.len ? " " : "", arg);
			continue;
		}
		opt_display(&name, o);
		if (o->seen)
			*o->seen = 1;
		if (o->type == CLI_OPT_FLAG) {
			if (eq) {
				cli_usage_error(cmd, "argument %s: ignored explicit argument '%s'",
						name.buf, eq + 1);
				goto error;
			}
			*(int *)o->value = 1;
			strbuf_release(&name);
			continue;
		}
		if (o->type == CLI_OPT_LIST)
			strvec_clear((struct strvec *)o->value);  /* last one wins */
		if (eq) {
			value = eq + 1;
		} else if (i + 1 < argc && !looks_like_option(argv[i + 1])) {
			value = argv[++i];
		} else {
			cli_usage_error(cmd, "argument %s: expected %s argument", name.buf,
					o->type == CLI_OPT_LIST ? "at least one" : "one");
			goto error;
		}
		if (store_value(cmd, o, value) < 0)
			goto error;
		if (o->type == CLI_OPT_LIST && !eq) {
			while (i + 1 < argc && !looks_like_option(argv[i + 1])) {
				if (store_value(cmd, o, argv[++i]) < 0)
					goto error;
			}
		}
		strbuf_release(&name);
		continue;
error:
		strbuf_release(&name);
		strbuf_release(&extra);
		return CLI_PARSE_ERROR;
	}
	if (extra.len) {
		cli_usage_error(cmd, "unrecognized arguments: %s", extra.buf);
		strbuf_release(&extra);
		return CLI_PARSE_ERROR;
	}
	strbuf_release(&extra);
	return i;
}

int
cli_find_subcommand(const struct cli_cmd *parent, const char *const *names,
		    const char *name)
{
	struct strbuf list = STRBUF_INIT, meta = STRBUF_INIT;

	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return i;
	for (int i = 0; names[i]; i++) {
		strbuf_addf(&list, "%s'%s'", i ? ", " : "", names[i]);
		strbuf_addf(&meta, "%s%s", i ? "," : "{", names[i]);
	}
	strbuf_addch(&meta, '}');
	cli_usage_error(parent, "argument %s: invalid choice: '%s' (choose from %s)",
			meta.buf, name, list.buf);
	strbuf_release(&list);
	strbuf_release(&meta);
	return -1;
}
