#!/usr/bin/env bash
# t1200-user-commands.sh: attach, detach, config, status and home called
# directly (as the shell function does), with their exact outputs and
# errors, against the fake NVML.
. "$(dirname "$0")/lib.sh"

fake_gpus 4

# activate EID [ARGS]: register EID for this test shell's pid
activate() { local eid=$1; shift; genv activate --shell $$ --id "$eid" --no-prompt "$@" >/dev/null; }
attached() { GENV_ENVIRONMENT_ID=$1 genv shell --reattach | sed -n "s/^_genv_replace_env CUDA_VISIBLE_DEVICES //p"; }

test_expect_success 'status when not active' '
	genv status >out &&
	echo "Environment is not active" >expect &&
	test_cmp expect out
'

test_expect_success 'status reads CUDA_VISIBLE_DEVICES and the config variables' '
	GENV_ENVIRONMENT_ID=e1 GENV_SHELL=1 CUDA_VISIBLE_DEVICES=0,2 GENV_ENVIRONMENT_NAME=quick-start \
		GENV_GPUS=1 GENV_GPU_MEMORY=4g genv status >out &&
	cat >expect <<-\EOT &&
	Environment is active (e1)
	Attached to GPUs at indices 0,2

	Configuration
	    Name: quick-start
	    Device count: 1
	    GPU memory capacity: 4g

	EOT
	test_cmp expect out &&
	GENV_ENVIRONMENT_ID=e1 GENV_PYTHON=1 CUDA_VISIBLE_DEVICES=-1 GENV_GPUS=0 genv status >out &&
	cat >expect <<-\EOT &&
	Environment is active (e1)
	Detached from GPUs

	Configuration
	    Name: N/A
	    Device count: N/A
	    GPU memory capacity: N/A

	EOT
	test_cmp expect out
'

test_expect_success 'status in a container lists the device lock files' '
	mkdir -p "$GENV_TMPDIR/devices" && touch "$GENV_TMPDIR/devices/3.lock" "$GENV_TMPDIR/devices/1.lock" &&
	GENV_ENVIRONMENT_ID=c GENV_CONTAINER=1 genv status >out &&
	grep -qx "Attached to GPUs at indices 1,3" out &&
	rm -r "$GENV_TMPDIR/devices"
'

test_expect_success 'status without GENV_SHELL asks the state' '
	activate st --gpus 2 &&
	GENV_ENVIRONMENT_ID=st genv status >out &&
	grep -qx "Attached to GPUs at indices 0,1" out
'

test_expect_success 'status with a garbage CUDA_VISIBLE_DEVICES fails clearly' '
	GENV_ENVIRONMENT_ID=e1 GENV_SHELL=1 CUDA_VISIBLE_DEVICES=GPU-1234 test_expect_code 1 genv status >out 2>err &&
	grep -q "CUDA_VISIBLE_DEVICES is .GPU-1234." err
'

test_expect_success 'attach needs an active environment' '
	test_expect_code 1 genv attach --count 1 2>err &&
	echo "Not running in an active environment" >expect && test_cmp expect err &&
	test_expect_code 1 genv detach 2>err && test_cmp expect err &&
	test_expect_code 1 genv config 2>err && test_cmp expect err
'

test_expect_success 'attach --count, --index, from GENV_GPUS, and -o' '
	activate at &&
	GENV_ENVIRONMENT_ID=at genv attach --count 1 && test "$(attached at)" = 2 &&
	GENV_ENVIRONMENT_ID=at genv attach --index 3 && test "$(attached at)" = 2,3 &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=at genv attach --index 0 2>err &&
	printf "%s\n" "Device 0 is not available" "held: 0 (root, <1m)" >expect &&
	test_cmp expect err &&
	GENV_ENVIRONMENT_ID=at genv attach --index 0 -o && test "$(attached at)" = 0,2,3 &&
	GENV_ENVIRONMENT_ID=at GENV_GPUS=1 genv attach && test "$(attached at)" = 0,2,3 &&
	GENV_ENVIRONMENT_ID=at genv attach && test "$(attached at)" = 0,2,3
'

test_expect_success 'attach errors: no devices, out-of-range index, exclusive modes' '
	test_expect_code 1 env GENV_ENVIRONMENT_ID=at genv attach --count 4 2>err &&
	printf "%s\n" "No available devices" \
		"requested 4 GPUs (3 already attached), 0 of 4 available; held: 1 (root, <1m)" \
		>expect && test_cmp expect err &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=at genv attach --index 7 2>err &&
	echo "Device 7 does not exist" >expect && test_cmp expect err &&
	test_expect_code 2 env GENV_ENVIRONMENT_ID=at genv attach --index 1 --count 1 2>err &&
	grep -q "mutually exclusive" err &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=gone genv attach --count 1 2>err &&
	grep -q "gone.*not registered" err
'

test_expect_success 'attach --refresh changes nothing' '
	cp "$GENV_TMPDIR/devices.json" before &&
	GENV_ENVIRONMENT_ID=at genv attach --refresh >out &&
	test ! -s out && test_cmp before "$GENV_TMPDIR/devices.json"
'

test_expect_success 'detach --index, out of range, and all' '
	GENV_ENVIRONMENT_ID=at genv detach --index 2 && test "$(attached at)" = 0,3 &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=at genv detach --index 9 2>err &&
	echo "Device 9 does not exist" >expect && test_cmp expect err &&
	GENV_ENVIRONMENT_ID=at genv detach && test "$(attached at)" = -1
'

test_expect_success 'config prints nothing for an unconfigured env, and does not write' '
	activate cf &&
	cp "$GENV_TMPDIR/envs.json" before &&
	GENV_ENVIRONMENT_ID=cf genv config >out && test ! -s out &&
	GENV_ENVIRONMENT_ID=cf genv config name >out && test ! -s out &&
	test_cmp before "$GENV_TMPDIR/envs.json"
'

test_expect_success 'config sets, prints and clears fields' '
	GENV_ENVIRONMENT_ID=cf genv config name quick-start &&
	GENV_ENVIRONMENT_ID=cf genv config gpu-memory 4g &&
	GENV_ENVIRONMENT_ID=cf genv config gpus 1 &&
	GENV_ENVIRONMENT_ID=cf genv config >out &&
	printf "gpu-memory: 4g\ngpus: 1\nname: quick-start\n" >expect && test_cmp expect out &&
	GENV_ENVIRONMENT_ID=cf genv config gpus >out && echo 1 >expect && test_cmp expect out &&
	GENV_ENVIRONMENT_ID=cf genv config -q >out && test ! -s out &&
	GENV_ENVIRONMENT_ID=cf genv config gpu-memory --clear &&
	GENV_ENVIRONMENT_ID=cf genv config >out &&
	printf "gpus: 1\nname: quick-start\n" >expect && test_cmp expect out &&
	GENV_ENVIRONMENT_ID=cf genv shell --reconfigure >out &&
	grep -qx "_genv_unset_env GENV_GPU_MEMORY" out &&
	GENV_ENVIRONMENT_ID=cf genv config --clear &&
	GENV_ENVIRONMENT_ID=cf genv config >out && test ! -s out
'

test_expect_success 'config validates values' '
	test_expect_code 2 env GENV_ENVIRONMENT_ID=cf genv config gpus two 2>err &&
	grep -q "invalid int value" err &&
	test_expect_code 2 env GENV_ENVIRONMENT_ID=cf genv config gpu-memory 4XB 2>err &&
	test_expect_code 2 env GENV_ENVIRONMENT_ID=cf genv config colour red 2>err &&
	grep -q "invalid choice: .colour." err
'

test_expect_success 'home: none, then $HOME/.genv, then $PWD/.genv' '
	mkdir proj && cd proj &&
	test_expect_code 1 genv home >out 2>err &&
	test ! -s out &&
	cat >expect <<-\EOT &&
	Could not find any Genv configuration directory.

	Create a directory named '\''.genv'\'' under one of the following directories:
	  1) Current working directory (i.e. $PWD)
	  2) Home directory (i.e. $HOME)

	EOT
	test_cmp expect err &&
	genv home -q >out 2>err && test ! -s out && test ! -s err &&
	mkdir "$HOME/.genv" && genv home >out && echo "$HOME/.genv" >expect && test_cmp expect out &&
	mkdir .genv && genv home >out && echo "$PWD/.genv" >expect && test_cmp expect out
'

test_expect_success 'config --save writes the .genv files, --load reads them back' '
	cd proj &&
	GENV_ENVIRONMENT_ID=cf genv config name "my env" &&
	GENV_ENVIRONMENT_ID=cf genv config gpus 2 --save &&
	printf "my env" >expect && test_cmp expect .genv/name &&
	printf 2 >expect && test_cmp expect .genv/gpus &&
	test ! -e .genv/gpu-memory &&
	GENV_ENVIRONMENT_ID=cf genv config --clear &&
	printf " 512mi\n" >.genv/gpu-memory &&
	GENV_ENVIRONMENT_ID=cf genv config --load >out &&
	printf "gpu-memory: 512mi\ngpus: 2\nname: my env\n" >expect && test_cmp expect out &&
	GENV_ENVIRONMENT_ID=cf genv config >out && test_cmp expect out &&
	echo lots >.genv/gpus &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=cf genv config --load 2>err &&
	grep -q "gpus. holds .lots." err &&
	GENV_ENVIRONMENT_ID=cf genv config >out && test_cmp expect out
'

test_expect_success 'config --load without a .genv directory keeps the config (1.4.3 cleared it)' '
	rm -r "$HOME/.genv" && mkdir empty && cd empty &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=cf genv config --load 2>err &&
	grep -q "Could not find any Genv configuration directory" err &&
	GENV_ENVIRONMENT_ID=cf genv config name >out &&
	echo "my env" >expect && test_cmp expect out
'

test_expect_success 'every command of this part has --help on stdout (activate/deactivate: stderr)' '
	for c in attach detach config status home shell lock exec; do
		genv $c --help >out 2>err && grep -q "^usage: genv $c" out && test ! -s err || exit 1
	done
'

test_expect_success 'deactivating an environment without devices leaves devices.json alone' '
	{ sleep 600 & } && p1=$! &&
	{ sleep 600 & } && p2=$! &&
	test_track_pid $p1 $p2 &&
	genv activate --shell $p1 --gpus 1 >/dev/null &&
	genv activate --shell $p2 >/dev/null &&
	cp "$GENV_TMPDIR/devices.json" before &&
	ino=$(stat -c %i "$GENV_TMPDIR/devices.json") &&
	GENV_ENVIRONMENT_ID=$p2 genv deactivate --shell $p2 >/dev/null &&
	test "$(stat -c %i "$GENV_TMPDIR/devices.json")" = "$ino" &&
	GENV_ENVIRONMENT_ID=$p1 genv deactivate --shell $p1 >/dev/null &&
	test "$(stat -c %i "$GENV_TMPDIR/devices.json")" != "$ino" &&
	! grep -q "\"eid\": \"$p1\"" "$GENV_TMPDIR/devices.json" &&
	grep -q "\"eid\": \"$p1\"" before
'

test_expect_success 'attach and config in an environment the state does not know: a clear error, nothing written' '
	cp "$GENV_TMPDIR/devices.json" devices-before &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=ghost genv attach --count 1 2>err &&
	grep -Fx "Environment '"'"'ghost'"'"' is not registered (run '"'"'genv deactivate'"'"' and activate it again)" err &&
	cmp devices-before "$GENV_TMPDIR/devices.json" &&
	test_expect_code 1 env GENV_ENVIRONMENT_ID=ghost genv config name x 2>err &&
	grep -q "^Environment .ghost. is not registered" err &&
	! grep -q "\"ghost\"" "$GENV_TMPDIR/envs.json"
'

test_done
