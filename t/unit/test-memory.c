/* SPDX-License-Identifier: MIT */
/*
 * test-memory.c: memory strings <-> bytes, the 1.4.3 units, the spellings
 * users type (issue 10: "4GB", "512MiB") and our stricter errors.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/memory.h"
#include "util/strbuf.h"

static void
parses_units(void **state UNUSED)
{
	static const struct {
		const char *s;
		unsigned long long bytes;
	} table[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "512b", 512 },
		{ "3k", 3000 },
		{ "2m", 2000000 },
		{ "4g", 4000000000ULL },
		{ "1ki", 1024 },
		{ "42mi", 44040192 },
		{ "1gi", 1073741824ULL },
		{ "16384mi", 17179869184ULL },
		{ "007mi", 7ULL << 20 },
		{ "18446744073709551615", 18446744073709551615ULL },
		{ "17179869183gi", 17179869183ULL << 30 },
		/* issue 10: any case, and a trailing b; k, m, g stay 1.4.3's 10^n */
		{ "4G", 4000000000ULL },
		{ "4GB", 4000000000ULL },
		{ "4gb", 4000000000ULL },
		{ "4Gb", 4000000000ULL },
		{ "4Gi", 4ULL << 30 },
		{ "4GiB", 4ULL << 30 },
		{ "4gib", 4ULL << 30 },
		{ "4MI", 4ULL << 20 },
		{ "512MiB", 512ULL << 20 },
		{ "512MB", 512000000ULL },
		{ "3K", 3000 },
		{ "3KB", 3000 },
		{ "1KiB", 1024 },
		{ "100B", 100 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct strbuf err = STRBUF_INIT;
		unsigned long long b = 1;

		if (memory_to_bytes(table[i].s, &b, &err) < 0)
			fail_msg("'%s' rejected: %s", table[i].s, err.buf);
		if (b != table[i].bytes)
			fail_msg("'%s' gave %llu, want %llu", table[i].s, b, table[i].bytes);
		assert_int_equal(err.len, 0);
	}
}

static void
rejects_garbage(void **state UNUSED)
{
	static const char *const bad[] = {
		"4XB", "4GBB", "4BB", "4iB", "4gbi", "4 GB", "4t", "4TB", "",
		"g", "mi", "GB", "-1g", "+1g", " 4g", "4g ", "4 g",
		"1.5g", "4gi4", "0x10", "4bb", "4i",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
		unsigned long long b = 7;

		assert_int_equal(memory_to_bytes(bad[i], &b, &err), -1);
		assert_int_equal(b, 7);
		strbuf_addf(&want, "invalid memory size '%s': expected <number><unit> with unit one of "
			    "b, k, m, g, ki, mi, gi (in any case, with or without a trailing b: "
			    "4g, 4GB, 512MiB), or none for bytes", bad[i]);
		assert_string_equal(err.buf, want.buf);
		strbuf_release(&err);
		strbuf_release(&want);
	}
}

static void
rejects_overflow(void **state UNUSED)
{
	static const char *const big[] = {
		"18446744073709551616", "99999999999999999999999", "17179869184gi", "18446744073709552k",
		"17179869184GiB", "18446744073709552KB",
	};

	for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
		struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
		unsigned long long b;

		assert_int_equal(memory_to_bytes(big[i], &b, &err), -1);
		strbuf_addf(&want, "memory size '%s' is too large", big[i]);
		assert_string_equal(err.buf, want.buf);
		strbuf_release(&err);
		strbuf_release(&want);
	}
}

static void
normalizes(void **state UNUSED)
{
	static const struct {
		const char *in, *out;
	} table[] = {
		{ "4g", "4g" }, { "4G", "4g" }, { "4GB", "4g" }, { "4gb", "4g" },
		{ "512MiB", "512mi" }, { "512mib", "512mi" }, { "16384mi", "16384mi" },
		{ "1KiB", "1ki" }, { "3KB", "3k" }, { "100B", "100b" }, { "100", "100" },
		{ "007GiB", "007gi" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		unsigned long long a, b;

		assert_int_equal(memory_normalize(table[i].in, &out, &err), 0);
		assert_string_equal(out.buf, table[i].out);
		/* the same size either way */
		assert_int_equal(memory_to_bytes(table[i].in, &a, &err), 0);
		assert_int_equal(memory_to_bytes(out.buf, &b, &err), 0);
		assert_true(a == b);
		strbuf_release(&out);
		strbuf_release(&err);
	}
}

static void
normalize_refuses(void **state UNUSED)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_addstr(&out, "kept");
	assert_int_equal(memory_normalize("4XB", &out, &err), -1);
	assert_string_equal(out.buf, "kept");
	assert_true(starts_with(err.buf, "invalid memory size '4XB'"));
	strbuf_reset(&err);
	assert_int_equal(memory_normalize("17179869184GiB", &out, &err), -1);
	assert_string_equal(err.buf, "memory size '17179869184GiB' is too large");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
formats(void **state UNUSED)
{
	static const struct {
		unsigned long long bytes;
		const char *unit, *out;
	} table[] = {
		{ 4000000000ULL, "mi", "3814mi" },
		{ 1073741824ULL, "mi", "1024mi" },
		{ 17179869184ULL, "mi", "16384mi" },
		{ (1ULL << 20) - 1, "mi", "0mi" },
		{ 1500, "k", "1k" },
		{ 5, "b", "5b" },
		{ 3ULL << 30, "gi", "3gi" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct strbuf out = STRBUF_INIT;

		bytes_to_memory(&out, table[i].bytes, table[i].unit);
		assert_string_equal(out.buf, table[i].out);
		strbuf_release(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_units),
		cmocka_unit_test(rejects_garbage),
		cmocka_unit_test(rejects_overflow),
		cmocka_unit_test(normalizes),
		cmocka_unit_test(normalize_refuses),
		cmocka_unit_test(formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
