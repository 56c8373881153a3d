/* SPDX-License-Identifier: MIT */
/*
 * memory.h: genv's memory strings ("4g", "16384mi", "512") <-> bytes,
 * with the units and semantics of genv 1.4.3: b=1, k=10^3, m=10^6,
 * g=10^9, ki=2^10, mi=2^20, gi=2^30, no suffix = bytes, lower case only.
 */
#ifndef GENV_CORE_MEMORY_H
#define GENV_CORE_MEMORY_H

struct strbuf;

/*
 * Parses s. Unlike 1.4.3 (which crashes on "4gb") anything that is not
 * <digits><unit> is rejected with a message naming s and the valid units;
 * overflow is rejected too. Returns 0 or -1.
 */
int memory_to_bytes(const char *s, unsigned long long *bytes, struct strbuf *err);
/* Appends floor(bytes / unit) followed by unit (e.g. "3814mi"). unit is one of the above. */
void bytes_to_memory(struct strbuf *out, unsigned long long bytes, const char *unit);

#endif
