#!/usr/bin/env bash
# t1300-shell-injection.sh: values that reach the shell through eval
# (environment names, ids) stay literal in bash, zsh and fish, whatever
# quotes, $(...), backquotes or newlines they hold.
. "$(dirname "$0")/lib.sh"

fake_gpus 2

names_file=$TRASH/names
{
	printf '%s\n' "x\"; touch $TRASH/pwned; \""
	printf '%s\n' "\$(touch $TRASH/pwned2)"
	printf '%s\n' "\`touch $TRASH/pwned3\`"
	printf '%s\n' "it's 'quoted' \\ and \"double\""
	printf '%s\n' "  two   spaces  "
	printf '%s\n' "-n"
	printf '%s\n' "=cmd"
	printf '%s\n' "%self"
	printf '%s\n' "~root"
} >"$names_file"

for sh in bash zsh; do
	test_expect_success "$sh: hostile names stay literal (activate, config, status)" '
		while IFS= read -r name; do
			NAME=$name '"$sh"' -c "
				eval \"\$(genv shell --init)\"
				genv activate --name=\"\$NAME\" --no-prompt || exit 1
				printf \"%s\n\" \"\$GENV_ENVIRONMENT_NAME\" >got-env
				genv config name >got-config
				genv status | sed -n \"s/^    Name: //p\" >got-status
				genv config name -- \"\$NAME\" || exit 1
				printf \"%s\n\" \"\$GENV_ENVIRONMENT_NAME\" >>got-env
				genv deactivate
			" || exit 1
			printf "%s\n" "$name" "$name" >expect &&
			test_cmp expect got-env &&
			printf "%s\n" "$name" >expect &&
			test_cmp expect got-config &&
			test_cmp expect got-status || exit 1
		done <"$names_file" &&
		test ! -e pwned && test ! -e pwned2 && test ! -e pwned3
	'

	test_expect_success "$sh: a name with a newline stays one value" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --name \"line1
\\\$(touch pwned4)\" --no-prompt || exit 1
			printf \"%s|\" \"\$GENV_ENVIRONMENT_NAME\" >got
			genv deactivate
		" &&
		printf "line1\n\$(touch pwned4)|" >expect && test_cmp expect got &&
		test ! -e pwned4
	'

	test_expect_success "$sh: hostile --id values are quoted" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --id \"a;touch pwned5 \\\$(touch pwned6)\" --no-prompt || exit 1
			printf \"%s\n\" \"\$GENV_ENVIRONMENT_ID\" >got
			genv deactivate
		" &&
		echo "a;touch pwned5 \$(touch pwned6)" >expect && test_cmp expect got &&
		test ! -e pwned5 && test ! -e pwned6
	'
done

test_expect_success 'fish: hostile names stay literal' '
	while IFS= read -r name; do
		NAME=$name fish -c "
			genv shell --init fish | source
			genv activate --name=\"\$NAME\" --no-prompt; or exit 1
			printf \"%s\n\" \"\$GENV_ENVIRONMENT_NAME\" >got-env
			genv config name >got-config
			genv config name -- \"\$NAME\"; or exit 1
			printf \"%s\n\" \"\$GENV_ENVIRONMENT_NAME\" >>got-env
			genv deactivate
		" || exit 1
		printf "%s\n" "$name" "$name" >expect &&
		test_cmp expect got-env &&
		printf "%s\n" "$name" >expect &&
		test_cmp expect got-config || exit 1
	done <"$names_file" &&
	test ! -e pwned && test ! -e pwned2 && test ! -e pwned3
'

test_expect_success 'fish: a name with a newline and an --id with quotes' '
	fish -c "
		genv shell --init fish | source
		genv activate --id \"x'\''y \\\\ (touch pwned7)\" --name \"a
(touch pwned8)\" --no-prompt; or exit 1
		printf \"%s|\" \"\$GENV_ENVIRONMENT_ID\" \"\$GENV_ENVIRONMENT_NAME\" >got
		genv deactivate
	" &&
	printf "x'\''y \\\\ (touch pwned7)|a\n(touch pwned8)|" >expect && test_cmp expect got &&
	test ! -e pwned7 && test ! -e pwned8
'

test_done
