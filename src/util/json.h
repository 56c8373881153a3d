/* SPDX-License-Identifier: MIT */
/*
 * json.h: thin helpers over jansson so that genv reads strictly and writes
 * JSON byte-for-byte like Python's json.dumps (genv 1.4.3 is the peer we
 * exchange state files and remote snapshots with).
 */
#ifndef GENV_UTIL_JSON_H
#define GENV_UTIL_JSON_H

#include <jansson.h>

struct strbuf;

enum json_style {
	JSON_STYLE_INDENT2,  /* json.dumps(obj, indent=2) */
	JSON_STYLE_LINE,     /* json.dumps(obj): one line, ", " and ": " */
};

/*
 * Appends obj to out exactly as Python would print it (ensure_ascii
 * escapes with lowercase hex, insertion key order), without a newline.
 */
void json_dump_py(struct strbuf *out, const json_t *obj, enum json_style style);

/*
 * Parses text; on failure appends "<what>: line L column C: <reason>" to
 * err and returns NULL. Duplicate keys are rejected.
 */
json_t *json_parse(const char *text, size_t len, const char *what, struct strbuf *err);

/*
 * A new string value, or JSON null for NULL. jansson refuses invalid
 * UTF-8 (a name typed in a Latin-1 terminal, say), which would silently
 * drop the key; such bytes become U+FFFD instead.
 */
json_t *json_string_or_null(const char *s);

#endif
