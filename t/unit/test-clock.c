/* SPDX-License-Identifier: MIT */
/* test-clock.c: the monotonic and the wall clock. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "util/clock.h"

static void
monotonic_ms(void **state)
{
	int64_t a = clock_monotonic_ms(), b;
	(void)state;

	usleep(30000);
	b = clock_monotonic_ms();
	assert_true(b - a >= 30);
	assert_true(b - a < 10000);
}

static void
monotonic_seconds(void **state)
{
	double a = clock_monotonic_seconds(), b;
	int64_t ms = clock_monotonic_ms();
	(void)state;

	/* the same clock as the milliseconds */
	assert_true(ms - (int64_t)(a * 1000) >= 0 && ms - (int64_t)(a * 1000) < 1000);
	usleep(2000);
	b = clock_monotonic_seconds();
	assert_true(b - a >= 0.002 && b - a < 10);
}

static void
wall(void **state)
{
	time_t before = time(NULL), now = clock_wall();
	(void)state;

	assert_true(now >= before && now <= time(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(monotonic_ms),
		cmocka_unit_test(monotonic_seconds),
		cmocka_unit_test(wall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
