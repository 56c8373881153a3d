/* SPDX-License-Identifier: MIT */
/* admin.c: shared by `genv envs` and `genv devices` (admin.h). */
#include "compat.h"
#include "cli/admin.h"
#include "cli/cli.h"
#include "core/store.h"
#include "util/strbuf.h"

unsigned
admin_store_flags(int no_cleanup, int reset)
{
	return (no_cleanup ? 0 : STORE_CLEANUP) | (reset ? STORE_RESET : 0);
}

int
admin_finish(int rc, struct strbuf *out, struct strbuf *err)
{
	if (rc < 0)
		cli_error("%s", err->buf);
	else
		fwrite(out->buf, 1, out->len, stdout);
	strbuf_release(out);
	strbuf_release(err);
	return rc < 0 ? 1 : 0;
}
