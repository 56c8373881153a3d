#!/bin/sh
# t/check-layers.sh: the layering rules, checked by grep (run by `make
# test` and so by `make check`; see the Makefile's layer-check).
#
#  1. src/cli parses, calls one library function and prints: it never
#     takes the state lock, loads or saves state files, or walks /proc.
#  2. Layers point downward: nothing below src/cli includes "cli/", and
#     src/util includes nothing of genv's other layers, and each layer
#     between includes only those below it (allowed_below, the picture in
#     doc/architecture.md).
cd "$(dirname "$0")/.." || exit 1
status=0

fail() {
	echo "layer-check: $1" >&2
	status=1
}

state_work='store_txn|store_load|store_save|store_lock|store_unlock|state_save|flock *\(|"/proc|opendir *\(|readdir *\('
for f in src/cli/*.c src/cli/*.h; do
	if hits=$(grep -nE "$state_work" "$f"); then
		printf '%s\n' "$hits" | sed "s|^|$f:|" >&2
		fail "$f does state work that belongs in the library (src/core)"
	fi
done

if hits=$(grep -rn '#include "cli/' src/core src/gpu src/util src/remote src/shell src/metrics src/shim src/top); then
	printf '%s\n' "$hits" >&2
	fail "a library layer includes the CLI"
fi

if hits=$(grep -rnE '#include "(core|gpu|remote|shell|metrics|shim|cli)/' src/util); then
	printf '%s\n' "$hits" >&2
	fail "src/util includes a genv layer above it"
fi

# each library layer, then the genv layers below it that it may include
allowed_below='gpu:
core: gpu
shell:
remote: core gpu
shim: core gpu
metrics: core gpu remote
top: core gpu remote'
for layer in gpu core shell remote shim metrics top; do
	allowed=$(printf '%s\n' "$allowed_below" | sed -n "s/^$layer://p")
	for used in $(grep -ohE '#include "(core|gpu|remote|shell|metrics|shim|top)/' src/"$layer"/*.[ch] |
		sed 's/#include "//; s|/$||' | sort -u); do
		[ "$used" = "$layer" ] && continue
		case " $allowed " in
		*" $used "*) ;;
		*) grep -n "#include \"$used/" src/"$layer"/*.[ch] >&2
		   fail "src/$layer includes src/$used, which is not below it" ;;
		esac
	done
done

[ $status -eq 0 ] && echo "layer-check: ok"
exit $status
