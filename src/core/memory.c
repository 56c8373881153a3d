/* SPDX-License-Identifier: MIT */
/*
 * memory.c: genv's memory strings ("4g", "16384mi") <-> bytes (memory.h).
 * Same units and values as genv 1.4.3, but anything that is not exactly
 * <digits><unit> is an error with a message instead of a crash.
 */
#include "compat.h"
#include "core/memory.h"
#include "util/strbuf.h"

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

#define VALID_UNITS "b, k, m, g, ki, mi, gi, or none for bytes"

int
memory_to_bytes(const char *s, unsigned long long *bytes, struct strbuf *err)
{
	unsigned long long n = 0, mult = 1;
	const char *p = s;

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
	if (*p) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(memory_units); i++)
			if (!strcmp(p, memory_units[i].name))
				break;
		if (i == ARRAY_SIZE(memory_units))
			goto invalid;
		mult = memory_units[i].mult;
	}
	if (n && mult > ~0ULL / n)
		goto overflow;
	*bytes = n * mult;
	return 0;

invalid:
	strbuf_addf(err, "invalid memory size '%s': expected <number><unit> with unit one of "
		    VALID_UNITS, s);
	return -1;
overflow:
	strbuf_addf(err, "memory size '%s' is too large", s);
	return -1;
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
