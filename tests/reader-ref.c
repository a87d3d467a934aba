/* SPDX-License-Identifier: MIT */
/* The reader tests' reference dump and its checks (reader-ref.h). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md-text.h"
#include "reader-ref.h"

/* ---- The reference dump: what was built, so tests can compare and corrupt it ---- */

/* The build id of the format document's example (§5), with the ids it gives. */
const uint8_t build_id[20] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32,
                              0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x11, 0x22, 0x33, 0x44};

const md_guid pdb_guid = {0x11223344, 0x5566, 0x7788, {1, 2, 3, 4, 5, 6, 7, 8}};

void put_count(struct tb *b, uint32_t n, bool pad)
{
	tb_put_u32(b, n);
	if (pad)
		tb_put_u32(b, 0);
}

void build_ref(struct ref *r, const struct ref_opts *o)
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

const struct ref_opts default_opts = {0};

/* An exact-size heap copy, so a read past its end is seen by ASan and valgrind. */
uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, n);
	return c;
}

int open_copy(const struct tb *b, size_t size, uint8_t **ret_copy, struct md_reader **ret,
              struct md_reader_error *err)
{
	*ret_copy = dup_bytes(b->buf, size);
	return md_reader_open_buffer(*ret_copy, size, err, ret);
}

void close_copy(struct md_reader *r, uint8_t *copy)
{
	md_reader_free(r);
	free(copy);
}

void put32(struct tb *b, size_t off, uint32_t v)
{
	memcpy(b->buf + off, &v, sizeof(v));
}

md_directory *dir_entry(struct ref *r, uint32_t type)
{
	for (uint32_t i = 0; i < r->b.n_dir; i++)
		if (r->b.dir[i].stream_type == type)
			return (md_directory *)(r->b.buf + r->dir_rva + i * sizeof(md_directory));
	ck_abort_msg("no stream 0x%x in the reference dump", type);
	return NULL;
}

/* ---- Checking a parsed dump against the reference ---- */

void check_ref(struct md_reader *r, const struct ref_opts *o)
{
	struct reader_views v;
	struct md_reader_context ctx;
	uint8_t stack[16];
	char *text;
	size_t len;

	ck_assert_uint_eq(md_reader_header(r)->time_date_stamp, 1700000000);
	/* every view parses; only MiscInfo is missing when it was left out */
	reader_views_read(r, &v);
	for (int i = 0; i < N_READER_VIEWS; i++)
		ck_assert_msg(v.ret[i] == (i == VIEW_MISC_INFO && o->no_misc ? -ENOENT : 0),
		              "view %d returned %d", i, v.ret[i]);
	const struct md_reader_system_info *si = v.si;
	const struct md_reader_thread_list *tl = v.tl;
	const struct md_reader_module_list *ml = v.ml;
	const struct md_reader_memory_list *mem = v.mem;
	const struct md_reader_memory_info_list *mil = v.mil;
	const struct md_reader_exception *ex = v.ex;
	const struct md_reader_crashpad_info *cpi = v.cpi;

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

	ck_assert_uint_eq(v.tn->count, 2);
	ck_assert_str_eq(md_reader_thread_name(r, T1_TID), "main");
	ck_assert_str_eq(md_reader_thread_name(r, T2_TID), "wörker");
	ck_assert_ptr_null(md_reader_thread_name(r, 7));

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

	ck_assert_uint_eq(mem->count, 2);
	ck_assert_uint_eq(mem->ranges[0].start, T1_STACK);
	ck_assert_uint_eq(mem->ranges[0].size, STACK_BYTES);
	ck_assert_uint_eq(mem->ranges[1].start, T2_STACK);
	ck_assert_int_eq(md_reader_read_memory(r, T1_STACK + 100, stack, sizeof(stack)), 0);
	for (size_t i = 0; i < sizeof(stack); i++)
		ck_assert_uint_eq(stack[i], (uint8_t)((100 + i) * 7 + 3));
	ck_assert_int_eq(md_reader_read_memory(r, T1_STACK + STACK_BYTES - 8, stack, 16), -ENOENT);
	ck_assert_int_eq(md_reader_read_memory(r, UINT64_MAX - 4, stack, 16), -ENOENT);

	ck_assert_uint_eq(mil->count, 2);
	ck_assert_uint_eq(mil->entries[0].base_address, MOD1_BASE);
	ck_assert_uint_eq(mil->entries[0].protection, MD_MEMORY_PROTECT_EXECUTE_READ);
	ck_assert_uint_eq(mil->entries[1].region_size, 0x21000);

	ck_assert_uint_eq(ex->thread_id, T1_TID);
	ck_assert_uint_eq(ex->code, 11);
	ck_assert_uint_eq(ex->flags, 1);
	ck_assert_uint_eq(ex->address, CRASH_ADDR);
	ck_assert_uint_eq(ex->context.rva, tl->threads[0].context.rva);

	if (!o->no_misc) {
		ck_assert(v.misc->has_pid);
		ck_assert_uint_eq(v.misc->pid, PID);
		ck_assert(v.misc->has_times);
		ck_assert_uint_eq(v.misc->create_time, 1699999000);
	}
	ck_assert_uint_eq(v.pid, PID);

	ck_assert_uint_eq(v.bpi->dump_thread_id, 999);
	ck_assert_uint_eq(v.bpi->requesting_thread_id, T1_TID);

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

/* Calls every view; each must succeed or fail with a known error and a message. Returns how
 * many succeeded; ret_codes (may be NULL) receives each view's return value. */
int exercise_codes(struct md_reader *r, int *ret_codes)
{
	struct reader_views v;
	int rets[N_VIEWS], ok = 0;
	uint8_t byte;
	char *text = NULL;
	size_t len;

	reader_views_read(r, &v);
	memcpy(rets, v.ret, sizeof(v.ret));
	rets[N_READER_VIEWS] =
	    md_reader_stream_data(r, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &text, &len);
	free(text);
	md_reader_read_memory(r, T1_STACK, &byte, 1);
	for (size_t i = 0; i < N_VIEWS; i++) {
		if (rets[i] >= 0) {
			ok++;
			continue;
		}
		ck_assert_msg(rets[i] == -EBADMSG || rets[i] == -ENOENT || rets[i] == -E2BIG,
		              "view %zu returned %d", i, rets[i]);
		ck_assert_msg(i == N_READER_VIEWS || v.message[i],
		              "view %zu failed without a message", i);
	}
	/* Lists that parsed hold what their counts say, and every thread name is a string. */
	if (rets[VIEW_THREADS] >= 0)
		for (size_t i = 0; i < v.tl->count; i++)
			(void)md_reader_thread_name(r, v.tl->threads[i].tid);
	if (rets[VIEW_MODULES] >= 0)
		for (size_t i = 0; i < v.ml->count; i++)
			ck_assert_uint_le(strlen(v.ml->modules[i].name), 3 * MD_READER_STRING_MAX);
	if (ret_codes)
		memcpy(ret_codes, rets, sizeof(rets));
	return ok;
}

int exercise(struct md_reader *r)
{
	return exercise_codes(r, NULL);
}

/* Opens the (modified) reference dump, which must open, and returns the reader. */
struct md_reader *open_ok(struct ref *ref, uint8_t **copy)
{
	struct md_reader_error err;
	struct md_reader *r;

	ck_assert_msg(open_copy(&ref->b, ref->b.size, copy, &r, &err) == 0, "%s", err.message);
	return r;
}

void expect_open_fails(struct ref *ref, int err, const char *msg)
{
	struct md_reader_error e;
	struct md_reader *r;
	uint8_t *copy;

	ck_assert_int_eq(open_copy(&ref->b, ref->b.size, &copy, &r, &e), err);
	ck_assert_str_ne(e.message, "");
	if (msg)
		ck_assert_msg(strstr(e.message, msg), "message: %s, expected %s", e.message, msg);
	free(copy);
}

void expect_view_fails(struct ref *ref, enum reader_view view, int err, const char *msg)
{
	struct reader_views v = {0};
	struct md_reader *r;
	uint8_t *copy;

	r = open_ok(ref, &copy);
	ck_assert_int_eq(reader_view(r, view, &v), err);
	ck_assert_str_ne(md_reader_error(r), "");
	if (msg)
		ck_assert_msg(strstr(md_reader_error(r), msg), "view %d: %s, expected %s", view,
		              md_reader_error(r), msg);
	close_copy(r, copy);
}
