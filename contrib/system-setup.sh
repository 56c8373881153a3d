#!/bin/sh
# system-setup install|remove: the parts of genv's installation that edit
# files genv does not own. Installed as PREFIX/libexec/genv/system-setup;
# `make install` and `make uninstall` (installing into the system) and the
# Debian package's maintainer scripts run it.
#
# install: adds one marked line to @SYSCONFDIR@/bash.bashrc (interactive
#   bash that is not a login shell reads no drop-in directory) and to
#   @SYSCONFDIR@/zsh/zshenv (every zsh reads it; the snippet itself keeps
#   to interactive and login shells), each sourcing
#   @SYSCONFDIR@/profile.d/genv.sh; files that do not exist are skipped (a
#   shell installed later: run it again; the package does so by itself).
#   Creates the state directory @STATEDIR@ (root's, 0777 as genv makes it)
#   when it does not exist, so that it is not the first user's; not in the
#   protected mode (genv-protect), whose closed directory root's genv makes.
# remove: deletes the marked lines. The state directory stays: it holds
#   the users' environments.
# Both are idempotent.
set -eu
sysconfdir='@SYSCONFDIR@'
statedir='@STATEDIR@'
record='@CONFDIR@/genv.conf'
snippet="$sysconfdir/profile.d/genv.sh"
marker='# genv shell integration (added by genv; removed when genv is uninstalled)'
line="if [ -r '$snippet' ]; then . '$snippet'; fi $marker"
rcfiles="$sysconfdir/bash.bashrc $sysconfdir/zsh/zshenv"

unhook() {
	grep -qF -- "$marker" "$1" || return 0
	sed -i --follow-symlinks "\\|$marker|d" "$1"
}

hook() {
	if grep -qxF -- "$line" "$1"; then return 0; fi
	unhook "$1"	# a line for another path: replaced
	# a file not ending in a newline gets one first
	if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then echo >>"$1"; fi
	printf '%s\n' "$line" >>"$1"
}

case ${1-} in
install)
	for f in $rcfiles; do
		if [ -f "$f" ]; then hook "$f"; fi
	done
	if [ ! -e "$statedir" ] && [ ! -L "$statedir" ] &&
		! grep -qx 'protected = 1' "$record" 2>/dev/null; then
		mkdir -p "$(dirname "$statedir")"
		mkdir -m 0777 "$statedir"
	fi
	;;
remove)
	for f in $rcfiles; do
		if [ -f "$f" ]; then unhook "$f"; fi
	done
	;;
*)
	echo "usage: $0 install|remove" >&2
	exit 2
	;;
esac
