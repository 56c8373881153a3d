/* SPDX-License-Identifier: MIT */
/* priv.c: a setgid program's group privilege (priv.h). */
#include "compat.h"
#include "util/priv.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the privileged group creates: the group's files, nobody else's. */
#define PRIV_UMASK 007

static struct {
	gid_t rgid, pgid;
	int held;         /* pgid is still our saved (or effective) gid */
	int raised;       /* nesting depth of priv_raise() */
	mode_t caller_umask;
} priv;

/* Before anything is opened: a closed 0, 1 or 2 would be reused by it. */
static void
open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		got = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (got != fd)
			_exit(127);
	}
}

void
priv_startup(void)
{
	gid_t r, e, s;

	open_standard_fds();
	priv.caller_umask = umask(PRIV_UMASK);
	umask(priv.caller_umask);
	if (getresgid(&r, &e, &s) < 0)
		_exit(127);
	priv.rgid = r;
	if (e == r && s == r)
		return;
	priv.pgid = e != r ? e : s;
	priv.held = 1;
	/* lowered until a caller raises it; the saved gid keeps it */
	if (setresgid((gid_t)-1, r, priv.pgid) < 0 || getegid() != r)
		_exit(127);
}

int
priv_held(void)
{
	return priv.held;
}

gid_t
priv_gid(void)
{
	return priv.pgid;
}

int
priv_raise(void)
{
	if (!priv.held)
		return 0;
	if (priv.raised++)
		return 0;
	if (setresgid((gid_t)-1, priv.pgid, (gid_t)-1) < 0) {
		priv.raised = 0;
		return -1;
	}
	umask(PRIV_UMASK);
	return 0;
}

void
priv_lower(void)
{
	int saved = errno;   /* callers report the errno of what they just did */

	if (!priv.held || !priv.raised || --priv.raised)
		return;
	umask(priv.caller_umask);
	/* lowering to the real gid is always allowed */
	if (setresgid((gid_t)-1, priv.rgid, (gid_t)-1) < 0)
		_exit(127);
	errno = saved;
}

int
priv_drop(void)
{
	gid_t r, e, s;

	if (!priv.held)
		return 0;
	if (setresgid(priv.rgid, priv.rgid, priv.rgid) < 0)
		return -1;
	if (getresgid(&r, &e, &s) < 0)
		return -1;
	if (r != priv.rgid || e != priv.rgid || s != priv.rgid) {
		errno = EPERM;
		return -1;
	}
	umask(priv.caller_umask);
	priv.held = 0;
	priv.raised = 0;
	return 0;
}

const char *
priv_getenv(const char *name)
{
	return priv.held ? NULL : getenv(name);
}

/* One component: lstat it and check what path_root_only() wants of it. */
static int
check_component(const char *path, int last, mode_t want, gid_t writer_group,
		struct strbuf *why)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		strbuf_addf(why, "'%s'", path);
		strbuf_add_errno(why, errno);
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		strbuf_addf(why, "'%s' is a symbolic link", path);
		return -1;
	}
	if ((st.st_mode & S_IFMT) != (last ? want : S_IFDIR)) {
		strbuf_addf(why, "'%s' is not a %s", path,
			    last && want == S_IFREG ? "regular file" : "directory");
		return -1;
	}
	if (st.st_uid != 0) {
		strbuf_addf(why, "'%s' is owned by uid %lu, not root", path,
			    (unsigned long)st.st_uid);
		return -1;
	}
	if (!last && (st.st_mode & S_ISVTX))
		return 0;   /* only root may rename the root-owned entry below */
	if ((st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && (!last || st.st_gid != writer_group))) {
		strbuf_addf(why, "'%s' is writable by %s", path,
			    st.st_mode & S_IWOTH ? "others" : "its group");
		return -1;
	}
	return 0;
}

int
path_root_only(const char *path, mode_t want, gid_t writer_group,
	       struct strbuf *why)
{
	struct strbuf prefix = STRBUF_INIT;
	const char *p = path;
	int rc = -1;

	if (*path != '/') {
		strbuf_addf(why, "'%s' is not an absolute path", path);
		return -1;
	}
	strbuf_addch(&prefix, '/');
	if (check_component("/", !path[strspn(path, "/")], want, writer_group, why) < 0)
		goto out;
	while (*(p += strspn(p, "/"))) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			strbuf_addf(why, "'%s' is not a canonical path", path);
			goto out;
		}
		if (prefix.len > 1)
			strbuf_addch(&prefix, '/');
		strbuf_add(&prefix, p, n);
		p += n;
		if (check_component(prefix.buf, !p[strspn(p, "/")], want, writer_group,
				    why) < 0)
			goto out;
	}
	rc = 0;
out:
	strbuf_release(&prefix);
	return rc;
}
