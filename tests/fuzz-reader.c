/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the minidump reader: opens the input as a dump from memory and walks
 * every view, reading what each one returns so that a view pointing at garbage is noticed by
 * the sanitizers. It must never find a crash, a leak, an over-read or a view that disagrees
 * with itself. Seeds live in tests/corpus/reader/. Build (not wired into meson):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I common -I BUILDDIR \
 *     tests/fuzz-reader.c tests/reader-views.c common/md-reader.c common/md-ids.c -ljansson \
 *     -o fuzz-reader
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md-reader.h"
#include "reader-views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every byte of a string, so ASan sees a view that points outside its allocation. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A failed call must fail only with an error this reader documents, and leave a message. */
static void check_ret(int ret, bool message)
{
	if (ret >= 0)
		return;
	if (ret != -EBADMSG && ret != -ENOENT && ret != -E2BIG && ret != -ENOMEM)
		abort();
	if (!message)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_reader_error err;
	struct md_reader_context ctx;
	struct reader_views v;
	struct md_reader *r;
	volatile size_t sink = 0;
	uint8_t buf[64];
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

	reader_views_read(r, &v);
	for (int i = 0; i < N_READER_VIEWS; i++)
		check_ret(v.ret[i], v.message[i]);

	if (v.ret[VIEW_SYSTEM_INFO] == 0)
		sink += touch(v.si->csd) + touch(v.si->cpu_vendor);

	if (v.ret[VIEW_THREADS] == 0) {
		for (size_t i = 0; i < v.tl->count; i++) {
			const struct md_reader_thread *t = &v.tl->threads[i];

			sink += t->pc + touch(md_reader_thread_name(r, t->tid));
			if (md_reader_context(r, t->context, &ctx) < 0 || ctx.pc != t->pc)
				abort(); /* it parsed once, it must parse the same again */
			if (t->stack_size > 0 && md_reader_read(r, t->stack_rva, buf, 1) < 0)
				abort();
		}
	}

	if (v.ret[VIEW_THREAD_NAMES] == 0)
		for (size_t i = 0; i < v.tn->count; i++)
			sink += touch(v.tn->names[i].name);

	if (v.ret[VIEW_MODULES] == 0) {
		for (size_t i = 0; i < v.ml->count; i++) {
			const struct md_reader_module *m = &v.ml->modules[i];

			sink += touch(m->name) + touch(m->pdb_name) + touch(m->code_id) +
			        touch(m->debug_id);
			if (m->build_id_len > MD_BUILD_ID_MAX)
				abort();
		}
	}

	if (v.ret[VIEW_MEMORY_LIST] == 0) {
		for (size_t i = 0; i < v.mem->count; i++) {
			size_t n = v.mem->ranges[i].size < sizeof(buf) ? v.mem->ranges[i].size
			                                               : sizeof(buf);

			if (n == 0)
				continue;
			if (md_reader_read_memory(r, v.mem->ranges[i].start, buf, n) < 0)
				abort(); /* a listed range must be readable */
		}
	}
	ret = md_reader_read_memory(r, 0x7ffd12345600ull, buf, 8);
	check_ret(ret, md_reader_error(r)[0] != '\0');

	if (v.ret[VIEW_MEMORY_INFO] == 0)
		for (size_t i = 0; i < v.mil->count; i++)
			sink += v.mil->entries[i].region_size;

	if (v.ret[VIEW_EXCEPTION] == 0)
		sink += v.ex->address;

	if (v.ret[VIEW_CRASHPAD_INFO] == 0)
		for (size_t i = 0; i < v.cpi->n_annotations; i++)
			sink +=
			    touch(v.cpi->annotations[i].key) + touch(v.cpi->annotations[i].value);

	(void)sink;
	md_reader_free(r);
	return 0;
}
