/* SPDX-License-Identifier: MIT */
/*
 * timefmt.h: the timestamps genv stores ("24/11/2026 01:12:03", local
 * time) and the "7 seconds ago" wording of genv 1.4.3 tables.
 */
#ifndef GENV_CORE_TIMEFMT_H
#define GENV_CORE_TIMEFMT_H

#include <time.h>

struct strbuf;

/* Appends t formatted as "%d/%m/%Y %H:%M:%S" in local time. */
void genv_time_format(struct strbuf *out, time_t t);
/* Parses that format (local time). Returns 0 or -1. */
int genv_time_parse(const char *s, time_t *t);
/*
 * Appends 1.4.3's time_since(stamp) relative to now: "0 second ago",
 * "2 seconds ago", "1 minute ago", ... "10 weeks ago". An unparsable
 * stamp is appended as is.
 */
void genv_time_since(struct strbuf *out, const char *stamp, time_t now);

#endif
