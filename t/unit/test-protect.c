/* SPDX-License-Identifier: MIT */
/* test-protect.c: genv.conf, the record of a protected install. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/protect.h"

static void
parse_ok(void **state)
{
	struct install_config c = INSTALL_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(install_config_parse(&c,
		"# written by make install\n"
		"\n"
		"protected = 1\n"
		"  state_dir=/var/tmp/genv  \n"
		"group = genv\n"
		"gid = 998\n"
		"nvml_library = /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", &err), 0);
	assert_int_equal(c.protected, 1);
	assert_string_equal(c.state_dir, "/var/tmp/genv");
	assert_string_equal(c.group, "genv");
	assert_int_equal(c.gid, 998);
	assert_string_equal(c.nvml_library, "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
	/* an empty library is the driver's */
	assert_int_equal(install_config_parse(&c, "nvml_library =\n", &err), 0);
	assert_null(c.nvml_library);
	/* the limit of environments per user: unset, a number, none (0) */
	assert_int_equal(c.max_envs_per_user, -1);
	assert_int_equal(install_config_parse(&c, "max_envs_per_user = 64\n", &err), 0);
	assert_int_equal(c.max_envs_per_user, 64);
	assert_int_equal(install_config_parse(&c, "max_envs_per_user = 0\n", &err), 0);
	assert_int_equal(c.max_envs_per_user, 0);
	assert_int_equal(err.len, 0);
	install_config_release(&c);
	strbuf_release(&err);
}

static void
parse_bad(void **state)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "protected = yes\n", "unknown key or bad value: 'protected = yes' (line 1)" },
		{ "\nstate_dir = relative\n", "(line 2)" },
		{ "gid = -1\n", "unknown key or bad value" },
		{ "gid = 12x\n", "not a gid: '12x'" },
		{ "gid = 99999999999999\n", "not a gid" },
		{ "nvml_library = lib.so\n", "unknown key or bad value" },
		{ "max_envs_per_user = -1\n", "unknown key or bad value" },
		{ "max_envs_per_user = 9x\n", "not a number of environments: '9x'" },
		{ "max_envs_per_user = 99999999999\n", "not a number of environments" },
		{ "colour = blue\n", "unknown key or bad value: 'colour = blue'" },
		{ "just words\n", "line 1: not 'key = value'" },
		{ "protected = 1\nstate_dir = /x\n", "protected = 1 needs state_dir, group and gid" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct install_config c = INSTALL_CONFIG_INIT;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(install_config_parse(&c, bad[i].text, &err), -1);
		if (!strstr(err.buf, bad[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, err.buf, bad[i].msg);
		install_config_release(&c);
		strbuf_release(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
