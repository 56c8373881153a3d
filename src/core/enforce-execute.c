/* SPDX-License-Identifier: MIT */
/*
 * enforce-execute.c: carrying out a Report on this machine: SIGTERM to
 * its processes, its detaches in devices.json, and SIGKILL for the
 * processes still running after a grace period (enforce.h). Every action
 * is also recorded for the audit log.
 */
#include "compat.h"
#include "core/enforce.h"
#include "core/devices.h"
#include "core/store.h"
#include "util/clock.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

int
enforce_signals_enabled(void)
{
	const char *v = getenv("GENV_TERMINATE_PROCESSES");
	char *end;
	long n;

	if (!v)
		return 1;
	/* 1.4.3: int(value) == 0 disables; int() allows surrounding blanks */
	errno = 0;
	n = strtol(v, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	return !(end != v && !*end && !errno && n == 0);
}

/* The line and audit result for a kill(2) that failed with errno. */
static const char *
signal_failed(long pid, const char *verb, struct strvec *errout)
{
	if (errno == ESRCH) {
		strvec_pushf(errout, "[DEBUG] Process %ld already terminated", pid);
		return "already-terminated";
	}
	if (errno == EPERM) {
		strvec_pushf(errout, "[ERROR] Not enough permissions to %s process %ld", verb, pid);
		return "permission-denied";
	}
	strvec_pushf(errout, "[ERROR] Cannot %s process %ld: %s", verb, pid, strerror(errno));
	return "failed";
}

static void
add_pending(struct enforce_pendings *pending, const struct report_process *rp,
	    unsigned long long start_time, long long uid)
{
	struct enforce_pending *pd;

	ALLOC_GROW(pending->v, pending->nr + 1, pending->alloc);
	pd = &pending->v[pending->nr++];
	pd->pid = rp->process.pid;
	pd->start_time = start_time;
	pd->uid = uid;
	pd->eid = xstrdup_or_null(rp->process.eid);
	pd->rule = rp->rule;
}

/* SIGTERM to one process; returns the audit result. */
static const char *
terminate_one(const struct report_process *rp, long long uid,
	      const struct enforce_exec_options *o, struct strvec *errout,
	      struct enforce_pendings *pending)
{
	long pid = rp->process.pid;
	unsigned long long now_start;

	if (o->dry_run)
		return "dry-run";
	if (!o->send_signals)
		return "disabled";
	/* a pid that now names another process is not ours to signal */
	if (proc_start_time(pid, &now_start) < 0 ||
	    (rp->start_time && rp->start_time != now_start)) {
		strvec_pushf(errout, "[DEBUG] Process %ld already terminated", pid);
		return "already-terminated";
	}
	if (kill((pid_t)pid, SIGTERM) < 0)
		return signal_failed(pid, "terminate", errout);
	if (pending)
		add_pending(pending, rp, now_start, uid);
	return "signalled";
}

static void
terminate_process(const struct report_process *rp, const struct enforce_exec_options *o,
		  struct strvec *out, struct strvec *errout,
		  struct enforce_pendings *pending)
{
	const struct process *p = &rp->process;
	long long uid = p->uid;
	struct strbuf gpus = STRBUF_INIT;
	const char *result;

	if (uid < 0 && proc_real_uid(p->pid, &uid) < 0)
		uid = -1;
	for (size_t u = 0; u < p->usage_nr; u++)
		strbuf_addf(&gpus, "%s%ld", u ? "," : "", p->usage[u].index);
	strvec_pushf(out, "%sTerminating process %ld from environment %s that is running on GPU(s) %s",
		   o->dry_run ? "[dry-run] " : "", p->pid, p->eid ? p->eid : "N/A", gpus.buf);
	strbuf_release(&gpus);
	result = terminate_one(rp, uid, o, errout, pending);
	enforce_audit_add(o, rp->rule, p->pid, uid, p->eid, -1, "terminate", result, NULL);
}

void
enforce_pendings_release(struct enforce_pendings *p)
{
	for (size_t i = 0; i < p->nr; i++)
		free(p->v[i].eid);
	free(p->v);
	*p = (struct enforce_pendings)ENFORCE_PENDINGS_INIT;
}

/* o with the hostname filled in (once, not per audit line). */
static void
resolve_hostname(struct enforce_exec_options *copy, const struct enforce_exec_options *o,
		 char *name, size_t size)
{
	*copy = *o;
	if (o->hostname || !o->audit)
		return;
	if (gethostname(name, size) < 0)
		name[0] = '\0';
	name[size - 1] = '\0';
	copy->hostname = name;
}

/*
 * Detaches one environment of the report, unless the state says it is not
 * the caller's (the report's own uid is the sender's word); returns the
 * audit result.
 */
static const char *
detach_one(struct devices *devs, const struct envs *live, const char *eid, long index,
	   const struct enforce_exec_options *o, struct strvec *errout)
{
	struct strbuf why = STRBUF_INIT;

	if (o->dry_run)
		return "dry-run";
	if (store_may_change(live, eid, &why) < 0) {
		strvec_pushf(errout, "[ERROR] Not enough permissions to detach environment %s from device %ld",
			     eid, index);
		strbuf_release(&why);
		return "permission-denied";
	}
	devices_detach(devs, eid, index);
	return "detached";
}

/*
 * The audit line of each detach of r: results[k] for the k-th, or result
 * for all when results is NULL. A detach that was to be done but was not
 * saved is "failed", with reason.
 */
static void
audit_detaches(const struct report *r, const struct enforce_exec_options *o,
	       const char *const *results, const char *result, const char *reason)
{
	size_t k = 0;

	for (size_t d = 0; d < r->detach_nr; d++) {
		const struct report_detach *rd = &r->detach[d];

		for (size_t e = 0; e < rd->envs.nr; e++, k++) {
			const char *res = results ? results[k] : result, *why = NULL;

			if (reason && (!results || !strcmp(res, "detached"))) {
				res = results ? "failed" : res;
				why = reason;
			}
			enforce_audit_add(o, ENFORCE_RULE_MAX_DEVICES_PER_USER, -1,
					  rd->envs.v[e].uid, rd->envs.v[e].eid, rd->index,
					  "detach", res, why);
		}
	}
}

void
enforce_audit_undone_detaches(const struct report *r, const struct enforce_exec_options *o,
			      const char *result, const char *reason)
{
	audit_detaches(r, o, NULL, result, reason);
}

static int
detach_all(struct store *st, const struct report *r, const struct enforce_exec_options *o,
	   struct strvec *out, struct strvec *errout, struct strbuf *err)
{
	struct devices devs = DEVICES_INIT;
	struct envs live = ENVS_INIT;
	const char **results = NULL;
	size_t nr = 0, k = 0;
	int rc = -1;

	if (!o->dry_run) {
		if (!st) {
			strbuf_addstr(err, "cannot detach environments: no state directory");
			goto out;
		}
		if (store_load_envs(st, &live, STORE_CLEANUP, err) < 0 ||
		    store_load_devices(st, &devs, &live, STORE_CLEANUP, err) < 0)
			goto out;
	}
	for (size_t d = 0; d < r->detach_nr; d++)
		nr += r->detach[d].envs.nr;
	results = xcalloc(nr ? nr : 1, sizeof(*results));
	for (size_t d = 0; d < r->detach_nr; d++) {
		const struct report_detach *rd = &r->detach[d];

		for (size_t e = 0; e < rd->envs.nr; e++) {
			const struct env *env = &rd->envs.v[e];

			strvec_pushf(out, "%sDetaching environment %s of user %s from device %ld",
				   o->dry_run ? "[dry-run] " : "", env->eid,
				   env->username ? env->username : "N/A", rd->index);
			results[k++] = detach_one(&devs, &live, env->eid, rd->index, o, errout);
		}
	}
	if (o->dry_run || !store_save_devices(st, &devs, err))
		rc = 0;
out:
	/* not loaded: none was done; not saved: none that was to be */
	audit_detaches(r, o, results, "failed", rc ? err->buf : NULL);
	free(results);
	devices_release(&devs);
	envs_release(&live);
	return rc;
}

int
enforce_execute(struct store *st, const struct report *r,
		const struct enforce_exec_options *opts, struct strvec *out,
		struct strvec *errout, struct enforce_pendings *pending,
		struct strbuf *err)
{
	struct enforce_exec_options resolved;
	char name[256];

	resolve_hostname(&resolved, opts, name, sizeof(name));
	for (size_t i = 0; i < r->terminate.nr; i++)
		terminate_process(&r->terminate.v[i], &resolved, out, errout, pending);
	if (!r->detach_nr)
		return 0;
	return detach_all(st, r, &resolved, out, errout, err);
}

static int
still_running(const struct enforce_pending *pd)
{
	unsigned long long start;

	return !proc_start_time(pd->pid, &start) && start == pd->start_time;
}

/* Until grace_ms have passed or none of the pending processes runs. */
static void
wait_for_exit(const struct enforce_pendings *pending, long grace_ms)
{
	int64_t deadline = clock_monotonic_ms() + (grace_ms > 0 ? grace_ms : 0);

	for (;;) {
		int64_t left = deadline - clock_monotonic_ms();
		struct timespec ts;
		size_t alive = 0;

		for (size_t i = 0; i < pending->nr; i++)
			alive += still_running(&pending->v[i]);
		if (!alive || left <= 0)
			break;
		if (left > 50)
			left = 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);  /* EINTR: just look again */
	}
}

void
enforce_escalate(const struct enforce_pendings *pending, long grace_ms,
		 const struct enforce_exec_options *opts, struct strvec *out,
		 struct strvec *errout)
{
	struct enforce_exec_options resolved, *o = &resolved;
	char name[256];

	if (!pending->nr || opts->dry_run || !opts->send_signals)
		return;
	resolve_hostname(&resolved, opts, name, sizeof(name));
	wait_for_exit(pending, grace_ms);
	for (size_t i = 0; i < pending->nr; i++) {
		const struct enforce_pending *pd = &pending->v[i];
		const char *result = "signalled";

		if (!still_running(pd))
			continue;
		if (grace_ms % 1000)
			strvec_pushf(out, "Killing process %ld that is still running %ld ms after SIGTERM",
				   pd->pid, grace_ms);
		else
			strvec_pushf(out, "Killing process %ld that is still running %ld second%s after SIGTERM",
				   pd->pid, grace_ms / 1000, grace_ms == 1000 ? "" : "s");
		if (kill((pid_t)pd->pid, SIGKILL) < 0)
			result = signal_failed(pd->pid, "kill", errout);
		enforce_audit_add(o, pd->rule, pd->pid, pd->uid, pd->eid, -1, "kill", result, NULL);
	}
}
