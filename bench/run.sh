#!/bin/bash
# bench/run.sh: runs every benchmark against the optimised build ($BUILD,
# default build/). Each script prints hyperfine tables or its own numbers.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=$PWD/build}"
export BUILD
status=0
for b in bench/local.sh bench/shell.sh bench/remote.sh bench/enforce.sh bench/monitor.sh bench/shim.sh bench/slurm.sh \
	bench/state-size.sh bench/top.sh; do
	[ -f "$b" ] || continue
	echo "=== $b"
	bash "$b" || status=1
done
exit $status
