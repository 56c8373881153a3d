/* SPDX-License-Identifier: MIT */
/* passwd.c: a uid's login name and home directory (passwd.h). */
#include "compat.h"
#include "util/passwd.h"
#include "util/xalloc.h"

#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#define PASSWD_BUF_MAX (1 << 20)   /* an entry larger than this is no one's */

int
passwd_lookup(long long uid, struct strbuf *name, struct strbuf *home)
{
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *found = NULL;
	char *buf = NULL;
	int e;

	if (uid < 0 || uid > (long long)UINT_MAX)
		return -1;
	if (size < 1024)
		size = 16384;
	for (;;) {
		buf = xrealloc(buf, (size_t)size);
		e = getpwuid_r((uid_t)uid, &pw, buf, (size_t)size, &found);
		if (e != ERANGE || size >= PASSWD_BUF_MAX)
			break;
		size *= 2;
	}
	if (!e && found) {
		if (name)
			strbuf_addstr(name, pw.pw_name ? pw.pw_name : "");
		if (home)
			strbuf_addstr(home, pw.pw_dir ? pw.pw_dir : "");
	}
	free(buf);
	return !e && found ? 0 : -1;
}
