/* SPDX-License-Identifier: MIT */
/*
 * devices.c: attaching environments to devices (devices.h), with genv
 * 1.4.3's availability rule and selection order, and its "ensure count"
 * semantics for `genv devices attach` (without its over-detach bug).
 */
#include "compat.h"
#include "core/devices.h"
#include "core/memory.h"
#include "core/timefmt.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <time.h>

int
device_is_available(const struct device *d, const char *gpu_memory,
		    int *available, struct strbuf *err)
{
	unsigned long long total, used = 0, want, free_bytes;

	if (!gpu_memory) {
		*available = d->att_nr == 0;
		return 0;
	}
	if (memory_to_bytes(gpu_memory, &want, err) < 0)
		return -1;
	if (!d->total_memory || memory_to_bytes(d->total_memory, &total, err) < 0) {
		if (!d->total_memory)
			strbuf_addf(err, "device %ld has no total memory", d->index);
		return -1;
	}
	for (size_t i = 0; i < d->att_nr; i++) {
		unsigned long long n = total;

		if (d->att[i].gpu_memory &&
		    memory_to_bytes(d->att[i].gpu_memory, &n, err) < 0)
			return -1;
		used = n > ~0ULL - used ? ~0ULL : used + n;
	}
	free_bytes = total > used ? total - used : 0;
	*available = free_bytes >= want;
	return 0;
}

/* "3h", "12m", "1d": how long ago stamp was; "<1m" under a minute. */
static void
add_age(struct strbuf *sb, const char *stamp, time_t now)
{
	time_t then;
	long long s;

	if (genv_time_parse(stamp, &then) < 0) {
		strbuf_addstr(sb, "since ?");
		return;
	}
	s = now > then ? (long long)(now - then) : 0;
	if (s < 60)
		strbuf_addstr(sb, "<1m");
	else if (s < 3600)
		strbuf_addf(sb, "%lldm", s / 60);
	else if (s < 86400)
		strbuf_addf(sb, "%lldh", s / 3600);
	else
		strbuf_addf(sb, "%lldd", s / 86400);
}

/* "0 (alice/train, 3h; bob, 12m)": a device and who holds it since when. */
static void
add_holders(struct strbuf *sb, const struct device *d, const struct envs *envs,
	    time_t now)
{
	strbuf_addf(sb, "%ld (", d->index);
	for (size_t i = 0; i < d->att_nr; i++) {
		const struct env *e = envs_find(envs, d->att[i].eid);

		if (i)
			strbuf_addstr(sb, "; ");
		if (!e) {
			strbuf_addstr(sb, "environment ");
			quote_display(sb, d->att[i].eid);
		} else {
			if (e->username)
				quote_display(sb, e->username);
			else
				strbuf_addf(sb, "uid %lld", e->uid);
			if (e->config.name) {
				strbuf_addch(sb, '/');
				quote_display(sb, e->config.name);
			}
		}
		if (d->att[i].gpu_memory) {
			strbuf_addch(sb, ' ');
			quote_display(sb, d->att[i].gpu_memory);
		}
		strbuf_addstr(sb, ", ");
		add_age(sb, d->att[i].time, now);
	}
	strbuf_addch(sb, ')');
}

/* Whether req may attach device index (req->usable). */
static int
is_usable(const struct attach_request *req, long index)
{
	if (!req->usable)
		return 1;
	for (size_t i = 0; i < req->usable_nr; i++)
		if (req->usable[i] == index)
			return 1;
	return 0;
}

/*
 * The second line of a refused count request: what was asked, what is
 * free and who holds the rest.
 */
static void
explain_shortage(const struct devices *devs, const char *eid,
		 const struct attach_request *req, struct strbuf *err)
{
	struct strbuf ignored = STRBUF_INIT;
	size_t have = devices_attached_count(devs, eid), free_nr = 0;
	size_t total = req->usable ? req->usable_nr : devs->nr;
	time_t now = clock_wall();
	const char *sep = "; held: ";

	strbuf_addf(err, "\nrequested %ld GPU%s", req->count, req->count == 1 ? "" : "s");
	if (req->gpu_memory) {
		/* an environment's configuration, maybe another user's */
		strbuf_addstr(err, " with ");
		quote_display(err, req->gpu_memory);
		strbuf_addstr(err, " each");
	}
	if (have)
		strbuf_addf(err, " (%zu already attached)", have);
	if ((size_t)req->count > total) {
		strbuf_addf(err, ", this %s has %zu", req->usable ? "Slurm step" : "machine", total);
		return;
	}
	for (size_t i = 0; i < devs->nr; i++) {
		int available = 0;

		if (is_usable(req, devs->v[i].index) && !device_has_eid(&devs->v[i], eid) &&
		    !device_is_available(&devs->v[i], req->gpu_memory, &available, &ignored) &&
		    available)
			free_nr++;
	}
	strbuf_addf(err, ", %zu of %zu available", free_nr, total);
	for (size_t i = 0; i < devs->nr; i++) {
		const struct device *d = &devs->v[i];

		if (!d->att_nr || device_has_eid(d, eid))
			continue;
		strbuf_addstr(err, sep);
		sep = ", ";
		add_holders(err, d, req->envs, now);
	}
	strbuf_release(&ignored);
}

static int
cmp_attachments(const void *a, const void *b)
{
	const struct device *x = *(struct device *const *)a;
	const struct device *y = *(struct device *const *)b;

	return (x->att_nr > y->att_nr) - (x->att_nr < y->att_nr);
}

/*
 * 1.4.3's find_available_devices over the devices eid is not attached to:
 * the available ones in index order, then (over-subscribing) the others,
 * least attached first. Fills picked[] with count devices; returns 1
 * (and says nothing) when there are not that many.
 */
static int
find_available(struct devices *devs, const char *eid, size_t count,
	       const struct attach_request *req, struct device **picked,
	       struct strbuf *err)
{
	const char *gpu_memory = req->gpu_memory;
	int over = req->over_subscribe;
	struct device **busy = xmalloc((devs->nr + 1) * sizeof(*busy));
	size_t nr = 0, busy_nr = 0;
	int rc = -1;

	for (size_t i = 0; i < devs->nr; i++) {
		struct device *d = &devs->v[i];
		int available;

		if (device_has_eid(d, eid) || !is_usable(req, d->index))
			continue;
		if (device_is_available(d, gpu_memory, &available, err) < 0)
			goto out;
		if (available) {
			if (nr < count)
				picked[nr++] = d;
		} else {
			busy[busy_nr++] = d;
		}
	}
	if (over && nr < count) {
		/* 1.4.3 uses a stable sort; qsort is not stable, insertion sort is */
		for (size_t i = 1; i < busy_nr; i++)
			for (size_t j = i; j > 0 && cmp_attachments(&busy[j - 1], &busy[j]) > 0; j--) {
				struct device *t = busy[j];

				busy[j] = busy[j - 1];
				busy[j - 1] = t;
			}
		for (size_t i = 0; i < busy_nr && nr < count; i++)
			picked[nr++] = busy[i];
	}
	if (nr < count) {
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	free(busy);
	return rc;
}

/* Fails a request that asks for more than is available. */
static int
refuse(const struct attach_request *req)
{
	if (req->refused)
		*req->refused = 1;
	return -1;
}

/* 1.4.3's message, then with req->envs the numbers and the holders. */
static void
no_available(const struct devices *devs, const char *eid,
	     const struct attach_request *req, struct strbuf *err)
{
	strbuf_addstr(err, "No available devices");
	if (req->envs)
		explain_shortage(devs, eid, req, err);
}

static int
attach_index(struct devices *devs, const char *eid, const struct attach_request *req,
	     const char *stamp, struct strbuf *err)
{
	struct device *d = devices_find(devs, req->index);
	int available;

	if (!d) {
		strbuf_addf(err, "Device %ld does not exist", req->index);
		return -1;
	}
	if (!is_usable(req, req->index)) {
		strbuf_addf(err, "Device %ld is not one of this Slurm step's GPUs", req->index);
		return -1;
	}
	if (device_has_eid(d, eid))
		return 0;
	if (device_is_available(d, req->gpu_memory, &available, err) < 0)
		return -1;
	if (!available && !req->over_subscribe) {
		strbuf_addf(err, "Device %ld is not available", req->index);
		if (req->envs && d->att_nr) {
			strbuf_addstr(err, "\nheld: ");
			add_holders(err, d, req->envs, clock_wall());
		}
		return refuse(req);
	}
	device_attach(d, eid, req->gpu_memory, stamp);
	return 0;
}

static int
attach_more(struct devices *devs, const char *eid, const struct attach_request *req,
	    const char *stamp, struct strbuf *err)
{
	size_t have = devices_attached_count(devs, eid), want;
	struct device **picked;
	int rc;

	if (req->count <= (long)have)
		return 0;
	want = (size_t)req->count - have;
	if (want > devs->nr) {
		/* cannot be satisfied; also keeps the allocation below bounded */
		no_available(devs, eid, req, err);
		return refuse(req);
	}
	picked = xmalloc((want + 1) * sizeof(*picked));
	rc = find_available(devs, eid, want, req, picked, err);
	if (rc) {
		free(picked);
		if (rc < 0)
			return -1;
		no_available(devs, eid, req, err);
		return refuse(req);
	}
	for (size_t i = 0; i < want; i++)
		device_attach(picked[i], eid, req->gpu_memory, stamp);
	free(picked);
	return 0;
}

static int
check_count(const struct attach_request *req, struct strbuf *err)
{
	if (req->count < -1) {
		strbuf_addf(err, "Invalid device count %ld", req->count);
		return -1;
	}
	return 0;
}

int
devices_attach(struct devices *devs, const char *eid,
	       const struct attach_request *req, struct strbuf *err)
{
	struct strbuf stamp = STRBUF_INIT;
	int rc = 0;

	if (req->index < 0 && check_count(req, err) < 0)
		return -1;
	genv_time_format(&stamp, clock_wall());
	if (req->index >= 0)
		rc = attach_index(devs, eid, req, stamp.buf, err);
	else if (req->count >= 0)
		rc = attach_more(devs, eid, req, stamp.buf, err);
	strbuf_release(&stamp);
	return rc;
}

int
devices_ensure_count(struct devices *devs, const char *eid,
		     const struct attach_request *req, struct strbuf *err)
{
	size_t have;

	if (req->index >= 0 || req->count < 0)
		return devices_attach(devs, eid, req, err);
	if ((size_t)req->count > devs->nr) {
		strbuf_addf(err, "Requested more devices (%ld) than total available (%zu)",
			    req->count, devs->nr);
		return -1;
	}
	have = devices_attached_count(devs, eid);
	if (have < (size_t)req->count)
		return devices_attach(devs, eid, req, err);
	/* too many: give back the highest indices first */
	for (size_t i = devs->nr; i-- > 0 && have > (size_t)req->count;)
		if (device_detach(&devs->v[i], eid))
			have--;
	return 0;
}

void
devices_detach(struct devices *devs, const char *eid, long index)
{
	if (index >= 0) {
		struct device *d = devices_find(devs, index);

		if (d)
			device_detach(d, eid);
		return;
	}
	for (size_t i = 0; i < devs->nr; i++)
		device_detach(&devs->v[i], eid);
}

void
devices_cleanup(struct devices *devs, const struct envs *live)
{
	struct envs_index idx = ENVS_INDEX_INIT;

	envs_index_build(&idx, live);
	for (size_t i = 0; i < devs->nr; i++) {
		struct device *d = &devs->v[i];
		size_t kept = 0;

		for (size_t j = 0; j < d->att_nr; j++) {
			struct attachment *a = &d->att[j];

			if (envs_index_find(&idx, a->eid)) {
				d->att[kept++] = *a;
			} else {
				free(a->eid);
				free(a->gpu_memory);
				free(a->time);
			}
		}
		d->att_nr = kept;
	}
	envs_index_release(&idx);
}

void
devices_attached_list(const struct devices *devs, const char *eid,
		      struct strbuf *out)
{
	int first = 1;

	for (size_t i = 0; i < devs->nr; i++) {
		if (!device_has_eid(&devs->v[i], eid))
			continue;
		if (!first)
			strbuf_addch(out, ',');
		strbuf_addf(out, "%ld", devs->v[i].index);
		first = 0;
	}
}

size_t
devices_attached_count(const struct devices *devs, const char *eid)
{
	size_t n = 0;

	for (size_t i = 0; i < devs->nr; i++)
		n += device_has_eid(&devs->v[i], eid);
	return n;
}
