/* SPDX-License-Identifier: MIT */
/* fileio.c: whole-file reads, atomic replacement, mkdir -p (fileio.h). */
#include "compat.h"
#include "util/fileio.h"
#include "util/clock.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARENT_DIR_MODE 0755

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

/*
 * Explains why open_nofollow_at() could not open name (open(2) said
 * saved), from what is there now. Returns the errno to report.
 */
static int
refuse(int dirfd, const char *name, const char *path, int want_dir,
       const char *what, int saved, struct strbuf *err)
{
	struct stat st;

	if (saved == ELOOP || saved == ENOTDIR || saved == ENXIO || saved == EISDIR) {
		if (!fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) {
			strbuf_addf(err, "refusing %s '%s': it is a symbolic link", what, path);
			return ELOOP;
		}
		if (saved != ELOOP) {
			strbuf_addf(err, "refusing %s '%s': not a %s", what, path,
				    want_dir ? "directory" : "regular file");
			return EINVAL;
		}
	}
	strbuf_addf(err, "cannot open %s '%s'", what, path);
	strbuf_add_errno(err, saved);
	return saved;
}

int
open_nofollow_at(int dirfd, const char *name, const char *path, int flags,
		 mode_t mode, const char *what, struct strbuf *err)
{
	int want_dir = !!(flags & O_DIRECTORY);
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	struct stat st;
	int saved;

	if (fd < 0) {
		errno = refuse(dirfd, name, path, want_dir, what, errno, err);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot open %s '%s'", what, path);
		strbuf_add_errno(err, saved);
		goto fail;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		saved = EINVAL;
		strbuf_addf(err, "refusing %s '%s': not a %s", what, path,
			    want_dir ? "directory" : "regular file");
		goto fail;
	}
	/* a regular file or a directory never blocks: normal I/O from here */
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot open %s '%s'", what, path);
		strbuf_add_errno(err, saved);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = saved;
	return -1;
}

int
open_nofollow(const char *path, int flags, mode_t mode, const char *what,
	      struct strbuf *err)
{
	return open_nofollow_at(AT_FDCWD, path, path, flags, mode, what, err);
}

int
read_file_nofollow(struct strbuf *sb, const char *path, const char *what,
		   struct strbuf *err)
{
	int fd = open_nofollow(path, O_RDONLY, 0, what, err), rc, saved;

	if (fd < 0)
		return -1;
	rc = read_fd_sb(sb, fd);
	saved = errno;
	close(fd);
	if (rc < 0) {
		strbuf_addf(err, "cannot read '%s'", path);
		strbuf_add_errno(err, saved);
	}
	errno = saved;
	return rc;
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

/*
 * Removes our own leftovers "<prefix>XXXXXX" in dir (relative to at):
 * regular files of our effective uid (writers are serialised, so none of
 * them is being written now).
 */
static void
remove_stale_temps(int at, const char *dir, const char *prefix)
{
	size_t len = strlen(prefix);
	int fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, len) || strlen(de->d_name + len) != 6)
			continue;
		if (!fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid())
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Creates tmp with six random characters appended (mkstemp() relative to dirfd). */
static int
create_unique(int dirfd, struct strbuf *tmp)
{
	static const char chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t base = tmp->len;

	for (unsigned tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		int fd;

		/* no entropy yet (early boot): names need only differ */
		if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
			unsigned long long x = (unsigned long long)getpid() * 2654435761u ^
					       (unsigned long long)clock_monotonic_ms() ^ tries * 40503u;

			for (size_t i = 0; i < sizeof(r); i++, x >>= 6)
				r[i] = (unsigned char)x;
		}
		strbuf_setlen(tmp, base);
		for (size_t i = 0; i < sizeof(r); i++)
			strbuf_addch(tmp, chars[r[i] % (sizeof(chars) - 1)]);
		fd = openat(dirfd, tmp->buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/*
 * Creates the temporary file for path (relative to dirfd): tmp is set to
 * its name. The fixed name ".<name>.tmp" is used when it is free or a file
 * we may replace (so a killed writer leaves one stale file, not one per
 * kill); else a fresh ".<name>.tmp.XXXXXX". O_EXCL: never through a link.
 */
static int
create_temp(int dirfd, const char *path, struct strbuf *tmp, struct strbuf *err)
{
	const char *slash = strrchr(path, '/');
	struct strbuf dir = STRBUF_INIT;
	int fd;

	if (slash)
		strbuf_add(&dir, path, (size_t)(slash - path + 1));
	strbuf_addbuf(tmp, &dir);
	strbuf_addf(tmp, ".%s.tmp", slash ? slash + 1 : path);
	/* a stale one (a killed writer's, maybe another user's) is replaced */
	if (!unlinkat(dirfd, tmp->buf, 0) || errno == ENOENT) {
		fd = openat(dirfd, tmp->buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			goto out;
	} else if (errno != EISDIR && errno != EPERM) {
		fd = -1;
		goto out;
	}
	/* something we cannot replace sits there (a directory; sticky dir) */
	strbuf_addch(tmp, '.');
	remove_stale_temps(dirfd, dir.len ? dir.buf : ".", tmp->buf + dir.len);
	fd = create_unique(dirfd, tmp);
out:
	if (fd < 0) {
		int saved = errno;

		strbuf_addf(err, "cannot create the temporary file '%s'", tmp->buf);
		strbuf_add_errno(err, saved);
		errno = saved;
	}
	strbuf_release(&dir);
	return fd;
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
	int fd, saved;

	fd = create_temp(dirfd, path, &tmp, err);
	if (fd < 0) {
		saved = errno;
		goto out;
	}
	if (write_all(fd, data, len) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot write '%s'", tmp.buf);
		goto fail;
	}
	/* ours, just created: the only file whose mode we ever set */
	if (fchmod(fd, mode) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot set the mode of '%s'", tmp.buf);
		goto fail;
	}
	if (fsync(fd) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot sync '%s'", tmp.buf);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		saved = errno;
		strbuf_addf(err, "cannot write '%s'", tmp.buf);
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp.buf, dirfd, path) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot replace '%s'", path);
		goto fail;
	}
	strbuf_release(&tmp);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp.buf, 0);
	strbuf_add_errno(err, saved);
out:
	strbuf_release(&tmp);
	errno = saved;
	return -1;
}

/*
 * Opens the directory we just created at name (relative to at) and gives
 * it its exact mode (mkdir honours the umask) through that descriptor: if
 * someone replaced it with a link or a directory of theirs meanwhile,
 * nothing is changed. Returns the descriptor, or -1.
 */
static int
chmod_new_dir_at(int at, const char *name, const char *path, mode_t mode,
		 struct strbuf *err)
{
	int fd = open_nofollow_at(at, name, path, O_RDONLY | O_DIRECTORY, 0, "directory", err);
	struct stat st;
	int saved;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		saved = errno;
	else if (st.st_uid != geteuid())
		saved = EPERM;
	else if (fchmod(fd, mode) < 0)
		saved = errno;
	else
		return fd;
	close(fd);
	strbuf_addf(err, "cannot set the mode of '%s'", path);
	strbuf_add_errno(err, saved);
	errno = saved;
	return -1;
}

int
mkdir_nofollow_at(int at, const char *name, const char *path, mode_t mode,
		  struct strbuf *err)
{
	if (!mkdirat(at, name, mode))
		return chmod_new_dir_at(at, name, path, mode, err);
	if (errno != EEXIST) {
		int saved = errno;

		strbuf_addf(err, "cannot create directory '%s'", path);
		strbuf_add_errno(err, saved);
		errno = saved;
		return -1;
	}
	return open_nofollow_at(at, name, path, O_RDONLY | O_DIRECTORY, 0, "directory", err);
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
		mode_t m;
		int last;

		strbuf_reset(&path);
		strbuf_add(&path, dir, end);
		p = dir + end;
		last = !*p || (p[0] == '/' && !p[1]);
		m = last ? mode : PARENT_DIR_MODE;
		if (mkdir(path.buf, m) == 0) {
			int fd = chmod_new_dir_at(AT_FDCWD, path.buf, path.buf, m, err);

			if (fd < 0) {
				saved = errno;
				goto out;
			}
			close(fd);
		} else if (errno != EEXIST) {
			saved = errno;
			strbuf_addf(err, "cannot create directory '%s'", path.buf);
			strbuf_add_errno(err, saved);
			goto out;
		}
		if (last)
			break;
	}
	saved = stat(dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (saved) {
		strbuf_addf(err, "cannot create directory '%s'", dir);
		strbuf_add_errno(err, saved);
		goto out;
	}
	strbuf_release(&path);
	return 0;
out:
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
