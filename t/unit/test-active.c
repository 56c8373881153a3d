/* SPDX-License-Identifier: MIT */
/*
 * test-active.c: the calling process's active environment (core/active.c)
 * and the device lock files (core/device-locks.c), on a real state
 * directory.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "core/active.h"
#include "util/strbuf.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(visible_devices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
