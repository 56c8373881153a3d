#!/usr/bin/env bash
# t6100-state-validation.sh: no command can write a state that a later
# load refuses (issue 8, attack 3: `genv envs activate --pid 99999999999999`
# used to succeed, and every later command, root's and the enforcer's
# included, failed with "out of range" until someone edited the file).
# Every writer checks every value with the rules the loader applies
# (src/core/state-check.h); a refused value is one clear line on stderr,
# exit 1 (2 where the command's other options are usage errors), and the
# state is left as it was. A state that does not load names the file and
# the field and says how to repair it; oversized files are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"

fake_gpus 2
spawn_sleeper P1
T1=$(ago 100)
ENVS=$GENV_TMPDIR/envs.json
DEVICES=$GENV_TMPDIR/devices.json

GOOD_ENVS=$(envs_file "$(env_json e1 0 "$T1" root my-env null null "$P1")")
GOOD_DEVICES=$(devices_file "$(device_json 0 16384mi e1 null "$T1")" "$(device_json 1 16384mi)")
# what genv envs activate --pid 99999999999999 wrote before it was refused
BAD_PID_ENVS=$(envs_file "$(env_json e1 0 "$T1" root my-env null null "$P1 99999999999999")")
mkdir -p "$GENV_TMPDIR"

LONG=$(printf 'n%.0s' $(seq 1025))       # one byte over the name limit
MAX=$(printf 'n%.0s' $(seq 1024))
BAD_UTF8=$'caf\xe9'                      # Latin-1
ESC=$'x\e]0;owned\a'                      # sets the window title
C1=$'x\xc2\x9b2J'                         # UTF-8 C1 CSI

# reset_state: the good files, byte for byte
reset_state() {
	printf '%s' "$GOOD_ENVS" >"$ENVS"
	printf '%s' "$GOOD_DEVICES" >"$DEVICES"
	rm -f "$GENV_TMPDIR/devices.uuids"
}

# still_loads: what every user and the enforcer do next still works
still_loads() {
	genv envs >/dev/null &&
	genv devices >/dev/null &&
	genv usage snapshot >/dev/null &&
	genv enforce --interval 0 --dry-run --no-audit-log --non-env-processes >/dev/null
}

# refused CODE MESSAGE CMD...: CMD exits CODE with one stderr line holding
# MESSAGE (after the usage line for a usage error, exit 2, as argparse
# does), prints nothing on stdout, changes no state file, and the state
# still loads afterwards.
refused() {
	local code=$1 message=$2 lines=1
	shift 2
	reset_state
	cp "$ENVS" envs.before && cp "$DEVICES" devices.before &&
	test_expect_code "$code" "$@" >out 2>err || { cat err; return 1; }
	if [ "$code" -eq 2 ]; then
		lines=2
		head -n 1 err | grep -q "^usage: genv " || { echo "no usage line:"; cat err; return 1; }
	fi
	if [ "$(wc -l <err)" -ne $lines ]; then echo "not $lines line(s):"; cat err; return 1; fi
	tail -n 1 err | grep -qF -- "$message" || { echo "want '$message', got:"; cat err; return 1; }
	test ! -s out || { echo "stdout:"; cat out; return 1; }
	cmp envs.before "$ENVS" && cmp devices.before "$DEVICES" &&
	still_loads
}

test_expect_success 'attack 3: envs activate --pid 99999999999999 is refused, state stays loadable' '
	refused 1 "Invalid process id 99999999999999 (expected 1 to 2147483647)" \
		genv envs activate --eid x --uid 0 --pid 99999999999999 &&
	genv envs query --query eid >out &&
	echo e1 >expect && test_cmp expect out
'

test_expect_success 'attack 3: activate --shell with an out-of-range pid is refused' '
	refused 1 "Invalid process id 99999999999 (expected 1 to 2147483647)" \
		genv activate --shell 99999999999 --id x --no-prompt
'

# The table: every writer and every value it could write that a load
# would refuse, or that 1.4.3 could not write: CODE|MESSAGE|ARGS (ARGS
# are words, with the variables above expanded).
while IFS='|' read -r ROW_CODE ROW_MESSAGE ROW_ARGS <&3; do
	[ -n "$ROW_CODE" ] || continue
	test_expect_success "refused ($ROW_CODE): genv $ROW_ARGS" '
		eval "set -- $ROW_ARGS" &&
		refused "$ROW_CODE" "$ROW_MESSAGE" genv "$@"
	'
done 3<<'EOF'
1|Invalid process id 2147483648 (expected 1 to 2147483647)|envs activate --eid x --uid 0 --pid 2147483648
1|Invalid process id -5 (expected 1 to 2147483647)|envs activate --eid x --uid 0 --pid -5
1|Invalid process id 0 (expected 1 to 2147483647)|envs activate --eid x --uid 0 --pid 0
1|Invalid user id -1 (expected 0 to 4294967294)|envs activate --eid x --uid -1 --pid $P1
1|Invalid user id 4294967295 (expected 0 to 4294967294)|envs activate --eid x --uid 4294967295 --pid $P1
1|Invalid environment id: it is empty|envs activate --eid "" --uid 0 --pid $P1
1|Invalid environment id: 1025 bytes long (at most 1024)|envs activate --eid "$LONG" --uid 0 --pid $P1
1|Invalid environment id: it is not valid UTF-8|envs activate --eid "$BAD_UTF8" --uid 0 --pid $P1
1|Invalid environment id: it holds a control character (byte 2)|envs activate --eid "$ESC" --uid 0 --pid $P1
1|Invalid environment id: it holds a control character (byte 2)|envs activate --eid "$C1" --uid 0 --pid $P1
1|Invalid user name: it holds a control character (byte 2)|envs activate --eid x --uid 0 --username "$ESC" --pid $P1
1|Invalid user name: 1025 bytes long (at most 1024)|envs activate --eid x --uid 0 --username "$LONG" --pid $P1
1|Invalid Jupyter kernel id: it is not a file name (it holds '/')|envs activate --eid x --uid 0 --kernel-id ../k
1|Invalid Jupyter kernel id: it is empty|envs activate --eid x --uid 0 --kernel-id ""
1|Invalid environment name: 1025 bytes long (at most 1024)|envs config --eid e1 name --name "$LONG"
1|Invalid environment name: it is not valid UTF-8|envs config --eid e1 name --name "$BAD_UTF8"
1|Invalid device count 2147483648 (expected 0 to 2147483647)|envs config --eid e1 gpus --count 2147483648
1|Invalid device count -1 (expected 0 to 2147483647)|envs config --eid e1 gpus --count -1
1|invalid memory size '4XB'|envs config --eid e1 gpu-memory --gpu-memory 4XB
1|invalid memory size '4 GB'|envs config --eid e1 gpu-memory --gpu-memory '4 GB'
1|memory size '17179869184GiB' is too large|envs config --eid e1 gpu-memory --gpu-memory 17179869184GiB
2|argument --name: Invalid environment name: 1025 bytes long (at most 1024)|activate --shell $P1 --id x --no-prompt --name "$LONG"
2|argument --eid/--id: Invalid environment id: it is not valid UTF-8|activate --shell $P1 --id "$BAD_UTF8" --no-prompt
2|argument --eid/--id: Invalid environment id: 1025 bytes long (at most 1024)|activate --shell $P1 --id "$LONG" --no-prompt
2|argument --gpus: Invalid device count 2147483648 (expected 0 to 2147483647)|activate --shell $P1 --id x --no-prompt --gpus 2147483648
2|argument --name: Invalid environment name: it is not valid UTF-8|exec --name "$BAD_UTF8" true
2|argument --id/--eid: Invalid environment id: it holds a control character (byte 2)|exec --id "$ESC" true
2|argument --gpus: Invalid device count 2147483648 (expected 0 to 2147483647)|exec --gpus 2147483648 true
1|Device 99999999999999 does not exist|devices attach --eid e1 --index 99999999999999
1|Invalid environment id: it holds a control character (byte 2)|devices attach --eid "$ESC" --index 1
EOF

# `genv config`: the values of an active environment's own commands
test_expect_success 'genv config: a name or device count the state cannot hold is a usage error' '
	export GENV_ENVIRONMENT_ID=e1 &&
	refused 2 "argument value: Invalid environment name: 1025 bytes long (at most 1024)" \
		genv config name "$LONG" &&
	refused 2 "argument value: Invalid environment name: it is not valid UTF-8" \
		genv config name "$BAD_UTF8" &&
	refused 2 "argument value: Invalid device count 99999999999 (expected 0 to 2147483647)" \
		genv config gpus 99999999999 &&
	refused 1 "Device 99999999999999 does not exist" genv attach --index 99999999999999 &&
	refused 1 "Device 99999999999999 does not exist" genv detach --index 99999999999999 &&
	GENV_GPU_MEMORY=4XB refused 1 "invalid memory size '"'"'4XB'"'"'" genv attach --count 1
'

# Issue 10: memory sizes as users type them ("4GB", "512MiB", "4G") are
# taken, and stored as 1.4.3 spells them ("4g", "512mi"), which a Python
# genv on the same machine reads; k, m and g keep 1.4.3's powers of 10.
test_expect_success 'issue 10: upper-case memory units are stored in 1.4.3 spelling' '
	reset_state &&
	genv envs config --eid e1 gpu-memory --gpu-memory 4GB &&
	genv envs query --eid e1 --query config.gpu_memory >out &&
	echo 4g >expect && test_cmp expect out &&
	grep -q "\"gpu_memory\": \"4g\"" "$ENVS" &&
	GENV_ENVIRONMENT_ID=e1 genv config gpu-memory 512MiB &&
	GENV_ENVIRONMENT_ID=e1 genv config gpu-memory >out &&
	echo 512mi >expect && test_cmp expect out &&
	GENV_ENVIRONMENT_ID=e1 GENV_GPU_MEMORY=4G genv attach --index 1 &&
	genv devices query --query index attachments >out &&
	grep -q "^1,e1+4g+" out &&
	genv exec --id up --gpu-memory 1GiB --gpus 1 printenv GENV_GPU_MEMORY >out &&
	echo 1gi >expect && test_cmp expect out &&
	still_loads
'

test_expect_success 'activate: a login name the state cannot hold is refused' '
	LOGNAME="$ESC" refused 1 "Invalid user name: it holds a control character (byte 2)" \
		genv activate --shell "$P1" --id x --no-prompt &&
	LOGNAME="$LONG" refused 1 "Invalid user name: 1025 bytes long (at most 1024)" \
		genv exec --id x true
'

test_expect_success 'genv config --load: a .genv file the state cannot hold is refused, naming it' '
	export GENV_ENVIRONMENT_ID=e1 &&
	mkdir -p "$HOME/.genv" &&
	printf "%s\n" "$LONG" >"$HOME/.genv/name" &&
	refused 1 "Invalid environment name: 1025 bytes long (at most 1024) (in '"'"'$HOME/.genv/name'"'"')" \
		genv config --load &&
	printf "a\0b" >"$HOME/.genv/name" &&
	refused 1 "'"'"'$HOME/.genv/name'"'"' holds a NUL byte" genv config --load &&
	printf "99999999999" >"$HOME/.genv/name" &&
	printf "99999999999" >"$HOME/.genv/gpus" &&
	refused 1 "'"'"'$HOME/.genv/gpus'"'"' holds '"'"'99999999999'"'"', not a number of devices" \
		genv config --load &&
	rm -r "$HOME/.genv"
'

test_expect_success 'what the rules allow is written and loads back as given' '
	reset_state &&
	genv envs activate --eid "$MAX" --uid 4294967294 --username "$MAX" --pid "$P1" &&
	genv envs activate --eid "caf$(printf "\303\251") a/b" --uid 0 --pid "$P1" &&
	genv envs config --eid e1 name --name "$MAX" &&
	genv envs config --eid e1 gpus --count 2147483647 &&
	genv envs config --eid "$MAX" name --name "$ESC" &&
	genv envs --no-cleanup activate --eid maxpid --uid 0 --pid 2147483647 &&
	genv envs --no-cleanup query --query eid uid username config.name config.gpus pids >out &&
	printf "%s\n" "e1,0,root,$MAX,2147483647,$P1" "$MAX,4294967294,$MAX,$ESC,,$P1" \
		"caf$(printf "\303\251") a/b,0,,,,$P1" "maxpid,0,,,,2147483647" >expect &&
	test_cmp expect out &&
	still_loads
'

test_expect_success 'a name 1.4.3 wrote longer than 1 KiB still loads, and is kept by other writes' '
	HUGE=$(printf "x%.0s" $(seq 5000)) &&
	envs_file "$(env_json e1 0 "$T1" root "$HUGE" null null "$P1")" >"$ENVS" &&
	genv envs config --eid e1 gpus --count 1 &&
	genv envs query --query config.name config.gpus >out &&
	echo "$HUGE,1" >expect &&
	test_cmp expect out
'

# check_hint FILE COMMAND LINE1: a failed load prints LINE1 exactly as
# before, then one line of repair advice naming the file and COMMAND.
check_hint() {
	local file=$1 command=$2 line1=$3
	shift 3
	test_expect_code 1 "$@" >out 2>err || return 1
	[ "$(wc -l <err)" -eq 2 ] || { echo "want 2 lines:"; cat err; return 1; }
	head -n 1 err >first &&
	printf "%s\n" "$line1" >expect &&
	test_cmp expect first &&
	sed -n 2p err >second &&
	grep -q "^hint: " second &&
	grep -qF -- "$file" second &&
	grep -qF -- "'$command'" second &&
	test ! -s out
}

test_expect_success 'a state that does not load: the field as before, then how to repair it' '
	reset_state &&
	printf "%s" "$BAD_PID_ENVS" >"$ENVS" &&
	check_hint "$ENVS" "genv envs --reset" \
		"$ENVS: envs[0].pids[1]: 99999999999999 is out of range (1 to 2147483647)" genv envs &&
	check_hint "$ENVS" "genv envs --reset" \
		"$ENVS: envs[0].pids[1]: 99999999999999 is out of range (1 to 2147483647)" \
		genv envs activate --eid x --uid 0 --pid "$P1" &&
	printf "%s" "$GOOD_ENVS" >"$ENVS" &&
	printf "%s" "$GOOD_DEVICES" | sed "s/\"index\": 1/\"index\": -1/" >"$DEVICES" &&
	check_hint "$DEVICES" "genv devices --reset" \
		"$DEVICES: devices[1].index: -1 is out of range (0 to 9223372036854775807)" genv devices &&
	printf "{\"devices\": [" >"$DEVICES" &&
	test_expect_code 1 genv devices 2>err &&
	grep -q "^hint: .*genv devices --reset" err
'

test_expect_success 'following the advice repairs the state' '
	printf "%s" "$BAD_PID_ENVS" >"$ENVS" &&
	test_must_fail genv envs &&
	genv envs --reset >/dev/null &&
	genv envs >/dev/null &&
	printf "{\"devices\": 7}" >"$DEVICES" &&
	test_must_fail genv devices &&
	genv devices --reset >/dev/null &&
	genv devices >/dev/null
'

test_expect_success 'a state file over 64 MiB is refused, with advice, and left alone' '
	reset_state &&
	truncate -s $((64 * 1024 * 1024 + 1)) "$ENVS" &&
	check_hint "$ENVS" "genv envs --reset" \
		"$ENVS: 67108865 bytes, over the 64 MiB limit of a genv state file" genv envs &&
	test "$(stat -c %s "$ENVS")" -eq $((64 * 1024 * 1024 + 1)) &&
	truncate -s 1G "$DEVICES" && printf "%s" "$GOOD_ENVS" >"$ENVS" &&
	check_hint "$DEVICES" "genv devices --reset" \
		"$DEVICES: 1073741824 bytes, over the 64 MiB limit of a genv state file" genv devices
'

test_expect_success 'a write that would make a state file over 64 MiB is refused' '
	reset_state &&
	head="{\"envs\": [{\"eid\": \"big\", \"uid\": 0, \"creation\": \"$T1\", \"username\": null, \"config\": {\"name\": \"" &&
	tail="\", \"gpu_memory\": null, \"gpus\": null}, \"pids\": [$P1], \"kernel_ids\": []}]}" &&
	fill=$((64 * 1024 * 1024 - ${#head} - ${#tail} - 400)) &&
	{ printf "%s" "$head"; head -c $fill /dev/zero | tr "\0" x; printf "%s" "$tail"; } >"$ENVS" &&
	genv envs query --query eid >out &&
	echo big >expect && test_cmp expect out &&
	cp "$ENVS" envs.before &&
	test_expect_code 1 genv envs activate --eid "$MAX" --uid 0 --pid "$P1" 2>err &&
	grep -F "refusing to write $ENVS: " err &&
	grep -F "over the 64 MiB limit of a genv state file" err &&
	cmp envs.before "$ENVS" &&
	genv envs query --query eid >out &&
	test_cmp expect out
'

test_done
