#!/usr/bin/env bash
# t2400-gpu-changes.sh: devices.json follows the GPUs NVML reports (1.4.3
# needed `genv devices --reset`, losing every attachment): a hot-added GPU
# appears, a removed one disappears, a different GPU at an index (another
# UUID) loses the old one's attachments; without NVML the saved list is
# used, and with no saved list the error says the driver is missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
spawn_sleeper P2

# gpu_line INDEX UUID [MiB]
gpu_line() { printf 'gpu %d %s %d NVIDIA Fake GPU\n' "$1" "$2" "${3:-16384}"; }

test_expect_success 'setup: two GPUs, env a attached to both' '
	fake_gpus 2 &&
	genv envs activate --eid a --uid 1000 --pid $P1 &&
	genv envs activate --eid b --uid 1000 --pid $P2 &&
	echo 0,1 >expect &&
	genv devices attach --eid a --count 2 >out &&
	test_cmp expect out
'

test_expect_success 'a hot-added GPU appears and attachments are kept' '
	fake_gpus 3 &&
	genv devices ps --format csv --no-header >out &&
	cut -d, -f1,2 out >got &&
	printf "0,a\n1,a\n2,\n" >expect &&
	test_cmp expect got &&
	genv devices query --query index total_memory >out &&
	printf "0,16384mi\n1,16384mi\n2,16384mi\n" >expect &&
	test_cmp expect out &&
	grep -c "\"index\"" "$GENV_TMPDIR/devices.json" >n &&
	echo 3 >expect &&
	test_cmp expect n &&
	echo 2 >expect &&
	genv devices attach --eid b --count 1 >out &&
	test_cmp expect out
'

test_expect_success 'a removed GPU disappears with its attachments' '
	fake_gpus 2 &&
	genv devices query --query index eids >out &&
	printf "0,a\n1,a\n" >expect &&
	test_cmp expect out &&
	echo >expect &&
	genv devices find --eid b >out &&
	test_cmp expect out
'

test_expect_success 'another GPU at an index: its attachments are dropped' '
	fake_gpus 2 &&
	head -n 1 "$GENV_FAKE_NVML_CONFIG" >swapped &&
	gpu_line 1 GPU-00000000-1111-4000-8000-000000000001 >>swapped &&
	cp swapped "$GENV_FAKE_NVML_CONFIG" &&
	genv devices query --query index eids >out &&
	printf "0,a\n1,\n" >expect &&
	test_cmp expect out &&
	echo 1 >expect &&
	genv devices attach --eid b --index 1 >out &&
	test_cmp expect out &&
	genv devices query --query index eids >out &&
	printf "0,a\n1,b\n" >expect &&
	test_cmp expect out
'

test_expect_success 'a swap is noticed even when devices.json came from a genv without the sidecar' '
	rm -f "$GENV_TMPDIR/devices.uuids" &&
	genv devices query --query index eids >out &&
	test -s "$GENV_TMPDIR/devices.uuids" &&
	head -n 1 "$GENV_FAKE_NVML_CONFIG" >swapped2 &&
	gpu_line 1 GPU-00000000-2222-4000-8000-000000000001 >>swapped2 &&
	cp swapped2 "$GENV_FAKE_NVML_CONFIG" &&
	genv devices query --query index eids >out &&
	printf "0,a\n1,\n" >expect &&
	test_cmp expect out &&
	cp swapped "$GENV_FAKE_NVML_CONFIG" &&
	genv devices attach --eid b --index 1 >out
'

test_expect_success 'total memory follows the GPU' '
	head -n 1 "$GENV_FAKE_NVML_CONFIG" >cfg &&
	gpu_line 1 GPU-00000000-1111-4000-8000-000000000001 8192 >>cfg &&
	cp cfg "$GENV_FAKE_NVML_CONFIG" &&
	genv devices query --query index total_memory eids >out &&
	printf "0,16384mi,a\n1,8192mi,b\n" >expect &&
	test_cmp expect out
'

test_expect_success 'without NVML: envs work, devices use the saved list' '
	export GENV_NVML_LIBRARY=/nonexistent &&
	genv envs query --query eid >out &&
	printf "a\nb\n" >expect &&
	test_cmp expect out &&
	genv devices query --query index eids >out &&
	printf "0,a\n1,b\n" >expect &&
	test_cmp expect out
'

test_expect_success 'without NVML and without devices.json: the driver message, exit 1' '
	export GENV_NVML_LIBRARY=/nonexistent GENV_TMPDIR=$TRASH/s-nonvml &&
	genv envs >out &&
	test_expect_code 1 genv devices >out 2>err &&
	test ! -s out &&
	grep -q "NVIDIA driver not found" err &&
	grep -q /nonexistent err &&
	test ! -e "$GENV_TMPDIR/devices.json"
'

test_expect_success 'NVML that fails to initialise: its message, exit 1' '
	export GENV_TMPDIR=$TRASH/s-initerr &&
	export GENV_FAKE_NVML_CONFIG=$TRASH/initerr.gpus &&
	echo "init_error 9" >"$GENV_FAKE_NVML_CONFIG" &&
	test_expect_code 1 genv devices >out 2>err &&
	grep -q "Driver Not Loaded" err &&
	test ! -e "$GENV_TMPDIR/devices.json"
'

test_done
