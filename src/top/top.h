/* SPDX-License-Identifier: MIT */
/*
 * top.h: `genv top` and `genv remote ... top`, a live view of who holds
 * which GPU and what runs on it.
 *
 * On a terminal it is full screen (plain VT100 sequences, no curses):
 * redrawn every interval, q quits, arrows/j/k/PgUp/PgDn/Home/End
 * scroll, a resized window is redrawn at its new size, ^Z suspends
 * cleanly. Otherwise (or with once) it prints the same rows once as a
 * plain table, nothing cut.
 *
 * This machine is read in-process (core/live.h: NVML initialised once,
 * the state read without the lock at every refresh). Remote hosts are read through
 * remote/stream.h: one ssh session per host for the whole run.
 */
#ifndef GENV_TOP_TOP_H
#define GENV_TOP_TOP_H

#include "remote/stream.h"

struct hostlist;
struct strbuf;
struct strvec;

struct top_opts {
	const struct hostlist *hosts;  /* NULL: this machine */
	struct stream_opts stream;     /* hosts: how to reach them */
	long interval;                 /* seconds between refreshes (>= 1) */
	int once;                      /* print one plain table */
	int in_fd;                     /* keys (when a terminal), or -1 */
	int out_fd;                    /* the screen */
	int color;                     /* colors, besides bold and reverse */
};
#define TOP_OPTS_INIT { NULL, STREAM_OPTS_INIT, 1, 0, 0, 1, 1 }

/*
 * Runs the view. When out_fd is a terminal and once is not set, it is
 * drawn there until the user quits (or a terminating signal), and 0 is
 * returned. Otherwise the plain table is appended to table for the caller
 * to print, one line per remote host that did not answer is appended to
 * problems (1.4.3's wording), and the number of such hosts is returned.
 * -1 (with a message in err): this machine's snapshot failed, or the
 * terminal could not be set up.
 */
int top_run(const struct top_opts *o, struct strbuf *table, struct strvec *problems,
	    struct strbuf *err);

#endif
