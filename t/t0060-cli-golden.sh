#!/usr/bin/env bash
# t0060-cli-golden.sh: what users and scripts see of the command line stays
# byte for byte what t/golden/cli records: the --help of every command and
# subcommand, and the usage errors (unknown option, missing value, bad int,
# bad choice, ambiguous prefix, unrecognized arguments, ...) of the command
# lines listed in t/golden/cli/cases, with their exit status.
. "$(dirname "$0")/lib.sh"

GOLDEN="$T_DIR/golden/cli"

test_expect_success 'help and usage errors are byte-identical to t/golden/cli' '
	bash "$T_DIR/helpers/cli-golden.sh" "$GOLDEN/cases" out &&
	diff -ru --exclude=cases "$GOLDEN" out
'

test_expect_success 'the cases touch no state' '
	test ! -e "$GENV_TMPDIR"
'

test_expect_success 'every command and every subcommand has its --help case' '
	genv --list-cmds >cmds &&
	while read -r c; do
		grep -qx "$c --help" "$GOLDEN/cases" || { echo "no case: $c --help"; exit 1; }
		genv "$c" --help 2>&1 | awk "
			/^subcommands.*:\$|^fields:\$/ { in_subs = 1; next }
			/^[^ ]/ { in_subs = 0 }
			in_subs && /^    [a-z]/ { print \$1 }
		" >subs &&
		while read -r s; do
			grep -qx "$c $s --help" "$GOLDEN/cases" ||
				{ echo "no case: $c $s --help"; exit 1; }
		done <subs
	done <cmds
'

test_done
