# shellcheck shell=bash
# t/lib-tmux.sh: shells typed into like a user would, in a private tmux
# server whose socket is in the trash directory; sourced after lib.sh. The
# test ends the server in its cleanup hook:
#   test_cleanup_hook='tmux -S "$SOCK" kill-server 2>/dev/null'
#
#   tm ARGS...          tmux on the private server
#   type_line S LINE    types LINE and Enter into session S
#   pane S              the text on S's screen
#   last_line S         its last line with text: the prompt, once a command is done
#   run S N LINE        types LINE, then waits for the marker line DONE-N,
#                       which the typed text itself does not contain ("DO""NE-N")
#   prompt_after S N    the prompt S shows once step N is done

SOCK=$TRASH/tmux.sock
export TERM=xterm

tm() { tmux -S "$SOCK" "$@"; }
type_line() { tm send-keys -t "$1" -l -- "$2" && tm send-keys -t "$1" Enter; }
pane() { tm capture-pane -p -t "$1"; }
last_line() { pane "$1" | grep -v "^$" | tail -n 1; }
run() {
	type_line "$1" "$3; echo \"DO\"\"NE-$2\"" &&
	test_wait_for 15 eval "pane $1 | grep -qx \"DONE-$2\"" ||
	{ echo "session $1 did not finish step $2:"; pane "$1"; return 1; }
}
prompt_after() {
	test_wait_for 5 eval "last_line $1 | grep -qvx DONE-$2" && last_line "$1"
}
