/* SPDX-License-Identifier: MIT */
/*
 * test-devices.c: genv 1.4.3's allocation policy: whole devices vs memory
 * sharing, index order, over-subscription by attachment count, the two
 * attach paths (never shrink / ensure count) and their error strings.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/devices.h"
#include "core/envs.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <sys/wait.h>
#include <unistd.h>

static void
make_devices(struct devices *devs, int n)
{
	for (int i = 0; i < n; i++)
		devices_append(devs, i, "16384mi");
}

static const char *
attached(const struct devices *devs, const char *eid, struct strbuf *sb)
{
	strbuf_reset(sb);
	devices_attached_list(devs, eid, sb);
	return sb->buf;
}

static void
availability(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT;
	struct device *d;
	int av = -1;

	make_devices(&devs, 1);
	d = &devs.v[0];
	assert_int_equal(device_is_available(d, NULL, &av, &err), 0);
	assert_true(av);
	assert_int_equal(device_is_available(d, "16gi", &av, &err), 0);
	assert_true(av);
	assert_int_equal(device_is_available(d, "18g", &av, &err), 0);
	assert_false(av);

	device_attach(d, "a", "4gi", "t");
	/* a whole-device request never shares */
	assert_int_equal(device_is_available(d, NULL, &av, &err), 0);
	assert_false(av);
	assert_int_equal(device_is_available(d, "12gi", &av, &err), 0);
	assert_true(av);
	assert_int_equal(device_is_available(d, "12289mi", &av, &err), 0);
	assert_false(av);

	/* a whole-device attachment uses all the memory */
	device_attach(d, "b", NULL, "t");
	assert_int_equal(device_is_available(d, "1b", &av, &err), 0);
	assert_false(av);
	assert_int_equal(device_is_available(d, "0", &av, &err), 0);
	assert_true(av);

	assert_int_equal(device_is_available(d, "4XB", &av, &err), -1);
	assert_true(starts_with(err.buf, "invalid memory size '4XB'"));
	/* issue 10: "4gb" is 4g; the whole-device attachment leaves none */
	strbuf_reset(&err);
	assert_int_equal(device_is_available(d, "4gb", &av, &err), 0);
	assert_false(av);
	devices_release(&devs);
	strbuf_release(&err);
}

static void
attach_by_count(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	make_devices(&devs, 4);
	device_attach(&devs.v[1], "other", NULL, "t");

	req.count = 2;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,2");
	/* one timestamp for the whole call */
	assert_string_equal(devs.v[0].att[0].time, devs.v[2].att[0].time);
	assert_null(devs.v[0].att[0].gpu_memory);

	/* never detaches on this path */
	req.count = 1;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,2");

	req.count = 3;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,2,3");

	req.count = 4;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices");
	assert_string_equal(attached(&devs, "e", &sb), "0,2,3");

	/* more than exist: same error on this path */
	strbuf_reset(&err);
	req.count = 9;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices");

	/* over-subscription takes the busy device */
	req.count = 4;
	req.over_subscribe = 1;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,1,2,3");
	assert_int_equal(devices_attached_count(&devs, "e"), 4);

	/* no index, no count: nothing */
	req.count = -1;
	assert_int_equal(devices_attach(&devs, "z", &req, &err), 0);
	assert_int_equal(devices_attached_count(&devs, "z"), 0);

	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
memory_sharing(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	make_devices(&devs, 2);
	req.count = 1;
	req.gpu_memory = "10gi";
	assert_int_equal(devices_attach(&devs, "a", &req, &err), 0);
	assert_int_equal(devices_attach(&devs, "b", &req, &err), 0);
	assert_string_equal(attached(&devs, "a", &sb), "0");
	assert_string_equal(attached(&devs, "b", &sb), "1");
	assert_string_equal(devs.v[0].att[0].gpu_memory, "10gi");

	req.gpu_memory = "6gi";
	assert_int_equal(devices_attach(&devs, "c", &req, &err), 0);
	assert_string_equal(attached(&devs, "c", &sb), "0");
	assert_int_equal(devices_attach(&devs, "d", &req, &err), 0);
	assert_string_equal(attached(&devs, "d", &sb), "1");
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices");

	/* a whole-device request does not fit beside memory attachments */
	strbuf_reset(&err);
	req.gpu_memory = NULL;
	assert_int_equal(devices_attach(&devs, "f", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices");

	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
over_subscription_order(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	make_devices(&devs, 4);
	device_attach(&devs.v[0], "x", NULL, "t");
	device_attach(&devs.v[0], "y", NULL, "t");
	device_attach(&devs.v[1], "x", NULL, "t");
	device_attach(&devs.v[1], "y", NULL, "t");
	device_attach(&devs.v[1], "z", NULL, "t");
	device_attach(&devs.v[2], "x", NULL, "t");
	device_attach(&devs.v[3], "x", NULL, "t");

	req.count = 1;
	req.over_subscribe = 1;
	/* least attached first, ties in index order */
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "2");
	req.count = 3;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,2,3");
	req.count = 4;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,1,2,3");

	/* available devices come before busy ones even when over-subscribing */
	devices_detach(&devs, "x", 3);
	req.count = 2;
	assert_int_equal(devices_attach(&devs, "f", &req, &err), 0);
	assert_string_equal(attached(&devs, "f", &sb), "2,3");

	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
attach_by_index(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	make_devices(&devs, 3);
	req.index = 1;
	assert_int_equal(devices_attach(&devs, "a", &req, &err), 0);
	assert_string_equal(attached(&devs, "a", &sb), "1");
	/* already attached: no-op, no duplicate */
	assert_int_equal(devices_attach(&devs, "a", &req, &err), 0);
	assert_int_equal(devs.v[1].att_nr, 1);

	assert_int_equal(devices_attach(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "Device 1 is not available");
	req.over_subscribe = 1;
	strbuf_reset(&err);
	assert_int_equal(devices_attach(&devs, "b", &req, &err), 0);
	assert_int_equal(devs.v[1].att_nr, 2);

	req.index = 7;
	assert_int_equal(devices_attach(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "Device 7 does not exist");
	strbuf_reset(&err);
	assert_int_equal(devices_ensure_count(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "Device 7 does not exist");

	/* index wins over count, as in 1.4.3 */
	strbuf_reset(&err);
	req.index = 2;
	req.count = 3;
	assert_int_equal(devices_attach(&devs, "c", &req, &err), 0);
	assert_string_equal(attached(&devs, "c", &sb), "2");

	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
ensure_count(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	make_devices(&devs, 4);
	req.count = 5;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "Requested more devices (5) than total available (4)");
	assert_int_equal(devices_attached_count(&devs, "e"), 0);

	strbuf_reset(&err);
	req.count = 3;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,1,2");

	/* shared devices: 1.4.3 detached too many here; exactly count remain */
	device_attach(&devs.v[2], "other", "1g", "t");
	device_attach(&devs.v[1], "other", "1g", "t");
	req.count = 1;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0");
	assert_string_equal(attached(&devs, "other", &sb), "1,2");

	req.count = 2;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "0,3");

	req.count = 0;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), 0);
	assert_string_equal(attached(&devs, "e", &sb), "");

	req.count = 4;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices");
	assert_string_equal(attached(&devs, "e", &sb), "");

	strbuf_reset(&err);
	req.count = -3;
	assert_int_equal(devices_ensure_count(&devs, "e", &req, &err), -1);
	assert_string_equal(err.buf, "Invalid device count -3");

	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
detach_and_cleanup(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct envs live = ENVS_INIT;
	struct strbuf sb = STRBUF_INIT;

	make_devices(&devs, 3);
	for (int i = 0; i < 3; i++) {
		device_attach(&devs.v[i], "a", NULL, "t");
		device_attach(&devs.v[i], "b", "1g", "t");
	}
	devices_detach(&devs, "a", 1);
	devices_detach(&devs, "a", 9);  /* not a device: ignored */
	assert_string_equal(attached(&devs, "a", &sb), "0,2");
	devices_detach(&devs, "a", -1);
	assert_string_equal(attached(&devs, "a", &sb), "");
	assert_string_equal(attached(&devs, "b", &sb), "0,1,2");

	envs_append(&live, "c");
	device_attach(&devs.v[1], "c", NULL, "t");
	devices_cleanup(&devs, &live);
	assert_string_equal(attached(&devs, "b", &sb), "");
	assert_string_equal(attached(&devs, "c", &sb), "1");
	assert_int_equal(devs.v[1].att_nr, 1);

	envs_release(&live);
	devices_release(&devs);
	strbuf_release(&sb);
}

static void
env_lifecycle(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct env *e;
	pid_t child;
	int status;

	child = fork();
	assert_true(child >= 0);
	if (!child)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);

	e = envs_activate(&envs, "e1", 1000, "alice", getpid(), NULL);
	assert_non_null(e->creation);
	assert_string_equal(e->username, "alice");
	envs_activate(&envs, "e1", 2000, "bob", child, NULL);
	envs_activate(&envs, "e2", 1001, NULL, child, NULL);
	/* the caller's own kernel, judged by its runtime directory */
	envs_activate(&envs, "e3", getuid(), NULL, 0, "no-such-kernel");
	assert_int_equal(envs.nr, 3);
	e = envs_find(&envs, "e1");
	assert_int_equal(e->uid, 1000);  /* joining keeps the creator */
	assert_int_equal(e->pids_nr, 2);

	assert_true(pid_is_alive(getpid()));
	assert_false(pid_is_alive(child));
	assert_false(pid_is_alive(0));
	assert_false(pid_is_alive(-1));

	envs_cleanup(&envs);
	assert_int_equal(envs.nr, 1);
	assert_int_equal(envs.v[0].pids_nr, 1);
	assert_int_equal(envs.v[0].pids[0], getpid());

	envs_activate(&envs, "e2", 1, NULL, getpid(), NULL);
	envs_activate(&envs, "e1", 1, NULL, getpid(), NULL);
	envs_deactivate_pid(&envs, getpid());
	assert_int_equal(envs.nr, 0);
	envs_release(&envs);
}

/* envs left empty are dropped in one pass; the others keep their order */
static void
drop_empty_keeps_order(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	static const char *const eids[] = { "a", "b", "c", "d", "e" };

	for (size_t i = 0; i < ARRAY_SIZE(eids); i++)
		envs_activate(&envs, eids[i], 1, NULL, i % 2 ? 7 : 8, NULL);
	envs_activate(&envs, "c", 1, NULL, 7, NULL);
	envs_deactivate_pid(&envs, 8);
	assert_int_equal(envs.nr, 3);
	assert_string_equal(envs.v[0].eid, "b");
	assert_string_equal(envs.v[1].eid, "c");
	assert_string_equal(envs.v[2].eid, "d");
	assert_int_equal(envs.v[1].pids_nr, 1);
	envs_release(&envs);
}

/* with the environments, a refusal says what was asked and who holds what */
static void
refusal_names_holders(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct envs envs = ENVS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;
	struct env *e;
	int refused = 0;

	make_devices(&devs, 3);
	e = envs_activate(&envs, "t", 1000, "al\x1b[2Jice", 7, NULL);
	e->config.name = xstrdup("train");
	envs_activate(&envs, "b", 1001, NULL, 8, NULL);
	device_attach(&devs.v[0], "t", NULL, "01/01/2000 00:00:00");
	device_attach(&devs.v[2], "b", "4g", "01/01/2000 00:00:00");
	device_attach(&devs.v[2], "gone", "4g", "bad stamp");
	req.envs = &envs;
	req.refused = &refused;
	req.count = 2;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_true(refused);
	assert_true(starts_with(err.buf, "No available devices\nrequested 2 GPUs, 1 of 3 available; held: 0 (al\\x1b[2Jice/train, "));
	assert_non_null(strstr(err.buf, "d), 2 (uid 1001 4g, "));
	assert_non_null(strstr(err.buf, "d; environment gone 4g, since ?)"));

	strbuf_reset(&err);
	refused = 0;
	req.count = 5;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_true(refused);
	assert_string_equal(err.buf, "No available devices\nrequested 5 GPUs, this machine has 3");

	strbuf_reset(&err);
	req.count = -1;
	req.index = 0;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_true(starts_with(err.buf, "Device 0 is not available\nheld: 0 (al\\x1b[2Jice/train, "));

	/* an unparsable request is an error, not a refusal */
	strbuf_reset(&err);
	refused = 0;
	req.index = -1;
	req.count = 1;
	req.gpu_memory = "4 parsecs";
	assert_int_equal(devices_attach(&devs, "e", &req, &err), -1);
	assert_false(refused);

	devices_release(&devs);
	envs_release(&envs);
	strbuf_release(&err);
}

/* A Slurm step with fewer GPUs than its job: only its devices are attached. */
static void
usable_devices_only(void **state UNUSED)
{
	static const long step[] = { 2 };
	struct attach_request req = ATTACH_REQUEST_INIT;
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct envs envs = ENVS_INIT;

	make_devices(&devs, 3);
	req.usable = step;
	req.usable_nr = 1;
	req.envs = &envs;
	req.count = 1;
	/* devices 0 and 1 are free, but not the step's */
	assert_int_equal(devices_attach(&devs, "a", &req, &err), 0);
	assert_string_equal(attached(&devs, "a", &sb), "2");
	assert_int_equal(devices_attach(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices\nrequested 1 GPU, 0 of 1 available; held: 2 (environment a, <1m)");
	strbuf_reset(&err);
	req.count = 2;
	assert_int_equal(devices_attach(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "No available devices\nrequested 2 GPUs, this Slurm step has 1");
	strbuf_reset(&err);
	/* over-subscribing still stays in the step */
	req.count = 1;
	req.over_subscribe = 1;
	assert_int_equal(devices_attach(&devs, "b", &req, &err), 0);
	assert_string_equal(attached(&devs, "b", &sb), "2");
	req.count = -1;
	req.index = 0;
	assert_int_equal(devices_attach(&devs, "b", &req, &err), -1);
	assert_string_equal(err.buf, "Device 0 is not one of this Slurm step's GPUs");
	devices_release(&devs);
	strbuf_release(&err);
	strbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(availability),
		cmocka_unit_test(attach_by_count),
		cmocka_unit_test(memory_sharing),
		cmocka_unit_test(over_subscription_order),
		cmocka_unit_test(attach_by_index),
		cmocka_unit_test(ensure_count),
		cmocka_unit_test(detach_and_cleanup),
		cmocka_unit_test(env_lifecycle),
		cmocka_unit_test(drop_empty_keeps_order),
		cmocka_unit_test(refusal_names_holders),
		cmocka_unit_test(usable_devices_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
