/* SPDX-License-Identifier: MIT */
/*
 * active.h: the calling process's active environment, found as genv
 * 1.4.3's SDK finds it: from the variables activation set
 * (GENV_ENVIRONMENT_ID, CUDA_VISIBLE_DEVICES), from the device lock files
 * inside a container, and from the state where those cannot tell.
 */
#ifndef GENV_CORE_ACTIVE_H
#define GENV_CORE_ACTIVE_H

#include <stddef.h>

struct device_locks;
struct strbuf;

/* GENV_ENVIRONMENT_ID of this process, or NULL when not active. */
const char *active_eid(void);

/*
 * Parses a CUDA_VISIBLE_DEVICES value as genv writes it: "-1" or "" is no
 * device, else comma-separated non-negative indices. Anything else (UUIDs,
 * garbage) fails with a message quoting the value. *indices is malloc'ed
 * (NULL when none); the caller frees it.
 */
int active_parse_visible_devices(const char *value, long **indices, size_t *nr,
				 struct strbuf *err);

/*
 * The indices this process is attached to: with GENV_SHELL or
 * GENV_PYTHON, from CUDA_VISIBLE_DEVICES; with GENV_CONTAINER, from the
 * device lock files; otherwise from the state's attachments of eid (1.4.3
 * gives up there; under `genv exec` the state knows). *v is malloc'ed
 * (NULL if none).
 */
int active_attached_indices(const char *eid, long **v, size_t *nr, struct strbuf *err);

/*
 * `genv lock`: waits for the locks of the devices this process is
 * attached to (active_attached_indices()), in ascending index order.
 * Nothing is locked when eid is NULL. Release with device_locks_release().
 */
int active_lock_devices(const char *eid, struct device_locks *locks, struct strbuf *err);

#endif
