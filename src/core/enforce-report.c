/* SPDX-License-Identifier: MIT */
/*
 * enforce-report.c: the Report, what enforcement does on one machine (the
 * processes to terminate, the environments to detach per device), built
 * from a survey or parsed from the 1.4.3 JSON that `genv remote enforce`
 * sends to `genv usage execute` (enforce.h).
 */
#include "compat.h"
#include "core/enforce.h"
#include "core/state-json.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

void
report_release(struct report *r)
{
	for (size_t i = 0; i < r->terminate.nr; i++)
		process_release(&r->terminate.v[i].process);
	free(r->terminate.v);
	for (size_t i = 0; i < r->detach_nr; i++)
		envs_release(&r->detach[i].envs);
	free(r->detach);
	*r = (struct report)REPORT_INIT;
}

int
report_is_empty(const struct report *r)
{
	return !r->terminate.nr && !r->detach_nr;
}

/* A new zeroed entry at the end of r->terminate. */
static struct report_process *
terminate_slot(struct report *r)
{
	struct report_process *rp;

	ALLOC_GROW(r->terminate.v, r->terminate.nr + 1, r->terminate.alloc);
	rp = &r->terminate.v[r->terminate.nr++];
	memset(rp, 0, sizeof(*rp));
	return rp;
}

struct report_process *
report_add_process(struct report *r, long pid, const char *eid)
{
	struct report_process *rp = terminate_slot(r);

	rp->process.pid = pid;
	rp->process.eid = xstrdup_or_null(eid);
	rp->process.uid = -1;
	return rp;
}

json_t *
report_to_json(const struct report *r)
{
	json_t *obj = json_object(), *detach = json_object();
	/* the JSON has only the processes: a shallow view of them */
	struct processes view = PROCESSES_INIT;

	view.v = xcalloc(r->terminate.nr + 1, sizeof(*view.v));
	for (size_t i = 0; i < r->terminate.nr; i++)
		view.v[view.nr++] = r->terminate.v[i].process;
	json_object_set_new(obj, "terminate", processes_to_json(&view));
	free(view.v);
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

/* "terminate": {"processes": [...]}; the processes move into r. */
static int
parse_terminate(struct report *r, const json_t *terminate, const char *what,
		struct strbuf *err)
{
	struct processes ps = PROCESSES_INIT;
	struct strbuf where = STRBUF_INIT;
	int rc;

	strbuf_addf(&where, "%s: terminate", what);
	rc = processes_from_json(&ps, terminate, where.buf, err);
	for (size_t i = 0; !rc && i < ps.nr; i++)
		terminate_slot(r)->process = ps.v[i];
	if (rc)
		processes_release(&ps);
	else
		free(ps.v);
	strbuf_release(&where);
	return rc;
}

/* "detach": {"<index>": {"envs": [...]}, ...} */
static int
parse_detach(struct report *r, const json_t *detach, const char *what,
	     struct strbuf *err)
{
	struct strbuf where = STRBUF_INIT;
	const char *key;
	json_t *val;
	int rc = -1;

	if (!json_is_object(detach)) {
		strbuf_addf(err, "%s: detach: expected an object", what);
		return -1;
	}
	json_object_foreach((json_t *)detach, key, val) {
		char *end;
		long index;

		errno = 0;
		index = strtol(key, &end, 10);
		if (!*key || *end || errno || index < 0 || (key[0] == '0' && key[1])) {
			strbuf_addf(err, "%s: detach: \"%s\" is not a device index", what, key);
			goto out;
		}
		strbuf_reset(&where);
		strbuf_addf(&where, "%s: detach.%s", what, key);
		if (envs_from_json(&report_detach_entry(r, index)->envs, val,
				   where.buf, err) < 0)
			goto out;
	}
	rc = 0;
out:
	strbuf_release(&where);
	return rc;
}

int
report_parse(struct report *r, const char *text, size_t len, const char *what,
	     struct strbuf *err)
{
	json_t *root = json_parse(text, len, what, err), *terminate, *detach;
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
	if (parse_terminate(r, terminate, what, err) < 0 ||
	    parse_detach(r, detach, what, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		report_release(r);
	json_decref(root);
	return rc;
}

void
survey_report(const struct survey *sv, struct report *r)
{
	const struct snapshot *s = &sv->snapshot;

	for (size_t i = 0; i < sv->procs_nr; i++) {
		const struct survey_process *sp = &sv->procs[i];
		struct report_process *rp;

		if (sp->marked == ENFORCE_RULE_NONE)
			continue;
		rp = terminate_slot(r);
		process_copy(&rp->process, sp->process);
		/* the report names the env the process really belongs to */
		free(rp->process.eid);
		rp->process.eid = xstrdup_or_null(sp->owner);
		rp->rule = sp->marked;
		rp->start_time = sp->start_time;
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
