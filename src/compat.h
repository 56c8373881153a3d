/* SPDX-License-Identifier: MIT */
/*
 * compat.h: the first include of every .c file. Feature macros, small
 * attributes and helpers every module may use, and the list of libc
 * functions we refuse to call (see banned.h).
 */
#ifndef GENV_COMPAT_H
#define GENV_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define UNUSED __attribute__((unused))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
