/* SPDX-License-Identifier: MIT */
/*
 * enforce-audit.c: the audit log, one JSON line per enforcement action
 * (time, host, rule, pid, uid, eid, [device,] action, result), appended
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
#include <time.h>
#include <unistd.h>

void
enforce_audit_add(const struct enforce_exec_options *o, enum enforce_rule rule,
		  long pid, long long uid, const char *eid, long device,
		  const char *action, const char *result)
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
	json_dump_py(o->audit, obj, JSON_STYLE_LINE);
	strbuf_addch(o->audit, '\n');
	json_decref(obj);
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
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "cannot open audit log '%s'", path);
		strbuf_add_errno(err, errno);
		goto out;
	}
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
