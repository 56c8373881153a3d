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
 * rename), so readers take no lock: anyone can hold genv.lock forever,
 * and reading must not depend on them. A corrupt file is reported with
 * its path and never overwritten.
 *
 * Every user may write the directory: no name in it is trusted. State and
 * lock files are opened without following links or blocking on FIFOs and
 * must be regular files (a link there is an error naming the file); no
 * mode is changed but that of a file we just created.
 *
 * store.c has the directory, the lock, loading and saving; store-ops.c
 * the procedures built on them, one per command ("Procedures" below),
 * which is what the CLI calls.
 */
#ifndef GENV_CORE_STORE_H
#define GENV_CORE_STORE_H

#include "core/devices.h"
#include "core/state.h"
#include "util/strbuf.h"

#include <sys/types.h>

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
	/* devices.uuids is out of date; a load under the lock rewrites it */
	STORE_CHANGED_UUIDS   = 1 << 2,
};

enum store_flags {
	STORE_CLEANUP = 1 << 0,  /* drop dead pids/envs, attachments of gone envs */
	STORE_RESET   = 1 << 1,  /* ignore the file, start from scratch */
};

/*
 * Resolves the directory (the protected one of a protected install, else
 * $GENV_TMPDIR or /var/tmp/genv) and creates the shared one.
 */
int store_init(struct store *st, struct strbuf *err);
/*
 * Only resolves it, creating nothing (`genv doctor`): returns 1 for the
 * protected state, 0 for the shared one, -1 (err says why) when this
 * process may not use it.
 */
int store_locate(struct store *st, struct strbuf *err);
/*
 * Who may change what, in both modes (doc/security.md). Identity is the
 * real uid; root may do anything. Each returns 0, or -1 with a one-line
 * refusal in err.
 *
 * store_may_change: eid is the caller's (an unknown eid is nobody's).
 * store_may_remove_pid: every environment holding pid is the caller's.
 * store_may_register: what `envs activate` records is the caller's: uid,
 *   username (when given), pid (when not 0: a process of that uid), and
 *   eid if it exists; a new eid must fit under the caller's limit of
 *   environments (genv.conf's max_envs_per_user, default 256, or a lower
 *   $GENV_MAX_ENVS_PER_USER; in the shared mode any).
 */
int store_may_change(const struct envs *envs, const char *eid, struct strbuf *err);
int store_may_remove_pid(const struct envs *envs, long pid, struct strbuf *err);
int store_may_register(const struct envs *envs, const char *eid, long long uid,
		       const char *username, long pid, struct strbuf *err);

/*
 * Takes the exclusive global lock, waiting up to $GENV_LOCK_TIMEOUT
 * seconds (default 10; 0 = one try) for it. When it stays held (errno
 * EWOULDBLOCK), err names the holder (pid, user, command).
 */
int store_lock(struct store *st, struct strbuf *err);
/* Takes the lock only if it is free now: 1 if held (now), else 0. */
int store_trylock(struct store *st);
void store_unlock(struct store *st);
/* Unlocks and frees. */
void store_release(struct store *st);

/*
 * The modes of the state's files and directories: 1.4.3's 0666 and 0777,
 * or the protected mode's 0660 and 02770 (protect.h).
 */
mode_t store_file_mode(void);
mode_t store_dir_mode(void);

/* Appends "<dir>/<name>" to out. */
void store_path(const struct store *st, const char *name, struct strbuf *out);

/*
 * Loads envs.json (missing file = no envs). With STORE_CLEANUP, pids that
 * are gone (kill(pid, 0) == ESRCH) and kernel ids without a Jupyter
 * runtime file are dropped, then envs left with neither. Without the
 * lock, a file that does not parse is read again for a moment (genv 1.4.3
 * may be rewriting it in place) before it is reported.
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
/* devices.json as it is: no NVML, no cleanup; a missing file is no devices. */
int store_read_devices(struct store *st, struct devices *devs, struct strbuf *err);

/* 1 if the state file exists. */
int store_has(const struct store *st, const char *name);

/*
 * The GPU list is read from NVML once per process and reused by every
 * store_load_devices(). This forgets it and closes NVML, so that the next
 * load asks again (for tests and long-running commands like monitor).
 */
void store_forget_gpus(void);

/*
 * The index in the state of the GPU NVML numbers nvml_index: the same
 * outside a Slurm job; in one, its position among the job's GPUs, or -1
 * when it is not one of them.
 */
int store_device_position(unsigned nvml_index, long *pos);

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
	STORE_TXN_AS_IS   = 1 << 1,  /* envs without cleanup (for reading) */
};

int store_txn_begin(struct store_txn *t, unsigned flags, struct strbuf *err);
void store_txn_release(struct store_txn *t);

/*
 * ----- Procedures (store-ops.c) -----
 *
 * Every state operation a command performs is one of these calls: each
 * resolves the directory, takes the lock, loads what it needs, changes
 * it, saves what changed and unlocks. On failure nothing is saved.
 */

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
	int *refused;            /* if not NULL: set to 1 when the devices are taken */
};
#define ACTIVATION_INIT { NULL, 0, 0, NULL, NULL, -1, 1, 0, NULL }

/*
 * Under the lock: registers a->pid in a->eid (creating it, owned by the
 * caller's uid and login name), replaces its configuration when asked,
 * attaches devices, and saves. On failure nothing is saved: a failed
 * activation leaves no environment behind (1.4.3 kept it). On success,
 * config (if not NULL) receives the environment's configuration and
 * indices (if not NULL) its attached devices ("0,2", "" for none).
 * When the devices asked for are not available, *a->refused says so.
 */
int store_activate(const struct activation *a, struct env_config *config,
		   struct strbuf *indices, struct strbuf *err);

/*
 * `genv attach`: attaches devices to eid as req asks (devices_attach()).
 * eid must be registered: the attachments of an unknown environment
 * would vanish at the next cleanup.
 */
int store_attach(const char *eid, const struct attach_request *req, struct strbuf *err);

/* `genv detach`: from device index, or from all when index < 0. */
int store_detach(const char *eid, long index, struct strbuf *err);

/*
 * The devices eid is attached to, comma-separated into out ("" when none
 * or when devices.json does not exist yet). devices.json is read as it
 * is, without asking NVML: this runs after every activate, attach and
 * detach, and NVML would cost more than the rest of the command.
 */
int store_attached_list(const char *eid, struct strbuf *out, struct strbuf *err);

/*
 * What CUDA_VISIBLE_DEVICES says for the devices in indices ("0,2", as
 * store_attached_list() gives them), appended to out: indices themselves,
 * except in a Slurm job (slurm.h), where they are the GPUs' UUIDs (right
 * inside the job whether Slurm renumbered the devices or not).
 */
int store_visible_devices(const char *indices, struct strbuf *out, struct strbuf *err);

/*
 * In a Slurm job, appends to out one line (no newline) saying so: the job,
 * its GPUs (device N here = node GPU M), where they came from and where
 * the job's state is. Appends nothing outside a job.
 */
int store_describe_job(struct strbuf *out, struct strbuf *err);

/*
 * Copies the configuration of eid as envs.json has it into *config
 * (caller releases). Fails when eid is not registered.
 */
int store_env_config(const char *eid, struct env_config *config, struct strbuf *err);

/* What store_configure() does for `genv config`. */
struct configure_request {
	const char *eid;
	const char *project_dir;   /* the .genv directory, NULL when there is none */
	int load;                  /* start from project_dir's configuration */
	int save;                  /* then save the result to project_dir (if any) */
	int has_field;             /* change or clear one field: */
	enum env_config_field field;
	int clear;                 /* clear it (or, without a field, everything) */
	const char *value;         /* the new value as given (NULL = none) */
	long gpus;                 /*   for gpus, its number */
	/* called with the resulting configuration before anything is written */
	void (*show)(const struct env_config *c, void *data);
	void *show_data;
};
#define CONFIGURE_REQUEST_INIT { NULL, NULL, 0, 0, 0, ENV_CONFIG_NAME, 0, NULL, 0, NULL, NULL }

/*
 * `genv config`: reads eid's configuration (from the state, or from the
 * .genv directory with load), applies the change, writes the state when
 * the configuration changed (only then: 1.4.3 always wrote) and saves
 * it to the .genv directory when asked.
 */
int store_configure(const struct configure_request *r, struct strbuf *err);

/*
 * ----- The administrator's procedures: `genv envs` and `genv devices` -----
 *
 * These act on any environment by id. flags (enum store_flags) are the
 * commands' --no-cleanup (no STORE_CLEANUP) and --reset (STORE_RESET);
 * for devices they apply to devices.json, envs.json is always cleaned.
 * A file is written back only when its contents changed: by the
 * operation, by cleanup or reconciliation, by --reset; devices.json is
 * also created when missing, envs.json only by a change.
 */

/* `genv envs ps/query/find`: the environments, into envs (empty). */
int store_admin_envs(unsigned flags, struct envs *envs, struct strbuf *err);
/* `genv devices ps/query/find`: the devices and the live environments. */
int store_admin_devices(unsigned flags, struct envs *envs, struct devices *devs,
			struct strbuf *err);

/* What store_admin_activate() registers (`genv envs activate`). */
struct env_registration {
	const char *eid;
	long long uid;
	const char *username;   /* NULL = unknown */
	long pid;               /* 0 = none */
	const char *kernel_id;  /* NULL = none */
};
int store_admin_activate(unsigned flags, const struct env_registration *r,
			 struct strbuf *err);
/* `genv envs config`: env_config_set_field() on eid; an unknown eid is ignored. */
int store_admin_configure(unsigned flags, const char *eid, enum env_config_field field,
			  const char *value, long gpus, struct strbuf *err);
/* `genv envs deactivate`: removes pid from every environment. */
int store_admin_deactivate(unsigned flags, long pid, struct strbuf *err);

/* What store_admin_attach() does (`genv devices attach`). */
struct admin_attach {
	const char *eid;
	int over_subscribe;
	int has_index;          /* attach this device: */
	long index;
	int has_count;          /* else have exactly count devices (default: */
	long count;             /*   the environment's configured gpus) */
};
#define ADMIN_ATTACH_INIT { NULL, 0, 0, -1, 0, -1 }
/*
 * Attaches as a asks (devices_attach() / devices_ensure_count(), with the
 * environment's gpu-memory); indices (if not NULL) receives eid's devices
 * afterwards.
 */
int store_admin_attach(unsigned flags, const struct admin_attach *a,
		       struct strbuf *indices, struct strbuf *err);
/*
 * `genv devices detach`: from every device (all), else from device index
 * (an index that is no device's is ignored, as in 1.4.3); indices (if not
 * NULL) receives eid's devices afterwards.
 */
int store_admin_detach(unsigned flags, const char *eid, int all, long index,
		       struct strbuf *indices, struct strbuf *err);

#endif
