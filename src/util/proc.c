/* SPDX-License-Identifier: MIT */
/* proc.c: reading other processes' facts from /proc (proc.h). */
#include "compat.h"
#include "util/proc.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Reads /proc/<pid>/<name> into sb; errno is kept from the failing call. */
static int
proc_read(long pid, const char *name, struct strbuf *sb)
{
	struct strbuf path = STRBUF_INIT, ignored = STRBUF_INIT;
	int rc, saved;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	strbuf_addf(&path, "/proc/%ld/%s", pid, name);
	rc = read_file_sb(sb, path.buf, &ignored);
	saved = errno;
	strbuf_release(&path);
	strbuf_release(&ignored);
	errno = saved;
	return rc;
}

int
proc_real_uid(long pid, long long *uid)
{
	struct strbuf status = STRBUF_INIT;
	const char *p;
	char *end;
	int rc = -1;

	if (proc_read(pid, "status", &status) < 0)
		goto out;
	/* "Uid:\treal\teffective\tsaved\tfs"; never the first line ("Name:" is) */
	p = strstr(status.buf, "\nUid:");
	if (!p) {
		errno = EINVAL;
		goto out;
	}
	p += 5;
	*uid = strtoll(p, &end, 10);
	if (end == p) {
		errno = EINVAL;
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&status);
	return rc;
}

int
proc_start_time(long pid, unsigned long long *start_time)
{
	struct strbuf stat = STRBUF_INIT;
	const char *p;
	int rc = -1;

	if (proc_read(pid, "stat", &stat) < 0)
		goto out;
	errno = ESRCH;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(stat.buf, ')');
	if (!p || p[1] != ' ')
		goto out;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		goto out;
	/* state is field 3, starttime field 22 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			goto out;
		p++;
	}
	*start_time = strtoull(p, NULL, 10);
	rc = 0;
out:
	strbuf_release(&stat);
	return rc;
}

int
proc_environ_get(long pid, const char *name, char **value)
{
	struct strbuf env = STRBUF_INIT;
	size_t name_len = strlen(name);
	const char *found = NULL;
	size_t found_len = 0;

	*value = NULL;
	if (proc_read(pid, "environ", &env) < 0) {
		int saved = errno;

		strbuf_release(&env);
		errno = saved;
		return -1;
	}
	/* NUL-separated "NAME=value" entries */
	for (size_t off = 0; off < env.len;) {
		const char *entry = env.buf + off;
		size_t len = strnlen(entry, env.len - off);

		if (len > name_len && entry[name_len] == '=' &&
		    !memcmp(entry, name, name_len)) {
			found = entry + name_len + 1;
			found_len = len - name_len - 1;
		}
		off += len + 1;
	}
	if (found)
		*value = xstrndup(found, found_len);
	strbuf_release(&env);
	return 0;
}

int
proc_cmdline(long pid, struct strvec *argv)
{
	struct strbuf cmd = STRBUF_INIT;
	int saved;

	if (proc_read(pid, "cmdline", &cmd) < 0) {
		saved = errno;
		strbuf_release(&cmd);
		errno = saved;
		return -1;
	}
	for (size_t off = 0; off < cmd.len;) {
		size_t len = strnlen(cmd.buf + off, cmd.len - off);

		strvec_push_nodup(argv, xstrndup(cmd.buf + off, len));
		off += len + 1;
	}
	strbuf_release(&cmd);
	return 0;
}

/*
 * One line of /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"
 * (a waiter has "->" after the number). 0 if it is a holder's.
 */
static int
parse_lock_line(const char *line, long *pid, dev_t *dev, unsigned long long *ino)
{
	unsigned maj, min;
	const char *p = strchr(line, ':');

	if (!p)
		return -1;
	p += strspn(p + 1, " ") + 1;
	if (starts_with(p, "->"))
		return -1;
	if (sscanf(p, "%*s %*s %*s %ld %x:%x:%llu", pid, &maj, &min, ino) != 4 || *pid <= 0)
		return -1;
	*dev = makedev(maj, min);
	return 0;
}

int
proc_lock_holders(dev_t dev, ino_t ino, long *pids, size_t max)
{
	struct strbuf locks = STRBUF_INIT, ignored = STRBUF_INIT;
	size_t nr = 0;

	if (read_file_sb(&locks, "/proc/locks", &ignored) < 0) {
		strbuf_release(&ignored);
		return -1;
	}
	/* pass 0: same device and inode; pass 1: the inode alone */
	for (int pass = 0; pass < 2 && !nr; pass++) {
		for (char *line = locks.buf; line && *line && nr < max;) {
			char *next = strchr(line, '\n');
			unsigned long long i;
			dev_t d;
			long pid;

			if (next)
				*next = '\0';
			if (!parse_lock_line(line, &pid, &d, &i) && i == (unsigned long long)ino &&
			    (pass || d == dev))
				pids[nr++] = pid;
			if (next)
				*next = '\n';
			line = next ? next + 1 : NULL;
		}
	}
	strbuf_release(&locks);
	strbuf_release(&ignored);
	return (int)nr;
}

/* The target of the symbolic link path into sb; -1 with errno. */
static int
read_link(struct strbuf *sb, const char *path)
{
	for (size_t size = 256;; size *= 2) {
		ssize_t n;

		strbuf_grow(sb, size);
		n = readlink(path, sb->buf, sb->alloc - 1);
		if (n < 0)
			return -1;
		if ((size_t)n < sb->alloc - 1) {
			strbuf_setlen(sb, (size_t)n);
			return 0;
		}
	}
}

/*
 * The kernel's link is canonical already: one readlink() instead of
 * realpath()'s one per component, which every command pays at start-up
 * (protect_init). A binary replaced since it started reads "... (deleted)",
 * a path that does not exist: no path then, as realpath() would say.
 */
char *
proc_self_exe(void)
{
	static const char deleted[] = " (deleted)";
	struct strbuf link = STRBUF_INIT;

	if (read_link(&link, "/proc/self/exe") < 0 || link.buf[0] != '/' ||
	    (link.len >= sizeof(deleted) - 1 &&
	     !strcmp(link.buf + link.len - (sizeof(deleted) - 1), deleted))) {
		strbuf_release(&link);
		return NULL;
	}
	return strbuf_detach(&link, NULL);
}

/* The socket inodes among the open files of pid ("socket:[N]" links). */
static int
socket_inodes(long pid, unsigned long **v, size_t *nr)
{
	struct strbuf dir = STRBUF_INIT, link = STRBUF_INIT;
	size_t alloc = 0;
	struct dirent *de;
	DIR *d;

	strbuf_addf(&dir, "/proc/%ld/fd", pid);
	d = opendir(dir.buf);
	if (!d) {
		strbuf_release(&dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char target[64];
		ssize_t n;

		strbuf_reset(&link);
		strbuf_addf(&link, "%s/%s", dir.buf, de->d_name);
		n = readlink(link.buf, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "socket:[", 8))
			continue;
		ALLOC_GROW(*v, *nr + 1, alloc);
		(*v)[(*nr)++] = strtoul(target + 8, NULL, 10);
	}
	closedir(d);
	strbuf_release(&dir);
	strbuf_release(&link);
	return 0;
}

/* Adds the ports of LISTEN lines of a /proc/net/tcp{,6} table whose inode is ours. */
static void
listening_ports(const char *table, const unsigned long *inodes, size_t n_inodes,
		long **ports, size_t *nr, size_t *alloc)
{
	const char *line = strchr(table, '\n');   /* past the header */

	while (line && *++line) {
		char local[64], rem[64], st[8];
		unsigned long inode;
		unsigned port;
		const char *colon;

		if (sscanf(line, "%*s %63s %63s %7s %*s %*s %*s %*s %*s %lu",
			   local, rem, st, &inode) == 4 && !strcmp(st, "0A") &&
		    (colon = strrchr(local, ':')) && sscanf(colon + 1, "%x", &port) == 1) {
			for (size_t i = 0; i < n_inodes; i++) {
				if (inodes[i] != inode)
					continue;
				ALLOC_GROW(*ports, *nr + 1, *alloc);
				(*ports)[(*nr)++] = (long)port;
				break;
			}
		}
		line = strchr(line, '\n');
	}
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int
proc_listen_ports(long pid, long **ports, size_t *nr)
{
	static const char *const tables[] = { "net/tcp", "net/tcp6" };
	unsigned long *inodes = NULL;
	size_t n_inodes = 0, alloc = 0, kept = 0;

	*ports = NULL;
	*nr = 0;
	if (socket_inodes(pid, &inodes, &n_inodes) < 0)
		return -1;
	for (size_t t = 0; t < ARRAY_SIZE(tables) && n_inodes; t++) {
		struct strbuf sb = STRBUF_INIT;

		if (!proc_read(pid, tables[t], &sb))
			listening_ports(sb.buf, inodes, n_inodes, ports, nr, &alloc);
		strbuf_release(&sb);
	}
	free(inodes);
	if (*nr)
		qsort(*ports, *nr, sizeof(**ports), cmp_long);
	for (size_t i = 0; i < *nr; i++)
		if (!kept || (*ports)[kept - 1] != (*ports)[i])
			(*ports)[kept++] = (*ports)[i];
	*nr = kept;
	return 0;
}

int
proc_self_relative(const char *rel, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	char *exe = proc_self_exe(), *slash, *real;
	struct stat st;

	if (!exe)
		return -1;
	slash = strrchr(exe, '/');
	strbuf_add(&path, exe, slash ? (size_t)(slash - exe) : 0);
	strbuf_addstr(&path, rel);
	free(exe);
	/* mostly absent (genv.conf): one stat() spares realpath()'s walk */
	real = stat(path.buf, &st) ? NULL : realpath(path.buf, NULL);
	strbuf_release(&path);
	if (!real)
		return -1;
	strbuf_addstr(out, real);
	free(real);
	return 0;
}
