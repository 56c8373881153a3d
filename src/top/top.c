/* SPDX-License-Identifier: MIT */
/*
 * top.c: the `genv top` viewer (top.h): where the rows come from (this
 * machine, or the hosts' streams), the plain table, and the full-screen
 * loop over the terminal, its keys and its signals.
 */
#include "compat.h"
#include "top/top.h"
#include "top/render.h"
#include "core/live.h"
#include "remote/hosts.h"
#include "util/fileio.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/term.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/* ---- where the rows come from ---- */

struct source {
	const struct top_opts *o;
	struct stream stream;     /* remote */
	struct live local;        /* this machine, the newest snapshot */
	struct top_host *rows;    /* the view, one per host */
	size_t nr;
	struct strbuf title;
};

static void
source_init(struct source *src, const struct top_opts *o)
{
	memset(src, 0, sizeof(*src));
	src->o = o;
	live_init(&src->local);
	strbuf_init(&src->title, 0);
	if (o->hosts) {
		stream_init(&src->stream, o->hosts, &o->stream);
		src->nr = o->hosts->nr;
		if (src->nr == 1)
			strbuf_addstr(&src->title, o->hosts->v[0].name);
		else
			strbuf_addf(&src->title, "%zu hosts", src->nr);
	} else {
		src->nr = 1;
	}
	src->rows = xcalloc(src->nr, sizeof(*src->rows));
}

static void
source_release(struct source *src)
{
	if (src->o->hosts)
		stream_release(&src->stream);
	live_release(&src->local);
	strbuf_release(&src->title);
	free(src->rows);
}

/* This machine: a new snapshot. Returns -1 (err) when it failed. */
static int
source_take_local(struct source *src, struct strbuf *err)
{
	live_release(&src->local);
	if (live_collect(&src->local, NULL, LIVE_COLLECT_PROCESS_INFO, err) < 0)
		return -1;
	strbuf_reset(&src->title);
	strbuf_addstr(&src->title, src->local.hostname);
	return 0;
}

static void
row_from_stream(struct top_host *row, const struct stream *s, const struct stream_host *h,
		int64_t now)
{
	memset(row, 0, sizeof(*row));
	row->name = h->host->name;
	row->retry_s = -1;
	switch (h->state) {
	case STREAM_CONNECTING:
		row->state = TOP_HOST_CONNECTING;
		/* trying again after a failure: still down until it answers */
		if (h->error.len) {
			row->state = TOP_HOST_DOWN;
			row->status = h->error.buf;
			row->retry_s = 0;
		}
		break;
	case STREAM_DOWN:
		row->state = TOP_HOST_DOWN;
		row->status = h->error.buf;
		row->retry_s = h->retry_ms > now ? (long)((h->retry_ms - now + 999) / 1000) : 0;
		break;
	case STREAM_UP:
		row->state = h->live.error ? TOP_HOST_ERROR : TOP_HOST_UP;
		row->status = h->live.error;
		row->live = &h->live;
		/* late by more than two intervals: say how old the picture is */
		if (now - h->last_ms > 2000 * s->opts.interval + 1000)
			row->age_s = (long)((now - h->last_ms) / 1000);
		break;
	}
}

static void
source_view(struct source *src, struct top_view *v)
{
	int64_t now = clock_monotonic_ms();

	memset(v, 0, sizeof(*v));
	if (src->o->hosts) {
		for (size_t i = 0; i < src->nr; i++)
			row_from_stream(&src->rows[i], &src->stream, &src->stream.v[i], now);
		v->remote = 1;
	} else {
		struct top_host *row = &src->rows[0];

		memset(row, 0, sizeof(*row));
		row->name = src->local.hostname;
		row->state = src->local.error ? TOP_HOST_ERROR : TOP_HOST_UP;
		row->status = src->local.error;
		row->live = &src->local;
		row->retry_s = -1;
	}
	v->hosts = src->rows;
	v->nr = src->nr;
	v->title = src->title.buf;
	v->interval = src->o->interval;
	v->now = time(NULL);
}

/* ---- the plain table ---- */

/* Remote: waits until every host answered or failed once. */
static void
wait_all_answered(struct source *src)
{
	struct pollfd *pfd = xcalloc(STREAM_POLLFDS(&src->stream) + 1, sizeof(*pfd));

	stream_service(&src->stream);
	while (!stream_all_answered(&src->stream)) {
		int timeout;
		size_t n = stream_poll(&src->stream, pfd, &timeout);

		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		stream_service(&src->stream);
	}
	free(pfd);
}

static int
plain_table(struct source *src, struct strbuf *table, struct strvec *problems,
	    struct strbuf *err)
{
	struct top_lines lines = TOP_LINES_INIT;
	struct top_view v;
	int failed = 0;

	if (!src->o->hosts) {
		if (source_take_local(src, err) < 0)
			return -1;
	} else {
		wait_all_answered(src);
	}
	source_view(src, &v);
	top_render(&lines, &v, 0);
	/* the title line (clock, refresh interval) is for the live view */
	for (size_t i = 1; i < lines.nr; i++)
		strbuf_addf(table, "%s\n", lines.v[i].text);
	for (size_t i = 0; i < v.nr; i++) {
		struct strbuf msg = STRBUF_INIT;

		if (v.hosts[i].state == TOP_HOST_UP)
			continue;
		failed++;
		if (v.hosts[i].state == TOP_HOST_ERROR)
			strbuf_addf(&msg, "%s: ", v.hosts[i].name);
		/* what a host says may hold anything */
		quote_display(&msg, v.hosts[i].status ? v.hosts[i].status : "");
		strvec_push(problems, msg.buf);
		strbuf_release(&msg);
	}
	top_lines_release(&lines);
	return failed;
}

/* ---- the full-screen view ---- */

/* Signals reach the loop through this pipe (the handler only writes). */
static int top_signal_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(top_signal_pipe[1], &c, 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

static const int top_signals[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGCONT };

struct screen {
	struct term term;
	struct sigaction old[ARRAY_SIZE(top_signals)];
	struct sigaction old_pipe;
	size_t scroll;
	size_t body_rows;         /* rows for scrolled lines, last frame */
	size_t body_lines;        /* scrolled lines, last frame */
	int color;
};

static int
screen_signals(struct screen *sc, struct strbuf *err)
{
	struct sigaction sa;

	if (pipe2(top_signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		strbuf_addstr(err, "cannot create a pipe");
		strbuf_add_errno(err, errno);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < ARRAY_SIZE(top_signals); i++)
		sigaction(top_signals[i], &sa, &sc->old[i]);
	/* a terminal that is gone is an error from write, not a death */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &sc->old_pipe);
	return 0;
}

static void
screen_end(struct screen *sc)
{
	term_leave(&sc->term);
	if (top_signal_pipe[0] < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(top_signals); i++)
		sigaction(top_signals[i], &sc->old[i], NULL);
	sigaction(SIGPIPE, &sc->old_pipe, NULL);
	close(top_signal_pipe[0]);
	close(top_signal_pipe[1]);
	top_signal_pipe[0] = top_signal_pipe[1] = -1;
}

static const char *
sgr(enum top_attr a, int color)
{
	switch (a) {
	case TOP_ATTR_TITLE:  return "\033[1m";
	case TOP_ATTR_HEADER: return "\033[7m";
	case TOP_ATTR_IDLE:   return color ? "\033[1;33m" : "\033[1m";
	case TOP_ATTR_ALERT:  return color ? "\033[1;31m" : "\033[1m";
	case TOP_ATTR_WARN:   return color ? "\033[33m" : "";
	case TOP_ATTR_DOWN:   return color ? "\033[31m" : "\033[1m";
	case TOP_ATTR_DIM:    return "";
	default:              return "";
	}
}

static void
frame_line(struct strbuf *f, const char *text, enum top_attr a, int color,
	   unsigned cols, int last)
{
	strbuf_addstr(f, sgr(a, color));
	strbuf_addstr(f, text);
	strbuf_addstr(f, "\033[0m");
	/* on a full line the cursor sits on the last column: EL would erase it */
	if (term_width(text) < cols)
		strbuf_addstr(f, "\033[K");
	if (!last)
		strbuf_addstr(f, "\r\n");
}

/* One screenful: the head lines, the scrolled rest, a footer on the last row. */
static void
compose(struct screen *sc, struct strbuf *f, const struct top_lines *l,
	unsigned rows, unsigned cols)
{
	size_t head = l->head < rows ? l->head : rows;
	size_t body = rows > head + 1 ? rows - head - 1 : 0;
	size_t nbody = l->nr - l->head, r;
	struct strbuf foot = STRBUF_INIT, cut = STRBUF_INIT;

	if (sc->scroll + body > nbody)
		sc->scroll = nbody > body ? nbody - body : 0;
	sc->body_rows = body;
	sc->body_lines = nbody;
	strbuf_addstr(f, "\033[H");
	for (r = 0; r < head; r++)
		frame_line(f, l->v[r].text, l->v[r].attr, sc->color, cols, r + 1 == rows);
	for (size_t i = 0; i < body; i++, r++) {
		size_t k = l->head + sc->scroll + i;

		frame_line(f, k < l->nr ? l->v[k].text : "", k < l->nr ? l->v[k].attr : 0,
			   sc->color, cols, 0);
	}
	if (r < rows) {
		strbuf_addstr(&foot, " q: quit  arrows, PgUp, PgDn: scroll");
		if (nbody > body)
			strbuf_addf(&foot, "  rows %zu-%zu of %zu", sc->scroll + 1,
				    sc->scroll + body, nbody);
		term_add_fit(&cut, foot.buf, cols);
		frame_line(f, cut.buf, TOP_ATTR_HEADER, sc->color, cols, 1);
	}
	strbuf_addstr(f, "\033[J");
	strbuf_release(&foot);
	strbuf_release(&cut);
}

/* Draws the view; -1 when the terminal is gone. */
static int
draw(struct screen *sc, struct source *src)
{
	struct top_lines lines = TOP_LINES_INIT;
	struct strbuf f = STRBUF_INIT;
	unsigned rows = 24, cols = 80;
	struct top_view v;
	int rc;

	term_size(sc->term.out_fd, &rows, &cols);
	source_view(src, &v);
	top_render(&lines, &v, cols);
	compose(sc, &f, &lines, rows, cols);
	rc = write_all(sc->term.out_fd, f.buf, f.len);
	top_lines_release(&lines);
	strbuf_release(&f);
	return rc;
}

static void
scroll_by(struct screen *sc, long delta)
{
	if (delta < 0 && (size_t)-delta > sc->scroll)
		sc->scroll = 0;
	else
		sc->scroll += delta;   /* compose() clamps it at the end */
}

/* Reads the keys typed; returns 1 when the user quits. */
static int
handle_keys(struct screen *sc, int *dirty)
{
	long page = sc->body_rows > 1 ? (long)sc->body_rows - 1 : 1;
	char buf[64];
	ssize_t n = read(sc->term.in_fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++) {
		const char *k = buf + i;
		size_t left = (size_t)(n - i);

		*dirty = 1;
		if (*k == 'q' || *k == 'Q')
			return 1;
		if (*k == 'k' || (left >= 3 && !memcmp(k, "\033[A", 3)))
			scroll_by(sc, -1);
		else if (*k == 'j' || (left >= 3 && !memcmp(k, "\033[B", 3)))
			scroll_by(sc, 1);
		else if (left >= 4 && !memcmp(k, "\033[5~", 4))
			scroll_by(sc, -page);
		else if (*k == ' ' || (left >= 4 && !memcmp(k, "\033[6~", 4)))
			scroll_by(sc, page);
		else if (*k == 'g' || (left >= 3 && !memcmp(k, "\033[H", 3)))
			sc->scroll = 0;
		else if (*k == 'G' || (left >= 3 && !memcmp(k, "\033[F", 3)))
			sc->scroll = sc->body_lines;
		/* skip the rest of an escape sequence */
		if (*k == '\033' && left >= 3 && k[1] == '[')
			for (i += 2; i < n && !(buf[i] >= 0x40 && buf[i] <= 0x7e); i++)
				;
	}
	return 0;
}

/* ^Z: give the terminal back, stop, and take it again when continued. */
static int
suspend(struct screen *sc, struct strbuf *err)
{
	struct sigaction dfl, mine;
	int in = sc->term.in_fd, out = sc->term.out_fd;

	term_leave(&sc->term);
	memset(&dfl, 0, sizeof(dfl));
	sigemptyset(&dfl.sa_mask);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &mine);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &mine, NULL);
	return term_enter(&sc->term, in, out, err);
}

/* Acts on the signals received; returns 1 to quit, -1 on an error. */
static int
handle_signals(struct screen *sc, int *dirty, struct strbuf *err)
{
	unsigned char sig[16];
	ssize_t n = read(top_signal_pipe[0], sig, sizeof(sig));

	for (ssize_t i = 0; i < n; i++) {
		*dirty = 1;
		if (sig[i] == SIGINT || sig[i] == SIGTERM || sig[i] == SIGHUP)
			return 1;
		if (sig[i] == SIGTSTP && suspend(sc, err) < 0)
			return -1;
	}
	return 0;
}

static int
screen_loop(struct screen *sc, struct source *src, struct strbuf *err)
{
	struct pollfd *pfd = xcalloc(2 + (src->o->hosts ? STREAM_POLLFDS(&src->stream) : 0),
				     sizeof(*pfd));
	int64_t step = src->o->interval * 1000, next = clock_monotonic_ms() + step;
	int dirty = 1, quit = 0;

	while (!quit) {
		int64_t now = clock_monotonic_ms(), wake = next;
		size_t n = 0;

		if (now >= next) {
			struct strbuf ignored = STRBUF_INIT;

			if (!src->o->hosts)
				source_take_local(src, &ignored);   /* shown as an ERROR row */
			strbuf_release(&ignored);
			next = next + step > now ? next + step : now + step;
			wake = next;
			dirty = 1;
		}
		if (dirty && draw(sc, src) < 0)
			break;   /* the terminal is gone */
		dirty = 0;
		pfd[n++] = (struct pollfd){ .fd = top_signal_pipe[0], .events = POLLIN };
		if (sc->term.raw)
			pfd[n++] = (struct pollfd){ .fd = sc->term.in_fd, .events = POLLIN };
		if (src->o->hosts) {
			int timeout;

			n += stream_poll(&src->stream, pfd + n, &timeout);
			if (now + timeout < wake)
				wake = now + timeout;
		}
		if (poll(pfd, n, wake > now ? (int)(wake - now) : 0) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			quit = handle_signals(sc, &dirty, err);
		if (!quit && sc->term.raw && (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)))
			quit = 1;   /* the terminal hung up */
		else if (!quit && sc->term.raw && pfd[1].revents)
			quit = handle_keys(sc, &dirty);
		if (src->o->hosts)
			stream_service(&src->stream);
	}
	free(pfd);
	return quit < 0 ? -1 : 0;
}

static int
screen_run(struct source *src, struct strbuf *err)
{
	struct screen sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.term = (struct term)TERM_INIT;
	sc.color = src->o->color;
	/* this machine: fail before taking the screen, not inside it */
	if (!src->o->hosts && source_take_local(src, err) < 0)
		return -1;
	if (screen_signals(&sc, err) < 0)
		return -1;
	rc = term_enter(&sc.term, src->o->in_fd, src->o->out_fd, err);
	if (!rc)
		rc = screen_loop(&sc, src, err);
	screen_end(&sc);
	return rc;
}

int
top_run(const struct top_opts *o, struct strbuf *table, struct strvec *problems,
	struct strbuf *err)
{
	struct source src;
	int rc;

	source_init(&src, o);
	if (o->once || !isatty(o->out_fd))
		rc = plain_table(&src, table, problems, err);
	else
		rc = screen_run(&src, err);
	source_release(&src);
	return rc;
}
