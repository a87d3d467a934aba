/* SPDX-License-Identifier: MIT */
/*
 * Text decoding for the reader (see md-text.h): UTF-16LE and untrusted UTF-8 into valid
 * UTF-8, and fields of the Linux /proc text streams. Input is hostile: every loop is bounded
 * by the length given, and nothing here allocates, logs or reads past the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "md-text.h"

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* No unit or surrogate pair needs more than 3 bytes per unit. */
void md_text_utf16le_to_utf8(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)in[2 * i] | ((uint32_t)in[2 * i + 1] << 8);

		if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n) {
			uint32_t lo = (uint32_t)in[2 * i + 2] | ((uint32_t)in[2 * i + 3] << 8);

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			}
		}
		if (u == 0 || (u >= 0xD800 && u <= 0xDFFF))
			u = 0xFFFD;
		o += put_utf8(out + o, u);
	}
	out[o] = '\0';
}

void md_text_sanitize_utf8(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		uint8_t c = in[i];
		size_t len = 0;
		uint32_t cp = 0, min = 0;

		if (c >= 0x01 && c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
			min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
			min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		}
		if (len > 0 && len <= n - i) {
			size_t k;

			for (k = 1; k < len; k++) {
				if ((in[i + k] & 0xC0) != 0x80)
					break;
				cp = (cp << 6) | (in[i + k] & 0x3Fu);
			}
			if (k == len && cp >= min && cp <= 0x10FFFF &&
			    !(cp >= 0xD800 && cp <= 0xDFFF)) {
				memcpy(out + o, in + i, len);
				o += len;
				i += len;
				continue;
			}
		}
		memcpy(out + o, UTF8_REPLACEMENT, 3);
		o += 3;
		i++;
	}
	out[o] = '\0';
}

int md_text_proc_status_u32(const char *status, const char *key, uint32_t *ret_value)
{
	size_t klen = strlen(key);

	for (const char *line = status; line && *line;) {
		const char *nl = strchr(line, '\n'), *p;
		uint64_t v = 0;
		bool digits = false;

		if (strncmp(line, key, klen) != 0 || line[klen] != ':') {
			line = nl ? nl + 1 : NULL;
			continue;
		}
		for (p = line + klen + 1; *p == ' ' || *p == '\t'; p++)
			;
		for (; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++) {
			v = v * 10 + (uint64_t)(*p - '0');
			digits = true;
		}
		if (!digits || v > UINT32_MAX || (*p != '\n' && *p != '\0'))
			return -EBADMSG;
		*ret_value = (uint32_t)v;
		return 0;
	}
	return -ENOENT;
}
