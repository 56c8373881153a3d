#!/usr/bin/env bash
# t0000-basic.sh: the command-line contract every command shares: -h and
# --help work everywhere, unknown commands are argparse usage errors
# (exit 2), bare `genv` prints the help, `genv version` the version.
. "$(dirname "$0")/lib.sh"

test_expect_success 'genv --list-cmds lists commands, alphabetically' '
	genv --list-cmds >cmds &&
	test -s cmds &&
	LC_ALL=C sort cmds >sorted &&
	test_cmp sorted cmds &&
	grep -qx version cmds &&
	grep -qx devices cmds &&
	grep -qx envs cmds &&
	grep -qx usage cmds
'

test_expect_success 'every command handles -h and --help (exit 0, usage shown)' '
	genv --list-cmds >cmds &&
	while read -r c; do
		for h in -h --help; do
			genv "$c" $h >out 2>err ||
				{ echo "genv $c $h failed"; cat err; exit 1; }
			cat out err | grep -q "^usage: genv $c" ||
				{ echo "genv $c $h: no usage line"; cat out err; exit 1; }
		done
	done <cmds
'

test_expect_success 'subcommands handle -h too' '
	for s in "devices ps" "devices query" "devices find" "devices attach" \
		 "devices detach" "envs ps" "envs query" "envs find" "envs activate" \
		 "envs config" "envs deactivate" "usage snapshot"; do
		genv $s -h >out 2>err || { echo "genv $s -h failed"; exit 1; }
		grep -q "^usage: genv $s " out || { echo "genv $s -h"; cat out; exit 1; }
		test ! -s err || exit 1
	done
'

test_expect_success 'help does not touch the state directory' '
	genv devices -h >/dev/null &&
	genv envs activate -h >/dev/null &&
	test ! -e "$GENV_TMPDIR/devices.json" &&
	test ! -e "$GENV_TMPDIR/envs.json"
'

test_expect_success 'unknown command: argparse-style error, exit 2' '
	genv --list-cmds >cmds &&
	choices=$(sed "s/.*/'"'"'&'"'"'/" cmds | paste -sd, - | sed "s/,/, /g") &&
	{
		echo "usage: genv [-h] [--version] SUBCOMMAND ..." &&
		echo "genv: error: argument SUBCOMMAND: invalid choice: '"'"'nosuch'"'"' (choose from $choices)"
	} >expect &&
	test_expect_code 2 genv nosuch >out 2>err &&
	test_cmp expect err &&
	test ! -s out
'

test_expect_success 'unknown option of a command: exit 2 naming it' '
	test_expect_code 2 genv devices ps --bogus 2>err &&
	grep -q "^usage: genv devices ps " err &&
	grep -qx "genv devices ps: error: unrecognized arguments: --bogus" err &&
	test_expect_code 2 genv envs nosuch 2>err &&
	grep -q "genv envs: error: argument {ps,query,find,activate,config,deactivate}: invalid choice: '"'"'nosuch'"'"'" err
'

test_expect_success 'genv alone prints the help on stdout, exit 0' '
	genv >out 2>err &&
	test ! -s err &&
	grep -q "^usage: genv " out &&
	grep -q "^    devices  " out &&
	grep -q "^    version  " out
'

test_expect_success 'genv -h is the same help' '
	genv >expect &&
	genv -h >out &&
	test_cmp expect out
'

test_expect_success 'genv version and genv --version print 1.4.3' '
	echo 1.4.3 >expect &&
	genv version >out &&
	test_cmp expect out &&
	genv --version >out &&
	test_cmp expect out &&
	test_expect_code 2 genv version extra 2>err &&
	grep -q "unrecognized arguments: extra" err
'

# genv in C's own version: the file VERSION, and nothing else to edit but
# a debian/changelog entry (make deb refuses to build when they differ).
C_VERSION=$(cat "$T_DIR/../VERSION")
test_expect_success 'genv version -v also names this implementation, at VERSION' '
	printf "%s\n" 1.4.3 "genv in C $C_VERSION (a C11 implementation of genv 1.4.3)" >expect &&
	genv version -v >out && test_cmp expect out &&
	genv version --verbose >out && test_cmp expect out
'

test_expect_success 'VERSION is a real version; debian/changelog and the man page make installs agree' '
	echo "$C_VERSION" | grep -Ex "[0-9]+\.[0-9]+\.[0-9]+" &&
	test "$C_VERSION" != 0.1 &&
	if command -v dpkg-parsechangelog >/dev/null; then
		dpkg-parsechangelog -l "$T_DIR/../debian/changelog" -S Version >v &&
		echo "$C_VERSION" >expect && test_cmp expect v
	fi &&
	grep -x "\.Os genv $C_VERSION" "$BUILD/doc/genv.1" &&
	grep -c "^\.Os" "$BUILD/doc/genv.1" >n && echo 1 >one && test_cmp one n
'

test_done
