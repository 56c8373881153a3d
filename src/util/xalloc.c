/* SPDX-License-Identifier: MIT */
/* xalloc.c: malloc wrappers that exit on failure (see xalloc.h). */
#include "compat.h"
#include "util/xalloc.h"

#include <unistd.h>

static void NORETURN
out_of_memory(size_t size)
{
	static const char msg[] = "genv: fatal: out of memory\n";

	(void)size;
	/* write(2) directly: stdio may itself need memory */
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(128);
	_exit(128);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		out_of_memory(nmemb * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory(strlen(s));
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		out_of_memory(n);
	return p;
}

char *
xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}
