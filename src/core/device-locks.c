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
#include <unistd.h>

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int
device_locks_take(struct device_locks *locks, const long *idx, size_t nr,
		  struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT;
	long *sorted = NULL;
	int rc = -1;

	if (!nr)
		return 0;
	sorted = xcalloc(nr, sizeof(*sorted));
	memcpy(sorted, idx, nr * sizeof(*sorted));
	qsort(sorted, nr, sizeof(*sorted), cmp_long);
	locks->fds = xcalloc(nr, sizeof(*locks->fds));
	if (store_init(&st, err) < 0)
		goto out;
	store_path(&st, "devices", &dir);
	priv_raise();   /* the protected state is the group's (doc/security.md) */
	if (mkdir_p(dir.buf, store_dir_mode(), err) < 0) {
		priv_lower();
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		int fd;

		if (i && sorted[i] == sorted[i - 1])
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%ld.lock", dir.buf, sorted[i]);
		fd = lockfile_lock(path.buf, store_file_mode(), err);
		if (fd < 0) {
			priv_lower();
			goto out;
		}
		locks->fds[locks->nr++] = fd;
	}
	priv_lower();
	rc = 0;
out:
	if (rc < 0)
		device_locks_release(locks);
	free(sorted);
	store_release(&st);
	strbuf_release(&dir);
	strbuf_release(&path);
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
	struct strbuf dir = STRBUF_INIT;
	size_t alloc = 0;
	struct dirent *de;
	DIR *d;

	if (store_init(&st, err) < 0) {
		store_release(&st);
		return -1;
	}
	store_path(&st, "devices", &dir);
	store_release(&st);
	priv_raise();
	d = opendir(dir.buf);
	priv_lower();
	if (!d) {
		int saved = errno;

		if (saved != ENOENT) {
			strbuf_addf(err, "cannot read '%s'", dir.buf);
			strbuf_add_errno(err, saved);
		}
		strbuf_release(&dir);
		return saved == ENOENT ? 0 : -1;
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
	if (*nr)
		qsort(*v, *nr, sizeof(**v), cmp_long);
	return 0;
}

int
device_lock_file(long index, struct strbuf *path, struct strbuf *err)
{
	struct store st = STORE_INIT;
	size_t start = path->len;
	int fd = -1;

	if (store_init(&st, err) < 0)
		goto out;
	store_path(&st, "devices", path);
	priv_raise();   /* the protected state is the group's (doc/security.md) */
	if (!mkdir_p(path->buf + start, store_dir_mode(), err)) {
		strbuf_addf(path, "/%ld.lock", index);
		fd = lockfile_open(path->buf + start, store_file_mode(), err);
	}
	priv_lower();
	if (fd >= 0)
		close(fd);
out:
	store_release(&st);
	return fd < 0 ? -1 : 0;
}
