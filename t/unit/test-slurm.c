/* SPDX-License-Identifier: MIT */
/* test-slurm.c: Slurm's GPU index lists and where a job's state lives. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/slurm.h"
#include "util/strbuf.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_lists),
		cmocka_unit_test(job_from_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
