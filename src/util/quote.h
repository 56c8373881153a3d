/* SPDX-License-Identifier: MIT */
/*
 * quote.h: quoting for POSIX shells (the code genv prints for `eval`, and
 * the command line ssh hands to a remote shell). A quoted word is always
 * read back by sh/bash/zsh as exactly the original bytes.
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

#endif
