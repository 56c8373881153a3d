/* SPDX-License-Identifier: MIT */
/*
 * state-check.c: the rules of the values in genv's state (state-check.h),
 * shared by the loader and every writer.
 */
#include "compat.h"
#include "core/state-check.h"
#include "core/memory.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <limits.h>

const struct state_range state_pid_range = {
	"process id", 1, INT_MAX, 1, INT_MAX,
};
const struct state_range state_uid_range = {
	/* (uid_t)-1 means "no uid" to chown() and setreuid() */
	"user id", 0, (long long)UINT32_MAX - 1, LLONG_MIN, LLONG_MAX,
};
const struct state_range state_index_range = {
	"device index", 0, LONG_MAX, 0, LONG_MAX,
};
const struct state_range state_gpus_range = {
	"device count", 0, INT_MAX, LONG_MIN, LONG_MAX,
};

int
state_check_range(const struct state_range *r, long long n, struct strbuf *err)
{
	if (n >= r->min && n <= r->max)
		return 0;
	if (err)
		strbuf_addf(err, "Invalid %s %lld (expected %lld to %lld)", r->noun, n,
			    r->min, r->max);
	return -1;
}

/* The offset of the first C0 or C1 control character or DEL in s, or -1. */
static long
control_at(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* C1 controls (U+0080-U+009F) are 0xc2 0x80-0x9f in UTF-8 */
		if (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			return (long)i;
	}
	return -1;
}

/* Valid UTF-8 exactly as the loader (jansson) decides it. */
static int
is_utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	json_decref(j);
	return j != NULL;
}

int
state_check_text(const char *noun, const char *s, size_t len, struct strbuf *err)
{
	if (len > STATE_TEXT_MAX) {
		if (err)
			strbuf_addf(err, "Invalid %s: %zu bytes long (at most %d)", noun, len,
				    STATE_TEXT_MAX);
		return -1;
	}
	if (memchr(s, '\0', len)) {
		if (err)
			strbuf_addf(err, "Invalid %s: it holds a NUL byte", noun);
		return -1;
	}
	if (!is_utf8(s, len)) {
		if (err)
			strbuf_addf(err, "Invalid %s: it is not valid UTF-8", noun);
		return -1;
	}
	return 0;
}

/*
 * Text that identifies (an eid, a user, a kernel): no control characters
 * either, so that line- and column-oriented outputs (`envs find`, `devices
 * query`) and the environment variables that carry it hold it whole.
 */
static int
check_identifier(const char *noun, const char *s, struct strbuf *err)
{
	size_t len = strlen(s);
	long at;

	if (state_check_text(noun, s, len, err) < 0)
		return -1;
	at = control_at((const unsigned char *)s, len);
	if (at >= 0) {
		if (err)
			strbuf_addf(err, "Invalid %s: it holds a control character (byte %ld)",
				    noun, at + 1);
		return -1;
	}
	return 0;
}

int
state_check_eid(const char *eid, struct strbuf *err)
{
	if (!*eid) {
		if (err)
			strbuf_addstr(err, "Invalid environment id: it is empty");
		return -1;
	}
	return check_identifier("environment id", eid, err);
}

int
state_check_kernel_id(const char *kernel_id, struct strbuf *err)
{
	/* it names Jupyter's runtime file kernel-<id>.json */
	if (!*kernel_id || strchr(kernel_id, '/')) {
		if (err)
			strbuf_addf(err, "Invalid Jupyter kernel id: it is %s",
				    *kernel_id ? "not a file name (it holds '/')" : "empty");
		return -1;
	}
	return check_identifier("Jupyter kernel id", kernel_id, err);
}

int
state_check_name(const char *name, struct strbuf *err)
{
	return state_check_text("environment name", name, strlen(name), err);
}

int
state_check_username(const char *username, struct strbuf *err)
{
	return check_identifier("user name", username, err);
}

int
state_check_memory(const char *memory, struct strbuf *err)
{
	struct strbuf ignored = STRBUF_INIT;
	unsigned long long bytes;
	int rc = memory_to_bytes(memory, &bytes, err ? err : &ignored);

	strbuf_release(&ignored);
	return rc;
}

int
state_check_config_field(enum env_config_field field, const char *value, long gpus,
			 struct strbuf *err)
{
	switch (field) {
	case ENV_CONFIG_NAME:
		return value ? state_check_name(value, err) : 0;
	case ENV_CONFIG_GPU_MEMORY:
		return value ? state_check_memory(value, err) : 0;
	case ENV_CONFIG_GPUS:
		return gpus >= 0 ? state_check_range(&state_gpus_range, gpus, err) : 0;
	}
	return 0;
}

int
state_check_config(const struct env_config *c, struct strbuf *err)
{
	if (state_check_config_field(ENV_CONFIG_NAME, c->name, -1, err) < 0 ||
	    state_check_config_field(ENV_CONFIG_GPU_MEMORY, c->gpu_memory, -1, err) < 0 ||
	    (c->has_gpus && state_check_range(&state_gpus_range, c->gpus, err) < 0))
		return -1;
	return 0;
}

int
state_check_file_size(const char *path, unsigned long long len, struct strbuf *err)
{
	if (len <= STATE_FILE_MAX)
		return 0;
	strbuf_addf(err, "%s: %llu bytes, over the %zu MiB limit of a genv state file",
		    path, len, STATE_FILE_MAX >> 20);
	return -1;
}

void
state_add_repair_hint(enum state_file which, const char *path, struct strbuf *err)
{
	switch (which) {
	case STATE_FILE_ENVS:
		strbuf_addf(err, "\nhint: correct or remove what is named above in %s "
			    "(keep a copy: it holds every user's environments), or run "
			    "'genv envs --reset' to forget all environments", path);
		break;
	case STATE_FILE_DEVICES:
		strbuf_addf(err, "\nhint: correct or remove what is named above in %s, "
			    "or run 'genv devices --reset' to rebuild it from the GPUs "
			    "(all attachments are forgotten)", path);
		break;
	}
}
