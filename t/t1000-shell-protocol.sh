#!/usr/bin/env bash
# t1000-shell-protocol.sh: what the binary prints for the shell function,
# byte for byte where genv 1.4.3 fixes it (activate, deactivate, reattach,
# reconfigure, --ok, the not-initialized text), and the init code itself:
# it defines the function, is idempotent and can be undone.
. "$(dirname "$0")/lib.sh"

fake_gpus 4
SHIMS=$(cd "$BUILD/libexec/genv/shims" && pwd -P)

test_expect_success 'activate --shell prints 1.4.3 activation code' '
	genv activate --shell $$ >out 2>err &&
	test ! -s err &&
	{
		echo &&
		echo "_genv_set_env GENV_SHELL 1" &&
		echo "_genv_set_env GENV_ENVIRONMENT_ID $$" &&
		echo "_genv_replace_env PATH \"$SHIMS:\$PATH\"" &&
		echo &&
		echo "eval \"\$(command genv shell --reconfigure)\"" &&
		echo "eval \"\$(command genv shell --reattach)\"" &&
		echo &&
		echo "_genv_replace_env PS1 \"(genv) \${PS1-}\""
	} >expect &&
	test_cmp expect out
'

test_expect_success 'activate registered the shell pid in envs.json' '
	grep -q "\"eid\": \"$$\"" "$GENV_TMPDIR/envs.json" &&
	grep -q "^        $$\$" "$GENV_TMPDIR/envs.json"
'

test_expect_success 'activate --no-prompt ends with the empty line after the evals' '
	genv activate --shell $$ --id np --no-prompt >out &&
	tail -n 3 out >tail &&
	printf "eval \"\$(command genv shell --reconfigure)\"\neval \"\$(command genv shell --reattach)\"\n\n" >expect &&
	test_cmp expect tail
'

test_expect_success 'deactivate --shell prints the 1.4.3 text' '
	GENV_ENVIRONMENT_ID=$$ genv deactivate --shell $$ >out &&
	printf "\n_genv_unset_envs\n_genv_restore_envs\n\n" >expect &&
	test_cmp expect out &&
	! grep -q "\"eid\": \"$$\"" "$GENV_TMPDIR/envs.json"
'

test_expect_success 'activate and deactivate without --shell: not-initialized text on stderr, exit 1' '
	cat >expect <<-\EOT &&
	Your shell is not properly initialized at the moment.
	Run the following command to initialize it.
	You should also add it to your ~/.bashrc or any equivalent file.

	    eval "$(genv shell --init)"

	EOT
	test_expect_code 1 genv activate >out 2>err &&
	test ! -s out && test_cmp expect err &&
	test_expect_code 1 genv deactivate >out 2>err &&
	test ! -s out && test_cmp expect err &&
	genv shell >out 2>err &&
	test ! -s err && test_cmp expect out
'

test_expect_success 'activate -h and deactivate --help go to stderr' '
	genv activate -h >out 2>err &&
	test ! -s out && grep -q "^usage: genv activate" err &&
	genv deactivate --help >out 2>err &&
	test ! -s out && grep -q "^usage: genv deactivate" err
'

test_expect_success 'activate when already active fails and registers nothing' '
	echo "{\"envs\": []}" >"$GENV_TMPDIR/envs.json" &&
	GENV_ENVIRONMENT_ID=x test_expect_code 1 genv activate --shell $$ --id again >out 2>err &&
	echo "Already running in an active environment" >expect &&
	test_cmp expect err && test ! -s out &&
	! grep -q again "$GENV_TMPDIR/envs.json"
'

test_expect_success 'deactivate when not active fails' '
	test_expect_code 1 genv deactivate --shell $$ >out 2>err &&
	echo "Not running in an active environment" >expect &&
	test_cmp expect err
'

test_expect_success 'shell --ok text' '
	genv shell --ok >out &&
	cat >expect <<-\EOT &&
	Your shell is initialized properly and you are all set.
	Run the following command to check the status of your environment:

	    genv status

	If you are not sure how to continue from here, check out the quick start tutorial at https://docs.genv.dev/overview/quickstart.html.

	EOT
	test_cmp expect out
'

test_expect_success 'reattach prints the attached indices (or -1) and the device order' '
	genv activate --shell $$ --id ra --gpus 2 >/dev/null &&
	GENV_ENVIRONMENT_ID=ra genv shell --reattach >out &&
	printf "_genv_replace_env CUDA_VISIBLE_DEVICES 0,1\n_genv_replace_env CUDA_DEVICE_ORDER PCI_BUS_ID\n\n" >expect &&
	test_cmp expect out &&
	genv activate --shell $$ --id none >/dev/null &&
	GENV_ENVIRONMENT_ID=none genv shell --reattach >out &&
	printf "_genv_replace_env CUDA_VISIBLE_DEVICES -1\n_genv_replace_env CUDA_DEVICE_ORDER PCI_BUS_ID\n\n" >expect &&
	test_cmp expect out &&
	test_expect_code 1 genv shell --reattach 2>err &&
	grep -q "Not running in an active environment" err
'

test_expect_success 'reconfigure sets or unsets each variable, quoting what needs it' '
	genv activate --shell $$ --id rc --name "two words" --gpu-memory 4g >/dev/null &&
	GENV_ENVIRONMENT_ID=rc genv shell --reconfigure >out &&
	cat >expect <<-\EOT &&
	_genv_set_env GENV_ENVIRONMENT_NAME '\''two words'\''
	_genv_set_env GENV_GPU_MEMORY 4g
	_genv_unset_env GENV_GPUS

	EOT
	test_cmp expect out &&
	GENV_ENVIRONMENT_ID=rc genv shell --reconfigure fish >out &&
	grep -qx "_genv_set_env GENV_ENVIRONMENT_NAME '\''two words'\''" out
'

test_expect_success 'reconfigure of an unregistered env is a clear error' '
	GENV_ENVIRONMENT_ID=nosuch test_expect_code 1 genv shell --reconfigure >out 2>err &&
	test ! -s out && grep -q "nosuch.*not registered" err
'

test_expect_success 'a failed activate leaves no env behind (1.4.3 kept it)' '
	cp "$GENV_TMPDIR/envs.json" before &&
	test_expect_code 1 genv activate --shell $$ --id greedy --gpus 9 >out 2>err &&
	printf "%s\n" "No available devices" "requested 9 GPUs, this machine has 4" >expect &&
	test_cmp expect err && test ! -s out &&
	test_cmp before "$GENV_TMPDIR/envs.json"
'

test_expect_success 'activate rejects a bad --gpu-memory and --gpus before touching state' '
	cp "$GENV_TMPDIR/envs.json" before &&
	test_expect_code 2 genv activate --shell $$ --id bad --gpu-memory 4XB 2>err &&
	grep -q "gpu-memory" err &&
	test_expect_code 2 genv activate --shell $$ --id bad --gpus two 2>err &&
	grep -q "invalid int value" err &&
	test_cmp before "$GENV_TMPDIR/envs.json"
'

test_expect_success 'an --id with shell syntax is quoted, not run' '
	genv activate --shell $$ --id "a b;\$(touch pwned)" --no-prompt >out &&
	grep -qx "_genv_set_env GENV_ENVIRONMENT_ID '\''a b;\$(touch pwned)'\''" out
'

test_expect_success 'init defines the genv function in bash and zsh, twice is harmless' '
	for sh in bash zsh; do
		$sh -c "eval \"\$(genv shell --init)\"; eval \"\$(genv shell --init)\"; genv shell" >out 2>err &&
		test ! -s err &&
		grep -q "^Your shell is initialized properly" out || exit 1
	done
'

test_expect_success 'init works guarded by command -v, with set -u' '
	bash -uc "command -v genv >/dev/null && eval \"\$(genv shell --init)\"; genv shell" >out 2>err &&
	test ! -s err && grep -q "initialized properly" out
'

test_expect_success 'fish init (genv shell --init fish | source)' '
	fish -c "genv shell --init fish | source; genv shell --init fish | source; genv shell" >out 2>err &&
	test ! -s err && grep -q "initialized properly" out
'

test_expect_success 'deinit removes the function and the helpers' '
	bash -c "eval \"\$(genv shell --init)\"; eval \"\$(genv shell --deinit)\"; type genv" >out &&
	grep -q "is $BUILD/bin/genv\$\|is /.*/genv\$" out &&
	! bash -c "eval \"\$(genv shell --init)\"; eval \"\$(genv shell --deinit)\"; declare -F | grep _genv_" &&
	! fish -c "genv shell --init fish | source; genv shell --deinit fish | source; functions -q genv _genv_set_env"
'

test_expect_success 'the init code uses no bash-only indirection' '
	genv shell --init >init &&
	! grep -q "\${!" init && ! grep -q "read -a" init && ! grep -q "<<<" init
'

test_expect_success 'unknown shell name is a usage error' '
	test_expect_code 2 genv shell --init tcsh 2>err &&
	grep -q "unsupported shell .tcsh." err
'

test_done
