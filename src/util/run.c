/* SPDX-License-Identifier: MIT */
/*
 * run.c: child processes (run.h). Children are started with fork + execvp,
 * stdout/stderr on non-blocking pipes (stdin too, when we hold it); one
 * poll() loop reads and writes every pipe, enforces deadlines and reaps
 * children with waitpid(WNOHANG), so a grandchild that keeps a pipe open
 * (an ssh ControlPersist master, say) never makes us wait for it.
 */
#include "compat.h"
#include "util/run.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/priv.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_READ_CHUNK 65536
#define RUN_DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
#define RUN_DEFAULT_GRACE_MS 2000
/*
 * How often we look for children that exit without a pidfd to say so
 * (kernels before 5.3, valgrind) while a grandchild holds their pipes.
 * A child whose pipes are closed is about to exit: we look again after as
 * long as it has been quiet, 1 ms at first.
 */
#define RUN_REAP_POLL_MS 100
/*
 * Descriptors: a running child costs us up to four (its stdout, stderr
 * and held stdin pipes, its pidfd); starting one takes up to eight for a
 * moment, and stdio and whatever the caller has open need some too.
 */
#define RUN_RESERVED_FDS 16

void
run_task_init(struct run_task *t)
{
	struct run_task blank = RUN_TASK_INIT;

	*t = blank;
}

void
run_task_release(struct run_task *t)
{
	strvec_clear(&t->argv);
	strbuf_release(&t->out);
	strbuf_release(&t->err);
	strbuf_release(&t->error);
}

/*
 * Waits without poll(), for when poll() itself fails: the loop goes on
 * reading (non-blocking), reaping and enforcing deadlines at this pace.
 */
static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);   /* EINTR: the loop looks again */
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
run_execvp(const char *const *argv)
{
	/* whatever the caller named runs as the caller, never with our group */
	if (priv_drop() < 0)
		return -1;
	execvp(argv[0], (char *const *)argv);
	return -1;
}

/*
 * In the child, after fork: wire up the descriptors, give back the signal
 * dispositions genv changed (ignored signals stay ignored across exec),
 * exec, and on failure report errno through exec_fd.
 */
NORETURN static void
child_exec(const char *const *argv, int in_fd, int out_fd, int err_fd, int exec_fd)
{
	sigset_t none;
	int e;

	if ((in_fd >= 0 && dup2(in_fd, 0) < 0) ||
	    (out_fd >= 0 && dup2(out_fd, 1) < 0) ||
	    (err_fd >= 0 && dup2(err_fd, 2) < 0))
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	run_execvp(argv);
fail:
	e = errno;
	if (write(exec_fd, &e, sizeof(e)) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(127);
}

/*
 * Waits for the child to exec (the exec pipe closes) or to report why it
 * could not. Returns 0, or -1 with err filled and the child reaped.
 */
/* The errno a child reported through its exec pipe, or 0 once it has exec'ed. */
static int
exec_errno(int exec_fd)
{
	int e = 0;
	ssize_t got;

	do {
		got = read(exec_fd, &e, sizeof(e));
	} while (got < 0 && errno == EINTR);
	return got == (ssize_t)sizeof(e) ? e : 0;
}

static int
wait_exec(pid_t pid, int exec_fd, const char *prog, struct strbuf *err)
{
	int e = exec_errno(exec_fd);

	if (!e)
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	strbuf_addf(err, "cannot run '%s'", prog);
	strbuf_add_errno(err, e);
	return -1;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
task_fail(struct run_task *t, const char *what, int errnum)
{
	strbuf_addf(&t->error, "cannot run '%s': %s", t->argv.nr ? t->argv.v[0] : "",
		    what);
	if (errnum)
		strbuf_add_errno(&t->error, errnum);
	t->state = RUN_FAILED;
}

/*
 * Opens the child's stdin: /dev/null, a memory file holding t->in (the
 * whole input is ready, so no writer in the loop), or with hold_stdin a
 * pipe whose write end t->in_fd we keep. Returns the child's end, or -1
 * with *what saying what failed (errno set).
 */
static int
open_stdin(struct run_task *t, const char **what)
{
	int fd, p[2];

	if (t->hold_stdin) {
		*what = "cannot create a pipe";
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		t->in_fd = p[1];
		t->in_off = 0;
		set_nonblock(t->in_fd);
		return p[0];
	}
	if (!t->in) {
		*what = "cannot open /dev/null";
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	*what = "cannot prepare its input";
	fd = memfd_create("genv-stdin", MFD_CLOEXEC);
	if (fd >= 0 && (write_all(fd, t->in->buf, t->in->len) < 0 ||
			lseek(fd, 0, SEEK_SET) < 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Starts t. Returns 0 when it runs or ended as RUN_FAILED; 1, leaving it
 * pending, when descriptors ran out and can_wait says others will free
 * some.
 */
static int
task_start(struct run_task *t, const struct run_opts *opts, int64_t now, int can_wait)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int in, e, rc = 0;
	const char *what = "cannot create a pipe";
	pid_t pid;

	if (!t->argv.nr) {
		task_fail(t, "empty command", 0);
		return 0;
	}
	in = open_stdin(t, &what);
	if (in < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(ex, O_CLOEXEC) < 0) {
		e = errno;
		if (can_wait && (e == EMFILE || e == ENFILE))
			rc = 1;   /* the next task that ends makes room */
		else
			task_fail(t, in < 0 ? what : "cannot create a pipe", e);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		task_fail(t, "cannot fork", errno);
		goto out;
	}
	if (pid == 0)
		child_exec((const char *const *)t->argv.v, in, out[1], err[1], ex[1]);
	close_fd(&ex[1]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	if (wait_exec(pid, ex[0], t->argv.v[0], &t->error) < 0) {
		t->state = RUN_FAILED;
		goto out;
	}
	t->pid = pid;
	t->pid_fd = (int)syscall(SYS_pidfd_open, pid, 0);   /* -1: reap by polling */
	t->out_fd = out[0];
	t->err_fd = err[0];
	out[0] = err[0] = -1;
	set_nonblock(t->out_fd);
	set_nonblock(t->err_fd);
	t->state = RUN_RUNNING;
	t->started_ms = now;
	t->quiet_ms = 0;
	t->deadline_ms = opts->timeout_ms > 0 ? now + opts->timeout_ms : INT64_MAX;
	t->kill_ms = INT64_MAX;
out:
	if (t->state != RUN_RUNNING)
		close_fd(&t->in_fd);
	close_fd(&in);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	return rc;
}

/* Reads what fd has now into sb (at most max bytes kept); closes it on EOF. */
static void
drain(int *fd, struct strbuf *sb, size_t max, struct run_task *t)
{
	while (*fd >= 0) {
		ssize_t got;

		strbuf_grow(sb, RUN_READ_CHUNK);
		got = read(*fd, sb->buf + sb->len, RUN_READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (got <= 0) {
			close_fd(fd);
			return;
		}
		if (sb->len + (size_t)got > max) {
			/* keep the first max bytes, read and drop the rest */
			if (sb->len < max)
				strbuf_setlen(sb, max);
			t->truncated = 1;
		} else {
			strbuf_setlen(sb, sb->len + (size_t)got);
		}
	}
}

/*
 * Writes what the pipe takes of t->in; the write end stays open after
 * (hold_stdin). A child that closed its stdin gets no more.
 */
static void
feed(struct run_task *t)
{
	size_t len = t->in ? t->in->len : 0;

	while (t->in_fd >= 0 && t->in_off < len) {
		ssize_t put = write(t->in_fd, t->in->buf + t->in_off, len - t->in_off);

		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (put <= 0) {
			close_fd(&t->in_fd);
			return;
		}
		t->in_off += (size_t)put;
	}
}

static int
task_reap(struct run_task *t, size_t max)
{
	int status;
	pid_t got = waitpid(t->pid, &status, WNOHANG);

	if (got == 0 || (got < 0 && errno == EINTR))
		return 0;
	if (got < 0)
		status = 0x7f00;   /* not our child any more: report exit 127 */
	/* everything the child wrote is in the pipes now */
	drain(&t->out_fd, &t->out, max, t);
	drain(&t->err_fd, &t->err, max, t);
	close_fd(&t->out_fd);
	close_fd(&t->err_fd);
	close_fd(&t->in_fd);   /* with hold_stdin, the far side's EOF */
	close_fd(&t->pid_fd);
	t->status = status;
	t->state = RUN_EXITED;
	t->pid = -1;
	return 1;
}

static void
task_check_deadline(struct run_task *t, const struct run_opts *opts, int64_t now)
{
	if (!t->term_sent && now >= t->deadline_ms) {
		kill(t->pid, SIGTERM);
		t->term_sent = 1;
		t->timed_out = 1;
		t->kill_ms = now + (opts->kill_grace_ms > 0 ? opts->kill_grace_ms
							    : RUN_DEFAULT_GRACE_MS);
	} else if (t->term_sent && now >= t->kill_ms) {
		kill(t->pid, SIGKILL);
		t->kill_ms = INT64_MAX;
	}
}

/* How many children the open-file limit leaves room for (at least one). */
static size_t
fd_room(size_t want)
{
	struct rlimit rl;
	size_t room = 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	if (rl.rlim_cur > RUN_RESERVED_FDS + RUN_TASK_FDS)
		room = (size_t)(rl.rlim_cur - RUN_RESERVED_FDS) / RUN_TASK_FDS;
	return room < want ? room : want;
}

struct run_loop {
	struct run_task *tasks;
	size_t n, next, running, finished;
	size_t slots;              /* children at once: max_parallel, fewer if fds are short */
	size_t max_out;
	const struct run_opts *opts;
	struct pollfd *pfd;
	int64_t next_tick;         /* opts->tick: when it is due */
};

static void
loop_finished(struct run_loop *l, struct run_task *t)
{
	l->finished++;
	if (l->opts->done)
		l->opts->done(t, l->opts->cb_data);
}

static void
loop_start_more(struct run_loop *l, int64_t now)
{
	while (l->running < l->slots && l->next < l->n) {
		struct run_task *t = &l->tasks[l->next];

		if (task_start(t, l->opts, now, l->running > 0)) {
			l->slots = l->running;   /* out of descriptors: this many at most */
			return;
		}
		l->next++;
		feed(t);
		if (t->state == RUN_RUNNING)
			l->running++;
		else
			loop_finished(l, t);
	}
}

/* Without a pidfd: how long until we look whether t has exited. */
static int64_t
reap_interval(struct run_task *t, int64_t now)
{
	int64_t quiet;

	if (t->out_fd >= 0 || t->err_fd >= 0)
		return RUN_REAP_POLL_MS;
	if (!t->quiet_ms)
		t->quiet_ms = now;
	quiet = now - t->quiet_ms;
	return quiet < 1 ? 1 : quiet > RUN_REAP_POLL_MS ? RUN_REAP_POLL_MS : quiet;
}

/*
 * Appends the descriptors running task t waits on to pfd (at most
 * RUN_TASK_FDS) and lowers *wake to when it needs service without them.
 */
static size_t
task_poll(struct run_task *t, struct pollfd *pfd, int64_t now, int64_t *wake)
{
	size_t np = 0;

	if (t->out_fd >= 0)
		pfd[np++] = (struct pollfd){ .fd = t->out_fd, .events = POLLIN };
	if (t->err_fd >= 0)
		pfd[np++] = (struct pollfd){ .fd = t->err_fd, .events = POLLIN };
	if (t->in_fd >= 0 && t->in && t->in_off < t->in->len)
		pfd[np++] = (struct pollfd){ .fd = t->in_fd, .events = POLLOUT };
	if (t->pid_fd >= 0)
		pfd[np++] = (struct pollfd){ .fd = t->pid_fd, .events = POLLIN };
	else if (now + reap_interval(t, now) < *wake)
		*wake = now + reap_interval(t, now);
	if (t->deadline_ms < *wake && !t->term_sent)
		*wake = t->deadline_ms;
	if (t->kill_ms < *wake)
		*wake = t->kill_ms;
	return np;
}

/* Sleeps until a pipe is ready, a child exits, the next deadline or reap round. */
static void
loop_wait(struct run_loop *l, int64_t now)
{
	int64_t wake = INT64_MAX;
	size_t np = 0;
	int timeout;

	for (size_t i = 0; i < l->next; i++)
		if (l->tasks[i].state == RUN_RUNNING)
			np += task_poll(&l->tasks[i], l->pfd + np, now, &wake);
	if (l->opts->tick && l->next_tick < wake)
		wake = l->next_tick;
	timeout = wake == INT64_MAX ? -1 : wake > now ? (int)(wake - now) : 0;
	/* e.g. EINVAL: more fds than RLIMIT_NOFILE now allows; reap by polling */
	if (poll(l->pfd, np, timeout) < 0 && errno != EINTR)
		sleep_ms(timeout < 0 || timeout > RUN_REAP_POLL_MS ? RUN_REAP_POLL_MS : timeout);
}

/* Reads, writes, reaps and signals what running task t needs; 1 once it has ended. */
static int
task_service(struct run_task *t, const struct run_opts *opts, size_t max_out, int64_t now)
{
	drain(&t->out_fd, &t->out, max_out, t);
	drain(&t->err_fd, &t->err, max_out, t);
	feed(t);
	if (task_reap(t, max_out))
		return 1;
	task_check_deadline(t, opts, now);
	return 0;
}

/* Whatever the children need now; then the tick, when due. */
static void
loop_service(struct run_loop *l, int64_t now)
{
	long period = l->opts->tick_ms > 0 ? l->opts->tick_ms : 100;

	for (size_t i = 0; i < l->next; i++) {
		struct run_task *t = &l->tasks[i];

		if (t->state == RUN_RUNNING && task_service(t, l->opts, l->max_out, now)) {
			l->running--;
			loop_finished(l, t);
		}
	}
	if (l->opts->tick && now >= l->next_tick && l->finished < l->n) {
		l->opts->tick(l->tasks, l->n, l->opts->cb_data);
		l->next_tick = now + period;
	}
}

size_t
run_parallel(struct run_task *tasks, size_t n, const struct run_opts *opts)
{
	struct run_loop l = { tasks, n, 0, 0, 0, 0, 0, opts, NULL, 0 };
	struct sigaction ign, old_pipe;
	size_t failed = 0;

	l.slots = fd_room(opts->max_parallel ? opts->max_parallel : 1);
	l.max_out = opts->max_output ? opts->max_output : RUN_DEFAULT_MAX_OUTPUT;
	l.pfd = xcalloc(RUN_TASK_FDS * l.slots + 1, sizeof(*l.pfd));
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	l.next_tick = clock_monotonic_ms() + (opts->tick_ms > 0 ? opts->tick_ms : 100);

	while (l.finished < n) {
		loop_start_more(&l, clock_monotonic_ms());
		if (l.finished == n)
			break;
		loop_wait(&l, clock_monotonic_ms());
		loop_service(&l, clock_monotonic_ms());
	}

	sigaction(SIGPIPE, &old_pipe, NULL);
	free(l.pfd);
	for (size_t i = 0; i < n; i++)
		if (!run_task_succeeded(&tasks[i]))
			failed++;
	return failed;
}

void
run_task_start(struct run_task *t, const struct run_opts *opts)
{
	task_start(t, opts, clock_monotonic_ms(), 0);
	feed(t);
}

size_t
run_task_poll(struct run_task *t, struct pollfd *pfd, int64_t *wake)
{
	return t->state == RUN_RUNNING ? task_poll(t, pfd, clock_monotonic_ms(), wake) : 0;
}

int
run_task_service(struct run_task *t, const struct run_opts *opts)
{
	size_t max_out = opts->max_output ? opts->max_output : RUN_DEFAULT_MAX_OUTPUT;

	if (t->state != RUN_RUNNING)
		return 0;
	return task_service(t, opts, max_out, clock_monotonic_ms());
}

void
run_task_expire(struct run_task *t)
{
	if (t->state == RUN_RUNNING && !t->term_sent)
		t->deadline_ms = clock_monotonic_ms();
}

int
run_task_succeeded(const struct run_task *t)
{
	return t->state == RUN_EXITED && !t->timed_out && WIFEXITED(t->status) &&
	       WEXITSTATUS(t->status) == 0;
}

int
run_task_exit_code(const struct run_task *t)
{
	if (t->state != RUN_EXITED || !WIFEXITED(t->status))
		return -1;
	return WEXITSTATUS(t->status);
}

/*
 * One child with the caller's stdin and stderr, and stdout either the
 * caller's too (fn NULL) or a pipe whose chunks go to fn; SIGINT and
 * SIGQUIT are ignored in genv meanwhile (the terminal delivers them to the
 * child, as system(3) does).
 */
static int
run_waited(const char *const *argv, run_chunk_fn fn, void *data, int *status,
	   struct strbuf *err)
{
	struct sigaction ign, old_int, old_quit;
	int ex[2], out[2] = { -1, -1 };
	pid_t pid;
	int rc = -1;

	if (!argv[0]) {
		strbuf_addstr(err, "cannot run an empty command");
		return -1;
	}
	if (pipe2(ex, O_CLOEXEC) < 0 || (fn && pipe2(out, O_CLOEXEC) < 0)) {
		strbuf_addf(err, "cannot run '%s': cannot create a pipe", argv[0]);
		strbuf_add_errno(err, errno);
		return -1;
	}
	/* what genv printed so far comes before the child's output */
	fflush(stdout);
	fflush(stderr);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);

	pid = fork();
	if (pid < 0) {
		strbuf_addf(err, "cannot run '%s': cannot fork", argv[0]);
		strbuf_add_errno(err, errno);
		goto out;
	}
	if (pid == 0)
		child_exec(argv, -1, out[1], -1, ex[1]);
	close_fd(&ex[1]);
	close_fd(&out[1]);
	if (wait_exec(pid, ex[0], argv[0], err) < 0)
		goto out;
	while (out[0] >= 0) {
		char buf[RUN_READ_CHUNK];
		ssize_t got = read(out[0], buf, sizeof(buf));

		if (got > 0)
			fn(buf, (size_t)got, data);
		else if (!got || errno != EINTR)
			close_fd(&out[0]);
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			strbuf_addf(err, "cannot wait for '%s'", argv[0]);
			strbuf_add_errno(err, errno);
			goto out;
		}
	}
	rc = 0;
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	return rc;
}

/* ----- the foreground child of run_foreground() ----- */

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t foreground_pid;

static void
forward_signal(int sig, siginfo_t *si, void *ucontext)
{
	(void)ucontext;
	/* a terminal signals its whole foreground group: the child has it */
	if (si && si->si_code == SI_KERNEL)
		return;
	if (foreground_pid > 0)
		kill((pid_t)foreground_pid, sig);
}

/* Installs forward_signal for every forwarded signal genv does not ignore. */
static void
forwarding_start(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
		sigaction(forwarded_signals[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(forwarded_signals[i], &sa, NULL);
	}
}

static void
forwarding_stop(const struct sigaction *old)
{
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaction(forwarded_signals[i], &old[i], NULL);
}

/*
 * Forks the child with the forwarded signals blocked until foreground_pid
 * is set, so that none arrives before there is a child to pass it to.
 */
static pid_t
foreground_start(const char *const *argv, int exec_fd, struct sigaction *old)
{
	sigset_t block, saved_mask;
	pid_t pid;
	int fork_errno;

	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&block, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &saved_mask);
	forwarding_start(old);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int e;

		forwarding_stop(old);
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		run_execvp(argv);
		e = errno;
		if (write(exec_fd, &e, sizeof(e)) < 0) {
			/* nothing left to tell anyone */
		}
		_exit(127);
	}
	fork_errno = errno;
	if (pid > 0)
		foreground_pid = pid;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	errno = fork_errno;
	return pid;
}

int
run_fg_start(struct run_fg *fg, const char *const *argv, int *exit_code, struct strbuf *err)
{
	int ex[2], e;

	*exit_code = 1;
	if (pipe2(ex, O_CLOEXEC) < 0) {
		strbuf_addstr(err, "cannot create a pipe");
		strbuf_add_errno(err, errno);
		return -1;
	}
	fg->pid = foreground_start(argv, ex[1], fg->old);
	e = errno;
	close(ex[1]);
	if (fg->pid < 0) {
		forwarding_stop(fg->old);
		close(ex[0]);
		strbuf_addstr(err, "cannot fork");
		strbuf_add_errno(err, e);
		return -1;
	}
	e = exec_errno(ex[0]);
	close(ex[0]);
	if (e) {
		while (waitpid(fg->pid, NULL, 0) < 0 && errno == EINTR)
			;
		foreground_pid = 0;
		forwarding_stop(fg->old);
		strbuf_addf(err, "%s: %s", argv[0], strerror(e));
		*exit_code = e == ENOENT ? 127 : 126;
		return -1;
	}
	return 0;
}

int
run_fg_wait(struct run_fg *fg)
{
	int status = 0;

	while (waitpid(fg->pid, &status, 0) < 0 && errno == EINTR)
		;
	foreground_pid = 0;
	forwarding_stop(fg->old);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int
run_foreground(const char *const *argv, struct strbuf *err)
{
	struct run_fg fg;
	int code;

	if (run_fg_start(&fg, argv, &code, err) < 0)
		return code == 1 ? -1 : code;   /* 127/126: a status, with err */
	return run_fg_wait(&fg);
}

int
run_interactive(const char *const *argv, int *status, struct strbuf *err)
{
	return run_waited(argv, NULL, NULL, status, err);
}

int
run_stream(const char *const *argv, run_chunk_fn fn, void *data, int *status,
	   struct strbuf *err)
{
	return run_waited(argv, fn, data, status, err);
}
