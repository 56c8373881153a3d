/* SPDX-License-Identifier: MIT */
/*
 * lockfile.h: exclusive flock()s on shared lock files (genv.lock and the
 * per-device devices/<index>.lock). The kernel drops a flock when its
 * holder dies, so there is no stale lock to recover. The files are shared
 * by every user: created with the caller's mode whatever the umask, and
 * opened read-only when we may not write them (flock needs no write
 * access).
 */
#ifndef GENV_UTIL_LOCKFILE_H
#define GENV_UTIL_LOCKFILE_H

#include <sys/types.h>

struct strbuf;

/*
 * Opens path (creating it with mode: 0666 for genv 1.4.3's shared
 * directory, 0660 for the protected one) and waits for an exclusive flock
 * on it.
 * Returns the descriptor (O_CLOEXEC), or -1 with a message naming path
 * in err.
 */
int lockfile_lock(const char *path, mode_t mode, struct strbuf *err);

/*
 * Opens path (creating it with mode, whatever the umask) without locking
 * it; read-only when it is not writable for us. Returns the fd or -1.
 */
int lockfile_open(const char *path, mode_t mode, struct strbuf *err);
/* Releases the lock taken by lockfile_lock() and closes fd; fd < 0 is a no-op. */
void lockfile_unlock(int fd);

#endif
