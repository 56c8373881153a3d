/* SPDX-License-Identifier: MIT */
/*
 * xalloc.h: allocation that never returns NULL. Running out of memory in
 * a short-lived CLI is not recoverable, so we report and exit (tmux and git
 * do the same); it removes hundreds of untestable error branches.
 */
#ifndef GENV_UTIL_XALLOC_H
#define GENV_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup() that maps NULL to NULL. */
char *xstrdup_or_null(const char *s);

/* Grow an array so that it holds at least nr elements (git's ALLOC_GROW). */
#define ALLOC_GROW(x, nr, alloc)                                              \
	do {                                                                  \
		if ((size_t)(nr) > (alloc)) {                                 \
			size_t alloc_grow_new_ = ((alloc) + 16) * 3 / 2;      \
			if (alloc_grow_new_ < (size_t)(nr))                   \
				alloc_grow_new_ = (nr);                       \
			(alloc) = alloc_grow_new_;                            \
			(x) = xrealloc((x), (alloc) * sizeof(*(x)));          \
		}                                                             \
	} while (0)

#endif
