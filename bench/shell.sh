#!/bin/bash
# bench/shell.sh: the shell round trip a user feels: `genv activate --gpus 1`
# followed by `genv deactivate`, through the bash shell function (which
# runs genv four times: activate, shell --reconfigure, shell --reattach,
# deactivate), with 8 fake GPUs. hyperfine times a bash that does ROUNDS
# round trips; we report the median per round trip and compare it with
# the target (GENV_BENCH_TARGET_MS, default 15 ms); exits 1 if slower.
set -u
TARGET_MS=${GENV_BENCH_TARGET_MS:-15}
ROUNDS=${GENV_BENCH_ROUNDS:-20}
RUNS=${GENV_BENCH_RUNS:-20}
. "$(dirname "$0")/lib.sh"
bench_init shell hyperfine
bench_fake_gpus 8
export PATH="$BUILD/bin:$PATH" ROUNDS

cat >"$WORK/round.sh" <<'EOS'
eval "$(genv shell --init)"
i=0
while [ $i -lt "$ROUNDS" ]; do
	genv activate --gpus 1 --no-prompt || exit 1
	[ "$CUDA_VISIBLE_DEVICES" != -1 ] || exit 1
	genv deactivate || exit 1
	i=$((i + 1))
done
EOS
cat >"$WORK/empty.sh" <<'EOS'
eval "$(genv shell --init)"
EOS

# the state exists before timing starts (devices.json from NVML)
bash "$WORK/round.sh" || { echo "bench/shell.sh: the round trip fails" >&2; exit 1; }

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" \
	-n "$ROUNDS round trips" "bash $WORK/round.sh" \
	-n "init only" "bash $WORK/empty.sh" || exit 1

python3 - "$WORK/h.json" "$ROUNDS" "$TARGET_MS" <<'EOP'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
rounds, target = int(sys.argv[2]), float(sys.argv[3])
loop, base = res[0]["median"], res[1]["median"]
per = (loop - base) / rounds * 1000
print(f"median per activate+deactivate round trip: {per:.2f} ms "
      f"(target <= {target:g} ms; bash start + init subtracted: {base * 1000:.2f} ms)")
sys.exit(0 if per <= target else 1)
EOP
