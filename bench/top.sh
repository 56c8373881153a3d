#!/bin/bash
# bench/top.sh: what watching 16 hosts costs per refresh, in steady state,
# on a simulated cluster of 16 real sshd hosts on loopback (2 GPUs each):
#
#   1. `genv remote --hostfile H top` (full screen in a tmux pane, one
#      refresh a second): one ssh session per host streams a snapshot a
#      second (`genv usage snapshot --watch`); 1b. `genv remote monitor
#      -i 1` the same way, scraped every second;
#   2. a new `genv remote --hostfile H devices` every second, the way a
#      dashboard polls today;
#   3. the same with --reuse-connections (warm ssh masters).
#
# Over GENV_BENCH_SECONDS (default 10) after a warm-up, per refresh:
# local CPU (genv and the ssh clients it starts, user + system, from
# /proc), ssh processes started, and the CPU on the hosts' side (sshd
# sessions and the genv they run; the hosts live on this machine).
# Targets: streaming starts no process per refresh and costs less local
# CPU than a `genv remote devices` per refresh. Exits 1 when missed.
set -u
SECONDS_WANTED=${GENV_BENCH_SECONDS:-10}
NHOSTS=16
. "$(dirname "$0")/lib.sh"
bench_init top tmux curl
export TERM=xterm
FAKEHOSTS_DIR=
bench_teardown() {
	tmux -S "$WORK/tmux.sock" kill-server 2>/dev/null
	[ -n "$FAKEHOSTS_DIR" ] && FAKEHOSTS_DIR=$FAKEHOSTS_DIR bash t/helpers/fakehosts.sh stop
}
HZ=$(getconf CLK_TCK)

# cpu_ns PID: CPU time of PID (schedstat, in ns: ticks are too coarse for
# 16 processes that each run a fraction of a tick per second) plus that of
# the children it reaped (cutime + cstime, in ticks)
cpu_ns() {
	local s run
	read -r s 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
	read -r run _ 2>/dev/null <"/proc/$1/schedstat" || run=0
	s=${s##*) }   # fields from 3 (state) on
	set -- $s
	echo $((run + (${14} + ${15}) * 1000000000 / HZ))
}
# tree_ns PID: CPU of PID and of every live descendant
tree_ns() {
	local sum total kid
	total=$(cpu_ns "$1")
	for kid in $(children "$1"); do
		sum=$(tree_ns "$kid")
		total=$((total + sum))
	done
	echo $total
}
children() {
	local f stat fields
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		read -r -a fields <<<"${stat##*) }"
		[ "${fields[1]:-}" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
}
# the hosts' side: every sshd of the cluster with its sessions
hosts_ns() {
	local h total=0 t
	for h in "$FAKEHOSTS_DIR"/h*; do
		t=$(tree_ns "$(cat "$h/run.pid")")
		total=$((total + t))
	done
	echo $total
}
spawned() { wc -l <"$WORK/ssh.log"; }
per_refresh_ms() { awk -v t="$1" -v n="$SECONDS_WANTED" 'BEGIN { printf "%.1f", t / 1e6 / n }'; }
per_refresh() { awk -v c="$1" -v n="$SECONDS_WANTED" 'BEGIN { printf "%.1f", c / n }'; }

echo "== starting $NHOSTS simulated hosts"
out=$(FAKEHOSTS_GPUS=2 bash t/helpers/fakehosts.sh start $NHOSTS) || exit 1
eval "$out"
echo $FAKEHOSTS_HOSTS | tr ' ' '\n' >"$WORK/hosts"
# every ssh genv starts is counted
mkdir -p "$WORK/bin"
printf '#!/bin/sh\necho x >>"%s"\nexec "%s/ssh" "$@"\n' "$WORK/ssh.log" "$FAKEHOSTS_BIN" >"$WORK/bin/ssh"
chmod +x "$WORK/bin/ssh"
: >"$WORK/ssh.log"
export PATH="$WORK/bin:$BUILD/bin:$PATH"
"$GENV" remote --hostfile "$WORK/hosts" devices >/dev/null ||
	{ echo "bench/top.sh: genv remote fails" >&2; exit 1; }

echo "== 1. genv remote top over $NHOSTS hosts, ${SECONDS_WANTED} s"
tmux -S "$WORK/tmux.sock" new-session -d -s top -x 200 -y 60 \
	"exec $GENV remote --hostfile $WORK/hosts top"
TOP=$(tmux -S "$WORK/tmux.sock" display -p -t top '#{pane_pid}')
for _ in $(seq 100); do
	tmux -S "$WORK/tmux.sock" capture-pane -p -t top | grep -q "^hosts: $NHOSTS up" && break
	sleep 0.1
done
tmux -S "$WORK/tmux.sock" capture-pane -p -t top | grep -q "^hosts: $NHOSTS up" ||
	{ echo "bench/top.sh: remote top did not show every host" >&2; exit 1; }
sleep 3
l0=$(tree_ns "$TOP"); r0=$(hosts_ns); s0=$(spawned)
sleep "$SECONDS_WANTED"
l1=$(tree_ns "$TOP"); r1=$(hosts_ns); s1=$(spawned)
tmux -S "$WORK/tmux.sock" send-keys -t top q
top_local=$(per_refresh_ms $((l1 - l0))); top_remote=$(per_refresh_ms $((r1 - r0)))
top_spawned=$(per_refresh $((s1 - s0)))
sleep 1   # its sessions end

echo "== 1b. genv remote monitor -i 1 over $NHOSTS hosts, scraped every second, ${SECONDS_WANTED} s"
"$GENV" remote --hostfile "$WORK/hosts" monitor --bind 127.0.0.1 --port 0 --interval 1 \
	--config-dir "$WORK/config" 2>"$WORK/monitor.err" &
MON=$!
for _ in $(seq 100); do grep -q "serving http" "$WORK/monitor.err" && break; sleep 0.1; done
URL=http://127.0.0.1:$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/monitor.err")/metrics
for _ in $(seq 100); do
	[ "$(curl -s "$URL" | grep -c '^genv_is_installed{')" -eq $NHOSTS ] && break
	sleep 0.1
done
sleep 3
l0=$(tree_ns "$MON"); r0=$(hosts_ns); s0=$(spawned)
for ((i = 0; i < SECONDS_WANTED; i++)); do curl -s -o /dev/null "$URL"; sleep 1; done
l1=$(tree_ns "$MON"); r1=$(hosts_ns); s1=$(spawned)
kill -TERM $MON; wait $MON
mon_local=$(per_refresh_ms $((l1 - l0))); mon_remote=$(per_refresh_ms $((r1 - r0)))
mon_spawned=$(per_refresh $((s1 - s0)))

# poll LABEL ARGS...: a new `genv remote ARGS devices` every second; writes
# "<ssh started> <hosts' CPU ms> <local CPU ms>" per refresh to $WORK/LABEL
poll() {
	local label=$1 i start now s0 s1 r0 r1 TIMEFORMAT='%3U %3S'
	shift
	"$GENV" remote "$@" --hostfile "$WORK/hosts" devices >/dev/null   # warm-up
	: >"$WORK/$label.times"
	s0=$(spawned); r0=$(hosts_ns)
	for ((i = 0; i < SECONDS_WANTED; i++)); do
		start=$(date +%s%N)
		# user and system time of genv and the ssh it waited for
		{ time "$GENV" remote "$@" --hostfile "$WORK/hosts" devices >/dev/null 2>&1; } \
			2>>"$WORK/$label.times"
		now=$(date +%s%N)
		sleep "$(awk -v ns=$((1000000000 - (now - start))) 'BEGIN { printf "%.3f", (ns > 0 ? ns / 1e9 : 0) }')"
	done
	r1=$(hosts_ns); s1=$(spawned)
	echo "$(per_refresh $((s1 - s0))) $(per_refresh_ms $((r1 - r0)))" \
		"$(awk -v n="$SECONDS_WANTED" '{ t += $1 + $2 } END { printf "%.1f", t * 1000 / n }' "$WORK/$label.times")" \
		>"$WORK/$label"
}

echo "== 2. genv remote devices every second, ${SECONDS_WANTED} s"
poll devices
read -r dev_spawned dev_remote dev_local <"$WORK/devices"

echo "== 3. the same with --reuse-connections, ${SECONDS_WANTED} s"
export XDG_RUNTIME_DIR=$FAKEHOSTS_DIR   # the masters' sockets: stop closes them
poll reuse --reuse-connections
read -r reuse_spawned reuse_remote reuse_local <"$WORK/reuse"
unset XDG_RUNTIME_DIR

printf '\n%-40s %16s %16s %18s\n' "per refresh ($NHOSTS hosts, 1 s)" "local CPU ms" "ssh started" "hosts' CPU ms"
printf '%-40s %16s %16s %18s\n' "remote top (one session per host)" "$top_local" "$top_spawned" "$top_remote"
printf '%-40s %16s %16s %18s\n' "remote monitor -i 1, scraped each second" "$mon_local" "$mon_spawned" "$mon_remote"
printf '%-40s %16s %16s %18s\n' "remote devices every second" "$dev_local" "$dev_spawned" "$dev_remote"
printf '%-40s %16s %16s %18s\n' "  the same, --reuse-connections" "$reuse_local" "$reuse_spawned" "$reuse_remote"
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo ok; else : >"$WORK/missed"; echo MISSED; fi
}
printf '\nremote top and remote monitor start no process per refresh: %s\n' \
	"$(verdict "$top_spawned == 0 && $mon_spawned == 0")"
printf 'remote top costs less local CPU than a remote devices per refresh: %s\n' \
	"$(verdict "$top_local < $dev_local")"
[ ! -e "$WORK/missed" ]   # a verdict runs in $(...): a file carries it out
exit $?
