/* SPDX-License-Identifier: MIT */
/*
 * fileio.h: whole-file reads, crash-safe writes and directory creation.
 * Functions return 0 or -1; on -1 they append a message naming the path to
 * err and leave errno set from the failing call.
 */
#ifndef GENV_UTIL_FILEIO_H
#define GENV_UTIL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/* Appends what fd has until EOF to sb; -1 (errno set, sb as it was) on error. */
int read_fd_sb(struct strbuf *sb, int fd);
/* Appends the contents of path to sb. */
int read_file_sb(struct strbuf *sb, const char *path, struct strbuf *err);

/*
 * For names in a directory other users can write (the shared state
 * directory): opens name, relative to dirfd (or AT_FDCWD), without ever
 * following a symbolic link there or hanging on a FIFO (O_NOFOLLOW,
 * O_NONBLOCK, cleared again once the file is known, O_CLOEXEC), and checks
 * with fstat() that it is a regular file, or a directory when flags has
 * O_DIRECTORY. path is how messages name it and what says what it is:
 * "refusing <what> '<path>': it is a symbolic link" (errno ELOOP) or
 * "...: not a regular file" / "not a directory" (errno EINVAL). Other
 * failures keep open(2)'s errno (ENOENT: missing).
 */
int open_nofollow_at(int dirfd, const char *name, const char *path, int flags,
		     mode_t mode, const char *what, struct strbuf *err);
int open_nofollow(const char *path, int flags, mode_t mode, const char *what,
		  struct strbuf *err);

/* read_file_sb() through open_nofollow(path, O_RDONLY). */
int read_file_nofollow(struct strbuf *sb, const char *path, const char *what,
		       struct strbuf *err);

/*
 * Replaces path with data: writes the temporary file ".<name>.tmp" in the
 * same directory, sets mode (explicitly, ignoring the umask), fsyncs it and
 * renames it over path, so a reader or a crash sees either the old or the
 * new contents, never a mix; rename() replaces a symlink at path, it never
 * writes through it. The temporary file is removed on failure. A stale
 * temporary file (a writer was killed) is replaced; when that name cannot
 * be (another user's directory or FIFO sits there), a fresh
 * ".<name>.tmp.XXXXXX" is used instead, and our own stale ones of those
 * are removed. Callers must serialise writers of the same path (genv
 * holds genv.lock).
 */
int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct strbuf *err);
/* The same, with path relative to the directory open at dirfd (or AT_FDCWD). */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
			 mode_t mode, struct strbuf *err);

/*
 * Opens (creating it with mode 0755 if missing) the directory name inside
 * the directory open at dirfd (or AT_FDCWD), for files nobody else may
 * change: a symlink is refused (O_NOFOLLOW), and so is a directory owned
 * by another user; group and other write permissions on ours are
 * removed. Safe inside a directory others can write to (they can plant
 * or rename entries, not change the one we opened). shown names the
 * directory in messages. Returns the descriptor, or -1.
 */
int open_private_dir_at(int dirfd, const char *name, const char *shown,
			struct strbuf *err);

/*
 * Creates dir with mode (ignoring the umask, as genv's shared state
 * directory must be world-writable) and its missing parents with 0755:
 * only dir itself gets the shared mode. An existing directory is fine; its
 * mode is left alone. The mode of a directory we created is set through a
 * descriptor opened without following links, so another user swapping it
 * for a link in between cannot redirect the chmod.
 */
int mkdir_p(const char *dir, mode_t mode, struct strbuf *err);

/*
 * Makes the directory name (relative to at, or AT_FDCWD) with exactly mode,
 * or takes the one there; either way it must be a real directory, never a
 * link (open_nofollow_at(); path names it in messages). The mode is set
 * only on one we just made, through its descriptor. Returns the
 * descriptor, or -1.
 */
int mkdir_nofollow_at(int at, const char *name, const char *path, mode_t mode,
		      struct strbuf *err);

/* write(2) until done, retrying on EINTR. Returns 0 or -1 (errno set). */
int write_all(int fd, const void *data, size_t len);

/*
 * Removes the directory path and everything in it, without following
 * symbolic links (a link is removed, not what it points to). Best effort:
 * returns 0 when path is gone, else -1.
 */
int remove_tree(const char *path);

#endif
