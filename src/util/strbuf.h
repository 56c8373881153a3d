/* SPDX-License-Identifier: MIT */
/*
 * strbuf.h: growable strings (git semantics). After STRBUF_INIT, buf is
 * never NULL and always NUL-terminated; len excludes the NUL. The struct
 * owns buf until strbuf_detach() hands it over. All paths, messages, JSON
 * text and shell code in genv are built with a strbuf.
 */
#ifndef GENV_UTIL_STRBUF_H
#define GENV_UTIL_STRBUF_H

#include <stddef.h>
#include <stdarg.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Frees the contents and re-initialises; safe on a STRBUF_INIT value. */
void strbuf_release(struct strbuf *sb);
/* Returns the (malloc'ed, NUL-terminated) buffer; sb is re-initialised. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Makes room for extra more bytes (plus the NUL). */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends c until the visible length (bytes) of the line reaches width. */
void strbuf_addpad(struct strbuf *sb, const char *s, size_t width);
/*
 * Appends s with every byte that does not start a valid UTF-8 sequence
 * (bad lead or continuation bytes, overlong forms, surrogates, > U+10FFFF)
 * replaced by U+FFFD, so that JSON and other UTF-8-only formats accept it.
 */
void strbuf_add_utf8(struct strbuf *sb, const char *s);
/*
 * The length of the valid UTF-8 sequence at s (1 to 4; 1 for any ASCII
 * byte), or 0 when s does not start one (the checks of strbuf_add_utf8()).
 */
size_t utf8_sequence(const unsigned char *s);
/* Appends ": <strerror(errnum)>". */
void strbuf_add_errno(struct strbuf *sb, int errnum);

void strbuf_rtrim(struct strbuf *sb);
void strbuf_ltrim(struct strbuf *sb);
void strbuf_trim(struct strbuf *sb);

int starts_with(const char *s, const char *prefix);
/* If s starts with prefix, sets *rest to what follows and returns 1. */
int skip_prefix(const char *s, const char *prefix, const char **rest);

#endif
