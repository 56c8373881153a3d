/* SPDX-License-Identifier: MIT */
/*
 * store.c: the shared state directory (store.h): where it is, the global
 * lock, loading with cleanup, atomic saves with world-writable modes, and
 * keeping devices.json in step with the GPUs NVML reports.
 *
 * Besides 1.4.3's files we keep devices.uuids (a JSON list of the GPU
 * UUIDs devices.json was last saved against, by index; Python genv ignores
 * it) so that when another GPU now sits at an index, the attachments made
 * to the old one are dropped instead of silently moving to the new one.
 */
#include "compat.h"
#include "core/store.h"
#include "core/devices.h"
#include "core/envs.h"
#include "core/protect.h"
#include "core/slurm.h"
#include "core/state.h"
#include "core/state-check.h"
#include "core/state-json.h"
#include "gpu/gpu.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/lockfile.h"
#include "util/passwd.h"
#include "util/priv.h"
#include "util/proc.h"
#include "util/quote.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_DEFAULT_DIR "/var/tmp/genv"
#define UUIDS_FILE "devices.uuids"
#define LOCK_TIMEOUT_MS 10000   /* default of $GENV_LOCK_TIMEOUT */
#define ENVS_PER_USER 256       /* default of max_envs_per_user (doc/security.md) */
#define TORN_RETRY_MS 1000      /* how long a lockless reader retries a torn file */

/*
 * 1.4.3's shared layout: everyone writes everything. The protected state
 * is the group's alone (doc/security.md); each access to it is made with
 * the group privilege raised, and only those.
 */
mode_t
store_file_mode(void)
{
	return protect_active() ? 0660 : 0666;
}

mode_t
store_dir_mode(void)
{
	return protect_active() ? 02770 : 0777;
}

/*
 * A directory of ours, not a link another user planted in a shared state
 * dir: name in the directory open at at (path names it). Its mode is set
 * through its descriptor, which is returned (issue 8: no chmod through a
 * name another user can swap).
 */
static int
make_real_dir(int at, const char *name, const char *path, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int fd;

	priv_raise();
	fd = mkdir_nofollow_at(at, name, path, store_dir_mode(), &why);
	priv_lower();
	if (fd < 0)
		strbuf_addf(err, "'%s' is not a directory genv can use for the job's state (%s)",
			    path, why.buf);
	strbuf_release(&why);
	return fd;
}

/*
 * A directory a user makes is that user's to open to all, so in the
 * protected mode only root (the shipped Slurm prolog) makes a job's.
 */
static int
protected_job_dir(const char *path, const struct stat *sb, struct strbuf *err)
{
	if (!sb) {
		strbuf_addf(err, "the Slurm job's state directory '%s' does not exist: "
			    "in a protected install the Slurm prolog (libexec/genv/slurm-prolog) makes it",
			    path);
		return -1;
	}
	if (!S_ISDIR(sb->st_mode) || sb->st_uid || (sb->st_mode & 07)) {
		strbuf_addf(err, "the Slurm job's state directory '%s' is not root's, closed to others",
			    path);
		return -1;
	}
	return 0;
}

/*
 * Job mode (slurm.h): the state is <dir>/slurm/job-<id>. Making it is the
 * job's first command: the cold path, where the state of jobs that no
 * longer exist is swept. The job's GPUs are decided once it exists (they
 * may be kept there).
 */
static int
job_dir_init(struct store *st, struct strbuf *err)
{
	struct strbuf base = STRBUF_INIT;
	const char *id = slurm_job_id(err);
	struct stat sb;
	int failed, fresh, slurm = -1, fd = -1, rc = -1;

	if (!id)
		return -1;
	strbuf_addbuf(&base, &st->dir);
	strbuf_reset(&st->dir);
	slurm_job_dir(base.buf, id, &st->dir);
	slurm_set_job_dir(st->dir.buf, store_file_mode());
	priv_raise();
	fresh = lstat(st->dir.buf, &sb) < 0;
	priv_lower();
	if (protect_active() && getuid()) {
		rc = protected_job_dir(st->dir.buf, fresh ? NULL : &sb, err);
		goto out;
	}
	if (!fresh) {
		if (!S_ISDIR(sb.st_mode))
			fd = make_real_dir(AT_FDCWD, st->dir.buf, st->dir.buf, err);
		rc = S_ISDIR(sb.st_mode) || fd >= 0 ? 0 : -1;
		goto out;
	}
	strbuf_addstr(&base, "/slurm");
	/* the job's directory is made in the slurm/ we made or checked: no link between */
	slurm = make_real_dir(AT_FDCWD, base.buf, base.buf, err);
	if (slurm < 0 ||
	    (fd = make_real_dir(slurm, strrchr(st->dir.buf, '/') + 1, st->dir.buf, err)) < 0)
		goto out;
	strbuf_setlen(&base, base.len - strlen("/slurm"));
	slurm_sweep_jobs(base.buf);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (slurm >= 0)
		close(slurm);
	strbuf_release(&base);
	if (!rc && !slurm_job(&failed, err))
		rc = -1;
	return rc;
}

int
store_locate(struct store *st, struct strbuf *err)
{
	const char *dir;
	int protected = protect_state_dir(&dir, err);

	if (protected < 0)
		return -1;
	if (!dir)
		dir = getenv("GENV_TMPDIR");
	strbuf_reset(&st->dir);
	strbuf_addstr(&st->dir, dir && *dir ? dir : STORE_DEFAULT_DIR);
	while (st->dir.len > 1 && st->dir.buf[st->dir.len - 1] == '/')
		strbuf_setlen(&st->dir, st->dir.len - 1);
	return protected;
}

int
store_init(struct store *st, struct strbuf *err)
{
	int protected = store_locate(st, err);

	if (protected < 0)
		return -1;
	/* the protected directory is made by make install, checked by protect_state_dir() */
	if (!protected &&
	    mkdir_p(st->dir.buf, store_dir_mode(), err) < 0) {
		strbuf_addstr(err, " (the genv state directory; set GENV_TMPDIR to use another)");
		return -1;
	}
	return slurm_in_job() ? job_dir_init(st, err) : 0;
}

void
store_path(const struct store *st, const char *name, struct strbuf *out)
{
	strbuf_addbuf(out, &st->dir);
	strbuf_addch(out, '/');
	strbuf_addstr(out, name);
}

int
store_has(const struct store *st, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	int rc;

	/* a link there exists too: loading it will refuse it */
	store_path(st, name, &path);
	priv_raise();
	rc = !lstat(path.buf, &sb);
	priv_lower();
	strbuf_release(&path);
	return rc;
}

/* ----- who may change what (doc/security.md): identity is the real uid ----- */

/* "alice (uid 1000)", or "uid 1000" without a passwd entry. */
static void
add_owner(struct strbuf *sb, long long uid)
{
	struct strbuf name = STRBUF_INIT;

	if (!passwd_lookup(uid, &name, NULL))
		strbuf_addf(sb, "%s (uid %lld)", name.buf, uid);
	else
		strbuf_addf(sb, "uid %lld", uid);
	strbuf_release(&name);
}

int
store_may_change(const struct envs *envs, const char *eid, struct strbuf *err)
{
	const struct env *e = envs_find(envs, eid);

	if (!getuid() || !e || e->uid == (long long)getuid())
		return 0;
	/* eid may be another user's, from the state */
	strbuf_addstr(err, "environment '");
	quote_display(err, eid);
	strbuf_addstr(err, "' belongs to ");
	add_owner(err, e->uid);
	strbuf_addstr(err, ": only its owner or root may change it");
	return -1;
}

int
store_may_remove_pid(const struct envs *envs, long pid, struct strbuf *err)
{
	for (size_t i = 0; i < envs->nr; i++)
		for (size_t j = 0; j < envs->v[i].pids_nr; j++)
			if (envs->v[i].pids[j] == pid &&
			    store_may_change(envs, envs->v[i].eid, err) < 0)
				return -1;
	return 0;
}

/*
 * How many environments one uid may have, 0 for no limit: genv.conf's
 * max_envs_per_user, else the default. $GENV_MAX_ENVS_PER_USER replaces
 * it, but in the protected mode only to lower it: it is the caller's.
 */
static int
envs_per_user_limit(long long *limit, struct strbuf *err)
{
	const char *v = getenv("GENV_MAX_ENVS_PER_USER");
	long long n;
	char *end;

	*limit = protect_max_envs_per_user();
	if (*limit < 0)
		*limit = ENVS_PER_USER;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || *v < '0' || *v > '9') {
		strbuf_addf(err, "GENV_MAX_ENVS_PER_USER is '%s', not a number of environments", v);
		return -1;
	}
	if (!protect_active() || (n && (!*limit || n < *limit)))
		*limit = n;
	return 0;
}

/*
 * One user must not fill the state (and its size cap) for everybody: a
 * new environment of uid's must fit under the per-user limit. One pass
 * over the loaded environments, on creation only.
 */
static int
may_create(const struct envs *envs, long long uid, struct strbuf *err)
{
	long long limit, n = 0;

	if (envs_per_user_limit(&limit, err) < 0)
		return -1;
	if (!limit)
		return 0;
	for (size_t i = 0; i < envs->nr; i++)
		n += envs->v[i].uid == uid;
	if (n < limit)
		return 0;
	strbuf_addstr(err, "user ");
	add_owner(err, uid);
	strbuf_addf(err, " already has %lld environments (the limit per user is %lld): "
		    "end one of them first ('genv envs' lists them)", n, limit);
	return -1;
}

int
store_may_register(const struct envs *envs, const char *eid, long long uid,
		   const char *username, long pid, struct strbuf *err)
{
	long long owner;

	if (!getuid())
		return 0;
	if (uid != (long long)getuid()) {
		strbuf_addf(err, "only root may register an environment for another uid (%lld)", uid);
		return -1;
	}
	if (username && (!genv_username() || strcmp(username, genv_username()))) {
		strbuf_addstr(err, "only root may register an environment under another user name");
		return -1;
	}
	if (pid && (proc_real_uid(pid, &owner) < 0 || owner != uid)) {
		strbuf_addf(err, "process %ld is not yours: only root may add another user's process to an environment",
			    pid);
		return -1;
	}
	if (!envs_find(envs, eid))
		return may_create(envs, uid, err);
	return store_may_change(envs, eid, err);
}

/* How long store_lock() waits: $GENV_LOCK_TIMEOUT seconds, or the default. */
static int
lock_timeout_ms(long *ms, struct strbuf *err)
{
	const char *v = getenv("GENV_LOCK_TIMEOUT");
	char *end;
	double s;

	*ms = LOCK_TIMEOUT_MS;
	if (!v || !*v)
		return 0;
	errno = 0;
	s = strtod(v, &end);
	/* !(s >= 0) is also true for NaN; a year is plenty */
	if (errno || end == v || *end || !(s >= 0) || s > 365 * 86400.0) {
		strbuf_addf(err, "GENV_LOCK_TIMEOUT is '%s', not a number of seconds", v);
		return -1;
	}
	*ms = (long)(s * 1000 + 0.5);
	return 0;
}

int
store_lock(struct store *st, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	long ms;

	if (st->lock_fd >= 0)
		return 0;
	if (lock_timeout_ms(&ms, err) < 0)
		return -1;
	store_path(st, "genv.lock", &path);
	priv_raise();
	st->lock_fd = lockfile_lock(path.buf, store_file_mode(), ms, err);
	priv_lower();
	if (st->lock_fd < 0 && errno == EWOULDBLOCK)
		strbuf_addstr(err, " (GENV_LOCK_TIMEOUT sets how long to wait)");
	strbuf_release(&path);
	return st->lock_fd < 0 ? -1 : 0;
}

int
store_trylock(struct store *st)
{
	struct strbuf path = STRBUF_INIT, ignored = STRBUF_INIT;

	if (st->lock_fd < 0) {
		store_path(st, "genv.lock", &path);
		priv_raise();
		st->lock_fd = lockfile_lock(path.buf, store_file_mode(), 0, &ignored);
		priv_lower();
	}
	strbuf_release(&path);
	strbuf_release(&ignored);
	return st->lock_fd >= 0;
}

void
store_unlock(struct store *st)
{
	lockfile_unlock(st->lock_fd);
	st->lock_fd = -1;
}

void
store_release(struct store *st)
{
	store_unlock(st);
	strbuf_release(&st->dir);
}

/*
 * Rewrites path in place, as 1.4.3 does, when the shared directory refuses
 * the rename (a sticky directory, or one we may not write, holding a file
 * we may): only a regular file with no other name, opened without
 * following a link, so that nothing but the state file itself is written.
 */
static int
rewrite_in_place(const char *path, const struct strbuf *data)
{
	struct strbuf ignored = STRBUF_INIT;
	int fd = open_nofollow(path, O_WRONLY, 0, "state file", &ignored);
	struct stat sb;
	int rc = -1;

	strbuf_release(&ignored);
	if (fd < 0)
		return -1;
	if (!fstat(fd, &sb) && sb.st_nlink == 1 && !ftruncate(fd, 0) &&
	    !write_all(fd, data->buf, data->len))
		rc = 0;
	close(fd);
	return rc;
}

/* Atomic replacement, or (shared state only, see above) a careful rewrite in place. */
static int
save_file(const char *path, const struct strbuf *data, struct strbuf *err)
{
	size_t err_len = err->len;
	int rc;

	/* what could not be loaded again is not written */
	if (data->len > STATE_FILE_MAX) {
		strbuf_addstr(err, "refusing to write ");
		return state_check_file_size(path, data->len, err);
	}
	priv_raise();
	rc = write_file_atomic(path, data->buf, data->len, store_file_mode(), err);
	priv_lower();
	if (!rc)
		return 0;
	if ((errno != EACCES && errno != EPERM) || protect_active() ||
	    rewrite_in_place(path, data) < 0)
		return -1;
	strbuf_setlen(err, err_len);
	return 0;
}

/*
 * Reads path (which) into sb, never through a link or from a FIFO;
 * *missing is set when it does not exist. A file over the size cap is
 * refused before it is read.
 */
static int
read_state_file(const char *path, enum state_file which, struct strbuf *sb,
		int *missing, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	struct stat st;
	int fd, stat_ok, rc = -1, saved;

	*missing = 0;
	priv_raise();
	fd = open_nofollow(path, O_RDONLY, 0, "state file", &why);
	priv_lower();
	if (fd < 0) {
		*missing = errno == ENOENT;
		if (!*missing)
			strbuf_addbuf(err, &why);
		strbuf_release(&why);
		return *missing ? 0 : -1;
	}
	stat_ok = !fstat(fd, &st);
	if (stat_ok && state_check_file_size(path, (unsigned long long)st.st_size, err) < 0) {
		state_add_repair_hint(which, path, err);
	} else if (!stat_ok || read_fd_sb(sb, fd) < 0) {
		saved = errno;
		strbuf_addf(err, "cannot read '%s'", path);
		strbuf_add_errno(err, saved);
	} else {
		rc = 0;
	}
	close(fd);
	return rc;
}

/* envs_parse() or devices_parse() */
typedef int (*state_parser)(void *obj, const char *text, size_t len,
			    const char *path, struct strbuf *err);

static int
parse_envs_file(void *obj, const char *text, size_t len, const char *path,
		struct strbuf *err)
{
	return envs_parse(obj, text, len, path, err);
}

static int
parse_devices_file(void *obj, const char *text, size_t len, const char *path,
		   struct strbuf *err)
{
	return devices_parse(obj, text, len, path, err);
}

/*
 * Reads the state file which into text and parses it into obj (*missing,
 * and nothing parsed, when there is none). Readers take no lock, and
 * genv 1.4.3 rewrites a file in place while it holds the lock (we rename
 * whole files): without the lock, a file that does not parse may be torn.
 * It is then read again: at once under the lock if that is free (the
 * answer stands), else after a short wait, for up to TORN_RETRY_MS.
 */
static int
load_state_file(struct store *st, enum state_file which, state_parser parse, void *obj,
		struct strbuf *text, int *missing, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	int64_t deadline = clock_monotonic_ms() + TORN_RETRY_MS, delay = 5;
	int locked_here = 0, rc;

	store_path(st, which == STATE_FILE_ENVS ? "envs.json" : "devices.json", &path);
	for (;;) {
		strbuf_reset(text);
		strbuf_reset(&why);
		rc = read_state_file(path.buf, which, text, missing, &why);
		if (rc < 0 || *missing)
			break;
		if (!parse(obj, text->buf, text->len, path.buf, &why))
			break;
		rc = -1;
		if (st->lock_fd >= 0 || clock_monotonic_ms() >= deadline) {
			state_add_repair_hint(which, path.buf, &why);
			break;
		}
		if (store_trylock(st)) {
			locked_here = 1;
			continue;
		}
		clock_sleep_ms(delay);
		if (delay < 100)
			delay *= 2;
	}
	if (locked_here)
		store_unlock(st);
	strbuf_addbuf(err, &why);
	strbuf_release(&path);
	strbuf_release(&why);
	return rc;
}

/* What cleanup can only shrink: envs, their pids and their kernels. */
static size_t
envs_weight(const struct envs *envs)
{
	size_t n = envs->nr;

	for (size_t i = 0; i < envs->nr; i++)
		n += envs->v[i].pids_nr + envs->v[i].kernel_ids.nr;
	return n;
}

/*
 * 1 if text (already parsed successfully) holds a legacy dict form
 * ({"envs": {...}} / {"devices": {...}}), which is converted on load and
 * must then be written back in the current form.
 */
static int
is_legacy_form(const char *text)
{
	const char *colon = strchr(text, ':');

	if (!colon)
		return 0;
	colon++;
	colon += strspn(colon, " \t\r\n");
	return *colon == '{';
}

static size_t
attachments_count(const struct devices *devs)
{
	size_t n = 0;

	for (size_t i = 0; i < devs->nr; i++)
		n += devs->v[i].att_nr;
	return n;
}

int
store_load_envs(struct store *st, struct envs *envs, unsigned flags,
		struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int missing = 1, rc = -1;

	if (!(flags & STORE_RESET) &&
	    load_state_file(st, STATE_FILE_ENVS, parse_envs_file, envs, &text, &missing, err) < 0)
		goto out;
	if (!missing && is_legacy_form(text.buf))
		st->changed |= STORE_CHANGED_ENVS;
	if (flags & STORE_CLEANUP) {
		size_t before = envs_weight(envs);

		envs_cleanup(envs);
		if (envs_weight(envs) != before)
			st->changed |= STORE_CHANGED_ENVS;
	}
	rc = 0;
out:
	strbuf_release(&text);
	return rc;
}

int
store_save_envs(struct store *st, const struct envs *envs, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int rc;

	store_path(st, "envs.json", &path);
	envs_serialize(envs, &text);
	rc = save_file(path.buf, &text, err);
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

/* ----- the GPU inventory: asked from NVML once per process ----- */

static struct {
	int tried, ok;
	struct gpu_devices gpus;
	struct strbuf err;
} inventory = { 0, 0, GPU_DEVICES_INIT, STRBUF_INIT };

static void
inventory_release(void)
{
	gpu_devices_release(&inventory.gpus);
	strbuf_release(&inventory.err);
	inventory.tried = inventory.ok = 0;
}

void
store_forget_gpus(void)
{
	inventory_release();
	gpu_close();
}

/* Job mode: only the job's GPUs (slurm_keep_job_gpus()). */
static int
keep_job_gpus(struct gpu_devices *gpus, struct strbuf *err)
{
	const struct slurm_job *job;
	int failed;

	job = slurm_job(&failed, err);
	if (!job)
		return failed ? -1 : 0;
	return slurm_keep_job_gpus(job, gpus, err);
}

static const struct gpu_devices *
gpu_inventory(void)
{
	static int atexit_registered;

	if (!inventory.tried) {
		inventory.tried = 1;
		if (!atexit_registered) {
			atexit(inventory_release);
			atexit_registered = 1;
		}
		inventory.ok = !gpu_open(&inventory.err) &&
			       !gpu_list_devices(&inventory.gpus, &inventory.err) &&
			       !keep_job_gpus(&inventory.gpus, &inventory.err);
		if (!inventory.ok)
			gpu_devices_release(&inventory.gpus);
	}
	return inventory.ok ? &inventory.gpus : NULL;
}

int
store_device_position(unsigned nvml_index, long *pos)
{
	const struct gpu_devices *gpus;

	if (!slurm_in_job()) {
		*pos = (long)nvml_index;
		return 0;
	}
	gpus = gpu_inventory();
	for (size_t i = 0; gpus && i < gpus->nr; i++) {
		if (gpus->v[i].index == nvml_index) {
			*pos = (long)i;
			return 0;
		}
	}
	return -1;
}

static void
total_memory_string(struct strbuf *out, const struct gpu_device *g)
{
	strbuf_addf(out, "%llumi", g->mem_total >> 20);
}

/* The UUIDs devices.json was last saved against; empty when unknown or unreadable. */
static void
read_saved_uuids(struct store *st, struct strvec *uuids)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ignored = STRBUF_INIT;
	json_t *list;
	size_t i;
	json_t *item;
	int rc;

	store_path(st, UUIDS_FILE, &path);
	priv_raise();
	rc = read_file_nofollow(&text, path.buf, "state file", &ignored);
	priv_lower();
	if (rc < 0)
		goto out;
	list = json_loadb(text.buf, text.len, 0, NULL);
	if (json_is_array(list)) {
		json_array_foreach(list, i, item) {
			if (!json_is_string(item)) {
				strvec_clear(uuids);
				break;
			}
			strvec_push(uuids, json_string_value(item));
		}
	}
	json_decref(list);
out:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ignored);
}

/* Best effort: the sidecar only refines what devices.json already says. */
static void
save_uuids(struct store *st, const struct gpu_devices *gpus)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, old = STRBUF_INIT;
	struct strbuf ignored = STRBUF_INIT;
	struct strvec saved = STRVEC_INIT;
	json_t *list = json_array();

	read_saved_uuids(st, &saved);
	for (size_t i = 0; i < gpus->nr; i++) {
		const char *uuid = gpus->v[i].uuid;

		/* a GPU this step cannot see keeps the UUID another command saw */
		if (!uuid)
			uuid = i < saved.nr ? saved.v[i] : "";
		json_array_append_new(list, json_string(uuid));
	}
	strvec_clear(&saved);
	json_dump_py(&text, list, JSON_STYLE_INDENT2);
	json_decref(list);
	store_path(st, UUIDS_FILE, &path);
	priv_raise();
	if (read_file_nofollow(&old, path.buf, "state file", &ignored) < 0 ||
	    strcmp(old.buf, text.buf))
		save_file(path.buf, &text, &ignored);
	priv_lower();
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&old);
	strbuf_release(&ignored);
}

static void
device_drop_attachments(struct device *d)
{
	for (size_t i = 0; i < d->att_nr; i++) {
		free(d->att[i].eid);
		free(d->att[i].gpu_memory);
		free(d->att[i].time);
	}
	d->att_nr = 0;
}

enum reconcile_result {
	RECONCILE_SIDECAR_STALE = 1 << 0,  /* devices.uuids does not list these GPUs */
	RECONCILE_SWAPPED       = 1 << 1,  /* attachments of a replaced GPU dropped */
	RECONCILE_CHANGED       = 1 << 2,  /* devices added, removed or resized */
};

/*
 * Positions are device indices, as 1.4.3 assumes. Returns what the caller
 * must record (enum reconcile_result).
 */
static unsigned
reconcile(struct store *st, struct devices *devs, const struct gpu_devices *gpus)
{
	struct strvec saved = STRVEC_INIT;
	struct strbuf total = STRBUF_INIT;
	unsigned result = 0;

	read_saved_uuids(st, &saved);
	if (saved.nr != gpus->nr)
		result |= RECONCILE_SIDECAR_STALE;
	for (size_t i = 0; i < gpus->nr; i++) {
		const struct gpu_device *g = &gpus->v[i];
		struct device *d;

		strbuf_reset(&total);
		total_memory_string(&total, g);
		if (i >= devs->nr) {
			devices_append(devs, (long)i, total.buf);
			result |= RECONCILE_CHANGED;
			continue;
		}
		d = &devs->v[i];
		if (d->index != (long)i)
			result |= RECONCILE_CHANGED;
		d->index = (long)i;
		if (!g->uuid)
			continue;  /* a job's GPU this step cannot see: as the state says */
		if (!d->total_memory || strcmp(d->total_memory, total.buf)) {
			result |= RECONCILE_CHANGED;
			free(d->total_memory);
			d->total_memory = xstrdup(total.buf);
		}
		/* another GPU now sits here: what was attached was attached to the old one */
		if (i < saved.nr && *saved.v[i] && strcmp(saved.v[i], g->uuid)) {
			device_drop_attachments(d);
			result |= RECONCILE_SIDECAR_STALE | RECONCILE_SWAPPED;
		}
	}
	while (devs->nr > gpus->nr) {
		device_release(&devs->v[--devs->nr]);
		result |= RECONCILE_CHANGED;
	}
	strvec_clear(&saved);
	strbuf_release(&total);
	return result;
}

int
store_load_devices(struct store *st, struct devices *devs,
		   const struct envs *live_envs, unsigned flags,
		   struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	const struct gpu_devices *gpus;
	unsigned reconciled = 0;
	int missing = 1, rc = -1;

	if (!(flags & STORE_RESET) &&
	    load_state_file(st, STATE_FILE_DEVICES, parse_devices_file, devs, &text, &missing,
			    err) < 0)
		goto out;
	if (!missing && is_legacy_form(text.buf))
		st->changed |= STORE_CHANGED_DEVICES;
	gpus = gpu_inventory();
	if (gpus) {
		reconciled = reconcile(st, devs, gpus);
	} else if (missing) {
		strbuf_addbuf(err, &inventory.err);
		goto out;
	}
	/*
	 * Record a GPU change now, even for read-only commands (whose cleanup
	 * is not saved): once the sidecar names the new GPU, the dropped
	 * attachments could no longer be told apart. Without a swap, only
	 * the sidecar is written (e.g. after a genv without one wrote
	 * devices.json), so devices.json stays as it was.
	 */
	if (reconciled & (RECONCILE_CHANGED | RECONCILE_SWAPPED))
		st->changed |= STORE_CHANGED_DEVICES;
	if (st->lock_fd >= 0 && (reconciled & RECONCILE_SWAPPED)) {
		if (store_save_devices(st, devs, err) < 0) {
			devices_release(devs);
			goto out;
		}
	} else if (reconciled & RECONCILE_SIDECAR_STALE) {
		if (st->lock_fd >= 0)
			save_uuids(st, gpus);
		else
			st->changed |= STORE_CHANGED_UUIDS;
	}
	if (flags & STORE_CLEANUP) {
		struct envs envs = ENVS_INIT;
		size_t before;

		if (!live_envs) {
			if (store_load_envs(st, &envs, STORE_CLEANUP, err) < 0) {
				devices_release(devs);
				goto out;
			}
			live_envs = &envs;
		}
		before = attachments_count(devs);
		devices_cleanup(devs, live_envs);
		if (attachments_count(devs) != before)
			st->changed |= STORE_CHANGED_DEVICES;
		envs_release(&envs);
	}
	rc = 0;
out:
	strbuf_release(&text);
	return rc;
}

int
store_read_devices(struct store *st, struct devices *devs, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int missing, rc;

	rc = load_state_file(st, STATE_FILE_DEVICES, parse_devices_file, devs, &text, &missing,
			     err);
	strbuf_release(&text);
	return rc;
}

/* One device of the job, by its position (its index in the job's state). */
static void
add_job_device(struct strbuf *out, const struct strvec *uuids, long local,
	       const struct slurm_job *job)
{
	if (local >= 0 && (size_t)local < uuids->nr && *uuids->v[local])
		strbuf_addstr(out, uuids->v[local]);
	else if (local >= 0 && (size_t)local < job->gpus_nr)
		strbuf_addf(out, "%ld", job->gpus[local]);
	else
		strbuf_addf(out, "%ld", local);
}

int
store_describe_job(struct strbuf *out, struct strbuf *err)
{
	struct store st = STORE_INIT;
	const struct slurm_job *job;
	int failed;

	/* first the state directory, where the job's GPUs may be kept */
	if (!slurm_in_job())
		return 0;
	if (store_init(&st, err) < 0 || !(job = slurm_job(&failed, err))) {
		store_release(&st);
		return -1;
	}
	strbuf_addf(out, "Slurm job %s: ", job->id);
	if (!job->gpus_nr)
		strbuf_addstr(out, "no GPUs");
	for (size_t i = 0; i < job->gpus_nr; i++)
		strbuf_addf(out, "%sdevice %zu = node GPU %ld", i ? ", " : "", i, job->gpus[i]);
	strbuf_addf(out, " (from %s)", job->source);
	slurm_describe_step(job, out);
	strbuf_addf(out, "; state in %s", st.dir.buf);
	store_release(&st);
	return 0;
}

int
store_visible_devices(const char *indices, struct strbuf *out, struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct strvec uuids = STRVEC_INIT;
	const struct slurm_job *job;
	const char *p = indices;
	int failed;

	if (!slurm_in_job() || !*indices) {
		strbuf_addstr(out, indices);
		return 0;
	}
	if (store_init(&st, err) < 0 || !(job = slurm_job(&failed, err))) {
		store_release(&st);
		return -1;
	}
	read_saved_uuids(&st, &uuids);
	while (*p) {
		char *end;
		long local = strtol(p, &end, 10);

		if (p != indices)
			strbuf_addch(out, ',');
		add_job_device(out, &uuids, local, job);
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	strvec_clear(&uuids);
	store_release(&st);
	return 0;
}

int
store_save_devices(struct store *st, const struct devices *devs,
		   struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int rc;

	store_path(st, "devices.json", &path);
	devices_serialize(devs, &text);
	rc = save_file(path.buf, &text, err);
	/* record which GPUs these attachments belong to */
	if (!rc && inventory.ok && devs->nr == inventory.gpus.nr)
		save_uuids(st, &inventory.gpus);
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

int
store_txn_begin(struct store_txn *t, unsigned flags, struct strbuf *err)
{
	if (store_init(&t->st, err) < 0 || store_lock(&t->st, err) < 0 ||
	    store_load_envs(&t->st, &t->envs,
			    (flags & STORE_TXN_AS_IS) ? 0 : STORE_CLEANUP, err) < 0)
		return -1;
	if ((flags & STORE_TXN_DEVICES) &&
	    store_load_devices(&t->st, &t->devs, &t->envs, STORE_CLEANUP, err) < 0)
		return -1;
	return 0;
}

void
store_txn_release(struct store_txn *t)
{
	store_release(&t->st);
	envs_release(&t->envs);
	devices_release(&t->devs);
}
