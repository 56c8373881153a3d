#!/bin/bash
# bench/slurm.sh: a genv command inside a Slurm job costs no more than
# outside it. 4 fake GPUs; "inside" is the environment of a step of salloc
# (SLURM_JOB_ID, SLURM_STEP_GPUS=2,3: no variable names the job's GPUs),
# where only the job's first command asks scontrol and the answer is kept
# in the job's state (job.gpus): after it, genv must not run scontrol: a
# stand-in scontrol on PATH records any call and the bench fails if one
# happens. The cold path (the job's first command, which asks scontrol) is
# measured with that stand-in and reported only.
# Target: median inside <= median outside + GENV_BENCH_TARGET_MS (0.5).
set -u
TARGET_MS=${GENV_BENCH_TARGET_MS:-0.5}
RUNS=${GENV_BENCH_RUNS:-300}
. "$(dirname "$0")/lib.sh"
bench_init slurm
for v in $(env | sed -n 's/^\(SLURM_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
bench_fake_gpus 4
mkdir -p "$WORK/bin"
cat >"$WORK/bin/scontrol" <<EOF2
#!/bin/sh
echo called >>"$WORK/scontrol-calls"
echo "   Nodes=gpunode CPU_IDs=0 Mem=0 GRES=gpu:2(IDX:2-3)"
EOF2
chmod 755 "$WORK/bin/scontrol"
export PATH="$WORK/bin:$PATH"

in_step="env SLURM_JOB_ID=7 SLURM_STEP_GPUS=2,3 CUDA_VISIBLE_DEVICES=0,1"
in_salloc="env SLURM_JOB_ID=8"
outside="env GENV_BENCH=1"  # the same extra exec of env(1) as inside
names=("outside: genv devices" "in a step: genv devices"
       "outside: genv exec --gpus 1 true" "in a step: genv exec --gpus 1 true"
       "(cold) a job's first command: genv devices")
cmds=("$outside $GENV devices" "$in_step $GENV devices"
      "$outside $GENV exec --gpus 1 true" "$in_step $GENV exec --gpus 1 true"
      "$in_salloc $GENV devices")
for c in "${cmds[@]}"; do $c >/dev/null || { echo "bench/slurm.sh: '$c' fails" >&2; exit 1; }; done
rm -f "$WORK/scontrol-calls"
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$WORK/result.json" \
	"${cmds[@]:0:4}" >"$WORK/hyperfine.txt" 2>&1 || { cat "$WORK/hyperfine.txt"; exit 1; }
status=0
if [ -e "$WORK/scontrol-calls" ]; then
	echo "bench/slurm.sh: genv ran scontrol on the hot path" >&2
	status=1
fi
hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/cold.json" \
	--prepare "rm -f $GENV_TMPDIR/slurm/job-8/job.gpus" "${cmds[4]}" >"$WORK/hyperfine-cold.txt" 2>&1 || { cat "$WORK/hyperfine-cold.txt"; exit 1; }

median() { jq ".results[$2].median * 1000" "$1"; }
printf '\n%-42s %10s   (target: inside <= outside + %s ms; %s runs, 4 GPUs)\n' command median "$TARGET_MS" "$RUNS"
for ((k = 0; k < 4; k++)); do
	m=$(median "$WORK/result.json" $k)
	verdict=
	if [ $((k % 2)) = 1 ]; then
		base=$(median "$WORK/result.json" $((k - 1)))
		verdict=ok
		awk -v m="$m" -v b="$base" -v t="$TARGET_MS" 'BEGIN { exit !(m > b + t) }' &&
			{ verdict=SLOW; status=1; }
	fi
	printf '%-42s %7.2f ms   %s\n' "${names[$k]}" "$m" "$verdict"
done
printf '%-42s %7.2f ms   (reported: runs scontrol)\n' "${names[4]}" "$(median "$WORK/cold.json" 0)"
exit $status
