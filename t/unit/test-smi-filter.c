/* SPDX-License-Identifier: MIT */
/*
 * test-smi-filter.c: nvidia-smi's table as an environment sees it, for the
 * classic 79-column table (1.4.3's exact lines) and the wide tables of
 * current drivers, fed whole, byte by byte and as a loop of tables.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "shim/smi-filter.h"
#include "util/strbuf.h"

static const long own_pids[] = { 30230, 30231, 777 };

static int
is_own(long pid, void *data UNUSED)
{
	for (size_t i = 0; i < ARRAY_SIZE(own_pids); i++)
		if (own_pids[i] == pid)
			return 1;
	return 0;
}

#define CLASSIC_HEAD \
	"Tue Nov 24 01:12:03 2026       \n" \
	"+-----------------------------------------------------------------------------+\n" \
	"| NVIDIA-SMI 470.57.02    Driver Version: 470.57.02    CUDA Version: 11.4     |\n" \
	"|-------------------------------+----------------------+----------------------+\n" \
	"| GPU  Name        Persistence-M| Bus-Id        Disp.A | Volatile Uncorr. ECC |\n" \
	"| Fan  Temp  Perf  Pwr:Usage/Cap|         Memory-Usage | GPU-Util  Compute M. |\n" \
	"|                               |                      |               MIG M. |\n" \
	"|===============================+======================+======================|\n" \
	"|   0  NVIDIA GeForce ...  Off  | 00000000:01:00.0 Off |                  N/A |\n"
#define CLASSIC_GPU0(mem) \
	"| 30%   38C    P8    26W / 250W |" mem "|     93%      Default |\n" \
	"|                               |                      |                  N/A |\n" \
	"+-------------------------------+----------------------+----------------------+\n" \
	"|   1  NVIDIA GeForce ...  Off  | 00000000:02:00.0 Off |                  N/A |\n"
#define CLASSIC_GPU1(mem) \
	"| 30%   36C    P8    21W / 250W |" mem "|      0%      Default |\n" \
	"|                               |                      |                  N/A |\n" \
	"+-------------------------------+----------------------+----------------------+\n" \
	"                                                                               \n" \
	"+-----------------------------------------------------------------------------+\n" \
	"| Processes:                                                                  |\n" \
	"|  GPU   GI   CI        PID   Type   Process name                  GPU Memory |\n" \
	"|        ID   ID                                                   Usage      |\n" \
	"|=============================================================================|\n"
#define CLASSIC_END \
	"+-----------------------------------------------------------------------------+\n"

#define P_TRAIN0 "|    0   N/A  N/A     30230      C   python train.py                  1000MiB |\n"
#define P_TRAIN1 "|    1   N/A  N/A     30230      C   python train.py                   500MiB |\n"
#define P_OTHER  "|    1   N/A  N/A     40000      C   python other.py                  4000MiB |\n"
#define P_EVAL0  "|    0   N/A  N/A     30231      C   python eval.py                     24MiB |\n"
#define NO_PROCS "|  No running processes found                                                 |\n"

static void
filter(const char *in, long long capacity_mib, const char *capacity, size_t chunk,
       struct strbuf *out)
{
	struct smi_filter f = SMI_FILTER_INIT;
	size_t len = strlen(in);

	f.capacity_mib = capacity_mib;
	f.capacity = capacity;
	f.own = is_own;
	for (size_t off = 0; off < len; off += chunk)
		smi_filter_feed(&f, in + off, len - off < chunk ? len - off : chunk, out);
	smi_filter_finish(&f, out);
	smi_filter_release(&f);
}

/* The same output whether fed whole, by odd chunks or byte by byte. */
static void
check(const char *in, long long capacity_mib, const char *capacity, const char *want)
{
	static const size_t chunks[] = { 1u << 20, 7, 1 };

	for (size_t i = 0; i < ARRAY_SIZE(chunks); i++) {
		struct strbuf out = STRBUF_INIT;

		filter(in, capacity_mib, capacity, chunks[i], &out);
		assert_string_equal(out.buf, want);
		strbuf_release(&out);
	}
}

#define OVER_WARNING \
	"\nWARNING: The GPU memory usage for this environment has exceeded the set capacity of 1g\n\n"
#define MISSING_WARNING \
	"\nWARNING: Missing information about running processes. Cannot calculate GPU memory usage.\n" \
	"\nIf you are running in a container, using the host pid namespace would solve this.\n" \
	"This could be done by passing '--pid host' to the 'docker run' command.\n\n"

/* 1.4.3's example (reference §8.1): capacity 1g = 953 MiB, another env's row hidden. */
static void
classic_own_usage_and_capacity(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("   4024MiB / 11019MiB ") CLASSIC_GPU1("   4500MiB / 11019MiB ")
	      P_TRAIN0 P_TRAIN1 P_OTHER P_EVAL0 CLASSIC_END,
	      953, "1g",
	      CLASSIC_HEAD CLASSIC_GPU0("   1024MiB /   953MiB ") CLASSIC_GPU1("    500MiB /   953MiB ")
	      P_TRAIN0 P_TRAIN1 P_EVAL0 CLASSIC_END OVER_WARNING);
}

static void
classic_real_total_without_capacity(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("   4024MiB / 11019MiB ") CLASSIC_GPU1("   4500MiB / 11019MiB ")
	      P_TRAIN1 P_OTHER CLASSIC_END,
	      -1, NULL,
	      CLASSIC_HEAD CLASSIC_GPU0("      0MiB / 11019MiB ") CLASSIC_GPU1("    500MiB / 11019MiB ")
	      P_TRAIN1 CLASSIC_END);
}

static void
classic_none_of_ours(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("   4024MiB / 11019MiB ") CLASSIC_GPU1("   4500MiB / 11019MiB ")
	      P_OTHER CLASSIC_END,
	      953, "1g",
	      CLASSIC_HEAD CLASSIC_GPU0("      0MiB /   953MiB ") CLASSIC_GPU1("      0MiB /   953MiB ")
	      NO_PROCS CLASSIC_END);
}

static void
classic_no_processes_at_all(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("      0MiB / 11019MiB ") CLASSIC_GPU1("      0MiB / 11019MiB ")
	      NO_PROCS CLASSIC_END,
	      953, "1g",
	      CLASSIC_HEAD CLASSIC_GPU0("      0MiB /   953MiB ") CLASSIC_GPU1("      0MiB /   953MiB ")
	      NO_PROCS CLASSIC_END);
}

/* A container without the host pid namespace: no rows, no "No running ...". */
static void
classic_missing_process_information(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("   4024MiB / 11019MiB ") CLASSIC_GPU1("   4500MiB / 11019MiB ")
	      CLASSIC_END,
	      953, "1g",
	      CLASSIC_HEAD CLASSIC_GPU0("   N/A MiB /   953MiB ") CLASSIC_GPU1("   N/A MiB /   953MiB ")
	      CLASSIC_END MISSING_WARNING);
}

#define WIDE_HEAD \
	"+-----------------------------------------------------------------------------------------+\n" \
	"| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |\n" \
	"|-----------------------------------------+------------------------+----------------------+\n" \
	"| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |\n" \
	"| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |\n" \
	"|                                         |                        |               MIG M. |\n" \
	"|=========================================+========================+======================|\n" \
	"|   3  NVIDIA GeForce RTX 4090        Off |   00000000:01:00.0 Off |                  Off |\n"
#define WIDE_GPU(mem) \
	"|  0%   44C    P8             22W /  450W |" mem "|      0%      Default |\n" \
	"|                                         |                        |                  N/A |\n" \
	"+-----------------------------------------+------------------------+----------------------+\n" \
	"                                                                                         \n" \
	"+-----------------------------------------------------------------------------------------+\n" \
	"| Processes:                                                                              |\n" \
	"|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |\n" \
	"|        ID   ID                                                               Usage      |\n" \
	"|=========================================================================================|\n"
#define WIDE_END \
	"+-----------------------------------------------------------------------------------------+\n"
#define W_OWN   "|    3   N/A  N/A       777      C   /usr/bin/python3                              2100MiB |\n"
#define W_OTHER "|    3   N/A  N/A      1234    C+G   python                                         100MiB |\n"
#define W_NONE  "|  No running processes found                                                             |\n"

static void
wide_same_rewriting(void **state UNUSED)
{
	check(WIDE_HEAD WIDE_GPU("    2202MiB /  24564MiB ") W_OTHER W_OWN WIDE_END,
	      2048, "2gi",
	      WIDE_HEAD WIDE_GPU("    2100MiB /   2048MiB ") W_OWN WIDE_END
	      "\nWARNING: The GPU memory usage for this environment has exceeded the set capacity of 2gi\n\n");
	check(WIDE_HEAD WIDE_GPU("     102MiB /  24564MiB ") W_OTHER WIDE_END,
	      -1, NULL,
	      WIDE_HEAD WIDE_GPU("       0MiB /  24564MiB ") W_NONE WIDE_END);
}

/* nvidia-smi -l: every table is shown as soon as it is complete. */
static void
loop_of_tables(void **state UNUSED)
{
	const char *one = WIDE_HEAD WIDE_GPU("     102MiB /  24564MiB ") W_OTHER WIDE_END;
	const char *want = WIDE_HEAD WIDE_GPU("       0MiB /  24564MiB ") W_NONE WIDE_END;
	struct smi_filter f = SMI_FILTER_INIT;
	struct strbuf out = STRBUF_INIT, two = STRBUF_INIT;

	f.own = is_own;
	smi_filter_feed(&f, one, strlen(one), &out);
	assert_string_equal(out.buf, want);   /* before any end of output */
	smi_filter_feed(&f, "Tue Nov 24 01:12:04 2026\n", 25, &out);
	smi_filter_feed(&f, one, strlen(one), &out);
	smi_filter_finish(&f, &out);
	strbuf_addf(&two, "%sTue Nov 24 01:12:04 2026\n%s", want, want);
	assert_string_equal(out.buf, two.buf);
	smi_filter_release(&f);
	strbuf_release(&out);
	strbuf_release(&two);
}

/* Rows of pre-450 drivers (no GI/CI) and of MIG instances (numbers there). */
static void
other_process_rows(void **state UNUSED)
{
	check(WIDE_HEAD WIDE_GPU("     102MiB /  24564MiB ")
	      "|    3      777      C   python                                                     40MiB |\n"
	      "|    3    1    0     30231      C   python                                         2MiB |\n"
	      "|    3    1    0     12345      C   python                                         2MiB |\n"
	      "|    3   N/A  N/A     30230      C   python                                         N/A |\n"
	      WIDE_END,
	      -1, NULL,
	      WIDE_HEAD WIDE_GPU("      42MiB /  24564MiB ")
	      "|    3      777      C   python                                                     40MiB |\n"
	      "|    3    1    0     30231      C   python                                         2MiB |\n"
	      "|    3   N/A  N/A     30230      C   python                                         N/A |\n"
	      WIDE_END);
}

static void
other_output_passes(void **state UNUSED)
{
	check("index, memory.used [MiB]\n0, 1024\n1, 12\n", 953, "1g",
	      "index, memory.used [MiB]\n0, 1024\n1, 12\n");
	check("No devices were found\n", -1, NULL, "No devices were found\n");
	check("no newline at the end", -1, NULL, "no newline at the end");
	check("", -1, NULL, "");
}

/* Output that stops inside the table still shows what came, rewritten. */
static void
truncated_table(void **state UNUSED)
{
	check(CLASSIC_HEAD CLASSIC_GPU0("   4024MiB / 11019MiB ") "|   1  NVIDIA Ge",
	      953, "1g",
	      CLASSIC_HEAD CLASSIC_GPU0("   N/A MiB /   953MiB ") "|   1  NVIDIA Ge"
	      MISSING_WARNING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classic_own_usage_and_capacity),
		cmocka_unit_test(classic_real_total_without_capacity),
		cmocka_unit_test(classic_none_of_ours),
		cmocka_unit_test(classic_no_processes_at_all),
		cmocka_unit_test(classic_missing_process_information),
		cmocka_unit_test(wide_same_rewriting),
		cmocka_unit_test(loop_of_tables),
		cmocka_unit_test(other_process_rows),
		cmocka_unit_test(other_output_passes),
		cmocka_unit_test(truncated_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
