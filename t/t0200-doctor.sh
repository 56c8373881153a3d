#!/bin/bash
# t0200: genv doctor: one line per check, exit 0 when nothing FAILs; the
# NVML checks against the fake library (healthy, missing library, init
# error), the state directory, the caller's shell integration.
. "$(dirname "$0")/lib.sh"

fake_gpus 2
mkdir -p "$HOME"

test_expect_success 'healthy: driver, devices, state; exit 0' '
	genv devices >/dev/null &&
	SHELL=/bin/bash genv doctor >out &&
	grep -Fx "ok    nvml     NVML loaded, driver 550.54.15" out &&
	grep -Fx "ok    devices  2 GPUs: 0 NVIDIA Fake GPU, 1 NVIDIA Fake GPU" out &&
	mode=$(stat -c %a "$GENV_TMPDIR") &&
	grep -E "^ok    state    $GENV_TMPDIR: mode 0?$mode, owner $(id -un), " out &&
	grep -q "^\(ok  \|warn\)  enforce  " out &&
	test "$(cut -c7-13 out | tr -d " " | paste -sd" ")" = "nvml devices state shell enforce"
'

test_expect_success 'shell integration: missing (with the fix), then found' '
	SHELL=/bin/bash genv doctor >out &&
	grep -Fx "warn  shell    bash: no genv integration in its startup files; fix: install the package (it ships the snippets), or add '"'"'eval \"\$(genv shell --init)\"'"'"' to ~/.bashrc" out &&
	echo "command -v genv >/dev/null && eval \"\$(genv shell --init)\"" >"$HOME/.bashrc" &&
	SHELL=/bin/bash genv doctor >out &&
	grep -Fx "ok    shell    bash: integration in $HOME/.bashrc" out &&
	SHELL=/usr/bin/fish genv doctor >out &&
	grep -q "^warn  shell    fish: no genv integration.*genv shell --init fish | source" out &&
	SHELL=/bin/tcsh genv doctor >out &&
	grep -q "^warn  shell    shell .tcsh. has no genv integration" out
'

test_expect_success 'no NVML library: FAIL with the fix, exit 1' '
	test_expect_code 1 env GENV_NVML_LIBRARY=$TRASH/none/libnvidia-ml.so.1 genv doctor >out &&
	grep -q "^FAIL  nvml     NVIDIA driver not found: .*; fix: install the NVIDIA driver" out &&
	! grep -q "devices" out &&
	grep -q "^ok    state" out
'

test_expect_success 'NVML init error: FAIL naming it, exit 1' '
	echo "init_error 9" >>"$GENV_FAKE_NVML_CONFIG" &&
	test_expect_code 1 genv doctor >out &&
	grep -q "^FAIL  nvml     NVML initialisation failed: .*(code 9); fix: " out
'

test_expect_success 'state directory not there yet: ok, genv makes it' '
	fake_gpus 1 &&
	GENV_TMPDIR=$TRASH/fresh genv doctor >out &&
	grep -Fx "ok    state    $TRASH/fresh does not exist yet (genv creates it at its first command)" out &&
	test ! -e "$TRASH/fresh"
'

test_expect_success 'usage errors' '
	test_expect_code 2 genv doctor extra 2>err &&
	grep -q "unrecognized arguments: extra" err &&
	genv doctor --help >out && grep -q "FAIL" out
'

test_done
