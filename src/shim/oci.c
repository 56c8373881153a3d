/* SPDX-License-Identifier: MIT */
/*
 * oci.c: the genv container runtime and its prestart hook (oci.h).
 * Unlike 1.4.3: variables keep everything after their first '=', a
 * missing PATH gets the default one instead of an error, the real
 * runtime is exec'ed (its exit status is ours), the command word is
 * found past runc's global options (a container named "create" is not a
 * create), and the device locks of an environment the hook did not
 * activate or attach are mounted instead of failing.
 */
#include "compat.h"
#include "shim/oci.h"
#include "shim/shim.h"
#include "core/devices.h"
#include "core/device-locks.h"
#include "core/memory.h"
#include "core/store.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/proc.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- the process environment: a JSON array of "NAME=value" ---- */

static const char *
env_get(const json_t *env, const char *name)
{
	size_t i, len = strlen(name);
	json_t *item;
	const char *found = NULL;

	json_array_foreach(env, i, item) {
		const char *s = json_string_value(item);

		if (s && !strncmp(s, name, len) && s[len] == '=')
			found = s + len + 1;   /* the last one wins, as in execve */
	}
	return found;
}

static int
env_is(const json_t *env, const char *name, const char *value)
{
	const char *v = env_get(env, name);

	return v && !strcmp(v, value);
}

static void
env_set(json_t *env, const char *name, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, len = strlen(name);
	json_t *item;

	strbuf_addf(&sb, "%s=%s", name, value);
	json_array_foreach(env, i, item) {
		const char *s = json_string_value(item);

		if (s && !strncmp(s, name, len) && s[len] == '=') {
			json_array_set_new(env, i, json_string(sb.buf));
			strbuf_release(&sb);
			return;
		}
	}
	json_array_append_new(env, json_string(sb.buf));
	strbuf_release(&sb);
}

/* obj[key] as an array, created when missing; NULL if it is something else. */
static json_t *
array_member(json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);

	if (!json_is_object(obj))
		return NULL;
	if (!a) {
		a = json_array();
		json_object_set_new(obj, key, a);
	}
	return json_is_array(a) ? a : NULL;
}

/* What the runtime gives every container process (1.4.3's update_env). */
static int
edit_process(json_t *process, const char *id, const char *what, struct strbuf *err)
{
	json_t *env = json_is_object(process) ? array_member(process, "env") : NULL;
	const char *path;
	struct strbuf sb = STRBUF_INIT;

	if (!env) {
		strbuf_addf(err, "%s: no process environment to edit", what);
		return -1;
	}
	env_set(env, "GENV_CONTAINER", "1");
	if (!env_is(env, "GENV_ACTIVATE", "0") && !env_get(env, "GENV_ENVIRONMENT_ID"))
		env_set(env, "GENV_ENVIRONMENT_ID", id);
	if (!env_is(env, "GENV_MOUNT_SHIMS", "0")) {
		path = env_get(env, "PATH");
		if (!path || !starts_with(path, OCI_SHIMS_DIR ":")) {
			strbuf_addf(&sb, OCI_SHIMS_DIR ":%s", path ? path : DEFAULT_PATH);
			env_set(env, "PATH", sb.buf);
		}
	}
	strbuf_release(&sb);
	return 0;
}

/* ---- JSON files ---- */

static json_t *
load_json(const char *path, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	json_t *obj = NULL;

	if (!read_file_sb(&text, path, err))
		obj = json_parse(text.buf, text.len, path, err);
	strbuf_release(&text);
	if (obj && !json_is_object(obj)) {
		strbuf_addf(err, "%s: not a JSON object", path);
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}

static int
save_json(const char *path, const json_t *obj, struct strbuf *err)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	struct stat st;
	int rc;

	if (!text) {
		strbuf_addf(err, "%s: cannot serialise", path);
		return -1;
	}
	rc = write_file_atomic(path, text, strlen(text),
			       stat(path, &st) ? 0644 : (st.st_mode & 07777), err);
	free(text);
	return rc;
}

/* ---- the runtime ---- */

/* runc's global options that take a value (before the command word). */
static int
global_takes_value(const char *arg)
{
	static const char *const opts[] = { "--root", "--log", "--log-format", "--criu",
					    "--rootless" };

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (!strcmp(arg, opts[i]))
			return 1;
	return 0;
}

/* The position of the command word (create, exec, start, ...), or argc. */
static int
command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (global_takes_value(argv[i]))
			i++;
		else if (argv[i][0] != '-')
			return i;
	}
	return argc;
}

/* The value of --long/-short VALUE or --long=VALUE after argv[from]. */
static const char *
option_value(int argc, char **argv, int from, const char *lng, const char *shrt)
{
	size_t len = strlen(lng);

	for (int i = from; i < argc; i++) {
		if ((!strcmp(argv[i], lng) || !strcmp(argv[i], shrt)) && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], lng, len) && argv[i][len] == '=')
			return argv[i] + len + 1;
	}
	return NULL;
}

/* The hook: this executable under hook_argv0, with genv's variables. */
static json_t *
hook_entry(const char *hook_argv0)
{
	json_t *hook = json_object(), *env = json_array();
	char *exe = proc_self_exe();
	extern char **environ;

	json_object_set_new(hook, "path", json_string(exe ? exe : "/proc/self/exe"));
	json_object_set_new(hook, "args", json_pack("[s]", hook_argv0));
	/* the state directory and the driver, as the runtime's caller has them */
	for (char **e = environ; *e; e++)
		if (starts_with(*e, "GENV_") || starts_with(*e, "PATH="))
			json_array_append_new(env, json_string(*e));
	json_object_set_new(hook, "env", env);
	free(exe);
	return hook;
}

static int
prepare_create(int argc, char **argv, int cmd, const char *hook_argv0, struct strbuf *err)
{
	const char *bundle = option_value(argc, argv, cmd + 1, "--bundle", "-b");
	struct strbuf path = STRBUF_INIT;
	json_t *config, *hooks, *prestart;
	int rc = -1;

	strbuf_addf(&path, "%s/config.json", bundle ? bundle : ".");
	config = load_json(path.buf, err);
	if (!config || edit_process(json_object_get(config, "process"), argv[argc - 1],
				    path.buf, err) < 0)
		goto out;
	hooks = json_object_get(config, "hooks");
	if (!hooks) {
		hooks = json_object();
		json_object_set_new(config, "hooks", hooks);
	}
	prestart = json_is_object(hooks) ? array_member(hooks, "prestart") : NULL;
	if (!prestart) {
		strbuf_addf(err, "%s: hooks.prestart is not a list", path.buf);
		goto out;
	}
	json_array_append_new(prestart, hook_entry(hook_argv0));
	rc = save_json(path.buf, config, err);
out:
	json_decref(config);
	strbuf_release(&path);
	return rc;
}

int
oci_runtime_prepare(int argc, char **argv, const char *hook_argv0, struct strbuf *err)
{
	int cmd = command_index(argc, argv);
	const char *file;
	json_t *process;
	int rc;

	if (cmd >= argc - 1)
		return 0;   /* no command, or no container id after it */
	if (!strcmp(argv[cmd], "create"))
		return prepare_create(argc, argv, cmd, hook_argv0, err);
	if (strcmp(argv[cmd], "exec"))
		return 0;
	file = option_value(argc, argv, cmd + 1, "--process", "-p");
	if (!file)
		return 0;   /* the process is on the command line: nothing to edit */
	process = load_json(file, err);
	rc = process ? edit_process(process, argv[argc - 1], file, err) : -1;
	if (!rc)
		rc = save_json(file, process, err);
	json_decref(process);
	return rc;
}

int
oci_find_runtime(struct strbuf *found, struct strbuf *err)
{
	static const char *const names[] = { "nvidia-container-runtime", "runc", "crun" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!shim_find_real(names[i], "", found))
			return 0;
	strbuf_addstr(err, "Could not find a container runtime (nvidia-container-runtime, runc or crun) on PATH");
	return -1;
}

/* ---- the hook ---- */

void
oci_hook_result_release(struct oci_hook_result *r)
{
	strbuf_release(&r->eid);
	strbuf_release(&r->indices);
	strvec_clear(&r->mounts);
}

struct hook_ctx {
	json_t *config, *env;
	long pid;
	struct strbuf rootfs;
	const char *eid;
};

/* Registers the environment for the init pid and attaches its devices. */
static int
hook_activate(struct hook_ctx *h, struct oci_hook_result *r, struct strbuf *err)
{
	struct activation a = ACTIVATION_INIT;
	const char *gpus = env_get(h->env, "GENV_GPUS");
	unsigned long long bytes;
	char *end;

	a.eid = h->eid;
	a.pid = h->pid;
	a.has_config = 1;
	a.gpu_memory = env_get(h->env, "GENV_GPU_MEMORY");
	if (a.gpu_memory && !*a.gpu_memory)
		a.gpu_memory = NULL;
	if (a.gpu_memory && memory_to_bytes(a.gpu_memory, &bytes, err) < 0)
		return -1;
	if (gpus && *gpus) {
		errno = 0;
		a.gpus = strtol(gpus, &end, 10);
		if (errno || *end || a.gpus < 0) {
			strbuf_addf(err, "GENV_GPUS must be a count of devices, not '%s'", gpus);
			return -1;
		}
	}
	a.attach = !env_is(h->env, "GENV_ATTACH", "0");
	a.over_subscribe = env_is(h->env, "GENV_ALLOW_OVER_SUBSCRIPTION", "1");
	if (store_activate(&a, NULL, &r->indices, err) < 0)
		return -1;
	if (a.attach)
		env_set(h->env, "NVIDIA_VISIBLE_DEVICES", r->indices.buf);
	return 0;
}

/* The devices eid has now (an environment the hook did not activate). */
static int
hook_attached(const char *eid, struct strbuf *indices, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	int rc = -1;

	if (store_txn_begin(&t, 0, err) < 0)
		goto out;
	if (store_has(&t.st, "devices.json") &&
	    store_load_devices(&t.st, &t.devs, &t.envs, STORE_CLEANUP, err) < 0)
		goto out;
	devices_attached_list(&t.devs, eid, indices);
	rc = 0;
out:
	store_txn_release(&t);
	return rc;
}

static void
report_child_error(int fd, const char *what, const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "cannot %s '%s'", what, path);
	strbuf_add_errno(&sb, errno);
	(void)write_all(fd, sb.buf, sb.len);
	strbuf_release(&sb);
	_exit(1);
}

/* openat2(RESOLVE_IN_ROOT): path resolved as if root were "/" (symlinks too). */
static int
open_in_root(int root, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* mkdir -p of dir (relative to the rootfs) without leaving the rootfs. */
static int
mkdir_in_root(int root, const char *dir)
{
	struct strbuf prefix = STRBUF_INIT, comp = STRBUF_INIT;
	const char *p = dir;
	int rc = 0;

	while (!rc && *p) {
		size_t n = strcspn(p, "/");
		int parent = prefix.len ? open_in_root(root, prefix.buf, O_PATH | O_DIRECTORY)
					: dup(root);

		strbuf_reset(&comp);
		strbuf_add(&comp, p, n);
		/* an existing symlink is EEXIST here and resolved in the root next */
		if (parent < 0 || (mkdirat(parent, comp.buf, 0755) < 0 && errno != EEXIST))
			rc = -1;
		if (parent >= 0)
			close(parent);
		if (prefix.len)
			strbuf_addch(&prefix, '/');
		strbuf_addbuf(&prefix, &comp);
		p += n + (p[n] == '/');
	}
	strbuf_release(&prefix);
	strbuf_release(&comp);
	return rc;
}

/*
 * Creates rel (relative to the rootfs: "opt/genv/shims/nvidia-smi") and
 * its directories, never leaving the rootfs: the image may hold symlinks
 * (to /etc, say) that would lead to the host's files otherwise. The file
 * itself must not be a symlink. Returns an fd of it, or -1.
 */
static int
create_in_root(int root, const char *rel, mode_t mode)
{
	const char *slash = strrchr(rel, '/');
	struct strbuf dir = STRBUF_INIT;
	int parent, fd = -1;

	strbuf_add(&dir, rel, slash ? (size_t)(slash - rel) : 0);
	if (!mkdir_in_root(root, dir.buf)) {
		parent = dir.len ? open_in_root(root, dir.buf, O_PATH | O_DIRECTORY) : dup(root);
		if (parent >= 0) {
			fd = openat(parent, slash ? slash + 1 : rel,
				    O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
			close(parent);
		}
	}
	strbuf_release(&dir);
	return fd;
}

/*
 * In a child: enter the container's mount namespace and bind src on
 * rootfs/rel. runc calls prestart hooks before pivot_root, so the
 * namespace is still a copy of ours: src is at its host path there (a
 * mount of our namespace itself, through an fd, could not be bound into
 * another). The mount point is reached through an fd (/proc/self/fd/N),
 * so that no symlink of the image is followed.
 */
NORETURN static void
mount_child(long pid, const char *src, const char *rootfs, const char *rel, int readonly,
	    int msg_fd)
{
	struct strbuf ns = STRBUF_INIT, target = STRBUF_INIT;
	int fd, root;

	strbuf_addf(&ns, "/proc/%ld/ns/mnt", pid);
	fd = open(ns.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS) < 0)
		report_child_error(msg_fd, "enter the mount namespace of", ns.buf);
	root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		report_child_error(msg_fd, "open the root file system", rootfs);
	fd = create_in_root(root, rel, 0644);
	if (fd < 0)
		report_child_error(msg_fd, "create the mount point (inside the image)", rel);
	strbuf_addf(&target, "/proc/self/fd/%d", fd);
	if (mount(src, target.buf, NULL, MS_BIND, NULL) < 0)
		report_child_error(msg_fd, "bind-mount on", rel);
	if (readonly) {
		/* the fd is the file under the mount: look the path up again */
		close(fd);
		fd = open_in_root(root, rel, O_PATH);
		strbuf_reset(&target);
		strbuf_addf(&target, "/proc/self/fd/%d", fd);
		if (fd < 0 || mount(NULL, target.buf, NULL,
				    MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL) < 0)
			report_child_error(msg_fd, "make read-only", rel);
	}
	_exit(0);
}

static int
bind_into(struct hook_ctx *h, const char *src, const char *container_path, int readonly,
	  struct oci_hook_result *r, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	int p[2] = { -1, -1 }, status = 0, rc = -1;
	pid_t child = -1;

	if (access(src, F_OK) < 0 || pipe2(p, O_CLOEXEC) < 0 || (child = fork()) < 0) {
		strbuf_addf(err, "cannot mount '%s' into the container", src);
		strbuf_add_errno(err, errno);
		goto out;
	}
	if (!child)
		mount_child(h->pid, src, h->rootfs.buf, container_path + 1, readonly, p[1]);
	close(p[1]);
	p[1] = -1;
	for (char buf[256];;) {
		ssize_t got = read(p[0], buf, sizeof(buf));

		if (got > 0)
			strbuf_add(&msg, buf, (size_t)got);
		else if (!got || errno != EINTR)
			break;
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		strbuf_addstr(err, msg.len ? msg.buf : "mount helper failed");
		goto out;
	}
	strvec_push(&r->mounts, container_path);
	rc = 0;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	strbuf_release(&msg);
	return rc;
}

/* The nvidia-smi shim: the static container build when there is one. */
static int
shim_source(struct strbuf *out)
{
	char *exe = proc_self_exe();
	char *slash = exe ? strrchr(exe, '/') : NULL;
	struct strbuf cand = STRBUF_INIT;

	if (!slash) {
		free(exe);
		return -1;
	}
	*slash = '\0';
	strbuf_addf(&cand, "%s/../libexec/genv/container/nvidia-smi", exe);
	if (access(cand.buf, X_OK)) {
		strbuf_reset(&cand);
		strbuf_addf(&cand, "%s/genv", exe);
	}
	strbuf_addbuf(out, &cand);
	strbuf_release(&cand);
	free(exe);
	return 0;
}

static int
hook_mount_locks(struct hook_ctx *h, struct oci_hook_result *r, struct strbuf *err)
{
	const char *p = r->indices.buf;

	while (*p) {
		struct strbuf lock = STRBUF_INIT, in = STRBUF_INIT;
		long index = strtol(p, (char **)&p, 10);
		int rc = device_lock_file(index, &lock, err);

		strbuf_addf(&in, OCI_LOCKS_DIR "/%ld.lock", index);
		if (!rc)
			rc = bind_into(h, lock.buf, in.buf, 0, r, err);
		strbuf_release(&lock);
		strbuf_release(&in);
		if (rc < 0)
			return -1;
		p += *p == ',';
	}
	return 0;
}

static int
hook_context(struct hook_ctx *h, const char *state, size_t len, struct strbuf *config_path,
	     struct strbuf *err)
{
	json_t *s = json_parse(state, len, "the OCI state", err), *pid, *root;
	const char *bundle, *rootfs;
	int rc = -1;

	if (!s)
		return -1;
	pid = json_object_get(s, "pid");
	bundle = json_string_value(json_object_get(s, "bundle"));
	if (!json_is_integer(pid) || json_integer_value(pid) <= 0) {
		strbuf_addstr(err, "the OCI state has no container pid");
		goto out;
	}
	h->pid = (long)json_integer_value(pid);
	strbuf_addf(config_path, "%s/config.json", bundle && *bundle ? bundle : ".");
	h->config = load_json(config_path->buf, err);
	if (!h->config)
		goto out;
	h->env = array_member(json_object_get(h->config, "process"), "env");
	root = json_object_get(h->config, "root");
	rootfs = json_string_value(json_object_get(root, "path"));
	if (!h->env || !rootfs) {
		strbuf_addf(err, "%s: no process environment or root path", config_path->buf);
		goto out;
	}
	if (rootfs[0] != '/')
		strbuf_addf(&h->rootfs, "%s/", bundle && *bundle ? bundle : ".");
	strbuf_addstr(&h->rootfs, rootfs);
	h->eid = env_get(h->env, "GENV_ENVIRONMENT_ID");
	rc = 0;
out:
	json_decref(s);
	return rc;
}

int
oci_hook_run(const char *state, size_t len, struct oci_hook_result *r, struct strbuf *err)
{
	struct hook_ctx h = { NULL, NULL, 0, STRBUF_INIT, NULL };
	struct strbuf config_path = STRBUF_INIT, shim = STRBUF_INIT;
	int rc = -1, activated = 0;

	if (hook_context(&h, state, len, &config_path, err) < 0)
		goto out;
	if (h.eid && *h.eid) {
		strbuf_addstr(&r->eid, h.eid);
		if (!env_is(h.env, "GENV_ACTIVATE", "0")) {
			if (hook_activate(&h, r, err) < 0)
				goto out;
			activated = 1;
		} else if (hook_attached(h.eid, &r->indices, err) < 0) {
			goto out;
		}
	}
	if (!env_is(h.env, "GENV_MOUNT_SHIMS", "0") &&
	    (shim_source(&shim) < 0 ||
	     bind_into(&h, shim.buf, OCI_SHIMS_DIR "/nvidia-smi", 1, r, err) < 0))
		goto out;
	if (!env_is(h.env, "GENV_MOUNT_DEVICE_LOCKS", "0") && hook_mount_locks(&h, r, err) < 0)
		goto out;
	rc = save_json(config_path.buf, h.config, err);
out:
	if (rc < 0 && activated) {
		struct strbuf ignored = STRBUF_INIT;

		/* the container will not start: do not keep its devices meanwhile */
		store_deactivate_pid(h.pid, &ignored);
		strbuf_release(&ignored);
	}
	json_decref(h.config);
	strbuf_release(&h.rootfs);
	strbuf_release(&config_path);
	strbuf_release(&shim);
	return rc;
}
