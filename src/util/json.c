/* SPDX-License-Identifier: MIT */
/* json.c: jansson helpers matching Python's json module output (json.h). */
#include "compat.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <ctype.h>

static int
dump_cb(const char *buf, size_t size, void *data)
{
	strbuf_add(data, buf, size);
	return 0;
}

void
json_dump_py(struct strbuf *out, const json_t *obj, enum json_style style)
{
	size_t flags = JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	size_t start = out->len;

	if (style == JSON_STYLE_INDENT2)
		flags |= JSON_INDENT(2);
	json_dump_callback(obj, dump_cb, out, flags);
	/* jansson writes \u00E9, Python \u00e9: lower-case every \u escape */
	for (size_t i = start; i < out->len; i++) {
		if (out->buf[i] != '\\')
			continue;
		if (out->buf[i + 1] == 'u')
			for (size_t k = i + 2; k < i + 6 && k < out->len; k++)
				out->buf[k] = (char)tolower((unsigned char)out->buf[k]);
		i++; /* skip the escaped character */
	}
}

json_t *
json_parse(const char *text, size_t len, const char *what, struct strbuf *err)
{
	json_error_t jerr;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

	if (!obj)
		strbuf_addf(err, "%s: invalid JSON at line %d column %d: %s",
			    what, jerr.line, jerr.column, jerr.text);
	return obj;
}

json_t *
json_string_or_null(const char *s)
{
	struct strbuf fixed = STRBUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	strbuf_add_utf8(&fixed, s);
	j = json_string(fixed.buf);
	strbuf_release(&fixed);
	return j;
}
