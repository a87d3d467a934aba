/* SPDX-License-Identifier: MIT */
/*
 * Streaming minidump file writer. Blocks are appended through one fixed buffer and written
 * sequentially; earlier blocks may be patched in place (list headers whose entries point at
 * data written after them). It must never hold more than MD_WRITER_BUFFER bytes of dump data
 * in memory and never produce an offset beyond the 32-bit RVA range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "md-writer.h"

#define PAD_MAX 8u

static int write_full(int fd, const void *data, size_t size, uint64_t offset)
{
	return md_os_pwrite_full(fd, data, size, offset);
}

static int flush(struct md_writer *w)
{
	int r;

	if (w->error < 0)
		return w->error;
	if (w->size == w->flushed)
		return 0;
	r = write_full(w->fd, w->buf, (size_t)(w->size - w->flushed), w->flushed);
	if (r < 0)
		return w->error = r;
	w->flushed = w->size;
	return 0;
}

/* Makes sure the file can grow by size bytes without leaving the RVA range. */
static int check_room(const struct md_writer *w, uint64_t size)
{
	if (w->error < 0)
		return w->error;
	if (size > (uint64_t)MD_RVA_MAX + 1 || w->size + size > (uint64_t)MD_RVA_MAX + 1)
		return -EFBIG;
	if (w->limit && w->size + size > w->limit)
		return -EFBIG;
	return 0;
}

int md_writer_put(struct md_writer *w, const void *data, size_t size)
{
	const uint8_t *p = data;
	int r;

	r = check_room(w, size);
	if (r < 0)
		return r;
	while (size > 0) {
		size_t used = (size_t)(w->size - w->flushed);
		size_t n = MD_WRITER_BUFFER - used;

		if (n == 0) {
			r = flush(w);
			if (r < 0)
				return r;
			continue;
		}
		if (n > size)
			n = size;
		if (p)
			memcpy(w->buf + used, p, n);
		else
			memset(w->buf + used, 0, n);
		w->size += n;
		size -= n;
		if (p)
			p += n;
	}
	return 0;
}

int md_writer_begin(struct md_writer *w, uint32_t *ret_rva)
{
	size_t pad = (size_t)((MD_ALIGN - (w->size % MD_ALIGN)) % MD_ALIGN);
	int r;

	r = check_room(w, pad);
	if (r < 0)
		return r;
	if (pad > 0) {
		r = md_writer_put(w, NULL, pad);
		if (r < 0)
			return r;
	}
	if (w->size > MD_RVA_MAX)
		return -EFBIG;
	*ret_rva = (uint32_t)w->size;
	return 0;
}

int md_writer_append(struct md_writer *w, const void *data, size_t size, uint32_t *ret_rva)
{
	uint32_t rva;
	int r;

	r = md_writer_begin(w, &rva);
	if (r < 0)
		return r;
	r = md_writer_put(w, data, size);
	if (r < 0)
		return r;
	*ret_rva = rva;
	return 0;
}

int md_writer_reserve(struct md_writer *w, size_t size, uint32_t *ret_rva)
{
	return md_writer_append(w, NULL, size, ret_rva);
}

int md_writer_write_at(struct md_writer *w, uint32_t rva, const void *data, size_t size)
{
	const uint8_t *p = data;
	uint64_t off = rva;
	int r;

	if (w->error < 0)
		return w->error;
	if (off + size > w->size)
		return -EINVAL; /* only what was appended may be overwritten */
	/* The part before the buffer is already in the file. */
	if (off < w->flushed) {
		size_t n = size;

		if (off + n > w->flushed)
			n = (size_t)(w->flushed - off);
		r = write_full(w->fd, p, n, off);
		if (r < 0)
			return w->error = r;
		p += n;
		off += n;
		size -= n;
	}
	if (size > 0)
		memcpy(w->buf + (off - w->flushed), p, size);
	return 0;
}

/* Decodes one UTF-8 sequence; returns the code point (U+FFFD on error) and advances *s. */
static uint32_t utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t cp, min;
	int extra;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	} else if ((p[0] & 0xE0) == 0xC0) {
		cp = p[0] & 0x1F;
		extra = 1;
		min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		cp = p[0] & 0x0F;
		extra = 2;
		min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		cp = p[0] & 0x07;
		extra = 3;
		min = 0x10000;
	} else {
		*s = p + 1;
		return 0xFFFD;
	}
	for (int i = 1; i <= extra; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			/* stop before the offending byte (which may be the terminator) */
			*s = p + i;
			return 0xFFFD;
		}
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	*s = p + extra + 1;
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	return cp;
}

size_t md_utf8_to_utf16(const char *utf8, uint16_t *out, size_t out_max)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = 0;

	if (out_max == 0)
		return 0;
	while (*s) {
		uint32_t cp = utf8_next(&s);

		if (cp >= 0x10000) {
			if (n + 2 >= out_max)
				break;
			cp -= 0x10000;
			out[n++] = (uint16_t)(0xD800 + (cp >> 10));
			out[n++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
		} else {
			if (n + 1 >= out_max)
				break;
			out[n++] = (uint16_t)cp;
		}
	}
	out[n] = 0;
	return n;
}

#define STRING_UNITS_MAX 4096 /* UTF-16 units per string we write: paths and names */

/* A string record: a u32 length (len, in bytes, the terminator not counted), then size bytes
 * of data (the terminator included), at a new aligned block whose RVA goes to *ret_rva. */
static int put_string_record(struct md_writer *w, uint32_t len, const void *data, size_t size,
                             uint32_t *ret_rva)
{
	uint32_t rva;
	int r;

	r = md_writer_begin(w, &rva);
	if (r >= 0)
		r = md_writer_put(w, &len, sizeof(len));
	if (r >= 0)
		r = md_writer_put(w, data, size);
	if (r < 0)
		return r;
	*ret_rva = rva;
	return 0;
}

int md_writer_string(struct md_writer *w, const char *utf8, uint32_t *ret_rva)
{
	uint16_t units[STRING_UNITS_MAX + 1];
	size_t n = md_utf8_to_utf16(utf8 ? utf8 : "", units, STRING_UNITS_MAX + 1);

	/* units plus the uncounted NUL terminator */
	return put_string_record(w, (uint32_t)(n * 2), units, (n + 1) * 2, ret_rva);
}

int md_writer_utf8(struct md_writer *w, const char *utf8, uint32_t *ret_rva)
{
	size_t n = strlen(utf8 ? utf8 : "");

	if (n > UINT32_MAX - 1)
		return -EFBIG;
	return put_string_record(w, (uint32_t)n, utf8 ? utf8 : "", n + 1, ret_rva);
}

int md_writer_init(struct md_writer *w, int fd, uint32_t n_streams)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->n_streams = n_streams;
	w->buf = malloc(MD_WRITER_BUFFER);
	if (!w->buf)
		return -ENOMEM;
	/* header (signature left 0 until finish) and the directory, all unused slots for now */
	return md_writer_put(w, NULL, sizeof(md_header) + (size_t)n_streams * sizeof(md_directory));
}

int md_writer_set_stream(struct md_writer *w, uint32_t index, uint32_t type, md_location loc)
{
	md_directory d = {.stream_type = type, .location = loc};

	if (index >= w->n_streams)
		return -EINVAL;
	return md_writer_write_at(w, (uint32_t)(sizeof(md_header) + index * sizeof(md_directory)),
	                          &d, sizeof(d));
}

int md_writer_finish(struct md_writer *w, uint32_t time_date_stamp)
{
	md_header h = {
	    .signature = MD_SIGNATURE,
	    .version = MD_VERSION,
	    .stream_count = w->n_streams,
	    .stream_directory_rva = sizeof(md_header),
	    .time_date_stamp = time_date_stamp,
	};
	int r;

	r = flush(w);
	if (r < 0)
		return r;
	/* Everything else is on disk; only now does the file become a valid minidump. */
	r = write_full(w->fd, &h, sizeof(h), 0);
	if (r < 0)
		return w->error = r;
	return 0;
}

void md_writer_done(struct md_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}
