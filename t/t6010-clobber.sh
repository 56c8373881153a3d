#!/bin/bash
# t6010: a state directory the attacker made first (hers, 0755, so others
# cannot rename in it) holds a regular genv.lock and devices.json and, as
# devices.uuids, a symlink to a file of the victim (an unprivileged user).
# genv before issue 8 fell back to rewriting a state file in place when the
# atomic rename was refused, through the link: the victim's own genv
# overwrote the victim's file. Now no save goes through a link: the
# victim's file is untouched, whatever the victim runs there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-hostile.sh"

fake_gpus 2
EVIL=$TRASH/evil
VHOME=$TRASH/victim-home
mkdir -m 0755 "$VHOME" && chown $VICTIM_UID:$VICTIM_UID "$VHOME"
# fresh_notes: the victim's file as she left it (each test starts from it)
fresh_notes() {
	printf 'the victim writes here\n' >"$VHOME/notes" &&
	chown $VICTIM_UID:$VICTIM_UID "$VHOME/notes" &&
	chmod 0644 "$VHOME/notes"
}
fresh_notes
NOTES_SUM=$(cksum <"$VHOME/notes")
notes_untouched() { test "$(cksum <"$VHOME/notes")" = "$NOTES_SUM"; }

# victim CMD...: genv's state in the attacker's directory, as the victim
victim() { as_victim env GENV_TMPDIR="$EVIL" HOME="$VHOME" "$@"; }

test_expect_success 'setup: the attacker lays out her directory' '
	GENV_TMPDIR=$TRASH/model genv devices >/dev/null &&
	mkdir -m 0755 "$EVIL" && chown 65534:65534 "$EVIL" &&
	as_other sh -c "umask 022; : >\"$EVIL/genv.lock\"" &&
	as_other sh -c "umask 0; cat \"$TRASH/model/devices.json\" >\"$EVIL/devices.json\"" &&
	as_other ln -s "$VHOME/notes" "$EVIL/devices.uuids" &&
	test "$(stat -c %U:%a "$EVIL")" = "$ATTACKER:755"
'

test_expect_success 'the victim lists the devices: her file is untouched' '
	fresh_notes &&
	may_fail victim timeout 20 genv devices >out 2>err &&
	notes_untouched
'

test_expect_success 'the victim changes the state: her file is still untouched' '
	fresh_notes &&
	may_fail victim timeout 20 genv devices detach --eid nobody-env >out 2>err &&
	notes_untouched &&
	may_fail victim timeout 20 genv devices attach --eid e --count 1 >out 2>err &&
	notes_untouched &&
	may_fail victim timeout 20 genv devices --reset >out 2>err &&
	notes_untouched
'

test_expect_success 'a symlinked devices.json is not written through either' '
	fresh_notes &&
	rm -f "$EVIL/devices.json" &&
	as_other ln -s "$VHOME/notes" "$EVIL/devices.json" &&
	may_fail victim timeout 20 genv devices --reset >out 2>err &&
	notes_untouched &&
	may_fail victim timeout 20 genv devices attach --eid e --count 1 >out 2>err &&
	notes_untouched
'

test_done
