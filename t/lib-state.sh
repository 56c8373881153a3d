# shellcheck shell=bash
# t/lib-state.sh: writes genv 1.4.3 state files by hand (sourced after
# lib.sh), byte for byte as Python's json.dump(obj, indent=2) lays them out
# (spec §4.4, §4.5): 2-space indent, keys in declaration order, empty lists
# as [], no trailing newline. Tests use these both as inputs with known
# contents and as the expected bytes of files genv writes.

# ago SECONDS: the local time SECONDS ago, as genv stores it.
ago() { date -d "@$(($(date +%s) - $1))" '+%d/%m/%Y %H:%M:%S'; }

# jv VALUE: a JSON string, or null for the word null, or a bare number with -n.
jv() {
	if [ "$1" = null ]; then printf null; else printf '"%s"' "$1"; fi
}

# json_list INDENT ITEM...: a list of already-encoded items.
json_list() {
	local pad=$1 first=1 item
	shift
	if [ $# -eq 0 ]; then printf '[]'; return; fi
	printf '[\n'
	for item in "$@"; do
		[ $first -eq 1 ] || printf ',\n'
		first=0
		printf '%s  %s' "$pad" "$item"
	done
	printf '\n%s]' "$pad"
}

# env_json EID UID CREATION USERNAME NAME GPU_MEMORY GPUS "PIDS" ["KERNEL_IDS"]
# (USERNAME, NAME, GPU_MEMORY, GPUS may be null; lists space-separated)
env_json() {
	local gpus=$7 pids=() kernels=() k
	[ "$gpus" = null ] || gpus=$7
	read -r -a pids <<<"$8"
	for k in ${9:-}; do kernels+=("\"$k\""); done
	printf '    {\n'
	printf '      "eid": %s,\n' "$(jv "$1")"
	printf '      "uid": %s,\n' "$2"
	printf '      "creation": %s,\n' "$(jv "$3")"
	printf '      "username": %s,\n' "$(jv "$4")"
	printf '      "config": {\n'
	printf '        "name": %s,\n' "$(jv "$5")"
	printf '        "gpu_memory": %s,\n' "$(jv "$6")"
	printf '        "gpus": %s\n' "$gpus"
	printf '      },\n'
	printf '      "pids": %s,\n' "$(json_list '      ' "${pids[@]}")"
	printf '      "kernel_ids": %s\n' "$(json_list '      ' "${kernels[@]}")"
	printf '    }'
}

# envs_file ENV_JSON...: the whole envs.json text.
envs_file() {
	local first=1 e
	if [ $# -eq 0 ]; then printf '{\n  "envs": []\n}'; return; fi
	printf '{\n  "envs": [\n'
	for e in "$@"; do
		[ $first -eq 1 ] || printf ',\n'
		first=0
		printf '%s' "$e"
	done
	printf '\n  ]\n}'
}

# device_json INDEX TOTAL [EID GPU_MEMORY TIME]...
device_json() {
	local index=$1 total=$2 atts=() a
	shift 2
	while [ $# -ge 3 ]; do
		a=$(printf '{\n          "eid": %s,\n          "gpu_memory": %s,\n          "time": %s\n        }' \
			"$(jv "$1")" "$(jv "$2")" "$(jv "$3")")
		atts+=("$a")
		shift 3
	done
	printf '    {\n'
	printf '      "index": %s,\n' "$index"
	printf '      "total_memory": "%s",\n' "$total"
	printf '      "attachments": %s\n' "$(json_list '      ' "${atts[@]}")"
	printf '    }'
}

# devices_file DEVICE_JSON...: the whole devices.json text.
devices_file() {
	local first=1 d
	if [ $# -eq 0 ]; then printf '{\n  "devices": []\n}'; return; fi
	printf '{\n  "devices": [\n'
	for d in "$@"; do
		[ $first -eq 1 ] || printf ',\n'
		first=0
		printf '%s' "$d"
	done
	printf '\n  ]\n}'
}

# process_json PID EID [INDEX MiB]...: one process of a processes snapshot.
process_json() {
	local pid=$1 eid=$2 usages=() u
	shift 2
	while [ $# -ge 2 ]; do
		u=$(printf '{\n          "index": %s,\n          "gpu_memory": "%smi"\n        }' "$1" "$2")
		usages+=("$u")
		shift 2
	done
	printf '    {\n'
	printf '      "pid": %s,\n' "$pid"
	printf '      "used_gpu_memory": %s,\n' "$(json_list '      ' "${usages[@]}")"
	printf '      "eid": %s\n' "$(jv "$eid")"
	printf '    }'
}

# processes_file PROCESS_JSON...
processes_file() {
	local first=1 p
	if [ $# -eq 0 ]; then printf '{\n  "processes": []\n}'; return; fi
	printf '{\n  "processes": [\n'
	for p in "$@"; do
		[ $first -eq 1 ] || printf ',\n'
		first=0
		printf '%s' "$p"
	done
	printf '\n  ]\n}'
}

# snapshot_file PROCESSES ENVS DEVICES: the full `genv usage snapshot`
# object (without the final newline the command adds).
snapshot_file() {
	printf '{\n  "processes": %s,\n  "envs": %s,\n  "devices": %s\n}' \
		"$(printf '%s' "$1" | sed '2,$s/^/  /')" \
		"$(printf '%s' "$2" | sed '2,$s/^/  /')" \
		"$(printf '%s' "$3" | sed '2,$s/^/  /')"
}

# spawn_sleeper VAR: starts `sleep 1000`, tracks it, stores its pid in VAR.
# Call at the top level of a script (not inside a test body, which runs in
# a subshell) so that the pid is killed at exit.
spawn_sleeper() {
	sleep 1000 &
	test_track_pid $!
	printf -v "$1" '%s' $!
}

# a pid that is certainly dead (a reaped child of ours)
dead_pid() {
	sh -c 'echo $$' 2>/dev/null
}

# file_id FILE: inode and mtime, to tell whether genv rewrote the file.
file_id() { stat -c '%i %Y.%y' "$1"; }
