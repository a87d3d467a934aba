/* SPDX-License-Identifier: MIT */
/*
 * What the per-stream writers (common/stream-*.c) share: the state of one dump in progress
 * and the one table that lists them. Internal to common/; nothing here is platform-specific.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "md-dump.h"
#include "md-snapshot.h"
#include "md-writer.h"

#define MD_READ_BATCH_BYTES (1024u * 1024u) /* target memory read per batch before writing it */

/* One dump in progress. */
struct md_dump_ctx {
	struct md_snapshot *s;
	struct md_writer *w;
	const struct md_dump_options *opts;
	struct md_dump_result *result;
	uint32_t stack_max;
	uint8_t *scratch; /* MD_READ_BATCH_BYTES */

	/* Filled by the ThreadList writer, used by MemoryList and Exception. Indexed like
	 * s->threads; a thread left out of the list has thread_written false. */
	bool *thread_written;
	md_location *context_loc;
	md_memory_descriptor *stack;
	md_location crash_context; /* the client's context, when a crash supplied one */
	uint32_t n_written;

	/* Set by md_dump_plan() to keep within opts->max_bytes. */
	uint64_t other_stack_max; /* bytes of stack for threads other than the crashing one */
	bool drop_ip_regions;     /* leave out the memory around pcs */
};

/* A stream writer: writes its stream (arg says which, for writers that serve several) and gives
 * its location and status. Returns 0 or -errno: a required stream that fails fails the dump, an
 * optional one is left out and reported. */
typedef int md_stream_write_fn(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                               enum md_stream_status *ret_status);

struct md_stream_writer {
	uint32_t type;
	bool required; /* the dump fails without it */
	md_stream_write_fn *write;
	unsigned arg; /* passed to write (e.g. which blob) */
};

extern const struct md_stream_writer md_stream_table[];
extern const size_t md_stream_table_size;

/* The writers, one per file. */
md_stream_write_fn md_stream_thread_list, md_stream_module_list, md_stream_memory_list,
    md_stream_exception, md_stream_system_info, md_stream_misc_info, md_stream_breakpad_info,
    md_stream_thread_names, md_stream_memory_info_list, md_stream_blob, md_stream_dso_debug,
    md_stream_crashpad_info, md_stream_diagnostics;

/* Writes a stream that is one struct of size bytes and reports it written whole: the ending
 * of the SystemInfo, MiscInfo and BreakpadInfo writers. Returns 0 or -errno. */
int md_stream_put_whole(struct md_dump_ctx *c, const void *data, size_t size, md_location *ret_loc,
                        enum md_stream_status *ret_status);

/* Decides what to leave out so the dump fits opts->max_bytes (see md_dump_options). */
void md_dump_plan(struct md_dump_ctx *c);

/* The thread the dump is about: it keeps its whole stack whatever the budget. */
uint32_t md_dump_crashing_tid(const struct md_snapshot *s);

/* Stack and instruction pointer of a context in minidump layout; -EINVAL if unknown. */
int md_context_sp_pc(const struct md_context *ctx, uint64_t *ret_sp, uint64_t *ret_pc);

/* Bytes below the stack pointer that leaf code may use on this architecture. */
uint32_t md_red_zone(uint16_t processor_architecture);

/* Reads the ranges in batches through c->scratch and appends each one's readable prefix as
 * its own block; ret_desc[i] gets its location (data_size 0 if nothing could be read). */
int md_dump_copy_ranges(struct md_dump_ctx *c, const uint64_t *starts, const uint64_t *lens,
                        size_t n, md_memory_descriptor *ret_desc);
