/* SPDX-License-Identifier: MIT */
/*
 * store.h: the shared state directory ($GENV_TMPDIR, default
 * /var/tmp/genv) that every user's genv reads and writes: envs.json,
 * devices.json, genv.lock and devices/<index>.lock, in genv 1.4.3's layout
 * and modes (directory 0777, files 0666 whatever the umask).
 *
 * Every read-modify-write happens between store_lock() and store_unlock()
 * (an exclusive flock on genv.lock, as 1.4.3 does, so both genvs
 * serialise against each other). Saves are atomic (temp + fsync +
 * rename). A corrupt file is reported with its path and never overwritten.
 */
#ifndef GENV_CORE_STORE_H
#define GENV_CORE_STORE_H

#include "core/state.h"
#include "util/strbuf.h"

struct store {
	struct strbuf dir;   /* state directory, no trailing slash */
	int lock_fd;         /* genv.lock while locked, else -1 */
	unsigned changed;    /* enum store_changed: what loading altered */
};
#define STORE_INIT { STRBUF_INIT, -1, 0 }

/*
 * Set in st->changed by the loaders when cleanup or reconciliation made
 * the loaded state differ from the file, so that read-only commands save
 * only then (1.4.3 rewrites both files on every command).
 */
enum store_changed {
	STORE_CHANGED_ENVS    = 1 << 0,
	STORE_CHANGED_DEVICES = 1 << 1,
};

enum store_flags {
	STORE_CLEANUP = 1 << 0,  /* drop dead pids/envs, attachments of gone envs */
	STORE_RESET   = 1 << 1,  /* ignore the file, start from scratch */
};

/* Resolves the directory ($GENV_TMPDIR or /var/tmp/genv) and creates it. */
int store_init(struct store *st, struct strbuf *err);
/* Takes the exclusive global lock (blocking). */
int store_lock(struct store *st, struct strbuf *err);
void store_unlock(struct store *st);
/* Unlocks and frees. */
void store_release(struct store *st);

/* Appends "<dir>/<name>" to out. */
void store_path(const struct store *st, const char *name, struct strbuf *out);

/*
 * Loads envs.json (missing file = no envs). With STORE_CLEANUP, pids that
 * are gone (kill(pid, 0) == ESRCH) and kernel ids without a Jupyter
 * runtime file are dropped, then envs left with neither.
 */
int store_load_envs(struct store *st, struct envs *envs, unsigned flags,
		    struct strbuf *err);
int store_save_envs(struct store *st, const struct envs *envs, struct strbuf *err);

/*
 * Loads devices.json and reconciles it with the GPUs NVML reports: a
 * missing file is created from NVML; devices added since are appended;
 * devices gone are dropped from the end; total memory is refreshed. When
 * NVML is unavailable, an existing file is used as it is, and a missing
 * one is an error (the NVML message). With STORE_CLEANUP, attachments of
 * environments not in live_envs are dropped; live_envs may be NULL, in
 * which case envs.json is loaded (with cleanup) to decide.
 */
int store_load_devices(struct store *st, struct devices *devs,
		       const struct envs *live_envs, unsigned flags,
		       struct strbuf *err);
int store_save_devices(struct store *st, const struct devices *devs,
		       struct strbuf *err);

/* 1 if the state file exists. */
int store_has(const struct store *st, const char *name);

/*
 * The GPU list is read from NVML once per process and reused by every
 * store_load_devices(). This forgets it and closes NVML, so that the next
 * load asks again (for tests and long-running commands like monitor).
 */
void store_forget_gpus(void);

/*
 * A locked read-modify-write, the shape of every state-changing command:
 * store_txn_begin() resolves the directory, takes the lock and loads envs
 * (with cleanup) and, with STORE_TXN_DEVICES, devices (reconciled and
 * cleaned against those envs). The caller edits t->envs / t->devs and
 * saves what it changed; store_txn_release() unlocks and frees it all
 * (also after a failed begin).
 */
struct store_txn {
	struct store st;
	struct envs envs;
	struct devices devs;
};
#define STORE_TXN_INIT { STORE_INIT, ENVS_INIT, DEVICES_INIT }

enum store_txn_flags {
	STORE_TXN_DEVICES = 1 << 0,
};

int store_txn_begin(struct store_txn *t, unsigned flags, struct strbuf *err);
void store_txn_release(struct store_txn *t);

/*
 * What leaving an environment does (`genv deactivate`, the end of `genv
 * exec`): under the lock, removes pid from every environment, drops the
 * environments left empty and then their attachments, and saves. Without
 * a devices.json nothing can be attached, so devices are not touched (no
 * NVML needed: a missing driver must not keep a shell active).
 */
int store_deactivate_pid(long pid, struct strbuf *err);

/* What store_activate() does for `genv activate` and `genv exec`. */
struct activation {
	const char *eid;
	long pid;                /* the shell or process joining eid */
	int has_config;          /* replace eid's configuration with these: */
	const char *name;        /*   NULL = unset */
	const char *gpu_memory;  /*   NULL = unset */
	long gpus;               /*   -1 = unset */
	int attach;              /* attach gpus devices (when gpus >= 0) */
	int over_subscribe;
};
#define ACTIVATION_INIT { NULL, 0, 0, NULL, NULL, -1, 1, 0 }

/*
 * Under the lock: registers a->pid in a->eid (creating it, owned by the
 * caller's uid and login name), replaces its configuration when asked,
 * attaches devices, and saves. On failure nothing is saved: a failed
 * activation leaves no environment behind (1.4.3 kept it). On success,
 * config (if not NULL) receives the environment's configuration and
 * indices (if not NULL) its attached devices ("0,2", "" for none).
 */
int store_activate(const struct activation *a, struct env_config *config,
		   struct strbuf *indices, struct strbuf *err);

#endif
