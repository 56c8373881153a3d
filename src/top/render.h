/* SPDX-License-Identifier: MIT */
/*
 * render.h: the picture `genv top` draws, as lines of text. Pure: a list
 * of hosts with their snapshots in, lines out, no terminal involved, so
 * that the full-screen view, the plain table and the tests all see the
 * same rows.
 *
 * Per GPU one row: host, index, name, a memory bar with used/total,
 * utilization, temperature, a state, and the holder (environment name
 * and id, its user, since when). Further holders of a shared GPU follow
 * on rows of their own, then one row per process on the GPU (pid, user,
 * environment, GPU memory, command line). Two things are flagged, with
 * a word in the row (and a color on a terminal):
 *   IDLE    a GPU held by an environment with no process on it and 0%
 *           utilization (or unknown utilization);
 *   NO-ENV  a process that belongs to no environment (OTHER-ENV: to an
 *           environment that does not hold this GPU).
 * Every name is shown with control characters escaped (quote_display()).
 */
#ifndef GENV_TOP_RENDER_H
#define GENV_TOP_RENDER_H

#include <stddef.h>
#include <time.h>

struct live;

enum top_host_state {
	TOP_HOST_UP,          /* live is the host's snapshot */
	TOP_HOST_CONNECTING,  /* no snapshot yet */
	TOP_HOST_DOWN,        /* status says why */
	TOP_HOST_ERROR,       /* the host answers but cannot take a snapshot */
};

struct top_host {
	const char *name;          /* for the HOST column (remote) */
	enum top_host_state state;
	const struct live *live;   /* TOP_HOST_UP */
	const char *status;        /* DOWN/ERROR: why; may be NULL */
	long retry_s;              /* DOWN: seconds to the next attempt (0: under
				    * way), or -1 */
	long age_s;                /* UP: seconds since the snapshot, when late */
};

struct top_view {
	const struct top_host *hosts;
	size_t nr;
	int remote;                /* show the HOST column and host counts */
	const char *title;         /* "genv top: gpu-server-1, ..." */
	long interval;             /* seconds */
	time_t now;                /* this machine's clock (the header) */
};

enum top_attr {
	TOP_ATTR_NORMAL,
	TOP_ATTR_TITLE,     /* the first line */
	TOP_ATTR_HEADER,    /* column headers */
	TOP_ATTR_IDLE,      /* a held but idle GPU */
	TOP_ATTR_ALERT,     /* a process outside any environment */
	TOP_ATTR_WARN,      /* a process of another environment */
	TOP_ATTR_DOWN,      /* a host that is down */
	TOP_ATTR_DIM,       /* secondary rows */
};

struct top_line {
	char *text;         /* safe text, no newline */
	enum top_attr attr;
};

struct top_lines {
	struct top_line *v;
	size_t nr, alloc;
	size_t head;        /* the first head lines stay when scrolling */
};
#define TOP_LINES_INIT { NULL, 0, 0, 0 }

void top_lines_release(struct top_lines *l);

/*
 * Renders v into out (empty). With width > 0, every column is cut to fit
 * and each line is at most width columns; with width 0 (a plain table)
 * nothing is cut and every column is shown.
 */
void top_render(struct top_lines *out, const struct top_view *v, unsigned width);

/* Counts over the view (the summary line; also for tests). */
struct top_counts {
	size_t hosts_up, hosts_down;
	size_t gpus, held, idle;
	size_t procs, no_env;
	size_t envs, users;
};
void top_count(const struct top_view *v, struct top_counts *c);

#endif
