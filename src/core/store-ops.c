/* SPDX-License-Identifier: MIT */
/*
 * store-ops.c: one locked procedure per state-changing command (store.h,
 * "Procedures"): the per-user commands (activate, deactivate, attach,
 * detach, config) and the administrator's `genv envs` / `genv devices`.
 */
#include "compat.h"
#include "core/store.h"
#include "core/devices.h"
#include "core/envs.h"
#include "core/memory.h"
#include "core/project-config.h"
#include "core/slurm.h"
#include "core/state.h"
#include "core/state-check.h"
#include "core/state-json.h"
#include "util/quote.h"
#include "util/strbuf.h"

#include <unistd.h>

/*
 * In a Slurm step with fewer GPUs than its job, req may attach only the
 * step's: the others are the job's (its state has them all) but the step
 * cannot use them (slurm.h).
 */
static void
only_step_gpus(struct attach_request *req)
{
	struct strbuf ignored = STRBUF_INIT;
	const struct slurm_job *job;
	int failed;

	/* decided by the store's first load: no new question here */
	job = slurm_in_job() ? slurm_job(&failed, &ignored) : NULL;
	strbuf_release(&ignored);
	if (job && job->step_gpus_nr < job->gpus_nr) {
		req->usable = job->step_pos;
		req->usable_nr = job->step_gpus_nr;
	}
}

int
store_deactivate_pid(long pid, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	int rc = -1;

	if (store_txn_begin(&t, 0, err) < 0 || store_may_remove_pid(&t.envs, pid, err) < 0)
		goto out;
	envs_deactivate_pid(&t.envs, pid);
	if (store_save_envs(&t.st, &t.envs, err) < 0)
		goto out;
	/* an environment without devices leaves devices.json as it is */
	if (store_has(&t.st, "devices.json") &&
	    (store_load_devices(&t.st, &t.devs, &t.envs, STORE_CLEANUP, err) < 0 ||
	     ((t.st.changed & STORE_CHANGED_DEVICES) &&
	      store_save_devices(&t.st, &t.devs, err) < 0)))
		goto out;
	rc = 0;
out:
	store_txn_release(&t);
	return rc;
}

/* What store_activate() would write, by the rules a later load applies. */
static int
check_activation(const struct activation *a, const char *username,
		 const struct env_config *c, struct strbuf *err)
{
	if (state_check_eid(a->eid, err) < 0 ||
	    state_check_range(&state_pid_range, a->pid, err) < 0 ||
	    (username && state_check_username(username, err) < 0) ||
	    (a->has_config && state_check_config(c, err) < 0))
		return -1;
	return 0;
}

int
store_activate(const struct activation *a, struct env_config *config,
	       struct strbuf *indices, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	int attach = a->attach && a->gpus >= 0, devices_saved = 0, rc = -1;
	const char *username = genv_username();
	struct env_config c = ENV_CONFIG_INIT;
	struct strbuf memory = STRBUF_INIT;
	const char *gpu_memory = memory_spelling(a->gpu_memory, &memory);
	struct env *e;

	c.name = (char *)a->name;
	c.gpu_memory = (char *)gpu_memory;
	c.has_gpus = a->gpus >= 0;
	c.gpus = a->gpus >= 0 ? a->gpus : 0;
	if (check_activation(a, username, &c, err) < 0 || store_txn_begin(&t, 0, err) < 0 ||
	    store_may_register(&t.envs, a->eid, (long long)getuid(), NULL, a->pid, err) < 0)
		goto out;
	e = envs_activate(&t.envs, a->eid, (long long)getuid(), username, a->pid, NULL);
	if (a->has_config) {
		env_config_release(&e->config);
		env_config_copy(&e->config, &c);
	}
	if (config)
		env_config_copy(config, &e->config);
	/* without devices.json (and nothing to attach) no NVML is needed */
	if (attach || (indices && store_has(&t.st, "devices.json"))) {
		if (store_load_devices(&t.st, &t.devs, &t.envs, STORE_CLEANUP, err) < 0)
			goto out;
		if (attach) {
			struct attach_request req = ATTACH_REQUEST_INIT;

			req.count = a->gpus;
			req.gpu_memory = gpu_memory;
			req.over_subscribe = a->over_subscribe;
			req.envs = &t.envs;
			req.refused = a->refused;
			only_step_gpus(&req);
			if (devices_attach(&t.devs, a->eid, &req, err) < 0 ||
			    store_save_devices(&t.st, &t.devs, err) < 0)
				goto out;
			devices_saved = 1;
		}
		if (indices)
			devices_attached_list(&t.devs, a->eid, indices);
	}
	if (store_save_envs(&t.st, &t.envs, err) < 0) {
		if (devices_saved) {
			struct strbuf ignored = STRBUF_INIT;

			/* do not leave devices attached to an env that does not exist */
			devices_detach(&t.devs, a->eid, -1);
			store_save_devices(&t.st, &t.devs, &ignored);
			strbuf_release(&ignored);
		}
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && config)
		env_config_release(config);
	if (rc < 0 && indices)
		strbuf_reset(indices);
	store_txn_release(&t);
	strbuf_release(&memory);
	return rc;
}

/*
 * The environment eid in envs, or NULL with a message telling the user how
 * to recover (the shell's environment was cleaned up or never saved).
 */
static struct env *
registered_env(const struct envs *envs, const char *eid, struct strbuf *err)
{
	struct env *e = envs_find(envs, eid);

	if (!e) {
		strbuf_addstr(err, "Environment '");
		quote_display(err, eid);
		strbuf_addstr(err, "' is not registered "
			      "(run 'genv deactivate' and activate it again)");
	}
	return e;
}

int
store_attach(const char *eid, const struct attach_request *req, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	struct attach_request r = *req;
	struct strbuf memory = STRBUF_INIT;
	int rc = -1;

	r.envs = &t.envs;
	r.gpu_memory = memory_spelling(req->gpu_memory, &memory);
	if ((r.gpu_memory && state_check_memory(r.gpu_memory, err) < 0) ||
	    store_txn_begin(&t, 0, err) < 0)
		goto out;
	if (!registered_env(&t.envs, eid, err) || store_may_change(&t.envs, eid, err) < 0)
		goto out;
	only_step_gpus(&r);
	if (store_load_devices(&t.st, &t.devs, &t.envs, STORE_CLEANUP, err) < 0 ||
	    devices_attach(&t.devs, eid, &r, err) < 0 ||
	    store_save_devices(&t.st, &t.devs, err) < 0)
		goto out;
	rc = 0;
out:
	store_txn_release(&t);
	strbuf_release(&memory);
	return rc;
}

int
store_detach(const char *eid, long index, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	int rc = -1;

	if (store_txn_begin(&t, STORE_TXN_DEVICES, err) < 0 ||
	    store_may_change(&t.envs, eid, err) < 0)
		goto out;
	if (index >= 0 && !devices_find(&t.devs, index)) {
		strbuf_addf(err, "Device %ld does not exist", index);
		goto out;
	}
	devices_detach(&t.devs, eid, index);
	if (store_save_devices(&t.st, &t.devs, err) < 0)
		goto out;
	rc = 0;
out:
	store_txn_release(&t);
	return rc;
}

int
store_attached_list(const char *eid, struct strbuf *out, struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct devices devs = DEVICES_INIT;
	int rc = -1;

	/* read without the lock; no devices.json yet: nothing attached, no NVML */
	if (store_init(&st, err) < 0 || store_read_devices(&st, &devs, err) < 0)
		goto out;
	devices_attached_list(&devs, eid, out);
	rc = 0;
out:
	store_release(&st);
	devices_release(&devs);
	return rc;
}

int
store_env_config(const char *eid, struct env_config *config, struct strbuf *err)
{
	struct store st = STORE_INIT;
	struct envs envs = ENVS_INIT;
	struct env *e;
	int rc = -1;

	/* a read: no lock */
	if (store_init(&st, err) < 0 || store_load_envs(&st, &envs, 0, err) < 0)
		goto out;
	e = registered_env(&envs, eid, err);
	if (!e)
		goto out;
	env_config_copy(config, &e->config);
	rc = 0;
out:
	store_release(&st);
	envs_release(&envs);
	return rc;
}

/* Replaces eid's configuration with config. */
static int
set_env_config(const char *eid, const struct env_config *config, struct strbuf *err)
{
	struct store_txn t = STORE_TXN_INIT;
	struct env *e;
	int rc = -1;

	if (store_txn_begin(&t, 0, err) < 0)
		goto out;
	e = registered_env(&t.envs, eid, err);
	if (!e || store_may_change(&t.envs, eid, err) < 0)
		goto out;
	env_config_release(&e->config);
	env_config_copy(&e->config, config);
	if (store_save_envs(&t.st, &t.envs, err) < 0)
		goto out;
	rc = 0;
out:
	store_txn_release(&t);
	return rc;
}

/* Applies r's change to c; returns whether it asked for one. */
static int
apply_change(const struct configure_request *r, struct env_config *c)
{
	if (!r->has_field) {
		if (r->clear)
			env_config_release(c);
		return r->clear;
	}
	if (!r->clear && !r->value)
		return 0;
	env_config_set_field(c, r->field, r->clear ? NULL : r->value,
			     r->clear ? -1 : r->gpus);
	return 1;
}

int
store_configure(const struct configure_request *req, struct strbuf *err)
{
	struct env_config c = ENV_CONFIG_INIT;
	struct configure_request spelled = *req;
	const struct configure_request *r = &spelled;
	struct strbuf memory = STRBUF_INIT;
	int changed, rc = -1;

	if (req->has_field && req->field == ENV_CONFIG_GPU_MEMORY)
		spelled.value = memory_spelling(req->value, &memory);

	/* only the new value: what the state already holds was loadable */
	if ((r->has_field && !r->clear &&
	     state_check_config_field(r->field, r->value, r->value ? r->gpus : -1, err) < 0) ||
	    (r->load ? project_config_load(r->project_dir, &c, err) :
		       store_env_config(r->eid, &c, err)) < 0)
		goto out;
	changed = apply_change(r, &c) || r->load;
	if (r->show)
		r->show(&c, r->show_data);
	if (changed && set_env_config(r->eid, &c, err) < 0)
		goto out;
	if (r->save && r->project_dir && project_config_save(r->project_dir, &c, err) < 0)
		goto out;
	rc = 0;
out:
	env_config_release(&c);
	strbuf_release(&memory);
	return rc;
}

/* ----- the administrator's procedures ----- */

/* A locked session over envs.json (and devices.json with ADMIN_DEVICES). */
struct admin {
	struct store_txn t;
	unsigned flags;
	unsigned what;
	int existed;   /* the file of interest existed before */
};
#define ADMIN_INIT { STORE_TXN_INIT, 0, 0, 0 }

enum admin_what {
	ADMIN_ENVS    = 0,
	ADMIN_DEVICES = 1 << 0,
};

/* Loads what a's command works on (the lock may or may not be held). */
static int
admin_load(struct admin *a, struct strbuf *err)
{
	struct store *st = &a->t.st;

	if (!(a->what & ADMIN_DEVICES)) {
		a->existed = store_has(st, "envs.json");
		return store_load_envs(st, &a->t.envs, a->flags, err);
	}
	a->existed = store_has(st, "devices.json");
	if (store_load_envs(st, &a->t.envs, STORE_CLEANUP, err) < 0 ||
	    store_load_devices(st, &a->t.devs, &a->t.envs, a->flags, err) < 0)
		return -1;
	return 0;
}

static int
admin_begin(struct admin *a, unsigned flags, unsigned what, struct strbuf *err)
{
	a->flags = flags;
	a->what = what;
	if ((flags & STORE_RESET) && getuid()) {
		strbuf_addstr(err, "only root may use --reset");
		return -1;
	}
	if (store_init(&a->t.st, err) < 0 || store_lock(&a->t.st, err) < 0)
		return -1;
	return admin_load(a, err);
}

/* Whether the file of interest must be written (see store.h). */
static int
admin_needs_save(const struct admin *a, int mutated)
{
	unsigned changed = a->t.st.changed;
	int reset = !!(a->flags & STORE_RESET);

	if (a->what & ADMIN_DEVICES)
		return !a->existed || mutated || reset || (changed & STORE_CHANGED_DEVICES);
	return mutated || reset || (a->existed && (changed & STORE_CHANGED_ENVS));
}

/* Saves the file of interest if its contents changed. */
static int
admin_commit(struct admin *a, int mutated, struct strbuf *err)
{
	if (!admin_needs_save(a, mutated))
		return 0;
	if (a->what & ADMIN_DEVICES)
		return store_save_devices(&a->t.st, &a->t.devs, err);
	return store_save_envs(&a->t.st, &a->t.envs, err);
}

/*
 * The reading commands (ps, query, find) load without the lock, which
 * anyone may hold forever. What cleanup or reconciliation changed is
 * written back only if the lock is free now (its holder is a writer, and
 * cleans up too); the state is then loaded again under it. --reset
 * writes, so it waits for the lock like any writer.
 */
static int
admin_read(struct admin *a, unsigned flags, unsigned what, struct strbuf *err)
{
	if (flags & STORE_RESET)
		return admin_begin(a, flags, what, err) < 0 || admin_commit(a, 0, err) < 0 ? -1 : 0;
	a->flags = flags;
	a->what = what;
	if (store_init(&a->t.st, err) < 0 || admin_load(a, err) < 0)
		return -1;
	if ((!admin_needs_save(a, 0) && !(a->t.st.changed & STORE_CHANGED_UUIDS)) ||
	    !store_trylock(&a->t.st))
		return 0;
	envs_release(&a->t.envs);
	devices_release(&a->t.devs);
	a->t.st.changed = 0;
	return admin_load(a, err) < 0 || admin_commit(a, 0, err) < 0 ? -1 : 0;
}

static void
admin_release(struct admin *a)
{
	store_txn_release(&a->t);
}

int
store_admin_envs(unsigned flags, struct envs *envs, struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	int rc = -1;

	if (admin_read(&a, flags, ADMIN_ENVS, err) < 0)
		goto out;
	*envs = a.t.envs;
	a.t.envs = (struct envs)ENVS_INIT;
	rc = 0;
out:
	admin_release(&a);
	return rc;
}

int
store_admin_devices(unsigned flags, struct envs *envs, struct devices *devs,
		    struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	int rc = -1;

	if (admin_read(&a, flags, ADMIN_DEVICES, err) < 0)
		goto out;
	*envs = a.t.envs;
	a.t.envs = (struct envs)ENVS_INIT;
	*devs = a.t.devs;
	a.t.devs = (struct devices)DEVICES_INIT;
	rc = 0;
out:
	admin_release(&a);
	return rc;
}

/* What store_admin_activate() would write, by the rules a later load applies. */
static int
check_registration(const struct env_registration *r, struct strbuf *err)
{
	if (state_check_eid(r->eid, err) < 0 ||
	    state_check_range(&state_uid_range, r->uid, err) < 0 ||
	    (r->username && state_check_username(r->username, err) < 0) ||
	    (r->pid && state_check_range(&state_pid_range, r->pid, err) < 0) ||
	    (r->kernel_id && state_check_kernel_id(r->kernel_id, err) < 0))
		return -1;
	return 0;
}

int
store_admin_activate(unsigned flags, const struct env_registration *r,
		     struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	int rc = -1;

	if (check_registration(r, err) < 0 || admin_begin(&a, flags, ADMIN_ENVS, err) < 0 ||
	    store_may_register(&a.t.envs, r->eid, r->uid, r->username, r->pid, err) < 0)
		goto out;
	envs_activate(&a.t.envs, r->eid, r->uid, r->username, r->pid, r->kernel_id);
	rc = admin_commit(&a, 1, err);
out:
	admin_release(&a);
	return rc;
}

int
store_admin_configure(unsigned flags, const char *eid, enum env_config_field field,
		      const char *value, long gpus, struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	struct strbuf memory = STRBUF_INIT;
	struct env *e;
	int rc = -1;

	if (field == ENV_CONFIG_GPU_MEMORY)
		value = memory_spelling(value, &memory);
	if (state_check_config_field(field, value, gpus, err) < 0 ||
	    admin_begin(&a, flags, ADMIN_ENVS, err) < 0 ||
	    store_may_change(&a.t.envs, eid, err) < 0)
		goto out;
	e = envs_find(&a.t.envs, eid);
	if (e)
		env_config_set_field(&e->config, field, value, gpus);
	rc = admin_commit(&a, e != NULL, err);
out:
	admin_release(&a);
	strbuf_release(&memory);
	return rc;
}

int
store_admin_deactivate(unsigned flags, long pid, struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	int rc = -1;

	if (admin_begin(&a, flags, ADMIN_ENVS, err) < 0 ||
	    store_may_remove_pid(&a.t.envs, pid, err) < 0)
		goto out;
	envs_deactivate_pid(&a.t.envs, pid);
	rc = admin_commit(&a, 1, err);
out:
	admin_release(&a);
	return rc;
}

/* The attachment part of store_admin_attach(), on the loaded state. */
static int
admin_attach_devices(struct admin *adm, const struct admin_attach *a,
		     struct strbuf *err)
{
	const struct env *env = envs_find(&adm->t.envs, a->eid);
	struct attach_request req = ATTACH_REQUEST_INIT;
	long count = a->count;
	int has_count = a->has_count;

	/* an unknown eid is attached as 1.4.3 does, if the state can hold it */
	if (!env && state_check_eid(a->eid, err) < 0)
		return -1;
	req.gpu_memory = env ? env->config.gpu_memory : NULL;
	req.over_subscribe = a->over_subscribe;
	req.envs = &adm->t.envs;
	only_step_gpus(&req);
	if (a->has_index) {
		req.index = a->index;
		if (!devices_find(&adm->t.devs, a->index)) {
			strbuf_addf(err, "Device %ld does not exist", a->index);
			return -1;
		}
		return devices_attach(&adm->t.devs, a->eid, &req, err);
	}
	if (!has_count && env && env->config.has_gpus) {
		has_count = 1;
		count = env->config.gpus;
	}
	if (has_count && count < 0) {
		strbuf_addf(err, "Invalid device count %ld", count);
		return -1;
	}
	if (!has_count)
		return 0;
	req.count = count;
	return devices_ensure_count(&adm->t.devs, a->eid, &req, err);
}

int
store_admin_attach(unsigned flags, const struct admin_attach *a,
		   struct strbuf *indices, struct strbuf *err)
{
	struct admin adm = ADMIN_INIT;
	int rc = -1;

	if (admin_begin(&adm, flags, ADMIN_DEVICES, err) < 0 ||
	    store_may_change(&adm.t.envs, a->eid, err) < 0 ||
	    admin_attach_devices(&adm, a, err) < 0 || admin_commit(&adm, 1, err) < 0)
		goto out;
	if (indices)
		devices_attached_list(&adm.t.devs, a->eid, indices);
	rc = 0;
out:
	admin_release(&adm);
	return rc;
}

int
store_admin_detach(unsigned flags, const char *eid, int all, long index,
		   struct strbuf *indices, struct strbuf *err)
{
	struct admin a = ADMIN_INIT;
	int rc = -1;

	if (admin_begin(&a, flags, ADMIN_DEVICES, err) < 0 ||
	    store_may_change(&a.t.envs, eid, err) < 0)
		goto out;
	if (all)
		devices_detach(&a.t.devs, eid, -1);
	else if (index >= 0 && devices_find(&a.t.devs, index))
		devices_detach(&a.t.devs, eid, index);
	if (admin_commit(&a, 1, err) < 0)
		goto out;
	if (indices)
		devices_attached_list(&a.t.devs, eid, indices);
	rc = 0;
out:
	admin_release(&a);
	return rc;
}
