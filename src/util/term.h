/* SPDX-License-Identifier: MIT */
/*
 * term.h: a full-screen session on a terminal without curses: raw input
 * (no echo, no line editing, signals kept), the alternate screen, the
 * window size, and fitting text to columns. Plain VT100/xterm sequences,
 * which every terminal emulator, tmux, screen and the Linux console
 * understand. Text from others is made safe with quote_display()
 * (util/quote.h) first.
 */
#ifndef GENV_UTIL_TERM_H
#define GENV_UTIL_TERM_H

#include <stddef.h>
#include <termios.h>

struct strbuf;

/* The number of columns s takes (code points; s is safe text). */
size_t term_width(const char *s);

/*
 * Appends safe text s in exactly width columns: padded with blanks, or
 * cut and ended with '~' when longer (never in the middle of a UTF-8
 * sequence). width 0 appends nothing.
 */
void term_add_fit(struct strbuf *out, const char *s, size_t width);

/* A terminal put into full-screen mode by term_enter(). */
struct term {
	int in_fd;               /* keys: raw while entered, or -1 */
	int out_fd;              /* the screen */
	int active;
	int raw;                 /* in_fd's settings were changed */
	struct termios saved;    /* restored by term_leave() */
};
#define TERM_INIT { -1, -1, 0, 0, { 0 } }

/*
 * Switches out_fd (a terminal) to the alternate screen, hides the cursor
 * and turns line wrapping off; makes in_fd raw (no echo, byte by byte,
 * ^C and ^Z still signal) when it is a terminal. Returns 0, or -1 with a
 * message in err.
 */
int term_enter(struct term *t, int in_fd, int out_fd, struct strbuf *err);
/* Undoes term_enter() (safe when not entered, and twice). */
void term_leave(struct term *t);

/* The window size of fd; 0 on success, -1 when fd is not a terminal. */
int term_size(int fd, unsigned *rows, unsigned *cols);

#endif
