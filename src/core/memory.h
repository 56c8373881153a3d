/* SPDX-License-Identifier: MIT */
/*
 * memory.h: genv's memory strings ("4g", "16384mi", "512") <-> bytes,
 * with the units and semantics of genv 1.4.3: b=1, k=10^3, m=10^6,
 * g=10^9, ki=2^10, mi=2^20, gi=2^30, no suffix = bytes.
 *
 * Users may also type a unit in any case and with a trailing b, as they
 * write sizes elsewhere: "4G", "4GB" and "4gb" are 4g (10^9 bytes each, as
 * 1.4.3's g), "512MiB" is 512mi, "100B" is 100b. 1.4.3 reads only its
 * own lower-case spelling (it crashes on "4gb"), so what genv stores or
 * passes on is always that spelling: memory_normalize() at every input.
 */
#ifndef GENV_CORE_MEMORY_H
#define GENV_CORE_MEMORY_H

struct strbuf;

/*
 * Parses s. Unlike 1.4.3 (which crashes on "4gb") anything that is not
 * <digits><unit> (unit as above) is rejected with a message naming s and
 * the valid units; overflow is rejected too. Returns 0 or -1.
 */
int memory_to_bytes(const char *s, unsigned long long *bytes, struct strbuf *err);
/*
 * Appends s in 1.4.3's spelling: its digits as typed and its unit in lower
 * case without the extra b ("4GB" -> "4g", "512MiB" -> "512mi", "16384mi"
 * unchanged). Returns -1 with memory_to_bytes()'s message when s is not
 * a memory size.
 */
int memory_normalize(const char *s, struct strbuf *out, struct strbuf *err);
/*
 * What a procedure stores for the memory size s a user gave: s in 1.4.3's
 * spelling, in buf (reset first); s itself when it is NULL or no memory
 * size, so that the procedure's own check refuses it in its usual order.
 */
const char *memory_spelling(const char *s, struct strbuf *buf);
/* Appends floor(bytes / unit) followed by unit (e.g. "3814mi"). unit is one of the above. */
void bytes_to_memory(struct strbuf *out, unsigned long long bytes, const char *unit);

#endif
