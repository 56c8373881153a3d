/* SPDX-License-Identifier: MIT */
/*
 * smi-filter.h: the environment's own view of nvidia-smi's table, as
 * genv 1.4.3's nvidia-smi shim shows it (reference §8.1), for the classic
 * 79-column table and for the wider tables of current drivers:
 *
 *  - process rows of other environments are hidden, and "No running
 *    processes found" is shown when none of the rows is the environment's;
 *  - each GPU's memory cell shows the memory the environment's processes
 *    use against its capacity (GENV_GPU_MEMORY, else the GPU's total),
 *    keeping the cell's width;
 *  - warnings follow the table when the usage exceeds the capacity, or
 *    when the table has no process information at all (a container
 *    without the host pid namespace).
 *
 * A pure text filter: lines go in, text comes out, and which process is
 * the environment's is asked through a callback. It works table by table
 * (a device section up to the end of the process section), so that
 * `nvidia-smi -l` loops are shown as they come. Text it does not
 * recognise passes through unchanged.
 */
#ifndef GENV_SHIM_SMI_FILTER_H
#define GENV_SHIM_SMI_FILTER_H

#include "util/strbuf.h"

/* 1 when pid belongs to the environment; data is smi_filter.own_data. */
typedef int (*smi_own_fn)(long pid, void *data);

struct smi_filter {
	/* Set by the caller before the first line: */
	long long capacity_mib;    /* shown as each GPU's total; < 0 = real total */
	const char *capacity;      /* GENV_GPU_MEMORY as given, for the warning */
	smi_own_fn own;
	void *own_data;

	/* Private: */
	struct strbuf pending;     /* the current table, held until it ends */
	struct strbuf partial;     /* an incomplete last line */
	long prev_index;           /* GPU index on the line before, or -1 */
	long start_prev;           /* prev_index when the table started */
	int in_table, seen_proc_sep;
	size_t procs, own_procs;
	int no_procs_line;
	long long *used;           /* own MiB per GPU index */
	size_t used_nr;
};
#define SMI_FILTER_INIT { -1, NULL, NULL, NULL, STRBUF_INIT, STRBUF_INIT, -1, -1, 0, 0, \
			  0, 0, 0, NULL, 0 }

/*
 * Feeds len bytes of nvidia-smi's output (any chunking); what can be
 * shown already is appended to out.
 */
void smi_filter_feed(struct smi_filter *f, const char *buf, size_t len,
		     struct strbuf *out);
/* End of output: appends whatever is still held, with its warnings. */
void smi_filter_finish(struct smi_filter *f, struct strbuf *out);
void smi_filter_release(struct smi_filter *f);

#endif
