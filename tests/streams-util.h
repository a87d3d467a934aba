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
	struct md_snapshot *s; /* the process written; dump_free frees it */
};

/* Writes s (o may be NULL) to a file and reads the file back; d.r is md_dump_write's result. */
struct dump write_dump(struct md_snapshot *s, const struct md_dump_options *o);

/* A fake process of n_threads threads (fake-snapshot.h). */
struct md_snapshot *fake_threads(size_t n_threads);

/* A fake process of n_threads threads written with o, which must succeed. */
struct dump fake_dump(size_t n_threads, const struct md_dump_options *o);

/* Frees the file's bytes and the snapshot. */
void dump_free(struct dump *d);

/* The stream's location, checked to lie inside the file; NULL data if absent. */
const uint8_t *stream(const struct dump *d, uint32_t type, uint32_t *ret_size);

/* A list stream (a uint32 count, then the entries), which must be present: its count, its
 * location in ret_p and its size in ret_size. */
uint32_t list_stream(const struct dump *d, uint32_t type, const uint8_t **ret_p,
                     uint32_t *ret_size);

/* A list stream that must hold n entries of entry_size bytes after its uint32 count, and
 * nothing else: its first entry. */
const uint8_t *list_entries(const struct dump *d, uint32_t type, uint32_t n, size_t entry_size);

/* Copies a stream, which must be present and hold at least size bytes, into out; returns the
 * stream's size. */
uint32_t stream_read(const struct dump *d, uint32_t type, void *out, size_t size);

/* Entry i of the thread list, which must have it. */
md_thread dump_thread(const struct dump *d, uint32_t i);

/* The status the writer gave the stream of this type. */
enum md_stream_status stream_status(const struct dump *d, uint32_t type);

void utf16_to_ascii(const struct dump *d, uint64_t rva, char *out, size_t size);

void check_pattern(const struct dump *d, uint64_t addr, const md_location *loc);
