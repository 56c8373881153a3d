/* SPDX-License-Identifier: MIT */
/*
 * enforce-audit.c: the audit log, one JSON line per enforcement action
 * (time, host, rule, pid, uid, eid, [device,] action, result, [reason]), appended
 * in one write per cycle so that concurrent enforcers' lines never
 * interleave (enforce.h).
 */
#include "compat.h"
#include "core/enforce.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
enforce_audit_add(const struct enforce_exec_options *o, enum enforce_rule rule,
		  long pid, long long uid, const char *eid, long device,
		  const char *action, const char *result, const char *reason)
{
	char stamp[64] = "";
	time_t now = clock_wall();
	struct tm tm;
	json_t *obj;

	if (!o->audit)
		return;
	if (gmtime_r(&now, &tm) && !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		stamp[0] = '\0';
	obj = json_object();
	json_object_set_new(obj, "time", json_string(stamp));
	json_object_set_new(obj, "host", json_string_or_null(o->hostname ? o->hostname : ""));
	json_object_set_new(obj, "rule", json_string_or_null(enforce_rule_name(rule)));
	json_object_set_new(obj, "pid", pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(obj, "uid", uid >= 0 ? json_integer(uid) : json_null());
	json_object_set_new(obj, "eid", json_string_or_null(eid));
	if (device >= 0)
		json_object_set_new(obj, "device", json_integer(device));
	json_object_set_new(obj, "action", json_string(action));
	json_object_set_new(obj, "result", json_string(result));
	if (reason)
		json_object_set_new(obj, "reason", json_string_or_null(reason));
	json_dump_py(o->audit, obj, JSON_STYLE_LINE);
	strbuf_addch(o->audit, '\n');
	json_decref(obj);
}

/*
 * Refuses a log another user could have written: anything but a regular
 * file of ours with one link and no group or other write permission.
 */
static int
check_audit_file(int fd, const char *path, struct strbuf *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		strbuf_addf(err, "cannot write audit log '%s'", path);
		strbuf_add_errno(err, errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		strbuf_addf(err, "refusing audit log '%s': not a regular file", path);
	else if (st.st_uid != geteuid())
		strbuf_addf(err, "refusing audit log '%s': owned by uid %ld, not by uid %ld",
			    path, (long)st.st_uid, (long)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		strbuf_addf(err, "refusing audit log '%s': writable by other users (mode %04o)",
			    path, (unsigned)(st.st_mode & 07777));
	else if (st.st_nlink != 1)
		strbuf_addf(err, "refusing audit log '%s': it has %ld hard links",
			    path, (long)st.st_nlink);
	else
		return 0;
	return -1;
}

static int
open_audit_log(const char *path, struct strbuf *err)
{
	/* O_NONBLOCK: a FIFO planted there must not hang the enforcer */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		      O_CLOEXEC, 0644);

	if (fd < 0) {
		if (errno == ELOOP)
			strbuf_addf(err, "refusing audit log '%s': it is a symbolic link", path);
		else if (errno == ENXIO)
			strbuf_addf(err, "refusing audit log '%s': not a regular file", path);
		else {
			strbuf_addf(err, "cannot open audit log '%s'", path);
			strbuf_add_errno(err, errno);
		}
		return -1;
	}
	if (check_audit_file(fd, path, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
enforce_audit_write(const char *path, const struct strbuf *lines, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash;
	int fd, rc = -1;

	if (!lines->len)
		return 0;
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		strbuf_add(&dir, path, slash - path);
		if (mkdir_p(dir.buf, 0755, err) < 0)
			goto out;
	}
	fd = open_audit_log(path, err);
	if (fd < 0)
		goto out;
	/* one write: concurrent enforcers' lines do not interleave */
	if (write_all(fd, lines->buf, lines->len) < 0) {
		strbuf_addf(err, "cannot write audit log '%s'", path);
		strbuf_add_errno(err, errno);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		strbuf_addf(err, "cannot write audit log '%s'", path);
		strbuf_add_errno(err, errno);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&dir);
	return rc;
}
