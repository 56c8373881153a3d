#!/bin/bash
# bench/monitor.sh: genv monitor on a busy machine: 8 fake GPUs (the fake
# NVML through the real dlopen path), 50 live environments and 200 live GPU
# processes (real sleeps, 4 per environment).
#
# 1. Scrape latency of /metrics with a client on loopback: curl fetching the
#    URL RUNS times in one process, over one kept-alive connection and with
#    a new connection each time; medians of curl's time_total against the
#    target (GENV_BENCH_TARGET_MS, default 2 ms). /api/snapshot is reported.
# 2. The exporter's own CPU at the default interval (10 s), from
#    /proc/PID/stat over GENV_BENCH_CPU_SECONDS (default 60) while scraped
#    every 15 s as Prometheus does, against 1% of a core.
# Exits 1 when a target is missed.
set -u
TARGET_MS=${GENV_BENCH_TARGET_MS:-2}
RUNS=${GENV_BENCH_RUNS:-1000}
CPU_SECONDS=${GENV_BENCH_CPU_SECONDS:-60}
. "$(dirname "$0")/lib.sh"
bench_init monitor curl
bench_fake_gpus 8
for ((i = 0; i < 8; i++)); do
	printf 'util %d %d %d\npower %d %d 400\n' "$i" $((i * 12)) $((i * 5)) "$i" $((60 + i * 40))
done >>"$GENV_FAKE_NVML_CONFIG"
bench_busy_machine --named

bench_bg "$GENV" monitor --bind 127.0.0.1 --port 0 --config-dir "$WORK/config" 2>"$WORK/monitor.err"
MONITOR=$!
for ((t = 0; t < 100; t++)); do
	grep -q "serving http" "$WORK/monitor.err" && break
	sleep 0.1
done
PORT=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/monitor.err")
[ -n "$PORT" ] || { echo "bench/monitor.sh: genv monitor did not start:" >&2; cat "$WORK/monitor.err" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
curl -s "$URL/metrics" >"$WORK/metrics"
echo "GPU processes: $(grep -c '^proc ' "$GENV_FAKE_NVML_CONFIG"), environments: 50, GPUs: 8;" \
	"/metrics: $(grep -vc '^#' "$WORK/metrics") samples, $(wc -c <"$WORK/metrics") bytes;" \
	"one collection: $(sed -n 's/^genv_exporter_collect_duration_seconds //p' "$WORK/metrics") s"

# median_ms FILE: the median of curl's time_total values (seconds), in ms
median_ms() {
	sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) * 1000 }'
}
# timings PATH FILE [CURL-OPTION...]: RUNS fetches of PATH in one curl
timings() {
	local path=$1 out=$2 i
	shift 2
	for ((i = 0; i < RUNS; i++)); do printf 'url = "%s%s"\noutput = /dev/null\n' "$URL" "$path"; done >"$WORK/urls"
	curl -s "$@" -K "$WORK/urls" -w '%{time_total}\n' >"$out" || return 1
	[ "$(wc -l <"$out")" -eq "$RUNS" ]
}
timings /metrics "$WORK/keepalive" || exit 1
timings /metrics "$WORK/fresh" -H 'Connection: close' || exit 1
timings /api/snapshot "$WORK/snapshot" || exit 1

verdict() {   # MEDIAN TARGET
	if awk -v m="$1" -v t="$2" 'BEGIN { exit !(m > t) }'; then : >"$WORK/missed"; echo "SLOWER"; else echo ok; fi
}
printf '\n%-44s %10s   (target: median <= %s ms; %s requests, client: curl on loopback)\n' \
	request median "$TARGET_MS" "$RUNS"
m=$(median_ms "$WORK/keepalive")
printf '%-44s %8s ms   %s\n' "GET /metrics, kept-alive connection" "$m" "$(verdict "$m" "$TARGET_MS")"
m=$(median_ms "$WORK/fresh")
printf '%-44s %8s ms   %s\n' "GET /metrics, new connection each" "$m" "$(verdict "$m" "$TARGET_MS")"
m=$(median_ms "$WORK/snapshot")
printf '%-44s %8s ms\n' "(reported) GET /api/snapshot, kept alive" "$m"

# CPU of the exporter at the default interval, scraped every 15 s
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$MONITOR/stat"; }
before=$(cpu_ticks)
start=$(date +%s.%N)
for ((s = 0; s < CPU_SECONDS; s += 15)); do
	curl -s -o /dev/null "$URL/metrics"
	left=$((CPU_SECONDS - s < 15 ? CPU_SECONDS - s : 15))
	sleep "$left"
done
after=$(cpu_ticks)
elapsed=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
pct=$(awk -v t=$((after - before)) -v hz="$ticks" -v e="$elapsed" 'BEGIN { printf "%.3f", 100 * t / hz / e }')
printf '%-44s %8s %%    (target: <= 1%% of a core; %s s at --interval 10, %s ticks of 1/%s s)   %s\n' \
	"genv monitor CPU" "$pct" "${elapsed%.*}" $((after - before)) "$ticks" "$(verdict "$pct" 1)"
[ ! -e "$WORK/missed" ]   # a verdict runs in $(...): a file carries it out
exit $?
