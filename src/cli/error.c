/* SPDX-License-Identifier: MIT */
/*
 * error.c: cli_error(), on its own so that the static nvidia-smi shim
 * (shim-main.c) links it without the command table.
 */
#include "compat.h"
#include "cli/cli.h"

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
