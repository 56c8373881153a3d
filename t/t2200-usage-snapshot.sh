#!/usr/bin/env bash
# t2200-usage-snapshot.sh: `genv usage snapshot`, the JSON that controllers
# (genv remote, Python or C) read over SSH: json.dumps(indent=2) plus a
# newline, key order and nulls exactly as 1.4.3, cleanup applied but
# never saved, and each --type printing only its object.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
spawn_sleeper P2
GENV_ENVIRONMENT_ID=e1 sleep 1000 &
Q1=$!
test_track_pid $Q1
DEAD=$(dead_pid)
T1=$(ago 100)
T2=$(ago 50)

fake_gpus 2
fake_proc 0 "$Q1" 300
fake_proc 1 "$Q1" 200
fake_proc 1 "$P2" 42
fake_proc 0 "$DEAD" 7
mkdir -p "$GENV_TMPDIR"
envs_file \
	"$(env_json e1 1000 "$T1" alice train 8g null "$P1")" \
	"$(env_json e2 1001 "$T1" null null null null "$P2")" \
	"$(env_json gone 1002 "$T1" bob null null null "$DEAD")" \
	>"$GENV_TMPDIR/envs.json"
devices_file \
	"$(device_json 0 16384mi e1 8g "$T2" gone null "$T2")" \
	"$(device_json 1 16384mi e2 null "$T2")" \
	>"$GENV_TMPDIR/devices.json"
cp "$GENV_TMPDIR/envs.json" "$TRASH/envs.orig"
cp "$GENV_TMPDIR/devices.json" "$TRASH/devices.orig"

ENVS=$(envs_file \
	"$(env_json e1 1000 "$T1" alice train 8g null "$P1")" \
	"$(env_json e2 1001 "$T1" null null null null "$P2")")
DEVICES=$(devices_file \
	"$(device_json 0 16384mi e1 8g "$T2")" \
	"$(device_json 1 16384mi e2 null "$T2")")
# processes in ascending pid order; the dead one has no environment
procs=()
for p in $(printf '%s\n' "$Q1" "$P2" "$DEAD" | sort -n); do
	case $p in
	"$Q1") procs+=("$(process_json "$Q1" e1 0 300 1 200)") ;;
	"$P2") procs+=("$(process_json "$P2" null 1 42)") ;;
	"$DEAD") procs+=("$(process_json "$DEAD" null 0 7)") ;;
	esac
done
PROCESSES=$(processes_file "${procs[@]}")

test_expect_success 'full snapshot: processes, envs, devices (cleaned), newline' '
	{ snapshot_file "$PROCESSES" "$ENVS" "$DEVICES" && echo; } >expect &&
	genv usage snapshot >out 2>err &&
	test_cmp expect out &&
	genv usage snapshot --format json >out 2>err &&
	test_cmp expect out
'

test_expect_success 'a terminated GPU process is reported on stderr, 1.4.3 wording' '
	genv usage snapshot >out 2>err &&
	echo "[DEBUG] Process $DEAD already terminated" >expect &&
	test_cmp expect err
'

test_expect_success 'snapshot does not save the cleanup' '
	cmp envs.orig "$GENV_TMPDIR/envs.json" &&
	cmp devices.orig "$GENV_TMPDIR/devices.json"
'

test_expect_success '--type devices / envs / processes print only that object' '
	{ printf "%s\n" "$DEVICES"; } >expect &&
	genv usage snapshot --type devices >out &&
	test_cmp expect out &&
	{ printf "%s\n" "$ENVS"; } >expect &&
	genv usage snapshot --type envs >out &&
	test_cmp expect out &&
	{ printf "%s\n" "$PROCESSES"; } >expect &&
	genv usage snapshot --type processes >out 2>/dev/null &&
	test_cmp expect out
'

test_expect_success 'empty machine: empty lists written inline' '
	export GENV_TMPDIR=$TRASH/s-empty &&
	export GENV_FAKE_NVML_CONFIG=$TRASH/empty.gpus &&
	fake_gpus 1 &&
	{
		snapshot_file "$(processes_file)" "$(envs_file)" \
			"$(devices_file "$(device_json 0 16384mi)")" && echo
	} >expect &&
	genv usage snapshot >out &&
	test_cmp expect out
'

test_expect_success 'bad options are usage errors' '
	test_expect_code 2 genv usage snapshot --format csv 2>err &&
	grep -q "argument --format: invalid choice: '"'"'csv'"'"' (choose from '"'"'json'"'"')" err &&
	test_expect_code 2 genv usage snapshot --type gpus 2>err &&
	grep -q "invalid choice: '"'"'gpus'"'"'" err &&
	test_expect_code 2 genv usage 2>err &&
	test_expect_code 2 genv usage nosuch 2>err
'

test_expect_success 'without NVML: envs still work, devices use devices.json' '
	export GENV_NVML_LIBRARY=/nonexistent &&
	{ printf "%s\n" "$ENVS"; } >expect &&
	genv usage snapshot --type envs >out &&
	test_cmp expect out &&
	{ printf "%s\n" "$DEVICES"; } >expect &&
	genv usage snapshot --type devices >out &&
	test_cmp expect out &&
	test_must_fail genv usage snapshot >out 2>err &&
	grep -q "nonexistent" err
'

test_expect_success 'without NVML and without devices.json: a clear error' '
	export GENV_NVML_LIBRARY=/nonexistent GENV_TMPDIR=$TRASH/s-nonvml &&
	test_expect_code 1 genv usage snapshot --type devices >out 2>err &&
	test ! -s out &&
	grep -q "NVIDIA driver not found" err &&
	test ! -e "$GENV_TMPDIR/devices.json"
'

test_done
