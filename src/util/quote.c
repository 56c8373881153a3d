/* SPDX-License-Identifier: MIT */
/* quote.c: POSIX shell quoting and terminal-safe display of text (quote.h). */
#include "compat.h"
#include "util/quote.h"
#include "util/strbuf.h"

void
sq_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

static int
is_safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_@%+=:,./-", c);
}

void
sq_quote_if_needed(struct strbuf *out, const char *s)
{
	const char *p = s;

	while (*p && is_safe_char((unsigned char)*p))
		p++;
	/* a leading '=' is expanded by zsh (=cmd is the path of cmd) */
	if (*s && !*p && *s != '=')
		strbuf_addstr(out, s);
	else
		sq_quote(out, s);
}

void
sq_quote_argv(struct strbuf *out, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			strbuf_addch(out, ' ');
		sq_quote_if_needed(out, argv[i]);
	}
}

/*
 * The length of the printable character at s: 1 for printable ASCII, 2 to
 * 4 for a valid UTF-8 sequence other than a C1 control; 0 for a control
 * character or a byte that does not start valid UTF-8.
 */
static size_t
printable_len(const unsigned char *s)
{
	size_t n = utf8_sequence(s);

	if (n == 1)
		return *s >= 0x20 && *s != 0x7f;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;  /* U+0080..U+009F: C1 controls (0x9b is CSI) */
	return n;
}

/*
 * s[0] is a backslash that would read as part of an escape: before 'x',
 * another backslash, or a byte that is escaped itself ("\\x1b").
 */
static int
ambiguous_backslash(const char *s)
{
	return s[0] == '\\' && (s[1] == 'x' || s[1] == '\\' ||
				 (s[1] && !printable_len((const unsigned char *)s + 1)));
}

int
display_needs_quote(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = printable_len(p);

		if (!n || ambiguous_backslash((const char *)p))
			return 1;
		p += n;
	}
	return 0;
}

void
quote_display(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	while (*p) {
		size_t n;

		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			p++;  /* printable ASCII: most of what is ever shown */
			continue;
		}
		n = printable_len(p);
		if (n && !ambiguous_backslash((const char *)p)) {
			p += n;
			continue;
		}
		strbuf_add(out, run, p - run);
		if (n) {
			strbuf_addch(out, '\\');  /* doubled; the backslash itself follows */
			run = p;
			p += n;
		} else {
			strbuf_addf(out, "\\x%02x", *p++);
			run = p;
		}
	}
	strbuf_add(out, run, p - run);
}
