/* SPDX-License-Identifier: MIT */
/*
 * admin.h: what `genv envs` and `genv devices` share: their global options
 * --no-cleanup and --reset, and printing what a procedure returned.
 */
#ifndef GENV_CLI_ADMIN_H
#define GENV_CLI_ADMIN_H

struct strbuf;

/* The store's load flags (enum store_flags) for --no-cleanup and --reset. */
unsigned admin_store_flags(int no_cleanup, int reset);

/*
 * Prints err (when the procedure failed: rc < 0) or out (when it
 * succeeded), releases both and returns the exit status.
 */
int admin_finish(int rc, struct strbuf *out, struct strbuf *err);

#endif
