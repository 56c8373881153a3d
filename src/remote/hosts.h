/* SPDX-License-Identifier: MIT */
/*
 * hosts.h: the host list of `genv remote`, from `-H a,b,c` or a hostfile.
 *
 * Both accept `user@host` (a per-host login that wins over `-l`). The
 * hostfile has one host per line; surrounding blanks and a trailing CR
 * are ignored, as are blank lines and `#` comments (a whole line, or the
 * rest of a line). Unlike 1.4.3, which passes anything on to ssh, a bad
 * entry is an error naming its place ("hosts.txt:3: ..."): an empty host
 * or user, blanks inside a name, more than one '@', a name starting with
 * '-' (it would be read as an ssh option) or containing control
 * characters, and an empty list. The same user@host twice is an error too
 * (it would be counted twice in every summary).
 */
#ifndef GENV_REMOTE_HOSTS_H
#define GENV_REMOTE_HOSTS_H

#include <stddef.h>

struct strbuf;

struct host {
	char *name;   /* what ssh connects to, and what tables print */
	char *user;   /* login name, or NULL for ssh's default */
	char *entry;  /* the entry as written ("user2@gpu-server-2"); may be NULL */
};

/*
 * How messages name h: its entry as written in the host list, so that a
 * failing "user2@gpu-server-2" is not taken for a "gpu-server-2" row
 * (tables print only the name, as 1.4.3); the name when there is no entry.
 */
const char *host_entry(const struct host *h);

struct hostlist {
	struct host *v;
	size_t nr, alloc;
};
#define HOSTLIST_INIT { NULL, 0, 0 }

void hostlist_release(struct hostlist *hl);

/*
 * Appends the hosts of a comma-separated list (blanks around items are
 * ignored). default_user (may be NULL) applies to items without "user@".
 * Returns 0, or -1 with a message in err; hl is then left unchanged.
 */
int hostlist_parse_list(struct hostlist *hl, const char *spec,
			const char *default_user, struct strbuf *err);

/*
 * Appends the hosts of hostfile text; what names the file in messages.
 * Returns 0, or -1 with "<what>:<line>: <problem>" in err.
 */
int hostlist_parse_text(struct hostlist *hl, const char *text, size_t len,
			const char *what, const char *default_user,
			struct strbuf *err);

/* Reads and parses the hostfile at path. */
int hostlist_read_file(struct hostlist *hl, const char *path,
		       const char *default_user, struct strbuf *err);

#endif
