#!/usr/bin/env bash
# t2150-terminal-escapes.sh: names, ids and user names that another user
# chose, and what a remote host prints, reach the terminal with their
# control characters escaped (ESC is \x1b, CR \x0d, LF \x0a, BEL \x07, DEL
# \x7f): in the tables and CSV of genv envs/devices, status, config,
# enforce, and genv remote envs/devices with the hosts' stderr; queries
# too when they print to a terminal (to a script they give the values as
# stored, as ls does). No raw control byte is printed, so no row can be
# forged, no screen cleared and no window title set. Ordinary names print
# as they are (the other tests).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"

fake_gpus 1
FAKEHOSTS_GPUS=1 fakehosts_setup 2
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)

sleep 600 &
HOLDER=$!
test_track_pid $HOLDER

EID=$(printf 'ev\033]0;pwned\007')
NAME=$(printf 'n\033[2J\r\nFORGED ROW\177')
USERNAME=$(printf 'u\033[31m')
# what they look like once escaped
EID_SHOWN='ev\x1b]0;pwned\x07'
NAME_SHOWN='n\x1b[2J\x0d\x0aFORGED ROW\x7f'
USER_SHOWN='u\x1b[31m'

# no_control FILE: no byte below 0x20 but LF, and no DEL, in FILE
no_control() {
	if LC_ALL=C grep -q "[$(printf '\001-\011\013-\037\177')]" "$1"; then
		echo "control characters in $1:"; od -c "$1"; return 1
	fi
}

# The hostile environment, on this machine and on gpu-server-1. genv
# refuses control characters in the ids it writes, not in names; a user
# editing the 0666 files, or genv 1.4.3, writes any: so do we.
cat >"$TRASH/make-env.sh" <<EOF
genv envs activate --eid HOSTILE-EID --uid $(id -u) --username HOSTILE-USER --pid $HOLDER &&
genv envs config --eid HOSTILE-EID name --name '$NAME' &&
genv devices attach --eid HOSTILE-EID --count 1 >/dev/null &&
sed -i 's/HOSTILE-EID/ev\\\\u001b]0;pwned\\\\u0007/; s/HOSTILE-USER/u\\\\u001b[31m/' \\
	"\$GENV_TMPDIR/envs.json" "\$GENV_TMPDIR/devices.json"
EOF

# "N seconds ago" -> "AGO" (with its padding, when a column follows)
normalize_ago() { sed -E 's/[0-9]+ (second|minute)s? ago/AGO/'; }
normalize_ago_padded() { sed -E 's/[0-9]+ (second|minute)s? ago +/AGO /'; }

test_expect_success 'the state holds the hostile names (JSON-escaped)' '
	bash make-env.sh &&
	grep -qF "ev\\u001b]0;pwned\\u0007" "$GENV_TMPDIR/envs.json"
'

test_expect_success 'genv envs: tui and csv show the escapes, one row' '
	{
		printf "%-8s%-16s%-16s%-21s%s\n" ID USER NAME CREATED "PID(S)" &&
		printf "%-8s%-16s%-16s%s%s\n" "$EID_SHOWN" "$USER_SHOWN($(id -u))" \
			"$NAME_SHOWN" "AGO " $HOLDER
	} >expect &&
	genv envs >raw &&
	no_control raw &&
	normalize_ago_padded <raw >out &&
	test_cmp expect out &&
	printf "%s,%s,%s,AGO,%s\n" "$EID_SHOWN" "$USER_SHOWN($(id -u))" "$NAME_SHOWN" \
		$HOLDER >expect &&
	genv envs ps --format csv --no-header >raw &&
	no_control raw &&
	normalize_ago <raw >out &&
	test_cmp expect out
'

test_expect_success 'genv devices: tui and csv' '
	{
		printf "%-8s%-12s%-16s%s\n" ID "ENV ID" "ENV NAME" ATTACHED &&
		printf "%-8s%-12s%-16s%s\n" 0 "$EID_SHOWN" "$NAME_SHOWN" AGO
	} >expect &&
	genv devices >raw &&
	no_control raw &&
	normalize_ago <raw >out &&
	test_cmp expect out &&
	genv devices ps --format csv --no-header >raw &&
	no_control raw &&
	printf "0,%s,%s,AGO\n" "$EID_SHOWN" "$NAME_SHOWN" >expect &&
	normalize_ago <raw >out &&
	test_cmp expect out
'

# on_tty COMMAND: its output through a terminal (script(1)), CRs dropped
on_tty() { script -qec "$1" /dev/null | tr -d "\r"; }

test_expect_success 'queries print values as stored to a script, escaped to a terminal' '
	printf "%s,%s,%s\n" "$EID" "$USERNAME" "$NAME" >expect &&
	genv envs query --query eid username config.name >out &&
	test_cmp expect out &&
	printf "%s,%s,%s\n" "$EID_SHOWN" "$USER_SHOWN" "$NAME_SHOWN" >expect &&
	on_tty "genv envs query --query eid username config.name" >out &&
	test_cmp expect out &&
	printf "%s\n" "$EID_SHOWN" >expect &&
	on_tty "genv envs find --pid $HOLDER" >out &&
	test_cmp expect out &&
	on_tty "genv devices query --query eids" >out &&
	test_cmp expect out &&
	on_tty "genv devices query --query attachments" >out &&
	no_control out &&
	grep -q "^ev.x1b]0;pwned.x07++" out
'

test_expect_success 'status and config print the escapes' '
	GENV_SHELL=1 GENV_ENVIRONMENT_ID=$EID GENV_ENVIRONMENT_NAME=$NAME \
		GENV_GPU_MEMORY=$(printf "4g\033[A") CUDA_VISIBLE_DEVICES=0 genv status >out &&
	no_control out &&
	grep -qxF "Environment is active ($EID_SHOWN)" out &&
	grep -qxF "    Name: $NAME_SHOWN" out &&
	grep -qxF "    GPU memory capacity: 4g\\x1b[A" out &&
	GENV_ENVIRONMENT_ID=$EID genv config >out &&
	printf "name: %s\n" "$NAME_SHOWN" >expect &&
	test_cmp expect out &&
	GENV_ENVIRONMENT_ID=$EID genv config name >out &&
	printf "%s\n" "$NAME_SHOWN" >expect &&
	test_cmp expect out
'

test_expect_success 'enforce findings and actions print the escapes' '
	genv enforce --interval 0 --dry-run --max-devices-per-user 0 --no-audit-log >out &&
	no_control out &&
	{
		echo "User $USER_SHOWN is using 1 devices which is 1 more than the maximum allowed" &&
		echo "[dry-run] Detaching environment $EID_SHOWN of user $USER_SHOWN from device 0"
	} >expect &&
	test_cmp expect out
'

test_expect_success 'a backslash that could read as an escape is doubled, no other' '
	genv envs activate --eid "lit\\x41 \\ end\\\\" --uid 0 --pid $HOLDER &&
	on_tty "genv envs query --eid \"lit\\\\x41 \\\\ end\\\\\\\\\" --query eid" >out &&
	printf "%s\n" "lit\\\\x41 \\ end\\\\\\" >expect &&
	test_cmp expect out &&
	genv envs deactivate --pid $HOLDER &&
	bash make-env.sh
'

test_expect_success 'the same names on a remote host: remote envs, devices, query' '
	ssh gpu-server-1 bash "$TRASH/make-env.sh" &&
	{
		printf "%-25s%-8s%-16s%-16s%s\n" HOST ID USER NAME CREATED &&
		printf "%-25s%-8s%-16s%-16s%s\n" gpu-server-1 "$EID_SHOWN" "$USER_SHOWN" \
			"$NAME_SHOWN" AGO &&
		printf "\nTotal 1 environments on 2 hosts\n"
	} >expect &&
	genv remote -H gpu-server-1,gpu-server-2 envs >raw &&
	no_control raw &&
	normalize_ago <raw >out &&
	test_cmp expect out &&
	genv remote -H gpu-server-1 envs --format csv --no-header --no-summary >raw &&
	no_control raw &&
	printf "gpu-server-1,%s,%s,%s,AGO\n" "$EID_SHOWN" "$USER_SHOWN" "$NAME_SHOWN" >expect &&
	normalize_ago <raw >out &&
	test_cmp expect out &&
	printf "gpu-server-1,%s\n" "$EID_SHOWN" >expect &&
	# stdout on the terminal; stderr (where a slow call draws its progress
	# line when that is a terminal) apart
	NAME=$NAME on_tty "genv remote -H gpu-server-1 query --name \"\$NAME\" --query hostname eid 2>query.err" >out &&
	test_cmp expect out &&
	test_must_be_empty query.err
'

test_expect_success 'what a host prints on stderr is escaped too' '
	printf "#!/bin/sh\nprintf \"warn\\\\033[2J\\\\rFORGED\\\\n\" >&2\nexec %s \"\$@\"\n" \
		"$BUILD/bin/genv" >"$H2/bin/genv" &&
	chmod +x "$H2/bin/genv" &&
	genv remote -H gpu-server-1,gpu-server-2 devices >out 2>err &&
	no_control out &&
	no_control err &&
	printf "[gpu-server-2] %s\n" "warn\\x1b[2J\\x0dFORGED" >expect &&
	test_cmp expect err &&
	rm "$H2/bin/genv"
'

# Error messages echo text from the state too: another environment's id
# and memory capacity (which genv 1.4.3 or a hand edit may have written as
# anything), a (shared) hostfile's entry, the caller's environment id.
MEM_SHOWN='4g\x1b[2J'
# err_has TEXT: err holds TEXT, else show err
err_has() { grep -qF -- "$1" err || { echo "want: $1"; cat err; return 1; }; }
test_expect_success 'errors naming an environment or a memory size from the state escape them' '
	sed -i "s/\"gpu_memory\": null/\"gpu_memory\": \"4g\\\\u001b[2J\"/" \
		"$GENV_TMPDIR/envs.json" "$GENV_TMPDIR/devices.json" &&
	grep -qF "4g\\u001b[2J" "$GENV_TMPDIR/devices.json" &&
	test_expect_code 75 genv exec --gpus 1 true 2>err &&
	no_control err &&
	err_has "held: 0 ($USER_SHOWN/$NAME_SHOWN $MEM_SHOWN, " &&
	test_expect_code 1 genv exec --gpus 1 --gpu-memory 1g true 2>err &&
	no_control err &&
	err_has "invalid memory size '"'"'$MEM_SHOWN'"'"'" &&
	GENV_ENVIRONMENT_ID=$(printf "x\033[2J") test_expect_code 1 genv attach --count 1 2>err &&
	no_control err &&
	err_has "Environment '"'"'x\x1b[2J'"'"' is not registered (run '"'"'genv deactivate'"'"' and activate it again)"
'

test_expect_success 'another user is told whose environment it is, escaped' '
	if ! command -v setpriv >/dev/null || [ "$(id -u)" -ne 0 ]; then
		echo "# skipped: needs root and setpriv"; return 0
	fi &&
	chmod 0755 "$TRASH" &&
	test_expect_code 1 as_other genv envs deactivate --pid $HOLDER 2>err &&
	no_control err &&
	err_has "environment '"'"'$EID_SHOWN'"'"' belongs to root (uid 0): only its owner or root may change it"
'

test_expect_success 'a hostfile entry with control characters is echoed escaped' '
	printf "gpu-server-1\nbad\033]0;x\007host\n" >hosts.txt &&
	test_expect_code 2 genv remote --hostfile hosts.txt devices 2>err &&
	no_control err &&
	err_has "control character in the host name '"'"'bad\x1b]0;x\x07host'"'"'"
'

test_done
