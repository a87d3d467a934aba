/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of every stream writer, driven by the fake snapshot: each stream is found in the
 * written file through its directory entry and checked field by field against what the fake
 * process holds. Parsing here is deliberately by hand (offsets and md-format.h structs), not
 * through common/md-reader.c, so a shared mistake cannot hide.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "fake-snapshot.h"
#include "md-dump.h"
#include "streams-util.h"

START_TEST(directory_has_one_slot_per_table_entry)
{
	struct dump d = fake_dump(4, NULL);
	md_header h;
	uint32_t size;

	memcpy(&h, d.data, sizeof(h));
	ck_assert_uint_eq(h.signature, MD_SIGNATURE);
	ck_assert_uint_eq(h.stream_count, d.res.n_streams);
	ck_assert_uint_eq(d.res.bytes, d.len);
	/* missing and empty sources leave unused slots, and say so */
	ck_assert_ptr_null(stream(&d, MD_STREAM_LINUX_LSB_RELEASE, &size));
	ck_assert_ptr_null(stream(&d, MD_STREAM_LINUX_ENVIRON, &size));
	ck_assert_ptr_null(stream(&d, MD_STREAM_CRASHPAD_INFO, &size));
	for (size_t i = 0; i < d.res.n_streams; i++) {
		const struct md_stream_result *sr = &d.res.streams[i];

		ck_assert_ptr_nonnull(sr->name);
		if (sr->type == MD_STREAM_LINUX_LSB_RELEASE || sr->type == MD_STREAM_LINUX_ENVIRON)
			ck_assert_int_eq(sr->status, MD_STREAM_SKIPPED);
		if (sr->type == MD_STREAM_THREAD_LIST || sr->type == MD_STREAM_SYSTEM_INFO)
			ck_assert_int_eq(sr->status, MD_STREAM_OK);
	}
	dump_free(&d);
}
END_TEST

START_TEST(thread_list_contexts_and_stacks)
{
	struct dump d = fake_dump(5, NULL);

	list_entries(&d, MD_STREAM_THREAD_LIST, 5, sizeof(md_thread));
	ck_assert_uint_eq(d.res.threads, 5);
	for (uint32_t i = 0; i < 5; i++) {
		md_thread t = dump_thread(&d, i);
		md_context_amd64 ctx;
		uint64_t sp = FAKE_STACK_BASE + i * FAKE_STACK_STEP + FAKE_SP_OFFSET;

		ck_assert_uint_eq(t.thread_id, 4242 + i);
		ck_assert_uint_eq(t.thread_context.data_size, sizeof(md_context_amd64));
		ck_assert_uint_eq(t.thread_context.rva % 8, 0);
		memcpy(&ctx, d.data + t.thread_context.rva, sizeof(ctx));
		ck_assert_uint_eq(ctx.context_flags, 0x0010000F);
		ck_assert_uint_eq(ctx.rip, FAKE_PC + i);
		ck_assert_uint_eq(ctx.rsp, sp);
		ck_assert_uint_eq(ctx.rax, 0x1111 * (i + 1));
		/* from the red zone below sp to the end of the stack mapping */
		ck_assert_uint_eq(t.stack.start_of_memory_range, sp - MD_RED_ZONE_AMD64);
		ck_assert_uint_eq(t.stack.memory.data_size,
		                  FAKE_STACK_SIZE - FAKE_SP_OFFSET + MD_RED_ZONE_AMD64);
		check_pattern(&d, t.stack.start_of_memory_range, &t.stack.memory);
	}
	dump_free(&d);
}
END_TEST

START_TEST(stack_is_capped)
{
	struct md_dump_options o = {.stack_max = 1024};
	struct dump d = fake_dump(1, &o);
	md_thread t = dump_thread(&d, 0);

	ck_assert_uint_eq(t.stack.memory.data_size, 1024);
	check_pattern(&d, t.stack.start_of_memory_range, &t.stack.memory);
	dump_free(&d);
}
END_TEST

/* Issue 15, item 7: a stack pointer that overflowed below its stack (into the guard gap) keeps
 * the stack from its lowest readable byte; one farther away than any guard keeps nothing. */
START_TEST(overflowed_stack_is_kept_from_its_bottom)
{
	struct md_snapshot *s = fake_threads(2);
	struct dump d;
	md_thread t[2];

	s->threads[0].sp = s->threads[0].context.u.amd64.rsp = FAKE_STACK_BASE - 0x3000;
	s->threads[1].sp = s->threads[1].context.u.amd64.rsp = FAKE_STACK_BASE - 0x1000000;
	d = write_dump(s, NULL);
	ck_assert_int_eq(d.r, 0);
	t[0] = dump_thread(&d, 0);
	t[1] = dump_thread(&d, 1);
	ck_assert_uint_eq(t[0].stack.start_of_memory_range, FAKE_STACK_BASE);
	ck_assert_uint_eq(t[0].stack.memory.data_size, FAKE_STACK_SIZE);
	check_pattern(&d, t[0].stack.start_of_memory_range, &t[0].stack.memory);
	ck_assert_uint_eq(t[1].stack.memory.data_size, 0);
	dump_free(&d);
}
END_TEST

START_TEST(problems_are_reported_not_fatal)
{
	struct fake_options fo = {
	    .n_threads = 4, .unreadable_stacks = true, .no_context_thread = true};
	struct md_snapshot *s = fake_snapshot_new(&fo);
	struct dump d = write_dump(s, NULL);
	const uint8_t *p;
	uint32_t size, count;
	json_t *doc, *problems;
	json_error_t err;
	bool saw_thread = false, saw_stack = false;

	ck_assert_int_eq(d.r, 0);
	ck_assert(d.res.partial);
	count = list_stream(&d, MD_STREAM_THREAD_LIST, &p, &size);
	ck_assert_uint_eq(count, 3); /* the thread without registers is left out */
	for (uint32_t i = 0; i < count; i++) {
		md_thread t = dump_thread(&d, i);

		ck_assert_uint_ne(t.thread_id, 4244);
		if (t.thread_id == 4243)
			ck_assert_uint_eq(t.stack.memory.data_size, 0);
	}
	ck_assert_int_eq(stream_status(&d, MD_STREAM_THREAD_LIST), MD_STREAM_PARTIAL);
	/* the diagnostics stream says what and why, as JSON */
	p = stream(&d, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &size);
	ck_assert_ptr_nonnull(p);
	doc = json_loadb((const char *)p, size, 0, &err);
	ck_assert_msg(doc != NULL, "diagnostics is not JSON: %s", err.text);
	problems = json_object_get(doc, "problems");
	ck_assert(json_is_array(problems));
	for (size_t i = 0; i < json_array_size(problems); i++) {
		json_t *e = json_array_get(problems, i);
		const char *kind = json_string_value(json_object_get(e, "kind"));
		json_int_t id = json_integer_value(json_object_get(e, "id"));

		if (strcmp(kind, "thread") == 0 && id == 4244)
			saw_thread = true;
		if (strcmp(kind, "thread") == 0 && id == 4243)
			saw_stack = true;
	}
	ck_assert(saw_thread);
	ck_assert(saw_stack);
	ck_assert(json_is_array(json_object_get(doc, "streams")));
	json_decref(doc);
	dump_free(&d);
}
END_TEST

START_TEST(memory_list_repeats_stacks_and_merges_ip_regions)
{
	struct dump d = fake_dump(3, NULL);
	const uint32_t count = 4; /* three stacks and one merged region around the pcs */
	const uint8_t *p =
	    list_entries(&d, MD_STREAM_MEMORY_LIST, count, sizeof(md_memory_descriptor));
	int stacks = 0, ip = 0;

	for (uint32_t i = 0; i < count; i++) {
		md_memory_descriptor m;

		memcpy(&m, p + i * sizeof(m), sizeof(m));
		check_pattern(&d, m.start_of_memory_range, &m.memory);
		/* no two ranges overlap */
		for (uint32_t k = 0; k < i; k++) {
			md_memory_descriptor o;

			memcpy(&o, p + k * sizeof(o), sizeof(o));
			ck_assert(m.start_of_memory_range >=
			              o.start_of_memory_range + o.memory.data_size ||
			          o.start_of_memory_range >=
			              m.start_of_memory_range + m.memory.data_size);
		}
		for (uint32_t k = 0; k < 3; k++) {
			md_thread t = dump_thread(&d, k);

			if (t.stack.start_of_memory_range == m.start_of_memory_range) {
				/* same bytes, stored once */
				ck_assert_uint_eq(t.stack.memory.rva, m.memory.rva);
				stacks++;
			}
		}
		if (m.start_of_memory_range == FAKE_PC - MD_IP_CONTEXT) {
			/* three threads at FAKE_PC, +1, +2: one merged region */
			ck_assert_uint_eq(m.memory.data_size, 2 * MD_IP_CONTEXT + 2);
			ip++;
		}
	}
	ck_assert_int_eq(stacks, 3);
	ck_assert_int_eq(ip, 1);
	dump_free(&d);
}
END_TEST

START_TEST(module_list_names_and_build_ids)
{
	struct dump d = fake_dump(1, NULL);
	/* 108 bytes an entry, not the C struct's padded size */
	const uint8_t *p = list_entries(&d, MD_STREAM_MODULE_LIST, 2, 108);
	uint32_t sig;
	md_module m;
	char name[64];

	memcpy(&m, p, sizeof(m));
	ck_assert_uint_eq(m.base_of_image, FAKE_EXE_BASE);
	ck_assert_uint_eq(m.size_of_image, FAKE_EXE_SIZE);
	utf16_to_ascii(&d, m.module_name_rva, name, sizeof(name));
	ck_assert_str_eq(name, "/usr/bin/fake");
	ck_assert_uint_eq(m.cv_record.data_size, 24);
	memcpy(&sig, d.data + m.cv_record.rva, 4);
	ck_assert_mem_eq(d.data + m.cv_record.rva, "LEpB", 4);
	ck_assert_mem_eq(d.data + m.cv_record.rva + 4, d.s->modules[0].id, 20);
	memcpy(&m, p + 108, sizeof(m));
	ck_assert_uint_eq(m.base_of_image, FAKE_LIB_BASE);
	utf16_to_ascii(&d, m.module_name_rva, name, sizeof(name));
	ck_assert_str_eq(name, "/usr/lib/libfake.so.1");
	ck_assert_uint_eq(m.cv_record.data_size, 0);
	dump_free(&d);
}
END_TEST

START_TEST(exception_for_a_live_dump)
{
	struct dump d = fake_dump(2, NULL);
	md_exception_stream e;

	ck_assert_uint_eq(stream_read(&d, MD_STREAM_EXCEPTION, &e, sizeof(e)), 168);
	ck_assert_uint_eq(e.thread_id, 4242);
	ck_assert_uint_eq(e.exception_record.exception_code, 0xFFFFFFFFu);
	ck_assert_uint_eq(e.exception_record.exception_address, FAKE_PC);
	ck_assert_uint_eq(e.thread_context.rva, dump_thread(&d, 0).thread_context.rva);
	dump_free(&d);
}
END_TEST

START_TEST(exception_for_a_crash_uses_the_clients_context)
{
	struct md_snapshot *s = fake_threads(3);
	struct md_crash_info crash = {.tid = 4243, .code = 11, .flags = 1, .address = 0x10};
	uint64_t crash_sp = FAKE_STACK_BASE + FAKE_STACK_STEP + 0xE000;
	struct dump d;
	md_exception_stream e;
	md_thread t;
	md_context_amd64 ctx;

	crash.context.size = sizeof(md_context_amd64);
	crash.context.u.amd64.context_flags = MD_CONTEXT_AMD64_FULL;
	crash.context.u.amd64.rip = FAKE_EXE_BASE + 0x2000;
	crash.context.u.amd64.rsp = crash_sp;
	s->crash = &crash;
	d = write_dump(s, NULL);
	ck_assert_int_eq(d.r, 0);
	stream_read(&d, MD_STREAM_EXCEPTION, &e, sizeof(e));
	ck_assert_uint_eq(e.thread_id, 4243);
	ck_assert_uint_eq(e.exception_record.exception_code, 11);
	ck_assert_uint_eq(e.exception_record.exception_flags, 1);
	ck_assert_uint_eq(e.exception_record.exception_address, 0x10);
	t = dump_thread(&d, 1);
	ck_assert_uint_eq(t.thread_id, 4243);
	ck_assert_uint_eq(e.thread_context.rva, t.thread_context.rva);
	memcpy(&ctx, d.data + t.thread_context.rva, sizeof(ctx));
	ck_assert_uint_eq(ctx.rip, FAKE_EXE_BASE + 0x2000);
	/* the stack is taken from the fault's sp, not the signal handler's */
	ck_assert_uint_eq(t.stack.start_of_memory_range, crash_sp - MD_RED_ZONE_AMD64);
	dump_free(&d);
}
END_TEST

/* A stack overflow on aarch64: the fault's sp is already in the guard gap below the stack
 * (`sub sp` runs before the store that faults). The stack is then taken from the mapping just
 * above, where the frames are; an sp farther than the kernel's guard gap from any mapping
 * still gets no stack. */
START_TEST(overflowed_stack_pointer_takes_the_stack_above_the_guard_gap)
{
	/* just below the stack; nowhere near any mapping */
	static const uint64_t sp[] = {FAKE_STACK_BASE + FAKE_STACK_STEP - 0x200, 0x10000};
	struct md_snapshot *s = fake_threads(3);
	uint64_t stack = FAKE_STACK_BASE + FAKE_STACK_STEP; /* thread 4243's stack mapping */
	struct md_crash_info crash = {.tid = 4243, .code = 11, .flags = 1};
	struct dump d;
	md_thread t;

	s->system.processor_architecture = MD_CPU_ARCHITECTURE_ARM64_OLD;
	crash.address = sp[_i];
	crash.context.size = sizeof(md_context_arm64_old);
	crash.context.u.arm64.context_flags = MD_CONTEXT_ARM64_OLD_FULL;
	crash.context.u.arm64.pc = FAKE_PC;
	crash.context.u.arm64.iregs[31] = crash.address;
	s->crash = &crash;
	d = write_dump(s, NULL);
	ck_assert_int_eq(d.r, 0);
	t = dump_thread(&d, 1);
	ck_assert_uint_eq(t.thread_id, 4243);
	ck_assert_uint_eq(t.thread_context.data_size, sizeof(md_context_arm64_old));
	if (_i == 0) {
		ck_assert_uint_eq(t.stack.start_of_memory_range, stack);
		ck_assert_uint_eq(t.stack.memory.data_size, FAKE_STACK_SIZE);
		check_pattern(&d, stack, &t.stack.memory);
	} else {
		ck_assert_uint_eq(t.stack.memory.data_size, 0);
	}
	/* a thread without its stack makes the thread list partial */
	ck_assert_int_eq(stream_status(&d, MD_STREAM_THREAD_LIST),
	                 _i == 0 ? MD_STREAM_OK : MD_STREAM_PARTIAL);
	dump_free(&d);
}
END_TEST

START_TEST(system_misc_and_breakpad_info)
{
	struct dump d = fake_dump(1, NULL);
	const uint8_t *p;
	uint32_t size;
	md_system_info si;
	md_misc_info mi;
	md_breakpad_info bi;
	char csd[128];

	ck_assert_uint_eq(stream_read(&d, MD_STREAM_SYSTEM_INFO, &si, sizeof(si)), 56);
	p = stream(&d, MD_STREAM_SYSTEM_INFO, &size);
	ck_assert_uint_eq(si.processor_architecture, 9);
	ck_assert_uint_eq(si.platform_id, 0x8201);
	ck_assert_uint_eq(si.number_of_processors, 2);
	ck_assert_uint_eq(si.processor_revision, 0x5504);
	ck_assert_mem_eq(p + 0x20, "GenuineIntel", 12);
	utf16_to_ascii(&d, si.csd_version_rva, csd, sizeof(csd));
	ck_assert_str_eq(csd, "Linux 6.1.0 #1 SMP x86_64");
	ck_assert_uint_eq(stream_read(&d, MD_STREAM_MISC_INFO, &mi, sizeof(mi)), 24);
	ck_assert_uint_eq(mi.size_of_info, 24);
	ck_assert_uint_eq(mi.flags1, 3);
	ck_assert_uint_eq(mi.process_id, 4242);
	ck_assert_uint_eq(mi.process_create_time, 1700000000);
	ck_assert_uint_eq(stream_read(&d, MD_STREAM_BREAKPAD_INFO, &bi, sizeof(bi)), 12);
	ck_assert_uint_eq(bi.validity, MD_BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID);
	ck_assert_uint_eq(bi.requesting_thread_id, 4242);
	dump_free(&d);
}
END_TEST

START_TEST(thread_names_and_memory_info)
{
	struct dump d = fake_dump(3, NULL);
	const uint8_t *p = list_entries(&d, MD_STREAM_THREAD_NAMES, 3, 12);
	uint32_t size;
	md_memory_info_list h;

	for (uint32_t i = 0; i < 3; i++) {
		md_thread_name n;
		char name[32], want[32];

		memcpy(&n, p + 12 * i, sizeof(n));
		ck_assert_uint_eq(n.thread_id, 4242 + i);
		utf16_to_ascii(&d, n.thread_name_rva, name, sizeof(name));
		snprintf(want, sizeof(want), "fake-%u", i);
		ck_assert_str_eq(name, want);
	}
	p = stream(&d, MD_STREAM_MEMORY_INFO_LIST, &size);
	memcpy(&h, p, sizeof(h));
	ck_assert_uint_eq(h.size_of_header, 16);
	ck_assert_uint_eq(h.size_of_entry, 48);
	ck_assert_uint_eq(h.number_of_entries, d.s->n_mappings);
	ck_assert_uint_eq(size, 16 + 48 * d.s->n_mappings);
	{
		md_memory_info e;

		memcpy(&e, p + 16, sizeof(e));
		ck_assert_uint_eq(e.base_address, FAKE_EXE_BASE);
		ck_assert_uint_eq(e.region_size, FAKE_EXE_SIZE);
		ck_assert_uint_eq(e.protection, MD_MEMORY_PROTECT_EXECUTE_READ);
		ck_assert_uint_eq(e.state, MD_MEMORY_STATE_COMMIT);
		memcpy(&e, p + 16 + 48 * 2, sizeof(e));
		ck_assert_uint_eq(e.protection, MD_MEMORY_PROTECT_READWRITE);
	}
	dump_free(&d);
}
END_TEST

START_TEST(raw_linux_streams_are_byte_for_byte)
{
	struct dump d = fake_dump(1, NULL);
	const uint8_t *p;
	uint32_t size;

	p = stream(&d, MD_STREAM_LINUX_CMD_LINE, &size);
	ck_assert_uint_eq(size, 12);
	ck_assert_mem_eq(p, "fake\0--flag\0", 12);
	p = stream(&d, MD_STREAM_LINUX_PROC_STATUS, &size);
	ck_assert_uint_eq(size, strlen("Name:\tfake\nPid:\t4242\n"));
	ck_assert_mem_eq(p, "Name:\tfake\nPid:\t4242\n", size);
	p = stream(&d, MD_STREAM_LINUX_AUXV, &size);
	ck_assert_uint_eq(size, 16);
	dump_free(&d);
}
END_TEST

START_TEST(annotations_go_to_crashpad_info)
{
	const char *keys[] = {"version", "channel"}, *values[] = {"1.2.3", "beta"};
	struct md_dump_options o = {
	    .annotation_keys = keys, .annotation_values = values, .n_annotations = 2};
	struct dump d = fake_dump(1, &o);
	uint32_t n;
	md_crashpad_info ci;

	ck_assert_uint_eq(stream_read(&d, MD_STREAM_CRASHPAD_INFO, &ci, sizeof(ci)), 64);
	ck_assert_uint_eq(ci.version, 1);
	ck_assert_uint_eq(ci.simple_annotations.data_size, 4 + 2 * 8);
	memcpy(&n, d.data + ci.simple_annotations.rva, 4);
	ck_assert_uint_eq(n, 2);
	for (uint32_t i = 0; i < n; i++) {
		md_simple_string_dictionary_entry e;
		uint32_t klen, vlen;

		memcpy(&e, d.data + ci.simple_annotations.rva + 4 + 8 * i, sizeof(e));
		memcpy(&klen, d.data + e.key, 4);
		memcpy(&vlen, d.data + e.value, 4);
		ck_assert_uint_eq(klen, strlen(keys[i]));
		ck_assert_mem_eq(d.data + e.key + 4, keys[i], klen + 1);
		ck_assert_mem_eq(d.data + e.value + 4, values[i], vlen + 1);
	}
	dump_free(&d);
}
END_TEST

START_TEST(identifiers_match_breakpad)
{
	const uint8_t id[20] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32,
	                        0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x11, 0x22, 0x33, 0x44};
	char code[2 * MD_BUILD_ID_MAX + 1], debug[34];

	/* the example in docs/minidump-format.md, section 5 */
	md_module_code_id(id, sizeof(id), code, sizeof(code));
	ck_assert_str_eq(code, "0123456789abcdef1032547698badcfe11223344");
	md_module_debug_id(id, sizeof(id), 0, debug, sizeof(debug));
	ck_assert_str_eq(debug, "67452301AB89EFCD1032547698BADCFE0");
	/* shorter ids are zero-padded */
	md_module_debug_id(id, 4, 0, debug, sizeof(debug));
	ck_assert_str_eq(debug, "67452301000000000000000000000000"
	                        "0");
}
END_TEST

CHECK_SUITE_FN(
    streams_suite, "streams",
    CHECK_CASE_PLAIN(
        "fake", CHECK_TEST(directory_has_one_slot_per_table_entry),
        CHECK_TEST(thread_list_contexts_and_stacks), CHECK_TEST(stack_is_capped),
        CHECK_TEST(overflowed_stack_is_kept_from_its_bottom),
        CHECK_TEST(problems_are_reported_not_fatal),
        CHECK_TEST(memory_list_repeats_stacks_and_merges_ip_regions),
        CHECK_TEST(module_list_names_and_build_ids), CHECK_TEST(exception_for_a_live_dump),
        CHECK_TEST(exception_for_a_crash_uses_the_clients_context),
        CHECK_LOOP(overflowed_stack_pointer_takes_the_stack_above_the_guard_gap, 2),
        CHECK_TEST(system_misc_and_breakpad_info), CHECK_TEST(thread_names_and_memory_info),
        CHECK_TEST(raw_linux_streams_are_byte_for_byte),
        CHECK_TEST(annotations_go_to_crashpad_info), CHECK_TEST(identifiers_match_breakpad)));

CHECK_SUITE("streams", streams_suite);
