/* SPDX-License-Identifier: MIT */
/* fileio.c: whole-file reads, atomic replacement, mkdir -p (fileio.h). */
#include "compat.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int
read_fd_sb(struct strbuf *sb, int fd)
{
	size_t start = sb->len;

	for (;;) {
		ssize_t n;

		strbuf_grow(sb, 8192);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0) {
			int saved = errno;

			if (saved == EINTR)
				continue;
			strbuf_setlen(sb, start);
			errno = saved;
			return -1;
		}
		if (n == 0)
			return 0;
		strbuf_setlen(sb, sb->len + (size_t)n);
	}
}

int
read_file_sb(struct strbuf *sb, const char *path, struct strbuf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int saved;

	if (fd >= 0 && !read_fd_sb(sb, fd)) {
		close(fd);
		return 0;
	}
	saved = errno;
	if (fd >= 0)
		close(fd);
	strbuf_addf(err, "cannot read '%s'", path);
	strbuf_add_errno(err, saved);
	errno = saved;
	return -1;
}

int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		  struct strbuf *err)
{
	return write_file_atomic_at(AT_FDCWD, path, data, len, mode, err);
}

int
write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
		     mode_t mode, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd, saved;

	/*
	 * The temp file is in the same directory (rename() is atomic only
	 * there) and has a fixed name: writers are serialised by the caller,
	 * and a writer killed mid-save leaves one stale file that the next
	 * save replaces, instead of a new one every time.
	 */
	if (slash)
		strbuf_add(&tmp, path, (size_t)(slash - path + 1));
	strbuf_addf(&tmp, ".%s.tmp", slash ? slash + 1 : path);
	/* it may be another user's leftover, with their mode: replace it */
	if (unlinkat(dirfd, tmp.buf, 0) < 0 && errno != ENOENT) {
		saved = errno;
		strbuf_addf(err, "cannot remove the stale temporary file '%s'", tmp.buf);
		goto fail;
	}
	fd = openat(dirfd, tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		saved = errno;
		strbuf_addf(err, "cannot create the temporary file '%s'", tmp.buf);
		goto fail;
	}
	if (write_all(fd, data, len) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot write '%s'", tmp.buf);
		goto fail_unlink;
	}
	if (fchmod(fd, mode) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot set the mode of '%s'", tmp.buf);
		goto fail_unlink;
	}
	if (fsync(fd) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot sync '%s'", tmp.buf);
		goto fail_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		saved = errno;
		strbuf_addf(err, "cannot write '%s'", tmp.buf);
		goto fail_unlink;
	}
	fd = -1;
	if (renameat(dirfd, tmp.buf, dirfd, path) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot replace '%s'", path);
		goto fail_unlink;
	}
	strbuf_release(&tmp);
	return 0;

fail_unlink:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp.buf, 0);
fail:
	strbuf_add_errno(err, saved);
	strbuf_release(&tmp);
	errno = saved;
	return -1;
}

int
mkdir_p(const char *dir, mode_t mode, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	const char *p = dir;
	int saved;

	if (!stat(dir, &st) && S_ISDIR(st.st_mode))
		return 0;
	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t end = slash ? (size_t)(slash - dir) : strlen(dir);

		strbuf_reset(&path);
		strbuf_add(&path, dir, end);
		p = dir + end;
		if (mkdir(path.buf, mode) == 0) {
			/* mkdir honours the umask; shared dirs need the exact mode */
			if (chmod(path.buf, mode) < 0) {
				saved = errno;
				strbuf_addf(err, "cannot set the mode of '%s'", path.buf);
				goto fail;
			}
		} else if (errno != EEXIST) {
			saved = errno;
			strbuf_addf(err, "cannot create directory '%s'", path.buf);
			goto fail;
		}
		if (!*p || (p[0] == '/' && !p[1]))
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		saved = errno ? errno : ENOTDIR;
		strbuf_addf(err, "cannot create directory '%s'", dir);
		goto fail;
	}
	strbuf_release(&path);
	return 0;
fail:
	strbuf_add_errno(err, saved);
	strbuf_release(&path);
	errno = saved;
	return -1;
}

int
open_private_dir_at(int dirfd, const char *name, const char *shown, struct strbuf *err)
{
	struct stat st;
	int fd;

	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create directory '%s'", shown);
		strbuf_add_errno(err, errno);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		strbuf_addf(err, "cannot open directory '%s'", shown);
		if (saved == ELOOP || saved == ENOTDIR)
			strbuf_addstr(err, ": not a directory (a symbolic link?)");
		else
			strbuf_add_errno(err, saved);
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		strbuf_addf(err, "cannot open directory '%s'", shown);
		strbuf_add_errno(err, errno);
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		strbuf_addf(err, "refusing to write into '%s': it belongs to uid %ld, not to us (uid %ld)",
			    shown, (long)st.st_uid, (long)geteuid());
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & 022) && fchmod(fd, st.st_mode & 0755) < 0) {
		strbuf_addf(err, "cannot make '%s' writable only by us", shown);
		strbuf_add_errno(err, errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* Empties the directory open at fd (which this closes), depth first. */
static void
empty_dir_fd(int fd, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(fd, de->d_name, 0) || depth > 16)
			continue;
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		empty_dir_fd(sub, depth + 1);
		unlinkat(fd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

int
remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	empty_dir_fd(fd, 0);
	return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
}
