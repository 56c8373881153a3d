/* SPDX-License-Identifier: MIT */
/* device-locks.c: $GENV_TMPDIR/devices/<index>.lock (device-locks.h). */
#include "compat.h"
#include "core/device-locks.h"
#include "core/store.h"
#include "util/fileio.h"
#include "util/lockfile.h"
#include "util/priv.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * Opens $GENV_TMPDIR/devices (creating it), never through a link: the lock
 * files are opened in it. dir receives its path. Call with the privilege
 * raised (the protected state is the group's, doc/security.md).
 */
static int
open_devices_dir(struct strbuf *dir, struct strbuf *err)
{
	struct store st = STORE_INIT;
	int fd = -1;

	if (store_init(&st, err) < 0)
		goto out;
	store_path(&st, "devices", dir);
	if (mkdir_p(dir->buf, store_dir_mode(), err) < 0)
		goto out;
	fd = open_nofollow(dir->buf, O_RDONLY | O_DIRECTORY, 0, "directory", err);
out:
	store_release(&st);
	return fd;
}

int
device_locks_take(struct device_locks *locks, const long *idx, size_t nr,
		  struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, name = STRBUF_INIT;
	long *sorted = NULL;
	int dirfd, rc;
	size_t i = 0;

	if (!nr)
		return 0;
	sorted = xcalloc(nr, sizeof(*sorted));
	memcpy(sorted, idx, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), cmp_long);
	locks->fds = xcalloc(nr, sizeof(*locks->fds));
	priv_raise();
	dirfd = open_devices_dir(&dir, err);
	for (; dirfd >= 0 && i < nr; i++) {
		int fd;

		if (i && sorted[i] == sorted[i - 1])
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "%ld.lock", sorted[i]);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir.buf, name.buf);
		/* taking turns on a GPU may take hours: no bound here */
		fd = lockfile_lock_at(dirfd, name.buf, path.buf, store_file_mode(),
				      LOCKFILE_WAIT_FOREVER, err);
		if (fd < 0)
			break;
		locks->fds[locks->nr++] = fd;
	}
	priv_lower();
	rc = dirfd >= 0 && i == nr ? 0 : -1;
	if (rc < 0)
		device_locks_release(locks);
	if (dirfd >= 0)
		close(dirfd);
	free(sorted);
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&name);
	return rc;
}

void
device_locks_release(struct device_locks *locks)
{
	for (size_t i = 0; i < locks->nr; i++)
		lockfile_unlock(locks->fds[i]);
	free(locks->fds);
	locks->fds = NULL;
	locks->nr = 0;
}

/* The index of a "<digits>.lock" name, or -1. */
static long
lock_file_index(const char *name)
{
	char *end;
	long i;

	if (name[0] < '0' || name[0] > '9')
		return -1;
	errno = 0;
	i = strtol(name, &end, 10);
	return errno || strcmp(end, ".lock") ? -1 : i;
}

int
device_locks_list(long **v, size_t *nr, struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct strbuf dir = STRBUF_INIT, why = STRBUF_INIT;
	size_t alloc = 0;
	struct dirent *de;
	DIR *d = NULL;
	int fd;

	if (store_init(&st, err) < 0) {
		store_release(&st);
		return -1;
	}
	store_path(&st, "devices", &dir);
	store_release(&st);
	priv_raise();
	fd = open_nofollow(dir.buf, O_RDONLY | O_DIRECTORY, 0, "directory", &why);
	priv_lower();
	if (fd >= 0 && !(d = fdopendir(fd))) {
		strbuf_addf(&why, "cannot read '%s'", dir.buf);
		strbuf_add_errno(&why, errno);
		close(fd);
	}
	if (!d) {
		int missing = fd < 0 && errno == ENOENT;

		if (!missing)
			strbuf_addbuf(err, &why);
		strbuf_release(&dir);
		strbuf_release(&why);
		return missing ? 0 : -1;
	}
	while ((de = readdir(d))) {
		long i = lock_file_index(de->d_name);

		if (i < 0)
			continue;
		ALLOC_GROW(*v, *nr + 1, alloc);
		(*v)[(*nr)++] = i;
	}
	closedir(d);
	strbuf_release(&dir);
	strbuf_release(&why);
	if (*nr)
		qsort(*v, *nr, sizeof(**v), cmp_long);
	return 0;
}

int
device_lock_file(long index, struct strbuf *path, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, name = STRBUF_INIT;
	int dirfd, fd = -1;

	priv_raise();
	dirfd = open_devices_dir(&dir, err);
	if (dirfd >= 0) {
		strbuf_addf(&name, "%ld.lock", index);
		strbuf_addf(path, "%s/%s", dir.buf, name.buf);
		fd = lockfile_open_at(dirfd, name.buf, path->buf, store_file_mode(), err);
		close(dirfd);
	}
	priv_lower();
	if (fd >= 0)
		close(fd);
	strbuf_release(&dir);
	strbuf_release(&name);
	return fd < 0 ? -1 : 0;
}
