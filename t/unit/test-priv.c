/* SPDX-License-Identifier: MIT */
/*
 * test-priv.c: the group privilege of a setgid program, in a child made
 * to look like one (real gid R, effective and saved gid P, no root), and
 * path_root_only() on real directories. Runs as root (make check does).
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/priv.h"
#include "util/strbuf.h"

#define REAL_GID 12345
#define PRIV_GID 54321
#define NOBODY 65534

/* The child's checks: a failed one exits with its line number. */
#define CHECK(cond) do { if (!(cond)) _exit(__LINE__ % 250 + 1); } while (0)

static void
gids(gid_t *r, gid_t *e, gid_t *s)
{
	CHECK(!getresgid(r, e, s));
}

/* In a forked child: become a caller running a binary setgid PRIV_GID. */
static void
become_setgid_caller(void)
{
	CHECK(!setgroups(0, NULL));
	CHECK(!setresgid(REAL_GID, PRIV_GID, PRIV_GID));
	CHECK(!setresuid(NOBODY, NOBODY, NOBODY));
}

static void
run_child(void (*fn)(void))
{
	int status;
	pid_t pid;

	if (getuid() != 0) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
lifecycle_child(void)
{
	gid_t r, e, s;

	become_setgid_caller();
	setenv("GENV_TEST_REDIRECT", "/elsewhere", 1);
	umask(077);
	priv_startup();
	CHECK(priv_held() && priv_gid() == PRIV_GID);
	gids(&r, &e, &s);
	CHECK(r == REAL_GID && e == REAL_GID && s == PRIV_GID);   /* lowered */
	CHECK(priv_getenv("GENV_TEST_REDIRECT") == NULL);

	CHECK(!priv_raise() && !priv_raise());                    /* nests */
	gids(&r, &e, &s);
	CHECK(e == PRIV_GID);
	CHECK(umask(007) == 007);                                  /* group files */
	priv_lower();
	gids(&r, &e, &s);
	CHECK(e == PRIV_GID);
	priv_lower();
	gids(&r, &e, &s);
	CHECK(e == REAL_GID && s == PRIV_GID);
	CHECK(umask(077) == 077);                                  /* the caller's again */

	CHECK(!priv_drop());
	gids(&r, &e, &s);
	CHECK(r == REAL_GID && e == REAL_GID && s == REAL_GID);
	CHECK(!priv_held());
	/* for good: nothing can take it back */
	CHECK(setresgid((gid_t)-1, PRIV_GID, (gid_t)-1) < 0 && errno == EPERM);
	CHECK(!priv_raise());
	gids(&r, &e, &s);
	CHECK(e == REAL_GID);
	CHECK(!strcmp(priv_getenv("GENV_TEST_REDIRECT"), "/elsewhere"));
}

static void
setgid_lifecycle(void **state)
{
	(void)state;
	run_child(lifecycle_child);
}

static void
closed_fds_child(void)
{
	struct stat st, null;

	close(0);
	close(2);
	priv_startup();
	CHECK(!stat("/dev/null", &null));
	CHECK(!fstat(0, &st) && st.st_rdev == null.st_rdev);
	CHECK(!fstat(2, &st) && st.st_rdev == null.st_rdev);
	CHECK(open("/dev/null", O_RDONLY) == 3);
}

static void
closed_standard_fds(void **state)
{
	(void)state;
	run_child(closed_fds_child);
}

static void
unprivileged_is_a_noop(void **state)
{
	(void)state;
	/* this test binary is not setgid */
	priv_startup();
	assert_false(priv_held());
	assert_int_equal(priv_raise(), 0);
	priv_lower();
	assert_int_equal(priv_drop(), 0);
	setenv("GENV_TEST_VAR", "x", 1);
	assert_string_equal(priv_getenv("GENV_TEST_VAR"), "x");
}

static int
root_only(const char *path, mode_t want, gid_t group, const char *why_has)
{
	struct strbuf why = STRBUF_INIT;
	int rc = path_root_only(path, want, group, &why);

	if (why_has && !strstr(why.buf, why_has))
		print_error("reason '%s' lacks '%s'\n", why.buf, why_has);
	if (why_has)
		assert_non_null(strstr(why.buf, why_has));
	strbuf_release(&why);
	return rc;
}

static void
root_only_paths(void **state)
{
	char dir[] = "/tmp/genv-test-priv.XXXXXX";
	struct strbuf p = STRBUF_INIT;

	(void)state;
	if (getuid() != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	strbuf_addf(&p, "%s/f", dir);
	assert_int_equal(close(open(p.buf, O_CREAT | O_WRONLY, 0644)), 0);

	/* /tmp is sticky: fine above a root-owned entry */
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, NULL), 0);
	assert_int_equal(root_only(dir, S_IFDIR, (gid_t)-1, NULL), 0);
	assert_int_equal(root_only(p.buf, S_IFDIR, (gid_t)-1, "not a directory"), -1);

	assert_int_equal(chmod(p.buf, 0664), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "writable by its group"), -1);
	assert_int_equal(chown(p.buf, 0, PRIV_GID), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, PRIV_GID, NULL), 0);
	assert_int_equal(chmod(p.buf, 0646), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, PRIV_GID, "writable by others"), -1);
	assert_int_equal(chmod(p.buf, 0644), 0);

	assert_int_equal(chown(p.buf, NOBODY, 0), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "owned by uid 65534"), -1);
	assert_int_equal(chown(p.buf, 0, 0), 0);

	/* a directory on the way that its group may change */
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "writable by its group"), -1);
	assert_int_equal(chmod(dir, 0755), 0);

	strbuf_reset(&p);
	strbuf_addf(&p, "%s/link", dir);
	assert_int_equal(symlink("f", p.buf), 0);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "symbolic link"), -1);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/../%s/f", dir, dir + 5);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "not a canonical path"), -1);
	assert_int_equal(root_only("relative/f", S_IFREG, (gid_t)-1, "not an absolute path"), -1);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/missing", dir);
	assert_int_equal(root_only(p.buf, S_IFREG, (gid_t)-1, "No such file"), -1);

	strbuf_reset(&p);
	strbuf_addf(&p, "%s/link", dir);
	unlink(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/f", dir);
	unlink(p.buf);
	rmdir(dir);
	strbuf_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(setgid_lifecycle),
		cmocka_unit_test(closed_standard_fds),
		cmocka_unit_test(unprivileged_is_a_noop),
		cmocka_unit_test(root_only_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
