#!/usr/bin/env bash
# t6210-protected-ownership.sh: in a protected install, user B can neither
# take nor break user A's environment: not through genv (each attempt is a
# one-line error, exit 1, the state unchanged) and not by touching the
# files (the directory is closed to both; even A, who wrote them last). A
# and root keep doing what they may; genv's children never have the group;
# closed descriptors 0-2 are /dev/null. The same genv checks also apply in
# the shared mode, where they only stop careless use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-protected.sh"

fake_gpus 2
protected_install >"$TRASH/install.out" 2>&1 || { cat "$TRASH/install.out"; exit 1; }
by_hand_without_protected_mode

# root's view of the protected state, byte for byte
state() { cat "$P_STATE/envs.json" "$P_STATE/devices.json"; }
# refused EXPECTED-MESSAGE CMD...: CMD exits 1 with that one line, and the
# state is what it was.
refused() {
	local want=$1
	shift
	state >"$TRASH/before" &&
	test_expect_code 1 "$@" 2>"$TRASH/err" >/dev/null &&
	echo "$want" >"$TRASH/want" &&
	test_cmp "$TRASH/want" "$TRASH/err" &&
	state >"$TRASH/after" &&
	test_cmp "$TRASH/before" "$TRASH/after"
}

sleeper A; A_PID=$sleeper_pid
sleeper B; B_PID=$sleeper_pid
NOT_YOURS="environment 'a1' belongs to $USER_A (uid $UID_A): only its owner or root may change it"

# A's environment a1, named "mine", on GPU 0
genv_as A envs activate --eid a1 --uid "$UID_A" --username "$USER_A" --pid "$A_PID" &&
genv_as A envs config --eid a1 name --name mine &&
genv_as A devices attach --eid a1 --index 0 >/dev/null &&
test "$(genv_as A envs query --eid a1 --query uid username config.name pids)" = \
	"$UID_A,$USER_A,mine,$A_PID" || exit 1

test_expect_success 'the user name genv records is the real uid'"'"'s, not what LOGNAME or USER say' '
	as A env LOGNAME="$USER_B" USER="$USER_B" "$P_GENV" exec --id a9 -- \
		"$P_GENV" envs query --eid a9 --query uid username >out &&
	echo "$UID_A,$USER_A" >expect && test_cmp expect out
'

test_expect_success 'the state files are the group'"'"'s: 0660, directories 2770, nothing for others' '
	find "$P_STATE" -mindepth 1 -type f >files && test -s files &&
	for f in $(cat files); do
		test "$(stat -c "%G %a" "$f")" = "$P_GROUP 660" || { stat "$f"; exit 1; }
	done &&
	for d in $(find "$P_STATE" -type d); do
		test "$(stat -c "%U %G %a" "$d")" = "root $P_GROUP 2770" || { stat "$d"; exit 1; }
	done
'

test_expect_success 'B cannot read, edit, replace or link the state files; nor can A, who wrote them' '
	for who in A B; do
		test_must_fail as $who cat "$P_STATE/envs.json" 2>err &&
		grep -q "Permission denied" err &&
		test_must_fail as $who sh -c "echo {} >\"$P_STATE/envs.json\"" 2>err &&
		grep -q "Permission denied" err &&
		test_must_fail as $who mv "$TRASH/home-b" "$P_STATE/devices.json" 2>/dev/null &&
		test_must_fail as $who ln -s /etc/shadow "$P_STATE/genv.lock" 2>/dev/null &&
		test_must_fail as $who chmod 0666 "$P_STATE/envs.json" 2>/dev/null &&
		test_must_fail as $who ls "$P_STATE" 2>/dev/null || exit 1
	done &&
	genv_as A envs query --eid a1 --query config.name >out &&
	echo mine >expect && test_cmp expect out
'

test_expect_success 'B cannot detach, attach to, rename or join A'"'"'s environment' '
	refused "$NOT_YOURS" genv_as B devices detach --eid a1 &&
	refused "$NOT_YOURS" genv_as B devices attach --eid a1 --index 1 &&
	refused "$NOT_YOURS" genv_as B envs config --eid a1 name --name stolen &&
	refused "$NOT_YOURS" genv_as B envs config --eid a1 gpus --count 2 &&
	refused "$NOT_YOURS" genv_as B envs activate --eid a1 --uid "$UID_B" --pid "$B_PID" &&
	refused "$NOT_YOURS" genv_as B exec --id a1 -- true
'

test_expect_success 'B cannot deactivate A'"'"'s process, nor put it into an environment of his' '
	refused "$NOT_YOURS" genv_as B envs deactivate --pid "$A_PID" &&
	refused "process $A_PID is not yours: only root may add another user'"'"'s process to an environment" \
		genv_as B envs activate --eid b2 --uid "$UID_B" --pid "$A_PID"
'

test_expect_success 'B'"'"'s genv keeps the Jupyter kernels of A'"'"'s environment (only A'"'"'s runtime directory tells)' '
	mkdir -p "$TRASH/home-a/.local/share/jupyter/runtime" &&
	: >"$TRASH/home-a/.local/share/jupyter/runtime/kernel-k1.json" &&
	chown -R "$USER_A" "$TRASH/home-a/.local" &&
	genv_as A envs activate --eid aj --uid "$UID_A" --kernel-id k1 &&
	genv_as B envs >/dev/null &&
	genv_as A envs query --eid aj --query kernel_ids >out &&
	echo k1 >expect && test_cmp expect out
'

test_expect_success 'root'"'"'s genv asks A'"'"'s runtime directory about A'"'"'s kernels, not its own' '
	JUPYTER_RUNTIME_DIR="$TRASH/root-runtime" GENV_TMPDIR="$P_STATE" "$P_GENV" envs activate --eid r1 --uid 0 --pid $$ &&
	GENV_TMPDIR="$P_STATE" "$P_GENV" envs query --eid r1 --query eid >out &&
	echo r1 >expect && test_cmp expect out &&
	genv_as A envs query --eid aj --query kernel_ids >out &&
	echo k1 >expect && test_cmp expect out &&
	rm "$TRASH/home-a/.local/share/jupyter/runtime/kernel-k1.json" &&
	GENV_TMPDIR="$P_STATE" "$P_GENV" envs deactivate --pid $$ &&
	GENV_TMPDIR="$P_STATE" "$P_GENV" envs query --eid aj --query eid >out &&
	test_must_be_empty out
'

test_expect_success '--uid of another user and --reset need root' '
	refused "only root may register an environment for another uid ($UID_A)" \
		genv_as B envs activate --eid b3 --uid "$UID_A" --pid "$B_PID" &&
	refused "only root may use --reset" genv_as B envs --reset &&
	refused "only root may use --reset" genv_as B devices --reset
'

test_expect_success 'B cannot have genv usage execute detach A'"'"'s environment' '
	printf "%s" "{\"terminate\": {\"processes\": []}, \"detach\": {\"0\": {\"envs\": [{\"eid\": \"a1\", \"uid\": $UID_A, \"creation\": \"24/11/2026 01:16:47\", \"username\": \"$USER_A\", \"config\": {\"name\": null, \"gpu_memory\": null, \"gpus\": null}, \"pids\": [$A_PID], \"kernel_ids\": []}]}}}" >report &&
	state >before &&
	as B "$P_GENV" usage execute --no-audit-log <report >out 2>err &&
	echo "[ERROR] Not enough permissions to detach environment a1 from device 0" >expect &&
	test_cmp expect err &&
	state >after && test_cmp before after
'

test_expect_success 'B'"'"'s own environment works; the owner and root may change A'"'"'s' '
	genv_as B envs activate --eid b1 --uid "$UID_B" --pid "$B_PID" &&
	genv_as B devices attach --eid b1 --count 1 >out &&
	echo 1 >expect && test_cmp expect out &&
	genv_as A envs config --eid a1 name --name renamed &&
	genv_as A devices detach --eid a1 >/dev/null &&
	env GENV_TMPDIR="$P_STATE" "$P_GENV" devices attach --eid a1 --index 0 >out &&
	echo 0 >expect && test_cmp expect out &&
	genv_as A envs query --eid a1 --query uid config.name >out &&
	echo "$UID_A,renamed" >expect && test_cmp expect out
'

test_expect_success 'genv exec and genv lock: the command has no trace of the group' '
	genv_as A exec -o --gpus 1 -- sh -c "grep ^Gid: /proc/\$\$/status" >out &&
	test "$(sed "s/^Gid:[[:space:]]*//" out | tr -s "\t " " ")" = "$GID_A $GID_A $GID_A $GID_A" &&
	genv_as A exec -o --gpus 1 -- "$P_GENV" lock sh -c "grep ^Gid: /proc/\$\$/status" >out &&
	test "$(sed "s/^Gid:[[:space:]]*//" out | tr -s "\t " " ")" = "$GID_A $GID_A $GID_A $GID_A"
'

# fds_ok GENV: what a command of `GENV exec` finds on its fds 0-2
# when genv was started with them closed; "ok" when each is /dev/null or
# /dev/full (glibc's choice for stdin of a setgid program).
fds_ok() {
	"$@" exec -- sh -c "a=\$(readlink /proc/\$\$/fd/0) b=\$(readlink /proc/\$\$/fd/1) \
		c=\$(readlink /proc/\$\$/fd/2); echo \"\$a \$b \$c\" | tr \" \" \"\\n\" >\"\$HOME/fds\"" \
		<&- >&- 2>&- &&
	test "$(grep -cxE "/dev/(null|full)" "$HOME/fds")" = 3 || { cat "$HOME/fds"; return 1; }
}

test_expect_success 'closed descriptors 0-2: genv and its command find /dev/null there, the state is intact' '
	as A bash -c "$(declare -f fds_ok); fds_ok \"$P_GENV\"" &&
	state >/dev/null &&
	genv_as A envs query --eid a1 --query config.name >out &&
	echo renamed >expect && test_cmp expect out
'

# ---- the same checks in the shared mode (a build without the protected mode)
SHARED="$TRASH/shared"
mkdir -m 0777 "$SHARED"
shared_as() { local who=$1; shift; as "$who" env GENV_TMPDIR="$SHARED" "$BUILD/bin/genv" "$@"; }

test_expect_success 'closed descriptors 0-2, shared mode: the same' '
	mkdir -m 0777 "$TRASH/shared-fds" &&
	as A env GENV_TMPDIR="$TRASH/shared-fds" bash -c "$(declare -f fds_ok); fds_ok \"$BUILD/bin/genv\""
'

test_expect_success 'shared mode: genv refuses B the same way (though B could edit the 0666 files)' '
	sleeper A && SA=$sleeper_pid &&
	shared_as A envs activate --eid a1 --uid "$UID_A" --pid "$SA" &&
	shared_as A devices attach --eid a1 --index 0 >/dev/null &&
	test_expect_code 1 shared_as B devices detach --eid a1 2>err &&
	echo "$NOT_YOURS" >expect && test_cmp expect err &&
	test_expect_code 1 shared_as B envs config --eid a1 name --name stolen 2>err &&
	test_cmp expect err &&
	shared_as A devices find --eid a1 >out &&
	echo 0 >expect && test_cmp expect out &&
	test "$(stat -c %a "$SHARED/envs.json")" = 666
'

test_expect_success 'in a Slurm job: without the prolog'"'"'s directory the job mode refuses; with it, the state is closed' '
	job="env SLURM_JOB_ID=77 SLURM_JOB_GPUS=1" &&
	test_expect_code 1 as A $job "$P_GENV" exec --gpus 1 true 2>err &&
	grep "the Slurm job'"'"'s state directory '"'"'$P_STATE/slurm/job-77'"'"' does not exist" err &&
	test ! -e "$P_STATE/slurm/job-77" &&
	SLURM_JOB_ID=77 GENV_TMPDIR="$P_STATE" "$P_PREFIX/libexec/genv/slurm-prolog" &&
	as A $job "$P_GENV" exec --gpus 1 printenv CUDA_VISIBLE_DEVICES >out &&
	grep -x "GPU-.*-000000000001" out &&
	for d in "$P_STATE/slurm" "$P_STATE/slurm/job-77"; do
		test "$(stat -c "%U %G %a" "$d")" = "root $P_GROUP 2770" || { stat "$d"; exit 1; }
	done &&
	for f in $(find "$P_STATE/slurm" -type f); do
		test "$(stat -c "%G %a" "$f")" = "$P_GROUP 660" || { stat "$f"; exit 1; }
	done &&
	test_must_fail as A cat "$P_STATE/slurm/job-77/envs.json" &&
	SLURM_JOB_ID=77 GENV_TMPDIR="$P_STATE" "$P_PREFIX/libexec/genv/slurm-epilog" &&
	test ! -e "$P_STATE/slurm/job-77"
'

test_done
