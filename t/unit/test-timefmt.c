/* SPDX-License-Identifier: MIT */
/* test-timefmt.c: stored timestamps and 1.4.3's "N units ago" wording. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/timefmt.h"
#include "util/strbuf.h"

#include <time.h>

static int
setup_tz(void **state UNUSED)
{
	/* a zone with DST, to check that wall-clock differences are used */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	return 0;
}

static void
format_and_parse(void **state UNUSED)
{
	struct strbuf out = STRBUF_INIT;
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 1,
			 .tm_min = 12, .tm_sec = 3, .tm_isdst = -1 };
	time_t t = mktime(&tm), back;

	genv_time_format(&out, t);
	assert_string_equal(out.buf, "24/11/2026 01:12:03");
	assert_int_equal(genv_time_parse(out.buf, &back), 0);
	assert_int_equal(back, t);
	assert_int_equal(genv_time_parse("1/2/2026 3:4:5", &back), 0);
	strbuf_release(&out);

	static const char *const bad[] = {
		"", "24/11/2026", "24/11/2026 01:12", "32/01/2026 00:00:00", "29/02/2026 00:00:00",
		"00/01/2026 00:00:00", "01/13/2026 00:00:00", "01/01/2026 24:00:00",
		"01/01/2026 00:60:00", "24/11/2026 01:12:03x", "24-11-2026 01:12:03", "x",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (genv_time_parse(bad[i], &back) == 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(genv_time_parse("29/02/2024 00:00:00", &back), 0);
}

static void
time_since_table(void **state UNUSED)
{
	static const struct {
		long long ago;
		const char *want;
	} table[] = {
		{ 0, "0 second ago" },
		{ 1, "1 second ago" },
		{ 2, "2 seconds ago" },
		{ 59, "59 seconds ago" },
		{ 60, "1 minute ago" },
		{ 119, "1 minute ago" },
		{ 120, "2 minutes ago" },
		{ 3599, "59 minutes ago" },
		{ 3600, "1 hour ago" },
		{ 23 * 3600 + 3599, "23 hours ago" },
		{ 86400, "1 day ago" },
		{ 6 * 86400 + 86399, "6 days ago" },
		{ 7 * 86400, "1 week ago" },
		{ 70 * 86400, "10 weeks ago" },
		{ 1000 * 7 * 86400LL, "1000 weeks ago" },
		{ -90, "-89 second ago" },
		{ -1, "0 second ago" },
	};
	/* noon in January: no DST change within the range above */
	struct tm tm = { .tm_year = 130, .tm_mon = 0, .tm_mday = 15, .tm_hour = 12,
			 .tm_isdst = -1 };
	time_t now = mktime(&tm);

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct strbuf stamp = STRBUF_INIT, out = STRBUF_INIT;

		genv_time_format(&stamp, now - table[i].ago);
		genv_time_since(&out, stamp.buf, now);
		if (strcmp(out.buf, table[i].want))
			fail_msg("%lld s: got '%s', want '%s'", table[i].ago, out.buf, table[i].want);
		strbuf_release(&stamp);
		strbuf_release(&out);
	}
}

static void
time_since_wall_clock(void **state UNUSED)
{
	/* 1.4.3 subtracts naive local times: across the spring-forward night
	 * 01:30 -> 03:30 is 2 hours although only 1 hour passed */
	struct tm tm = { .tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 3,
			 .tm_min = 30, .tm_isdst = -1 };
	time_t now = mktime(&tm);
	struct strbuf out = STRBUF_INIT;

	genv_time_since(&out, "29/03/2026 01:30:00", now);
	assert_string_equal(out.buf, "2 hours ago");
	strbuf_reset(&out);
	genv_time_since(&out, "not a time", now);
	assert_string_equal(out.buf, "not a time");
	strbuf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_and_parse),
		cmocka_unit_test(time_since_table),
		cmocka_unit_test(time_since_wall_clock),
	};
	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
