/* SPDX-License-Identifier: MIT */
/*
 * state-json.h: the JSON form of genv's data model (state.h). The JSON is
 * the contract with genv 1.4.3: envs.json, devices.json and `genv usage
 * snapshot` must carry exactly these keys, in this order, so that Python
 * genv (which recognises objects by their exact key set) and this genv
 * read each other's files and remote answers.
 *
 * Parsing is strict: a wrong type or a missing key is an error that names
 * the place ("envs[2].uid: expected an integer"), never a crash and never
 * a silent reset. Legacy 1.4.3-era dict forms (devices.json <= 0.8.0,
 * envs.json <= 0.9.0) are accepted and converted.
 *
 * "what" prefixes error messages (e.g. "envs.json"). Every *_from_json and
 * *_parse fills an empty object; on failure it is released again (left
 * empty) and err says where the problem is. pids must be 1..INT_MAX
 * (they go to kill()); device indices must be >= 0; duplicate eids or
 * device indices are errors.
 */
#ifndef GENV_CORE_STATE_JSON_H
#define GENV_CORE_STATE_JSON_H

#include "core/state.h"
#include "util/json.h"

struct strbuf;

json_t *env_config_to_json(const struct env_config *c);
json_t *env_to_json(const struct env *e);
json_t *envs_to_json(const struct envs *envs);
int envs_from_json(struct envs *envs, const json_t *obj, const char *what,
		   struct strbuf *err);

json_t *devices_to_json(const struct devices *devs);
int devices_from_json(struct devices *devs, const json_t *obj, const char *what,
		      struct strbuf *err);

json_t *process_to_json(const struct process *p);
json_t *processes_to_json(const struct processes *ps);
int processes_from_json(struct processes *ps, const json_t *obj, const char *what,
			struct strbuf *err);

json_t *snapshot_to_json(const struct snapshot *s);
int snapshot_from_json(struct snapshot *s, const json_t *obj, const char *what,
		       struct strbuf *err);

/* ----- text: parse + from_json, to_json + dump in 1.4.3 style ----- */

/* Parse text (a whole file or a remote's stdout) into the object. */
int envs_parse(struct envs *envs, const char *text, size_t len, const char *what,
	       struct strbuf *err);
int devices_parse(struct devices *devs, const char *text, size_t len, const char *what,
		  struct strbuf *err);
int processes_parse(struct processes *ps, const char *text, size_t len,
		    const char *what, struct strbuf *err);
int snapshot_parse(struct snapshot *s, const char *text, size_t len, const char *what,
		   struct strbuf *err);

/*
 * Append json.dumps(obj, indent=2) of the object, no trailing newline.
 * Strings that are not valid UTF-8 are written with U+FFFD in place of
 * the bad bytes (jansson would otherwise drop the key).
 */
void envs_serialize(const struct envs *envs, struct strbuf *out);
void devices_serialize(const struct devices *devs, struct strbuf *out);
void processes_serialize(const struct processes *ps, struct strbuf *out);
void snapshot_serialize(const struct snapshot *s, struct strbuf *out);

#endif
