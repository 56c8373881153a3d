#!/usr/bin/env bash
# t5010-monitor-prometheus.sh: a real Prometheus (Debian's), started here on
# a free loopback port, scrapes `genv monitor` every second; the series are
# read back through Prometheus's HTTP API: values, labels (names with
# quotes and non-ASCII letters), our additions, and a gone environment's
# series going stale, as 1.4.3's cleanup does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-monitor.sh"

for tool in prometheus promtool curl jq; do
	if ! command -v $tool >/dev/null; then
		echo "# skipping t5010: $tool is not installed (contrib/install-deps.sh installs it)"
		test_done
		exit
	fi
done

uid=$(id -u)
sleep 1000 & S1=$!; test_track_pid $S1
sleep 1000 & S2=$!; test_track_pid $S2
GENV_ENVIRONMENT_ID=m1 sleep 1000 & P1=$!; test_track_pid $P1
inventory_set "watch
gpu 0 GPU-aaaaaaaa-0000-4000-8000-000000000000 16384 NVIDIA Fake A100
gpu 1 GPU-bbbbbbbb-0000-4000-8000-000000000001 81920 NVIDIA Fake H100
util 0 55 12
temp 0 61
power 0 251.5 400
proc 0 $P1 4096"
genv envs activate --eid m1 --uid "$uid" --username alice --pid $S1 &&
genv envs config --eid m1 name --name 'entraînement "v2"' &&
genv devices attach --eid m1 --index 0 >/dev/null &&
genv envs activate --eid b1 --uid "$uid" --username bob --pid $S2 &&
genv devices attach --eid b1 --index 1 >/dev/null || exit 1
sleep 0.2

monitor_start --interval 1 --config-dir "$TRASH/config" || exit 1

# Prometheus on a free port (retried when the one drawn is taken)
PROM_PID=
for try in 1 2 3 4 5; do
	PROM_PORT=$(random_port)
	cat >"$TRASH/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: genv
  static_configs:
    - targets: ['127.0.0.1:$MONITOR_PORT']
EOF
	prometheus --config.file="$TRASH/prometheus.yml" --storage.tsdb.path="$TRASH/prom-data" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TRASH/prometheus.log" 2>&1 &
	PROM_PID=$!
	test_track_pid $PROM_PID
	if test_wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"; then
		break
	fi
	kill $PROM_PID 2>/dev/null
	wait $PROM_PID 2>/dev/null
	PROM_PID=
done
[ -n "$PROM_PID" ] || { echo "cannot start prometheus:"; cat "$TRASH/prometheus.log"; exit 1; }

# query EXPR: "labels=value" lines of an instant query, sorted; the label
# sets without the job and instance Prometheus adds
query() {
	curl -sS --max-time 10 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
	jq -r '.data.result[] | (.metric | del(.job, .instance) | to_entries | map(.key + "=" + .value) | join(",")) + " " + .value[1]' |
	sort
}
# query_is EXPR EXPECTED: the query answers exactly EXPECTED (lines)
query_is() {
	test "$(query "$1")" = "$2"
}

test_expect_success 'Prometheus scrapes genv monitor (up == 1)' '
	test_wait_for 30 query_is "up{job=\"genv\"}" "__name__=up 1"
'

test_expect_success '1.4.3 gauges read back with their labels and values' '
	test_wait_for 10 query_is "genv_device_memory_total_bytes" \
		"$(printf "%s\n" "__name__=genv_device_memory_total_bytes,index=0 17179869184" \
			"__name__=genv_device_memory_total_bytes,index=1 85899345920")" &&
	query_is "genv_device_utilization" \
		"$(printf "%s\n" "__name__=genv_device_utilization,index=0 55" \
			"__name__=genv_device_utilization,index=1 0")" &&
	query_is "genv_process_used_gpu_memory_bytes" \
		"__name__=genv_process_used_gpu_memory_bytes,device=0,eid=m1,pid=$P1 4294967296" &&
	query_is "sum(genv_users_total)" " 2" &&
	query_is "genv_user_attached_devices_total" \
		"$(printf "%s\n" "__name__=genv_user_attached_devices_total,username=alice 1" \
			"__name__=genv_user_attached_devices_total,username=bob 1")" &&
	query_is "genv_is_installed" "__name__=genv_is_installed 1"
'

test_expect_success 'our additions: holders with their names, power, exporter health' '
	query_is "genv_device_attachment_info{index=\"0\"}" \
		"__name__=genv_device_attachment_info,eid=m1,environment=entraînement \"v2\",index=0,username=alice 1" &&
	query_is "genv_device_power_watts" "__name__=genv_device_power_watts,index=0 251.5" &&
	query_is "genv_exporter_nvml_errors_total" "__name__=genv_exporter_nvml_errors_total 0" &&
	test "$(query "scrape_samples_scraped{job=\"genv\"}" | cut -d" " -f2)" -ge 35
'

test_expect_success 'the dashboard queries of 1.4.3 answer' '
	query_is "(count (genv_is_installed == 1) or vector(0)) / count (genv_is_installed) * 100" " 100" &&
	query_is "(sum(genv_attached_devices_total) or vector(0)) / count(genv_device_utilization) * 100" " 100" &&
	query_is "genv_device_memory_used_bytes / on(hostname, index) genv_device_memory_total_bytes * 100" \
		"$(printf "%s\n" "index=0 25" "index=1 0")"
'

test_expect_success 'an environment that ends: its series go stale in Prometheus' '
	query_is "genv_environment_attached_devices_total{eid=\"b1\"}" \
		"__name__=genv_environment_attached_devices_total,eid=b1 1" &&
	kill $S2 &&
	test_wait_for 15 query_is "genv_environment_attached_devices_total{eid=\"b1\"}" "" &&
	query_is "genv_user_environments_total" \
		"__name__=genv_user_environments_total,username=alice 1"
'

test_expect_success 'the published prometheus.yml is a valid Prometheus config for this port' '
	promtool check config "$TRASH/config/prometheus/prometheus.yml" &&
	grep -qF "localhost:$MONITOR_PORT" "$TRASH/config/prometheus/prometheus.yml"
'

test_done
