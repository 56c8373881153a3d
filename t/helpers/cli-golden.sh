#!/usr/bin/env bash
# t/helpers/cli-golden.sh CASES OUTDIR: runs `genv ARGS` for every line of
# CASES (shell words; blank lines and '#' comments skipped) and writes one
# file per case to OUTDIR: the command line, the exit status, stdout and
# stderr. t0060 compares them with t/golden/cli; to record a deliberate
# change, run it by hand against a fresh build:
#   PATH=build/bin:$PATH bash t/helpers/cli-golden.sh t/golden/cli/cases t/golden/cli
# No case may touch the state or the network: help and usage errors only.
set -u
cases=$1 outdir=$2
mkdir -p "$outdir" || exit 1
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	eval "args=($line)"
	name=$(printf '%s' "${line:-genv}" | tr -c 'A-Za-z0-9._=-' '_')
	[ -n "$line" ] || name=_
	out=$outdir/$name.out
	{
		printf '$ genv %s\n' "$line"
		genv "${args[@]}" >"$outdir/.stdout" 2>"$outdir/.stderr"
		printf 'exit %d\n--- stdout\n' $?
		cat "$outdir/.stdout"
		printf -- '--- stderr\n'
		cat "$outdir/.stderr"
	} >"$out"
done <"$cases"
rm -f "$outdir/.stdout" "$outdir/.stderr"
