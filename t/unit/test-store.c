/* SPDX-License-Identifier: MIT */
/*
 * test-store.c: the shared state directory on a real file system: modes
 * under a strict umask, the global lock, atomic saves that keep the old
 * file on failure, corrupt files reported and left alone, cleanup of dead
 * pids and kernels, and devices.json kept in step with (fake) NVML.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "core/devices.h"
#include "core/envs.h"
#include "core/snapshot.h"
#include "core/state.h"
#include "core/state-check.h"
#include "core/state-json.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct strbuf fake_nvml = STRBUF_INIT;  /* path of the fake library, "" if not built */
static struct strbuf top = STRBUF_INIT;        /* this run's scratch directory */
static int case_nr;

/* Each test gets a fresh state directory, and NVML is asked again. */
static int
per_test_setup(void **state)
{
	static struct strbuf dir = STRBUF_INIT;

	strbuf_reset(&dir);
	strbuf_addf(&dir, "%s/case%d/state", top.buf, ++case_nr);
	setenv("GENV_TMPDIR", dir.buf, 1);
	setenv("GENV_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
	store_forget_gpus();
	*state = dir.buf;
	return 0;
}

static int
per_test_teardown(void **state UNUSED)
{
	store_forget_gpus();
	return 0;
}

static void
state_file(const struct store *st, const char *name, struct strbuf *path)
{
	strbuf_reset(path);
	store_path(st, name, path);
}

static void
state_file_stat(const char *name, struct stat *sb)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct store st = STORE_INIT;

	assert_int_equal(store_init(&st, &err), 0);
	store_path(&st, name, &path);
	assert_int_equal(stat(path.buf, sb), 0);
	store_release(&st);
	strbuf_release(&path);
	strbuf_release(&err);
}

/* Uses the fake NVML with this inventory (or skips when it is not built). */
static int
use_fake_gpus(const char *inventory)
{
	struct strbuf conf = STRBUF_INIT;

	if (!fake_nvml.len)
		return -1;
	strbuf_addf(&conf, "%s/gpus.conf", top.buf);
	unit_write_text(conf.buf, inventory);
	setenv("GENV_NVML_LIBRARY", fake_nvml.buf, 1);
	setenv("GENV_FAKE_NVML_CONFIG", conf.buf, 1);
	store_forget_gpus();
	strbuf_release(&conf);
	return 0;
}

static long
dead_pid(void)
{
	pid_t child = fork();
	int status;

	assert_true(child >= 0);
	if (!child)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	return child;
}

static void
modes_under_strict_umask(void **state)
{
	const char *dir = *state;
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	mode_t old = umask(077);

	assert_int_equal(store_init(&st, &err), 0);
	assert_string_equal(st.dir.buf, dir);
	assert_int_equal(unit_mode_of(dir), 0777);
	strbuf_addstr(&path, dir);
	*strrchr(path.buf, '/') = '\0';
	/* only the state directory gets the shared mode (issue 8; 1.4.3 made parents 0777) */
	assert_int_equal(unit_mode_of(path.buf), 0755);

	assert_int_equal(store_lock(&st, &err), 0);
	assert_true(st.lock_fd >= 0);
	assert_int_equal(store_lock(&st, &err), 0);  /* already held: fine */
	state_file(&st, "genv.lock", &path);
	assert_int_equal(unit_mode_of(path.buf), 0666);

	assert_false(store_has(&st, "envs.json"));
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	assert_true(store_has(&st, "envs.json"));
	state_file(&st, "envs.json", &path);
	assert_int_equal(unit_mode_of(path.buf), 0666);
	unit_read_text(path.buf, &text);
	assert_string_equal(text.buf, "{\n  \"envs\": []\n}");

	/*
	 * a lock file left 0600 by someone still locks, and keeps its mode:
	 * genv changes the mode only of a file it just created (issue 8; it
	 * was made 0666 again, and a link there made its target 0666)
	 */
	store_unlock(&st);
	state_file(&st, "genv.lock", &path);
	assert_int_equal(chmod(path.buf, 0600), 0);
	assert_int_equal(store_lock(&st, &err), 0);
	assert_int_equal(unit_mode_of(path.buf), 0600);

	umask(old);
	store_release(&st);
	assert_int_equal(st.lock_fd, -1);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
}

static void
relative_dir_and_trailing_slash(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, cwd = STRBUF_INIT, path = STRBUF_INIT;
	char *saved = getcwd(NULL, 0);

	strbuf_addf(&cwd, "%s/case%d", top.buf, case_nr);
	assert_int_equal(mkdir_p(cwd.buf, 0755, &err), 0);
	assert_int_equal(chdir(cwd.buf), 0);
	setenv("GENV_TMPDIR", "rel/state//", 1);
	assert_int_equal(store_init(&st, &err), 0);
	assert_string_equal(st.dir.buf, "rel/state");
	store_path(&st, "envs.json", &path);
	assert_string_equal(path.buf, "rel/state/envs.json");
	assert_int_equal(unit_mode_of("rel/state"), 0777);
	assert_int_equal(chdir(saved), 0);
	free(saved);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&cwd);
	strbuf_release(&path);
}

static void
lock_is_exclusive(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT;
	int fds[2];
	pid_t child;
	struct pollfd pfd;
	char c;
	int status;

	assert_int_equal(store_init(&st, &err), 0);
	assert_int_equal(store_lock(&st, &err), 0);
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		struct store other = STORE_INIT;
		struct strbuf e = STRBUF_INIT;

		close(fds[0]);
		if (store_init(&other, &e) < 0 || store_lock(&other, &e) < 0)
			_exit(1);
		_exit(write(fds[1], "L", 1) == 1 ? 0 : 1);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 200), 0);  /* blocked while we hold it */
	store_unlock(&st);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(c, 'L');
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
	store_release(&st);
	strbuf_release(&err);
}

/* Another holder makes store_lock() give up after GENV_LOCK_TIMEOUT, naming it. */
static void
lock_wait_is_bounded(void **state UNUSED)
{
	struct store st = STORE_INIT, other = STORE_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	int64_t t0;

	assert_int_equal(store_init(&st, &err), 0);
	assert_int_equal(store_init(&other, &err), 0);
	assert_int_equal(store_lock(&st, &err), 0);
	/* flocks of two open()s conflict even in one process */
	setenv("GENV_LOCK_TIMEOUT", "0.2", 1);
	t0 = clock_monotonic_ms();
	assert_int_equal(store_lock(&other, &err), -1);
	assert_true(errno == EWOULDBLOCK);
	assert_true(clock_monotonic_ms() - t0 >= 190);
	assert_true(clock_monotonic_ms() - t0 < 5000);
	strbuf_addf(&want, "held by pid %ld (", (long)getpid());
	assert_non_null(strstr(err.buf, "gave up waiting 0.2 s for the lock"));
	assert_non_null(strstr(err.buf, want.buf));
	assert_non_null(strstr(err.buf, "test-store"));
	assert_non_null(strstr(err.buf, "GENV_LOCK_TIMEOUT"));
	assert_int_equal(other.lock_fd, -1);
	assert_false(store_trylock(&other));

	/* 0: one try; nonsense: an error */
	setenv("GENV_LOCK_TIMEOUT", "0", 1);
	assert_int_equal(store_lock(&other, &err), -1);
	setenv("GENV_LOCK_TIMEOUT", "-1", 1);
	strbuf_reset(&err);
	assert_int_equal(store_lock(&other, &err), -1);
	assert_string_equal(err.buf, "GENV_LOCK_TIMEOUT is '-1', not a number of seconds");
	unsetenv("GENV_LOCK_TIMEOUT");

	store_unlock(&st);
	assert_true(store_trylock(&other));
	store_release(&st);
	store_release(&other);
	strbuf_release(&err);
	strbuf_release(&want);
}

/* Links, FIFOs and directories another user may plant in the directory. */
static void
planted_names(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, target = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	DIR *d;
	struct dirent *de;

	assert_int_equal(store_init(&st, &err), 0);
	envs_activate(&envs, "e", 1, NULL, getpid(), NULL);
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	envs_release(&envs);

	/* a link is refused, named, and not taken for a missing file */
	strbuf_addf(&target, "%s/case%d/target", top.buf, case_nr);
	unit_write_text(target.buf, "{\"envs\": []}");
	state_file(&st, "envs.json", &path);
	assert_int_equal(unlink(path.buf), 0);
	assert_int_equal(symlink(target.buf, path.buf), 0);
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), -1);
	strbuf_addf(&want, "refusing state file '%s': it is a symbolic link", path.buf);
	assert_string_equal(err.buf, want.buf);
	assert_int_equal(unlink(path.buf), 0);

	/* a FIFO is refused at once */
	state_file(&st, "devices.json", &path);
	assert_int_equal(mkfifo(path.buf, 0666), 0);
	strbuf_reset(&err);
	assert_int_equal(store_read_devices(&st, &devs, &err), -1);
	strbuf_reset(&want);
	strbuf_addf(&want, "refusing state file '%s': not a regular file", path.buf);
	assert_string_equal(err.buf, want.buf);
	assert_int_equal(unlink(path.buf), 0);

	/* a directory at the temporary name: a fresh one is used, then removed */
	state_file(&st, ".envs.json.tmp", &path);
	assert_int_equal(mkdir(path.buf, 0755), 0);
	strbuf_addstr(&path, "/inside");
	assert_int_equal(mkdir(path.buf, 0755), 0);
	state_file(&st, ".envs.json.tmp.stale1", &path);  /* a killed save of ours */
	unit_write_text(path.buf, "half");
	strbuf_reset(&err);
	envs_activate(&envs, "f", 1, NULL, getpid(), NULL);
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	envs_release(&envs);
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), 0);
	assert_int_equal(envs.nr, 1);
	d = opendir(st.dir.buf);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (starts_with(de->d_name, ".envs.json.tmp."))
			fail_msg("left behind: %s", de->d_name);
	closedir(d);

	envs_release(&envs);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&target);
	strbuf_release(&want);
}

static void
envs_load_save_cleanup(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf runtime = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	long dead = dead_pid();

	assert_int_equal(store_init(&st, &err), 0);
	assert_int_equal(store_load_envs(&st, &envs, STORE_CLEANUP, &err), 0);
	assert_int_equal(envs.nr, 0);

	envs_activate(&envs, "alive", 1000, "alice", getpid(), NULL);
	envs_activate(&envs, "dead", 1001, NULL, dead, NULL);
	envs_activate(&envs, "mixed", 1002, NULL, dead, NULL);
	envs_activate(&envs, "mixed", 1002, NULL, getpid(), NULL);
	/* the caller's own kernels: its runtime directory tells (root judges
	 * other users' by their owner's, t6210) */
	envs_activate(&envs, "kernel", getuid(), NULL, 0, "k-alive");
	envs_activate(&envs, "kernel", getuid(), NULL, 0, "k-gone");
	envs_activate(&envs, "gone-kernel", getuid(), NULL, 0, "k-gone");
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	envs_release(&envs);

	/* without cleanup: exactly what was saved */
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), 0);
	assert_int_equal(envs.nr, 5);
	envs_release(&envs);

	strbuf_addf(&runtime, "%s/case%d/runtime", top.buf, case_nr);
	assert_int_equal(mkdir_p(runtime.buf, 0755, &err), 0);
	setenv("JUPYTER_RUNTIME_DIR", runtime.buf, 1);
	strbuf_addstr(&runtime, "/kernel-k-alive.json");
	unit_write_text(runtime.buf, "{}");

	assert_int_equal(store_load_envs(&st, &envs, STORE_CLEANUP, &err), 0);
	assert_int_equal(envs.nr, 3);
	assert_string_equal(envs.v[0].eid, "alive");
	assert_string_equal(envs.v[1].eid, "mixed");
	assert_int_equal(envs.v[1].pids_nr, 1);
	assert_int_equal(envs.v[1].pids[0], getpid());
	assert_string_equal(envs.v[2].eid, "kernel");
	assert_int_equal(envs.v[2].kernel_ids.nr, 1);
	assert_string_equal(envs.v[2].kernel_ids.v[0], "k-alive");
	assert_null(envs.v[2].kernel_ids.v[1]);
	envs_release(&envs);
	unsetenv("JUPYTER_RUNTIME_DIR");

	/* reset ignores the file */
	assert_int_equal(store_load_envs(&st, &envs, STORE_RESET, &err), 0);
	assert_int_equal(envs.nr, 0);

	assert_int_equal(err.len, 0);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&runtime);
}

static void
corrupt_files_untouched(void **state UNUSED)
{
	static const char *const corrupt[] = {
		"{\"envs\": [", "", "[]", "{\"envs\": [], \"future\": 1}",
		"{\"envs\": [{\"eid\": \"e\"}]}",
	};
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;

	assert_int_equal(store_init(&st, &err), 0);
	state_file(&st, "envs.json", &path);
	for (size_t i = 0; i < ARRAY_SIZE(corrupt); i++) {
		unit_write_text(path.buf, corrupt[i]);
		strbuf_reset(&err);
		assert_int_equal(store_load_envs(&st, &envs, STORE_CLEANUP, &err), -1);
		strbuf_reset(&want);
		strbuf_addf(&want, "%s: ", path.buf);
		if (!starts_with(err.buf, want.buf))
			fail_msg("'%s' gave '%s'", corrupt[i], err.buf);
		assert_int_equal(envs.nr, 0);
		/* devices cleanup needs the envs: it fails too */
		strbuf_reset(&err);
		assert_int_equal(store_load_devices(&st, &devs, NULL, STORE_CLEANUP, &err), -1);
		unit_read_text(path.buf, &text);
		assert_string_equal(text.buf, corrupt[i]);
		assert_int_equal(unit_mode_of(path.buf), 0644);
	}
	strbuf_reset(&err);
	unit_write_text(path.buf, "{\"envs\": [{\"eid\": \"e\", \"uid\": \"x\"}]}");
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), -1);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s: envs[0]: missing key \"creation\"", path.buf);
	/* the message as it was, then one line of repair advice */
	state_add_repair_hint(STATE_FILE_ENVS, path.buf, &want);
	assert_string_equal(err.buf, want.buf);

	/* an unreadable path (a directory) is an error, not "missing" */
	assert_int_equal(unlink(path.buf), 0);
	assert_int_equal(mkdir(path.buf, 0755), 0);
	strbuf_reset(&err);
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), -1);
	assert_non_null(strstr(err.buf, path.buf));

	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&want);
}

static void
failed_save_keeps_old_file(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct envs envs = ENVS_INIT;
	struct rlimit old, small;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_sa;
	DIR *d;
	struct dirent *de;
	int entries = 0;

	assert_int_equal(store_init(&st, &err), 0);
	envs_activate(&envs, "first", 1, NULL, getpid(), NULL);
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	state_file(&st, "envs.json", &path);
	unit_read_text(path.buf, &text);
	assert_non_null(strstr(text.buf, "\"first\""));

	for (int i = 0; i < 50; i++) {
		struct strbuf eid = STRBUF_INIT;

		strbuf_addf(&eid, "env-%d", i);
		envs_activate(&envs, eid.buf, i, NULL, getpid(), NULL);
		strbuf_release(&eid);
	}
	/* the file system refuses big files: the write fails half way */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 64;
	assert_int_equal(sigaction(SIGXFSZ, &ign, &old_sa), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(store_save_envs(&st, &envs, &err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &old_sa, NULL), 0);
	assert_non_null(strstr(err.buf, "File too large"));

	strbuf_reset(&text);
	unit_read_text(path.buf, &text);
	assert_non_null(strstr(text.buf, "\"first\""));
	assert_null(strstr(text.buf, "env-0"));
	/* and no temporary file is left behind */
	d = opendir(st.dir.buf);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || strstr(de->d_name, "tmp"))
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);

	envs_release(&envs);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
}

static const char devices_3[] =
	"{\n  \"devices\": [\n"
	"    {\n      \"index\": 0,\n      \"total_memory\": \"100mi\",\n      \"attachments\": [\n"
	"        {\n          \"eid\": \"live\",\n          \"gpu_memory\": null,\n          \"time\": \"t\"\n        }\n      ]\n    },\n"
	"    {\n      \"index\": 1,\n      \"total_memory\": \"100mi\",\n      \"attachments\": [\n"
	"        {\n          \"eid\": \"dead\",\n          \"gpu_memory\": \"1mi\",\n          \"time\": \"t\"\n        }\n      ]\n    },\n"
	"    {\n      \"index\": 2,\n      \"total_memory\": \"100mi\",\n      \"attachments\": []\n    }\n"
	"  ]\n}";

static void
devices_without_nvml(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct devices devs = DEVICES_INIT;
	struct envs envs = ENVS_INIT;

	assert_int_equal(store_init(&st, &err), 0);
	/* no NVML and no devices.json: nothing to go on */
	assert_int_equal(store_load_devices(&st, &devs, NULL, STORE_CLEANUP, &err), -1);
	assert_true(err.len > 0);
	assert_false(store_has(&st, "devices.json"));

	/* no NVML but a devices.json: used as it is */
	strbuf_reset(&err);
	state_file(&st, "devices.json", &path);
	unit_write_text(path.buf, devices_3);
	envs_activate(&envs, "live", 1, NULL, getpid(), NULL);
	envs_activate(&envs, "dead", 1, NULL, dead_pid(), NULL);
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);
	envs_release(&envs);

	assert_int_equal(store_load_devices(&st, &devs, NULL, 0, &err), 0);
	assert_int_equal(devs.nr, 3);
	devices_serialize(&devs, &text);
	assert_string_equal(text.buf, devices_3);
	devices_release(&devs);

	/* cleanup drops the dead env's attachment; NULL live envs = load them */
	assert_int_equal(store_load_devices(&st, &devs, NULL, STORE_CLEANUP, &err), 0);
	assert_int_equal(devs.v[0].att_nr, 1);
	assert_int_equal(devs.v[1].att_nr, 0);
	assert_int_equal(store_save_devices(&st, &devs, &err), 0);
	assert_int_equal(unit_mode_of(path.buf), 0666);
	assert_false(store_has(&st, "devices.uuids"));  /* nothing known about the GPUs */
	devices_release(&devs);

	/* given live envs are used as they are */
	assert_int_equal(store_load_devices(&st, &devs, &envs, STORE_CLEANUP, &err), 0);
	assert_int_equal(devs.v[0].att_nr, 0);
	devices_release(&devs);

	/* reset without NVML: cannot recreate */
	assert_int_equal(store_load_devices(&st, &devs, NULL, STORE_RESET, &err), -1);
	assert_int_equal(devs.nr, 0);

	/* a corrupt devices.json is reported with its path and kept */
	strbuf_reset(&err);
	unit_write_text(path.buf, "{\"devices\": [1]}");
	assert_int_equal(store_load_devices(&st, &devs, NULL, 0, &err), -1);
	strbuf_reset(&text);
	strbuf_addf(&text, "%s: devices[0]: expected an object, found an integer", path.buf);
	state_add_repair_hint(STATE_FILE_DEVICES, path.buf, &text);
	assert_string_equal(err.buf, text.buf);
	unit_read_text(path.buf, &text);
	assert_string_equal(text.buf, "{\"devices\": [1]}");

	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
}

#define GPU(i, uuid, mib) "gpu " #i " GPU-" uuid " " #mib " NVIDIA Fake GPU\n"

static void
devices_follow_nvml(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct devices devs = DEVICES_INIT;
	struct envs envs = ENVS_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;

	if (use_fake_gpus(GPU(0, "aaaa", 16384) GPU(1, "bbbb", 16384)) < 0)
		skip();
	assert_int_equal(store_init(&st, &err), 0);
	envs_activate(&envs, "e", 1, NULL, getpid(), NULL);

	/* created from NVML */
	assert_int_equal(store_load_devices(&st, &devs, &envs, STORE_CLEANUP, &err), 0);
	assert_int_equal(devs.nr, 2);
	assert_string_equal(devs.v[1].total_memory, "16384mi");
	req.count = 2;
	assert_int_equal(devices_attach(&devs, "e", &req, &err), 0);
	assert_int_equal(store_save_devices(&st, &devs, &err), 0);
	devices_release(&devs);
	state_file(&st, "devices.uuids", &path);
	unit_read_text(path.buf, &text);
	assert_string_equal(text.buf, "[\n  \"GPU-aaaa\",\n  \"GPU-bbbb\"\n]");
	assert_int_equal(unit_mode_of(path.buf), 0666);

	/* a GPU is added, another has new memory: appended, refreshed, attachments kept */
	use_fake_gpus(GPU(0, "aaaa", 16384) GPU(1, "bbbb", 8192) GPU(2, "cccc", 4096));
	assert_int_equal(store_load_devices(&st, &devs, &envs, STORE_CLEANUP, &err), 0);
	assert_int_equal(devs.nr, 3);
	assert_string_equal(devs.v[1].total_memory, "8192mi");
	assert_string_equal(devs.v[2].total_memory, "4096mi");
	assert_int_equal(devs.v[2].index, 2);
	assert_int_equal(devices_attached_count(&devs, "e"), 2);
	assert_int_equal(store_save_devices(&st, &devs, &err), 0);
	devices_release(&devs);

	/* a different GPU now sits at index 1: its attachments were to the old one */
	use_fake_gpus(GPU(0, "aaaa", 16384) GPU(1, "dddd", 8192) GPU(2, "cccc", 4096));
	assert_int_equal(store_load_devices(&st, &devs, &envs, STORE_CLEANUP, &err), 0);
	strbuf_reset(&text);
	devices_attached_list(&devs, "e", &text);
	assert_string_equal(text.buf, "0");
	assert_int_equal(store_save_devices(&st, &devs, &err), 0);
	devices_release(&devs);
	unit_read_text(path.buf, &text);
	assert_string_equal(text.buf, "[\n  \"GPU-aaaa\",\n  \"GPU-dddd\",\n  \"GPU-cccc\"\n]");

	/* trailing GPUs vanish */
	use_fake_gpus(GPU(0, "aaaa", 16384));
	assert_int_equal(store_load_devices(&st, &devs, &envs, 0, &err), 0);
	assert_int_equal(devs.nr, 1);
	assert_int_equal(devs.v[0].att_nr, 1);
	devices_release(&devs);

	/* reset: recreated from NVML, attachments gone */
	assert_int_equal(store_load_devices(&st, &devs, &envs, STORE_RESET, &err), 0);
	assert_int_equal(devs.nr, 1);
	assert_int_equal(devs.v[0].att_nr, 0);
	devices_release(&devs);

	/* NVML fails now: the file is used as it is */
	use_fake_gpus("init_error 9\n");
	assert_int_equal(store_load_devices(&st, &devs, &envs, 0, &err), 0);
	assert_int_equal(devs.nr, 3);
	devices_release(&devs);

	assert_int_equal(err.len, 0);
	envs_release(&envs);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
}

/* A child whose environment (as /proc shows it) names an environment. */
static pid_t
spawn_env_process(void)
{
	static char env1[] = "GENV_ENVIRONMENT_ID=first", env2[] = "PATH=/usr/bin:/bin",
		    env3[] = "GENV_ENVIRONMENT_ID=me";
	char *const envp[] = { env1, env2, env3, NULL };
	pid_t child = fork();

	assert_true(child >= 0);
	if (!child) {
		execle("/bin/sleep", "sleep", "60", (char *)NULL, envp);
		_exit(127);
	}
	/* wait until the exec happened: then /proc shows the new environment */
	for (int i = 0; i < 500; i++) {
		char *eid = NULL;
		long long uid;
		int done = !process_read_identity(child, &eid, &uid) && eid;

		free(eid);
		if (done)
			break;
		usleep(10000);
	}
	return child;
}

static void
snapshot_from_fake_nvml(void **state UNUSED)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, conf = STRBUF_INIT, text = STRBUF_INIT;
	struct snapshot s = SNAPSHOT_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct envs envs = ENVS_INIT;
	long dead = dead_pid();
	char *eid = NULL;
	long long uid;
	pid_t child;
	int status;

	if (!fake_nvml.len)
		skip();
	child = spawn_env_process();
	strbuf_addf(&conf, GPU(0, "aaaa", 16384) GPU(1, "bbbb", 16384)
		    "proc 1 %ld 200\nproc 0 %ld 300\nproc 1 %ld 42\nproc 0 %ld 10\n",
		    (long)child, (long)child, (long)getpid(), dead);
	use_fake_gpus(conf.buf);

	assert_int_equal(process_read_identity(child, &eid, &uid), 0);
	assert_string_equal(eid, "me");  /* the last definition wins */
	assert_int_equal(uid, getuid());
	free(eid);
	assert_int_equal(process_read_identity(dead, &eid, &uid), -1);
	assert_true(errno == ENOENT || errno == ESRCH);
	assert_null(eid);
	assert_int_equal(uid, -1);

	assert_int_equal(store_init(&st, &err), 0);
	envs_activate(&envs, "me", getuid(), NULL, child, NULL);
	envs_activate(&envs, "gone", 0, NULL, dead, NULL);
	assert_int_equal(store_save_envs(&st, &envs, &err), 0);

	assert_int_equal(snapshot_take(&st, &s, SNAPSHOT_ALL, &warnings, &err), 0);
	/* pids ascending, usage in NVML's order (device by device) */
	assert_int_equal(s.processes.nr, 3);
	assert_true(s.processes.v[0].pid < s.processes.v[1].pid);
	assert_true(s.processes.v[1].pid < s.processes.v[2].pid);
	{
		struct process *p = processes_find(&s.processes, child);

		assert_non_null(p);
		assert_string_equal(p->eid, "me");
		assert_int_equal(p->usage_nr, 2);
		assert_int_equal(p->usage[0].index, 0);
		assert_string_equal(p->usage[0].gpu_memory, "300mi");
		assert_int_equal(p->usage[1].index, 1);
		assert_string_equal(p->usage[1].gpu_memory, "200mi");
		p = processes_find(&s.processes, getpid());
		assert_non_null(p);
		assert_null(p->eid);
		assert_string_equal(p->usage[0].gpu_memory, "42mi");
	}
	assert_int_equal(warnings.nr, 1);
	strbuf_addf(&text, "[DEBUG] Process %ld already terminated", dead);
	assert_string_equal(warnings.v[0], text.buf);
	/* cleaned up but not saved */
	assert_int_equal(s.envs.nr, 1);
	assert_int_equal(s.devices.nr, 2);
	snapshot_release(&s);
	envs_release(&envs);
	assert_int_equal(store_load_envs(&st, &envs, 0, &err), 0);
	assert_int_equal(envs.nr, 2);
	assert_false(store_has(&st, "devices.json"));

	/* only devices: envs loaded internally for the cleanup */
	assert_int_equal(snapshot_take(&st, &s, SNAPSHOT_DEVICES, &warnings, &err), 0);
	assert_int_equal(s.processes.nr, 0);
	assert_int_equal(s.envs.nr, 0);
	assert_int_equal(s.devices.nr, 2);
	snapshot_release(&s);

	/* NVML failing fails a process snapshot */
	use_fake_gpus("init_error 9\n");
	assert_int_equal(snapshot_take(&st, &s, SNAPSHOT_PROCESSES, &warnings, &err), -1);
	assert_true(err.len > 0);

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	strvec_clear(&warnings);
	envs_release(&envs);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&conf);
	strbuf_release(&text);
}

/* ----- the procedures (store-ops.c) ----- */

/* The state file name as text ("" when missing). */
static void
state_text(const char *name, struct strbuf *out)
{
	struct store st = STORE_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;

	strbuf_reset(out);
	assert_int_equal(store_init(&st, &err), 0);
	state_file(&st, name, &path);
	if (!access(path.buf, F_OK))
		unit_read_text(path.buf, out);
	store_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
}

static void
attached(const char *eid, const char *want)
{
	struct strbuf list = STRBUF_INIT, err = STRBUF_INIT;

	assert_int_equal(store_attached_list(eid, &list, &err), 0);
	assert_string_equal(list.buf, want);
	strbuf_release(&list);
	strbuf_release(&err);
}

static void
user_procedures(void **state UNUSED)
{
	struct activation a = ACTIVATION_INIT;
	struct attach_request req = ATTACH_REQUEST_INIT;
	struct env_config config = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, indices = STRBUF_INIT, before = STRBUF_INIT,
		      after = STRBUF_INIT;

	if (use_fake_gpus(GPU(0, "aaaa", 16384) GPU(1, "bbbb", 16384) GPU(2, "cccc", 16384)) < 0)
		skip();
	attached("u", "");   /* no devices.json yet */
	a.eid = "u";
	a.pid = getpid();
	a.has_config = 1;
	a.name = "n";
	a.gpus = 1;
	assert_int_equal(store_activate(&a, &config, &indices, &err), 0);
	assert_string_equal(config.name, "n");
	assert_int_equal(config.gpus, 1);
	assert_string_equal(indices.buf, "0");
	env_config_release(&config);
	attached("u", "0");

	req.count = 2;
	assert_int_equal(store_attach("u", &req, &err), 0);
	attached("u", "0,1");

	/* an unknown environment: a clear error, nothing written */
	state_text("devices.json", &before);
	assert_int_equal(store_attach("ghost", &req, &err), -1);
	assert_string_equal(err.buf, "Environment 'ghost' is not registered "
			    "(run 'genv deactivate' and activate it again)");
	state_text("devices.json", &after);
	assert_string_equal(before.buf, after.buf);
	strbuf_reset(&err);
	assert_int_equal(store_env_config("ghost", &config, &err), -1);
	strbuf_reset(&err);

	assert_int_equal(store_detach("u", 5, &err), -1);
	assert_string_equal(err.buf, "Device 5 does not exist");
	strbuf_reset(&err);
	assert_int_equal(store_detach("u", 1, &err), 0);
	attached("u", "0");
	assert_int_equal(store_env_config("u", &config, &err), 0);
	assert_string_equal(config.name, "n");
	env_config_release(&config);
	assert_int_equal(store_detach("u", -1, &err), 0);
	attached("u", "");

	/* leaving: the environment goes, and so would its devices */
	assert_int_equal(store_attach("u", &req, &err), 0);
	assert_int_equal(store_deactivate_pid(getpid(), &err), 0);
	attached("u", "");
	state_text("envs.json", &after);
	assert_string_equal(after.buf, "{\n  \"envs\": []\n}");
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	strbuf_release(&indices);
	strbuf_release(&before);
	strbuf_release(&after);
}

static void
capture_config(const struct env_config *c, void *data)
{
	struct strbuf *out = data;

	strbuf_addf(out, "%s/%s/%ld", c->name ? c->name : "-",
		    c->gpu_memory ? c->gpu_memory : "-", c->has_gpus ? c->gpus : -1);
}

static void
configure_procedure(void **state)
{
	const char *dir = *state;
	struct activation a = ACTIVATION_INIT;
	struct configure_request r = CONFIGURE_REQUEST_INIT;
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, shown = STRBUF_INIT, project = STRBUF_INIT,
		      path = STRBUF_INIT, before = STRBUF_INIT;
	struct stat sb;
	ino_t ino;

	/* no NVML: nothing to attach */
	a.eid = "c";
	a.pid = getpid();
	assert_int_equal(store_activate(&a, NULL, NULL, &err), 0);
	strbuf_addf(&project, "%s/../project", dir);
	assert_int_equal(mkdir_p(project.buf, 0755, &err), 0);

	/* showing changes nothing on disk */
	state_file_stat("envs.json", &sb);
	ino = sb.st_ino;
	r.eid = "c";
	r.show = capture_config;
	r.show_data = &shown;
	assert_int_equal(store_configure(&r, &err), 0);
	assert_string_equal(shown.buf, "-/-/-1");
	state_file_stat("envs.json", &sb);
	assert_int_equal(sb.st_ino, ino);

	/* set a field, then save to the project directory */
	r.show = NULL;
	r.has_field = 1;
	r.field = ENV_CONFIG_GPUS;
	r.value = "2";
	r.gpus = 2;
	r.save = 1;
	r.project_dir = project.buf;
	assert_int_equal(store_configure(&r, &err), 0);
	assert_int_equal(store_env_config("c", &c, &err), 0);
	assert_true(c.has_gpus);
	assert_int_equal(c.gpus, 2);
	env_config_release(&c);
	strbuf_addf(&path, "%s/gpus", project.buf);
	unit_read_text(path.buf, &shown);
	assert_string_equal(shown.buf, "2");

	/* clear everything, then load it back from the project */
	r = (struct configure_request)CONFIGURE_REQUEST_INIT;
	r.eid = "c";
	r.clear = 1;
	assert_int_equal(store_configure(&r, &err), 0);
	assert_int_equal(store_env_config("c", &c, &err), 0);
	assert_false(c.has_gpus);
	r.clear = 0;
	r.load = 1;
	r.project_dir = project.buf;
	assert_int_equal(store_configure(&r, &err), 0);
	assert_int_equal(store_env_config("c", &c, &err), 0);
	assert_int_equal(c.gpus, 2);
	env_config_release(&c);

	/* an unknown environment: nothing written */
	state_text("envs.json", &before);
	r.eid = "ghost";
	assert_int_equal(store_configure(&r, &err), -1);
	assert_non_null(strstr(err.buf, "Environment 'ghost' is not registered"));
	state_text("envs.json", &shown);
	assert_string_equal(shown.buf, before.buf);

	assert_int_equal(store_deactivate_pid(getpid(), &err), 0);
	strbuf_release(&err);
	strbuf_release(&shown);
	strbuf_release(&project);
	strbuf_release(&path);
	strbuf_release(&before);
}

static void
admin_procedures(void **state UNUSED)
{
	struct env_registration reg = { "k", 1000, "user", 0, "kern-1" };
	struct admin_attach a = ADMIN_ATTACH_INIT;
	struct envs envs = ENVS_INIT;
	struct devices devs = DEVICES_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, text = STRBUF_INIT;

	if (use_fake_gpus(GPU(0, "aaaa", 16384) GPU(1, "bbbb", 16384)) < 0)
		skip();
	/* a query creates no envs.json; a devices query creates devices.json */
	assert_int_equal(store_admin_envs(STORE_CLEANUP, &envs, &err), 0);
	assert_int_equal(envs.nr, 0);
	state_text("envs.json", &text);
	assert_string_equal(text.buf, "");
	assert_int_equal(store_admin_devices(STORE_CLEANUP, &envs, &devs, &err), 0);
	assert_int_equal(devs.nr, 2);
	devices_release(&devs);
	state_text("devices.json", &text);
	assert_true(text.len > 0);

	/* a kernel keeps an environment alive only while its runtime file exists: not here */
	setenv("JUPYTER_RUNTIME_DIR", *state, 1);
	reg.uid = getuid();
	assert_int_equal(store_admin_activate(STORE_CLEANUP, &reg, &err), 0);
	assert_int_equal(store_admin_envs(0, &envs, &err), 0);
	assert_int_equal(envs.nr, 1);
	assert_string_equal(envs.v[0].username, "user");
	assert_string_equal(envs.v[0].kernel_ids.v[0], "kern-1");
	envs_release(&envs);
	reg.eid = "d";
	reg.kernel_id = NULL;
	reg.pid = getpid();
	assert_int_equal(store_admin_activate(0, &reg, &err), 0);
	assert_int_equal(store_admin_configure(0, "d", ENV_CONFIG_NAME, "dn", -1, &err), 0);
	assert_int_equal(store_admin_configure(0, "nobody", ENV_CONFIG_NAME, "x", -1, &err), 0);
	assert_int_equal(store_admin_envs(0, &envs, &err), 0);   /* --no-cleanup */
	assert_int_equal(envs.nr, 2);
	assert_string_equal(envs.v[1].config.name, "dn");
	envs_release(&envs);

	/* attach by count (the configured gpus by default) and by index */
	assert_int_equal(store_admin_configure(0, "d", ENV_CONFIG_GPUS, NULL, 2, &err), 0);
	a.eid = "d";
	assert_int_equal(store_admin_attach(0, &a, &out, &err), 0);
	assert_string_equal(out.buf, "0,1");
	a.has_count = 1;
	a.count = -1;
	assert_int_equal(store_admin_attach(0, &a, &out, &err), -1);
	assert_string_equal(err.buf, "Invalid device count -1");
	strbuf_reset(&err);
	a.has_count = 0;
	a.has_index = 1;
	a.index = 9;
	assert_int_equal(store_admin_attach(0, &a, &out, &err), -1);
	assert_string_equal(err.buf, "Device 9 does not exist");
	strbuf_reset(&err);

	/* detach: an index that is no device's is ignored */
	strbuf_reset(&out);
	assert_int_equal(store_admin_detach(0, "d", 0, 9, &out, &err), 0);
	assert_string_equal(out.buf, "0,1");
	strbuf_reset(&out);
	assert_int_equal(store_admin_detach(0, "d", 0, 0, &out, &err), 0);
	assert_string_equal(out.buf, "1");

	/* the kernel's environment is gone: cleanup drops its attachment */
	a.eid = "k";
	a.index = 0;
	assert_int_equal(store_admin_attach(0, &a, &out, &err), 0);
	assert_int_equal(store_admin_devices(0, &envs, &devs, &err), 0);
	assert_int_equal(envs.nr, 1);   /* envs.json is always cleaned here */
	assert_int_equal(devs.v[0].att_nr, 1);
	envs_release(&envs);
	devices_release(&devs);
	assert_int_equal(store_admin_devices(STORE_CLEANUP, &envs, &devs, &err), 0);
	assert_int_equal(devs.v[0].att_nr, 0);
	assert_int_equal(devs.v[1].att_nr, 1);
	envs_release(&envs);
	devices_release(&devs);
	assert_int_equal(store_admin_deactivate(STORE_CLEANUP, getpid(), &err), 0);
	assert_int_equal(store_admin_envs(STORE_CLEANUP | STORE_RESET, &envs, &err), 0);
	assert_int_equal(envs.nr, 0);
	state_text("envs.json", &text);
	assert_string_equal(text.buf, "{\n  \"envs\": []\n}");

	unsetenv("JUPYTER_RUNTIME_DIR");
	assert_int_equal(err.len, 0);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&text);
}

int
main(int argc UNUSED, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(modes_under_strict_umask, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(relative_dir_and_trailing_slash, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(lock_is_exclusive, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(lock_wait_is_bounded, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(planted_names, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(envs_load_save_cleanup, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(corrupt_files_untouched, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(failed_save_keeps_old_file, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(devices_without_nvml, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(devices_follow_nvml, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(snapshot_from_fake_nvml, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(user_procedures, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(configure_procedure, per_test_setup, per_test_teardown),
		cmocka_unit_test_setup_teardown(admin_procedures, per_test_setup, per_test_teardown),
	};
	char *self = realpath(argv[0], NULL);
	int rc;

	/* the fake NVML is built next to us: <build>/t/unit/x -> <build>/t/fake-nvml/ */
	if (self) {
		*strrchr(self, '/') = '\0';
		strbuf_addf(&fake_nvml, "%s/../fake-nvml/libnvidia-ml.so.1", self);
		if (access(fake_nvml.buf, R_OK))
			strbuf_reset(&fake_nvml);
		free(self);
	}
	if (unit_scratch_make(&top, "test-store") < 0)
		return 1;
	unsetenv("JUPYTER_RUNTIME_DIR");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_scratch_remove(&top);
	strbuf_release(&top);
	strbuf_release(&fake_nvml);
	return rc;
}
