#!/bin/bash
# bench/state-size.sh: how genv copes with a huge shared state, as a
# hostile user (or a runaway script) can make it: 10k and 100k
# environments, every one alive (one shared sleeping pid) and attached to
# one of 8 fake GPUs with a small memory share. The state files are made by
# an awk generator in 1.4.3's exact layout (seconds, not the hours that
# 100k `genv envs activate` would take). For each size it times, best of
# RUNS runs:
#   genv envs                          read envs.json (with cleanup)
#   genv devices                       read both files (attachment cleanup)
#   genv envs activate --eid ...       a write: load, add, save envs.json
#   genv devices attach --eid ...      a write: load both, attach, save
#   the same activate by another user  (run as root, with setpriv): what
#                                      the per-user limit's count adds
# (wall and CPU time of the fastest run) and compares the wall time of
# `genv envs` with 100k environments with the target (GENV_BENCH_TARGET_MS,
# default 1000 ms); exits 1 if it is slower.
# Knobs: BUILD, GENV_BENCH_RUNS (default 3), GENV_BENCH_SIZES (default
# "10000 100000").
set -u
TARGET_MS=${GENV_BENCH_TARGET_MS:-1000}
RUNS=${GENV_BENCH_RUNS:-3}
SIZES=${GENV_BENCH_SIZES:-10000 100000}
. "$(dirname "$0")/lib.sh"
bench_init state-size
chmod 0755 "$WORK"   # the other user of the last row reads the state
export GENV_MAX_ENVS_PER_USER=0
NGPUS=8
bench_fake_gpus $NGPUS

bench_bg sleep 100000
LIVE=$!
OTHER_LIVE=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	bench_bg setpriv --reuid=65534 --regid=65534 --clear-groups sleep 100000
	OTHER_LIVE=$!
fi
uid=$(id -u)

# generate N: envs.json and devices.json with N live environments, env-i
# attached to device i % NGPUS with 1mi (json.dump(indent=2) layout)
generate() {
	mkdir -p "$GENV_TMPDIR"
	rm -f "$GENV_TMPDIR"/*.json "$GENV_TMPDIR"/devices.uuids
	awk -v n="$1" -v pid="$LIVE" -v uid="$uid" -v stamp="$(date '+%d/%m/%Y %H:%M:%S')" 'BEGIN {
		printf "{\n  \"envs\": ["
		for (i = 0; i < n; i++) {
			printf "%s\n    {\n      \"eid\": \"env-%d\",\n      \"uid\": %d,\n", i ? "," : "", i, uid
			printf "      \"creation\": \"%s\",\n      \"username\": \"user-%d\",\n", stamp, i % 100
			printf "      \"config\": {\n        \"name\": \"project-%d\",\n", i
			printf "        \"gpu_memory\": \"1mi\",\n        \"gpus\": 1\n      },\n"
			printf "      \"pids\": [\n        %d\n      ],\n      \"kernel_ids\": []\n    }", pid
		}
		printf "\n  ]\n}"
	}' >"$GENV_TMPDIR/envs.json"
	awk -v n="$1" -v g="$NGPUS" -v stamp="$(date '+%d/%m/%Y %H:%M:%S')" 'BEGIN {
		printf "{\n  \"devices\": [\n"
		for (d = 0; d < g; d++) {
			printf "    {\n      \"index\": %d,\n      \"total_memory\": \"81920mi\",\n", d
			printf "      \"attachments\": ["
			k = 0
			for (i = d; i < n; i += g) {
				printf "%s\n        {\n          \"eid\": \"env-%d\",\n", k++ ? "," : "", i
				printf "          \"gpu_memory\": \"1mi\",\n          \"time\": \"%s\"\n        }", stamp
			}
			printf "\n      ]\n    }%s\n", d < g - 1 ? "," : ""
		}
		printf "  ]\n}"
	}' >"$GENV_TMPDIR/devices.json"
}

# best_ms CMD...: "WALL CPU" of the fastest of RUNS runs of CMD, in ms
# (CPU = user + system: what the command costs on a busy machine)
best_ms() {
	local best= cpu= k wall user sys TIMEFORMAT='%3R %3U %3S'
	for ((k = 0; k < RUNS; k++)); do
		{ time "$@" >/dev/null 2>"$WORK/err"; } 2>"$WORK/time" ||
			{ echo "bench/state-size.sh: '$*' failed:" >&2; cat "$WORK/err" >&2; return 1; }
		read -r wall user sys <"$WORK/time"
		wall=$(awk -v w="$wall" 'BEGIN { printf "%d", w * 1000 }')
		if [ -z "$best" ] || [ "$wall" -lt "$best" ]; then
			best=$wall
			cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')
		fi
	done
	echo "$best $cpu"
}

status=0
printf '%-8s %-36s %10s %10s\n' envs command "wall (ms)" "cpu (ms)"
for n in $SIZES; do
	t0=$(date +%s%N)
	generate "$n"
	t1=$(date +%s%N)
	printf '%-8s %-36s %10d %10s   (envs.json %d bytes)\n' "$n" "(generate both files)" \
		$(((t1 - t0) / 1000000)) "" "$(stat -c %s "$GENV_TMPDIR/envs.json")"
	names=("genv envs" "genv devices" "genv envs activate (write)" "genv devices attach (write)")
	cmds=("$GENV envs" "$GENV devices"
	      "$GENV envs activate --eid bench-new --uid $uid --pid $LIVE"
	      "$GENV devices attach --eid env-1 --count 1")
	# all n environments are the caller's: the per-user limit is lifted
	# (GENV_MAX_ENVS_PER_USER=0), except for another user (uid 65534)
	# whose new environment (a new eid each run) counts them all, or not
	if [ -n "$OTHER_LIVE" ]; then
		chmod 0644 "$GENV_FAKE_NVML_CONFIG" && chmod 0777 "$GENV_TMPDIR" &&
			chmod 0666 "$GENV_TMPDIR"/*.json
		as_other="setpriv --reuid=65534 --regid=65534 --clear-groups"
		new="sh -c 'exec $GENV envs activate --eid bench-user-\$\$ --uid 65534 --pid $OTHER_LIVE'"
		names+=("... by another user, limit lifted" "... by another user, limit 256")
		cmds+=("$as_other $new" "env -u GENV_MAX_ENVS_PER_USER $as_other $new")
	fi
	for ((k = 0; k < ${#cmds[@]}; k++)); do
		read -r ms cpu < <(best_ms eval "${cmds[$k]}") || exit 1
		[ -n "$ms" ] || exit 1
		verdict=
		if [ "$n" -eq 100000 ] && [ $k -eq 0 ]; then
			verdict="target <= $TARGET_MS ms: ok"
			[ "$ms" -le "$TARGET_MS" ] || { verdict="target <= $TARGET_MS ms: SLOW"; status=1; }
		fi
		printf '%-8s %-36s %10d %10d   %s\n' "$n" "${names[$k]}" "$ms" "$cpu" "$verdict"
	done
done
exit $status
