/* SPDX-License-Identifier: MIT */
/* quote.c: POSIX shell quoting (quote.h). */
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
