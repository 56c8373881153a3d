/* SPDX-License-Identifier: MIT */
/*
 * state.c: genv's data model (state.h): environments, devices and their
 * attachments, GPU processes and snapshots, and what may be done to them
 * in memory. Their JSON form is state-json.c.
 */
#include "compat.h"
#include "core/state.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* ----- environments ----- */

void
env_config_release(struct env_config *c)
{
	free(c->name);
	free(c->gpu_memory);
	*c = (struct env_config)ENV_CONFIG_INIT;
}

void
env_config_copy(struct env_config *dst, const struct env_config *src)
{
	dst->name = xstrdup_or_null(src->name);
	dst->gpu_memory = xstrdup_or_null(src->gpu_memory);
	dst->has_gpus = src->has_gpus;
	dst->gpus = src->gpus;
}

void
env_config_set_field(struct env_config *c, enum env_config_field field,
		     const char *value, long gpus)
{
	switch (field) {
	case ENV_CONFIG_NAME:
		free(c->name);
		c->name = xstrdup_or_null(value);
		break;
	case ENV_CONFIG_GPU_MEMORY:
		free(c->gpu_memory);
		c->gpu_memory = xstrdup_or_null(value);
		break;
	case ENV_CONFIG_GPUS:
		c->has_gpus = gpus >= 0;
		c->gpus = gpus >= 0 ? gpus : 0;
		break;
	}
}

void
env_copy(struct env *dst, const struct env *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->eid = xstrdup(src->eid);
	dst->uid = src->uid;
	dst->creation = xstrdup_or_null(src->creation);
	dst->username = xstrdup_or_null(src->username);
	env_config_copy(&dst->config, &src->config);
	if (src->pids_nr) {
		dst->pids = xmalloc(src->pids_nr * sizeof(*dst->pids));
		memcpy(dst->pids, src->pids, src->pids_nr * sizeof(*dst->pids));
		dst->pids_nr = dst->pids_alloc = src->pids_nr;
	}
	strvec_init(&dst->kernel_ids);
	for (size_t i = 0; i < src->kernel_ids.nr; i++)
		strvec_push(&dst->kernel_ids, src->kernel_ids.v[i]);
}

void
env_release(struct env *e)
{
	free(e->eid);
	free(e->creation);
	free(e->username);
	env_config_release(&e->config);
	free(e->pids);
	strvec_clear(&e->kernel_ids);
	memset(e, 0, sizeof(*e));
	strvec_init(&e->kernel_ids);
}

void
env_add_pid(struct env *e, long pid)
{
	ALLOC_GROW(e->pids, e->pids_nr + 1, e->pids_alloc);
	e->pids[e->pids_nr++] = pid;
}

void
envs_release(struct envs *envs)
{
	for (size_t i = 0; i < envs->nr; i++)
		env_release(&envs->v[i]);
	free(envs->v);
	*envs = (struct envs)ENVS_INIT;
}

struct env *
envs_find(const struct envs *envs, const char *eid)
{
	for (size_t i = 0; i < envs->nr; i++)
		if (!strcmp(envs->v[i].eid, eid))
			return &envs->v[i];
	return NULL;
}

struct env *
envs_append(struct envs *envs, const char *eid)
{
	struct env *e;

	ALLOC_GROW(envs->v, envs->nr + 1, envs->alloc);
	e = &envs->v[envs->nr++];
	memset(e, 0, sizeof(*e));
	e->eid = xstrdup_or_null(eid);
	strvec_init(&e->kernel_ids);
	return e;
}

void
envs_remove_at(struct envs *envs, size_t i)
{
	if (i >= envs->nr)
		return;
	env_release(&envs->v[i]);
	memmove(&envs->v[i], &envs->v[i + 1], (envs->nr - i - 1) * sizeof(*envs->v));
	envs->nr--;
}

/* Sorts by eid, then by position, so that equal eids keep their order. */
static int
cmp_env_eid(const void *a, const void *b)
{
	const struct env *x = *(const struct env *const *)a;
	const struct env *y = *(const struct env *const *)b;
	int c = strcmp(x->eid, y->eid);

	return c ? c : (x > y) - (x < y);
}

void
envs_index_build(struct envs_index *idx, const struct envs *envs)
{
	idx->nr = envs->nr;
	idx->v = xmalloc((envs->nr + 1) * sizeof(*idx->v));
	for (size_t i = 0; i < envs->nr; i++)
		idx->v[i] = &envs->v[i];
	if (idx->nr > 1)
		qsort(idx->v, idx->nr, sizeof(*idx->v), cmp_env_eid);
}

const struct env *
envs_index_find(const struct envs_index *idx, const char *eid)
{
	size_t lo = 0, hi = idx->nr;

	/* the first of equal eids, as envs_find() would find it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(idx->v[mid]->eid, eid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < idx->nr && !strcmp(idx->v[lo]->eid, eid) ? idx->v[lo] : NULL;
}

void
envs_index_release(struct envs_index *idx)
{
	free(idx->v);
	idx->v = NULL;
	idx->nr = 0;
}

size_t
envs_first_duplicate(const struct envs *envs)
{
	struct envs_index idx = ENVS_INDEX_INIT;
	size_t first = envs->nr;

	envs_index_build(&idx, envs);
	/* equal eids are adjacent, in envs order: any but the first repeats */
	for (size_t i = 1; i < idx.nr; i++) {
		size_t pos = (size_t)(idx.v[i] - envs->v);

		if (pos < first && !strcmp(idx.v[i - 1]->eid, idx.v[i]->eid))
			first = pos;
	}
	envs_index_release(&idx);
	return first;
}

/* ----- devices ----- */

void
device_release(struct device *d)
{
	for (size_t i = 0; i < d->att_nr; i++) {
		free(d->att[i].eid);
		free(d->att[i].gpu_memory);
		free(d->att[i].time);
	}
	free(d->att);
	free(d->total_memory);
	memset(d, 0, sizeof(*d));
}

void
device_copy(struct device *dst, const struct device *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->index = src->index;
	dst->total_memory = xstrdup_or_null(src->total_memory);
	for (size_t i = 0; i < src->att_nr; i++)
		device_attach(dst, src->att[i].eid, src->att[i].gpu_memory,
			      src->att[i].time);
}

void
device_attach(struct device *d, const char *eid, const char *gpu_memory,
	      const char *time)
{
	struct attachment *a;

	ALLOC_GROW(d->att, d->att_nr + 1, d->att_alloc);
	a = &d->att[d->att_nr++];
	a->eid = xstrdup(eid);
	a->gpu_memory = xstrdup_or_null(gpu_memory);
	a->time = xstrdup_or_null(time);
}

size_t
device_detach(struct device *d, const char *eid)
{
	size_t kept = 0, removed = 0;

	for (size_t i = 0; i < d->att_nr; i++) {
		if (!strcmp(d->att[i].eid, eid)) {
			free(d->att[i].eid);
			free(d->att[i].gpu_memory);
			free(d->att[i].time);
			removed++;
		} else {
			d->att[kept++] = d->att[i];
		}
	}
	d->att_nr = kept;
	return removed;
}

int
device_has_eid(const struct device *d, const char *eid)
{
	for (size_t i = 0; i < d->att_nr; i++)
		if (!strcmp(d->att[i].eid, eid))
			return 1;
	return 0;
}

void
devices_release(struct devices *devs)
{
	for (size_t i = 0; i < devs->nr; i++)
		device_release(&devs->v[i]);
	free(devs->v);
	*devs = (struct devices)DEVICES_INIT;
}

struct device *
devices_append(struct devices *devs, long index, const char *total_memory)
{
	struct device *d;

	ALLOC_GROW(devs->v, devs->nr + 1, devs->alloc);
	d = &devs->v[devs->nr++];
	memset(d, 0, sizeof(*d));
	d->index = index;
	d->total_memory = xstrdup_or_null(total_memory);
	return d;
}

struct device *
devices_find(const struct devices *devs, long index)
{
	/* fast path: genv-made files have index == position */
	if (index >= 0 && (size_t)index < devs->nr && devs->v[index].index == index)
		return &devs->v[index];
	for (size_t i = 0; i < devs->nr; i++)
		if (devs->v[i].index == index)
			return &devs->v[i];
	return NULL;
}

static int
cmp_device_index(const void *a, const void *b)
{
	const struct device *x = *(const struct device *const *)a;
	const struct device *y = *(const struct device *const *)b;

	if (x->index != y->index)
		return (x->index > y->index) - (x->index < y->index);
	return (x > y) - (x < y);
}

size_t
devices_first_duplicate(const struct devices *devs)
{
	const struct device **v;
	size_t first = devs->nr;

	if (devs->nr < 2)
		return devs->nr;
	v = xmalloc(devs->nr * sizeof(*v));
	for (size_t i = 0; i < devs->nr; i++)
		v[i] = &devs->v[i];
	qsort(v, devs->nr, sizeof(*v), cmp_device_index);
	for (size_t i = 1; i < devs->nr; i++) {
		size_t pos = (size_t)(v[i] - devs->v);

		if (pos < first && v[i - 1]->index == v[i]->index)
			first = pos;
	}
	free(v);
	return first;
}

/* ----- processes ----- */

void
process_release(struct process *p)
{
	for (size_t i = 0; i < p->usage_nr; i++)
		free(p->usage[i].gpu_memory);
	free(p->usage);
	free(p->eid);
	memset(p, 0, sizeof(*p));
	p->uid = -1;
}

void
process_copy(struct process *dst, const struct process *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->pid = src->pid;
	dst->eid = xstrdup_or_null(src->eid);
	dst->uid = src->uid;
	dst->hidden = src->hidden;
	for (size_t i = 0; i < src->usage_nr; i++)
		process_add_usage(dst, src->usage[i].index, src->usage[i].gpu_memory);
}

void
processes_release(struct processes *ps)
{
	for (size_t i = 0; i < ps->nr; i++)
		process_release(&ps->v[i]);
	free(ps->v);
	*ps = (struct processes)PROCESSES_INIT;
}

struct process *
processes_find(const struct processes *ps, long pid)
{
	for (size_t i = 0; i < ps->nr; i++)
		if (ps->v[i].pid == pid)
			return &ps->v[i];
	return NULL;
}

struct process *
processes_append(struct processes *ps, long pid, const char *eid)
{
	struct process *p;

	ALLOC_GROW(ps->v, ps->nr + 1, ps->alloc);
	p = &ps->v[ps->nr++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->eid = xstrdup_or_null(eid);
	p->uid = -1;
	return p;
}

void
process_add_usage(struct process *p, long index, const char *gpu_memory)
{
	struct process_usage *u;

	ALLOC_GROW(p->usage, p->usage_nr + 1, p->usage_alloc);
	u = &p->usage[p->usage_nr++];
	u->index = index;
	u->gpu_memory = xstrdup_or_null(gpu_memory);
}

/* ----- snapshot ----- */

void
snapshot_release(struct snapshot *s)
{
	processes_release(&s->processes);
	envs_release(&s->envs);
	devices_release(&s->devices);
}
