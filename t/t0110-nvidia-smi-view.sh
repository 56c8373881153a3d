#!/bin/bash
# t0110: the environment's own view of nvidia-smi through the shim, with
# the project's fake nvidia-smi (t/helpers/fake-nvidia-smi) answering from
# the fake NVML inventory in both table layouts: the memory cell shows the
# environment's usage against its capacity, other environments' processes
# are hidden, warnings follow the table, query modes and GENV_BYPASS pass
# through, and nvidia-smi's exit status is kept.
# shellcheck disable=SC2016,SC2034  # test bodies are strings eval'ed by lib.sh
. "$(dirname "$0")/lib.sh"

SHIMS="$BUILD/libexec/genv/shims"
REAL="$TRASH/realbin"
mkdir -p "$REAL"
ln -s "$T_DIR/helpers/fake-nvidia-smi" "$REAL/nvidia-smi"
export PATH="$SHIMS:$REAL:$PATH"
fake_gpus 3 16384

# Processes of this environment ("mine") and of another one ("theirs").
GENV_ENVIRONMENT_ID=mine sleep 1000 &
MINE=$!
GENV_ENVIRONMENT_ID=theirs sleep 1000 &
THEIRS=$!
sleep 1000 &
NOENV=$!
test_track_pid $MINE $THEIRS $NOENV
fake_proc 0 $MINE 1000
fake_proc 1 $MINE 24
fake_proc 0 $THEIRS 3000
fake_proc 1 $NOENV 512
fake_proc 2 $THEIRS 100

# in_env CMD...: CMD in environment "mine" attached to GPUs 0 and 1, capacity 2g
in_env() {
	GENV_ENVIRONMENT_ID=mine CUDA_VISIBLE_DEVICES=0,1 GENV_GPU_MEMORY=2g "$@"
}

# widths FILE: the distinct line lengths of the table part of FILE
widths() { sed -n '2,/^+-*+$/p;/Processes:/,/^+-*+$/p' "$1" | awk '{ print length($0) }' | sort -u; }

for layout in classic wide; do
	if [ $layout = classic ]; then W=79; else W=91; fi
	export FAKE_NVIDIA_SMI_LAYOUT=$layout

	test_expect_success "$layout: own usage against the capacity, other processes hidden" '
		in_env nvidia-smi >out &&
		if [ $layout = classic ]; then
			grep -qF "|   1000MiB /  1907MiB |" out && grep -qF "|     24MiB /  1907MiB |" out
		else
			grep -qF "|    1000MiB /   1907MiB |" out && grep -qF "|      24MiB /   1907MiB |" out
		fi &&
		test $(grep -c sleep out) = 2 &&
		grep -q " $MINE " out && ! grep -q " $THEIRS " out && ! grep -q " $NOENV " out &&
		! grep -q "No running processes found" out &&
		widths out >w && echo $W >want && test_cmp want w &&
		! grep -q WARNING out
	'

	test_expect_success "$layout: over capacity: the warning after the table" '
		GENV_ENVIRONMENT_ID=mine CUDA_VISIBLE_DEVICES=0 GENV_GPU_MEMORY=512mi nvidia-smi >out &&
		tail -n 4 out >tail &&
		{ echo "+$(printf "%*s" $((W - 2)) "" | tr " " -)+" &&
		  echo &&
		  echo "WARNING: The GPU memory usage for this environment has exceeded the set capacity of 512mi" &&
		  echo; } >want &&
		test_cmp want tail
	'

	test_expect_success "$layout: none of the processes is ours: No running processes found" '
		GENV_ENVIRONMENT_ID=mine CUDA_VISIBLE_DEVICES=2 GENV_GPU_MEMORY=1g nvidia-smi >out &&
		grep "MiB /" out | grep -q " 0MiB /" &&
		printf "|  %-*s|\n" $((W - 4)) "No running processes found" >want &&
		grep -F "No running" out >got && test_cmp want got &&
		! grep -q sleep out && widths out >w && echo $W >want && test_cmp want w
	'

	test_expect_success "$layout: no process information at all: N/A and the warning" '
		FAKE_NVIDIA_SMI_HIDE_PROCESSES=1 in_env nvidia-smi >out &&
		test $(grep -c "   N/A MiB /" out) = 2 &&
		tail -n 7 out >tail &&
		{ echo "+$(printf "%*s" $((W - 2)) "" | tr " " -)+" &&
		  echo &&
		  echo "WARNING: Missing information about running processes. Cannot calculate GPU memory usage." &&
		  echo &&
		  echo "If you are running in a container, using the host pid namespace would solve this." &&
		  echo "This could be done by passing '\''--pid host'\'' to the '\''docker run'\'' command." &&
		  echo; } >want &&
		test_cmp want tail
	'
done
unset FAKE_NVIDIA_SMI_LAYOUT

test_expect_success 'classic table: exactly 1.4.3 lines for the memory cells and rows' '
	FAKE_NVIDIA_SMI_LAYOUT=classic in_env nvidia-smi >out &&
	FAKE_NVIDIA_SMI_LAYOUT=classic GENV_BYPASS=1 nvidia-smi --id=0,1 >raw &&
	sed -e "s/|   4000MiB \/ 16384MiB |/|   1000MiB \/  1907MiB |/" \
	    -e "s/|    536MiB \/ 16384MiB |/|     24MiB \/  1907MiB |/" \
	    -e "/ $THEIRS /d" -e "/ $NOENV /d" raw >want &&
	test_cmp want out
'

test_expect_success 'through genv exec: the environment it creates sees its own process' '
	cp "$GENV_FAKE_NVML_CONFIG" exec.conf &&
	GENV_FAKE_NVML_CONFIG=$TRASH/exec.conf genv exec --gpus 1 --gpu-memory 2g -- sh -c "
		sleep 1000 & echo \$! >pid
		echo \"proc 0 \$! 700\" >>\"\$GENV_FAKE_NVML_CONFIG\"
		nvidia-smi" >out &&
	test_track_pid $(cat pid) &&
	grep -qF "|     700MiB /   1907MiB |" out &&
	grep -q " $(cat pid) " out && ! grep -q " $THEIRS " out
'

test_expect_success 'query modes pass through with only --id added' '
	in_env nvidia-smi --query-gpu=index,memory.used --format=csv >out &&
	GENV_BYPASS=1 nvidia-smi --id=0,1 --query-gpu=index,memory.used --format=csv >want &&
	test_cmp want out &&
	printf "index, memory.used\n0, 4000 MiB\n1, 536 MiB\n" >want &&
	test_cmp want out &&
	in_env nvidia-smi --query-compute-apps=pid --format=csv,noheader >out &&
	printf "%s\n" $MINE $MINE $THEIRS $NOENV >want &&
	test_cmp want out &&
	in_env nvidia-smi -L >out &&
	test $(wc -l <out) = 2
'

test_expect_success 'GENV_BYPASS=1 is transparent' '
	GENV_BYPASS=1 nvidia-smi >want &&
	GENV_BYPASS=1 in_env nvidia-smi >out &&
	test_cmp want out &&
	grep -q " $THEIRS " out
'

test_expect_success 'outside an environment the table is not rewritten' '
	CUDA_VISIBLE_DEVICES=0,1 nvidia-smi >out &&
	GENV_BYPASS=1 nvidia-smi --id=0,1 >want &&
	test_cmp want out
'

test_expect_success 'the exit status and the message of nvidia-smi are kept' '
	GENV_FAKE_NVML_CONFIG=$TRASH/nothing test_expect_code 9 in_env nvidia-smi >out &&
	grep -q "NVIDIA-SMI has failed" out &&
	test_expect_code 2 in_env nvidia-smi --bogus >out &&
	grep -q "Invalid combination" out
'

test_expect_success 'nvidia-smi -l: each table shows as soon as it is complete' '
	FAKE_NVIDIA_SMI_LOOPS=2 in_env nvidia-smi -l 3 >out &
	pid=$!
	test_track_pid $pid &&
	test_wait_for 10 grep -q "^|=*|$" out &&
	test_wait_for 10 grep -q " $MINE " out &&
	kill -0 $pid &&
	wait $pid &&
	test $(grep -c "^|=*|$" out) = 2 &&
	test $(grep -c " $MINE " out) = 4
'

test_expect_success 'a closed stdout does not hang the shim' '
	in_env nvidia-smi | head -n 1 >out &&
	test $(wc -l <out) = 1
'

test_done
