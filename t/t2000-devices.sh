#!/usr/bin/env bash
# t2000-devices.sh: `genv devices` ps/query/find/attach/detach on fake GPUs,
# against state files written by hand in 1.4.3's format with known
# timestamps; outputs are compared byte for byte (tui padding, trailing
# spaces of detached rows, overflowing columns, csv, --no-header,
# --timestamp), and read-only commands must not rewrite devices.json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
spawn_sleeper P2
spawn_sleeper P3
spawn_sleeper P4
spawn_sleeper P5
DEAD=$(dead_pid)
T1=$(ago 90)          # 1 minute ago
T2=$(ago 7500)        # 2 hours ago
T3=$(ago 262800)      # 3 days ago
T4=$(ago 6048000)     # 10 weeks ago
LONG_EID=long-environment-id
LONG_NAME=llm/mistral/35245

fake_gpus 6
mkdir -p "$GENV_TMPDIR"
envs_file \
	"$(env_json e1 1000 "$T1" alice my-env 4g 2 "$P1")" \
	"$(env_json e2 1001 "$T2" null "two words" null null "$P2")" \
	"$(env_json "$LONG_EID" 0 "$T3" root "$LONG_NAME" null null "$P3")" \
	"$(env_json e3 1002 "$T2" bob null null null "$P4")" \
	"$(env_json e4 1003 "$T4" carol 'caf\u00e9' null null "$P5")" \
	"$(env_json gone 1004 "$T4" dave gone-env null null "$DEAD")" \
	>"$GENV_TMPDIR/envs.json"
devices_file \
	"$(device_json 0 16384mi e1 4g "$T1" e3 null "$T2")" \
	"$(device_json 1 16384mi e1 4g "$T1")" \
	"$(device_json 2 16384mi "$LONG_EID" null "$T3")" \
	"$(device_json 3 16384mi gone null "$T4")" \
	"$(device_json 4 16384mi e4 null "$T4")" \
	"$(device_json 5 16384mi)" \
	>"$GENV_TMPDIR/devices.json"
cp "$GENV_TMPDIR/envs.json" "$TRASH/envs.orig"

# the expected cleaned state (the attachment of "gone" dropped)
devices_file \
	"$(device_json 0 16384mi e1 4g "$T1" e3 null "$T2")" \
	"$(device_json 1 16384mi e1 4g "$T1")" \
	"$(device_json 2 16384mi "$LONG_EID" null "$T3")" \
	"$(device_json 3 16384mi)" \
	"$(device_json 4 16384mi e4 null "$T4")" \
	"$(device_json 5 16384mi)" \
	>"$TRASH/devices.cleaned"

test_expect_success 'ps (default): tui, padding, overflow, trailing spaces' '
	{
		echo "ID      ENV ID      ENV NAME        ATTACHED" &&
		echo "0       e1          my-env          1 minute ago" &&
		echo "0       e3                          2 hours ago" &&
		echo "1       e1          my-env          1 minute ago" &&
		echo "2       long-environment-idllm/mistral/352453 days ago" &&
		echo "3                                   " &&
		echo "4       e4          café            10 weeks ago" &&
		echo "5                                   "
	} >expect &&
	genv devices >out &&
	test_cmp expect out &&
	genv devices ps >out &&
	test_cmp expect out &&
	genv devices ps --format tui >out &&
	test_cmp expect out &&
	test "$(sed -n 6p out | wc -c)" = 37
'

test_expect_success 'ps cleaned up the attachment of the dead env and saved it' '
	test_cmp devices.cleaned "$GENV_TMPDIR/devices.json"
'

test_expect_success 'genv devices does not write envs.json' '
	cmp envs.orig "$GENV_TMPDIR/envs.json"
'

test_expect_success 'read-only subcommands do not rewrite devices.json' '
	before=$(file_id "$GENV_TMPDIR/devices.json") &&
	sleep 1.1 &&
	genv devices >/dev/null &&
	genv devices ps --format csv >/dev/null &&
	genv devices query --query index eids >/dev/null &&
	genv devices find --eid e1 >/dev/null &&
	test "$before" = "$(file_id "$GENV_TMPDIR/devices.json")"
'

test_expect_success 'ps --timestamp shows the raw attachment times' '
	{
		echo "ID      ENV ID      ENV NAME        ATTACHED" &&
		printf "%-8s%-12s%-16s%s\n" 0 e1 my-env "$T1" 0 e3 "" "$T2" 1 e1 my-env "$T1" &&
		echo "2       long-environment-idllm/mistral/35245$T3" &&
		echo "3                                   " &&
		echo "4       e4          café            $T4" &&
		echo "5                                   "
	} >expect &&
	genv devices ps --timestamp >out &&
	test_cmp expect out
'

test_expect_success 'ps --format csv, with and without header' '
	{
		echo "0,e1,my-env,$T1" &&
		echo "0,e3,,$T2" &&
		echo "1,e1,my-env,$T1" &&
		echo "2,$LONG_EID,$LONG_NAME,$T3" &&
		echo "3,,," &&
		echo "4,e4,café,$T4" &&
		echo "5,,,"
	} >expect.rows &&
	{ echo "ID,ENV ID,ENV NAME,ATTACHED" && cat expect.rows; } >expect &&
	genv devices ps --format csv --timestamp >out &&
	test_cmp expect out &&
	genv devices ps --format=csv --no-header --timestamp >out &&
	test_cmp expect.rows out &&
	genv devices ps --format csv --no-header >out &&
	sed -n 1p out >row && echo "0,e1,my-env,1 minute ago" >expect.row &&
	test_cmp expect.row row
'

test_expect_success 'ps --no-header tui' '
	genv devices ps >full &&
	sed 1d full >expect &&
	genv devices ps --no-header >out &&
	test_cmp expect out
'

test_expect_success 'time_since wording: seconds' '
	export GENV_TMPDIR=$TRASH/s-secs &&
	mkdir -p "$GENV_TMPDIR" &&
	t=$(ago 30) &&
	devices_file "$(device_json 0 16384mi e1 null "$t")" "$(device_json 1 16384mi)" \
		"$(device_json 2 16384mi)" "$(device_json 3 16384mi)" \
		"$(device_json 4 16384mi)" "$(device_json 5 16384mi)" >"$GENV_TMPDIR/devices.json" &&
	genv devices --no-cleanup >out &&
	sed -n 2p out >row &&
	grep -Ex "0       e1                          3[0-5] seconds ago" row
'

test_expect_success 'query: every field, in the order asked' '
	{
		echo "0,e1 e3,16384mi,e1+4g+${T1/ /_} e3++${T2/ /_}" &&
		echo "1,e1,16384mi,e1+4g+${T1/ /_}" &&
		echo "2,$LONG_EID,16384mi,$LONG_EID++${T3/ /_}" &&
		echo "3,,16384mi," &&
		echo "4,e4,16384mi,e4++${T4/ /_}" &&
		echo "5,,16384mi,"
	} >expect &&
	genv devices query --query index eids total_memory attachments >out &&
	test_cmp expect out &&
	printf "16384mi,0\n16384mi,1\n16384mi,2\n16384mi,3\n16384mi,4\n16384mi,5\n" >expect &&
	genv devices query --queries total_memory index >out &&
	test_cmp expect out
'

test_expect_success 'query: a bad or missing field is a usage error' '
	test_expect_code 2 genv devices query --query index bogus 2>err &&
	grep -q "argument --query/--queries: invalid choice: '"'"'bogus'"'"'" err &&
	test_expect_code 2 genv devices query 2>err &&
	grep -q "the following arguments are required: --query/--queries" err &&
	test_expect_code 2 genv devices query --query 2>err &&
	grep -q "expected at least one argument" err
'

test_expect_success 'find: indices of an env, empty line for none' '
	echo 0,1 >expect &&
	genv devices find --eid e1 >out &&
	test_cmp expect out &&
	echo >expect &&
	genv devices find --eid nobody >out &&
	test_cmp expect out &&
	test_expect_code 2 genv devices find 2>err &&
	grep -q "required: --eid" err
'

test_expect_success '--no-cleanup keeps attachments of dead envs' '
	export GENV_TMPDIR=$TRASH/s-nocleanup &&
	mkdir -p "$GENV_TMPDIR" &&
	cp envs.orig "$GENV_TMPDIR/envs.json" &&
	devices_file "$(device_json 0 16384mi gone null "$T4")" "$(device_json 1 16384mi)" \
		"$(device_json 2 16384mi)" "$(device_json 3 16384mi)" \
		"$(device_json 4 16384mi)" "$(device_json 5 16384mi)" >"$GENV_TMPDIR/devices.json" &&
	cp "$GENV_TMPDIR/devices.json" before &&
	echo 0 >expect &&
	genv devices --no-cleanup find --eid gone >out &&
	test_cmp expect out &&
	cmp before "$GENV_TMPDIR/devices.json" &&
	echo >expect &&
	genv devices find --eid gone >out &&
	test_cmp expect out
'

# ---- mutations, on a fresh state: 4 GPUs, envs a (gpus=2), b, c, m1..m3

spawn_sleeper PA
spawn_sleeper PB
spawn_sleeper PC

setup_attach_state() {
	export GENV_TMPDIR=$TRASH/$1
	export GENV_FAKE_NVML_CONFIG=$TRASH/$1.gpus
	fake_gpus "${2:-4}" "${3:-16384}"
	mkdir -p "$GENV_TMPDIR"
	envs_file \
		"$(env_json a 1000 "$T1" alice null null 2 "$PA")" \
		"$(env_json b 1000 "$T1" alice null 8g null "$PB")" \
		"$(env_json c 1000 "$T1" alice null 8g null "$PC")" \
		>"$GENV_TMPDIR/envs.json"
}

test_expect_success 'attach without --count uses the configured device count' '
	setup_attach_state s-attach &&
	echo 0,1 >expect &&
	genv devices attach --eid a >out &&
	test_cmp expect out &&
	genv devices find --eid a >out &&
	test_cmp expect out
'

test_expect_success 'attach records the env memory capacity and one timestamp' '
	setup_attach_state s-attach &&
	echo 2 >expect &&
	genv devices attach --eid b --count 1 >out &&
	test_cmp expect out &&
	genv devices query --query index attachments >out &&
	grep -E "^2,b\+8g\+[0-9]{2}/[0-9]{2}/[0-9]{4}_[0-9:]{8}$" out &&
	grep -E "^0,a\+\+" out
'

test_expect_success 'attach --count grows, then errors keep the state' '
	setup_attach_state s-attach &&
	echo 0,1,3 >expect &&
	genv devices attach --eid a --count 3 >out &&
	test_cmp expect out &&
	cp "$GENV_TMPDIR/devices.json" before &&
	test_expect_code 1 genv devices attach --eid c --count 5 >out 2>err &&
	echo "Requested more devices (5) than total available (4)" >expect &&
	test_cmp expect err &&
	test_expect_code 1 genv devices attach --eid c --count 2 >out 2>err &&
	printf "%s\n" "No available devices" \
		"requested 2 GPUs with 8g each, 1 of 4 available; held: 0 (alice, <1m), 1 (alice, <1m), 2 (alice 8g, <1m), 3 (alice, <1m)" \
		>expect &&
	test_cmp expect err &&
	test ! -s out &&
	cmp before "$GENV_TMPDIR/devices.json"
'

test_expect_success 'attach --index: not available, then over-subscription' '
	setup_attach_state s-attach &&
	test_expect_code 1 genv devices attach --eid c --index 0 2>err &&
	printf "%s\n" "Device 0 is not available" "held: 0 (alice, <1m)" >expect &&
	test_cmp expect err &&
	echo 0 >expect &&
	genv devices attach --eid c --index 0 --allow-over-subscription >out &&
	test_cmp expect out &&
	genv devices find --eid a >out &&
	echo 0,1,3 >expect &&
	test_cmp expect out
'

test_expect_success 'attach --count smaller than attached detaches from the highest index' '
	setup_attach_state s-attach &&
	echo 0 >expect &&
	genv devices attach --eid a --count 1 >out &&
	test_cmp expect out
'

test_expect_success 'attach: out-of-range index and bad arguments fail cleanly' '
	setup_attach_state s-attach &&
	cp "$GENV_TMPDIR/devices.json" before &&
	test_must_fail genv devices attach --eid a --index 9 2>err &&
	grep -q 9 err &&
	test_must_fail genv devices attach --eid a --index -1 2>err &&
	test_expect_code 2 genv devices attach --eid a --index 0 --count 1 2>err &&
	grep -q "argument --index: not allowed with argument --count" err &&
	test_expect_code 2 genv devices attach --eid a --count x 2>err &&
	grep -q "argument --count: invalid int value: '"'"'x'"'"'" err &&
	test_expect_code 2 genv devices attach --count 1 2>err &&
	grep -q "required: --eid" err &&
	cmp before "$GENV_TMPDIR/devices.json"
'

test_expect_success 'memory capacities share a device until it is full' '
	setup_attach_state s-mem 1 16384 &&
	echo 0 >expect &&
	genv devices attach --eid b --count 1 >out &&
	test_cmp expect out &&
	genv devices attach --eid c --count 1 >out &&
	test_cmp expect out &&
	test_expect_code 1 genv devices attach --eid a --count 1 2>err &&
	printf "%s\n" "No available devices" \
		"requested 1 GPU, 0 of 1 available; held: 0 (alice 8g, <1m; alice 8g, <1m)" >expect &&
	test_cmp expect err &&
	genv devices query --query eids >out &&
	echo "b c" >expect &&
	test_cmp expect out
'

test_expect_success 'detach: one index, an unknown index (ignored), all; --quiet' '
	setup_attach_state s-detach &&
	genv devices attach --eid a --count 3 >/dev/null &&
	echo 1,2 >expect &&
	genv devices detach --eid a --index 0 >out &&
	test_cmp expect out &&
	genv devices detach --eid a --index 9 >out &&
	test_cmp expect out &&
	genv devices detach --eid a --index 2 --quiet >out &&
	test ! -s out &&
	genv devices find --eid a >out &&
	echo 1 >expect &&
	test_cmp expect out &&
	echo >expect &&
	genv devices detach --eid a >out &&
	test_cmp expect out &&
	genv devices query --query eids >out &&
	printf "\n\n\n\n" >expect &&
	test_cmp expect out
'

test_expect_success '--reset forgets attachments' '
	setup_attach_state s-reset &&
	genv devices attach --eid a --count 2 >/dev/null &&
	genv devices --reset query --query index eids >out &&
	printf "0,\n1,\n2,\n3,\n" >expect &&
	test_cmp expect out
'

test_done
