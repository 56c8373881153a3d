#!/usr/bin/env bash
# t6230-envs-per-user.sh: one user cannot fill the state for everybody.
# Each uid may have at most max_envs_per_user environments (genv.conf,
# default 256); root is exempt. A user at the limit is refused a new
# environment with a one-line error that gives the numbers, keeps joining
# her own, and does not stop another user. In the protected mode her
# environment (GENV_MAX_ENVS_PER_USER) may lower the limit, never raise it;
# in the shared mode it may.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-protected.sh"

fake_gpus 2
protected_install >"$TRASH/install.out" 2>&1 || { cat "$TRASH/install.out"; exit 1; }
by_hand_without_protected_mode
echo "max_envs_per_user = 3" >>"$P_CONF"

state() { cat "$P_STATE/envs.json"; }
sleeper A; A_PID=$sleeper_pid
sleeper B; B_PID=$sleeper_pid
sleeper root; R_PID=$sleeper_pid
AT_LIMIT="user $USER_A (uid $UID_A) already has 3 environments (the limit per user is 3): end one of them first ('genv envs' lists them)"

# at_limit CMD...: CMD exits 1 with the refusal and the state unchanged.
at_limit() {
	state >before &&
	test_expect_code 1 "$@" 2>err >/dev/null &&
	echo "$AT_LIMIT" >expect && test_cmp expect err &&
	state >after && test_cmp before after
}

test_expect_success 'protected mode: A gets 3 environments (genv.conf), the fourth is refused with the numbers' '
	for i in 1 2 3; do
		genv_as A envs activate --eid a$i --uid "$UID_A" --pid "$A_PID" || exit 1
	done &&
	at_limit genv_as A envs activate --eid a4 --uid "$UID_A" --pid "$A_PID" &&
	at_limit genv_as A exec --gpus 1 -- true &&
	at_limit genv_as A exec --id a4 -- true
'

test_expect_success 'A at her limit does not stop B, nor A joining her own environment' '
	genv_as B envs activate --eid b1 --uid "$UID_B" --pid "$B_PID" &&
	genv_as B exec --gpus 1 -- printenv CUDA_VISIBLE_DEVICES >out &&
	test -s out &&
	genv_as A exec --id a1 --gpus 1 -- printenv CUDA_VISIBLE_DEVICES >out &&
	test -s out &&
	genv_as A envs query --eid a1 --query pids >out &&
	echo "$A_PID" >expect && test_cmp expect out
'

test_expect_success 'protected mode: GENV_MAX_ENVS_PER_USER cannot raise the limit (nor lift it with 0), may lower it' '
	at_limit as A env GENV_MAX_ENVS_PER_USER=100 "$P_GENV" exec -- true &&
	at_limit as A env GENV_MAX_ENVS_PER_USER=0 "$P_GENV" exec -- true &&
	state >before &&
	test_expect_code 1 as B env GENV_MAX_ENVS_PER_USER=1 "$P_GENV" exec -- true 2>err &&
	echo "user $USER_B (uid $UID_B) already has 1 environments (the limit per user is 1): end one of them first ('"'"'genv envs'"'"' lists them)" >expect &&
	test_cmp expect err &&
	state >after && test_cmp before after &&
	test_expect_code 1 as B env GENV_MAX_ENVS_PER_USER=x "$P_GENV" exec -- true 2>err &&
	echo "GENV_MAX_ENVS_PER_USER is '"'"'x'"'"', not a number of environments" >expect &&
	test_cmp expect err
'

test_expect_success 'root is exempt: it registers a fourth environment for A, and has as many as it likes' '
	env GENV_TMPDIR="$P_STATE" "$P_GENV" envs activate --eid a4 --uid "$UID_A" --pid "$A_PID" &&
	for i in 1 2 3 4 5; do
		env GENV_TMPDIR="$P_STATE" GENV_MAX_ENVS_PER_USER=1 "$P_GENV" envs activate --eid r$i --uid 0 --pid "$R_PID" || exit 1
	done &&
	test "$(genv_as B envs query --query eid | grep -c "^r")" = 5
'

test_expect_success 'once her environments end, A may create one again' '
	genv_as A envs deactivate --pid "$A_PID" &&
	genv_as A exec --gpus 1 -- true &&
	genv_as A envs query --query uid >out &&
	! grep -x "$UID_A" out
'

test_expect_success 'make install PROTECTED=1 again keeps the limit genv.conf had' '
	protected_install >install.out 2>&1 &&
	grep -x "max_envs_per_user = 3" "$P_CONF" &&
	for i in 1 2 3; do
		genv_as A envs activate --eid c$i --uid "$UID_A" --pid "$A_PID" || exit 1
	done &&
	at_limit genv_as A envs activate --eid c4 --uid "$UID_A" --pid "$A_PID"
'

# ---- the shared mode: the same limit, which the user's environment may change
SHARED="$TRASH/shared"
mkdir -m 0777 "$SHARED"
shared_as() { local who=$1; shift; as "$who" env GENV_TMPDIR="$SHARED" "$BUILD/bin/genv" "$@"; }

test_expect_success 'shared mode: 256 environments by default, then the same refusal; B is not stopped' '
	for i in $(seq 256); do
		shared_as A envs activate --eid s$i --uid "$UID_A" --pid "$A_PID" || exit 1
	done &&
	cp "$SHARED/envs.json" before &&
	test_expect_code 1 shared_as A exec -- true 2>err &&
	echo "user $USER_A (uid $UID_A) already has 256 environments (the limit per user is 256): end one of them first ('"'"'genv envs'"'"' lists them)" >expect &&
	test_cmp expect err &&
	test_cmp before "$SHARED/envs.json" &&
	shared_as B exec -- true &&
	shared_as A exec --id s1 -- true
'

test_expect_success 'shared mode: GENV_MAX_ENVS_PER_USER may raise the limit, and 0 lifts it' '
	GENV_MAX_ENVS_PER_USER=257 shared_as A envs activate --eid s257 --uid "$UID_A" --pid "$A_PID" &&
	GENV_MAX_ENVS_PER_USER=257 test_expect_code 1 shared_as A exec -- true 2>/dev/null &&
	GENV_MAX_ENVS_PER_USER=0 shared_as A envs activate --eid s258 --uid "$UID_A" --pid "$A_PID" &&
	test "$(shared_as A envs query --query uid | grep -cx "$UID_A")" = 258
'

test_done
