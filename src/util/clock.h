/* SPDX-License-Identifier: MIT */
/*
 * clock.h: the one clock. Deadlines, timeouts and intervals use the
 * monotonic clock (it never jumps when the wall clock is set); timestamps
 * people read use the wall clock.
 */
#ifndef GENV_UTIL_CLOCK_H
#define GENV_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock, from an arbitrary origin. */
int64_t clock_monotonic_ms(void);

/* Seconds on the monotonic clock, to the nanosecond: short durations. */
double clock_monotonic_seconds(void);

/* Sleeps ms milliseconds (a signal may end it early). */
void clock_sleep_ms(int64_t ms);

/* Seconds since the epoch (UTC), as time(NULL). */
time_t clock_wall(void);

#endif
