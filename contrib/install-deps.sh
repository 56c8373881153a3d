#!/bin/sh
# contrib/install-deps.sh: installs the Debian packages genv needs to build,
# test and run its demo, when they are missing. Run as root (or with sudo
# available); otherwise it prints the apt-get command to run and fails.
#
# prometheus and chromium are for the tests of genv monitor (t5000-t5100),
# which start their own instances on random loopback ports; Debian's
# prometheus package also enables a system service on port 9090, which
# genv does not need (`systemctl disable --now prometheus`).
#
# debhelper, dpkg-dev, fakeroot and lintian build and check the Debian
# package (make deb, t7000).
#
# slurmctld, slurmd, slurm-client and munge are for t8000-slurm, which starts
# its own one-node cluster (t/helpers/slurm.sh); Debian enables their system
# services, which genv does not need.
set -e
pkgs="gcc make pkg-config libjansson-dev libcmocka-dev libmicrohttpd-dev
openssh-server openssh-client tmux bash zsh fish procps util-linux valgrind hyperfine
mandoc curl jq prometheus chromium debhelper dpkg-dev fakeroot lintian
bash-completion slurmctld slurmd slurm-client munge"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "genv: installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
	run=""
elif command -v sudo >/dev/null 2>&1; then
	run="sudo"
else
	echo "genv: run as root: apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -q
# shellcheck disable=SC2086
$run apt-get install -y -q --no-install-recommends $missing
