#!/usr/bin/env bash
# t2120-format-json.sh: --format json of devices ps, envs ps, status and
# remote devices|envs, parsed with jq and checked against the state the
# test wrote (versioned documents, epoch times beside the stored text,
# null for unset values, one object per host with failures and their
# errors); `genv devices|envs --format` without ps; remote csv rows only
# with --no-header --no-summary, 1.4.3's Total line with --no-header.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

command -v jq >/dev/null || { echo "# jq missing"; test_done; exit; }

spawn_sleeper P1
spawn_sleeper P2
spawn_sleeper HOLDER   # a process of an environment on gpu-server-2
T1=$(ago 34)
T2=$(ago 3700)
fake_gpus 3
mkdir -p "$GENV_TMPDIR"
envs_file \
	"$(env_json e1 1000 "$T1" alice my-env 4g 2 "$P1 $P2")" \
	"$(env_json e2 1001 "$T2" null null null null "$P2")" \
	>"$GENV_TMPDIR/envs.json"
devices_file \
	"$(device_json 0 16384mi e1 4g "$T1" e2 null "$T2")" \
	"$(device_json 1 16384mi e1 4g "$T1")" \
	"$(device_json 2 16384mi)" \
	>"$GENV_TMPDIR/devices.json"
epoch() { date -d "$(echo "$1" | sed -E 's|(..)/(..)/(....)|\3-\2-\1|')" +%s; }

test_expect_success 'devices ps --format json: devices, attachments, names, times' '
	genv devices ps --format json >out &&
	jq -e ".version == 1 and (.devices | length) == 3" out &&
	jq -c "[.devices[] | [.index, .total_memory, (.attachments | map(.eid))]]" out >actual &&
	echo "[[0,\"16384mi\",[\"e1\",\"e2\"]],[1,\"16384mi\",[\"e1\"]],[2,\"16384mi\",[]]]" >expect &&
	test_cmp expect actual &&
	jq -c ".devices[0].attachments[] | [.env_name, .gpu_memory]" out >actual &&
	printf "[\"my-env\",\"4g\"]\n[null,null]\n" >expect && test_cmp expect actual &&
	test "$(jq -r ".devices[0].attachments[0].attached_text" out)" = "$T1" &&
	test "$(jq -r ".devices[0].attachments[1].attached" out)" = "$(epoch "$T2")"
'

test_expect_success 'genv devices --format json is devices ps; csv rows unchanged' '
	genv devices --format json >out2 && test_cmp out out2 &&
	genv devices --no-cleanup --format csv --no-header >out &&
	genv devices ps --format csv --no-header >expect && test_cmp expect out &&
	test "$(wc -l <out)" = 4
'

test_expect_success 'envs ps --format json: every field, null for unset' '
	genv envs ps --format json >out &&
	jq -e ".version == 1 and (.envs | length) == 2" out &&
	jq -c ".envs[0] | [.eid, .uid, .username, .name, .gpus, .gpu_memory, .pids, .kernel_ids]" out >actual &&
	echo "[\"e1\",1000,\"alice\",\"my-env\",2,\"4g\",[$P1,$P2],[]]" >expect &&
	test_cmp expect actual &&
	jq -c ".envs[1] | [.eid, .username, .name, .gpus, .gpu_memory]" out >actual &&
	echo "[\"e2\",null,null,null,null]" >expect && test_cmp expect actual &&
	test "$(jq -r ".envs[0].created" out)" = "$(epoch "$T1")" &&
	genv envs --format json >out2 && test_cmp out out2
'

test_expect_success 'status --format json: inactive, then active with its devices' '
	env -u GENV_ENVIRONMENT_ID genv status --format json >out &&
	jq -e ".version == 1 and .active == false and .eid == null and .devices == null" out &&
	GENV_ENVIRONMENT_ID=e1 GENV_ENVIRONMENT_NAME=my-env GENV_GPUS=2 GENV_GPU_MEMORY=4g \
		genv status --format json >out &&
	jq -c "[.active, .eid, .devices, .name, .gpus, .gpu_memory]" out >actual &&
	echo "[true,\"e1\",[0,1],\"my-env\",2,\"4g\"]" >expect && test_cmp expect actual &&
	GENV_ENVIRONMENT_ID=e1 genv status >text &&
	grep -qx "Attached to GPUs at indices 0,1" text
'

. "$T_DIR/helpers/fakehosts.sh"
FAKEHOSTS_GPUS="1 2" fakehosts_setup 3
fakehosts_stop_pid "$(cat "$(fakehost_dir gpu-server-3)/run.pid")"

test_expect_success 'remote devices --format json: one object per host, the failed one with its error' '
	ssh gpu-server-2 "genv envs activate --eid $HOLDER --uid $(id -u) --username $(id -un) --pid $HOLDER >/dev/null &&
		genv devices attach --eid $HOLDER --count 1" >/dev/null &&
	test_expect_code 1 genv remote -q -H gpu-server-1,gpu-server-2,gpu-server-3 devices --format json >out &&
	jq -c "[.version, [.hosts[] | [.host, .ok]]]" out >actual &&
	echo "[1,[[\"gpu-server-1\",true],[\"gpu-server-2\",true],[\"gpu-server-3\",false]]]" >expect &&
	test_cmp expect actual &&
	jq -c "[.hosts[1].devices[] | [.index, (.attachments | map(.eid))]]" out >actual &&
	echo "[[0,[\"$HOLDER\"]],[1,[]]]" >expect && test_cmp expect actual &&
	jq -r ".hosts[2].error" out | grep -q "gpu-server-3" &&
	jq -e ".hosts[2] | has(\"devices\") | not" out
'

test_expect_success 'remote envs --format json; csv rows only with --no-summary' '
	genv remote -H gpu-server-1,gpu-server-2 envs --format json >out &&
	jq -c "[.hosts[] | [.host, (.envs | map(.eid))]]" out >actual &&
	echo "[[\"gpu-server-1\",[]],[\"gpu-server-2\",[\"$HOLDER\"]]]" >expect &&
	test_cmp expect actual &&
	genv remote -H gpu-server-1,gpu-server-2 envs --format csv --no-header --no-summary >out &&
	test "$(wc -l <out)" = 1 && grep -q "^gpu-server-2,$HOLDER," out &&
	genv remote -H gpu-server-1,gpu-server-2 devices --format csv --no-header >out &&
	tail -n 1 out | grep -qx "Total 3 devices with 2 available on 2 hosts" &&
	genv remote -H gpu-server-1,gpu-server-2 devices --format csv --no-header --no-summary >out &&
	printf "gpu-server-1,1,1\ngpu-server-2,2,1\n" >expect && test_cmp expect out
'

test_done
