#!/bin/bash
# t6020: other kinds of files another user plants in the shared state
# directory. A FIFO as envs.json or devices.json made every genv (and the
# enforcer) block forever in open(): now they fail at once with an error
# naming the file, and the enforcer's cycle ends. A directory at
# .envs.json.tmp made every save fail for everybody: now saves go on. And
# only the state directory itself gets the shared mode 0777: missing
# parents are made 0755 (they were 0777 too).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"
. "$(dirname "$0")/lib-hostile.sh"

fake_gpus 2
spawn_sleeper KEEPER
victim_sleeper VKEEPER

test_expect_success 'setup: root creates the shared state directory' '
	genv envs activate --eid e1 --uid 0 --username root --pid $KEEPER &&
	genv devices attach --eid e1 --index 0 >/dev/null &&
	cp "$D/envs.json" "$TRASH/envs.good" && cp "$D/devices.json" "$TRASH/devices.good"
'

# restore: the state files as setup left them (a failed test may leave a FIFO)
restore() {
	rm -rf "${D:?}/envs.json" "$D/devices.json" "$D/genv.lock" &&
	cp "$TRASH/envs.good" "$D/envs.json" && cp "$TRASH/devices.good" "$D/devices.json"
}

# not_regular NAME: a command failed with a message naming $D/NAME
not_regular() { grep -F "'$D/$1': not a regular file" err; }

test_expect_success 'a FIFO at envs.json: commands fail at once, naming it' '
	restore && rm "$D/envs.json" &&
	as_other mkfifo -m 0666 "$D/envs.json" &&
	for cmd in "envs" "envs activate --eid e2 --uid 0 --pid $KEEPER" "devices" \
		"activate --shell $KEEPER --no-prompt" "usage snapshot" \
		"devices attach --eid e1 --index 1"; do
		test_must_fail timeout 10 genv $cmd >out 2>err &&
		not_regular envs.json || { echo "genv $cmd"; exit 1; }
	done
'

test_expect_success 'a FIFO at envs.json: the enforcer cycle ends' '
	may_fail timeout 20 genv enforce --interval 0 >out 2>err &&
	not_regular envs.json
'

test_expect_success 'a FIFO at devices.json: the same' '
	restore && rm "$D/devices.json" &&
	as_other mkfifo -m 0666 "$D/devices.json" &&
	test_must_fail timeout 10 genv devices >out 2>err &&
	not_regular devices.json &&
	test_must_fail timeout 10 genv devices attach --eid e1 --index 1 >out 2>err &&
	not_regular devices.json &&
	may_fail timeout 20 genv enforce --interval 0 >out 2>err
'

test_expect_success 'a FIFO at genv.lock is refused, not waited on' '
	restore &&
	as_other mkfifo -m 0666 "$D/genv.lock" &&
	test_must_fail timeout 10 genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	not_regular genv.lock
'

test_expect_success 'a directory at .envs.json.tmp does not stop saves' '
	restore &&
	mkdir -p "$D/.envs.json.tmp/inside" &&
	chown -R 65534:65534 "$D/.envs.json.tmp" &&
	for i in 1 2 3 4 5; do
		timeout 10 genv envs activate --eid d$i --uid 0 --pid $KEEPER || exit 1
	done &&
	genv envs query --query eid >eids &&
	for i in 1 2 3 4 5; do grep -qx d$i eids || exit 1; done &&
	test -d "$D/.envs.json.tmp/inside"
'

test_expect_success 'nor those of an unprivileged user; no temporary file is left' '
	as_victim timeout 10 genv envs activate --eid v1 --uid 65533 --pid $VKEEPER &&
	genv envs query --query eid >eids &&
	grep -qx v1 eids &&
	ls -A "$D" >files &&
	! grep "^\.envs\.json\.tmp." files
'

test_expect_success 'a FIFO at .devices.json.tmp does not stop saves' '
	as_other mkfifo -m 0600 "$D/.devices.json.tmp" &&
	timeout 10 genv devices attach --eid e1 --index 1 >/dev/null &&
	genv devices find --eid e1 >idx &&
	echo 0,1 >expect && test_cmp expect idx
'

test_expect_success 'parents of a fresh state directory are 0755, whatever the umask' '
	(umask 0 && GENV_TMPDIR=$TRASH/p1/p2/state genv envs >/dev/null) &&
	test "$(stat -c %a "$TRASH/p1")" = 755 &&
	test "$(stat -c %a "$TRASH/p1/p2")" = 755 &&
	test "$(stat -c %a "$TRASH/p1/p2/state")" = 777
'

test_expect_success 'an existing state directory keeps its mode' '
	mkdir -m 0755 "$TRASH/mine" &&
	GENV_TMPDIR=$TRASH/mine genv envs >/dev/null &&
	test "$(stat -c %a "$TRASH/mine")" = 755
'

test_done
