/* SPDX-License-Identifier: MIT */
/*
 * unit.h: what the unit tests share: a scratch directory per test
 * program, and small file helpers that fail the test instead of
 * returning errors. Include after cmocka.h.
 */
#ifndef GENV_T_UNIT_H
#define GENV_T_UNIT_H

#include "util/fileio.h"
#include "util/run.h"
#include "util/strbuf.h"

#include <sys/stat.h>

static inline void
unit_write_text(const char *path, const char *text)
{
	struct strbuf err = STRBUF_INIT;

	if (write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
}

/* Replaces out with the contents of path. */
static inline void
unit_read_text(const char *path, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;

	strbuf_reset(out);
	if (read_file_sb(out, path, &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
}

static inline mode_t
unit_mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* Creates /tmp/genv-<name>.XXXXXX into top; -1 if it cannot. */
static inline int
unit_scratch_make(struct strbuf *top, const char *name)
{
	strbuf_reset(top);
	strbuf_addf(top, "/tmp/genv-%s.XXXXXX", name);
	return mkdtemp(top->buf) ? 0 : -1;
}

/* Removes the scratch tree: only the test's own files are in it. */
static inline void
unit_scratch_remove(const struct strbuf *top)
{
	struct strbuf err = STRBUF_INIT;

	if (run_foreground((const char *const[]){ "rm", "-rf", top->buf, NULL }, &err))
		fprintf(stderr, "cannot remove %s %s\n", top->buf, err.buf);
	strbuf_release(&err);
}

#endif
