#!/usr/bin/env bash
# t1400-exec-lock.sh: `genv exec` runs a command in an environment of its
# own (registered, attached, released afterwards) and passes its status and
# signals through; `genv lock` serialises environments sharing a device.
. "$(dirname "$0")/lib.sh"

fake_gpus 2

envs_empty() { grep -q '"envs": \[\]' "$GENV_TMPDIR/envs.json"; }
no_attachments() { ! grep -q '"eid"' "$GENV_TMPDIR/devices.json"; }

test_expect_success 'exec: the child sees its environment' '
	genv exec --gpus 1 --name "my job" --gpu-memory 4g -- \
		sh -c "env | grep -E \"^(GENV_|CUDA_(VISIBLE_DEVICES|DEVICE_ORDER)=)\" | LC_ALL=C sort" >out &&
	eid=$(sed -n "s/^GENV_ENVIRONMENT_ID=//p" out) &&
	test -n "$eid" &&
	cat >expect <<-EOT &&
	CUDA_DEVICE_ORDER=PCI_BUS_ID
	CUDA_VISIBLE_DEVICES=0
	GENV_ENVIRONMENT_ID=$eid
	GENV_ENVIRONMENT_NAME=my job
	GENV_FAKE_NVML_CONFIG=$GENV_FAKE_NVML_CONFIG
	GENV_GPUS=1
	GENV_GPU_MEMORY=4g
	GENV_NVML_LIBRARY=$GENV_NVML_LIBRARY
	GENV_TMPDIR=$GENV_TMPDIR
	EOT
	test_cmp expect out
'

test_expect_success 'exec: registered while running, released after' '
	genv exec --gpus 2 --id job1 -- sh -c "cat \"\$GENV_TMPDIR/envs.json\" \"\$GENV_TMPDIR/devices.json\"" >during &&
	grep -q "\"eid\": \"job1\"" during &&
	test "$(grep -c "\"eid\": \"job1\"" during)" = 3 &&
	envs_empty && no_attachments
'

test_expect_success 'exec: no --gpus means CUDA_VISIBLE_DEVICES=-1 and status works in the child' '
	genv exec -- sh -c "echo \$CUDA_VISIBLE_DEVICES; genv status" >out &&
	head -n 1 out >first && echo -1 >expect && test_cmp expect first &&
	grep -qx "Detached from GPUs" out
'

test_expect_success 'exec: exit status passthrough, 127 for a missing program, 128+N for signals' '
	test_expect_code 7 genv exec --gpus 1 -- sh -c "exit 7" &&
	test_expect_code 127 genv exec -- no-such-program-xyz 2>err &&
	grep -q "no-such-program-xyz: No such file or directory" err &&
	test_expect_code 137 genv exec -- sh -c "kill -KILL \$\$" &&
	envs_empty && no_attachments
'

test_expect_success 'exec: no available devices: exit 75, command not run, nothing registered' '
	test_expect_code 75 genv exec --gpus 3 -- touch ran 2>err &&
	printf "%s\n" "No available devices" "requested 3 GPUs, this machine has 2" >expect &&
	test_cmp expect err &&
	test ! -e ran && envs_empty
'

test_expect_success 'exec: 75 when the GPUs are taken, the command'"'"'s own 1 otherwise' '
	rm -f started ran
	genv exec --gpus 2 --name hog -- sh -c "touch started; exec sleep 30" &
	pid=$! && test_track_pid $pid &&
	test_wait_for 10 test -e started &&
	test_expect_code 75 genv exec --gpus 1 -- touch ran 2>err &&
	test ! -e ran &&
	echo "No available devices" >expect && head -n 1 err >first && test_cmp expect first &&
	grep -qx "requested 1 GPU, 0 of 2 available; held: 0 (root/hog, <1m), 1 (root/hog, <1m)" err &&
	test_expect_code 1 genv exec --gpus 1 -o -- sh -c "exit 1" &&
	kill $pid && wait $pid;
	test_wait_for 10 envs_empty
'

test_expect_success 'exec: usage errors' '
	test_expect_code 2 genv exec --gpus 1 2>err &&
	grep -q "required: COMMAND" err &&
	test_expect_code 2 genv exec --gpus x -- true 2>err &&
	grep -q "invalid int value" err
'

test_expect_success 'exec: SIGTERM, SIGINT and SIGHUP sent to genv reach the child; devices released' '
	set -m &&  # else background jobs start with SIGINT ignored
	for sig in TERM INT HUP; do
		rm -f started got
		genv exec --gpus 1 -- bash -c "trap \"echo $sig >got; exit 9\" $sig; touch started; while :; do sleep 0.05; done" &
		pid=$! && test_track_pid $pid &&
		test_wait_for 10 test -e started &&
		grep -q "\"eid\"" "$GENV_TMPDIR/devices.json" &&
		kill -$sig $pid &&
		{ wait $pid; rc=$?; } ;
		test $rc = 9 && echo $sig >expect && test_cmp expect got &&
		envs_empty && no_attachments || exit 1
	done
'

test_expect_success 'exec: the env of a killed genv exec is cleaned up lazily' '
	rm -f started
	genv exec --gpus 1 --id lost -- sh -c "touch started; exec sleep 30" &
	pid=$! && test_track_pid $pid &&
	test_wait_for 10 test -e started &&
	kill -KILL $pid && wait $pid;
	genv envs >out &&
	! grep -q lost out
'

test_expect_success 'lock: outside an environment runs the command unlocked' '
	test_expect_code 3 genv lock sh -c "exit 3" &&
	genv lock && test ! -e "$GENV_TMPDIR/devices/0.lock"
'

test_expect_success 'lock: two environments over-subscribing a device take turns' '
	genv activate --shell $$ --id L1 >/dev/null &&
	genv activate --shell $$ --id L2 >/dev/null &&
	GENV_ENVIRONMENT_ID=L1 genv attach --index 0 &&
	GENV_ENVIRONMENT_ID=L2 genv attach --index 0 -o &&
	test "$(GENV_ENVIRONMENT_ID=L2 genv shell --reattach | head -n 1)" = "_genv_replace_env CUDA_VISIBLE_DEVICES 0" &&
	rm -f first-in release second-in
	# bounded waits: a failing test must not leave a locker behind
	GENV_ENVIRONMENT_ID=L1 genv lock sh -c "touch first-in; i=0; while [ ! -e release ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done" &
	p1=$!
	test_track_pid $p1
	test_wait_for 10 test -e first-in || exit 1
	GENV_ENVIRONMENT_ID=L2 genv lock sh -c "touch second-in; exit 6" &
	p2=$!
	test_track_pid $p2
	sleep 0.5
	test ! -e second-in || { touch release; exit 1; }
	touch release
	wait $p1 || exit 1
	wait $p2
	rc=$?
	test $rc = 6 && test -e second-in &&
	stat -c %a "$GENV_TMPDIR/devices/0.lock" >mode && echo 666 >expect && test_cmp expect mode &&
	stat -c %a "$GENV_TMPDIR/devices" >mode && echo 777 >expect && test_cmp expect mode
'

test_expect_success 'lock: uses CUDA_VISIBLE_DEVICES of a shell, ascending' '
	GENV_ENVIRONMENT_ID=x GENV_SHELL=1 CUDA_VISIBLE_DEVICES=1,0 genv lock true &&
	test -e "$GENV_TMPDIR/devices/1.lock"
'

test_done
