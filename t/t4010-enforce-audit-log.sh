#!/bin/bash
# t4010: the audit log of `genv enforce` is a record the administrator
# trusts, and its default place is the world-writable state directory. A
# real unprivileged user (uid 65534, via setpriv) plants things there
# before root's enforcer runs: a log of her own, a symlink to a root-only
# file, a dangling symlink, a FIFO, a hard link. Root refuses each with a
# clear warning, writes nothing, and the target is untouched; the cycle
# itself still runs. Directories genv creates for the log are 0755.
. "$(dirname "$0")/lib.sh"

test_need_other_user

# the other user must reach the state directory (genv creates it 0777)
chmod 0755 "$TRASH"
fake_gpus 2
sleep 1000 &
OUT=$!
test_track_pid "$OUT"
fake_proc 1 "$OUT" 100
LOG=$GENV_TMPDIR/enforce.log
# as_other CMD...: CMD as uid/gid 65534, no supplementary groups
# one dry-run cycle with one action to record
cycle() { genv enforce --interval 0 --dry-run --non-env-processes "$@"; }

printf 'root only\n' >"$TRASH/secret"
chmod 0600 "$TRASH/secret"
SECRET_SUM=$(cksum <"$TRASH/secret")
secret_untouched() {
	test "$(cksum <"$TRASH/secret")" = "$SECRET_SUM" &&
	test "$(stat -c %a:%u:%h "$TRASH/secret")" = "600:0:1"
}

test_expect_success 'setup: the state directory exists, root logs normally' '
	cycle >out 2>err &&
	! grep WARNING err &&
	grep -c "\"result\": \"dry-run\"" "$LOG" >n && echo 1 >expect && test_cmp expect n &&
	test "$(stat -c %a:%u "$LOG")" = "644:0" &&
	rm "$LOG"
'

test_expect_success 'a log another user created is refused, not appended to' '
	as_other sh -c "umask 022; echo forged >\"$LOG\"" &&
	test "$(stat -c %u "$LOG")" = 65534 &&
	cycle >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': owned by uid 65534, not by uid 0" err &&
	echo forged >expect && test_cmp expect "$LOG" &&
	grep -F "Terminating process $OUT " out &&
	rm "$LOG"
'

test_expect_success 'a symlink to a root-only file is refused; the file is untouched' '
	as_other ln -s "$TRASH/secret" "$LOG" &&
	cycle >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': it is a symbolic link" err &&
	secret_untouched &&
	rm "$LOG"
'

test_expect_success 'a dangling symlink is refused; its target is not created' '
	as_other ln -s "$TRASH/created-by-root" "$LOG" &&
	cycle >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': it is a symbolic link" err &&
	! test -e "$TRASH/created-by-root" &&
	rm "$LOG"
'

test_expect_success 'a FIFO is refused without blocking the enforcer' '
	as_other mkfifo -m 0600 "$LOG" &&
	timeout 10 genv enforce --interval 0 --dry-run --non-env-processes >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': not a regular file" err &&
	rm "$LOG"
'

test_expect_success 'a log of root that others may write is refused' '
	cycle >/dev/null 2>&1 && chmod 0666 "$LOG" && cp "$LOG" before &&
	cycle >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': writable by other users (mode 0666)" err &&
	test_cmp before "$LOG" &&
	rm "$LOG"
'

test_expect_success 'a hard link to a root-owned file is refused' '
	chmod 0644 "$TRASH/secret" &&
	ln "$TRASH/secret" "$LOG" &&
	cycle >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': it has 2 hard links" err &&
	rm "$LOG" && chmod 0600 "$TRASH/secret" && secret_untouched
'

test_expect_success '--audit-log: missing directories are created 0755, whatever the umask' '
	(umask 0 && cycle --audit-log "$TRASH/logs/genv/enforce.log" >out 2>err) &&
	! grep WARNING err &&
	test "$(stat -c %a "$TRASH/logs")" = 755 &&
	test "$(stat -c %a "$TRASH/logs/genv")" = 755 &&
	test "$(stat -c %a:%u "$TRASH/logs/genv/enforce.log")" = "644:0"
'

test_expect_success 'usage execute refuses a planted log the same way' '
	as_other ln -s "$TRASH/secret" "$LOG" &&
	printf "%s" "{\"terminate\": {\"processes\": [{\"pid\": 999999999, \"used_gpu_memory\": [], \"eid\": null}]}, \"detach\": {}}" |
		genv usage execute >out 2>err &&
	grep -Fx "[WARNING] refusing audit log '"'"'$LOG'"'"': it is a symbolic link" err &&
	secret_untouched &&
	rm "$LOG"
'

test_expect_success 'a detach skipped because another user holds the lock is logged, with the reason' '
	sleep 1000 &
	KEEPER=$! && test_track_pid $KEEPER &&
	genv envs activate --eid e1 --uid 0 --username root --pid $KEEPER &&
	genv devices attach --eid e1 --index 0 >/dev/null &&
	genv devices attach --eid e1 --index 1 >/dev/null &&
	{ setpriv --reuid=65534 --regid=65534 --clear-groups flock "$GENV_TMPDIR/genv.lock" sleep 1000 & } &&
	HOLDER=$! && test_track_pid $HOLDER &&
	test_wait_for 5 grep -q "FLOCK .* $HOLDER " /proc/locks &&
	test_wait_for 5 pgrep -P $HOLDER >/dev/null && test_track_pid $(pgrep -P $HOLDER) &&
	GENV_LOCK_TIMEOUT=0.5 genv enforce --interval 0 --max-devices-per-user 1 \
		--audit-log "$TRASH/held.log" >out 2>err;
	grep -F "Not detaching environments" err &&
	test "$(wc -l <"$TRASH/held.log")" -eq 1 &&
	grep -F "\"rule\": \"max-devices-per-user\", \"pid\": null, \"uid\": 0, \"eid\": \"e1\", \"device\": " "$TRASH/held.log" &&
	grep -F "\"action\": \"detach\", \"result\": \"skipped\", \"reason\": \"" "$TRASH/held.log" &&
	sed -n "s/.*\"reason\": \"\\(.*\\)\"}$/\\1/p" "$TRASH/held.log" >reason &&
	grep -F "$GENV_TMPDIR/genv.lock" reason && grep -F "pid $HOLDER" reason &&
	genv devices find --eid e1 >out &&
	echo 0,1 >expect && test_cmp expect out &&
	kill $HOLDER $(pgrep -P $HOLDER) &&
	test_wait_for 5 eval "! grep -q \"FLOCK .* $HOLDER \" /proc/locks" &&
	genv enforce --interval 0 --max-devices-per-user 1 --audit-log "$TRASH/free.log" >out 2>err &&
	grep -F "\"action\": \"detach\", \"result\": \"detached\"}" "$TRASH/free.log"
'

test_done
