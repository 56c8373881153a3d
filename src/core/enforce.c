/* SPDX-License-Identifier: MIT */
/*
 * enforce.c: the enforcement rules of genv 1.4.3 (processes outside
 * environments, environments on devices they are not attached to, over
 * their memory, users over their device limit), the Report they produce,
 * and its execution (SIGTERM, detach, SIGKILL after a grace period).
 */
#include "compat.h"
#include "core/enforce.h"
#include "core/devices.h"
#include "core/memory.h"
#include "core/store.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

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

/* ----- report ----- */

void
report_release(struct report *r)
{
	processes_release(&r->terminate);
	for (size_t i = 0; i < r->detach_nr; i++)
		envs_release(&r->detach[i].envs);
	free(r->detach);
	free(r->rule);
	free(r->start_time);
	*r = (struct report)REPORT_INIT;
}

int
report_is_empty(const struct report *r)
{
	return !r->terminate.nr && !r->detach_nr;
}

json_t *
report_to_json(const struct report *r)
{
	json_t *obj = json_object(), *detach = json_object();

	json_object_set_new(obj, "terminate", processes_to_json(&r->terminate));
	for (size_t i = 0; i < r->detach_nr; i++) {
		struct strbuf key = STRBUF_INIT;

		strbuf_addf(&key, "%ld", r->detach[i].index);
		json_object_set_new(detach, key.buf, envs_to_json(&r->detach[i].envs));
		strbuf_release(&key);
	}
	json_object_set_new(obj, "detach", detach);
	return obj;
}

void
report_serialize(const struct report *r, struct strbuf *out)
{
	json_t *obj = report_to_json(r);

	json_dump_py(out, obj, JSON_STYLE_LINE);
	json_decref(obj);
}

static struct report_detach *
report_detach_entry(struct report *r, long index)
{
	for (size_t i = 0; i < r->detach_nr; i++)
		if (r->detach[i].index == index)
			return &r->detach[i];
	ALLOC_GROW(r->detach, r->detach_nr + 1, r->detach_alloc);
	r->detach[r->detach_nr].index = index;
	r->detach[r->detach_nr].envs = (struct envs)ENVS_INIT;
	return &r->detach[r->detach_nr++];
}

int
report_parse(struct report *r, const char *text, size_t len, const char *what,
	     struct strbuf *err)
{
	json_t *root = json_parse(text, len, what, err), *terminate, *detach, *val;
	struct strbuf where = STRBUF_INIT;
	const char *key;
	int rc = -1;

	if (!root)
		return -1;
	if (!json_is_object(root) || json_object_size(root) != 2 ||
	    !(terminate = json_object_get(root, "terminate")) ||
	    !(detach = json_object_get(root, "detach"))) {
		strbuf_addf(err, "%s: expected a report object with exactly the keys "
			    "\"terminate\" and \"detach\"", what);
		goto out;
	}
	strbuf_addf(&where, "%s: terminate", what);
	if (processes_from_json(&r->terminate, terminate, where.buf, err) < 0)
		goto out;
	if (!json_is_object(detach)) {
		strbuf_addf(err, "%s: detach: expected an object", what);
		goto out;
	}
	json_object_foreach(detach, key, val) {
		struct report_detach *d;
		char *end;
		long index;

		errno = 0;
		index = strtol(key, &end, 10);
		if (!*key || *end || errno || index < 0 || (key[0] == '0' && key[1])) {
			strbuf_addf(err, "%s: detach: \"%s\" is not a device index", what, key);
			goto out;
		}
		d = report_detach_entry(r, index);
		strbuf_reset(&where);
		strbuf_addf(&where, "%s: detach.%s", what, key);
		if (envs_from_json(&d->envs, val, where.buf, err) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		report_release(r);
	strbuf_release(&where);
	json_decref(root);
	return rc;
}

/* ----- surveys ----- */

void
survey_init(struct survey *sv, const char *hostname, struct snapshot *snap)
{
	size_t n;

	memset(sv, 0, sizeof(*sv));
	sv->hostname = xstrdup_or_null(hostname);
	sv->snapshot = *snap;
	*snap = (struct snapshot)SNAPSHOT_INIT;
	n = sv->snapshot.processes.nr;
	sv->owner = xcalloc(n + 1, sizeof(*sv->owner));
	sv->start_time = xcalloc(n + 1, sizeof(*sv->start_time));
	sv->marked = xcalloc(n + 1, sizeof(*sv->marked));
	for (size_t i = 0; i < n; i++) {
		const struct process *p = &sv->snapshot.processes.v[i];
		const struct env *e = p->eid ? envs_find(&sv->snapshot.envs, p->eid) : NULL;

		/* an env id of a gone env, or one claimed by another user, is no env */
		if (e && (p->uid < 0 || p->uid == e->uid))
			sv->owner[i] = e->eid;
	}
}

void
survey_read_start_times(struct survey *sv)
{
	for (size_t i = 0; i < sv->snapshot.processes.nr; i++) {
		/* only those to signal: each read costs a /proc round trip */
		if (sv->marked[i] == ENFORCE_RULE_NONE)
			continue;
		if (enforce_proc_start_time(sv->snapshot.processes.v[i].pid,
					    &sv->start_time[i]) < 0)
			sv->start_time[i] = 0;
	}
}

void
survey_release(struct survey *sv)
{
	free(sv->hostname);
	snapshot_release(&sv->snapshot);
	free(sv->owner);
	free(sv->start_time);
	free(sv->marked);
	for (size_t i = 0; i < sv->detach_nr; i++)
		strvec_clear(&sv->detach[i].eids);
	free(sv->detach);
	memset(sv, 0, sizeof(*sv));
}

static void
survey_mark(struct survey *sv, size_t i, enum enforce_rule rule)
{
	if (sv->marked[i] == ENFORCE_RULE_NONE)
		sv->marked[i] = rule;
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
owned_by(const struct survey *sv, size_t i, const char *eid)
{
	return sv->owner[i] && !strcmp(sv->owner[i], eid);
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
		for (size_t i = 0; i < sv->snapshot.processes.nr; i++)
			if (owned_by(sv, i, eids->v[e]) &&
			    process_uses_device(&sv->snapshot.processes.v[i], index))
				survey_mark(sv, i, rule);
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
	for (size_t i = 0; i < sv->snapshot.processes.nr; i++) {
		if (sv->owner[i])
			continue;
		add_line(out, sv, "Process %ld is not running in a GPU environment",
			 sv->snapshot.processes.v[i].pid);
		survey_mark(sv, i, ENFORCE_RULE_NON_ENV_PROCESSES);
	}
}

static void
rule_env_devices(struct survey *sv, struct strvec *out)
{
	const struct snapshot *s = &sv->snapshot;
	struct strbuf bad = STRBUF_INIT;

	for (size_t e = 0; e < s->envs.nr; e++) {
		const char *eid = s->envs.v[e].eid;

		for (size_t i = 0; i < s->processes.nr; i++) {
			const struct process *p = &s->processes.v[i];

			if (!owned_by(sv, i, eid))
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
			survey_mark(sv, i, ENFORCE_RULE_ENV_DEVICES);
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
			for (size_t i = 0; i < s->processes.nr; i++)
				if (owned_by(sv, i, env->eid))
					used += usage_on(&s->processes.v[i], dev->index);
			if (used <= cap)
				continue;
			over = used - cap;
			add_line(out, sv, "Environment %s is using %llum on device %ld which is %llum over its capacity of %s",
				 env->eid, used / 1000000, dev->index, over / 1000000,
				 env->config.gpu_memory);
			for (size_t i = 0; i < s->processes.nr && freed < over; i++) {
				const struct process *p = &s->processes.v[i];

				if (!owned_by(sv, i, env->eid) || !process_uses_device(p, dev->index))
					continue;
				survey_mark(sv, i, ENFORCE_RULE_ENV_MEMORY);
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

static void
rule_max_devices_per_user(struct survey *surveys, size_t nr,
			  const struct enforce_options *o, struct strvec *out)
{
	struct strvec users = STRVEC_INIT;
	int all_remote = nr > 0;

	for (size_t s = 0; s < nr; s++) {
		const struct envs *envs = &surveys[s].snapshot.envs;

		if (!surveys[s].hostname)
			all_remote = 0;
		for (size_t e = 0; e < envs->nr; e++)
			if (envs->v[e].username && !strvec_has(&users, envs->v[e].username))
				strvec_push(&users, envs->v[e].username);
	}
	/* sorted: 1.4.3 judged users in hash order (gap 23) */
	if (users.nr)
		qsort(users.v, users.nr, sizeof(*users.v), cmp_str);

	for (size_t u = 0; u < users.nr; u++) {
		const char *user = users.v[u];
		long attached = 0, hosts = 0, over;

		for (size_t s = 0; s < nr; s++) {
			const struct snapshot *snap = &surveys[s].snapshot;
			int has_env = 0;

			for (size_t e = 0; e < snap->envs.nr && !has_env; e++)
				has_env = snap->envs.v[e].username &&
					  !strcmp(snap->envs.v[e].username, user);
			hosts += has_env;
			for (size_t d = 0; d < snap->devices.nr; d++) {
				struct strvec eids = STRVEC_INIT;

				user_eids_on(&surveys[s], &snap->devices.v[d], user, &eids);
				attached += eids.nr > 0;
				strvec_clear(&eids);
			}
		}
		over = attached - user_limit(o, user);
		if (over <= 0)
			continue;
		if (all_remote)
			add_line(out, NULL, "User %s is using %ld devices on %ld hosts which is %ld more than the maximum allowed",
				 user, attached, hosts, over);
		else
			add_line(out, NULL, "User %s is using %ld devices which is %ld more than the maximum allowed",
				 user, attached, over);
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

void
survey_report(const struct survey *sv, struct report *r)
{
	const struct snapshot *s = &sv->snapshot;
	size_t n = 0;

	for (size_t i = 0; i < s->processes.nr; i++)
		n += sv->marked[i] != ENFORCE_RULE_NONE;
	r->rule = xcalloc(n + 1, sizeof(*r->rule));
	r->start_time = xcalloc(n + 1, sizeof(*r->start_time));
	for (size_t i = 0; i < s->processes.nr; i++) {
		struct process *p;

		if (sv->marked[i] == ENFORCE_RULE_NONE)
			continue;
		ALLOC_GROW(r->terminate.v, r->terminate.nr + 1, r->terminate.alloc);
		p = &r->terminate.v[r->terminate.nr];
		process_copy(p, &s->processes.v[i]);
		/* the report names the env the process really belongs to */
		free(p->eid);
		p->eid = xstrdup_or_null(sv->owner[i]);
		r->rule[r->terminate.nr] = sv->marked[i];
		r->start_time[r->terminate.nr] = sv->start_time[i];
		r->terminate.nr++;
	}
	for (size_t d = 0; d < sv->detach_nr; d++) {
		struct report_detach *rd = report_detach_entry(r, sv->detach[d].index);

		for (size_t e = 0; e < sv->detach[d].eids.nr; e++) {
			const struct env *env = envs_find(&s->envs, sv->detach[d].eids.v[e]);

			if (!env)
				continue;
			ALLOC_GROW(rd->envs.v, rd->envs.nr + 1, rd->envs.alloc);
			env_copy(&rd->envs.v[rd->envs.nr++], env);
		}
	}
}

/* ----- execution ----- */

int
enforce_proc_start_time(long pid, unsigned long long *start_time)
{
	struct strbuf path = STRBUF_INIT, stat = STRBUF_INIT, err = STRBUF_INIT;
	const char *p;
	int rc = -1;

	if (pid <= 0)
		return -1;
	strbuf_addf(&path, "/proc/%ld/stat", pid);
	if (read_file_sb(&stat, path.buf, &err) < 0)
		goto out;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(stat.buf, ')');
	if (!p || p[1] != ' ')
		goto out;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		goto out;
	/* state is field 3, starttime field 22 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			goto out;
		p++;
	}
	*start_time = strtoull(p, NULL, 10);
	rc = 0;
out:
	strbuf_release(&path);
	strbuf_release(&stat);
	strbuf_release(&err);
	return rc;
}

/* The real uid of pid from /proc/PID/status, or -1. */
static long long
proc_real_uid(long pid)
{
	struct strbuf path = STRBUF_INIT, status = STRBUF_INIT, err = STRBUF_INIT;
	long long uid = -1;
	const char *p;

	strbuf_addf(&path, "/proc/%ld/status", pid);
	if (!read_file_sb(&status, path.buf, &err) &&
	    (p = strstr(status.buf, "\nUid:")))
		uid = strtoll(p + 5, NULL, 10);
	strbuf_release(&path);
	strbuf_release(&status);
	strbuf_release(&err);
	return uid;
}

static void
audit_add(const struct enforce_exec_options *o, enum enforce_rule rule, long pid,
	  long long uid, const char *eid, long device, const char *action,
	  const char *result)
{
	struct strbuf host = STRBUF_INIT, stamp = STRBUF_INIT;
	char tbuf[64];
	struct tm tm;
	time_t now;
	json_t *obj;

	if (!o->audit)
		return;
	strbuf_addstr(&host, o->hostname ? o->hostname : "");
	now = time(NULL);
	if (gmtime_r(&now, &tm) && strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		strbuf_addstr(&stamp, tbuf);
	obj = json_object();
	json_object_set_new(obj, "time", json_string(stamp.buf));
	json_object_set_new(obj, "host", json_string_or_null(host.buf));
	json_object_set_new(obj, "rule", json_string_or_null(enforce_rule_name(rule)));
	json_object_set_new(obj, "pid", pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(obj, "uid", uid >= 0 ? json_integer(uid) : json_null());
	json_object_set_new(obj, "eid", json_string_or_null(eid));
	if (device >= 0)
		json_object_set_new(obj, "device", json_integer(device));
	json_object_set_new(obj, "action", json_string(action));
	json_object_set_new(obj, "result", json_string(result));
	json_dump_py(o->audit, obj, JSON_STYLE_LINE);
	strbuf_addch(o->audit, '\n');
	json_decref(obj);
	strbuf_release(&host);
	strbuf_release(&stamp);
}

static void
push_linef(struct strvec *out, const char *fmt, ...) PRINTF(2, 3);

static void
push_linef(struct strvec *out, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	strvec_push_nodup(out, strbuf_detach(&line, NULL));
}

static void
terminate_one(const struct report *r, size_t i, const struct enforce_exec_options *o,
	      struct strvec *out, struct strvec *errout,
	      struct enforce_pendings *pending)
{
	const struct process *p = &r->terminate.v[i];
	enum enforce_rule rule = r->rule ? r->rule[i] : ENFORCE_RULE_NONE;
	unsigned long long known = r->start_time ? r->start_time[i] : 0, now_start;
	long long uid = p->uid >= 0 ? p->uid : proc_real_uid(p->pid);
	struct strbuf gpus = STRBUF_INIT;

	for (size_t u = 0; u < p->usage_nr; u++)
		strbuf_addf(&gpus, "%s%ld", u ? "," : "", p->usage[u].index);
	push_linef(out, "%sTerminating process %ld from environment %s that is running on GPU(s) %s",
		   o->dry_run ? "[dry-run] " : "", p->pid, p->eid ? p->eid : "N/A", gpus.buf);
	strbuf_release(&gpus);

	if (o->dry_run) {
		audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "dry-run");
		return;
	}
	if (!o->send_signals) {
		audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "disabled");
		return;
	}
	/* a pid that now names another process is not ours to signal */
	if (enforce_proc_start_time(p->pid, &now_start) < 0 ||
	    (known && known != now_start)) {
		push_linef(errout, "[DEBUG] Process %ld already terminated", p->pid);
		audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "already-terminated");
		return;
	}
	if (kill((pid_t)p->pid, SIGTERM) < 0) {
		if (errno == EPERM) {
			push_linef(errout, "[ERROR] Not enough permissions to terminate process %ld", p->pid);
			audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "permission-denied");
		} else if (errno == ESRCH) {
			push_linef(errout, "[DEBUG] Process %ld already terminated", p->pid);
			audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "already-terminated");
		} else {
			push_linef(errout, "[ERROR] Cannot terminate process %ld: %s",
				   p->pid, strerror(errno));
			audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "failed");
		}
		return;
	}
	audit_add(o, rule, p->pid, uid, p->eid, -1, "terminate", "signalled");
	if (pending) {
		struct enforce_pending *pd;

		ALLOC_GROW(pending->v, pending->nr + 1, pending->alloc);
		pd = &pending->v[pending->nr++];
		pd->pid = p->pid;
		pd->start_time = now_start;
		pd->uid = uid;
		pd->eid = xstrdup_or_null(p->eid);
		pd->rule = rule;
	}
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

int
enforce_execute(struct store *st, const struct report *r,
		const struct enforce_exec_options *opts, struct strvec *out,
		struct strvec *errout, struct enforce_pendings *pending,
		struct strbuf *err)
{
	struct enforce_exec_options resolved, *o = &resolved;
	struct devices devs = DEVICES_INIT;
	char name[256];
	int rc = -1;

	resolve_hostname(&resolved, opts, name, sizeof(name));

	for (size_t i = 0; i < r->terminate.nr; i++)
		terminate_one(r, i, o, out, errout, pending);
	if (!r->detach_nr)
		return 0;
	if (!o->dry_run) {
		if (!st) {
			strbuf_addstr(err, "cannot detach environments: no state directory");
			return -1;
		}
		if (store_load_devices(st, &devs, NULL, STORE_CLEANUP, err) < 0)
			goto out;
	}
	for (size_t d = 0; d < r->detach_nr; d++) {
		const struct report_detach *rd = &r->detach[d];

		for (size_t e = 0; e < rd->envs.nr; e++) {
			const struct env *env = &rd->envs.v[e];

			push_linef(out, "%sDetaching environment %s of user %s from device %ld",
				   o->dry_run ? "[dry-run] " : "", env->eid,
				   env->username ? env->username : "N/A", rd->index);
			if (!o->dry_run)
				devices_detach(&devs, env->eid, rd->index);
			audit_add(o, ENFORCE_RULE_MAX_DEVICES_PER_USER, -1, env->uid, env->eid,
				  rd->index, "detach", o->dry_run ? "dry-run" : "detached");
		}
	}
	if (!o->dry_run && store_save_devices(st, &devs, err) < 0)
		goto out;
	rc = 0;
out:
	devices_release(&devs);
	return rc;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
still_running(const struct enforce_pending *pd)
{
	unsigned long long start;

	return !enforce_proc_start_time(pd->pid, &start) && start == pd->start_time;
}

void
enforce_escalate(const struct enforce_pendings *pending, long grace_ms,
		 const struct enforce_exec_options *opts, struct strvec *out,
		 struct strvec *errout)
{
	long long deadline = now_ms() + (grace_ms > 0 ? grace_ms : 0);
	struct enforce_exec_options resolved, *o = &resolved;
	char name[256];

	resolve_hostname(&resolved, opts, name, sizeof(name));

	if (!pending->nr || o->dry_run || !o->send_signals)
		return;
	for (;;) {
		long long left = deadline - now_ms();
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
	for (size_t i = 0; i < pending->nr; i++) {
		const struct enforce_pending *pd = &pending->v[i];

		if (!still_running(pd))
			continue;
		if (grace_ms % 1000)
			push_linef(out, "Killing process %ld that is still running %ld ms after SIGTERM",
				   pd->pid, grace_ms);
		else
			push_linef(out, "Killing process %ld that is still running %ld second%s after SIGTERM",
				   pd->pid, grace_ms / 1000, grace_ms == 1000 ? "" : "s");
		if (kill((pid_t)pd->pid, SIGKILL) < 0) {
			if (errno == ESRCH) {
				push_linef(errout, "[DEBUG] Process %ld already terminated", pd->pid);
				audit_add(o, pd->rule, pd->pid, pd->uid, pd->eid, -1, "kill",
					  "already-terminated");
			} else {
				push_linef(errout, "[ERROR] Not enough permissions to kill process %ld",
					   pd->pid);
				audit_add(o, pd->rule, pd->pid, pd->uid, pd->eid, -1, "kill",
					  "permission-denied");
			}
			continue;
		}
		audit_add(o, pd->rule, pd->pid, pd->uid, pd->eid, -1, "kill", "signalled");
	}
}

int
enforce_audit_write(const char *path, const struct strbuf *lines, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash;
	int fd, rc = -1;

	if (!lines->len)
		return 0;
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		strbuf_add(&dir, path, slash - path);
		if (mkdir_p(dir.buf, 0755, err) < 0)
			goto out;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "cannot open audit log '%s'", path);
		strbuf_add_errno(err, errno);
		goto out;
	}
	/* one write: concurrent enforcers' lines do not interleave */
	if (write_all(fd, lines->buf, lines->len) < 0) {
		strbuf_addf(err, "cannot write audit log '%s'", path);
		strbuf_add_errno(err, errno);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "cannot write audit log '%s'", path);
		strbuf_add_errno(err, errno);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&dir);
	return rc;
}
