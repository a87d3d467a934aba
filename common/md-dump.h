/* SPDX-License-Identifier: MIT */
/*
 * Writes a whole minidump from a snapshot: runs each stream writer of the table in
 * md-streams.c, records what each produced, and finishes the file. It never aborts: a
 * failing optional stream leaves an unused directory slot and a diagnostics entry; a failing
 * required stream (or the file itself) fails the dump.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "md-snapshot.h"

#define MD_STREAMS_MAX 32 /* directory slots; the table size is checked against it */

#define MD_STACK_MAX_DEFAULT (256u * 1024u) /* bytes of stack kept per thread */
#define MD_RED_ZONE_AMD64    128u           /* bytes below rsp a leaf function may use */
#define MD_IP_CONTEXT        128u           /* bytes kept before and after each thread's pc */

struct md_dump_options {
	uint32_t stack_max;            /* bytes of stack per thread; 0 means the default */
	uint64_t max_bytes;            /* byte budget of the whole file; 0 means none. The
	                                * least valuable data goes first: other threads' stacks,
	                                * then memory around pcs, then optional streams. */
	volatile sig_atomic_t *cancel; /* checked between streams; may be NULL */
	/* Annotations (key=value) for the CrashpadInfo stream; may be NULL / 0. */
	const char *const *annotation_keys;
	const char *const *annotation_values;
	size_t n_annotations;
};

enum md_stream_status {
	MD_STREAM_OK = 0,
	MD_STREAM_PARTIAL, /* written, but something in it could not be captured */
	MD_STREAM_SKIPPED, /* nothing to write on this platform/target */
	MD_STREAM_FAILED,
};

struct md_stream_result {
	uint32_t type;
	const char *name;
	enum md_stream_status status;
	int error;      /* -errno when FAILED */
	uint64_t bytes; /* data_size of the stream itself (not what it points at) */
};

struct md_dump_result {
	uint64_t bytes;   /* size of the file */
	uint32_t threads; /* threads written */
	uint32_t modules;
	uint32_t memory_ranges;
	uint64_t memory_bytes;
	size_t n_streams;
	struct md_stream_result streams[MD_STREAMS_MAX];
	bool partial;    /* target vanished or something could not be captured */
	bool budget_cut; /* data was dropped to keep within max_bytes */
};

/* Writes the dump to fd (an empty regular file opened for writing). ret_result may be NULL.
 * Returns 0, or -errno when the file could not be written or a required stream failed. */
int md_dump_write(struct md_snapshot *s, int fd, const struct md_dump_options *opts,
                  struct md_dump_result *ret_result);

const char *md_stream_status_to_string(enum md_stream_status status);

/* Identifier strings derived from a module's id, as Breakpad prints them. code_id needs
 * 2*MD_BUILD_ID_MAX+1 bytes, debug_id 34. */
void md_module_code_id(const uint8_t *id, size_t len, char *out, size_t size);
void md_module_debug_id(const uint8_t *id, size_t len, uint32_t age, char *out, size_t size);
