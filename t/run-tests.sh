#!/bin/sh
# t/run-tests.sh: runs the cmocka unit tests, then every end-to-end script
# t/tNNNN-*.sh (or only those named on the command line), and ends with
# one "N passed, N failed" line for the whole run.
: "${BUILD:?set BUILD to the build directory}"
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
failed_names=""
# unit tests that need NVML load this fake through genv's dlopen path
GENV_TEST_FAKE_NVML="$BUILD/t/fake-nvml/libnvidia-ml.so.1"
export GENV_TEST_FAKE_NVML

for t in "$BUILD"/t/unit/test-*; do
	[ -x "$t" ] || continue
	[ $# -gt 0 ] && continue
	echo "== unit: $(basename "$t")"
	if "$t"; then passed=$((passed + 1)); else
		failed=$((failed + 1)); failed_names="$failed_names $(basename "$t")"; fi
done

if [ $# -gt 0 ]; then scripts="$*"; else scripts=$(ls t/t[0-9]*.sh); fi
for s in $scripts; do
	echo "== $s"
	out=$(BUILD="$BUILD" bash "$s" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	n_ok=$(printf '%s\n' "$out" | grep -c '^ok ')
	n_bad=$(printf '%s\n' "$out" | grep -c '^not ok ')
	passed=$((passed + n_ok))
	failed=$((failed + n_bad))
	if [ $rc -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		failed=$((failed + 1))
		echo "# $s exited $rc without a failed test"
	fi
	[ $rc -ne 0 ] && failed_names="$failed_names $s"
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
