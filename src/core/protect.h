/* SPDX-License-Identifier: MIT */
/*
 * protect.h: the protected mode (doc/security.md).
 *
 * `genv-protect enable` (contrib/genv-protect.sh; `make install
 * PROTECTED=1` runs it) makes the binary setgid to a group (genv), creates
 * the state directory root:GROUP 2770 and records both, with the NVML
 * library to load, in <prefix>/etc/genv/genv.conf (/etc/genv/genv.conf for
 * the prefix /usr): a file found from the binary's own real path
 * (/proc/self/exe), used only when only root can have written it. The caller's environment is not trusted:
 * protect_init() decides once, at start-up, whether this process works on
 * the protected state with the group privilege, or drops the privilege for
 * good because a variable (GENV_TMPDIR, GENV_NVML_LIBRARY) asks for
 * something the installation did not choose.
 */
#ifndef GENV_CORE_PROTECT_H
#define GENV_CORE_PROTECT_H

#include "util/strbuf.h"

/* What genv.conf records. */
struct install_config {
	int protected;        /* "protected = 1" */
	char *state_dir;      /* absolute */
	char *group;          /* name, for messages */
	long long gid;        /* -1 when not given */
	char *nvml_library;   /* absolute, or NULL for the driver's */
	long long max_envs_per_user;  /* 0 = no limit, -1 when not given */
};
#define INSTALL_CONFIG_INIT { 0, NULL, NULL, -1, NULL, -1 }

/*
 * Parses genv.conf ("key = value" lines, "#" comment lines): protected,
 * state_dir, group, gid, nvml_library, max_envs_per_user. Unknown keys and bad values are
 * errors. Returns 0, or -1 with a message naming the line in err.
 */
int install_config_parse(struct install_config *c, const char *text,
			 struct strbuf *err);
void install_config_release(struct install_config *c);

/*
 * Called once by main(), right after priv_startup(). Reads genv.conf if
 * there is one; drops the group privilege for good unless this process is
 * to work on the protected state; makes the GPU layer load the recorded
 * library. What the user should know (a record that is ignored, and why)
 * is appended to warn, one "genv: warning: ..." line each. Returns -1 with
 * err only when the privilege could not be dropped.
 */
int protect_init(struct strbuf *warn, struct strbuf *err);

/*
 * genv.conf's max_envs_per_user (0 = no limit), or -1 when there is no
 * trusted record or it does not say.
 */
long long protect_max_envs_per_user(void);

/* Whether this process uses the protected state. */
int protect_active(void);

/*
 * Where the state is. Returns 1 with *dir the protected state directory,
 * checked (a directory only root can have put there, group GROUP, closed
 * to others; root recreates it when it is gone); 0 for the shared state,
 * with *dir the recorded default or NULL ($GENV_TMPDIR or genv's default
 * then); -1 with err when it is the protected state but this process may
 * not use it (its privilege was dropped for a variable of the caller's)
 * or the directory is not safe.
 */
int protect_state_dir(const char **dir, struct strbuf *err);

#endif
