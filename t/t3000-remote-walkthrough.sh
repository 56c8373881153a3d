#!/usr/bin/env bash
# t3000-remote-walkthrough.sh: the `genv remote` walkthrough of the genv
# docs, for real: two sshd hosts on loopback, gpu-server-1 with one GPU and
# gpu-server-2 with two. Lists devices and environments, queries by name,
# opens interactive shells with `remote activate` (driven through tmux) and
# checks inside them that the environment is active with the right GPUs.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS="1 2" fakehosts_setup 2
printf 'gpu-server-1\ngpu-server-2\n' >"$TRASH/hostfile.txt"
ME=$(id -un)

# The walkthrough's `genv activate --name my-env --gpus 1` on gpu-server-2,
# held by a process of ours (the hosts share this machine's pids).
sleep 600 &
HOLDER=$!
test_track_pid $HOLDER

skip_without_tty() {
	if ! fakehosts_can_tty; then
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $1 (no tmux, or no pty for this user: testbed.md §6)"
		return 0
	fi
	return 1
}

# "N seconds ago" -> "AGO", so rows can be compared exactly
normalize_ago() { sed -E 's/[0-9]+ (second|minute)s? ago$/AGO/'; }

test_expect_success 'remote devices prints the walkthrough table exactly' '
	cat >expect <<-\EOF &&
	HOST                     TOTAL    AVAILABLE
	gpu-server-1             1        1
	gpu-server-2             2        2

	Total 3 devices with 3 available on 2 hosts
	EOF
	genv remote --hostfile hostfile.txt devices >out 2>err &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'an environment activated on gpu-server-2 over ssh' '
	ssh gpu-server-2 "genv envs activate --eid $HOLDER --uid $(id -u) --username $ME --pid $HOLDER &&
		genv envs config --eid $HOLDER name --name my-env &&
		genv envs config --eid $HOLDER gpus --count 1 &&
		genv devices attach --eid $HOLDER" >out &&
	echo 0 >expect &&
	test_cmp expect out
'

test_expect_success 'remote envs lists it (tui, csv, --timestamp)' '
	{
		printf "%-25s%-8s%-16s%-16s%s\n" HOST ID USER NAME CREATED &&
		printf "%-25s%-8s%-16s%-16s%s\n" gpu-server-2 $HOLDER $ME my-env AGO &&
		printf "\nTotal 1 environments on 2 hosts\n"
	} >expect &&
	genv remote --hostfile hostfile.txt envs >raw &&
	normalize_ago <raw >out &&
	test_cmp expect out &&

	created=$(ssh gpu-server-2 genv envs query --eid $HOLDER --query creation) &&
	printf "gpu-server-2,%s,%s,my-env,%s\n" $HOLDER $ME "$created" >expect &&
	genv remote -H gpu-server-1,gpu-server-2 envs --format csv --timestamp \
		--no-header --no-summary >out &&
	test_cmp expect out
'

test_expect_success 'remote query finds it by name' '
	echo "gpu-server-2,$HOLDER" >expect &&
	genv remote --hostfile hostfile.txt query --name my-env --query hostname eid >out &&
	test_cmp expect out &&
	genv remote --hostfile hostfile.txt query --name nobody --queries eid >out &&
	test_must_be_empty out
'

test_expect_success 'remote devices counts the attached GPU as taken' '
	cat >expect <<-\EOF &&
	HOST,TOTAL,AVAILABLE
	gpu-server-1,1,1
	gpu-server-2,2,1

	Total 3 devices with 2 available on 2 hosts
	EOF
	genv remote --hostfile hostfile.txt devices --format csv >out &&
	test_cmp expect out
'

test_expect_success 'remote activate --gpus 2: no host has two free GPUs' '
	test_expect_code 1 genv remote --hostfile hostfile.txt activate --gpus 2 \
		>out 2>err </dev/null &&
	printf "%s\n" \
		"genv: requested 2 GPUs; no host has that many: gpu-server-1 1 of 1, gpu-server-2 1 of 2" \
		"Cannot find a host with enough available resources" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

skip_without_tty 'remote activate --gpus 1 opens a shell in an environment' ||
test_expect_success 'remote activate --gpus 1 opens a shell in an environment' '
	tmux_run a1 "genv remote --hostfile hostfile.txt activate --gpus 1" &&
	tmux_wait a1 "[gpu-server-1]" &&
	tmux_send a1 "genv status" &&
	tmux_wait a1 "Attached to GPUs at indices 0" &&
	tmux_screen a1 >screen &&
	grep -q "^Environment is active" screen &&
	grep -q "(genv) \[gpu-server-1\]" screen &&

	genv remote --hostfile hostfile.txt devices --no-header --no-summary >out &&
	printf "%-25s%-9s%s\n" gpu-server-1 1 0 gpu-server-2 2 1 >expect &&
	test_cmp expect out &&

	tmux_send a1 "exit" &&
	tmux_wait a1 "EXIT=0"
'

test_expect_success 'deactivating on gpu-server-2 frees its GPU' '
	ssh gpu-server-2 genv envs deactivate --pid $HOLDER &&
	genv remote --hostfile hostfile.txt devices --no-header >out &&
	grep -q "^Total 3 devices with 3 available on 2 hosts$" out
'

skip_without_tty 'remote activate --gpus 2 now lands on gpu-server-2' ||
test_expect_success 'remote activate --gpus 2 now lands on gpu-server-2' '
	tmux_run a2 "genv remote --hostfile hostfile.txt activate --gpus 2 --name big --no-prompt" &&
	tmux_wait a2 "[gpu-server-2]" &&
	tmux_send a2 "genv status" &&
	tmux_wait a2 "Attached to GPUs at indices 0,1" &&
	tmux_screen a2 >screen &&
	grep -q "Name: big" screen &&
	! grep -q "(genv)" screen &&
	tmux_send a2 "exit 7" &&
	tmux_wait a2 "EXIT=7" &&
	genv remote --hostfile hostfile.txt envs --no-header --no-summary >out &&
	test_must_be_empty out
'

test_done
