#!/bin/bash
# t4000: genv enforce against real processes started here (sleeps with a
# chosen GENV_ENVIRONMENT_ID), reported by the fake NVML as GPU users. Each
# rule must kill exactly its violators (checked on every started pid), with
# 1.4.3's messages byte for byte; --dry-run and GENV_TERMINATE_PROCESSES=0
# kill nothing; SIGTERM-ignoring processes get SIGKILL after --grace; an
# env id spoofed by another user is no env; the audit log is JSON lines.
. "$(dirname "$0")/lib.sh"

ME=$(id -u)
NOBODY_DIR=
t4000_cleanup() {
	if [ -s "$TRASH/daemon.pid" ]; then kill -9 "$(cat "$TRASH/daemon.pid")" 2>/dev/null; fi
	if [ -n "$NOBODY_DIR" ]; then rm -rf "$NOBODY_DIR"; fi
}
test_cleanup_hook=t4000_cleanup
fake_gpus 4
GPUS_ONLY=$(cat "$GENV_FAKE_NVML_CONFIG")

# spawn VAR [EID]: a `sleep 1000` (inside environment EID), tracked for cleanup.
spawn() {
	if [ -n "${2:-}" ]; then
		GENV_ENVIRONMENT_ID=$2 sleep 1000 &
	else
		sleep 1000 &
	fi
	test_track_pid $!
	printf -v "$1" '%s' $!
	# /proc/PID/environ shows the new environment only once sleep runs
	test_wait_for 5 grep -q '^sleep$' "/proc/$!/comm"
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
dead() { ! alive "$1"; }

# check_pids "ALIVE PIDS" "DEAD PIDS"
check_pids() {
	local p
	for p in $2; do test_wait_for 5 dead "$p" || { echo "pid $p is still alive" >&2; return 1; }; done
	for p in $1; do alive "$p" || { echo "pid $p was killed" >&2; return 1; }; done
}

# scenario NAME: a fresh state directory and an inventory without processes.
scenario() {
	export GENV_TMPDIR="$TRASH/state-$1"
	printf '%s\n' "$GPUS_ONLY" >"$GENV_FAKE_NVML_CONFIG"
}

# mkenv EID USERNAME GPU_MEMORY|"" [INDEX...]: an environment kept alive by a
# sleep of its own, attached to the given devices.
mkenv() {
	local eid=$1 user=$2 mem=$3 keeper i
	shift 3
	spawn keeper
	genv envs activate --eid "$eid" --uid "$ME" --username "$user" --pid "$keeper" &&
	if [ -n "$mem" ]; then genv envs config --eid "$eid" gpu-memory --gpu-memory "$mem"; fi &&
	for i in "$@"; do genv devices attach --eid "$eid" --index "$i" >/dev/null || return 1; done
}

# sorted_lines FORMAT PID...: FORMAT applied to each pid, in ascending pid order.
sorted_lines() {
	local fmt=$1 p
	shift
	for p in $(printf '%s\n' "$@" | sort -n); do printf "$fmt\n" "$p"; done
}

# ---- scenario A: the 1.4.3 example (all four rules) ----
scenario A
mkenv a1 alice 1g 0 1 3 >/dev/null
mkenv a2 bob "" 2 >/dev/null
spawn OUT            # no environment, GPU 3
spawn BAD a2         # env a2, on the non-attached GPU 0 and on GPU 2
spawn BIG a1         # env a1, 600 MiB on GPU 0
spawn SMALL a1       # env a1, 500 MiB on GPU 0
spawn FINE a1        # env a1, 200 MiB on GPU 1: breaks no rule
fake_proc 3 "$OUT" 100
fake_proc 0 "$BAD" 100
fake_proc 2 "$BAD" 100
fake_proc 0 "$BIG" 600
fake_proc 0 "$SMALL" 500
fake_proc 1 "$FINE" 200

cat >"$TRASH/expect-A-rules" <<EOF
Process $OUT is not running in a GPU environment
Process $BAD from environment a2 is using non-attached GPU(s) 0
Environment a1 is using 1153m on device 0 which is 153m over its capacity of 1g
User alice is using 3 devices which is 1 more than the maximum allowed
EOF
{
	for p in $(printf '%s\n' "$OUT" "$BAD" "$BIG" "$SMALL" | sort -n); do
		case $p in
		"$OUT") echo "Terminating process $p from environment N/A that is running on GPU(s) 3" ;;
		"$BAD") echo "Terminating process $p from environment a2 that is running on GPU(s) 0,2" ;;
		*) echo "Terminating process $p from environment a1 that is running on GPU(s) 0" ;;
		esac
	done
	echo "Detaching environment a1 of user alice from device 0"
} >"$TRASH/expect-A-exec"

test_expect_success 'dry run: 1.4.3 findings, "[dry-run]" actions, nothing killed or detached' '
	genv enforce --interval 0 --non-env-processes --max-devices-per-user 2 --dry-run \
		>out 2>err &&
	{ cat expect-A-rules && sed "s/^/[dry-run] /" expect-A-exec; } >expect &&
	test_cmp expect out &&
	check_pids "$OUT $BAD $BIG $SMALL $FINE" "" &&
	test "$(genv devices find --eid a1)" = "0,1,3"
'

test_expect_success 'GENV_TERMINATE_PROCESSES=0: same lines, no signal' '
	GENV_TERMINATE_PROCESSES=0 genv enforce --interval 0 --non-env-processes >out &&
	head -n 3 expect-A-rules >expect &&
	sed -n "/Terminating/p" expect-A-exec | grep -v "^Terminating process $SMALL " >>expect &&
	test_cmp expect out &&
	check_pids "$OUT $BAD $BIG $SMALL $FINE" ""
'

test_expect_success 'all rules: exactly the violators die, a1 leaves device 0' '
	genv enforce --interval 0 --non-env-processes --max-devices-per-user 2 \
		--audit-log "$TRASH/audit-A.log" >out &&
	cat expect-A-rules expect-A-exec >expect &&
	test_cmp expect out &&
	check_pids "$FINE" "$OUT $BAD $BIG $SMALL" &&
	test "$(genv devices find --eid a1)" = "1,3" &&
	test "$(genv devices find --eid a2)" = "2"
'

test_expect_success 'the audit log has one well-formed JSON line per action' '
	test_line_count() { test "$(wc -l <"$1")" -eq "$2"; } &&
	test_line_count "$TRASH/audit-A.log" 5 &&
	re="^\{\"time\": \"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\", \"host\": \"[^\"]*\", \"rule\": (\"[a-z-]+\"|null), \"pid\": ([0-9]+|null), \"uid\": ([0-9]+|null), \"eid\": (\"[^\"]*\"|null), (\"device\": [0-9]+, )?\"action\": \"(terminate|kill|detach)\", \"result\": \"[a-z-]+\"\}$" &&
	! grep -Ev "$re" "$TRASH/audit-A.log" &&
	grep -F "\"rule\": \"env-memory\", \"pid\": $BIG, \"uid\": $ME, \"eid\": \"a1\", \"action\": \"terminate\", \"result\": \"signalled\"}" "$TRASH/audit-A.log" &&
	grep -F "\"rule\": \"non-env-processes\", \"pid\": $OUT, \"uid\": $ME, \"eid\": null, \"action\": \"terminate\", \"result\": \"signalled\"}" "$TRASH/audit-A.log" &&
	grep -F "\"rule\": \"max-devices-per-user\", \"pid\": null, \"uid\": $ME, \"eid\": \"a1\", \"device\": 0, \"action\": \"detach\", \"result\": \"detached\"}" "$TRASH/audit-A.log" &&
	grep -F "\"host\": \"$(hostname)\"" "$TRASH/audit-A.log" >/dev/null
'

test_expect_success 'the default audit log is enforce.log in the state directory' '
	test -f "$GENV_TMPDIR/enforce.log" &&
	grep -c "\"result\": \"dry-run\"" "$GENV_TMPDIR/enforce.log" >n &&
	echo 5 >expect && test_cmp expect n
'

# ---- scenario B: default rules only ----
scenario B
mkenv b1 carol 1g 0 >/dev/null
spawn B_OUT
spawn B_MEM1 b1
spawn B_MEM2 b1
spawn B_DEV b1
fake_proc 1 "$B_OUT" 4000
fake_proc 0 "$B_MEM1" 700
fake_proc 0 "$B_MEM2" 700
fake_proc 0 "$B_DEV" 10
fake_proc 2 "$B_DEV" 10
fake_proc 3 "$B_DEV" 10

test_expect_success 'defaults: env-devices and env-memory, processes outside envs untouched' '
	genv enforce --interval 0 --no-audit-log >out &&
	{
		echo "Process $B_DEV from environment b1 is using non-attached GPU(s) 2,3" &&
		echo "Environment b1 is using 1478m on device 0 which is 478m over its capacity of 1g" &&
		for p in $(printf "%s\n" "$B_MEM1" "$B_DEV" | sort -n); do
			if [ "$p" = "$B_DEV" ]; then
				echo "Terminating process $p from environment b1 that is running on GPU(s) 0,2,3"
			else
				echo "Terminating process $p from environment b1 that is running on GPU(s) 0"
			fi
		done
	} >expect &&
	test_cmp expect out &&
	check_pids "$B_OUT $B_MEM2" "$B_MEM1 $B_DEV" &&
	! test -e "$GENV_TMPDIR/enforce.log"
'

test_expect_success '--no-env-memory --no-env-devices: nothing to do' '
	genv enforce --interval 0 --no-env-memory --no-env-devices >out &&
	test_must_be_empty() { ! test -s "$1"; } && test_must_be_empty out &&
	check_pids "$B_OUT $B_MEM2" ""
'

# ---- scenario C: a process that ignores SIGTERM ----
scenario C
mkenv c1 dave "" 0 >/dev/null
GENV_ENVIRONMENT_ID=c1 bash -c 'trap "" TERM; exec sleep 1000' &
STUBBORN=$!
test_track_pid "$STUBBORN"
disown "$STUBBORN"   # no "Killed" job notice when SIGKILL hits it
spawn POLITE c1
fake_proc 1 "$STUBBORN" 100
fake_proc 1 "$POLITE" 100
test_wait_for 5 grep -q '^sleep$' "/proc/$STUBBORN/comm"

test_expect_success 'SIGKILL after --grace for a process that ignores SIGTERM' '
	start=$(date +%s%N) &&
	genv enforce --interval 0 --grace 1 >out 2>err &&
	end=$(date +%s%N) &&
	{
		echo "Process $POLITE from environment c1 is using non-attached GPU(s) 1" &&
		echo "Process $STUBBORN from environment c1 is using non-attached GPU(s) 1"
	} | sort -t" " -k2,2n >expect &&
	sorted_lines "Terminating process %s from environment c1 that is running on GPU(s) 1" \
		"$POLITE" "$STUBBORN" >>expect &&
	echo "Killing process $STUBBORN that is still running 1 second after SIGTERM" >>expect &&
	test_cmp expect out &&
	check_pids "" "$POLITE $STUBBORN" &&
	test $((end - start)) -ge 900000000 &&
	grep -F "\"pid\": $STUBBORN, \"uid\": $ME, \"eid\": \"c1\", \"action\": \"kill\", \"result\": \"signalled\"}" \
		"$GENV_TMPDIR/enforce.log"
'

# ---- scenario D: spoofed and orphaned environment ids ----
scenario D
mkenv d1 erin 1g 0 >/dev/null
spawn ORPHAN gone
fake_proc 0 "$ORPHAN" 10
SPOOF=
if [ "$ME" -eq 0 ] && getent passwd nobody >/dev/null && getent group nogroup >/dev/null; then
	GENV_ENVIRONMENT_ID=d1 setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 1000 &
	SPOOF=$!
	test_track_pid "$SPOOF"
	fake_proc 0 "$SPOOF" 5000
	test_wait_for 5 grep -q '^sleep$' "/proc/$SPOOF/comm"
else
	echo "# skipping the spoofed-uid checks: they need root to run a process as nobody"
fi

test_expect_success 'another user claiming an env is not charged to it; orphans are not either' '
	genv enforce --interval 0 >out &&
	! test -s out &&
	check_pids "$ORPHAN $SPOOF" ""
'

test_expect_success '--non-env-processes catches the spoofer and the orphan' '
	genv enforce --interval 0 --non-env-processes >out &&
	sorted_lines "Process %s is not running in a GPU environment" $ORPHAN $SPOOF >expect &&
	sorted_lines "Terminating process %s from environment N/A that is running on GPU(s) 0" \
		$ORPHAN $SPOOF >>expect &&
	test_cmp expect out &&
	check_pids "" "$ORPHAN $SPOOF"
'

# ---- scenario E: genv usage execute ----
scenario E
mkenv e2 bob "" 2 >/dev/null
spawn E_VICTIM e2
true &               # a pid that is gone by the time the report names it
E_GONE=$!
wait "$E_GONE"

test_expect_success 'usage execute: a 1.4.3 report from stdin terminates and detaches' '
	printf "%s" "{\"terminate\": {\"processes\": [{\"pid\": $E_VICTIM, \"used_gpu_memory\": [{\"index\": 2, \"gpu_memory\": \"2048mi\"}], \"eid\": \"e2\"}, {\"pid\": $E_GONE, \"used_gpu_memory\": [{\"index\": 1, \"gpu_memory\": \"1mi\"}], \"eid\": null}]}, \"detach\": {\"2\": {\"envs\": [{\"eid\": \"e2\", \"uid\": $ME, \"creation\": \"24/11/2026 01:16:47\", \"username\": \"bob\", \"config\": {\"name\": null, \"gpu_memory\": null, \"gpus\": null}, \"pids\": [1], \"kernel_ids\": []}]}}}" >report &&
	genv usage execute <report >out 2>err &&
	cat >expect <<-EOF &&
	Terminating process $E_VICTIM from environment e2 that is running on GPU(s) 2
	Terminating process $E_GONE from environment N/A that is running on GPU(s) 1
	Detaching environment e2 of user bob from device 2
	EOF
	test_cmp expect out &&
	echo "[DEBUG] Process $E_GONE already terminated" >expect &&
	test_cmp expect err &&
	check_pids "" "$E_VICTIM" &&
	test -z "$(genv devices find --eid e2)"
'

test_expect_success 'usage execute: an empty report does nothing; bad input fails cleanly' '
	printf "{\"terminate\": {\"processes\": []}, \"detach\": {}}" | genv usage execute >out &&
	! test -s out &&
	echo "{}" | test_expect_code 1 genv usage execute 2>err &&
	grep "^standard input" err &&
	echo "{\"terminate\": {\"processes\": []}, \"detach\": {\"x\": {\"envs\": []}}}" |
		test_expect_code 1 genv usage execute 2>err &&
	grep "is not a device index" err &&
	: | test_expect_code 1 genv usage execute
'

if [ "$ME" -eq 0 ] && getent passwd nobody >/dev/null; then
	NOBODY_DIR=$(mktemp -d /tmp/genv-t4000.XXXXXX)
	chmod 0777 "$NOBODY_DIR"
	spawn ROOTS
	test_expect_success 'usage execute without permission: [ERROR] line, not fatal' '
		printf "%s" "{\"terminate\": {\"processes\": [{\"pid\": $ROOTS, \"used_gpu_memory\": [], \"eid\": null}]}, \"detach\": {}}" |
			GENV_TMPDIR="$NOBODY_DIR" setpriv --reuid=nobody --regid=nogroup --clear-groups \
			genv usage execute >out 2>err &&
		echo "Terminating process $ROOTS from environment N/A that is running on GPU(s) " >expect &&
		test_cmp expect out &&
		echo "[ERROR] Not enough permissions to terminate process $ROOTS" >expect &&
		test_cmp expect err &&
		check_pids "$ROOTS" ""
	'
else
	echo "# skipping the permission check: needs root to run as nobody"
fi

# ---- scenario F: the daemon ----
scenario F
mkenv f1 frank "" 0 >/dev/null
spawn F_LATE f1

test_expect_success 'daemon: catches a later violator, stops cleanly on SIGTERM' '
	genv enforce --interval 1 --no-audit-log >out 2>err &
	daemon=$! &&
	echo "$daemon" >"$TRASH/daemon.pid" &&
	sleep 0.5 &&
	fake_proc 3 "$F_LATE" 10 &&
	test_wait_for 10 dead "$F_LATE" &&
	kill -TERM "$daemon" &&
	wait "$daemon" &&
	grep -Fx "Process $F_LATE from environment f1 is using non-attached GPU(s) 3" out
'

# ---- usage errors ----
test_expect_success 'bad options are usage errors (exit 2) in argparse wording' '
	test_expect_code 2 genv enforce --max-devices-for-user alice 2>err &&
	grep -Fx "genv enforce: error: argument --max-devices-for-user: not a valid spec: alice" err &&
	test_expect_code 2 genv enforce --interval x 2>err &&
	grep -Fx "genv enforce: error: argument --interval: invalid int value: '"'"'x'"'"'" err &&
	test_expect_code 2 genv enforce --interval 2>err &&
	grep -Fx "genv enforce: error: argument --interval: expected one argument" err &&
	test_expect_code 2 genv enforce --bogus 2>err &&
	grep -Fx "genv enforce: error: unrecognized arguments: --bogus" err &&
	genv enforce --help >out && grep -q "orphaned" out
'

test_done
