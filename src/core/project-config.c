/* SPDX-License-Identifier: MIT */
/* project-config.c: the `.genv` project directory (project-config.h). */
#include "compat.h"
#include "core/project-config.h"
#include "core/memory.h"
#include "core/state-check.h"
#include "util/fileio.h"
#include "util/strbuf.h"

#include <sys/stat.h>
#include <unistd.h>

static int
is_dir(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

/* Appends <base>/.genv to out if that is a directory. */
static int
try_dir(const char *base, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	int rc = -1;

	strbuf_addf(&path, "%s/.genv", base);
	if (is_dir(path.buf)) {
		strbuf_addbuf(out, &path);
		rc = 0;
	}
	strbuf_release(&path);
	return rc;
}

int
project_config_dir(struct strbuf *out)
{
	const char *home = getenv("HOME");
	char *cwd = getcwd(NULL, 0);
	int rc = -1;

	if (cwd)
		rc = try_dir(cwd, out);
	free(cwd);
	if (rc < 0 && home && *home)
		rc = try_dir(home, out);
	return rc;
}

/*
 * Reads <dir>/<file> stripped; *value stays NULL when the file is missing.
 * A NUL byte is an error: the value would silently end there.
 */
static int
read_field(const char *dir, const char *file, char **value, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ignored = STRBUF_INIT;
	int rc = 0;

	strbuf_addf(&path, "%s/%s", dir, file);
	if (read_file_sb(&text, path.buf, &ignored) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "cannot read '%s'", path.buf);
			strbuf_add_errno(err, errno);
			rc = -1;
		}
	} else if (memchr(text.buf, '\0', text.len)) {
		strbuf_addf(err, "'%s' holds a NUL byte", path.buf);
		rc = -1;
	} else {
		strbuf_trim(&text);
		*value = strbuf_detach(&text, NULL);
	}
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ignored);
	return rc;
}

int
project_config_load(const char *dir, struct env_config *c, struct strbuf *err)
{
	char *gpus = NULL;
	int rc = -1;

	if (read_field(dir, "name", &c->name, err) < 0 ||
	    read_field(dir, "gpu-memory", &c->gpu_memory, err) < 0 ||
	    read_field(dir, "gpus", &gpus, err) < 0)
		goto out;
	if (c->name && state_check_name(c->name, err) < 0) {
		strbuf_addf(err, " (in '%s/name')", dir);
		goto out;
	}
	if (c->gpu_memory && state_check_memory(c->gpu_memory, err) < 0) {
		strbuf_addf(err, " (in '%s/gpu-memory')", dir);
		goto out;
	}
	if (c->gpu_memory) {
		/* a hand-written "4GB" is stored as 1.4.3 reads it */
		struct strbuf memory = STRBUF_INIT;

		memory_normalize(c->gpu_memory, &memory, err);
		free(c->gpu_memory);
		c->gpu_memory = strbuf_detach(&memory, NULL);
	}
	if (gpus) {
		char *end;

		errno = 0;
		c->gpus = strtol(gpus, &end, 10);
		if (!*gpus || *end || errno ||
		    state_check_range(&state_gpus_range, c->gpus, NULL) < 0) {
			strbuf_addf(err, "'%s/gpus' holds '%s', not a number of devices",
				    dir, gpus);
			goto out;
		}
		c->has_gpus = 1;
	}
	rc = 0;
out:
	free(gpus);
	return rc;
}

/* Writes value to <dir>/<file>, or removes the file when value is NULL. */
static int
save_field(const char *dir, const char *file, const char *value, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	mode_t mask = umask(0);
	int rc = 0;

	umask(mask);
	strbuf_addf(&path, "%s/%s", dir, file);
	if (value) {
		rc = write_file_atomic(path.buf, value, strlen(value), 0666 & ~mask, err);
	} else if (unlink(path.buf) < 0 && errno != ENOENT) {
		strbuf_addf(err, "cannot remove '%s'", path.buf);
		strbuf_add_errno(err, errno);
		rc = -1;
	}
	strbuf_release(&path);
	return rc;
}

int
project_config_save(const char *dir, const struct env_config *c, struct strbuf *err)
{
	struct strbuf gpus = STRBUF_INIT;
	int rc;

	if (c->has_gpus)
		strbuf_addf(&gpus, "%ld", c->gpus);
	rc = save_field(dir, "name", c->name, err);
	if (!rc)
		rc = save_field(dir, "gpu-memory", c->gpu_memory, err);
	if (!rc)
		rc = save_field(dir, "gpus", c->has_gpus ? gpus.buf : NULL, err);
	strbuf_release(&gpus);
	return rc;
}
