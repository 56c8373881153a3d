#!/bin/bash
# t6000: another user replaces names in the shared state directory with
# symbolic links, to a root-only file or dangling, before root's genv runs.
# genv never follows them: lock files are refused (genv 1.4.3 and genv
# before issue 8 made the target 0666, or created it 0666), state files are
# refused on read with an error naming them, a planted temporary file is
# replaced, and the target is never touched or created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-state.sh"
. "$(dirname "$0")/lib-hostile.sh"

fake_gpus 2
spawn_sleeper KEEPER

test_expect_success 'setup: root creates the shared state directory' '
	genv envs activate --eid e1 --uid 0 --username root --pid $KEEPER &&
	genv devices attach --eid e1 --index 0 >/dev/null &&
	test "$(stat -c %a "$D")" = 777 &&
	cp "$D/envs.json" "$TRASH/envs.good" && cp "$D/devices.json" "$TRASH/devices.good"
'

# clean: the state as setup left it, nothing planted (each test starts so)
clean() {
	fresh_secret &&
	rm -rf "${D:?}/genv.lock" "$D/devices" "$D/.envs.json.tmp" "$D/devices.uuids" \
		"$D/envs.json" "$D/devices.json" "$TRASH/elsewhere" &&
	cp "$TRASH/envs.good" "$D/envs.json" && cp "$TRASH/devices.good" "$D/devices.json"
}

# refused NAME: a command failed with a message naming $D/NAME as a link
refused() { grep -F "'$D/$1': it is a symbolic link" err; }

test_expect_success 'genv.lock -> root-only file: refused, the file keeps its mode' '
	clean &&
	plant genv.lock "$TRASH/secret" &&
	test_must_fail genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	refused genv.lock &&
	test_must_fail genv devices attach --eid e1 --index 1 2>err &&
	refused genv.lock &&
	secret_untouched
'

test_expect_success 'genv.lock dangling: refused, its target is not created' '
	clean &&
	plant genv.lock "$TRASH/created-by-root" &&
	test_must_fail genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	refused genv.lock &&
	! test -e "$TRASH/created-by-root" && ! test -L "$TRASH/created-by-root"
'

test_expect_success 'the enforcer is not turned against the file either' '
	clean &&
	plant genv.lock "$TRASH/secret" &&
	may_fail timeout 20 genv enforce --interval 0 --max-devices-per-user 0 >out 2>err &&
	secret_untouched &&
	plant genv.lock "$TRASH/created-by-root" &&
	may_fail timeout 20 genv enforce --interval 0 --max-devices-per-user 0 >out 2>err &&
	! test -e "$TRASH/created-by-root"
'

test_expect_success 'devices/0.lock -> root-only file: genv lock refuses it' '
	clean &&
	mkdir -p "$D/devices" && chmod 0777 "$D/devices" &&
	plant devices/0.lock "$TRASH/secret" &&
	test_must_fail env GENV_ENVIRONMENT_ID=e1 genv lock true 2>err &&
	refused devices/0.lock &&
	secret_untouched &&
	plant devices/0.lock "$TRASH/created-by-root" &&
	test_must_fail env GENV_ENVIRONMENT_ID=e1 genv lock true 2>err &&
	refused devices/0.lock &&
	! test -e "$TRASH/created-by-root"
'

test_expect_success 'devices/ -> a directory of the attacker: no lock file is made there' '
	clean &&
	mkdir -m 0777 "$TRASH/elsewhere" && chown 65534:65534 "$TRASH/elsewhere" &&
	rm -rf "$D/devices" && as_other ln -s "$TRASH/elsewhere" "$D/devices" &&
	test_must_fail env GENV_ENVIRONMENT_ID=e1 genv lock true 2>err &&
	refused devices &&
	! test -e "$TRASH/elsewhere/0.lock"
'

test_expect_success 'genv lock still works with a clean devices directory' '
	clean &&
	GENV_ENVIRONMENT_ID=e1 genv lock true &&
	test "$(stat -c %a:%F "$D/devices/0.lock")" = "666:regular empty file"
'

test_expect_success 'envs.json -> root-only file: reads are refused, not followed' '
	clean &&
	plant envs.json "$TRASH/secret" &&
	test_must_fail genv envs 2>err &&
	refused envs.json &&
	test_must_fail genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	refused envs.json &&
	test_must_fail genv devices 2>err &&
	refused envs.json &&
	secret_untouched
'

test_expect_success 'envs.json dangling: refused, not taken for a missing file' '
	clean &&
	plant envs.json "$TRASH/created-by-root" &&
	test_must_fail genv envs 2>err &&
	refused envs.json &&
	test_must_fail genv envs activate --eid e2 --uid 0 --pid $KEEPER 2>err &&
	refused envs.json &&
	! test -e "$TRASH/created-by-root"
'

test_expect_success 'devices.json -> root-only file or dangling: refused' '
	clean &&
	plant devices.json "$TRASH/secret" &&
	test_must_fail genv devices 2>err &&
	refused devices.json &&
	test_must_fail genv devices attach --eid e1 --index 1 2>err &&
	refused devices.json &&
	secret_untouched &&
	plant devices.json "$TRASH/created-by-root" &&
	test_must_fail genv devices 2>err &&
	refused devices.json &&
	! test -e "$TRASH/created-by-root"
'

test_expect_success '.envs.json.tmp -> root-only file or dangling: replaced, saves work' '
	clean &&
	plant .envs.json.tmp "$TRASH/secret" &&
	genv envs activate --eid e3 --uid 0 --pid $KEEPER &&
	secret_untouched &&
	plant .envs.json.tmp "$TRASH/created-by-root" &&
	genv envs activate --eid e4 --uid 0 --pid $KEEPER &&
	! test -e "$TRASH/created-by-root" &&
	genv envs query --query eid >eids &&
	grep -x e3 eids && grep -x e4 eids &&
	test "$(stat -c %F "$D/envs.json")" = "regular file"
'

test_expect_success 'devices.uuids -> root-only file: not read through, not written through' '
	clean &&
	plant devices.uuids "$TRASH/secret" &&
	genv devices attach --eid e1 --index 1 >/dev/null &&
	genv devices >/dev/null &&
	secret_untouched
'

test_done
