/* SPDX-License-Identifier: MIT */
/*
 * ssh.h: the ssh command lines `genv remote` runs. Always argv vectors
 * (no local shell); the remote command is a single argument, quoted for
 * the remote POSIX shell with quote.h.
 *
 * Non-interactive calls look like
 *   ssh -T -o BatchMode=yes -o ConnectTimeout=10 [-l USER]
 *       [-o ControlMaster=auto -o ControlPath=DIR/%C -o ControlPersist=60]
 *       -- HOST 'genv usage snapshot --type devices'
 * BatchMode: never prompt for a password on a terminal nobody watches.
 */
#ifndef GENV_REMOTE_SSH_H
#define GENV_REMOTE_SSH_H

struct host;
struct strbuf;
struct strvec;

struct ssh_opts {
	const char *program;     /* "ssh" unless $GENV_SSH says otherwise */
	long connect_timeout;    /* seconds; <= 0: ssh's own default */
	const char *control_dir; /* connection reuse when non-NULL */
	int interactive;         /* -t (terminal) instead of -T -o BatchMode=yes */
};
#define SSH_OPTS_INIT { "ssh", 10, NULL, 0 }

/* Appends the ssh argv that runs remote_cmd (may be NULL) on h. */
void ssh_build_argv(struct strvec *argv, const struct ssh_opts *o,
		    const struct host *h, const char *remote_cmd);

/*
 * The directory for connection-sharing sockets: $XDG_RUNTIME_DIR/genv-ssh
 * when that variable names an existing directory, else /tmp/genv-ssh-<uid>.
 * Created with mode 0700 if missing; an existing one must be a directory
 * owned by us and not accessible by others (else anybody could hijack
 * our connections). Fails, too, when sockets in it would exceed the
 * 104-byte limit of Unix socket paths ("%C" adds 41 bytes).
 */
int ssh_control_dir(struct strbuf *dir, struct strbuf *err);

/*
 * Appends the remote command that prints a snapshot of the given type
 * ("devices", "envs") with the genv at remote_genv ("genv": PATH lookup).
 */
void ssh_snapshot_command(struct strbuf *out, const char *remote_genv,
			  const char *type);

#endif
