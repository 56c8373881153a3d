#!/usr/bin/env bash
# t3120-remote-answers.sh: what `genv remote` says about its hosts, on
# stderr (stdout keeps 1.4.3's bytes): a failing user@host entry is named
# as written, not confused with a good row of the same host; how many
# hosts failed, and that none answered; which host remote activate chose
# and why; and, when stderr is a terminal (tmux), a progress line while a
# slow host is waited on, erased before the results, never for a fast
# call and never when stderr is not a terminal.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

FAKEHOSTS_GPUS="1 2 2 1" fakehosts_setup 4
H3=$(fakehost_dir gpu-server-3)
H4=$(fakehost_dir gpu-server-4)
REAL_GENV=$BUILD/bin/genv
ME=$(id -un)

# gpu-server-4 is down for the whole script
fakehosts_stop_pid "$(cat "$H4/run.pid")"
REFUSED="ssh: connect to host 127.0.0.5 port $FAKEHOSTS_PORT: Connection refused"

ms() { echo $(($(date +%s%N) / 1000000)); }

test_expect_success 'a failing user@host entry is named in full, apart from the good row' '
	printf "%s\n" gpu-server-2 nosuchuser@gpu-server-2 "$ME@gpu-server-4" >hosts.txt &&
	test_expect_code 1 genv remote --hostfile hosts.txt devices --format csv >out 2>err &&
	printf "%s\n" HOST,TOTAL,AVAILABLE gpu-server-2,2,2 "" \
		"Total 2 devices with 2 available on 1 hosts" >expect &&
	test_cmp expect out &&
	test "$(wc -l <err)" -eq 3 &&
	sed -n 1p err | grep "^Failed running SSH command on nosuchuser@gpu-server-2 (.*Permission denied" &&
	echo "Failed running SSH command on $ME@gpu-server-4 ($REFUSED)" >expect.err &&
	sed -n 2p err >got && test_cmp expect.err got &&
	echo "genv: 2 of 3 hosts failed" >expect.err &&
	sed -n 3p err >got && test_cmp expect.err got
'

test_expect_success 'the entry as written: -l does not rename it; JSON errors name it too' '
	test_expect_code 1 genv remote -l nosuchuser -H gpu-server-2 envs >out 2>err &&
	grep "^Failed running SSH command on gpu-server-2 (" err &&
	test_expect_code 1 genv remote -H "gpu-server-1,$ME@gpu-server-4" devices --format json \
		>out 2>err &&
	grep -F "\"error\": \"Failed running SSH command on $ME@gpu-server-4 (" out
'

test_expect_success 'some hosts fail: their count last on stderr; the Total counts answering hosts' '
	test_expect_code 1 genv remote -H gpu-server-1,gpu-server-4,gpu-server-2 envs >out 2>err &&
	printf "%s\n" "Failed running SSH command on gpu-server-4 ($REFUSED)" \
		"genv: 1 of 3 hosts failed" >expect.err &&
	test_cmp expect.err err &&
	tail -n 1 out >got &&
	echo "Total 0 environments on 2 hosts" >expect &&
	test_cmp expect got &&
	genv remote -H gpu-server-1,gpu-server-2 devices >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'no host answered: said so, exit 1 (the zero-host table stays 1.4.3'"'"'s)' '
	test_expect_code 1 genv remote -H "gpu-server-4,$ME@gpu-server-4" devices >out 2>err &&
	printf "%s\n" "Failed running SSH command on gpu-server-4 ($REFUSED)" \
		"Failed running SSH command on $ME@gpu-server-4 ($REFUSED)" \
		"genv: no host answered (2 hosts failed)" >expect.err &&
	test_cmp expect.err err &&
	tail -n 1 out >got &&
	echo "Total 0 devices with 0 available on 0 hosts" >expect &&
	test_cmp expect got &&
	test_expect_code 1 genv remote -q -H gpu-server-4 llm ps >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'no host answered: activate and llm say that, not "Cannot find a host"' '
	test_expect_code 1 genv remote -H "gpu-server-4,$ME@gpu-server-4" activate --gpus 1 \
		</dev/null >out 2>err &&
	test_must_be_empty out &&
	tail -n 1 err >got &&
	echo "genv: no host answered (2 hosts failed)" >expect &&
	test_cmp expect got &&
	! grep "Cannot find" err &&
	test_expect_code 1 genv remote -q -H gpu-server-4 activate </dev/null >out 2>err &&
	echo "genv: no host answered (1 host failed)" >expect &&
	test_cmp expect err &&
	test_expect_code 1 genv remote -H gpu-server-4 llm serve some-model </dev/null >out 2>err &&
	tail -n 1 err >got && test_cmp expect got &&
	test_expect_code 1 genv remote -H gpu-server-4 llm attach some-model </dev/null >out 2>err &&
	tail -n 1 err >got && test_cmp expect got
'

test_expect_success 'remote activate says which host it chose and why' '
	echo "echo landed on \$GENV_TEST_HOST" >session &&
	genv remote -H gpu-server-2,gpu-server-1 activate --gpus 1 <session >out 2>err &&
	echo "landed on gpu-server-1" >expect &&
	test_cmp expect out &&
	echo "genv: activating on gpu-server-1: 1 of 1 GPU available (best fit for --gpus 1: the fewest that suffice)" >expect.err &&
	test_cmp expect.err err &&
	genv remote -H "gpu-server-1,$ME@gpu-server-2" activate --gpus 2 --gpu-memory 4g \
		<session >out 2>err &&
	echo "genv: activating on $ME@gpu-server-2: 2 of 2 GPUs can take 4g (best fit for --gpus 2 --gpu-memory 4g: the fewest that suffice)" >expect.err &&
	test_cmp expect.err err &&
	genv remote -H gpu-server-4,gpu-server-2,gpu-server-1 activate <session >out 2>err &&
	printf "%s\n" "Failed running SSH command on gpu-server-4 ($REFUSED)" \
		"genv: 1 of 3 hosts failed" \
		"genv: activating on gpu-server-2: 2 of 2 GPUs available (the first host that answered; no GPUs asked)" \
		>expect.err &&
	test_cmp expect.err err
'

# ---- progress (a real terminal: tmux) ----

if ! command -v tmux >/dev/null; then
	test_count=$((test_count + 1))
	echo "ok $test_count # skip progress line (no tmux)"
	test_done
fi

# gpu-server-3 answers once the test creates $TRASH/go
slow_host() {
	rm -f "$TRASH/go" &&
	fake_genv "$H3" "while [ ! -e \"$TRASH/go\" ]; do sleep 0.05; done; exec \"$REAL_GENV\" \"\$@\""
}

# term NAME COMMAND: COMMAND on a terminal; every byte it prints is also
# logged, raw, to NAME.log (pipe-pane), to see what was erased
term() {
	: >"$TRASH/$1.log" &&
	tmux_run "$1" "sleep 0.3; $2" &&
	fh_tmux pipe-pane -t "$1" -o "cat >>'$TRASH/$1.log'"
}
progress_lines() { tmux_screen "$1" | grep -c "hosts done, waiting for"; }

test_expect_success 'a slow host: a progress line while waiting, erased before the table' '
	slow_host &&
	start=$(ms) &&
	term p1 "genv remote -H gpu-server-1,$ME@gpu-server-3 devices" &&
	tmux_wait p1 "genv: 1/2 hosts done, waiting for $ME@gpu-server-3 (1s)" &&
	tmux_wait p1 "genv: 1/2 hosts done, waiting for $ME@gpu-server-3 (2s)" &&
	# redrawn in place: one line, not one per redraw
	test "$(progress_lines p1)" -eq 1 &&
	: >"$TRASH/go" &&
	tmux_wait p1 "EXIT=0" &&
	took=$(($(ms) - start)) &&
	test "$(progress_lines p1)" -eq 0 &&
	tmux_screen p1 | sed "/^$/d" >screen &&
	printf "%-25s%-9s%s\n" HOST TOTAL AVAILABLE gpu-server-1 1 1 gpu-server-3 2 2 >expect &&
	echo "Total 3 devices with 3 available on 2 hosts" >>expect &&
	echo EXIT=0 >>expect &&
	test_cmp expect screen &&
	# the raw bytes: redraws start with CR and erase the rest of the line,
	# and the last thing before the table erases the line
	grep -q "$(printf "\r")genv: [0-2]/2 hosts done, waiting for [^ ]* ([0-9]*s)$(printf "\033")\[K" \
		"$TRASH/p1.log" &&
	# at most 4 redraws a second (the command ran for less than took ms)
	n=$(grep -o "hosts done" "$TRASH/p1.log" | wc -l) &&
	echo "$n redraws in $took ms" &&
	test "$n" -ge 4 && test "$n" -le $((took / 250 + 1)) &&
	grep -q "$(printf "\r\033")\[K$(printf "\r")*HOST " "$TRASH/p1.log"
'

test_expect_success 'the same through remote activate, before its choice is said' '
	slow_host &&
	term p2 "echo exit | genv remote -H gpu-server-3 activate --gpus 1" &&
	tmux_wait p2 "genv: 0/1 hosts done, waiting for gpu-server-3 (1s)" &&
	: >"$TRASH/go" &&
	tmux_wait p2 "EXIT=0" &&
	test "$(progress_lines p2)" -eq 0 &&
	tmux_screen p2 | grep -x "genv: activating on gpu-server-3: 2 of 2 GPUs available (best fit for --gpus 1: the fewest that suffice)"
'

test_expect_success 'a fast call shows no progress at all' '
	term p3 "genv remote -H gpu-server-4 devices" &&
	tmux_wait p3 "EXIT=1" &&
	sleep 0.2 &&
	! grep -q "hosts done" "$TRASH/p3.log" &&
	grep -q "no host answered" "$TRASH/p3.log"
'

test_expect_success 'stderr not a terminal: no trace of it' '
	slow_host &&
	{ sleep 1.5; : >"$TRASH/go"; } &
	test_expect_code 1 genv remote -H gpu-server-3,gpu-server-4 devices >out 2>err &&
	wait &&
	echo "Failed running SSH command on gpu-server-4 ($REFUSED)" >expect.err &&
	echo "genv: 1 of 2 hosts failed" >>expect.err &&
	test_cmp expect.err err &&
	slow_host &&
	{ sleep 1.5; : >"$TRASH/go"; } &
	term p4 "genv remote -H gpu-server-3 devices 2>$TRASH/err4" &&
	tmux_wait p4 "EXIT=0" &&
	wait &&
	test_must_be_empty "$TRASH/err4" &&
	real_genv "$H3"
'

test_done
