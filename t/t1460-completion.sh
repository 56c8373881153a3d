#!/usr/bin/env bash
# t1460-completion.sh: `genv __complete`, the helper of the shell
# completions, proposes what the option tables hold (commands,
# subcommands, options, choices; nothing hidden), and bash, zsh and fish,
# each in a private tmux server with contrib/completion loaded as
# installed, complete `genv dev<TAB>`, options, --format's choices and
# remote's subcommands after its options, hosts of ~/.ssh/config for -H.
. "$(dirname "$0")/lib.sh"

COMPL=$(cd "$(dirname "$0")/../contrib/completion" && pwd)
words() { genv __complete genv "$@" | cut -f1; }

test_expect_success '__complete: commands, with their help' '
	genv __complete genv dev >out &&
	printf "devices\tQuery and manage devices\n" >expect && test_cmp expect out &&
	words "" >out && grep -qx activate out && grep -qx version out &&
	test "$(wc -l <out)" = "$(genv --list-cmds | wc -l)"
'

test_expect_success '__complete: subcommands, options, choices, no hidden option' '
	words devices "" >out &&
	printf "ps\nquery\nfind\nattach\ndetach\n" >expect && test_cmp expect out &&
	words envs ps --format "" >out &&
	printf "csv\njson\ntui\n" >expect && test_cmp expect out &&
	words envs ps --format=cs >out &&
	echo --format=csv >expect && test_cmp expect out &&
	words remote -H h envs --no >out &&
	printf "%s\n" --no-header --no-summary >expect && test_cmp expect out &&
	words --l >out && test ! -s out &&
	words remote --hostfile f -t 5 "" >out && grep -qx devices out && grep -qx envs out &&
	words remote -H h devices --no-h >out &&
	echo --no-header >expect && test_cmp expect out
'

test_expect_success '__complete: files where the tables have no words; nothing runs' '
	words exec --gpus 1 "" >out && echo :files >expect && test_cmp expect out &&
	words remote --hostfile "" >out && test_cmp expect out &&
	words activate --gpus "" >out && test_cmp expect out &&
	words remote --hostfile missing-file devices "" >out 2>err &&
	test ! -s out && test ! -s err &&
	test ! -e "$GENV_TMPDIR/envs.json"
'

mkdir -p "$HOME/.ssh" &&
printf "Host gpu-alpha gpu-beta *.lab\n  HostName 10.0.0.1\nHost=gpu-gamma !gpu-x\n" >"$HOME/.ssh/config" ||
exit 1

test_expect_success '__complete: -H proposes the hosts of ~/.ssh/config, after commas too' '
	words remote -H "" >out &&
	printf "gpu-alpha\ngpu-beta\ngpu-gamma\n" >expect && test_cmp expect out &&
	words remote -H gpu-alpha,gpu-g >out &&
	echo gpu-alpha,gpu-gamma >expect && test_cmp expect out
'

command -v tmux >/dev/null || { echo "# tmux missing"; test_done; exit; }
. "$(dirname "$0")/lib-tmux.sh"
test_cleanup_hook='tmux -S "$SOCK" kill-server 2>/dev/null'

start() {
	local s=$1
	shift
	tm new-session -d -s "$s" -x 150 -y 40 -c "$TRASH" "$@"
}
# tab S TEXT: types TEXT, then Tab (twice, for the list, with TAB2)
tab() { tm send-keys -t "$1" -l -- "$2" && tm send-keys -t "$1" Tab; }
# screen S PATTERN: waits for a line of S's screen that matches PATTERN
screen() {
	test_wait_for 5 eval "pane $1 | grep -q -- '$2'" ||
	{ echo "session $1 shows no '$2':"; pane "$1"; return 1; }
}
# clear S: drops the line being edited and the screen
clear_line() { tm send-keys -t "$1" C-u && tm send-keys -t "$1" C-l && tm clear-history -t "$1"; }

echo "host-a" >"$TRASH/fleet.hosts"

# each shell: genv dev<TAB>, genv devices ps --fo<TAB>, the choices of
# --format, remote's subcommands after --hostfile f, a file after
# --hostfile, a host of ~/.ssh/config after -H
check_shell() {
	local s=$1
	tab $s "genv dev" && screen $s "genv devices\$" && clear_line $s &&
	tab $s "genv devices ps --fo" && screen $s "genv devices ps --format\$" && clear_line $s &&
	tab $s "genv envs ps --format " && tm send-keys -t $s Tab &&
	screen $s "csv" && screen $s "json" && screen $s "tui" && clear_line $s &&
	tab $s "genv remote --hostfile f " && tm send-keys -t $s Tab &&
	screen $s "activate" && screen $s "enforce" && screen $s "query" && clear_line $s &&
	tab $s "genv remote --hostfile fl" && screen $s "genv remote --hostfile fleet.hosts\$" &&
	clear_line $s &&
	tab $s "genv remote -H gpu-al" && screen $s "genv remote -H gpu-alpha\$" && clear_line $s
}

test_expect_success 'bash completes from the tables (bash-completion file)' '
	start b env PS1="\$ " bash --norc --noprofile -i &&
	test_wait_for 10 eval "pane b | grep -qx \"\\\$\"" &&
	type_line b ". \"$COMPL/genv.bash\"; clear" &&
	check_shell b
'

test_expect_success 'zsh completes from the tables (_genv in fpath)' '
	start z env zsh -f -i &&
	type_line z "PS1=\"\$ \"; fpath=(\"$COMPL\" \$fpath); autoload -U compinit; compinit -u -D; clear" &&
	test_wait_for 10 eval "pane z | grep -qx \"\\\$\"" &&
	check_shell z
'

test_expect_success 'fish completes from the tables (vendor completion file)' '
	start f fish --no-config -i &&
	type_line f "set -g fish_greeting; set -g fish_history \"\"; function fish_prompt; printf \"\\\$ \"; end; source \"$COMPL/genv.fish\"; clear" &&
	test_wait_for 10 eval "pane f | grep -qx \"\\\$\"" &&
	check_shell f
'

test_done
