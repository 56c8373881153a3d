# bash completion for genv. The words come from `genv __complete`, which
# walks genv's own option tables: they always match the installed genv.
# Installed as bash-completion's completions/genv (loaded on first use).
_genv() {
	local -a words=() reply=()
	local i w prev line cur files=0

	# bash splits "--format=csv" at '=': join the pieces back for genv
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		prev=${words[*]: -1}
		if ((i > 0)) && [[ $prev == --* && ($w == = || $prev == *=) ]]; then
			words[${#words[@]}-1]+=$w
		else
			words+=("$w")
		fi
	done
	cur=${words[*]: -1}
	while IFS= read -r line; do
		if [[ $line == :files ]]; then
			files=1
		elif [[ -n $line ]]; then
			line=${line%%$'\t'*}
			# bash replaces only the part after the last '='
			[[ $cur == --*=* ]] && line=${line#*=}
			reply+=("$line")
		fi
	done < <(command genv __complete "${words[@]}" 2>/dev/null)
	COMPREPLY=("${reply[@]}")
	if ((files)); then
		compopt -o default 2>/dev/null
	fi
	return 0
}
complete -F _genv genv
