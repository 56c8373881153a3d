/* SPDX-License-Identifier: MIT */
/*
 * quote.h: quoting for POSIX shells (the code genv prints for `eval`, and
 * the command line ssh hands to a remote shell), where a quoted word is
 * always read back by sh/bash/zsh as exactly the original bytes; and
 * quoting for terminals, for text others chose (names, ids, host output).
 */
#ifndef GENV_UTIL_QUOTE_H
#define GENV_UTIL_QUOTE_H

struct strbuf;
struct strvec;

/* Appends s in single quotes ('it'\''s'). */
void sq_quote(struct strbuf *out, const char *s);
/*
 * Appends s unchanged when it is made only of characters no shell treats
 * specially ([A-Za-z0-9_@%+=:,./-], non-empty), else sq_quote()s it. Keeps
 * the output of simple values identical to genv 1.4.3.
 */
void sq_quote_if_needed(struct strbuf *out, const char *s);
/* Appends each argument, quoted if needed, separated by spaces. */
void sq_quote_argv(struct strbuf *out, const char *const *argv);

/*
 * Appends s so that printing it cannot drive a terminal (move the cursor,
 * clear the screen, set the window title, forge a table row): every
 * control character (C0 including TAB, CR and LF, DEL, and the C1 range
 * U+0080..U+009F) and every byte that is not part of valid UTF-8 becomes
 * \xHH, the byte in two lower-case hex digits; ESC is \x1b. A backslash
 * followed by 'x', by another backslash or by an escaped byte is doubled,
 * so that "\x" always begins an escape and the bytes can be recovered
 * (\\ is one backslash; any other backslash is itself).
 * Everything else, printable UTF-8 included, is appended as it is: an
 * ordinary name prints unchanged.
 */
void quote_display(struct strbuf *out, const char *s);
/* Whether quote_display() would change s. */
int display_needs_quote(const char *s);

#endif
