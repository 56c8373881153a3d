# shellcheck shell=bash
# t/lib-monitor.sh: helpers for the `genv monitor` tests (sourced after
# lib.sh): a watched fake inventory (the fake NVML re-reads it when it
# changes, as a live driver would) and a monitor on a free loopback port.

# inventory_set TEXT: replaces the fake inventory atomically (the fake
# NVML reads a watched file while the monitor runs).
inventory_set() {
	printf '%s\n' "$1" >"$GENV_FAKE_NVML_CONFIG.new" &&
	mv "$GENV_FAKE_NVML_CONFIG.new" "$GENV_FAKE_NVML_CONFIG"
}

# monitor_start [OPTION...]: starts genv monitor on a free loopback port
# (port 0: it says which on stderr) and waits until it serves. Sets
# MONITOR_PID, MONITOR_PORT and MONITOR_URL; stderr goes to monitor.err.
# Call at the top level of a script so that the pid is killed at exit.
monitor_start() {
	: >"$TRASH/monitor.err"
	genv monitor --bind 127.0.0.1 --port 0 "$@" 2>"$TRASH/monitor.err" &
	MONITOR_PID=$!
	test_track_pid $MONITOR_PID
	MONITOR_PORT=
	test_wait_for 20 grep -q "serving http" "$TRASH/monitor.err" || {
		echo "genv monitor did not start:" >&2
		cat "$TRASH/monitor.err" >&2
		return 1
	}
	MONITOR_PORT=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TRASH/monitor.err")
	MONITOR_URL="http://127.0.0.1:$MONITOR_PORT"
}

# scrape [PATH]: GET the monitor's PATH (default /metrics) on stdout.
scrape() { curl -sS --max-time 10 "$MONITOR_URL${1:-/metrics}"; }

# metrics_have LINE...: the current /metrics has each line, exactly.
metrics_have() {
	local out line
	out=$(scrape) || return 1
	for line in "$@"; do
		grep -qxF -- "$line" <<<"$out" || return 1
	done
}

# metrics_lack PATTERN: no line of the current /metrics matches PATTERN (grep -E).
metrics_lack() {
	local out
	out=$(scrape) || return 1
	! grep -qE -- "$1" <<<"$out"
}

# random_port: a port number to try (callers retry when it is taken).
random_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }
