/* SPDX-License-Identifier: MIT */
/*
 * The symbolize suite's Windows cases (symbolizer/sym-scan.c): `mdctl stack` on a Windows x64
 * minidump built here with the reader tests' builder (tests/dump-builder.c), laid out the way
 * MiniDumpWriteDump lays one out: the crashing thread's registers at the fault in the Exception
 * stream (its ThreadList context is where the dump was written), stacks in the ThreadList and
 * one only in the MemoryList, PDB70 CodeView records. Each thread must get frame 0 from its
 * context as module + offset, then the return addresses planted on its stack, found by scan, in
 * stack order; words below the stack pointer, outside every module or in a module's PE header
 * page must not become frames.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-symbolize.h"
#include "dump-builder.h"
#include "integration-util.h"

#define MDCTL_WAIT_MS 60000 /* ms mdctl stack may take */

#define APP      0x140000000ull /* C:\Program Files\App\app.exe, 0x30000 bytes */
#define KERNEL32 0x7ffb2a000000ull
#define NTDLL    0x7ffb2c000000ull
#define STACK1   0xe12fffe000ull /* the crashing thread's stack (ThreadList), 0x200 bytes */
#define STACK2   0xe13fffe000ull /* a waiting thread's stack (ThreadList), 0x100 bytes */
#define STACK3   0xe14fffe000ull /* a thread whose stack is only in the MemoryList */
#define NOSTACK  0xe15fffe000ull /* a thread whose stack the dump does not hold */

static const struct {
	const char *path;
	uint64_t base;
	uint32_t size;
	const char *pdb;
} modules[] = {
    {"C:\\Program Files\\App\\app.exe", APP, 0x30000, "app.pdb"},
    {"C:\\Windows\\System32\\KERNEL32.DLL", KERNEL32, 0xc2000, "kernel32.pdb"},
    {"C:\\Windows\\System32\\ntdll.dll", NTDLL, 0x1f8000, "ntdll.pdb"},
};

/* An AMD64 context with rip and rsp (and the rest zero). Returns its location. */
static md_location context(struct tb *b, uint64_t rip, uint64_t rsp)
{
	md_context_amd64 c = {.context_flags = MD_CONTEXT_AMD64_FULL, .rip = rip, .rsp = rsp};

	return (md_location){.data_size = sizeof(c), .rva = tb_append(b, &c, sizeof(c))};
}

/* A stack of n 8-byte words; returns its RVA. */
static uint32_t stack(struct tb *b, const uint64_t *words, size_t n)
{
	return tb_append(b, words, n * sizeof(words[0]));
}

/* Builds the dump into b (see the file's comment for what it holds). */
static void windows_dump(struct tb *b)
{
	/* the crashing thread: the exception's rsp is STACK1 + 0x20 (word 4) */
	uint64_t s1[64] = {
	    [0] = APP + 0x5555, /* below rsp: never a frame */
	    [3] = APP + 0x6666,
	    [5] = APP + 0x40,            /* the PE header page: not code */
	    [6] = APP + 0x2f10,          /* frame 1 */
	    [7] = 0x12345678,            /* in no module */
	    [8] = KERNEL32 + 0xc2010,    /* just past kernel32's end */
	    [9] = APP + 0x11f0,          /* frame 2 */
	    [10] = KERNEL32 + 0x17344,   /* frame 3: BaseThreadInitThunk's call */
	    [11] = NTDLL + 0x526b1,      /* frame 4: RtlUserThreadStart's call */
	    [63] = NTDLL + 0x1f8000 - 8, /* the last word: the scan reads to the end */
	};
	uint64_t s2[32] = {[1] = KERNEL32 + 0x1b2c0, [2] = NTDLL + 0x526b1};
	uint64_t s3[8] = {[0] = APP + 0x1234};
	uint32_t s1_rva = stack(b, s1, 64), s2_rva = stack(b, s2, 32), s3_rva = stack(b, s3, 8);
	md_location c1 = context(b, NTDLL + 0x9d0c4, STACK1 + 0x100); /* where it was dumped */
	md_location c1_fault = context(b, APP + 0x1a2b, STACK1 + 0x20);
	md_location c2 = context(b, NTDLL + 0x9d0c4, STACK2 + 0x08);
	md_location c3 = context(b, APP + 0x3000, STACK3);
	md_location c4 = context(b, KERNEL32 + 0x2000, NOSTACK + 0x40);
	md_thread threads[4] = {
	    {.thread_id = 6700,
	     .stack = {.start_of_memory_range = STACK1, .memory = {sizeof(s1), s1_rva}},
	     .thread_context = c1},
	    {.thread_id = 6800,
	     .stack = {.start_of_memory_range = STACK2, .memory = {sizeof(s2), s2_rva}},
	     .thread_context = c2},
	    {.thread_id = 6900, .thread_context = c3},
	    {.thread_id = 7000, .thread_context = c4},
	};
	md_memory_descriptor ranges[1] = {
	    {.start_of_memory_range = STACK3, .memory = {sizeof(s3), s3_rva}}};
	md_exception_stream exc = {
	    .thread_id = 6700,
	    .exception_record = {.exception_code = 0xC0000005u, .exception_address = APP + 0x1a2b},
	    .thread_context = c1_fault};
	md_system_info si = {.processor_architecture = MD_CPU_ARCHITECTURE_AMD64,
	                     .number_of_processors = 8,
	                     .major_version = 10,
	                     .build_number = 19045,
	                     .platform_id = MD_OS_WIN32_NT};
	md_module mods[3];
	uint32_t rva, n;

	memset(mods, 0, sizeof(mods));
	for (size_t i = 0; i < 3; i++) {
		uint8_t cv[64] = {'R', 'S', 'D', 'S'};
		size_t cv_len = 4 + 16 + 4 + strlen(modules[i].pdb) + 1;

		memset(cv + 4, 0x11 * (int)(i + 1), 16); /* the GUID */
		cv[20] = 1;                              /* the age */
		memcpy(cv + 24, modules[i].pdb, strlen(modules[i].pdb) + 1);
		mods[i].base_of_image = modules[i].base;
		mods[i].size_of_image = modules[i].size;
		mods[i].time_date_stamp = 0x5f000000u + (uint32_t)i;
		mods[i].module_name_rva = tb_string(b, modules[i].path);
		mods[i].cv_record.rva = tb_append(b, cv, cv_len);
		mods[i].cv_record.data_size = (uint32_t)cv_len;
	}
	si.csd_version_rva = tb_string(b, "");
	tb_stream(b, MD_STREAM_SYSTEM_INFO, tb_append(b, &si, sizeof(si)), sizeof(si));
	n = 4;
	rva = tb_append(b, &n, sizeof(n));
	tb_put(b, threads, sizeof(threads));
	tb_stream(b, MD_STREAM_THREAD_LIST, rva, sizeof(n) + sizeof(threads));
	n = 3;
	rva = tb_append(b, &n, sizeof(n));
	tb_put(b, mods, sizeof(mods));
	tb_stream(b, MD_STREAM_MODULE_LIST, rva, sizeof(n) + sizeof(mods));
	n = 1;
	rva = tb_append(b, &n, sizeof(n));
	tb_put(b, ranges, sizeof(ranges));
	tb_stream(b, MD_STREAM_MEMORY_LIST, rva, sizeof(n) + sizeof(ranges));
	tb_stream(b, MD_STREAM_EXCEPTION, tb_append(b, &exc, sizeof(exc)), sizeof(exc));
	tb_finish(b);
}

/* What one thread's frames must be: module (NULL: none) + offset, found_by. */
struct want {
	const char *module;
	uint64_t offset;
	const char *found_by;
};

static void assert_frames(json_t *thread, uint32_t tid, const struct want *w, size_t n)
{
	json_t *frames = json_object_get(thread, "frames");

	ck_assert_int_eq(json_integer_value(json_object_get(thread, "tid")), tid);
	ck_assert_msg(json_array_size(frames) == n, "thread %u: %zu frames, want %zu: %s", tid,
	              json_array_size(frames), n, json_dumps(frames, JSON_COMPACT));
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(frames, i);
		const char *mod = json_string_value(json_object_get(f, "module"));

		ck_assert_str_eq(json_string_value(json_object_get(f, "found_by")), w[i].found_by);
		ck_assert_msg(mod && strcmp(mod, w[i].module) == 0, "thread %u frame %zu: %s", tid,
		              i, mod ? mod : "(no module)");
		ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(f, "offset")),
		                  w[i].offset);
		ck_assert_ptr_null(json_object_get(f, "function"));
		ck_assert_msg(strstr(json_string_value(json_object_get(f, "missing")), "Windows"),
		              "thread %u frame %zu: no reason for the missing name", tid, i);
	}
}

START_TEST(windows_dump_frames_from_context_and_stack_scan)
{
	static const struct want crashed[] = {
	    {"app.exe", 0x1a2b, "context"}, {"app.exe", 0x2f10, "scan"},
	    {"app.exe", 0x11f0, "scan"},    {"KERNEL32.DLL", 0x17344, "scan"},
	    {"ntdll.dll", 0x526b1, "scan"}, {"ntdll.dll", 0x1f8000 - 8, "scan"},
	};
	static const struct want waiting[] = {
	    {"ntdll.dll", 0x9d0c4, "context"},
	    {"KERNEL32.DLL", 0x1b2c0, "scan"},
	    {"ntdll.dll", 0x526b1, "scan"},
	};
	static const struct want listed[] = {
	    {"app.exe", 0x3000, "context"},
	    {"app.exe", 0x1234, "scan"},
	};
	static const struct want nostack[] = {{"KERNEL32.DLL", 0x2000, "context"}};
	struct tb *b = malloc(sizeof(*b));
	char *dir = it_tempdir(0755), path[1024];
	const char *argv[] = {it_env("MDCTL"), "stack", path, "--json", "--all-threads", NULL};
	struct it_result res;
	json_t *j, *threads, *missing, *m;
	size_t i;
	FILE *f;

	ck_assert_ptr_nonnull(b);
	tb_init(b, false);
	windows_dump(b);
	snprintf(path, sizeof(path), "%s/windows-x64.dmp", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b->buf, 1, b->size, f), b->size);
	fclose(f);

	ck_assert_int_eq(it_run(argv, NULL, MDCTL_WAIT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "mdctl stack: %s %s", it_result_status(&res),
	              res.err);
	j = json_loads(res.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	it_result_done(&res);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "crashing_tid")), 6700);
	threads = json_object_get(j, "threads");
	ck_assert_uint_eq(json_array_size(threads), 4);
	ck_assert(json_is_true(json_object_get(json_array_get(threads, 0), "crashed")));
	assert_frames(json_array_get(threads, 0), 6700, crashed, 6);
	assert_frames(json_array_get(threads, 1), 6800, waiting, 3);
	assert_frames(json_array_get(threads, 2), 6900, listed, 2);
	assert_frames(json_array_get(threads, 3), 7000, nostack, 1);
	/* every module is listed as missing, with the reason */
	missing = json_object_get(json_object_get(j, "symbolizer"), "missing");
	ck_assert_uint_eq(json_array_size(missing), 3);
	json_array_foreach(missing, i, m)
	    ck_assert(strstr(json_string_value(json_object_get(m, "reason")), "PE and PDB"));
	json_decref(j);

	/* as a person reads it */
	argv[3] = NULL;
	ck_assert_int_eq(it_run(argv, NULL, MDCTL_WAIT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "mdctl stack: %s", it_result_status(&res));
	ck_assert_msg(strstr(res.out, "Stack trace of thread 6700, crashed:\n"
	                              "  #0   0x0000000140001a2b n/a (app.exe + 0x1a2b) ["),
	              "%s", res.out);
	ck_assert_msg(strstr(res.out, "  #1   0x0000000140002f10 n/a (app.exe + 0x2f10) "
	                              "[found by stack scan] ["),
	              "%s", res.out);
	ck_assert_msg(strstr(res.out, "  #3   0x00007ffb2a017344 n/a (KERNEL32.DLL + 0x17344) "
	                              "[found by stack scan]"),
	              "%s", res.out);
	it_result_done(&res);
	it_rmtree(dir);
	free(dir);
	free(b);
}
END_TEST

void symbolize_windows_tcase(Suite *s)
{
	TCase *tc = tcase_create("windows");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, windows_dump_frames_from_context_and_stack_scan);
	suite_add_tcase(s, tc);
}
