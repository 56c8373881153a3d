/* SPDX-License-Identifier: MIT */
/*
 * term.c: safe text and full-screen mode for terminals (term.h).
 */
#include "compat.h"
#include "util/term.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <sys/ioctl.h>
#include <unistd.h>

size_t
term_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void
term_add_fit(struct strbuf *out, const char *s, size_t width)
{
	size_t w = term_width(s), i = 0, cols = 0;

	if (!width)
		return;
	if (w <= width) {
		strbuf_addstr(out, s);
		for (; w < width; w++)
			strbuf_addch(out, ' ');
		return;
	}
	/* keep width - 1 columns, then the cut mark */
	while (s[i] && cols < width - 1) {
		size_t start = i++;

		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		strbuf_add(out, s + start, i - start);
		cols++;
	}
	strbuf_addch(out, '~');
}

int
term_size(int fd, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return -1;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}

/* alternate screen, cursor hidden, wrapping off; and back */
#define TERM_ENTER_SEQ "\033[?1049h\033[?25l\033[?7l\033[H\033[2J"
#define TERM_LEAVE_SEQ "\033[?7h\033[?25h\033[?1049l"

int
term_enter(struct term *t, int in_fd, int out_fd, struct strbuf *err)
{
	struct termios raw;

	if (t->active)
		return 0;
	t->in_fd = in_fd;
	t->out_fd = out_fd;
	t->raw = 0;
	if (in_fd >= 0 && isatty(in_fd)) {
		if (tcgetattr(in_fd, &t->saved) < 0) {
			strbuf_addstr(err, "cannot read the terminal settings");
			strbuf_add_errno(err, errno);
			return -1;
		}
		raw = t->saved;
		/* keys arrive one by one and unechoed; ^C, ^Z and ^\ still signal */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(in_fd, TCSAFLUSH, &raw) < 0) {
			strbuf_addstr(err, "cannot set the terminal to raw mode");
			strbuf_add_errno(err, errno);
			return -1;
		}
		t->raw = 1;
	}
	t->active = 1;
	if (write_all(out_fd, TERM_ENTER_SEQ, strlen(TERM_ENTER_SEQ)) < 0) {
		strbuf_addstr(err, "cannot write to the terminal");
		strbuf_add_errno(err, errno);
		term_leave(t);
		return -1;
	}
	return 0;
}

void
term_leave(struct term *t)
{
	if (!t->active)
		return;
	if (write_all(t->out_fd, TERM_LEAVE_SEQ, strlen(TERM_LEAVE_SEQ)) < 0) {
		/* the terminal is gone; nothing left to restore on it */
	}
	if (t->raw)
		tcsetattr(t->in_fd, TCSAFLUSH, &t->saved);
	t->active = 0;
	t->raw = 0;
}
