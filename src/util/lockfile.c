/* SPDX-License-Identifier: MIT */
/* lockfile.c: shared flock()ed lock files (lockfile.h). */
#include "compat.h"
#include "util/lockfile.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/passwd.h"
#include "util/proc.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOLDERS 3        /* named in a timeout message */
#define MAX_POLL_MS 20       /* between two tries of a bounded wait */

/*
 * Opens the lock file, creating it if needed. Creation is O_EXCL, and the
 * mode of a file we did not just create is left alone (see lockfile.h).
 */
int
lockfile_open_at(int dirfd, const char *name, const char *path, mode_t mode,
		 struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int fd = -1;

	/* a file removed between the two opens: create it again */
	for (int tries = 0; tries < 3; tries++) {
		fd = openat(dirfd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode);
		if (fd >= 0) {
			/* ours, just created: its mode whatever our umask */
			(void)fchmod(fd, mode);
			break;
		}
		if (errno != EEXIST) {
			int saved = errno;

			strbuf_addf(&why, "cannot create the lock file '%s'", path);
			strbuf_add_errno(&why, saved);
			break;
		}
		strbuf_reset(&why);
		fd = open_nofollow_at(dirfd, name, path, O_RDONLY, 0, "lock file", &why);
		if (fd >= 0 || errno != ENOENT)
			break;
	}
	if (fd < 0)
		strbuf_addbuf(err, &why);
	strbuf_release(&why);
	return fd;
}

static void
add_user(struct strbuf *out, long long uid)
{
	struct strbuf name = STRBUF_INIT;

	if (!passwd_lookup(uid, &name, NULL)) {
		strbuf_addstr(out, "user ");
		quote_display(out, name.buf);
	} else {
		strbuf_addf(out, "uid %lld", uid);
	}
	strbuf_release(&name);
}

/* " (user alice, command 'flock genv.lock sleep 1000')", what /proc tells */
static void
add_process(struct strbuf *out, long pid)
{
	struct strvec argv = STRVEC_INIT;
	long long uid;
	int have_uid = !proc_real_uid(pid, &uid);
	int have_cmd = !proc_cmdline(pid, &argv) && argv.nr;

	if (have_uid || have_cmd)
		strbuf_addstr(out, " (");
	if (have_uid)
		add_user(out, uid);
	if (have_cmd) {
		strbuf_addstr(out, have_uid ? ", command '" : "command '");
		for (size_t i = 0; i < argv.nr; i++) {
			if (i)
				strbuf_addch(out, ' ');
			quote_display(out, argv.v[i]);
		}
		strbuf_addch(out, '\'');
	}
	if (have_uid || have_cmd)
		strbuf_addch(out, ')');
	strvec_clear(&argv);
}

/* "held by pid 42 (user alice, command '...')", or by whom we cannot tell */
static void
add_holders(struct strbuf *out, int fd)
{
	long pids[MAX_HOLDERS];
	struct stat st;
	int nr = -1;

	if (!fstat(fd, &st))
		nr = proc_lock_holders(st.st_dev, st.st_ino, pids, MAX_HOLDERS);
	if (nr <= 0) {
		strbuf_addstr(out, "held by a process we cannot see");
		return;
	}
	strbuf_addstr(out, "held by ");
	for (int i = 0; i < nr; i++) {
		strbuf_addf(out, "%spid %ld", i ? ", " : "", pids[i]);
		add_process(out, pids[i]);
	}
}

/* flock(LOCK_EX), polled until timeout_ms; -1 with errno EWOULDBLOCK when it ran out */
static int
lock_within(int fd, long timeout_ms)
{
	int64_t deadline = clock_monotonic_ms() + timeout_ms;
	int64_t delay = 1;

	if (timeout_ms < 0) {
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	for (;;) {
		int64_t left;

		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		left = deadline - clock_monotonic_ms();
		if (left <= 0)
			return -1;
		clock_sleep_ms(delay < left ? delay : left);
		if (delay < MAX_POLL_MS)
			delay *= 2;
	}
}

int
lockfile_lock_at(int dirfd, const char *name, const char *path, mode_t mode,
		 long timeout_ms, struct strbuf *err)
{
	int fd = lockfile_open_at(dirfd, name, path, mode, err);
	int saved;

	if (fd < 0)
		return -1;
	if (!lock_within(fd, timeout_ms))
		return fd;
	saved = errno;
	if (saved != EWOULDBLOCK) {
		strbuf_addf(err, "cannot lock '%s'", path);
		strbuf_add_errno(err, saved);
	} else if (!timeout_ms) {
		strbuf_addf(err, "'%s' is locked", path);
	} else {
		strbuf_addf(err, "gave up waiting %g s for the lock '%s', ",
			    timeout_ms / 1000.0, path);
		add_holders(err, fd);
	}
	close(fd);
	errno = saved;
	return -1;
}

int
lockfile_lock(const char *path, mode_t mode, long timeout_ms, struct strbuf *err)
{
	return lockfile_lock_at(AT_FDCWD, path, path, mode, timeout_ms, err);
}

void
lockfile_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
