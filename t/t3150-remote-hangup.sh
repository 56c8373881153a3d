#!/usr/bin/env bash
# t3150-remote-hangup.sh: a remote command that genv gives up on dies on
# its host too. sshd signals nothing to a command without a terminal when
# the connection closes, so genv runs each command tied to its session
# (ssh_tied_command): after --command-timeout, after genv itself is
# killed, through a shared connection, and for `usage execute` with its
# report on stdin, no process of that command may remain on the host.
# Also: --parallel stays within the open-file limit.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS=1 fakehosts_setup 3
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
REAL_GENV=$BUILD/bin/genv
ME=$(id -un)

# A genv that hangs with a child, after saying who it is. It is the
# leader of the session sshd made for the command (every shell on the way
# execs), so that session is everything the command started.
hanging_genv() {   # HOSTDIR [extra shell before hanging]
	fake_genv "$1" "${2:-}
echo \$\$ >\"$1/hang.pid\"
sleep 60 &
wait"
}

# session_procs SID: the live processes of that session
session_procs() {
	local f stat fields
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		read -r -a fields <<<"${stat##*) }"   # state ppid pgrp session ...
		if [ "${fields[3]:-}" = "$1" ] && [ "${fields[0]}" != Z ]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
}
session_gone() { test -z "$(session_procs "$1")"; }

# hung_session_ends HOSTDIR: the hung command's session empties (soon);
# whatever is left is killed so that no test leaves it behind
hung_session_ends() {
	local sid rc=0
	test_wait_for 5 test -s "$1/hang.pid" || { echo "the command never started"; return 1; }
	sid=$(cat "$1/hang.pid")
	rm -f "$1/hang.pid"
	if ! test_wait_for 5 session_gone "$sid"; then
		echo "still running on the host:"
		ps -o pid,args -p "$(session_procs "$sid" | paste -sd,)"
		kill -9 $(session_procs "$sid") 2>/dev/null
		rc=1
	fi
	return $rc
}

test_expect_success 'a command that times out dies on its host, with its children' '
	hanging_genv "$H1" &&
	test_expect_code 1 genv remote --command-timeout 1 -H gpu-server-1,gpu-server-2 devices \
		--format csv --no-summary >out 2>err &&
	printf "%s\n" "Failed running SSH command on gpu-server-1 (no answer within 1 seconds)" \
		"genv: 1 of 2 hosts failed" >expect.err &&
	test_cmp expect.err err &&
	printf "%s\n" HOST,TOTAL,AVAILABLE gpu-server-2,1,1 >expect &&
	test_cmp expect out &&
	hung_session_ends "$H1"
'

test_expect_success 'one that ignores SIGTERM is killed a second later' '
	hanging_genv "$H1" "trap \"\" TERM" &&
	test_expect_code 1 genv remote -q --command-timeout 1 -H gpu-server-1 envs >out 2>err &&
	test_must_be_empty err &&
	hung_session_ends "$H1"
'

test_expect_success 'genv killed (kill -9) while it waits: the command dies on the host' '
	hanging_genv "$H1" &&
	{ genv remote --command-timeout 0 -H gpu-server-1 devices >out 2>err & } &&
	pid=$! &&
	test_wait_for 5 test -s "$H1/hang.pid" &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	hung_session_ends "$H1"
'

test_expect_success 'the same through a shared connection (--reuse-connections)' '
	real_genv "$H1" &&
	XDG_RUNTIME_DIR=$FAKEHOSTS_DIR genv remote --reuse-connections -H gpu-server-1 devices >out &&
	hanging_genv "$H1" &&
	XDG_RUNTIME_DIR=$FAKEHOSTS_DIR test_expect_code 1 genv remote --reuse-connections -q \
		--command-timeout 1 -H gpu-server-1 devices >out 2>err &&
	hung_session_ends "$H1" &&
	real_genv "$H1" &&
	XDG_RUNTIME_DIR=$FAKEHOSTS_DIR genv remote --reuse-connections -H gpu-server-1 devices --no-header \
		--no-summary >out &&
	printf "%-25s%-9s%s\n" gpu-server-1 1 1 >expect &&
	test_cmp expect out
'

test_expect_success 'remote enforce: a hung usage execute dies; its report arrived whole' '
	sleep 1000 &
	victim=$! &&
	test_track_pid $victim &&
	printf "proc 0 %d 100\n" $victim >>"$H1/gpus.conf" &&
	hanging_genv "$H1" "case \$* in *execute*) cat >\"$H1/report\" ;; *) exec \"$REAL_GENV\" \"\$@\" ;; esac" &&
	test_expect_code 1 genv remote --command-timeout 2 -H gpu-server-1 enforce --interval 0 \
		--non-env-processes >out 2>err &&
	grep "no answer within 2 seconds" err &&
	hung_session_ends "$H1" &&
	kill -0 $victim &&
	real_genv "$H1" &&
	GENV_TMPDIR=$H1/state GENV_FAKE_NVML_CONFIG=$H1/gpus.conf genv usage execute \
		<"$H1/report" >out &&
	grep "^Terminating process $victim " out &&
	sed -i "/^proc 0 $victim /d" "$H1/gpus.conf"
'

test_expect_success '--parallel within the open-file limit (ulimit -n)' '
	printf "%s\n" gpu-server-1 gpu-server-2 gpu-server-3 "$ME@gpu-server-1" \
		"$ME@gpu-server-2" "$ME@gpu-server-3" >hosts.txt &&
	(ulimit -n 18 && exec genv remote --parallel 32 --hostfile hosts.txt devices --format csv \
		--no-header) >out 2>err &&
	test_must_be_empty err &&
	printf "%s\n" gpu-server-1,1,1 gpu-server-2,1,1 gpu-server-3,1,1 gpu-server-1,1,1 \
		gpu-server-2,1,1 gpu-server-3,1,1 "" "Total 6 devices with 6 available on 6 hosts" >expect &&
	test_cmp expect out
'

test_done
