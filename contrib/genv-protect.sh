#!/bin/sh
# genv-protect enable|disable|status: switches this machine's genv between
# the shared mode (genv 1.4.3's, the default) and the protected mode, in
# which no user can touch another user's environments (doc/security.md).
# Installed as PREFIX/sbin/genv-protect with the paths of that install
# filled in; `make install PROTECTED=1` runs `genv-protect enable`, and an
# admin of the Debian package runs it by hand (man genv-protect).
#
# enable [--state-dir STATEDIR] [--group GROUP] [--nvml-library PATH]:
#   the group (a system group nobody needs to be in), the state directory
#   root:GROUP 2770, the record genv.conf (root's; genv reads it from the
#   place its own path gives), and last the setgid bit on the binary, as a
#   dpkg-statoverride when dpkg owns the binary, so that upgrades keep it.
#   Options not given keep what the record says (else the install's
#   defaults). Safe to run again.
# disable: the binary without the bit (and its statoverride), no record
#   (but for the admin's max_envs_per_user); the default state directory
#   shared again (0777, files 0666) with its environments. The group stays.
# status: the mode, and what of it is not as `enable` made it (exit 1).
set -eu
bin='@BINDIR@/genv'
conf='@CONFDIR@/genv.conf'
default_statedir='@STATEDIR@'
default_group='@GROUP@'
me=genv-protect
nl='
'
die() { echo "$me: $*" >&2; exit 1; }

usage() {
	cat >&2 <<EOF
usage: $me enable [--state-dir STATEDIR] [--group GROUP] [--nvml-library PATH]
       $me disable
       $me status
EOF
	exit 2
}

# recorded KEY: its value in the record ("" without one)
recorded() {
	if [ -f "$conf" ]; then sed -n "s/^$1 = //p" "$conf" | tail -n 1; fi
}

# recorded_limit: the admin's max_envs_per_user, which the record keeps
# whatever genv-protect writes (a re-install, disable)
recorded_limit() {
	sed -n 's/^[[:space:]]*max_envs_per_user[[:space:]]*=[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1/p' \
		"$conf" 2>/dev/null | tail -n 1
}

# packaged: dpkg installed the binary (so its mode is dpkg-statoverride's)
packaged() {
	command -v dpkg-statoverride >/dev/null 2>&1 && dpkg-query -S "$bin" >/dev/null 2>&1
}

override() { dpkg-statoverride --list "$bin" 2>/dev/null || true; }

# mode PATH: "owner group octal-mode", as stat prints them
mode() { stat -c '%U %G %a' "$1"; }

check_values() {
	for v in "$bin" "$statedir" ${nvml:+"$nvml"}; do
		case $v in
		/*"$nl"* | /*"#"*) die "'$v': a path with a newline or '#' cannot be recorded" ;;
		/*) ;;
		*) die "'$v' is not an absolute path (PREFIX, STATEDIR and NVML_LIBRARY must be)" ;;
		esac
	done
	case $group in
	'' | -* | *[!A-Za-z0-9_.-]*) die "GROUP '$group' is not a valid group name" ;;
	esac
	[ -z "$nvml" ] || [ -f "$nvml" ] || die "NVML_LIBRARY '$nvml' is not a file"
	[ -f "$bin" ] || die "'$bin' is not installed"
}

# Only genv's own names at the top of an existing state directory: a
# STATEDIR given by mistake (/home, /etc) is refused before it is closed
# and everything in it re-owned.
check_state_names() {
	for entry in "$statedir"/* "$statedir"/.[!.]* "$statedir"/..?*; do
		[ -e "$entry" ] || [ -L "$entry" ] || continue
		case ${entry##*/} in
		envs.json | devices.json | devices.uuids | genv.lock | enforce.log | devices | metrics | slurm) ;;
		.envs.json.tmp* | .devices.json.tmp* | .devices.uuids.tmp* | .enforce.log.tmp*) ;;
		*) die "'$entry' is not one of genv's files: is '$statedir' genv's state directory? (move it away and run again)" ;;
		esac
	done
}

# The state directory. One another user owns may hold anything they
# planted: refused. One of root's (genv 1.4.3's shared 0777 one, say) is
# closed first, so that nothing can be added while its contents are checked.
close_state_dir() {
	[ ! -L "$statedir" ] || die "STATEDIR '$statedir' is a symbolic link"
	if [ -e "$statedir" ]; then
		[ -d "$statedir" ] || die "STATEDIR '$statedir' is not a directory"
		owner=$(stat -c %u "$statedir")
		[ "$owner" -eq 0 ] || die "STATEDIR '$statedir' belongs to uid $owner, and anything in it may have been planted by another user: move it away (its environments are lost) or choose another STATEDIR"
		check_state_names
	else
		(umask 022 && mkdir -p "$(dirname "$statedir")") && mkdir "$statedir"
	fi
	chown 0:"$gid" "$statedir" && chmod 2770 "$statedir"
	find "$statedir" -mindepth 1 -type d -exec chown 0:"$gid" {} + -exec chmod 2770 {} +
	bad=$(find "$statedir" -mindepth 1 \( \( ! -type f ! -type d \) -o \( -type f -links +1 \) \) -print | head -n 1)
	[ -z "$bad" ] || die "'$bad' is not a plain file of its own: remove it (or move '$statedir' away) and run again"
	find "$statedir" -mindepth 1 -type f -exec chown 0:"$gid" {} + -exec chmod 0660 {} +
}

# The record, root's alone, replaced atomically.
write_record() {
	confdir=$(dirname "$conf")
	(umask 022 && mkdir -p "$confdir")
	chown 0:0 "$confdir" && chmod 0755 "$confdir"
	limit=$(recorded_limit)
	cat >"$conf.new" <<EOF
# genv.conf: written by genv-protect enable (doc/security.md).
# genv reads it only while root owns it and nobody else can change it.
protected = 1
state_dir = $statedir
group = $group
gid = $gid
nvml_library = $nvml
EOF
	[ -z "$limit" ] || echo "max_envs_per_user = $limit" >>"$conf.new"
	chown 0:0 "$conf.new" && chmod 0644 "$conf.new"
	mv -f "$conf.new" "$conf"
}

# The privilege, last: a binary that finds no usable record drops it. An
# override of dpkg's that is not ours (another mode) is the admin's: kept.
set_privilege() {
	if packaged; then
		cur=$(override)
		case $cur in
		"root $group 2755 $bin") ;;
		"" | "root $old_group 2755 $bin")
			[ -z "$cur" ] || dpkg-statoverride --quiet --remove "$bin"
			dpkg-statoverride --add root "$group" 2755 "$bin" ;;
		*) die "dpkg-statoverride records '$cur' for $bin: remove it (dpkg-statoverride --remove $bin) and run again" ;;
		esac
	fi
	chgrp "$gid" "$bin" && chmod 2755 "$bin"
}

enable() {
	statedir=$(recorded state_dir) group=$(recorded group) nvml=$(recorded nvml_library)
	old_group=$group
	statedir=${statedir:-$default_statedir} group=${group:-$default_group}
	while [ $# -gt 0 ]; do
		case $1 in
		--state-dir=*) statedir=${1#*=} ;;
		--group=*) group=${1#*=} ;;
		--nvml-library=*) nvml=${1#*=} ;;
		--state-dir | --group | --nvml-library)
			[ $# -ge 2 ] || usage
			case $1 in
			--state-dir) statedir=$2 ;;
			--group) group=$2 ;;
			*) nvml=$2 ;;
			esac
			shift ;;
		*) usage ;;
		esac
		shift
	done
	[ "$(id -u)" -eq 0 ] || die "run it as root"
	check_values
	getent group "$group" >/dev/null || groupadd --system "$group" ||
		die "cannot create the group '$group'"
	gid=$(getent group "$group" | cut -d: -f3)
	close_state_dir
	write_record
	set_privilege
	# does the installed genv agree? (a prefix or STATEDIR others could
	# change makes it ignore the record or refuse the directory)
	check=$(env -u GENV_TMPDIR -u GENV_NVML_LIBRARY "$bin" envs 2>&1 >/dev/null) ||
		die "the installed genv refuses the set-up: $check"
	[ -z "$check" ] || die "the installed genv warns: $check"
	echo "genv: protected mode: $bin setgid $group, state in $statedir (root:$group 2770)"
}

# Back to the shared mode: the privilege first, so that the binary never
# runs setgid without its record.
disable() {
	[ $# -eq 0 ] || usage
	[ "$(id -u)" -eq 0 ] || die "run it as root"
	statedir=$(recorded state_dir)
	if packaged; then
		case $(override) in
		"root "*" 2755 $bin") dpkg-statoverride --quiet --remove "$bin" ;;
		esac
	fi
	if [ -f "$bin" ] && [ -g "$bin" ]; then chgrp 0 "$bin" && chmod 0755 "$bin"; fi
	limit=$(recorded_limit)
	if [ -n "$limit" ]; then
		printf '# genv.conf: written by genv-protect disable (doc/security.md).\nprotected = 0\nmax_envs_per_user = %s\n' \
			"$limit" >"$conf.new"
		chown 0:0 "$conf.new" && chmod 0644 "$conf.new" && mv -f "$conf.new" "$conf"
	else
		rm -f "$conf"
		rmdir "$(dirname "$conf")" 2>/dev/null || true
	fi
	if [ -n "$statedir" ] && [ "$statedir" = "$default_statedir" ] && [ -d "$statedir" ] &&
		[ ! -L "$statedir" ] && [ "$(stat -c %u "$statedir")" -eq 0 ]; then
		# (a numeric mode would keep a directory's setgid bit)
		chown 0:0 "$statedir" && chmod a=rwx,g-s "$statedir"
		# genv's state, not root's monitor files (genv monitor's default)
		find "$statedir" -mindepth 1 -path "$statedir/metrics" -prune -o \
			-type d -exec chown 0:0 {} + -exec chmod a=rwx,g-s {} +
		find "$statedir" -mindepth 1 -path "$statedir/metrics" -prune -o \
			-type f -exec chown 0:0 {} + -exec chmod 0666 {} +
		echo "genv: shared mode: state in $statedir (0777) for every user"
	else
		note=
		[ -z "$statedir" ] || note="; '$statedir' (the protected state) is no longer used"
		echo "genv: shared mode$note"
	fi
}

# one line a finding; exit 1 when something differs from what enable makes
status() {
	[ $# -eq 0 ] || usage
	if [ "$(recorded protected)" != 1 ]; then
		echo "shared: no protected record in $conf"
		if [ -g "$bin" ]; then echo "but $bin is set-group-ID ($(mode "$bin"))"; return 1; fi
		return 0
	fi
	statedir=$(recorded state_dir) group=$(recorded group)
	how=
	if packaged; then how=" (dpkg-statoverride: $(override))"; fi
	echo "protected: $bin setgid $group$how, state in $statedir, record $conf"
	rc=0
	[ "$(mode "$bin")" = "root $group 2755" ] || { echo "but $bin is $(mode "$bin"), not root $group 2755"; rc=1; }
	if [ -d "$statedir" ] && [ ! -L "$statedir" ]; then
		[ "$(mode "$statedir")" = "root $group 2770" ] ||
			{ echo "but $statedir is $(mode "$statedir"), not root $group 2770"; rc=1; }
	else
		echo "but $statedir is missing (root's genv makes it again)"; rc=1
	fi
	return $rc
}

case ${1-} in
enable | disable | status)
	cmd=$1
	shift
	"$cmd" "$@"
	;;
*) usage ;;
esac
