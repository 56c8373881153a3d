#!/usr/bin/env bash
# t0050-manpage.sh: doc/genv.1 is valid mdoc and keeps up with the binary:
# every command `genv --list-cmds` prints has its `.It Cm NAME` entry under
# COMMANDS (and no entry names a command that does not exist), and every
# subcommand and long option that a command's --help (or a nested
# subcommand's) prints appears in that command's entry.
. "$(dirname "$0")/lib.sh"

MANPAGE="$T_DIR/../doc/genv.1"

# commands_section PAGE: the top-level `.It Cm NAME` entries of the
# COMMANDS list, each line of an entry prefixed with "NAME<TAB>".
commands_section() {
	awk '
	/^\.Sh / { in_cmds = ($0 == ".Sh COMMANDS"); cur = ""; next }
	!in_cmds { next }
	/^\.Bl/ { depth++ }
	/^\.El/ { depth-- }
	depth == 1 && /^\.It Cm / { cur = $3 }
	cur != "" { print cur "\t" $0 }
	' "$1"
}

# help_tree WORDS...: the --help of `genv WORDS` and, recursively, of the
# subcommands it lists under "subcommands..." or "fields:", whose names are
# appended to the file $subs_out. Parsed in the shell: forks are slow
# under the sanitizers.
help_tree() {
	local help line in_subs=0 subs=() sub
	help=$(genv "$@" --help 2>&1) || { echo "genv $* --help failed: $help" >&2; return 1; }
	printf '%s\n' "$help"
	while IFS= read -r line; do
		case $line in
		subcommands*: | fields:) in_subs=1 ;;
		[!\ ]*:) in_subs=0 ;;
		"    "[a-z]*) if [ $in_subs = 1 ]; then sub=${line#    }; subs+=("${sub%% *}"); fi ;;
		esac
	done <<<"$help"
	for sub in "${subs[@]}"; do
		echo "$sub" >>"$subs_out"
		help_tree "$@" "$sub" || return 1
	done
}

# want_list: what the page must hold, one "COMMAND<TAB>Cm|Fl<TAB>WORD" line
# each: every subcommand and long option (as mdoc writes it, -name) of
# every command's --help tree; --help itself is documented once, globally.
want_list() {
	local c
	genv --list-cmds >"$TRASH/cmds" && test -s "$TRASH/cmds" || return 1
	while read -r c; do
		subs_out="$TRASH/subs.$c"
		: >"$subs_out"
		help_tree "$c" >"$TRASH/tree.$c" || return 1
	done <"$TRASH/cmds"
	(cd "$TRASH" && awk '
	FNR == 1 { c = FILENAME; sub(/^[a-z]+\./, "", c) }
	FILENAME ~ /^subs\./ { print c "\tCm\t" $0; next }
	{
		while (match($0, /--[a-z][a-z0-9-]*/)) {
			opt = substr($0, RSTART + 1, RLENGTH - 1)
			if (opt != "-help")
				print c "\tFl\t" opt
			$0 = substr($0, RSTART + RLENGTH)
		}
	}
	' subs.* tree.* | sort -u)
}

# check_page PAGE: fails, naming each omission, unless PAGE documents
# exactly the commands of --list-cmds, each with every subcommand and long
# option of its --help tree inside the command's own entry.
check_page() {
	local page=$1 rc=0
	if ! test -s "$TRASH/want"; then
		want_list >"$TRASH/want.new" && mv "$TRASH/want.new" "$TRASH/want" || return 1
	fi
	commands_section "$page" >"$TRASH/section"
	cut -f1 "$TRASH/section" | uniq >"$TRASH/documented"
	test_cmp "$TRASH/cmds" "$TRASH/documented" || rc=1
	awk -F'\t' -v page="$page" '
	FNR == NR {             # the section: which Cm/Fl words each entry has
		n = split($2, w, " ")
		sub(/^\./, "", w[1])
		for (i = 1; i < n; i++)
			if (w[i] == "Cm" || w[i] == "Fl")
				seen[$1 "\t" w[i] "\t" w[i + 1]] = 1
		next
	}
	!($0 in seen) {
		printf "genv %s: %s %s is not in its entry of %s\n", $1,
			$2 == "Cm" ? "subcommand" : "option", ($2 == "Fl" ? "-" : "") $3, page
		missing++
	}
	END { exit missing > 0 }
	' "$TRASH/section" "$TRASH/want" || rc=1
	return $rc
}

if command -v mandoc >/dev/null 2>&1; then
	test_expect_success 'mandoc -Tlint: no warnings or errors' '
		mandoc -Tlint -Wwarning "$MANPAGE" >lint 2>&1
		rc=$?
		cat lint
		test $rc -eq 0 && test ! -s lint
	'
else
	echo "# skipping the mandoc lint: mandoc is not installed (apt-get install mandoc)"
fi

test_expect_success 'the page documents every command, subcommand and long option' '
	check_page "$MANPAGE"
'

test_expect_success 'an undocumented option or command is caught' '
	sed "s/Fl -no-attach/Fl -renamed/" "$MANPAGE" >no-option.1 &&
	test_must_fail check_page no-option.1 >out &&
	grep -qx "genv activate: option --no-attach is not in its entry of no-option.1" out &&
	sed "s/^\.It Cm version\$/.It Cm nosuch/" "$MANPAGE" >renamed.1 &&
	test_must_fail check_page renamed.1 >out &&
	grep -q "^+nosuch" out &&
	sed "/^\.It Cm ps Xo\$/,/^\.Xc\$/s/Cm ps/Cm sp/" "$MANPAGE" >no-sub.1 &&
	test_must_fail check_page no-sub.1 >out &&
	grep -qx "genv devices: subcommand ps is not in its entry of no-sub.1" out
'

test_done
