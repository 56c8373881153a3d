/* SPDX-License-Identifier: MIT */
/*
 * state-json.c: the JSON form of genv's data model (state-json.h).
 * Writing emits exactly the keys and order of genv 1.4.3; reading is
 * strict (exact key sets, exact types) and names the place of the first
 * problem, so that a file we do not understand is reported instead of
 * being overwritten.
 */
#include "compat.h"
#include "core/state-json.h"
#include "core/state-check.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* ----- errors ----- */

/*
 * Where we are in the document while parsing (envs[2].config), and the
 * name of the document ("envs.json") for messages. Only references are
 * stacked; the text is built when there is an error to report, so that
 * parsing a good file costs no formatting.
 */
enum jseg_kind { JSEG_KEY, JSEG_INDEX, JSEG_DICT_KEY };

struct jpath {
	const char *what;
	struct jseg {
		enum jseg_kind kind;
		const char *key;
		size_t index;
	} seg[16];          /* the depth is fixed by the schemas, not by the input */
	size_t depth;
};
#define JPATH_INIT(what) { (what), { { JSEG_KEY, NULL, 0 } }, 0 }

static void
jpath_push(struct jpath *p, enum jseg_kind kind, const char *key, size_t index,
	   size_t *saved)
{
	*saved = p->depth;
	if (p->depth == ARRAY_SIZE(p->seg))
		abort();  /* a schema deeper than this is a bug here */
	p->seg[p->depth].kind = kind;
	p->seg[p->depth].key = key;
	p->seg[p->depth].index = index;
	p->depth++;
}

static void
jpath_push_key(struct jpath *p, const char *key, size_t *saved)
{
	jpath_push(p, JSEG_KEY, key, 0, saved);
}

static void
jpath_push_index(struct jpath *p, size_t i, size_t *saved)
{
	jpath_push(p, JSEG_INDEX, NULL, i, saved);
}

/* a key of a legacy dict form: envs["e1"] */
static void
jpath_push_dict_key(struct jpath *p, const char *key, size_t *saved)
{
	jpath_push(p, JSEG_DICT_KEY, key, 0, saved);
}

static void
jpath_pop(struct jpath *p, size_t saved)
{
	p->depth = saved;
}

static void
jpath_format(const struct jpath *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->depth; i++) {
		const struct jseg *s = &p->seg[i];

		switch (s->kind) {
		case JSEG_KEY:
			if (i)
				strbuf_addch(out, '.');
			strbuf_addstr(out, s->key);
			break;
		case JSEG_INDEX:
			strbuf_addf(out, "[%zu]", s->index);
			break;
		case JSEG_DICT_KEY:
			strbuf_addf(out, "[\"%s\"]", s->key);
			break;
		}
	}
}

static int PRINTF(3, 4)
jfail(struct jpath *p, struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(err, "%s: ", p->what);
	if (p->depth) {
		jpath_format(p, err);
		strbuf_addstr(err, ": ");
	}
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

static int
expect_object(struct jpath *p, const json_t *v, struct strbuf *err)
{
	if (!json_is_object(v))
		return jfail(p, err, "expected an object, found %s", json_type_name(v));
	return 0;
}

static int
expect_array(struct jpath *p, const json_t *v, struct strbuf *err)
{
	if (!json_is_array(v))
		return jfail(p, err, "expected a list, found %s", json_type_name(v));
	return 0;
}

/*
 * obj must have exactly the keys in keys[] (nr_required first, the rest
 * optional). Python genv recognises objects by their key set, so any
 * difference means we are not reading what we think we are.
 */
static int
check_keys(struct jpath *p, const json_t *obj, const char *const *keys,
	   size_t nr_keys, size_t nr_required, struct strbuf *err)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < nr_required; i++)
		if (!json_object_get(obj, keys[i]))
			return jfail(p, err, "missing key \"%s\"", keys[i]);
	/* all the keys there are were looked up: nothing else can be there */
	if (json_object_size(obj) == nr_required)
		return 0;
	json_object_foreach((json_t *)obj, key, v) {
		size_t i;

		for (i = 0; i < nr_keys; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (i == nr_keys)
			return jfail(p, err, "unexpected key \"%s\"", key);
	}
	return 0;
}

/* Looks up key (which check_keys has made sure of, unless optional). */
static int
get_string(struct jpath *p, const json_t *obj, const char *key, int nullable,
	   char **out, struct strbuf *err)
{
	const json_t *v = json_object_get(obj, key);
	size_t saved;
	int rc = 0;

	*out = NULL;
	if (!v || (nullable && json_is_null(v)))
		return 0;
	jpath_push_key(p, key, &saved);
	if (json_is_string(v))
		*out = xstrndup(json_string_value(v), json_string_length(v));
	else
		rc = jfail(p, err, "expected a string%s, found %s",
			   nullable ? " or null" : "", json_type_name(v));
	jpath_pop(p, saved);
	return rc;
}

/* An integer within r's load range (state-check.h). */
static int
int_value(struct jpath *p, const json_t *v, const struct state_range *r,
	  long long *out, struct strbuf *err)
{
	long long n;

	if (!json_is_integer(v))
		return jfail(p, err, "expected an integer, found %s", json_type_name(v));
	n = json_integer_value(v);
	if (n < r->load_min || n > r->load_max)
		return jfail(p, err, "%lld is out of range (%lld to %lld)", n,
			     r->load_min, r->load_max);
	*out = n;
	return 0;
}

static int
get_int(struct jpath *p, const json_t *obj, const char *key,
	const struct state_range *r, long long *out, struct strbuf *err)
{
	size_t saved;
	int rc;

	jpath_push_key(p, key, &saved);
	rc = int_value(p, json_object_get(obj, key), r, out, err);
	jpath_pop(p, saved);
	return rc;
}

/*
 * Called by list_from_json() for each entry, with the path at the entry:
 * key is its key in a legacy dict form, NULL for an item of the list.
 */
typedef int (*jentry_fn)(struct jpath *p, const char *key, const json_t *item,
			 void *data, struct strbuf *err);

/*
 * Reads the object {"<name>": [...]}, or with legacy_dict also the
 * 1.4.3-era form {"<name>": {"<key>": ...}}, calling fn for each entry.
 */
static int
list_from_json(struct jpath *p, const json_t *obj, const char *name, int legacy_dict,
	       jentry_fn fn, void *data, struct strbuf *err)
{
	const char *const keys[] = { name };
	const json_t *list, *item;
	size_t saved, saved_i, i;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 1, 1, err) < 0)
		return -1;
	list = json_object_get(obj, name);
	jpath_push_key(p, name, &saved);
	if (legacy_dict && json_is_object(list)) {
		const char *key;
		json_t *value;

		json_object_foreach((json_t *)list, key, value) {
			jpath_push_dict_key(p, key, &saved_i);
			if (fn(p, key, value, data, err) < 0)
				return -1;
			jpath_pop(p, saved_i);
		}
	} else {
		if (expect_array(p, list, err) < 0)
			return -1;
		json_array_foreach(list, i, item) {
			jpath_push_index(p, i, &saved_i);
			if (fn(p, NULL, item, data, err) < 0)
				return -1;
			jpath_pop(p, saved_i);
		}
	}
	jpath_pop(p, saved);
	return 0;
}

/* ----- writing: environments ----- */

json_t *
env_config_to_json(const struct env_config *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string_or_null(c->name));
	json_object_set_new(o, "gpu_memory", json_string_or_null(c->gpu_memory));
	json_object_set_new(o, "gpus", c->has_gpus ? json_integer(c->gpus) : json_null());
	return o;
}

json_t *
env_to_json(const struct env *e)
{
	json_t *o = json_object();
	json_t *pids = json_array(), *kernels = json_array();

	json_object_set_new(o, "eid", json_string_or_null(e->eid));
	json_object_set_new(o, "uid", json_integer(e->uid));
	json_object_set_new(o, "creation", json_string_or_null(e->creation));
	json_object_set_new(o, "username", json_string_or_null(e->username));
	json_object_set_new(o, "config", env_config_to_json(&e->config));
	for (size_t i = 0; i < e->pids_nr; i++)
		json_array_append_new(pids, json_integer(e->pids[i]));
	json_object_set_new(o, "pids", pids);
	for (size_t i = 0; i < e->kernel_ids.nr; i++)
		json_array_append_new(kernels, json_string_or_null(e->kernel_ids.v[i]));
	json_object_set_new(o, "kernel_ids", kernels);
	return o;
}

json_t *
envs_to_json(const struct envs *envs)
{
	json_t *o = json_object(), *list = json_array();

	for (size_t i = 0; i < envs->nr; i++)
		json_array_append_new(list, env_to_json(&envs->v[i]));
	json_object_set_new(o, "envs", list);
	return o;
}

static const char *const config_keys[] = { "name", "gpu_memory", "gpus" };

/* legacy: every key optional */
static int
config_from_json(struct jpath *p, struct env_config *c, const json_t *obj,
		 int legacy, struct strbuf *err)
{
	const json_t *gpus;
	long long n;
	size_t saved;

	if (expect_object(p, obj, err) < 0 ||
	    check_keys(p, obj, config_keys, 3, legacy ? 0 : 3, err) < 0 ||
	    get_string(p, obj, "name", 1, &c->name, err) < 0 ||
	    get_string(p, obj, "gpu_memory", 1, &c->gpu_memory, err) < 0)
		return -1;
	gpus = json_object_get(obj, "gpus");
	if (gpus && !json_is_null(gpus)) {
		jpath_push_key(p, "gpus", &saved);
		if (int_value(p, gpus, &state_gpus_range, &n, err) < 0)
			return -1;
		jpath_pop(p, saved);
		c->has_gpus = 1;
		c->gpus = (long)n;
	}
	return 0;
}

static int
pid_value(struct jpath *p, const json_t *v, long *pid, struct strbuf *err)
{
	long long n;

	/* pids go to kill(): 0 and negatives would mean process groups */
	if (int_value(p, v, &state_pid_range, &n, err) < 0)
		return -1;
	*pid = (long)n;
	return 0;
}

static const char *const env_keys[] = {
	"eid", "uid", "creation", "username", "config", "pids", "kernel_ids"
};

/*
 * One env object. legacy (<= 0.9.0 dict form): only eid, uid and creation
 * are required, and a missing eid is taken from the dict key.
 */
static int
env_from_json(struct jpath *p, struct env *e, const json_t *obj,
	      const char *legacy_key, struct strbuf *err)
{
	const json_t *v;
	long long uid;
	size_t saved;
	int legacy = legacy_key != NULL;

	if (expect_object(p, obj, err) < 0 ||
	    check_keys(p, obj, env_keys, 7, legacy ? 0 : 7, err) < 0)
		return -1;
	if (!legacy || json_object_get(obj, "eid")) {
		char *eid;

		if (get_string(p, obj, "eid", 0, &eid, err) < 0)
			return -1;
		free(e->eid);
		e->eid = eid;
	} else if (!e->eid) {
		e->eid = xstrdup(legacy_key);
	}
	if (!json_object_get(obj, "uid"))
		return jfail(p, err, "missing key \"uid\"");
	if (get_int(p, obj, "uid", &state_uid_range, &uid, err) < 0)
		return -1;
	e->uid = uid;
	if (!json_object_get(obj, "creation"))
		return jfail(p, err, "missing key \"creation\"");
	if (get_string(p, obj, "creation", 0, &e->creation, err) < 0 ||
	    get_string(p, obj, "username", 1, &e->username, err) < 0)
		return -1;

	if ((v = json_object_get(obj, "config"))) {
		jpath_push_key(p, "config", &saved);
		if (config_from_json(p, &e->config, v, legacy, err) < 0)
			return -1;
		jpath_pop(p, saved);
	}

	if ((v = json_object_get(obj, "pids"))) {
		size_t saved_i, i;
		const json_t *item;

		jpath_push_key(p, "pids", &saved);
		if (expect_array(p, v, err) < 0)
			return -1;
		json_array_foreach(v, i, item) {
			long pid;

			jpath_push_index(p, i, &saved_i);
			if (pid_value(p, item, &pid, err) < 0)
				return -1;
			jpath_pop(p, saved_i);
			env_add_pid(e, pid);
		}
		jpath_pop(p, saved);
	}

	if ((v = json_object_get(obj, "kernel_ids"))) {
		size_t saved_i, i;
		const json_t *item;

		jpath_push_key(p, "kernel_ids", &saved);
		if (expect_array(p, v, err) < 0)
			return -1;
		json_array_foreach(v, i, item) {
			jpath_push_index(p, i, &saved_i);
			if (!json_is_string(item))
				return jfail(p, err, "expected a string, found %s",
					     json_type_name(item));
			jpath_pop(p, saved_i);
			strvec_push(&e->kernel_ids, json_string_value(item));
		}
		jpath_pop(p, saved);
	}
	return 0;
}

static int
env_entry(struct jpath *p, const char *key, const json_t *item, void *data,
	  struct strbuf *err)
{
	/* legacy <= 0.9.0: {"envs": {"<eid>": {...}}} */
	return env_from_json(p, envs_append(data, key), item, key, err);
}

static int
envs_from_json_at(struct jpath *p, struct envs *envs, const json_t *obj,
		  struct strbuf *err)
{
	size_t saved, dup;

	if (list_from_json(p, obj, "envs", 1, env_entry, envs, err) < 0)
		return -1;
	dup = envs_first_duplicate(envs);
	if (dup < envs->nr) {
		jpath_push_key(p, "envs", &saved);
		jpath_push_index(p, dup, &saved);
		return jfail(p, err, "duplicate environment \"%s\"", envs->v[dup].eid);
	}
	return 0;
}

/* Runs a parser with a fresh path; on failure the half-built object is freed. */
#define PARSE_WITH_PATH(fn, release, obj_out, json, what, err)                \
	do {                                                                  \
		struct jpath p_ = JPATH_INIT((what) ? (what) : "JSON");        \
		int rc_ = fn(&p_, (obj_out), (json), (err));                  \
		if (rc_ < 0)                                                  \
			release(obj_out);                                     \
		return rc_;                                                   \
	} while (0)

int
envs_from_json(struct envs *envs, const json_t *obj, const char *what,
	       struct strbuf *err)
{
	PARSE_WITH_PATH(envs_from_json_at, envs_release, envs, obj, what, err);
}

/* ----- devices ----- */

static json_t *
attachment_to_json(const struct attachment *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "eid", json_string_or_null(a->eid));
	json_object_set_new(o, "gpu_memory", json_string_or_null(a->gpu_memory));
	json_object_set_new(o, "time", json_string_or_null(a->time));
	return o;
}

static json_t *
device_to_json(const struct device *d)
{
	json_t *o = json_object(), *atts = json_array();

	json_object_set_new(o, "index", json_integer(d->index));
	json_object_set_new(o, "total_memory", json_string_or_null(d->total_memory));
	for (size_t i = 0; i < d->att_nr; i++)
		json_array_append_new(atts, attachment_to_json(&d->att[i]));
	json_object_set_new(o, "attachments", atts);
	return o;
}

json_t *
devices_to_json(const struct devices *devs)
{
	json_t *o = json_object(), *list = json_array();

	for (size_t i = 0; i < devs->nr; i++)
		json_array_append_new(list, device_to_json(&devs->v[i]));
	json_object_set_new(o, "devices", list);
	return o;
}

/*
 * An attachment: keys as check_keys() takes them (the first nr_required
 * required), the time under time_key, and default_eid for a missing eid.
 */
static int
attachment_from_keys(struct jpath *p, struct device *d, const json_t *obj,
		     const char *const *keys, size_t nr_required, const char *time_key,
		     const char *default_eid, struct strbuf *err)
{
	char *eid = NULL, *mem = NULL, *time = NULL;
	struct attachment *a;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 3, nr_required, err) < 0)
		return -1;
	if (get_string(p, obj, "eid", 0, &eid, err) < 0 ||
	    get_string(p, obj, "gpu_memory", 1, &mem, err) < 0 ||
	    get_string(p, obj, time_key, 0, &time, err) < 0) {
		free(eid);
		free(mem);
		free(time);
		return -1;
	}
	ALLOC_GROW(d->att, d->att_nr + 1, d->att_alloc);
	a = &d->att[d->att_nr++];
	a->eid = eid ? eid : xstrdup(default_eid);
	a->gpu_memory = mem;
	a->time = time;
	return 0;
}

static int
attachment_from_json(struct jpath *p, struct device *d, const json_t *obj,
		     struct strbuf *err)
{
	static const char *const keys[] = { "eid", "gpu_memory", "time" };

	return attachment_from_keys(p, d, obj, keys, 3, "time", NULL, err);
}

/* legacy <= 0.8.0 attachment: {"eid": .. (optional), "gpu_memory": .. (optional), "attached": ..} */
static int
legacy_attachment_from_json(struct jpath *p, struct device *d, const char *key,
			    const json_t *obj, struct strbuf *err)
{
	static const char *const keys[] = { "attached", "eid", "gpu_memory" };

	return attachment_from_keys(p, d, obj, keys, 1, "attached", key, err);
}

static int
device_from_json(struct jpath *p, struct device *d, const json_t *obj,
		 struct strbuf *err)
{
	static const char *const keys[] = { "index", "total_memory", "attachments" };
	const json_t *atts, *item;
	long long index;
	size_t saved, saved_i, i;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 3, 3, err) < 0 ||
	    get_int(p, obj, "index", &state_index_range, &index, err) < 0 ||
	    get_string(p, obj, "total_memory", 0, &d->total_memory, err) < 0)
		return -1;
	d->index = (long)index;
	atts = json_object_get(obj, "attachments");
	jpath_push_key(p, "attachments", &saved);
	if (expect_array(p, atts, err) < 0)
		return -1;
	json_array_foreach(atts, i, item) {
		jpath_push_index(p, i, &saved_i);
		if (attachment_from_json(p, d, item, err) < 0)
			return -1;
		jpath_pop(p, saved_i);
	}
	jpath_pop(p, saved);
	return 0;
}

static int
legacy_device_from_json(struct jpath *p, struct device *d, const json_t *obj,
			struct strbuf *err)
{
	static const char *const keys[] = { "eids", "total_memory" };
	const json_t *eids;
	const char *eid;
	json_t *item;
	size_t saved;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 2, 2, err) < 0 ||
	    get_string(p, obj, "total_memory", 0, &d->total_memory, err) < 0)
		return -1;
	eids = json_object_get(obj, "eids");
	jpath_push_key(p, "eids", &saved);
	if (expect_object(p, eids, err) < 0)
		return -1;
	json_object_foreach((json_t *)eids, eid, item) {
		size_t saved_k;

		jpath_push_dict_key(p, eid, &saved_k);
		if (legacy_attachment_from_json(p, d, eid, item, err) < 0)
			return -1;
		jpath_pop(p, saved_k);
	}
	jpath_pop(p, saved);
	return 0;
}

static int
parse_index_key(const char *key, long *index)
{
	char *end;
	long n;

	if (!*key || *key == '-' || *key == '+')
		return -1;
	errno = 0;
	n = strtol(key, &end, 10);
	if (errno || *end)
		return -1;
	*index = n;
	return 0;
}

static int
device_cmp_index(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

static int
device_entry(struct jpath *p, const char *key, const json_t *item, void *data,
	     struct strbuf *err)
{
	long index;

	if (!key)
		return device_from_json(p, devices_append(data, 0, NULL), item, err);
	/* legacy <= 0.8.0: {"devices": {"0": {"eids": {...}, "total_memory": ..}}} */
	if (parse_index_key(key, &index) < 0)
		return jfail(p, err, "expected a device index as key");
	return legacy_device_from_json(p, devices_append(data, index, NULL), item, err);
}

static int
devices_from_json_at(struct jpath *p, struct devices *devs, const json_t *obj,
		     struct strbuf *err)
{
	size_t saved, dup;

	if (list_from_json(p, obj, "devices", 1, device_entry, devs, err) < 0)
		return -1;
	/* positions are device indices from here on */
	if (json_is_object(json_object_get(obj, "devices")) && devs->nr)
		qsort(devs->v, devs->nr, sizeof(*devs->v), device_cmp_index);
	dup = devices_first_duplicate(devs);
	if (dup < devs->nr) {
		jpath_push_key(p, "devices", &saved);
		jpath_push_index(p, dup, &saved);
		return jfail(p, err, "duplicate device index %ld", devs->v[dup].index);
	}
	return 0;
}

int
devices_from_json(struct devices *devs, const json_t *obj, const char *what,
		  struct strbuf *err)
{
	PARSE_WITH_PATH(devices_from_json_at, devices_release, devs, obj, what, err);
}

/* ----- processes ----- */

json_t *
process_to_json(const struct process *p)
{
	json_t *o = json_object(), *usage = json_array();

	json_object_set_new(o, "pid", json_integer(p->pid));
	for (size_t i = 0; i < p->usage_nr; i++) {
		json_t *u = json_object();

		json_object_set_new(u, "index", json_integer(p->usage[i].index));
		json_object_set_new(u, "gpu_memory", json_string_or_null(p->usage[i].gpu_memory));
		json_array_append_new(usage, u);
	}
	json_object_set_new(o, "used_gpu_memory", usage);
	json_object_set_new(o, "eid", json_string_or_null(p->eid));
	return o;
}

json_t *
processes_to_json(const struct processes *ps)
{
	json_t *o = json_object(), *list = json_array();

	for (size_t i = 0; i < ps->nr; i++)
		json_array_append_new(list, process_to_json(&ps->v[i]));
	json_object_set_new(o, "processes", list);
	return o;
}

static int
usage_from_json(struct jpath *p, struct process *proc, const json_t *obj,
		struct strbuf *err)
{
	static const char *const keys[] = { "index", "gpu_memory" };
	long long index;
	char *mem;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 2, 2, err) < 0 ||
	    get_int(p, obj, "index", &state_index_range, &index, err) < 0 ||
	    get_string(p, obj, "gpu_memory", 0, &mem, err) < 0)
		return -1;
	process_add_usage(proc, (long)index, mem);
	free(mem);
	return 0;
}

static int
process_from_json(struct jpath *p, struct process *proc, const json_t *obj,
		  struct strbuf *err)
{
	static const char *const keys[] = { "pid", "used_gpu_memory", "eid" };
	const json_t *usage, *item;
	size_t saved, saved_i, i;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 3, 3, err) < 0)
		return -1;
	jpath_push_key(p, "pid", &saved);
	if (pid_value(p, json_object_get(obj, "pid"), &proc->pid, err) < 0)
		return -1;
	jpath_pop(p, saved);
	if (get_string(p, obj, "eid", 1, &proc->eid, err) < 0)
		return -1;
	usage = json_object_get(obj, "used_gpu_memory");
	jpath_push_key(p, "used_gpu_memory", &saved);
	if (expect_array(p, usage, err) < 0)
		return -1;
	json_array_foreach(usage, i, item) {
		jpath_push_index(p, i, &saved_i);
		if (usage_from_json(p, proc, item, err) < 0)
			return -1;
		jpath_pop(p, saved_i);
	}
	jpath_pop(p, saved);
	return 0;
}

static int
process_entry(struct jpath *p, const char *key UNUSED, const json_t *item, void *data,
	      struct strbuf *err)
{
	return process_from_json(p, processes_append(data, 0, NULL), item, err);
}

static int
processes_from_json_at(struct jpath *p, struct processes *ps, const json_t *obj,
		       struct strbuf *err)
{
	return list_from_json(p, obj, "processes", 0, process_entry, ps, err);
}

int
processes_from_json(struct processes *ps, const json_t *obj, const char *what,
		    struct strbuf *err)
{
	PARSE_WITH_PATH(processes_from_json_at, processes_release, ps, obj, what, err);
}

/* ----- snapshot ----- */

json_t *
snapshot_to_json(const struct snapshot *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "processes", processes_to_json(&s->processes));
	json_object_set_new(o, "envs", envs_to_json(&s->envs));
	json_object_set_new(o, "devices", devices_to_json(&s->devices));
	return o;
}

static int
snapshot_from_json_at(struct jpath *p, struct snapshot *s, const json_t *obj,
		      struct strbuf *err)
{
	static const char *const keys[] = { "processes", "envs", "devices" };
	size_t saved;

	if (expect_object(p, obj, err) < 0 || check_keys(p, obj, keys, 3, 3, err) < 0)
		return -1;
	jpath_push_key(p, "processes", &saved);
	if (processes_from_json_at(p, &s->processes, json_object_get(obj, "processes"), err) < 0)
		return -1;
	jpath_pop(p, saved);
	jpath_push_key(p, "envs", &saved);
	if (envs_from_json_at(p, &s->envs, json_object_get(obj, "envs"), err) < 0)
		return -1;
	jpath_pop(p, saved);
	jpath_push_key(p, "devices", &saved);
	if (devices_from_json_at(p, &s->devices, json_object_get(obj, "devices"), err) < 0)
		return -1;
	jpath_pop(p, saved);
	return 0;
}

int
snapshot_from_json(struct snapshot *s, const json_t *obj, const char *what,
		   struct strbuf *err)
{
	PARSE_WITH_PATH(snapshot_from_json_at, snapshot_release, s, obj, what, err);
}

/* ----- text helpers ----- */

#define PARSE_TEXT(from_json, obj_out, text, len, what, err)                  \
	do {                                                                  \
		json_t *j_;                                                   \
		int rc_;                                                      \
		if (state_check_file_size((what) ? (what) : "JSON", (len), (err)) < 0) \
			return -1;                                            \
		j_ = json_parse((text), (len), (what) ? (what) : "JSON", (err)); \
		if (!j_)                                                      \
			return -1;                                            \
		rc_ = from_json((obj_out), j_, (what), (err));                \
		json_decref(j_);                                              \
		return rc_;                                                   \
	} while (0)

int
envs_parse(struct envs *envs, const char *text, size_t len, const char *what,
	   struct strbuf *err)
{
	PARSE_TEXT(envs_from_json, envs, text, len, what, err);
}

int
devices_parse(struct devices *devs, const char *text, size_t len, const char *what,
	      struct strbuf *err)
{
	PARSE_TEXT(devices_from_json, devs, text, len, what, err);
}

int
processes_parse(struct processes *ps, const char *text, size_t len,
		const char *what, struct strbuf *err)
{
	PARSE_TEXT(processes_from_json, ps, text, len, what, err);
}

int
snapshot_parse(struct snapshot *s, const char *text, size_t len, const char *what,
	       struct strbuf *err)
{
	PARSE_TEXT(snapshot_from_json, s, text, len, what, err);
}

static void
dump_and_free(struct strbuf *out, json_t *obj)
{
	json_dump_py(out, obj, JSON_STYLE_INDENT2);
	json_decref(obj);
}

void
envs_serialize(const struct envs *envs, struct strbuf *out)
{
	dump_and_free(out, envs_to_json(envs));
}

void
devices_serialize(const struct devices *devs, struct strbuf *out)
{
	dump_and_free(out, devices_to_json(devs));
}

void
processes_serialize(const struct processes *ps, struct strbuf *out)
{
	dump_and_free(out, processes_to_json(ps));
}

void
snapshot_serialize(const struct snapshot *s, struct strbuf *out)
{
	dump_and_free(out, snapshot_to_json(s));
}
