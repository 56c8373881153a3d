#!/usr/bin/env bash
# t2300-state-interop.sh: state files shared with Python genv 1.4.3:
# legacy dict forms (devices.json <= 0.8.0, envs.json <= 0.9.0) are read
# and converted on the next save, and what we write is byte for byte what
# 1.4.3's json.dump(indent=2) writes (spec §4.4, §4.5), with 0666 modes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
spawn_sleeper P2
T1=$(ago 7300)
T2=$(ago 100)
fake_gpus 2

test_expect_success 'legacy dict-form devices.json is read and converted' '
	mkdir -p "$GENV_TMPDIR" &&
	envs_file "$(env_json e1 1000 "$T1" alice my-env 4g null "$P1")" \
		"$(env_json e2 1001 "$T1" null null null null "$P2")" >"$GENV_TMPDIR/envs.json" &&
	printf "%s" "{\"devices\": {\"0\": {\"eids\": {\"e1\": {\"eid\": \"e1\", \"gpu_memory\": \"4g\", \"attached\": \"$T2\"}, \"e2\": {\"eid\": \"e2\", \"attached\": \"$T1\"}}, \"total_memory\": \"16384mi\"}, \"1\": {\"eids\": {}, \"total_memory\": \"16384mi\"}}}" \
		>"$GENV_TMPDIR/devices.json" &&
	{
		echo "ID,ENV ID,ENV NAME,ATTACHED" &&
		echo "0,e1,my-env,$T2" &&
		echo "0,e2,,$T1" &&
		echo "1,,,"
	} >expect &&
	genv devices ps --format csv --timestamp >out &&
	test_cmp expect out &&
	devices_file "$(device_json 0 16384mi e1 4g "$T2" e2 null "$T1")" \
		"$(device_json 1 16384mi)" >expect &&
	test_cmp expect "$GENV_TMPDIR/devices.json"
'

test_expect_success 'legacy dict-form envs.json (optional fields missing) is read and converted' '
	export GENV_TMPDIR=$TRASH/s-legacy-envs &&
	mkdir -p "$GENV_TMPDIR" &&
	printf "%s" "{\"envs\": {\"e1\": {\"eid\": \"e1\", \"uid\": 1000, \"creation\": \"$T1\", \"username\": \"alice\", \"config\": {\"name\": \"my-env\", \"gpu_memory\": null, \"gpus\": 1}, \"pids\": [$P1], \"kernel_ids\": []}, \"e2\": {\"eid\": \"e2\", \"uid\": 1001, \"creation\": \"$T1\", \"pids\": [$P2]}}}" \
		>"$GENV_TMPDIR/envs.json" &&
	{
		echo "e1,$T1,1000,alice,my-env,1,,$P1," &&
		echo "e2,$T1,1001,,,,,$P2,"
	} >expect &&
	genv envs query --query eid creation uid username config.name config.gpus \
		config.gpu_memory pids kernel_ids >out &&
	test_cmp expect out &&
	envs_file "$(env_json e1 1000 "$T1" alice my-env null 1 "$P1")" \
		"$(env_json e2 1001 "$T1" null null null null "$P2")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json"
'

test_expect_success 'files genv creates: 1.4.3 bytes and modes (0666 files, 0777 dir)' '
	export GENV_TMPDIR=$TRASH/s-new/state &&
	(umask 077 &&
	 genv envs activate --eid "é x" --uid 1000 --username alice --pid $P1 &&
	 genv envs config --eid "é x" gpu-memory --gpu-memory 4g &&
	 genv devices attach --eid "é x" --count 1 >/dev/null) &&
	created=$(genv envs query --query creation) &&
	attached=$(genv devices query --query attachments | sed -n "1s/.*+//p" | tr _ " ") &&
	envs_file "$(env_json "\\u00e9 x" 1000 "$created" alice null 4g null "$P1")" >expect &&
	test_cmp expect "$GENV_TMPDIR/envs.json" &&
	devices_file "$(device_json 0 16384mi "\\u00e9 x" 4g "$attached")" \
		"$(device_json 1 16384mi)" >expect &&
	test_cmp expect "$GENV_TMPDIR/devices.json" &&
	test "$(stat -c %a "$GENV_TMPDIR")" = 777 &&
	test "$(stat -c %a "$GENV_TMPDIR/envs.json")" = 666 &&
	test "$(stat -c %a "$GENV_TMPDIR/devices.json")" = 666 &&
	test "$(stat -c %a "$GENV_TMPDIR/genv.lock")" = 666
'

test_expect_success 'non-ASCII names are printed as UTF-8 and padded by characters' '
	export GENV_TMPDIR=$TRASH/s-new/state &&
	genv envs ps --no-header >out &&
	grep -q "^é x     alice(1000)     " out
'

test_done
