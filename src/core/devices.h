/* SPDX-License-Identifier: MIT */
/*
 * devices.h: attaching environments to devices on a loaded struct devices
 * (the caller loads and saves through store.h under the global lock).
 * Availability and selection follow genv 1.4.3 exactly (see §5.3 of the
 * reference): a whole-device request needs a device with no attachment; a
 * memory request fits beside other memory-limited attachments; devices
 * are taken in index order; over-subscription adds the least attached.
 */
#ifndef GENV_CORE_DEVICES_H
#define GENV_CORE_DEVICES_H

#include "core/state.h"

struct strbuf;

struct attach_request {
	long index;           /* attach this device index, or -1 */
	long count;           /* ensure this many devices, or -1 */
	const char *gpu_memory; /* per-device memory to record, NULL = whole */
	int over_subscribe;   /* allow devices that are not available */
	/*
	 * The environments, to say who holds the devices when the request
	 * fails (a second line after 1.4.3's message); NULL = the bare message.
	 */
	const struct envs *envs;
	/* if not NULL: set to 1 when the devices are not available (not an error) */
	int *refused;
	/*
	 * If not NULL, only these device indices may be attached (a Slurm
	 * step's GPUs among its job's); the others count as no device.
	 */
	const long *usable;
	size_t usable_nr;
};
#define ATTACH_REQUEST_INIT { -1, -1, NULL, 0, NULL, NULL, NULL, 0 }

/*
 * Sets *available to whether d can take an attachment of gpu_memory
 * (NULL = the whole device). Fails only on an unparsable memory string.
 */
int device_is_available(const struct device *d, const char *gpu_memory,
			int *available, struct strbuf *err);

/*
 * 1.4.3's core attach (activate, `genv attach`): with req->index, attach
 * that device unless already attached ("Device N is not available" when
 * it is not available and over-subscription is off); with req->count,
 * attach more devices until eid has count (never detaches); errors with
 * "No available devices". All new attachments share one timestamp.
 * With req->envs, a refusal adds a line with the numbers and the holders:
 * "requested 2 GPUs, 1 of 4 available; held: 0 (alice/train, 3h), 2 (bob, 12m)".
 * Sets *req->refused when it fails because the devices are not available.
 */
int devices_attach(struct devices *devs, const char *eid,
		   const struct attach_request *req, struct strbuf *err);

/*
 * `genv devices attach` semantics: like devices_attach, but a count larger
 * than the number of devices fails with "Requested more devices (N) than
 * total available (M)", and a count smaller than what eid has detaches
 * devices from the highest index down until eid has count.
 */
int devices_ensure_count(struct devices *devs, const char *eid,
			 const struct attach_request *req, struct strbuf *err);

/* Detaches eid from device index (or from all devices when index < 0). */
void devices_detach(struct devices *devs, const char *eid, long index);
/* Drops attachments whose eid is not in live. */
void devices_cleanup(struct devices *devs, const struct envs *live);

/* Appends the indices attached to eid, comma-separated ("0,2"; "" if none). */
void devices_attached_list(const struct devices *devs, const char *eid,
			   struct strbuf *out);
/* Number of devices eid is attached to. */
size_t devices_attached_count(const struct devices *devs, const char *eid);

#endif
