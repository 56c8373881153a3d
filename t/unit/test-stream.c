/* SPDX-License-Identifier: MIT */
/*
 * test-stream.c: the streaming fan-out's edge cases (remote/stream.h)
 * with a fake ssh, a shell script that plays one host per name: one that
 * streams, one with genv 1.4.3 (no --watch), one unreachable, one whose
 * stream ends, one that answers garbage. The real thing over sshd is
 * t/t5100-remote-top.sh.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/live.h"
#include "remote/hosts.h"
#include "remote/stream.h"
#include "util/fileio.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/strbuf.h"

static char dir[] = "/tmp/genv-test-stream.XXXXXX";
static struct strbuf ssh_path = STRBUF_INIT;

static const char fake_ssh[] =
	"#!/bin/sh\n"
	"# the last two arguments: HOST and the remote command\n"
	"eval host=\\${$(($# - 1))}\n"
	"eval cmd=\\${$#}\n"
	"d=$(dirname \"$0\")\n"
	"echo \"$host\" >>\"$d/calls\"\n"
	"case $host in\n"
	"good) cat \"$d/line\"; exec sleep 600 ;;\n"
	"old) case $cmd in *--watch*)\n"
	"       echo 'usage: genv [-h] ...' >&2\n"
	"       echo 'genv: error: unrecognized arguments: --watch --interval 1' >&2\n"
	"       exit 2 ;; esac\n"
	"     cat \"$d/snapshot\" ;;\n"
	"dead) echo \"ssh: connect to host dead port 22: Connection refused\" >&2; exit 255 ;;\n"
	"quits) cat \"$d/line\" ;;\n"
	"garbage) echo hello; exec sleep 600 ;;\n"
	"nogenv) echo 'sh: 1: genv: not found' >&2; exit 127 ;;\n"
	"slow) sleep 1; cat \"$d/line\"; exec sleep 600 ;;\n"
	"esac\n";

static const char snapshot_143[] =
	"{\n  \"processes\": {\n    \"processes\": []\n  },\n  \"envs\": {\n    \"envs\": []\n  },\n"
	"  \"devices\": {\n    \"devices\": [\n      {\n        \"index\": 0,\n"
	"        \"total_memory\": \"16384mi\",\n        \"attachments\": []\n      }\n    ]\n  }\n}\n";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path.buf, text, strlen(text), mode, &err), 0);
	strbuf_release(&path);
	strbuf_release(&err);
}

static int
setup(void **state)
{
	struct strbuf line = STRBUF_INIT;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	/* an empty snapshot: the parts are there, with nothing in them */
	strbuf_addstr(&line, "{\"watch\": 1, \"hostname\": \"good\", \"time\": \"t\", \"snapshot\": "
		      "{\"processes\": {\"processes\": []}, \"envs\": {\"envs\": []}, "
		      "\"devices\": {\"devices\": []}}, \"gpus\": []}\n");
	write_file("line", line.buf, 0644);
	write_file("snapshot", snapshot_143, 0644);
	write_file("ssh", fake_ssh, 0755);
	strbuf_addf(&ssh_path, "%s/ssh", dir);
	strbuf_release(&line);
	return 0;
}

static int
teardown(void **state)
{
	struct strbuf cmd = STRBUF_INIT;

	(void)state;
	for (const char *const *f = (const char *const[]){ "line", "snapshot", "ssh", "calls", NULL };
	     *f; f++) {
		strbuf_reset(&cmd);
		strbuf_addf(&cmd, "%s/%s", dir, *f);
		unlink(cmd.buf);
	}
	rmdir(dir);
	strbuf_release(&cmd);
	strbuf_release(&ssh_path);
	return 0;
}

/* Runs the loop for ms milliseconds. */
static void
run_for(struct stream *s, int ms)
{
	int64_t end = clock_monotonic_ms() + ms;
	struct pollfd pfd[RUN_TASK_FDS * 8];

	assert_true(STREAM_POLLFDS(s) <= ARRAY_SIZE(pfd));
	while (clock_monotonic_ms() < end) {
		int t;
		size_t n = stream_poll(s, pfd, &t);
		int64_t left = end - clock_monotonic_ms();

		poll(pfd, n, left < t ? (int)(left > 0 ? left : 0) : t);
		stream_service(s);
	}
}

static const struct stream_host *
host(const struct stream *s, const char *name)
{
	for (size_t i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].host->name, name))
			return &s->v[i];
	fail_msg("no host %s", name);
	return NULL;
}

static void
hosts_of_every_kind(void **state)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct stream_opts o = STREAM_OPTS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct stream s;
	const struct stream_host *h;

	(void)state;
	assert_int_equal(hostlist_parse_list(&hl, "good,old,dead,quits,garbage,nogenv", NULL, &err), 0);
	o.fan.ssh.program = ssh_path.buf;
	o.interval = 1;
	stream_init(&s, &hl, &o);
	run_for(&s, 1600);
	assert_true(stream_all_answered(&s));

	h = host(&s, "good");
	assert_int_equal(h->state, STREAM_UP);
	assert_string_equal(h->live.hostname, "good");
	assert_int_equal(h->sessions, 1);   /* one session, kept */
	assert_int_equal(h->legacy, 0);

	h = host(&s, "old");
	assert_int_equal(h->state, STREAM_UP);
	assert_int_equal(h->legacy, 1);
	assert_int_equal(h->live.partial, 1);
	assert_int_equal(h->live.gpus_nr, 1);
	/* the refused stream, then one one-shot per interval */
	assert_true(h->sessions >= 3 && h->sessions <= 4);

	h = host(&s, "dead");
	assert_int_equal(h->state, STREAM_DOWN);
	assert_string_equal(h->error.buf, "Failed running SSH command on dead "
			    "(ssh: connect to host dead port 22: Connection refused)");
	/* retried after 1 s, next after 2 s */
	assert_int_equal(h->sessions, 2);
	assert_true(h->retry_ms > clock_monotonic_ms() + 1000);

	h = host(&s, "quits");
	assert_int_equal(h->state, STREAM_DOWN);
	assert_int_equal(h->snapshots, 2);   /* one per session */
	assert_string_equal(h->error.buf, "genv on quits stopped sending snapshots");

	h = host(&s, "nogenv");
	assert_int_equal(h->state, STREAM_DOWN);
	assert_int_equal(h->no_genv, 1);
	assert_true(starts_with(h->error.buf, "genv is not installed on nogenv"));
	assert_int_equal(host(&s, "dead")->no_genv, 0);

	h = host(&s, "garbage");
	assert_int_equal(h->state, STREAM_DOWN);
	assert_true(starts_with(h->error.buf, "Invalid answer from garbage (watch line: invalid JSON"));

	stream_release(&s);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
release_ends_sessions_quickly(void **state)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct stream_opts o = STREAM_OPTS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct stream s;
	int64_t start;

	(void)state;
	assert_int_equal(hostlist_parse_list(&hl, "good,garbage", NULL, &err), 0);
	o.fan.ssh.program = ssh_path.buf;
	stream_init(&s, &hl, &o);
	run_for(&s, 300);
	start = clock_monotonic_ms();
	stream_release(&s);
	/* SIGTERM ends a sleeping child at once */
	assert_true(clock_monotonic_ms() - start < 900);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
parallel_bounds_the_sessions_starting(void **state)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct stream_opts o = STREAM_OPTS_INIT;
	struct strbuf err = STRBUF_INIT;
	struct stream s;

	(void)state;
	assert_int_equal(hostlist_parse_list(&hl, "slow,good", NULL, &err), 0);
	o.fan.ssh.program = ssh_path.buf;
	o.fan.parallel = 1;
	stream_init(&s, &hl, &o);
	run_for(&s, 500);
	/* good waits until slow has answered */
	assert_int_equal(host(&s, "slow")->sessions, 1);
	assert_int_equal(host(&s, "good")->sessions, 0);
	assert_int_equal(host(&s, "good")->state, STREAM_CONNECTING);
	run_for(&s, 1500);
	assert_int_equal(host(&s, "slow")->state, STREAM_UP);
	assert_int_equal(host(&s, "good")->state, STREAM_UP);
	assert_int_equal(host(&s, "good")->sessions, 1);
	stream_release(&s);
	hostlist_release(&hl);
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hosts_of_every_kind),
		cmocka_unit_test(release_ends_sessions_quickly),
		cmocka_unit_test(parallel_bounds_the_sessions_starting),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
