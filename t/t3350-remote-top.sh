#!/usr/bin/env bash
# t3300-remote-top.sh: `genv remote ... top` over real sshd hosts on
# loopback. The plain table of all hosts (a down host listed as DOWN, its
# message on stderr, -q, -e); a host with genv 1.4.3 (no --watch) read
# with one-shot snapshots; and the live view in tmux: one ssh session per
# host and no new process per refresh, a host whose sshd is killed shown
# as DOWN while the others keep refreshing, reconnected once it is back,
# a hung host given up on and reconnected, and q ending every session.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"
. "$T_DIR/lib-sshlog.sh"

FAKEHOSTS_GPUS="1 2 1" fakehosts_setup 3
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
H3=$(fakehost_dir gpu-server-3)
HOSTS=gpu-server-1,gpu-server-2,gpu-server-3
REAL_GENV=$BUILD/bin/genv
ME=$(id -un)
export TERM=xterm

# every ssh genv starts is logged, one line per host
sshlog_setup || exit 1

# a holder on gpu-server-1 (the hosts share this machine's pids)
sleep 600 &
HOLDER=$!
test_track_pid $HOLDER
hold() {   # host eid name
	ssh "$1" "genv envs activate --eid $2 --uid $(id -u) --username $ME --pid $HOLDER &&
		genv envs config --eid $2 name --name $3 && genv devices attach --eid $2 --index 0" >/dev/null
}

# genv 1.4.3's answer to an option it does not know
fake_143() {
	cat >"$1/bin/genv" <<-EOF
	#!/bin/sh
	for a; do case \$a in --watch)
		echo "usage: genv [-h] [--version] SUBCOMMAND ..." >&2
		echo "genv: error: unrecognized arguments: --watch --interval 1" >&2
		exit 2 ;; esac; done
	exec "$REAL_GENV" "\$@"
	EOF
	chmod +x "$1/bin/genv"
}

normalize() { sed -E 's/[0-9]+ (second|minute)s? ago/AGO/'; }
row() {   # host index name-suffix memory util state [holder]
	printf '%-12s %3d %-30s [          ] %13s %4s  40C %-5s %s\n' "$1" "$2" \
		"NVIDIA Fake A100 ($1)" "$3" "$4" "$5" "${6:-}" | sed 's/ *$//'
}

test_expect_success 'the plain table of three hosts, one ssh each' '
	hold gpu-server-1 h1 train &&
	{
		echo "hosts: 3 up, 0 down   GPUs: 4, 1 held, 1 idle   processes: 0, 0 outside environments   environments: 1   users: 1" &&
		echo &&
		printf "%-12s GPU %-31s %-12s %13s UTIL TEMP STATE HOLDER / PROCESSES\n" \
			HOST NAME MEMORY USED/TOTAL &&
		row gpu-server-1 0 0M/16.0G 0% IDLE "train [h1] $ME, AGO" &&
		row gpu-server-2 0 0M/16.0G 0% free &&
		row gpu-server-2 1 0M/16.0G 0% free &&
		row gpu-server-3 0 0M/16.0G 0% free
	} >expect &&
	: >ssh.log &&
	genv remote -H $HOSTS top >raw 2>err &&
	normalize <raw >out &&
	test_cmp expect out &&
	test ! -s err &&
	test $(wc -l <ssh.log) -eq 3
'

test_expect_success 'a down host: listed as DOWN, its message on stderr, exit 1' '
	fakehosts_stop_pid "$(cat "$H3/run.pid")" &&
	test_expect_code 1 genv remote -H $HOSTS top --once >out 2>err &&
	msg="Failed running SSH command on gpu-server-3 (ssh: connect to host 127.0.0.4 port $FAKEHOSTS_PORT: Connection refused)" &&
	echo "$msg" >expect && test_cmp expect err &&
	grep -qx "gpu-server-3 DOWN (retrying[0-9 ins]*): $msg" out &&
	grep -q "^hosts: 2 up, 1 down   GPUs: 3," out &&
	test_expect_code 1 genv remote -q -H $HOSTS top --once >out 2>err &&
	test ! -s err && grep -q "^gpu-server-3 DOWN" out &&
	test_expect_code 1 genv remote -e -H $HOSTS top --once >out 2>err &&
	test_cmp expect err && test ! -s out &&
	fakehosts_start_sshd 3
'

test_expect_success 'a genv 1.4.3 host is read with one-shot snapshots' '
	fake_143 "$H2" &&
	ssh gpu-server-2 genv usage snapshot --watch 2>err;
	test $? -eq 2 && grep -q "unrecognized arguments: --watch" err &&
	genv remote -H $HOSTS top --once >out 2>err &&
	test ! -s err &&
	grep -q "^gpu-server-2 genv 1.4.3 there: GPU memory in use is what its processes use; no utilization$" out &&
	grep -q "^gpu-server-2   1 - \{31\}\[          \]      0M/16.0G    -    - free$" out ||
	{ cat out; false; }
'

command -v tmux >/dev/null || { echo "# tmux missing: no live tests"; test_done; exit; }

S=$FAKEHOSTS_DIR/tmux.sock   # fakehosts_teardown kills this server
tm() { tmux -S "$S" "$@"; }
screen_has() { tm capture-pane -p -t "$1" | grep -qE -- "$2"; }
on_screen() {
	test_wait_for "${3:-20}" screen_has "$1" "$2" ||
	{ echo "no '$2' on the screen of $1:"; tm capture-pane -p -t "$1"; return 1; }
}

test_expect_success 'live: every host appears, one session each, none per refresh' '
	: >ssh.log &&
	tm new-session -d -s r -x 160 -y 30 -c "$TRASH" \
		"genv remote -H $HOSTS top; echo EXIT=\$?; exec sleep 600" &&
	on_screen r "^gpu-server-3   0 " &&
	on_screen r "^gpu-server-2   1 " &&
	on_screen r "^gpu-server-1   0 .* IDLE  train \[h1\]" &&
	n1=$(sshlog_count gpu-server-1) && n2=$(sshlog_count gpu-server-2) && n3=$(sshlog_count gpu-server-3) &&
	sleep 4 &&
	test $n1 -eq 1 && test $n3 -eq 1 &&
	test $(sshlog_count gpu-server-1) -eq 1 && test $(sshlog_count gpu-server-3) -eq 1 &&
	test $(sshlog_count gpu-server-2) -ge $((n2 + 2)) ||
	{ cat ssh.log; false; }
'

test_expect_success 'live: a killed host is DOWN, the others keep refreshing' '
	fakehosts_stop_pid "$(cat "$H3/run.pid")" &&
	on_screen r "^gpu-server-3 DOWN \(retrying[0-9 ins]*\): Failed running SSH command on gpu-server-3" &&
	on_screen r "^hosts: 2 up, 1 down" &&
	hold gpu-server-2 h2 other &&
	on_screen r "^gpu-server-2   0 .* IDLE  other \[h2\] $ME" &&
	! screen_has r "^gpu-server-3   0 "
'

test_expect_success 'live: the host is reconnected once it is back' '
	fakehosts_start_sshd 3 &&
	on_screen r "^gpu-server-3   0 " 30 &&
	on_screen r "^hosts: 3 up, 0 down"
'

test_expect_success 'live: a hung host is given up on, then reconnected' '
	for p in $(pgrep -f "usage snapshot --watch"); do
		if tr "\0" "\n" <"/proc/$p/environ" 2>/dev/null |
			grep -qx "GENV_TEST_HOST=gpu-server-1"; then
			kill -STOP $p && echo $p >>stopped
		fi
	done &&
	test -s stopped &&
	on_screen r "^gpu-server-1 DOWN .*no snapshot from gpu-server-1 for [0-9]+ seconds" 30 &&
	kill -CONT $(cat stopped) &&
	on_screen r "^gpu-server-1   0 .* IDLE  train \[h1\]" 30
'

test_expect_success 'live: q quits and ends every session' '
	tm send-keys -t r q &&
	on_screen r "EXIT=0" &&
	test_wait_for 10 eval "! pgrep -f -- \"-F $FAKEHOSTS_SSH_CONFIG\" >/dev/null" &&
	for h in "$H1" "$H2" "$H3"; do
		test_wait_for 10 eval "test -z \"\$(fakehosts_children \$(cat $h/run.pid))\"" || return 1
	done
'

if fakehosts_can_tty; then
	test_expect_success 'genv top works over ssh -t' '
		tm new-session -d -s s -x 120 -y 20 -c "$TRASH" \
			"ssh -t gpu-server-1 genv top; echo EXIT=\$?; exec sleep 600" &&
		on_screen s "^genv top - " &&
		on_screen s "^  0 NVIDIA Fake A100 \(gpu-s~ .* IDLE  train \[h1\]" &&
		tm send-keys -t s q &&
		on_screen s "EXIT=0"
	'
fi

test_done
