/* SPDX-License-Identifier: MIT */
/*
 * The reader tests' reference dump (reader-ref.c): built by hand with dump-builder.h, with
 * every stream the reader knows, so that a test can compare a parsed dump with what was built,
 * corrupt it at a known place, or cut it anywhere; and the checks that go with it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dump-builder.h"
#include "md-reader.h"
#include "reader-views.h"

#define T1_TID            1001u
#define T2_TID            1002u
#define T1_RIP            0x0000555555555123ull
#define T1_RSP            0x00007ffd12345678ull
#define T1_RBP            0x00007ffd123456a0ull
#define T1_STACK          0x00007ffd12345600ull
#define STACK_BYTES       256u
#define T2_STACK          0x00007f0000001000ull
#define MOD1_BASE         0x0000555555554000ull
#define MOD1_SIZE         0x5000u
#define MOD2_BASE         0x00007f1234500000ull
#define MOD2_SIZE         0x21000u
#define PID               4242u
#define CRASH_ADDR        0xdeadbeefull
#define CSD               "Linux 6.1.0-test #1 SMP PREEMPT_DYNAMIC x86_64"
#define MOD1_NAME         "/usr/bin/app"
#define MOD2_NAME         "/opt/lib/libwörk😀.so" /* non-ASCII and a surrogate pair */
#define PDB_NAME          "lib.pdb"
#define DIAG_JSON         "{\"version\":1,\"entries\":[]}"
#define STATUS_TEXT       "Name:\tapp\nUmask:\t0022\nState:\tt (tracing stop)\nTgid:\t4242\nPid:\t4242\n"
#define BUILD_ID_CODE_ID  "0123456789abcdef1032547698badcfe11223344"
#define BUILD_ID_DEBUG_ID "67452301AB89EFCD1032547698BADCFE0"
#define PDB_AGE           0x2Au
#define PDB_DEBUG_ID      "112233445566778801020304050607082a"

struct ref {
	struct tb b;
	uint32_t dir_rva;
	uint32_t thread_list_rva;
	uint32_t module_list_rva;
	uint32_t mod1_name_rva;
	uint32_t memory_info_rva;
	uint32_t context_rva;
	uint32_t n_threads_index; /* directory index of ThreadList */
};

struct ref_opts {
	bool pad_lists;   /* Breakpad's 4 bytes of padding after list counts */
	bool no_misc;     /* leave MiscInfo out, so the pid comes from LinuxProcStatus */
	bool arm64;       /* an ARM64_OLD dump instead of AMD64 */
	bool unused_slot; /* add an unused directory entry */
	bool dir_first;   /* the directory before the streams, not after them */
};
#define N_VIEWS (N_READER_VIEWS + 1) /* and the diagnostics stream */

extern const uint8_t build_id[20];
extern const md_guid pdb_guid;
extern const struct ref_opts default_opts;

/* A list's u32 count, then Breakpad's 4 bytes of padding when pad. */
void put_count(struct tb *b, uint32_t n, bool pad);

/* Builds the reference dump into r, varied by o. */
void build_ref(struct ref *r, const struct ref_opts *o);

/* An exact-size heap copy, so a read past its end is seen by ASan and valgrind. */
uint8_t *dup_bytes(const void *p, size_t n);

int open_copy(const struct tb *b, size_t size, uint8_t **ret_copy, struct md_reader **ret,
              struct md_reader_error *err);

/* Frees a reader that open_copy or open_ok opened, and its copy of the dump. */
void close_copy(struct md_reader *r, uint8_t *copy);

/* Overwrites the u32 at off (a corruption at a known place). */
void put32(struct tb *b, size_t off, uint32_t v);

/* The built dump's directory entry of stream type, in place; fails the test if none. */
md_directory *dir_entry(struct ref *r, uint32_t type);

/* Asserts that r parsed into exactly the reference dump built with o. */
void check_ref(struct md_reader *r, const struct ref_opts *o);

/* Calls every view; each must succeed or fail with a known error and a message. Returns how
 * many succeeded; ret_codes (may be NULL) receives each view's return value. */
int exercise_codes(struct md_reader *r, int *ret_codes);

/* exercise_codes() without the codes. */
int exercise(struct md_reader *r);

/* Opens the (modified) reference dump, which must open, and returns the reader. */
struct md_reader *open_ok(struct ref *ref, uint8_t **copy);

/* The (modified) reference dump must not open: the buffer open fails with err and a message
 * containing msg (NULL: any message). */
void expect_open_fails(struct ref *ref, int err, const char *msg);

/* The (modified) reference dump must open, and then view must fail with err and a message
 * containing msg (NULL: any message). */
void expect_view_fails(struct ref *ref, enum reader_view view, int err, const char *msg);
