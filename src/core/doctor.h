/* SPDX-License-Identifier: MIT */
/*
 * doctor.h: `genv doctor`: is this machine ready for genv? One finding
 * per check (NVML and its driver, devices, the state directory, the
 * caller's shell integration, the enforcement daemon), each with how to
 * fix it when it is not fine.
 */
#ifndef GENV_CORE_DOCTOR_H
#define GENV_CORE_DOCTOR_H

#include <stddef.h>

enum doctor_level {
	DOCTOR_OK,
	DOCTOR_WARN,   /* genv works, but not as well as it could */
	DOCTOR_FAIL,   /* genv cannot work */
};

struct doctor_finding {
	enum doctor_level level;
	char *check;    /* "nvml", "devices", "state", "shell", "enforce" */
	char *detail;   /* what was found */
	char *fix;      /* how to fix it; NULL when ok */
};

struct doctor {
	struct doctor_finding *v;
	size_t nr, alloc;
};
#define DOCTOR_INIT { NULL, 0, 0 }

/*
 * Runs every check on this machine. shell is the caller's shell ($SHELL,
 * may be NULL); home its home directory (may be NULL). Returns the
 * number of DOCTOR_FAIL findings.
 */
int doctor_run(struct doctor *d, const char *shell, const char *home);
void doctor_release(struct doctor *d);
/* "ok", "warn", "FAIL" */
const char *doctor_level_name(enum doctor_level level);

#endif
