/* SPDX-License-Identifier: MIT */
/*
 * protect.c: the install record and what the caller may still change
 * (protect.h). The design and its reasons are in doc/security.md.
 */
#include "compat.h"
#include "core/protect.h"
#include "gpu/gpu.h"
#include "util/fileio.h"
#include "util/priv.h"
#include "util/proc.h"
#include "util/xalloc.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* The record, below <prefix>/etc; a /usr install's is in /etc (the FHS). */
#define CONFIG_IN_ETC "/etc/genv/genv.conf"
#define CONFIG_MAX_SIZE 65536

enum protect_state {
	PROTECT_OFF,       /* shared mode: no (usable) protected install */
	PROTECT_ON,        /* the protected state, with the group privilege */
	PROTECT_DROPPED,   /* a protected install, privilege dropped for a variable */
};

static struct {
	enum protect_state state;
	const char *dropped_for;   /* the variable that made us drop */
	struct install_config conf;
} protect = { PROTECT_OFF, NULL, INSTALL_CONFIG_INIT };

void
install_config_release(struct install_config *c)
{
	free(c->state_dir);
	free(c->group);
	free(c->nvml_library);
	*c = (struct install_config)INSTALL_CONFIG_INIT;
}

static int
set_value(struct install_config *c, const char *key, const char *value,
	  struct strbuf *err)
{
	char *end;

	if (!strcmp(key, "protected") && (!strcmp(value, "0") || !strcmp(value, "1"))) {
		c->protected = *value == '1';
	} else if (!strcmp(key, "state_dir") && *value == '/') {
		free(c->state_dir);
		c->state_dir = xstrdup(value);
	} else if (!strcmp(key, "group") && *value) {
		free(c->group);
		c->group = xstrdup(value);
	} else if (!strcmp(key, "gid") && *value >= '0' && *value <= '9') {
		errno = 0;
		c->gid = strtoll(value, &end, 10);
		if (errno || *end || c->gid > (long long)(gid_t)-2) {
			strbuf_addf(err, "not a gid: '%s'", value);
			return -1;
		}
	} else if (!strcmp(key, "max_envs_per_user") && *value >= '0' && *value <= '9') {
		errno = 0;
		c->max_envs_per_user = strtoll(value, &end, 10);
		if (errno || *end || c->max_envs_per_user > INT_MAX) {
			strbuf_addf(err, "not a number of environments: '%s'", value);
			return -1;
		}
	} else if (!strcmp(key, "nvml_library") && (!*value || *value == '/')) {
		free(c->nvml_library);
		c->nvml_library = *value ? xstrdup(value) : NULL;
	} else {
		strbuf_addf(err, "unknown key or bad value: '%s = %s'", key, value);
		return -1;
	}
	return 0;
}

int
install_config_parse(struct install_config *c, const char *text,
		     struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT, key = STRBUF_INIT;
	int lineno = 0, rc = -1;

	while (*text) {
		size_t n = strcspn(text, "\n");
		const char *eq;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, text, n);
		text += n + !!text[n];
		strbuf_trim(&line);
		if (!line.len || line.buf[0] == '#')
			continue;
		eq = strchr(line.buf, '=');
		if (!eq) {
			strbuf_addf(err, "line %d: not 'key = value'", lineno);
			goto out;
		}
		strbuf_reset(&key);
		strbuf_add(&key, line.buf, (size_t)(eq - line.buf));
		strbuf_trim(&key);
		eq++;
		eq += strspn(eq, " \t");
		if (set_value(c, key.buf, eq, err) < 0) {
			strbuf_addf(err, " (line %d)", lineno);
			goto out;
		}
	}
	if (c->protected && (!c->state_dir || !c->group || c->gid < 0)) {
		strbuf_addstr(err, "protected = 1 needs state_dir, group and gid");
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&line);
	strbuf_release(&key);
	return rc;
}


/* Reads the record only if nobody but root can have written it. */
static int
read_config(const char *path, struct install_config *c, struct strbuf *why)
{
	struct strbuf text = STRBUF_INIT;
	int rc = -1;

	if (path_root_only(path, S_IFREG, (gid_t)-1, why) < 0 ||
	    read_file_sb(&text, path, why) < 0)
		goto out;
	if (text.len > CONFIG_MAX_SIZE || strlen(text.buf) != text.len) {
		strbuf_addstr(why, "not a text file of at most 64 KiB");
		goto out;
	}
	rc = install_config_parse(c, text.buf, why);
out:
	strbuf_release(&text);
	return rc;
}

static int
same_dir(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !memcmp(a, b, la);
}

/* The first variable asking for what the installation did not choose. */
static const char *
redirecting_variable(const struct install_config *c)
{
	const char *v = getenv("GENV_TMPDIR");

	if (v && *v && !same_dir(v, c->state_dir))
		return "GENV_TMPDIR";
	v = getenv("GENV_NVML_LIBRARY");
	if (v && *v && (!c->nvml_library || strcmp(v, c->nvml_library)))
		return "GENV_NVML_LIBRARY";
	return NULL;
}

/* Decides the mode from a trusted record; returns the privilege to keep. */
static int
choose_mode(const char *path, struct strbuf *warn)
{
	struct install_config *c = &protect.conf;

	if (!c->protected)
		return 0;
	if (priv_held() && (long long)priv_gid() != c->gid) {
		strbuf_addf(warn, "genv: warning: ignoring '%s': genv is set-group-ID to gid %lu, not to %s (gid %lld)\n",
			    path, (unsigned long)priv_gid(), c->group, c->gid);
		install_config_release(c);
		return 0;
	}
	protect.dropped_for = redirecting_variable(c);
	if (protect.dropped_for) {
		protect.state = PROTECT_DROPPED;
		/* a private GENV_TMPDIR may still use the recorded library */
		if (!getenv("GENV_NVML_LIBRARY") || !*getenv("GENV_NVML_LIBRARY"))
			gpu_set_library(c->nvml_library);
		return 0;
	}
	protect.state = PROTECT_ON;
	gpu_set_library(c->nvml_library);
	return 1;
}

/* The record's real path, from the binary's own (<prefix>/bin/genv). */
static int
config_path(struct strbuf *out)
{
	struct strbuf prefix = STRBUF_INIT;
	int usr = !proc_self_relative("/..", &prefix) && !strcmp(prefix.buf, "/usr");

	strbuf_release(&prefix);
	return proc_self_relative(usr ? "/../.." CONFIG_IN_ETC : "/.." CONFIG_IN_ETC, out);
}

int
protect_init(struct strbuf *warn, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	int keep = 0;

	if (!config_path(&path)) {
		if (read_config(path.buf, &protect.conf, &why) < 0) {
			strbuf_addf(warn, "genv: warning: ignoring '%s': %s\n", path.buf, why.buf);
			install_config_release(&protect.conf);
		} else {
			keep = choose_mode(path.buf, warn);
		}
	}
	strbuf_release(&path);
	strbuf_release(&why);
	if (!keep && priv_drop() < 0) {
		strbuf_addstr(err, "genv: cannot drop the group privilege");
		strbuf_add_errno(err, errno);
		return -1;
	}
	return 0;
}

long long
protect_max_envs_per_user(void)
{
	return protect.conf.max_envs_per_user;
}

int
protect_active(void)
{
	return protect.state == PROTECT_ON ||
	       (protect.state == PROTECT_DROPPED && !strcmp(protect.dropped_for, "GENV_NVML_LIBRARY") &&
		!getuid());
}

/*
 * The protected directory must be what make install made it: a real
 * directory that only root can have put there, group GROUP, nothing for
 * others. Root recreates it if it is gone (a tmp cleaner, say).
 */
static int
check_state_dir(const char *dir, struct strbuf *err)
{
	gid_t gid = (gid_t)protect.conf.gid;
	struct strbuf why = STRBUF_INIT;
	struct stat st;

	if (lstat(dir, &st) < 0 && errno == ENOENT && !getuid() &&
	    (mkdir(dir, 0) < 0 || chown(dir, 0, gid) < 0 || chmod(dir, 02770) < 0)) {
		strbuf_addf(err, "cannot create the protected state directory '%s'", dir);
		strbuf_add_errno(err, errno);
		return -1;
	}
	if (!path_root_only(dir, S_IFDIR, gid, &why) &&
	    (lstat(dir, &st) < 0 || st.st_gid != gid || (st.st_mode & S_IRWXO)))
		strbuf_addf(&why, "'%s' is not group %s or is open to others", dir,
			    protect.conf.group);
	if (why.len) {
		strbuf_addf(err, "refusing the protected state directory: %s (genv-protect enable sets it up)",
			    why.buf);
		strbuf_release(&why);
		return -1;
	}
	return 0;
}

int
protect_state_dir(const char **dir, struct strbuf *err)
{
	*dir = NULL;
	if (protect.state == PROTECT_OFF) {
		/* a record of a shared install only gives the default */
		if (!getenv("GENV_TMPDIR") || !*getenv("GENV_TMPDIR"))
			*dir = protect.conf.state_dir;
		return 0;
	}
	if (protect.state == PROTECT_DROPPED && !strcmp(protect.dropped_for, "GENV_TMPDIR"))
		return 0;
	if (!protect_active()) {
		strbuf_addf(err, "%s is set, so genv dropped its group privilege and may not use the protected state in '%s'; unset it, or set GENV_TMPDIR to a private state directory",
			    protect.dropped_for, protect.conf.state_dir);
		return -1;
	}
	if (check_state_dir(protect.conf.state_dir, err) < 0)
		return -1;
	*dir = protect.conf.state_dir;
	return 1;
}
