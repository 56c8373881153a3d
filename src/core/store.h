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

#include "util/strbuf.h"

struct envs;
struct devices;

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

#endif
