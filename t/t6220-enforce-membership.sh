#!/usr/bin/env bash
# t6220-enforce-membership.sh: in a protected install, `genv enforce` (root)
# counts a GPU process as a member of the environment its
# GENV_ENVIRONMENT_ID names only when its real uid is the owner recorded in
# the protected state, or root (a container runtime starts a user's
# environment as root). Real processes of A, B and root, reported by the
# fake NVML.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-protected.sh"

fake_gpus 2
protected_install >"$TRASH/install.out" 2>&1 || { cat "$TRASH/install.out"; exit 1; }
by_hand_without_protected_mode

alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
dead() { ! alive "$1"; }
# proc_on GPU VAR WHO [ENV...]: a sleeper of WHO on GPU, pid in VAR.
proc_on() {
	local gpu=$1 var=$2
	shift 2
	sleeper "$@"
	printf -v "$var" '%s' "$sleeper_pid"
	fake_proc "$gpu" "$sleeper_pid" 100
	test_wait_for 5 grep -q '^sleep$' "/proc/$sleeper_pid/comm"
}

sleeper A; A_KEEP=$sleeper_pid
genv_as A envs activate --eid a1 --uid "$UID_A" --pid "$A_KEEP" &&
genv_as A devices attach --eid a1 --index 0 >/dev/null || exit 1
proc_on 0 A_IN A GENV_ENVIRONMENT_ID=a1            # A's training job
proc_on 0 ROOT_IN root GENV_ENVIRONMENT_ID=a1      # A's container, started by root
proc_on 0 B_SPOOF B GENV_ENVIRONMENT_ID=a1         # B claiming A's environment
proc_on 1 ROOT_OUT root                            # root, in no environment
proc_on 1 ROOT_ASTRAY root GENV_ENVIRONMENT_ID=a1  # A's container on a GPU a1 lacks

test_expect_success 'enforce: the owner'"'"'s and root'"'"'s processes are members; B'"'"'s claim is not' '
	env GENV_TMPDIR="$P_STATE" "$P_GENV" enforce --interval 0 --non-env-processes \
		--no-audit-log >out 2>err &&
	grep -qx "Process $B_SPOOF is not running in a GPU environment" out &&
	grep -qx "Process $ROOT_OUT is not running in a GPU environment" out &&
	! grep -q "Process $ROOT_IN " out &&
	! grep -q "Process $A_IN " out &&
	grep -q "Terminating process $ROOT_ASTRAY from environment a1 " out &&
	for p in $B_SPOOF $ROOT_OUT $ROOT_ASTRAY; do test_wait_for 5 dead "$p" || exit 1; done &&
	alive "$A_IN" && alive "$ROOT_IN" && alive "$A_KEEP"
'

test_done
