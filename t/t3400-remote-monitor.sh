#!/usr/bin/env bash
# t3400-remote-monitor.sh: `genv remote ... monitor` over real sshd hosts
# on loopback: every host's genv_* series with hostname as their first
# label (1.4.3's gauges byte for byte), genv_is_installed 0 for a host
# without genv, promtool, one ssh session per host whatever the number of
# scrapes and refreshes, a host whose sshd is killed dropped while the
# others keep refreshing and brought back when it returns, and SIGTERM
# ending it all.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/helpers/fakehosts.sh"
. "$T_DIR/lib-sshlog.sh"
. "$T_DIR/lib-monitor.sh"

command -v curl >/dev/null || { echo "# skipping t3400: curl is not installed"; test_done; exit; }

FAKEHOSTS_GPUS=1 fakehosts_setup 3
H1=$(fakehost_dir gpu-server-1)
H2=$(fakehost_dir gpu-server-2)
H3=$(fakehost_dir gpu-server-3)
ME=$(id -un)
printf '%s\n' gpu-server-1 gpu-server-2 gpu-server-3 >"$TRASH/hosts"

# gpu-server-3 has no genv: its shell says so, as sh does
printf '#!/bin/sh\necho "sh: 1: genv: not found" >&2\nexit 127\n' >"$H3/bin/genv"
chmod +x "$H3/bin/genv"

# every ssh genv starts is logged, one line per host
sshlog_setup || exit 1

# a holder on gpu-server-1, and a process of it on the GPU
GENV_ENVIRONMENT_ID=r1 sleep 600 &
HOLDER=$!
test_track_pid $HOLDER
echo "util 0 42 7" >>"$H1/gpus.conf"
echo "proc 0 $HOLDER 1024" >>"$H1/gpus.conf"
ssh gpu-server-1 "genv envs activate --eid r1 --uid $(id -u) --username $ME --pid $HOLDER &&
	genv envs config --eid r1 name --name train && genv devices attach --eid r1 --index 0" >/dev/null ||
	exit 1

# the exporter, on a free loopback port (see lib-monitor.sh); its exit
# status goes to monitor.rc
: >"$TRASH/ssh.log"
(
	genv remote --hostfile "$TRASH/hosts" monitor --bind 127.0.0.1 --port 0 --interval 1 \
		--config-dir "$TRASH/config" 2>"$TRASH/monitor.err"
	echo $? >"$TRASH/monitor.rc"
) &
test_track_pid $!
test_wait_for 20 grep -q "serving http" "$TRASH/monitor.err" || { cat "$TRASH/monitor.err"; exit 1; }
MONITOR_PID=$(pgrep -P $! -x genv)
test_track_pid $MONITOR_PID
MONITOR_PORT=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TRASH/monitor.err")
MONITOR_URL="http://127.0.0.1:$MONITOR_PORT"

test_expect_success 'it says where it serves, and publishes the config files' '
	echo "genv remote monitor: serving http://127.0.0.1:$MONITOR_PORT/metrics for 3 hosts; config files in $TRASH/config" >expect &&
	head -n 1 monitor.err >actual &&
	test_cmp expect actual &&
	grep -q "targets: \[.localhost:$MONITOR_PORT.\]" config/prometheus/prometheus.yml
'

test_expect_success 'every host, hostname first, 1.4.3 gauges byte for byte' '
	test_wait_for 20 metrics_have \
		"genv_is_installed{hostname=\"gpu-server-1\"} 1.0" \
		"genv_is_installed{hostname=\"gpu-server-3\"} 0.0" \
		"genv_device_utilization{hostname=\"gpu-server-1\",index=\"0\"} 42.0" \
		"genv_device_memory_total_bytes{hostname=\"gpu-server-2\",index=\"0\"} 1.7179869184e+010" \
		"genv_device_memory_used_bytes{hostname=\"gpu-server-1\",index=\"0\"} 1.073741824e+09" \
		"genv_device_temperature{hostname=\"gpu-server-1\",index=\"0\"} 40.0" \
		"genv_environments_total{hostname=\"gpu-server-1\"} 1.0" \
		"genv_environments_total{hostname=\"gpu-server-2\"} 0.0" \
		"genv_environment_attached_devices_total{eid=\"r1\",hostname=\"gpu-server-1\"} 1.0" \
		"genv_environment_processes_total{eid=\"r1\",hostname=\"gpu-server-1\"} 1.0" \
		"genv_process_devices_total{eid=\"r1\",hostname=\"gpu-server-1\",pid=\"$HOLDER\"} 1.0" \
		"genv_process_used_gpu_memory_bytes{device=\"0\",eid=\"r1\",hostname=\"gpu-server-1\",pid=\"$HOLDER\"} 1.073741824e+09" \
		"genv_user_environments_total{hostname=\"gpu-server-1\",username=\"$ME\"} 1.0" \
		"genv_users_total{hostname=\"gpu-server-1\"} 1.0" ||
	{ scrape | grep -v "^#"; false; } &&
	scrape >metrics &&
	! grep -q "hostname=\"gpu-server-3\",index" metrics &&
	! grep -q "^genv_environments_total{hostname=\"gpu-server-3\"" metrics &&
	grep -q "^genv_exporter_scrape_duration_seconds " metrics
'

if command -v promtool >/dev/null; then
	test_expect_success 'promtool check metrics: parses' '
		scrape >metrics &&
		{ promtool check metrics <metrics >lint 2>&1; rc=$?; } &&
		test $rc -eq 0 -o $rc -eq 3 &&
		! grep -v "non-counter metrics should not have \"_total\" suffix" lint
	'
fi

test_expect_success 'one ssh session per host, however many refreshes and scrapes' '
	n=$(wc -l <ssh.log) &&
	for i in 1 2 3 4 5 6; do scrape >/dev/null || return 1; sleep 0.5; done &&
	test $(sshlog_count gpu-server-1) -eq 1 && test $(sshlog_count gpu-server-2) -eq 1 &&
	test $(wc -l <ssh.log) -le $((n + 2))   # only gpu-server-3, retried with backoff
'

test_expect_success 'a killed host is dropped, the others keep refreshing' '
	fakehosts_stop_pid "$(cat "$H2/run.pid")" &&
	test_wait_for 20 metrics_lack "hostname=\"gpu-server-2\"" &&
	ssh gpu-server-1 "genv envs config --eid r1 name --name renamed" &&
	test_wait_for 20 metrics_have \
		"genv_device_attachment_info{eid=\"r1\",environment=\"renamed\",hostname=\"gpu-server-1\",index=\"0\",username=\"$ME\"} 1.0" ||
	{ scrape | grep attachment_info; false; }
'

test_expect_success 'it is back once its sshd is' '
	fakehosts_start_sshd 2 &&
	test_wait_for 30 metrics_have "genv_is_installed{hostname=\"gpu-server-2\"} 1.0"
'

test_expect_success 'SIGTERM: exit 0, every session ended' '
	kill -TERM $MONITOR_PID &&
	test_wait_for 10 test -s monitor.rc &&
	echo 0 >expect && test_cmp expect monitor.rc &&
	! pgrep -f -- "-F $FAKEHOSTS_SSH_CONFIG" >/dev/null &&
	for h in "$H1" "$H2"; do
		test_wait_for 10 eval "test -z \"\$(fakehosts_children \$(cat $h/run.pid))\"" || return 1
	done
'

test_done
