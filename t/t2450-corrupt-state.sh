#!/usr/bin/env bash
# t2450-corrupt-state.sh: a corrupt envs.json or devices.json (truncated,
# wrong types, binary garbage) makes every command that needs it fail with
# an error naming the file, exit 1, leaving the file byte for byte as it
# was: other users' environments are never silently reset (1.4.3 died with
# a traceback, and its next save could wipe the state).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

spawn_sleeper P1
T1=$(ago 100)
fake_gpus 2

GOOD_ENVS=$(envs_file "$(env_json e1 1000 "$T1" alice my-env null null "$P1")")
GOOD_DEVICES=$(devices_file "$(device_json 0 16384mi e1 null "$T1")" "$(device_json 1 16384mi)")

# corrupt_variants FILE: writes the variants as $TRASH/bad-<FILE>.N
head -c 4096 /dev/urandom >"$TRASH/garbage"
n=0
for text in \
	"$(printf '%s' "$GOOD_ENVS" | head -c 40)" \
	'{"envs": 3}' \
	'{"envs": [{"eid": 5, "uid": "x"}]}' \
	"$(printf '%s' "$GOOD_ENVS" | sed 's/"uid": 1000/"uid": "1000"/')" \
	"$(printf '%s' "$GOOD_ENVS" | sed 's/"pids": \[/"pids": ["x", /')" \
	'[]' \
	''; do
	n=$((n + 1))
	printf '%s' "$text" >"$TRASH/bad-envs.$n"
done
cp "$TRASH/garbage" "$TRASH/bad-envs.$((n + 1))"
n=0
for text in \
	"$(printf '%s' "$GOOD_DEVICES" | head -c 60)" \
	'{"devices": "x"}' \
	'{"devices": [{"index": "0", "total_memory": 5, "attachments": {}}]}' \
	"$(printf '%s' "$GOOD_DEVICES" | sed 's/"time": .*/"time": 7/')" \
	'null'; do
	n=$((n + 1))
	printf '%s' "$text" >"$TRASH/bad-devices.$n"
done
cp "$TRASH/garbage" "$TRASH/bad-devices.$((n + 1))"

# check_corrupt FILE CMD...: with each variant of FILE, CMD fails cleanly
check_corrupt() {
	local file=$1 bad path=$GENV_TMPDIR/$1
	shift
	for bad in "$TRASH"/bad-"${file%.json}".*; do
		printf '%s' "$GOOD_ENVS" >"$GENV_TMPDIR/envs.json"
		printf '%s' "$GOOD_DEVICES" >"$GENV_TMPDIR/devices.json"
		cp "$bad" "$path"
		"$@" >out 2>err
		rc=$?
		if [ $rc -ne 1 ]; then echo "'$*' with $bad: exit $rc"; cat err; return 1; fi
		if ! grep -qF "$path" err; then echo "'$*' with $bad: file not named"; cat err; return 1; fi
		if [ -s out ]; then echo "'$*' with $bad: printed on stdout"; return 1; fi
		cmp "$bad" "$path" || { echo "'$*' changed $path"; return 1; }
	done
}

mkdir -p "$GENV_TMPDIR"

for cmd in "genv envs" "genv envs query --query eid" "genv envs find --pid $P1" \
	   "genv envs activate --eid e2 --uid 1 --pid $P1" "genv envs deactivate --pid $P1" \
	   "genv envs config --eid e1 name --name x" "genv devices" \
	   "genv devices attach --eid e1 --count 2" "genv usage snapshot" \
	   "genv usage snapshot --type envs"; do
	test_expect_success "corrupt envs.json: $cmd fails cleanly" "
		check_corrupt envs.json $cmd
	"
done

for cmd in "genv devices" "genv devices --no-cleanup ps" "genv devices query --query index" \
	   "genv devices attach --eid e1 --count 2" "genv devices detach --eid e1" \
	   "genv usage snapshot" "genv usage snapshot --type devices"; do
	test_expect_success "corrupt devices.json: $cmd fails cleanly" "
		check_corrupt devices.json $cmd
	"
done

test_expect_success 'commands that do not need the corrupt file still work' '
	printf "%s" "$GOOD_ENVS" >"$GENV_TMPDIR/envs.json" &&
	cp bad-devices.1 "$GENV_TMPDIR/devices.json" &&
	genv envs query --query eid >out &&
	echo e1 >expect &&
	test_cmp expect out &&
	cmp bad-devices.1 "$GENV_TMPDIR/devices.json"
'

test_expect_success '--reset recovers from a corrupt file' '
	cp bad-devices.2 "$GENV_TMPDIR/devices.json" &&
	genv devices --reset query --query index eids >out &&
	printf "0,\n1,\n" >expect &&
	test_cmp expect out &&
	genv devices query --query index >/dev/null
'

test_done
