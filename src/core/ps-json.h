/* SPDX-License-Identifier: MIT */
/*
 * ps-json.h: `--format json` of the listings (genv devices ps, envs ps,
 * status, remote devices|envs). The schema is for scripts and is kept
 * stable: each document's "version" (PS_JSON_VERSION) changes only when a
 * key changes meaning or goes away; keys may be added. Times are seconds
 * since the epoch (null when the stored stamp cannot be read), the stored
 * text beside them. doc/json.md describes every key.
 */
#ifndef GENV_CORE_PS_JSON_H
#define GENV_CORE_PS_JSON_H

#include "core/state.h"
#include "util/json.h"

#define PS_JSON_VERSION 1

/* [{"index", "total_memory", "attachments": [{"eid", "env_name", ...}]}] */
json_t *ps_json_devices(const struct devices *devs, const struct envs *envs);
/* [{"eid", "uid", "username", "name", "gpus", "gpu_memory", "created", ...}] */
json_t *ps_json_envs(const struct envs *envs);
/* {"version": 1, key: list}: a document of a local listing (list is stolen) */
json_t *ps_json_document(const char *key, json_t *list);

/*
 * `genv status`: {"version", "active", "eid", "devices": [indices],
 * "name", "gpus", "gpu_memory"}; eid NULL when no environment is active
 * (then the rest is null); gpus "" or "0" is null, as status says N/A.
 */
json_t *ps_json_status(const char *eid, const long *idx, size_t nr, const char *name,
		       const char *gpus, const char *gpu_memory);

/*
 * One host of a remote listing: {"host", "ok": true, key: list} or, for
 * a host that failed, {"host", "ok": false, "error"} (list NULL).
 */
json_t *ps_json_host(const char *host, const char *key, json_t *list, const char *error);

#endif
