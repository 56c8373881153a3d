/* SPDX-License-Identifier: MIT */
/*
 * test-state-check.c: the value rules of the state (state-check.h). The
 * point of them is that no command writes what a later load refuses, so
 * besides what each rule accepts, every value a store rule accepts is
 * written through the real codec and must load back unchanged.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>

#include "core/state.h"
#include "core/state-check.h"
#include "core/state-json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const long long probes[] = {
	LLONG_MIN, (long long)INT_MIN - 1, INT_MIN, -2, -1, 0, 1, 2, 4242, INT_MAX,
	(long long)INT_MAX + 1, (long long)UINT32_MAX - 1, UINT32_MAX, 99999999999999LL,
	LLONG_MAX,
};

/* An env with every field set; the caller changes the one under test. */
static struct env *
sample_env(struct envs *envs, const char *eid)
{
	struct env *e = envs_append(envs, eid);

	e->uid = 1000;
	e->creation = xstrdup("24/11/2026 01:11:48");
	e->username = xstrdup("alice");
	e->config.name = xstrdup("n");
	e->config.gpu_memory = xstrdup("4g");
	e->config.has_gpus = 1;
	e->config.gpus = 1;
	env_add_pid(e, 1);
	strvec_push(&e->kernel_ids, "k");
	return e;
}

/* Serializes envs and loads the text again: 0 or -1 (err says why). */
static int
reload(const struct envs *envs, struct envs *back, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int rc;

	envs_serialize(envs, &text);
	rc = envs_parse(back, text.buf, text.len, "envs.json", err);
	strbuf_release(&text);
	return rc;
}

enum num_field { NUM_PID, NUM_UID, NUM_GPUS, NUM_INDEX };

/* Writes n into the field through the codec; 0 if it loads back as n. */
static int
num_round_trip(enum num_field f, long long n)
{
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	int rc;

	if (f == NUM_INDEX) {
		struct devices devs = DEVICES_INIT, back = DEVICES_INIT;

		devices_append(&devs, (long)n, "16384mi");
		devices_serialize(&devs, &text);
		rc = devices_parse(&back, text.buf, text.len, "devices.json", &err);
		if (!rc && back.v[0].index != n)
			rc = -1;
		devices_release(&devs);
		devices_release(&back);
	} else {
		struct envs envs = ENVS_INIT, back = ENVS_INIT;
		struct env *e = sample_env(&envs, "e");

		if (f == NUM_PID)
			e->pids[0] = (long)n;
		else if (f == NUM_UID)
			e->uid = n;
		else
			e->config.gpus = (long)n;
		rc = reload(&envs, &back, &err);
		if (!rc && ((f == NUM_PID && back.v[0].pids[0] != n) ||
			    (f == NUM_UID && back.v[0].uid != n) ||
			    (f == NUM_GPUS && back.v[0].config.gpus != n)))
			rc = -1;
		envs_release(&envs);
		envs_release(&back);
	}
	strbuf_release(&err);
	strbuf_release(&text);
	return rc;
}

static void
numbers_stored_are_loadable(void **state UNUSED)
{
	static const struct {
		enum num_field field;
		const struct state_range *range;
	} fields[] = {
		{ NUM_PID, &state_pid_range },
		{ NUM_UID, &state_uid_range },
		{ NUM_GPUS, &state_gpus_range },
		{ NUM_INDEX, &state_index_range },
	};

	for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
		const struct state_range *r = fields[f].range;

		assert_true(r->load_min <= r->min && r->max <= r->load_max);
		for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
			long long n = probes[i];

			/* values that do not fit the C field are not writable at all */
			if ((fields[f].field != NUM_UID && (n < LONG_MIN || n > LONG_MAX)))
				continue;
			if (state_check_range(r, n, NULL) < 0)
				continue;
			if (num_round_trip(fields[f].field, n) < 0)
				fail_msg("%s %lld is accepted on store but does not load", r->noun, n);
		}
	}
}

static void
number_rules(void **state UNUSED)
{
	static const struct {
		const struct state_range *range;
		long long n;
		int ok;
		const char *message;
	} cases[] = {
		{ &state_pid_range, 99999999999999LL, 0,
		  "Invalid process id 99999999999999 (expected 1 to 2147483647)" },
		{ &state_pid_range, 0, 0, "Invalid process id 0 (expected 1 to 2147483647)" },
		{ &state_pid_range, -5, 0, NULL },
		{ &state_pid_range, 1, 1, NULL },
		{ &state_pid_range, INT_MAX, 1, NULL },
		{ &state_pid_range, (long long)INT_MAX + 1, 0, NULL },
		{ &state_uid_range, -1, 0, "Invalid user id -1 (expected 0 to 4294967294)" },
		{ &state_uid_range, 0, 1, NULL },
		{ &state_uid_range, (long long)UINT32_MAX - 1, 1, NULL },
		{ &state_uid_range, UINT32_MAX, 0, NULL },
		{ &state_gpus_range, -1, 0, NULL },
		{ &state_gpus_range, 0, 1, NULL },
		{ &state_gpus_range, INT_MAX, 1, NULL },
		{ &state_gpus_range, (long long)INT_MAX + 1, 0,
		  "Invalid device count 2147483648 (expected 0 to 2147483647)" },
		{ &state_index_range, -1, 0, NULL },
		{ &state_index_range, 0, 1, NULL },
		{ &state_index_range, LONG_MAX, 1, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf err = STRBUF_INIT;
		int rc = state_check_range(cases[i].range, cases[i].n, &err);

		if ((rc == 0) != cases[i].ok)
			fail_msg("case %zu: %s %lld: got %d", i, cases[i].range->noun, cases[i].n, rc);
		if (cases[i].message)
			assert_string_equal(err.buf, cases[i].message);
		assert_int_equal(state_check_range(cases[i].range, cases[i].n, NULL), rc);
		strbuf_release(&err);
	}
}

/* What a text rule is applied to, and where the value then goes. */
enum text_field { TEXT_EID, TEXT_NAME, TEXT_USERNAME, TEXT_KERNEL_ID };

static int
check_text_field(enum text_field f, const char *s, struct strbuf *err)
{
	switch (f) {
	case TEXT_EID: return state_check_eid(s, err);
	case TEXT_NAME: return state_check_name(s, err);
	case TEXT_USERNAME: return state_check_username(s, err);
	case TEXT_KERNEL_ID: return state_check_kernel_id(s, err);
	}
	return -1;
}

/* Writes s into the field through the codec; 0 if it loads back as s. */
static int
text_round_trip(enum text_field f, const char *s)
{
	struct envs envs = ENVS_INIT, back = ENVS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct env *e = sample_env(&envs, f == TEXT_EID ? s : "e");
	const char *got = NULL;
	int rc;

	if (f == TEXT_NAME) {
		free(e->config.name);
		e->config.name = xstrdup(s);
	} else if (f == TEXT_USERNAME) {
		free(e->username);
		e->username = xstrdup(s);
	} else if (f == TEXT_KERNEL_ID) {
		strvec_clear(&e->kernel_ids);
		strvec_push(&e->kernel_ids, s);
	}
	rc = reload(&envs, &back, &err);
	if (!rc) {
		const struct env *b = &back.v[0];

		got = f == TEXT_EID ? b->eid : f == TEXT_NAME ? b->config.name :
		      f == TEXT_USERNAME ? b->username : b->kernel_ids.v[0];
		if (strcmp(got, s))
			rc = -1;  /* changed on the way (U+FFFD), as good as refused */
	}
	envs_release(&envs);
	envs_release(&back);
	strbuf_release(&err);
	return rc;
}

static void
text_rules(void **state UNUSED)
{
	struct strbuf long_ok = STRBUF_INIT, too_long = STRBUF_INIT;
	struct {
		enum text_field field;
		const char *s;
		int ok;
		const char *message;
	} cases[] = {
		{ TEXT_EID, "e1", 1, NULL },
		{ TEXT_EID, "4242", 1, NULL },
		{ TEXT_EID, "", 0, "Invalid environment id: it is empty" },
		{ TEXT_EID, "proj/a", 1, NULL },  /* 1.4.3 takes any --id; eids name no file */
		{ TEXT_EID, "caf\xc3\xa9 \xf0\x9f\x98\x80", 1, NULL },
		{ TEXT_EID, "\xff", 0, "Invalid environment id: it is not valid UTF-8" },
		{ TEXT_EID, "caf\xe9", 0, NULL },              /* Latin-1 */
		{ TEXT_EID, "\xed\xa0\x80", 0, NULL },         /* a UTF-16 surrogate */
		{ TEXT_EID, "\xc0\xaf", 0, NULL },             /* overlong '/' */
		{ TEXT_EID, "a\tb", 0, "Invalid environment id: it holds a control character (byte 2)" },
		{ TEXT_EID, "a\nb", 0, NULL },
		{ TEXT_EID, "\x1b]0;owned\x07", 0, NULL },
		{ TEXT_EID, "a\x7f", 0, NULL },
		{ TEXT_EID, "a\xc2\x9b" "2J", 0, NULL },       /* C1 CSI */
		{ TEXT_EID, "a\xc2\xa0" "b", 1, NULL },        /* U+00A0 is not a control */
		{ TEXT_NAME, "", 1, NULL },
		{ TEXT_NAME, "my project", 1, NULL },
		/* a name is free text (t1300: a name with a newline stays one value) */
		{ TEXT_NAME, "line1\n$(touch x)", 1, NULL },
		{ TEXT_NAME, "a\x1b[2J\r", 1, NULL },
		{ TEXT_NAME, "\xfe", 0, NULL },
		{ TEXT_USERNAME, "alice", 1, NULL },
		{ TEXT_USERNAME, "\x1b[2J", 0, "Invalid user name: it holds a control character (byte 1)" },
		{ TEXT_KERNEL_ID, "0b7e-4d", 1, NULL },
		{ TEXT_KERNEL_ID, "", 0, "Invalid Jupyter kernel id: it is empty" },
		{ TEXT_KERNEL_ID, "../x", 0,
		  "Invalid Jupyter kernel id: it is not a file name (it holds '/')" },
		{ TEXT_KERNEL_ID, "k\n", 0, NULL },
		{ TEXT_EID, NULL, 1, NULL },   /* long_ok */
		{ TEXT_EID, NULL, 0, "Invalid environment id: 1025 bytes long (at most 1024)" },
		{ TEXT_NAME, NULL, 1, NULL },
		{ TEXT_NAME, NULL, 0, "Invalid environment name: 1025 bytes long (at most 1024)" },
		{ TEXT_USERNAME, NULL, 0, NULL },
		{ TEXT_KERNEL_ID, NULL, 0, NULL },
	};
	size_t nr = ARRAY_SIZE(cases);

	for (int i = 0; i < STATE_TEXT_MAX; i++)
		strbuf_addch(&long_ok, i % 2 ? 'a' : 'b');
	strbuf_addbuf(&too_long, &long_ok);
	strbuf_addch(&too_long, 'z');
	for (size_t i = nr - 6; i < nr; i++)
		cases[i].s = cases[i].ok ? long_ok.buf : too_long.buf;

	for (size_t i = 0; i < nr; i++) {
		struct strbuf err = STRBUF_INIT;
		int rc = check_text_field(cases[i].field, cases[i].s, &err);

		if ((rc == 0) != cases[i].ok)
			fail_msg("case %zu: got %d (%s)", i, rc, err.buf);
		if (cases[i].message)
			assert_string_equal(err.buf, cases[i].message);
		/* what the store rule lets through loads back byte for byte */
		if (!rc && text_round_trip(cases[i].field, cases[i].s) < 0)
			fail_msg("case %zu: accepted on store, but does not load back as written", i);
		strbuf_release(&err);
	}
	strbuf_release(&long_ok);
	strbuf_release(&too_long);
}

static void
text_with_nul(void **state UNUSED)
{
	struct strbuf err = STRBUF_INIT;

	/* only the length shows it: a value read from a file */
	assert_int_equal(state_check_text("environment name", "a\0b", 3, &err), -1);
	assert_string_equal(err.buf, "Invalid environment name: it holds a NUL byte");
	strbuf_release(&err);
}

static void
config_rules(void **state UNUSED)
{
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(state_check_config_field(ENV_CONFIG_GPU_MEMORY, "4XB", -1, &err), -1);
	assert_non_null(strstr(err.buf, "invalid memory size '4XB'"));
	strbuf_reset(&err);
	/* issue 10: upper case is a memory size (the store procedures spell it as 1.4.3) */
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPU_MEMORY, "4GB", -1, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPU_MEMORY, "512mi", -1, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPU_MEMORY, NULL, -1, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_NAME, NULL, -1, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_NAME, "a\xff", -1, &err), -1);
	assert_string_equal(err.buf, "Invalid environment name: it is not valid UTF-8");
	strbuf_reset(&err);
	/* gpus < 0 unsets, as env_config_set_field() takes it */
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPUS, NULL, -1, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPUS, NULL, 3, &err), 0);
	assert_int_equal(state_check_config_field(ENV_CONFIG_GPUS, NULL, (long)INT_MAX + 1, &err), -1);
	strbuf_reset(&err);

	assert_int_equal(state_check_config(&c, &err), 0);
	c.has_gpus = 1;
	c.gpus = -2;
	assert_int_equal(state_check_config(&c, &err), -1);
	assert_string_equal(err.buf, "Invalid device count -2 (expected 0 to 2147483647)");
	strbuf_release(&err);
}

static void
file_size_cap(void **state UNUSED)
{
	struct strbuf err = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	size_t len = STATE_FILE_MAX + 1;
	char *text = xmalloc(len);

	assert_int_equal(state_check_file_size("envs.json", STATE_FILE_MAX, &err), 0);
	assert_int_equal(state_check_file_size("envs.json", (1ULL << 30), &err), -1);
	assert_string_equal(err.buf,
		"envs.json: 1073741824 bytes, over the 64 MiB limit of a genv state file");
	strbuf_reset(&err);
	/* the codec refuses it before parsing: valid JSON padded with spaces */
	memset(text, ' ', len);
	memcpy(text, "{\"envs\": []}", 12);
	assert_int_equal(envs_parse(&envs, text, len, "envs.json", &err), -1);
	assert_string_equal(err.buf,
		"envs.json: 67108865 bytes, over the 64 MiB limit of a genv state file");
	strbuf_reset(&err);
	assert_int_equal(envs_parse(&envs, text, len - 1, "envs.json", &err), 0);
	free(text);
	envs_release(&envs);
	strbuf_release(&err);
}

static void
repair_hints(void **state UNUSED)
{
	struct strbuf err = STRBUF_INIT;
	const char *nl;

	strbuf_addstr(&err, "/s/envs.json: envs[0].pids[0]: 0 is out of range (1 to 2147483647)");
	state_add_repair_hint(STATE_FILE_ENVS, "/s/envs.json", &err);
	nl = strchr(err.buf, '\n');
	assert_non_null(nl);
	/* the first line stays what it was; the hint is one more line */
	assert_int_equal(nl - err.buf, strlen("/s/envs.json: envs[0].pids[0]: 0 is out of range (1 to 2147483647)"));
	assert_true(starts_with(nl + 1, "hint: "));
	assert_null(strchr(nl + 1, '\n'));
	assert_non_null(strstr(nl, "/s/envs.json"));
	assert_non_null(strstr(nl, "'genv envs --reset'"));
	strbuf_reset(&err);
	state_add_repair_hint(STATE_FILE_DEVICES, "/s/devices.json", &err);
	assert_non_null(strstr(err.buf, "'genv devices --reset'"));
	assert_non_null(strstr(err.buf, "/s/devices.json"));
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(number_rules),
		cmocka_unit_test(numbers_stored_are_loadable),
		cmocka_unit_test(text_rules),
		cmocka_unit_test(text_with_nul),
		cmocka_unit_test(config_rules),
		cmocka_unit_test(file_size_cap),
		cmocka_unit_test(repair_hints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
