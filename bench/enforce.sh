#!/bin/bash
# bench/enforce.sh: the CPU cost of one enforcement cycle on a busy machine:
# 8 fake GPUs (the fake NVML through the real dlopen path), 50 live
# environments (all with a memory limit, most attached) and 200 live GPU
# processes (real sleeps, 4 per environment, some on devices their env is
# not attached to). Runs `genv enforce --interval 0 --dry-run` RUNS times
# and reports the mean CPU time (user + system of the genv process) per
# cycle against the target (GENV_BENCH_TARGET_MS, default 20 ms); exits 1
# if it is over.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=$PWD/build}"
GENV=$BUILD/bin/genv
FAKE_NVML=$BUILD/t/fake-nvml/libnvidia-ml.so.1
TARGET_MS=${GENV_BENCH_TARGET_MS:-20}
RUNS=${GENV_BENCH_RUNS:-100}
for f in "$GENV" "$FAKE_NVML"; do
	[ -e "$f" ] || { echo "bench/enforce.sh: $f missing (run 'make all $FAKE_NVML')" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/genv-bench-enforce.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

for v in $(env | sed -n 's/^\(GENV_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export GENV_TMPDIR=$WORK/state GENV_NVML_LIBRARY=$FAKE_NVML GENV_FAKE_NVML_CONFIG=$WORK/gpus.conf
export LC_ALL=C
for ((i = 0; i < 8; i++)); do
	printf 'gpu %d GPU-%08x-0000-4000-8000-%012d 81920 NVIDIA Fake A100\n' "$i" "$$" "$i"
done >"$GENV_FAKE_NVML_CONFIG"

uid=$(id -u)
for ((i = 0; i < 50; i++)); do
	sleep 1000 &
	PIDS+=($!)
	"$GENV" envs activate --eid "env-$i" --uid "$uid" --username "user-$((i % 10))" --pid $! || exit 1
	"$GENV" envs config --eid "env-$i" gpu-memory --gpu-memory 10g || exit 1
	if [ $i -lt 40 ]; then
		"$GENV" devices attach --eid "env-$i" --index $((i % 8)) >/dev/null || exit 1
	fi
	for ((k = 0; k < 4; k++)); do
		GENV_ENVIRONMENT_ID="env-$i" sleep 1000 &
		PIDS+=($!)
		# mostly on the env's own device, every 4th on the next one
		printf 'proc %d %d %d\n' $(((i + (k == 3)) % 8)) "$!" $((1024 + 512 * k)) \
			>>"$GENV_FAKE_NVML_CONFIG"
	done
done
# let every sleep exec (its /proc environ is the final one only then)
sleep 0.5
echo "GPU processes: $(grep -c '^proc ' "$GENV_FAKE_NVML_CONFIG"), environments: 50, GPUs: 8"

cycle=("$GENV" enforce --interval 0 --dry-run --no-audit-log --non-env-processes
	--max-devices-per-user 3)
"${cycle[@]}" >"$WORK/findings" 2>"$WORK/warnings" || { cat "$WORK/warnings" >&2; exit 1; }
echo "findings per cycle: $(grep -vc '^\[dry-run\]' "$WORK/findings"), actions: $(grep -c '^\[dry-run\]' "$WORK/findings")"

# CPU time per cycle: the user + system time of the genv process alone
# (wait4's rusage), as hyperfine measures it; without hyperfine, bash's
# `time` over RUNS runs (it also counts bash's fork, so it reads higher).
cpu_per_run() { # CMD... -> "<mean user ms> <mean system ms>"
	if command -v hyperfine >/dev/null; then
		hyperfine -N --warmup 5 --runs "$RUNS" --style none \
			--export-json "$WORK/h.json" "$*" >/dev/null 2>&1 || return 1
		awk -F': ' '/"user"/ { u = $2 + 0 } /"system"/ { s = $2 + 0 }
			END { printf "%.2f %.2f", u * 1000, s * 1000 }' "$WORK/h.json"
	else
		local t
		t=$( { TIMEFORMAT='%3U %3S'; time for ((r = 0; r < RUNS; r++)); do
			"$@" >/dev/null 2>&1; done; } 2>&1 )
		awk -v t="$t" -v n="$RUNS" 'BEGIN { split(t, a, " ");
			printf "%.2f %.2f", a[1] * 1000 / n, a[2] * 1000 / n }'
	fi
}
read -r floor_user floor_sys <<<"$(cpu_per_run "$GENV" version)"
read -r user_ms sys_ms <<<"$(cpu_per_run "${cycle[@]}")" || exit 1
per=$(awk -v u="$user_ms" -v s="$sys_ms" 'BEGIN { printf "%.2f", u + s }')
printf 'enforce cycle CPU time: %s ms (user %s ms + sys %s ms, mean of %d runs), target %s ms\n' \
	"$per" "$user_ms" "$sys_ms" "$RUNS" "$TARGET_MS"
printf '  (floor: `genv version` takes %s ms user + %s ms sys)\n' "$floor_user" "$floor_sys"
awk -v p="$per" -v t="$TARGET_MS" 'BEGIN { exit !(p <= t) }' || {
	echo "bench/enforce.sh: over target" >&2
	exit 1
}
