# genv's shell integration for bash and zsh, for every user (installed by
# genv as /etc/profile.d/genv.sh). Login shells read it from /etc/profile.d;
# interactive bash and every zsh read it through one line genv adds to
# /etc/bash.bashrc and /etc/zsh/zshenv (Debian has no drop-in directory for
# those). It defines the `genv` shell function, once per shell, in login and
# interactive shells; other shells (sh, dash, ksh), zsh scripts and a
# machine where genv was removed are left alone.
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
		eval "$_genv_want"
	fi
fi
unset _genv_want
