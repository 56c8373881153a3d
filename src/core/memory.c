/* SPDX-License-Identifier: MIT */
/*
 * memory.c: genv's memory strings ("4g", "16384mi") <-> bytes (memory.h).
 * Same units and values as genv 1.4.3, but anything that is not exactly
 * <digits><unit> is an error with a message instead of a crash, and the
 * unit may be typed as people type it ("4GB", "512MiB").
 */
#include "compat.h"
#include "core/memory.h"
#include "util/quote.h"
#include "util/strbuf.h"

#include <ctype.h>

static const struct memory_unit {
	const char *name;
	unsigned long long mult;
} memory_units[] = {
	{ "ki", 1ULL << 10 },
	{ "mi", 1ULL << 20 },
	{ "gi", 1ULL << 30 },
	{ "b", 1 },
	{ "k", 1000ULL },
	{ "m", 1000ULL * 1000 },
	{ "g", 1000ULL * 1000 * 1000 },
};

#define VALID_UNITS "b, k, m, g, ki, mi, gi (in any case, with or without a trailing b: " \
	"4g, 4GB, 512MiB), or none for bytes"

/*
 * The 1.4.3 unit that suffix (what follows the digits) spells: itself
 * in any case, or followed by 'b' ("kB", "MiB"); "" is bytes. NULL if none.
 */
static const struct memory_unit *
find_unit(const char *suffix)
{
	size_t len = strlen(suffix);

	if (len > 1 && tolower((unsigned char)suffix[len - 1]) == 'b')
		len--;
	for (size_t i = 0; i < ARRAY_SIZE(memory_units); i++) {
		const char *name = memory_units[i].name;

		if (strlen(name) == len && !strncasecmp(suffix, name, len) &&
		    (len == strlen(suffix) || strcmp(name, "b")))
			return &memory_units[i];
	}
	return NULL;
}

/*
 * Parses s into *bytes; *unit is its 1.4.3 unit (NULL when it has none)
 * and *digits the length of its number. Returns 0 or -1 with err.
 */
static int
parse_memory(const char *s, unsigned long long *bytes, const struct memory_unit **unit,
	     size_t *digits, struct strbuf *err)
{
	unsigned long long n = 0, mult = 1;
	const char *p = s;

	*unit = NULL;
	if (!s || !*s) {
		strbuf_addstr(err, "invalid memory size '': expected <number><unit> with unit one of "
			      VALID_UNITS);
		return -1;
	}
	if (*p < '0' || *p > '9')
		goto invalid;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (~0ULL - d) / 10)
			goto overflow;
		n = n * 10 + d;
	}
	*digits = (size_t)(p - s);
	if (*p) {
		*unit = find_unit(p);
		if (!*unit)
			goto invalid;
		mult = (*unit)->mult;
	}
	if (n && mult > ~0ULL / n)
		goto overflow;
	*bytes = n * mult;
	return 0;

invalid:
	/* s may be another user's, read from the state: escaped */
	strbuf_addstr(err, "invalid memory size '");
	quote_display(err, s);
	strbuf_addstr(err, "': expected <number><unit> with unit one of " VALID_UNITS);
	return -1;
overflow:
	strbuf_addstr(err, "memory size '");
	quote_display(err, s);
	strbuf_addstr(err, "' is too large");
	return -1;
}

int
memory_to_bytes(const char *s, unsigned long long *bytes, struct strbuf *err)
{
	const struct memory_unit *unit;
	size_t digits;

	return parse_memory(s, bytes, &unit, &digits, err);
}

int
memory_normalize(const char *s, struct strbuf *out, struct strbuf *err)
{
	const struct memory_unit *unit;
	unsigned long long bytes;
	size_t digits;

	if (parse_memory(s, &bytes, &unit, &digits, err) < 0)
		return -1;
	strbuf_add(out, s, digits);
	if (unit)
		strbuf_addstr(out, unit->name);
	return 0;
}

const char *
memory_spelling(const char *s, struct strbuf *buf)
{
	struct strbuf ignored = STRBUF_INIT;
	int rc;

	if (!s)
		return NULL;
	strbuf_reset(buf);
	rc = memory_normalize(s, buf, &ignored);
	strbuf_release(&ignored);
	return rc < 0 ? s : buf->buf;
}

void
bytes_to_memory(struct strbuf *out, unsigned long long bytes, const char *unit)
{
	unsigned long long mult = 1;

	for (size_t i = 0; i < ARRAY_SIZE(memory_units); i++)
		if (!strcmp(unit, memory_units[i].name))
			mult = memory_units[i].mult;
	strbuf_addf(out, "%llu%s", bytes / mult, unit);
}
