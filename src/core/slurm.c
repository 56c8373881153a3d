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
#define JOB_GPUS_FILE "job.gpus"   /* scontrol's answer, kept in the job's state */

/* The job's state directory (slurm_set_job_dir()), "" when unknown. */
static struct strbuf job_dir = STRBUF_INIT;
static unsigned job_file_mode;

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

const char *
slurm_job_id(struct strbuf *err)
{
	const char *id = getenv("SLURM_JOB_ID");

	if (id && valid_job_id(id))
		return id;
	strbuf_addf(err, "SLURM_JOB_ID is '%s', not a Slurm job id", id ? id : "");
	return NULL;
}

void
slurm_set_job_dir(const char *dir, unsigned file_mode)
{
	strbuf_reset(&job_dir);
	strbuf_addstr(&job_dir, dir);
	job_file_mode = file_mode;
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
		strbuf_addf(err, "job %s has no SLURM_JOB_GPUS and "
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

/*
 * The job's GPUs a command of the job learnt from scontrol, as job.gpus in
 * its state ("0,1\n", "\n" for none): 1 and the list, 0 when not there.
 */
static int
read_kept_gpus(long **v, size_t *nr)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ignored = STRBUF_INIT;
	int rc = 0;

	if (!job_dir.len)
		return 0;
	strbuf_addf(&path, "%s/%s", job_dir.buf, JOB_GPUS_FILE);
	priv_raise();
	rc = !read_file_nofollow(&text, path.buf, "Slurm job GPU list", &ignored);
	priv_lower();
	strbuf_trim(&text);
	if (rc && slurm_parse_indices(text.buf, text.len, v, nr, &ignored) < 0)
		rc = 0;  /* not ours to trust: ask scontrol again */
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ignored);
	return rc;
}

/* Keeps what scontrol said for the job's later commands (best effort). */
static void
keep_gpus(const long *v, size_t nr)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ignored = STRBUF_INIT;

	if (!job_dir.len)
		return;
	strbuf_addf(&path, "%s/%s", job_dir.buf, JOB_GPUS_FILE);
	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&text, "%s%ld", i ? "," : "", v[i]);
	strbuf_addch(&text, '\n');
	priv_raise();
	write_file_atomic(path.buf, text.buf, text.len, (mode_t)job_file_mode, &ignored);
	priv_lower();
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ignored);
}

/* The list in variable name (0), or -1 (err); 1 when it is not set. */
static int
gpus_from_env(const char *name, long **v, size_t *nr, struct strbuf *err)
{
	const char *value = getenv(name);

	if (!value || !*value)
		return 1;
	if (slurm_parse_indices(value, strlen(value), v, nr, err) < 0) {
		strbuf_addf(err, " (%s)", name);
		return -1;
	}
	qsort(*v, *nr, sizeof(long), cmp_long);
	return 0;
}

static int
job_gpus(struct slurm_job *job, struct strbuf *err)
{
	int rc = gpus_from_env("SLURM_JOB_GPUS", &job->gpus, &job->gpus_nr, err);

	if (rc <= 0) {
		job->source = "SLURM_JOB_GPUS";
		return rc;
	}
	job->source = "scontrol show job -d";
	if (read_kept_gpus(&job->gpus, &job->gpus_nr))
		return 0;
	if (gpus_from_scontrol(job->id, &job->gpus, &job->gpus_nr, err) < 0) {
		/* no answer: a step's own GPUs are the job's as far as it knows */
		size_t len = err->len;

		job->source = "SLURM_STEP_GPUS";
		rc = gpus_from_env("SLURM_STEP_GPUS", &job->gpus, &job->gpus_nr, err);
		if (!rc)
			strbuf_setlen(err, len);
		return rc ? -1 : 0;
	}
	qsort(job->gpus, job->gpus_nr, sizeof(long), cmp_long);
	keep_gpus(job->gpus, job->gpus_nr);
	return 0;
}

/* The job's GPUs, then the step's: some of them (the job's outside a step). */
static int
job_detect(struct slurm_job *job, struct strbuf *err)
{
	int rc;

	if (!slurm_job_id(err) || job_gpus(job, err) < 0)
		return -1;
	rc = gpus_from_env("SLURM_STEP_GPUS", &job->step_gpus, &job->step_gpus_nr, err);
	if (rc < 0)
		return -1;
	if (rc) {
		job->step_gpus = job->gpus;
		job->step_gpus_nr = job->gpus_nr;
	}
	job->step_pos = xcalloc(job->step_gpus_nr + 1, sizeof(long));
	for (size_t i = 0; i < job->step_gpus_nr; i++) {
		const long *at = bsearch(&job->step_gpus[i], job->gpus, job->gpus_nr,
					 sizeof(long), cmp_long);

		if (!at) {
			strbuf_addf(err, "SLURM_STEP_GPUS has node GPU %ld, which is not one of job %s's (%s)",
				    job->step_gpus[i], job->id, job->source);
			return -1;
		}
		job->step_pos[i] = (long)(at - job->gpus);
	}
	return 0;
}

void
slurm_describe_step(const struct slurm_job *job, struct strbuf *out)
{
	if (job->step_gpus_nr == job->gpus_nr)
		return;
	strbuf_addstr(out, "; this step: ");
	if (!job->step_gpus_nr)
		strbuf_addstr(out, "no GPUs");
	for (size_t i = 0; i < job->step_gpus_nr; i++)
		strbuf_addf(out, "%snode GPU %ld", i ? ", " : "", job->step_gpus[i]);
	strbuf_addstr(out, " only (SLURM_STEP_GPUS)");
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

/* Where NVML shows the job's node GPU n: its position in gpus, or -1. */
static long
nvml_position(const struct gpu_devices *gpus, long n, int by_minor)
{
	for (size_t i = 0; i < gpus->nr; i++)
		if (by_minor ? gpus->v[i].minor == n : (long)gpus->v[i].index == n)
			return (long)i;
	return -1;
}

/* Whether this step may open node GPU n (the devices cgroup lets it). */
static int
step_may_use(const struct slurm_job *job, long n)
{
	return bsearch(&n, job->step_gpus, job->step_gpus_nr, sizeof(long), cmp_long) != NULL;
}

static int
all_minors_known(const struct gpu_devices *gpus)
{
	for (size_t i = 0; i < gpus->nr; i++)
		if (gpus->v[i].minor < 0)
			return 0;
	return 1;
}

static void
not_shown(const struct slurm_job *job, long n, const struct gpu_devices *gpus,
	  int by_minor, struct strbuf *err)
{
	strbuf_addf(err, "Slurm job %s has node GPU %ld (%s) but NVML ", job->id, n, job->source);
	if (!by_minor) {
		strbuf_addf(err, "reports %zu GPUs", gpus->nr);
		return;
	}
	strbuf_addf(err, "shows no /dev/nvidia%ld (it shows ", n);
	for (size_t i = 0; i < gpus->nr; i++)
		strbuf_addf(err, "%s/dev/nvidia%ld", i ? ", " : "", gpus->v[i].minor);
	strbuf_addstr(err, gpus->nr ? ")" : "no GPU)");
}

int
slurm_keep_job_gpus(const struct slurm_job *job, struct gpu_devices *gpus,
		    struct strbuf *err)
{
	int by_minor = all_minors_known(gpus);
	struct gpu_device *kept;

	/* no minor numbers: a driver that shows as many as the job has shows the job's */
	if (!by_minor && gpus->nr == job->gpus_nr && job->gpus_nr &&
	    job->gpus[job->gpus_nr - 1] >= (long)gpus->nr)
		return 0;
	for (size_t i = 0; i < job->gpus_nr; i++) {
		if (i && job->gpus[i] == job->gpus[i - 1]) {
			strbuf_addf(err, "Slurm job %s lists node GPU %ld twice (%s)",
				    job->id, job->gpus[i], job->source);
			return -1;
		}
		if (nvml_position(gpus, job->gpus[i], by_minor) < 0 &&
		    (!by_minor || step_may_use(job, job->gpus[i]))) {
			not_shown(job, job->gpus[i], gpus, by_minor, err);
			return -1;
		}
	}
	kept = xcalloc(job->gpus_nr + 1, sizeof(*kept));
	for (size_t i = 0; i < job->gpus_nr; i++) {
		long at = nvml_position(gpus, job->gpus[i], by_minor);

		if (at < 0) {
			kept[i] = (struct gpu_device){ .index = SLURM_GPU_HIDDEN, .minor = job->gpus[i] };
			continue;
		}
		kept[i] = gpus->v[at];
		gpus->v[at].uuid = gpus->v[at].name = NULL;  /* moved */
	}
	gpu_devices_release(gpus);
	gpus->v = kept;
	gpus->nr = gpus->alloc = job->gpus_nr;
	return 0;
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
