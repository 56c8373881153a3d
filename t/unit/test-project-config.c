/* SPDX-License-Identifier: MIT */
/*
 * test-project-config.c: the `.genv` project directory on a real file
 * system: where it is found, reading (stripped values, strict numbers
 * and memory strings), and writing (one file per set field, unset fields
 * removed, modes from the umask).
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/project-config.h"
#include "core/state.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

static struct strbuf top = STRBUF_INIT;   /* this run's scratch directory */
static int case_nr;

/* Each test gets an empty $HOME and an empty working directory. */
static int
per_test_setup(void **state)
{
	static struct strbuf dir = STRBUF_INIT;
	struct strbuf home = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_reset(&dir);
	strbuf_addf(&dir, "%s/case%d", top.buf, ++case_nr);
	strbuf_addf(&home, "%s/home", dir.buf);
	if (mkdir_p(home.buf, 0755, &err) < 0 || chdir(dir.buf) < 0)
		fail_msg("%s", err.buf);
	setenv("HOME", home.buf, 1);
	strbuf_release(&home);
	strbuf_release(&err);
	*state = dir.buf;
	return 0;
}

static void
dir_is_pwd_then_home(void **state)
{
	const char *dir = *state;
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;

	assert_int_equal(project_config_dir(&out), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(mkdir("home/.genv", 0755), 0);
	assert_int_equal(project_config_dir(&out), 0);
	strbuf_addf(&want, "%s/home/.genv", dir);
	assert_string_equal(out.buf, want.buf);
	unit_write_text(".genv", "a file is not a directory");
	strbuf_reset(&out);
	assert_int_equal(project_config_dir(&out), 0);
	assert_string_equal(out.buf, want.buf);
	assert_int_equal(unlink(".genv"), 0);
	assert_int_equal(mkdir(".genv", 0755), 0);
	strbuf_reset(&out);
	assert_int_equal(project_config_dir(&out), 0);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s/.genv", dir);
	assert_string_equal(out.buf, want.buf);
	strbuf_release(&out);
	strbuf_release(&want);
}

static void
load_strips_and_validates(void **state UNUSED)
{
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(mkdir(".genv", 0755), 0);
	/* an empty directory is an empty configuration */
	assert_int_equal(project_config_load(".genv", &c, &err), 0);
	assert_null(c.name);
	assert_null(c.gpu_memory);
	assert_false(c.has_gpus);

	unit_write_text(".genv/name", "  my env \n");
	unit_write_text(".genv/gpu-memory", " 512mi\n");
	unit_write_text(".genv/gpus", "2\n");
	assert_int_equal(project_config_load(".genv", &c, &err), 0);
	assert_string_equal(c.name, "my env");
	assert_string_equal(c.gpu_memory, "512mi");
	assert_true(c.has_gpus);
	assert_int_equal(c.gpus, 2);
	env_config_release(&c);

	unit_write_text(".genv/gpus", "lots\n");
	assert_int_equal(project_config_load(".genv", &c, &err), -1);
	assert_string_equal(err.buf, "'.genv/gpus' holds 'lots', not a number of devices");
	env_config_release(&c);
	strbuf_reset(&err);
	unit_write_text(".genv/gpus", "-1");
	assert_int_equal(project_config_load(".genv", &c, &err), -1);
	env_config_release(&c);
	strbuf_reset(&err);

	unit_write_text(".genv/gpus", "1");
	unit_write_text(".genv/gpu-memory", "4XB");
	assert_int_equal(project_config_load(".genv", &c, &err), -1);
	assert_non_null(strstr(err.buf, "(in '.genv/gpu-memory')"));
	env_config_release(&c);
	strbuf_reset(&err);

	/* issue 10: "4GB" as users type it, loaded as 1.4.3 spells it */
	unit_write_text(".genv/gpu-memory", "4GB\n");
	assert_int_equal(project_config_load(".genv", &c, &err), 0);
	assert_string_equal(c.gpu_memory, "4g");
	env_config_release(&c);
	strbuf_release(&err);
}

static void
save_writes_and_removes(void **state UNUSED)
{
	struct env_config c = ENV_CONFIG_INIT, back = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	mode_t old = umask(027);

	assert_int_equal(mkdir(".genv", 0755), 0);
	unit_write_text(".genv/gpu-memory", "1g");
	c.name = xstrdup("my env");
	c.has_gpus = 1;
	c.gpus = 2;
	assert_int_equal(project_config_save(".genv", &c, &err), 0);
	unit_read_text(".genv/name", &text);
	assert_string_equal(text.buf, "my env");   /* no newline, as 1.4.3 */
	assert_int_equal(unit_mode_of(".genv/name"), 0640);
	unit_read_text(".genv/gpus", &text);
	assert_string_equal(text.buf, "2");
	assert_int_equal(access(".genv/gpu-memory", F_OK), -1);  /* unset: removed */

	assert_int_equal(project_config_load(".genv", &back, &err), 0);
	assert_string_equal(back.name, "my env");
	assert_null(back.gpu_memory);
	assert_int_equal(back.gpus, 2);

	/* an unwritable directory fails with the path */
	assert_int_equal(project_config_save("missing/.genv", &c, &err), -1);
	assert_non_null(strstr(err.buf, "missing/.genv/"));

	umask(old);
	env_config_release(&c);
	env_config_release(&back);
	strbuf_release(&err);
	strbuf_release(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(dir_is_pwd_then_home, per_test_setup),
		cmocka_unit_test_setup(load_strips_and_validates, per_test_setup),
		cmocka_unit_test_setup(save_writes_and_removes, per_test_setup),
	};
	int rc;

	if (unit_scratch_make(&top, "test-project-config") < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (chdir("/") == 0)
		unit_scratch_remove(&top);
	strbuf_release(&top);
	return rc;
}
