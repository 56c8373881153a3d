#!/usr/bin/env bash
# t6200-protected-install.sh: `make install PROTECTED=1` as root sets up the
# protected mode in one command, and the setgid binary it makes trusts
# nothing of its caller's that could redirect it: a record others could
# change, GENV_TMPDIR, GENV_NVML_LIBRARY; nothing it starts has its group.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-protected.sh"

fake_gpus 2

test_expect_success 'make install PROTECTED=1: a group, a setgid binary, a root:group 2770 state directory, a root-only record' '
	protected_install >install.out 2>&1 &&
	gid=$(getent group "$P_GROUP" | cut -d: -f3) && test -n "$gid" &&
	test "$(stat -c "%U %G %a" "$P_GENV")" = "root $P_GROUP 2755" &&
	test "$(stat -c "%U %G %a" "$P_STATE")" = "root $P_GROUP 2770" &&
	test "$(stat -c "%U %G %a" "$P_CONF")" = "root root 644" &&
	grep -v "^#" "$P_CONF" >conf &&
	cat >expect <<-EOF &&
	protected = 1
	state_dir = $P_STATE
	group = $P_GROUP
	gid = $gid
	nvml_library = $GENV_NVML_LIBRARY
	EOF
	test_cmp expect conf &&
	protected_install >install2.out 2>&1 &&
	test "$(stat -c "%U %G %a" "$P_STATE")" = "root $P_GROUP 2770"
'
by_hand_without_protected_mode

# probe: an "ssh" that records the group ids of genv (its parent) and its own.
cat >"$TRASH/probe" <<'EOF'
#!/bin/sh
sed -n 's/^Gid:[[:space:]]*//p' /proc/$PPID/status | tr -s '\t ' ' ' >"$HOME/probe.parent"
sed -n 's/^Gid:[[:space:]]*//p' /proc/$$/status | tr -s '\t ' ' ' >"$HOME/probe.child"
echo '{}'
EOF
chmod 0755 "$TRASH/probe"
# has_gid FILE GID: the gid list in FILE names GID.
has_gid() { tr ' ' '\n' <"$1" | grep -qx "$2"; }

test_expect_success 'the installed genv keeps its group only as the saved gid; ssh and other children never get it' '
	as B env GENV_SSH="$TRASH/probe" "$P_GENV" remote -H somehost devices >/dev/null 2>&1
	test -s "$TRASH/home-b/probe.parent" &&
	echo "$GID_B $GID_B $P_GID $GID_B" >expect &&
	test_cmp expect "$TRASH/home-b/probe.parent" &&
	echo "$GID_B $GID_B $GID_B $GID_B" >expect &&
	test_cmp expect "$TRASH/home-b/probe.child"
'

test_expect_success 'GENV_TMPDIR elsewhere: genv drops the group for good and works on that private state' '
	rm -f "$TRASH/home-b/probe."* &&
	as B env GENV_TMPDIR="$TRASH/home-b/private" GENV_SSH="$TRASH/probe" \
		"$P_GENV" remote -H somehost devices >/dev/null 2>&1
	echo "$GID_B $GID_B $GID_B $GID_B" >expect &&
	test_cmp expect "$TRASH/home-b/probe.parent" &&
	sleeper B &&
	as B env GENV_TMPDIR="$TRASH/home-b/private" "$P_GENV" envs activate \
		--eid private --uid "$UID_B" --pid "$sleeper_pid" &&
	test "$(stat -c %U "$TRASH/home-b/private/envs.json")" = "$USER_B" &&
	grep -q "\"eid\": \"private\"" "$TRASH/home-b/private/envs.json" &&
	! test -e "$P_STATE/envs.json"
'

# fake docker and nvidia-smi that record their group ids
mkdir -p "$TRASH/bin"
for prog in docker nvidia-smi; do
	printf '#!/bin/sh\nsed -n "s/^Gid:[[:space:]]*//p" /proc/$$/status | tr -s "\\t " " " >"$HOME/%s.gids"\n' \
		"$prog" >"$TRASH/bin/$prog"
	chmod 0755 "$TRASH/bin/$prog"
done

test_expect_success 'the shims (nvidia-smi, docker) and genv-docker run the real program without the group' '
	as B env PATH="$TRASH/bin:$PATH" GENV_BYPASS=1 "$P_PREFIX/libexec/genv/shims/nvidia-smi" -L &&
	as B env PATH="$TRASH/bin:$PATH" GENV_BYPASS=1 "$P_PREFIX/libexec/genv/shims/docker" ps &&
	echo "$GID_B $GID_B $GID_B $GID_B" >expect &&
	test_cmp expect "$TRASH/home-b/nvidia-smi.gids" &&
	test_cmp expect "$TRASH/home-b/docker.gids" &&
	rm "$TRASH/home-b/docker.gids" &&
	as B env PATH="$TRASH/bin:$PATH" "$P_PREFIX/bin/genv-docker" run image &&
	test_cmp expect "$TRASH/home-b/docker.gids"
'

cat >"$TRASH/evil.c" <<'EOF'
#define _GNU_SOURCE
/* B's "NVML": records the group ids it runs with and tries to take the group back. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	gid_t r, e, s;
	FILE *f = fopen(getenv("EVIL_OUT"), "w");
	int back;

	getresgid(&r, &e, &s);
	back = setresgid((gid_t)-1, (gid_t)atol(getenv("EVIL_GID")), (gid_t)-1) == 0;
	fprintf(f, "%u %u %u %s\n", (unsigned)r, (unsigned)e, (unsigned)s, back ? "regained" : "refused");
	fclose(f);
}
EOF
cc -shared -fPIC -o "$TRASH/evil.so" "$TRASH/evil.c" && chmod 0755 "$TRASH/evil.so"

test_expect_success 'GENV_NVML_LIBRARY: B'"'"'s library never runs with the group; with the protected state it is refused' '
	as B env GENV_NVML_LIBRARY="$TRASH/evil.so" GENV_TMPDIR="$TRASH/home-b/private" \
		EVIL_OUT="$TRASH/home-b/evil.out" EVIL_GID="$P_GID" "$P_GENV" devices >/dev/null 2>&1
	echo "$GID_B $GID_B $GID_B refused" >expect &&
	test_cmp expect "$TRASH/home-b/evil.out" &&
	rm -f "$TRASH/home-b/evil.out" &&
	test_expect_code 1 as B env GENV_NVML_LIBRARY="$TRASH/evil.so" \
		EVIL_OUT="$TRASH/home-b/evil.out" EVIL_GID="$P_GID" "$P_GENV" devices 2>err &&
	echo "GENV_NVML_LIBRARY is set, so genv dropped its group privilege and may not use the protected state in '"'"'$P_STATE'"'"'; unset it, or set GENV_TMPDIR to a private state directory" >expect &&
	test_cmp expect err &&
	! test -e "$TRASH/home-b/evil.out"
'

test_expect_success 'a record others could change is ignored with a warning, and the group is dropped' '
	chmod g+w "$P_CONF" &&
	rm -f "$TRASH/home-b/probe."* &&
	as B env GENV_SSH="$TRASH/probe" "$P_GENV" remote -H somehost devices >/dev/null 2>err
	chmod g-w "$P_CONF" &&
	grep -qx "genv: warning: ignoring '"'"'$P_CONF'"'"': '"'"'$P_CONF'"'"' is writable by its group" err &&
	! has_gid "$TRASH/home-b/probe.parent" "$P_GID" &&
	chown "$USER_B" "$P_CONF" &&
	as B env GENV_SSH="$TRASH/probe" "$P_GENV" remote -H somehost devices >/dev/null 2>err
	chown root "$P_CONF" &&
	grep -q "ignoring .*is owned by uid $UID_B, not root" err &&
	! has_gid "$TRASH/home-b/probe.parent" "$P_GID" &&
	other=$(getent group nogroup | cut -d: -f3) &&
	chgrp nogroup "$P_GENV" && chmod 2755 "$P_GENV" &&
	as B env GENV_SSH="$TRASH/probe" "$P_GENV" remote -H somehost devices >/dev/null 2>err
	chgrp "$P_GROUP" "$P_GENV" && chmod 2755 "$P_GENV" &&
	grep -q "ignoring .*genv is set-group-ID to gid $other, not to $P_GROUP" err &&
	! has_gid "$TRASH/home-b/probe.parent" "$other"
'

test_expect_success 'install refuses a STATEDIR another user owns (or a symbolic link, or not a state directory), and DESTDIR' '
	mkdir "$TRASH/planted" && chown "$USER_B" "$TRASH/planted" &&
	test_must_fail protected_install STATEDIR="$TRASH/planted" 2>err &&
	grep -q "STATEDIR .*planted. belongs to uid $UID_B" err &&
	test "$(stat -c %U "$TRASH/planted")" = "$USER_B" &&
	ln -s "$P_STATE" "$TRASH/link" &&
	test_must_fail protected_install STATEDIR="$TRASH/link" 2>err &&
	grep -q "is a symbolic link" err &&
	mkdir -p "$TRASH/home/alice" && echo secret >"$TRASH/home/.profile" &&
	chmod 0755 "$TRASH/home" &&
	test_must_fail protected_install STATEDIR="$TRASH/home" 2>err &&
	grep -q "home/alice. is not one of genv.s files" err &&
	test "$(stat -c %a:%G "$TRASH/home")" = "755:root" &&
	test "$(stat -c %a "$TRASH/home/.profile")" = 644 &&
	test_must_fail protected_install DESTDIR="$TRASH/pkg" 2>err &&
	grep -q "not with DESTDIR" err &&
	grep -qx "state_dir = $P_STATE" "$P_CONF"
'

test_expect_success 'make uninstall removes what install added, not the state' '
	make -C "$SRC_DIR" --no-print-directory uninstall PREFIX="$TRASH/prefix2" >/dev/null &&
	make -C "$SRC_DIR" --no-print-directory install BUILD="$BUILD" PREFIX="$TRASH/prefix2" >/dev/null &&
	make -C "$SRC_DIR" --no-print-directory uninstall PREFIX="$TRASH/prefix2" >/dev/null &&
	test -z "$(find "$TRASH/prefix2" -type f -o -type l)"
'

test_done
