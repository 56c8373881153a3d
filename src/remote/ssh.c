/* SPDX-License-Identifier: MIT */
/*
 * ssh.c: ssh argv vectors and remote command strings for `genv remote`
 * (ssh.h), plus the private directory for connection-sharing sockets.
 */
#include "compat.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <sys/stat.h>
#include <unistd.h>

/*
 * ssh creates "<ControlPath>.<16 random chars>" and renames it; %C is 40
 * hex digits. Unix socket paths hold at most 107 bytes plus the NUL.
 */
#define SSH_SOCKET_PATH_MAX 104
#define SSH_CONTROL_SUFFIX (1 + 40 + 1 + 16)

void
ssh_build_argv(struct strvec *argv, const struct ssh_opts *o,
	       const struct host *h, const char *remote_cmd)
{
	strvec_push(argv, o->program && *o->program ? o->program : "ssh");
	if (o->interactive) {
		strvec_push(argv, "-t");
	} else {
		strvec_push(argv, "-T");
		strvec_pushv(argv, (const char *const[]){ "-o", "BatchMode=yes", NULL });
	}
	if (o->connect_timeout > 0) {
		strvec_push(argv, "-o");
		strvec_pushf(argv, "ConnectTimeout=%ld", o->connect_timeout);
	}
	if (h->user)
		strvec_pushv(argv, (const char *const[]){ "-l", h->user, NULL });
	if (o->control_dir) {
		strvec_pushv(argv, (const char *const[]){ "-o", "ControlMaster=auto", NULL });
		strvec_push(argv, "-o");
		strvec_pushf(argv, "ControlPath=%s/%%C", o->control_dir);
		strvec_pushv(argv, (const char *const[]){ "-o", "ControlPersist=60", NULL });
	}
	/* "--": a host can never be taken for an option (hosts.c rejects '-' too) */
	strvec_push(argv, "--");
	strvec_push(argv, h->name);
	if (remote_cmd)
		strvec_push(argv, remote_cmd);
}

static int
check_control_dir(const char *dir, struct strbuf *err)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		strbuf_addf(err, "cannot use '%s' for ssh connection sockets", dir);
		strbuf_add_errno(err, errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		strbuf_addf(err, "'%s' is not a directory owned by us; "
			    "refusing to keep ssh connection sockets there", dir);
		return -1;
	}
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
		strbuf_addf(err, "cannot make '%s' private", dir);
		strbuf_add_errno(err, errno);
		return -1;
	}
	return 0;
}

int
ssh_control_dir(struct strbuf *dir, struct strbuf *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	size_t start = dir->len;

	if (xdg && *xdg == '/' && !stat(xdg, &st) && S_ISDIR(st.st_mode) &&
	    strlen(xdg) + strlen("/genv-ssh") + SSH_CONTROL_SUFFIX < SSH_SOCKET_PATH_MAX)
		strbuf_addf(dir, "%s/genv-ssh", xdg);
	else
		strbuf_addf(dir, "/tmp/genv-ssh-%lu", (unsigned long)geteuid());

	if (dir->len - start + SSH_CONTROL_SUFFIX >= SSH_SOCKET_PATH_MAX) {
		strbuf_addf(err, "the ssh socket directory '%s' is too long for Unix sockets",
			    dir->buf + start);
		strbuf_setlen(dir, start);
		return -1;
	}
	if (mkdir(dir->buf + start, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create '%s'", dir->buf + start);
		strbuf_add_errno(err, errno);
		strbuf_setlen(dir, start);
		return -1;
	}
	if (check_control_dir(dir->buf + start, err) < 0) {
		strbuf_setlen(dir, start);
		return -1;
	}
	return 0;
}

void
ssh_snapshot_command(struct strbuf *out, const char *remote_genv, const char *type)
{
	sq_quote_if_needed(out, remote_genv);
	strbuf_addstr(out, " usage snapshot --type ");
	strbuf_addstr(out, type);
}

void
ssh_genv_command(struct strbuf *out, const char *remote_genv,
		 const char *const *args, int as_root)
{
	struct strbuf cmd = STRBUF_INIT, script = STRBUF_INIT;

	sq_quote_if_needed(&cmd, remote_genv ? remote_genv : "genv");
	for (size_t i = 0; args[i]; i++) {
		strbuf_addch(&cmd, ' ');
		sq_quote_if_needed(&cmd, args[i]);
	}
	if (!as_root) {
		strbuf_addbuf(out, &cmd);
	} else {
		strbuf_addf(&script, "if [ \"$(id -u)\" -eq 0 ]%s; then exec %s; fi; exec sudo -n %s",
			    as_root == SSH_ROOT_IF_ALLOWED ? " || ! sudo -n true 2>/dev/null" : "",
			    cmd.buf, cmd.buf);
		strbuf_addstr(out, "exec /bin/sh -c ");
		sq_quote(out, script.buf);
	}
	strbuf_release(&cmd);
	strbuf_release(&script);
}

/*
 * The watcher: waits for EOF on fd 3 (the session's stdin), then stops the
 * command if it still runs: SIGTERM to the process group sshd made for the
 * session ($$ leads it), SIGKILL a second later; it ignores SIGTERM itself
 * so that it lives to send the second. Without a group (a login shell that
 * forked), only $$ gets the signals.
 */
#define SSH_WATCHER \
	"{ trap \"\" TERM; while read -r x; do :; done; kill -0 $$ 2>/dev/null || exit 0; " \
	"kill -s TERM -- -$$ 2>/dev/null || kill -s TERM $$; sleep 1; " \
	"kill -s KILL -- -$$ 2>/dev/null || kill -s KILL $$; } <&3 >/dev/null 2>&1 & exec 3<&-; "

void
ssh_tied_command(struct strbuf *out, const char *cmd, long long payload_len)
{
	struct strbuf script = STRBUF_INIT;

	if (payload_len < 0) {
		strbuf_addstr(&script, "exec 3<&0 </dev/null; " SSH_WATCHER);
		strbuf_addstr(&script, cmd);
	} else {   /* "." keeps trailing newlines through $(...) */
		strbuf_addf(&script, "exec 3<&0; p=$(head -c %lld <&3; echo .); exec </dev/null; "
			    SSH_WATCHER "printf %%s \"${p%%.}\" | { ", payload_len);
		strbuf_addstr(&script, cmd);
		strbuf_addstr(&script, "\n}");
	}
	strbuf_addstr(out, "exec /bin/sh -c ");
	sq_quote(out, script.buf);
	strbuf_release(&script);
}

/* Appends printf '%s\n' MESSAGE >&2 (echo would expand backslashes in dash). */
static void
add_complaint(struct strbuf *script, const char *message)
{
	strbuf_addstr(script, "printf '%s\\n' ");
	sq_quote(script, message);
	strbuf_addstr(script, " >&2");
}

void
ssh_activate_command(struct strbuf *out, const struct remote_activate *a)
{
	struct strbuf script = STRBUF_INIT, msg = STRBUF_INIT;

	strbuf_addstr(&script, "G=");
	sq_quote(&script, a->remote_genv ? a->remote_genv : "genv");
	strbuf_addstr(&script, "; command -v \"$G\" >/dev/null 2>&1 || { ");
	strbuf_addf(&msg, "genv is not installed on %s or not on its non-interactive PATH; "
		    "install it or pass --remote-genv /path/to/genv", a->host);
	add_complaint(&script, msg.buf);
	strbuf_addstr(&script, "; exit 127; }; ");
	/* variables of a genv session the client may have sent (SendEnv GENV_*) */
	strbuf_addstr(&script, "unset GENV_ENVIRONMENT_ID GENV_SHELL GENV_ENVS "
		      "GENV_BACKUP_ENVS GENV_ENVIRONMENT_NAME GENV_GPUS GENV_GPU_MEMORY; ");
	strbuf_addstr(&script, "E=$$; \"$G\" envs activate --eid \"$E\" --uid \"$(id -u)\" "
		      "--username \"$(id -un)\" --pid \"$E\"");
	if (a->name) {
		strbuf_addstr(&script, " && \"$G\" envs config --eid \"$E\" name --name ");
		sq_quote(&script, a->name);
	}
	if (a->gpu_memory) {
		strbuf_addstr(&script,
			      " && \"$G\" envs config --eid \"$E\" gpu-memory --gpu-memory ");
		sq_quote(&script, a->gpu_memory);
	}
	if (a->gpus > 0) {
		strbuf_addf(&script, " && \"$G\" envs config --eid \"$E\" gpus --count %ld"
			    " && \"$G\" devices attach --eid \"$E\" --count %ld >/dev/null",
			    a->gpus, a->gpus);
	}
	strbuf_addstr(&script, " || { ");
	strbuf_reset(&msg);
	strbuf_addf(&msg, "genv: could not reserve GPUs on %s (taken meanwhile)", a->host);
	add_complaint(&script, msg.buf);
	strbuf_addf(&script, "; \"$G\" envs deactivate --pid \"$E\" >/dev/null 2>&1; exit %d; }; ",
		    SSH_ACTIVATE_TAKEN);
	strbuf_addf(&script, "exec env GENV_PREACTIVATE=1 GENV_PREACTIVATE_PROMPT=%d "
		    "\"${SHELL:-/bin/sh}\" -l", a->prompt ? 1 : 0);

	/* whatever the login shell (sh, bash, zsh, csh), the script runs in sh */
	strbuf_addstr(out, "exec /bin/sh -c ");
	sq_quote(out, script.buf);
	strbuf_release(&script);
	strbuf_release(&msg);
}
