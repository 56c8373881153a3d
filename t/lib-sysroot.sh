# shellcheck shell=bash
# t/lib-sysroot.sh: the rest of the test runs in a throwaway copy of this
# machine, sourced after lib.sh. The script is run again in a private mount
# namespace where /etc, /usr, /var, /home, /root and /opt are overlays whose
# changes land in the trash directory: there a test installs packages, adds
# users and edits /etc for real, with the system's own default paths, while
# the machine's files never change; everything is gone when the test exits,
# even when it fails or is killed. /tmp (the trash) and /run are shared.
#
#   SRC_DIR            the source tree (for make install, make deb)
#   sysroot_fake_nvml  copies the fake NVML library and the GPU inventory
#                      where every user can read them (/usr/local/lib/
#                      genv-test) and points GENV_NVML_LIBRARY and
#                      GENV_FAKE_NVML_CONFIG there
#   sysroot_useradd NAME SHELL   a new user as `useradd -m` makes one, with
#                      a uid no user of the machine has (processes are
#                      the machine's: a shared uid would mix them up)
#   sysroot_new_paths DEB   the paths of the package DEB that the machine
#                      does not have yet, one a line (what it must remove)
#   sysroot_none_left FILE  none of the paths listed in FILE is left
#   sysroot_cleanup    ends every process left in the namespace (a shell's
#                      background job, say); it is the cleanup hook, and a
#                      test that sets its own hook calls it there
#
# Needs root (mount namespaces, overlayfs); without it the test is skipped.

SRC_DIR=$(cd "$T_DIR/.." && pwd)

if [ -z "${T_IN_SYSROOT-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "# $TEST_NAME: skipped: needs root (a mount namespace with overlays of /etc, /usr, /var)"
		test_done
		exit 0
	fi
	if ! sysroot_err=$(unshare --mount --propagation private true 2>&1); then
		test_expect_success 'a private mount namespace (unshare --mount)' '
			echo "unshare: $sysroot_err"; false'
		test_done
		exit 1
	fi
	# again, in the namespace, with a trash directory of its own
	trap - EXIT
	cd / && rm -rf "$TRASH"
	exec unshare --mount --propagation private env T_IN_SYSROOT=1 \
		bash "$T_DIR/$(basename "$0")" "$@"
fi

sysroot_mount() {
	local d
	for d in etc usr var home root opt; do
		[ -d "/$d" ] && [ ! -L "/$d" ] || continue
		mkdir -p "$TRASH/sysroot/$d/upper" "$TRASH/sysroot/$d/work" &&
		mount -t overlay "genv-test-$d" \
			-o "lowerdir=/$d,upperdir=$TRASH/sysroot/$d/upper,workdir=$TRASH/sysroot/$d/work" \
			"/$d" || return 1
	done
}

if ! sysroot_err=$(sysroot_mount 2>&1); then
	test_expect_success 'overlays of /etc, /usr, /var, /home, /root, /opt' '
		echo "$sysroot_err"; false'
	test_done
	exit 1
fi

sysroot_fake_nvml() {
	local dir=/usr/local/lib/genv-test
	mkdir -p "$dir" &&
	cp "$GENV_NVML_LIBRARY" "$dir/libnvidia-ml.so.1" &&
	cp "$GENV_FAKE_NVML_CONFIG" "$dir/gpus.conf" &&
	chmod 0644 "$dir/libnvidia-ml.so.1" "$dir/gpus.conf" &&
	export GENV_NVML_LIBRARY="$dir/libnvidia-ml.so.1" &&
	export GENV_FAKE_NVML_CONFIG="$dir/gpus.conf"
}

sysroot_useradd() {
	local uid=$((61000 + $$ % 3000))
	while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
		uid=$((uid + 1))
	done
	retry useradd -K UID_MAX=65000 -K GID_MAX=65000 -m -u "$uid" -U -s "$2" "$1"
}

sysroot_new_paths() {
	dpkg-deb --fsys-tarfile "$1" 2>/dev/null | tar -t | sed -e 's|^\./|/|' -e 's|/$||' |
		grep . | while read -r p; do
			[ -e "$p" ] || [ -L "$p" ] || echo "$p"
		done
}

sysroot_none_left() {
	local f
	while read -r f; do
		test ! -e "$f" && test ! -L "$f" || { echo "left: $f"; return 1; }
	done <"$1"
}

# sysroot_pids: the processes of this mount namespace but the test's own
# shell. The namespace is the test's: it started every one of them.
sysroot_pids() {
	local ns p
	ns=$(readlink /proc/$$/ns/mnt)
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
		[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "$p"
	done
}

# Ends them (a shell's background job, say), waiting until they are gone.
sysroot_cleanup() {
	local pids
	pids=$(sysroot_pids)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	test_wait_for 5 eval '[ -z "$(sysroot_pids)" ]'
	return 0
}
test_cleanup_hook=sysroot_cleanup
