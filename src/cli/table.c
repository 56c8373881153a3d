/* SPDX-License-Identifier: MIT */
/*
 * table.c: tui/csv rows and the time column shared by the listing
 * commands, formatted exactly as genv 1.4.3 prints them, except that the
 * control characters of a cell are escaped (quote_display()).
 */
#include "compat.h"
#include "cli/table.h"
#include "core/timefmt.h"
#include "util/json.h"
#include "util/quote.h"
#include "util/strbuf.h"

const char *const table_format_choices[] = { "csv", "tui", NULL };
const char *const table_format_json_choices[] = { "csv", "json", "tui", NULL };

enum table_format
table_format_of(const char *format)
{
	return !strcmp(format, "csv") ? TABLE_CSV : !strcmp(format, "json") ? TABLE_JSON
									: TABLE_TUI;
}

enum table_format
table_opts_format(const struct table_opts *o)
{
	return table_format_of(o->format);
}

void
table_json(struct strbuf *out, json_t *doc)
{
	json_dump_py(out, doc, JSON_STYLE_INDENT2);
	strbuf_addch(out, '\n');
	json_decref(doc);
}

/* Python counts code points: skip UTF-8 continuation bytes. */
static size_t
utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
table_pad(struct strbuf *out, const char *s, size_t width)
{
	size_t start = out->len, n;

	quote_display(out, s);
	n = utf8_width(out->buf + start);
	for (; n < width; n++)
		strbuf_addch(out, ' ');
}

void
table_row(struct strbuf *out, enum table_format fmt, const size_t *widths,
	  const char *const *cells, size_t ncells)
{
	for (size_t i = 0; i < ncells; i++) {
		if (fmt == TABLE_CSV) {
			if (i)
				strbuf_addch(out, ',');
			quote_display(out, cells[i]);
		} else if (i + 1 < ncells) {
			table_pad(out, cells[i], widths[i]);
		} else {
			quote_display(out, cells[i]);
		}
	}
	strbuf_addch(out, '\n');
}

void
table_time(struct strbuf *out, const char *stamp, int timestamp, time_t now)
{
	if (timestamp)
		strbuf_addstr(out, stamp);
	else
		genv_time_since(out, stamp, now);
}

void
table_join_longs(struct strbuf *out, const long *v, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "%s%ld", i ? sep : "", v[i]);
}
