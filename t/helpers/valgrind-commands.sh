#!/bin/bash
# t/helpers/valgrind-commands.sh: runs the everyday commands of the plain
# (non-sanitized) build under valgrind against the fake NVML, and fails on
# any memory error or leak. Called by `make valgrind` (part of make check).
set -u
: "${BUILD:?}"
GENV=$BUILD/bin/genv
W=$(mktemp -d /tmp/genv-valgrind.XXXXXX)
sleep 600 &
holder=$!
trap 'kill $holder 2>/dev/null; wait $holder 2>/dev/null; rm -rf "$W"' EXIT
for v in $(env | sed -n 's/^\(GENV_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export GENV_TMPDIR=$W/state GENV_NVML_LIBRARY=$BUILD/t/fake-nvml/libnvidia-ml.so.1 \
	GENV_FAKE_NVML_CONFIG=$W/gpus.conf HOME=$W
for i in 0 1 2 3; do echo "gpu $i GPU-0000000$i-0000-4000-8000-000000000000 16384 Fake GPU"; done >"$W/gpus.conf"
echo "proc 1 $holder 512" >>"$W/gpus.conf"

vg() {
	if ! valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$GENV" "$@" >"$W/out" 2>"$W/err"; then
		if grep -q '^==[0-9]*==' "$W/err"; then
			cat "$W/err"
			echo "valgrind: genv $* has memory errors"
			exit 1
		fi
	fi
	echo "valgrind: genv $* clean"
}

vg envs activate --eid v1 --uid 0 --username root --pid $holder
vg envs config --eid v1 name --name 'valgrind env'
vg devices attach --eid v1 --count 2
vg devices
vg devices query --query index eids total_memory attachments
vg envs --format csv
vg usage snapshot
vg top --once
vg activate --shell $$ --id v1 --inline
GENV_SHELL=1 GENV_ENVIRONMENT_ID=v1 CUDA_VISIBLE_DEVICES=0,1 vg status
vg shell --init zsh
vg enforce --interval 0 --dry-run --non-env-processes --no-audit-log
vg exec --gpus 1 -- true
vg envs config --eid v1 name --name llm/llama2/11434
vg llm ps --format csv
vg llm attach nosuch
vg envs config --eid v1 name --name 'valgrind env'
vg remote -H 'bad host' devices
vg devices detach --eid v1
vg envs deactivate --pid $holder

# genv monitor: both threads at work (collections every second, requests
# of every kind), then SIGTERM, which must leave nothing behind
if command -v curl >/dev/null; then
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$GENV" monitor --bind 127.0.0.1 --port 0 --interval 1 --config-dir "$W/metrics" \
		>"$W/out" 2>"$W/err" &
	mon=$!
	for _ in $(seq 300); do grep -q "serving http" "$W/err" && break; sleep 0.1; done
	port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$W/err")
	for round in 1 2 3; do
		for path in /metrics /api/snapshot / /nope; do
			curl -s -o /dev/null --max-time 20 "http://127.0.0.1:$port$path"
		done
		curl -s -o /dev/null --max-time 20 -X POST -d x "http://127.0.0.1:$port/metrics"
		sleep 1.2
	done
	kill -TERM $mon
	wait $mon
	rc=$?
	if [ -z "$port" ] || [ $rc -ne 0 ] || grep -q '^==[0-9]*==' "$W/err"; then
		cat "$W/err"
		echo "valgrind: genv monitor has memory errors or did not stop cleanly (exit $rc)"
		exit 1
	fi
	echo "valgrind: genv monitor clean"
fi
