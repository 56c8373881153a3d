/* SPDX-License-Identifier: MIT */
/*
 * table.h: the tables genv 1.4.3 prints (`genv devices`, `genv envs`,
 * `genv remote ...`): "tui" rows are Python f"{x:<8}{y:<12}{z}" (each
 * column padded to its width, never truncated, no separator, so a long
 * value overflows into the next column) and "csv" rows are the values
 * joined by commas without quoting. Scripts parse both, byte for byte.
 * Cells are others' text (names, ids, host names): both show them with
 * quote_display(), so that no control character reaches the terminal.
 */
#ifndef GENV_CLI_TABLE_H
#define GENV_CLI_TABLE_H

#include <stddef.h>
#include <time.h>

struct strbuf;

enum table_format {
	TABLE_TUI,
	TABLE_CSV,
	TABLE_JSON,  /* core/ps-json.h's documents, not rows */
};

/* The options every "ps"-like listing takes. */
struct table_opts {
	int no_header;
	int timestamp;        /* raw timestamps instead of "7 seconds ago" */
	const char *format;   /* "tui" (default) or "csv" */
};
#define TABLE_OPTS_INIT { 0, 0, "tui" }

/* Choices of --format; the second for the listings that also print JSON. */
extern const char *const table_format_choices[];
extern const char *const table_format_json_choices[];

/* The option table entries of --no-header, --timestamp and --format for o. */
#define OPT_TABLE_OPTIONS(o, timestamp_help) \
	OPT_BOOL("--no-header", &(o)->no_header, "Do not print column headers"), \
	OPT_BOOL("--timestamp", &(o)->timestamp, timestamp_help), \
	OPT_CHOICE("--format", &(o)->format, table_format_choices, \
		   "Output format; tui (the default) or csv")
/*
 * The same with json among --format's choices; f: their flags (the
 * parent of ps takes them too, PARSE_OPT_NOUSAGE).
 */
#define OPT_TABLE_OPTIONS_JSON(o, timestamp_help, f) \
	OPT_BOOL("--no-header", &(o)->no_header, "Do not print column headers", .flags = (f)), \
	OPT_BOOL("--timestamp", &(o)->timestamp, timestamp_help, .flags = (f)), \
	OPT_CHOICE("--format", &(o)->format, table_format_json_choices, \
		   "Output format; tui (the default), csv or json (see\n" \
		   "genv(1))", .flags = (f))
enum table_format table_opts_format(const struct table_opts *o);
enum table_format table_format_of(const char *format);

/* Appends doc (a core/ps-json.h document, released here) indented, and a newline. */
struct json_t;
void table_json(struct strbuf *out, struct json_t *doc);

/*
 * Appends s (quote_display()ed) left-justified to width characters
 * (Python's {s:<width}: width counts characters, not bytes, and a longer
 * s is kept whole).
 */
void table_pad(struct strbuf *out, const char *s, size_t width);

/*
 * Appends one row and a newline: in tui each cell but the last padded to
 * widths[i], in csv the cells joined with ','.
 */
void table_row(struct strbuf *out, enum table_format fmt, const size_t *widths,
	       const char *const *cells, size_t ncells);

/* Appends stamp as is (timestamp) or as 1.4.3's "N units ago" from now. */
void table_time(struct strbuf *out, const char *stamp, int timestamp, time_t now);

/*
 * Appends the items joined by sep; the helpers for the "a b c" and "0,2"
 * cells of ps/query outputs.
 */
void table_join_longs(struct strbuf *out, const long *v, size_t n, const char *sep);

#endif
