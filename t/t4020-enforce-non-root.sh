#!/bin/bash
# t4020: `genv enforce` run by a user other than root (uid 65534 via
# setpriv) cannot read other users' /proc/PID/environ. It says so up front,
# does not report their processes as violators (it only warns that it could
# not identify them), still judges its own user's processes, and a dry run
# writes no audit log (not even next to a root-owned one) unless asked.
. "$(dirname "$0")/lib.sh"

test_need_other_user

chmod 0755 "$TRASH"
fake_gpus 2
sleep 1000 &
ROOTS=$!
test_track_pid "$ROOTS"
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 &  # not as_other: $! must be sleep
MINE=$!
test_track_pid "$MINE"
fake_proc 0 "$ROOTS" 100
fake_proc 1 "$MINE" 100
LOG=$GENV_TMPDIR/enforce.log

test_expect_success 'setup: root dry run sees both processes and logs them' '
	genv enforce --interval 0 --dry-run --non-env-processes >out 2>err &&
	grep -Fx "Process $ROOTS is not running in a GPU environment" out &&
	grep -Fx "Process $MINE is not running in a GPU environment" out &&
	! grep "not running as root" err &&
	test "$(grep -c "\"result\": \"dry-run\"" "$LOG")" = 2 &&
	test "$(stat -c %u "$LOG")" = 0
'

test_expect_success 'dry run as a user: said up front, others not judged, no audit log' '
	cp "$LOG" before &&
	as_other genv enforce --interval 0 --dry-run --non-env-processes >out 2>err &&
	head -n 1 err >first &&
	echo "genv enforce: not running as root: other users'"'"' processes cannot be identified or signalled and are not judged (run it as root to enforce for every user)" >expect &&
	test_cmp expect first &&
	grep -Fx "genv enforce: dry run as a user: no audit log is written (--audit-log PATH writes one)" err &&
	grep -Fx "[WARNING] Not enough permissions to query environment of process $ROOTS" err &&
	! grep -F "$ROOTS" out &&
	grep -Fx "Process $MINE is not running in a GPU environment" out &&
	grep -Fx "[dry-run] Terminating process $MINE from environment N/A that is running on GPU(s) 1" out &&
	! grep -i "refusing audit log" err &&
	test_cmp before "$LOG" &&
	alive() { kill -0 "$1"; } && alive "$ROOTS" && alive "$MINE"
'

test_expect_success 'dry run as a user with --audit-log PATH writes that log' '
	as_other genv enforce --interval 0 --dry-run --non-env-processes \
		--audit-log "$GENV_TMPDIR/mine.log" >out 2>err &&
	! grep "no audit log" err &&
	test "$(grep -c "\"pid\": $MINE, .*\"result\": \"dry-run\"" "$GENV_TMPDIR/mine.log")" = 1 &&
	! grep -q "\"pid\": $ROOTS" "$GENV_TMPDIR/mine.log"
'

test_done
