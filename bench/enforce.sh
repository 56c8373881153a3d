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
TARGET_MS=${GENV_BENCH_TARGET_MS:-20}
RUNS=${GENV_BENCH_RUNS:-100}
. "$(dirname "$0")/lib.sh"
bench_init enforce
bench_fake_gpus 8
bench_busy_machine
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
