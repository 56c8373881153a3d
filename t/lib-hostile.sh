# shellcheck shell=bash
# t/lib-hostile.sh: another user attacks the shared state directory
# (sourced after lib.sh by the t6000-t6099 scripts). Root runs genv; a real
# unprivileged user (uid/gid 65534, through setpriv, no supplementary
# groups) plants links, FIFOs and directories there or holds its lock. A
# second unprivileged uid (65533, no passwd entry) plays a victim who is not
# root. Nothing here touches a real system file: the "root-only file" is
# $TRASH/secret.

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
	! getent passwd 65534 >/dev/null; then
	echo "# skipped: needs root, setpriv and a passwd entry for uid 65534"
	test_done
	exit
fi

# the other users must reach the state directory and the fake GPU inventory
chmod 0755 "$TRASH"
ATTACKER=$(getent passwd 65534 | cut -d: -f1)
VICTIM_UID=65533
D=$GENV_TMPDIR

# as_other CMD... (lib.sh): CMD as the attacker; as_victim CMD...: as the
# other user.
as_victim() { setpriv --reuid=$VICTIM_UID --regid=$VICTIM_UID --clear-groups "$@"; }

# fresh_secret: the root-only file as it was (a test failing on an older
# genv changed it: the next one starts again from it)
fresh_secret() {
	rm -f "$TRASH/secret" "$TRASH/created-by-root" &&
	printf '{\n  "envs": []\n}' >"$TRASH/secret" &&
	chmod 0600 "$TRASH/secret"
}
fresh_secret
SECRET_SUM=$(cksum <"$TRASH/secret")
# secret_untouched: same bytes, still root's 0600 with one link
secret_untouched() {
	test "$(cksum <"$TRASH/secret")" = "$SECRET_SUM" &&
	test "$(stat -c %a:%u:%h "$TRASH/secret")" = "600:0:1"
}

# victim_sleeper VAR: a `sleep 1000` of the victim (her own process to
# register: another user's is refused), tracked; call at the top level.
victim_sleeper() {
	setpriv --reuid=$VICTIM_UID --regid=$VICTIM_UID --clear-groups sleep 1000 &
	test_track_pid $!
	printf -v "$1" '%s' $!
}

# plant NAME TARGET: the attacker replaces $D/NAME with a symlink to TARGET.
plant() { rm -rf "${D:?}/$1" && as_other ln -s "$2" "$D/$1"; }

# elapsed_ms CMD...: runs CMD, its status kept, its duration in $ELAPSED_MS.
elapsed_ms() {
	local t0=$(date +%s%N) rc
	"$@"
	rc=$?
	ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
	return $rc
}

# may_fail CMD...: CMD succeeds or fails cleanly, but neither crashes nor
# hangs (run it under timeout: 124 is a hang).
may_fail() {
	"$@"
	local rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 99 ] || [ $rc -gt 125 ]; then
		echo "may_fail: '$*' exited $rc" >&2
		return 1
	fi
}
