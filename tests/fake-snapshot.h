/* SPDX-License-Identifier: MIT */
/*
 * A fake process for unit tests: threads, mappings, modules and blobs made up in memory, with
 * target memory whose every byte is a known function of its address, and holes that cannot be
 * read. The stream writers cannot tell it from a live process.
 */
#pragma once

#include "md-snapshot-build.h"

/* byte stored at addr in the fake target */
static inline uint8_t fake_byte(uint64_t addr)
{
	return (uint8_t)((addr * 2654435761u) >> 13);
}

struct fake_options {
	size_t n_threads;       /* each gets a stack mapping and a name "fake-<i>" */
	bool unreadable_stacks; /* thread 1's stack mapping cannot be read */
	bool no_context_thread; /* thread 2 has no registers */
	bool vanish;            /* reads fail with ESRCH as if the target died */
};

/* The fake as a backend: md_snapshot_build(&fake_backend, FAKE_PID, opts, &s) with
 * opts->source pointing at a struct fake_options. */
extern const struct md_backend_ops fake_backend;

/* Builds a snapshot through fake_backend; free it with fake_snapshot_free(). */
struct md_snapshot *fake_snapshot_new(const struct fake_options *o);
void fake_snapshot_free(struct md_snapshot *s);

#define FAKE_PID 4242 /* the process's pid, its first thread's tid and the requesting tid */

/* Addresses the fake uses. */
#define FAKE_EXE_BASE   0x555555554000ull
#define FAKE_EXE_SIZE   0x4000ull
#define FAKE_LIB_BASE   0x7f0000000000ull
#define FAKE_LIB_SIZE   0x20000ull
#define FAKE_STACK_BASE 0x7ff000000000ull
#define FAKE_STACK_SIZE 0x10000ull /* per thread, one after the other with a gap */
#define FAKE_STACK_STEP 0x100000ull
#define FAKE_SP_OFFSET  0xF000ull /* sp sits this far into each stack mapping */
#define FAKE_PC         (FAKE_EXE_BASE + 0x1234)
