#!/bin/bash
# t0100: genv called as nvidia-smi (the shim `genv activate` puts first on
# PATH) finds the real nvidia-smi on PATH and runs it limited to the
# environment's GPUs. A stand-in nvidia-smi script prints what it got.
# shellcheck disable=SC2016,SC2034  # test bodies are strings eval'ed by lib.sh
. "$(dirname "$0")/lib.sh"

SHIMS="$BUILD/libexec/genv/shims"
REAL="$TRASH/realbin"
mkdir -p "$REAL" "$TRASH/empty"
cat >"$REAL/nvidia-smi" <<'EOF'
#!/bin/sh
echo "argv0=$0"
for a in "$@"; do printf 'arg=%s\n' "$a"; done
exit "${FAKE_SMI_EXIT:-0}"
EOF
chmod +x "$REAL/nvidia-smi"
SHIM_PATH="$SHIMS:$REAL:$PATH"

# expect LINES...: the stand-in's report for the given arguments
expect() {
	echo "argv0=$REAL/nvidia-smi"
	for a in "$@"; do printf 'arg=%s\n' "$a"; done
}

test_expect_success 'the build installs the shim as a link to genv' '
	test -L "$SHIMS/nvidia-smi" &&
	test "$(readlink -f "$SHIMS/nvidia-smi")" = "$(readlink -f "$BUILD/bin/genv")"
'

test_expect_success 'not attached (no CUDA_VISIBLE_DEVICES): arguments pass through' '
	PATH=$SHIM_PATH nvidia-smi -q --format=csv >out &&
	expect -q --format=csv >want &&
	test_cmp want out
'

test_expect_success 'attached: --id=CUDA_VISIBLE_DEVICES comes first' '
	CUDA_VISIBLE_DEVICES=0,2 PATH=$SHIM_PATH nvidia-smi --query-gpu=index --format=csv >out &&
	expect --id=0,2 --query-gpu=index --format=csv >want &&
	test_cmp want out
'

test_expect_success 'no arguments at all' '
	CUDA_VISIBLE_DEVICES=1 PATH=$SHIM_PATH nvidia-smi >out &&
	expect --id=1 >want &&
	test_cmp want out
'

test_expect_success 'arguments reach nvidia-smi verbatim (no shell in between)' '
	CUDA_VISIBLE_DEVICES=3 PATH=$SHIM_PATH nvidia-smi "a b" "\$(touch pwned)" "*" "" "it'\''s" >out &&
	expect --id=3 "a b" "\$(touch pwned)" "*" "" "it'\''s" >want &&
	test_cmp want out &&
	test ! -e pwned
'

test_expect_success 'the user chose devices with -i/--id: no --id added' '
	for opt in "-i 1" "-i1" "--id 1" "--id=1"; do
		CUDA_VISIBLE_DEVICES=0 PATH=$SHIM_PATH nvidia-smi -L $opt >out &&
		expect -L $opt >want &&
		test_cmp want out || return 1
	done
'

test_expect_success 'GENV_BYPASS=1 passes through, GENV_BYPASS=0 does not' '
	GENV_BYPASS=1 CUDA_VISIBLE_DEVICES=0 PATH=$SHIM_PATH nvidia-smi -L >out &&
	expect -L >want &&
	test_cmp want out &&
	GENV_BYPASS=0 CUDA_VISIBLE_DEVICES=0 PATH=$SHIM_PATH nvidia-smi -L >out &&
	expect --id=0 -L >want &&
	test_cmp want out
'

test_expect_success 'GENV_BYPASS that is not an integer is an error' '
	GENV_BYPASS=yes CUDA_VISIBLE_DEVICES=0 PATH=$SHIM_PATH test_expect_code 1 nvidia-smi -L >out 2>err &&
	test ! -s out &&
	echo "nvidia-smi (genv shim): GENV_BYPASS must be an integer, not '\''yes'\''" >want &&
	test_cmp want err
'

test_expect_success 'detached (CUDA_VISIBLE_DEVICES=-1 or empty): no devices, exit 6' '
	for cvd in -1 ""; do
		CUDA_VISIBLE_DEVICES=$cvd PATH=$SHIM_PATH test_expect_code 6 nvidia-smi -L >out 2>err &&
		echo "No devices were found" >want &&
		test_cmp want out &&
		test ! -s err || return 1
	done
'

test_expect_success 'the exit status of the real nvidia-smi is kept' '
	FAKE_SMI_EXIT=9 CUDA_VISIBLE_DEVICES=0 PATH=$SHIM_PATH test_expect_code 9 nvidia-smi >out &&
	expect --id=0 >want &&
	test_cmp want out
'

test_expect_success 'no real nvidia-smi on PATH' '
	PATH="$SHIMS:$TRASH/empty" test_expect_code 1 "$SHIMS/nvidia-smi" -L >out 2>err &&
	test ! -s out &&
	echo "Could not find the path of '\''nvidia-smi'\''" >want &&
	test_cmp want err
'

test_expect_success 'the shim dir reached through a symlink is skipped too' '
	ln -s "$SHIMS" "$TRASH/shims-link" &&
	CUDA_VISIBLE_DEVICES=0 PATH="$TRASH/shims-link:$SHIMS:$REAL" "$TRASH/shims-link/nvidia-smi" -L >out &&
	expect --id=0 -L >want &&
	test_cmp want out
'

test_expect_success 'another link to genv on PATH is not taken for the real one' '
	mkdir -p "$TRASH/other" &&
	ln -s "$BUILD/bin/genv" "$TRASH/other/nvidia-smi" &&
	CUDA_VISIBLE_DEVICES=0 PATH="$SHIMS:$TRASH/other:$REAL" nvidia-smi -L >out &&
	expect --id=0 -L >want &&
	test_cmp want out &&
	PATH="$SHIMS:$TRASH/other:$TRASH/empty" test_expect_code 1 nvidia-smi -L 2>err &&
	grep "Could not find the path of" err
'

# (a hard link has its own path: only its identity shows it is genv; the
# timeout ends the exec loop a shim taking itself for the real one makes)
test_expect_success 'a hard link of genv on PATH, and the shim dir spelled with .., are skipped' '
	mkdir -p "$TRASH/hard" &&
	if ln "$(readlink -f "$BUILD/bin/genv")" "$TRASH/hard/nvidia-smi" 2>/dev/null; then
		CUDA_VISIBLE_DEVICES=0 timeout 10 env PATH="$SHIMS:$TRASH/hard:$REAL" nvidia-smi -L >out &&
		expect --id=0 -L >want &&
		test_cmp want out
	fi &&
	CUDA_VISIBLE_DEVICES=0 PATH="$SHIMS/../shims:$REAL" "$SHIMS/nvidia-smi" -L >out &&
	expect --id=0 -L >want &&
	test_cmp want out
'

# Two genvs on PATH (two installs): each one's shim, left alone, finds the
# other as the real nvidia-smi; the second starts where the first stopped.
test_expect_success 'the shims of two different genvs on PATH reach the real one' '
	mkdir -p "$TRASH/genv-a" "$TRASH/genv-b" &&
	cp "$(readlink -f "$BUILD/bin/genv")" "$TRASH/genv-a/genv" &&
	cp "$(readlink -f "$BUILD/bin/genv")" "$TRASH/genv-b/genv" &&
	ln -s genv "$TRASH/genv-a/nvidia-smi" && ln -s genv "$TRASH/genv-b/nvidia-smi" &&
	CUDA_VISIBLE_DEVICES=0 timeout 10 env PATH="$TRASH/genv-a:$TRASH/genv-b:$REAL" \
		nvidia-smi -L >out &&
	expect --id=0 -L >want &&
	test_cmp want out &&
	CUDA_VISIBLE_DEVICES=0 timeout 10 env PATH="$TRASH/genv-a:$TRASH/genv-b:$REAL" \
		nvidia-smi >out &&
	expect --id=0 >want &&
	test_cmp want out
'

test_expect_success 'directories and non-executables named nvidia-smi are skipped' '
	mkdir -p "$TRASH/d1/nvidia-smi" "$TRASH/d2" &&
	echo "echo wrong" >"$TRASH/d2/nvidia-smi" &&
	CUDA_VISIBLE_DEVICES=0 PATH="$SHIMS:$TRASH/d1:$TRASH/d2:$REAL" nvidia-smi >out &&
	expect --id=0 >want &&
	test_cmp want out
'

test_expect_success 'genv itself is unaffected by the name of its link' '
	genv --version >out &&
	test -s out
'

test_done
