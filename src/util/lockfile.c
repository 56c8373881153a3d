/* SPDX-License-Identifier: MIT */
/* lockfile.c: shared flock()ed lock files (lockfile.h). */
#include "compat.h"
#include "util/lockfile.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Shared files must keep their mode whatever the creator's umask. Only
 * the owner may chmod; a file of another user that has another mode is
 * theirs to fix, so a failure here is not our error.
 */
static void
make_shared(int fd, mode_t mode)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0 || (sb.st_mode & 07777) == mode)
		return;
	(void)fchmod(fd, mode);
}

int
lockfile_open(const char *path, mode_t mode, struct strbuf *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode);

	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		strbuf_addf(err, "cannot open the lock file '%s'", path);
		strbuf_add_errno(err, saved);
		return -1;
	}
	make_shared(fd, mode);
	return fd;
}

int
lockfile_lock(const char *path, mode_t mode, struct strbuf *err)
{
	int fd = lockfile_open(path, mode, err);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		int saved = errno;

		if (saved == EINTR)
			continue;
		strbuf_addf(err, "cannot lock '%s'", path);
		strbuf_add_errno(err, saved);
		close(fd);
		return -1;
	}
	return fd;
}

void
lockfile_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
