/* SPDX-License-Identifier: MIT */
/*
 * The streaming file writer. The header and stream directory are reserved at the start of the
 * file; everything else is appended as it is produced through a fixed-size buffer, so memory
 * use does not depend on how much target memory is dumped. Every block starts 8-aligned, and
 * every offset is checked against the 32-bit RVA limit. The header is written last, by
 * md_writer_finish(), so a torn file never carries a valid signature.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "md-format.h"

#define MD_WRITER_BUFFER (256u * 1024u) /* bytes buffered before a write(2) */

struct md_writer {
	int fd;
	uint64_t size;      /* logical file size: flushed bytes plus buffered ones */
	uint64_t flushed;   /* bytes already in the file; the buffer holds [flushed, size) */
	uint8_t *buf;       /* MD_WRITER_BUFFER bytes */
	uint32_t n_streams; /* directory slots reserved */
	uint64_t limit;     /* 0, or the size the file may not grow past (-EFBIG) */
	int error;          /* first write error, sticky */
};

/* Reserves the header and n_streams directory slots at the start of fd (an empty file). */
int md_writer_init(struct md_writer *w, int fd, uint32_t n_streams);

/* Starts a new 8-aligned block and returns its RVA. */
int md_writer_begin(struct md_writer *w, uint32_t *ret_rva);

/* Appends bytes right after the previous ones (no alignment). */
int md_writer_put(struct md_writer *w, const void *data, size_t size);

/* begin + put. */
int md_writer_append(struct md_writer *w, const void *data, size_t size, uint32_t *ret_rva);

/* Appends a zero-filled 8-aligned block, to be filled in later with md_writer_write_at(). */
int md_writer_reserve(struct md_writer *w, size_t size, uint32_t *ret_rva);

/* Overwrites bytes previously appended or reserved. */
int md_writer_write_at(struct md_writer *w, uint32_t rva, const void *data, size_t size);

/* Appends a MINIDUMP_STRING converted from UTF-8 (invalid sequences become U+FFFD). */
int md_writer_string(struct md_writer *w, const char *utf8, uint32_t *ret_rva);

/* Appends a UTF-8 string as Crashpad's MinidumpUTF8String: u32 length, bytes, NUL. */
int md_writer_utf8(struct md_writer *w, const char *utf8, uint32_t *ret_rva);

/* Sets directory slot index. */
int md_writer_set_stream(struct md_writer *w, uint32_t index, uint32_t type, md_location loc);

/* Flushes the buffer and writes the header with the real signature. */
int md_writer_finish(struct md_writer *w, uint32_t time_date_stamp);

void md_writer_done(struct md_writer *w);

/* Converts UTF-8 to UTF-16LE units; returns the number of units written (not counting the
 * terminator, which is always added when out_max > 0). Invalid input becomes U+FFFD. */
size_t md_utf8_to_utf16(const char *utf8, uint16_t *out, size_t out_max);
