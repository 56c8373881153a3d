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

/*
 * Appends the remote command that runs the genv at remote_genv with args
 * (quoted as needed). With as_root, for the commands 1.4.3 runs with sudo
 * (full snapshots, executing enforcement reports): as is when the login
 * is root, else through `sudo -n` (never a password prompt), in
 * `exec /bin/sh -c '...'` so that any login shell can run it. With
 * SSH_ROOT_IF_ALLOWED, `sudo -n` is used only when it works there, and
 * the command runs as the login user otherwise (`genv top`: seeing what
 * every user runs needs root, but a user without sudo sees the rest).
 */
#define SSH_ROOT_IF_ALLOWED 2
void ssh_genv_command(struct strbuf *out, const char *remote_genv,
		      const char *const *args, int as_root);

/*
 * Appends a remote command that runs cmd (remote shell text: commands
 * built above; begin a single command with "exec " to spare the remote
 * shell a fork) so that it dies with the session. ssh gives the remote command our stdin, but sshd
 * sends no signal to a command without a terminal when the connection
 * closes. So a watcher in the background reads stdin until EOF, which
 * comes when genv closes its end (run.c's hold_stdin: after ssh exited,
 * was killed at a deadline, or genv died) or the connection drops, and
 * then stops cmd if it still runs (SIGTERM to the session's process
 * group, SIGKILL a second later). cmd gets /dev/null, or with
 * payload_len >= 0 the first payload_len bytes of stdin, then EOF.
 *
 *   exec /bin/sh -c 'exec 3<&0 </dev/null; { WATCHER } <&3 ... & exec 3<&-; CMD'
 *
 * POSIX sh (plus `head -c` for a payload): the hosts' genv, 1.4.3
 * included, sees the same command line as without it.
 */
void ssh_tied_command(struct strbuf *out, const char *cmd, long long payload_len);

/* ssh's exit status when the remote reservation lost a race (EX_TEMPFAIL). */
#define SSH_ACTIVATE_TAKEN 75

struct remote_activate {
	const char *remote_genv;   /* "genv" unless configured */
	const char *host;          /* named in the "taken meanwhile" message */
	long gpus;                 /* devices to reserve; <= 0: none */
	const char *gpu_memory;    /* per-device memory, or NULL */
	const char *name;          /* environment name, or NULL */
	int prompt;                /* 0: --no-prompt */
};

/*
 * Appends the remote command of `genv remote activate`: it reserves the
 * environment atomically on the remote host, then becomes the user's
 * login shell in the same connection (no AcceptEnv needed):
 *
 *   exec /bin/sh -c '<script>'
 *
 * where the script, with the remote shell's pid E ($$, kept by every exec)
 * as the environment id, runs `genv envs activate --eid E --pid E`, sets
 * the configuration (`genv envs config`), attaches with `genv devices
 * attach --eid E --count N` (each under the remote genv's lock, so two
 * clients can never both get the last GPU), and execs
 * `env GENV_PREACTIVATE=1 GENV_PREACTIVATE_PROMPT=1|0 $SHELL -l`. The login
 * shell's genv init then runs `genv activate`, which joins environment E
 * (its own pid) and picks up the configuration and devices from the
 * state. The preactivation variables for --gpus and --name are left out
 * on purpose: 1.4.3's `genv activate --gpus N` would replace the whole
 * configuration and drop the memory limit. The commands used all exist
 * in genv 1.4.3, so Python hosts work too.
 *
 * When the reservation fails (another client was faster) the environment
 * is removed again and the command exits with SSH_ACTIVATE_TAKEN; when the
 * remote genv is missing, with 127. Every value is single-quoted.
 */
void ssh_activate_command(struct strbuf *out, const struct remote_activate *a);

#endif
