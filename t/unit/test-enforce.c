/* SPDX-License-Identifier: MIT */
/*
 * test-enforce.c: the enforcement rules on hand-made snapshots (1.4.3's
 * messages byte for byte, who gets terminated or detached), the Report
 * JSON, and execution against real child processes of this test.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/enforce.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static struct env *
add_env(struct snapshot *s, const char *eid, long long uid, const char *user,
	const char *gpu_memory)
{
	struct env *e = envs_append(&s->envs, eid);

	e->uid = uid;
	e->creation = xstrdup("24/11/2026 01:16:47");
	e->username = xstrdup_or_null(user);
	e->config.gpu_memory = xstrdup_or_null(gpu_memory);
	env_add_pid(e, 4242);
	return e;
}

static struct process *
add_proc(struct snapshot *s, long pid, const char *eid, long long uid)
{
	struct process *p = processes_append(&s->processes, pid, eid);

	p->uid = uid;
	return p;
}

static void
add_devices(struct snapshot *s, int n)
{
	for (int i = 0; i < n; i++)
		devices_append(&s->devices, i, "16384mi");
}

static void
attach(struct snapshot *s, long index, const char *eid)
{
	device_attach(devices_find(&s->devices, index), eid, NULL, "24/11/2026 01:16:48");
}

static void
assert_lines(const struct strvec *got, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < got->nr && i < n; i++)
		assert_string_equal(got->v[i], want[i]);
	assert_int_equal(got->nr, n);
}

static void
assert_terminated(const struct report *r, const long *pids)
{
	size_t n = 0;

	while (pids[n])
		n++;
	assert_int_equal(r->terminate.nr, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->terminate.v[i].process.pid, pids[i]);
}

/* The example of the 1.4.3 reference (§9.3), all rules on. */
static void
all_rules_local(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT, exec_out = STRVEC_INIT,
		      exec_err = STRVEC_INIT;
	struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct report r = REPORT_INIT;
	struct survey sv;
	static const long want_pids[] = { 720, 721, 722, 723, 0 };
	static const char *const want[] = {
		"Process 720 is not running in a GPU environment",
		"Process 721 from environment a2 is using non-attached GPU(s) 0",
		"Environment a1 is using 1153m on device 0 which is 153m over its capacity of 1g",
		"User alice is using 3 devices which is 1 more than the maximum allowed",
		NULL,
	};
	static const char *const want_exec[] = {
		"[dry-run] Terminating process 720 from environment N/A that is running on GPU(s) 3",
		"[dry-run] Terminating process 721 from environment a2 that is running on GPU(s) 2,0",
		"[dry-run] Terminating process 722 from environment a1 that is running on GPU(s) 0",
		"[dry-run] Terminating process 723 from environment a1 that is running on GPU(s) 0",
		"[dry-run] Detaching environment a1 of user alice from device 0",
		NULL,
	};
	(void)state;

	add_devices(&s, 4);
	add_env(&s, "a1", 1000, "alice", "1g");
	add_env(&s, "a2", 1001, "bob", NULL);
	attach(&s, 0, "a1");
	attach(&s, 1, "a1");
	attach(&s, 3, "a1");
	attach(&s, 2, "a2");
	process_add_usage(add_proc(&s, 720, NULL, 1000), 3, "100mi");
	{
		struct process *p = add_proc(&s, 721, "a2", 1001);

		process_add_usage(p, 2, "100mi");
		process_add_usage(p, 0, "100mi");
	}
	process_add_usage(add_proc(&s, 722, "a1", 1000), 0, "600mi");
	process_add_usage(add_proc(&s, 723, "a1", 1000), 0, "500mi");
	process_add_usage(add_proc(&s, 724, "a1", 1000), 1, "500mi");

	o.non_env_processes = 1;
	o.max_devices = 1;
	o.max_devices_per_user = 2;
	survey_init(&sv, NULL, &s);
	enforce_run_rules(&sv, 1, &o, &out, &warnings);
	assert_lines(&out, want);
	assert_int_equal(warnings.nr, 0);

	survey_report(&sv, &r);
	assert_terminated(&r, want_pids);
	assert_int_equal(r.terminate.v[0].rule, ENFORCE_RULE_NON_ENV_PROCESSES);
	assert_int_equal(r.terminate.v[2].rule, ENFORCE_RULE_ENV_MEMORY);
	assert_int_equal(r.terminate.v[3].rule, ENFORCE_RULE_MAX_DEVICES_PER_USER);
	assert_int_equal(r.detach_nr, 1);
	assert_int_equal(r.detach[0].index, 0);
	assert_int_equal(r.detach[0].envs.nr, 1);
	assert_string_equal(r.detach[0].envs.v[0].eid, "a1");

	xo.dry_run = 1;
	assert_int_equal(enforce_execute(NULL, &r, &xo, &exec_out, &exec_err, NULL, &err), 0);
	assert_lines(&exec_out, want_exec);
	assert_int_equal(exec_err.nr, 0);

	report_release(&r);
	survey_release(&sv);
	enforce_options_release(&o);
	strvec_clear(&out);
	strvec_clear(&warnings);
	strvec_clear(&exec_out);
	strvec_clear(&exec_err);
	strbuf_release(&err);
}

/* Defaults (env-devices, env-memory) do not touch processes outside envs. */
static void
defaults_skip_non_env(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	struct report r = REPORT_INIT;
	struct survey sv;
	(void)state;

	add_devices(&s, 2);
	add_env(&s, "e1", 1000, "alice", "2g");
	attach(&s, 0, "e1");
	process_add_usage(add_proc(&s, 10, NULL, 1000), 1, "9000mi");
	process_add_usage(add_proc(&s, 11, "e1", 1000), 0, "1000mi");
	survey_init(&sv, NULL, &s);
	enforce_run_rules(&sv, 1, &o, &out, &warnings);
	assert_int_equal(out.nr, 0);
	survey_report(&sv, &r);
	assert_true(report_is_empty(&r));
	report_release(&r);
	survey_release(&sv);
	strvec_clear(&out);
	strvec_clear(&warnings);
}

/* Greedy memory termination stops as soon as enough is freed. */
static void
memory_greedy(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	struct report r = REPORT_INIT;
	struct survey sv;
	static const long want_pids[] = { 30, 31, 0 };
	(void)state;

	add_devices(&s, 2);
	add_env(&s, "m", 1000, NULL, "2g");
	attach(&s, 1, "m");
	process_add_usage(add_proc(&s, 30, "m", 1000), 1, "1000mi");
	process_add_usage(add_proc(&s, 31, "m", 1000), 1, "100mi");
	process_add_usage(add_proc(&s, 32, "m", 1000), 1, "1900mi");
	/* usage on a device the env is not attached to is not its memory */
	process_add_usage(add_proc(&s, 33, "m", 1000), 0, "9000mi");
	o.env_devices = 0;
	survey_init(&sv, NULL, &s);
	enforce_run_rules(&sv, 1, &o, &out, &warnings);
	assert_int_equal(out.nr, 1);
	/* 3000 MiB = 3145728000 B; over 2 GB by 1145728000 B */
	assert_string_equal(out.v[0],
			    "Environment m is using 3145m on device 1 which is 1145m over its capacity of 2g");
	survey_report(&sv, &r);
	/* 30 frees 1000 MiB (1048576000 B) < over; 31 adds 100 MiB: enough */
	assert_terminated(&r, want_pids);
	report_release(&r);
	survey_release(&sv);
	strvec_clear(&out);
	strvec_clear(&warnings);
}

/* Another user's process claiming an env, and an orphaned env id, are outside envs. */
static void
spoofed_and_orphaned(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	struct report r = REPORT_INIT;
	struct survey sv;
	static const long want_pids[] = { 40, 41, 0 };
	static const char *const want[] = {
		"Process 40 is not running in a GPU environment",
		"Process 41 is not running in a GPU environment",
		NULL,
	};
	(void)state;

	add_devices(&s, 1);
	add_env(&s, "e1", 1000, "alice", "1g");
	attach(&s, 0, "e1");
	process_add_usage(add_proc(&s, 40, "e1", 65534), 0, "5000mi");  /* spoofed */
	process_add_usage(add_proc(&s, 41, "gone", 1000), 0, "10mi");   /* orphaned */
	process_add_usage(add_proc(&s, 42, "e1", 1000), 0, "900mi");    /* legit, under cap */
	process_add_usage(add_proc(&s, 43, "e1", -1), 0, "10mi");       /* uid unknown */
	o.non_env_processes = 1;
	survey_init(&sv, NULL, &s);
	enforce_run_rules(&sv, 1, &o, &out, &warnings);
	/* the spoofer's 5000 MiB are not charged to e1 */
	assert_lines(&out, want);
	survey_report(&sv, &r);
	assert_terminated(&r, want_pids);
	/* the report names no environment for them */
	assert_null(r.terminate.v[0].process.eid);
	assert_null(r.terminate.v[1].process.eid);
	report_release(&r);
	survey_release(&sv);
	strvec_clear(&out);
	strvec_clear(&warnings);
}

static void
build_remote(struct survey *sv, const char *host, const char *eid, long pid,
	     int ndev)
{
	struct snapshot s = SNAPSHOT_INIT;

	add_devices(&s, ndev);
	add_env(&s, eid, 1003, "raz", NULL);
	for (int i = 0; i < ndev; i++)
		attach(&s, i, eid);
	process_add_usage(add_proc(&s, pid, eid, -1), 0, "100mi");
	process_add_usage(add_proc(&s, pid + 1, eid, -1), ndev, "2048mi");
	survey_init(sv, host, &s);
}

/* Remote: prefixes, the per-user count across hosts, lowest host/index first. */
static void
remote_max_devices(void **state)
{
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, json = STRBUF_INIT;
	struct report r1 = REPORT_INIT, r2 = REPORT_INIT;
	struct survey sv[2];
	static const char *const want[] = {
		"[gpu-server-1] Process 101 from environment proj1 is using non-attached GPU(s) 1",
		"[gpu-server-2] Process 201 from environment proj2 is using non-attached GPU(s) 1",
		"User raz is using 2 devices on 2 hosts which is 1 more than the maximum allowed",
		NULL,
	};
	(void)state;

	build_remote(&sv[0], "gpu-server-1", "proj1", 100, 1);
	build_remote(&sv[1], "gpu-server-2", "proj2", 200, 1);
	assert_int_equal(enforce_options_add_limit(&o, "raz=1", &err), 0);
	o.max_devices = 1;
	o.max_devices_per_user = 5;
	enforce_run_rules(sv, 2, &o, &out, &warnings);
	assert_lines(&out, want);
	survey_report(&sv[0], &r1);
	survey_report(&sv[1], &r2);
	assert_int_equal(r1.detach_nr, 1);
	assert_int_equal(r2.detach_nr, 0);
	assert_int_equal(r1.terminate.nr, 2);  /* 101 (devices), 100 (detached from 0) */
	assert_int_equal(r2.terminate.nr, 1);
	report_serialize(&r2, &json);
	assert_string_equal(json.buf,
			    "{\"terminate\": {\"processes\": [{\"pid\": 201, \"used_gpu_memory\": "
			    "[{\"index\": 1, \"gpu_memory\": \"2048mi\"}], \"eid\": \"proj2\"}]}, "
			    "\"detach\": {}}");
	report_release(&r1);
	report_release(&r2);
	survey_release(&sv[0]);
	survey_release(&sv[1]);
	enforce_options_release(&o);
	strvec_clear(&out);
	strvec_clear(&warnings);
	strbuf_release(&err);
	strbuf_release(&json);
}

/* Several users over their limit are reported in sorted order; null users never. */
static void
users_sorted(void **state)
{
	struct snapshot s = SNAPSHOT_INIT;
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, warnings = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct survey sv;
	static const char *const want[] = {
		"User amy is using 2 devices which is 1 more than the maximum allowed",
		"User zed is using 3 devices which is 2 more than the maximum allowed",
		NULL,
	};
	(void)state;

	add_devices(&s, 6);
	add_env(&s, "z1", 1, "zed", NULL);
	add_env(&s, "a1", 2, "amy", NULL);
	add_env(&s, "a2", 2, "amy", NULL);
	add_env(&s, "n1", 3, NULL, NULL);
	attach(&s, 0, "z1");
	attach(&s, 1, "z1");
	attach(&s, 2, "z1");
	attach(&s, 3, "a1");
	attach(&s, 3, "a2");  /* shared device counts once */
	attach(&s, 4, "a2");
	attach(&s, 5, "n1");
	o.max_devices = 1;
	o.max_devices_per_user = 1;
	assert_int_equal(enforce_options_add_limit(&o, "nobody=0", &err), 0);
	survey_init(&sv, NULL, &s);
	enforce_run_rules(&sv, 1, &o, &out, &warnings);
	assert_lines(&out, want);
	assert_int_equal(sv.detach_nr, 3);
	assert_int_equal(sv.detach[0].index, 3);
	assert_int_equal(sv.detach[0].eids.nr, 2);
	assert_int_equal(sv.detach[1].index, 0);
	assert_int_equal(sv.detach[2].index, 1);
	survey_release(&sv);
	enforce_options_release(&o);
	strvec_clear(&out);
	strvec_clear(&warnings);
	strbuf_release(&err);
}

static void
limit_specs(void **state)
{
	struct enforce_options o = ENFORCE_OPTIONS_INIT;
	struct strbuf err = STRBUF_INIT;
	static const char *const bad[] = { "alice", "=3", "alice=", "alice=x", "a=1=2", NULL };
	(void)state;

	for (size_t i = 0; bad[i]; i++) {
		strbuf_reset(&err);
		assert_int_equal(enforce_options_add_limit(&o, bad[i], &err), -1);
		assert_true(starts_with(err.buf, "not a valid spec: "));
		assert_string_equal(err.buf + strlen("not a valid spec: "), bad[i]);
	}
	assert_int_equal(enforce_options_add_limit(&o, "alice=3", &err), 0);
	assert_int_equal(enforce_options_add_limit(&o, "alice=4", &err), 0);
	assert_int_equal(o.limits_nr, 1);
	assert_int_equal(o.limits[0].maximum, 4);
	enforce_options_release(&o);
	strbuf_release(&err);
}

static void
report_json_round_trip(void **state)
{
	static const char text[] =
		"{\"terminate\": {\"processes\": []}, \"detach\": {\"0\": {\"envs\": [{\"eid\": \"proj1\", "
		"\"uid\": 1003, \"creation\": \"24/11/2026 01:16:47\", \"username\": \"raz\", \"config\": "
		"{\"name\": \"project-1\", \"gpu_memory\": null, \"gpus\": null}, \"pids\": [1647], "
		"\"kernel_ids\": []}]}}}";
	struct report r = REPORT_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	(void)state;

	assert_int_equal(report_parse(&r, text, strlen(text), "stdin", &err), 0);
	assert_int_equal(r.detach_nr, 1);
	assert_false(report_is_empty(&r));
	report_serialize(&r, &out);
	assert_string_equal(out.buf, text);
	report_release(&r);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
report_parse_errors(void **state)
{
	static const char *const bad[] = {
		"{\"terminate\": {\"processes\": []}}",
		"{\"terminate\": {\"processes\": []}, \"detach\": {}, \"x\": 1}",
		"{\"terminate\": {\"processes\": []}, \"detach\": {\"x\": {\"envs\": []}}}",
		"{\"terminate\": {\"processes\": []}, \"detach\": {\"-1\": {\"envs\": []}}}",
		"{\"terminate\": {\"processes\": [{\"pid\": \"1\"}]}, \"detach\": {}}",
		"[]",
		"{",
		NULL,
	};
	(void)state;

	for (size_t i = 0; bad[i]; i++) {
		struct report r = REPORT_INIT;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(report_parse(&r, bad[i], strlen(bad[i]), "stdin", &err), -1);
		assert_true(starts_with(err.buf, "stdin"));
		assert_int_equal(r.terminate.nr, 0);
		report_release(&r);
		strbuf_release(&err);
	}
}

static pid_t
spawn_child(int ignore_term)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	return pid;
}

static void
one_process_report(struct report *r, pid_t pid, unsigned long long start)
{
	struct report_process *rp = report_add_process(r, pid, "e1");

	process_add_usage(&rp->process, 0, "10mi");
	rp->rule = ENFORCE_RULE_ENV_DEVICES;
	rp->start_time = start;
}

/* Real signals: SIGTERM, SIGKILL for the stubborn, and the audit lines. */
static void
execute_signals(void **state)
{
	struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
	struct enforce_pendings pending = ENFORCE_PENDINGS_INIT;
	struct strvec out = STRVEC_INIT, errout = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, audit = STRBUF_INIT, want = STRBUF_INIT;
	struct report r1 = REPORT_INIT, r2 = REPORT_INIT;
	unsigned long long start;
	pid_t polite, stubborn;
	int status;
	(void)state;

	polite = spawn_child(0);
	stubborn = spawn_child(1);
	usleep(100000);  /* let the child install SIG_IGN */
	assert_int_equal(proc_start_time(polite, &start), 0);
	one_process_report(&r1, polite, start);
	one_process_report(&r2, stubborn, 0);
	xo.audit = &audit;
	xo.hostname = "h";
	assert_int_equal(enforce_execute(NULL, &r1, &xo, &out, &errout, &pending, &err), 0);
	assert_int_equal(enforce_execute(NULL, &r2, &xo, &out, &errout, &pending, &err), 0);
	assert_int_equal(pending.nr, 2);
	assert_int_equal(waitpid(polite, &status, 0), polite);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

	enforce_escalate(&pending, 300, &xo, &out, &errout);
	assert_int_equal(waitpid(stubborn, &status, 0), stubborn);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(out.nr, 3);
	strbuf_addf(&want, "Killing process %ld that is still running 300 ms after SIGTERM",
		    (long)stubborn);
	assert_string_equal(out.v[2], want.buf);
	assert_int_equal(errout.nr, 0);

	/* three audit lines: terminate, terminate, kill; each a JSON object */
	{
		const char *line = audit.buf;
		int n = 0;

		while (*line) {
			const char *nl = strchr(line, '\n');
			json_t *obj;

			assert_non_null(nl);
			obj = json_parse(line, nl - line, "audit", &err);
			assert_non_null(obj);
			assert_string_equal(json_string_value(json_object_get(obj, "host")), "h");
			assert_string_equal(json_string_value(json_object_get(obj, "rule")), "env-devices");
			assert_string_equal(json_string_value(json_object_get(obj, "eid")), "e1");
			assert_true(json_is_integer(json_object_get(obj, "pid")));
			assert_true(json_is_integer(json_object_get(obj, "uid")));
			assert_string_equal(json_string_value(json_object_get(obj, "result")), "signalled");
			assert_non_null(json_object_get(obj, "time"));
			assert_string_equal(json_string_value(json_object_get(obj, "action")),
					    n < 2 ? "terminate" : "kill");
			json_decref(obj);
			line = nl + 1;
			n++;
		}
		assert_int_equal(n, 3);
	}
	enforce_pendings_release(&pending);
	report_release(&r1);
	report_release(&r2);
	strvec_clear(&out);
	strvec_clear(&errout);
	strbuf_release(&err);
	strbuf_release(&audit);
	strbuf_release(&want);
}

/* A pid whose start time changed is someone else's: never signalled. */
static void
execute_reused_pid(void **state)
{
	struct enforce_exec_options xo = ENFORCE_EXEC_OPTIONS_INIT;
	struct strvec out = STRVEC_INIT, errout = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	struct report r = REPORT_INIT;
	unsigned long long start;
	pid_t child;
	int status;
	(void)state;

	child = spawn_child(0);
	assert_int_equal(proc_start_time(child, &start), 0);
	one_process_report(&r, child, start + 1);
	assert_int_equal(enforce_execute(NULL, &r, &xo, &out, &errout, NULL, &err), 0);
	strbuf_addf(&want, "[DEBUG] Process %ld already terminated", (long)child);
	assert_int_equal(errout.nr, 1);
	assert_string_equal(errout.v[0], want.buf);
	assert_int_equal(waitpid(child, &status, WNOHANG), 0);  /* still alive */
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	/* GENV_TERMINATE_PROCESSES=0: the line, no signal */
	strvec_clear(&errout);
	child = spawn_child(0);
	report_release(&r);
	one_process_report(&r, child, 0);
	xo.send_signals = 0;
	assert_int_equal(enforce_execute(NULL, &r, &xo, &out, &errout, NULL, &err), 0);
	assert_int_equal(errout.nr, 0);
	assert_int_equal(waitpid(child, &status, WNOHANG), 0);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	report_release(&r);
	strvec_clear(&out);
	strvec_clear(&errout);
	strbuf_release(&err);
	strbuf_release(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_rules_local),
		cmocka_unit_test(defaults_skip_non_env),
		cmocka_unit_test(memory_greedy),
		cmocka_unit_test(spoofed_and_orphaned),
		cmocka_unit_test(remote_max_devices),
		cmocka_unit_test(users_sorted),
		cmocka_unit_test(limit_specs),
		cmocka_unit_test(report_json_round_trip),
		cmocka_unit_test(report_parse_errors),
		cmocka_unit_test(execute_signals),
		cmocka_unit_test(execute_reused_pid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
