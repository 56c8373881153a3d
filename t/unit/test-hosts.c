/* SPDX-License-Identifier: MIT */
/* test-hosts.c: -H lists and hostfiles (remote/hosts.h), ssh argv (remote/ssh.h). */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/fanout.h"
#include "remote/hosts.h"
#include "remote/ssh.h"
#include "util/run.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static void
list_with_users_and_blanks(void **state)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(hostlist_parse_list(&hl, " a , bob@b,c ", "alice", &err), 0);
	assert_int_equal(hl.nr, 3);
	assert_string_equal(hl.v[0].name, "a");
	assert_string_equal(hl.v[0].user, "alice");
	assert_string_equal(hl.v[1].name, "b");
	assert_string_equal(hl.v[1].user, "bob");
	assert_string_equal(hl.v[2].name, "c");
	assert_string_equal(err.buf, "");
	/* messages name each entry as written; -l does not change it */
	assert_string_equal(host_entry(&hl.v[0]), "a");
	assert_string_equal(host_entry(&hl.v[1]), "bob@b");
	hostlist_release(&hl);

	assert_int_equal(hostlist_parse_list(&hl, "solo", NULL, &err), 0);
	assert_int_equal(hl.nr, 1);
	assert_null(hl.v[0].user);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
expect_list_error(const char *spec, const char *needle)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(hostlist_parse_list(&hl, spec, NULL, &err), -1);
	assert_int_equal(hl.nr, 0);
	if (!strstr(err.buf, needle))
		fail_msg("'%s': got '%s', want '%s'", spec, err.buf, needle);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
list_errors(void **state)
{
	(void)state;
	expect_list_error("", "empty host name");
	expect_list_error("a,,b", "empty host name in the host list 'a,,b' (item 2)");
	expect_list_error("a,", "(item 2)");
	expect_list_error("a b", "blank inside the host name 'a b'");
	expect_list_error("x@y@z", "more than one '@' in 'x@y@z'");
	expect_list_error("@h", "empty user name in '@h'");
	expect_list_error("u@", "empty host name in 'u@'");
	expect_list_error("-oProxyCommand=x", "starts with '-'");
	expect_list_error("-l@h", "user name in '-l@h' starts with '-'");
	expect_list_error("a,b,a", "host 'a' is listed twice (host list item 3)");
	expect_list_error("h\x01", "control character");
}

static void
same_host_other_users(void **state)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(hostlist_parse_list(&hl, "a@h,b@h,h", NULL, &err), 0);
	assert_int_equal(hl.nr, 3);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
hostfile_text(void **state)
{
	static const char text[] =
		"# cluster\r\n"
		"\n"
		"  gpu-server-1  \r\n"
		"\t# indented comment\n"
		"root@gpu-server-2 # trailing comment\n"
		"gpu-server-3";            /* no final newline */
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(hostlist_parse_text(&hl, text, strlen(text), "hosts.txt", "me", &err), 0);
	assert_int_equal(hl.nr, 3);
	assert_string_equal(hl.v[0].name, "gpu-server-1");
	assert_string_equal(hl.v[0].user, "me");
	assert_string_equal(hl.v[1].name, "gpu-server-2");
	assert_string_equal(hl.v[1].user, "root");
	assert_string_equal(hl.v[2].name, "gpu-server-3");
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
expect_text_error(const char *text, const char *needle)
{
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(hostlist_parse_text(&hl, text, strlen(text), "f.txt", NULL, &err), -1);
	assert_int_equal(hl.nr, 0);
	if (!strstr(err.buf, needle))
		fail_msg("got '%s', want '%s'", err.buf, needle);
	hostlist_release(&hl);
	strbuf_release(&err);
}

static void
hostfile_errors(void **state)
{
	(void)state;
	expect_text_error("", "f.txt: no hosts in the file");
	expect_text_error("# only\n\n  \r\n", "f.txt: no hosts in the file");
	expect_text_error("a\nb c\n", "f.txt:2: blank inside the host name 'b c'");
	expect_text_error("a\n\nx@y@z\n", "f.txt:3: more than one '@'");
	expect_text_error("@h\n", "f.txt:1: empty user name");
	expect_text_error("u@\r\n", "f.txt:1: empty host name in 'u@'");
	expect_text_error("a\na\n", "f.txt:2: host 'a' is listed twice");
}

static void
hostfile_read(void **state)
{
	char dir[] = "/tmp/test-hosts.XXXXXX";
	struct hostlist hl = HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/missing.txt", dir);
	assert_int_equal(hostlist_read_file(&hl, path.buf, NULL, &err), -1);
	assert_non_null(strstr(err.buf, "missing.txt"));
	assert_non_null(strstr(err.buf, "No such file"));

	strbuf_reset(&err);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/hosts.txt", dir);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs("h1\nh2\n", f);
	fclose(f);
	assert_int_equal(hostlist_read_file(&hl, path.buf, NULL, &err), 0);
	assert_int_equal(hl.nr, 2);
	unlink(path.buf);
	rmdir(dir);
	hostlist_release(&hl);
	strbuf_release(&err);
	strbuf_release(&path);
}

static void
ssh_argv(void **state)
{
	struct ssh_opts o = SSH_OPTS_INIT;
	struct host h = { (char *)"gpu-server-1", (char *)"bob", NULL };
	struct strvec argv = STRVEC_INIT;
	struct strbuf cmd = STRBUF_INIT, joined = STRBUF_INIT;

	(void)state;
	ssh_snapshot_command(&cmd, "genv", "devices");
	assert_string_equal(cmd.buf, "genv usage snapshot --type devices");
	ssh_build_argv(&argv, &o, &h, cmd.buf);
	for (size_t i = 0; i < argv.nr; i++)
		strbuf_addf(&joined, "%s[%s]", i ? " " : "", argv.v[i]);
	assert_string_equal(joined.buf,
			    "[ssh] [-T] [-o] [BatchMode=yes] [-o] [ConnectTimeout=10] [-l] [bob] "
			    "[--] [gpu-server-1] [genv usage snapshot --type devices]");
	strvec_clear(&argv);

	strbuf_reset(&cmd);
	ssh_snapshot_command(&cmd, "/opt/my genv/genv", "envs");
	assert_string_equal(cmd.buf, "'/opt/my genv/genv' usage snapshot --type envs");

	strbuf_reset(&cmd);
	ssh_genv_command(&cmd, "genv", (const char *const[]){ "usage", "snapshot", NULL }, 0);
	assert_string_equal(cmd.buf, "genv usage snapshot");
	strbuf_reset(&cmd);
	ssh_genv_command(&cmd, "/opt/g v", (const char *const[]){ "usage", "execute", NULL }, 1);
	assert_string_equal(cmd.buf,
			    "exec /bin/sh -c 'if [ \"$(id -u)\" -eq 0 ]; then exec '\\''/opt/g v'\\'' "
			    "usage execute; fi; exec sudo -n '\\''/opt/g v'\\'' usage execute'");

	o.connect_timeout = 0;
	o.interactive = 1;
	o.control_dir = "/tmp/d";
	h.user = NULL;
	ssh_build_argv(&argv, &o, &h, NULL);
	strbuf_reset(&joined);
	for (size_t i = 0; i < argv.nr; i++)
		strbuf_addf(&joined, "%s%s", i ? " " : "", argv.v[i]);
	assert_string_equal(joined.buf,
			    "ssh -t -o ControlMaster=auto -o ControlPath=/tmp/d/%C "
			    "-o ControlPersist=60 -- gpu-server-1");
	strvec_clear(&argv);
	strbuf_release(&cmd);
	strbuf_release(&joined);
}

static void
control_dir(void **state)
{
	char dir[] = "/tmp/test-cd.XXXXXX";
	struct strbuf got = STRBUF_INIT, err = STRBUF_INIT, want = STRBUF_INIT;
	struct stat st;
	const char *old = getenv("XDG_RUNTIME_DIR");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("XDG_RUNTIME_DIR", dir, 1);
	assert_int_equal(ssh_control_dir(&got, &err), 0);
	strbuf_addf(&want, "%s/genv-ssh", dir);
	assert_string_equal(got.buf, want.buf);
	assert_int_equal(stat(got.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* again: an existing private directory is fine, a public one is fixed */
	chmod(got.buf, 0755);
	strbuf_reset(&got);
	assert_int_equal(ssh_control_dir(&got, &err), 0);
	assert_int_equal(stat(got.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	rmdir(got.buf);
	rmdir(dir);
	if (saved)
		setenv("XDG_RUNTIME_DIR", saved, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(saved);
	strbuf_release(&got);
	strbuf_release(&err);
	strbuf_release(&want);
}

static void
judge(void **state)
{
	struct host h = { (char *)"hx", NULL, NULL };
	struct fanout_result r;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	const char *cmd = "genv usage snapshot --type devices";

	(void)state;
	memset(&r, 0, sizeof(r));
	r.host = &h;
	strbuf_init(&r.error, 0);

	strbuf_addstr(&err, "ssh: connect to host hx port 22: Connection refused\r\n");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 255, 0, 60, &out, &err);
	assert_false(r.ok);
	assert_string_equal(r.error.buf, "Failed running SSH command on hx "
			    "(ssh: connect to host hx port 22: Connection refused)");
	fanout_result_release(&r);

	strbuf_init(&r.error, 0);
	strbuf_reset(&err);
	strbuf_addstr(&err, "bash: line 1: genv: command not found\n");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 127, 0, 60, &out, &err);
	assert_false(r.ok);
	assert_non_null(strstr(r.error.buf, "genv is not installed on hx"));
	fanout_result_release(&r);

	strbuf_init(&r.error, 0);
	strbuf_reset(&err);
	fanout_judge(&r, FANOUT_DEVICES, cmd, -1, 1, 7, &out, &err);
	assert_string_equal(r.error.buf,
			    "Failed running SSH command on hx (no answer within 7 seconds)");
	fanout_result_release(&r);

	strbuf_init(&r.error, 0);
	strbuf_addstr(&err, "line one\nline two\n");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 3, 0, 7, &out, &err);
	assert_string_equal(r.error.buf,
			    "Failed running SSH command on hx (line one; line two)");
	fanout_result_release(&r);

	strbuf_init(&r.error, 0);
	strbuf_reset(&err);
	fanout_judge(&r, FANOUT_DEVICES, cmd, 3, 0, 7, &out, &err);
	assert_string_equal(r.error.buf, "Failed running SSH command on hx (exit status 3)");
	fanout_result_release(&r);

	/* a user@host entry is named in full */
	h.entry = (char *)"u2@hx";
	strbuf_init(&r.error, 0);
	fanout_judge(&r, FANOUT_DEVICES, cmd, 3, 0, 7, &out, &err);
	assert_string_equal(r.error.buf, "Failed running SSH command on u2@hx (exit status 3)");
	fanout_result_release(&r);
	h.entry = NULL;

	strbuf_init(&r.error, 0);
	strbuf_addstr(&out, "hello, I am not JSON\n");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 0, 0, 7, &out, &err);
	assert_false(r.ok);
	assert_non_null(strstr(r.error.buf, "Invalid answer from hx to "
			       "'genv usage snapshot --type devices' ("));
	fanout_result_release(&r);

	strbuf_init(&r.error, 0);
	strbuf_reset(&out);
	strbuf_addstr(&out, "{\"devices\": [{\"index\": 0, \"total_memory\": \"16384mi\", "
		      "\"attachments\": []}]}\n");
	strbuf_addstr(&err, "[DEBUG] one\n[DEBUG] two\n");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 0, 0, 7, &out, &err);
	assert_true(r.ok);
	assert_int_equal(r.devices.nr, 1);
	assert_int_equal(r.warnings.nr, 2);
	assert_string_equal(r.warnings.v[1], "[DEBUG] two");
	fanout_result_release(&r);

	/* an envs answer is not a devices answer */
	strbuf_init(&r.error, 0);
	strbuf_reset(&out);
	strbuf_addstr(&out, "{\"envs\": []}");
	fanout_judge(&r, FANOUT_DEVICES, cmd, 0, 0, 7, &out, &err);
	assert_false(r.ok);
	fanout_result_release(&r);

	strbuf_release(&out);
	strbuf_release(&err);
}

/* Runs the activate command with a fake genv and login shell in dir. */
static void
run_activate(const char *dir, const struct remote_activate *a, struct run_task *t)
{
	struct strbuf cmd = STRBUF_INIT;
	struct run_opts o = RUN_OPTS_INIT;

	ssh_activate_command(&cmd, a);
	run_task_init(t);
	strvec_pushv(&t->argv, (const char *const[]){ "/bin/sh", "-c", cmd.buf, NULL });
	o.timeout_ms = 10000;
	run_parallel(t, 1, &o);
	(void)dir;
	strbuf_release(&cmd);
}

static void
write_script(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0755);
}

static void
activate_command(void **state)
{
	char dir[] = "/tmp/test-activate.XXXXXX";
	struct strbuf path = STRBUF_INIT, genv = STRBUF_INIT, sh = STRBUF_INIT, log = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT, err = STRBUF_INIT;
	struct run_task t;
	struct remote_activate a = {
		.remote_genv = NULL, .host = "h'1", .gpus = 2, .gpu_memory = "4g",
		.name = "it's \"x\" $HOME `id`", .prompt = 0,
	};
	const char *old_shell = getenv("SHELL");
	char *saved_shell = old_shell ? strdup(old_shell) : NULL;
	long pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* genv logs its arguments one per line; "devices attach" fails if asked */
	strbuf_addf(&genv, "%s/my genv", dir);
	strbuf_addf(&log, "%s/log", dir);
	strbuf_addf(&path, "#!/bin/sh\nfor a in \"$@\"; do printf '[%%s]' \"$a\"; done >>'%s'\n"
		    "echo >>'%s'\n"
		    "[ \"$1 $2\" = 'devices attach' ] && [ -e '%s/taken' ] && exit 1\nexit 0\n",
		    log.buf, log.buf, dir);
	write_script(genv.buf, path.buf);
	strbuf_addf(&sh, "%s/shell", dir);
	write_script(sh.buf, "#!/bin/sh\necho \"shell $$ $* P=$GENV_PREACTIVATE Q=$GENV_PREACTIVATE_PROMPT"
			     " E=${GENV_ENVIRONMENT_ID-unset}\"\n");
	setenv("SHELL", sh.buf, 1);
	setenv("GENV_ENVIRONMENT_ID", "from-the-client", 1);
	a.remote_genv = genv.buf;

	run_activate(dir, &a, &t);
	assert_true(run_task_succeeded(&t));
	assert_int_equal(sscanf(t.out.buf, "shell %ld -l P=1 Q=0 E=unset\n", &pid), 1);
	strbuf_reset(&want);
	strbuf_addf(&want, "[envs][activate][--eid][%ld][--uid][%lu][--username]", pid,
		    (unsigned long)getuid());
	strbuf_reset(&path);
	assert_int_equal(read_file_sb(&path, log.buf, &err), 0);
	assert_true(starts_with(path.buf, want.buf));
	strbuf_reset(&want);
	strbuf_addf(&want, "[--pid][%ld]\n"
		    "[envs][config][--eid][%ld][name][--name][it's \"x\" $HOME `id`]\n"
		    "[envs][config][--eid][%ld][gpu-memory][--gpu-memory][4g]\n"
		    "[envs][config][--eid][%ld][gpus][--count][2]\n"
		    "[devices][attach][--eid][%ld][--count][2]\n", pid, pid, pid, pid, pid);
	assert_non_null(strstr(path.buf, want.buf));
	run_task_release(&t);

	/* the GPUs are gone by the time we get there: undo, exit 75 */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/taken", dir);
	write_script(path.buf, "");
	unlink(log.buf);
	run_activate(dir, &a, &t);
	assert_int_equal(run_task_exit_code(&t), SSH_ACTIVATE_TAKEN);
	assert_string_equal(t.out.buf, "");
	assert_string_equal(t.err.buf, "genv: could not reserve GPUs on h'1 (taken meanwhile)\n");
	strbuf_reset(&path);
	assert_int_equal(read_file_sb(&path, log.buf, &err), 0);
	assert_non_null(strstr(path.buf, "\n[envs][deactivate][--pid]["));
	unlink(log.buf);
	run_task_release(&t);

	/* no genv there */
	a.remote_genv = "/nonexistent/genv";
	run_activate(dir, &a, &t);
	assert_int_equal(run_task_exit_code(&t), 127);
	assert_non_null(strstr(t.err.buf, "genv is not installed on h'1"));
	run_task_release(&t);

	strbuf_reset(&path);
	strbuf_addf(&path, "%s/taken", dir);
	unlink(path.buf);
	unlink(genv.buf);
	unlink(sh.buf);
	rmdir(dir);
	unsetenv("GENV_ENVIRONMENT_ID");
	if (saved_shell)
		setenv("SHELL", saved_shell, 1);
	else
		unsetenv("SHELL");
	free(saved_shell);
	strbuf_release(&path);
	strbuf_release(&genv);
	strbuf_release(&sh);
	strbuf_release(&log);
	strbuf_release(&want);
	strbuf_release(&err);
}

/* Runs tied (a remote command line) with /bin/sh, the way sshd would. */
static void
sh_tied(struct run_task *t, const char *cmd, const struct strbuf *payload)
{
	struct strbuf tied = STRBUF_INIT;

	run_task_init(t);
	ssh_tied_command(&tied, cmd, payload ? (long long)payload->len : -1);
	strvec_pushv(&t->argv, (const char *const[]){ "/bin/sh", "-c", tied.buf, NULL });
	t->in = payload;
	t->hold_stdin = 1;
	strbuf_release(&tied);
}

static int
pid_gone(pid_t pid)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT, err = STRBUF_INIT;
	const char *state;
	int gone;

	strbuf_addf(&path, "/proc/%ld/stat", (long)pid);
	gone = read_file_sb(&stat, path.buf, &err) < 0 ||
	       !(state = strrchr(stat.buf, ')')) || state[1] == '\0' || state[2] == 'Z';
	strbuf_release(&path);
	strbuf_release(&stat);
	strbuf_release(&err);
	return gone;
}

static void
tied_command(void **state)
{
	struct strbuf out = STRBUF_INIT, payload = STRBUF_INIT, line = STRBUF_INIT;
	struct run_task t[5];
	struct run_opts o = RUN_OPTS_INIT;
	pid_t pid;

	(void)state;
	/* the genv command line itself is unchanged: 1.4.3 hosts run it as ever */
	ssh_tied_command(&out, "exec genv usage snapshot --type devices", -1);
	assert_string_equal(out.buf,
		"exec /bin/sh -c 'exec 3<&0 </dev/null; { trap \"\" TERM; while read -r x; "
		"do :; done; kill -0 $$ 2>/dev/null || exit 0; kill -s TERM -- -$$ 2>/dev/null "
		"|| kill -s TERM $$; sleep 1; kill -s KILL -- -$$ 2>/dev/null || kill -s KILL $$; "
		"} <&3 >/dev/null 2>&1 & exec 3<&-; exec genv usage snapshot --type devices'");

	/* the payload arrives exactly (trailing newlines too), the status comes back */
	strbuf_addstr(&payload, "{\"a\": \"it'\''s\"}\n\n");
	sh_tied(&t[0], "sh -c 'cat; exit 3'", &payload);
	sh_tied(&t[1], "exec cat", NULL);
	/* compound commands run as they are, the payload going to all of it */
	strbuf_addstr(&line, "hello\n");
	sh_tied(&t[3], "read -r x; echo \"got $x\"", &line);
	sh_tied(&t[4], "echo one && false || echo two; echo three", NULL);
	/*
	 * Like ssh, the child hands its stdin on and is gone; once we close our
	 * end the watcher stops the command ($1, still running: its pid is $!).
	 */
	sh_tied(&t[2], "sleep 30", NULL);
	strvec_clear(&t[2].argv);
	strbuf_reset(&out);
	ssh_tied_command(&out, "exec sleep 30", -1);
	strvec_pushv(&t[2].argv, (const char *const[]){ "/bin/sh", "-c",
		     "exec 4<&0; /bin/sh -c \"$1\" <&4 4<&- & echo $!", "sh", out.buf, NULL });
	run_parallel(t, 5, &o);
	assert_int_equal(run_task_exit_code(&t[0]), 3);
	assert_string_equal(t[0].out.buf, payload.buf);
	assert_true(run_task_succeeded(&t[1]));
	assert_string_equal(t[1].out.buf, "");
	assert_string_equal(t[3].out.buf, "got hello\n");
	assert_string_equal(t[4].out.buf, "one\ntwo\nthree\n");
	pid = (pid_t)atol(t[2].out.buf);
	assert_true(pid > 0);
	for (int i = 0; i < 300 && !pid_gone(pid); i++)
		usleep(10000);
	assert_true(pid_gone(pid));
	for (int i = 0; i < 5; i++)
		run_task_release(&t[i]);
	strbuf_release(&out);
	strbuf_release(&payload);
	strbuf_release(&line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_with_users_and_blanks),
		cmocka_unit_test(list_errors),
		cmocka_unit_test(same_host_other_users),
		cmocka_unit_test(hostfile_text),
		cmocka_unit_test(hostfile_errors),
		cmocka_unit_test(hostfile_read),
		cmocka_unit_test(ssh_argv),
		cmocka_unit_test(control_dir),
		cmocka_unit_test(judge),
		cmocka_unit_test(activate_command),
		cmocka_unit_test(tied_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
