#!/usr/bin/env bash
# t8000-slurm.sh: genv's job mode on a real one-node Slurm cluster
# (t/helpers/slurm.sh: munged, slurmctld, slurmd on loopback, 4 fake GPUs
# that the fake NVML sees too), without cgroups and with task/cgroup +
# ConstrainDevices (Slurm renumbers CUDA_VISIBLE_DEVICES inside jobs):
# steps of one job share its GPUs, jobs at once never see each other's
# state, salloc and sbatch contexts, the shipped epilog and the lazy sweep.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/slurm.sh"
. "$T_DIR/lib-tmux.sh"

if ! slurm_have; then
	echo "# $TEST_NAME: skipped: Slurm is not installed (make deps installs slurmctld slurmd slurm-client munge)"
	test_cleanup_hook=
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "# $TEST_NAME: skipped: a private Slurm cluster (SlurmUser=root, mknod) needs root"
	exit 0
fi

fake_gpus 4
test_cleanup_hook='slurm_stop; tmux -S "$SOCK" kill-server 2>/dev/null'
SRC=$(cd "$T_DIR/.." && pwd)
# the shipped epilog, told where this test's state is; $TRASH/no-epilog
# makes it do nothing, as for a node that crashed
cat >"$TRASH/epilog" <<EOF
#!/bin/sh
[ -e "$TRASH/no-epilog" ] && exit 0
GENV_TMPDIR="$GENV_TMPDIR" exec "$SRC/contrib/slurm/epilog"
EOF
chmod 755 "$TRASH/epilog"
export SLURM_TEST_EPILOG="$TRASH/epilog"
mkdir -p "$GENV_TMPDIR"

# uuid INDEX: the fake NVML's UUID of node GPU INDEX
uuid() { awk -v i="$1" '$1 == "gpu" && $2 == i { print $3 }' "$GENV_FAKE_NVML_CONFIG"; }
# uuids LIST: "0,2" -> the UUIDs, comma-separated
uuids() {
	local out= i
	for i in ${1//,/ }; do out="$out${out:+,}$(uuid "$i")"; done
	echo "$out"
}
# wait_file PATH: up to 20 s
wait_file() { local i; for i in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# The body the 2-GPU job runs (salloc's command): two steps each hold one
# GPU through genv, a third asks for one more.
cat >"$TRASH/two-steps.sh" <<'EOF'
set -u
d=$1
genv devices >"$d/salloc-devices" 2>&1
genv doctor >"$d/salloc-doctor" 2>&1
srun --overlap genv doctor >"$d/step-doctor" 2>&1
srun --overlap -n1 printenv SLURM_STEP_GPUS >"$d/job-gpus"
for s in a b; do
	srun --overlap genv exec --gpus 1 sh -c \
		'printf "%s\n" "$CUDA_VISIBLE_DEVICES" >"$0.tmp" && mv "$0.tmp" "$0" && while [ ! -e "$1" ]; do sleep 0.1; done' \
		"$d/step-$s" "$d/go" &
	for i in $(seq 300); do [ -e "$d/step-$s" ] && break; sleep 0.1; done  # a failed step must not hang the job
done
srun --overlap genv exec --gpus 1 true >"$d/step-c.out" 2>&1
echo $? >"$d/step-c.rc"
srun --overlap genv envs ps --format csv --no-header >"$d/envs"
touch "$d/go"
wait
ls "$GENV_TMPDIR/slurm" >"$d/dirs"
echo "$SLURM_JOB_ID" >"$d/id"
EOF

# A step with fewer GPUs than its job (srun --gres=gpu:1 in a 2-GPU salloc:
# its SLURM_STEP_GPUS are its own, no variable names the job's): two such
# steps at once each get their own GPU through genv, and the job's state
# keeps both (it has all the job's GPUs, from scontrol once).
cat >"$TRASH/fewer-salloc.sh" <<'EOF'
set -u
d=$1
for s in a b; do
	srun --exact -n1 --gres=gpu:1 sh -c \
		'printenv SLURM_STEP_GPUS >"$0-gpus"; genv devices >"$0-devices" 2>&1;
		genv exec --gpus 1 sh -c "printf \"%s\n\" \"\$CUDA_VISIBLE_DEVICES\" >\"\$0.tmp\" && mv \"\$0.tmp\" \"\$0\" && while [ ! -e \"\$1\" ]; do sleep 0.1; done" "$0" "$1"' \
		"$d/step-$s" "$d/go" &
	for i in $(seq 300); do [ -e "$d/step-$s" ] && break; sleep 0.1; done  # a failed step must not hang the job
done
srun --overlap -n1 genv devices >"$d/job-devices" 2>&1
srun --overlap -n1 printenv SLURM_STEP_GPUS >"$d/job-gpus"
touch "$d/go"
wait
echo "$SLURM_JOB_ID" >"$d/id"
EOF

# The same in a 2-GPU batch job (SLURM_JOB_GPUS names the job's): the batch
# shell holds the job's first GPU through genv, then a 1-GPU step (Slurm
# knows nothing of genv) may hand out only its own GPU.
cat >"$TRASH/fewer-batch.sh" <<'EOF'
#!/bin/bash
d=$1
genv exec --gpus 1 sh -c \
	'printenv CUDA_VISIBLE_DEVICES >"$0/held.tmp" && mv "$0/held.tmp" "$0/held"; while [ ! -e "$0/go" ]; do sleep 0.1; done' "$d" &
while [ ! -e "$d/held" ]; do sleep 0.1; done
srun --gres=gpu:1 sh -c 'printenv SLURM_STEP_GPUS >"$0/step-gpus"; genv devices >"$0/step-devices" 2>&1;
	genv exec --gpus 1 printenv CUDA_VISIBLE_DEVICES >"$0/step-exec.out" 2>&1; echo $? >"$0/step-exec.rc"' "$d"
touch "$d/go"
wait
srun --gres=gpu:1 sh -c 'printenv SLURM_STEP_GPUS >"$0/step2-gpus"; genv exec --gpus 1 printenv CUDA_VISIBLE_DEVICES >"$0/step2-cvd"' "$d"
printenv SLURM_JOB_GPUS >"$d/job-gpus"
echo "$SLURM_JOB_ID" >"$d/id"
EOF
chmod 755 "$TRASH/fewer-batch.sh"

# A 2-GPU job with the fake NVML honouring the device nodes (devnodes): in
# cgroup mode a step may open only the job's nodes, so NVML shows only its
# 2 GPUs, numbered 0 and 1, as the driver does; genv matches them by minor
# number. GENV_FAKE_NVML_CONFIG is the test's devnodes copy; the steps are
# two-steps.sh's.
cat >"$TRASH/devnodes.sh" <<'EOF'
set -u
d=$1 two_steps=$2
srun --overlap -n1 env -u SLURM_JOB_ID GENV_TMPDIR="$d/nvml-view" genv devices >"$d/nvml-view.out" 2>&1
srun --overlap -n1 genv devices >"$d/step-devices" 2>&1
bash "$two_steps" "$d"
# a process on the job's second GPU is on the job's device 1
sleep 60 & p=$!
echo "proc $(cut -d, -f2 "$d/job-gpus") $p 100" >>"$GENV_FAKE_NVML_CONFIG"
srun --overlap -n1 genv usage snapshot --type processes >"$d/procs" 2>&1
kill $p
echo "$p" >"$d/pid"
EOF

# One of two 2-GPU batch jobs at once: the batch shell and a step.
cat >"$TRASH/batch.sh" <<'EOF'
#!/bin/bash
d=$1 name=$2
genv devices >"$d/devices-$name" 2>&1
genv exec --name "$name" --gpus 2 sh -c \
	'printf "%s\n" "$CUDA_VISIBLE_DEVICES" >"$0/cvd-$1"; genv envs ps --format csv --no-header >"$0/envs-$1"; touch "$0/ready-$1"; while [ ! -e "$0/go" ]; do sleep 0.1; done' \
	"$d" "$name"
srun genv exec --gpus 1 printenv CUDA_VISIBLE_DEVICES >"$d/step-$name"
printenv SLURM_JOB_GPUS >"$d/gpus-$name"
printenv CUDA_VISIBLE_DEVICES >"$d/slurm-cvd-$name"
echo "$SLURM_JOB_ID" >"$d/id-$name"
EOF
chmod 755 "$TRASH/batch.sh"

run_mode() {
	local mode=$1 d
	slurm_stop
	rm -rf "$TRASH/slurm"
	mkdir -p "$TRASH/slurm"
	start=$(date +%s%N)
	slurm_start "$TRASH/slurm" "$mode"
	case $? in
	0) echo "# $mode: cluster up in $((($(date +%s%N) - start) / 1000000)) ms" ;;
	*) echo "# $TEST_NAME ($mode): skipped: the Slurm cluster did not start:"; tail -n 3 "$TRASH"/slurm/*.out "$TRASH"/slurm/*.log | sed "s/^/#   /"; return ;;
	esac

	d="$TRASH/$mode-1"
	mkdir -p "$d"
	test_expect_success "$mode: salloc with 2 GPUs: its command is in job mode, from scontrol" '
		salloc --gres=gpu:2 -n1 bash "$TRASH/two-steps.sh" "$d" 2>"$d/salloc.err" &&
		id=$(cat "$d/id") &&
		grep "^Slurm job $id: device 0 = node GPU [0-3], device 1 = node GPU [0-3] (from scontrol show job -d); state in $GENV_TMPDIR/slurm/job-$id\$" "$d/salloc-devices" &&
		grep "^ok    slurm    job mode, job $id: node GPU [0-3], node GPU [0-3] (from scontrol show job -d); state $GENV_TMPDIR/slurm/job-$id\$" "$d/salloc-doctor" &&
		grep "^ok    slurm    job mode, job $id: node GPU [0-3], node GPU [0-3] (from scontrol show job -d); state $GENV_TMPDIR/slurm/job-$id\$" "$d/step-doctor"
	'
	test_expect_success "$mode: two genv exec --gpus 1 steps get different GPUs, both the job's" '
		a=$(cat "$d/step-a") && b=$(cat "$d/step-b") &&
		test "$a" != "$b" &&
		job=$(uuids "$(cat "$d/job-gpus")") &&
		case ",$job," in *",$a,"*) ;; *) false ;; esac &&
		case ",$job," in *",$b,"*) ;; *) false ;; esac
	'
	test_expect_success "$mode: a third step gets no available devices; envs shows the two" '
		test "$(cat "$d/step-c.rc")" != 0 &&
		grep -i "no available devices" "$d/step-c.out" &&
		test "$(wc -l <"$d/envs")" = 2
	'
	test_expect_success "$mode: the job kept its state apart, and the epilog removed it" '
		id=$(cat "$d/id") &&
		grep -x "job-$id" "$d/dirs" &&
		slurm_wait_gone "$GENV_TMPDIR/slurm/job-$id"
	'

	# Typed into a real terminal (tmux) only once the step's shell shows its
	# prompt: srun --pty flushes what was typed before it set up the pty.
	test_expect_success "$mode: the interactive step of salloc (a shell on a pty) is in job mode from SLURM_JOB_GPUS" '
		tm new-session -d -s "$mode" -x 200 -y 50 \
			env SHELL=/bin/sh PS1="job-shell\$ " salloc --gres=gpu:1 -n1 &&
		test_wait_for 30 eval "last_line $mode | grep -q ^job-shell" &&
		run "$mode" 1 "genv exec --gpus 1 printenv CUDA_VISIBLE_DEVICES SLURM_JOB_GPUS SLURM_JOB_ID; genv devices" &&
		pane "$mode" >"$d/interactive" &&
		type_line "$mode" exit &&
		test_wait_for 15 eval "! tm has-session -t $mode 2>/dev/null" &&
		id=$(sed -n "s/^salloc: Granted job allocation //p" "$d/interactive") &&
		grep "^Slurm job $id: device 0 = node GPU \([0-3]\) (from SLURM_JOB_GPUS); state in $GENV_TMPDIR/slurm/job-$id\$" "$d/interactive" &&
		gpu=$(grep -A1 "^GPU-" "$d/interactive" | sed -n 2p) &&
		grep -x "$(uuid "$gpu")" "$d/interactive"
	'

	d="$TRASH/$mode-devnodes"
	mkdir -p "$d"
	{ grep -v "^proc " "$GENV_FAKE_NVML_CONFIG"; echo "devnodes $TRASH/slurm/dev"; } >"$d/gpus.conf"
	test_expect_success "$mode: fake NVML honouring device nodes: a 2-GPU job's steps" '
		GENV_FAKE_NVML_CONFIG="$d/gpus.conf" salloc --gres=gpu:2 -n1 bash "$TRASH/devnodes.sh" "$d" "$TRASH/two-steps.sh" 2>"$d/salloc.err" &&
		id=$(cat "$d/id") && gpus=$(cat "$d/job-gpus") &&
		if [ "$mode" = cgroup ]; then n=2; else n=4; fi &&
		test "$(grep -cE "^[0-9]+ " "$d/nvml-view.out")" = $n &&
		grep "^Slurm job $id: device 0 = node GPU ${gpus%,*}, device 1 = node GPU ${gpus#*,} (from scontrol show job -d); state in $GENV_TMPDIR/slurm/job-$id\$" "$d/step-devices" &&
		grep "^ok    slurm    job mode, job $id: node GPU ${gpus%,*}, node GPU ${gpus#*,} (from scontrol show job -d)" "$d/step-doctor" &&
		a=$(cat "$d/step-a") && b=$(cat "$d/step-b") && test "$a" != "$b" &&
		job=$(uuids "$gpus") &&
		case ",$job," in *",$a,"*) ;; *) false ;; esac &&
		case ",$job," in *",$b,"*) ;; *) false ;; esac &&
		test "$(cat "$d/step-c.rc")" != 0 &&
		grep -i "no available devices" "$d/step-c.out" &&
		jq -c "[.processes[] | [.pid, .used_gpu_memory[].index]]" "$d/procs" >got &&
		echo "[[$(cat "$d/pid"),1]]" >want && test_cmp want got
	'

	d="$TRASH/$mode-2"
	mkdir -p "$d"
	test_expect_success "$mode: two 2-GPU sbatch jobs at once: disjoint GPUs, separate state" '
		sbatch -Q --gres=gpu:2 -n1 -o "$d/out-A" "$TRASH/batch.sh" "$d" A &&
		sbatch -Q --gres=gpu:2 -n1 -o "$d/out-B" "$TRASH/batch.sh" "$d" B &&
		wait_file "$d/ready-A" && wait_file "$d/ready-B" &&
		ls "$GENV_TMPDIR/slurm" >"$d/dirs" &&
		touch "$d/go" &&
		wait_file "$d/id-A" && wait_file "$d/id-B" &&
		test "$(wc -l <"$d/dirs")" = 2 &&
		grep -x "job-$(cat "$d/id-A")" "$d/dirs" &&
		grep -x "job-$(cat "$d/id-B")" "$d/dirs" &&
		test "$(cat "$d/cvd-A")" = "$(uuids "$(cat "$d/gpus-A")")" &&
		test "$(cat "$d/cvd-B")" = "$(uuids "$(cat "$d/gpus-B")")" &&
		cat "$d/gpus-A" "$d/gpus-B" | tr , "\n" | sort | uniq -d >"$d/common" &&
		test ! -s "$d/common" &&
		grep ",A," "$d/envs-A" && ! grep ",B," "$d/envs-A" &&
		grep ",B," "$d/envs-B" && ! grep ",A," "$d/envs-B"
	'
	test_expect_success "$mode: the batch shell is in job mode from SLURM_JOB_GPUS; a step gets one of them" '
		grep "(from SLURM_JOB_GPUS)" "$d/devices-A" &&
		job=$(uuids "$(cat "$d/gpus-A")") &&
		s=$(cat "$d/step-A") && test -n "$s" &&
		case ",$job," in *",$s,"*) ;; *) false ;; esac
	'
	if [ "$mode" = cgroup ]; then
		test_expect_success "cgroup: Slurm renumbered CUDA_VISIBLE_DEVICES of a job (genv gave UUIDs)" '
			test "$(cat "$d/slurm-cvd-A")" != "$(cat "$d/gpus-A")" ||
			test "$(cat "$d/slurm-cvd-B")" != "$(cat "$d/gpus-B")"
		'
	fi
	test_expect_success "$mode: the epilog removed both jobs' state" '
		slurm_wait_gone "$GENV_TMPDIR/slurm/job-$(cat "$d/id-A")" &&
		slurm_wait_gone "$GENV_TMPDIR/slurm/job-$(cat "$d/id-B")"
	'
	d="$TRASH/$mode-3"
	mkdir -p "$d"
	test_expect_success "$mode: two 1-GPU steps of a 2-GPU salloc: each gets its own GPU, the job's state keeps both" '
		salloc --gres=gpu:2 -n2 bash "$TRASH/fewer-salloc.sh" "$d" 2>"$d/salloc.err" &&
		check_fewer_salloc "$d"
	'
	d="$TRASH/$mode-3n"
	mkdir -p "$d"
	# in cgroup mode each step sees only its own GPU through NVML
	test_expect_success "$mode: the same with the fake NVML honouring device nodes" '
		GENV_FAKE_NVML_CONFIG="$TRASH/$mode-devnodes/gpus.conf" \
			salloc --gres=gpu:2 -n2 bash "$TRASH/fewer-salloc.sh" "$d" 2>"$d/salloc.err" &&
		check_fewer_salloc "$d"
	'
	d="$TRASH/$mode-4"
	mkdir -p "$d"
	test_expect_success "$mode: a 1-GPU step of a 2-GPU batch job hands out only its own GPU" '
		sbatch -W -Q --gres=gpu:2 -n1 -o "$d/out" "$TRASH/fewer-batch.sh" "$d" &&
		first=$(cut -d, -f1 "$d/job-gpus") && step=$(cat "$d/step-gpus") &&
		test "$(cat "$d/held")" = "$(uuid "$first")" &&
		case ",$(cat "$d/job-gpus")," in *",$step,"*) ;; *) false ;; esac &&
		grep "(from SLURM_JOB_GPUS); this step: node GPU $step only (SLURM_STEP_GPUS); state in" "$d/step-devices" &&
		if [ "$step" = "$first" ]; then
			test "$(cat "$d/step-exec.rc")" != 0 &&
			grep -x "No available devices" "$d/step-exec.out" &&
			grep "^requested 1 GPU, 0 of 1 available" "$d/step-exec.out"
		else
			test "$(cat "$d/step-exec.out")" = "$(uuid "$step")"
		fi &&
		test "$(cat "$d/step2-cvd")" = "$(uuid "$(cat "$d/step2-gpus")")"
	'
	test_expect_success "$mode: a crashed job's state is swept by the next job's first command" '
		touch "$TRASH/no-epilog" &&
		srun --gres=gpu:1 bash -c "genv devices >/dev/null && echo \$SLURM_JOB_ID" >"$d/crashed" &&
		crashed=$(cat "$d/crashed") &&
		sleep 0.5 && test -d "$GENV_TMPDIR/slurm/job-$crashed" &&
		rm "$TRASH/no-epilog" &&
		srun --gres=gpu:1 bash -c "genv devices >/dev/null && ls \"\$GENV_TMPDIR/slurm\"" >"$d/after" &&
		! grep -x "job-$crashed" "$d/after" &&
		test ! -e "$GENV_TMPDIR/slurm/job-$crashed"
	'
}

# check_fewer_salloc DIR: what fewer-salloc.sh found in DIR
check_fewer_salloc() {
	local d=$1 id a b s
	id=$(cat "$d/id") && a=$(cat "$d/step-a-gpus") && b=$(cat "$d/step-b-gpus") &&
	test "$a" != "$b" && case "$a$b" in *,*) false ;; esac &&
	test "$(echo "$a,$b" | tr , "\n" | sort -n | paste -sd,)" = "$(cat "$d/job-gpus")" &&
	test "$(cat "$d/step-a")" = "$(uuid "$a")" &&
	test "$(cat "$d/step-b")" = "$(uuid "$b")" &&
	for s in a b; do
		grep "^Slurm job $id: device 0 = node GPU [0-3], device 1 = node GPU [0-3] (from scontrol show job -d); this step: node GPU $(cat "$d/step-$s-gpus") only (SLURM_STEP_GPUS); state in $GENV_TMPDIR/slurm/job-$id\$" \
			"$d/step-$s-devices" || return 1
	done &&
	grep "^Slurm job $id: device 0 = node GPU [0-3], device 1 = node GPU [0-3] (from scontrol show job -d); state in" "$d/job-devices" &&
	test "$(grep -cE "^[01] +[0-9]+ " "$d/job-devices")" = 2
}

# slurm_wait_gone PATH: the epilog runs once the job has ended
slurm_wait_gone() { local i; for i in $(seq 100); do [ -e "$1" ] || return 0; sleep 0.1; done; return 1; }

test_expect_success 'outside a job nothing changes: genv devices has no job line' '
	genv devices >out &&
	! grep Slurm out && test "$(wc -l <out)" = 5
'

test_expect_success 'in a job, GPU processes are the job'"'"'s GPUs'"'"', by their index in the job' '
	cp "$GENV_FAKE_NVML_CONFIG" gpus.saved &&
	sleep 100 & p=$! &&
	printf "proc 3 %d 1000\nproc 0 %d 500\n" $p $$ >>"$GENV_FAKE_NVML_CONFIG" &&
	SLURM_JOB_ID=999 SLURM_STEP_GPUS=1,3 genv usage snapshot --type processes >in-job &&
	genv usage snapshot --type processes >outside &&
	kill $p && cp gpus.saved "$GENV_FAKE_NVML_CONFIG" &&
	jq -c "[.processes[] | [.pid, .used_gpu_memory[].index]]" in-job >got &&
	echo "[[$p,1]]" >want && test_cmp want got &&
	jq -c "[.processes[] | [.pid, .used_gpu_memory[].index]] | sort" outside >got &&
	echo "[[$$,0],[$p,3]]" | jq -c sort >want && test_cmp want got &&
	rm -rf "$GENV_TMPDIR/slurm"
'

run_mode none
if slurm_cgroup_possible; then
	run_mode cgroup
else
	echo "# $TEST_NAME: cgroup mode skipped: no writable cgroup v1 devices controller here"
fi
slurm_stop
test_done
