#!/bin/bash
# t/helpers/fakehosts.sh: a simulated GPU cluster on this machine, for the
# `genv remote` tests, `make demo` and `make sandbox`.
#
# Every fake host is a real `sshd -D` on its own loopback address
# (127.0.0.2, 127.0.0.3, ...; all on one random free port), with key-only
# auth, its own HOME, GENV_TMPDIR and fake GPU inventory, and the freshly
# built genv first on its PATH. Clients reach the hosts through a generated
# ssh_config (aliases gpu-server-1, ...) and a PATH shim `ssh` that adds
# `-F <config>`, so the genv under test runs plain `ssh` as in production.
#
#   out=$(BUILD=... t/helpers/fakehosts.sh start 2) || exit 1   # never eval "$(...)"
#   eval "$out"     # FAKEHOSTS_DIR FAKEHOSTS_SSH_CONFIG FAKEHOSTS_BIN
#                   # FAKEHOSTS_HOSTS FAKEHOSTS_PORT FAKEHOSTS_PTY
#   PATH=$FAKEHOSTS_BIN:$PATH genv remote -H gpu-server-1 devices
#   FAKEHOSTS_DIR=... t/helpers/fakehosts.sh stop
#
# Settings for start (environment):
#   BUILD                 build dir: $BUILD/bin/genv and the fake NVML library
#   FAKEHOSTS_DIR         where everything goes (default: mktemp -d /tmp/fh.XXXXXX;
#                         keep it short, ssh control sockets live under it)
#   FAKEHOSTS_GPUS        GPUs per host, a list ("1 2": host 1 has 1, host 2 and
#                         later hosts have 2); default 2
#   FAKEHOSTS_GPU_MIB     memory per GPU in MiB (default 16384)
#   FAKEHOSTS_NAMES       host names (default gpu-server-1 ... gpu-server-N)
#   FAKEHOSTS_PORT        port (default: random 20000-59999, retried when taken)
#
# Per host (H = $FAKEHOSTS_DIR/h<i>): H/bin (first on the host's PATH: put
# fake commands there), H/home, H/state (GENV_TMPDIR), H/gpus.conf (fake NVML
# inventory, re-read by every genv), H/run.pid (the sshd), H/sshd.log.
# `stop` kills only the sshd processes it started (by pid) and their
# session processes, and closes ssh master connections under the dir; it
# deletes nothing but the directory it created itself.
#
# Sourcing this file (bash) defines the same steps as functions, plus
# fakehost_dir NAME, fake_genv and real_genv, for tests.

fakehosts_die() {
	echo "fakehosts: $*" >&2
	return 1
}

# fake_genv HOSTDIR SCRIPT: a `genv` (sh SCRIPT) first on that host's PATH;
# real_genv HOSTDIR: the built genv again.
fake_genv() {
	printf '#!/bin/sh\n%s\n' "$2" >"$1/bin/genv" && chmod +x "$1/bin/genv"
}
real_genv() { rm -f "$1/bin/genv"; }

# fakehost_dir NAME: the directory of host NAME.
fakehost_dir() {
	local i=1 n
	for n in $FAKEHOSTS_HOSTS; do
		if [ "$n" = "$1" ]; then
			echo "$FAKEHOSTS_DIR/h$i"
			return 0
		fi
		i=$((i + 1))
	done
	fakehosts_die "no host '$1'"
}

# A pid is gone when /proc has no entry or it is a zombie (a zombie
# re-parented to init can linger for a second; kill -0 says "alive").
fakehosts_pid_gone() {
	[ ! -r "/proc/$1/status" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# fakehosts_children PID: its direct children (sshd's session processes).
fakehosts_children() {
	local f stat fields
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		read -r -a fields <<<"${stat##*) }"   # state ppid ...
		if [ "${fields[1]:-}" = "$1" ]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
}

fakehosts_gpus_for() {   # host number (1-based) -> GPU count
	local i=1 n last=2
	for n in ${FAKEHOSTS_GPUS:-2}; do
		last=$n
		[ $i -eq "$1" ] && break
		i=$((i + 1))
	done
	echo "$last"
}

fakehosts_write_host() {   # i name port
	local i=$1 name=$2 port=$3 h="$FAKEHOSTS_DIR/h$1" g ngpus hostpath
	mkdir -p "$h/home" "$h/bin" "$h/state" || return 1
	hostpath="$h/bin:$BUILD/bin:/usr/local/bin:/usr/bin:/bin"
	ngpus=$(fakehosts_gpus_for "$i")
	: >"$h/gpus.conf"
	for ((g = 0; g < ngpus; g++)); do
		printf 'gpu %d GPU-%08x-0000-4000-8000-%012d %d NVIDIA Fake A100 (%s)\n' \
			"$g" "$i" "$g" "${FAKEHOSTS_GPU_MIB:-16384}" "$name" >>"$h/gpus.conf"
	done
	# sshd reads only the FIRST SetEnv line: everything goes on one line
	cat >"$h/sshd_config" <<EOF
ListenAddress 127.0.0.$((i + 1)):$port
HostKey $FAKEHOSTS_DIR/keys/host_key
PidFile $h/sshd.pid
AuthorizedKeysFile $FAKEHOSTS_DIR/keys/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200
MaxSessions 100
LogLevel VERBOSE
AcceptEnv GENV_*
SetEnv HOME=$h/home PATH=$hostpath GENV_TEST_HOST=$name GENV_TMPDIR=$h/state GENV_FAKE_NVML_CONFIG=$h/gpus.conf GENV_NVML_LIBRARY=$FAKEHOSTS_NVML ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=99} UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=99} LC_ALL=C
EOF
	# Debian's bash sources ~/.bashrc even for `ssh host cmd`: stay quiet
	# and cheap unless interactive; interactive shells get genv's init.
	cat >"$h/home/.bashrc" <<'EOF'
case $- in *i*) ;; *) return ;; esac
PS1="[$GENV_TEST_HOST]\$ "
command -v genv >/dev/null && eval "$(genv shell --init)"
EOF
	# login shells: /etc/profile resets PATH, put the host's back in front
	printf 'export PATH="%s:$PATH"\n[ -f ~/.bashrc ] && . ~/.bashrc\n' \
		"$hostpath" >"$h/home/.bash_profile"
	printf '%s\n' "$name" >"$h/name"
}

fakehosts_start_sshd() {   # i -> 0 ready, 1 failed, 2 port taken
	local h="$FAKEHOSTS_DIR/h$1" pid
	rm -f "$h/sshd.pid" "$h/sshd.log"
	/usr/sbin/sshd -D -f "$h/sshd_config" -E "$h/sshd.log" </dev/null >/dev/null 2>&1 &
	pid=$!
	echo "$pid" >"$h/run.pid"
	# ready once sshd wrote its PidFile (after it listens)
	until [ -s "$h/sshd.pid" ]; do
		if fakehosts_pid_gone "$pid"; then
			if grep -q 'Address already in use\|Cannot bind any address' "$h/sshd.log" 2>/dev/null; then
				return 2
			fi
			fakehosts_die "sshd of host $1 died: $(tail -n 3 "$h/sshd.log" 2>/dev/null)"
			return 1
		fi
		sleep 0.01
	done
	return 0
}

fakehosts_stop_pid() {
	local pid=$1 n=0 kid
	[ -n "$pid" ] || return 0
	fakehosts_pid_gone "$pid" && return 0
	kill -CONT "$pid" 2>/dev/null
	for kid in $(fakehosts_children "$pid"); do
		kill "$kid" 2>/dev/null
	done
	kill "$pid" 2>/dev/null
	until fakehosts_pid_gone "$pid"; do
		n=$((n + 1))
		if [ $n -eq 200 ]; then kill -9 "$pid" 2>/dev/null; fi
		[ $n -lt 400 ] || break
		sleep 0.01
	done
}

fakehosts_stop() {
	local h sock
	[ -n "${FAKEHOSTS_DIR:-}" ] && [ -d "$FAKEHOSTS_DIR" ] || return 0
	# ssh masters (ControlPersist) of tests that share connections
	for sock in "$FAKEHOSTS_DIR"/genv-ssh/* "$FAKEHOSTS_DIR"/cm-*; do
		[ -S "$sock" ] || continue
		/usr/bin/ssh -o ControlPath="$sock" -O exit fakehost >/dev/null 2>&1
	done
	for h in "$FAKEHOSTS_DIR"/h*; do
		[ -f "$h/run.pid" ] || continue
		fakehosts_stop_pid "$(cat "$h/run.pid")"
		rm -f "$h/run.pid"
	done
	if [ -f "$FAKEHOSTS_DIR/.created-by-fakehosts" ]; then
		rm -rf "$FAKEHOSTS_DIR"
	fi
}

fakehosts_start() {
	local n=${1:-2} i name names port rc created=0
	: "${BUILD:?set BUILD to the build directory}"
	[ -x "$BUILD/bin/genv" ] || fakehosts_die "no $BUILD/bin/genv: build first" || return 1
	FAKEHOSTS_NVML="$BUILD/t/fake-nvml/libnvidia-ml.so.1"
	[ -f "$FAKEHOSTS_NVML" ] || fakehosts_die "no $FAKEHOSTS_NVML: make test-build" || return 1
	[ -x /usr/sbin/sshd ] || fakehosts_die "no /usr/sbin/sshd: apt-get install openssh-server" || return 1
	if [ -z "${FAKEHOSTS_DIR:-}" ]; then
		FAKEHOSTS_DIR=$(mktemp -d /tmp/fh.XXXXXX) || return 1
		created=1
	fi
	mkdir -p "$FAKEHOSTS_DIR/keys" "$FAKEHOSTS_DIR/bin" || return 1
	[ $created -eq 1 ] && : >"$FAKEHOSTS_DIR/.created-by-fakehosts"
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -p /run/sshd   # privilege separation directory
	fi
	if [ ! -f "$FAKEHOSTS_DIR/keys/host_key" ]; then
		ssh-keygen -q -t ed25519 -N '' -C fakehosts-client -f "$FAKEHOSTS_DIR/keys/client_key" &&
			ssh-keygen -q -t ed25519 -N '' -C fakehosts-host -f "$FAKEHOSTS_DIR/keys/host_key" &&
			cp "$FAKEHOSTS_DIR/keys/client_key.pub" "$FAKEHOSTS_DIR/keys/authorized_keys" ||
			return 1
	fi
	names=${FAKEHOSTS_NAMES:-}
	if [ -z "$names" ]; then
		for ((i = 1; i <= n; i++)); do names="$names gpu-server-$i"; done
	fi
	FAKEHOSTS_HOSTS=$(echo $names)

	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=${FAKEHOSTS_PORT:-$((20000 + (RANDOM * 32768 + RANDOM) % 40000))}
		rc=0
		i=1
		for name in $FAKEHOSTS_HOSTS; do
			fakehosts_write_host "$i" "$name" "$port" || return 1
			fakehosts_start_sshd "$i"
			rc=$?
			[ $rc -eq 0 ] || break
			i=$((i + 1))
		done
		[ $rc -eq 0 ] && break
		for ((i = 1; i <= $(echo $FAKEHOSTS_HOSTS | wc -w); i++)); do
			[ -f "$FAKEHOSTS_DIR/h$i/run.pid" ] && fakehosts_stop_pid "$(cat "$FAKEHOSTS_DIR/h$i/run.pid")"
		done
		[ $rc -eq 2 ] && [ -z "${FAKEHOSTS_PORT:-}" ] && continue
		fakehosts_die "cannot start the hosts (port $port)"
		return 1
	done
	[ $rc -eq 0 ] || { fakehosts_die "no free port found"; return 1; }

	FAKEHOSTS_SSH_CONFIG="$FAKEHOSTS_DIR/ssh_config"
	{
		i=1
		for name in $FAKEHOSTS_HOSTS; do
			printf 'Host %s\n  HostName 127.0.0.%d\n' "$name" $((i + 1))
			i=$((i + 1))
		done
		cat <<EOF
Host *
  Port $port
  User $(id -un)
  IdentityFile $FAKEHOSTS_DIR/keys/client_key
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking no
  LogLevel ERROR
  ConnectTimeout 5
EOF
	} >"$FAKEHOSTS_SSH_CONFIG"
	printf '#!/bin/sh\nexec /usr/bin/ssh -F "%s" "$@"\n' "$FAKEHOSTS_SSH_CONFIG" >"$FAKEHOSTS_DIR/bin/ssh"
	chmod +x "$FAKEHOSTS_DIR/bin/ssh"
	FAKEHOSTS_BIN="$FAKEHOSTS_DIR/bin"
	FAKEHOSTS_PORT_USED=$port
	# PTYs for non-root sshd need devpts with gid=5 (testbed.md §6)
	FAKEHOSTS_PTY=0
	if [ "$(id -u)" -eq 0 ] || grep -q '^devpts /dev/pts .*gid=5' /proc/mounts; then
		FAKEHOSTS_PTY=1
	fi
}

fakehosts_print() {
	printf 'FAKEHOSTS_DIR=%q\nFAKEHOSTS_SSH_CONFIG=%q\nFAKEHOSTS_BIN=%q\n' \
		"$FAKEHOSTS_DIR" "$FAKEHOSTS_SSH_CONFIG" "$FAKEHOSTS_BIN"
	printf 'FAKEHOSTS_HOSTS=%q\nFAKEHOSTS_PORT=%q\nFAKEHOSTS_PTY=%q\n' \
		"$FAKEHOSTS_HOSTS" "$FAKEHOSTS_PORT_USED" "$FAKEHOSTS_PTY"
	echo 'export FAKEHOSTS_DIR FAKEHOSTS_SSH_CONFIG FAKEHOSTS_BIN FAKEHOSTS_HOSTS FAKEHOSTS_PORT FAKEHOSTS_PTY'
}

# ---- for tests (sourced): a cluster per script, always torn down ----

# fakehosts_setup N: starts N hosts in this shell, puts the ssh shim first
# on PATH and arranges the teardown through t/lib.sh's test_cleanup_hook.
fakehosts_setup() {
	FAKEHOSTS_DIR=
	test_cleanup_hook='fakehosts_teardown'
	if ! fakehosts_start "$1"; then
		echo "Bail out! cannot start the fake hosts"
		exit 1
	fi
	FAKEHOSTS_PORT=$FAKEHOSTS_PORT_USED
	export FAKEHOSTS_DIR FAKEHOSTS_SSH_CONFIG FAKEHOSTS_BIN FAKEHOSTS_HOSTS FAKEHOSTS_PTY FAKEHOSTS_PORT
	export PATH="$FAKEHOSTS_BIN:$PATH"
}

fakehosts_teardown() {
	if [ -S "$FAKEHOSTS_DIR/tmux.sock" ]; then
		tmux -S "$FAKEHOSTS_DIR/tmux.sock" kill-server 2>/dev/null
	fi
	fakehosts_stop
}

# fakehosts_can_tty: whether interactive (pty) sessions work here.
fakehosts_can_tty() {
	[ "${FAKEHOSTS_PTY:-0}" = 1 ] && command -v tmux >/dev/null
}

fh_tmux() { tmux -S "$FAKEHOSTS_DIR/tmux.sock" "$@"; }

# tmux_run NAME COMMAND: runs COMMAND in a new detached terminal; when it
# ends, the screen shows "EXIT=<status>" and the session stays.
tmux_run() {
	fh_tmux new-session -d -s "$1" -x 160 -y 40 \
		"$2; echo EXIT=\$?; exec sleep 600"
}

tmux_screen() { fh_tmux capture-pane -p -t "$1" -S -200; }

# tmux_wait NAME TEXT [SECONDS]: until TEXT (fixed string) is on the screen.
tmux_wait() {
	local deadline=$(($(date +%s%N) + ${3:-10} * 1000000000))
	until tmux_screen "$1" | grep -qF -- "$2"; do
		if [ "$(date +%s%N)" -ge $deadline ]; then
			echo "tmux_wait: no '$2' on the screen of $1:" >&2
			tmux_screen "$1" | sed '/^$/d' >&2
			return 1
		fi
		sleep 0.05
	done
}

tmux_send() { fh_tmux send-keys -t "$1" "$2" Enter; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	start)
		if ! fakehosts_start "${2:-2}"; then
			fakehosts_stop
			exit 1
		fi
		fakehosts_print
		;;
	stop)
		[ -n "${FAKEHOSTS_DIR:-}" ] || { echo "fakehosts: set FAKEHOSTS_DIR" >&2; exit 2; }
		fakehosts_stop
		;;
	*)
		echo "usage: fakehosts.sh start [N] | stop" >&2
		exit 2
		;;
	esac
fi
