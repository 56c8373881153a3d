/* SPDX-License-Identifier: MIT */
/* test-run.c: run_parallel(), run_interactive(), run_stream() and run_foreground() with /bin/sh -c children. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/run.h"
#include "util/strbuf.h"

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sh_task(struct run_task *t, const char *script)
{
	run_task_init(t);
	strvec_pushv(&t->argv, (const char *const[]){ "/bin/sh", "-c", script, NULL });
}

static void
exit_codes_and_streams(void **state)
{
	struct run_task t[3];
	struct run_opts o = RUN_OPTS_INIT;

	(void)state;
	sh_task(&t[0], "echo out; echo err >&2");
	sh_task(&t[1], "printf 'partial'; exit 3");
	sh_task(&t[2], "kill -9 $$");
	assert_int_equal(run_parallel(t, 3, &o), 2);

	assert_int_equal(t[0].state, RUN_EXITED);
	assert_true(run_task_succeeded(&t[0]));
	assert_string_equal(t[0].out.buf, "out\n");
	assert_string_equal(t[0].err.buf, "err\n");
	assert_int_equal(run_task_exit_code(&t[1]), 3);
	assert_string_equal(t[1].out.buf, "partial");
	assert_false(run_task_succeeded(&t[1]));
	assert_int_equal(run_task_exit_code(&t[2]), -1);
	assert_true(WIFSIGNALED(t[2].status));
	assert_int_equal(WTERMSIG(t[2].status), 9);
	for (int i = 0; i < 3; i++)
		run_task_release(&t[i]);
}

struct ticks {
	int calls;
	size_t max_done;
	int64_t started;   /* tasks[1].started_ms as the ticks saw it */
};

static void
count_tick(const struct run_task *tasks, size_t n, void *data)
{
	struct ticks *tk = data;
	size_t done = 0;

	for (size_t i = 0; i < n; i++)
		done += tasks[i].state == RUN_EXITED;
	tk->calls++;
	if (done > tk->max_done)
		tk->max_done = done;
	if (tasks[1].state == RUN_RUNNING)
		tk->started = tasks[1].started_ms;
}

/* tick: called every tick_ms while tasks run, never once all are done */
static void
ticks_while_running(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;
	struct ticks tk = { 0, 0, 0 };

	(void)state;
	sh_task(&t[0], "exit 0");
	sh_task(&t[1], "sleep 0.5");
	o.tick = count_tick;
	o.tick_ms = 50;
	o.cb_data = &tk;
	assert_int_equal(run_parallel(t, 2, &o), 0);
	assert_in_range(tk.calls, 3, 40);   /* about 10; slack for a busy machine */
	assert_int_equal(tk.max_done, 1);
	assert_true(tk.started > 0);
	assert_int_equal(tk.started, t[1].started_ms);
	run_task_release(&t[0]);
	run_task_release(&t[1]);

	/* no tick at all for a call shorter than tick_ms */
	tk.calls = 0;
	sh_task(&t[0], "exit 0");
	o.tick_ms = 10000;
	assert_int_equal(run_parallel(t, 1, &o), 0);
	assert_int_equal(tk.calls, 0);
	run_task_release(&t[0]);
}

static void
stdin_is_dev_null(void **state)
{
	struct run_task t;
	struct run_opts o = RUN_OPTS_INIT;

	(void)state;
	/* reading stdin must see EOF at once, not the test's terminal */
	sh_task(&t, "cat; echo done");
	assert_int_equal(run_parallel(&t, 1, &o), 0);
	assert_string_equal(t.out.buf, "done\n");
	run_task_release(&t);
}

static void
stdin_payload(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf big = STRBUF_INIT, small = STRBUF_INIT;

	(void)state;
	/* larger than a pipe buffer: must not need a writer in the loop */
	for (int i = 0; i < 100000; i++)
		strbuf_addf(&big, "line %d\n", i);
	strbuf_addstr(&small, "{\"terminate\": {\"processes\": []}, \"detach\": {}}");
	sh_task(&t[0], "wc -l");
	t[0].in = &big;
	sh_task(&t[1], "cat; echo");
	t[1].in = &small;
	assert_int_equal(run_parallel(t, 2, &o), 0);
	assert_int_equal(atoi(t[0].out.buf), 100000);
	assert_string_equal(t[1].out.buf,
			    "{\"terminate\": {\"processes\": []}, \"detach\": {}}\n");
	run_task_release(&t[0]);
	run_task_release(&t[1]);
	strbuf_release(&big);
	strbuf_release(&small);
}

static void
missing_program(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;

	(void)state;
	run_task_init(&t[0]);
	strvec_push(&t[0].argv, "/nonexistent/genv-no-such-program");
	sh_task(&t[1], "echo fine");
	assert_int_equal(run_parallel(t, 2, &o), 1);
	assert_int_equal(t[0].state, RUN_FAILED);
	assert_non_null(strstr(t[0].error.buf, "cannot run '/nonexistent/genv-no-such-program'"));
	assert_non_null(strstr(t[0].error.buf, "No such file or directory"));
	assert_true(run_task_succeeded(&t[1]));
	run_task_release(&t[0]);
	run_task_release(&t[1]);
}

static void
large_outputs(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;

	(void)state;
	/* 4 MiB on each stream, interleaved: no deadlock, nothing lost */
	sh_task(&t[0], "i=0; while [ $i -lt 4 ]; do head -c 1048576 /dev/zero; "
		"head -c 1048576 /dev/zero >&2; i=$((i+1)); done");
	sh_task(&t[1], "head -c 3000000 /dev/zero | tr '\\0' x");
	assert_int_equal(run_parallel(t, 2, &o), 0);
	assert_int_equal(t[0].out.len, 4 << 20);
	assert_int_equal(t[0].err.len, 4 << 20);
	assert_int_equal(t[1].out.len, 3000000);
	assert_int_equal(t[1].out.buf[2999999], 'x');
	run_task_release(&t[0]);
	run_task_release(&t[1]);
}

static void
output_cap(void **state)
{
	struct run_task t;
	struct run_opts o = RUN_OPTS_INIT;

	(void)state;
	o.max_output = 1000;
	sh_task(&t, "head -c 100000 /dev/zero; echo ok >&2");
	assert_int_equal(run_parallel(&t, 1, &o), 0);   /* it exited 0, but ... */
	assert_true(run_task_exit_code(&t) == 0);
	assert_true(t.truncated);
	assert_int_equal(t.out.len, 1000);
	assert_string_equal(t.err.buf, "ok\n");
	run_task_release(&t);
}

static void
timeout_sigterm(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;
	int64_t start = ms_now(), took;

	(void)state;
	o.timeout_ms = 300;
	sh_task(&t[0], "echo started; exec sleep 30");
	sh_task(&t[1], "echo quick");
	run_parallel(t, 2, &o);
	took = ms_now() - start;
	assert_true(took >= 300);
	assert_true(took < 3000);
	assert_true(t[0].timed_out);
	assert_true(WIFSIGNALED(t[0].status));
	assert_int_equal(WTERMSIG(t[0].status), SIGTERM);
	assert_string_equal(t[0].out.buf, "started\n");
	assert_false(run_task_succeeded(&t[0]));
	assert_true(run_task_succeeded(&t[1]));
	run_task_release(&t[0]);
	run_task_release(&t[1]);
}

static void
timeout_sigkill(void **state)
{
	struct run_task t;
	struct run_opts o = RUN_OPTS_INIT;
	int64_t start = ms_now(), took;

	(void)state;
	o.timeout_ms = 200;
	o.kill_grace_ms = 200;
	/* ignores SIGTERM: SIGKILL follows after the grace period */
	sh_task(&t, "trap '' TERM; echo armed; while :; do sleep 0.05; done");
	run_parallel(&t, 1, &o);
	took = ms_now() - start;
	assert_true(took >= 400);
	assert_true(took < 3000);
	assert_true(t.timed_out);
	assert_true(WIFSIGNALED(t.status));
	assert_int_equal(WTERMSIG(t.status), SIGKILL);
	run_task_release(&t);
}

static void
grandchild_keeps_pipe(void **state)
{
	struct run_task t;
	struct run_opts o = RUN_OPTS_INIT;
	int64_t start = ms_now();

	(void)state;
	/* the child exits at once; a background grandchild holds stdout */
	sh_task(&t, "sleep 2 & echo parent-done");
	assert_int_equal(run_parallel(&t, 1, &o), 0);
	assert_true(ms_now() - start < 1500);
	assert_string_equal(t.out.buf, "parent-done\n");
	run_task_release(&t);
}

/* The first task's end makes poll() fail: fewer descriptors allowed than polled. */
static void
lower_fd_limit(struct run_task *t, void *cb)
{
	struct rlimit *saved = cb;
	struct rlimit low = *saved;

	(void)t;
	low.rlim_cur = 1;
	setrlimit(RLIMIT_NOFILE, &low);
}

static void
poll_failure_keeps_deadlines(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;
	struct rlimit saved;
	int64_t start = ms_now(), took;
	enum run_state left;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	sh_task(&t[0], "exit 0");
	sh_task(&t[1], "exec sleep 30");
	o.timeout_ms = 300;
	o.done = lower_fd_limit;
	o.cb_data = &saved;
	run_parallel(t, 2, &o);
	took = ms_now() - start;
	setrlimit(RLIMIT_NOFILE, &saved);
	left = t[1].state;
	if (left == RUN_RUNNING) {   /* the bug: returned with the child still there */
		kill(t[1].pid, SIGKILL);
		waitpid(t[1].pid, NULL, 0);
	}
	assert_int_equal(left, RUN_EXITED);
	assert_true(t[1].timed_out);
	assert_true(WIFSIGNALED(t[1].status));
	assert_int_equal(WTERMSIG(t[1].status), SIGTERM);
	assert_true(took >= 300);
	assert_true(took < 3000);
	assert_true(run_task_succeeded(&t[0]));
	run_task_release(&t[0]);
	run_task_release(&t[1]);
}

/* The highest open descriptor. */
static int
highest_fd(void)
{
	int high = 2;

	for (int fd = 3; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			high = fd;
	return high;
}

static void
few_descriptors(void **state)
{
	enum { N = 8 };
	struct run_task t[N];
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf want = STRBUF_INIT, script = STRBUF_INIT;
	struct rlimit saved, low;
	int extra[4200], nextra = 0, top = highest_fd() + 40;
	size_t failed;

	(void)state;
	/*
	 * Every descriptor up to top is taken (the caller holds many more than
	 * run.c sets aside for it), and the limit leaves room for starting one
	 * child, not two.
	 */
	do
		extra[nextra] = dup(2);
	while (extra[nextra++] < top);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)top + 1 + 10;
	for (int i = 0; i < N; i++) {
		strbuf_reset(&script);
		strbuf_addf(&script, "echo task-%d", i);
		sh_task(&t[i], script.buf);
		t[i].hold_stdin = i % 2;
	}
	o.max_parallel = N;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	failed = run_parallel(t, N, &o);
	setrlimit(RLIMIT_NOFILE, &saved);
	while (nextra > 0)
		close(extra[--nextra]);
	for (int i = 0; i < N; i++) {
		if (t[i].state == RUN_FAILED)
			fail_msg("task %d: %s", i, t[i].error.buf);
		strbuf_reset(&want);
		strbuf_addf(&want, "task-%d\n", i);
		assert_string_equal(t[i].out.buf, want.buf);
		run_task_release(&t[i]);
	}
	assert_int_equal(failed, 0);
	strbuf_release(&want);
	strbuf_release(&script);
}

static void
held_stdin(void **state)
{
	struct run_task t[2];
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf big = STRBUF_INIT, path = STRBUF_INIT, script = STRBUF_INIT;
	char dir[] = "/tmp/genv-test-run.XXXXXX";
	int64_t start;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/eof", dir);
	/* more than a pipe holds: written from the loop as the child reads */
	for (int i = 0; i < 100000; i++)
		strbuf_addf(&big, "line %d\n", i);
	strbuf_addf(&script, "head -c %zu | wc -c", big.len);
	sh_task(&t[0], script.buf);
	t[0].in = &big;
	t[0].hold_stdin = 1;
	/*
	 * A grandchild that outlives the child sees EOF once we are done, not
	 * before (fd 3: a background job's stdin would be /dev/null).
	 */
	strbuf_reset(&script);
	strbuf_addf(&script, "exec 3<&0; (cat <&3 >/dev/null; echo eof >'%s') & sleep 0.3; "
		    "if [ -e '%s' ]; then echo early; else echo started; fi",
		    path.buf, path.buf);
	sh_task(&t[1], script.buf);
	t[1].hold_stdin = 1;
	assert_int_equal(run_parallel(t, 2, &o), 0);
	assert_int_equal(atol(t[0].out.buf), (long)big.len);
	assert_string_equal(t[1].out.buf, "started\n");
	start = ms_now();
	while (access(path.buf, F_OK) < 0 && ms_now() - start < 3000)
		usleep(10000);
	assert_int_equal(access(path.buf, F_OK), 0);
	unlink(path.buf);
	rmdir(dir);
	run_task_release(&t[0]);
	run_task_release(&t[1]);
	strbuf_release(&big);
	strbuf_release(&path);
	strbuf_release(&script);
}

static void
reaped_at_exit(void **state)
{
	enum { N = 20 };
	struct run_task t[N];
	struct run_opts o = RUN_OPTS_INIT;
	int64_t start = ms_now(), took;

	(void)state;
	/*
	 * Each child closes its pipes, then exits 20 ms later: nothing to read
	 * tells us, the exit itself must (one at a time: 20 x 20 ms, not
	 * 20 x a 100 ms reaping round).
	 */
	for (int i = 0; i < N; i++)
		sh_task(&t[i], "exec >&- 2>&-; sleep 0.02");
	o.max_parallel = 1;
	assert_int_equal(run_parallel(t, N, &o), 0);
	took = ms_now() - start;
	for (int i = 0; i < N; i++)
		run_task_release(&t[i]);
	if (took >= 1500)
		fail_msg("took %lld ms", (long long)took);
}

struct order {
	int seen[8];
	int nr;
};

static void
record_done(struct run_task *t, void *cb)
{
	struct order *o = cb;

	o->seen[o->nr++] = (int)(intptr_t)t->data;
}

static void
parallel_bound(void **state)
{
	struct run_task t[4];
	struct run_opts o = RUN_OPTS_INIT;
	struct order ord = { { 0 }, 0 };
	int64_t start = ms_now(), took;

	(void)state;
	/* with one slot, a slow first task delays the fast ones: serial order */
	sh_task(&t[0], "sleep 0.3; echo 0");
	sh_task(&t[1], "echo 1");
	sh_task(&t[2], "sleep 0.1; echo 2");
	sh_task(&t[3], "echo 3");
	for (int i = 0; i < 4; i++)
		t[i].data = (void *)(intptr_t)i;
	o.max_parallel = 1;
	o.done = record_done;
	o.cb_data = &ord;
	assert_int_equal(run_parallel(t, 4, &o), 0);
	took = ms_now() - start;
	assert_true(took >= 400);
	assert_int_equal(ord.nr, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ord.seen[i], i);

	/* with four slots they overlap: the fast ones finish first */
	for (int i = 0; i < 4; i++) {
		strbuf_reset(&t[i].out);
		t[i].state = RUN_PENDING;
	}
	ord.nr = 0;
	o.max_parallel = 4;
	start = ms_now();
	assert_int_equal(run_parallel(t, 4, &o), 0);
	took = ms_now() - start;
	assert_true(took < 400);
	assert_int_equal(ord.seen[3], 0);
	for (int i = 0; i < 4; i++)
		run_task_release(&t[i]);
}

static void
many_tasks(void **state)
{
	enum { N = 64 };
	struct run_task *t = calloc(N, sizeof(*t));
	struct run_opts o = RUN_OPTS_INIT;
	struct strbuf want = STRBUF_INIT, script = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < N; i++) {
		strbuf_reset(&script);
		strbuf_addf(&script, "echo task-%d; exit %d", i, i % 2);
		sh_task(&t[i], script.buf);
	}
	o.max_parallel = 8;
	assert_int_equal(run_parallel(t, N, &o), N / 2);
	for (int i = 0; i < N; i++) {
		strbuf_reset(&want);
		strbuf_addf(&want, "task-%d\n", i);
		assert_string_equal(t[i].out.buf, want.buf);
		assert_int_equal(run_task_exit_code(&t[i]), i % 2);
		run_task_release(&t[i]);
	}
	free(t);
	strbuf_release(&want);
	strbuf_release(&script);
}

static void
interactive(void **state)
{
	struct strbuf err = STRBUF_INIT;
	int status = -1;

	(void)state;
	assert_int_equal(run_interactive((const char *const[]){ "/bin/sh", "-c", "exit 75", NULL },
					 &status, &err), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_int_equal(run_interactive((const char *const[]){ "/nonexistent/x", NULL },
					 &status, &err), -1);
	assert_non_null(strstr(err.buf, "cannot run '/nonexistent/x'"));
	strbuf_release(&err);
}

static void
collect(const char *buf, size_t len, void *data)
{
	strbuf_add(data, buf, len);
}

/*
 * run_stream's child (posix_spawnp): its stdout through the callback,
 * SIGPIPE default even though we ignore it, a script without "#!" run by
 * /bin/sh as execvp() does, the errno of a program that cannot start.
 */
static void
stream(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, script = STRBUF_INIT;
	char tmpl[] = "/tmp/genv-test-run.XXXXXX";
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int status = -1, fd;

	(void)state;
	assert_int_equal(run_stream((const char *const[]){ "/bin/sh", "-c",
		"grep -q '^SigIgn:.*[13579bdf]000$' /proc/self/status || echo dfl",
		NULL }, collect, &out, &status, &err), 0);
	assert_true(WIFEXITED(status));
	assert_string_equal(out.buf, "dfl\n");
	strbuf_reset(&out);

	assert_non_null(mkdtemp(tmpl));
	strbuf_addf(&script, "%s/no-shebang", tmpl);
	fd = open(script.buf, O_WRONLY | O_CREAT, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "echo via-sh \"$@\"\nexit 4\n", 25), 25);
	close(fd);
	assert_int_equal(run_stream((const char *const[]){ script.buf, "a", NULL }, collect, &out,
				    &status, &err), 0);
	assert_string_equal(out.buf, "via-sh a\n");
	assert_int_equal(WEXITSTATUS(status), 4);
	unlink(script.buf);
	rmdir(tmpl);

	assert_int_equal(run_stream((const char *const[]){ "/nonexistent/x", NULL }, collect, &out,
				    &status, &err), -1);
	assert_string_equal(err.buf, "cannot run '/nonexistent/x': No such file or directory");
	signal(SIGPIPE, old_pipe);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&script);
}

static void
foreground_statuses(void **state)
{
	struct strbuf err = STRBUF_INIT;
	char tmpl[] = "/tmp/genv-test-run.XXXXXX";
	struct strbuf noexec = STRBUF_INIT;

	(void)state;
	assert_int_equal(run_foreground((const char *const[]){ "true", NULL }, &err), 0);
	assert_int_equal(run_foreground((const char *const[]){ "/bin/sh", "-c", "exit 3", NULL },
					&err), 3);
	assert_int_equal(run_foreground((const char *const[]){ "/bin/sh", "-c", "kill -TERM $$",
							       NULL }, &err), 128 + SIGTERM);
	assert_int_equal(err.len, 0);

	/* as a shell reports them: not found 127, not executable 126 */
	assert_int_equal(run_foreground((const char *const[]){ "/nonexistent/x", NULL }, &err),
			 127);
	assert_string_equal(err.buf, "/nonexistent/x: No such file or directory");
	strbuf_reset(&err);
	assert_non_null(mkdtemp(tmpl));
	strbuf_addf(&noexec, "%s/noexec", tmpl);
	assert_int_equal(close(open(noexec.buf, O_WRONLY | O_CREAT, 0644)), 0);
	assert_int_equal(run_foreground((const char *const[]){ noexec.buf, NULL }, &err), 126);
	assert_non_null(strstr(err.buf, "Permission denied"));
	unlink(noexec.buf);
	rmdir(tmpl);
	strbuf_release(&noexec);
	strbuf_release(&err);
}

/*
 * A SIGTERM sent to the runner (by kill, not by a terminal) reaches the
 * child, whose status the runner then returns.
 */
static void
foreground_forwards_signals(void **state)
{
	char tmpl[] = "/tmp/genv-test-run.XXXXXX";
	struct strbuf marker = STRBUF_INIT, script = STRBUF_INIT;
	int64_t deadline;
	pid_t runner;
	int status;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	strbuf_addf(&marker, "%s/started", tmpl);
	strbuf_addf(&script, "trap 'exit 7' TERM; : >'%s'; while :; do sleep 0.05; done",
		    marker.buf);
	runner = fork();
	assert_true(runner >= 0);
	if (!runner) {
		struct strbuf err = STRBUF_INIT;

		_exit(run_foreground((const char *const[]){ "/bin/sh", "-c", script.buf, NULL },
				     &err));
	}
	deadline = ms_now() + 10000;
	while (access(marker.buf, F_OK) && ms_now() < deadline)
		usleep(10000);
	assert_int_equal(access(marker.buf, F_OK), 0);
	assert_int_equal(kill(runner, SIGTERM), 0);
	assert_int_equal(waitpid(runner, &status, 0), runner);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	unlink(marker.buf);
	rmdir(tmpl);
	strbuf_release(&marker);
	strbuf_release(&script);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_codes_and_streams),
		cmocka_unit_test(ticks_while_running),
		cmocka_unit_test(stdin_is_dev_null),
		cmocka_unit_test(stdin_payload),
		cmocka_unit_test(missing_program),
		cmocka_unit_test(large_outputs),
		cmocka_unit_test(output_cap),
		cmocka_unit_test(timeout_sigterm),
		cmocka_unit_test(timeout_sigkill),
		cmocka_unit_test(grandchild_keeps_pipe),
		cmocka_unit_test(poll_failure_keeps_deadlines),
		cmocka_unit_test(few_descriptors),
		cmocka_unit_test(held_stdin),
		cmocka_unit_test(reaped_at_exit),
		cmocka_unit_test(parallel_bound),
		cmocka_unit_test(many_tasks),
		cmocka_unit_test(interactive),
		cmocka_unit_test(stream),
		cmocka_unit_test(foreground_statuses),
		cmocka_unit_test(foreground_forwards_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
