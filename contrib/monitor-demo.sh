#!/bin/bash
# contrib/monitor-demo.sh: `genv monitor` on a simulated 8-GPU machine (the
# fake NVML, a private state directory, a few environments of three users,
# GPU processes in and outside them, utilization that moves), to try the
# live page and the metrics without a GPU:
#
#   make monitor-demo                 then open http://127.0.0.1:8000/
#   bash contrib/monitor-demo.sh --screenshot doc/monitor.png
#                                     (headless Chromium; how the README's
#                                     picture is made)
#
# GENV_DEMO_PORT changes the port (default 8000). Nothing outside a
# temporary directory is touched; everything stops on Ctrl-C.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${BUILD:=$ROOT/build}"
GENV=$BUILD/bin/genv
FAKE_NVML=$BUILD/t/fake-nvml/libnvidia-ml.so.1
PORT=${GENV_DEMO_PORT:-8000}
SHOT=
[ "${1:-}" = "--screenshot" ] && SHOT=${2:?--screenshot needs a file name}
for f in "$GENV" "$FAKE_NVML"; do
	[ -e "$f" ] || { echo "monitor-demo: $f is missing; run 'make all test-build'" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/genv-monitor-demo.XXXXXX) || exit 1
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for v in $(env | sed -n 's/^\(GENV_[A-Za-z0-9_]*\)=.*/\1/p'); do
	[ "$v" = GENV_DEMO_PORT ] || unset "$v"
done
export GENV_TMPDIR=$WORK/state GENV_NVML_LIBRARY=$FAKE_NVML GENV_FAKE_NVML_CONFIG=$WORK/gpus.conf
GPUS=""
for i in 0 1 2 3; do GPUS+="gpu $i GPU-6f1c2a7e-41d3-4b8e-9a0$i-5c3e8d1f2b7$i 81920 NVIDIA A100-SXM4-80GB"$'\n'; done
for i in 4 5 6 7; do GPUS+="gpu $i GPU-0b9d4e6a-8c2f-4a71-b3d$i-7e1a5c9f3d2$i 81559 NVIDIA H100 80GB HBM3"$'\n'; done
PROCS=""
printf 'watch\n%s' "$GPUS" >"$GENV_FAKE_NVML_CONFIG"

uid=$(id -u)
# env eid user name gpu-memory devices... ; then "procs DEVICE:MiB..." for its processes
env_with() {
	local eid=$1 user=$2 name=$3 mem=$4 devs=$5 procs=$6 pid d p
	sleep 100000 &
	PIDS+=($!)
	"$GENV" envs activate --eid "$eid" --uid "$uid" --username "$user" --pid $! || exit 1
	"$GENV" envs config --eid "$eid" name --name "$name" || exit 1
	[ "$mem" = - ] || "$GENV" envs config --eid "$eid" gpu-memory --gpu-memory "$mem" || exit 1
	for d in $devs; do "$GENV" devices attach --eid "$eid" --index "$d" >/dev/null || exit 1; done
	for p in $procs; do
		GENV_ENVIRONMENT_ID=$eid sleep 100000 &
		pid=$!
		PIDS+=($pid)
		PROCS+="proc ${p%%:*} $pid ${p#*:}"$'\n'
	done
}
env_with 31337 alice llama-finetune - "0 1" "0:71204 1:70988"
env_with 31402 bob "notebook" 20gi "2" "2:9321"
env_with 31417 carol "vit-sweep-3" 30gi "2" "2:27410"
env_with 31501 bob "eval" - "4" ""
env_with 31544 dave "diffusion-train" - "5 6" "5:60411 6:60397"
sleep 100000 &
PIDS+=($!)
PROCS+="proc 7 $! 3050"$'\n'   # running outside any environment

# readings that move, as a real cluster's do
readings() {
	local i base util
	for i in 0 1 2 3 4 5 6 7; do
		case $i in 0 | 1) base=88 ;; 2) base=41 ;; 5 | 6) base=95 ;; 7) base=23 ;; *) base=0 ;; esac
		util=$base
		[ "$base" -gt 0 ] && util=$((base - 5 + RANDOM % 10))
		[ "$util" -gt 100 ] && util=100
		printf 'util %d %d %d\ntemp %d %d\npower %d %d 400\n' "$i" "$util" $((util / 2)) \
			"$i" $((34 + util * 4 / 10)) "$i" $((62 + util * 3))
	done
}
update() {
	printf 'watch\n%s%s%s' "$GPUS" "$PROCS" "$(readings)" >"$GENV_FAKE_NVML_CONFIG.new" &&
	mv "$GENV_FAKE_NVML_CONFIG.new" "$GENV_FAKE_NVML_CONFIG"
}
update

"$GENV" monitor --bind 127.0.0.1 --port "$PORT" --interval 2 --config-dir "$WORK/config" &
PIDS+=($!)
sleep 0.5
if [ -n "$SHOT" ]; then
	chromium=$(command -v chromium || command -v chromium-browser) ||
		{ echo "monitor-demo: chromium is not installed" >&2; exit 1; }
	sleep 1
	"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --hide-scrollbars \
		--user-data-dir="$WORK/chrome" --virtual-time-budget=5000 --window-size=1280,1500 \
		--screenshot="$SHOT" "http://127.0.0.1:$PORT/" 2>/dev/null
	exit
fi
echo "genv monitor demo: open http://127.0.0.1:$PORT/ (metrics: /metrics); Ctrl-C stops it"
while sleep 2; do update; done
