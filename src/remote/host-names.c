/* SPDX-License-Identifier: MIT */
/* host-names.c: host names from an ssh config file (see host-names.h). */
#include "compat.h"
#include "remote/host-names.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#include <ctype.h>
#include <strings.h>

static int
has_name(const struct strvec *v, const char *s, size_t len)
{
	for (size_t i = 0; i < v->nr; i++)
		if (strlen(v->v[i]) == len && !strncmp(v->v[i], s, len))
			return 1;
	return 0;
}

/* The patterns after "Host" (or "Host=") on one line. */
static void
add_patterns(struct strvec *out, const char *p, const char *end)
{
	while (p < end) {
		const char *w;

		while (p < end && (isspace((unsigned char)*p) || *p == '='))
			p++;
		w = p;
		while (p < end && !isspace((unsigned char)*p))
			p++;
		if (p > w && !memchr(w, '*', (size_t)(p - w)) && !memchr(w, '?', (size_t)(p - w)) &&
		    *w != '!' && *w != '#' && !has_name(out, w, (size_t)(p - w)))
			strvec_pushf(out, "%.*s", (int)(p - w), w);
		if (p > w && *w == '#')
			return;
	}
}

void
host_names_from_ssh_config(const char *path, struct strvec *out)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	const char *p, *end;

	if (read_file_sb(&sb, path, &err) < 0)
		goto out;
	for (p = sb.buf; p < sb.buf + sb.len; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			end = sb.buf + sb.len;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (end - p > 4 && !strncasecmp(p, "host", 4) &&
		    (isspace((unsigned char)p[4]) || p[4] == '='))
			add_patterns(out, p + 4, end);
	}
out:
	strbuf_release(&sb);
	strbuf_release(&err);
}
