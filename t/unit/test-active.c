/* SPDX-License-Identifier: MIT */
/*
 * test-active.c: the calling process's active environment (core/active.c)
 * and the device lock files (core/device-locks.c), on a real state
 * directory: CUDA_VISIBLE_DEVICES parsing, where the attached indices come
 * from (variables, lock files, state), and locks that exclude each other.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/active.h"
#include "core/device-locks.h"
#include "util/strbuf.h"
#include "unit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static struct strbuf top = STRBUF_INIT;   /* this run's scratch directory */
static int case_nr;

/* Each test gets a fresh state directory and no genv variables. */
static int
per_test_setup(void **state)
{
	static struct strbuf dir = STRBUF_INIT;

	strbuf_reset(&dir);
	strbuf_addf(&dir, "%s/case%d/state", top.buf, ++case_nr);
	setenv("GENV_TMPDIR", dir.buf, 1);
	unsetenv("GENV_SHELL");
	unsetenv("GENV_PYTHON");
	unsetenv("GENV_CONTAINER");
	unsetenv("CUDA_VISIBLE_DEVICES");
	*state = dir.buf;
	return 0;
}

static void
visible_devices(void **state)
{
	struct strbuf err = STRBUF_INIT;
	long *v;
	size_t nr;

	(void)state;
	assert_int_equal(active_parse_visible_devices("-1", &v, &nr, &err), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(active_parse_visible_devices("0,12", &v, &nr, &err), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(v[1], 12);
	free(v);
	assert_int_equal(active_parse_visible_devices("0,", &v, &nr, &err), -1);
	assert_int_equal(active_parse_visible_devices("GPU-1", &v, &nr, &err), -1);
	assert_non_null(strstr(err.buf, "GPU-1"));
	strbuf_release(&err);
}

static void
eid_from_the_environment(void **state UNUSED)
{
	setenv("GENV_ENVIRONMENT_ID", "", 1);
	assert_null(active_eid());
	setenv("GENV_ENVIRONMENT_ID", "e1", 1);
	assert_string_equal(active_eid(), "e1");
	unsetenv("GENV_ENVIRONMENT_ID");
	assert_null(active_eid());
}

#define DEVICES_JSON \
	"{\"devices\": [" \
	"{\"index\": 0, \"total_memory\": \"16384mi\", \"attachments\": []}, " \
	"{\"index\": 1, \"total_memory\": \"16384mi\", \"attachments\": [" \
	"{\"eid\": \"e1\", \"gpu_memory\": null, \"time\": \"01/01/2024 00:00:00\"}]}, " \
	"{\"index\": 2, \"total_memory\": \"16384mi\", \"attachments\": [" \
	"{\"eid\": \"e1\", \"gpu_memory\": null, \"time\": \"01/01/2024 00:00:00\"}]}]}"

static void
attached_indices_sources(void **state)
{
	const char *dir = *state;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	long *v = NULL;
	size_t nr = 0;

	/* no devices.json: nothing attached, and no NVML asked */
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), 0);
	assert_int_equal(nr, 0);

	/* the state, as it is on disk */
	strbuf_addf(&path, "%s/devices.json", dir);
	unit_write_text(path.buf, DEVICES_JSON);
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 2);
	free(v);

	/* a shell knows from its CUDA_VISIBLE_DEVICES */
	setenv("GENV_SHELL", "1", 1);
	setenv("CUDA_VISIBLE_DEVICES", "3", 1);
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(v[0], 3);
	free(v);
	unsetenv("GENV_SHELL");

	/* a container from the lock files it was given */
	setenv("GENV_CONTAINER", "1", 1);
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), 0);
	assert_int_equal(nr, 0);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/devices", dir);
	assert_int_equal(mkdir(path.buf, 0777), 0);
	strbuf_addstr(&path, "/10.lock");
	unit_write_text(path.buf, "");
	strbuf_setlen(&path, path.len - strlen("10.lock"));
	strbuf_addstr(&path, "4.lock");
	unit_write_text(path.buf, "");
	strbuf_setlen(&path, path.len - strlen("4.lock"));
	strbuf_addstr(&path, "x.lock");
	unit_write_text(path.buf, "");
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(v[0], 4);
	assert_int_equal(v[1], 10);
	free(v);

	/* a corrupt devices.json is an error naming it */
	unsetenv("GENV_CONTAINER");
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/devices.json", dir);
	unit_write_text(path.buf, "{");
	assert_int_equal(active_attached_indices("e1", &v, &nr, &err), -1);
	assert_non_null(strstr(err.buf, path.buf));
	strbuf_release(&err);
	strbuf_release(&path);
}

/* 1 if another open file description can take the flock of path right now. */
static int
lock_is_free(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), free_now;

	assert_true(fd >= 0);
	free_now = !flock(fd, LOCK_EX | LOCK_NB);
	close(fd);
	return free_now;
}

static void
device_locks_exclude(void **state)
{
	const char *dir = *state;
	struct device_locks locks = DEVICE_LOCKS_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	const long idx[] = { 2, 0, 2 };
	mode_t old = umask(077);

	assert_int_equal(device_locks_take(&locks, idx, 3, &err), 0);
	assert_int_equal(locks.nr, 2);   /* duplicates locked once */
	strbuf_addf(&path, "%s/devices/0.lock", dir);
	assert_int_equal(unit_mode_of(path.buf), 0666);   /* shared whatever the umask */
	assert_false(lock_is_free(path.buf));
	device_locks_release(&locks);
	assert_int_equal(locks.nr, 0);
	assert_true(lock_is_free(path.buf));

	/* nothing attached: nothing locked, no directory needed */
	assert_int_equal(active_lock_devices(NULL, &locks, &err), 0);
	assert_int_equal(locks.nr, 0);

	/* genv lock: the devices of eid from the state */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/devices.json", dir);
	unit_write_text(path.buf, DEVICES_JSON);
	assert_int_equal(active_lock_devices("e1", &locks, &err), 0);
	assert_int_equal(locks.nr, 2);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/devices/1.lock", dir);
	assert_false(lock_is_free(path.buf));
	device_locks_release(&locks);

	umask(old);
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	strbuf_release(&path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(visible_devices),
		cmocka_unit_test(eid_from_the_environment),
		cmocka_unit_test_setup(attached_indices_sources, per_test_setup),
		cmocka_unit_test_setup(device_locks_exclude, per_test_setup),
	};
	int rc;

	if (unit_scratch_make(&top, "test-active") < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_scratch_remove(&top);
	strbuf_release(&top);
	return rc;
}
