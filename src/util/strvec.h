/* SPDX-License-Identifier: MIT */
/*
 * strvec.h: a NULL-terminated, growable array of owned strings, for argv
 * and envp vectors and string lists (git's strvec).
 */
#ifndef GENV_UTIL_STRVEC_H
#define GENV_UTIL_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;     /* always NULL-terminated once anything was pushed */
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* Copies s; returns the copy. */
const char *strvec_push(struct strvec *sv, const char *s);
/* Takes ownership of s (malloc'ed). */
void strvec_push_nodup(struct strvec *sv, char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Pushes every string of a NULL-terminated list. */
void strvec_pushv(struct strvec *sv, const char *const *items);
void strvec_clear(struct strvec *sv);
/* Returns 1 if s is an element. */
int strvec_has(const struct strvec *sv, const char *s);

#endif
