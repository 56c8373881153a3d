/* SPDX-License-Identifier: MIT */
/*
 * test-state.c: the JSON contract with genv 1.4.3: byte-exact round trips
 * of the reference examples, legacy forms, and strict rejection (with the
 * place named) of everything else.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/state.h"
#include "core/state-json.h"
#include "util/strbuf.h"

static const char envs_example[] =
	"{\n"
	"  \"envs\": [\n"
	"    {\n"
	"      \"eid\": \"e1\",\n"
	"      \"uid\": 1000,\n"
	"      \"creation\": \"24/11/2026 01:11:48\",\n"
	"      \"username\": \"alice\",\n"
	"      \"config\": {\n"
	"        \"name\": \"my-env\",\n"
	"        \"gpu_memory\": \"4g\",\n"
	"        \"gpus\": 2\n"
	"      },\n"
	"      \"pids\": [\n"
	"        26460,\n"
	"        26463\n"
	"      ],\n"
	"      \"kernel_ids\": []\n"
	"    }\n"
	"  ]\n"
	"}";

static const char devices_example[] =
	"{\n"
	"  \"devices\": [\n"
	"    {\n"
	"      \"index\": 0,\n"
	"      \"total_memory\": \"16384mi\",\n"
	"      \"attachments\": [\n"
	"        {\n"
	"          \"eid\": \"e1\",\n"
	"          \"gpu_memory\": \"4g\",\n"
	"          \"time\": \"24/11/2026 01:12:03\"\n"
	"        }\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"index\": 1,\n"
	"      \"total_memory\": \"16384mi\",\n"
	"      \"attachments\": []\n"
	"    }\n"
	"  ]\n"
	"}";

static const char snapshot_example[] =
	"{\n"
	"  \"processes\": {\n"
	"    \"processes\": [\n"
	"      {\n"
	"        \"pid\": 27996,\n"
	"        \"used_gpu_memory\": [\n"
	"          {\n"
	"            \"index\": 0,\n"
	"            \"gpu_memory\": \"300mi\"\n"
	"          },\n"
	"          {\n"
	"            \"index\": 1,\n"
	"            \"gpu_memory\": \"200mi\"\n"
	"          }\n"
	"        ],\n"
	"        \"eid\": \"e1\"\n"
	"      },\n"
	"      {\n"
	"        \"pid\": 27997,\n"
	"        \"used_gpu_memory\": [\n"
	"          {\n"
	"            \"index\": 1,\n"
	"            \"gpu_memory\": \"42mi\"\n"
	"          }\n"
	"        ],\n"
	"        \"eid\": null\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"envs\": {\n"
	"    \"envs\": [\n"
	"      {\n"
	"        \"eid\": \"e1\",\n"
	"        \"uid\": 1000,\n"
	"        \"creation\": \"24/11/2026 01:12:47\",\n"
	"        \"username\": \"alice\",\n"
	"        \"config\": {\n"
	"          \"name\": \"train\",\n"
	"          \"gpu_memory\": \"8g\",\n"
	"          \"gpus\": null\n"
	"        },\n"
	"        \"pids\": [\n"
	"          27994\n"
	"        ],\n"
	"        \"kernel_ids\": []\n"
	"      },\n"
	"      {\n"
	"        \"eid\": \"e2\",\n"
	"        \"uid\": 1001,\n"
	"        \"creation\": \"24/11/2026 01:12:48\",\n"
	"        \"username\": null,\n"
	"        \"config\": {\n"
	"          \"name\": null,\n"
	"          \"gpu_memory\": null,\n"
	"          \"gpus\": null\n"
	"        },\n"
	"        \"pids\": [\n"
	"          27995\n"
	"        ],\n"
	"        \"kernel_ids\": []\n"
	"      }\n"
	"    ]\n"
	"  },\n"
	"  \"devices\": {\n"
	"    \"devices\": [\n"
	"      {\n"
	"        \"index\": 0,\n"
	"        \"total_memory\": \"16384mi\",\n"
	"        \"attachments\": [\n"
	"          {\n"
	"            \"eid\": \"e1\",\n"
	"            \"gpu_memory\": \"8g\",\n"
	"            \"time\": \"24/11/2026 01:12:49\"\n"
	"          }\n"
	"        ]\n"
	"      },\n"
	"      {\n"
	"        \"index\": 1,\n"
	"        \"total_memory\": \"16384mi\",\n"
	"        \"attachments\": [\n"
	"          {\n"
	"            \"eid\": \"e2\",\n"
	"            \"gpu_memory\": null,\n"
	"            \"time\": \"24/11/2026 01:12:49\"\n"
	"          }\n"
	"        ]\n"
	"      }\n"
	"    ]\n"
	"  }\n"
	"}";

static void
envs_round_trip(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	assert_int_equal(envs_parse(&envs, envs_example, strlen(envs_example),
				    "envs.json", &err), 0);
	assert_int_equal(envs.nr, 1);
	assert_string_equal(envs.v[0].eid, "e1");
	assert_int_equal(envs.v[0].uid, 1000);
	assert_string_equal(envs.v[0].username, "alice");
	assert_string_equal(envs.v[0].config.name, "my-env");
	assert_string_equal(envs.v[0].config.gpu_memory, "4g");
	assert_true(envs.v[0].config.has_gpus);
	assert_int_equal(envs.v[0].config.gpus, 2);
	assert_int_equal(envs.v[0].pids_nr, 2);
	assert_int_equal(envs.v[0].pids[1], 26463);
	assert_int_equal(envs.v[0].kernel_ids.nr, 0);
	envs_serialize(&envs, &out);
	assert_string_equal(out.buf, envs_example);
	envs_release(&envs);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
envs_empty_and_ascii(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct strbuf out = STRBUF_INIT;
	struct env *e;

	envs_serialize(&envs, &out);
	assert_string_equal(out.buf, "{\n  \"envs\": []\n}");

	strbuf_reset(&out);
	e = envs_append(&envs, "caf\xc3\xa9");
	e->uid = 0;
	e->creation = strdup("01/01/2026 00:00:00");
	strvec_push(&e->kernel_ids, "k1");
	envs_serialize(&envs, &out);
	assert_non_null(strstr(out.buf, "\"eid\": \"caf\\u00e9\""));
	assert_non_null(strstr(out.buf, "\"username\": null"));
	assert_non_null(strstr(out.buf,
		"\"config\": {\n        \"name\": null,\n        \"gpu_memory\": null,\n        \"gpus\": null\n      }"));
	assert_non_null(strstr(out.buf, "\"pids\": [],\n      \"kernel_ids\": [\n        \"k1\"\n      ]"));
	envs_release(&envs);
	strbuf_release(&out);
}

static void
devices_round_trip(void **state UNUSED)
{
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	assert_int_equal(devices_parse(&devs, devices_example, strlen(devices_example),
				       "devices.json", &err), 0);
	assert_int_equal(devs.nr, 2);
	assert_int_equal(devs.v[0].att_nr, 1);
	assert_string_equal(devs.v[0].att[0].gpu_memory, "4g");
	assert_ptr_equal(devices_find(&devs, 1), &devs.v[1]);
	assert_null(devices_find(&devs, 2));
	devices_serialize(&devs, &out);
	assert_string_equal(out.buf, devices_example);
	devices_release(&devs);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
snapshot_round_trip(void **state UNUSED)
{
	struct snapshot s = SNAPSHOT_INIT, copy = SNAPSHOT_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	assert_int_equal(snapshot_parse(&s, snapshot_example, strlen(snapshot_example),
					"remote", &err), 0);
	assert_int_equal(s.processes.nr, 2);
	assert_null(s.processes.v[1].eid);
	assert_int_equal(s.processes.v[0].usage_nr, 2);
	assert_false(s.envs.v[0].config.has_gpus);
	assert_null(s.envs.v[1].username);
	assert_null(s.devices.v[1].att[0].gpu_memory);
	snapshot_serialize(&s, &out);
	assert_string_equal(out.buf, snapshot_example);

	/* deep copies serialize the same and are freed independently */
	for (size_t i = 0; i < s.processes.nr; i++) {
		struct process *p = processes_append(&copy.processes, 0, NULL);
		process_release(p);
		process_copy(p, &s.processes.v[i]);
	}
	for (size_t i = 0; i < s.envs.nr; i++) {
		struct env *e = envs_append(&copy.envs, "x");
		env_release(e);
		env_copy(e, &s.envs.v[i]);
	}
	for (size_t i = 0; i < s.devices.nr; i++) {
		struct device *d = devices_append(&copy.devices, 0, NULL);
		device_release(d);
		device_copy(d, &s.devices.v[i]);
	}
	snapshot_release(&s);
	strbuf_reset(&out);
	snapshot_serialize(&copy, &out);
	assert_string_equal(out.buf, snapshot_example);
	snapshot_release(&copy);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
processes_line_style(void **state UNUSED)
{
	struct processes ps = PROCESSES_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	json_t *j;
	struct process *p = processes_append(&ps, 1649, "proj2");

	process_add_usage(p, 1, "2048mi");
	assert_ptr_equal(processes_find(&ps, 1649), p);
	assert_null(processes_find(&ps, 1));
	j = processes_to_json(&ps);
	json_dump_py(&out, j, JSON_STYLE_LINE);
	json_decref(j);
	assert_string_equal(out.buf,
		"{\"processes\": [{\"pid\": 1649, \"used_gpu_memory\": [{\"index\": 1, \"gpu_memory\": \"2048mi\"}], \"eid\": \"proj2\"}]}");
	processes_release(&ps);
	assert_int_equal(processes_parse(&ps, out.buf, out.len, "x", &err), 0);
	assert_int_equal(ps.nr, 1);
	assert_string_equal(ps.v[0].usage[0].gpu_memory, "2048mi");
	processes_release(&ps);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
legacy_envs(void **state UNUSED)
{
	static const char text[] =
		"{\"envs\": {\"e1\": {\"eid\": \"e1\", \"uid\": 1000, \"creation\": \"24/11/2026 01:11:48\","
		" \"pids\": [5]}, \"e2\": {\"uid\": 7, \"creation\": \"x\", \"username\": \"bob\","
		" \"config\": {\"gpus\": 1}, \"kernel_ids\": [\"k\"]}}}";
	struct envs envs = ENVS_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	assert_int_equal(envs_parse(&envs, text, strlen(text), "envs.json", &err), 0);
	assert_int_equal(envs.nr, 2);
	assert_string_equal(envs.v[1].eid, "e2");
	assert_null(envs.v[0].username);
	assert_int_equal(envs.v[0].pids[0], 5);
	assert_true(envs.v[1].config.has_gpus);
	assert_null(envs.v[1].config.name);
	assert_string_equal(envs.v[1].kernel_ids.v[0], "k");
	envs_serialize(&envs, &out);
	/* written back in the current form */
	assert_non_null(strstr(out.buf, "\"eid\": \"e2\",\n      \"uid\": 7,\n      \"creation\": \"x\",\n"
				     "      \"username\": \"bob\",\n      \"config\": {\n        \"name\": null,\n"
				     "        \"gpu_memory\": null,\n        \"gpus\": 1\n      },\n"
				     "      \"pids\": [],\n      \"kernel_ids\": [\n        \"k\"\n      ]"));
	envs_release(&envs);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
legacy_devices(void **state UNUSED)
{
	static const char text[] =
		"{\"devices\": {\"1\": {\"eids\": {}, \"total_memory\": \"16384mi\"},"
		" \"0\": {\"eids\": {\"e1\": {\"eid\": \"e1\", \"gpu_memory\": \"4g\", \"attached\": \"t1\"},"
		" \"e2\": {\"eid\": \"e2\", \"attached\": \"t2\"}}, \"total_memory\": \"16384mi\"}}}";
	static const char bad_key[] = "{\"devices\": {\"x\": {}}}";
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(devices_parse(&devs, text, strlen(text), "devices.json", &err), 0);
	assert_int_equal(devs.nr, 2);
	assert_int_equal(devs.v[0].index, 0);
	assert_int_equal(devs.v[1].index, 1);
	assert_int_equal(devs.v[0].att_nr, 2);
	assert_string_equal(devs.v[0].att[0].gpu_memory, "4g");
	assert_string_equal(devs.v[0].att[0].time, "t1");
	assert_null(devs.v[0].att[1].gpu_memory);
	assert_string_equal(devs.v[0].att[1].eid, "e2");
	devices_release(&devs);

	assert_int_equal(devices_parse(&devs, bad_key, strlen(bad_key), "devices.json", &err), -1);
	assert_string_equal(err.buf, "devices.json: devices[\"x\"]: expected a device index as key");
	assert_int_equal(devs.nr, 0);
	strbuf_release(&err);
}

struct bad_case {
	const char *text;
	const char *message;  /* ending in '*': a prefix (jansson's own wording follows) */
};

static int
message_matches(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n && want[n - 1] == '*')
		return !strncmp(got, want, n - 1);
	return !strcmp(got, want);
}

static void
check_bad_envs(const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct envs envs = ENVS_INIT;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(envs_parse(&envs, cases[i].text, strlen(cases[i].text),
					    "envs.json", &err), -1);
		if (!message_matches(err.buf, cases[i].message))
			fail_msg("case %zu: got '%s', want '%s'", i, err.buf, cases[i].message);
		assert_int_equal(envs.nr, 0);
		assert_null(envs.v);
		strbuf_release(&err);
	}
}

#define ENV_HEAD "{\"eid\": \"e\", \"uid\": 1, \"creation\": \"c\", \"username\": null, "
#define ENV_PREFIX "{\"envs\": [" ENV_HEAD
#define ENV_CONFIG "\"config\": {\"name\": null, \"gpu_memory\": null, \"gpus\": null}, "
#define ENV_OK ENV_HEAD ENV_CONFIG "\"pids\": [1], \"kernel_ids\": []}"

static void
corrupt_envs(void **state UNUSED)
{
	static const struct bad_case cases[] = {
		{ "", "envs.json: invalid JSON at line 1 column 0: *" },
		{ "{\"envs\": [", "envs.json: invalid JSON at line 1 column 10: *" },
		{ "{\"envs\": [{\"eid\": \"e\", \"u", "envs.json: invalid JSON at line 1 column 25: *" },
		{ "[]", "envs.json: expected an object, found a list" },
		{ "{}", "envs.json: missing key \"envs\"" },
		{ "{\"envs\": [], \"x\": 1}", "envs.json: unexpected key \"x\"" },
		{ "{\"envs\": 3}", "envs.json: envs: expected a list, found an integer" },
		{ "{\"envs\": [7]}", "envs.json: envs[0]: expected an object, found an integer" },
		{ "{\"envs\": [" ENV_OK ", " ENV_OK "]}", "envs.json: envs[1]: duplicate environment \"e\"" },
		{ "{\"envs\": [{\"eid\": \"e\", \"uid\": \"1000\", \"creation\": \"c\", \"username\": null, "
		  ENV_CONFIG "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].uid: expected an integer, found a string" },
		{ "{\"envs\": [{\"eid\": \"e\", \"uid\": 1.5, \"creation\": \"c\", \"username\": null, "
		  ENV_CONFIG "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].uid: expected an integer, found a number" },
		{ "{\"envs\": [{\"eid\": \"e\", \"uid\": true, \"creation\": \"c\", \"username\": null, "
		  ENV_CONFIG "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].uid: expected an integer, found a boolean" },
		{ "{\"envs\": [{\"eid\": null, \"uid\": 1, \"creation\": \"c\", \"username\": null, "
		  ENV_CONFIG "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].eid: expected a string, found null" },
		{ "{\"envs\": [{\"eid\": \"e\", \"uid\": 1, \"creation\": \"c\", \"username\": 5, "
		  ENV_CONFIG "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].username: expected a string or null, found an integer" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [1]}]}", "envs.json: envs[0]: missing key \"kernel_ids\"" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [1], \"kernel_ids\": [], \"extra\": 0}]}",
		  "envs.json: envs[0]: unexpected key \"extra\"" },
		{ ENV_PREFIX "\"config\": {\"name\": null, \"gpus\": null}, \"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].config: missing key \"gpu_memory\"" },
		{ ENV_PREFIX "\"config\": {\"name\": null, \"gpu_memory\": null, \"gpus\": \"2\"}, "
		  "\"pids\": [], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].config.gpus: expected an integer, found a string" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [1, 0], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].pids[1]: 0 is out of range (1 to 2147483647)" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [99999999999], \"kernel_ids\": []}]}",
		  "envs.json: envs[0].pids[0]: 99999999999 is out of range (1 to 2147483647)" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [1], \"kernel_ids\": [3]}]}",
		  "envs.json: envs[0].kernel_ids[0]: expected a string, found an integer" },
		{ ENV_PREFIX ENV_CONFIG "\"pids\": 1, \"kernel_ids\": []}]}",
		  "envs.json: envs[0].pids: expected a list, found an integer" },
		{ "{\"envs\": {\"e\": {\"uid\": 1}}}", "envs.json: envs[\"e\"]: missing key \"creation\"" },
		{ "{\"envs\": [], \"envs\": []}",
		  "envs.json: invalid JSON at line 1 column *" },
	};

	check_bad_envs(cases, ARRAY_SIZE(cases));
}

static void
huge_numbers(void **state UNUSED)
{
	static const struct bad_case cases[] = {
		{ ENV_PREFIX ENV_CONFIG "\"pids\": [123456789012345678901234567890], \"kernel_ids\": []}]}",
		  NULL },
	};
	struct envs envs = ENVS_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(envs_parse(&envs, cases[0].text, strlen(cases[0].text), "envs.json", &err), -1);
	assert_true(starts_with(err.buf, "envs.json: invalid JSON at line 1"));
	assert_non_null(strstr(err.buf, "too big"));
	strbuf_release(&err);
}

static void
corrupt_devices(void **state UNUSED)
{
	static const struct bad_case cases[] = {
		{ "{\"devices\": [{\"index\": -1, \"total_memory\": \"1mi\", \"attachments\": []}]}",
		  "devices.json: devices[0].index: -1 is out of range (0 to 9223372036854775807)" },
		{ "{\"devices\": [{\"index\": 0, \"total_memory\": null, \"attachments\": []}]}",
		  "devices.json: devices[0].total_memory: expected a string, found null" },
		{ "{\"devices\": [{\"index\": 0, \"total_memory\": \"1mi\", \"attachments\": [{\"eid\": \"e\", \"time\": \"t\"}]}]}",
		  "devices.json: devices[0].attachments[0]: missing key \"gpu_memory\"" },
		{ "{\"devices\": [{\"index\": 0, \"total_memory\": \"1mi\", \"attachments\": {}}]}",
		  "devices.json: devices[0].attachments: expected a list, found an object" },
		{ "{\"devices\": [{\"index\": 0, \"total_memory\": \"1mi\", \"attachments\": []},"
		  " {\"index\": 0, \"total_memory\": \"1mi\", \"attachments\": []}]}",
		  "devices.json: devices[1]: duplicate device index 0" },
		{ "{\"devices\": [{\"index\": 0, \"total_memory\": \"1mi\", \"attachments\": [], \"uuid\": \"x\"}]}",
		  "devices.json: devices[0]: unexpected key \"uuid\"" },
		{ "\"devices\"", "devices.json: expected an object, found a string" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct devices devs = DEVICES_INIT;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(devices_parse(&devs, cases[i].text, strlen(cases[i].text),
					       "devices.json", &err), -1);
		if (!message_matches(err.buf, cases[i].message))
			fail_msg("case %zu: got '%s', want '%s'", i, err.buf, cases[i].message);
		assert_int_equal(devs.nr, 0);
		strbuf_release(&err);
	}
}

static void
corrupt_snapshot(void **state UNUSED)
{
	static const char text[] =
		"{\"processes\": {\"processes\": [{\"pid\": 5, \"used_gpu_memory\": [{\"index\": 0, \"gpu_memory\": 3}], \"eid\": null}]},"
		" \"envs\": {\"envs\": []}, \"devices\": {\"devices\": []}}";
	static const char no_devices[] = "{\"processes\": {\"processes\": []}, \"envs\": {\"envs\": []}}";
	struct snapshot s = SNAPSHOT_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(snapshot_parse(&s, text, strlen(text), "gpu-server-1", &err), -1);
	assert_string_equal(err.buf,
		"gpu-server-1: processes.processes[0].used_gpu_memory[0].gpu_memory: expected a string, found an integer");
	assert_int_equal(s.processes.nr, 0);
	strbuf_reset(&err);
	assert_int_equal(snapshot_parse(&s, no_devices, strlen(no_devices), "h", &err), -1);
	assert_string_equal(err.buf, "h: missing key \"devices\"");
	strbuf_release(&err);
}

static void
invalid_utf8_is_replaced(void **state UNUSED)
{
	struct envs envs = ENVS_INIT, back = ENVS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct env *e = envs_append(&envs, "e\xff");

	e->creation = strdup("c");
	e->config.name = strdup("caf\xe9 \xc3\xa9 \xed\xa0\x80");  /* Latin-1, UTF-8, a surrogate */
	envs_serialize(&envs, &out);
	assert_non_null(strstr(out.buf, "\"eid\": \"e\\ufffd\""));
	assert_non_null(strstr(out.buf, "\"name\": \"caf\\ufffd \\u00e9 \\ufffd\\ufffd\\ufffd\""));
	/* and every key is still there: the file reads back */
	assert_int_equal(envs_parse(&back, out.buf, out.len, "envs.json", &err), 0);
	assert_int_equal(back.nr, 1);
	envs_release(&back);
	envs_release(&envs);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* Only envs.json and devices.json had a dict form; the process list never did. */
static void
processes_have_no_legacy_form(void **state UNUSED)
{
	static const char dict[] = "{\"processes\": {\"5\": {}}}";
	static const char dup_env[] =
		"{\"processes\": {\"processes\": []}, \"devices\": {\"devices\": []}, \"envs\": {\"envs\": {"
		"\"a\": {\"uid\": 1, \"creation\": \"c\"}, \"b\": {\"eid\": \"a\", \"uid\": 1, \"creation\": \"c\"}}}}";
	struct processes ps = PROCESSES_INIT;
	struct snapshot s = SNAPSHOT_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(processes_parse(&ps, dict, strlen(dict), "x", &err), -1);
	assert_string_equal(err.buf, "x: processes: expected a list, found an object");
	strbuf_reset(&err);
	/* a duplicate in a legacy dict nested in a snapshot: the path says where */
	assert_int_equal(snapshot_parse(&s, dup_env, strlen(dup_env), "h", &err), -1);
	assert_string_equal(err.buf, "h: envs.envs[1]: duplicate environment \"a\"");
	assert_int_equal(s.envs.nr, 0);
	strbuf_release(&err);
}

static void
config_fields(void **state UNUSED)
{
	struct env_config c = ENV_CONFIG_INIT;

	env_config_set_field(&c, ENV_CONFIG_NAME, "n", -1);
	env_config_set_field(&c, ENV_CONFIG_GPU_MEMORY, "4g", -1);
	env_config_set_field(&c, ENV_CONFIG_GPUS, NULL, 3);
	assert_string_equal(c.name, "n");
	assert_string_equal(c.gpu_memory, "4g");
	assert_true(c.has_gpus);
	assert_int_equal(c.gpus, 3);
	env_config_set_field(&c, ENV_CONFIG_GPUS, NULL, -1);
	assert_false(c.has_gpus);
	assert_int_equal(c.gpus, 0);
	env_config_set_field(&c, ENV_CONFIG_NAME, NULL, -1);
	assert_null(c.name);
	env_config_release(&c);
	assert_null(c.gpu_memory);
}

static void
helpers(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	struct device *d;

	envs_append(&envs, "a");
	envs_append(&envs, "b");
	envs_append(&envs, "c");
	envs_remove_at(&envs, 1);
	envs_remove_at(&envs, 7);
	assert_int_equal(envs.nr, 2);
	assert_string_equal(envs.v[1].eid, "c");
	assert_null(envs_find(&envs, "b"));
	env_add_pid(envs_find(&envs, "a"), 42);
	assert_int_equal(envs.v[0].pids[0], 42);
	envs_release(&envs);

	d = devices_append(&devs, 0, "16384mi");
	device_attach(d, "a", NULL, "t");
	device_attach(d, "b", "1g", "t");
	device_attach(d, "a", "2g", "t");
	assert_true(device_has_eid(d, "b"));
	assert_int_equal(device_detach(d, "a"), 2);
	assert_int_equal(d->att_nr, 1);
	assert_false(device_has_eid(d, "a"));
	assert_int_equal(device_detach(d, "zzz"), 0);
	devices_release(&devs);
}

/* eids, then the positions duplicates report, as the codec's errors name them */
static void
duplicates_and_index(void **state UNUSED)
{
	static const struct {
		const char *eids;
		size_t dup;
	} cases[] = {
		{ "", 0 }, { "a", 1 }, { "a b c", 3 }, { "a a", 1 }, { "a b b a", 2 },
		{ "c b a c", 3 }, { "b a b a a", 2 },
	};
	struct envs_index idx = ENVS_INDEX_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct envs envs = ENVS_INIT;
		struct devices devs = DEVICES_INIT;
		char *copy = strdup(cases[i].eids), *save = NULL;

		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			envs_append(&envs, t);
			devices_append(&devs, t[0] - 'a', NULL);
		}
		if (envs_first_duplicate(&envs) != cases[i].dup)
			fail_msg("'%s': got %zu, want %zu", cases[i].eids,
				 envs_first_duplicate(&envs), cases[i].dup);
		assert_int_equal(devices_first_duplicate(&devs), cases[i].dup);
		/* the index finds what envs_find() finds: the first of equals */
		envs_index_build(&idx, &envs);
		for (size_t k = 0; k < envs.nr; k++)
			assert_ptr_equal(envs_index_find(&idx, envs.v[k].eid),
					 envs_find(&envs, envs.v[k].eid));
		assert_null(envs_index_find(&idx, "zz"));
		assert_null(envs_index_find(&idx, ""));
		envs_index_release(&idx);
		envs_release(&envs);
		devices_release(&devs);
		free(copy);
	}
}

/* 200k environments: the duplicate check and the index stay fast (sorted, not quadratic) */
static void
many_environments(void **state UNUSED)
{
	struct envs envs = ENVS_INIT;
	struct envs_index idx = ENVS_INDEX_INIT;
	struct strbuf eid = STRBUF_INIT;
	const size_t n = 200000;

	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&eid);
		strbuf_addf(&eid, "env-%zu", (i * 7919) % n);
		envs_append(&envs, eid.buf);
	}
	assert_int_equal(envs_first_duplicate(&envs), n);
	envs_index_build(&idx, &envs);
	assert_ptr_equal(envs_index_find(&idx, "env-0"), &envs.v[0]);
	assert_ptr_equal(envs_index_find(&idx, "env-7919"), &envs.v[1]);
	envs_index_release(&idx);
	envs_append(&envs, "env-5");
	assert_int_equal(envs_first_duplicate(&envs), n);
	envs_release(&envs);
	strbuf_release(&eid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(envs_round_trip),
		cmocka_unit_test(processes_have_no_legacy_form),
		cmocka_unit_test(config_fields),
		cmocka_unit_test(envs_empty_and_ascii),
		cmocka_unit_test(devices_round_trip),
		cmocka_unit_test(snapshot_round_trip),
		cmocka_unit_test(processes_line_style),
		cmocka_unit_test(legacy_envs),
		cmocka_unit_test(legacy_devices),
		cmocka_unit_test(corrupt_envs),
		cmocka_unit_test(huge_numbers),
		cmocka_unit_test(corrupt_devices),
		cmocka_unit_test(corrupt_snapshot),
		cmocka_unit_test(invalid_utf8_is_replaced),
		cmocka_unit_test(helpers),
		cmocka_unit_test(duplicates_and_index),
		cmocka_unit_test(many_environments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
