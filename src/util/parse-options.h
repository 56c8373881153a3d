/* SPDX-License-Identifier: MIT */
/*
 * parse-options.h: declarative command-line options, as git's
 * parse-options, that accept what Python's argparse accepts and say what
 * it says: --opt VALUE and --opt=VALUE, unambiguous prefixes of long
 * options (--no-h for --no-header), "-5" taken as a value, options and
 * positional arguments in any order, "--" ending the options, nargs='+'
 * lists, mutually exclusive groups, required options, and argparse's
 * error messages ("argument --gpus: invalid int value: 'x'").
 *
 * A table of struct option, ended by OPT_END(), describes a command. Each
 * entry carries its names, where the value goes, its metavar and its help,
 * so that the usage line and the --help text are generated from the table
 * (argparse's layout: the help column at most at 24, long invocations on
 * their own line). Help strings break lines with '\n' where their author
 * wants; option help that would pass column 80 is also wrapped at spaces
 * (a subcommand's one-line summary is not).
 *
 * The engine neither prints nor exits: parse_options() returns what
 * happened and an error message, and the caller prints them.
 */
#ifndef GENV_UTIL_PARSE_OPTIONS_H
#define GENV_UTIL_PARSE_OPTIONS_H

struct option;
struct strbuf;
struct strvec;

/*
 * Called for each value of an OPTION_CALLBACK (NULL for PARSE_OPT_NOARG).
 * Returns 0, PARSE_OPT_CB_DONE when the program has nothing left to do
 * (argparse's --version), or -1 with a message in err, which the engine
 * prefixes with "argument NAME: ".
 */
typedef int parse_opt_cb(const struct option *opt, const char *arg, struct strbuf *err);
#define PARSE_OPT_CB_DONE 1

enum parse_opt_type {
	OPTION_END = 0,
	OPTION_GROUP,       /* starts a help section titled help ("behaviour") */
	OPTION_BOOL,        /* int *: 1; --no-NAME stores 0 (PARSE_OPT_NEGATABLE) */
	OPTION_INTEGER,     /* long *: a decimal integer */
	OPTION_STRING,      /* const char **: borrowed from argv */
	OPTION_CHOICE,      /* const char **: one of choices */
	OPTION_LIST,        /* struct strvec *: one or more values (of choices, if
			       given); the last occurrence wins, as in argparse */
	OPTION_CALLBACK,    /* callback(opt, value) for each value */
	OPTION_POSITIONAL,  /* const char **: the next word that is not an option */
	OPTION_REMAINDER,   /* the first positional word ends parsing: a command
			       and its arguments (parse_options returns its index) */
	OPTION_SUBCOMMAND,  /* int *: the index in choices of the first positional
			       word, which ends parsing; choice_help lists them */
};

enum parse_opt_flags {
	PARSE_OPT_NEGATABLE   = 1 << 0,  /* BOOL: --no-NAME too */
	PARSE_OPT_REQUIRED    = 1 << 1,  /* must be given; in an exclusive group:
					    one of the group must be */
	PARSE_OPT_HIDDEN      = 1 << 2,  /* accepted, in neither usage nor help */
	PARSE_OPT_NOUSAGE     = 1 << 3,  /* in the help, not in the usage line */
	PARSE_OPT_USAGE_BREAK = 1 << 4,  /* the usage line wraps before it */
	PARSE_OPT_NOARG       = 1 << 5,  /* CALLBACK: takes no value */
	PARSE_OPT_MULTI       = 1 << 6,  /* CALLBACK: one or more values */
	PARSE_OPT_MIN         = 1 << 7,  /* INTEGER: at least min */
	PARSE_OPT_LIST_CONFLICT = 1 << 8,  /* group: "arguments A, B and C are
					      mutually exclusive" */
	PARSE_OPT_NAME_IN_ERRORS = 1 << 9, /* positional: errors name it by its
					      names, not by {its,choices} */
	PARSE_OPT_TAKE_UNKNOWN = 1 << 10,  /* SUBCOMMAND: an unknown option in its
					      place is taken as the (bad) word */
	PARSE_OPT_COMPLETE_HOSTS = 1 << 11, /* its value is host names, for
					       completion (comma-separated) */
};

struct option {
	enum parse_opt_type type;
	/*
	 * "-o|--over-subscribe": every spelling. The usage line shows a
	 * one-letter name if there is one, else the first "--" name; the help
	 * lists one-letter names first; messages name all of them in this
	 * order, joined by '/' ("argument -o/--over-subscribe"). For a
	 * positional: the name required-argument errors use ("field").
	 */
	const char *names;
	void *value;
	const char *argh;      /* metavar; NULL: NAME of --name, or {the,choices} */
	const char *help;      /* NULL: listed without help text */
	unsigned flags;
	int xgroup;            /* mutually exclusive group (0: none) */
	int *seen;             /* set to 1 when given; may be NULL */
	const char *const *choices;       /* NULL-terminated; "llm|llms": the
					     second is an alias, never shown */
	const char *const *choice_help;   /* SUBCOMMAND: NULL entries are not listed */
	long min;              /* INTEGER with PARSE_OPT_MIN */
	parse_opt_cb *callback;
	const char *invocation;  /* help: this instead of the generated "--x X, --y X" */
};

/*
 * Table entries. The last argument is the help text, followed by any
 * further fields as designators: OPT_INTEGER("--count", &n, NULL, "help",
 * .seen = &seen_count, .xgroup = 1).
 */
#define OPT_END() { .type = OPTION_END }
#define OPT_GROUP(...) { .type = OPTION_GROUP, .help = __VA_ARGS__ }
#define OPT_BOOL(n, v, ...) { .type = OPTION_BOOL, .names = (n), .value = (v), .help = __VA_ARGS__ }
#define OPT_INTEGER(n, v, a, ...) \
	{ .type = OPTION_INTEGER, .names = (n), .value = (v), .argh = (a), .help = __VA_ARGS__ }
#define OPT_STRING(n, v, a, ...) \
	{ .type = OPTION_STRING, .names = (n), .value = (v), .argh = (a), .help = __VA_ARGS__ }
#define OPT_CHOICE(n, v, c, ...) \
	{ .type = OPTION_CHOICE, .names = (n), .value = (v), .choices = (c), .help = __VA_ARGS__ }
#define OPT_LIST(n, v, c, ...) \
	{ .type = OPTION_LIST, .names = (n), .value = (v), .choices = (c), .help = __VA_ARGS__ }
#define OPT_CALLBACK(n, v, a, cb, ...) \
	{ .type = OPTION_CALLBACK, .names = (n), .value = (v), .argh = (a), .callback = (cb), \
	  .help = __VA_ARGS__ }
#define OPT_POSITIONAL(n, v, a, ...) \
	{ .type = OPTION_POSITIONAL, .names = (n), .value = (v), .argh = (a), .help = __VA_ARGS__ }
#define OPT_REMAINDER(a, ...) { .type = OPTION_REMAINDER, .argh = (a), .help = __VA_ARGS__ }
/* help is the title of the section that lists the choices */
#define OPT_SUBCOMMAND(v, a, ...) \
	{ .type = OPTION_SUBCOMMAND, .value = (v), .argh = (a), .help = __VA_ARGS__ }

/* parse_options() results besides an index */
#define PARSE_OPTIONS_ERROR (-1)  /* err says why (argparse's words) */
#define PARSE_OPTIONS_HELP  (-2)  /* -h or --help: show the help, exit 0 */
#define PARSE_OPTIONS_DONE  (-3)  /* a callback did all there was to do */

/* What one parse saw, kept for parse_options_check(). */
struct parse_opt_ctx {
	const struct option *opts;
	size_t nr;               /* entries before OPTION_END */
	unsigned char *seen;     /* seen[i]: opts[i] was given */
	int checked;             /* the required arguments were checked */
};
#define PARSE_OPT_CTX_INIT { NULL, 0, NULL, 0 }

void parse_opt_ctx_release(struct parse_opt_ctx *ctx);

/*
 * Parses argv[1..argc-1] (argv[0] is the command's name) against opts.
 * Returns the index of the word that ended parsing (an OPTION_REMAINDER's
 * or OPTION_SUBCOMMAND's first word), argc when every word was consumed,
 * or one of PARSE_OPTIONS_*. Required arguments are checked at the end,
 * except after a subcommand: argparse checks a parent's only once the
 * subcommand parsed its own, so the caller calls parse_options_check()
 * then. ctx must be released; opts must outlive it.
 */
int parse_options(struct parse_opt_ctx *ctx, const struct option *opts,
		  int argc, char **argv, struct strbuf *err);
/* Checks required options and groups; -1 with err set when one is missing. */
int parse_options_check(struct parse_opt_ctx *ctx, struct strbuf *err);

/*
 * Shell completion from the same table: what may stand at argv[argc-1],
 * the word being typed (maybe empty), after argv[1..argc-2]. Returns the
 * index of a subcommand word before it (its value set as parse_options()
 * sets it), so that the caller goes on in the subcommand's table;
 * PARSE_COMPLETE_FILES when the word is a file, a command or free text;
 * PARSE_COMPLETE_HOSTS when it is host names, which the caller knows;
 * else 0, with each candidate that begins with the word appended to out
 * as "WORD" or "WORD\tHELP" (the help on one line).
 */
#define PARSE_COMPLETE_FILES (-4)
#define PARSE_COMPLETE_HOSTS (-5)  /* the word is a PARSE_OPT_COMPLETE_HOSTS value */
int parse_options_complete(const struct option *opts, int argc, char **argv,
			   struct strvec *out);

/* Appends "usage: PROG [-h] ...\n", wrapped where PARSE_OPT_USAGE_BREAK says. */
void parse_options_usage(struct strbuf *out, const char *prog, const struct option *opts);

struct parse_help {
	const char *prog;         /* "genv devices ps" */
	const char *summary;      /* one line after the usage */
	const char *description;  /* paragraphs after the summary (may be NULL) */
	const char *epilog;       /* paragraphs after the options (may be NULL) */
	int column;               /* where help text starts; 0: argparse's choice */
};

/*
 * Appends the whole help: usage, summary, description, the positional
 * arguments, the options (OPTION_GROUP starts a section), each
 * subcommand list where its entry stands in the table, and the epilog.
 */
void parse_options_help(struct strbuf *out, const struct parse_help *help,
			const struct option *opts);

#endif
