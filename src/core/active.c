/* SPDX-License-Identifier: MIT */
/* active.c: the calling process's active environment (active.h). */
#include "compat.h"
#include "core/active.h"
#include "core/slurm.h"
#include "core/device-locks.h"
#include "core/store.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

const char *
active_eid(void)
{
	const char *eid = getenv("GENV_ENVIRONMENT_ID");

	return eid && *eid ? eid : NULL;
}

int
active_parse_visible_devices(const char *value, long **indices, size_t *nr,
			     struct strbuf *err)
{
	const char *p = value;
	size_t alloc = 0;

	*indices = NULL;
	*nr = 0;
	if (!value || !*value || !strcmp(value, "-1"))
		return 0;
	while (*p) {
		char *end;
		long v;

		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		v = strtol(p, &end, 10);
		if (errno || (*end && *end != ','))
			goto bad;
		ALLOC_GROW(*indices, *nr + 1, alloc);
		(*indices)[(*nr)++] = v;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			goto bad;  /* trailing comma */
	}
	return 0;
bad:
	free(*indices);
	*indices = NULL;
	*nr = 0;
	strbuf_addf(err, "CUDA_VISIBLE_DEVICES is '%s', not a list of device indices", value);
	return -1;
}

int
active_attached_indices(const char *eid, long **v, size_t *nr, struct strbuf *err)
{
	struct strbuf list = STRBUF_INIT;
	int rc;

	*v = NULL;
	*nr = 0;
	/* in a Slurm job, CUDA_VISIBLE_DEVICES holds UUIDs: ask the state */
	if ((getenv("GENV_SHELL") || getenv("GENV_PYTHON")) && !slurm_in_job())
		return active_parse_visible_devices(getenv("CUDA_VISIBLE_DEVICES"), v, nr, err);
	if (getenv("GENV_CONTAINER"))
		return device_locks_list(v, nr, err);
	rc = store_attached_list(eid, &list, err);
	if (!rc)
		rc = active_parse_visible_devices(list.buf, v, nr, err);
	strbuf_release(&list);
	return rc;
}

int
active_lock_devices(const char *eid, struct device_locks *locks, struct strbuf *err)
{
	long *idx = NULL;
	size_t nr = 0;
	int rc;

	if (!eid)
		return 0;
	rc = active_attached_indices(eid, &idx, &nr, err);
	if (!rc)
		rc = device_locks_take(locks, idx, nr, err);
	free(idx);
	return rc;
}
