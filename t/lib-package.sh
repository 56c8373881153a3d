# shellcheck shell=bash
# t/lib-package.sh: for the tests of the Debian package, sourced after
# lib.sh. Skips the test without dpkg-buildpackage; else the rest runs in a
# throwaway copy of this machine (t/lib-sysroot.sh), from which the
# machine's own genv package, state directory and protected mode (its
# record and group), if any, are gone: they are not the test's.

if ! command -v dpkg-buildpackage >/dev/null; then
	echo "# $TEST_NAME: skipped: dpkg-buildpackage is missing (make deps installs dpkg-dev)"
	test_done
	exit 0
fi
. "$T_DIR/lib-sysroot.sh"

dpkg --purge genv >/dev/null 2>&1
rm -rf /var/tmp/genv /etc/genv
if getent group genv >/dev/null; then retry groupdel genv; fi
