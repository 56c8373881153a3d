#!/bin/bash
# t6030: another user holds the global lock forever (`flock genv.lock sleep
# 1000`: flock needs only read access). Before issue 8 every genv and the
# enforcer waited for it forever, so the process the enforcer should kill
# survived. Now read-only commands take no lock, writers give up after
# GENV_LOCK_TIMEOUT seconds (default 10) naming the holder (pid, user,
# command), and the enforcer still terminates what it must, says it could
# not detach, and ends its cycle within the bound.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"
. "$(dirname "$0")/lib-hostile.sh"

fake_gpus 2
spawn_sleeper KEEPER
victim_sleeper VKEEPER

# spawn VAR [EID]: a sleep (in environment EID) that NVML will report
spawn() {
	if [ -n "${2:-}" ]; then GENV_ENVIRONMENT_ID=$2 sleep 1000 & else sleep 1000 & fi
	test_track_pid $!
	printf -v "$1" '%s' $!
	test_wait_for 5 grep -q '^sleep$' "/proc/$!/comm"
}
# gpu_user GPU PID: NVML reports PID (and no other process) on GPU. The
# enforcer signals what NVML reports, and pids are reused: never leave a
# dead one listed.
gpu_user() { fake_gpus 2 && fake_proc "$1" "$2" 100; }
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

test_expect_success 'setup: environments, and the attacker takes the lock' '
	genv envs activate --eid e1 --uid 0 --username root --pid $KEEPER &&
	genv devices attach --eid e1 --index 0 >/dev/null &&
	genv devices attach --eid e1 --index 1 >/dev/null
'
# flock(1) itself, not a subshell, so that /proc/locks names $HOLDER; its
# command (sleep) inherits the locked descriptor and is ended too
setpriv --reuid=65534 --regid=65534 --clear-groups flock "$D/genv.lock" sleep 1000 &
HOLDER=$!
test_track_pid "$HOLDER"
LOCK_INO=$(stat -c %i "$D/genv.lock")
test_wait_for 5 grep -q "FLOCK .* $HOLDER [0-9a-f:]*:$LOCK_INO " /proc/locks
test_wait_for 5 pgrep -P "$HOLDER" >/dev/null
HOLDER_CHILD=$(pgrep -P "$HOLDER")
test_track_pid $HOLDER_CHILD

# names_holder: err says who holds the lock
names_holder() {
	grep -F "$D/genv.lock" err &&
	grep -F "pid $HOLDER" err &&
	grep -F "user $ATTACKER" err &&
	grep -F "flock $D/genv.lock sleep 1000" err
}

test_expect_success 'read-only commands do not wait for the lock' '
	timeout 5 genv devices >out &&
	grep -c "e1" out &&
	timeout 5 genv envs >out &&
	grep "^e1 " out &&
	timeout 5 genv envs query --query eid >out &&
	timeout 5 genv devices find --eid e1 >out &&
	echo 0,1 >expect && test_cmp expect out &&
	timeout 5 genv usage snapshot >/dev/null &&
	GENV_ENVIRONMENT_ID=e1 timeout 5 genv status >out &&
	grep "Attached to GPUs at indices 0,1" out
'

test_expect_success 'a write gives up after GENV_LOCK_TIMEOUT, naming the holder' '
	elapsed_ms test_must_fail env GENV_LOCK_TIMEOUT=1 timeout 20 \
		genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	test $ELAPSED_MS -ge 900 && test $ELAPSED_MS -lt 5000 &&
	names_holder &&
	test "$(wc -l <err)" -eq 1
'

test_expect_success 'genv activate too (as an unprivileged user)' '
	elapsed_ms test_must_fail as_victim env GENV_LOCK_TIMEOUT=0.5 timeout 20 \
		genv activate --shell $VKEEPER --gpus 1 --no-prompt >out 2>err &&
	test $ELAPSED_MS -lt 5000 &&
	names_holder &&
	! test -s out
'

test_expect_success 'the default bound is 10 seconds' '
	elapsed_ms test_must_fail timeout 30 genv devices attach --eid e1 --index 0 2>err &&
	test $ELAPSED_MS -ge 9500 && test $ELAPSED_MS -lt 20000 &&
	names_holder
'

test_expect_success 'a bad GENV_LOCK_TIMEOUT is an error' '
	test_must_fail env GENV_LOCK_TIMEOUT=soon timeout 10 genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	grep -F "GENV_LOCK_TIMEOUT" err
'

test_expect_success 'the enforcer kills an outsider without waiting for the lock' '
	spawn OUTSIDER &&
	gpu_user 0 $OUTSIDER &&
	elapsed_ms may_fail timeout 20 genv enforce --interval 0 --non-env-processes >out 2>err &&
	test $ELAPSED_MS -lt 5000 &&
	grep -F "Terminating process $OUTSIDER " out &&
	test_wait_for 5 eval "! alive $OUTSIDER" &&
	fake_gpus 2
'

test_expect_success 'it still kills when it must also detach, and says it could not' '
	spawn VIOLATOR &&
	gpu_user 1 $VIOLATOR &&
	elapsed_ms may_fail env GENV_LOCK_TIMEOUT=2 timeout 20 \
		genv enforce --interval 0 --non-env-processes --max-devices-per-user 1 >out 2>err &&
	test $ELAPSED_MS -lt 8000 &&
	grep -F "Terminating process $VIOLATOR " out &&
	test_wait_for 5 eval "! alive $VIOLATOR" &&
	names_holder &&
	grep -i "detach" err &&
	fake_gpus 2 &&
	genv devices find --eid e1 >out &&
	echo 0,1 >expect && test_cmp expect out
'

test_expect_success 'the enforcer daemon keeps cycling while the lock is held' '
	spawn LATE &&
	gpu_user 0 $LATE &&
	{ GENV_LOCK_TIMEOUT=1 genv enforce --interval 1 --non-env-processes \
		--max-devices-per-user 1 >daemon.out 2>daemon.err & } &&
	DAEMON=$! && test_track_pid $DAEMON &&
	test_wait_for 10 eval "! alive $LATE" &&
	test_wait_for 5 grep -F "Terminating process $LATE " daemon.out &&
	kill $DAEMON && { wait $DAEMON || :; } &&
	fake_gpus 2 &&
	alive $HOLDER
'

fake_gpus 2
test_expect_success 'once the holder is gone, writes work again' '
	kill $HOLDER $HOLDER_CHILD &&
	test_wait_for 5 eval "! alive $HOLDER && ! alive $HOLDER_CHILD" &&
	genv envs activate --eid e2 --uid 0 --pid $KEEPER &&
	genv enforce --interval 0 --max-devices-per-user 1 >out 2>err &&
	genv devices find --eid e1 >out &&
	test "$(tr , "\n" <out | wc -l)" -eq 1
'

test_done
