#!/usr/bin/env bash
# t7000-package.sh: `make deb` builds the Debian package (leaving the build
# under test alone) and lintian finds no error in it; `dpkg -i` installs it (in a throwaway copy of this
# machine, t/lib-sysroot.sh: the machine's own dpkg database and /etc never
# change): genv devices works against the fake NVML, every shell gets the
# integration, the state directory is made; `dpkg -r` then `dpkg -P` leave
# nothing behind: every file and directory the package added is gone and
# /etc/bash.bashrc and /etc/zsh/zshenv are as they were.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-package.sh"

fake_gpus 2
MARK='# genv shell integration (added by genv; removed when genv is uninstalled)'
cp /etc/bash.bashrc "$TRASH/bash.bashrc" && cp /etc/zsh/zshenv "$TRASH/zshenv" || exit 1

test_expect_success 'make deb builds the package; lintian finds no error' '
	{ command -v lintian >/dev/null || { echo "lintian is missing (make deps)"; false; }; } &&
	ls -l --time-style=full-iso "$BUILD/libgenv.a" "$BUILD/bin/genv" >build.before &&
	make -C "$SRC_DIR" --no-print-directory deb DEBDIR="$TRASH/deb" >deb.out 2>&1 &&
	! grep "^E: " deb.out &&
	ls -l --time-style=full-iso "$BUILD/libgenv.a" "$BUILD/bin/genv" >build.after &&
	test_cmp build.before build.after &&
	ls "$TRASH"/deb/genv_*.deb >debs && test "$(wc -l <debs)" = 1
'
DEB=$(cat "$TRASH/debs" 2>/dev/null)

# before: the paths of the package that the machine does not have yet
sysroot_new_paths "$DEB" >"$TRASH/new-paths"

test_expect_success 'dpkg -i installs it: binary, its names and shims, snippets, man page, units, state directory' '
	dpkg -i "$DEB" >out 2>&1 &&
	dpkg-query -W -f="\${Status}\n" genv >status &&
	echo "install ok installed" >expect && test_cmp expect status &&
	dpkg -L genv >files &&
	for f in /usr/bin/genv /usr/bin/genv-docker /usr/bin/genv-container-runtime \
		/usr/libexec/genv/shims/nvidia-smi /usr/libexec/genv/shims/docker \
		/usr/libexec/genv/container/nvidia-smi /etc/profile.d/genv.sh \
		/usr/share/fish/vendor_conf.d/genv.fish /usr/share/man/man1/genv.1.gz \
		/usr/share/bash-completion/completions/genv /usr/share/zsh/vendor-completions/_genv \
		/usr/share/fish/vendor_completions.d/genv.fish \
		/lib/systemd/system/genv-enforce.service /lib/systemd/system/genv-monitor.service; do
		grep -qx "$f" files && test -e "$f" || { echo "missing: $f"; exit 1; }
	done &&
	test "$(readlink -f /usr/libexec/genv/shims/nvidia-smi)" = /usr/bin/genv &&
	test "$(readlink -f /usr/bin/genv-docker)" = /usr/bin/genv &&
	grep -qx "ExecStart=/usr/bin/genv enforce .*" /lib/systemd/system/genv-enforce.service &&
	test "$(stat -c "%U %G %a" /var/tmp/genv)" = "root root 777" &&
	test "$(grep -cF "$MARK" /etc/bash.bashrc)" = 1 &&
	test "$(grep -cF "$MARK" /etc/zsh/zshenv)" = 1
'

test_expect_success 'the package, its binary and its man page carry VERSION' '
	v=$(cat "$SRC_DIR/VERSION") &&
	test "$(dpkg-deb -f "$DEB" Version)" = "$v" &&
	/usr/bin/genv version -v >out &&
	sed -n 2p out | grep -Fx "genv in C $v (a C11 implementation of genv 1.4.3)" &&
	zcat /usr/share/man/man1/genv.1.gz | grep -x "\.Os genv $v"
'

test_expect_success 'genv devices (the installed binary) sees the fake GPUs' '
	/usr/bin/genv devices >out &&
	cat >expect <<-EOF &&
	ID      ENV ID      ENV NAME        ATTACHED
	0                                   
	1                                   
	EOF
	test_cmp expect out
'

# shells as the package leaves them: root, HOME without startup files
shells() {
	env -i HOME="$HOME" TERM=dumb GENV_NVML_LIBRARY="$GENV_NVML_LIBRARY" \
		GENV_FAKE_NVML_CONFIG="$GENV_FAKE_NVML_CONFIG" GENV_TMPDIR="$GENV_TMPDIR" \
		bash -lc "type -t genv" 2>&1
	env -i HOME="$HOME" TERM=dumb zsh -ic "whence -w genv" 2>&1
	env -i HOME="$HOME" TERM=dumb fish -lc "type -t genv" 2>&1
	true
}

test_expect_success 'bash, zsh and fish get the genv function; a login bash activates' '
	shells >out &&
	printf "function\ngenv: function\nfunction\n" >expect && test_cmp expect out &&
	env -i HOME="$HOME" TERM=dumb GENV_NVML_LIBRARY="$GENV_NVML_LIBRARY" \
		GENV_FAKE_NVML_CONFIG="$GENV_FAKE_NVML_CONFIG" GENV_TMPDIR="$GENV_TMPDIR" \
		bash -lc "genv activate --gpus 2 && echo \$CUDA_VISIBLE_DEVICES" >out 2>&1 &&
	echo 0,1 >expect && test_cmp expect out
'

test_expect_success 'reinstalling keeps one line; bash or zsh replacing its file gets it back (trigger)' '
	dpkg -i "$DEB" >out 2>&1 &&
	test "$(grep -cF "$MARK" /etc/bash.bashrc)" = 1 &&
	cp "$TRASH/zshenv" /etc/zsh/zshenv &&
	dpkg-trigger --no-await /etc/zsh/zshenv &&
	dpkg --triggers-only --pending >out 2>&1 &&
	test "$(grep -cF "$MARK" /etc/zsh/zshenv)" = 1
'

test_expect_success 'dpkg -r: the files are gone, the lines too; the conffile left does nothing' '
	dpkg -L genv >files &&
	dpkg -r genv >out 2>&1 &&
	while read -r f; do
		case $f in /etc/profile.d/genv.sh) continue ;; esac
		if grep -qx "$f" "$TRASH/new-paths"; then
			test ! -e "$f" || { echo "left: $f"; exit 1; }
		fi
	done <files &&
	test -f /etc/profile.d/genv.sh &&
	test_cmp "$TRASH/bash.bashrc" /etc/bash.bashrc &&
	test_cmp "$TRASH/zshenv" /etc/zsh/zshenv &&
	shells >out &&
	printf "genv: none\ntype: Could not find '"'"'genv'"'"'\n" >expect && test_cmp expect out
'

test_expect_success 'dpkg -P: nothing the package added is left' '
	dpkg -P genv >out 2>&1 &&
	! dpkg-query -W -f="\${Status}\n" genv 2>/dev/null | grep -q installed &&
	sysroot_none_left "$TRASH/new-paths" &&
	test ! -e /var/tmp/genv &&
	test_cmp "$TRASH/bash.bashrc" /etc/bash.bashrc &&
	test_cmp "$TRASH/zshenv" /etc/zsh/zshenv
'

test_done
