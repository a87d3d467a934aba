/* SPDX-License-Identifier: MIT */
/*
 * The core-stream backend's snapshot, shared by linux-core.c (threads, process, mappings from
 * the core and /proc) and linux-core-memory.c (memory from the stream).
 */
#ifndef MD_LINUX_CORE_SNAPSHOT_H
#define MD_LINUX_CORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linux-core.h"
#include "linux-internal.h"

/* A piece of the target's memory taken from the stream when it cannot be read back. */
struct md_core_piece {
	uint64_t addr;
	uint64_t offset; /* in the stream */
	size_t len;
	uint8_t *data;
};

struct md_core_snapshot {
	struct md_linux_snapshot lin; /* first: the live backend's helpers take it */
	struct md_core core;
	int fd;                       /* the stream, not ours to close */
	bool seekable;                /* pread works on fd: PT_LOAD data can be read back */
	bool live;                    /* the task's /proc/<pid> is read */
	struct md_core_piece *pieces; /* sorted by addr, disjoint; a stream's kept memory */
	size_t n_pieces;
};

static inline struct md_core_snapshot *md_core_from_pub(struct md_snapshot *s)
{
	return (struct md_core_snapshot *)s;
}

/* The snapshot's read_ranges: /proc/<pid>/mem while the task is there, else the core. */
int md_core_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n);

/* Keeps, from a stream that cannot go back, the memory a minidump needs; 0 or -ENOMEM. */
int md_core_prefetch(struct md_core_snapshot *cs);

void md_core_pieces_free(struct md_core_snapshot *cs);

#endif
