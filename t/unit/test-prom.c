/* SPDX-License-Identifier: MIT */
/*
 * test-prom.c: the Prometheus text genv monitor serves, against golden
 * strings: 1.4.3's 16 gauges (names, HELP, label sets, order, float
 * format), our additions, escaping of hostile names, remote hostnames.
 */
#include "compat.h"
#include "core/state.h"
#include "gpu/gpu.h"
#include "metrics/prom.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <math.h>
#include <setjmp.h>
#include <time.h>
#include <cmocka.h>

#define GIB (1024ULL * 1024 * 1024)

static void
check_value(double v, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	prom_format_value(&sb, v);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

/* expectations printed by Python 3.11 + prometheus_client's floatToGoString */
static void
test_values(void **state)
{
	(void)state;
	check_value(0, "0.0");
	check_value(1, "1.0");
	check_value(40, "40.0");
	check_value(0.5, "0.5");
	check_value(123.456, "123.456");
	check_value(251.5, "251.5");
	check_value(1e-5, "1e-05");
	check_value(0.0001, "0.0001");
	check_value(0.00012, "0.00012");
	check_value(2.5e-7, "2.5e-07");
	check_value(999999, "999999.0");
	check_value(1000000, "1e+06");
	check_value(1234567, "1.234567e+06");
	check_value(4404019200.0, "4.4040192e+09");
	check_value(17179869184.0, "1.7179869184e+010");
	check_value(85899345920.0, "8.589934592e+010");
	check_value(1717000000.123, "1.717000000123e+09");
	check_value(1e15, "1e+015");
	check_value(1e16, "1e+16");
	check_value(1.5e16, "1.5e+16");
	check_value(1e22, "1e+22");
	check_value(123456789012345678.0, "1.2345678901234568e+17");
	check_value(0.1 + 0.2, "0.30000000000000004");
	check_value(-3.5, "-3.5");
	check_value(NAN, "NaN");
	check_value(INFINITY, "+Inf");
	check_value(-INFINITY, "-Inf");
}

static void
add_gpu(struct gpu_devices *g, unsigned index, unsigned long long total, unsigned long long used)
{
	struct gpu_device *d;

	ALLOC_GROW(g->v, g->nr + 1, g->alloc);
	d = &g->v[g->nr++];
	memset(d, 0, sizeof(*d));
	d->index = index;
	d->uuid = xstrdup(index ? "GPU-b" : "GPU-a");
	d->name = xstrdup("NVIDIA A100");
	d->mem_total = total;
	d->mem_used = used;
}

static struct env *
add_env(struct snapshot *s, const char *eid, const char *user, const char *name)
{
	struct env *e = envs_append(&s->envs, eid);

	e->uid = 1000;
	e->creation = xstrdup("01/06/2024 10:00:00");
	e->username = xstrdup_or_null(user);
	e->config.name = xstrdup_or_null(name);
	return e;
}

/*
 * Two GPUs; alice's env "m1" holds GPU 0 (4 GiB) and GPU 1, bob's "b1"
 * shares GPU 0 whole; an env without a user; a process in m1 on both
 * GPUs and one outside any env.
 */
static void
fixture(struct snapshot *s, struct gpu_devices *g)
{
	struct device *d0, *d1;
	struct process *p;

	add_gpu(g, 0, 16 * GIB, 4404019200ULL);
	add_gpu(g, 1, 40960ULL << 20, 0);
	g->v[0].valid = GPU_HAS_UTILIZATION | GPU_HAS_TEMPERATURE | GPU_HAS_POWER |
			GPU_HAS_POWER_LIMIT;
	g->v[0].util_gpu = 55;
	g->v[0].util_mem = 12;
	g->v[0].temperature = 61;
	g->v[0].power_mw = 251500;
	g->v[0].power_limit_mw = 400000;
	g->v[1].valid = GPU_HAS_TEMPERATURE;   /* no utilization: no sample */
	g->v[1].temperature = 40;

	add_env(s, "m1", "alice", "train");
	add_env(s, "b1", "bob", NULL);
	add_env(s, "n1", NULL, NULL);
	add_env(s, "m2", "alice", NULL);
	d0 = devices_append(&s->devices, 0, "16384mi");
	d1 = devices_append(&s->devices, 1, "40960mi");
	device_attach(d0, "m1", "4gi", "01/06/2024 10:00:00");
	device_attach(d0, "b1", NULL, "01/06/2024 11:00:00");
	device_attach(d1, "m1", "4gi", "01/06/2024 10:00:00");
	p = processes_append(&s->processes, 17247, "m1");
	process_add_usage(p, 0, "4096mi");
	process_add_usage(p, 1, "100mi");
	p = processes_append(&s->processes, 20000, NULL);
	process_add_usage(p, 0, "7mi");
}

static const char golden_compat[] =
	"# HELP genv_attached_devices_total Number of attached devices\n"
	"# TYPE genv_attached_devices_total gauge\n"
	"genv_attached_devices_total 2.0\n"
	"# HELP genv_device_memory_total_bytes Device total memory in bytes\n"
	"# TYPE genv_device_memory_total_bytes gauge\n"
	"genv_device_memory_total_bytes{index=\"0\"} 1.7179869184e+010\n"
	"genv_device_memory_total_bytes{index=\"1\"} 4.294967296e+010\n"
	"# HELP genv_device_memory_used_bytes Device used memory in bytes\n"
	"# TYPE genv_device_memory_used_bytes gauge\n"
	"genv_device_memory_used_bytes{index=\"0\"} 4.4040192e+09\n"
	"genv_device_memory_used_bytes{index=\"1\"} 0.0\n"
	"# HELP genv_device_temperature Device temperature in degrees C\n"
	"# TYPE genv_device_temperature gauge\n"
	"genv_device_temperature{index=\"0\"} 61.0\n"
	"genv_device_temperature{index=\"1\"} 40.0\n"
	"# HELP genv_device_utilization Device utilization\n"
	"# TYPE genv_device_utilization gauge\n"
	"genv_device_utilization{index=\"0\"} 55.0\n"
	"# HELP genv_environments_total Number of active environments\n"
	"# TYPE genv_environments_total gauge\n"
	"genv_environments_total 4.0\n"
	"# HELP genv_environment_attached_devices_total Number of attached devices of an environment\n"
	"# TYPE genv_environment_attached_devices_total gauge\n"
	"genv_environment_attached_devices_total{eid=\"m1\"} 2.0\n"
	"genv_environment_attached_devices_total{eid=\"b1\"} 1.0\n"
	"genv_environment_attached_devices_total{eid=\"n1\"} 0.0\n"
	"genv_environment_attached_devices_total{eid=\"m2\"} 0.0\n"
	"# HELP genv_environment_processes_total Number of running processes in an environment\n"
	"# TYPE genv_environment_processes_total gauge\n"
	"genv_environment_processes_total{eid=\"m1\"} 1.0\n"
	"genv_environment_processes_total{eid=\"b1\"} 0.0\n"
	"genv_environment_processes_total{eid=\"n1\"} 0.0\n"
	"genv_environment_processes_total{eid=\"m2\"} 0.0\n"
	"# HELP genv_is_installed Genv installation status\n"
	"# TYPE genv_is_installed gauge\n"
	"genv_is_installed 1.0\n"
	"# HELP genv_processes_total Number of running processes\n"
	"# TYPE genv_processes_total gauge\n"
	"genv_processes_total 2.0\n"
	"# HELP genv_process_devices_total Number of devices used by a process\n"
	"# TYPE genv_process_devices_total gauge\n"
	"genv_process_devices_total{eid=\"m1\",pid=\"17247\"} 2.0\n"
	"genv_process_devices_total{eid=\"\",pid=\"20000\"} 1.0\n"
	"# HELP genv_process_used_gpu_memory_bytes Used GPU memory by a process\n"
	"# TYPE genv_process_used_gpu_memory_bytes gauge\n"
	"genv_process_used_gpu_memory_bytes{device=\"0\",eid=\"m1\",pid=\"17247\"} 4.294967296e+09\n"
	"genv_process_used_gpu_memory_bytes{device=\"1\",eid=\"m1\",pid=\"17247\"} 1.048576e+08\n"
	"genv_process_used_gpu_memory_bytes{device=\"0\",eid=\"\",pid=\"20000\"} 7.340032e+06\n"
	"# HELP genv_users_total Number of active users\n"
	"# TYPE genv_users_total gauge\n"
	"genv_users_total 2.0\n"
	"# HELP genv_user_attached_devices_total Number of attached devices of a user\n"
	"# TYPE genv_user_attached_devices_total gauge\n"
	"genv_user_attached_devices_total{username=\"alice\"} 2.0\n"
	"genv_user_attached_devices_total{username=\"bob\"} 1.0\n"
	"# HELP genv_user_environments_total Number of active environments of a user\n"
	"# TYPE genv_user_environments_total gauge\n"
	"genv_user_environments_total{username=\"alice\"} 2.0\n"
	"genv_user_environments_total{username=\"bob\"} 1.0\n"
	"# HELP genv_user_processes_total Number of running processes of a user\n"
	"# TYPE genv_user_processes_total gauge\n"
	"genv_user_processes_total{username=\"alice\"} 1.0\n"
	"genv_user_processes_total{username=\"bob\"} 0.0\n";

static const char golden_ours[] =
	"# HELP genv_device_info Device name and UUID (value 1)\n"
	"# TYPE genv_device_info gauge\n"
	"genv_device_info{index=\"0\",name=\"NVIDIA A100\",uuid=\"GPU-a\"} 1.0\n"
	"genv_device_info{index=\"1\",name=\"NVIDIA A100\",uuid=\"GPU-b\"} 1.0\n"
	"# HELP genv_device_memory_utilization Percent of the last sample period during which "
	"device memory was read or written\n"
	"# TYPE genv_device_memory_utilization gauge\n"
	"genv_device_memory_utilization{index=\"0\"} 12.0\n"
	"# HELP genv_device_power_watts Device power draw in watts\n"
	"# TYPE genv_device_power_watts gauge\n"
	"genv_device_power_watts{index=\"0\"} 251.5\n"
	"# HELP genv_device_power_limit_watts Device enforced power limit in watts\n"
	"# TYPE genv_device_power_limit_watts gauge\n"
	"genv_device_power_limit_watts{index=\"0\"} 400.0\n"
	"# HELP genv_device_attachment_info Environment attached to a device, with its name and "
	"owner (value 1)\n"
	"# TYPE genv_device_attachment_info gauge\n"
	"genv_device_attachment_info{eid=\"m1\",environment=\"train\",index=\"0\",username=\"alice\"} 1.0\n"
	"genv_device_attachment_info{eid=\"b1\",environment=\"\",index=\"0\",username=\"bob\"} 1.0\n"
	"genv_device_attachment_info{eid=\"m1\",environment=\"train\",index=\"1\",username=\"alice\"} 1.0\n"
	"# HELP genv_device_attachment_timestamp_seconds When an environment was attached to a "
	"device, in seconds since the epoch\n"
	"# TYPE genv_device_attachment_timestamp_seconds gauge\n"
	"genv_device_attachment_timestamp_seconds{eid=\"m1\",index=\"0\"} 1.717236e+09\n"
	"genv_device_attachment_timestamp_seconds{eid=\"b1\",index=\"0\"} 1.7172396e+09\n"
	"genv_device_attachment_timestamp_seconds{eid=\"m1\",index=\"1\"} 1.717236e+09\n"
	"# HELP genv_device_attachment_memory_bytes GPU memory an environment may use on a device "
	"(absent when it holds the whole device)\n"
	"# TYPE genv_device_attachment_memory_bytes gauge\n"
	"genv_device_attachment_memory_bytes{eid=\"m1\",index=\"0\"} 4.294967296e+09\n"
	"genv_device_attachment_memory_bytes{eid=\"m1\",index=\"1\"} 4.294967296e+09\n";

static void
test_local(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct gpu_devices g = GPU_DEVICES_INIT;
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;
	struct prom_host h = { NULL, 1, &g, NULL, &s };

	(void)state;
	fixture(&s, &g);
	prom_render(&out, &h, 1);
	strbuf_addf(&want, "%s%s", golden_compat, golden_ours);
	assert_string_equal(out.buf, want.buf);
	snapshot_release(&s);
	gpu_devices_release(&g);
	strbuf_release(&out);
	strbuf_release(&want);
}

/* Nothing running: every metric keeps its HELP and TYPE lines. */
static void
test_empty(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct strbuf out = STRBUF_INIT;
	struct prom_host h = { NULL, 1, NULL, NULL, &s };
	size_t helps = 0, samples = 0;

	(void)state;
	prom_render(&out, &h, 1);
	for (const char *p = out.buf; *p; p = strchr(p, '\n') + 1) {
		helps += starts_with(p, "# HELP ");
		samples += *p != '#';
	}
	assert_int_equal(helps, 23);
	assert_int_equal(samples, 5);   /* the label-less totals and is_installed */
	assert_non_null(strstr(out.buf, "\ngenv_users_total 0.0\n"));
	assert_non_null(strstr(out.buf, "\n# TYPE genv_process_used_gpu_memory_bytes gauge\n# HELP "));
	strbuf_release(&out);
}

/* Names are whatever users typed: quotes, backslashes, newlines, bad UTF-8. */
static void
test_hostile_names(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct strbuf out = STRBUF_INIT;
	struct prom_host h = { NULL, 1, NULL, NULL, &s };

	(void)state;
	add_env(&s, "e\"1", "ev\\il\nx=\"1\"} 99", "n\xff\xfe");
	device_attach(devices_append(&s.devices, 0, "1mi"), "e\"1", NULL, "bad time");
	prom_render(&out, &h, 1);
	assert_non_null(strstr(out.buf, "\ngenv_user_environments_total"
					"{username=\"ev\\\\il\\nx=\\\"1\\\"} 99\"} 1.0\n"));
	assert_non_null(strstr(out.buf, "\ngenv_device_attachment_info{eid=\"e\\\"1\","
					"environment=\"n\xef\xbf\xbd\xef\xbf\xbd\",index=\"0\","
					"username=\"ev\\\\il\\nx=\\\"1\\\"} 99\"} 1.0\n"));
	/* an unparsable attachment time: no timestamp sample */
	assert_null(strstr(out.buf, "\ngenv_device_attachment_timestamp_seconds{"));
	snapshot_release(&s);
	strbuf_release(&out);
}

/*
 * Remote: hostname is one more label (sorted first here), a host without
 * genv has only is_installed and device series, and a GPU gone from NVML
 * keeps its series.
 */
static void
test_remote_hosts(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct gpu_devices g = GPU_DEVICES_INIT, gone = GPU_DEVICES_INIT, other = GPU_DEVICES_INIT;
	struct strbuf out = STRBUF_INIT;
	struct prom_host h[2] = { { "gpu-1", 1, &g, &gone, &s }, { "nogenv", 0, &other, NULL, NULL } };

	(void)state;
	fixture(&s, &g);
	g.nr = 1;              /* GPU 1 stopped answering ... */
	gone.v = g.v + 1;      /* ... and is remembered */
	gone.nr = 1;
	add_gpu(&other, 0, 1ULL << 30, 0);
	other.v[0].valid = GPU_HAS_TEMPERATURE;
	other.v[0].temperature = 40;
	prom_render(&out, h, 2);
	assert_non_null(strstr(out.buf, "# TYPE genv_device_temperature gauge\n"
					"genv_device_temperature{hostname=\"gpu-1\",index=\"0\"} 61.0\n"
					"genv_device_temperature{hostname=\"gpu-1\",index=\"1\"} 40.0\n"
					"genv_device_temperature{hostname=\"nogenv\",index=\"0\"} 40.0\n"));
	assert_non_null(strstr(out.buf, "# TYPE genv_is_installed gauge\n"
					"genv_is_installed{hostname=\"gpu-1\"} 1.0\n"
					"genv_is_installed{hostname=\"nogenv\"} 0.0\n"));
	assert_non_null(strstr(out.buf, "\ngenv_process_used_gpu_memory_bytes{device=\"0\",eid=\"m1\","
					"hostname=\"gpu-1\",pid=\"17247\"} 4.294967296e+09\n"));
	assert_non_null(strstr(out.buf, "# TYPE genv_users_total gauge\n"
					"genv_users_total{hostname=\"gpu-1\"} 2.0\n# HELP"));
	gone.v = NULL;
	g.nr = 2;
	snapshot_release(&s);
	gpu_devices_release(&g);
	gpu_devices_release(&other);
	strbuf_release(&out);
}

static void
test_exporter(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct prom_exporter e = { 0.0025, 1717236000.5, 3, 7 };

	(void)state;
	prom_render_exporter(&out, &e);
	prom_render_scrape_duration(&out, 0.000125);
	assert_string_equal(out.buf,
		"# HELP genv_exporter_collect_duration_seconds How long the last collection of GPU, "
		"process and environment data took\n"
		"# TYPE genv_exporter_collect_duration_seconds gauge\n"
		"genv_exporter_collect_duration_seconds 0.0025\n"
		"# HELP genv_exporter_collect_timestamp_seconds When the data served was collected, "
		"in seconds since the epoch\n"
		"# TYPE genv_exporter_collect_timestamp_seconds gauge\n"
		"genv_exporter_collect_timestamp_seconds 1.7172360005e+09\n"
		"# HELP genv_exporter_collect_errors_total Collections that could not read everything, "
		"since the exporter started\n"
		"# TYPE genv_exporter_collect_errors_total counter\n"
		"genv_exporter_collect_errors_total 3.0\n"
		"# HELP genv_exporter_nvml_errors_total NVML calls that failed, since the exporter started\n"
		"# TYPE genv_exporter_nvml_errors_total counter\n"
		"genv_exporter_nvml_errors_total 7.0\n"
		"# HELP genv_exporter_scrape_duration_seconds How long rendering this response took\n"
		"# TYPE genv_exporter_scrape_duration_seconds gauge\n"
		"genv_exporter_scrape_duration_seconds 0.000125\n");
	strbuf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_remote_hosts),
		cmocka_unit_test(test_exporter),
	};

	/* attachment times are local time */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
