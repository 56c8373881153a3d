#!/usr/bin/env bash
# t1450-shell-interactive.sh: interactive bash, zsh and fish sessions in a
# private tmux server, typed into like a user would: init, activate with a
# two-word name, the (genv) prompt, genv status, the nvidia-smi shim on
# PATH, a failing command's status, and deactivate restoring everything.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || { echo "# tmux missing"; test_done; exit; }

. "$(dirname "$0")/lib-tmux.sh"

fake_gpus 2
test_cleanup_hook='tmux -S "$SOCK" kill-server 2>/dev/null'

start() {
	local s=$1
	shift
	tm new-session -d -s "$s" -x 200 -y 50 -c "$TRASH" "$@"
}

check_session() {
	local s=$1 rc='$?'
	[ "$2" = fish ] && rc='$status'
	run $s 1 "genv activate --gpus 1 --name 'two words'" &&
	test_wait_for 5 eval "pane $s | grep -q '^(genv) [\$]'" &&
	run $s 2 "genv status >status.$s" &&
	grep -qx "Attached to GPUs at indices 0" status.$s &&
	grep -qx "    Name: two words" status.$s &&
	run $s 3 "command -v nvidia-smi >which.$s" &&
	test "$(cat which.$s)" = "$SHIMS/nvidia-smi" &&
	run $s 4 "genv attach --index 7 2>/dev/null; echo \"rc=$rc\" >rc.$s" &&
	echo rc=1 >expect && test_cmp expect rc.$s &&
	run $s 5 "echo \"\$CUDA_VISIBLE_DEVICES|\$CUDA_DEVICE_ORDER\" >cvd.$s" &&
	echo "0|PCI_BUS_ID" >expect && test_cmp expect cvd.$s &&
	run $s 6 "genv deactivate" &&
	run $s 7 "echo \"\$CUDA_VISIBLE_DEVICES|\$GENV_ENVIRONMENT_ID\" >after.$s" &&
	echo "5|" >expect && test_cmp expect after.$s &&
	run $s 8 "genv activate --gpus 3; echo \"rc=$rc\" >rc.$s" &&
	echo rc=1 >expect && test_cmp expect rc.$s &&
	! pane $s | tail -n 3 | grep -q "^(genv)" &&
	grep -q "\"envs\": \[\]" "$GENV_TMPDIR/envs.json"
}

SHIMS=$(cd "$BUILD/libexec/genv/shims" && pwd -P)

test_expect_success 'interactive bash' '
	start b env CUDA_VISIBLE_DEVICES=5 PS1="\$ " bash --norc --noprofile -i &&
	test_wait_for 10 eval "pane b | grep -qx \"\\\$\"" &&
	run b 0 "eval \"\$(genv shell --init)\"; PATH0=\$PATH" &&
	check_session b bash &&
	run b 9 "test \"\$PATH\" = \"\$PATH0\" && test \"\$PS1\" = \"\\\$ \" && echo same >path.b" &&
	test -e path.b
'

test_expect_success 'interactive zsh' '
	start z env CUDA_VISIBLE_DEVICES=5 zsh -f -i &&
	type_line z "PS1=\"\$ \"" &&
	test_wait_for 10 eval "pane z | grep -qx \"\\\$\"" &&
	run z 0 "eval \"\$(genv shell --init)\"; PATH0=\$PATH" &&
	check_session z zsh &&
	run z 9 "test \"\$PATH\" = \"\$PATH0\" && test \"\$PS1\" = \"\\\$ \" && echo same >path.z" &&
	test -e path.z
'

test_expect_success 'interactive fish' '
	start f env CUDA_VISIBLE_DEVICES=5 fish --no-config -i &&
	type_line f "set -g fish_greeting; set -g fish_history \"\"; function fish_prompt; printf \"\\\$ \"; end" &&
	test_wait_for 10 eval "pane f | grep -qx \"\\\$\"" &&
	run f 0 "genv shell --init fish | source; set PATH0 \"\$PATH\"" &&
	check_session f fish &&
	run f 9 "test \"\$PATH\" = \"\$PATH0\"; and echo same >path.f" &&
	test -e path.f
'

test_done
