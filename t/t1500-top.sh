#!/usr/bin/env bash
# t1500-top.sh: `genv top` on this machine. The plain table (not a
# terminal, or --once) row by row; the full-screen view in a private tmux
# server: rows appear, a change of the state shows at the next refresh,
# a resized window is redrawn at its size, q quits and gives the screen
# back; names with control characters are shown escaped everywhere; and
# the hidden `genv usage snapshot --watch` behind `genv remote top`.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-tmux.sh"

ME=$(id -un)
test_cleanup_hook='tmux -S "$SOCK" kill-server 2>/dev/null'
# on_screen S TEXT [SECONDS]: until the screen of S shows TEXT (fixed)
screen_has() { pane "$1" | grep -qF -- "$2"; }
on_screen() {
	test_wait_for "${3:-15}" screen_has "$1" "$2" ||
	{ echo "no '$2' on the screen of $1:"; pane "$1"; return 1; }
}

# e1 "train" holds GPU 0 and runs P1 there; e2 "idle one" holds GPU 1 and
# runs nothing; Q runs on GPU 2 outside any environment.
GENV_ENVIRONMENT_ID=e1 sleep 600 &
P1=$!
sleep 600 &
P2=$!
sleep 600 &
Q=$!
test_track_pid $P1 $P2 $Q
inventory() {
	{
		echo watch
		printf 'gpu %d GPU-%d 16384 NVIDIA Fake GPU\n' 0 0 1 1
		echo 'gpu 2 GPU-2 81920 NVIDIA Fake GPU'
		echo 'util 0 50 10'
		echo "proc 0 $P1 300"
		echo "proc 2 $Q 2048"
		cat
	} >"$GENV_FAKE_NVML_CONFIG.new" && mv "$GENV_FAKE_NVML_CONFIG.new" "$GENV_FAKE_NVML_CONFIG"
}
inventory </dev/null
genv envs activate --eid e1 --uid 1000 --username alice --pid $P1 &&
genv envs config --eid e1 name --name train &&
genv devices attach --eid e1 --index 0 >/dev/null &&
genv envs activate --eid e2 --uid 1001 --username bob --pid $P2 &&
genv envs config --eid e2 name --name "idle one" &&
genv devices attach --eid e2 --index 1 >/dev/null || exit 1

normalize() { sed -E 's/[0-9]+ (second|minute)s? ago/AGO/'; }

test_expect_success 'not a terminal: one plain table, every row' '
	cat >expect <<-EOF &&
	GPUs: 3, 2 held, 1 idle   processes: 2, 1 outside environments   environments: 2   users: 2

	GPU NAME            MEMORY          USED/TOTAL UTIL TEMP STATE HOLDER / PROCESSES
	  0 NVIDIA Fake GPU [          ]    300M/16.0G  50%  40C held  train [e1] alice, AGO
	                    $(printf "%7d %-9s %-10s %-20s %7s" $P1 "" $ME "train [e1]" 300M) sleep 600
	  1 NVIDIA Fake GPU [          ]      0M/16.0G   0%  40C IDLE  idle one [e2] bob, AGO
	  2 NVIDIA Fake GPU [          ]    2.0G/80.0G   0%  40C used
	                    $(printf "%7d %-9s %-10s %-20s %7s" $Q NO-ENV $ME "(none)" 2.0G) sleep 600
	EOF
	genv top >raw 2>err &&
	normalize <raw >out &&
	test_cmp expect out &&
	test ! -s err &&
	genv top --once --interval 5 | normalize >out &&
	test_cmp expect out
'

test_expect_success 'options: bad interval, unknown option, help' '
	test_expect_code 2 genv top --interval 0 2>err &&
	grep -q "argument -i/--interval: must be 1..3600 seconds" err &&
	test_expect_code 2 genv top --nope 2>err &&
	grep -q "^usage: genv top" err &&
	genv top --help >out &&
	grep -q "^  --once" out
'

test_expect_success 'without a driver: the NVML error, exit 1' '
	(
		export GENV_FAKE_NVML_CONFIG=$TRASH/none &&
		test_expect_code 1 genv top --once >out 2>err
	) &&
	grep -q "NVIDIA driver not found\|NVML initialisation failed" err &&
	test ! -s out
'

# an environment name, a GPU name and a command line that hold ESC: they
# must never reach the terminal raw (user names with control characters
# are refused by the state's rules)
test_expect_success 'control characters in names are shown escaped' '
	{ sleep 600 & } &&
	E=$! &&
	test_track_pid $E &&
	{ bash -c "exec -a \$(printf \"evil\\033]0;pwned\\007\") sleep 600" & } &&
	C=$! &&
	test_track_pid $C &&
	genv envs activate --eid e3 --uid 1002 --username u3 --pid $E &&
	genv envs config --eid e3 name --name "$(printf "n\033[2Jx")" &&
	genv devices attach --eid e3 --index 2 >/dev/null &&
	printf "gpu 3 GPU-3 1024 bad\033[31mname\nproc 3 %d 10\n" $C | inventory &&
	genv top --once >out &&
	! grep -q "$(printf "\033")" out &&
	grep -qF "n\\x1b[2Jx [e3] u3, " out &&
	grep -qF "bad\\x1b[31mname" out &&
	grep -qF "evil\\x1b]0;pwned\\x07 600" out ||
	{ cat -A out; false; }
'
inventory </dev/null

test_expect_success 'usage snapshot --watch: one JSON line per interval, NVML opened once' '
	inventory <<-EOF &&
	init_log $TRASH/nvml-inits
	EOF
	timeout 20 genv usage snapshot --watch --interval 1 | head -n 3 >lines &&
	test $(wc -l <lines) -eq 3 &&
	grep -c "^{\"watch\": 1, \"hostname\": \"$(hostname)\", \"time\": \"[0-9/]* [0-9:]*\", \"snapshot\": {\"processes\": {\"processes\": \[" lines >n &&
	echo 3 >expect && test_cmp expect n &&
	grep -q "\"gpus\": \[{\"index\": 0, \"uuid\": \"GPU-0\", \"name\": \"NVIDIA Fake GPU\", \"memory_total\": 17179869184, \"memory_used\": 314572800, \"utilization\": 50, \"memory_utilization\": 10, \"temperature\": 40}" lines &&
	grep -q "\"process_info\": \[{\"pid\": $P1, \"uid\": $(id -u), \"user\": \"$ME\", \"command\": \"sleep 600\", \"env_known\": true}" lines &&
	test "$(cat nvml-inits | wc -l)" -eq 1
'
inventory </dev/null

test_expect_success 'usage snapshot --watch ends when its parent goes away' '
	sh -c "genv usage snapshot --watch >watch.out 2>&1 & echo \$! >watch.pid; exec sleep 600" &
	S=$! &&
	test_track_pid $S &&
	test_wait_for 20 test -s watch.out &&
	test_wait_for 5 test -s watch.pid &&
	W=$(cat watch.pid) &&
	test_track_pid $W &&
	kill -9 $S &&
	gone() { [ ! -r /proc/$W/status ] || grep -q "^State:.*Z" /proc/$W/status; } &&
	test_wait_for 15 gone ||
	{ echo "watch $W:"; cat /proc/$W/status 2>&1 | head -8; false; }
'

test_expect_success 'usage snapshot --watch: bad options' '
	test_expect_code 2 genv usage snapshot --watch --type envs 2>err &&
	grep -q "argument --watch: not allowed with argument --type" err &&
	test_expect_code 2 genv usage snapshot --watch --interval 0 2>err &&
	grep -q "argument --interval: must be 1..86400 seconds" err &&
	! genv usage snapshot --help | grep -q -- --watch
'

command -v tmux >/dev/null || { echo "# tmux missing: no full-screen tests"; test_done; exit; }

test_expect_success 'full screen: the rows appear, then what changed' '
	tm new-session -d -s t -x 120 -y 30 -c "$TRASH" "genv top; echo EXIT=\$?; exec sleep 600" &&
	on_screen t "genv top - " &&
	on_screen t "train [e1] alice" &&
	pane t >screen &&
	grep -q "^  1 NVIDIA Fake GPU .* IDLE  idle one \[e2\] bob" screen &&
	grep -q "^ *$Q NO-ENV" screen &&
	grep -q "^ q: quit" screen &&
	test $(wc -l <screen) -eq 30 &&
	echo "util 1 90 5" | inventory &&
	on_screen t "  1 NVIDIA Fake GPU [          ]      0M/16.0G  90%  40C held  idle one"
'

test_expect_success 'a resized window is redrawn at its new size' '
	tm resize-window -t t -x 70 -y 8 &&
	on_screen t "rows 1-3 of 5" &&
	pane t >screen &&
	test $(wc -l <screen) -eq 8 &&
	! awk "length > 70" screen | grep . &&
	grep -q "^GPU MEMORY          USED/TOTAL UTIL STATE HOLDER / PROCESSES" screen &&
	grep -q "^  0 \[          \]    300M/16.0G  50% held  train \[e1\] alice" screen &&
	tm send-keys -t t j Down &&
	on_screen t "rows 3-5 of 5" &&
	pane t | sed -n 5p >line &&
	grep -q "^  1 \[          \]      0M/16.0G  90% held  idle one" line &&
	tm resize-window -t t -x 150 -y 40 &&
	on_screen t "  0 NVIDIA Fake GPU [          ]    300M/16.0G  50%  40C held" &&
	pane t >screen &&
	test $(wc -l <screen) -eq 40
'

test_expect_success 'q quits and gives the screen back' '
	tm send-keys -t t q &&
	on_screen t EXIT=0 &&
	! pane t | grep -q "genv top - "
'

test_done
