/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the minidump reader: opens the input as a dump from memory and walks
 * every view, reading what each one returns so that a view pointing at garbage is noticed by
 * the sanitizers. It must never find a crash, a leak, an over-read or a view that disagrees
 * with itself. Seeds live in tests/corpus/reader/. Build (not wired into meson):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I common -I BUILDDIR \
 *     tests/fuzz-reader.c common/md-reader.c common/md-ids.c -ljansson -o fuzz-reader
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte of a string, so ASan sees a view that points outside its allocation. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A failed call must leave a message, and only with an error this reader documents. */
static void check_ret(struct md_reader *r, int ret)
{
	if (ret >= 0)
		return;
	if (ret != -EBADMSG && ret != -ENOENT && ret != -E2BIG && ret != -ENOMEM)
		abort();
	if (md_reader_error(r)[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	struct md_reader_error err;
	struct md_reader_context ctx;
	struct md_reader *r;
	volatile size_t sink = 0;
	uint8_t buf[64];
	uint32_t pid;
	char *text;
	size_t len;
	int ret;

	ret = md_reader_open_buffer(data, size, &err, &r);
	if (ret < 0) {
		if (err.message[0] == '\0')
			abort();
		return 0;
	}

	for (uint32_t i = 0; i < md_reader_stream_count(r); i++) {
		const md_directory *d = md_reader_stream_entry(r, i);

		sink += d->location.data_size;
		if (d->stream_type != MD_STREAM_UNUSED &&
		    md_reader_stream_data(r, d->stream_type, &text, &len) == 0) {
			if (text[len] != '\0')
				abort();
			free(text);
		}
	}

	ret = md_reader_system_info(r, &si);
	check_ret(r, ret);
	if (ret == 0)
		sink += touch(si->csd) + touch(si->cpu_vendor);

	ret = md_reader_threads(r, &tl);
	check_ret(r, ret);
	if (ret == 0) {
		for (size_t i = 0; i < tl->count; i++) {
			sink +=
			    tl->threads[i].pc + touch(md_reader_thread_name(r, tl->threads[i].tid));
			if (md_reader_context(r, tl->threads[i].context, &ctx) < 0 ||
			    ctx.pc != tl->threads[i].pc)
				abort(); /* it parsed once, it must parse the same again */
			if (tl->threads[i].stack_size > 0 &&
			    md_reader_read(r, tl->threads[i].stack_rva, buf, 1) < 0)
				abort();
		}
	}

	ret = md_reader_thread_names(r, &tn);
	check_ret(r, ret);
	if (ret == 0)
		for (size_t i = 0; i < tn->count; i++)
			sink += touch(tn->names[i].name);

	ret = md_reader_modules(r, &ml);
	check_ret(r, ret);
	if (ret == 0) {
		for (size_t i = 0; i < ml->count; i++) {
			const struct md_reader_module *m = &ml->modules[i];

			sink += touch(m->name) + touch(m->pdb_name) + touch(m->code_id) +
			        touch(m->debug_id);
			if (m->build_id_len > MD_BUILD_ID_MAX)
				abort();
		}
	}

	ret = md_reader_memory_list(r, &mem);
	check_ret(r, ret);
	if (ret == 0) {
		for (size_t i = 0; i < mem->count; i++) {
			size_t n =
			    mem->ranges[i].size < sizeof(buf) ? mem->ranges[i].size : sizeof(buf);

			if (n == 0)
				continue;
			if (md_reader_read_memory(r, mem->ranges[i].start, buf, n) < 0)
				abort(); /* a listed range must be readable */
		}
	}
	check_ret(r, md_reader_read_memory(r, 0x7ffd12345600ull, buf, 8));

	ret = md_reader_memory_info(r, &mil);
	check_ret(r, ret);
	if (ret == 0)
		for (size_t i = 0; i < mil->count; i++)
			sink += mil->entries[i].region_size;

	ret = md_reader_exception(r, &ex);
	check_ret(r, ret);
	if (ret == 0)
		sink += ex->address;

	check_ret(r, md_reader_misc_info(r, &misc));
	check_ret(r, md_reader_breakpad_info(r, &bpi));

	ret = md_reader_crashpad_info(r, &cpi);
	check_ret(r, ret);
	if (ret == 0)
		for (size_t i = 0; i < cpi->n_annotations; i++)
			sink += touch(cpi->annotations[i].key) + touch(cpi->annotations[i].value);

	check_ret(r, md_reader_pid(r, &pid));
	(void)sink;
	md_reader_free(r);
	return 0;
}
