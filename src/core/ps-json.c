/* SPDX-License-Identifier: MIT */
/* ps-json.c: the JSON documents of the listings (see ps-json.h). */
#include "compat.h"
#include "core/ps-json.h"
#include "core/state-json.h"
#include "core/timefmt.h"

/* "created": 1764159000 and "created_text": "26/11/2026 12:10:00" */
static void
set_time(json_t *obj, const char *key, const char *stamp)
{
	char text_key[64];
	time_t t;

	snprintf(text_key, sizeof(text_key), "%s_text", key);
	if (stamp && !genv_time_parse(stamp, &t))
		json_object_set_new(obj, key, json_integer((json_int_t)t));
	else
		json_object_set_new(obj, key, json_null());
	json_object_set_new(obj, text_key, json_string_or_null(stamp));
}

static json_t *
attachment_json(const struct attachment *a, const struct envs_index *by_eid)
{
	const struct env *e = envs_index_find(by_eid, a->eid);
	json_t *o = json_object();

	json_object_set_new(o, "eid", json_string_or_null(a->eid));
	json_object_set_new(o, "env_name", json_string_or_null(e ? e->config.name : NULL));
	json_object_set_new(o, "gpu_memory", json_string_or_null(a->gpu_memory));
	set_time(o, "attached", a->time);
	return o;
}

json_t *
ps_json_devices(const struct devices *devs, const struct envs *envs)
{
	struct envs_index by_eid = ENVS_INDEX_INIT;
	json_t *list = json_array();

	envs_index_build(&by_eid, envs);
	for (size_t i = 0; i < devs->nr; i++) {
		const struct device *d = &devs->v[i];
		json_t *o = json_object(), *att = json_array();

		json_object_set_new(o, "index", json_integer(d->index));
		json_object_set_new(o, "total_memory", json_string_or_null(d->total_memory));
		for (size_t j = 0; j < d->att_nr; j++)
			json_array_append_new(att, attachment_json(&d->att[j], &by_eid));
		json_object_set_new(o, "attachments", att);
		json_array_append_new(list, o);
	}
	envs_index_release(&by_eid);
	return list;
}

static json_t *
env_json(const struct env *e)
{
	json_t *o = json_object(), *state = env_to_json(e);

	json_object_set_new(o, "eid", json_string_or_null(e->eid));
	json_object_set_new(o, "uid", json_integer(e->uid));
	json_object_set_new(o, "username", json_string_or_null(e->username));
	json_object_set_new(o, "name", json_string_or_null(e->config.name));
	json_object_set_new(o, "gpus", e->config.has_gpus ? json_integer(e->config.gpus)
							   : json_null());
	json_object_set_new(o, "gpu_memory", json_string_or_null(e->config.gpu_memory));
	set_time(o, "created", e->creation);
	/* the lists as the state file has them */
	json_object_set(o, "pids", json_object_get(state, "pids"));
	json_object_set(o, "kernel_ids", json_object_get(state, "kernel_ids"));
	json_decref(state);
	return o;
}

json_t *
ps_json_envs(const struct envs *envs)
{
	json_t *list = json_array();

	for (size_t i = 0; i < envs->nr; i++)
		json_array_append_new(list, env_json(&envs->v[i]));
	return list;
}

json_t *
ps_json_document(const char *key, json_t *list)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "version", json_integer(PS_JSON_VERSION));
	json_object_set_new(doc, key, list);
	return doc;
}

json_t *
ps_json_host(const char *host, const char *key, json_t *list, const char *error)
{
	json_t *o = json_object();

	json_object_set_new(o, "host", json_string_or_null(host));
	json_object_set_new(o, "ok", json_boolean(!error));
	if (error)
		json_object_set_new(o, "error", json_string_or_null(error));
	else
		json_object_set_new(o, key, list);
	return o;
}

static json_t *
string_or_null(const char *s)
{
	return s && *s ? json_string_or_null(s) : json_null();
}

json_t *
ps_json_status(const char *eid, const long *idx, size_t nr, const char *name,
	       const char *gpus, const char *gpu_memory)
{
	json_t *doc = json_object(), *devs = eid ? json_array() : json_null();
	char *end = NULL;
	long n = gpus ? strtol(gpus, &end, 10) : 0;

	json_object_set_new(doc, "version", json_integer(PS_JSON_VERSION));
	json_object_set_new(doc, "active", json_boolean(eid != NULL));
	json_object_set_new(doc, "eid", json_string_or_null(eid));
	for (size_t i = 0; eid && i < nr; i++)
		json_array_append_new(devs, json_integer(idx[i]));
	json_object_set_new(doc, "devices", devs);
	json_object_set_new(doc, "name", string_or_null(eid ? name : NULL));
	json_object_set_new(doc, "gpus", eid && gpus && *gpus && !*end && n > 0
						 ? json_integer(n) : json_null());
	json_object_set_new(doc, "gpu_memory", string_or_null(eid ? gpu_memory : NULL));
	return doc;
}
