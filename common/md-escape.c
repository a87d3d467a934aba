/* SPDX-License-Identifier: MIT */
/*
 * The one escaper for text a client or a target supplied (see md-escape.h). It allocates
 * nothing and never fails, so any caller can use it on any input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "md-escape.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes available), or 0 if invalid. */
static size_t utf8_length(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or past 0xf4 */
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, past Unicode, or a UTF-16 surrogate */
	return len;
}

/* Whether the code point of a valid sequence is a control character (C0, DEL or C1). */
static bool is_control(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	return len == 2 && p[0] == 0xc2 && p[1] < 0xa0; /* U+0080..U+009F */
}

char *md_escape(const char *text, size_t len, char *out, size_t size, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, o = 0;

	if (size == 0)
		return out;
	while (i < len) {
		size_t n = utf8_length(p + i, len - i);
		char esc[4 * 4];
		size_t k = 0;

		if (n > 0 &&
		    (flags & MD_ESCAPE_KEEP_CONTROLS || (!is_control(p + i, n) && p[i] != '\\'))) {
			memcpy(esc, p + i, n);
			k = n;
		} else if (n == 1 &&
		           (p[i] == '\n' || p[i] == '\r' || p[i] == '\t' || p[i] == '\\')) {
			esc[k++] = '\\';
			esc[k++] = p[i] == '\n'   ? 'n'
			           : p[i] == '\r' ? 'r'
			           : p[i] == '\t' ? 't'
			                          : '\\';
		} else {
			/* an invalid byte alone, or every byte of a control character */
			if (n == 0)
				n = 1;
			for (size_t j = 0; j < n; j++) {
				esc[k++] = '\\';
				esc[k++] = 'x';
				esc[k++] = hex[p[i + j] >> 4];
				esc[k++] = hex[p[i + j] & 15];
			}
		}
		if (o + k + 1 > size)
			break; /* no room for this character whole */
		memcpy(out + o, esc, k);
		o += k;
		i += n;
	}
	out[o] = '\0';
	return out;
}
