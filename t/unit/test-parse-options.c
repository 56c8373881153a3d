/* SPDX-License-Identifier: MIT */
/*
 * test-parse-options.c: the option parser (argparse's syntax and words)
 * and the usage and help generated from an options table.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "util/parse-options.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static struct strvec args = STRVEC_INIT;
static struct parse_opt_ctx ctx = PARSE_OPT_CTX_INIT;
static struct strbuf err = STRBUF_INIT;

/*
 * Parses "cmd" + words (split at single spaces; "" is no word) against
 * opts; the words stay alive until the next call.
 */
static int
parse(const struct option *opts, const char *words)
{
	const char *w = words;

	strvec_clear(&args);
	strvec_push(&args, "cmd");
	while (*w) {
		const char *sp = strchr(w, ' ');
		size_t len = sp ? (size_t)(sp - w) : strlen(w);

		strvec_pushf(&args, "%.*s", (int)len, w);
		w += len + (sp != NULL);
	}
	strbuf_reset(&err);
	return parse_options(&ctx, opts, (int)args.nr, args.v, &err);
}

static int
teardown(void **state UNUSED)
{
	strvec_clear(&args);
	parse_opt_ctx_release(&ctx);
	strbuf_release(&err);
	return 0;
}

static void
expect_error(const struct option *opts, const char *words, const char *message)
{
	int r = parse(opts, words);

	if (r != PARSE_OPTIONS_ERROR)
		fail_msg("'%s': %d, not an error", words, r);
	assert_string_equal(err.buf, message);
}

/* ---- values ---- */

struct values {
	int flag, over, seen_count;
	long count;
	const char *name, *format;
	struct strvec list;
};

static const char *const formats[] = { "csv", "tui", NULL };

#define VALUE_OPTIONS(v) \
	OPT_BOOL("--flag", &(v)->flag, "a flag"), \
	OPT_BOOL("--over-subscribe|-o", &(v)->over, "a flag with a short name"), \
	OPT_INTEGER("--count", &(v)->count, NULL, "an integer", .seen = &(v)->seen_count), \
	OPT_STRING("--name|--id", &(v)->name, NULL, "a string"), \
	OPT_CHOICE("--format", &(v)->format, formats, "a choice"), \
	OPT_LIST("--query|--queries", &(v)->list, formats, "a list"), \
	OPT_END()

static void
values(void **state UNUSED)
{
	struct values v = { .format = "tui", .list = STRVEC_INIT };
	const struct option opts[] = { VALUE_OPTIONS(&v) };

	assert_int_equal(parse(opts, "--flag -o --count 3 --name=x --format csv"), 8);
	assert_int_equal(v.flag, 1);
	assert_int_equal(v.over, 1);
	assert_int_equal(v.count, 3);
	assert_int_equal(v.seen_count, 1);
	assert_string_equal(v.name, "x");
	assert_string_equal(v.format, "csv");

	/* argparse: "-5" is a value, a later occurrence wins */
	assert_int_equal(parse(opts, "--count -5 --id y --count=7 --name z"), 8);
	assert_int_equal(v.count, 7);
	assert_string_equal(v.name, "z");

	/* a list takes every following word; its last occurrence wins */
	assert_true(parse(opts, "--query csv --queries tui csv --flag") > 0);
	assert_int_equal(v.list.nr, 2);
	assert_string_equal(v.list.v[0], "tui");
	assert_string_equal(v.list.v[1], "csv");
	assert_true(parse(opts, "--query=csv") > 0);
	assert_int_equal(v.list.nr, 1);
	strvec_clear(&v.list);
}

static void
abbreviations(void **state UNUSED)
{
	struct values v = { .format = "tui", .list = STRVEC_INIT };
	const struct option opts[] = { VALUE_OPTIONS(&v) };

	assert_true(parse(opts, "--fl --cou 2 --form=csv --que tui") > 0);
	assert_int_equal(v.flag, 1);
	assert_int_equal(v.count, 2);
	assert_string_equal(v.format, "csv");
	/* one option's two names are not ambiguous */
	assert_int_equal(v.list.nr, 1);
	expect_error(opts, "--f", "ambiguous option: --f could match --flag, --format");
	strvec_clear(&v.list);
}

static void
negation(void **state UNUSED)
{
	int memory = 1, devices = 0, dry = 0;
	const struct option opts[] = {
		OPT_BOOL("--env-memory", &memory, "on", .flags = PARSE_OPT_NEGATABLE),
		OPT_BOOL("--env-devices", &devices, "off", .flags = PARSE_OPT_NEGATABLE),
		OPT_BOOL("--dry-run", &dry, "dry"),
		OPT_END(),
	};

	assert_true(parse(opts, "--no-env-memory --env-devices") > 0);
	assert_int_equal(memory, 0);
	assert_int_equal(devices, 1);
	assert_true(parse(opts, "--env-memory --no-env-d") > 0);
	assert_int_equal(memory, 1);
	assert_int_equal(devices, 0);
	expect_error(opts, "--no-env", "ambiguous option: --no-env could match "
		     "--no-env-memory, --no-env-devices");
	/* --env and --no-env... of one option still mean two things */
	expect_error(opts, "--env-m=1", "argument --env-memory/--no-env-memory: "
		     "ignored explicit argument '1'");
	expect_error(opts, "--no-dry-run", "unrecognized arguments: --no-dry-run");
}

static void
errors(void **state UNUSED)
{
	struct values v = { .format = "tui", .list = STRVEC_INIT };
	const struct option opts[] = { VALUE_OPTIONS(&v) };

	expect_error(opts, "--bogus x --flag -y", "unrecognized arguments: --bogus x -y");
	expect_error(opts, "--count", "argument --count: expected one argument");
	expect_error(opts, "--count --flag", "argument --count: expected one argument");
	expect_error(opts, "--count x", "argument --count: invalid int value: 'x'");
	expect_error(opts, "--count=", "argument --count: invalid int value: ''");
	expect_error(opts, "--count 99999999999999999999",
		     "argument --count: invalid int value: '99999999999999999999'");
	expect_error(opts, "--format xml",
		     "argument --format: invalid choice: 'xml' (choose from 'csv', 'tui')");
	expect_error(opts, "--query", "argument --query/--queries: expected at least one argument");
	expect_error(opts, "--query csv bad",
		     "argument --query/--queries: invalid choice: 'bad' (choose from 'csv', 'tui')");
	expect_error(opts, "--flag=yes", "argument --flag: ignored explicit argument 'yes'");
	expect_error(opts, "-o=1", "unrecognized arguments: -o=1");
	/* help wins over unknown words before it, not over errors */
	assert_int_equal(parse(opts, "--bogus -h"), PARSE_OPTIONS_HELP);
	assert_int_equal(parse(opts, "--flag --help"), PARSE_OPTIONS_HELP);
	expect_error(opts, "--count x -h", "argument --count: invalid int value: 'x'");
	/* after "--" nothing is an option */
	expect_error(opts, "-- --flag", "unrecognized arguments: --flag");
	strvec_clear(&v.list);
}

static void
minimum(void **state UNUSED)
{
	long grace = 10, parallel = 32;
	const struct option opts[] = {
		OPT_INTEGER("--grace", &grace, NULL, "", .flags = PARSE_OPT_MIN),
		OPT_INTEGER("--parallel", &parallel, NULL, "", .flags = PARSE_OPT_MIN, .min = 1),
		OPT_END(),
	};

	assert_true(parse(opts, "--grace 0 --parallel 1") > 0);
	assert_int_equal(grace, 0);
	assert_int_equal(parallel, 1);
	expect_error(opts, "--grace -1", "argument --grace: must not be negative: '-1'");
	expect_error(opts, "--parallel 0", "argument --parallel: must be at least 1: '0'");
}

static int
add_limit(const struct option *opt, const char *arg, struct strbuf *e)
{
	if (!strchr(arg, '=')) {
		strbuf_addf(e, "not a valid spec: %s", arg);
		return -1;
	}
	strvec_push(opt->value, arg);
	return 0;
}

static int
version(const struct option *opt UNUSED, const char *arg, struct strbuf *e UNUSED)
{
	assert_null(arg);
	return PARSE_OPT_CB_DONE;
}

static void
callbacks(void **state UNUSED)
{
	struct strvec limits = STRVEC_INIT;
	const struct option opts[] = {
		OPT_CALLBACK("--limit", &limits, "USER=N", add_limit, "", .flags = PARSE_OPT_MULTI),
		OPT_CALLBACK("--version", NULL, NULL, version, "", .flags = PARSE_OPT_NOARG),
		OPT_END(),
	};

	/* values accumulate: the callback decides */
	assert_true(parse(opts, "--limit a=1 b=2 --limit c=3") > 0);
	assert_int_equal(limits.nr, 3);
	expect_error(opts, "--limit a=1 b", "argument --limit: not a valid spec: b");
	expect_error(opts, "--limit", "argument --limit: expected at least one argument");
	assert_int_equal(parse(opts, "--version --bogus"), PARSE_OPTIONS_DONE);
	expect_error(opts, "--version=2", "argument --version: ignored explicit argument '2'");
	strvec_clear(&limits);
}

/* ---- groups and required arguments ---- */

static void
exclusive(void **state UNUSED)
{
	int quiet = 0, refresh = 0, init = 0, deinit = 0, ok = 0;
	long pid = 0;
	const char *kernel = NULL;
	const struct option opts[] = {
		OPT_BOOL("-q|--quiet", &quiet, "", .xgroup = 1),
		OPT_BOOL("--refresh", &refresh, "", .xgroup = 1),
		OPT_BOOL("--init", &init, "", .xgroup = 2, .flags = PARSE_OPT_LIST_CONFLICT),
		OPT_BOOL("--deinit", &deinit, "", .xgroup = 2),
		OPT_BOOL("--ok", &ok, "", .xgroup = 2),
		OPT_INTEGER("--pid", &pid, NULL, "", .xgroup = 3, .flags = PARSE_OPT_REQUIRED),
		OPT_STRING("--kernel-id", &kernel, NULL, "", .xgroup = 3),
		OPT_END(),
	};

	assert_true(parse(opts, "-q -q --init --init --pid 1") > 0);
	/* when the second one comes, named in table order */
	expect_error(opts, "--refresh --pid 1 -q --bogus",
		     "argument --refresh: not allowed with argument -q/--quiet");
	expect_error(opts, "--pid 1 --ok --init",
		     "arguments --init, --deinit and --ok are mutually exclusive");
	expect_error(opts, "--quiet", "one of the arguments --pid --kernel-id is required");
	expect_error(opts, "--kernel-id k --pid 2",
		     "argument --kernel-id: not allowed with argument --pid");
}

static void
required(void **state UNUSED)
{
	const char *eid = NULL, *field = NULL;
	long uid = 0;
	int sub = -1;
	static const char *const fields[] = { "gpus", "name", NULL };
	const struct option opts[] = {
		OPT_SUBCOMMAND(&sub, NULL, "fields", .names = "field", .flags = PARSE_OPT_REQUIRED,
			       .choices = fields),
		OPT_STRING("--eid", &eid, NULL, "", .flags = PARSE_OPT_REQUIRED),
		OPT_INTEGER("--uid", &uid, NULL, "", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};
	const struct option positional[] = {
		OPT_POSITIONAL("field", &field, "FIELD", "", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};

	/* options first, then positionals, whatever the table order */
	expect_error(opts, "", "the following arguments are required: --eid, --uid, field");
	expect_error(opts, "--uid 1", "the following arguments are required: --eid, field");
	expect_error(positional, "", "the following arguments are required: field");
	/* after a subcommand, the caller checks once the subcommand parsed */
	assert_int_equal(parse(opts, "name --eid"), 1);
	assert_int_equal(sub, 1);
	assert_int_equal(ctx.checked, 0);
	assert_int_equal(parse_options_check(&ctx, &err), -1);
	assert_string_equal(err.buf, "the following arguments are required: --eid, --uid");
	expect_error(opts, "--eid e nosuch",
		     "argument {gpus,name}: invalid choice: 'nosuch' (choose from 'gpus', 'name')");
}

/* ---- positional arguments ---- */

static void
positionals(void **state UNUSED)
{
	static const char *const fields[] = { "gpus", "name", NULL };
	const char *field = NULL, *value = NULL;
	int clear = 0;
	const struct option opts[] = {
		OPT_POSITIONAL(NULL, &field, NULL, "", .choices = fields),
		OPT_POSITIONAL(NULL, &value, "VALUE", ""),
		OPT_BOOL("--clear", &clear, ""),
		OPT_END(),
	};
	const struct option remainder[] = {
		OPT_BOOL("--clear", &clear, ""),
		OPT_REMAINDER("COMMAND", "", .flags = PARSE_OPT_REQUIRED),
		OPT_END(),
	};

	/* options and positionals mix, as argparse allows */
	assert_int_equal(parse(opts, "--clear name -1"), 4);
	assert_string_equal(field, "name");
	assert_string_equal(value, "-1");
	field = value = NULL;
	assert_int_equal(parse(opts, "gpus --clear"), 3);
	assert_string_equal(field, "gpus");
	assert_null(value);
	expect_error(opts, "name a b c", "unrecognized arguments: b c");
	expect_error(opts, "nosuch",
		     "argument {gpus,name}: invalid choice: 'nosuch' (choose from 'gpus', 'name')");

	/* the first word of the command ends the options */
	assert_int_equal(parse(remainder, "--clear ls --clear -l"), 2);
	assert_int_equal(parse(remainder, "-- --clear"), 2);
	expect_error(remainder, "--clear", "the following arguments are required: COMMAND");
	expect_error(remainder, "--bogus ls", "unrecognized arguments: --bogus");
}

static void
subcommands(void **state UNUSED)
{
	static const char *const names[] = { "activate", "devices|dev", NULL };
	int sub = -1, quiet = 0;
	const struct option opts[] = {
		OPT_SUBCOMMAND(&sub, "SUBCOMMAND", "subcommands", .names = "SUBCOMMAND",
			       .choices = names,
			       .flags = PARSE_OPT_NAME_IN_ERRORS | PARSE_OPT_TAKE_UNKNOWN),
		OPT_BOOL("-q", &quiet, ""),
		OPT_END(),
	};

	assert_int_equal(parse(opts, "-q devices --bogus -h"), 2);
	assert_int_equal(sub, 1);
	sub = -1;
	assert_int_equal(parse(opts, "-q"), 2);
	assert_int_equal(sub, -1);
	/* an alias is accepted, never listed */
	assert_int_equal(parse(opts, "dev"), 1);
	assert_int_equal(sub, 1);
	expect_error(opts, "nosuch", "argument SUBCOMMAND: invalid choice: 'nosuch' "
		     "(choose from 'activate', 'devices')");
	expect_error(opts, "--bogus", "argument SUBCOMMAND: invalid choice: '--bogus' "
		     "(choose from 'activate', 'devices')");
}

/* ---- help ---- */

static void
usage_line(void **state UNUSED)
{
	struct strbuf out = STRBUF_INIT;
	long n = 0;
	int f = 0;
	struct strvec list = STRVEC_INIT;
	const char *s = NULL;
	static const char *const fields[] = { "gpu-memory", "gpus", NULL };
	const struct option opts[] = {
		OPT_STRING("--eid", &s, NULL, "", .flags = PARSE_OPT_REQUIRED),
		OPT_BOOL("--env-memory", &f, "", .flags = PARSE_OPT_NEGATABLE),
		OPT_INTEGER("--max-devices", &n, "MAXIMUM", "", .flags = PARSE_OPT_USAGE_BREAK),
		OPT_CALLBACK("--for-user", &list, "USER=N", add_limit, "",
			     .flags = PARSE_OPT_MULTI),
		OPT_BOOL("--quiet|-q", &f, "", .xgroup = 1),
		OPT_BOOL("--refresh", &f, "", .xgroup = 1),
		OPT_STRING("-hostfile|--hostfile", &s, NULL, "", .xgroup = 2,
			   .flags = PARSE_OPT_REQUIRED | PARSE_OPT_USAGE_BREAK),
		OPT_STRING("-H|-host|--host", &s, "HOSTS", "", .xgroup = 2),
		OPT_BOOL("--load", &f, "", .flags = PARSE_OPT_NOUSAGE),
		OPT_BOOL("--inline", &f, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_POSITIONAL(NULL, &s, NULL, "", .choices = fields),
		OPT_POSITIONAL(NULL, &s, "VALUE", ""),
		OPT_END(),
	};

	parse_options_usage(&out, "genv x", opts);
	assert_string_equal(out.buf,
		"usage: genv x [-h] --eid EID [--env-memory | --no-env-memory]\n"
		"              [--max-devices MAXIMUM] [--for-user USER=N [USER=N ...]] [-q | --refresh]\n"
		"              (--hostfile HOSTFILE | -H HOSTS) [{gpu-memory,gpus} [VALUE]]\n");
	strbuf_release(&out);
}

static void
help_text(void **state UNUSED)
{
	struct strbuf out = STRBUF_INIT;
	static const char *const names[] = { "ps", "query", "deactivated", NULL };
	static const char *const lines[] = { "List them", "Query\nfor scripts",
					     "A long name", NULL };
	int f = 0, sub = -1;
	const char *s = NULL;
	const struct option opts[] = {
		OPT_SUBCOMMAND(&sub, NULL, "subcommands (default: ps)", .choices = names,
			       .choice_help = lines),
		OPT_REMAINDER("COMMAND", "the command"),
		OPT_BOOL("--no-cleanup|-n", &f, "Keep what is gone"),
		OPT_STRING("--eid|--id", &s, "EID", "Environment identifier, which is a very long "
			   "text that goes on and on beyond the eightieth column"),
		OPT_GROUP("behaviour"),
		OPT_BOOL("--allow-over-subscription", &f, "Also use devices\nthat are taken"),
		OPT_BOOL("--hidden", &f, "not shown", .flags = PARSE_OPT_HIDDEN),
		OPT_BOOL("--bare", &f, NULL),
		OPT_END(),
	};
	struct parse_help help = {
		.prog = "genv devices",
		.summary = "Query and manage devices",
		.description = "More about it.",
		.epilog = "Run it.\n",
	};

	parse_options_help(&out, &help, opts);
	assert_string_equal(out.buf,
		"usage: genv devices [-h] [-n] [--eid EID] [--allow-over-subscription] [--bare]"
		" {ps,query,deactivated} ... [COMMAND ...]\n"
		"\n"
		"Query and manage devices\n"
		"\n"
		"More about it.\n"
		"\n"
		"positional arguments:\n"
		"  COMMAND               the command\n"
		"\n"
		"subcommands (default: ps):\n"
		"    ps                  List them\n"
		"    query               Query\n"
		"                        for scripts\n"
		"    deactivated         A long name\n"
		"\n"
		"options:\n"
		"  -h, --help            show this help message and exit\n"
		"  -n, --no-cleanup      Keep what is gone\n"
		"  --eid EID, --id EID   Environment identifier, which is a very long text that\n"
		"                        goes on and on beyond the eightieth column\n"
		"\n"
		"behaviour:\n"
		"  --allow-over-subscription\n"
		"                        Also use devices\n"
		"                        that are taken\n"
		"  --bare\n"
		"\n"
		"Run it.\n");

	/* the column follows the longest invocation, subcommands start at 16 */
	const struct option small[] = {
		OPT_SUBCOMMAND(&sub, "SUBCOMMAND", "subcommands", .choices = names,
			       .choice_help = lines),
		OPT_BOOL("--x", &f, "an x"),
		OPT_END(),
	};
	help.description = NULL;
	help.epilog = NULL;
	strbuf_reset(&out);
	parse_options_help(&out, &help, small);
	assert_string_equal(out.buf,
		"usage: genv devices [-h] [--x] SUBCOMMAND ...\n"
		"\n"
		"Query and manage devices\n"
		"\n"
		"subcommands:\n"
		"    ps          List them\n"
		"    query       Query\n"
		"                for scripts\n"
		"    deactivated\n"
		"                A long name\n"
		"\n"
		"options:\n"
		"  -h, --help  show this help message and exit\n"
		"  --x         an x\n");

	/* a column given by the command */
	help.column = 20;
	strbuf_reset(&out);
	parse_options_help(&out, &help, small + 1);
	assert_string_equal(out.buf,
		"usage: genv devices [-h] [--x]\n"
		"\n"
		"Query and manage devices\n"
		"\n"
		"options:\n"
		"  -h, --help        show this help message and exit\n"
		"  --x               an x\n");
	strbuf_release(&out);
}

/*
 * The candidates for "cmd" + words, the last word being typed (words as
 * parse() splits them, plus a trailing "" when they end with a space),
 * joined with '|' into got; returns parse_options_complete()'s result.
 */
static int
complete(const struct option *opts, const char *words, struct strbuf *got)
{
	struct strvec out = STRVEC_INIT;
	size_t n = strlen(words);
	int r;

	parse(opts, words);  /* only splits: complete() parses again */
	if (!n || words[n - 1] == ' ')
		strvec_push(&args, "");
	r = parse_options_complete(opts, (int)args.nr, args.v, &out);
	strbuf_reset(got);
	for (size_t i = 0; i < out.nr; i++)
		strbuf_addf(got, "%s%s", i ? "|" : "", out.v[i]);
	strvec_clear(&out);
	return r;
}

static void
completion(void **state UNUSED)
{
	static const char *const fmts[] = { "csv", "tui", NULL };
	static const char *const subs[] = { "ps", "query|q", NULL };
	static const char *const sub_help[] = { "list", NULL, NULL };
	const char *format = NULL, *file = NULL;
	int quiet = 0, sub = -1;
	const struct option opts[] = {
		OPT_BOOL("-q|--quiet", &quiet, "be\nquiet", .flags = PARSE_OPT_NEGATABLE),
		OPT_CHOICE("--format", &format, fmts, NULL),
		OPT_STRING("--file", &file, NULL, NULL),
		OPT_BOOL("--secret", &quiet, NULL, .flags = PARSE_OPT_HIDDEN),
		OPT_SUBCOMMAND(&sub, NULL, "subcommands", .choices = subs, .choice_help = sub_help),
		OPT_END(),
	};
	struct strbuf got = STRBUF_INIT;

	assert_int_equal(complete(opts, "", &got), 0);
	assert_string_equal(got.buf, "ps\tlist");  /* a NULL help: not listed */
	assert_int_equal(complete(opts, "--q", &got), 0);
	assert_string_equal(got.buf, "--quiet\tbe quiet");
	assert_int_equal(complete(opts, "--no", &got), 0);
	assert_string_equal(got.buf, "--no-quiet");
	assert_int_equal(complete(opts, "--format ", &got), 0);
	assert_string_equal(got.buf, "csv|tui");
	assert_int_equal(complete(opts, "--form=t", &got), 0);
	assert_string_equal(got.buf, "--form=tui");
	assert_int_equal(complete(opts, "--s", &got), 0);
	assert_string_equal(got.buf, "");
	assert_int_equal(complete(opts, "--file ", &got), PARSE_COMPLETE_FILES);
	/* the option values before are skipped, the subcommand word found */
	assert_int_equal(complete(opts, "--file ps --format csv q --x", &got), 5);
	assert_int_equal(sub, 1);
	assert_int_equal(complete(opts, "nosuch ", &got), 0);
	assert_string_equal(got.buf, "");
	strbuf_release(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(abbreviations),
		cmocka_unit_test(negation),
		cmocka_unit_test(errors),
		cmocka_unit_test(minimum),
		cmocka_unit_test(callbacks),
		cmocka_unit_test(exclusive),
		cmocka_unit_test(required),
		cmocka_unit_test(positionals),
		cmocka_unit_test(subcommands),
		cmocka_unit_test(usage_line),
		cmocka_unit_test(help_text),
		cmocka_unit_test(completion),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
