# shellcheck shell=bash
# t/lib.sh: the end-to-end test library, sourced by every t/tNNNN-*.sh.
#
# Each script gets a fresh trash directory with its own state directory
# (GENV_TMPDIR), HOME and fake GPU inventory, the freshly built genv first
# on PATH, and the fake NVML library loaded through genv's real dlopen path
# (GENV_NVML_LIBRARY). Tests are written git-style:
#
#   test_expect_success 'what must hold' '
#       genv devices >out &&
#       test_cmp expect out
#   '
#
# Every process a test starts in the background is registered with
# test_track_pid and killed by pid at exit, even when the test fails.

set -u
: "${BUILD:?run through 'make test' or set BUILD to the build directory}"
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "/tmp/genv-$TEST_NAME.XXXXXX")
test_count=0
test_failed=0
test_pids=()

# A clean environment: nothing from the caller's genv session leaks in.
for v in $(env | sed -n 's/^\(GENV_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER
# nor a Slurm job the suite runs in (job mode is tested by t8000 on its own cluster)
for v in $(env | sed -n 's/^\(SLURM_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export GENV_TMPDIR="$TRASH/state"
export HOME="$TRASH/home"
export PATH="$BUILD/bin:$PATH"
export GENV_NVML_LIBRARY="$BUILD/t/fake-nvml/libnvidia-ml.so.1"
export GENV_FAKE_NVML_CONFIG="$TRASH/gpus.conf"
export LC_ALL=C
# sanitizer builds: any report is a test failure
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}"
mkdir -p "$HOME"

# Test bodies run in subshells: the pids also go to a file that the
# cleanup reads, so that a process started inside a test is ended too.
test_track_pid() {
	test_pids+=("$@")
	printf '%s\n' "$@" >>"$TRASH/.tracked-pids"
}

test_cleanup() {
	local pid
	if [ -f "$TRASH/.tracked-pids" ]; then
		while read -r pid; do test_pids+=("$pid"); done <"$TRASH/.tracked-pids"
	fi
	for pid in "${test_pids[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	for pid in "${test_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "${test_cleanup_hook:-}" ]; then eval "$test_cleanup_hook"; fi
	cd / && rm -rf "$TRASH"
}
trap test_cleanup EXIT

# as_other CMD...: CMD as another, unprivileged user (uid/gid 65534, no
# supplementary groups), through setpriv.
as_other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# test_need_other_user: ends the script, skipped, unless it runs as root
# with setpriv, which as_other needs.
test_need_other_user() {
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
		echo "# skipped: needs root and setpriv to act as another user"
		test_done
		exit
	fi
}

# fake_gpus N [MiB] [NAME]: an inventory of N identical GPUs.
fake_gpus() {
	local n=$1 mib=${2:-16384} name=${3:-NVIDIA Fake GPU} i
	: >"$GENV_FAKE_NVML_CONFIG"
	for ((i = 0; i < n; i++)); do
		printf 'gpu %d GPU-%08x-0000-4000-8000-%012d %d %s\n' \
			"$i" "$$" "$i" "$mib" "$name" >>"$GENV_FAKE_NVML_CONFIG"
	done
}
# fake_proc GPU_INDEX PID MiB: NVML reports pid using MiB on that GPU.
fake_proc() { printf 'proc %d %d %d\n' "$1" "$2" "$3" >>"$GENV_FAKE_NVML_CONFIG"; }

test_expect_success() {
	local desc=$1 body=$2 rc
	test_count=$((test_count + 1))
	(cd "$TRASH" && eval "$body") >"$TRASH/.test-output" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc"
		sed 's/^/#   /' "$TRASH/.test-output" | tail -n 40
	fi
}

# test_must_fail CMD...: CMD fails normally (exit 1..125), not by a crash.
test_must_fail() {
	"$@"
	local rc=$?
	if [ $rc -eq 0 ]; then echo "test_must_fail: '$*' succeeded" >&2; return 1; fi
	if [ $rc -gt 125 ] || [ $rc -eq 99 ]; then
		echo "test_must_fail: '$*' died (exit $rc)" >&2; return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD exits with status N.
test_expect_code() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	if [ $rc -ne "$want" ]; then echo "test_expect_code: '$*' exited $rc, want $want" >&2; return 1; fi
}

test_cmp() { diff -u "$1" "$2"; }

# test_must_be_empty FILE: FILE is empty (else shows it).
test_must_be_empty() {
	if [ -s "$1" ]; then echo "$1 is not empty:"; cat "$1"; return 1; fi
}

# retry CMD...: CMD again while /etc/passwd or /etc/group is locked by
# another test's useradd (exit 1 or 10), for up to 10 seconds.
retry() {
	local i rc
	for ((i = 0; i < 100; i++)); do
		"$@" 2>/dev/null
		rc=$?
		[ $rc -eq 1 ] || [ $rc -eq 10 ] || return $rc
		sleep 0.1
	done
	return $rc
}

# test_wait_for SECONDS CMD...: poll (every 50 ms) until CMD succeeds.
test_wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt $deadline ] || return 1
		sleep 0.05
	done
}

test_done() {
	echo "# $TEST_NAME: $((test_count - test_failed)) passed, $test_failed failed"
	[ $test_failed -eq 0 ]
}
