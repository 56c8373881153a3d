/* SPDX-License-Identifier: MIT */
/*
 * priv.h: the group privilege of a setgid program, held the way crontab
 * and plocate hold theirs. The real gid is the caller; the privileged gid
 * (the set-group-ID of the binary) is kept only as the saved gid, lowered
 * everywhere except between priv_raise() and priv_lower() around the few
 * file operations that need it, and dropped for good (real, effective and
 * saved gid all the real gid, checked) before anything the caller chose
 * runs: a child's exec, a library the caller named.
 *
 * In a process started without the privilege every call here is a no-op
 * that succeeds, so callers need not know which kind of process they are.
 */
#ifndef GENV_UTIL_PRIV_H
#define GENV_UTIL_PRIV_H

#include <sys/types.h>

struct strbuf;

/*
 * The first thing main() does: opens /dev/null onto whichever of fds 0-2
 * is closed (else the first file we open would become stdout), notes the
 * caller's umask, and lowers the effective gid to the real one while
 * keeping the privilege as the saved gid. Exits 127 if it cannot.
 */
void priv_startup(void);

/* Whether this process holds a group privilege (the saved gid). */
int priv_held(void);
/* The privileged gid; meaningful only while priv_held(). */
gid_t priv_gid(void);

/*
 * Makes the privileged gid effective, with umask 007 (what it creates is
 * the group's, never the world's). Calls nest; priv_lower() undoes one.
 * Returns 0, or -1 with errno (the kernel refused: what follows then runs
 * as the caller and fails as the caller would). priv_lower() keeps errno.
 */
int priv_raise(void);
void priv_lower(void);

/*
 * Drops the privilege for good: setresgid(rgid, rgid, rgid), then checks
 * with getresgid() that no id is left with the privileged gid. Restores the
 * caller's umask. Async-signal-safe (a forked child calls it before exec).
 * Returns 0, or -1 with errno set.
 */
int priv_drop(void);

/*
 * getenv() for variables that could redirect privileged work: NULL while
 * the privilege is held, the value once it was dropped (like
 * secure_getenv(), which would stay NULL after the drop).
 */
const char *priv_getenv(const char *name);

/*
 * Whether only root can have put path (absolute) where it is and what it
 * holds: every directory from / down is owned by root and writable by no
 * one else (or sticky, since then only root may rename the root-owned entry
 * below it), no component is a symbolic link, "." or "..", and path itself,
 * of the type want (S_IFREG, S_IFDIR), is owned by root and writable by
 * others never, by its group only when that group is writer_group (pass
 * (gid_t)-1 for none). Returns 0, or -1 with the reason appended to why.
 */
int path_root_only(const char *path, mode_t want, gid_t writer_group,
		   struct strbuf *why);

#endif
