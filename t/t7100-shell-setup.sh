#!/usr/bin/env bash
# t7100-shell-setup.sh: `sudo make install` with its defaults (PREFIX
# /usr/local, SYSCONFDIR /etc), in a throwaway copy of this machine
# (t/lib-sysroot.sh), gives every new user genv's shell integration in bash,
# zsh and fish with no edits: users made by `useradd -m` log in (su -) and
# run `genv activate --gpus 1` in their login shell, in an interactive one
# typed into through tmux, and in a shell started from it; scripts are left
# alone; make uninstall takes everything back out of /etc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sysroot.sh"

for p in tmux zsh fish; do
	command -v $p >/dev/null || { echo "# $p missing"; test_done; exit; }
done

fake_gpus 2
sysroot_fake_nvml
# the machine's own state directory, if any, is not this test's
rm -rf /var/tmp/genv
cp /etc/bash.bashrc "$TRASH/bash.bashrc" && cp /etc/zsh/zshenv "$TRASH/zshenv" || exit 1

MARK='# genv shell integration (added by genv; removed when genv is uninstalled)'
U_BASH=genvt$$-bash U_ZSH=genvt$$-zsh U_FISH=genvt$$-fish
# as USER CMD: CMD in USER's login shell, as `su -` starts it
as() { su - "$1" -w GENV_NVML_LIBRARY,GENV_FAKE_NVML_CONFIG -c "$2"; }

test_expect_success 'make install puts the integration where each shell reads it, once' '
	make -C "$SRC_DIR" --no-print-directory install BUILD="$BUILD" >out 2>&1 &&
	test -x /usr/local/bin/genv &&
	test "$(stat -c "%U %a" /etc/profile.d/genv.sh)" = "root 644" &&
	test "$(stat -c "%U %a" /etc/fish/conf.d/genv.fish)" = "root 644" &&
	for f in /usr/local/share/bash-completion/completions/genv \
		/usr/local/share/zsh/site-functions/_genv /etc/fish/completions/genv.fish; do
		test "$(stat -c "%U %a" $f)" = "root 644" || { echo "missing: $f"; exit 1; }
	done &&
	test "$(grep -cxF "if [ -r '"'"'/etc/profile.d/genv.sh'"'"' ]; then . '"'"'/etc/profile.d/genv.sh'"'"'; fi $MARK" /etc/bash.bashrc)" = 1 &&
	test "$(grep -cF "$MARK" /etc/zsh/zshenv)" = 1 &&
	test "$(stat -c "%U %G %a" /var/tmp/genv)" = "root root 777" &&
	make -C "$SRC_DIR" --no-print-directory install BUILD="$BUILD" >out 2>&1 &&
	test "$(grep -cF "$MARK" /etc/bash.bashrc)" = 1 &&
	test "$(grep -cF "$MARK" /etc/zsh/zshenv)" = 1
'

sysroot_useradd "$U_BASH" /bin/bash &&
sysroot_useradd "$U_ZSH" /usr/bin/zsh &&
sysroot_useradd "$U_FISH" /usr/bin/fish || exit 1

# the posix and fish scripts every login shell below runs
ACT_SH='genv activate --gpus 1 && echo "cvd=$CUDA_VISIBLE_DEVICES" && genv status | head -n 2 &&
genv deactivate && echo "after=${CUDA_VISIBLE_DEVICES-unset}"'
ACT_FISH='genv activate --gpus 1; and echo "cvd=$CUDA_VISIBLE_DEVICES"; and genv status | head -n 2;
and genv deactivate; and echo after=(set -q CUDA_VISIBLE_DEVICES; and echo set; or echo unset)'
cat >"$TRASH/expect-act" <<EOF
cvd=0
Environment is active (PID)
Attached to GPUs at indices 0
after=unset
EOF
# pid_blind FILE: the environment id (a shell pid) replaced by PID
pid_blind() { sed 's/^Environment is active ([0-9]*)$/Environment is active (PID)/' "$1"; }

test_expect_success 'login shells: genv activate --gpus 1 works for a new bash, zsh and fish user' '
	as $U_BASH "$ACT_SH" >bash.out 2>&1 &&
	pid_blind bash.out >actual && test_cmp "$TRASH/expect-act" actual &&
	as $U_BASH "bash -lc '"'"'$ACT_SH'"'"'" >bash-l.out 2>&1 &&
	pid_blind bash-l.out >actual && test_cmp "$TRASH/expect-act" actual &&
	as $U_ZSH "$ACT_SH" >zsh.out 2>&1 &&
	pid_blind zsh.out >actual && test_cmp "$TRASH/expect-act" actual &&
	as $U_FISH "$ACT_FISH" >fish.out 2>&1 &&
	pid_blind fish.out >actual && test_cmp "$TRASH/expect-act" actual &&
	grep -q "\"envs\": \[\]" /var/tmp/genv/envs.json
'

test_expect_success 'scripts (not login, not interactive) are left alone' '
	as $U_BASH "bash -c \"type -t genv\"" >out 2>&1 &&
	echo file >expect && test_cmp expect out &&
	as $U_ZSH "zsh -c \"whence -w genv\"" >out 2>&1 &&
	echo "genv: command" >expect && test_cmp expect out &&
	as $U_FISH "fish -c \"type -t genv\"" >out 2>&1 &&
	echo file >expect && test_cmp expect out
'

test_expect_success 'a login sh (dash) reads /etc/profile.d/genv.sh without a word' '
	su - $U_BASH -s /bin/sh -c "command -V genv" >out 2>&1 &&
	echo "genv is /usr/local/bin/genv" >expect && test_cmp expect out
'

# ---- interactive shells, typed into through a private tmux server

. "$(dirname "$0")/lib-tmux.sh"
# fish keeps its runtime files in the shared /tmp
test_cleanup_hook='tmux -S "$SOCK" kill-server 2>/dev/null; sysroot_cleanup; rm -rf "/tmp/fish.$U_FISH"'
# newuser S: zsh's first start offers its set-up menu to a user with no
# ~/.zshrc; the user quits it (it comes again at the next start)
newuser() {
	test_wait_for 15 eval "last_line $1 | grep -qx -- \"--- Type one of the keys in parentheses ---\"" &&
	tm send-keys -t "$1" q
}
# login S USER: USER logs in (su -) in a new session S; ready when it answers
login() {
	tm new-session -d -s "$1" -x 200 -y 50 \
		su - "$2" -w GENV_NVML_LIBRARY,GENV_FAKE_NVML_CONFIG &&
	{ [ "$2" != "$U_ZSH" ] || newuser "$1"; } &&
	run "$1" 0 true
}
# activate_in S N USER: genv activate --gpus 1 at S's prompt, which then
# starts with "(genv) "; the shell has GPU 0, and none after deactivate
activate_in() {
	local s=$1 n=$2 home
	home=$(getent passwd "$3" | cut -d: -f6)
	rm -f "$home/cvd"
	run "$s" "$n" "genv activate --gpus 1" &&
	test_wait_for 5 eval "last_line $s | grep -q \"^(genv) \"" &&
	run "$s" "$n.1" "echo \"cvd=\$CUDA_VISIBLE_DEVICES\" >~/cvd" &&
	run "$s" "$n.2" "genv deactivate" &&
	run "$s" "$n.3" "echo \"after=\$CUDA_VISIBLE_DEVICES\" >>~/cvd" &&
	printf "cvd=0\nafter=\n" >expect && test_cmp expect "$home/cvd" &&
	prompt_after "$s" "$n.3" >prompt && ! grep -q "^(genv)" prompt
}

for u in bash zsh fish; do
	eval "user=\$U_${u^^}"
	test_expect_success "interactive $u: a login, then a shell started in it" '
		login s-'$u' '$user' &&
		activate_in s-'$u' 1 '$user' &&
		type_line s-'$u' '$u' &&
		{ [ '$u' != zsh ] || newuser s-'$u'; } &&
		activate_in s-'$u' 2 '$user' &&
		type_line s-'$u' exit &&
		run s-'$u' 3 true &&
		activate_in s-'$u' 4 '$user'
	'
done

# The login shell `genv remote activate` starts on a host (ssh -t, then
# GENV_PREACTIVATE=1 $SHELL -l, src/remote/ssh.c): in its environment, with
# the "(genv) " prompt in front of the one the user's own startup files set
# (Debian's ~/.bashrc sets PS1 after /etc/profile), and that prompt back
# after deactivate.
for u in bash zsh fish; do
	eval "user=\$U_${u^^}"
	test_expect_success "interactive $u: genv remote activate's login shell (GENV_PREACTIVATE)" '
		home=$(getent passwd '$user' | cut -d: -f6) &&
		tm new-session -d -s p-'$u' -x 200 -y 50 env GENV_PREACTIVATE=1 GENV_PREACTIVATE_GPUS=1 \
			su - '$user' -w GENV_NVML_LIBRARY,GENV_FAKE_NVML_CONFIG,GENV_PREACTIVATE,GENV_PREACTIVATE_GPUS &&
		{ [ '$u' != zsh ] || newuser p-'$u'; } &&
		run p-'$u' 0 "echo \"cvd=\$CUDA_VISIBLE_DEVICES\" >~/cvd" &&
		echo cvd=0 >expect && test_cmp expect "$home/cvd" &&
		prompt_after p-'$u' 0 >prompt.genv &&
		run p-'$u' 1 "genv deactivate" &&
		prompt_after p-'$u' 1 >prompt.own &&
		grep "^(genv) " prompt.genv &&
		sed "s/^(genv) //" prompt.genv >expect && test_cmp expect prompt.own &&
		type_line p-'$u' exit
	'
done

test_expect_success 'make uninstall takes the lines out of /etc and the files away' '
	make -C "$SRC_DIR" --no-print-directory uninstall BUILD="$BUILD" >out 2>&1 &&
	test_cmp "$TRASH/bash.bashrc" /etc/bash.bashrc &&
	test_cmp "$TRASH/zshenv" /etc/zsh/zshenv &&
	for f in /usr/local/bin/genv /usr/local/bin/genv-docker /usr/local/bin/genv-container-runtime \
		/etc/profile.d/genv.sh /etc/fish/conf.d/genv.fish \
		/usr/local/share/bash-completion/completions/genv \
		/usr/local/share/zsh/site-functions/_genv /etc/fish/completions/genv.fish \
		/usr/local/libexec/genv /usr/local/share/man/man1/genv.1 /usr/local/share/man/man1/genv-docker.1 \
		/usr/local/lib/systemd/system/genv-enforce.service; do
		test ! -e $f || { echo "left: $f"; exit 1; }
	done &&
	as $U_BASH "bash -lc true" >out 2>&1 &&
	{ test ! -s out || { cat out; false; }; }
'

test_done
