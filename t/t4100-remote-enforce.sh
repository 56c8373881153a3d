#!/bin/bash
# t4100: genv remote enforce over real sshd hosts (t/helpers/fakehosts.sh):
# `genv usage snapshot` from each host (as root: directly for root logins,
# else `sudo -n`), the rules over all hosts (the per-user limit counts
# devices across hosts), `genv usage execute` (as root too) with the report
# on stdin on the hosts that have something to do, output as
# "[host] line"; a host that is down is reported and skipped. The GPU
# processes are sleeps started here (the hosts share this machine's pids).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS=2 fakehosts_setup 3
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
H3=$(fakehost_dir gpu-server-3)
ME=$(id -u)
test_cleanup_hook='[ -s "$TRASH/daemon.pid" ] && kill -9 "$(cat "$TRASH/daemon.pid")" 2>/dev/null; fakehosts_teardown'
# gpu-server-3 is down for the whole script
fakehosts_stop_pid "$(cat "$H3/run.pid")"

# genv on the hosts: log the arguments, then run the real one (the hosts
# log in as root, so genv runs without sudo: see ssh_genv_command)
REAL_GENV=$BUILD/bin/genv
for h in "$H1" "$H2"; do
	printf '#!/bin/sh\necho "$*" >>"%s/genv.log"\nexec "%s" "$@"\n' "$h" "$REAL_GENV" >"$h/bin/genv"
	chmod +x "$h/bin/genv"
done

spawn() {
	if [ -n "${2:-}" ]; then GENV_ENVIRONMENT_ID=$2 sleep 1000 & else sleep 1000 & fi
	test_track_pid $!
	printf -v "$1" '%s' $!
	test_wait_for 5 grep -q '^sleep$' "/proc/$!/comm"
}
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
dead() { ! alive "$1"; }
check_pids() {
	local p
	for p in $2; do test_wait_for 5 dead "$p" || { echo "pid $p is still alive" >&2; return 1; }; done
	for p in $1; do alive "$p" || { echo "pid $p was killed" >&2; return 1; }; done
}
snapshots_at_least() { [ "$(cat "$H1/genv.log" 2>/dev/null | grep -c snapshot)" -ge "$1" ]; }
# on HOSTDIR CMD...: run genv CMD against that host's state, locally
on() {
	local h=$1
	shift
	GENV_TMPDIR=$h/state GENV_FAKE_NVML_CONFIG=$h/gpus.conf "$@"
}

spawn KEEP1
spawn KEEP2
on "$H1" genv envs activate --eid proj1 --uid "$ME" --username raz --pid "$KEEP1"
on "$H1" genv devices attach --eid proj1 --index 0 >/dev/null
on "$H2" genv envs activate --eid proj2 --uid "$ME" --username raz --pid "$KEEP2"
on "$H2" genv devices attach --eid proj2 --index 0 >/dev/null
spawn P1 proj1      # gpu-server-1, device 0: fine until raz is over his limit
spawn P2 proj2      # gpu-server-2, device 1: not attached
spawn P3 proj2      # gpu-server-2, device 0: fine
printf 'proc 0 %d 100\n' "$P1" >>"$H1/gpus.conf"
printf 'proc 1 %d 2048\nproc 0 %d 100\n' "$P2" "$P3" >>"$H2/gpus.conf"

cat >"$TRASH/expect-rules" <<EOF
[gpu-server-2] Process $P2 from environment proj2 is using non-attached GPU(s) 1
User raz is using 2 devices on 2 hosts which is 1 more than the maximum allowed
EOF
cat >"$TRASH/expect-exec" <<EOF
[gpu-server-1] Terminating process $P1 from environment proj1 that is running on GPU(s) 0
[gpu-server-1] Detaching environment proj1 of user raz from device 0
[gpu-server-2] Terminating process $P2 from environment proj2 that is running on GPU(s) 1
EOF

test_expect_success 'dry run: findings over both hosts, nothing executed' '
	genv remote -H gpu-server-1,gpu-server-2 enforce --interval 0 \
		--max-devices-per-user 1 --dry-run >out 2>err &&
	{ cat expect-rules && sed "s/^\(\[[^]]*\]\) /\1 [dry-run] /" expect-exec; } >expect &&
	test_cmp expect out &&
	check_pids "$P1 $P2 $P3" "" &&
	echo "usage snapshot" >expect &&
	test_cmp expect "$H1/genv.log" &&
	test_cmp expect "$H2/genv.log"
'

test_expect_success 'enforce: 1.4.3 lines, the down host reported, exactly the violators die' '
	rm -f "$H1/genv.log" "$H2/genv.log" &&
	test_expect_code 1 genv remote -H gpu-server-1,gpu-server-3,gpu-server-2 enforce \
		--interval 0 --max-devices-per-user 1 >out 2>err &&
	cat expect-rules expect-exec >expect &&
	test_cmp expect out &&
	grep "^Failed running SSH command on gpu-server-3 (" err &&
	test "$(wc -l <err)" -eq 1 &&
	check_pids "$P3 $KEEP1 $KEEP2" "$P1 $P2" &&
	printf "usage snapshot\nusage execute\n" >expect &&
	test_cmp expect "$H1/genv.log" &&
	test_cmp expect "$H2/genv.log" &&
	test -z "$(on "$H1" genv devices find --eid proj1)" &&
	test "$(on "$H2" genv devices find --eid proj2)" = 0 &&
	grep -F "\"pid\": $P2, " "$H2/state/enforce.log" | grep -F "\"action\": \"terminate\", \"result\": \"signalled\""
'

test_expect_success 'a host whose snapshot fails is skipped; -q keeps it quiet' '
	sed -i "/ $P1 /d" "$H1/gpus.conf" &&
	printf "#!/bin/sh\necho broken >&2\nexit 3\n" >"$H2/bin/genv" &&
	test_expect_code 1 genv remote -H gpu-server-2,gpu-server-1 enforce --interval 0 >out 2>err &&
	echo "Failed running SSH command on gpu-server-2 (broken)" >expect &&
	test_cmp expect err &&
	test_expect_code 1 genv remote -q -H gpu-server-2,gpu-server-1 enforce --interval 0 >out 2>err &&
	! test -s err &&
	! test -s out
'

test_expect_success 'daemon: cycles until SIGTERM, then exits 0' '
	rm -f "$H1/genv.log" &&
	{ genv remote -H gpu-server-1 enforce --interval 1 >out 2>err & } &&
	daemon=$! &&
	echo "$daemon" >"$TRASH/daemon.pid" &&
	test_wait_for 10 snapshots_at_least 2 &&
	kill -TERM "$daemon" &&
	wait "$daemon" &&
	! test -s out
'

test_expect_success 'remote enforce usage errors' '
	test_expect_code 2 genv remote -H gpu-server-1 enforce --max-devices-for-user raz 2>err &&
	grep -Fx "genv remote enforce: error: argument --max-devices-for-user: not a valid spec: raz" err &&
	genv remote -H gpu-server-1 enforce --help >out &&
	grep -q "usage: genv remote enforce" out
'

test_expect_success '--grace is passed to the hosts: a process ignoring SIGTERM is SIGKILLed there' '
	printf "#!/bin/sh\necho \"\$*\" >>\"%s/genv.log\"\nexec \"%s\" \"\$@\"\n" "$H1" "$REAL_GENV" >"$H1/bin/genv" &&
	rm -f "$H1/genv.log" &&
	{ bash -c "trap \"\" TERM; while :; do sleep 0.1; done" & } &&
	stubborn=$! &&
	test_track_pid $stubborn &&
	printf "proc 1 %d 64\n" "$stubborn" >>"$H1/gpus.conf" &&
	genv remote -H gpu-server-1 enforce --interval 0 --non-env-processes \
		--no-env-devices --no-env-memory --grace 1 >out 2>err &&
	grep -Fx "[gpu-server-1] Process $stubborn is not running in a GPU environment" out &&
	test_wait_for 10 dead $stubborn &&
	alive "$KEEP1" &&
	grep -Fx "usage execute --grace 1" "$H1/genv.log" &&
	grep -F "\"pid\": $stubborn, " "$H1/state/enforce.log" | grep -q "\"action\": \"kill\""
'

test_done
