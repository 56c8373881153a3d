/* SPDX-License-Identifier: MIT */
/*
 * smi-filter.c: rewriting nvidia-smi's table for one environment
 * (smi-filter.h). Lines are recognised by their shape rather than by
 * column positions, so that the classic 79-column table and the wider
 * tables of current drivers go through the same code:
 *
 *   device memory  "... |   1024MiB / 11019MiB |...|"   (the cell with "MiB / ")
 *   GPU index      "|   0  NVIDIA ... |"                (the line before it)
 *   process row    "|    0   N/A  N/A     30230      C   python   1000MiB |"
 *                  (or "|    0     30230      C   python   1000MiB |" before
 *                  driver 450, and MIG rows with GI/CI numbers)
 *   separator      "|=====...=====|"                   (above the process rows)
 *   end of table   "+-----...-----+"                   (after the separator)
 */
#include "compat.h"
#include "shim/smi-filter.h"
#include "util/xalloc.h"

#include <ctype.h>

/* Device indices above this are not GPU indices (a garbled line). */
#define SMI_MAX_INDEX 4096

#define NO_PROCS_TEXT "|  No running processes found"

struct mem_cell {
	size_t bar;          /* offset of the '|' that opens the cell */
	size_t used_end;     /* offset of "MiB / " */
	size_t total_start;  /* offset of the total's first digit */
	size_t total_end;    /* offset of "MiB |" after the total */
	long long total;
};

static int
is_digits(const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "|   0  NVIDIA ... |": the GPU index of a device's first row, or -1. */
static long
line_index(const char *line, size_t len)
{
	size_t i = 1, start;

	if (len < 2 || line[0] != '|' || line[len - 1] != '|')
		return -1;
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	start = i;
	while (i < len && isdigit((unsigned char)line[i]))
		i++;
	if (i == start || i - start > 6)
		return -1;
	return strtol(line + start, NULL, 10);
}

/* Finds "| <spaces>USEDMiB / <spaces>TOTALMiB |" in a line ending with '|'. */
static int
find_mem_cell(const char *line, size_t len, struct mem_cell *c)
{
	const char *p = line;

	if (!len || line[len - 1] != '|')
		return 0;
	while ((p = memmem(p, len - (size_t)(p - line), "MiB / ", 6))) {
		size_t at = (size_t)(p - line), i = at, j = at + 6, d;

		p += 6;
		while (i > 0 && isdigit((unsigned char)line[i - 1]))
			i--;
		if (i == at || i < 3 || line[i - 1] != ' ')
			continue;
		while (i > 1 && line[i - 1] == ' ')
			i--;
		if (line[i - 1] != '|')
			continue;
		while (j < len && line[j] == ' ')
			j++;
		d = j;
		while (j < len && isdigit((unsigned char)line[j]))
			j++;
		if (j == d || j - d > 12 || len - j < 5 || memcmp(line + j, "MiB |", 5))
			continue;
		c->bar = i - 1;
		c->used_end = at;
		c->total_start = d;
		c->total_end = j;
		c->total = strtoll(line + d, NULL, 10);
		return 1;
	}
	return 0;
}

static int
is_process_type(const char *s, size_t len)
{
	if (!len || len > 8)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("CGM+", s[i]))
			return 0;
	return 1;
}

static int
is_id_or_na(const char *s, size_t len)
{
	return is_digits(s, len) || (len == 3 && !memcmp(s, "N/A", 3));
}

/*
 * A process row: "|" GPU [GI CI] PID TYPE NAME... MEMORY "|" with MEMORY
 * "<n>MiB" or "N/A" (counted as 0). Sets *gpu, *pid and *mib.
 */
static int
parse_process(const char *line, size_t len, long *gpu, long *pid, long long *mib)
{
	const char *tok[6];
	size_t tlen[6], n = 0, i = 1;
	const char *last = NULL;
	size_t last_len = 0;

	if (len < 3 || line[0] != '|' || line[len - 1] != '|' ||
	    memchr(line + 1, '|', len - 2))
		return 0;
	while (i < len - 1) {
		size_t start;

		while (i < len - 1 && line[i] == ' ')
			i++;
		if (i >= len - 1)
			break;
		start = i;
		while (i < len - 1 && line[i] != ' ')
			i++;
		if (n < ARRAY_SIZE(tok)) {
			tok[n] = line + start;
			tlen[n++] = i - start;
		}
		last = line + start;
		last_len = i - start;
	}
	if (n < 4 || !is_digits(tok[0], tlen[0]))
		return 0;
	if (n >= 6 && is_id_or_na(tok[1], tlen[1]) && is_id_or_na(tok[2], tlen[2]) &&
	    is_digits(tok[3], tlen[3]) && is_process_type(tok[4], tlen[4]))
		*pid = strtol(tok[3], NULL, 10);
	else if (is_digits(tok[1], tlen[1]) && is_process_type(tok[2], tlen[2]))
		*pid = strtol(tok[1], NULL, 10);
	else
		return 0;
	if (last_len > 3 && !memcmp(last + last_len - 3, "MiB", 3) &&
	    is_digits(last, last_len - 3))
		*mib = strtoll(last, NULL, 10);
	else if (last_len == 3 && !memcmp(last, "N/A", 3))
		*mib = 0;
	else
		return 0;
	*gpu = strtol(tok[0], NULL, 10);
	return 1;
}

/* "|=====|" (the process section's header rule) or "+-----+" (a border). */
static int
is_rule(const char *line, size_t len, char edge, char fill)
{
	if (len < 3 || line[0] != edge || line[len - 1] != edge)
		return 0;
	for (size_t i = 1; i < len - 1; i++)
		if (line[i] != fill)
			return 0;
	return 1;
}

static int
is_no_procs(const char *line, size_t len)
{
	const char *text = "No running processes found";
	size_t i = 1, tl = strlen(text);

	if (len < 2 || line[0] != '|' || line[len - 1] != '|')
		return 0;
	while (i < len && line[i] == ' ')
		i++;
	if (len - i < tl || memcmp(line + i, text, tl))
		return 0;
	for (i += tl; i < len - 1; i++)
		if (line[i] != ' ')
			return 0;
	return 1;
}

static void
add_used(struct smi_filter *f, long gpu, long long mib)
{
	if (gpu < 0 || gpu > SMI_MAX_INDEX)
		return;
	if ((size_t)gpu >= f->used_nr) {
		size_t nr = (size_t)gpu + 1;

		f->used = xrealloc(f->used, nr * sizeof(*f->used));
		memset(f->used + f->used_nr, 0, (nr - f->used_nr) * sizeof(*f->used));
		f->used_nr = nr;
	}
	f->used[gpu] += mib;
}

/* Appends s right-aligned in a field of width (never truncated). */
static void
add_right(struct strbuf *out, const char *s, size_t width)
{
	for (size_t n = strlen(s); n < width; n++)
		strbuf_addch(out, ' ');
	strbuf_addstr(out, s);
}

/*
 * The memory cell with the environment's usage and capacity, as wide as
 * nvidia-smi made it (1.4.3's "| {used:>6}MiB / {total:>5}MiB |" in the
 * classic table). Sets *over when the usage exceeds the total.
 */
static void
rewrite_device(struct smi_filter *f, const char *line, size_t len,
	       const struct mem_cell *c, long index, int missing,
	       struct strbuf *out, int *over)
{
	long long total = f->capacity_mib >= 0 ? f->capacity_mib : c->total;
	long long used = index >= 0 && (size_t)index < f->used_nr ? f->used[index] : 0;
	size_t used_w = c->used_end - c->bar - 2, total_w = c->total_end - c->used_end - 6;
	char num[32];

	if (used_w < 6)
		used_w = 6;
	if (total_w < 5)
		total_w = 5;
	strbuf_add(out, line, c->bar);
	strbuf_addstr(out, "| ");
	if (missing) {
		add_right(out, "N/A ", used_w);
	} else {
		snprintf(num, sizeof(num), "%lld", used);
		add_right(out, num, used_w);
		if (used > total)
			*over = 1;
	}
	strbuf_addstr(out, "MiB / ");
	snprintf(num, sizeof(num), "%lld", total);
	add_right(out, num, total_w);
	strbuf_add(out, line + c->total_end, len - c->total_end);
}

static void
add_warning(struct strbuf *out, const char *msg)
{
	strbuf_addf(out, "\nWARNING: %s\n\n", msg);
}

/* Shows the held table, rewritten, and its warnings; starts afresh. */
static void
flush_table(struct smi_filter *f, struct strbuf *out)
{
	long prev = f->start_prev;
	int missing = !f->procs && !f->no_procs_line, over = 0;
	const char *line = f->pending.buf, *end = line + f->pending.len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		struct mem_cell c;

		if (find_mem_cell(line, len, &c))
			rewrite_device(f, line, len, &c, prev, missing, out, &over);
		else
			strbuf_add(out, line, len);
		if (nl)
			strbuf_addch(out, '\n');
		if (is_rule(line, len, '|', '=') && f->procs && !f->own_procs) {
			strbuf_addpad(out, NO_PROCS_TEXT, len - 1);
			strbuf_addstr(out, "|\n");
		}
		prev = line_index(line, len);
		line += len + (nl ? 1 : 0);
	}
	if (over) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "The GPU memory usage for this environment has exceeded the set capacity of %s",
			    f->capacity ? f->capacity : "the device");
		add_warning(out, msg.buf);
		strbuf_release(&msg);
	}
	if (missing)
		add_warning(out, "Missing information about running processes. Cannot calculate GPU memory usage.\n\n"
			    "If you are running in a container, using the host pid namespace would solve this.\n"
			    "This could be done by passing '--pid host' to the 'docker run' command.");
	strbuf_reset(&f->pending);
	f->in_table = f->seen_proc_sep = f->no_procs_line = 0;
	f->procs = f->own_procs = 0;
	if (f->used_nr)
		memset(f->used, 0, f->used_nr * sizeof(*f->used));
}

/* One line, with its '\n' unless it is the last of the output. */
static void
filter_line(struct smi_filter *f, const char *line, size_t len, struct strbuf *out)
{
	size_t bare = len && line[len - 1] == '\n' ? len - 1 : len;
	struct mem_cell c;
	long gpu, pid;
	long long mib;

	if (!f->in_table && find_mem_cell(line, bare, &c)) {
		f->in_table = 1;
		f->start_prev = f->prev_index;
	}
	f->prev_index = line_index(line, bare);
	if (!f->in_table) {
		strbuf_add(out, line, len);
		return;
	}
	if (f->seen_proc_sep && parse_process(line, bare, &gpu, &pid, &mib)) {
		f->procs++;
		if (!f->own || !f->own(pid, f->own_data))
			return;   /* another environment's process */
		f->own_procs++;
		add_used(f, gpu, mib);
	} else if (is_no_procs(line, bare)) {
		f->no_procs_line = 1;
	} else if (is_rule(line, bare, '|', '=')) {
		f->seen_proc_sep = 1;
	}
	strbuf_add(&f->pending, line, len);
	if (f->seen_proc_sep && is_rule(line, bare, '+', '-'))
		flush_table(f, out);
}

void
smi_filter_feed(struct smi_filter *f, const char *buf, size_t len, struct strbuf *out)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) + 1 : len;

		if (!nl) {
			strbuf_add(&f->partial, buf, n);
			return;
		}
		if (f->partial.len) {
			strbuf_add(&f->partial, buf, n);
			filter_line(f, f->partial.buf, f->partial.len, out);
			strbuf_reset(&f->partial);
		} else {
			filter_line(f, buf, n, out);
		}
		buf += n;
		len -= n;
	}
}

void
smi_filter_finish(struct smi_filter *f, struct strbuf *out)
{
	if (f->partial.len) {
		filter_line(f, f->partial.buf, f->partial.len, out);
		strbuf_reset(&f->partial);
	}
	if (f->in_table)
		flush_table(f, out);
}

void
smi_filter_release(struct smi_filter *f)
{
	strbuf_release(&f->pending);
	strbuf_release(&f->partial);
	free(f->used);
	f->used = NULL;
	f->used_nr = 0;
}
