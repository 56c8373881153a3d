/* SPDX-License-Identifier: MIT */
/*
 * run.h: running child processes without a shell. Two shapes:
 *
 *  - run_parallel(): many captured children (genv remote's ssh fan-out) with
 *    at most N at once (fewer if the open-file limit says so), stdin from
 *    /dev/null or a given input, stdout and stderr of each child captured
 *    into its own strbufs (never interleaved), and a deadline per task
 *    after which the child gets SIGTERM and, if it still lingers, SIGKILL.
 *    One poll() loop, no threads, no SIGCHLD handler.
 *  - run_interactive(): one child that inherits the terminal (ssh -t into
 *    a login shell); the caller waits for it and gets its status.
 *
 * argv[0] is looked up on PATH (execvp). Every descriptor genv opens for a
 * child is O_CLOEXEC, so children never inherit each other's pipes.
 */
#ifndef GENV_UTIL_RUN_H
#define GENV_UTIL_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include "util/strbuf.h"
#include "util/strvec.h"

enum run_state {
	RUN_PENDING = 0,   /* not started yet */
	RUN_RUNNING,
	RUN_EXITED,        /* exited or was killed: see status / timed_out */
	RUN_FAILED,        /* could not be started: see error */
};

struct run_task {
	/* Filled by the caller: */
	struct strvec argv;       /* argv[0] is the program (PATH lookup) */
	const struct strbuf *in;  /* borrowed: the child's stdin; NULL = /dev/null */
	/*
	 * stdin is a pipe (fed with in, if any) whose write end we close only
	 * once the child has exited: a child that forwards its stdin (ssh)
	 * lets the far side see EOF when we are done with it, or gone.
	 */
	unsigned hold_stdin : 1;
	void *data;               /* anything; run.c never touches it */

	/* Results, valid once state is RUN_EXITED or RUN_FAILED: */
	enum run_state state;
	int status;               /* waitpid() status (RUN_EXITED) */
	unsigned timed_out : 1;   /* the deadline passed and we signalled it */
	unsigned truncated : 1;   /* output beyond max_output was discarded */
	struct strbuf out;        /* captured stdout */
	struct strbuf err;        /* captured stderr */
	struct strbuf error;      /* RUN_FAILED: why it could not start */
	int64_t started_ms;       /* when it started (monotonic), once RUN_RUNNING */

	/* Private to run.c: */
	pid_t pid;
	int out_fd, err_fd, in_fd;
	int pid_fd;               /* readable once the child exits; -1: none */
	size_t in_off;            /* bytes of in written to in_fd */
	int64_t deadline_ms, kill_ms;
	int64_t quiet_ms;         /* when its pipes were first seen closed; 0: not yet */
	unsigned term_sent : 1;
};
#define RUN_TASK_INIT { .argv = STRVEC_INIT, .out = STRBUF_INIT, .err = STRBUF_INIT, \
			.error = STRBUF_INIT, .pid = -1, .out_fd = -1, .err_fd = -1, \
			.in_fd = -1, .pid_fd = -1 }

void run_task_init(struct run_task *t);
/* Frees argv and the buffers. The task must not be running. */
void run_task_release(struct run_task *t);

/* Called as each task finishes (in completion order, not task order). */
typedef void (*run_done_fn)(struct run_task *t, void *cb_data);
/* Called every tick_ms while tasks run, with all of them (a progress report). */
typedef void (*run_tick_fn)(const struct run_task *tasks, size_t n, void *cb_data);

struct run_opts {
	size_t max_parallel;      /* at most this many children at once; 0 = 1 */
				  /* (and no more than RLIMIT_NOFILE leaves room for) */
	long timeout_ms;          /* per task, from its start; <= 0 = none */
	long kill_grace_ms;       /* SIGTERM -> SIGKILL delay; <= 0 = 2000 */
	size_t max_output;        /* per stream, bytes; 0 = 64 MiB */
	run_done_fn done;         /* may be NULL */
	void *cb_data;
	run_tick_fn tick;         /* run_parallel(): may be NULL */
	long tick_ms;             /* its period; <= 0 = 100 */
};
#define RUN_OPTS_INIT { 32, 0, 0, 0, NULL, NULL, NULL, 0 }

/*
 * Runs every task in tasks[0..n) and returns when all have finished.
 * Tasks start in array order. When descriptors run out (EMFILE) while
 * others run, the next task waits for one of them to end. A task that
 * cannot be started otherwise (fork or pipe failure, program not found)
 * ends as RUN_FAILED with a message in t->error; it does not stop the
 * others. SIGPIPE is ignored while the
 * loop runs. Returns the number of tasks that did not exit with status 0
 * (failed to start, killed, timed out, or non-zero exit).
 */
size_t run_parallel(struct run_task *tasks, size_t n, const struct run_opts *opts);

/*
 * One long-lived child in the caller's own poll() loop (the ssh sessions
 * of `genv remote top`, which stream output for as long as they live):
 *
 *  - run_task_start() starts t as run_parallel() would (stdin, pipes,
 *    the deadline opts->timeout_ms from now) and returns at once, with t
 *    RUN_RUNNING or RUN_FAILED;
 *  - run_task_poll() appends the descriptors t waits on to pfd (room for
 *    RUN_TASK_FDS entries; returns how many) and lowers *wake (monotonic
 *    ms) to when t needs service regardless of them;
 *  - run_task_service() appends what the pipes hold to t->out and t->err
 *    (the caller may consume and remove what it has read), feeds its
 *    stdin, signals t when its deadline passed (SIGTERM, then SIGKILL
 *    after the grace), and reaps it: it returns 1 once t has ended
 *    (RUN_EXITED), else 0.
 *
 * run_task_expire() moves the deadline to now, to end t early.
 */
struct pollfd;
#define RUN_TASK_FDS 4   /* stdout, stderr, stdin, pidfd */
void run_task_start(struct run_task *t, const struct run_opts *opts);
size_t run_task_poll(struct run_task *t, struct pollfd *pfd, int64_t *wake);
int run_task_service(struct run_task *t, const struct run_opts *opts);
void run_task_expire(struct run_task *t);

/* Whether t ran and exited with status 0 (and was not timed out). */
int run_task_succeeded(const struct run_task *t);
/* The exit code of t, or -1 if it was killed by a signal or never ran. */
int run_task_exit_code(const struct run_task *t);

/*
 * Runs argv with the caller's stdin, stdout and stderr (a terminal
 * session; stdio is flushed first), waiting for it with SIGINT and
 * SIGQUIT ignored in genv (the terminal delivers them to the child, as
 * system(3) does). Sets *status
 * to the waitpid() status. Returns 0, or -1 with a message in err when
 * the program could not be started.
 */
int run_interactive(const char *const *argv, int *status, struct strbuf *err);

/*
 * Runs argv in the foreground with the caller's stdin, stdout and stderr
 * (`genv exec`, `genv lock`) and waits for it. SIGINT, SIGTERM and SIGHUP
 * sent to genv are passed on to the child, except those a terminal sends
 * to its whole foreground group (the child has them already); a signal
 * genv ignores (nohup) stays ignored in both. Returns the status a shell
 * would report: the child's exit code, 128+N when signal N killed it, 127
 * when the program was not found and 126 when it could not be executed
 * (both with "<program>: <reason>" in err), or -1 with a message in err
 * when no child could be started.
 */
int run_foreground(const char *const *argv, struct strbuf *err);

/*
 * Like run_interactive(), but the child's stdout is a pipe: each chunk
 * read from it is handed to fn as it arrives (a filter that shows the
 * output as the child writes it).
 */
typedef void (*run_chunk_fn)(const char *buf, size_t len, void *data);
int run_stream(const char *const *argv, run_chunk_fn fn, void *data, int *status,
	       struct strbuf *err);

/*
 * run_foreground() in two steps, for a caller that has work to do while
 * the child runs (`genv llm serve`): run_fg_start() starts argv with the
 * signals forwarded as above; run_fg_wait() reaps it and returns the
 * status run_foreground() would. run_fg_start() fails (-1) when no child
 * runs, with the message in err and in *exit_code the status to exit
 * with (127 not found, 126 not executable, 1 otherwise).
 */
struct run_fg {
	pid_t pid;
	struct sigaction old[3];   /* SIGINT, SIGTERM, SIGHUP as they were */
};
int run_fg_start(struct run_fg *fg, const char *const *argv, int *exit_code,
		 struct strbuf *err);
int run_fg_wait(struct run_fg *fg);

/*
 * Every child genv starts (and the shims' own exec) goes through
 * here: drops genv's group privilege for good (priv_drop(), checked), then
 * execvp()s argv. Returns -1 with errno only if one of them failed.
 */
int run_execvp(const char *const *argv);

#endif
