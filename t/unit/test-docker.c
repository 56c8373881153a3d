/* SPDX-License-Identifier: MIT */
/*
 * test-docker.c: the docker/podman shim's --gpus rewriting and
 * genv-docker's command line: every --gpus form, 1.4.3's messages, and
 * none of 1.4.3's crashes (--gpus last, '=' in values, quotes in argv).
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "shim/docker.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* The arguments joined by '|' (argv[0] is "docker"). */
static int
shim(enum container_engine engine, const char *visible, const char *const *args,
     struct strbuf *joined, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT, out = STRVEC_INIT;
	int rc;

	strvec_push(&argv, "docker");
	strvec_pushv(&argv, args);
	rc = docker_shim_args(engine, (int)argv.nr, argv.v, "my env", visible, &out, err);
	for (size_t i = 0; i < out.nr; i++)
		strbuf_addf(joined, "%s%s", i ? "|" : "", out.v[i]);
	strvec_clear(&argv);
	strvec_clear(&out);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
expect_ok(enum container_engine engine, const char *visible, const char *const *args,
	  const char *want)
{
	struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(shim(engine, visible, args, &got, &err), 0);
	assert_string_equal(got.buf, want);
	assert_int_equal(err.len, 0);
	strbuf_release(&got);
	strbuf_release(&err);
}

static void
expect_error(const char *visible, const char *const *args, const char *want)
{
	struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(shim(ENGINE_DOCKER, visible, args, &got, &err), -1);
	assert_string_equal(err.buf, want);
	strbuf_release(&got);
	strbuf_release(&err);
}

static void
docker_gpus_forms(void **state UNUSED)
{
	expect_ok(ENGINE_DOCKER, "0,2", ARGS("run", "--rm", "--gpus", "2", "ubuntu", "nvidia-smi"),
		  "run|--rm|--gpus|device=0|--gpus|device=2|-e|GENV_ENVIRONMENT_ID=my env|ubuntu|nvidia-smi");
	expect_ok(ENGINE_DOCKER, "0,2", ARGS("run", "--gpus", "1", "ubuntu"),
		  "run|--gpus|device=0|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, "0,2,3", ARGS("run", "--gpus", "all", "ubuntu"),
		  "run|--gpus|device=0|--gpus|device=2|--gpus|device=3|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, "1", ARGS("run", "--gpus=all", "ubuntu"),
		  "run|--gpus=device=1|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, "1,2", ARGS("run", "--gpus=2", "ubuntu"),
		  "run|--gpus=device=1|--gpus=device=2|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
}

static void
docker_no_devices(void **state UNUSED)
{
	expect_ok(ENGINE_DOCKER, "-1", ARGS("run", "--gpus", "all", "ubuntu"),
		  "run|--gpus|0|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, NULL, ARGS("run", "--gpus=0", "ubuntu"),
		  "run|--gpus=0|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, "0", ARGS("run", "--gpus", "0", "ubuntu"),
		  "run|--gpus|0|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
}

static void
podman_gpus_are_cdi_ids(void **state UNUSED)
{
	expect_ok(ENGINE_PODMAN, "0,2", ARGS("run", "--gpus", "all", "ubuntu"),
		  "run|--gpus|0|--gpus|2|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_PODMAN, "-1", ARGS("run", "--gpus=all", "ubuntu"),
		  "run|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
}

/* In a Slurm job genv gives environments GPU UUIDs: passed on as they are. */
#define U1 "GPU-11111111-0000-4000-8000-000000000001"
#define U3 "GPU-33333333-0000-4000-8000-000000000003"
#define MIG "MIG-GPU-33333333-0000-4000-8000-000000000003/1/0"

static void
uuids_from_a_slurm_job(void **state UNUSED)
{
	expect_ok(ENGINE_DOCKER, U1 "," U3, ARGS("run", "--gpus", "all", "ubuntu"),
		  "run|--gpus|device=" U1 "|--gpus|device=" U3 "|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_DOCKER, U1 "," U3, ARGS("run", "--gpus=1", "ubuntu"),
		  "run|--gpus=device=" U1 "|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	expect_ok(ENGINE_PODMAN, U3 "," MIG, ARGS("run", "--gpus", "2", "ubuntu"),
		  "run|--gpus|" U3 "|--gpus|" MIG "|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
	/* what docker would read as CSV or as another option: refused, escaped */
	expect_error("0,GPU-1\"x", ARGS("run", "--gpus", "all", "ubuntu"),
		     "CUDA_VISIBLE_DEVICES holds 'GPU-1\"x', not a device index or UUID");
	expect_error("GPU-1 a\033[2J", ARGS("run", "--gpus", "1", "ubuntu"),
		     "CUDA_VISIBLE_DEVICES holds 'GPU-1 a\\x1b[2J', not a device index or UUID");
	/* only the devices asked for are looked at */
	expect_ok(ENGINE_DOCKER, "0,bad id", ARGS("run", "--gpus", "1", "ubuntu"),
		  "run|--gpus|device=0|-e|GENV_ENVIRONMENT_ID=my env|ubuntu");
}

static void
only_the_first_gpus_and_nothing_else(void **state UNUSED)
{
	expect_ok(ENGINE_DOCKER, "0", ARGS("ps", "-a"), "ps|-a");
	expect_ok(ENGINE_DOCKER, "0", ARGS("run", "ubuntu", "echo", "a b"), "run|ubuntu|echo|a b");
	expect_ok(ENGINE_DOCKER, "0", ARGS("run", "--gpus", "1", "img", "--gpus", "x"),
		  "run|--gpus|device=0|-e|GENV_ENVIRONMENT_ID=my env|img|--gpus|x");
}

static void
errors(void **state UNUSED)
{
	expect_error("0,2", ARGS("run", "--gpus", "3", "ubuntu"),
		     "Requested 3 devices but only 2 are attached to environment");
	expect_error(NULL, ARGS("run", "--gpus=1", "ubuntu"),
		     "Requested 1 devices but only 0 are attached to environment");
	expect_error("0", ARGS("run", "--gpus", "\"device=0\"", "ubuntu"),
		     "Unsupported value for '--gpus' (\"device=0\")");
	expect_error("0", ARGS("run", "--gpus=device=0,1", "ubuntu"),
		     "Unsupported value for '--gpus' (device=0,1)");
	expect_error("0", ARGS("run", "--gpus", "-1", "ubuntu"),
		     "Unsupported value for '--gpus' (-1)");
	expect_error("0", ARGS("run", "ubuntu", "--gpus"), "Missing value for '--gpus'");
	expect_error("0", ARGS("run", "--gpus", "99999999999999999999999", "x"),
		     "Requested 99999999999999999999999 devices but only 1 are attached to environment");
}

static int
parse(const char *const *args, struct strbuf *joined, struct strbuf *err, int *dry)
{
	struct genv_docker d = GENV_DOCKER_INIT;
	struct strvec argv = STRVEC_INIT;
	int rc;

	strvec_push(&argv, "genv-docker");
	strvec_pushv(&argv, args);
	rc = genv_docker_parse(&d, (int)argv.nr, argv.v, err);
	for (size_t i = 0; i < d.args.nr; i++)
		strbuf_addf(joined, "%s%s", i ? "|" : "", d.args.v[i]);
	*dry = d.dry_run;
	genv_docker_release(&d);
	strvec_clear(&argv);
	return rc;
}

static void
genv_docker_options(void **state UNUSED)
{
	struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;
	int dry;

	assert_int_equal(parse(ARGS("--context", "x", "run", "--gpus", "2", "--gpu-memory", "4g",
				    "--eid", "my-env", "--no-activate", "--no-attach", "--no-shims",
				    "--no-device-locks", "--over-subscribe", "--rm", "ubuntu"),
			       &got, &err, &dry), 0);
	assert_string_equal(got.buf,
		"--context|x|run|--runtime=genv|-e|GENV_GPUS=2|-e|GENV_GPU_MEMORY=4g|"
		"-e|GENV_ENVIRONMENT_ID=my-env|-e|GENV_ACTIVATE=0|-e|GENV_ATTACH=0|"
		"-e|GENV_MOUNT_SHIMS=0|-e|GENV_MOUNT_DEVICE_LOCKS=0|"
		"-e|GENV_ALLOW_OVER_SUBSCRIPTION=1|--rm|ubuntu");
	assert_int_equal(dry, 0);
	strbuf_reset(&got);
	assert_int_equal(parse(ARGS("run", "--dry-run", "--gpus=1", "--eid=a=b", "--no-shims",
				    "--shims", "-e", "X=1 2", "ubuntu", "sh", "-c", "echo hi"),
			       &got, &err, &dry), 0);
	assert_string_equal(got.buf,
		"run|--runtime=genv|-e|GENV_GPUS=1|-e|GENV_ENVIRONMENT_ID=a=b|-e|X=1 2|ubuntu|sh|-c|echo hi");
	assert_int_equal(dry, 1);
	strbuf_reset(&got);
	assert_int_equal(parse(ARGS("ps", "--gpus", "x"), &got, &err, &dry), 0);
	assert_string_equal(got.buf, "ps|--gpus|x");
	/* issue 10: "4gb" and "512MiB" as users type them, passed on as 1.4.3 spells them */
	strbuf_reset(&got);
	assert_int_equal(parse(ARGS("run", "--gpu-memory", "4gb", "ubuntu"), &got, &err, &dry), 0);
	assert_string_equal(got.buf, "run|--runtime=genv|-e|GENV_GPU_MEMORY=4g|ubuntu");
	strbuf_reset(&got);
	assert_int_equal(parse(ARGS("run", "--gpu-memory=512MiB", "ubuntu"), &got, &err, &dry), 0);
	assert_string_equal(got.buf, "run|--runtime=genv|-e|GENV_GPU_MEMORY=512mi|ubuntu");
	strbuf_release(&got);
	strbuf_release(&err);
}

static void
genv_docker_errors(void **state UNUSED)
{
	const struct {
		const char *const *args;
		const char *err;
	} cases[] = {
		{ ARGS("run", "--gpus", "x", "ubuntu"), "Invalid value for '--gpus' (x)" },
		{ ARGS("run", "--gpu-memory", "4XB", "ubuntu"), "Invalid value for '--gpu-memory' (4XB)" },
		{ ARGS("run", "--gpu-memory=", "ubuntu"), "Invalid value for '--gpu-memory' ()" },
		{ ARGS("run", "ubuntu", "--gpus"), "Missing value for '--gpus'" },
		{ ARGS("run", "--eid", "", "ubuntu"), "Invalid value for '--eid' ()" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;
		int dry;

		assert_int_equal(parse(cases[i].args, &got, &err, &dry), -1);
		assert_string_equal(err.buf, cases[i].err);
		strbuf_release(&got);
		strbuf_release(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docker_gpus_forms),
		cmocka_unit_test(docker_no_devices),
		cmocka_unit_test(podman_gpus_are_cdi_ids),
		cmocka_unit_test(uuids_from_a_slurm_job),
		cmocka_unit_test(only_the_first_gpus_and_nothing_else),
		cmocka_unit_test(errors),
		cmocka_unit_test(genv_docker_options),
		cmocka_unit_test(genv_docker_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
