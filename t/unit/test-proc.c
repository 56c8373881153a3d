/* SPDX-License-Identifier: MIT */
/*
 * test-proc.c: the /proc reader against real processes: this test, a
 * child started with a known environment and arguments, a zombie, and a
 * pid that is gone.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/proc.h"
#include "util/strvec.h"

/*
 * A child that execs a shell with GENV_TEST_VAR set twice (the last wins)
 * and an argument holding a space. The shell loops on short sleeps, so
 * that it stays alive however its arguments look and leaves no long
 * orphan when it is killed.
 */
static pid_t
spawn_looping_shell(void)
{
	int ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		static char a0[] = "sh", a1[] = "-c", a2[] = "while :; do sleep 1; done",
			    a3[] = "two words";
		static char e0[] = "GENV_TEST_VAR=first", e1[] = "GENV_TEST_VARX=no",
			    e2[] = "GENV_TEST_VAR=with=equals";
		char *const argv[] = { a0, a1, a2, a3, NULL };
		char *const envp[] = { e0, e1, e2, NULL };

		close(ready[0]);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(ready[1]);
	/* EOF once exec closed the write end (O_CLOEXEC) */
	assert_int_equal(read(ready[0], &c, 1), 0);
	close(ready[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void
self_facts(void **state)
{
	unsigned long long start;
	long long uid;
	char *exe, *real;
	(void)state;

	assert_int_equal(proc_real_uid(getpid(), &uid), 0);
	assert_int_equal(uid, (long long)getuid());
	assert_int_equal(proc_start_time(getpid(), &start), 0);
	assert_true(start > 0);
	exe = proc_self_exe();
	assert_non_null(exe);
	assert_non_null(strstr(exe, "test-proc"));
	/* the kernel's link is what realpath() makes of it */
	real = realpath("/proc/self/exe", NULL);
	assert_non_null(real);
	assert_string_equal(exe, real);
	free(real);
	free(exe);
}

static void
child_environ_and_cmdline(void **state)
{
	pid_t pid = spawn_looping_shell();
	struct strvec argv = STRVEC_INIT;
	unsigned long long a, b;
	char *value;
	(void)state;

	assert_int_equal(proc_environ_get(pid, "GENV_TEST_VAR", &value), 0);
	assert_string_equal(value, "with=equals");
	free(value);
	assert_int_equal(proc_environ_get(pid, "GENV_TEST", &value), 0);
	assert_null(value);
	assert_int_equal(proc_cmdline(pid, &argv), 0);
	assert_int_equal(argv.nr, 4);
	assert_string_equal(argv.v[0], "sh");
	assert_string_equal(argv.v[3], "two words");
	/* the start time names the process: stable while it runs */
	assert_int_equal(proc_start_time(pid, &a), 0);
	assert_int_equal(proc_start_time(pid, &b), 0);
	assert_true(a == b);
	strvec_clear(&argv);
	reap(pid);
}

static void
zombie_and_gone(void **state)
{
	pid_t pid = fork();
	unsigned long long start;
	long long uid;
	char *value = NULL;
	int status;
	(void)state;

	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	/* a zombie has ended: no start time, as for a gone process */
	while (proc_start_time(pid, &start) == 0)
		usleep(1000);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	errno = 0;
	assert_int_equal(proc_real_uid(pid, &uid), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(proc_environ_get(pid, "PATH", &value), -1);
	assert_null(value);
	assert_int_equal(proc_start_time(0, &start), -1);
	assert_int_equal(errno, ESRCH);
}

/* /proc/locks names who holds a flock, and not who waits for one */
static void
lock_holders(void **state)
{
	char path[] = "/tmp/genv-test-proc.XXXXXX";
	int fd = mkstemp(path), other;
	long pids[4];
	struct stat st;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(proc_lock_holders(st.st_dev, st.st_ino, pids, 4), 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(proc_lock_holders(st.st_dev, st.st_ino, pids, 4), 1);
	assert_int_equal(pids[0], getpid());
	/* another descriptor of ours trying (not waiting) is no holder */
	other = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(proc_lock_holders(st.st_dev, st.st_ino, pids, 4), 1);
	/* max is respected */
	assert_int_equal(proc_lock_holders(st.st_dev, st.st_ino, pids, 0), 0);
	close(other);
	close(fd);
	assert_int_equal(proc_lock_holders(st.st_dev, st.st_ino, pids, 4), 0);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(self_facts),
		cmocka_unit_test(child_environ_and_cmdline),
		cmocka_unit_test(zombie_and_gone),
		cmocka_unit_test(lock_holders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
