/* SPDX-License-Identifier: MIT */
/*
 * A minidump builder for the reader's tests (dump-builder.c), deliberately independent of the
 * writer, so that a shared mistake in the writer cannot hide one in the reader.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "md-format.h"

#define TB_STREAMS_MAX 32    /* directory entries a test dump may have */
#define TB_BYTES_MAX   65536 /* bytes a test dump may have */

struct tb {
	uint8_t buf[TB_BYTES_MAX];
	size_t size;
	md_directory dir[TB_STREAMS_MAX];
	uint32_t n_dir;
	bool dir_first; /* the directory right after the header (room for TB_STREAMS_MAX) */
};

/* The builder also runs outside a test (--write-corpus), where Check's asserts cannot report. */
#define TB_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: test builder: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* An empty dump: the header, and room for the directory when dir_first. */
void tb_init(struct tb *b, bool dir_first);

/* Appends an 8-aligned block and returns its RVA. */
uint32_t tb_append(struct tb *b, const void *data, size_t size);

/* Appends more bytes right after the previous ones. */
void tb_put(struct tb *b, const void *data, size_t size);

/* tb_put() of a little-endian u32. */
void tb_put_u32(struct tb *b, uint32_t v);

/* Appends an MDString of UTF-8 text (valid input only), converted to UTF-16LE here. */
uint32_t tb_string(struct tb *b, const char *utf8);

/* Appends a MinidumpUTF8String: u32 length, bytes, NUL. */
uint32_t tb_utf8(struct tb *b, const char *s, size_t len);

/* Adds a directory entry. */
void tb_stream(struct tb *b, uint32_t type, uint32_t rva, uint32_t size);

/* Appends the directory and writes the header. Returns the directory's RVA. */
uint32_t tb_finish(struct tb *b);
