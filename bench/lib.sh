#!/bin/bash
# bench/lib.sh: the set-up every benchmark shares, sourced by bench/*.sh
# after `set -u` and after reading its knobs:
#
#   bench_init NAME [TOOL...]   from the project's top: BUILD (exported),
#       GENV and FAKE_NVML checked, TOOLs required on PATH, a fresh WORK
#       directory, PIDS (ended and reaped on exit, with WORK removed; a
#       script's bench_teardown function, if it defines one, runs first),
#       and a clean environment (no GENV_* but the GENV_BENCH_* knobs, no
#       CUDA_VISIBLE_DEVICES or CUDA_DEVICE_ORDER; LC_ALL=C).
#   bench_fake_gpus N           this machine as genv sees it: a private
#       state directory and N fake GPUs (the fake NVML through the real
#       dlopen path), GENV_FAKE_NVML_CONFIG holding their lines.
#   bench_bg CMD...             CMD in the background, its pid in $! and PIDS.
#   bench_busy_machine [--named]  50 live environments of 10 users, all with
#       a 10g memory limit, the first 40 attached to device i % 8, each
#       with 4 live GPU processes (real sleeps, every 4th on the next
#       device); --named: named project-i too.

bench_init() {
	local name=$1 f tool
	shift
	cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
	: "${BUILD:=$PWD/build}"
	export BUILD
	GENV=$BUILD/bin/genv
	FAKE_NVML=$BUILD/t/fake-nvml/libnvidia-ml.so.1
	for f in "$GENV" "$FAKE_NVML"; do
		[ -e "$f" ] || { echo "bench/$name.sh: $f missing (run 'make all $FAKE_NVML')" >&2; exit 1; }
	done
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "bench/$name.sh: $tool not installed" >&2; exit 1; }
	done
	WORK=$(mktemp -d "/tmp/genv-bench-$name.XXXXXX") || exit 1
	PIDS=()
	trap bench_cleanup EXIT
	for f in $(env | sed -n 's/^\(GENV_[A-Za-z0-9_]*\)=.*/\1/p'); do
		case $f in GENV_BENCH_*) ;; *) unset "$f" ;; esac
	done
	unset CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER
	export LC_ALL=C
}

bench_cleanup() {
	local p
	declare -F bench_teardown >/dev/null && bench_teardown
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}

bench_fake_gpus() {
	local i
	export GENV_TMPDIR=$WORK/state GENV_NVML_LIBRARY=$FAKE_NVML GENV_FAKE_NVML_CONFIG=$WORK/gpus.conf
	for ((i = 0; i < $1; i++)); do
		printf 'gpu %d GPU-%08x-0000-4000-8000-%012d 81920 NVIDIA Fake A100\n' "$i" "$$" "$i"
	done >"$GENV_FAKE_NVML_CONFIG"
}

bench_bg() {
	"$@" &
	PIDS+=($!)
}

bench_busy_machine() {
	local i k uid
	uid=$(id -u)
	for ((i = 0; i < 50; i++)); do
		bench_bg sleep 1000
		"$GENV" envs activate --eid "env-$i" --uid "$uid" --username "user-$((i % 10))" --pid $! || exit 1
		if [ "${1:-}" = --named ]; then
			"$GENV" envs config --eid "env-$i" name --name "project-$i" || exit 1
		fi
		"$GENV" envs config --eid "env-$i" gpu-memory --gpu-memory 10g || exit 1
		if [ $i -lt 40 ]; then
			"$GENV" devices attach --eid "env-$i" --index $((i % 8)) >/dev/null || exit 1
		fi
		for ((k = 0; k < 4; k++)); do
			GENV_ENVIRONMENT_ID="env-$i" bench_bg sleep 1000
			printf 'proc %d %d %d\n' $(((i + (k == 3)) % 8)) "$!" $((1024 + 512 * k)) \
				>>"$GENV_FAKE_NVML_CONFIG"
		done
	done
	# let every sleep exec (its /proc environ is the final one only then)
	sleep 0.5
}
