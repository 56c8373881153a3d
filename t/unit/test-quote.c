/* SPDX-License-Identifier: MIT */
/* test-quote.c: text shown on a terminal with its control characters escaped. */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>

#include "util/quote.h"
#include "util/strbuf.h"

#include <ctype.h>

static void
expect_display(const char *in, const char *want)
{
	struct strbuf out = STRBUF_INIT;

	quote_display(&out, in);
	assert_string_equal(out.buf, want);
	assert_int_equal(display_needs_quote(in), strcmp(in, want) != 0);
	strbuf_release(&out);
}

static void
ordinary_text_unchanged(void **state UNUSED)
{
	expect_display("", "");
	expect_display("my-env", "my-env");
	expect_display("it's 'quoted' \\ and \"double\"", "it's 'quoted' \\ and \"double\"");
	expect_display("a\\b c\\", "a\\b c\\");
	/* printable UTF-8: 2, 3 and 4 bytes */
	expect_display("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0",
		       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
}

static void
controls_escaped(void **state UNUSED)
{
	expect_display("\x1b]0;title\x07", "\\x1b]0;title\\x07");
	expect_display("a\r\nb\tc\x7f", "a\\x0d\\x0ab\\x09c\\x7f");
	expect_display("\x01", "\\x01");
	/* C1 controls in UTF-8: U+009B is CSI */
	expect_display("\xc2\x9b" "2J", "\\xc2\\x9b2J");
	expect_display("\xc2\x80", "\\xc2\\x80");
}

static void
invalid_utf8_escaped(void **state UNUSED)
{
	expect_display("\x9b", "\\x9b");                   /* a lone continuation byte */
	expect_display("\xc3", "\\xc3");                   /* cut short */
	expect_display("\xc3(", "\\xc3(");
	expect_display("\xc0\xaf", "\\xc0\\xaf");          /* overlong '/' */
	expect_display("\xe0\x80\xaf", "\\xe0\\x80\\xaf"); /* overlong, 3 bytes */
	expect_display("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
	expect_display("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	expect_display("\xff", "\\xff");
}

static void
backslashes_unambiguous(void **state UNUSED)
{
	/* "\x" always begins an escape: a backslash before 'x' or '\' is doubled */
	expect_display("\\x1b", "\\\\x1b");
	expect_display("a\\\\b", "a\\\\\\b");
	expect_display("end\\", "end\\");
	expect_display("\\\x1b", "\\\\\\x1b");  /* backslash, ESC */
	expect_display("\\\x7f" "x", "\\\\\\x7fx");
}

/* The documented reading: \\ is a backslash, \xHH a byte, any other \ itself. */
static void
undisplay(struct strbuf *out, const char *s)
{
	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			strbuf_addch(out, '\\');
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
			   isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], 0 };

			strbuf_addch(out, (int)strtol(hex, NULL, 16));
			s += 4;
		} else {
			strbuf_addch(out, *s++);
		}
	}
}

static void
round_trip(void **state UNUSED)
{
	static const unsigned char alphabet[] = {
		'\\', 'x', '1', 'b', 'a', ' ', 0x1b, 0x07, 0x7f, '\r', '\n',
		0xc2, 0x9b, 0xa0, 0xe2, 0x82, 0xac, 0xff,
	};
	struct strbuf in = STRBUF_INIT, shown = STRBUF_INIT, back = STRBUF_INIT;
	unsigned seed = 1;

	for (int n = 0; n < 20000; n++) {
		strbuf_reset(&in);
		strbuf_reset(&shown);
		strbuf_reset(&back);
		for (int len = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 8; len; len--) {
			seed = seed * 1103515245 + 12345;
			strbuf_addch(&in, alphabet[(seed >> 16) % sizeof(alphabet)]);
		}
		quote_display(&shown, in.buf);
		for (size_t i = 0; i < shown.len; i++)
			if ((unsigned char)shown.buf[i] < 0x20 || shown.buf[i] == 0x7f)
				fail_msg("control byte shown for input %d", n);
		undisplay(&back, shown.buf);
		if (strcmp(back.buf, in.buf))
			fail_msg("'%s' reads back as '%s'", shown.buf, back.buf);
	}
	strbuf_release(&in);
	strbuf_release(&shown);
	strbuf_release(&back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordinary_text_unchanged),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(invalid_utf8_escaped),
		cmocka_unit_test(backslashes_unambiguous),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
