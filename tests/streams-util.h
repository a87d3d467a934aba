/* SPDX-License-Identifier: MIT */
/*
 * What the stream writers' suites (check-streams*.c) share (streams-util.c): a dump written
 * from a snapshot into memory, and its streams found by hand through the directory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "md-dump.h"

struct dump {
	uint8_t *data;
	size_t len;
	struct md_dump_result res;
	int r;
};

struct dump write_dump(struct md_snapshot *s, const struct md_dump_options *o);

/* The stream's location, checked to lie inside the file; NULL data if absent. */
const uint8_t *stream(const struct dump *d, uint32_t type, uint32_t *ret_size);

void utf16_to_ascii(const struct dump *d, uint64_t rva, char *out, size_t size);

void check_pattern(const struct dump *d, uint64_t addr, const md_location *loc);
