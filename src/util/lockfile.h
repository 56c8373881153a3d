/* SPDX-License-Identifier: MIT */
/*
 * lockfile.h: exclusive flock()s on shared lock files (genv.lock and the
 * per-device devices/<index>.lock). The kernel drops a flock when its
 * holder dies, so there is no stale lock to recover.
 *
 * The files may live in a directory every user may write, so they are
 * opened as other users' files must be: a missing one is created with
 * O_EXCL (never through a link) and only then given the caller's mode
 * (0666 for genv 1.4.3's shared directory, 0660 for the protected one)
 * whatever the umask; an existing one is opened read-only (flock needs no
 * more) without following a link or blocking on a FIFO, must be a regular
 * file, and its mode is never changed.
 *
 * Anyone who can open a lock file can hold the lock forever, so a wait
 * can be bounded; when it runs out, the error names the holders (pid,
 * user, command, from /proc/locks).
 */
#ifndef GENV_UTIL_LOCKFILE_H
#define GENV_UTIL_LOCKFILE_H

#include <sys/types.h>

struct strbuf;

/* timeout_ms for a wait with no end (`genv lock` takes turns on a GPU) */
#define LOCKFILE_WAIT_FOREVER (-1L)

/*
 * Opens path (creating it with mode) and takes an exclusive flock on it,
 * waiting up to timeout_ms (0: one try). Returns the descriptor
 * (O_CLOEXEC), or -1 with a message naming path in err; errno is
 * EWOULDBLOCK when the lock stayed held by someone else.
 */
int lockfile_lock(const char *path, mode_t mode, long timeout_ms, struct strbuf *err);
/* The same for name in the directory dirfd; path names it in messages. */
int lockfile_lock_at(int dirfd, const char *name, const char *path, mode_t mode,
		     long timeout_ms, struct strbuf *err);

/* Opens (creating it with mode) name in dirfd as above, without locking it. */
int lockfile_open_at(int dirfd, const char *name, const char *path, mode_t mode,
		     struct strbuf *err);

/* Releases the lock taken by lockfile_lock() and closes fd; fd < 0 is a no-op. */
void lockfile_unlock(int fd);

#endif
