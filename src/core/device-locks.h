/* SPDX-License-Identifier: MIT */
/*
 * device-locks.h: the per-device lock files $GENV_TMPDIR/devices/<index>.lock
 * that `genv lock` holds so that environments over-subscribing a GPU take
 * turns, in 1.4.3's layout. Containers get this directory bind-mounted, and
 * its files then tell which devices the container was given.
 */
#ifndef GENV_CORE_DEVICE_LOCKS_H
#define GENV_CORE_DEVICE_LOCKS_H

#include <stddef.h>

struct strbuf;

struct device_locks {
	int *fds;      /* one per distinct index, in ascending index order */
	size_t nr;
};
#define DEVICE_LOCKS_INIT { NULL, 0 }

/*
 * Waits for the locks of the devices in idx[0..nr) (duplicates allowed),
 * taking them in ascending index order so that two lockers never
 * deadlock. On failure the locks taken so far are released.
 */
int device_locks_take(struct device_locks *locks, const long *idx, size_t nr,
		      struct strbuf *err);
/* Releases every lock held. */
void device_locks_release(struct device_locks *locks);

/*
 * The indices that have a lock file, ascending, into *v (malloc'ed, NULL
 * when none). A missing devices directory is no lock files.
 */
int device_locks_list(long **v, size_t *nr, struct strbuf *err);

/*
 * Creates the lock file of device index if needed (without locking it;
 * the container hook mounts it) and appends its path to path.
 */
int device_lock_file(long index, struct strbuf *path, struct strbuf *err);

#endif
