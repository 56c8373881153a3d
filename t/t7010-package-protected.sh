#!/usr/bin/env bash
# t7010-package-protected.sh: the Debian package installs the shared mode;
# `genv-protect enable` switches the machine to the protected mode (the
# group, the closed state directory, /etc/genv/genv.conf, the setgid bit as
# a dpkg-statoverride), keeping the environments; a real unprivileged user
# then cannot open the state directory but works through the setgid
# /usr/bin/genv, and `genv monitor` publishes its files where the user may
# write; reinstalling (an upgrade) keeps the mode, as does `dpkg -r` then
# `dpkg -i`; `disable` and `dpkg -P` clean up what enable added. In a
# throwaway copy of this machine (t/lib-package.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-package.sh"

fake_gpus 2
sysroot_fake_nvml || exit 1
# root's genv here is the installed one on the system's state directory
unset GENV_TMPDIR
sysroot_useradd alice /bin/bash || exit 1
A_UID=$(id -u alice) A_GID=$(id -g alice)

# as_alice CMD...: CMD as alice (real ids, her groups only), in her home,
# with a login's environment and the fake GPUs (not GENV_NVML_LIBRARY: the
# record names the library)
as_alice() {
	(cd /home/alice && exec setpriv --reuid="$A_UID" --regid="$A_GID" --init-groups \
		env -i HOME=/home/alice USER=alice LOGNAME=alice PATH=/usr/bin:/bin \
		GENV_FAKE_NVML_CONFIG="$GENV_FAKE_NVML_CONFIG" "$@")
}
# alice_sleeper: a process of alice's, pid in $sleeper_pid
alice_sleeper() {
	setpriv --reuid="$A_UID" --regid="$A_GID" --init-groups sleep 1000 &
	sleeper_pid=$!
	test_track_pid "$sleeper_pid"
	test_wait_for 5 grep -q '^sleep$' "/proc/$sleeper_pid/comm"
}
protected_modes() {
	stat -c '%U %G %a' /usr/bin/genv /var/tmp/genv /etc/genv/genv.conf
}

test_expect_success 'make deb' '
	make -C "$SRC_DIR" --no-print-directory deb DEBDIR="$TRASH/deb" >deb.out 2>&1 &&
	ls "$TRASH"/deb/genv_*.deb >debs && test "$(wc -l <debs)" = 1
'
DEB=$(cat "$TRASH/debs" 2>/dev/null)

# the paths of the package that the machine does not have yet
sysroot_new_paths "$DEB" >"$TRASH/new-paths"

test_expect_success 'the package installs the shared mode, with genv-protect and its man page' '
	dpkg -i "$DEB" >out 2>&1 &&
	test -x /usr/sbin/genv-protect && test -f /usr/share/man/man8/genv-protect.8.gz &&
	test "$(stat -c "%U %G %a" /usr/bin/genv /var/tmp/genv)" = "$(printf "root root 755\nroot root 777")" &&
	/usr/sbin/genv-protect status >out &&
	echo "shared: no protected record in /etc/genv/genv.conf" >expect && test_cmp expect out &&
	alice_sleeper && BEFORE_PID=$sleeper_pid &&
	as_alice env GENV_NVML_LIBRARY="$GENV_NVML_LIBRARY" genv envs activate --eid before \
		--uid "$A_UID" --pid "$BEFORE_PID"
'

test_expect_success 'genv-protect enable: the group, the closed state (its environments kept), the record, a statoverride' '
	retry /usr/sbin/genv-protect enable --nvml-library "$GENV_NVML_LIBRARY" >out &&
	echo "genv: protected mode: /usr/bin/genv setgid genv, state in /var/tmp/genv (root:genv 2770)" >expect &&
	test_cmp expect out &&
	gid=$(getent group genv | cut -d: -f3) && test -n "$gid" &&
	printf "root genv 2755\nroot genv 2770\nroot root 644\n" >expect &&
	protected_modes >out && test_cmp expect out &&
	test "$(stat -c "%G %a" /var/tmp/genv/envs.json)" = "genv 660" &&
	test "$(dpkg-statoverride --list /usr/bin/genv)" = "root genv 2755 /usr/bin/genv" &&
	grep -v "^#" /etc/genv/genv.conf >conf &&
	printf "protected = 1\nstate_dir = /var/tmp/genv\ngroup = genv\ngid = %s\nnvml_library = %s\n" \
		"$gid" "$GENV_NVML_LIBRARY" >expect &&
	test_cmp expect conf &&
	/usr/sbin/genv-protect status >out &&
	grep -qx "protected: /usr/bin/genv setgid genv (dpkg-statoverride: root genv 2755 /usr/bin/genv), state in /var/tmp/genv, record /etc/genv/genv.conf" out &&
	test "$(wc -l <out)" = 1 &&
	/usr/sbin/genv-protect enable >out 2>&1 && protected_modes >again &&
	printf "root genv 2755\nroot genv 2770\nroot root 644\n" >expect && test_cmp expect again
'

test_expect_success 'a real user cannot open the state directory but works through the setgid genv' '
	test_must_fail as_alice ls /var/tmp/genv 2>err &&
	grep -q "Permission denied" err &&
	test_must_fail as_alice cat /var/tmp/genv/envs.json 2>err &&
	as_alice genv envs query --eid before --query uid >out &&
	echo "$A_UID" >expect && test_cmp expect out &&
	alice_sleeper &&
	as_alice genv envs activate --eid mine --uid "$A_UID" --pid "$sleeper_pid" &&
	as_alice genv devices attach --eid mine --index 1 >/dev/null &&
	/usr/bin/genv devices --format csv >out &&
	grep -q "^1,mine," out &&
	test "$(stat -c "%U %G %a" /var/tmp/genv/envs.json)" = "alice genv 660"
'

test_expect_success 'genv monitor as the user: the files go to her runtime directory, or ~/.cache' '
	mkdir -m 0700 "$TRASH/run-alice" && chown alice: "$TRASH/run-alice" &&
	chmod 0755 "$TRASH" &&
	for where in "XDG_RUNTIME_DIR=$TRASH/run-alice" ""; do
		: >"$TRASH/monitor.err" &&
		as_alice env $where genv monitor --bind 127.0.0.1 --port 0 2>"$TRASH/monitor.err" &
		pid=$! && test_track_pid $pid &&
		test_wait_for 20 grep -q "serving http" "$TRASH/monitor.err" ||
			{ cat "$TRASH/monitor.err"; exit 1; }
		kill "$pid" && wait "$pid"
		case $where in
		"") dir=/home/alice/.cache/genv/metrics ;;
		*) dir=$TRASH/run-alice/genv/metrics ;;
		esac
		grep -q "config files in $dir\$" "$TRASH/monitor.err" &&
		test "$(stat -c %U "$dir/prometheus/prometheus.yml")" = alice || exit 1
	done &&
	test ! -e /var/tmp/genv/metrics
'

test_expect_success 'reinstalling the package (an upgrade) keeps the mode and the environments' '
	dpkg -i "$DEB" >out 2>&1 &&
	printf "root genv 2755\nroot genv 2770\nroot root 644\n" >expect &&
	protected_modes >out && test_cmp expect out &&
	/usr/sbin/genv-protect status >/dev/null &&
	as_alice genv envs query --eid mine --query uid >out &&
	echo "$A_UID" >expect && test_cmp expect out
'

test_expect_success 'a state directory a tmp cleaner removed: the upgrade makes no shared one; root'"'"'s genv makes it closed' '
	mv /var/tmp/genv "$TRASH/state-kept" &&
	dpkg -i "$DEB" >out 2>&1 &&
	test ! -e /var/tmp/genv &&
	test_expect_code 1 /usr/sbin/genv-protect status >out &&
	grep -qx "but /var/tmp/genv is missing (root.s genv makes it again)" out &&
	/usr/bin/genv envs >/dev/null &&
	test "$(stat -c "%U %G %a" /var/tmp/genv)" = "root genv 2770" &&
	rm -rf /var/tmp/genv && mv "$TRASH/state-kept" /var/tmp/genv &&
	/usr/sbin/genv-protect status >/dev/null
'

test_expect_success 'an override of the admin'"'"'s is kept: enable refuses it and says how' '
	dpkg-statoverride --remove /usr/bin/genv &&
	dpkg-statoverride --update --add root root 0750 /usr/bin/genv &&
	test_must_fail /usr/sbin/genv-protect enable 2>err &&
	grep -qx "genv-protect: dpkg-statoverride records .root root 750 /usr/bin/genv. for /usr/bin/genv: remove it (dpkg-statoverride --remove /usr/bin/genv) and run again" err &&
	test_expect_code 1 /usr/sbin/genv-protect status >out &&
	grep -qx "but /usr/bin/genv is root root 750, not root genv 2755" out &&
	dpkg -i "$DEB" >out 2>&1 &&
	test "$(stat -c "%U %G %a" /usr/bin/genv)" = "root root 750" &&
	dpkg-statoverride --remove /usr/bin/genv &&
	/usr/sbin/genv-protect enable >/dev/null &&
	test "$(dpkg-statoverride --list /usr/bin/genv)" = "root genv 2755 /usr/bin/genv"
'

test_expect_success 'genv-protect disable: the shared mode again, with its environments' '
	/usr/sbin/genv-protect disable >out &&
	echo "genv: shared mode: state in /var/tmp/genv (0777) for every user" >expect && test_cmp expect out &&
	test "$(stat -c "%U %G %a" /usr/bin/genv /var/tmp/genv)" = "$(printf "root root 755\nroot root 777")" &&
	test -z "$(dpkg-statoverride --list /usr/bin/genv)" &&
	test ! -e /etc/genv &&
	test "$(stat -c "%a" /var/tmp/genv/envs.json)" = 666 &&
	as_alice env GENV_NVML_LIBRARY="$GENV_NVML_LIBRARY" genv envs query --eid mine --query uid >out &&
	echo "$A_UID" >expect && test_cmp expect out &&
	/usr/sbin/genv-protect status >out &&
	echo "shared: no protected record in /etc/genv/genv.conf" >expect && test_cmp expect out
'

test_expect_success 'the admin'"'"'s max_envs_per_user outlives enable and disable' '
	/usr/sbin/genv-protect enable --nvml-library "$GENV_NVML_LIBRARY" >/dev/null &&
	echo "max_envs_per_user = 7" >>/etc/genv/genv.conf &&
	/usr/sbin/genv-protect enable >/dev/null &&
	grep -qx "max_envs_per_user = 7" /etc/genv/genv.conf &&
	/usr/sbin/genv-protect disable >/dev/null &&
	grep -v "^#" /etc/genv/genv.conf >conf &&
	printf "protected = 0\nmax_envs_per_user = 7\n" >expect && test_cmp expect conf &&
	test "$(stat -c "%U %G %a" /etc/genv/genv.conf)" = "root root 644" &&
	/usr/sbin/genv-protect status >/dev/null &&
	/usr/bin/genv envs >/dev/null 2>err && test ! -s err
'

test_expect_success 'dpkg -r keeps the mode for a later install; dpkg -P removes what enable added' '
	/usr/sbin/genv-protect enable --nvml-library "$GENV_NVML_LIBRARY" >/dev/null &&
	dpkg -r genv >out 2>&1 &&
	test ! -e /usr/bin/genv && test ! -e /usr/sbin/genv-protect &&
	test -f /etc/genv/genv.conf &&
	test "$(dpkg-statoverride --list /usr/bin/genv)" = "root genv 2755 /usr/bin/genv" &&
	dpkg -i "$DEB" >out 2>&1 &&
	printf "root genv 2755\nroot genv 2770\nroot root 644\n" >expect &&
	protected_modes >out && test_cmp expect out &&
	as_alice genv envs query --eid mine --query uid >out &&
	echo "$A_UID" >expect && test_cmp expect out &&
	dpkg -P genv >out 2>&1 &&
	test -z "$(dpkg-statoverride --list /usr/bin/genv)" &&
	test ! -e /etc/genv && test ! -e /var/tmp/genv &&
	sysroot_none_left "$TRASH/new-paths" &&
	getent group genv >/dev/null
'

test_done
