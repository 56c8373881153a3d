#!/bin/sh
# contrib/install-protected.sh DESTDIR PREFIX STATEDIR GROUP NVML_LIBRARY
#
# The root part of `make install PROTECTED=1` (doc/security.md), run after
# the files are installed: the group, the state directory root:GROUP 2770,
# the record PREFIX/etc/genv/genv.conf, and last the setgid bit on
# PREFIX/bin/genv. Safe to run again (an upgrade, another STATEDIR).
set -eu
destdir=$1 prefix=$2 statedir=$3 group=$4 nvml=$5
nl='
'
die() { echo "make install PROTECTED=1: $*" >&2; exit 1; }

[ -z "$destdir" ] || die "not with DESTDIR: it sets up this machine (a group, a setgid binary, a root-owned state directory)"
[ "$(id -u)" -eq 0 ] || die "run it as root"
for v in "$prefix" "$statedir" ${nvml:+"$nvml"}; do
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

# 1. the group (a system group: nobody is a member, only the binary uses it)
getent group "$group" >/dev/null || groupadd --system "$group" ||
	die "cannot create the group '$group'"
gid=$(getent group "$group" | cut -d: -f3)

# 2. the state directory. One another user owns may hold anything they
# planted: refuse it. One of root's (genv 1.4.3's shared 0777 one, say) is
# closed first, so that nothing can be added while its contents are checked.
[ ! -L "$statedir" ] || die "STATEDIR '$statedir' is a symbolic link"
if [ -e "$statedir" ]; then
	[ -d "$statedir" ] || die "STATEDIR '$statedir' is not a directory"
	owner=$(stat -c %u "$statedir")
	[ "$owner" -eq 0 ] || die "STATEDIR '$statedir' belongs to uid $owner, and anything in it may have been planted by another user: move it away (its environments are lost) or choose another STATEDIR"
else
	(umask 022 && mkdir -p "$(dirname "$statedir")") && mkdir "$statedir"
fi
chown 0:"$gid" "$statedir" && chmod 2770 "$statedir"
find "$statedir" -mindepth 1 -type d -exec chown 0:"$gid" {} + -exec chmod 2770 {} +
bad=$(find "$statedir" -mindepth 1 \( \( ! -type f ! -type d \) -o \( -type f -links +1 \) \) -print | head -n 1)
[ -z "$bad" ] || die "'$bad' is not a plain file of its own: remove it (or move '$statedir' away) and run again"
find "$statedir" -mindepth 1 -type f -exec chown 0:"$gid" {} + -exec chmod 0660 {} +

# 3. the record, root's alone
confdir="$prefix/etc/genv"
(umask 022 && mkdir -p "$confdir")
chown 0:0 "$confdir" && chmod 0755 "$confdir"
# an administrator's limit of environments per user survives a re-install
limit=$(sed -n 's/^[[:space:]]*max_envs_per_user[[:space:]]*=[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1/p' \
	"$confdir/genv.conf" 2>/dev/null | tail -n 1)
cat >"$confdir/genv.conf.new" <<EOF
# genv.conf: written by \`make install PROTECTED=1\` (doc/security.md).
# genv reads it only while root owns it and nobody else can change it.
protected = 1
state_dir = $statedir
group = $group
gid = $gid
nvml_library = $nvml
EOF
[ -z "$limit" ] || echo "max_envs_per_user = $limit" >>"$confdir/genv.conf.new"
chown 0:0 "$confdir/genv.conf.new" && chmod 0644 "$confdir/genv.conf.new"
mv -f "$confdir/genv.conf.new" "$confdir/genv.conf"

# 4. the privilege, last: a binary that finds no usable record drops it
chgrp "$gid" "$prefix/bin/genv" && chmod 2755 "$prefix/bin/genv"

# 5. does the installed genv agree? (a PREFIX or STATEDIR others could
# change makes it ignore the record or refuse the directory)
check=$(env -u GENV_TMPDIR -u GENV_NVML_LIBRARY "$prefix/bin/genv" envs 2>&1 >/dev/null) ||
	die "the installed genv refuses the set-up: $check"
[ -z "$check" ] || die "the installed genv warns: $check"
echo "genv: protected mode: $prefix/bin/genv setgid $group, state in $statedir (root:$group 2770)"
