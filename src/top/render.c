/* SPDX-License-Identifier: MIT */
/*
 * render.c: the rows of `genv top` (render.h).
 */
#include "compat.h"
#include "top/render.h"
#include "core/live.h"
#include "core/memory.h"
#include "core/timefmt.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/term.h"
#include "util/xalloc.h"

#define BAR_CELLS 10

/* Column widths; 0 hides a column. */
struct layout {
	unsigned host, name, temp;
	unsigned width;            /* 0: plain table, nothing is cut */
};

void
top_lines_release(struct top_lines *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
emit(struct top_lines *out, const struct layout *lay, struct strbuf *line,
     enum top_attr attr)
{
	struct strbuf cut = STRBUF_INIT;

	strbuf_rtrim(line);
	if (lay->width && term_width(line->buf) > lay->width) {
		term_add_fit(&cut, line->buf, lay->width);
		strbuf_reset(line);
		strbuf_addbuf(line, &cut);
	}
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	out->v[out->nr].text = strbuf_detach(line, NULL);
	out->v[out->nr++].attr = attr;
	strbuf_release(&cut);
}

/* Appends safe text in a column of width w (cut unless plain) and a blank. */
static void
col(struct strbuf *sb, const struct layout *lay, const char *text, unsigned w)
{
	if (!w)
		return;
	if (lay->width) {
		term_add_fit(sb, text, w);
	} else {
		strbuf_addstr(sb, text);
		for (size_t n = term_width(text); n < w; n++)
			strbuf_addch(sb, ' ');
	}
	strbuf_addch(sb, ' ');
}

/* col() for others' text: escaped first. */
static void
col_safe(struct strbuf *sb, const struct layout *lay, const char *raw, unsigned w)
{
	struct strbuf t = STRBUF_INIT;

	quote_display(&t, raw ? raw : "");
	col(sb, lay, t.buf, w);
	strbuf_release(&t);
}

static void
add_size(struct strbuf *sb, unsigned long long bytes)
{
	if (bytes < (1ULL << 30))
		strbuf_addf(sb, "%lluM", bytes >> 20);
	else
		strbuf_addf(sb, "%.1fG", (double)bytes / (1ULL << 30));
}

/* "[####      ]  8.0G/16.0G" */
static void
add_memory(struct strbuf *sb, const struct live_gpu *g)
{
	struct strbuf nums = STRBUF_INIT;
	unsigned fill = 0;

	if (g && (g->valid & LIVE_GPU_MEMORY)) {
		if (g->mem_total)
			fill = (unsigned)((g->mem_used * BAR_CELLS + g->mem_total / 2) / g->mem_total);
		if (fill > BAR_CELLS)
			fill = BAR_CELLS;
		add_size(&nums, g->mem_used);
		strbuf_addch(&nums, '/');
		add_size(&nums, g->mem_total);
	} else {
		strbuf_addstr(&nums, "-");
	}
	strbuf_addch(sb, '[');
	for (unsigned i = 0; i < BAR_CELLS; i++)
		strbuf_addch(sb, i < fill ? '#' : ' ');
	strbuf_addf(sb, "] %13s ", nums.buf);
	strbuf_release(&nums);
}

/* The environment of eid as "name [eid]", or "[eid]" when unnamed. */
static void
add_env(struct strbuf *sb, const struct live *l, const char *eid)
{
	const struct env *e = envs_find(&l->snap.envs, eid);

	if (e && e->config.name) {
		quote_display(sb, e->config.name);
		strbuf_addch(sb, ' ');
	}
	strbuf_addch(sb, '[');
	quote_display(sb, eid);
	strbuf_addch(sb, ']');
}

static time_t
host_clock(const struct live *l, time_t fallback)
{
	time_t t;

	return l->time && !genv_time_parse(l->time, &t) ? t : fallback;
}

/* "train [e1] alice, 5 minutes ago" */
static void
add_holder(struct strbuf *sb, const struct live *l, const struct attachment *a,
	   time_t now)
{
	const struct env *e = envs_find(&l->snap.envs, a->eid);

	add_env(sb, l, a->eid);
	if (e && e->username) {
		strbuf_addch(sb, ' ');
		quote_display(sb, e->username);
	}
	if (a->gpu_memory) {
		strbuf_addstr(sb, " (");
		quote_display(sb, a->gpu_memory);
		strbuf_addch(sb, ')');
	}
	strbuf_addstr(sb, ", ");
	genv_time_since(sb, a->time, now);
}

static int
proc_on(const struct process *p, long index, const char **mem)
{
	for (size_t u = 0; u < p->usage_nr; u++)
		if (p->usage[u].index == index) {
			*mem = p->usage[u].gpu_memory;
			return 1;
		}
	return 0;
}

static size_t
procs_on(const struct live *l, long index)
{
	const char *mem;
	size_t n = 0;

	for (size_t i = 0; i < l->snap.processes.nr; i++)
		n += proc_on(&l->snap.processes.v[i], index, &mem);
	return n;
}

static int
gpu_idle(const struct live *l, const struct device *d)
{
	const struct live_gpu *g = live_find_gpu(l, d->index);

	if (procs_on(l, d->index))
		return 0;
	return !g || !(g->valid & LIVE_GPU_UTIL) || g->util == 0;
}

static const char *
gpu_state(const struct live *l, const struct device *d)
{
	if (d->att_nr)
		return gpu_idle(l, d) ? "IDLE" : "held";
	return procs_on(l, d->index) ? "used" : "free";
}

static void
header_row(struct top_lines *out, const struct layout *lay)
{
	struct strbuf sb = STRBUF_INIT;

	col(&sb, lay, "HOST", lay->host);
	strbuf_addstr(&sb, "GPU ");
	col(&sb, lay, "NAME", lay->name);
	strbuf_addf(&sb, "%-12s %13s %4s ", "MEMORY", "USED/TOTAL", "UTIL");
	if (lay->temp)
		strbuf_addf(&sb, "%4s ", "TEMP");
	strbuf_addstr(&sb, "STATE HOLDER / PROCESSES");
	emit(out, lay, &sb, TOP_ATTR_HEADER);
	strbuf_release(&sb);
}

static void
gpu_row(struct top_lines *out, const struct layout *lay, const char *host,
	const struct live *l, const struct device *d, time_t now)
{
	const struct live_gpu *g = live_find_gpu(l, d->index);
	const char *state = gpu_state(l, d);
	struct strbuf sb = STRBUF_INIT, num = STRBUF_INIT;

	col_safe(&sb, lay, host, lay->host);
	strbuf_addf(&sb, "%3ld ", d->index);
	col_safe(&sb, lay, g && g->name ? g->name : "-", lay->name);
	add_memory(&sb, g);
	if (g && (g->valid & LIVE_GPU_UTIL))
		strbuf_addf(&num, "%u%%", g->util);
	strbuf_addf(&sb, "%4s ", num.len ? num.buf : "-");
	strbuf_reset(&num);
	if (lay->temp) {
		if (g && (g->valid & LIVE_GPU_TEMP))
			strbuf_addf(&num, "%uC", g->temp);
		strbuf_addf(&sb, "%4s ", num.len ? num.buf : "-");
	}
	strbuf_addf(&sb, "%-5s ", state);
	if (d->att_nr)
		add_holder(&sb, l, &d->att[0], now);
	emit(out, lay, &sb, !strcmp(state, "IDLE") ? TOP_ATTR_IDLE : TOP_ATTR_NORMAL);
	strbuf_release(&sb);
	strbuf_release(&num);
}

/* The blanks under HOST, GPU and NAME (and up to STATE for holders). */
static void
indent(struct strbuf *sb, const struct layout *lay, int to_holder)
{
	size_t n = (lay->host ? lay->host + 1 : 0) + 4 + (lay->name ? lay->name + 1 : 0);

	if (to_holder)
		n += 12 + 1 + 13 + 1 + 5 + (lay->temp ? 5 : 0) + 6;
	for (size_t i = 0; i < n; i++)
		strbuf_addch(sb, ' ');
}

static void
holder_rows(struct top_lines *out, const struct layout *lay, const struct live *l,
	    const struct device *d, time_t now)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t a = 1; a < d->att_nr; a++) {
		indent(&sb, lay, 1);
		add_holder(&sb, l, &d->att[a], now);
		emit(out, lay, &sb, TOP_ATTR_NORMAL);
	}
	strbuf_release(&sb);
}

static void
proc_row(struct top_lines *out, const struct layout *lay, const struct live *l,
	 const struct device *d, const struct process *p, const char *mem)
{
	const struct live_proc *info = live_find_proc(l, p->pid);
	struct strbuf sb = STRBUF_INIT, t = STRBUF_INIT;
	unsigned long long bytes;
	enum top_attr attr = TOP_ATTR_DIM;
	const char *tag = "";

	if (!p->eid && (!info || info->env_known)) {
		tag = "NO-ENV";
		attr = TOP_ATTR_ALERT;
	} else if (p->eid && !device_has_eid(d, p->eid)) {
		tag = "OTHER-ENV";
		attr = TOP_ATTR_WARN;
	}
	indent(&sb, lay, 0);
	strbuf_addf(&sb, "%7ld %-9s ", p->pid, tag);
	if (info && info->user)
		quote_display(&t, info->user);
	else if (info && info->uid >= 0)
		strbuf_addf(&t, "%lld", info->uid);
	col(&sb, lay, t.len ? t.buf : "?", 10);
	strbuf_reset(&t);
	if (p->eid)
		add_env(&t, l, p->eid);
	col(&sb, lay, t.len ? t.buf : info && !info->env_known ? "?" : "(none)", 20);
	strbuf_reset(&t);
	if (mem && !memory_to_bytes(mem, &bytes, &t)) {
		strbuf_reset(&t);
		add_size(&t, bytes);
	}
	strbuf_addf(&sb, "%7s ", t.len ? t.buf : "-");
	if (info && info->command)
		quote_display(&sb, info->command);
	emit(out, lay, &sb, attr);
	strbuf_release(&sb);
	strbuf_release(&t);
}

static void
host_rows(struct top_lines *out, const struct layout *lay, const struct top_host *h,
	  time_t now)
{
	const struct live *l = h->live;
	struct strbuf sb = STRBUF_INIT;
	time_t clock;

	col_safe(&sb, lay, h->name, lay->host);
	if (h->state != TOP_HOST_UP) {
		static const char *const word[] = { "", "connecting", "DOWN", "ERROR" };

		strbuf_addstr(&sb, word[h->state]);
		/* before the reason, which may be long enough to be cut */
		if (h->state == TOP_HOST_DOWN && h->retry_s > 0)
			strbuf_addf(&sb, " (retrying in %ld s)", h->retry_s);
		else if (h->state == TOP_HOST_DOWN && h->retry_s == 0)
			strbuf_addstr(&sb, " (retrying)");
		if (h->status) {
			strbuf_addstr(&sb, ": ");
			quote_display(&sb, h->status);
		}
		emit(out, lay, &sb, h->state == TOP_HOST_CONNECTING ? TOP_ATTR_DIM : TOP_ATTR_DOWN);
		strbuf_release(&sb);
		return;
	}
	if (!l->snap.devices.nr || h->age_s > 0 || l->partial) {
		if (!l->snap.devices.nr)
			strbuf_addstr(&sb, "no GPUs ");
		if (l->partial)
			strbuf_addstr(&sb, "genv 1.4.3 there: GPU memory in use is what its "
				      "processes use; no utilization ");
		if (h->age_s > 0)
			strbuf_addf(&sb, "(last snapshot %ld s ago)", h->age_s);
		emit(out, lay, &sb, TOP_ATTR_DIM);
	}
	clock = host_clock(l, now);
	for (size_t i = 0; i < l->snap.devices.nr; i++) {
		const struct device *d = &l->snap.devices.v[i];

		gpu_row(out, lay, h->name, l, d, clock);
		holder_rows(out, lay, l, d, clock);
		for (size_t p = 0; p < l->snap.processes.nr; p++) {
			const char *mem;

			if (proc_on(&l->snap.processes.v[p], d->index, &mem))
				proc_row(out, lay, l, d, &l->snap.processes.v[p], mem);
		}
	}
	strbuf_release(&sb);
}

static int
seen_user(const struct live *l, size_t upto, const char *user)
{
	for (size_t i = 0; i < upto; i++)
		if (l->snap.envs.v[i].username && !strcmp(l->snap.envs.v[i].username, user))
			return 1;
	return 0;
}

void
top_count(const struct top_view *v, struct top_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t h = 0; h < v->nr; h++) {
		const struct live *l = v->hosts[h].live;

		if (v->hosts[h].state != TOP_HOST_UP) {
			c->hosts_down += v->hosts[h].state != TOP_HOST_CONNECTING;
			continue;
		}
		c->hosts_up++;
		for (size_t i = 0; i < l->snap.devices.nr; i++) {
			const struct device *d = &l->snap.devices.v[i];

			c->gpus++;
			c->held += d->att_nr > 0;
			c->idle += d->att_nr > 0 && gpu_idle(l, d);
		}
		for (size_t i = 0; i < l->snap.processes.nr; i++) {
			const struct process *p = &l->snap.processes.v[i];
			const struct live_proc *info = live_find_proc(l, p->pid);

			c->procs++;
			c->no_env += !p->eid && (!info || info->env_known);
		}
		c->envs += l->snap.envs.nr;
		/* users per host: the same login on two hosts counts twice */
		for (size_t i = 0; i < l->snap.envs.nr; i++)
			c->users += l->snap.envs.v[i].username &&
				    !seen_user(l, i, l->snap.envs.v[i].username);
	}
}

static void
title_rows(struct top_lines *out, const struct layout *lay, const struct top_view *v)
{
	struct strbuf sb = STRBUF_INIT, stamp = STRBUF_INIT;
	struct top_counts c;

	genv_time_format(&stamp, v->now);
	strbuf_addstr(&sb, "genv top - ");
	quote_display(&sb, v->title ? v->title : "");
	strbuf_addf(&sb, " - %s - every %ld s", stamp.buf + 11, v->interval);
	emit(out, lay, &sb, TOP_ATTR_TITLE);

	top_count(v, &c);
	if (v->remote)
		strbuf_addf(&sb, "hosts: %zu up, %zu down   ", c.hosts_up, c.hosts_down);
	strbuf_addf(&sb, "GPUs: %zu, %zu held, %zu idle   processes: %zu, %zu outside "
		    "environments   environments: %zu   users: %zu",
		    c.gpus, c.held, c.idle, c.procs, c.no_env, c.envs, c.users);
	emit(out, lay, &sb, TOP_ATTR_NORMAL);
	emit(out, lay, &sb, TOP_ATTR_NORMAL);
	strbuf_release(&sb);
	strbuf_release(&stamp);
}

static void
choose_layout(struct layout *lay, const struct top_view *v, unsigned width)
{
	unsigned longest = 4, name = 4;

	memset(lay, 0, sizeof(*lay));
	lay->width = width;
	for (size_t h = 0; h < v->nr; h++) {
		const struct live *l = v->hosts[h].live;
		struct strbuf t = STRBUF_INIT;

		quote_display(&t, v->hosts[h].name ? v->hosts[h].name : "");
		if (term_width(t.buf) > longest)
			longest = (unsigned)term_width(t.buf);
		for (size_t g = 0; l && g < l->gpus_nr; g++) {
			strbuf_reset(&t);
			quote_display(&t, l->gpus[g].name ? l->gpus[g].name : "-");
			if (term_width(t.buf) > name)
				name = (unsigned)term_width(t.buf);
		}
		strbuf_release(&t);
	}
	if (v->remote)
		lay->host = width && longest > 20 ? 20 : longest;
	if (!width) {
		lay->name = name;
		lay->temp = 1;
		return;
	}
	/* narrow terminals lose the GPU name first, then the temperature */
	lay->name = width >= 120 ? (name < 24 ? name : 24) : width >= 100 ? 12 : 0;
	lay->temp = width >= 90;
}

void
top_render(struct top_lines *out, const struct top_view *v, unsigned width)
{
	struct layout lay;

	choose_layout(&lay, v, width);
	title_rows(out, &lay, v);
	header_row(out, &lay);
	out->head = out->nr;
	for (size_t h = 0; h < v->nr; h++)
		host_rows(out, &lay, &v->hosts[h], v->now);
}
