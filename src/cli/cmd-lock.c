/* SPDX-License-Identifier: MIT */
/*
 * cmd-lock.c: run a command while holding the device locks of the active
 * environment, so that environments over-subscribing a GPU take turns.
 * The locks are flocks on $GENV_TMPDIR/devices/<index>.lock, taken in
 * ascending index order (no deadlock between two lockers), as 1.4.3 does.
 */
#include "compat.h"
#include "cli/active.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/store.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Opens and flocks <dir>/devices/<index>.lock; returns the fd or -1. */
static int
lock_device(struct store *st, long index, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	int fd;

	store_path(st, "devices", &path);
	if (mkdir_p(path.buf, 0777, err) < 0)
		goto fail;
	strbuf_addf(&path, "/%ld.lock", index);
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);  /* flock needs no write access */
	if (fd < 0) {
		strbuf_addf(err, "cannot open '%s'", path.buf);
		strbuf_add_errno(err, errno);
		goto fail;
	}
	/* shared with every user whatever our umask; only the owner may chmod */
	if (!fstat(fd, &sb) && (sb.st_mode & 0777) != 0666 && sb.st_uid == geteuid())
		(void)fchmod(fd, 0666);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		strbuf_addf(err, "cannot lock '%s'", path.buf);
		strbuf_add_errno(err, errno);
		close(fd);
		goto fail;
	}
	strbuf_release(&path);
	return fd;
fail:
	strbuf_release(&path);
	return -1;
}

static int
lock_run(int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL, NULL, 0, NULL, NULL, NULL } };
	struct strbuf err = STRBUF_INIT;
	struct store st = STORE_INIT;
	long *idx = NULL;
	int *fds = NULL;
	size_t nr = 0, locked = 0;
	const char *eid;
	int pos, rc = 1;

	pos = cli_parse_options(&cli_cmd_lock, argc, argv, opts, CLI_PARSE_STOP_AT_POSITIONAL);
	if (pos == CLI_PARSE_HELP)
		return 0;
	if (pos < 0)
		return 2;
	eid = active_eid();
	if (eid) {
		if (store_init(&st, &err) < 0 ||
		    active_attached_indices(&st, eid, &idx, &nr, &err) < 0) {
			cli_error("%s", err.buf);
			goto out;
		}
		if (nr)
			qsort(idx, nr, sizeof(*idx), cmp_long);
		fds = xcalloc(nr ? nr : 1, sizeof(*fds));
		for (locked = 0; locked < nr; locked++) {
			if (locked && idx[locked] == idx[locked - 1]) {
				fds[locked] = -1;
				continue;
			}
			fds[locked] = lock_device(&st, idx[locked], &err);
			if (fds[locked] < 0) {
				cli_error("%s", err.buf);
				goto out;
			}
		}
	}
	rc = pos < argc ? run_foreground(argv + pos) : 0;
out:
	for (size_t i = 0; i < locked; i++)
		if (fds[i] >= 0)
			close(fds[i]);  /* closing the last fd releases the flock */
	free(fds);
	free(idx);
	store_release(&st);
	strbuf_release(&err);
	return rc;
}

const struct cli_cmd cli_cmd_lock = {
	.name = "lock",
	.summary = "Lock over-subscribed devices",
	.usage = "genv lock [-h] [COMMAND ...]",
	.help =
	"Runs COMMAND (no shell) while holding the locks of the devices the\n"
	"active environment is attached to, waiting for other environments that\n"
	"hold them; exits with COMMAND's status. Outside an environment nothing\n"
	"is locked.\n"
	"\n"
	"positional arguments:\n"
	"  COMMAND     the command and its arguments\n"
	"\n"
	"options:\n"
	"  -h, --help  show this help message and exit\n",
	.run = lock_run,
};
