/* SPDX-License-Identifier: MIT */
/* The reader tests' minidump builder (dump-builder.h). */
#include <string.h>

#include "dump-builder.h"
#include "md-text.h"

void tb_init(struct tb *b, bool dir_first)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(md_header);
	b->dir_first = dir_first;
	if (dir_first)
		b->size += sizeof(b->dir);
}

/* Appends an 8-aligned block and returns its RVA. */
uint32_t tb_append(struct tb *b, const void *data, size_t size)
{
	size_t rva = (b->size + 7u) & ~(size_t)7u;

	TB_CHECK(rva + size <= sizeof(b->buf));
	memset(b->buf + b->size, 0, rva - b->size);
	if (data)
		memcpy(b->buf + rva, data, size);
	else
		memset(b->buf + rva, 0, size);
	b->size = rva + size;
	return (uint32_t)rva;
}

/* Appends more bytes right after the previous ones. */
void tb_put(struct tb *b, const void *data, size_t size)
{
	TB_CHECK(b->size + size <= sizeof(b->buf));
	memcpy(b->buf + b->size, data, size);
	b->size += size;
}

void tb_put_u32(struct tb *b, uint32_t v)
{
	tb_put(b, &v, sizeof(v));
}

/* Appends an MDString of UTF-8 text (valid input only), converted to UTF-16LE here. */
uint32_t tb_string(struct tb *b, const char *utf8)
{
	uint16_t units[512];
	size_t n = 0;
	uint32_t rva, len;
	const uint8_t *p = (const uint8_t *)utf8;

	while (*p) {
		uint32_t cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if (*p < 0xE0) {
			cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
			p += 2;
		} else if (*p < 0xF0) {
			cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
			p += 3;
		} else {
			cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
			     ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
			p += 4;
		}
		TB_CHECK(n + 2 < 512);
		if (cp >= 0x10000) {
			units[n++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			units[n++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
		} else {
			units[n++] = (uint16_t)cp;
		}
	}
	len = (uint32_t)(n * 2);
	rva = tb_append(b, &len, sizeof(len));
	tb_put(b, units, n * 2);
	tb_put(b, "\0", 2);
	return rva;
}

/* Appends a MinidumpUTF8String: u32 length, bytes, NUL. */
uint32_t tb_utf8(struct tb *b, const char *s, size_t len)
{
	uint32_t l = (uint32_t)len;
	uint32_t rva = tb_append(b, &l, sizeof(l));

	tb_put(b, s, len);
	tb_put(b, "", 1);
	return rva;
}

void tb_stream(struct tb *b, uint32_t type, uint32_t rva, uint32_t size)
{
	TB_CHECK(b->n_dir < TB_STREAMS_MAX);
	b->dir[b->n_dir].stream_type = type;
	b->dir[b->n_dir].location.rva = rva;
	b->dir[b->n_dir].location.data_size = size;
	b->n_dir++;
}

/* Appends the directory and writes the header. Returns the directory's RVA. */
uint32_t tb_finish(struct tb *b)
{
	md_header h = {0};
	uint32_t dir_rva;

	if (b->dir_first) {
		dir_rva = sizeof(md_header);
		memcpy(b->buf + dir_rva, b->dir, b->n_dir * sizeof(md_directory));
	} else {
		dir_rva = tb_append(b, b->dir, b->n_dir * sizeof(md_directory));
	}

	h.signature = MD_SIGNATURE;
	h.version = MD_VERSION;
	h.stream_count = b->n_dir;
	h.stream_directory_rva = dir_rva;
	h.time_date_stamp = 1700000000;
	memcpy(b->buf, &h, sizeof(h));
	return dir_rva;
}
