#!/usr/bin/env bash
# t5000-monitor.sh: `genv monitor` over the fake NVML: the published config
# files, 1.4.3's 16 gauges byte for byte, our additions, promtool, live
# changes and 1.4.3's cleanup rules, NVML initialised once, the page's
# JSON, and bad requests (unknown path, huge headers, a byte-a-second
# client, 200 connections at once) that never stall other scrapes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-monitor.sh"

for tool in curl jq; do
	command -v $tool >/dev/null || { echo "# skipping t5000: $tool is not installed (contrib/install-deps.sh)"; test_done; exit; }
done

uid=$(id -u)
spawn_in_env() {   # VAR EID: a sleep with GENV_ENVIRONMENT_ID=EID, tracked
	GENV_ENVIRONMENT_ID=$2 sleep 1000 &
	test_track_pid $!
	printf -v "$1" '%s' $!
}
sleep 1000 & S1=$!; test_track_pid $S1
sleep 1000 & S2=$!; test_track_pid $S2
spawn_in_env P1 m1
sleep 1000 & Q=$!; test_track_pid $Q

GPUS="watch
init_log $TRASH/nvml-inits
gpu 0 GPU-aaaaaaaa-0000-4000-8000-000000000000 16384 NVIDIA Fake A100
gpu 1 GPU-bbbbbbbb-0000-4000-8000-000000000001 81920 NVIDIA Fake H100
util 0 55 12
temp 0 61
power 0 251.5 400"
PROCS="proc 0 $P1 4096
proc 1 $P1 100
proc 0 $Q 7"
inventory_set "$GPUS
$PROCS"
genv envs activate --eid m1 --uid "$uid" --username alice --pid $S1 &&
genv envs config --eid m1 name --name train &&
genv envs config --eid m1 gpu-memory --gpu-memory 4gi &&
genv devices attach --eid m1 --index 0 >/dev/null &&
genv envs activate --eid b1 --uid "$uid" --username bob --pid $S2 &&
genv devices attach --eid b1 --index 1 >/dev/null || exit 1
sleep 0.2   # the sleeps have exec'ed: their environ is final

monitor_start --interval 1 --timeout 2 --config-dir "$TRASH/config" || exit 1

first=$P1 second=$Q
[ "$P1" -lt "$Q" ] || { first=$Q; second=$P1; }
proc_devices() {
	case $1 in
	"$P1") echo "genv_process_devices_total{eid=\"m1\",pid=\"$P1\"} 2.0" ;;
	*) echo "genv_process_devices_total{eid=\"\",pid=\"$Q\"} 1.0" ;;
	esac
}
proc_memory() {
	case $1 in
	"$P1") echo "genv_process_used_gpu_memory_bytes{device=\"0\",eid=\"m1\",pid=\"$P1\"} 4.294967296e+09"
	       echo "genv_process_used_gpu_memory_bytes{device=\"1\",eid=\"m1\",pid=\"$P1\"} 1.048576e+08" ;;
	*) echo "genv_process_used_gpu_memory_bytes{device=\"0\",eid=\"\",pid=\"$Q\"} 7.340032e+06" ;;
	esac
}

test_expect_success 'the 16 gauges of 1.4.3: names, HELP, labels, order, values' '
	cat >expect <<-EOF &&
	# HELP genv_attached_devices_total Number of attached devices
	# TYPE genv_attached_devices_total gauge
	genv_attached_devices_total 2.0
	# HELP genv_device_memory_total_bytes Device total memory in bytes
	# TYPE genv_device_memory_total_bytes gauge
	genv_device_memory_total_bytes{index="0"} 1.7179869184e+010
	genv_device_memory_total_bytes{index="1"} 8.589934592e+010
	# HELP genv_device_memory_used_bytes Device used memory in bytes
	# TYPE genv_device_memory_used_bytes gauge
	genv_device_memory_used_bytes{index="0"} 4.302307328e+09
	genv_device_memory_used_bytes{index="1"} 1.048576e+08
	# HELP genv_device_temperature Device temperature in degrees C
	# TYPE genv_device_temperature gauge
	genv_device_temperature{index="0"} 61.0
	genv_device_temperature{index="1"} 40.0
	# HELP genv_device_utilization Device utilization
	# TYPE genv_device_utilization gauge
	genv_device_utilization{index="0"} 55.0
	genv_device_utilization{index="1"} 0.0
	# HELP genv_environments_total Number of active environments
	# TYPE genv_environments_total gauge
	genv_environments_total 2.0
	# HELP genv_environment_attached_devices_total Number of attached devices of an environment
	# TYPE genv_environment_attached_devices_total gauge
	genv_environment_attached_devices_total{eid="m1"} 1.0
	genv_environment_attached_devices_total{eid="b1"} 1.0
	# HELP genv_environment_processes_total Number of running processes in an environment
	# TYPE genv_environment_processes_total gauge
	genv_environment_processes_total{eid="m1"} 1.0
	genv_environment_processes_total{eid="b1"} 0.0
	# HELP genv_is_installed Genv installation status
	# TYPE genv_is_installed gauge
	genv_is_installed 1.0
	# HELP genv_processes_total Number of running processes
	# TYPE genv_processes_total gauge
	genv_processes_total 2.0
	# HELP genv_process_devices_total Number of devices used by a process
	# TYPE genv_process_devices_total gauge
	$(proc_devices $first)
	$(proc_devices $second)
	# HELP genv_process_used_gpu_memory_bytes Used GPU memory by a process
	# TYPE genv_process_used_gpu_memory_bytes gauge
	$(proc_memory $first)
	$(proc_memory $second)
	# HELP genv_users_total Number of active users
	# TYPE genv_users_total gauge
	genv_users_total 2.0
	# HELP genv_user_attached_devices_total Number of attached devices of a user
	# TYPE genv_user_attached_devices_total gauge
	genv_user_attached_devices_total{username="alice"} 1.0
	genv_user_attached_devices_total{username="bob"} 1.0
	# HELP genv_user_environments_total Number of active environments of a user
	# TYPE genv_user_environments_total gauge
	genv_user_environments_total{username="alice"} 1.0
	genv_user_environments_total{username="bob"} 1.0
	# HELP genv_user_processes_total Number of running processes of a user
	# TYPE genv_user_processes_total gauge
	genv_user_processes_total{username="alice"} 1.0
	genv_user_processes_total{username="bob"} 0.0
	EOF
	scrape >metrics &&
	sed "/^# HELP genv_device_info /,\$d" metrics >compat &&
	test_cmp expect compat
'

test_expect_success 'our additions: device identity, readings, holders, exporter health' '
	scrape >metrics &&
	grep -xF "genv_device_info{index=\"0\",name=\"NVIDIA Fake A100\",uuid=\"GPU-aaaaaaaa-0000-4000-8000-000000000000\"} 1.0" metrics &&
	grep -xF "genv_device_memory_utilization{index=\"0\"} 12.0" metrics &&
	grep -xF "genv_device_power_watts{index=\"0\"} 251.5" metrics &&
	grep -xF "genv_device_power_limit_watts{index=\"0\"} 400.0" metrics &&
	! grep -q "^genv_device_power_watts{index=\"1\"}" metrics &&
	grep -xF "genv_device_attachment_info{eid=\"m1\",environment=\"train\",index=\"0\",username=\"alice\"} 1.0" metrics &&
	grep -xF "genv_device_attachment_info{eid=\"b1\",environment=\"\",index=\"1\",username=\"bob\"} 1.0" metrics &&
	grep -xF "genv_device_attachment_memory_bytes{eid=\"m1\",index=\"0\"} 4.294967296e+09" metrics &&
	! grep -q "^genv_device_attachment_memory_bytes{eid=\"b1\"" metrics &&
	grep -q "^genv_device_attachment_timestamp_seconds{eid=\"m1\",index=\"0\"} 1\.[0-9]*e+09$" metrics &&
	grep -xF "genv_exporter_nvml_errors_total 0.0" metrics &&
	grep -xF "genv_exporter_collect_errors_total 0.0" metrics &&
	grep -q "^genv_exporter_scrape_duration_seconds [0-9]" metrics &&
	grep -q "^# TYPE genv_exporter_nvml_errors_total counter$" metrics &&
	test $(grep -c "^# HELP " metrics) = 28 &&
	test $(grep -c "^# TYPE " metrics) = 28
'

if command -v promtool >/dev/null; then
	test_expect_success 'promtool check metrics: parses; lint only about the _total names 1.4.3 chose' '
		scrape >metrics &&
		{ promtool check metrics <metrics >lint 2>&1; rc=$?; } &&
		cat lint &&
		test $rc -eq 0 -o $rc -eq 3 &&
		for m in attached_devices environment_attached_devices environment_processes environments \
			 process_devices processes user_attached_devices user_environments user_processes users; do
			echo "genv_${m}_total non-counter metrics should not have \"_total\" suffix"
		done | sort >expect &&
		sort lint >actual &&
		test_cmp expect actual
	'
else
	echo "# skipping promtool check metrics: promtool is not installed (apt-get install prometheus)"
fi

test_expect_success 'published config files, as 1.4.3 writes them, and our dashboard' '
	C=$TRASH/config &&
	{
		printf "%s\n" "global:" "  scrape_interval: 15s" "  evaluation_interval: 15s" "" \
			"scrape_configs:" "- job_name: genv" "  static_configs:" &&
		printf "    - targets: [\047localhost:%s\047]\n" "$MONITOR_PORT"
	} >expect &&
	test_cmp expect "$C/prometheus/prometheus.yml" &&
	printf "%s\n" "[auth.anonymous]" "enabled = true" "org_name = Main Org." "org_role = Viewer" "" \
		"[paths]" "provisioning = $C/grafana/provisioning" "" "[dashboards]" \
		"default_home_dashboard_path=$C/grafana/dashboards/overview.json" >expect &&
	test_cmp expect "$C/grafana/grafana.ini" &&
	printf "%s\n" "apiVersion: 1" "datasources:" "  - name: Prometheus" "    url: http://localhost:9090" \
		"    type: prometheus" "    isDefault: true" "    access: proxy" >expect &&
	test_cmp expect "$C/grafana/provisioning/datasources/default.yml" &&
	printf "%s\n" "apiVersion: 1" "providers:" "  - name: Genv" "    folder: Genv" "    type: file" \
		"    options:" "      path: $C/grafana/dashboards" >expect &&
	test_cmp expect "$C/grafana/provisioning/dashboards/default.yml" &&
	D=$C/grafana/dashboards/overview.json &&
	test "$(jq -r "[.title, .uid, .refresh, .schemaVersion] | @tsv" "$D")" = "$(printf "Overview\tNB3arSBVk\t10s\t38")" &&
	jq -r ".panels[].title" "$D" >titles &&
	for t in "Genv Cluster Installation" "Genv Environments" "Genv Users" "Genv Devices" "Genv Processes" \
		 "Cluster Compute Utilization" "Device Compute Utilization" "Cluster Memory Utilization" \
		 "Device Memory Utilization" "Cluster Temperature" "Device Temperature"; do
		grep -qxF "$t" titles || { echo "no panel $t"; exit 1; }
	done &&
	jq -r ".panels[].targets[].expr" "$D" >exprs &&
	grep -qxF "(count (genv_is_installed == 1) or vector(0)) / count (genv_is_installed) * 100" exprs &&
	grep -qxF "genv_device_memory_used_bytes / on(hostname, index) genv_device_memory_total_bytes * 100" exprs &&
	grep -qxF "((count(genv_process_devices_total{eid!=\"\"}) or vector(0)) / count(genv_process_devices_total) * 100) or vector(0)" exprs &&
	test "$(stat -c %a "$C" "$C/grafana" "$C/prometheus/prometheus.yml" | tr "\n" " ")" = "755 755 644 "
'

test_expect_success 'the page JSON: usage snapshot as is, joined with live readings' '
	scrape /api/snapshot >snap.json &&
	jq -S .snapshot snap.json >from-monitor &&
	genv usage snapshot | jq -S . >from-usage &&
	test_cmp from-usage from-monitor &&
	test "$(jq -r ".gpus[0] | [.index, .utilization, .temperature, .power_watts, .memory_total] | @tsv" snap.json)" = \
		"$(printf "0\t55\t61\t251.5\t17179869184")" &&
	test "$(jq -r ".gpus[1].power_watts" snap.json)" = null &&
	test "$(jq -r ".gpus[0].holders[0] | [.eid, .name, .username, .gpu_memory] | @tsv" snap.json)" = \
		"$(printf "m1\ttrain\talice\t4gi")" &&
	test "$(jq -r ".gpus[0].holders[0].since | type" snap.json)" = number &&
	test "$(jq -r "[.gpus[0].processes[] | select(.pid == $Q) | .in_environment] | @tsv" snap.json)" = false &&
	test "$(jq -r "[.envs[] | .eid + \":\" + (.gpus | map(tostring) | join(\",\")) + \":\" + (.processes | tostring)] | join(\" \")" snap.json)" = \
		"m1:0:1 b1:1:0" &&
	test "$(jq -r ".error" snap.json)" = null &&
	test "$(jq -r ".interval" snap.json)" = 1
'

test_expect_success 'live: new processes and readings show at the next interval, NVML initialised once' '
	inventory_set "$(printf "%s\n" "$GPUS" "$PROCS" "proc 1 $S2 300" | sed "s/^util 0 55 12/util 0 97 40/")" &&
	test_wait_for 10 metrics_have "genv_device_utilization{index=\"0\"} 97.0" \
		"genv_process_devices_total{eid=\"\",pid=\"$S2\"} 1.0" "genv_processes_total 3.0" &&
	test "$(grep -c "^init $MONITOR_PID\$" "$TRASH/nvml-inits")" = 1
'

test_expect_success 'cleanup: series of an environment, process or user that is gone disappear' '
	sleep 1000 & S3=$! &&
	test_track_pid $S3 &&
	genv envs activate --eid c1 --uid "$uid" --username carol --pid $S3 &&
	genv devices attach --eid c1 --index 1 >/dev/null &&
	test_wait_for 10 metrics_have "genv_user_environments_total{username=\"carol\"} 1.0" \
		"genv_environment_attached_devices_total{eid=\"c1\"} 1.0" &&
	kill $S3 && wait $S3
	test_wait_for 10 metrics_lack "carol|\"c1\"" &&
	metrics_have "genv_users_total 2.0" "genv_environments_total 2.0"
'

test_expect_success 'a GPU NVML stops reporting keeps its series (1.4.3 never drops devices)' '
	inventory_set "$(printf "%s\n" "$GPUS" | grep -v "^gpu 1 ")
proc 0 $P1 4096" &&
	test_wait_for 10 metrics_have "genv_processes_total 1.0" &&
	metrics_have "genv_device_memory_total_bytes{index=\"1\"} 8.589934592e+010" \
		"genv_device_temperature{index=\"1\"} 40.0" &&
	scrape /api/snapshot >snap.json &&
	test "$(jq -r "[.gpus[] | (.index | tostring) + \"=\" + (.uuid // \"none\")] | join(\" \")" snap.json)" = \
		"0=GPU-aaaaaaaa-0000-4000-8000-000000000000 1=none" &&
	inventory_set "$GPUS
$PROCS" &&
	test_wait_for 10 metrics_have "genv_processes_total 2.0"
'

# ---- bad requests

test_expect_success 'unknown path 404, other methods 405, HEAD, favicon' '
	test "$(curl -s -o body -w "%{http_code}" "$MONITOR_URL/nope/../etc")" = 404 &&
	grep -q "^not found" body &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X POST -d x=1 "$MONITOR_URL/metrics")" = 405 &&
	curl -s -D headers -o /dev/null -X DELETE "$MONITOR_URL/" &&
	grep -qi "^Allow: GET, HEAD" headers &&
	test "$(curl -s -I -o /dev/null -w "%{http_code} %{size_download}" "$MONITOR_URL/metrics")" = "200 0" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$MONITOR_URL/favicon.ico")" = 204 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$MONITOR_URL/metrics?x=1")" = 200
'

test_expect_success 'huge headers: 431; a huge URL: 414; the next scrape is fine' '
	big=$(head -c 40000 /dev/zero | tr "\0" a) &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "X-Big: $big" "$MONITOR_URL/metrics")" = 431 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$MONITOR_URL/metrics?$big")" = 414 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$MONITOR_URL/metrics")" = 200
'

# a byte a second: cut off after --timeout (2 s), while scrapes go on
test_expect_success 'a client sending a byte a second is cut off; scrapes meanwhile are quick' '
	(
		trap "" PIPE
		exec 3<>"/dev/tcp/127.0.0.1/$MONITOR_PORT" || exit 1
		start=$SECONDS
		for c in G E T " " / m e t r i c s " " H T T P / 1 . 1; do
			printf %s "$c" >&3 2>/dev/null || break
			sleep 1
		done
		echo $((SECONDS - start)) >slow-cut
	) &
	slow=$! &&
	sleep 0.5 &&
	for i in 1 2 3 4 5; do
		curl -s -o /dev/null --max-time 1 -w "%{http_code} %{time_total}\n" "$MONITOR_URL/metrics" >>fast || exit 1
		sleep 0.3
	done &&
	cat fast &&
	test "$(grep -c "^200 0\." fast)" = 5 &&
	wait $slow &&
	cat slow-cut &&
	test "$(cat slow-cut)" -le 5
'

test_expect_success '200 idle connections held open: a scrape is still quick' '
	fds=() &&
	for i in $(seq 200); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$MONITOR_PORT" || exit 1
		fds+=($fd)
	done &&
	printf "GET /metr" >&${fds[0]} &&
	curl -s -o /dev/null --max-time 2 -w "%{http_code} %{time_total}\n" "$MONITOR_URL/metrics" >out &&
	cat out &&
	grep -q "^200 0\." out &&
	for fd in "${fds[@]}"; do exec {fd}>&-; done
'

# a monitor of its own, whose --timeout does not close the idle
# connections while they are being opened
test_expect_success 'one address cannot take every connection: 256 each' '
	monitor_start --interval 5 --timeout 60 --config-dir "$TRASH/config-limit" &&
	fds=() &&
	for i in $(seq 300); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$MONITOR_PORT" || exit 1
		fds+=($fd)
	done &&
	sleep 0.3 &&
	test "$(curl -s -o /dev/null --max-time 2 -w "%{http_code}" "$MONITOR_URL/metrics")" = 000 &&
	curl -s -o /dev/null --max-time 2 --interface 127.0.0.2 -w "%{http_code} %{time_total}\n" \
		"$MONITOR_URL/metrics" >out &&
	cat out &&
	grep -q "^200 0\." out &&
	for fd in "${fds[@]}"; do exec {fd}>&-; done &&
	test_wait_for 5 eval "test \"\$(curl -s -o /dev/null -w %{http_code} \$MONITOR_URL/metrics)\" = 200"
'

test_expect_success '200 concurrent scrapes all succeed' '
	for i in $(seq 200); do echo "url = \"$MONITOR_URL/metrics?n=$i\""; echo "output = /dev/null"; done >urls &&
	curl -s --parallel --parallel-immediate --parallel-max 200 --max-time 20 -K urls \
		-w "%{http_code}\n" >codes &&
	test "$(grep -c "^200$" codes)" = 200 &&
	curl -s -o /dev/null -w "%{http_code}" "$MONITOR_URL/metrics" | grep -qx 200
'

test_expect_success 'keep-alive: one connection serves several scrapes' '
	curl -sv -o /dev/null -o /dev/null "$MONITOR_URL/metrics" "$MONITOR_URL/metrics" 2>trace &&
	grep -q "Re-using existing connection" trace
'

# ---- starting and stopping

test_expect_success 'usage errors exit 2; a busy port or bad address exit 1' '
	test_expect_code 2 genv monitor --port 70000 2>err &&
	grep -q "argument -p/--port: must be between 0 and 65535" err &&
	test_expect_code 2 genv monitor -i 0 2>err &&
	test_expect_code 2 genv monitor --port abc 2>err &&
	grep -q "invalid int value" err &&
	test_expect_code 1 genv monitor --bind 127.0.0.1 --port "$MONITOR_PORT" --config-dir "$TRASH/c2" 2>err &&
	grep -qx "genv monitor: cannot listen on 127.0.0.1:$MONITOR_PORT: Address already in use" err &&
	test_expect_code 1 genv monitor --bind localhost 2>err &&
	grep -q "cannot listen on .localhost.: not an IPv4 or IPv6 address" err
'

# ---- libmicrohttpd, loaded only by genv monitor

test_expect_success 'genv is not linked with libmicrohttpd (nor gnutls behind it)' '
	ldd "$BUILD/bin/genv" >libs &&
	grep -q "libjansson" libs &&
	! grep -q "libmicrohttpd\|libgnutls" libs
'

nomhd=$TRASH/no-such-libmicrohttpd.so.12
test_expect_success 'libmicrohttpd missing: one line, exit 1, nothing published' '
	test_expect_code 1 env GENV_MHD_LIBRARY="$nomhd" \
		genv monitor --bind 127.0.0.1 --port 0 --config-dir "$TRASH/c3" 2>err &&
	test "$(wc -l <err)" = 1 &&
	grep -Fx "genv monitor: needs libmicrohttpd: $nomhd could not be loaded ($nomhd: cannot open shared object file: No such file or directory); apt-get install libmicrohttpd12" err &&
	! test -e "$TRASH/c3" &&
	test_expect_code 1 env GENV_MHD_LIBRARY=libmicrohttpd.so.12 genv monitor 2>err &&
	grep -qx "genv monitor: GENV_MHD_LIBRARY must be an absolute path, not .libmicrohttpd.so.12." err &&
	test_expect_code 1 env GENV_MHD_LIBRARY="$GENV_NVML_LIBRARY" genv monitor 2>err &&
	grep -qx "genv monitor: the libmicrohttpd library .*libnvidia-ml.so.1 lacks the function .MHD_start_daemon." err
'

# the installed library itself unloadable, in a mount namespace of our own
mhdlib=$(ldconfig -p | sed -n "s/^[[:space:]]*libmicrohttpd\.so\.12 .*=> //p" | head -n 1)
if [ -n "$mhdlib" ] && unshare -m true 2>/dev/null; then
	test_expect_success 'libmicrohttpd.so.12 unloadable: the message names it, exit 1' '
		test_expect_code 1 unshare -m sh -c "mount --bind /dev/null \"\$1\" && exec genv monitor --port 0" \
			sh "$(realpath "$mhdlib")" 2>err &&
		test "$(wc -l <err)" = 1 &&
		grep -x "genv monitor: needs libmicrohttpd: libmicrohttpd.so.12 could not be loaded (.*libmicrohttpd.so.12: .*); apt-get install libmicrohttpd12" err
	'
else
	echo "# skipping the unloadable libmicrohttpd.so.12 check: needs root (unshare -m) and ldconfig"
fi

# setgid (egid != rgid, so AT_SECURE): the override is not taken; the
# library loads and the bad address is what fails
if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null; then
	test_expect_success 'a setgid genv ignores GENV_MHD_LIBRARY' '
		cp "$BUILD/bin/genv" sgid-genv &&
		chgrp nogroup sgid-genv &&
		chmod 2755 sgid-genv &&
		test_expect_code 1 env GENV_MHD_LIBRARY="$GENV_NVML_LIBRARY" \
			./sgid-genv monitor --bind localhost --config-dir "$TRASH/c4" 2>err &&
		grep -qx "genv monitor: cannot listen on .localhost.: not an IPv4 or IPv6 address" err
	'
else
	echo "# skipping the setgid check: needs root and a nogroup group"
fi

test_expect_success 'a config dir that is a symlink or not ours is refused' '
	mkdir elsewhere &&
	ln -s "$TRASH/elsewhere" "$TRASH/link" &&
	test_expect_code 1 genv monitor --bind 127.0.0.1 --port 0 --config-dir "$TRASH/link" 2>err &&
	grep -q "cannot open directory .*link.: not a directory (a symbolic link?)" err &&
	test -z "$(ls elsewhere)" &&
	mkdir -p theirs/metrics &&
	chown 12345 theirs/metrics &&
	test_expect_code 1 genv monitor --bind 127.0.0.1 --port 0 --config-dir "$TRASH/theirs/metrics" 2>err &&
	grep -q "refusing to write into .*theirs/metrics.: it belongs to uid 12345" err &&
	test_expect_code 1 genv monitor --config-dir "$TRASH/a:b" 2>err &&
	grep -q "must not contain" err
'

test_expect_success 'without NVML: still serves environments, reports the error; SIGTERM exits 0' '
	(
		export GENV_NVML_LIBRARY=$TRASH/no-such-libnvidia-ml.so.1
		monitor_start --interval 1 || exit 1
		test "$(dirname "$(sed -n "s/.*config files in //p" "$TRASH/monitor.err")")" = "$GENV_TMPDIR" &&
		test -f "$GENV_TMPDIR/metrics/prometheus/prometheus.yml" &&
		scrape >metrics &&
		grep -qx "genv_is_installed 1.0" metrics &&
		grep -qx "genv_user_environments_total{username=\"alice\"} 1.0" metrics &&
		grep -qx "genv_device_attachment_info{eid=\"m1\",environment=\"train\",index=\"0\",username=\"alice\"} 1.0" metrics &&
		! grep -q "^genv_device_temperature{" metrics &&
		grep -q "^genv_exporter_nvml_errors_total [1-9]" metrics &&
		scrape /api/snapshot | jq -r .error >error &&
		grep -q "NVIDIA driver not found" error &&
		kill -TERM $MONITOR_PID &&
		wait $MONITOR_PID
	)
'

test_done
