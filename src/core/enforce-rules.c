/* SPDX-License-Identifier: MIT */
/*
 * enforce-rules.c: the enforcement options, surveys (which environment
 * each GPU process really belongs to) and genv 1.4.3's four rules over
 * them: processes outside environments, environments on devices they are
 * not attached to, environments over their memory, users over their
 * device limit (enforce.h).
 */
#include "compat.h"
#include "core/enforce.h"
#include "core/devices.h"
#include "core/memory.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* ----- options ----- */

int
enforce_options_add_limit(struct enforce_options *o, const char *spec,
			  struct strbuf *err)
{
	const char *eq = strchr(spec, '=');
	char *end;
	long max;

	/* argparse's spec: exactly one '=', a name and an int */
	if (!eq || eq == spec || strchr(eq + 1, '=') || !eq[1])
		goto bad;
	errno = 0;
	max = strtol(eq + 1, &end, 10);
	if (*end || errno)
		goto bad;
	for (size_t i = 0; i < o->limits_nr; i++) {
		if (strlen(o->limits[i].username) == (size_t)(eq - spec) &&
		    !strncmp(o->limits[i].username, spec, eq - spec)) {
			o->limits[i].maximum = max;
			return 0;
		}
	}
	ALLOC_GROW(o->limits, o->limits_nr + 1, o->limits_alloc);
	o->limits[o->limits_nr].username = xstrndup(spec, eq - spec);
	o->limits[o->limits_nr].maximum = max;
	o->limits_nr++;
	return 0;
bad:
	strbuf_addf(err, "not a valid spec: %s", spec);
	return -1;
}

void
enforce_options_release(struct enforce_options *o)
{
	for (size_t i = 0; i < o->limits_nr; i++)
		free(o->limits[i].username);
	free(o->limits);
	o->limits = NULL;
	o->limits_nr = o->limits_alloc = 0;
}

const char *
enforce_rule_name(enum enforce_rule rule)
{
	switch (rule) {
	case ENFORCE_RULE_NON_ENV_PROCESSES: return "non-env-processes";
	case ENFORCE_RULE_ENV_DEVICES: return "env-devices";
	case ENFORCE_RULE_ENV_MEMORY: return "env-memory";
	case ENFORCE_RULE_MAX_DEVICES_PER_USER: return "max-devices-per-user";
	case ENFORCE_RULE_NONE: break;
	}
	return NULL;
}

/* ----- surveys ----- */

void
survey_init(struct survey *sv, const char *hostname, struct snapshot *snap)
{
	memset(sv, 0, sizeof(*sv));
	sv->hostname = xstrdup_or_null(hostname);
	sv->snapshot = *snap;
	*snap = (struct snapshot)SNAPSHOT_INIT;
	sv->procs_nr = sv->snapshot.processes.nr;
	sv->procs = xcalloc(sv->procs_nr + 1, sizeof(*sv->procs));
	for (size_t i = 0; i < sv->procs_nr; i++) {
		struct survey_process *sp = &sv->procs[i];
		const struct process *p = &sv->snapshot.processes.v[i];
		const struct env *e = p->eid ? envs_find(&sv->snapshot.envs, p->eid) : NULL;

		sp->process = p;
		/*
		 * An env id of a gone env, or one claimed by another user, is no
		 * env. Root's processes count: container runtimes start a user's
		 * environment as root (doc/security.md). A 1.4.3 host's snapshot
		 * has no uids.
		 */
		if (e && (p->uid < 0 || p->uid == 0 || p->uid == e->uid))
			sp->owner = e->eid;
	}
}

void
survey_read_start_times(struct survey *sv)
{
	for (size_t i = 0; i < sv->procs_nr; i++) {
		struct survey_process *sp = &sv->procs[i];

		/* only those to signal: each read costs a /proc round trip */
		if (sp->marked == ENFORCE_RULE_NONE)
			continue;
		if (proc_start_time(sp->process->pid, &sp->start_time) < 0)
			sp->start_time = 0;
	}
}

void
survey_release(struct survey *sv)
{
	free(sv->hostname);
	snapshot_release(&sv->snapshot);
	free(sv->procs);
	for (size_t i = 0; i < sv->detach_nr; i++)
		strvec_clear(&sv->detach[i].eids);
	free(sv->detach);
	memset(sv, 0, sizeof(*sv));
}

/* The first rule to mark a process is the one the audit log names. */
static void
mark(struct survey_process *sp, enum enforce_rule rule)
{
	if (sp->marked == ENFORCE_RULE_NONE)
		sp->marked = rule;
}

static int
process_uses_device(const struct process *p, long index)
{
	for (size_t u = 0; u < p->usage_nr; u++)
		if (p->usage[u].index == index)
			return 1;
	return 0;
}

static int
owned_by(const struct survey_process *sp, const char *eid)
{
	return sp->owner && !strcmp(sp->owner, eid);
}

/* 1.4.3's survey.detach(index, *eids): also terminates their processes there. */
static void
survey_detach(struct survey *sv, long index, const struct strvec *eids,
	      enum enforce_rule rule)
{
	struct survey_detach *d = NULL;

	for (size_t i = 0; i < sv->detach_nr && !d; i++)
		if (sv->detach[i].index == index)
			d = &sv->detach[i];
	if (!d) {
		ALLOC_GROW(sv->detach, sv->detach_nr + 1, sv->detach_alloc);
		d = &sv->detach[sv->detach_nr++];
		d->index = index;
		strvec_init(&d->eids);
	}
	for (size_t e = 0; e < eids->nr; e++) {
		if (!strvec_has(&d->eids, eids->v[e]))
			strvec_push(&d->eids, eids->v[e]);
		for (size_t i = 0; i < sv->procs_nr; i++)
			if (owned_by(&sv->procs[i], eids->v[e]) &&
			    process_uses_device(sv->procs[i].process, index))
				mark(&sv->procs[i], rule);
	}
}

static void
add_line(struct strvec *out, const struct survey *sv, const char *fmt, ...)
	PRINTF(3, 4);

static void
add_line(struct strvec *out, const struct survey *sv, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	if (sv && sv->hostname)
		strbuf_addf(&line, "[%s] ", sv->hostname);
	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	strvec_push_nodup(out, strbuf_detach(&line, NULL));
}

static int
env_attached_to(const struct device *d, const char *eid)
{
	return device_has_eid(d, eid);
}

static void
rule_non_env_processes(struct survey *sv, struct strvec *out)
{
	for (size_t i = 0; i < sv->procs_nr; i++) {
		struct survey_process *sp = &sv->procs[i];

		/*
		 * not "outside": unknown (its environ was unreadable: another
		 * user's, seen by a non-root enforcer; already warned about)
		 */
		if (sp->owner || sp->process->hidden)
			continue;
		add_line(out, sv, "Process %ld is not running in a GPU environment",
			 sp->process->pid);
		mark(sp, ENFORCE_RULE_NON_ENV_PROCESSES);
	}
}

static void
rule_env_devices(struct survey *sv, struct strvec *out)
{
	const struct snapshot *s = &sv->snapshot;
	struct strbuf bad = STRBUF_INIT;

	for (size_t e = 0; e < s->envs.nr; e++) {
		const char *eid = s->envs.v[e].eid;

		for (size_t i = 0; i < sv->procs_nr; i++) {
			const struct process *p = sv->procs[i].process;

			if (!owned_by(&sv->procs[i], eid))
				continue;
			strbuf_reset(&bad);
			for (size_t u = 0; u < p->usage_nr; u++) {
				const struct device *d = devices_find(&s->devices, p->usage[u].index);

				if (d && env_attached_to(d, eid))
					continue;
				strbuf_addf(&bad, "%s%ld", bad.len ? "," : "", p->usage[u].index);
			}
			if (!bad.len)
				continue;
			add_line(out, sv, "Process %ld from environment %s is using non-attached GPU(s) %s",
				 p->pid, eid, bad.buf);
			mark(&sv->procs[i], ENFORCE_RULE_ENV_DEVICES);
		}
	}
	strbuf_release(&bad);
}

/* Bytes of GPU memory process p uses on device index. */
static unsigned long long
usage_on(const struct process *p, long index)
{
	unsigned long long sum = 0;

	for (size_t u = 0; u < p->usage_nr; u++) {
		struct strbuf err = STRBUF_INIT;
		unsigned long long b;

		if (p->usage[u].index != index)
			continue;
		if (p->usage[u].gpu_memory &&
		    !memory_to_bytes(p->usage[u].gpu_memory, &b, &err))
			sum += b;
		strbuf_release(&err);
	}
	return sum;
}

static void
rule_env_memory(struct survey *sv, struct strvec *out, struct strvec *warnings)
{
	const struct snapshot *s = &sv->snapshot;

	for (size_t e = 0; e < s->envs.nr; e++) {
		const struct env *env = &s->envs.v[e];
		struct strbuf err = STRBUF_INIT;
		unsigned long long cap;

		if (!env->config.gpu_memory)
			continue;
		if (memory_to_bytes(env->config.gpu_memory, &cap, &err) < 0) {
			struct strbuf w = STRBUF_INIT;

			if (sv->hostname)
				strbuf_addf(&w, "[%s] ", sv->hostname);
			strbuf_addf(&w, "[WARNING] Skipping the memory rule for environment %s: %s",
				    env->eid, err.buf);
			strvec_push_nodup(warnings, strbuf_detach(&w, NULL));
			strbuf_release(&err);
			continue;
		}
		for (size_t d = 0; d < s->devices.nr; d++) {
			const struct device *dev = &s->devices.v[d];
			unsigned long long used = 0, over, freed = 0;

			if (!env_attached_to(dev, env->eid))
				continue;
			for (size_t i = 0; i < sv->procs_nr; i++)
				if (owned_by(&sv->procs[i], env->eid))
					used += usage_on(sv->procs[i].process, dev->index);
			if (used <= cap)
				continue;
			over = used - cap;
			add_line(out, sv, "Environment %s is using %llum on device %ld which is %llum over its capacity of %s",
				 env->eid, used / 1000000, dev->index, over / 1000000,
				 env->config.gpu_memory);
			for (size_t i = 0; i < sv->procs_nr && freed < over; i++) {
				const struct process *p = sv->procs[i].process;

				if (!owned_by(&sv->procs[i], env->eid) ||
				    !process_uses_device(p, dev->index))
					continue;
				mark(&sv->procs[i], ENFORCE_RULE_ENV_MEMORY);
				freed += usage_on(p, dev->index);
			}
		}
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static long
user_limit(const struct enforce_options *o, const char *user)
{
	for (size_t i = 0; i < o->limits_nr; i++)
		if (!strcmp(o->limits[i].username, user))
			return o->limits[i].maximum;
	return o->max_devices_per_user;
}

static int
is_user_env(const struct envs *envs, const char *eid, const char *user)
{
	const struct env *e = envs_find(envs, eid);

	return e && e->username && !strcmp(e->username, user);
}

/* The user's eids attached to dev, in attachment order, without repeats. */
static void
user_eids_on(const struct survey *sv, const struct device *dev, const char *user,
	     struct strvec *eids)
{
	for (size_t a = 0; a < dev->att_nr; a++)
		if (is_user_env(&sv->snapshot.envs, dev->att[a].eid, user) &&
		    !strvec_has(eids, dev->att[a].eid))
			strvec_push(eids, dev->att[a].eid);
}

/* Every username with an environment in a survey, sorted. */
static void
all_users(const struct survey *surveys, size_t nr, struct strvec *users)
{
	for (size_t s = 0; s < nr; s++) {
		const struct envs *envs = &surveys[s].snapshot.envs;

		for (size_t e = 0; e < envs->nr; e++)
			if (envs->v[e].username && !strvec_has(users, envs->v[e].username))
				strvec_push(users, envs->v[e].username);
	}
	/* sorted: 1.4.3 judged users in hash order */
	if (users->nr)
		qsort(users->v, users->nr, sizeof(*users->v), cmp_str);
}

/* How many devices user's environments are attached to, and on how many hosts. */
static long
user_devices(const struct survey *surveys, size_t nr, const char *user, long *hosts)
{
	long attached = 0;

	*hosts = 0;
	for (size_t s = 0; s < nr; s++) {
		const struct snapshot *snap = &surveys[s].snapshot;
		int has_env = 0;

		for (size_t e = 0; e < snap->envs.nr && !has_env; e++)
			has_env = snap->envs.v[e].username &&
				  !strcmp(snap->envs.v[e].username, user);
		*hosts += has_env;
		for (size_t d = 0; d < snap->devices.nr; d++) {
			struct strvec eids = STRVEC_INIT;

			user_eids_on(&surveys[s], &snap->devices.v[d], user, &eids);
			attached += eids.nr > 0;
			strvec_clear(&eids);
		}
	}
	return attached;
}

/* Detaches user from over devices, lowest hosts and indices first. */
static void
detach_user(struct survey *surveys, size_t nr, const char *user, long over)
{
	for (size_t s = 0; s < nr && over > 0; s++) {
		const struct snapshot *snap = &surveys[s].snapshot;

		for (size_t d = 0; d < snap->devices.nr && over > 0; d++) {
			struct strvec eids = STRVEC_INIT;

			user_eids_on(&surveys[s], &snap->devices.v[d], user, &eids);
			if (eids.nr) {
				survey_detach(&surveys[s], snap->devices.v[d].index, &eids,
					      ENFORCE_RULE_MAX_DEVICES_PER_USER);
				over--;
			}
			strvec_clear(&eids);
		}
	}
}

static void
rule_max_devices_per_user(struct survey *surveys, size_t nr,
			  const struct enforce_options *o, struct strvec *out)
{
	struct strvec users = STRVEC_INIT;
	int all_remote = nr > 0;

	for (size_t s = 0; s < nr; s++)
		if (!surveys[s].hostname)
			all_remote = 0;
	all_users(surveys, nr, &users);
	for (size_t u = 0; u < users.nr; u++) {
		const char *user = users.v[u];
		long hosts, attached = user_devices(surveys, nr, user, &hosts);
		long over = attached - user_limit(o, user);

		if (over <= 0)
			continue;
		if (all_remote)
			add_line(out, NULL, "User %s is using %ld devices on %ld hosts which is %ld more than the maximum allowed",
				 user, attached, hosts, over);
		else
			add_line(out, NULL, "User %s is using %ld devices which is %ld more than the maximum allowed",
				 user, attached, over);
		detach_user(surveys, nr, user, over);
	}
	strvec_clear(&users);
}

void
enforce_run_rules(struct survey *surveys, size_t nr,
		  const struct enforce_options *o, struct strvec *out,
		  struct strvec *warnings)
{
	if (o->non_env_processes)
		for (size_t s = 0; s < nr; s++)
			rule_non_env_processes(&surveys[s], out);
	if (o->env_devices)
		for (size_t s = 0; s < nr; s++)
			rule_env_devices(&surveys[s], out);
	if (o->env_memory)
		for (size_t s = 0; s < nr; s++)
			rule_env_memory(&surveys[s], out, warnings);
	if (o->max_devices)
		rule_max_devices_per_user(surveys, nr, o, out);
}
