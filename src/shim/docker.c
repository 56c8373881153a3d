/* SPDX-License-Identifier: MIT */
/*
 * docker.c: the docker/podman shim's --gpus rewriting and genv-docker's
 * command line (docker.h).
 *
 * docker parses a --gpus value as CSV, which is why 1.4.3 passed
 * "device=0,2" with literal double quotes. We pass one --gpus per device
 * instead (docker adds one device request per flag; podman takes each
 * value as a CDI device), so no argument ever carries quotes.
 */
#include "compat.h"
#include "shim/docker.h"
#include "core/memory.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <ctype.h>

static int
is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * The devices in CUDA_VISIBLE_DEVICES: indices ("0,2"), or GPU UUIDs
 * ("GPU-8f3e...,GPU-1a2b...") as genv gives environments in a Slurm job;
 * "-1" and "" are none. docker takes either after device=, podman either
 * as a CDI device name (nvidia-ctk names them both ways).
 */
static void
split_visible(const char *visible, struct strvec *out)
{
	while (visible && *visible) {
		size_t n = strcspn(visible, ",");
		char *item = xstrndup(visible, n);

		if (*item && strcmp(item, "-1"))
			strvec_push(out, item);
		free(item);
		visible += n + (visible[n] == ',');
	}
}

/*
 * Whether id can follow --gpus device=: an index or a UUID (GPU-..., and
 * MIG-... with its '/'). docker reads the value as CSV, so a quote or a
 * blank would turn it into something else.
 */
static int
check_device_id(const char *id, struct strbuf *err)
{
	for (const char *p = id; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr("-_.:/", *p))
			continue;
		strbuf_addstr(err, "CUDA_VISIBLE_DEVICES holds '");
		quote_display(err, id);
		strbuf_addstr(err, "', not a device index or UUID");
		return -1;
	}
	return 0;
}

/* How many devices --gpus VALUE asks for, out of have; -1 on an error. */
static long
requested_count(const char *value, size_t have, struct strbuf *err)
{
	unsigned long long n;

	if (!strcmp(value, "all"))
		return (long)have;
	if (!is_number(value)) {
		strbuf_addf(err, "Unsupported value for '--gpus' (%s)", value);
		return -1;
	}
	errno = 0;
	n = strtoull(value, NULL, 10);
	if (errno || n > have) {
		strbuf_addf(err, "Requested %s devices but only %zu are attached to environment",
			    value, have);
		return -1;
	}
	return (long)n;
}

static void
push_gpus(enum container_engine engine, int eq_form, const struct strvec *devs,
	  long count, struct strvec *out)
{
	if (!count) {
		if (engine == ENGINE_DOCKER)
			strvec_push(out, eq_form ? "--gpus=0" : "--gpus");
		if (engine == ENGINE_DOCKER && !eq_form)
			strvec_push(out, "0");
		return;
	}
	for (long i = 0; i < count; i++) {
		const char *fmt = engine == ENGINE_DOCKER ? "device=%s" : "%s";

		if (eq_form) {
			strvec_pushf(out, engine == ENGINE_DOCKER ? "--gpus=device=%s" : "--gpus=%s",
				     devs->v[i]);
		} else {
			strvec_push(out, "--gpus");
			strvec_pushf(out, fmt, devs->v[i]);
		}
	}
}

int
docker_shim_args(enum container_engine engine, int argc, char **argv,
		 const char *eid, const char *visible, struct strvec *out,
		 struct strbuf *err)
{
	struct strvec devs = STRVEC_INIT;
	int done = 0, rc = -1;

	split_visible(visible, &devs);
	for (int i = 1; i < argc; i++) {
		const char *value = NULL;
		int eq_form = 0;
		long count;

		if (!done && !strcmp(argv[i], "--gpus")) {
			if (i + 1 >= argc) {
				strbuf_addstr(err, "Missing value for '--gpus'");
				goto out;
			}
			value = argv[++i];
		} else if (!done && skip_prefix(argv[i], "--gpus=", &value)) {
			eq_form = 1;
		} else {
			strvec_push(out, argv[i]);
			continue;
		}
		count = requested_count(value, devs.nr, err);
		if (count < 0)
			goto out;
		for (long k = 0; k < count; k++)
			if (check_device_id(devs.v[k], err) < 0)
				goto out;
		push_gpus(engine, eq_form, &devs, count, out);
		strvec_push(out, "-e");
		strvec_pushf(out, "GENV_ENVIRONMENT_ID=%s", eid);
		done = 1;
	}
	rc = 0;
out:
	strvec_clear(&devs);
	return rc;
}

/* genv-docker's switches: --NAME / --no-NAME and the variable each sets. */
static const struct {
	const char *name, *var, *off_value;
} docker_switches[] = {
	{ "activate", "GENV_ACTIVATE", "0" },
	{ "attach", "GENV_ATTACH", "0" },
	{ "shims", "GENV_MOUNT_SHIMS", "0" },
	{ "device-locks", "GENV_MOUNT_DEVICE_LOCKS", "0" },
};

struct docker_opts {
	const char *gpus, *gpu_memory, *eid;
	int off[ARRAY_SIZE(docker_switches)];
	int over_subscribe;
	struct strbuf memory;   /* gpu_memory in 1.4.3's spelling */
};

/*
 * Whether *value is a memory size (as genv takes it: "4g", "4GB", "512MiB");
 * if so *value becomes its 1.4.3 spelling, which the runtime of a Python
 * genv reads too.
 */
static int
memory_value(struct docker_opts *o, const char **value)
{
	struct strbuf ignored = STRBUF_INIT;
	int ok;

	strbuf_reset(&o->memory);
	ok = !memory_normalize(*value, &o->memory, &ignored);
	strbuf_release(&ignored);
	if (ok)
		*value = o->memory.buf;
	return ok;
}

/*
 * One genv option at argv[*i] (value in the next argument or after '=');
 * returns 1 if it was one, 0 if not, -1 on an error.
 */
static int
take_option(struct docker_opts *o, int argc, char **argv, int *i, int *dry_run,
	    struct strbuf *err)
{
	static const char *const valued[] = { "--gpus", "--gpu-memory", "--eid" };
	const char *arg = argv[*i], *value = NULL;
	const char **slot[] = { &o->gpus, &o->gpu_memory, &o->eid };

	for (size_t k = 0; k < ARRAY_SIZE(valued); k++) {
		size_t len = strlen(valued[k]);

		if (strncmp(arg, valued[k], len) || (arg[len] && arg[len] != '='))
			continue;
		if (arg[len] == '=')
			value = arg + len + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else {
			strbuf_addf(err, "Missing value for '%s'", valued[k]);
			return -1;
		}
		if ((k == 0 && !is_number(value)) || (k == 1 && !memory_value(o, &value)) ||
		    (k == 2 && !*value)) {
			strbuf_addf(err, "Invalid value for '%s' (%s)", valued[k], value);
			return -1;
		}
		*slot[k] = value;
		return 1;
	}
	if (!strcmp(arg, "--dry-run"))
		return *dry_run = 1;
	if (!strcmp(arg, "--over-subscribe") || !strcmp(arg, "--no-over-subscribe")) {
		o->over_subscribe = arg[2] != 'n';
		return 1;
	}
	for (size_t k = 0; k < ARRAY_SIZE(docker_switches); k++) {
		if (starts_with(arg, "--no-") && !strcmp(arg + 5, docker_switches[k].name))
			return o->off[k] = 1;
		if (starts_with(arg, "--") && !strcmp(arg + 2, docker_switches[k].name)) {
			o->off[k] = 0;
			return 1;
		}
	}
	return 0;
}

static void
push_env(struct strvec *out, const char *var, const char *value)
{
	strvec_push(out, "-e");
	strvec_pushf(out, "%s=%s", var, value);
}

static void
push_genv_args(const struct docker_opts *o, struct strvec *out)
{
	strvec_push(out, "--runtime=genv");
	if (o->gpus)
		push_env(out, "GENV_GPUS", o->gpus);
	if (o->gpu_memory)
		push_env(out, "GENV_GPU_MEMORY", o->gpu_memory);
	if (o->eid)
		push_env(out, "GENV_ENVIRONMENT_ID", o->eid);
	for (size_t k = 0; k < ARRAY_SIZE(docker_switches); k++)
		if (o->off[k])
			push_env(out, docker_switches[k].var, docker_switches[k].off_value);
	if (o->over_subscribe)
		push_env(out, "GENV_ALLOW_OVER_SUBSCRIPTION", "1");
}

int
genv_docker_parse(struct genv_docker *d, int argc, char **argv, struct strbuf *err)
{
	struct docker_opts o;
	struct strvec after = STRVEC_INIT;
	int run = 0, rc = 0;

	memset(&o, 0, sizeof(o));
	strbuf_init(&o.memory, 0);
	for (int i = 1; i < argc && rc >= 0; i++) {
		if (!strcmp(argv[i], "--help"))
			d->help = 1;
		if (!run) {
			strvec_push(&d->args, argv[i]);
			run = !strcmp(argv[i], "run");
			continue;
		}
		rc = take_option(&o, argc, argv, &i, &d->dry_run, err);
		if (!rc)
			strvec_push(&after, argv[i]);
	}
	if (rc >= 0 && run) {
		push_genv_args(&o, &d->args);
		for (size_t i = 0; i < after.nr; i++)
			strvec_push(&d->args, after.v[i]);
	}
	strvec_clear(&after);
	strbuf_release(&o.memory);
	return rc < 0 ? -1 : 0;
}

void
genv_docker_release(struct genv_docker *d)
{
	strvec_clear(&d->args);
}
