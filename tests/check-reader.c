/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the minidump reader (common/md-reader.c). Dumps are built by hand with a small
 * builder local to this file, deliberately independent of the writer, so a shared mistake in
 * the writer cannot hide one in the reader. A valid dump must parse into exactly what was built;
 * corrupt, truncated and bit-flipped variants must be rejected with -EBADMSG (or -E2BIG) and a
 * message, never a crash or an over-read (the buffers are exact-size heap copies, so ASan and
 * valgrind see any read past the end). `check-reader --write-corpus DIR` writes the fuzzing
 * seeds.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "md-format.h"
#include "md-reader.h"
#include "md-text.h"

/* ---- A test-local minidump builder ---- */

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

static void tb_init(struct tb *b, bool dir_first)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(md_header);
	b->dir_first = dir_first;
	if (dir_first)
		b->size += sizeof(b->dir);
}

/* Appends an 8-aligned block and returns its RVA. */
static uint32_t tb_append(struct tb *b, const void *data, size_t size)
{
	size_t rva = (b->size + 7u) & ~(size_t)7u;

	TB_CHECK(rva + size <= sizeof(b->buf));
	memset(b->buf + b->size, 0, rva - b->size);
	if (data)
		memcpy(b->buf + rva, data, size);
	else
		memset(b->buf + rva, 0, size);
	b->size = rva + size;
	return (uint32_t)rva;
}

/* Appends more bytes right after the previous ones. */
static void tb_put(struct tb *b, const void *data, size_t size)
{
	TB_CHECK(b->size + size <= sizeof(b->buf));
	memcpy(b->buf + b->size, data, size);
	b->size += size;
}

static void tb_put_u32(struct tb *b, uint32_t v)
{
	tb_put(b, &v, sizeof(v));
}

/* Appends an MDString of UTF-8 text (valid input only), converted to UTF-16LE here. */
static uint32_t tb_string(struct tb *b, const char *utf8)
{
	uint16_t units[512];
	size_t n = 0;
	uint32_t rva, len;
	const uint8_t *p = (const uint8_t *)utf8;

	while (*p) {
		uint32_t cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if (*p < 0xE0) {
			cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
			p += 2;
		} else if (*p < 0xF0) {
			cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
			p += 3;
		} else {
			cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
			     ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
			p += 4;
		}
		TB_CHECK(n + 2 < 512);
		if (cp >= 0x10000) {
			units[n++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			units[n++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
		} else {
			units[n++] = (uint16_t)cp;
		}
	}
	len = (uint32_t)(n * 2);
	rva = tb_append(b, &len, sizeof(len));
	tb_put(b, units, n * 2);
	tb_put(b, "\0", 2);
	return rva;
}

/* Appends a MinidumpUTF8String: u32 length, bytes, NUL. */
static uint32_t tb_utf8(struct tb *b, const char *s, size_t len)
{
	uint32_t l = (uint32_t)len;
	uint32_t rva = tb_append(b, &l, sizeof(l));

	tb_put(b, s, len);
	tb_put(b, "", 1);
	return rva;
}

static void tb_stream(struct tb *b, uint32_t type, uint32_t rva, uint32_t size)
{
	TB_CHECK(b->n_dir < TB_STREAMS_MAX);
	b->dir[b->n_dir].stream_type = type;
	b->dir[b->n_dir].location.rva = rva;
	b->dir[b->n_dir].location.data_size = size;
	b->n_dir++;
}

/* Appends the directory and writes the header. Returns the directory's RVA. */
static uint32_t tb_finish(struct tb *b)
{
	md_header h = {0};
	uint32_t dir_rva;

	if (b->dir_first) {
		dir_rva = sizeof(md_header);
		memcpy(b->buf + dir_rva, b->dir, b->n_dir * sizeof(md_directory));
	} else {
		dir_rva = tb_append(b, b->dir, b->n_dir * sizeof(md_directory));
	}

	h.signature = MD_SIGNATURE;
	h.version = MD_VERSION;
	h.stream_count = b->n_dir;
	h.stream_directory_rva = dir_rva;
	h.time_date_stamp = 1700000000;
	memcpy(b->buf, &h, sizeof(h));
	return dir_rva;
}

/* ---- The reference dump: what was built, so tests can compare and corrupt it ---- */

#define T1_TID      1001u
#define T2_TID      1002u
#define T1_RIP      0x0000555555555123ull
#define T1_RSP      0x00007ffd12345678ull
#define T1_RBP      0x00007ffd123456a0ull
#define T1_STACK    0x00007ffd12345600ull
#define STACK_BYTES 256u
#define T2_STACK    0x00007f0000001000ull
#define MOD1_BASE   0x0000555555554000ull
#define MOD1_SIZE   0x5000u
#define MOD2_BASE   0x00007f1234500000ull
#define MOD2_SIZE   0x21000u
#define PID         4242u
#define CRASH_ADDR  0xdeadbeefull
#define CSD         "Linux 6.1.0-test #1 SMP PREEMPT_DYNAMIC x86_64"
#define MOD1_NAME   "/usr/bin/app"
#define MOD2_NAME   "/opt/lib/libwörk😀.so" /* non-ASCII and a surrogate pair */
#define PDB_NAME    "lib.pdb"
#define DIAG_JSON   "{\"version\":1,\"entries\":[]}"
#define STATUS_TEXT "Name:\tapp\nUmask:\t0022\nState:\tt (tracing stop)\nTgid:\t4242\nPid:\t4242\n"

/* The build id of the format document's example (§5), with the ids it gives. */
static const uint8_t build_id[20] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32,
                                     0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x11, 0x22, 0x33, 0x44};
#define BUILD_ID_CODE_ID  "0123456789abcdef1032547698badcfe11223344"
#define BUILD_ID_DEBUG_ID "67452301AB89EFCD1032547698BADCFE0"

static const md_guid pdb_guid = {0x11223344, 0x5566, 0x7788, {1, 2, 3, 4, 5, 6, 7, 8}};
#define PDB_AGE      0x2Au
#define PDB_DEBUG_ID "112233445566778801020304050607082a"

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

static void put_count(struct tb *b, uint32_t n, bool pad)
{
	tb_put_u32(b, n);
	if (pad)
		tb_put_u32(b, 0);
}

static void build_ref(struct ref *r, const struct ref_opts *o)
{
	struct tb *b = &r->b;
	uint8_t stack[STACK_BYTES];
	md_system_info si = {0};
	md_thread th[2];
	md_module mod[2];
	md_memory_descriptor md[2];
	md_memory_info_list mil = {0};
	md_memory_info mi[2];
	md_thread_name tn[2];
	md_exception_stream ex = {0};
	md_misc_info misc = {0};
	md_breakpad_info bpi = {0};
	md_crashpad_info cpi = {0};
	md_simple_string_dictionary_entry ann[2];
	uint32_t ctx_size, list_rva, stack_rva, t2_stack_rva, cv1, cv2, mod2_name, n1, n2;

	memset(r, 0, sizeof(*r));
	tb_init(b, o->dir_first);
	if (o->unused_slot)
		tb_stream(b, MD_STREAM_UNUSED, 0, 0);

	/* SystemInfo. */
	si.processor_architecture =
	    o->arm64 ? MD_CPU_ARCHITECTURE_ARM64_OLD : MD_CPU_ARCHITECTURE_AMD64;
	si.processor_level = 6;
	si.processor_revision = 0x9e0a;
	si.number_of_processors = 4;
	si.platform_id = MD_OS_LINUX;
	si.csd_version_rva = tb_string(b, CSD);
	if (o->arm64)
		si.cpu.arm_cpu_info.cpuid = 0x410fd083;
	else
		memcpy(si.cpu.x86_cpu_info.vendor_id, "GenuineIntel", 12);
	tb_stream(b, MD_STREAM_SYSTEM_INFO, tb_append(b, &si, sizeof(si)), sizeof(si));

	/* One context, shared by thread 1 and the exception, as Breakpad does. */
	if (o->arm64) {
		md_context_arm64_old c = {0};

		c.context_flags = MD_CONTEXT_ARM64_OLD_FULL;
		c.pc = T1_RIP;
		c.iregs[31] = T1_RSP;
		c.iregs[29] = T1_RBP;
		ctx_size = sizeof(c);
		r->context_rva = tb_append(b, &c, sizeof(c));
	} else {
		md_context_amd64 c = {0};

		c.context_flags = MD_CONTEXT_AMD64_FULL;
		c.rip = T1_RIP;
		c.rsp = T1_RSP;
		c.rbp = T1_RBP;
		c.rax = 0x1111;
		ctx_size = sizeof(c);
		r->context_rva = tb_append(b, &c, sizeof(c));
	}

	/* Stacks: thread 1 has bytes, thread 2 only 16 and no context (registers unreadable). */
	for (size_t i = 0; i < sizeof(stack); i++)
		stack[i] = (uint8_t)(i * 7 + 3);
	stack_rva = tb_append(b, stack, sizeof(stack));
	t2_stack_rva = tb_append(b, stack, 16);

	/* ThreadList. */
	memset(th, 0, sizeof(th));
	th[0].thread_id = T1_TID;
	th[0].stack.start_of_memory_range = T1_STACK;
	th[0].stack.memory.data_size = STACK_BYTES;
	th[0].stack.memory.rva = stack_rva;
	th[0].thread_context.data_size = ctx_size;
	th[0].thread_context.rva = r->context_rva;
	th[1].thread_id = T2_TID;
	th[1].stack.start_of_memory_range = T2_STACK;
	th[1].stack.memory.data_size = 16;
	th[1].stack.memory.rva = t2_stack_rva;
	list_rva = tb_append(b, NULL, 0);
	put_count(b, 2, o->pad_lists);
	tb_put(b, th, sizeof(th));
	r->thread_list_rva = list_rva;
	r->n_threads_index = b->n_dir;
	tb_stream(b, MD_STREAM_THREAD_LIST, list_rva, (uint32_t)(b->size - list_rva));

	/* ThreadNames (no padding allowed). */
	n1 = tb_string(b, "main");
	n2 = tb_string(b, "wörker");
	tn[0].thread_id = T1_TID;
	tn[0].thread_name_rva = n1;
	tn[1].thread_id = T2_TID;
	tn[1].thread_name_rva = n2;
	list_rva = tb_append(b, NULL, 0);
	put_count(b, 2, false);
	tb_put(b, tn, sizeof(tn));
	tb_stream(b, MD_STREAM_THREAD_NAMES, list_rva, (uint32_t)(b->size - list_rva));

	/* ModuleList: one ELF module with the document's build id, one with an RSDS record. */
	r->mod1_name_rva = tb_string(b, MOD1_NAME);
	mod2_name = tb_string(b, MOD2_NAME);
	cv1 = tb_append(b, NULL, 0);
	tb_put_u32(b, MD_CVINFO_ELF_SIGNATURE);
	tb_put(b, build_id, sizeof(build_id));
	cv2 = tb_append(b, NULL, 0);
	tb_put_u32(b, MD_CVINFO_PDB70_SIGNATURE);
	tb_put(b, &pdb_guid, sizeof(pdb_guid));
	tb_put_u32(b, PDB_AGE);
	tb_put(b, PDB_NAME, sizeof(PDB_NAME));
	memset(mod, 0, sizeof(mod));
	mod[0].base_of_image = MOD1_BASE;
	mod[0].size_of_image = MOD1_SIZE;
	mod[0].module_name_rva = r->mod1_name_rva;
	mod[0].cv_record.rva = cv1;
	mod[0].cv_record.data_size = 4 + sizeof(build_id);
	mod[1].base_of_image = MOD2_BASE;
	mod[1].size_of_image = MOD2_SIZE;
	mod[1].time_date_stamp = 0x5F000000;
	mod[1].module_name_rva = mod2_name;
	mod[1].cv_record.rva = cv2;
	mod[1].cv_record.data_size = 24 + sizeof(PDB_NAME);
	list_rva = tb_append(b, NULL, 0);
	put_count(b, 2, o->pad_lists);
	tb_put(b, mod, sizeof(mod));
	r->module_list_rva = list_rva;
	tb_stream(b, MD_STREAM_MODULE_LIST, list_rva, (uint32_t)(b->size - list_rva));

	/* MemoryList: thread 1's stack (same bytes) and thread 2's. */
	md[0].start_of_memory_range = T1_STACK;
	md[0].memory = th[0].stack.memory;
	md[1].start_of_memory_range = T2_STACK;
	md[1].memory = th[1].stack.memory;
	list_rva = tb_append(b, NULL, 0);
	put_count(b, 2, o->pad_lists);
	tb_put(b, md, sizeof(md));
	tb_stream(b, MD_STREAM_MEMORY_LIST, list_rva, (uint32_t)(b->size - list_rva));

	/* MemoryInfoList. */
	mil.size_of_header = sizeof(mil);
	mil.size_of_entry = sizeof(md_memory_info);
	mil.number_of_entries = 2;
	memset(mi, 0, sizeof(mi));
	mi[0].base_address = mi[0].allocation_base = MOD1_BASE;
	mi[0].region_size = MOD1_SIZE;
	mi[0].state = MD_MEMORY_STATE_COMMIT;
	mi[0].protection = MD_MEMORY_PROTECT_EXECUTE_READ;
	mi[0].type = MD_MEMORY_TYPE_PRIVATE;
	mi[1].base_address = mi[1].allocation_base = T1_STACK & ~0xFFFull;
	mi[1].region_size = 0x21000;
	mi[1].state = MD_MEMORY_STATE_COMMIT;
	mi[1].protection = MD_MEMORY_PROTECT_READWRITE;
	mi[1].type = MD_MEMORY_TYPE_PRIVATE;
	r->memory_info_rva = tb_append(b, &mil, sizeof(mil));
	tb_put(b, mi, sizeof(mi));
	tb_stream(b, MD_STREAM_MEMORY_INFO_LIST, r->memory_info_rva, sizeof(mil) + sizeof(mi));

	/* Exception. */
	ex.thread_id = T1_TID;
	ex.exception_record.exception_code = 11;
	ex.exception_record.exception_flags = 1;
	ex.exception_record.exception_address = CRASH_ADDR;
	ex.thread_context = th[0].thread_context;
	tb_stream(b, MD_STREAM_EXCEPTION, tb_append(b, &ex, sizeof(ex)), sizeof(ex));

	if (!o->no_misc) {
		misc.size_of_info = sizeof(misc);
		misc.flags1 = MD_MISCINFO_FLAGS1_PROCESS_ID | MD_MISCINFO_FLAGS1_PROCESS_TIMES;
		misc.process_id = PID;
		misc.process_create_time = 1699999000;
		misc.process_user_time = 3;
		misc.process_kernel_time = 1;
		tb_stream(b, MD_STREAM_MISC_INFO, tb_append(b, &misc, sizeof(misc)), sizeof(misc));
	}

	bpi.validity =
	    MD_BREAKPAD_INFO_VALID_DUMP_THREAD_ID | MD_BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID;
	bpi.dump_thread_id = 999;
	bpi.requesting_thread_id = T1_TID;
	tb_stream(b, MD_STREAM_BREAKPAD_INFO, tb_append(b, &bpi, sizeof(bpi)), sizeof(bpi));

	/* CrashpadInfo with two simple annotations; the second value holds an invalid byte. */
	ann[0].key = tb_utf8(b, "channel", 7);
	ann[0].value = tb_utf8(b, "beta", 4);
	ann[1].key = tb_utf8(b, "bad", 3);
	ann[1].value = tb_utf8(b, "a\xFFz", 3);
	cpi.version = 1;
	cpi.simple_annotations.rva = tb_append(b, NULL, 0);
	tb_put_u32(b, 2);
	tb_put(b, ann, sizeof(ann));
	cpi.simple_annotations.data_size = (uint32_t)(b->size - cpi.simple_annotations.rva);
	tb_stream(b, MD_STREAM_CRASHPAD_INFO, tb_append(b, &cpi, sizeof(cpi)), sizeof(cpi));

	tb_stream(b, MD_STREAM_LINUX_PROC_STATUS, tb_append(b, STATUS_TEXT, strlen(STATUS_TEXT)),
	          strlen(STATUS_TEXT));
	tb_stream(b, MD_STREAM_MINIDUMPD_DIAGNOSTICS, tb_append(b, DIAG_JSON, strlen(DIAG_JSON)),
	          strlen(DIAG_JSON));
	if (o->unused_slot)
		tb_stream(b, MD_STREAM_UNUSED, 0, 0);
	r->dir_rva = tb_finish(b);
}

static const struct ref_opts default_opts = {0};

/* An exact-size heap copy, so a read past its end is seen by ASan and valgrind. */
static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, n);
	return c;
}

static int open_copy(const struct tb *b, size_t size, uint8_t **ret_copy, struct md_reader **ret,
                     struct md_reader_error *err)
{
	*ret_copy = dup_bytes(b->buf, size);
	return md_reader_open_buffer(*ret_copy, size, err, ret);
}

static void put32(struct tb *b, size_t off, uint32_t v)
{
	memcpy(b->buf + off, &v, sizeof(v));
}

static md_directory *dir_entry(struct ref *r, uint32_t type)
{
	for (uint32_t i = 0; i < r->b.n_dir; i++)
		if (r->b.dir[i].stream_type == type)
			return (md_directory *)(r->b.buf + r->dir_rva + i * sizeof(md_directory));
	ck_abort_msg("no stream 0x%x in the reference dump", type);
	return NULL;
}

/* ---- Checking a parsed dump against the reference ---- */

static void check_ref(struct md_reader *r, const struct ref_opts *o)
{
	const struct md_reader_system_info *si;
	const struct md_reader_thread_list *tl;
	const struct md_reader_thread_names *tn;
	const struct md_reader_module_list *ml;
	const struct md_reader_memory_list *mem;
	const struct md_reader_memory_info_list *mil;
	const struct md_reader_exception *ex;
	const struct md_reader_misc_info *misc;
	const md_breakpad_info *bpi;
	const struct md_reader_crashpad_info *cpi;
	struct md_reader_context ctx;
	uint8_t stack[16];
	uint32_t pid;
	char *text;
	size_t len;

	ck_assert_uint_eq(md_reader_header(r)->time_date_stamp, 1700000000);

	ck_assert_int_eq(md_reader_system_info(r, &si), 0);
	ck_assert_uint_eq(si->arch,
	                  o->arm64 ? MD_CPU_ARCHITECTURE_ARM64_OLD : MD_CPU_ARCHITECTURE_AMD64);
	ck_assert_uint_eq(si->platform_id, MD_OS_LINUX);
	ck_assert_uint_eq(si->cpus, 4);
	ck_assert_str_eq(si->csd, CSD);
	if (o->arm64) {
		ck_assert_str_eq(si->cpu_vendor, "");
		ck_assert_uint_eq(si->arm_cpuid, 0x410fd083);
	} else {
		ck_assert_str_eq(si->cpu_vendor, "GenuineIntel");
	}

	ck_assert_int_eq(md_reader_threads(r, &tl), 0);
	ck_assert_uint_eq(tl->count, 2);
	ck_assert_uint_eq(tl->threads[0].tid, T1_TID);
	ck_assert_int_eq(tl->threads[0].cpu,
	                 o->arm64 ? MD_READER_CPU_ARM64_OLD : MD_READER_CPU_AMD64);
	ck_assert_uint_eq(tl->threads[0].context_flags,
	                  o->arm64 ? MD_CONTEXT_ARM64_OLD_FULL : MD_CONTEXT_AMD64_FULL);
	ck_assert_uint_eq(tl->threads[0].pc, T1_RIP);
	ck_assert_uint_eq(tl->threads[0].sp, T1_RSP);
	ck_assert_uint_eq(tl->threads[0].fp, T1_RBP);
	ck_assert_uint_eq(tl->threads[0].stack_start, T1_STACK);
	ck_assert_uint_eq(tl->threads[0].stack_size, STACK_BYTES);
	ck_assert_uint_eq(tl->threads[1].tid, T2_TID);
	ck_assert_int_eq(tl->threads[1].cpu, MD_READER_CPU_NONE);
	ck_assert_uint_eq(tl->threads[1].pc, 0);
	ck_assert_uint_eq(tl->threads[1].stack_size, 16);
	ck_assert_int_eq(md_reader_context(r, tl->threads[0].context, &ctx), 0);
	if (!o->arm64)
		ck_assert_uint_eq(ctx.u.amd64.rax, 0x1111);

	ck_assert_int_eq(md_reader_thread_names(r, &tn), 0);
	ck_assert_uint_eq(tn->count, 2);
	ck_assert_str_eq(md_reader_thread_name(r, T1_TID), "main");
	ck_assert_str_eq(md_reader_thread_name(r, T2_TID), "wörker");
	ck_assert_ptr_null(md_reader_thread_name(r, 7));

	ck_assert_int_eq(md_reader_modules(r, &ml), 0);
	ck_assert_uint_eq(ml->count, 2);
	ck_assert_uint_eq(ml->modules[0].base, MOD1_BASE);
	ck_assert_uint_eq(ml->modules[0].size, MOD1_SIZE);
	ck_assert_str_eq(ml->modules[0].name, MOD1_NAME);
	ck_assert_int_eq(ml->modules[0].cv, MD_READER_CV_ELF);
	ck_assert_uint_eq(ml->modules[0].build_id_len, sizeof(build_id));
	ck_assert_mem_eq(ml->modules[0].build_id, build_id, sizeof(build_id));
	ck_assert_str_eq(ml->modules[0].code_id, BUILD_ID_CODE_ID);
	ck_assert_str_eq(ml->modules[0].debug_id, BUILD_ID_DEBUG_ID);
	ck_assert_uint_eq(ml->modules[1].base, MOD2_BASE);
	ck_assert_str_eq(ml->modules[1].name, MOD2_NAME);
	ck_assert_int_eq(ml->modules[1].cv, MD_READER_CV_PDB70);
	ck_assert_str_eq(ml->modules[1].pdb_name, PDB_NAME);
	ck_assert_uint_eq(ml->modules[1].pdb_age, PDB_AGE);
	ck_assert_str_eq(ml->modules[1].debug_id, PDB_DEBUG_ID);
	ck_assert_str_eq(ml->modules[1].code_id, "5F00000021000");

	ck_assert_int_eq(md_reader_memory_list(r, &mem), 0);
	ck_assert_uint_eq(mem->count, 2);
	ck_assert_uint_eq(mem->ranges[0].start, T1_STACK);
	ck_assert_uint_eq(mem->ranges[0].size, STACK_BYTES);
	ck_assert_uint_eq(mem->ranges[1].start, T2_STACK);
	ck_assert_int_eq(md_reader_read_memory(r, T1_STACK + 100, stack, sizeof(stack)), 0);
	for (size_t i = 0; i < sizeof(stack); i++)
		ck_assert_uint_eq(stack[i], (uint8_t)((100 + i) * 7 + 3));
	ck_assert_int_eq(md_reader_read_memory(r, T1_STACK + STACK_BYTES - 8, stack, 16), -ENOENT);
	ck_assert_int_eq(md_reader_read_memory(r, UINT64_MAX - 4, stack, 16), -ENOENT);

	ck_assert_int_eq(md_reader_memory_info(r, &mil), 0);
	ck_assert_uint_eq(mil->count, 2);
	ck_assert_uint_eq(mil->entries[0].base_address, MOD1_BASE);
	ck_assert_uint_eq(mil->entries[0].protection, MD_MEMORY_PROTECT_EXECUTE_READ);
	ck_assert_uint_eq(mil->entries[1].region_size, 0x21000);

	ck_assert_int_eq(md_reader_exception(r, &ex), 0);
	ck_assert_uint_eq(ex->thread_id, T1_TID);
	ck_assert_uint_eq(ex->code, 11);
	ck_assert_uint_eq(ex->flags, 1);
	ck_assert_uint_eq(ex->address, CRASH_ADDR);
	ck_assert_uint_eq(ex->context.rva, tl->threads[0].context.rva);

	if (o->no_misc) {
		ck_assert_int_eq(md_reader_misc_info(r, &misc), -ENOENT);
	} else {
		ck_assert_int_eq(md_reader_misc_info(r, &misc), 0);
		ck_assert(misc->has_pid);
		ck_assert_uint_eq(misc->pid, PID);
		ck_assert(misc->has_times);
		ck_assert_uint_eq(misc->create_time, 1699999000);
	}
	ck_assert_int_eq(md_reader_pid(r, &pid), 0);
	ck_assert_uint_eq(pid, PID);

	ck_assert_int_eq(md_reader_breakpad_info(r, &bpi), 0);
	ck_assert_uint_eq(bpi->dump_thread_id, 999);
	ck_assert_uint_eq(bpi->requesting_thread_id, T1_TID);

	ck_assert_int_eq(md_reader_crashpad_info(r, &cpi), 0);
	ck_assert_uint_eq(cpi->version, 1);
	ck_assert_uint_eq(cpi->n_annotations, 2);
	ck_assert_str_eq(cpi->annotations[0].key, "channel");
	ck_assert_str_eq(cpi->annotations[0].value, "beta");
	ck_assert_str_eq(cpi->annotations[1].key, "bad");
	ck_assert_str_eq(cpi->annotations[1].value, "a\xEF\xBF\xBDz");

	ck_assert_int_eq(md_reader_stream_data(r, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &text, &len), 0);
	ck_assert_uint_eq(len, strlen(DIAG_JSON));
	ck_assert_str_eq(text, DIAG_JSON);
	free(text);
	ck_assert_int_eq(md_reader_stream_data(r, MD_STREAM_LINUX_MAPS, &text, &len), -ENOENT);
	ck_assert_str_ne(md_reader_error(r), "");
}

#define N_VIEWS 12

/* Calls every view; each must succeed or fail with a known error and a message. Returns how
 * many succeeded; ret_codes (may be NULL) receives each view's return value. */
static int exercise_codes(struct md_reader *r, int *ret_codes)
{
	const struct md_reader_system_info *si;
	const struct md_reader_thread_list *tl;
	const struct md_reader_thread_names *tn;
	const struct md_reader_module_list *ml;
	const struct md_reader_memory_list *mem;
	const struct md_reader_memory_info_list *mil;
	const struct md_reader_exception *ex;
	const struct md_reader_misc_info *misc;
	const md_breakpad_info *bpi;
	const struct md_reader_crashpad_info *cpi;
	int rets[N_VIEWS], ok = 0;
	uint32_t pid;
	uint8_t byte;
	char *text = NULL;
	size_t len;

	rets[0] = md_reader_system_info(r, &si);
	rets[1] = md_reader_threads(r, &tl);
	rets[2] = md_reader_thread_names(r, &tn);
	rets[3] = md_reader_modules(r, &ml);
	rets[4] = md_reader_memory_list(r, &mem);
	rets[5] = md_reader_memory_info(r, &mil);
	rets[6] = md_reader_exception(r, &ex);
	rets[7] = md_reader_misc_info(r, &misc);
	rets[8] = md_reader_breakpad_info(r, &bpi);
	rets[9] = md_reader_crashpad_info(r, &cpi);
	rets[10] = md_reader_pid(r, &pid);
	rets[11] = md_reader_stream_data(r, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &text, &len);
	free(text);
	md_reader_read_memory(r, T1_STACK, &byte, 1);
	for (size_t i = 0; i < N_VIEWS; i++) {
		if (rets[i] >= 0) {
			ok++;
			continue;
		}
		ck_assert_msg(rets[i] == -EBADMSG || rets[i] == -ENOENT || rets[i] == -E2BIG,
		              "view %zu returned %d", i, rets[i]);
	}
	/* Lists that parsed hold what their counts say, and every thread name is a string. */
	if (rets[1] >= 0)
		for (size_t i = 0; i < tl->count; i++)
			(void)md_reader_thread_name(r, tl->threads[i].tid);
	if (rets[3] >= 0)
		for (size_t i = 0; i < ml->count; i++)
			ck_assert_uint_le(strlen(ml->modules[i].name), 3 * MD_READER_STRING_MAX);
	if (ret_codes)
		memcpy(ret_codes, rets, sizeof(rets));
	return ok;
}

static int exercise(struct md_reader *r)
{
	return exercise_codes(r, NULL);
}

/* ---- Tests ---- */

START_TEST(valid_dump_parses)
{
	static const struct ref_opts variants[] = {
	    {0},
	    {.pad_lists = true},
	    {.no_misc = true, .unused_slot = true},
	    {.arm64 = true},
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct ref *ref = malloc(sizeof(*ref));
		struct md_reader *r;
		struct md_reader_error err;
		uint8_t *copy;

		build_ref(ref, &variants[v]);
		ck_assert_msg(open_copy(&ref->b, ref->b.size, &copy, &r, &err) == 0,
		              "variant %zu: %s", v, err.message);
		ck_assert_uint_eq(md_reader_file_size(r), ref->b.size);
		ck_assert_uint_eq(md_reader_stream_count(r), ref->b.n_dir);
		check_ref(r, &variants[v]);
		/* Cached views come back identical. */
		check_ref(r, &variants[v]);
		md_reader_free(r);
		free(copy);
		free(ref);
	}
}
END_TEST

START_TEST(valid_file_parses)
{
	struct ref *ref = malloc(sizeof(*ref));
	char path[] = "/tmp/check-reader-XXXXXX";
	struct md_reader_error err;
	struct md_reader *r;
	int fd;

	build_ref(ref, &default_opts);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, ref->b.buf, ref->b.size), (ssize_t)ref->b.size);
	close(fd);
	ck_assert_msg(md_reader_open_file(path, &err, &r) == 0, "%s", err.message);
	check_ref(r, &default_opts);
	md_reader_free(r);

	/* The same file cut short is rejected, and the message says where. */
	ck_assert_int_eq(truncate(path, ref->b.size - 1), 0);
	ck_assert_int_eq(md_reader_open_file(path, &err, &r), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "runs past end of file"));
	unlink(path);

	ck_assert_int_eq(md_reader_open_file(path, &err, &r), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "cannot open"));
	ck_assert_int_eq(md_reader_open_file("/tmp", &err, &r), -EINVAL);
	free(ref);
}
END_TEST

START_TEST(truncated_header)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r = NULL;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	for (size_t n = 0; n < sizeof(md_header); n++) {
		ck_assert_int_eq(open_copy(&ref->b, n, &copy, &r, &err), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err.message, "shorter than"));
		free(copy);
	}
	ck_assert_int_eq(md_reader_open_buffer(NULL, 0, &err, &r), -EBADMSG);
	free(ref);
}
END_TEST

START_TEST(bad_signature_and_version)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, 0, 0); /* a torn file as Crashpad leaves it */
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "signature"));
	free(copy);

	build_ref(ref, &default_opts);
	put32(&ref->b, 4, 0xA794);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "version 0x0000a794"));
	free(copy);

	/* Only the low 16 bits of the version are the format's. */
	put32(&ref->b, 4, 0x1234A793);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), 0);
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(directory_past_eof)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_directory_rva), (uint32_t)ref->b.size - 4);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "stream directory"));
	free(copy);

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_count), 0x20000000);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -E2BIG);
	free(copy);

	build_ref(ref, &default_opts);
	put32(&ref->b, offsetof(md_header, stream_count), ref->b.n_dir + 1);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "runs past end of file"));
	free(copy);
	free(ref);
}
END_TEST

START_TEST(stream_past_eof)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;
	md_directory *d;
	char expect[128];

	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_THREAD_LIST);
	d->location.data_size = (uint32_t)ref->b.size;
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	snprintf(expect, sizeof(expect), "stream %u (ThreadList) at rva 0x%x size 0x%zx runs past",
	         ref->n_threads_index, ref->thread_list_rva, ref->b.size);
	ck_assert_msg(strstr(err.message, expect), "message: %s", err.message);
	free(copy);

	/* rva + size overflows 32 bits: 0xFFFFFFF0 + 0x20. */
	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_MODULE_LIST);
	d->location.rva = 0xFFFFFFF0u;
	d->location.data_size = 0x20;
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "(ModuleList) at rva 0xfffffff0 size 0x20"));
	free(copy);

	/* An empty entry may point anywhere. */
	build_ref(ref, &default_opts);
	d = dir_entry(ref, MD_STREAM_BREAKPAD_INFO);
	d->location.rva = 0xFFFFFFF0u;
	d->location.data_size = 0;
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), 0);
	{
		const md_breakpad_info *bpi;

		ck_assert_int_eq(md_reader_breakpad_info(r, &bpi), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(md_reader_error(r), "BreakpadInfo"));
	}
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(duplicate_streams)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	/* A second ThreadList is rejected. */
	build_ref(ref, &default_opts);
	ref->b.size = ref->dir_rva;
	ref->b.n_dir--; /* drop the last entry to make room, then add a duplicate */
	tb_stream(&ref->b, MD_STREAM_THREAD_LIST, ref->thread_list_rva, 4);
	tb_finish(&ref->b);
	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.message, "(ThreadList, type 0x3) duplicates stream"));
	free(copy);

	/* Unused slots and a second Exception are accepted. */
	build_ref(ref, &default_opts);
	ref->b.size = ref->dir_rva;
	tb_stream(&ref->b, MD_STREAM_UNUSED, 0, 0);
	tb_stream(&ref->b, MD_STREAM_UNUSED, 0, 0);
	tb_stream(&ref->b, MD_STREAM_EXCEPTION, 0, 0);
	tb_finish(&ref->b);
	ck_assert_msg(open_copy(&ref->b, ref->b.size, &copy, &r, &err) == 0, "%s", err.message);
	check_ref(r, &default_opts);
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

/* Opens the (modified) reference dump, which must open, and returns the reader. */
static struct md_reader *open_ok(struct ref *ref, uint8_t **copy)
{
	struct md_reader_error err;
	struct md_reader *r;

	ck_assert_msg(open_copy(&ref->b, ref->b.size, copy, &r, &err) == 0, "%s", err.message);
	return r;
}

START_TEST(thread_count_mismatch)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->thread_list_rva, 0x10000000);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "does not match its count 268435456"));
	/* Other views are unaffected. */
	ck_assert_int_eq(md_reader_modules(r, &(const struct md_reader_module_list *){NULL}), 0);
	md_reader_free(r);
	free(copy);

	/* ThreadNames takes no padding after its count. */
	build_ref(ref, &default_opts);
	dir_entry(ref, MD_STREAM_THREAD_NAMES)->location.data_size += 4;
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_thread_names(r, &(const struct md_reader_thread_names *){NULL}),
	                 -EBADMSG);
	ck_assert_ptr_null(md_reader_thread_name(r, T1_TID));
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(thread_names_and_cached_failures)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	struct md_reader *r;
	uint8_t *copy;
	char first[MD_READER_ERROR_MAX];

	/* Two names for one tid: the first listed wins. */
	build_ref(ref, &default_opts);
	put32(&ref->b, dir_entry(ref, MD_STREAM_THREAD_NAMES)->location.rva + 4 + 12, T1_TID);
	r = open_ok(ref, &copy);
	ck_assert_str_eq(md_reader_thread_name(r, T1_TID), "main");
	ck_assert_ptr_null(md_reader_thread_name(r, T2_TID));
	md_reader_free(r);
	free(copy);

	/* A failed view fails the same way when asked again, after other calls. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->thread_list_rva, 3);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	snprintf(first, sizeof(first), "%s", md_reader_error(r));
	ck_assert_int_eq(md_reader_find_stream(r, MD_STREAM_LINUX_MAPS, &(md_location){0}),
	                 -ENOENT);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_str_eq(md_reader_error(r), first);
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(bad_contexts)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_thread_list *tl;
	const struct md_reader_exception *ex;
	size_t flags_off = offsetof(md_context_amd64, context_flags);
	md_thread th;
	struct md_reader *r;
	uint8_t *copy;

	/* Flags without the AMD64 bit. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->context_rva + flags_off, 0x0000000B);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "thread 0 (tid 1001): context at rva"));
	ck_assert_int_eq(md_reader_exception(r, &ex), -EBADMSG);
	md_reader_free(r);
	free(copy);

	/* A context size that is neither AMD64 nor ARM64_OLD. */
	build_ref(ref, &default_opts);
	memcpy(&th, ref->b.buf + ref->thread_list_rva + 4, sizeof(th));
	th.thread_context.data_size = 716; /* an x86 context */
	memcpy(ref->b.buf + ref->thread_list_rva + 4, &th, sizeof(th));
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "has size 0x2cc"));
	md_reader_free(r);
	free(copy);

	/* An AMD64 context in a dump whose SystemInfo says ARM64. */
	build_ref(ref, &default_opts);
	memcpy(ref->b.buf + dir_entry(ref, MD_STREAM_SYSTEM_INFO)->location.rva,
	       &(uint16_t){MD_CPU_ARCHITECTURE_ARM64_OLD}, 2);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_threads(r, &tl), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "does not match SystemInfo"));
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(bad_module_names)
{
	static const struct {
		uint32_t length;
		int err;
		const char *msg;
	} cases[] = {
	    {0xFFFFFFF0u, -EBADMSG, "runs past end of file"},
	    {7, -EBADMSG, "odd byte length 0x7"},
	    {0x7FFFFFFEu, -EBADMSG, "runs past end of file"},
	};
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_module_list *ml;
	struct md_reader *r;
	uint8_t *copy;
	md_module mod;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_ref(ref, &default_opts);
		put32(&ref->b, ref->mod1_name_rva, cases[i].length);
		r = open_ok(ref, &copy);
		ck_assert_int_eq(md_reader_modules(r, &ml), cases[i].err);
		ck_assert_msg(strstr(md_reader_error(r), cases[i].msg), "case %zu: %s", i,
		              md_reader_error(r));
		ck_assert_ptr_nonnull(
		    strstr(md_reader_error(r), "module 0 (base 0x555555554000) name"));
		md_reader_free(r);
		free(copy);
	}

	/* A name RVA two bytes before the end of the file: no room for the length. */
	build_ref(ref, &default_opts);
	memcpy(&mod, ref->b.buf + ref->module_list_rva + 4, sizeof(mod));
	mod.module_name_rva = (uint32_t)ref->b.size - 2;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_modules(r, &ml), -EBADMSG);
	md_reader_free(r);
	free(copy);

	/* A build id longer than MD_BUILD_ID_MAX, and a CodeView record past the end. */
	build_ref(ref, &default_opts);
	memcpy(&mod, ref->b.buf + ref->module_list_rva + 4, sizeof(mod));
	mod.cv_record.data_size = 4 + MD_BUILD_ID_MAX + 1;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_modules(r, &ml), -E2BIG);
	md_reader_free(r);
	free(copy);
	mod.cv_record.rva = (uint32_t)ref->b.size - 8;
	mod.cv_record.data_size = 24;
	memcpy(ref->b.buf + ref->module_list_rva + 4, &mod, sizeof(mod));
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_modules(r, &ml), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "CodeView record"));
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(bad_memory_info)
{
	struct ref *ref = malloc(sizeof(*ref));
	const struct md_reader_memory_info_list *mil;
	struct md_reader *r;
	uint8_t *copy;

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva, 24); /* size_of_header */
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_memory_info(r, &mil), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "header size 24"));
	md_reader_free(r);
	free(copy);

	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva + 4, 40); /* size_of_entry */
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_memory_info(r, &mil), -EBADMSG);
	md_reader_free(r);
	free(copy);

	/* number_of_entries is a u64: a huge one must not wrap into a match. */
	build_ref(ref, &default_opts);
	put32(&ref->b, ref->memory_info_rva + 12, 0x40000000);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_memory_info(r, &mil), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "does not match"));
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

START_TEST(read_bounds)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader *r;
	uint8_t *copy;
	uint8_t buf[16];
	char *s;

	build_ref(ref, &default_opts);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_read(r, ref->b.size - 16, buf, 16), 0);
	ck_assert_int_eq(md_reader_read(r, ref->b.size - 15, buf, 16), -EBADMSG);
	ck_assert_int_eq(md_reader_read(r, UINT64_MAX - 3, buf, 8), -EBADMSG);
	ck_assert_int_eq(md_reader_string(r, ref->mod1_name_rva, &s), 0);
	ck_assert_str_eq(s, MOD1_NAME);
	free(s);
	ck_assert_int_eq(md_reader_string(r, UINT64_MAX, &s), -EBADMSG);
	ck_assert_int_eq(md_reader_find_stream(r, MD_STREAM_UNUSED, &(md_location){0}), -EINVAL);
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

/* /proc/<pid>/status fields as the LinuxProcStatus stream holds them: one line per field,
 * "Key:<blanks>value"; only the first line of a key counts and a prefix of a key is not it. */
START_TEST(proc_status_fields)
{
	static const struct {
		const char *text, *key;
		int ret;
		uint32_t value;
	} cases[] = {
		{"Name:\tcat\nPid:\t42\nPPid:\t1\n", "Pid", 0, 42},
		{"Name:\tcat\nPid:\t42\nPPid:\t1\n", "PPid", 0, 1},
		{"Pid:  \t 7", "Pid", 0, 7},                       /* no final newline */
		{"Tgid:\t5\nPid:\t6\n", "Pid", 0, 6},             /* Tgid is not Pid */
		{"Pidx:\t5\nPid:\t6\n", "Pid", 0, 6},             /* nor is Pidx */
		{"Pid:\t4294967295\n", "Pid", 0, UINT32_MAX},
		{"Pid:\t4294967296\n", "Pid", -EBADMSG, 0},       /* over 32 bits */
		{"Pid:\t99999999999999999999999\n", "Pid", -EBADMSG, 0},
		{"Pid:\t12 \n", "Pid", -EBADMSG, 0},              /* trailing blank */
		{"Pid:\t-1\n", "Pid", -EBADMSG, 0},
		{"Pid:\n", "Pid", -EBADMSG, 0},
		{"Pid:\tx\nPid:\t3\n", "Pid", -EBADMSG, 0},       /* the first line decides */
		{"Name:\tPid: 3\n", "Pid", -ENOENT, 0},           /* not at the start of a line */
		{"", "Pid", -ENOENT, 0},
		{"\n\n\n", "Pid", -ENOENT, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 0xdeadbeef;
		int r = md_text_proc_status_u32(cases[i].text, cases[i].key, &v);

		ck_assert_msg(r == cases[i].ret, "case %zu: %d, expected %d", i, r, cases[i].ret);
		ck_assert_msg(v == (r == 0 ? cases[i].value : 0xdeadbeef), "case %zu: value %u", i,
			      v);
	}
}
END_TEST

START_TEST(pid_from_proc_status)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct ref_opts o = {.no_misc = true};
	struct md_reader *r;
	uint8_t *copy;
	uint32_t pid;

	build_ref(ref, &o);
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_pid(r, &pid), 0);
	ck_assert_uint_eq(pid, PID);
	md_reader_free(r);
	free(copy);

	/* "Tgid:" is not "Pid:"; with the Pid: line spoilt there is no pid. */
	build_ref(ref, &o);
	{
		md_directory *d = dir_entry(ref, MD_STREAM_LINUX_PROC_STATUS);
		char *p = memmem(ref->b.buf + d->location.rva, d->location.data_size, "Pid:\t", 5);

		ck_assert_ptr_nonnull(p);
		p[5] = 'x';
	}
	r = open_ok(ref, &copy);
	ck_assert_int_eq(md_reader_pid(r, &pid), -ENOENT);
	md_reader_free(r);
	free(copy);
	free(ref);
}
END_TEST

/* Opens every prefix of the reference dump. With drop_cut, the directory (first in the file)
 * is rewritten to leave out the streams that no longer fit, as a writer that nullifies failed
 * streams would, so the views meet strings, contexts and records cut off half-way. A view that
 * parses must be identical to the whole dump's: it only read bytes inside the prefix. Returns
 * how many prefixes opened; *ret_views counts the views that parsed. */
static int truncate_all(const struct ref_opts *o, bool drop_cut, int *ret_views)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	int opened = 0;

	*ret_views = 0;
	build_ref(ref, o);
	for (size_t n = 0; n <= ref->b.size; n++) {
		uint8_t *c = dup_bytes(ref->b.buf, n);
		size_t dir_end = ref->dir_rva + ref->b.n_dir * sizeof(md_directory);
		int ret;

		if (drop_cut && n >= dir_end) {
			md_directory *d = (md_directory *)(c + ref->dir_rva);

			for (uint32_t i = 0; i < ref->b.n_dir; i++)
				if ((uint64_t)d[i].location.rva + d[i].location.data_size > n)
					memset(&d[i], 0, sizeof(d[i]));
		}
		ret = md_reader_open_buffer(c, n, &err, &r);
		if (ret < 0) {
			ck_assert_msg(ret == -EBADMSG, "length %zu: %d", n, ret);
			ck_assert_str_ne(err.message, "");
		} else {
			const struct md_reader_thread_list *tl;
			const struct md_reader_module_list *ml;
			const struct md_reader_crashpad_info *cpi;

			opened++;
			*ret_views += exercise(r);
			if (md_reader_threads(r, &tl) == 0) {
				ck_assert_uint_eq(tl->count, 2);
				ck_assert_uint_eq(tl->threads[0].pc, T1_RIP);
				ck_assert_uint_eq(tl->threads[0].sp, T1_RSP);
			}
			if (md_reader_modules(r, &ml) == 0) {
				ck_assert_uint_eq(ml->count, 2);
				ck_assert_str_eq(ml->modules[1].name, MOD2_NAME);
				ck_assert_str_eq(ml->modules[0].code_id, BUILD_ID_CODE_ID);
			}
			if (md_reader_crashpad_info(r, &cpi) == 0) {
				ck_assert_uint_eq(cpi->n_annotations, 2);
				ck_assert_str_eq(cpi->annotations[0].value, "beta");
			}
			if (n == ref->b.size)
				check_ref(r, o);
			md_reader_free(r);
		}
		free(c);
	}
	free(ref);
	return opened;
}

START_TEST(truncation_at_every_offset)
{
	const struct ref_opts front = {.dir_first = true};
	const size_t dir_end = sizeof(md_header) + TB_STREAMS_MAX * sizeof(md_directory);
	struct ref *ref = malloc(sizeof(*ref));
	int views;

	/* Every entry must lie inside the file, so only the whole file opens. */
	ck_assert_int_eq(truncate_all(&default_opts, false, &views), 1);
	ck_assert_int_eq(views, 12);
	ck_assert_int_eq(truncate_all(&front, false, &views), 1);

	/* With cut streams left out, every prefix holding the directory opens, and views fail
	 * (or parse) one by one as their strings, contexts and records are cut off. */
	build_ref(ref, &front);
	ck_assert_int_eq(
	    truncate_all(&front, true, &views),
	    (int)(ref->b.size - (sizeof(md_header) + ref->b.n_dir * sizeof(md_directory)) + 1));
	ck_assert_int_gt(views, (int)(ref->b.size - dir_end));
	free(ref);
}
END_TEST

/* Random bit flips over a valid dump with a fixed seed: never a crash; errors have messages. */
START_TEST(random_bit_flips)
{
	struct ref *ref = malloc(sizeof(*ref));
	struct md_reader_error err;
	struct md_reader *r;
	unsigned seed = 12345;
	int opened = 0, views_ok = 0;

	build_ref(ref, &default_opts);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *c = dup_bytes(ref->b.buf, ref->b.size);
		int flips = 1 + rand_r(&seed) % 4;
		int ret;

		for (int f = 0; f < flips; f++) {
			size_t pos = (size_t)rand_r(&seed) % ref->b.size;

			/* Aim half the flips at the header and directory, where they matter most.
			 */
			if (rand_r(&seed) % 2)
				pos = rand_r(&seed) % 2
				          ? (size_t)rand_r(&seed) % sizeof(md_header)
				          : ref->dir_rva + (size_t)rand_r(&seed) %
				                               (ref->b.size - ref->dir_rva);
			c[pos] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		}
		ret = md_reader_open_buffer(c, ref->b.size, &err, &r);
		if (ret == 0) {
			opened++;
			views_ok += exercise(r);
			md_reader_free(r);
		} else {
			ck_assert_msg(ret == -EBADMSG || ret == -E2BIG, "iteration %d: %d", iter,
			              ret);
			ck_assert_str_ne(err.message, "");
		}
		free(c);
	}
	/* The fuzzing reached the views, not only the header checks. */
	ck_assert_int_gt(opened, 1000);
	ck_assert_int_gt(views_ok, 1000);
	free(ref);
}
END_TEST

/* The file backend (pread on demand) must agree with the buffer backend on every view of
 * every damaged file. */
START_TEST(file_and_buffer_agree)
{
	struct ref *ref = malloc(sizeof(*ref));
	char path[] = "/tmp/check-reader-XXXXXX";
	unsigned seed = 777;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	build_ref(ref, &default_opts);
	for (int iter = 0; iter < 400; iter++) {
		uint8_t *c = dup_bytes(ref->b.buf, ref->b.size);
		size_t size = ref->b.size;
		struct md_reader_error e1, e2;
		struct md_reader *rb = NULL, *rf = NULL;
		int codes_b[N_VIEWS], codes_f[N_VIEWS], ret_b, ret_f;

		/* Keep the header and directory mostly intact so the views are reached. */
		for (int f = 0; f < 3; f++)
			c[sizeof(md_header) +
			  (size_t)rand_r(&seed) % (ref->dir_rva - sizeof(md_header))] ^=
			    (uint8_t)(1u << (rand_r(&seed) % 8));
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert_int_eq(pwrite(fd, c, size, 0), (ssize_t)size);
		ret_b = md_reader_open_buffer(c, size, &e1, &rb);
		ret_f = md_reader_open_file(path, &e2, &rf);
		ck_assert_int_eq(ret_b, ret_f);
		ck_assert_str_eq(e1.message, e2.message);
		if (ret_b == 0) {
			ck_assert_int_eq(exercise_codes(rb, codes_b), exercise_codes(rf, codes_f));
			ck_assert_mem_eq(codes_b, codes_f, sizeof(codes_b));
		}
		md_reader_free(rb);
		md_reader_free(rf);
		free(c);
	}
	close(fd);
	unlink(path);
	free(ref);
}
END_TEST

START_TEST(empty_directory)
{
	struct tb *b = malloc(sizeof(*b));
	const struct md_reader_thread_list *tl;
	struct md_reader_error err;
	struct md_reader *r;
	uint8_t *copy;

	tb_init(b, false);
	tb_finish(b);
	ck_assert_int_eq(open_copy(b, b->size, &copy, &r, &err), 0);
	ck_assert_uint_eq(md_reader_stream_count(r), 0);
	ck_assert_int_eq(md_reader_threads(r, &tl), -ENOENT);
	ck_assert_ptr_nonnull(strstr(md_reader_error(r), "no ThreadList stream"));
	ck_assert_int_eq(exercise(r), 0);
	md_reader_free(r);
	free(copy);
	free(b);
}
END_TEST

static Suite *reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, valid_dump_parses);
	tcase_add_test(tc, valid_file_parses);
	tcase_add_test(tc, truncated_header);
	tcase_add_test(tc, bad_signature_and_version);
	tcase_add_test(tc, directory_past_eof);
	tcase_add_test(tc, stream_past_eof);
	tcase_add_test(tc, duplicate_streams);
	tcase_add_test(tc, thread_count_mismatch);
	tcase_add_test(tc, thread_names_and_cached_failures);
	tcase_add_test(tc, bad_contexts);
	tcase_add_test(tc, bad_module_names);
	tcase_add_test(tc, bad_memory_info);
	tcase_add_test(tc, read_bounds);
	tcase_add_test(tc, pid_from_proc_status);
	tcase_add_test(tc, proc_status_fields);
	tcase_add_test(tc, truncation_at_every_offset);
	tcase_add_test(tc, random_bit_flips);
	tcase_add_test(tc, file_and_buffer_agree);
	tcase_add_test(tc, empty_directory);
	suite_add_tcase(s, tc);
	return s;
}

/* Writes the fuzzing seeds: the reference dump's variants, each under 4 KiB. */
static int write_corpus(const char *dir)
{
	static const struct {
		const char *name;
		struct ref_opts opts;
	} seeds[] = {
	    {"amd64.dmp", {0}},
	    {"amd64-padded.dmp", {.pad_lists = true}},
	    {"no-misc-unused.dmp", {.no_misc = true, .unused_slot = true}},
	    {"arm64.dmp", {.arm64 = true}},
	    {"dir-first.dmp", {.dir_first = true}},
	};
	struct ref *ref = malloc(sizeof(*ref));

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		FILE *f;

		build_ref(ref, &seeds[i].opts);
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(ref->b.buf, 1, ref->b.size, f) != ref->b.size || fclose(f) != 0) {
			perror(path);
			free(ref);
			return 1;
		}
		printf("%s: %zu bytes\n", path, ref->b.size);
	}
	free(ref);
	return 0;
}

/* reader --write-corpus DIR writes the fuzzing seeds instead of running the tests. */
static int reader_args(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	return -1;
}

const struct check_suite check_suite = {
	.name = "reader",
	.suite = reader_suite,
	.args = reader_args,
};
