/* SPDX-License-Identifier: MIT */
/*
 * passwd.h: a uid's passwd entry (getpwuid_r) without a caller's fixed
 * buffer: the one lookup behind every "alice (uid 1000)" and home
 * directory genv needs.
 */
#ifndef GENV_UTIL_PASSWD_H
#define GENV_UTIL_PASSWD_H

#include "util/strbuf.h"

/*
 * Looks up uid in the passwd database. When it has an entry: appends its
 * login name to name and its home directory to home (either may be NULL)
 * and returns 0; else (a negative uid, no entry, an error) returns -1 and
 * appends nothing.
 */
int passwd_lookup(long long uid, struct strbuf *name, struct strbuf *home);

#endif
