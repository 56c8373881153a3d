#!/bin/bash
# t4110: `genv remote enforce` by a login that is not root on the hosts
# (real sshd hosts, t/helpers/fakehosts.sh). The fake hosts log in as root,
# so an `id` first on a host's PATH says uid 1000 there: genv then goes
# through `sudo -n`. gpu-server-1 has no sudo at all; gpu-server-2's sudo
# wants a password. Each failure names sudo and the fix (not "genv is not
# installed"); while no host answers the daemon backs off instead of
# retrying every cycle, and it stops when its parent dies.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

fakehosts_setup 2
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
test_cleanup_hook='fakehosts_teardown'
for h in "$H1" "$H2"; do
	printf '#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n' >"$h/bin/id"
	chmod +x "$h/bin/id"
done
printf '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n' >"$H2/bin/sudo"
chmod +x "$H2/bin/sudo"
FIX="run it as root (log in as root), or allow this login passwordless sudo for \`genv usage\` on the host (e.g. 'USER ALL=(root) NOPASSWD: /usr/bin/genv usage *')"

test_expect_success 'no sudo on the host: said so, with the fix' '
	test_expect_code 1 genv remote -H gpu-server-1 enforce --interval 0 --dry-run >out 2>err &&
	echo "cannot run genv as root on gpu-server-1: the login is not root and sudo is not installed there; $FIX" >expect &&
	test_cmp expect err &&
	test ! -s out
'

test_expect_success 'sudo wants a password: said so, with the fix' '
	test_expect_code 1 genv remote -H gpu-server-2 enforce --interval 0 >out 2>err &&
	echo "cannot run genv as root on gpu-server-2: \`sudo -n\` refused (sudo: a password is required); $FIX" >expect &&
	test_cmp expect err
'

test_expect_success 'daemon: backs off while no host answers' '
	genv remote -H gpu-server-1,gpu-server-2 enforce --interval 1 >out 2>err &
	pid=$! && test_track_pid $pid &&
	test_wait_for 20 grep -q "next try in 4 seconds" err &&
	kill -TERM $pid && wait $pid &&
	grep -Fx "genv remote enforce: no host answered; next try in 2 seconds" err &&
	grep -Fx "genv remote enforce: no host answered; next try in 4 seconds" err &&
	test "$(grep -c "^cannot run genv as root on gpu-server-1" err)" -eq 2
'

test_expect_success 'daemon: stops when its parent dies' '
	rm -f daemon.pid
	# on its own: "a && b &" would make $! a subshell, not the parent
	rm -f daemon.err
	sh -c "genv remote -H gpu-server-1 enforce --interval 1 >/dev/null 2>daemon.err & echo \$! >daemon.pid; exec sleep 1000" &
	parent=$! && test_track_pid $parent &&
	test_wait_for 10 test -s daemon.pid &&
	# its first cycle is done, so it has asked to die with its parent
	test_wait_for 20 grep -q "^cannot run genv as root" daemon.err &&
	daemon=$(cat daemon.pid) && test_track_pid $daemon &&
	kill -0 $daemon &&
	kill -KILL $parent && wait $parent;
	test_wait_for 20 sh -c "! kill -0 $daemon 2>/dev/null"
'

test_done
