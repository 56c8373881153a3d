/* SPDX-License-Identifier: MIT */
/*
 * test-live.c: the watch line protocol (core/live.h): serialise and parse
 * back, framing of a stream cut anywhere, what is rejected, the 1.4.3
 * one-shot conversion; the collector of this machine (the fake NVML, a
 * private state directory); and fitting text to columns (util/term.h).
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/live.h"
#include "core/state.h"
#include "core/state-json.h"
#include "gpu/gpu.h"
#include "util/strbuf.h"
#include "util/term.h"
#include "util/xalloc.h"

#include <unistd.h>

static const char snapshot_json[] =
	"{\"processes\": {\"processes\": ["
	"{\"pid\": 27996, \"used_gpu_memory\": [{\"index\": 0, \"gpu_memory\": \"300mi\"},"
	" {\"index\": 1, \"gpu_memory\": \"200mi\"}], \"eid\": \"e1\"},"
	"{\"pid\": 27997, \"used_gpu_memory\": [{\"index\": 1, \"gpu_memory\": \"42mi\"}], \"eid\": null}]},"
	" \"envs\": {\"envs\": [{\"eid\": \"e1\", \"uid\": 1000, \"creation\": \"24/11/2026 01:12:47\","
	" \"username\": \"alice\", \"config\": {\"name\": \"train\", \"gpu_memory\": \"8g\", \"gpus\": null},"
	" \"pids\": [27994], \"kernel_ids\": []}]},"
	" \"devices\": {\"devices\": [{\"index\": 0, \"total_memory\": \"16384mi\", \"attachments\":"
	" [{\"eid\": \"e1\", \"gpu_memory\": \"8g\", \"time\": \"24/11/2026 01:12:49\"}]},"
	" {\"index\": 1, \"total_memory\": \"16384mi\", \"attachments\": []}]}}";

/* A live with a snapshot, two GPUs (one with every reading) and a process. */
static void
sample(struct live *l)
{
	struct strbuf err = STRBUF_INIT;
	struct live_gpu *g;
	struct live_proc *p;

	live_init(l);
	assert_int_equal(snapshot_parse(&l->snap, snapshot_json, strlen(snapshot_json),
					"test", &err), 0);
	l->hostname = xstrdup("gpu-1");
	l->time = xstrdup("24/11/2026 01:13:00");
	l->gpus = xcalloc(2, sizeof(*l->gpus));
	l->gpus_nr = l->gpus_alloc = 2;
	g = &l->gpus[0];
	g->index = 0;
	g->uuid = xstrdup("GPU-0");
	g->name = xstrdup("NVIDIA A100");
	g->mem_total = 17179869184ULL;
	g->mem_used = 314572800ULL;
	g->util = 37;
	g->temp = 61;
	g->util_mem = 12;
	g->power_mw = 71250;
	g->power_limit_mw = 400000;
	g->valid = LIVE_GPU_MEMORY | LIVE_GPU_UTIL | LIVE_GPU_TEMP | LIVE_GPU_POWER |
		   LIVE_GPU_POWER_LIMIT;
	l->gpus[1].index = 1;   /* nothing known */
	l->procs = xcalloc(1, sizeof(*l->procs));
	l->procs_nr = l->procs_alloc = 1;
	p = &l->procs[0];
	p->pid = 27997;
	p->uid = 1001;
	p->user = xstrdup("bob");
	p->command = xstrdup("python train.py");
	p->env_known = 0;
	strbuf_release(&err);
}

static void
round_trip(void **state)
{
	struct live a, b = LIVE_INIT;
	struct strbuf line = STRBUF_INIT, again = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	sample(&a);
	live_serialize(&a, &line);
	assert_null(strchr(line.buf, '\n'));
	assert_true(starts_with(line.buf, "{\"watch\": 1, \"hostname\": \"gpu-1\", "
				"\"time\": \"24/11/2026 01:13:00\", \"snapshot\": {\"processes\""));
	assert_int_equal(live_parse_line(&b, line.buf, line.len, &err), 0);
	assert_string_equal(err.buf, "");
	assert_string_equal(b.hostname, "gpu-1");
	assert_int_equal(b.gpus_nr, 2);
	assert_int_equal(b.gpus[0].valid, a.gpus[0].valid);
	assert_int_equal(b.gpus[0].power_mw, 71250);
	assert_int_equal(b.gpus[0].power_limit_mw, 400000);
	assert_int_equal(b.gpus[0].util_mem, 12);
	assert_true(b.gpus[0].mem_total == 17179869184ULL);
	assert_int_equal(b.gpus[1].valid, 0);
	assert_null(b.gpus[1].name);
	assert_int_equal(b.procs_nr, 1);
	assert_int_equal(b.procs[0].env_known, 0);
	assert_string_equal(b.procs[0].command, "python train.py");
	assert_int_equal(b.snap.devices.v[0].att_nr, 1);
	assert_int_equal(b.partial, 0);
	/* what is read back prints the same line */
	live_serialize(&b, &again);
	assert_string_equal(line.buf, again.buf);

	live_release(&a);
	live_release(&b);
	strbuf_release(&line);
	strbuf_release(&again);
	strbuf_release(&err);
}

static void
error_line(void **state)
{
	struct live a = LIVE_INIT, b = LIVE_INIT;
	struct strbuf line = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	a.hostname = xstrdup("h");
	a.time = xstrdup("24/11/2026 01:13:00");
	a.error = xstrdup("NVML initialisation failed: \033[2J (code 9)");
	live_serialize(&a, &line);
	/* JSON escapes the control characters; the reader shows them escaped */
	assert_non_null(strstr(line.buf, "\"error\": \"NVML initialisation failed: \\u001b[2J (code 9)\""));
	assert_null(strstr(line.buf, "snapshot"));
	assert_int_equal(live_parse_line(&b, line.buf, line.len, &err), 0);
	assert_string_equal(b.error, a.error);
	assert_int_equal(b.snap.devices.nr, 0);
	live_release(&a);
	live_release(&b);
	strbuf_release(&line);
	strbuf_release(&err);
}

static void
expect_bad(const char *text, const char *needle)
{
	struct live l = LIVE_INIT;
	struct strbuf err = STRBUF_INIT;

	if (live_parse_line(&l, text, strlen(text), &err) != -1)
		fail_msg("accepted: %s", text);
	if (!strstr(err.buf, needle))
		fail_msg("'%s': got '%s', want '%s'", text, err.buf, needle);
	assert_null(l.hostname);
	assert_int_equal(l.gpus_nr, 0);
	live_release(&l);
	strbuf_release(&err);
}

#define HEAD "{\"watch\": 1, \"hostname\": \"h\", \"time\": \"t\", "
#define SNAP "\"snapshot\": {\"processes\": {\"processes\": []}, \"envs\": {\"envs\": []}, " \
	     "\"devices\": {\"devices\": []}}"

static void
rejected(void **state)
{
	(void)state;
	expect_bad("", "watch line: invalid JSON");
	expect_bad("{\"watch\": 1, \"hostname\": \"h\"", "watch line: invalid JSON");
	expect_bad("[1, 2]", "watch line:");
	expect_bad("{\"watch\": 2, \"hostname\": \"h\", \"time\": \"t\", " SNAP "}",
		   "watch line: version 2 is not 1");
	expect_bad("{\"hostname\": \"h\", \"time\": \"t\", " SNAP "}", "watch");
	expect_bad(HEAD "\"gpus\": []}", "neither a snapshot nor an error");
	expect_bad(HEAD SNAP ", \"gpus\": {}}", "must be arrays");
	expect_bad(HEAD SNAP ", \"gpus\": [{\"index\": \"0\"}]}", "gpus[0]:");
	expect_bad(HEAD SNAP ", \"gpus\": [{\"index\": 0}, {\"index\": 0}]}",
		   "gpus[1]: index 0 is listed twice");
	expect_bad(HEAD SNAP ", \"gpus\": [{\"index\": 0, \"utilization\": 101}]}",
		   "gpus[0].utilization: not an integer in 0..100");
	expect_bad(HEAD SNAP ", \"gpus\": [{\"index\": 0, \"power\": \"9\"}]}",
		   "gpus[0].power: not an integer in 0..4294967295");
	expect_bad(HEAD SNAP ", \"gpus\": [{\"index\": -1}]}", "out of range");
	expect_bad(HEAD SNAP ", \"process_info\": [{\"pid\": 0}]}", "process_info[0]");
	expect_bad(HEAD SNAP ", \"process_info\": [{\"pid\": 1, \"user\": 7}]}", "process_info[0]");
	/* the snapshot keeps 1.4.3's strict key sets */
	expect_bad(HEAD "\"snapshot\": {\"envs\": {\"envs\": []}}}", "watch line: snapshot");
	expect_bad(HEAD "\"snapshot\": {\"processes\": {\"processes\": []}, \"envs\": {\"envs\": []}, "
		   "\"devices\": {\"devices\": [{\"index\": \"zero\"}]}}}", "watch line: snapshot");
}

static void
unknown_keys_ignored(void **state)
{
	const char *text = HEAD SNAP ", \"gpus\": [{\"index\": 3, \"fan\": 40, \"memory_used\": 5}],"
			   " \"future\": {\"x\": [1]}}";
	struct live l = LIVE_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(live_parse_line(&l, text, strlen(text), &err), 0);
	assert_int_equal(l.gpus_nr, 1);
	assert_int_equal(l.gpus[0].index, 3);
	/* used without total: no memory reading */
	assert_int_equal(l.gpus[0].valid, 0);
	assert_null(live_find_gpu(&l, 0));
	assert_non_null(live_find_gpu(&l, 3));
	live_release(&l);
	strbuf_release(&err);
}

/* Feeds stream[0..len) in pieces of n bytes; returns the snapshots seen. */
static int
feed_in_pieces(const char *stream, size_t len, size_t n, struct live *l, const char **host)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	int got = 0;

	for (size_t off = 0; off < len; off += n) {
		int rc;

		strbuf_add(&buf, stream + off, off + n > len ? len - off : n);
		rc = live_feed(&buf, 1 << 20, l, &err);
		assert_int_not_equal(rc, -1);
		if (rc == 1) {
			got++;
			*host = l->hostname;
		}
	}
	assert_int_equal(buf.len, 0);
	strbuf_release(&buf);
	strbuf_release(&err);
	return got;
}

static void
framing(void **state)
{
	struct strbuf stream = STRBUF_INIT;
	struct live a;

	(void)state;
	sample(&a);
	free(a.hostname);
	a.hostname = xstrdup("first");
	live_serialize(&a, &stream);
	strbuf_addstr(&stream, "\n\n");      /* a blank line is skipped */
	free(a.hostname);
	a.hostname = xstrdup("second");
	live_serialize(&a, &stream);
	strbuf_addstr(&stream, "\r\n");
	for (size_t n = 1; n <= stream.len; n += (n < 64 ? 1 : 997)) {
		struct live l = LIVE_INIT;
		const char *last = NULL;
		int got = feed_in_pieces(stream.buf, stream.len, n, &l, &last);

		/* every piece size ends with the newest line; both lines when they
		 * arrive apart */
		assert_true(got == 1 || got == 2);
		assert_string_equal(last, "second");
		assert_string_equal(l.hostname, "second");
		live_release(&l);
	}
	live_release(&a);
	strbuf_release(&stream);
}

static void
feed_newest_only_and_errors(void **state)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	struct live l = LIVE_INIT;

	(void)state;
	/* garbage older than the newest line is never looked at */
	strbuf_addstr(&buf, "garbage\n" HEAD "\"error\": \"e\"}\npart");
	assert_int_equal(live_feed(&buf, 100, &l, &err), 1);
	assert_string_equal(l.error, "e");
	assert_string_equal(buf.buf, "part");
	/* no newline yet: nothing, and what l holds stays */
	assert_int_equal(live_feed(&buf, 100, &l, &err), 0);
	assert_string_equal(l.error, "e");
	/* blank lines only: nothing new, l kept */
	strbuf_reset(&buf);
	strbuf_addstr(&buf, "\n\n");
	assert_int_equal(live_feed(&buf, 100, &l, &err), 0);
	assert_string_equal(l.error, "e");
	assert_int_equal(buf.len, 0);
	/* a bad newest line: -1, l empty */
	strbuf_addstr(&buf, "{\"watch\": 1}\n");
	assert_int_equal(live_feed(&buf, 100, &l, &err), -1);
	assert_non_null(strstr(err.buf, "watch line:"));
	assert_null(l.error);
	/* a partial line beyond the limit */
	strbuf_reset(&err);
	strbuf_reset(&buf);
	for (int i = 0; i < 20; i++)
		strbuf_addstr(&buf, "0123456789");
	assert_int_equal(live_feed(&buf, 100, &l, &err), -1);
	assert_string_equal(err.buf, "watch line: longer than 100 bytes");
	live_release(&l);
	strbuf_release(&buf);
	strbuf_release(&err);
}

static void
from_143_snapshot(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct strbuf err = STRBUF_INIT;
	struct live l = LIVE_INIT;

	(void)state;
	assert_int_equal(snapshot_parse(&s, snapshot_json, strlen(snapshot_json), "t", &err), 0);
	live_from_snapshot(&l, &s, "old-host");
	assert_int_equal(s.devices.nr, 0);   /* taken over */
	assert_int_equal(l.partial, 1);
	assert_string_equal(l.hostname, "old-host");
	assert_non_null(l.time);
	assert_int_equal(l.gpus_nr, 2);
	assert_int_equal(l.gpus[0].valid, LIVE_GPU_MEMORY);
	assert_true(l.gpus[0].mem_total == 16384ULL << 20);
	assert_true(l.gpus[0].mem_used == 300ULL << 20);
	assert_true(l.gpus[1].mem_used == 242ULL << 20);
	assert_int_equal(l.procs_nr, 0);
	live_release(&l);
	strbuf_release(&err);
}

static struct strbuf inventory = STRBUF_INIT;   /* the fake NVML's file */

static void
set_inventory(const char *text)
{
	FILE *f = fopen(inventory.buf, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	gpu_close();   /* re-read at the next init */
}

static void
collect(void **state)
{
	struct gpu_devices devs = GPU_DEVICES_INIT;
	struct strbuf err = STRBUF_INIT;
	struct live l = LIVE_INIT;

	if (!inventory.len)
		skip();
	(void)state;
	set_inventory("gpu 0 GPU-0 16384 Fake A\ngpu 1 GPU-1 16384 Fake B\nutil 0 150 7\n"
		      "fail 1 nvmlDeviceGetTemperature 15\n");
	assert_int_equal(live_collect(&l, NULL, LIVE_COLLECT_PROCESS_INFO, &err), 0);
	assert_string_equal(err.buf, "");
	assert_null(l.error);
	assert_non_null(l.hostname);
	assert_int_equal(l.gpus_nr, 2);
	assert_int_equal(l.gpus[0].util, 100);   /* clamped, as the watch line wants */
	assert_int_equal(l.gpus[0].util_mem, 7);
	assert_int_equal(l.gpus[1].valid & LIVE_GPU_TEMP, 0);
	assert_int_equal(l.nvml_errors, 1);      /* GPU 1's temperature */
	assert_int_equal(l.snap.devices.nr, 2);
	live_gpu_devices(&devs, &l);
	assert_int_equal(devs.nr, 2);
	assert_string_equal(devs.v[1].uuid, "GPU-1");
	assert_true(devs.v[0].valid & GPU_HAS_UTILIZATION);
	assert_int_equal(devs.v[0].util_gpu, 100);
	assert_true(devs.v[0].mem_total == 16384ULL << 20);
	gpu_devices_release(&devs);
	live_release(&l);

	/* NVML failing: all or nothing (the watch line's error) ... */
	set_inventory("init_error 9\n");
	assert_int_equal(live_collect(&l, NULL, 0, &err), -1);
	assert_non_null(l.error);
	assert_string_equal(l.error, err.buf);
	assert_non_null(l.hostname);
	assert_non_null(l.time);
	assert_int_equal(l.gpus_nr, 0);
	live_release(&l);
	/* ... or what can be read, each failure said (the monitor's sample) */
	strbuf_reset(&err);
	gpu_close();
	assert_int_equal(live_collect(&l, NULL, LIVE_COLLECT_PARTIAL, &err), 0);
	assert_null(l.error);
	assert_int_equal(strncmp(err.buf, "GPUs: ", 6), 0);
	assert_non_null(strstr(err.buf, "; processes and environments: "));
	assert_true(l.nvml_errors >= 1);
	live_release(&l);
	strbuf_release(&err);
	gpu_close();
}

static void
fit(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(term_width("caf\xc3\xa9"), 4);
	term_add_fit(&sb, "abc", 5);
	assert_string_equal(sb.buf, "abc  ");
	strbuf_reset(&sb);
	term_add_fit(&sb, "abcdef", 4);
	assert_string_equal(sb.buf, "abc~");
	strbuf_reset(&sb);
	term_add_fit(&sb, "\xc3\xa9\xc3\xa9\xc3\xa9", 2);   /* never half a character */
	assert_string_equal(sb.buf, "\xc3\xa9~");
	strbuf_reset(&sb);
	term_add_fit(&sb, "abc", 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(error_line),
		cmocka_unit_test(rejected),
		cmocka_unit_test(unknown_keys_ignored),
		cmocka_unit_test(framing),
		cmocka_unit_test(feed_newest_only_and_errors),
		cmocka_unit_test(from_143_snapshot),
		cmocka_unit_test(collect),
		cmocka_unit_test(fit),
	};
	const char *fake = getenv("GENV_TEST_FAKE_NVML");
	char tmpl[] = "/tmp/genv-test-live.XXXXXX";
	struct strbuf state_dir = STRBUF_INIT;
	int failed;

	/* the collector needs the fake NVML (t/run-tests.sh names it) */
	if (fake && *fake == '/' && mkdtemp(tmpl)) {
		strbuf_addf(&inventory, "%s/gpus.conf", tmpl);
		strbuf_addf(&state_dir, "%s/state", tmpl);
		setenv("GENV_NVML_LIBRARY", fake, 1);
		setenv("GENV_FAKE_NVML_CONFIG", inventory.buf, 1);
		setenv("GENV_TMPDIR", state_dir.buf, 1);
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (inventory.len) {
		unlink(inventory.buf);
		rmdir(state_dir.buf);   /* a loaded state creates nothing */
		rmdir(tmpl);
	}
	strbuf_release(&inventory);
	strbuf_release(&state_dir);
	return failed;
}
