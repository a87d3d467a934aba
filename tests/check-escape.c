/* SPDX-License-Identifier: MIT */
/*
 * Unit suite of md_escape (common/md-escape.c), the one escaper for client- and
 * target-supplied text: a table of inputs and the exact text a user must see, in both modes,
 * and the size limit (never a cut inside an escape or a character, always NUL-terminated).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "md-escape.h"

static const struct escape_case {
	const char *in;
	size_t len;       /* 0: strlen(in) */
	const char *out;  /* escaped for a log line or a terminal */
	const char *json; /* with MD_ESCAPE_KEEP_CONTROLS */
} cases[] = {
    {"plain name", 0, "plain name", "plain name"},
    {"", 0, "", ""},
    {"a\nFAKE LOG LINE", 0, "a\\nFAKE LOG LINE", "a\nFAKE LOG LINE"},
    {"cr\r tab\t", 0, "cr\\r tab\\t", "cr\r tab\t"},
    {"\x1b[2Jclear", 0, "\\x1b[2Jclear", "\x1b[2Jclear"},
    {"bell\x07 del\x7f", 0, "bell\\x07 del\\x7f", "bell\x07 del\x7f"},
    {"back\\slash", 0, "back\\\\slash", "back\\slash"},
    {"fake \\x1b", 0, "fake \\\\x1b", "fake \\x1b"},
    {"nul\0after", 9, "nul\\x00after", "nul\0after"},
    /* valid UTF-8 is kept: 2, 3 and 4 bytes */
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    /* C1 controls (U+0080..U+009F, e.g. U+009B, the 8-bit CSI) are escaped byte by byte */
    {"\xc2\x9b"
     "2J",
     0, "\\xc2\\x9b2J",
     "\xc2\x9b"
     "2J"},
    {"\xc2\xa0nbsp", 0, "\xc2\xa0nbsp", "\xc2\xa0nbsp"},
    /* invalid UTF-8: a lone byte, a continuation, overlong, surrogate, past U+10FFFF, cut */
    {"x\xffy", 0, "x\\xffy", "x\\xffy"},
    {"\x9b"
     "2J",
     0, "\\x9b2J", "\\x9b2J"},
    {"\xc0\xaf", 0, "\\xc0\\xaf", "\\xc0\\xaf"},
    {"\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf", "\\xe0\\x80\\xaf"},
    {"\xed\xa0\x80", 0, "\\xed\\xa0\\x80", "\\xed\\xa0\\x80"},
    {"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80", "\\xf4\\x90\\x80\\x80"},
    {"end\xe2\x82", 0, "end\\xe2\\x82", "end\\xe2\\x82"},
    {"\xe2\x82"
     "A",
     0, "\\xe2\\x82A", "\\xe2\\x82A"},
};

START_TEST(escapes_as_a_user_must_see_it)
{
	const struct escape_case *c = &cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	char out[MD_ESCAPE_SIZE(64)];
	size_t json_len = strlen(c->json);

	ck_assert_str_eq(md_escape(c->in, len, out, sizeof(out), 0), c->out);
	md_escape(c->in, len, out, sizeof(out), MD_ESCAPE_KEEP_CONTROLS);
	/* the JSON form may hold a NUL of the input: compare the bytes */
	if (c->len)
		json_len = c->len;
	ck_assert_mem_eq(out, c->json, json_len);
}
END_TEST

START_TEST(worst_case_fits_its_size)
{
	char in[64], out[MD_ESCAPE_SIZE(sizeof(in))];

	memset(in, 0xff, sizeof(in));
	md_escape(in, sizeof(in), out, sizeof(out), 0);
	ck_assert_uint_eq(strlen(out), 4 * sizeof(in));
}
END_TEST

START_TEST(cuts_only_between_whole_escapes_and_characters)
{
	char out[8];

	/* room for 7 bytes: "ab" and one escape (4) fit, the next escape does not */
	ck_assert_str_eq(md_escape("ab\x1b\x1b", 4, out, sizeof(out), 0), "ab\\x1b");
	ck_assert_str_eq(md_escape("abcde\xe2\x82\xac", 8, out, 8, 0), "abcde");
	ck_assert_str_eq(md_escape("abc", 3, out, 1, 0), "");
	out[0] = 'x';
	md_escape("abc", 3, out, 0, 0); /* nothing written at all */
	ck_assert_int_eq(out[0], 'x');
}
END_TEST

CHECK_SUITE_FN(escape_suite, "escape",
               CHECK_CASE_PLAIN("escape", CHECK_LOOP_EACH(escapes_as_a_user_must_see_it, cases),
                                CHECK_TEST(worst_case_fits_its_size),
                                CHECK_TEST(cuts_only_between_whole_escapes_and_characters)));

CHECK_SUITE("escape", escape_suite);
