/* SPDX-License-Identifier: MIT */
/* test-slurm.c: Slurm's GPU index lists and where a job's state lives. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/slurm.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>

static void
check_list(const char *s, const long *want, size_t want_nr)
{
	struct strbuf err = STRBUF_INIT;
	long *v;
	size_t nr;

	assert_int_equal(slurm_parse_indices(s, strlen(s), &v, &nr, &err), 0);
	assert_int_equal(nr, want_nr);
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(v[i], want[i]);
	free(v);
	strbuf_release(&err);
}

static void
index_lists(void **state UNUSED)
{
	static const long one[] = { 3 }, two[] = { 0, 1 }, mixed[] = { 0, 1, 2, 5, 7, 8 };
	static const char *const bad[] = { ",", "0,", "a", "1-", "3-1", "0,,1", "-1", "0 1", "99999" };
	struct strbuf err = STRBUF_INIT;
	long *v;
	size_t nr;

	check_list("3", one, 1);
	check_list("0,1", two, 2);
	check_list("0-2,5,7-8", mixed, 6);
	check_list("", NULL, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		strbuf_reset(&err);
		assert_int_equal(slurm_parse_indices(bad[i], strlen(bad[i]), &v, &nr, &err), -1);
		assert_null(v);
		assert_int_equal(nr, 0);
		assert_non_null(strstr(err.buf, "not a Slurm GPU index list"));
	}
	strbuf_release(&err);
}

static void
job_from_environment(void **state UNUSED)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	const struct slurm_job *job;
	int failed;

	unsetenv("SLURM_JOB_ID");
	assert_false(slurm_in_job());
	assert_null(slurm_job(&failed, &err));
	assert_int_equal(failed, 0);
	setenv("SLURM_JOB_ID", "42", 1);
	setenv("SLURM_STEP_GPUS", "3,1", 1);
	setenv("SLURM_JOB_GPUS", "0-1,3", 1);  /* the job's, before the step's */
	job = slurm_job(&failed, &err);
	assert_non_null(job);
	assert_string_equal(job->id, "42");
	assert_string_equal(job->source, "SLURM_JOB_GPUS");
	assert_int_equal(job->gpus_nr, 3);
	assert_int_equal(job->gpus[2], 3);
	slurm_job_dir("/var/tmp/genv", job->id, &dir);
	assert_string_equal(dir.buf, "/var/tmp/genv/slurm/job-42");
	strbuf_release(&err);
	strbuf_release(&dir);
}

/* What NVML shows: uuids "GPU-<minor>", minors as given (-1: unknown). */
static void
nvml_shows(struct gpu_devices *gpus, const long *minors, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		struct strbuf uuid = STRBUF_INIT;

		strbuf_addf(&uuid, "GPU-%ld", minors[i] < 0 ? (long)i : minors[i]);
		ALLOC_GROW(gpus->v, gpus->nr + 1, gpus->alloc);
		gpus->v[gpus->nr++] = (struct gpu_device){ .index = (unsigned)i, .minor = minors[i],
			.uuid = strbuf_detach(&uuid, NULL), .name = xstrdup("Fake") };
	}
}

/* keep: job GPUs against NVML's minors; want: the UUIDs kept, or NULL for an error */
static void
check_keep(long *job_gpus, size_t job_nr, const long *minors, size_t nr,
	   const char *const *want, const char *want_err)
{
	struct slurm_job job = { .id = "7", .gpus = job_gpus, .gpus_nr = job_nr,
				 .source = "SLURM_JOB_GPUS", .step_gpus = job_gpus,
				 .step_gpus_nr = job_nr };
	struct gpu_devices gpus = GPU_DEVICES_INIT;
	struct strbuf err = STRBUF_INIT;

	nvml_shows(&gpus, minors, nr);
	if (!want) {
		assert_int_equal(slurm_keep_job_gpus(&job, &gpus, &err), -1);
		assert_string_equal(err.buf, want_err);
	} else {
		assert_int_equal(slurm_keep_job_gpus(&job, &gpus, &err), 0);
		assert_int_equal(gpus.nr, job_nr);
		for (size_t i = 0; i < job_nr; i++)
			assert_string_equal(gpus.v[i].uuid, want[i]);
	}
	gpu_devices_release(&gpus);
	strbuf_release(&err);
}

static void
job_gpus_by_minor_number(void **state UNUSED)
{
	long two_three[] = { 2, 3 }, one_three[] = { 1, 3 }, twice[] = { 1, 1 }, five[] = { 5 };
	static const long all[] = { 0, 1, 2, 3 }, cgroup[] = { 2, 3 }, swapped[] = { 3, 2 };
	static const long unknown2[] = { -1, -1 }, unknown4[] = { -1, -1, -1, -1 };
	static const char *const want23[] = { "GPU-2", "GPU-3" }, *const want13[] = { "GPU-1", "GPU-3" };
	static const char *const by_index[] = { "GPU-1", "GPU-3" }, *const as_shown[] = { "GPU-0", "GPU-1" };

	/* NVML sees the node: node GPU N is /dev/nvidiaN */
	check_keep(one_three, 2, all, 4, want13, NULL);
	/* inside a devices cgroup it shows the job's only, numbered from 0 */
	check_keep(two_three, 2, cgroup, 2, want23, NULL);
	check_keep(two_three, 2, swapped, 2, want23, NULL);
	check_keep(one_three, 2, cgroup, 2, NULL,
		   "Slurm job 7 has node GPU 1 (SLURM_JOB_GPUS) but NVML shows no /dev/nvidia1 "
		   "(it shows /dev/nvidia2, /dev/nvidia3)");
	check_keep(five, 1, cgroup, 0, NULL,
		   "Slurm job 7 has node GPU 5 (SLURM_JOB_GPUS) but NVML shows no /dev/nvidia5 (it shows no GPU)");
	check_keep(twice, 2, all, 4, NULL, "Slurm job 7 lists node GPU 1 twice (SLURM_JOB_GPUS)");
	/* a driver without minor numbers: by NVML index, unless it shows just the job's */
	check_keep(one_three, 2, unknown4, 4, by_index, NULL);
	check_keep(two_three, 2, unknown2, 2, as_shown, NULL);
	check_keep(five, 1, unknown4, 4, NULL, "Slurm job 7 has node GPU 5 (SLURM_JOB_GPUS) but NVML reports 4 GPUs");
}

/* A 1-GPU step of a 2-GPU job in a devices cgroup: NVML shows its GPU only. */
static void
step_sees_its_own_only(void **state UNUSED)
{
	long job_gpus[] = { 2, 3 }, step3[] = { 3 }, step2[] = { 2 };
	static const long shown[] = { 3 };
	struct slurm_job job = { .id = "7", .gpus = job_gpus, .gpus_nr = 2,
				 .source = "scontrol show job -d", .step_gpus = step3,
				 .step_gpus_nr = 1 };
	struct gpu_devices gpus = GPU_DEVICES_INIT;
	struct strbuf err = STRBUF_INIT;

	nvml_shows(&gpus, shown, 1);
	assert_int_equal(slurm_keep_job_gpus(&job, &gpus, &err), 0);
	assert_int_equal(gpus.nr, 2);
	assert_null(gpus.v[0].uuid);  /* node GPU 2: the job's, hidden from this step */
	assert_int_equal(gpus.v[0].minor, 2);
	assert_true(gpus.v[0].index == SLURM_GPU_HIDDEN);
	assert_string_equal(gpus.v[1].uuid, "GPU-3");
	assert_int_equal(gpus.v[1].index, 0);
	gpu_devices_release(&gpus);

	/* the step's own GPU must be shown */
	job.step_gpus = step2;
	nvml_shows(&gpus, shown, 1);
	assert_int_equal(slurm_keep_job_gpus(&job, &gpus, &err), -1);
	assert_string_equal(err.buf, "Slurm job 7 has node GPU 2 (scontrol show job -d) but NVML "
			    "shows no /dev/nvidia2 (it shows /dev/nvidia3)");
	gpu_devices_release(&gpus);
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_lists),
		cmocka_unit_test(job_from_environment),
		cmocka_unit_test(job_gpus_by_minor_number),
		cmocka_unit_test(step_sees_its_own_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
