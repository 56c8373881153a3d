# genv's shell integration for bash and zsh, for every user (installed by
# genv as /etc/profile.d/genv.sh). Login shells read it from /etc/profile.d;
# interactive bash and every zsh read it through one line genv adds to
# /etc/bash.bashrc and /etc/zsh/zshenv (Debian has no drop-in directory for
# those). It defines the `genv` shell function, once per shell, in login and
# interactive shells; other shells (sh, dash, ksh), zsh scripts and a
# machine where genv was removed are left alone. Plain POSIX sh: dash
# parses it too (bash and zsh syntax is inside eval).
_genv_want=
if [ -n "${BASH_VERSION-}" ]; then
	_genv_want=1
elif [ -n "${ZSH_VERSION-}" ]; then
	case $- in *[il]*) _genv_want=1 ;; esac
fi
if [ -n "$_genv_want" ] && [ -z "${_genv_integration-}" ]; then
	# a PREFIX outside the default PATH (which login shells reset)
	if ! command -v genv >/dev/null 2>&1 && [ -x '@BINDIR@/genv' ]; then
		PATH=${PATH:+$PATH:}'@BINDIR@'
	fi
	if command -v genv >/dev/null 2>&1 && _genv_want=$(command genv shell --init); then
		_genv_integration=1
		# The shell `genv remote activate` starts (GENV_PREACTIVATE=1)
		# activates at its first prompt, once the user's own startup
		# files have set theirs (bash >= 5.1 runs every element of
		# PROMPT_COMMAND, so a ~/.bashrc setting it keeps ours).
		_genv_hook=
		case ${GENV_PREACTIVATE-}:${GENV_ENVIRONMENT_ID-}:$- in
		1::*i*)
			# shellcheck disable=SC3028 # BASH_VERSINFO: read in bash only
			if [ -n "${ZSH_VERSION-}" ]; then
				_genv_hook='precmd_functions+=(_genv_first_prompt)'
			elif [ "${BASH_VERSINFO-0}" -gt 5 ] ||
			     { [ "${BASH_VERSINFO-0}" -eq 5 ] && eval '[ "${BASH_VERSINFO[1]}" -ge 1 ]'; }; then
				_genv_hook='PROMPT_COMMAND[99]=_genv_first_prompt'
			fi
			;;
		esac
		if [ -n "$_genv_hook" ]; then
			GENV_PREACTIVATE=0
			eval "$_genv_want"
			GENV_PREACTIVATE=1
			_genv_first_prompt() {
				unset -f _genv_first_prompt
				if [ -n "${ZSH_VERSION-}" ]; then
					eval 'precmd_functions=(${precmd_functions:#_genv_first_prompt})'
				else
					unset 'PROMPT_COMMAND[99]'
				fi
				if [ -z "${GENV_ENVIRONMENT_ID-}" ]; then
					eval "$(command genv shell --init)"
				fi
			}
			eval "$_genv_hook"
		else
			eval "$_genv_want"
		fi
		unset _genv_hook
	fi
fi
unset _genv_want
