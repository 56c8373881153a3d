# shellcheck shell=bash
# t/lib-sshlog.sh: counts the ssh processes genv starts (sourced after
# fakehosts_setup): an `ssh` first on PATH appends the host it is asked to
# reach to $TRASH/ssh.log, then runs the fake hosts' ssh.

sshlog_setup() {
	mkdir -p "$TRASH/logbin" || return 1
	cat >"$TRASH/logbin/ssh" <<-EOF
	#!/bin/sh
	for a; do h=\$p; p=\$a; done
	echo "\$h" >>"$TRASH/ssh.log"
	exec "$FAKEHOSTS_BIN/ssh" "\$@"
	EOF
	chmod +x "$TRASH/logbin/ssh" || return 1
	export PATH="$TRASH/logbin:$PATH"
	: >"$TRASH/ssh.log"
}

# sshlog_count HOST: how many ssh were started for HOST so far.
sshlog_count() { grep -cx -- "$1" "$TRASH/ssh.log"; }
