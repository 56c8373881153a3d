/* SPDX-License-Identifier: MIT */
/* test-shell.c: quoting, the variables of an environment and the eval-able lines of src/shell. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "shell/shell.h"
#include "util/strbuf.h"

static void
quote_keeps_simple_values_bare(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	shell_quote(&sb, SHELL_SYNTAX_POSIX, "quick-start");
	assert_string_equal(sb.buf, "quick-start");
	strbuf_reset(&sb);
	shell_quote(&sb, SHELL_SYNTAX_FISH, "0,1");
	assert_string_equal(sb.buf, "0,1");
	strbuf_release(&sb);
}

static void
quote_posix_and_fish(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	shell_quote(&sb, SHELL_SYNTAX_POSIX, "x\"; touch p; \"");
	assert_string_equal(sb.buf, "'x\"; touch p; \"'");
	strbuf_reset(&sb);
	shell_quote(&sb, SHELL_SYNTAX_POSIX, "it's");
	assert_string_equal(sb.buf, "'it'\\''s'");
	strbuf_reset(&sb);
	shell_quote(&sb, SHELL_SYNTAX_FISH, "it's \\ $(x)");
	assert_string_equal(sb.buf, "'it\\'s \\\\ $(x)'");
	strbuf_reset(&sb);
	shell_quote(&sb, SHELL_SYNTAX_FISH, "%self");
	assert_string_equal(sb.buf, "'%self'");
	strbuf_reset(&sb);
	shell_quote(&sb, SHELL_SYNTAX_POSIX, "");
	assert_string_equal(sb.buf, "''");
	strbuf_release(&sb);
}

static void
emitters(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct shell_env env = SHELL_ENV_INIT;

	(void)state;
	env.indices = "";
	shell_emit_reattach(&sb, SHELL_SYNTAX_POSIX, &env);
	assert_string_equal(sb.buf, "_genv_replace_env CUDA_VISIBLE_DEVICES -1\n"
			    "_genv_replace_env CUDA_DEVICE_ORDER PCI_BUS_ID\n\n");
	strbuf_reset(&sb);
	env.name = "two words";
	env.has_gpus = 1;
	env.gpus = 2;
	shell_emit_reconfigure(&sb, SHELL_SYNTAX_POSIX, &env);
	assert_string_equal(sb.buf, "_genv_set_env GENV_ENVIRONMENT_NAME 'two words'\n"
			    "_genv_unset_env GENV_GPU_MEMORY\n"
			    "_genv_set_env GENV_GPUS 2\n\n");
	strbuf_reset(&sb);
	shell_emit_activate(&sb, SHELL_SYNTAX_POSIX, "7", "/a b", 0, NULL);
	assert_non_null(strstr(sb.buf, "_genv_replace_env PATH '/a b'\":$PATH\"\n"));
	strbuf_reset(&sb);
	/* 1.4.3's exact bytes without the inline state, with it the re-runs replaced */
	shell_emit_activate(&sb, SHELL_SYNTAX_POSIX, "4242", "/s", 1, NULL);
	assert_string_equal(sb.buf, "\n_genv_set_env GENV_SHELL 1\n"
			    "_genv_set_env GENV_ENVIRONMENT_ID 4242\n"
			    "_genv_replace_env PATH \"/s:$PATH\"\n\n"
			    "eval \"$(command genv shell --reconfigure)\"\n"
			    "eval \"$(command genv shell --reattach)\"\n\n"
			    "_genv_replace_env PS1 \"(genv) ${PS1-}\"\n");
	strbuf_reset(&sb);
	shell_emit_activate(&sb, SHELL_SYNTAX_POSIX, "4242", "/s", 0, "X\n");
	assert_string_equal(sb.buf, "\n_genv_set_env GENV_SHELL 1\n"
			    "_genv_set_env GENV_ENVIRONMENT_ID 4242\n"
			    "_genv_replace_env PATH \"/s:$PATH\"\n\nX\n\n");
	strbuf_reset(&sb);
	shell_emit_deactivate(&sb, SHELL_SYNTAX_FISH);
	assert_string_equal(sb.buf, "\n_genv_unset_envs\n_genv_restore_envs\n\n");
	strbuf_release(&sb);
}

/* One description of an environment's variables, rendered for exec. */
static void
env_vars_and_apply(void **state)
{
	struct shell_env env = SHELL_ENV_INIT;
	struct shell_var vars[SHELL_ENV_MAX_VARS];
	struct strbuf scratch = STRBUF_INIT;
	size_t n;

	(void)state;
	env.eid = "e1";
	env.gpu_memory = "4g";
	env.has_gpus = 1;
	env.gpus = 3;
	n = shell_env_vars(&env, SHELL_ENV_ID | SHELL_ENV_CONFIG | SHELL_ENV_DEVICES,
			   vars, &scratch);
	assert_int_equal(n, SHELL_ENV_MAX_VARS);
	assert_string_equal(vars[0].name, "GENV_ENVIRONMENT_ID");
	assert_string_equal(vars[0].value, "e1");
	assert_string_equal(vars[1].name, "GENV_ENVIRONMENT_NAME");
	assert_null(vars[1].value);
	assert_string_equal(vars[2].value, "4g");
	assert_string_equal(vars[3].name, "GENV_GPUS");
	assert_string_equal(vars[3].value, "3");
	assert_false(vars[3].replace);
	assert_string_equal(vars[4].name, "CUDA_VISIBLE_DEVICES");
	assert_string_equal(vars[4].value, "-1");  /* no devices */
	assert_true(vars[4].replace);
	assert_string_equal(vars[5].value, "PCI_BUS_ID");
	assert_int_equal(shell_env_vars(&env, SHELL_ENV_DEVICES, vars, &scratch), 2);

	setenv("GENV_ENVIRONMENT_NAME", "stale", 1);
	env.indices = "0,2";
	shell_env_apply(&env, SHELL_ENV_ID | SHELL_ENV_CONFIG | SHELL_ENV_DEVICES);
	assert_string_equal(getenv("GENV_ENVIRONMENT_ID"), "e1");
	assert_null(getenv("GENV_ENVIRONMENT_NAME"));
	assert_string_equal(getenv("GENV_GPU_MEMORY"), "4g");
	assert_string_equal(getenv("GENV_GPUS"), "3");
	assert_string_equal(getenv("CUDA_VISIBLE_DEVICES"), "0,2");
	assert_string_equal(getenv("CUDA_DEVICE_ORDER"), "PCI_BUS_ID");
	strbuf_release(&scratch);
}

static void
syntax_and_names(void **state)
{
	struct strbuf err = STRBUF_INIT;
	enum shell_syntax s;

	(void)state;
	assert_int_equal(shell_syntax_parse("/usr/bin/fish", &s, &err), 0);
	assert_int_equal(s, SHELL_SYNTAX_FISH);
	assert_int_equal(shell_syntax_parse(NULL, &s, &err), 0);
	assert_int_equal(s, SHELL_SYNTAX_POSIX);
	assert_int_equal(shell_syntax_parse("csh", &s, &err), -1);
	assert_true(shell_valid_var_name("GENV_GPUS"));
	assert_false(shell_valid_var_name("1X"));
	assert_false(shell_valid_var_name("A;B"));
	assert_false(shell_valid_var_name(""));
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quote_keeps_simple_values_bare),
		cmocka_unit_test(quote_posix_and_fish),
		cmocka_unit_test(emitters),
		cmocka_unit_test(env_vars_and_apply),
		cmocka_unit_test(syntax_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
