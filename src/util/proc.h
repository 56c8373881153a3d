/* SPDX-License-Identifier: MIT */
/*
 * proc.h: the one reader of /proc. Everything genv learns about another
 * process (its real uid, its start time, a variable of its environment,
 * its command line) and where its own executable is comes from here.
 *
 * Functions return 0 or -1 with errno from the failing call: ENOENT or
 * ESRCH when the process is gone, EACCES or EPERM when its files may not
 * be read (another user's environ without root).
 */
#ifndef GENV_UTIL_PROC_H
#define GENV_UTIL_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;
struct strvec;

/* The real uid (first field of "Uid:" in /proc/PID/status). */
int proc_real_uid(long pid, long long *uid);

/*
 * The start time (field 22 of /proc/PID/stat, clock ticks since boot):
 * with the pid, it names one process for good, since a pid can be reused.
 * Fails (ESRCH) for a zombie too: it has ended, only its parent has not
 * reaped it.
 */
int proc_start_time(long pid, unsigned long long *start_time);

/*
 * The value of variable name in /proc/PID/environ, as the process started
 * (the last definition wins, as in a Python dict). *value is malloc'ed, or
 * NULL when the variable is not set.
 */
int proc_environ_get(long pid, const char *name, char **value);

/* The arguments of the process (/proc/PID/cmdline); none for a kernel thread. */
int proc_cmdline(long pid, struct strvec *argv);

/*
 * The TCP ports pid listens on (IPv4 and IPv6), ascending, without
 * duplicates; *ports is malloc'ed (NULL when none).
 */
int proc_listen_ports(long pid, long **ports, size_t *nr);

/*
 * Who holds a lock (flock, POSIX or OFD) on the file dev/ino: up to max
 * pids from /proc/locks into pids (waiters are not holders; an OFD lock or
 * a holder in another pid namespace has no pid and is left out). Returns
 * how many, or -1. Entries that match ino on another device are taken only
 * when none matches both (overlay file systems report other devices).
 */
int proc_lock_holders(dev_t dev, ino_t ino, long *pids, size_t max);

/* The canonical path of our own executable (malloc'ed), or NULL. */
char *proc_self_exe(void);

/*
 * Appends to out the canonical path of rel ("/../etc/...") taken from the
 * directory of our executable; -1 (out untouched) when it does not exist.
 */
int proc_self_relative(const char *rel, struct strbuf *out);

#endif
