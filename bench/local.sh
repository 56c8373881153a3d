#!/bin/bash
# bench/local.sh: how long the everyday local commands take on a busy
# machine: 8 fake GPUs (the fake NVML through the real dlopen path) and 50
# live environments, some sharing devices by memory. Measures the
# optimised build ($BUILD/bin/genv) with hyperfine and compares each
# median with the target (GENV_BENCH_TARGET_MS, default 5 ms); exits 1 if
# one is slower.
set -u
TARGET_MS=${GENV_BENCH_TARGET_MS:-5}
RUNS=${GENV_BENCH_RUNS:-300}
. "$(dirname "$0")/lib.sh"
bench_init local hyperfine
bench_fake_gpus 8

# 50 environments, each with a live pid of its own; the first 24 attached
# (8 whole devices' worth: 16 memory-sharing envs plus 4 whole-device ones)
uid=$(id -u)
for ((i = 0; i < 50; i++)); do
	bench_bg sleep 1000
	"$GENV" envs activate --eid "env-$i" --uid "$uid" --username bench --pid $! || exit 1
	"$GENV" envs config --eid "env-$i" name --name "project-$i" || exit 1
	if [ $i -lt 16 ]; then
		"$GENV" envs config --eid "env-$i" gpu-memory --gpu-memory 20g || exit 1
		"$GENV" devices attach --eid "env-$i" --count 1 >/dev/null || exit 1
		printf 'proc %d %d %d\n' $((i % 8)) "$!" 2048 >>"$GENV_FAKE_NVML_CONFIG"
	elif [ $i -lt 20 ]; then
		"$GENV" devices attach --eid "env-$i" --count 1 >/dev/null || exit 1
	fi
done
"$GENV" devices ps --no-header | wc -l | sed 's/^/attachment rows: /'

export GENV_SHELL=1 GENV_ENVIRONMENT_ID=env-0 CUDA_VISIBLE_DEVICES=0 \
	GENV_ENVIRONMENT_NAME=project-0 GENV_GPU_MEMORY=20g

# the last one is the floor (exec + dynamic linking), reported, not judged
names=("genv devices" "genv envs" "genv status" "genv usage snapshot"
       "genv usage snapshot --type devices" "(baseline) genv version")
cmds=("$GENV devices" "$GENV envs" "$GENV status" "$GENV usage snapshot"
      "$GENV usage snapshot --type devices" "$GENV version")
for c in "${cmds[@]}"; do $c >/dev/null || { echo "bench/local.sh: '$c' fails" >&2; exit 1; }; done

hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$WORK/result.json" \
	"${cmds[@]}" >"$WORK/hyperfine.txt" 2>&1 || { cat "$WORK/hyperfine.txt"; exit 1; }

status=0
printf '\n%-38s %10s %10s %10s   (target: median <= %s ms; %s runs, 8 GPUs, 50 envs)\n' \
	command median mean "cpu" "$TARGET_MS" "$RUNS"
for ((k = 0; k < ${#cmds[@]}; k++)); do
	median=$(jq ".results[$k].median * 1000" "$WORK/result.json")
	mean=$(jq ".results[$k].mean * 1000" "$WORK/result.json")
	# user + system time: what the command costs, whatever else runs
	cpu=$(jq ".results[$k].user * 1000 + .results[$k].system * 1000" "$WORK/result.json")
	verdict=ok
	if [ $k -eq $((${#cmds[@]} - 1)) ]; then
		verdict=
	elif awk -v m="$median" -v t="$TARGET_MS" 'BEGIN { exit !(m > t) }'; then
		verdict=SLOW
		status=1
	fi
	printf '%-38s %7.2f ms %7.2f ms %7.2f ms   %s\n' "${names[$k]}" "$median" "$mean" "$cpu" "$verdict"
done
exit $status
