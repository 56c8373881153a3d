/* SPDX-License-Identifier: MIT */
/*
 * hosts.c: parsing `-H` lists and hostfiles into a struct hostlist
 * (hosts.h). Every entry is checked before anything reaches ssh.
 */
#include "compat.h"
#include "remote/hosts.h"
#include "util/fileio.h"
#include "util/quote.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

void
hostlist_release(struct hostlist *hl)
{
	for (size_t i = 0; i < hl->nr; i++) {
		free(hl->v[i].name);
		free(hl->v[i].user);
		free(hl->v[i].entry);
	}
	free(hl->v);
	hl->v = NULL;
	hl->nr = hl->alloc = 0;
}

static int
same_user(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/* Checks one part of an entry (host or user); what is "host" or "user". */
static int
check_word(const char *word, size_t len, const char *what, const char *entry,
	   struct strbuf *err)
{
	if (!len) {
		strbuf_addf(err, "empty %s name in '%s'", what, entry);
		return -1;
	}
	if (word[0] == '-') {
		strbuf_addf(err, "%s name in '%s' starts with '-'", what, entry);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)word[i];

		if (c == ' ' || c == '\t') {
			strbuf_addf(err, "blank inside the %s name '%s'", what, entry);
			return -1;
		}
		if (c < 0x20 || c == 0x7f) {
			strbuf_addf(err, "control character in the %s name '%s'", what, entry);
			return -1;
		}
	}
	return 0;
}

/*
 * Validates entry ("host" or "user@host") and appends it. Messages do not
 * say where the entry came from: the caller prefixes that.
 */
static int
add_entry(struct hostlist *hl, const char *entry, const char *default_user,
	  struct strbuf *err)
{
	const char *at = strchr(entry, '@');
	const char *name = at ? at + 1 : entry;
	struct strbuf shown = STRBUF_INIT;   /* a shared hostfile is others' text */
	char *user = NULL;
	struct host *h;
	int rc = -1;

	quote_display(&shown, entry);
	if (at && strchr(at + 1, '@')) {
		strbuf_addf(err, "more than one '@' in '%s'", shown.buf);
		goto out;
	}
	if ((at && check_word(entry, (size_t)(at - entry), "user", shown.buf, err) < 0) ||
	    check_word(name, strlen(name), "host", shown.buf, err) < 0)
		goto out;
	if (at)
		user = xstrndup(entry, (size_t)(at - entry));
	else if (default_user)
		user = xstrdup(default_user);

	for (size_t i = 0; i < hl->nr; i++) {
		if (!strcmp(hl->v[i].name, name) && same_user(hl->v[i].user, user)) {
			strbuf_addf(err, "host '%s' is listed twice", shown.buf);
			free(user);
			goto out;
		}
	}
	ALLOC_GROW(hl->v, hl->nr + 1, hl->alloc);
	h = &hl->v[hl->nr++];
	h->name = xstrdup(name);
	h->user = user;
	h->entry = xstrdup(entry);
	rc = 0;
out:
	strbuf_release(&shown);
	return rc;
}

const char *
host_entry(const struct host *h)
{
	return h->entry ? h->entry : h->name;
}

/* Drops the hosts appended after keep (a failed parse leaves hl unchanged). */
static void
truncate_list(struct hostlist *hl, size_t keep)
{
	while (hl->nr > keep) {
		hl->nr--;
		free(hl->v[hl->nr].name);
		free(hl->v[hl->nr].user);
		free(hl->v[hl->nr].entry);
	}
}

int
hostlist_parse_list(struct hostlist *hl, const char *spec,
		    const char *default_user, struct strbuf *err)
{
	struct strbuf one = STRBUF_INIT;
	size_t keep = hl->nr, item = 0;
	const char *p = spec;
	int rc = -1;

	for (;;) {
		size_t n = strcspn(p, ",");

		item++;
		strbuf_reset(&one);
		strbuf_add(&one, p, n);
		strbuf_trim(&one);
		if (!one.len) {
			strbuf_addf(err, "empty host name in the host list '%s' (item %zu)",
				    spec, item);
			goto out;
		}
		if (add_entry(hl, one.buf, default_user, err) < 0) {
			strbuf_addf(err, " (host list item %zu)", item);
			goto out;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	rc = 0;
out:
	if (rc < 0)
		truncate_list(hl, keep);
	strbuf_release(&one);
	return rc;
}

int
hostlist_parse_text(struct hostlist *hl, const char *text, size_t len,
		    const char *what, const char *default_user, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;
	size_t keep = hl->nr, lineno = 0, pos = 0;
	int rc = -1;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		const char *hash;

		lineno++;
		pos += n + (nl ? 1 : 0);
		strbuf_reset(&line);
		strbuf_add(&line, start, n);
		if (memchr(line.buf, '\0', line.len)) {
			strbuf_addf(err, "%s:%zu: NUL byte in the line", what, lineno);
			goto out;
		}
		hash = strchr(line.buf, '#');
		if (hash)
			strbuf_setlen(&line, (size_t)(hash - line.buf));
		strbuf_trim(&line);   /* also drops the CR of CRLF files */
		if (!line.len)
			continue;
		if (add_entry(hl, line.buf, default_user, &why) < 0) {
			strbuf_addf(err, "%s:%zu: %s", what, lineno, why.buf);
			goto out;
		}
	}
	if (hl->nr == keep) {
		strbuf_addf(err, "%s: no hosts in the file", what);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		truncate_list(hl, keep);
	strbuf_release(&line);
	strbuf_release(&why);
	return rc;
}

int
hostlist_read_file(struct hostlist *hl, const char *path,
		   const char *default_user, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int rc = -1;

	if (read_file_sb(&text, path, err) < 0)
		goto out;
	rc = hostlist_parse_text(hl, text.buf, text.len, path, default_user, err);
out:
	strbuf_release(&text);
	return rc;
}
