#!/bin/bash
# contrib/demo.sh: the `genv remote` walkthrough on a simulated cluster.
#
#   make demo       starts gpu-server-1 (1 GPU) and gpu-server-2 (2 GPUs) as
#                   real sshd hosts on loopback with fake GPUs, runs the
#                   walkthrough printing every command and its output (the
#                   interactive steps are driven through tmux and their
#                   screens shown), and tears everything down.
#   make sandbox    (demo.sh --sandbox) starts the same cluster, writes
#                   hostfile.txt into a temporary directory and opens an
#                   interactive bash there with genv and the cluster's ssh
#                   on PATH; the cluster goes away when that shell exits.
#
# Needs: openssh-server (/usr/sbin/sshd), and tmux for the interactive
# steps (without it, or without working PTYs, they run scripted). Works
# as root and as a normal user. BUILD is the build directory (make sets it).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD:=$ROOT/build}"
export BUILD
FAKEHOSTS=$ROOT/t/helpers/fakehosts.sh
MODE=demo
[ "${1:-}" = "--sandbox" ] && MODE=sandbox

for f in "$BUILD/bin/genv" "$BUILD/t/fake-nvml/libnvidia-ml.so.1"; do
	if [ ! -e "$f" ]; then
		echo "demo: $f is missing; run 'make all test-build' first" >&2
		exit 1
	fi
done

WORK=$(mktemp -d /tmp/genv-demo.XXXXXX) || exit 1
FAKEHOSTS_DIR=
HOLDER=
cleanup() {
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
	fi
	if [ -n "$FAKEHOSTS_DIR" ]; then
		if [ -S "$FAKEHOSTS_DIR/tmux.sock" ]; then
			tmux -S "$FAKEHOSTS_DIR/tmux.sock" kill-server 2>/dev/null
		fi
		FAKEHOSTS_DIR=$FAKEHOSTS_DIR bash "$FAKEHOSTS" stop
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Starting the simulated cluster: gpu-server-1 (1 GPU) and gpu-server-2 (2 GPUs) ..."
if ! out=$(FAKEHOSTS_GPUS="1 2" bash "$FAKEHOSTS" start 2); then
	echo "demo: cannot start the simulated hosts (is openssh-server installed?)" >&2
	exit 1
fi
eval "$out"
# the client side: our genv, and an `ssh` that knows the fake hosts
export PATH="$FAKEHOSTS_BIN:$BUILD/bin:$PATH"
export GENV_TMPDIR="$WORK/local-state"
printf 'gpu-server-1\ngpu-server-2\n' >"$WORK/hostfile.txt"
cd "$WORK" || exit 1

if [ $MODE = sandbox ]; then
	cat >"$WORK/.bashrc" <<EOF
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
PS1='(genv sandbox) \\w\\$ '
eval "\$(genv shell --init)"
cat <<'HELP'

genv sandbox: two simulated GPU hosts are running (real sshd on loopback).
  gpu-server-1   1 GPU
  gpu-server-2   2 GPUs
hostfile.txt lists both. Try:
  genv remote --hostfile hostfile.txt devices
  ssh gpu-server-2            # then: genv activate --name my-env --gpus 1
  genv remote --hostfile hostfile.txt envs
  genv remote --hostfile hostfile.txt activate --gpus 1
  genv remote --hostfile hostfile.txt top      # live; q quits
  genv remote --hostfile hostfile.txt monitor --bind 127.0.0.1 -p 9400 &
Each host has its own state ($FAKEHOSTS_DIR/h<N>/state) and fake GPU
inventory ($FAKEHOSTS_DIR/h<N>/gpus.conf), one line each, read at every
genv command:
  gpu <index> <uuid> <total-MiB> <name...>    a GPU
  proc <gpu-index> <pid> <used-MiB>           a process using it
  util <gpu-index> <gpu-%> <mem-%>, temp <gpu-index> <celsius>, ...
(all directives: doc/fake-nvml.md). 'exit' stops the cluster.

HELP
EOF
	bash --rcfile "$WORK/.bashrc" -i
	exit 0
fi

# ---- the walkthrough ----

TMUX_SOCK="$FAKEHOSTS_DIR/tmux.sock"
use_tmux=0
if [ "$FAKEHOSTS_PTY" = 1 ] && [ -z "${GENV_DEMO_SCRIPTED:-}" ] && command -v tmux >/dev/null; then
	use_tmux=1
fi

if [ -t 1 ]; then BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m'); else BOLD='' PLAIN=''; fi
step() { printf '\n%s$ %s%s\n' "$BOLD" "$*" "$PLAIN"; }
run() { step "$*"; "$@"; }

screen_of() { tmux -S "$TMUX_SOCK" capture-pane -p -t "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }

wait_screen() {   # session text
	local i
	for ((i = 0; i < 200; i++)); do
		tmux -S "$TMUX_SOCK" capture-pane -p -t "$1" | grep -qF -- "$2" && return 0
		sleep 0.05
	done
	echo "demo: '$2' did not show up:" >&2
	screen_of "$1" >&2
	return 1
}

# type LINE into the terminal of session S, wait for TEXT, show the screen
type_in() {   # session line text
	tmux -S "$TMUX_SOCK" send-keys -t "$1" "$2" Enter
	wait_screen "$1" "$3"
}

show_terminal() {   # session title
	printf '    ┌─ terminal: %s\n' "$2"
	screen_of "$1" | sed 's/^/    │ /'
	printf '    └─\n'
}

run cat hostfile.txt
run genv remote --hostfile hostfile.txt devices

if [ $use_tmux = 1 ]; then
	step "ssh gpu-server-2      # another user, in another terminal"
	tmux -S "$TMUX_SOCK" new-session -d -s other -x 100 -y 12 "ssh gpu-server-2"
	wait_screen other "[gpu-server-2]" &&
		type_in other "genv activate --name my-env --gpus 1" "(genv)" &&
		type_in other "genv status" "Attached to GPUs" &&
		show_terminal other "ssh gpu-server-2"
else
	step "ssh gpu-server-2 genv ...   # another user takes a GPU (no terminal available: scripted)"
	sleep 600 &
	HOLDER=$!
	ssh gpu-server-2 "genv envs activate --eid $HOLDER --uid $(id -u) --username $(id -un) --pid $HOLDER &&
		genv envs config --eid $HOLDER name --name my-env && genv envs config --eid $HOLDER gpus --count 1 &&
		genv devices attach --eid $HOLDER" >/dev/null
fi

run genv remote --hostfile hostfile.txt envs
run genv remote --hostfile hostfile.txt query --name my-env --query hostname eid
run genv remote --hostfile hostfile.txt devices

if [ $use_tmux = 1 ]; then
	step "genv remote --hostfile hostfile.txt activate --gpus 1"
	tmux -S "$TMUX_SOCK" new-session -d -s me -x 120 -y 14 \
		"genv remote --hostfile hostfile.txt activate --gpus 1; echo \"[genv remote exited \$?]\"; exec sleep 600"
	wait_screen me "[gpu-server-1]" &&
		type_in me "genv status" "Attached to GPUs" &&
		show_terminal me "genv remote ... activate --gpus 1"
	type_in me "exit" "[genv remote exited 0]"
else
	step "genv remote --hostfile hostfile.txt activate --gpus 1    # scripted session"
	printf 'echo "now on $GENV_TEST_HOST in environment $$"\ngenv devices\n' |
		genv remote --hostfile hostfile.txt activate --gpus 1
fi

step "genv remote --hostfile hostfile.txt activate --gpus 2"
genv remote --hostfile hostfile.txt activate --gpus 2 </dev/null
echo "(exit status $?)"

if [ $use_tmux = 1 ]; then
	step "genv deactivate       # in the other terminal, on gpu-server-2"
	type_in other "genv deactivate" "[gpu-server-2]" >/dev/null
	sleep 0.2
	show_terminal other "ssh gpu-server-2"

	step "genv remote --hostfile hostfile.txt activate --gpus 2 --name two"
	tmux -S "$TMUX_SOCK" new-session -d -s me2 -x 120 -y 14 \
		"genv remote --hostfile hostfile.txt activate --gpus 2 --name two; echo \"[genv remote exited \$?]\"; exec sleep 600"
	wait_screen me2 "[gpu-server-2]" &&
		type_in me2 "genv status" "Attached to GPUs" &&
		show_terminal me2 "genv remote ... activate --gpus 2 --name two"
	type_in me2 "exit" "[genv remote exited 0]"
else
	step "ssh gpu-server-2 genv envs deactivate --pid $HOLDER"
	ssh gpu-server-2 genv envs deactivate --pid "$HOLDER"
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null
	HOLDER=
	step "genv remote --hostfile hostfile.txt activate --gpus 2 --name two    # scripted session"
	printf 'echo "now on $GENV_TEST_HOST"\ngenv devices\n' |
		genv remote --hostfile hostfile.txt activate --gpus 2 --name two
fi

run genv remote --hostfile hostfile.txt devices
echo
echo "Done; stopping the simulated cluster."
