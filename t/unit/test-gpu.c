/* SPDX-License-Identifier: MIT */
/*
 * test-gpu.c: the NVML layer against the fake libnvidia-ml.so.1
 * (t/helpers/fake-nvml.c), loaded through the real dlopen path. Each test
 * writes an inventory, opens NVML, checks what genv sees, and closes NVML
 * so that the next test starts from a fresh nvmlInit.
 */
#include "compat.h"
#include "gpu/gpu.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>

#define MIB (1024ULL * 1024ULL)

static struct strbuf inventory_path = STRBUF_INIT;
static char *tmpdir;

/* Writes the inventory the fake NVML reads at its next nvmlInit. */
static void
inventory(const char *text)
{
	FILE *f = fopen(inventory_path.buf, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	(void)state;
	gpu_close();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	gpu_close();
	setenv("GENV_NVML_LIBRARY", getenv("GENV_TEST_FAKE_NVML"), 1);
	setenv("GENV_FAKE_NVML_CONFIG", inventory_path.buf, 1);
	return 0;
}

static void
expect_open_error(const char *want)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;

	assert_int_equal(gpu_open(&err), -1);
	assert_string_equal(err.buf, want);
	/* every entry point reports the same failure */
	strbuf_reset(&err);
	assert_int_equal(gpu_list_devices(&devs, &err), -1);
	assert_string_equal(err.buf, want);
	assert_int_equal(devs.nr, 0);
	strbuf_release(&err);
}

static void
test_devices(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;

	(void)state;
	inventory("# two different GPUs\n"
		  "\n"
		  "gpu 0 GPU-11111111-0000-4000-8000-000000000000 40960 NVIDIA A100-SXM4-40GB\n"
		  "gpu 1 GPU-22222222-0000-4000-8000-000000000001 16384 Tesla V100 (PCIe, 16 GB)  # spare\n"
		  "proc 1 100 1000          # gpu-index pid used-MiB\n"
		  "  proc 1 101 24\t\r\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_string_equal(err.buf, "");
	assert_int_equal(devs.nr, 2);
	assert_int_equal(devs.v[0].index, 0);
	assert_string_equal(devs.v[0].uuid, "GPU-11111111-0000-4000-8000-000000000000");
	assert_string_equal(devs.v[0].name, "NVIDIA A100-SXM4-40GB");
	assert_true(devs.v[0].mem_total == 40960 * MIB);
	assert_true(devs.v[0].mem_used == 0);
	assert_int_equal(devs.v[1].index, 1);
	assert_string_equal(devs.v[1].uuid, "GPU-22222222-0000-4000-8000-000000000001");
	assert_string_equal(devs.v[1].name, "Tesla V100 (PCIe, 16 GB)");
	assert_true(devs.v[1].mem_total == 16384 * MIB);
	assert_true(devs.v[1].mem_used == 1024 * MIB);
	assert_int_equal(devs.v[1].minor, 1);   /* the fake's: its index */
	gpu_devices_release(&devs);
	assert_null(devs.v);
	strbuf_release(&err);
}

/* The inventory is read once per process: a second open does not re-init. */
static void
test_open_once(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;

	(void)state;
	inventory("gpu 0 GPU-a 1024 One\n");
	assert_int_equal(gpu_open(&err), 0);
	inventory("gpu 0 GPU-a 1024 One\ngpu 1 GPU-b 1024 Two\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_int_equal(devs.nr, 1);
	gpu_devices_release(&devs);
	gpu_close();
	gpu_close();   /* closing twice is harmless */
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_int_equal(devs.nr, 2);
	gpu_devices_release(&devs);
	strbuf_release(&err);
}

/* _v2 memory with the right version: driver-reserved memory is not "used". */
static void
test_memory_v2_and_v1(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;

	(void)state;
	inventory("gpu 0 GPU-a 8192 One\nreserved 0 300\nproc 0 7 100\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_true(devs.v[0].mem_used == 100 * MIB);
	gpu_devices_release(&devs);
	gpu_close();

	/* an older driver without _v2: v1 counts the reserved memory */
	inventory("missing nvmlDeviceGetMemoryInfo_v2\n"
		  "gpu 0 GPU-a 8192 One\nreserved 0 300\nproc 0 7 100\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_true(devs.v[0].mem_total == 8192 * MIB);
	assert_true(devs.v[0].mem_used == 400 * MIB);
	gpu_devices_release(&devs);
	strbuf_release(&err);
}

static void
test_processes(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;

	(void)state;
	inventory("gpu 0 GPU-a 40960 One\n"
		  "gpu 1 GPU-b 40960 Two\n"
		  "proc 1 4242 1024\n"
		  "proc 0 4243 na\n"
		  "proc 1 4243 2\n");
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_string_equal(err.buf, "");
	assert_int_equal(procs.nr, 3);
	/* device order, then NVML's order on each device */
	assert_int_equal(procs.v[0].pid, 4243);
	assert_int_equal(procs.v[0].device_index, 0);
	assert_string_equal(procs.v[0].device_uuid, "GPU-a");
	assert_int_equal(procs.v[0].used_known, 0);
	assert_int_equal(procs.v[1].pid, 4242);
	assert_int_equal(procs.v[1].device_index, 1);
	assert_string_equal(procs.v[1].device_uuid, "GPU-b");
	assert_int_equal(procs.v[1].used_known, 1);
	assert_true(procs.v[1].used == 1024 * MIB);
	assert_int_equal(procs.v[2].pid, 4243);
	assert_true(procs.v[2].used == 2 * MIB);
	gpu_processes_release(&procs);
	assert_null(procs.v);
	strbuf_release(&err);
}

/* 200 processes do not fit the first guess: INSUFFICIENT_SIZE, grow, retry. */
static void
check_many_processes(const char *header)
{
	struct strbuf conf = STRBUF_INIT, err = STRBUF_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;

	strbuf_addf(&conf, "%sgpu 0 GPU-a 81920 Big\ngpu 1 GPU-b 81920 Idle\n", header);
	for (int i = 0; i < 200; i++)
		strbuf_addf(&conf, "proc 0 %d %d\n", 10000 + i, i + 1);
	strbuf_addstr(&conf, "proc 1 99 na\n");
	inventory(conf.buf);
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_int_equal(procs.nr, 201);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(procs.v[i].pid, 10000 + i);
		assert_int_equal(procs.v[i].device_index, 0);
		assert_int_equal(procs.v[i].used_known, 1);
		assert_true(procs.v[i].used == (unsigned long long)(i + 1) * MIB);
	}
	assert_int_equal(procs.v[200].pid, 99);
	assert_int_equal(procs.v[200].used_known, 0);
	gpu_processes_release(&procs);
	strbuf_release(&conf);
	strbuf_release(&err);
}

static void
test_many_processes(void **state)
{
	(void)state;
	check_many_processes("");
}

/* Older drivers: _v3 and _v2 absent, plain v1 with its 16-byte records. */
static void
test_processes_v1_fallback(void **state)
{
	(void)state;
	check_many_processes("missing nvmlDeviceGetComputeRunningProcesses_v3\n"
			     "missing nvmlDeviceGetComputeRunningProcesses_v2\n");
}

/* A GPU outside our cgroup: counted, but no handle. It leaves a hole. */
static void
test_noperm_hole(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;

	(void)state;
	inventory("gpu 0 GPU-a 1024 One\ngpu 1 GPU-b 1024 Two\ngpu 2 GPU-c 1024 Three\n"
		  "noperm 1\nproc 1 5 10\nproc 2 6 20\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_int_equal(devs.nr, 2);
	assert_int_equal(devs.v[0].index, 0);
	assert_string_equal(devs.v[0].uuid, "GPU-a");
	assert_int_equal(devs.v[1].index, 2);
	assert_string_equal(devs.v[1].uuid, "GPU-c");
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_int_equal(procs.nr, 1);
	assert_int_equal(procs.v[0].pid, 6);
	assert_int_equal(procs.v[0].device_index, 2);
	gpu_devices_release(&devs);
	gpu_processes_release(&procs);
	strbuf_release(&err);
}

/*
 * devnodes: only the GPUs whose node opens are shown (here nvidia1 and
 * nvidia3 exist), numbered from 0, keeping UUIDs and minor numbers.
 */
static void
test_devnodes(void **state)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf node = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;
	static const unsigned present[] = { 1, 3 };

	(void)state;
	strbuf_addf(&dir, "%s/dev", tmpdir);
	assert_int_equal(mkdir(dir.buf, 0700), 0);
	for (size_t i = 0; i < 2; i++) {
		strbuf_reset(&node);
		strbuf_addf(&node, "%s/nvidia%u", dir.buf, present[i]);
		assert_int_equal(write_file_atomic(node.buf, "", 0, 0600, &err), 0);
	}
	strbuf_addf(&text, "gpu 0 GPU-a 1024 One\ngpu 1 GPU-b 1024 Two\ngpu 2 GPU-c 1024 Three\n"
		    "gpu 3 GPU-d 1024 Four\nproc 3 6 20\nproc 0 5 10\ndevnodes %s\n", dir.buf);
	inventory(text.buf);
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_int_equal(devs.nr, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(devs.v[i].index, i);
		assert_int_equal(devs.v[i].minor, present[i]);
	}
	assert_string_equal(devs.v[0].uuid, "GPU-b");
	assert_string_equal(devs.v[1].uuid, "GPU-d");
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_int_equal(procs.nr, 1);
	assert_int_equal(procs.v[0].pid, 6);
	assert_int_equal(procs.v[0].device_index, 1);
	for (size_t i = 0; i < 2; i++) {
		strbuf_reset(&node);
		strbuf_addf(&node, "%s/nvidia%u", dir.buf, present[i]);
		unlink(node.buf);
	}
	rmdir(dir.buf);
	gpu_devices_release(&devs);
	gpu_processes_release(&procs);
	strbuf_release(&err);
	strbuf_release(&dir);
	strbuf_release(&text);
	strbuf_release(&node);
}

static void
test_no_gpus(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;

	(void)state;
	inventory("# a driver, no GPUs\n");
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	assert_int_equal(devs.nr, 0);
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_int_equal(procs.nr, 0);
	strbuf_release(&err);
}

static void
test_init_errors(void **state)
{
	(void)state;
	inventory("init_error 9\ngpu 0 GPU-a 1024 One\n");
	expect_open_error("NVML initialisation failed: Driver Not Loaded (code 9)");
	inventory("gpu 0 GPU-a 1024 One\ninit_error 18\n");
	expect_open_error("NVML initialisation failed: "
			  "RM has detected an NVML/RM version mismatch. (code 18)");
	/* a failed open is retried by the next call, not remembered */
	inventory("gpu 0 GPU-a 1024 One\n");
	{
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(gpu_open(&err), 0);
		strbuf_release(&err);
	}
}

static void
test_no_inventory_is_no_driver(void **state)
{
	(void)state;
	unsetenv("GENV_FAKE_NVML_CONFIG");
	expect_open_error("NVML initialisation failed: Driver Not Loaded (code 9)");
}

static void
test_malformed_inventory(void **state)
{
	static const char *const bad[] = {
		"gpu 0 GPU-a 1024\n",                  /* no name */
		"gpu zero GPU-a 1024 One\n",
		"gpu 0 GPU-a 1024 One\nproc 0 12 lots\n",
		"gpu 0 GPU-a 1024 One\nproc 3 12 1\n", /* no GPU 3 */
		"gpu 1 GPU-a 1024 One\n",              /* indices must be 0.. */
		"gpu 0 GPU-a 1024 One\ngpu 0 GPU-b 1024 Two\n",
		"gpu 0 GPU-a 1024 One\nnoperm 4\n",
		"gpus 2\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		inventory(bad[i]);
		expect_open_error("NVML initialisation failed: Unknown Error (code 999)");
	}
}

static void
test_missing_library(void **state)
{
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	strbuf_addf(&want, "%s/no-such-dir/libnvidia-ml.so.1", tmpdir);
	setenv("GENV_NVML_LIBRARY", want.buf, 1);
	assert_int_equal(gpu_open(&err), -1);
	strbuf_reset(&want);
	strbuf_addf(&want, "NVIDIA driver not found: %s/no-such-dir/libnvidia-ml.so.1 "
		    "(GENV_NVML_LIBRARY) could not be loaded (%s/no-such-dir/libnvidia-ml.so.1: "
		    "cannot open shared object file: No such file or directory)", tmpdir, tmpdir);
	assert_string_equal(err.buf, want.buf);

	strbuf_reset(&err);
	setenv("GENV_NVML_LIBRARY", "libnvidia-ml.so.1", 1);
	assert_int_equal(gpu_open(&err), -1);
	assert_string_equal(err.buf, "GENV_NVML_LIBRARY must be an absolute path, "
			    "not 'libnvidia-ml.so.1'");
	strbuf_release(&err);
	strbuf_release(&want);
}

/* Utilization, temperature and power: read only when asked, each optional. */
static void
test_readings(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;
	const unsigned all = GPU_HAS_UTILIZATION | GPU_HAS_TEMPERATURE | GPU_HAS_POWER |
			     GPU_HAS_POWER_LIMIT;

	(void)state;
	inventory("gpu 0 GPU-a 1024 One\ngpu 1 GPU-b 1024 Two\ngpu 2 GPU-c 1024 Three\n"
		  "util 0 87 31\ntemp 0 66\npower 0 251.5 400\n"
		  "power 1 70\n"                                  /* no limit to report */
		  "fail 2 nvmlDeviceGetTemperature 15\n"          /* GPU is lost */
		  "fail 2 nvmlDeviceGetUtilizationRates 3\n");    /* not supported */
	assert_int_equal(gpu_list_devices(&devs, &err), 0);
	for (size_t i = 0; i < devs.nr; i++)   /* not asked: nothing read */
		assert_int_equal(devs.v[i].valid, 0);
	gpu_devices_release(&devs);

	assert_int_equal(gpu_query_devices(&devs, GPU_QUERY_READINGS, &err), 0);
	assert_string_equal(err.buf, "");
	assert_int_equal(devs.nr, 3);
	assert_int_equal(devs.v[0].valid, all);
	assert_int_equal(devs.v[0].util_gpu, 87);
	assert_int_equal(devs.v[0].util_mem, 31);
	assert_int_equal(devs.v[0].temperature, 66);
	assert_int_equal(devs.v[0].power_mw, 251500);
	assert_int_equal(devs.v[0].power_limit_mw, 400000);
	assert_int_equal(devs.v[0].read_errors, 0);
	assert_int_equal(devs.v[1].valid, GPU_HAS_UTILIZATION | GPU_HAS_TEMPERATURE | GPU_HAS_POWER);
	assert_int_equal(devs.v[1].temperature, 40);
	assert_int_equal(devs.v[1].power_mw, 70000);
	assert_int_equal(devs.v[1].read_errors, 0);
	/* NOT_SUPPORTED is silent, a lost GPU is an error; neither fails the list */
	assert_int_equal(devs.v[2].valid, 0);
	assert_int_equal(devs.v[2].temperature, 0);
	assert_int_equal(devs.v[2].read_errors, 1);
	gpu_devices_release(&devs);
	gpu_close();

	/* an older driver without these functions: nothing, and no error */
	inventory("missing nvmlDeviceGetUtilizationRates\nmissing nvmlDeviceGetTemperature\n"
		  "missing nvmlDeviceGetPowerUsage\nmissing nvmlDeviceGetEnforcedPowerLimit\n"
		  "missing nvmlDeviceGetPowerManagementLimit\n"
		  "gpu 0 GPU-a 1024 One\npower 0 100 200\n");
	assert_int_equal(gpu_query_devices(&devs, GPU_QUERY_READINGS, &err), 0);
	assert_int_equal(devs.v[0].valid, 0);
	assert_int_equal(devs.v[0].read_errors, 0);
	gpu_devices_release(&devs);
	strbuf_release(&err);
}

/* A watched inventory is what a live driver is: changes show without re-init. */
static void
test_watched_inventory(void **state)
{
	struct strbuf err = STRBUF_INIT, log = STRBUF_INIT, path = STRBUF_INIT;
	struct gpu_devices devs = GPU_DEVICES_INIT;
	struct gpu_processes procs = GPU_PROCESSES_INIT;

	(void)state;
	strbuf_addf(&path, "%s/inits", tmpdir);
	unlink(path.buf);
	strbuf_addf(&log, "watch\ninit_log %s\ngpu 0 GPU-a 1024 One\n", path.buf);
	inventory(log.buf);
	assert_int_equal(gpu_query_devices(&devs, GPU_QUERY_READINGS, &err), 0);
	assert_int_equal(devs.nr, 1);
	gpu_devices_release(&devs);
	strbuf_addstr(&log, "gpu 1 GPU-b 2048 Two\nutil 1 50 5\nproc 1 77 100\n");
	inventory(log.buf);
	assert_int_equal(gpu_query_devices(&devs, GPU_QUERY_READINGS, &err), 0);
	assert_int_equal(devs.nr, 2);
	assert_int_equal(devs.v[1].util_gpu, 50);
	assert_true(devs.v[1].mem_used == 100 * MIB);
	assert_int_equal(gpu_list_processes(&procs, &err), 0);
	assert_int_equal(procs.nr, 1);
	assert_int_equal(procs.v[0].pid, 77);
	gpu_devices_release(&devs);
	gpu_processes_release(&procs);
	/* NVML was initialised once */
	strbuf_reset(&log);
	assert_int_equal(read_file_sb(&log, path.buf, &err), 0);
	assert_int_equal(strlen(log.buf) > 5 && !strchr(log.buf, '\n')[1], 1);
	unlink(path.buf);
	strbuf_release(&err);
	strbuf_release(&log);
	strbuf_release(&path);
}

/* Without the override genv looks for the driver's soname; none is installed here. */
static void
test_default_library_name(void **state)
{
	struct strbuf err = STRBUF_INIT;
	void *real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);

	(void)state;
	if (real) {
		dlclose(real);
		skip();   /* a real driver: nothing to check */
	}
	unsetenv("GENV_NVML_LIBRARY");
	assert_int_equal(gpu_open(&err), -1);
	assert_true(starts_with(err.buf, "NVIDIA driver not found: libnvidia-ml.so.1 "
				"could not be loaded (libnvidia-ml.so.1: cannot open shared object file"));
	strbuf_release(&err);
}

/* A library that is not NVML: the first missing function is named. */
static void
test_missing_symbol(void **state)
{
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	Dl_info info;

	(void)state;
	/* libcmocka is a real shared library at an absolute path */
	assert_int_not_equal(dladdr((void *)_cmocka_run_group_tests, &info), 0);
	assert_non_null(info.dli_fname);
	if (info.dli_fname[0] != '/')
		skip();
	setenv("GENV_NVML_LIBRARY", info.dli_fname, 1);
	assert_int_equal(gpu_open(&err), -1);
	strbuf_addf(&want, "the NVML library %s lacks the required function 'nvmlInit_v2'",
		    info.dli_fname);
	assert_string_equal(err.buf, want.buf);
	strbuf_release(&err);
	strbuf_release(&want);
}

int
main(void)
{
	const char *fake = getenv("GENV_TEST_FAKE_NVML");
	char tmpl[] = "/tmp/genv-test-gpu.XXXXXX";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_v2_and_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes_v1_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noperm_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devnodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_inventory_is_no_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_library, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_library_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_symbol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watched_inventory, setup, teardown),
	};
	int failed;

	if (!fake || *fake != '/') {
		printf("test-gpu: skipped: GENV_TEST_FAKE_NVML must name the fake "
		       "libnvidia-ml.so.1 by absolute path (t/run-tests.sh sets it)\n");
		return 0;
	}
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir) {
		perror("mkdtemp");
		return 1;
	}
	strbuf_addf(&inventory_path, "%s/gpus.conf", tmpdir);
	setenv("GENV_NVML_LIBRARY", fake, 1);
	setenv("GENV_FAKE_NVML_CONFIG", inventory_path.buf, 1);
	unsetenv("FAKE_NVML_CONFIG");

	failed = cmocka_run_group_tests_name("gpu", tests, NULL, NULL);

	gpu_close();
	unlink(inventory_path.buf);
	rmdir(tmpdir);
	strbuf_release(&inventory_path);
	return failed ? 1 : 0;
}
