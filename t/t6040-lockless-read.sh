#!/bin/bash
# t6040: read-only commands take no lock, and genv 1.4.3 (Python) writes
# its state in place (truncate, then write) while it holds genv.lock: a
# reader can see a torn file. It retries briefly and then sees the whole
# file; a file that is really corrupt is still reported at once, naming
# it. (No other user is needed here: this is the lockless reader's side
# of t6030.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

fake_gpus 2
spawn_sleeper KEEPER
D=$GENV_TMPDIR

test_expect_success 'setup' '
	genv envs activate --eid whole --uid 0 --username root --pid $KEEPER &&
	genv devices attach --eid whole --index 1 >/dev/null &&
	cp "$D/envs.json" envs.whole
'

# python_writer SECONDS: like genv 1.4.3, under the lock, truncate envs.json
# and write half of it, then the rest SECONDS later
python_writer() {
	local half=$(($(wc -c <envs.whole) / 2))
	exec 9<"$D/genv.lock"
	flock 9
	head -c $half envs.whole >"$D/envs.json"
	: >writer.torn
	sleep "$1"
	cat envs.whole >"$D/envs.json"
	flock -u 9
}

test_expect_success 'a reader during an in-place write sees the whole file' '
	for cmd in "envs query --query eid" "devices find --eid whole"; do
		rm -f writer.torn &&
		{ python_writer 0.3 & } &&
		test_wait_for 5 test -e writer.torn &&
		timeout 10 genv $cmd >out 2>err || exit 1
		wait
		! test -s err || exit 1
	done &&
	genv envs query --query eid >eids && echo whole >expect && test_cmp expect eids
'

test_expect_success 'a corrupt file nobody is writing is reported at once' '
	printf "{\"envs\": [" >"$D/envs.json" &&
	t0=$(date +%s%N) &&
	test_must_fail genv envs 2>err &&
	test $((($(date +%s%N) - t0) / 1000000)) -lt 1000 &&
	grep -F "$D/envs.json: " err &&
	cp envs.whole "$D/envs.json"
'

test_done
