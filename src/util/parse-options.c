/* SPDX-License-Identifier: MIT */
/*
 * parse-options.c: the option parser and the usage/help generator behind
 * every genv command line (see parse-options.h for what it accepts).
 */
#include "compat.h"
#include "util/parse-options.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <ctype.h>

#define HELP_COLUMN_MAX 24    /* argparse's max_help_position */
#define SUBCOMMAND_COLUMN 16  /* subcommand lists: room for 10-letter names */
#define HELP_WIDTH 80         /* help lines longer than this are wrapped */

/* ---- names ---- */

/* The next name of a "-o|--over" list: its start, or NULL at the end. */
static const char *
next_name(const char **p, size_t *len)
{
	const char *s = *p, *bar;

	if (!s || !*s)
		return NULL;
	bar = strchr(s, '|');
	*len = bar ? (size_t)(bar - s) : strlen(s);
	*p = bar ? bar + 1 : s + *len;
	return s;
}

static int
is_positional(const struct option *o)
{
	return o->type == OPTION_POSITIONAL || o->type == OPTION_REMAINDER ||
	       o->type == OPTION_SUBCOMMAND;
}

static int
is_option(const struct option *o)
{
	return o->type != OPTION_END && o->type != OPTION_GROUP && !is_positional(o);
}

static int
takes_value(const struct option *o)
{
	return o->type != OPTION_BOOL &&
	       !(o->type == OPTION_CALLBACK && (o->flags & PARSE_OPT_NOARG));
}

static int
takes_many(const struct option *o)
{
	return o->type == OPTION_LIST ||
	       (o->type == OPTION_CALLBACK && (o->flags & PARSE_OPT_MULTI));
}

/* The choices by their first spellings ("llm|llms": llm; llms is an alias). */
static void
add_choices(struct strbuf *sb, const char *const *choices, const char *open,
	    const char *sep, const char *close)
{
	strbuf_addstr(sb, open);
	for (size_t i = 0; choices[i]; i++)
		strbuf_addf(sb, "%s%.*s", i ? sep : "", (int)strcspn(choices[i], "|"),
			    choices[i]);
	strbuf_addstr(sb, close);
}

/* An option as messages name it: "-o/--over-subscribe", "{a,b}", "field". */
static void
add_label(struct strbuf *sb, const struct option *o, int for_required)
{
	const char *p = o->names, *n;
	size_t len;
	int first = 1;

	if (is_positional(o)) {
		if (o->names && (for_required || (o->flags & PARSE_OPT_NAME_IN_ERRORS)))
			strbuf_addstr(sb, o->names);
		else if (for_required && o->argh)
			strbuf_addstr(sb, o->argh);
		else if (o->choices)
			add_choices(sb, o->choices, "{", ",", "}");
		else
			strbuf_addstr(sb, o->argh ? o->argh : "");
		return;
	}
	while ((n = next_name(&p, &len))) {
		strbuf_addf(sb, "%s%.*s", first ? "" : "/", (int)len, n);
		first = 0;
	}
	if (o->flags & PARSE_OPT_NEGATABLE) {
		for (p = o->names; (n = next_name(&p, &len));)
			if (len > 2 && !strncmp(n, "--", 2))
				strbuf_addf(sb, "/--no-%.*s", (int)len - 2, n + 2);
	}
}

/* The metavar: argh, {the,choices}, or NAME from the first --name. */
static void
add_argh(struct strbuf *sb, const struct option *o)
{
	const char *p = o->names, *n, *pick = NULL;
	size_t len, pick_len = 0;

	if (o->argh) {
		strbuf_addstr(sb, o->argh);
		return;
	}
	if (o->choices) {
		add_choices(sb, o->choices, "{", ",", "}");
		return;
	}
	while ((n = next_name(&p, &len))) {
		if (!pick || (!starts_with(pick, "--") && !strncmp(n, "--", 2))) {
			pick = n;
			pick_len = len;
		}
	}
	for (size_t i = 0; pick && i < pick_len; i++) {
		if (pick[i] == '-' && (i == 0 || pick[i - 1] == '-'))
			continue;
		strbuf_addch(sb, pick[i] == '-' ? '_' : toupper((unsigned char)pick[i]));
	}
}

/* ---- parsing ---- */

struct parse_state {
	struct parse_opt_ctx *ctx;
	int argc;
	char **argv;
	int i;                   /* the word being parsed */
	size_t next_positional;  /* table index from which to look for one */
	struct strbuf extra;     /* words nobody took, for the error */
	struct strbuf *err;
};

/* argparse takes "-5" as a value, "-x" and "--x" as the next option. */
static int
looks_like_option(const char *s)
{
	char *end;

	if (s[0] != '-' || !s[1])
		return 0;
	(void)strtod(s, &end);
	return *end != '\0';
}

/* arg (len bytes) spells pre + name (nlen bytes), or begins it (prefix). */
static int
spells(const char *arg, size_t len, const char *pre, const char *name, size_t nlen,
       int prefix)
{
	size_t plen = strlen(pre);

	if (prefix ? len > plen + nlen : len != plen + nlen)
		return 0;
	if (len <= plen)
		return !strncmp(arg, pre, len);
	return !strncmp(arg, pre, plen) && !strncmp(arg + plen, name, len - plen);
}

/*
 * arg (len bytes) names o, exactly or as a prefix (of "--" names only);
 * *negated for --no-NAME. Returns 2 when arg begins both --NAME and
 * --no-NAME, which mean opposite things. Appends the names to matches.
 */
static int
names_match(const struct option *o, const char *arg, size_t len, int prefix,
	    struct strbuf *matches, int *negated)
{
	const char *p = o->names, *n;
	size_t nlen;
	int found = 0;

	while ((n = next_name(&p, &nlen))) {
		int dashdash = nlen > 2 && !strncmp(n, "--", 2);

		if (prefix && !dashdash)
			continue;
		for (int neg = 0; neg <= ((o->flags & PARSE_OPT_NEGATABLE) && dashdash); neg++) {
			if (!(neg ? spells(arg, len, "--no-", n + 2, nlen - 2, prefix)
				  : spells(arg, len, "", n, nlen, prefix)))
				continue;
			if (matches)
				strbuf_addf(matches, "%s%s%.*s", matches->len ? ", " : "",
					    neg ? "--no-" : "", (int)(neg ? nlen - 2 : nlen),
					    neg ? n + 2 : n);
			if (!found)
				found = 1;
			else if (*negated != neg)
				found = 2;
			*negated = neg;
		}
	}
	return found;
}

/*
 * The option arg (before any '=') names: an exact name first, then a
 * unique prefix of a long option, as argparse's allow_abbrev. Returns its
 * index, -1 when none, -2 (err set) when the prefix is ambiguous.
 */
static int
find_option(const struct option *opts, size_t nr, const char *arg, size_t len,
	    int *negated, struct strbuf *err)
{
	struct strbuf matches = STRBUF_INIT;
	int found = -1, count = 0;

	for (size_t i = 0; i < nr; i++)
		if (is_option(&opts[i]) && names_match(&opts[i], arg, len, 0, NULL, negated))
			return (int)i;
	if (len < 3 || strncmp(arg, "--", 2))
		return -1;
	for (size_t i = 0; i < nr; i++) {
		int neg, m;

		if (!is_option(&opts[i]))
			continue;
		m = names_match(&opts[i], arg, len, 1, &matches, &neg);
		if (m) {
			count += m;
			found = (int)i;
			*negated = neg;
		}
	}
	if (count > 1) {
		strbuf_addf(err, "ambiguous option: %.*s could match %s", (int)len, arg,
			    matches.buf);
		found = -2;
	}
	strbuf_release(&matches);
	return found;
}

static int
bad_choice(const struct option *o, const char *v, struct strbuf *err)
{
	strbuf_addstr(err, "argument ");
	add_label(err, o, 0);
	strbuf_addf(err, ": invalid choice: '%s' ", v);
	add_choices(err, o->choices, "(choose from '", "', '", "')");
	return PARSE_OPTIONS_ERROR;
}

/* The index of the choice v spells (any of its '|' spellings), or -1. */
static int
choice_index(const char *const *choices, const char *v)
{
	size_t vlen = strlen(v);

	for (int i = 0; choices[i]; i++) {
		const char *p = choices[i], *n;
		size_t len;

		if (!strchr(p, '|')) {
			if (!strcmp(p, v))
				return i;
			continue;
		}
		while ((n = next_name(&p, &len)))
			if (vlen == len && !strncmp(n, v, len))
				return i;
	}
	return -1;
}

static int
argument_error(const struct option *o, struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(err, "argument ");
	add_label(err, o, 0);
	strbuf_addstr(err, ": ");
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return PARSE_OPTIONS_ERROR;
}

static int
store_integer(const struct option *o, const char *v, struct strbuf *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno)
		return argument_error(o, err, "invalid int value: '%s'", v);
	if ((o->flags & PARSE_OPT_MIN) && n < o->min) {
		if (o->min == 0)
			return argument_error(o, err, "must not be negative: '%s'", v);
		return argument_error(o, err, "must be at least %ld: '%s'", o->min, v);
	}
	*(long *)o->value = n;
	return 0;
}

static int
store_value(const struct option *o, const char *v, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	int r = 0;

	switch (o->type) {
	case OPTION_INTEGER:
		return store_integer(o, v, err);
	case OPTION_STRING:
		*(const char **)o->value = v;
		return 0;
	case OPTION_CHOICE:
		if (choice_index(o->choices, v) < 0)
			return bad_choice(o, v, err);
		*(const char **)o->value = v;
		return 0;
	case OPTION_LIST:
		if (o->choices && choice_index(o->choices, v) < 0)
			return bad_choice(o, v, err);
		strvec_push(o->value, v);
		return 0;
	case OPTION_CALLBACK:
		r = o->callback(o, v, &msg);
		if (r < 0)
			r = argument_error(o, err, "%s", msg.buf);
		else if (r == PARSE_OPT_CB_DONE)
			r = PARSE_OPTIONS_DONE;
		strbuf_release(&msg);
		return r;
	default:
		return 0;
	}
}

/* A member of an exclusive group is refused once another one was given. */
static int
check_conflict(const struct parse_opt_ctx *ctx, size_t idx, struct strbuf *err)
{
	const struct option *o = &ctx->opts[idx];
	size_t other = ctx->nr;
	int listed = 0;

	if (!o->xgroup)
		return 0;
	for (size_t j = 0; j < ctx->nr; j++) {
		if (ctx->opts[j].xgroup != o->xgroup)
			continue;
		listed |= ctx->opts[j].flags & PARSE_OPT_LIST_CONFLICT;
		if (j != idx && ctx->seen[j] && other == ctx->nr)
			other = j;
	}
	if (other == ctx->nr)
		return 0;
	if (listed) {
		size_t n = 0, k = 0;

		for (size_t j = 0; j < ctx->nr; j++)
			n += ctx->opts[j].xgroup == o->xgroup;
		strbuf_addstr(err, "arguments ");
		for (size_t j = 0; j < ctx->nr; j++) {
			if (ctx->opts[j].xgroup != o->xgroup)
				continue;
			strbuf_addstr(err, !k ? "" : k + 1 == n ? " and " : ", ");
			add_label(err, &ctx->opts[j], 0);
			k++;
		}
		strbuf_addstr(err, " are mutually exclusive");
		return PARSE_OPTIONS_ERROR;
	}
	/* genv names them in table order, whatever the command line's */
	strbuf_addstr(err, "argument ");
	add_label(err, other < idx ? o : &ctx->opts[other], 0);
	strbuf_addstr(err, ": not allowed with argument ");
	add_label(err, other < idx ? &ctx->opts[other] : o, 0);
	return PARSE_OPTIONS_ERROR;
}

/* The values of o: after '=' (eq), or the next words that are no option. */
static int
take_values(struct parse_state *st, const struct option *o, const char *eq)
{
	int r;

	if (o->type == OPTION_LIST)
		strvec_clear(o->value);  /* the last occurrence wins */
	if (eq)
		return store_value(o, eq + 1, st->err);
	if (st->i + 1 >= st->argc || looks_like_option(st->argv[st->i + 1]))
		return argument_error(o, st->err, "expected %s argument",
				      takes_many(o) ? "at least one" : "one");
	do {
		r = store_value(o, st->argv[++st->i], st->err);
	} while (!r && takes_many(o) && st->i + 1 < st->argc &&
		 !looks_like_option(st->argv[st->i + 1]));
	return r;
}

static int parse_positional(struct parse_state *st, const char *word);

static int
parse_optional(struct parse_state *st, const char *arg)
{
	const struct option *opts = st->ctx->opts;
	const char *eq = starts_with(arg, "--") ? strchr(arg, '=') : NULL;
	int negated = 0, idx, r;
	const struct option *o;

	idx = find_option(opts, st->ctx->nr, arg, eq ? (size_t)(eq - arg) : strlen(arg),
			  &negated, st->err);
	if (idx == -2)
		return PARSE_OPTIONS_ERROR;
	if (idx < 0) {
		for (size_t k = st->next_positional; k < st->ctx->nr; k++)
			if (opts[k].type == OPTION_SUBCOMMAND &&
			    (opts[k].flags & PARSE_OPT_TAKE_UNKNOWN))
				return parse_positional(st, arg);
		strbuf_addf(&st->extra, "%s%s", st->extra.len ? " " : "", arg);
		return 0;
	}
	o = &opts[idx];
	r = check_conflict(st->ctx, idx, st->err);
	if (r)
		return r;
	st->ctx->seen[idx] = 1;
	if (o->seen)
		*o->seen = 1;
	if (takes_value(o))
		return take_values(st, o, eq);
	if (eq)
		return argument_error(o, st->err, "ignored explicit argument '%s'", eq + 1);
	if (o->type == OPTION_BOOL) {
		*(int *)o->value = !negated;
		return 0;
	}
	return store_value(o, NULL, st->err);
}

#define PARSE_STOP 1  /* parse_positional: this word ends the parse */

static int
parse_positional(struct parse_state *st, const char *word)
{
	const struct option *opts = st->ctx->opts;
	size_t k = st->next_positional;
	int c;

	while (k < st->ctx->nr && !is_positional(&opts[k]))
		k++;
	if (k >= st->ctx->nr) {
		strbuf_addf(&st->extra, "%s%s", st->extra.len ? " " : "", word);
		return 0;
	}
	st->next_positional = k + 1;
	st->ctx->seen[k] = 1;
	switch (opts[k].type) {
	case OPTION_POSITIONAL:
		if (opts[k].choices && choice_index(opts[k].choices, word) < 0)
			return bad_choice(&opts[k], word, st->err);
		*(const char **)opts[k].value = word;
		return 0;
	case OPTION_SUBCOMMAND:
		c = choice_index(opts[k].choices, word);
		if (c < 0)
			return bad_choice(&opts[k], word, st->err);
		*(int *)opts[k].value = c;
		return PARSE_STOP;
	default:
		return PARSE_STOP;  /* OPTION_REMAINDER */
	}
}

void
parse_opt_ctx_release(struct parse_opt_ctx *ctx)
{
	free(ctx->seen);
	ctx->seen = NULL;
	ctx->opts = NULL;
	ctx->nr = 0;
}

static int
parse_words(struct parse_state *st)
{
	int only_positional = 0, r = 0;

	for (st->i = 1; st->i < st->argc; st->i++) {
		const char *arg = st->argv[st->i];

		if (only_positional || !looks_like_option(arg))
			r = parse_positional(st, arg);
		else if (!strcmp(arg, "--"))
			only_positional = 1;
		else if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return PARSE_OPTIONS_HELP;
		else
			r = parse_optional(st, arg);
		if (r)
			return r;
	}
	return 0;
}

int
parse_options(struct parse_opt_ctx *ctx, const struct option *opts, int argc,
	      char **argv, struct strbuf *err)
{
	struct parse_state st = { ctx, argc, argv, 1, 0, STRBUF_INIT, err };
	int r, subcommand = 0;

	parse_opt_ctx_release(ctx);
	ctx->opts = opts;
	while (opts[ctx->nr].type != OPTION_END)
		ctx->nr++;
	ctx->seen = xcalloc(ctx->nr + 1, 1);
	ctx->checked = 0;
	r = parse_words(&st);
	if (r == PARSE_STOP) {
		subcommand = opts[st.next_positional - 1].type == OPTION_SUBCOMMAND;
		r = 0;
	}
	if (!r && st.extra.len) {
		strbuf_addf(err, "unrecognized arguments: %s", st.extra.buf);
		r = PARSE_OPTIONS_ERROR;
	}
	if (!r && !subcommand && parse_options_check(ctx, err) < 0)
		r = PARSE_OPTIONS_ERROR;
	strbuf_release(&st.extra);
	return r ? r : st.i < argc ? st.i : argc;
}

static int
is_required(const struct option *o)
{
	return (o->flags & PARSE_OPT_REQUIRED) && !o->xgroup;
}

int
parse_options_check(struct parse_opt_ctx *ctx, struct strbuf *err)
{
	struct strbuf missing = STRBUF_INIT;

	ctx->checked = 1;
	/* argparse lists the options first, then the positional arguments */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ctx->nr; i++) {
			const struct option *o = &ctx->opts[i];

			if (is_positional(o) != pass || !is_required(o) || ctx->seen[i])
				continue;
			if (missing.len)
				strbuf_addstr(&missing, ", ");
			add_label(&missing, o, 1);
		}
	}
	if (missing.len) {
		strbuf_addf(err, "the following arguments are required: %s", missing.buf);
		strbuf_release(&missing);
		return -1;
	}
	for (size_t i = 0; i < ctx->nr; i++) {
		const struct option *o = &ctx->opts[i];
		int group_seen = 0, first = 1;

		if (!o->xgroup || !(o->flags & PARSE_OPT_REQUIRED))
			continue;
		for (size_t j = 0; j < ctx->nr; j++)
			group_seen |= ctx->opts[j].xgroup == o->xgroup && ctx->seen[j];
		if (group_seen)
			continue;
		strbuf_addstr(err, "one of the arguments ");
		for (size_t j = 0; j < ctx->nr; j++) {
			if (ctx->opts[j].xgroup != o->xgroup)
				continue;
			if (!first)
				strbuf_addch(err, ' ');
			add_label(err, &ctx->opts[j], 0);
			first = 0;
		}
		strbuf_addstr(err, " is required");
		return -1;
	}
	return 0;
}

/* ---- usage ---- */

static int
in_usage(const struct option *o)
{
	return o->type != OPTION_END && o->type != OPTION_GROUP &&
	       !(o->flags & (PARSE_OPT_HIDDEN | PARSE_OPT_NOUSAGE));
}

/* The name the usage line shows: "-o", else "--over-subscribe". */
static void
add_usage_name(struct strbuf *sb, const struct option *o)
{
	const char *p = o->names, *n, *pick = NULL;
	size_t len, pick_len = 0;

	while ((n = next_name(&p, &len))) {
		if (len == 2 && n[0] == '-' && n[1] != '-') {
			pick = n;
			pick_len = len;
			break;
		}
		if (!pick || (strncmp(pick, "--", 2) && !strncmp(n, "--", 2))) {
			pick = n;
			pick_len = len;
		}
	}
	strbuf_add(sb, pick, pick_len);
}

/* What follows an option's name: "", " GPUS" or " Q [Q ...]". */
static void
add_value_metavar(struct strbuf *sb, const struct option *o)
{
	if (!takes_value(o))
		return;
	strbuf_addch(sb, ' ');
	add_argh(sb, o);
	if (takes_many(o)) {
		strbuf_addstr(sb, " [");
		add_argh(sb, o);
		strbuf_addstr(sb, " ...]");
	}
}

/* The first "--name" of o as "--no-name" (PARSE_OPT_NEGATABLE). */
static void
add_negation(struct strbuf *sb, const struct option *o)
{
	const char *p = o->names, *n;
	size_t len;

	while ((n = next_name(&p, &len))) {
		if (len > 2 && !strncmp(n, "--", 2)) {
			strbuf_addf(sb, "--no-%.*s", (int)len - 2, n + 2);
			return;
		}
	}
}

/* "--gpus GPUS", "--query Q [Q ...]", "--x | --no-x" */
static void
add_usage_option(struct strbuf *sb, const struct option *o)
{
	add_usage_name(sb, o);
	if (o->flags & PARSE_OPT_NEGATABLE) {
		strbuf_addstr(sb, " | ");
		add_negation(sb, o);
	}
	add_value_metavar(sb, o);
}

/*
 * Appends the usage of the options from opts[*i]: an exclusive group
 * "[a | b]" ("(a | b)" when one is required), or one option "[--x X]".
 * Advances *i past what it used.
 */
static void
add_usage_optional(struct strbuf *sb, const struct option *opts, size_t *i)
{
	const struct option *o = &opts[*i];
	int required = 0;

	if (!o->xgroup) {
		int brackets = !(o->flags & PARSE_OPT_REQUIRED);

		strbuf_addstr(sb, brackets ? "[" : "");
		add_usage_option(sb, o);
		strbuf_addstr(sb, brackets ? "]" : "");
		return;
	}
	for (size_t j = *i; opts[j].type != OPTION_END && opts[j].xgroup == o->xgroup; j++)
		required |= opts[j].flags & PARSE_OPT_REQUIRED;
	strbuf_addch(sb, required ? '(' : '[');
	for (; opts[*i].type != OPTION_END && opts[*i].xgroup == o->xgroup; ++*i) {
		if (!in_usage(&opts[*i]))
			continue;
		if (sb->buf[sb->len - 1] != '(' && sb->buf[sb->len - 1] != '[')
			strbuf_addstr(sb, " | ");
		add_usage_option(sb, &opts[*i]);
	}
	--*i;
	strbuf_addch(sb, required ? ')' : ']');
}

/* Positionals: "A", "[A [B]]" (a second optional one only after the first), "CMD ...". */
static void
add_usage_positionals(struct strvec *parts, const struct option *opts)
{
	struct strbuf sb = STRBUF_INIT;
	size_t open = 0;

	for (size_t i = 0; opts[i].type != OPTION_END; i++) {
		const struct option *o = &opts[i];
		int optional = !(o->flags & PARSE_OPT_REQUIRED);

		if (!is_positional(o) || !in_usage(o))
			continue;
		if (o->type == OPTION_POSITIONAL && optional && open) {
			strbuf_addstr(&sb, " [");
			add_argh(&sb, o);
			open++;
			continue;
		}
		for (; open; open--)
			strbuf_addch(&sb, ']');
		if (sb.len)
			strvec_push(parts, sb.buf);
		strbuf_reset(&sb);
		if (o->type == OPTION_POSITIONAL) {
			strbuf_addstr(&sb, optional ? "[" : "");
			add_argh(&sb, o);
			open = optional;
		} else if (o->type == OPTION_REMAINDER) {
			strbuf_addstr(&sb, optional ? "[" : "[--] ");
			add_argh(&sb, o);
			strbuf_addstr(&sb, optional ? " ...]" : " [ARG ...]");
		} else {
			add_argh(&sb, o);
			strbuf_addstr(&sb, " ...");
		}
	}
	for (; open; open--)
		strbuf_addch(&sb, ']');
	if (sb.len)
		strvec_push(parts, sb.buf);
	strbuf_release(&sb);
}

void
parse_options_usage(struct strbuf *out, const char *prog, const struct option *opts)
{
	struct strvec positionals = STRVEC_INIT;
	struct strbuf part = STRBUF_INIT;
	size_t indent = strlen("usage: ") + strlen(prog) + 1;

	strbuf_addf(out, "usage: %s [-h]", prog);
	for (size_t i = 0; opts[i].type != OPTION_END; i++) {
		int brk = opts[i].flags & PARSE_OPT_USAGE_BREAK;

		if (!is_option(&opts[i]) || !in_usage(&opts[i]))
			continue;
		strbuf_reset(&part);
		add_usage_optional(&part, opts, &i);
		if (brk) {
			strbuf_addch(out, '\n');
			strbuf_addpad(out, "", indent);
		} else {
			strbuf_addch(out, ' ');
		}
		strbuf_addbuf(out, &part);
	}
	add_usage_positionals(&positionals, opts);
	for (size_t i = 0; i < positionals.nr; i++)
		strbuf_addf(out, " %s", positionals.v[i]);
	strbuf_addch(out, '\n');
	strvec_clear(&positionals);
	strbuf_release(&part);
}

/* ---- help ---- */

/* "-o, --over-subscribe", "--eid EID, --id EID", "--x, --no-x", "{a,b}" */
static void
add_invocation(struct strbuf *sb, const struct option *o)
{
	const char *p, *n;
	size_t len, start = sb->len;

	if (o->invocation) {
		strbuf_addstr(sb, o->invocation);
		return;
	}
	if (is_positional(o)) {
		add_argh(sb, o);
		return;
	}
	/* one-letter names first, then the others, each in table order */
	for (int pass = 0; pass < 2; pass++) {
		for (p = o->names; (n = next_name(&p, &len));) {
			if ((len == 2 && n[1] != '-') != !pass)
				continue;
			strbuf_addf(sb, "%s%.*s", sb->len > start ? ", " : "", (int)len, n);
			add_value_metavar(sb, o);
		}
	}
	if (o->flags & PARSE_OPT_NEGATABLE) {
		strbuf_addstr(sb, ", ");
		add_negation(sb, o);
	}
}

/* Appends text from column col, wrapped at spaces before width (0: never). */
static void
add_wrapped(struct strbuf *out, const char *text, size_t len, size_t col, size_t width)
{
	while (width > col && col + len > width) {
		size_t cut = width - col;

		while (cut && text[cut] != ' ')
			cut--;
		if (!cut) {  /* one long word: break after it */
			while (cut < len && text[cut] != ' ')
				cut++;
			if (cut == len)
				break;
		}
		strbuf_add(out, text, cut);
		strbuf_addch(out, '\n');
		strbuf_addpad(out, "", col);
		text += cut + 1;
		len -= cut + 1;
	}
	strbuf_add(out, text, len);
}

/*
 * One entry: the invocation indented by indent, its help from column col
 * (on the next line when the invocation does not leave two spaces), each
 * '\n' of the help starting a new line at col, lines wrapped before width
 * (0: not wrapped).
 */
static void
add_entry(struct strbuf *out, const char *invocation, const char *help, size_t indent,
	  size_t col, size_t width)
{
	size_t start = out->len;

	strbuf_addpad(out, "", indent);
	strbuf_addstr(out, invocation);
	if (!help) {
		strbuf_addch(out, '\n');
		return;
	}
	if (indent + strlen(invocation) + 2 <= col) {
		strbuf_addpad(out, "", col - (out->len - start));
	} else {
		strbuf_addch(out, '\n');
		strbuf_addpad(out, "", col);
	}
	for (;;) {
		const char *nl = strchr(help, '\n');

		add_wrapped(out, help, nl ? (size_t)(nl - help) : strlen(help), col, width);
		strbuf_addch(out, '\n');
		if (!nl || !nl[1])
			break;
		help = nl + 1;
		strbuf_addpad(out, "", col);
	}
}

static int
visible(const struct option *o)
{
	return o->type != OPTION_END && !(o->flags & PARSE_OPT_HIDDEN);
}

/* argparse: two columns after the longest invocation, at most HELP_COLUMN_MAX. */
static size_t
help_column(const struct option *opts)
{
	struct strbuf inv = STRBUF_INIT;
	size_t longest = strlen("-h, --help");

	for (size_t i = 0; opts[i].type != OPTION_END; i++) {
		if (!visible(&opts[i]) || opts[i].type == OPTION_GROUP ||
		    opts[i].type == OPTION_SUBCOMMAND)
			continue;
		strbuf_reset(&inv);
		add_invocation(&inv, &opts[i]);
		if (inv.len > longest)
			longest = inv.len;
	}
	strbuf_release(&inv);
	return longest + 4 < HELP_COLUMN_MAX ? longest + 4 : HELP_COLUMN_MAX;
}

static void
add_subcommands(struct strbuf *out, const struct option *o, size_t col)
{
	strbuf_addf(out, "\n%s:\n", o->help);
	if (col < SUBCOMMAND_COLUMN)
		col = SUBCOMMAND_COLUMN;
	for (size_t i = 0; o->choices[i]; i++) {
		struct strbuf name = STRBUF_INIT;

		if (!o->choice_help || !o->choice_help[i])
			continue;
		strbuf_add(&name, o->choices[i], strcspn(o->choices[i], "|"));
		/* a summary stays one line, as atop its own help */
		add_entry(out, name.buf, o->choice_help[i], 4, col, 0);
		strbuf_release(&name);
	}
}

static void
add_options_title(struct strbuf *out, size_t col, int *done)
{
	if (*done)
		return;
	strbuf_addstr(out, "\noptions:\n");
	add_entry(out, "-h, --help", "show this help message and exit", 2, col, HELP_WIDTH);
	*done = 1;
}

static void
add_sections(struct strbuf *out, const struct option *opts, size_t col)
{
	struct strbuf inv = STRBUF_INIT;
	int options_done = 0, positionals = 0;

	for (size_t i = 0; opts[i].type != OPTION_END; i++) {
		if (!visible(&opts[i]) || !is_positional(&opts[i]) ||
		    opts[i].type == OPTION_SUBCOMMAND)
			continue;
		if (!positionals++)
			strbuf_addstr(out, "\npositional arguments:\n");
		strbuf_reset(&inv);
		add_invocation(&inv, &opts[i]);
		add_entry(out, inv.buf, opts[i].help, 2, col, HELP_WIDTH);
	}
	for (size_t i = 0; opts[i].type != OPTION_END; i++) {
		const struct option *o = &opts[i];

		if (!visible(o) || o->type == OPTION_POSITIONAL || o->type == OPTION_REMAINDER)
			continue;
		if (o->type == OPTION_SUBCOMMAND) {
			add_subcommands(out, o, col);
			continue;
		}
		add_options_title(out, col, &options_done);
		if (o->type == OPTION_GROUP) {
			strbuf_addf(out, "\n%s:\n", o->help);
			continue;
		}
		strbuf_reset(&inv);
		add_invocation(&inv, o);
		add_entry(out, inv.buf, o->help, 2, col, HELP_WIDTH);
	}
	add_options_title(out, col, &options_done);
	strbuf_release(&inv);
}

static void
add_paragraphs(struct strbuf *out, const char *text)
{
	if (!text || !*text)
		return;
	strbuf_addch(out, '\n');
	strbuf_addstr(out, text);
	if (text[strlen(text) - 1] != '\n')
		strbuf_addch(out, '\n');
}

void
parse_options_help(struct strbuf *out, const struct parse_help *help,
		   const struct option *opts)
{
	size_t col = help->column > 0 ? (size_t)help->column : help_column(opts);

	parse_options_usage(out, help->prog, opts);
	add_paragraphs(out, help->summary);
	add_paragraphs(out, help->description);
	add_sections(out, opts, col);
	add_paragraphs(out, help->epilog);
}

/* ---- completion ---- */

struct complete_state {
	const char *cur;       /* the word being typed */
	struct strvec *out;
};

/* Adds pre + word (len bytes) when it begins with cur, with help on one line. */
static void
add_candidate(struct complete_state *cs, const char *pre, const char *word, size_t len,
	      const char *help)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, pre);
	strbuf_add(&sb, word, len);
	if (!starts_with(sb.buf, cs->cur)) {
		strbuf_release(&sb);
		return;
	}
	if (help && *help) {
		strbuf_addch(&sb, '\t');
		for (const char *p = help; *p; p++)
			strbuf_addch(&sb, *p == '\n' || *p == '\t' ? ' ' : *p);
	}
	strvec_push_nodup(cs->out, strbuf_detach(&sb, NULL));
}

/* The values of o after pre ("" or "--format="): its choices, else files. */
static int
complete_values(struct complete_state *cs, const struct option *o, const char *pre)
{
	if (o->flags & PARSE_OPT_COMPLETE_HOSTS)
		return PARSE_COMPLETE_HOSTS;
	if (!o->choices)
		return PARSE_COMPLETE_FILES;
	for (size_t i = 0; o->choices[i]; i++)
		add_candidate(cs, pre, o->choices[i], strcspn(o->choices[i], "|"), NULL);
	return 0;
}

static int
complete_option(struct complete_state *cs, const struct option *opts, size_t nr)
{
	const char *eq = starts_with(cs->cur, "--") ? strchr(cs->cur, '=') : NULL;
	struct strbuf err = STRBUF_INIT;
	int neg, idx;

	if (eq) {
		struct strbuf pre = STRBUF_INIT;
		int r = 0;

		idx = find_option(opts, nr, cs->cur, (size_t)(eq - cs->cur), &neg, &err);
		strbuf_add(&pre, cs->cur, (size_t)(eq - cs->cur) + 1);
		if (idx >= 0 && takes_value(&opts[idx]))
			r = complete_values(cs, &opts[idx], pre.buf);
		strbuf_release(&pre);
		strbuf_release(&err);
		return r;
	}
	for (size_t i = 0; i < nr; i++) {
		const char *p = opts[i].names, *n;
		size_t len;

		if (!is_option(&opts[i]) || (opts[i].flags & PARSE_OPT_HIDDEN))
			continue;
		while ((n = next_name(&p, &len))) {
			add_candidate(cs, "", n, len, opts[i].help);
			if ((opts[i].flags & PARSE_OPT_NEGATABLE) && len > 2 && starts_with(n, "--"))
				add_candidate(cs, "--no-", n + 2, len - 2, NULL);
		}
	}
	add_candidate(cs, "", "-h", 2, "show this help message and exit");
	add_candidate(cs, "", "--help", 6, "show this help message and exit");
	return 0;
}

/* The positional opts[k] at the word being typed. */
static int
complete_positional(struct complete_state *cs, const struct option *o)
{
	if (o->type == OPTION_SUBCOMMAND) {
		for (size_t j = 0; o->choices[j]; j++)
			if (!o->choice_help || o->choice_help[j])
				add_candidate(cs, "", o->choices[j], strcspn(o->choices[j], "|"),
					      o->choice_help ? o->choice_help[j] : NULL);
		return 0;
	}
	if (o->type == OPTION_POSITIONAL && o->choices)
		return complete_values(cs, o, "");
	return PARSE_COMPLETE_FILES;
}

static size_t
next_positional(const struct option *opts, size_t nr, size_t k)
{
	while (k < nr && !is_positional(&opts[k]))
		k++;
	return k;
}

int
parse_options_complete(const struct option *opts, int argc, char **argv, struct strvec *out)
{
	struct complete_state cs = { argc > 1 ? argv[argc - 1] : "", out };
	const struct option *pending = NULL;  /* an option waiting for its value */
	struct strbuf err = STRBUF_INIT;
	size_t nr = 0, k = 0;
	int only_positional = 0, neg;

	while (opts[nr].type != OPTION_END)
		nr++;
	for (int i = 1; i < argc - 1; i++) {
		const char *w = argv[i];

		if (pending && (only_positional || !looks_like_option(w))) {
			if (!takes_many(pending))
				pending = NULL;  /* a list takes the words that follow */
			continue;
		}
		pending = NULL;
		if (!only_positional && !strcmp(w, "--")) {
			only_positional = 1;
		} else if (!only_positional && looks_like_option(w)) {
			const char *eq = starts_with(w, "--") ? strchr(w, '=') : NULL;
			int idx = find_option(opts, nr, w, eq ? (size_t)(eq - w) : strlen(w),
					      &neg, &err);

			if (idx >= 0 && takes_value(&opts[idx]) && !eq)
				pending = &opts[idx];
		} else if ((k = next_positional(opts, nr, k)) < nr) {
			const struct option *o = &opts[k++];

			if (o->type == OPTION_REMAINDER)
				return strbuf_release(&err), PARSE_COMPLETE_FILES;
			if (o->type == OPTION_SUBCOMMAND) {
				int c = choice_index(o->choices, w);

				strbuf_release(&err);
				if (c < 0)
					return 0;
				*(int *)o->value = c;
				return i;
			}
		}
	}
	strbuf_release(&err);
	if (pending)
		return complete_values(&cs, pending, "");
	if (!only_positional && cs.cur[0] == '-')
		return complete_option(&cs, opts, nr);
	k = next_positional(opts, nr, k);
	return k < nr ? complete_positional(&cs, &opts[k]) : 0;
}
