#!/usr/bin/env bash
# t3200-remote-activate.sh: `genv remote activate` picks the best-fitting
# host, reserves the GPUs on it atomically in the same connection that
# opens the shell, and never lets two clients get the same GPU: the loser
# of a race moves on to the next host, or fails cleanly. Also --gpu-memory,
# quoting of names, and --reuse-connections.
#
# The sessions here have no terminal (stdin is a pipe or a file): the
# remote login shell reads its commands from our stdin, so no tmux is
# needed. t3000 covers the interactive path.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS="1 1 2" fakehosts_setup 3
ME=$(id -un)

# race_client N: a background `remote activate` reading its session from inN
race_client() {
	{ genv remote -H gpu-server-1 activate --gpus 1 <in$1 >o$1 2>e$1; echo $? >rc$1; } &
}

sleep 600 &
THIEF=$!
test_track_pid $THIEF

test_expect_success 'best fit: the host with the fewest free GPUs that suffice' '
	echo "echo landed on \$GENV_TEST_HOST" >session &&
	genv remote -H gpu-server-3,gpu-server-1 activate --gpus 1 <session >out 2>err &&
	echo "landed on gpu-server-1" >expect &&
	test_cmp expect out &&
	genv remote -H gpu-server-3,gpu-server-1 activate --gpus 2 <session >out 2>err &&
	echo "landed on gpu-server-3" >expect &&
	test_cmp expect out &&
	genv remote -H gpu-server-3,gpu-server-1 activate <session >out 2>err &&
	test_cmp expect out
'

test_expect_success 'the session runs inside the reserved environment' '
	echo "genv envs query --eid \$\$ --query config.name config.gpus pids; genv devices find --eid \$\$" >session &&
	genv remote -H gpu-server-1 activate --gpus 1 --name "it'"'"'s a \"test\" \$HOME" \
		<session >out 2>err &&
	head -n 1 out | grep -q "^it'"'"'s a \"test\" \$HOME,1,[0-9][0-9]*$" &&
	sed -n 2p out >indices &&
	echo 0 >expect &&
	test_cmp expect indices &&
	# the shell is gone, and so is its environment
	genv remote -H gpu-server-1 envs --no-header --no-summary >out &&
	test_must_be_empty out
'

test_expect_success 'taken meanwhile: the loser of a race moves on to the next host' '
	cat >thief-ssh <<-EOF &&
	#!/bin/sh
	# takes gpu-server-1 GPU just before the activate connection gets there
	case "\$*" in *"envs activate"*)
		if [ ! -e "$TRASH/stolen" ]; then
			: >"$TRASH/stolen"
			ssh gpu-server-1 "genv envs activate --eid thief --uid 0 --pid $THIEF &&
				genv devices attach --eid thief --count 1" </dev/null >/dev/null
		fi ;;
	esac
	exec ssh "\$@"
	EOF
	chmod +x thief-ssh &&
	echo "echo landed on \$GENV_TEST_HOST" >session &&
	GENV_SSH=$TRASH/thief-ssh genv remote -H gpu-server-1,gpu-server-2 activate --gpus 1 \
		<session >out 2>err &&
	echo "landed on gpu-server-2" >expect &&
	test_cmp expect out &&
	printf "%s\n" \
		"genv: activating on gpu-server-1: 1 of 1 GPU available (best fit for --gpus 1: the fewest that suffice)" \
		"No available devices" \
		"requested 1 GPU, 0 of 1 available; held: 0 (uid 0, <1m)" \
		"genv: could not reserve GPUs on gpu-server-1 (taken meanwhile)" \
		"genv: trying the next host" \
		"genv: activating on gpu-server-2: 1 of 1 GPU available (next best fit for --gpus 1: the fewest that suffice)" \
		>expect.err &&
	test_cmp expect.err err &&
	# the thief keeps its GPU; our half-made environment is gone
	genv remote -H gpu-server-1 envs --format csv --no-header --no-summary >out &&
	cut -d, -f1,2 out >got &&
	echo gpu-server-1,thief >expect &&
	test_cmp expect got
'

test_expect_success 'taken meanwhile and no other host: fail cleanly' '
	rm -f "$TRASH/stolen" &&
	ssh gpu-server-1 genv envs deactivate --pid $THIEF &&
	test_expect_code 1 env GENV_SSH=$TRASH/thief-ssh genv remote -H gpu-server-1 activate \
		--gpus 1 </dev/null >out 2>err &&
	printf "%s\n" \
		"genv: activating on gpu-server-1: 1 of 1 GPU available (best fit for --gpus 1: the fewest that suffice)" \
		"No available devices" \
		"requested 1 GPU, 0 of 1 available; held: 0 (uid 0, <1m)" \
		"genv: could not reserve GPUs on gpu-server-1 (taken meanwhile)" \
		"Cannot find a host with enough available resources" >expect.err &&
	test_cmp expect.err err &&
	ssh gpu-server-1 genv envs deactivate --pid $THIEF
'

test_expect_success 'two clients race for the only GPU: exactly one gets it' '
	mkfifo in1 in2 &&
	race_client 1 &&
	race_client 2 &&
	exec 7>in1 8>in2 &&
	echo "echo session 1 on \$GENV_TEST_HOST" >&7 &&
	echo "echo session 2 on \$GENV_TEST_HOST" >&8 &&
	test_wait_for 30 eval "test -s rc1 || test -s rc2" &&
	genv remote -H gpu-server-1 devices --format csv --no-header --no-summary >out &&
	echo gpu-server-1,1,0 >expect &&
	test_cmp expect out &&
	exec 7>&- 8>&- &&
	wait &&
	cat rc1 rc2 | sort >rcs &&
	printf "0\n1\n" >expect &&
	test_cmp expect rcs &&
	if [ "$(cat rc1)" = 0 ]; then w=1 l=2; else w=2 l=1; fi &&
	echo "session $w on gpu-server-1" >expect &&
	test_cmp expect o$w &&
	test_must_be_empty o$l &&
	tail -n 1 e$l >last &&
	echo "Cannot find a host with enough available resources" >expect &&
	test_cmp expect last
'

test_expect_success '--gpu-memory: a GPU shared by memory-limited environments' '
	ssh gpu-server-1 "genv envs activate --eid half --uid 0 --pid $THIEF &&
		genv envs config --eid half gpu-memory --gpu-memory 8g &&
		genv devices attach --eid half --count 1" >/dev/null &&
	test_expect_code 1 genv remote -H gpu-server-1 activate --gpus 1 </dev/null 2>err &&
	test_expect_code 1 genv remote -H gpu-server-1 activate --gpus 1 --gpu-memory 10g \
		</dev/null 2>err &&
	echo "genv devices ps --format csv --no-header | cut -d, -f1,2; genv envs query --eid \$\$ --query config.gpu_memory" >session &&
	genv remote -H gpu-server-1 activate --gpus 1 --gpu-memory 4g <session >out 2>err &&
	printf "%s\n" 0,half "0,[0-9]*" 4g >expect &&
	grep -c -x -f expect out >n &&
	echo 3 >expect.n &&
	test_cmp expect.n n &&
	test_expect_code 2 genv remote -H gpu-server-1 activate --gpu-memory 4XB </dev/null 2>err &&
	grep -q "argument --gpu-memory: invalid memory size '"'"'4XB'"'"'" err &&
	ssh gpu-server-1 genv envs deactivate --pid $THIEF
'

# Issue 10: "4GB" as users type it; the host gets "4g", as genv 1.4.3 there
# reads it. An ssh first on PATH records the command lines genv sends.
mkdir -p "$TRASH/argv-ssh"
cat >"$TRASH/argv-ssh/ssh" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TRASH/ssh-args"
exec "$FAKEHOSTS_BIN/ssh" "\$@"
EOF
chmod +x "$TRASH/argv-ssh/ssh"
test_expect_success '--gpu-memory 4GB: sent to the host in 1.4.3 spelling' '
	echo "genv envs query --eid \$\$ --query config.gpu_memory" >session &&
	PATH="$TRASH/argv-ssh:$PATH" genv remote -H gpu-server-1 activate --gpus 1 \
		--gpu-memory 4GB <session >out 2>err &&
	grep -x 4g out &&
	grep -q -- "gpu-memory --gpu-memory [^ ]*\b4g\b[^ ]* &&" "$TRASH/ssh-args" &&
	! grep -q 4GB "$TRASH/ssh-args"
'

# two_sockets: the control directory holds exactly two sockets (in ./socks)
two_sockets() { ls "$FAKEHOSTS_DIR/genv-ssh" >socks && test "$(wc -l <socks)" -eq 2; }
test_expect_success '--reuse-connections: one master per host, private sockets' '
	XDG_RUNTIME_DIR=$FAKEHOSTS_DIR genv remote --reuse-connections -H gpu-server-1,gpu-server-2 \
		devices --format csv >out1 &&
	test "$(stat -c %a "$FAKEHOSTS_DIR/genv-ssh")" = 700 &&
	# ssh binds each master socket under a temporary name, then renames it
	test_wait_for 5 two_sockets ||
	{ echo "control sockets:"; ls -la "$FAKEHOSTS_DIR/genv-ssh"; false; } &&
	XDG_RUNTIME_DIR=$FAKEHOSTS_DIR GENV_SSH_REUSE=1 genv remote -H gpu-server-1,gpu-server-2 \
		devices --format csv >out2 &&
	test_cmp out1 out2 &&
	ls "$FAKEHOSTS_DIR/genv-ssh" >socks2 &&
	test_cmp socks socks2 &&
	grep -q "^Total 2 devices with 2 available on 2 hosts$" out1
'

test_done
