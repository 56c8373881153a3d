/* SPDX-License-Identifier: MIT */
/*
 * slurm.c: job mode (slurm.h). The hot path reads only the environment;
 * scontrol and squeue run on cold paths (a context without GPU variables,
 * the first command of a job).
 */
#include "compat.h"
#include "core/slurm.h"
#include "util/fileio.h"
#include "util/priv.h"
#include "util/run.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define SLURM_TIMEOUT_MS 10000

int
slurm_in_job(void)
{
	const char *id = getenv("SLURM_JOB_ID");

	return id && *id;
}

/* Job ids are numbers (array and het jobs still have a numeric SLURM_JOB_ID). */
static int
valid_job_id(const char *id)
{
	size_t n = strspn(id, "0123456789");

	return n && n < 20 && !id[n];
}

int
slurm_parse_indices(const char *s, size_t len, long **v, size_t *nr,
		    struct strbuf *err)
{
	size_t i = 0, alloc = 0;

	*v = NULL;
	*nr = 0;
	while (i < len) {
		char *end;
		long lo = strtol(s + i, &end, 10), hi = lo;

		if (end == s + i || !isdigit((unsigned char)s[i]) || lo > 4096)
			goto bad;
		i = (size_t)(end - s);
		if (i < len && s[i] == '-') {
			hi = strtol(s + i + 1, &end, 10);
			if (end == s + i + 1 || hi < lo || hi > 4096)
				goto bad;
			i = (size_t)(end - s);
		}
		for (long k = lo; k <= hi; k++) {
			ALLOC_GROW(*v, *nr + 1, alloc);
			(*v)[(*nr)++] = k;
		}
		if (i < len && (s[i++] != ',' || i == len))
			goto bad;  /* not a separator, or a trailing one */
	}
	return 0;
bad:
	free(*v);
	*v = NULL;
	*nr = 0;
	strbuf_addf(err, "not a Slurm GPU index list: '%.*s'", (int)len, s);
	return -1;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* "GRES=gpu:2(IDX:0-1)" or "gpu:a100:1(IDX:3)" on scontrol's node line. */
static int
parse_scontrol_gres(const char *text, long **v, size_t *nr, struct strbuf *err)
{
	const char *p = strstr(text, "(IDX:"), *end;

	if (!p) {
		*v = NULL;
		*nr = 0;
		return 0;  /* a job without GPUs */
	}
	p += 5;
	end = p + strcspn(p, ")");
	if (!*end) {
		strbuf_addstr(err, "cannot read the GPU indices in `scontrol show job -d`");
		return -1;
	}
	return slurm_parse_indices(p, (size_t)(end - p), v, nr, err);
}

static int
gpus_from_scontrol(const char *id, long **v, size_t *nr, struct strbuf *err)
{
	struct run_task t = RUN_TASK_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	int rc = -1;

	{
		static const char *const argv[] = { "scontrol", "show", "job", "-d", NULL };

		strvec_pushv(&t.argv, argv);
		strvec_push(&t.argv, id);
	}
	o.timeout_ms = SLURM_TIMEOUT_MS;
	if (run_parallel(&t, 1, &o)) {
		strbuf_addf(err, "job %s has no SLURM_JOB_GPUS or SLURM_STEP_GPUS and "
			    "`scontrol show job -d %s` failed", id, id);
		if (t.error.len)
			strbuf_addf(err, ": %s", t.error.buf);
		else if (t.err.len)
			strbuf_addf(err, ": %.*s", (int)strcspn(t.err.buf, "\n"), t.err.buf);
		goto out;
	}
	rc = parse_scontrol_gres(t.out.buf, v, nr, err);
out:
	run_task_release(&t);
	return rc;
}

static int
job_detect(struct slurm_job *job, struct strbuf *err)
{
	static const char *const vars[] = { "SLURM_JOB_GPUS", "SLURM_STEP_GPUS" };
	const char *value;

	if (!valid_job_id(job->id)) {
		strbuf_addf(err, "SLURM_JOB_ID is '%s', not a Slurm job id", job->id);
		return -1;
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++) {
		value = getenv(vars[i]);
		if (value && *value) {
			job->source = vars[i];
			if (slurm_parse_indices(value, strlen(value), &job->gpus,
						&job->gpus_nr, err) < 0) {
				strbuf_addf(err, " (%s)", vars[i]);
				return -1;
			}
			goto sort;
		}
	}
	job->source = "scontrol show job -d";
	if (gpus_from_scontrol(job->id, &job->gpus, &job->gpus_nr, err) < 0)
		return -1;
sort:
	qsort(job->gpus, job->gpus_nr, sizeof(long), cmp_long);
	return 0;
}

const struct slurm_job *
slurm_job(int *failed, struct strbuf *err)
{
	static struct slurm_job job;
	static struct strbuf why = STRBUF_INIT;
	static int decided, ok;

	*failed = 0;
	if (!slurm_in_job())
		return NULL;
	if (!decided) {
		decided = 1;
		job.id = getenv("SLURM_JOB_ID");
		ok = !job_detect(&job, &why);  /* kept for the process's life */
	}
	if (ok)
		return &job;
	*failed = 1;
	strbuf_addbuf(err, &why);
	return NULL;
}

void
slurm_job_dir(const char *base, const char *id, struct strbuf *out)
{
	strbuf_addf(out, "%s/slurm/job-%s", base, id);
}

/* The job ids Slurm knows (pending, running, completing), as text lines. */
static int
live_jobs(struct strbuf *out)
{
	struct run_task t = RUN_TASK_INIT;
	struct run_opts o = RUN_OPTS_INIT;
	int rc;

	{
		/* pending, running, completing...: not the finished ones */
		static const char *const argv[] = { "squeue", "-h", "-a", "-o", "%i", NULL };

		strvec_pushv(&t.argv, argv);
	}
	o.timeout_ms = SLURM_TIMEOUT_MS;
	rc = run_parallel(&t, 1, &o) ? -1 : 0;
	if (!rc) {
		strbuf_addch(out, '\n');
		strbuf_addbuf(out, &t.out);
		strbuf_addch(out, '\n');
	}
	run_task_release(&t);
	return rc;
}

void
slurm_sweep_jobs(const char *base)
{
	struct strbuf dir = STRBUF_INIT, live = STRBUF_INIT, line = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	/* squeue runs without genv's group (it is found on the caller's PATH) */
	if (live_jobs(&live) < 0)
		goto out;
	/* an answer without our own job is not one to act on */
	strbuf_addf(&line, "\n%s\n", getenv("SLURM_JOB_ID"));
	if (!strstr(live.buf, line.buf))
		goto out;
	strbuf_addf(&dir, "%s/slurm", base);
	priv_raise();
	d = opendir(dir.buf);
	while (d && (de = readdir(d))) {
		const char *id;

		if (strncmp(de->d_name, "job-", 4) || !valid_job_id(de->d_name + 4))
			continue;
		id = de->d_name + 4;
		strbuf_reset(&line);
		strbuf_addf(&line, "\n%s\n", id);
		if (strstr(live.buf, line.buf))
			continue;
		strbuf_reset(&line);
		strbuf_addf(&line, "%s/%s", dir.buf, de->d_name);
		remove_tree(line.buf);
	}
	if (d)
		closedir(d);
	priv_lower();
out:
	strbuf_release(&dir);
	strbuf_release(&live);
	strbuf_release(&line);
}
