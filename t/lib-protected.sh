# shellcheck shell=bash
# t/lib-protected.sh: a protected install (`make install PROTECTED=1`) of
# the build under test into the trash directory, with a group and two real
# users of its own (created here, removed at exit), sourced after lib.sh.
#
#   P_GENV     the installed, setgid genv      P_STATE   its state directory
#   P_GROUP    its group (P_GID)               P_CONF    its genv.conf
#   USER_A, USER_B (UID_A, UID_B): unprivileged users, homes in the trash
#
#   as A CMD...     runs CMD as user A (setpriv: real ids, no groups) in
#                   A's home, with GENV_TMPDIR naming the protected state
#                   directory (the same as unset for a protected genv; for a
#                   genv without the protected mode, it keeps the test away
#                   from /var/tmp/genv)
#   genv_as A ...   the installed genv as A
#
# The tests need root (they create users and a setgid binary); without
# it the script is skipped.

if [ "$(id -u)" != 0 ]; then
	echo "# $TEST_NAME: skipped: creating users and setgid binaries needs root"
	test_done
	exit 0
fi

P_PREFIX="$TRASH/prefix"
P_STATE="$TRASH/pstate"
P_GENV="$P_PREFIX/bin/genv"
P_CONF="$P_PREFIX/etc/genv/genv.conf"
P_GROUP="genvtest-g$$"
USER_A="genvtest-a$$"
USER_B="genvtest-b$$"
SRC_DIR=$(cd "$T_DIR/.." && pwd)

protected_cleanup() {
	retry userdel "$USER_A"
	retry userdel "$USER_B"
	retry groupdel "$P_GROUP"
}
test_cleanup_hook=protected_cleanup

# Users must reach the prefix, their homes and the fake GPU inventory.
chmod 0755 "$TRASH"
: >"$GENV_FAKE_NVML_CONFIG"
chmod 0644 "$GENV_FAKE_NVML_CONFIG"
for u in a b; do
	name=genvtest-$u$$
	retry useradd -M -N -s /bin/bash -d "$TRASH/home-$u" "$name" || exit 1
	mkdir -p "$TRASH/home-$u" && chown "$name:" "$TRASH/home-$u"
done
UID_A=$(id -u "$USER_A") GID_A=$(id -g "$USER_A")
UID_B=$(id -u "$USER_B") GID_B=$(id -g "$USER_B")

# protected_install [VAR=VALUE...]: make install PROTECTED=1 into the trash.
protected_install() {
	make -C "$SRC_DIR" --no-print-directory install BUILD="$BUILD" \
		PREFIX="$P_PREFIX" PROTECTED=1 STATEDIR="$P_STATE" GROUP="$P_GROUP" \
		NVML_LIBRARY="$GENV_NVML_LIBRARY" "$@"
}

# What an admin would do by hand for a genv without the protected mode
# (its group, the setgid bit, the shared state directory); a no-op after a
# correct protected install. It lets the tests show what such a genv does.
by_hand_without_protected_mode() {
	getent group "$P_GROUP" >/dev/null || retry groupadd --system "$P_GROUP"
	[ -g "$P_GENV" ] || { chgrp "$P_GROUP" "$P_GENV" && chmod 2755 "$P_GENV"; }
	[ -d "$P_STATE" ] || mkdir -m 0777 "$P_STATE"
	P_GID=$(getent group "$P_GROUP" | cut -d: -f3)
}

# as A|B CMD...: CMD as that user, the way a login would run it.
as() {
	local who=$1 uid gid home
	shift
	case $who in
	A) uid=$UID_A gid=$GID_A home="$TRASH/home-a" ;;
	B) uid=$UID_B gid=$GID_B home="$TRASH/home-b" ;;
	*) echo "as: who is '$who'?" >&2; return 1 ;;
	esac
	(cd "$home" && setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env GENV_TMPDIR="$P_STATE" HOME="$home" USER="genvtest-${who,,}$$" \
		LOGNAME="genvtest-${who,,}$$" "$@")
}
genv_as() { local who=$1; shift; as "$who" "$P_GENV" "$@"; }

# sleeper A|B|root: a process of that user (sleep 1000, tracked), pid in
# $sleeper_pid; extra VAR=VALUE arguments go into its environment.
sleeper() {
	local who=$1 uid gid
	shift
	case $who in
	A) uid=$UID_A gid=$GID_A ;;
	B) uid=$UID_B gid=$GID_B ;;
	root) uid=0 gid=0 ;;
	esac
	setpriv --reuid="$uid" --regid="$gid" --clear-groups env "$@" sleep 1000 &
	sleeper_pid=$!
	test_track_pid "$sleeper_pid"
	# it is that user's, with that environment, once sleep runs
	test_wait_for 5 grep -q '^sleep$' "/proc/$sleeper_pid/comm"
}

# The group ids of a process: "real effective saved fs".
gids_of() { sed -n 's/^Gid:[[:space:]]*//p' "/proc/$1/status" | tr -s '\t ' ' '; }
