#!/bin/bash
# bench/remote.sh: what `genv remote` costs, on a simulated cluster of 16
# real sshd hosts on loopback (t/helpers/fakehosts.sh), measured with
# hyperfine against the optimised build ($BUILD/bin/genv):
#
#   1. the remote side alone: `genv usage snapshot --type devices`, run
#      locally on a host with 8 GPUs and 20 environments (target <= 5 ms);
#   2. `genv remote devices` over 16 hosts without connection reuse, next
#      to 16 parallel plain `ssh HOST true` (target: ratio <= 1.3; ssh
#      itself is the floor);
#   3. the same with --reuse-connections once the masters are up
#      (target <= 150 ms);
#   4. one hung host among the 16 (sshd stopped): the run costs the
#      connect timeout (-t 1 here) and no more; a host that is down
#      (connection refused) costs next to nothing.
#
# GENV_BENCH_RUNS (default 5) sets the runs of the 16-host measurements.
# Exits 1 when a target is missed.
set -u
RUNS=${GENV_BENCH_RUNS:-5}
NHOSTS=16
. "$(dirname "$0")/lib.sh"
bench_init remote hyperfine
FAKEHOSTS_DIR=
bench_teardown() {
	[ -n "$FAKEHOSTS_DIR" ] && FAKEHOSTS_DIR=$FAKEHOSTS_DIR bash t/helpers/fakehosts.sh stop
}

# median and CPU (user + system) of hyperfine's CSV row k (0-based), in ms
csv_field() { awk -F, -v row=$(($2 + 2)) -v col="$3" 'NR == row { printf "%.1f", $col * 1000 }' "$1"; }
verdict() {   # value op target
	if awk -v v="$1" -v t="$3" "BEGIN { exit !(v $2 t) }"; then echo ok; else : >"$WORK/missed"; echo MISSED; fi
}

echo "== 1. the remote side: genv usage snapshot --type devices (8 GPUs, 20 envs)"
(
	bench_fake_gpus 8
	sleep 1000 &
	echo $! >"$WORK/sleeper"
	for ((i = 0; i < 20; i++)); do
		"$GENV" envs activate --eid "env-$i" --uid 0 --username bench --pid "$(cat "$WORK/sleeper")" &&
			"$GENV" envs config --eid "env-$i" gpu-memory --gpu-memory 8g &&
			"$GENV" devices attach --eid "env-$i" --count 1 >/dev/null || exit 1
	done
	hyperfine -N --warmup 20 --runs 200 --export-csv "$WORK/local.csv" -n snapshot \
		"$GENV usage snapshot --type devices" >/dev/null 2>&1 || exit 1
)
PIDS+=("$(cat "$WORK/sleeper" 2>/dev/null)")
[ -s "$WORK/local.csv" ] || { echo "bench/remote.sh: the local measurement failed" >&2; exit 1; }
m=$(csv_field "$WORK/local.csv" 0 4)
cpu=$(awk -F, 'NR == 2 { printf "%.1f", ($5 + $6) * 1000 }' "$WORK/local.csv")
printf '   median %s ms, cpu %s ms (target <= 5 ms): %s\n' "$m" "$cpu" "$(verdict "$m" "<=" 5)"

echo "== starting $NHOSTS simulated hosts"
out=$(FAKEHOSTS_GPUS=2 bash t/helpers/fakehosts.sh start $NHOSTS) || exit 1
eval "$out"
export PATH="$FAKEHOSTS_BIN:$BUILD/bin:$PATH"
HOSTS=$(echo $FAKEHOSTS_HOSTS | tr ' ' ,)
# 16 plain ssh calls in parallel, as genv makes them but without genv
cat >"$WORK/plain-ssh.sh" <<EOF
for h in $FAKEHOSTS_HOSTS; do ssh -T -o BatchMode=yes \$h true </dev/null & done
wait
EOF
"$GENV" remote -H "$HOSTS" devices --no-header >/dev/null || { echo "bench/remote.sh: genv remote fails" >&2; exit 1; }

echo "== 2. genv remote devices over $NHOSTS hosts, no reuse, vs $NHOSTS parallel ssh HOST true ($RUNS runs)"
hyperfine -N --warmup 1 --runs "$RUNS" --export-csv "$WORK/fanout.csv" \
	-n plain-ssh "bash $WORK/plain-ssh.sh" -n genv-remote "$GENV remote -H $HOSTS devices" >/dev/null 2>&1 ||
	{ echo "bench/remote.sh: hyperfine failed" >&2; exit 1; }
ssh_ms=$(csv_field "$WORK/fanout.csv" 0 4)
genv_ms=$(csv_field "$WORK/fanout.csv" 1 4)
ratio=$(awk -v a="$genv_ms" -v b="$ssh_ms" 'BEGIN { printf "%.2f", a / b }')
printf '   16 x ssh true: median %s ms; genv remote devices: median %s ms; ratio %s (target <= 1.3): %s\n' \
	"$ssh_ms" "$genv_ms" "$ratio" "$(verdict "$ratio" "<=" 1.3)"

echo "== 3. the same with --reuse-connections, masters warm"
export XDG_RUNTIME_DIR=$FAKEHOSTS_DIR   # sockets under the cluster dir: stop closes them
"$GENV" remote --reuse-connections -H "$HOSTS" devices >/dev/null
# the floor: 16 parallel plain ssh through the same masters
cat >"$WORK/mux-ssh.sh" <<EOF
for h in $FAKEHOSTS_HOSTS; do ssh -T -o BatchMode=yes -o ControlPath=$FAKEHOSTS_DIR/genv-ssh/%C \$h true </dev/null & done
wait
EOF
hyperfine -N --warmup 3 --runs 20 --export-csv "$WORK/reuse.csv" \
	-n mux-ssh "bash $WORK/mux-ssh.sh" \
	-n reuse "$GENV remote --reuse-connections -H $HOSTS devices" \
	-n reuse-one "$GENV remote --reuse-connections -H gpu-server-1 devices" >/dev/null 2>&1 ||
	{ echo "bench/remote.sh: hyperfine failed" >&2; exit 1; }
mux_ms=$(csv_field "$WORK/reuse.csv" 0 4)
m=$(csv_field "$WORK/reuse.csv" 1 4)
one=$(csv_field "$WORK/reuse.csv" 2 4)
printf '   16 hosts: median %s ms (target <= 150 ms): %s\n' "$m" "$(verdict "$m" "<=" 150)"
printf '   floor, 16 x ssh HOST true over the same masters: median %s ms (ratio %s)\n' "$mux_ms" \
	"$(awk -v a="$m" -v b="$mux_ms" 'BEGIN { printf "%.2f", a / b }')"
printf '   one host: median %s ms\n' "$one"
unset XDG_RUNTIME_DIR

echo "== 4. a dead host costs the connect timeout (-t 1), in parallel with the rest"
last=$(echo $FAKEHOSTS_HOSTS | awk '{ print $NF }')
last_dir=$FAKEHOSTS_DIR/h$NHOSTS
kill -STOP "$(cat "$last_dir/run.pid")"
hyperfine -N -i --runs "$RUNS" --export-csv "$WORK/dead.csv" \
	-n one "$GENV remote -t 1 -H gpu-server-1 devices" \
	-n one-plus-hung "$GENV remote -t 1 -H gpu-server-1,$last devices" \
	-n all-hung "$GENV remote -t 1 -H $HOSTS devices" >/dev/null 2>&1
kill -CONT "$(cat "$last_dir/run.pid")"
bash -c "FAKEHOSTS_DIR=$FAKEHOSTS_DIR; . t/helpers/fakehosts.sh; fakehosts_stop_pid $(cat "$last_dir/run.pid")"
hyperfine -N -i --runs "$RUNS" --export-csv "$WORK/down.csv" \
	-n one-plus-down "$GENV remote -t 1 -H gpu-server-1,$last devices" >/dev/null 2>&1
one_ms=$(csv_field "$WORK/dead.csv" 0 4)
hung_ms=$(csv_field "$WORK/dead.csv" 1 4)
all_ms=$(csv_field "$WORK/dead.csv" 2 4)
down_ms=$(csv_field "$WORK/down.csv" 0 4)
printf '   gpu-server-1 alone: %s ms; plus %s hung: %s ms (connect timeout 1000 ms): %s\n' \
	"$one_ms" "$last" "$hung_ms" "$(verdict "$hung_ms" "<=" 1400)"
printf '   plus %s down (refused): %s ms; all 16 with %s hung: %s ms (healthy: %s ms)\n' \
	"$last" "$down_ms" "$last" "$all_ms" "$genv_ms"
[ ! -e "$WORK/missed" ]   # a verdict runs in $(...): a file carries it out
exit $?
