/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the core-stream parser (platform/linux/linux-core-notes.c): the input is
 * an ELF core stream, delivered in pieces whose sizes the input's first byte chooses (as a
 * socket delivers it), parsed, and every kept value read back: each thread's registers through
 * the arch conversion, the auxv, every NT_FILE entry's path. It must never find a crash, a leak,
 * an over-read, an answer outside the documented errors, or a refusal without a reason. Seeds
 * (heads of real cores, tests/fuzz/make-core-seeds) live in tests/corpus/core/. Build (not wired
 * into meson): see tests/fuzz/run-fuzzers.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linux-core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	const uint8_t *data;
	size_t size, at, piece;
};

static long feed_read(void *ctx, void *buf, size_t len)
{
	struct feed *f = ctx;
	size_t n = f->size - f->at;

	if (n > len)
		n = len;
	if (f->piece && n > f->piece)
		n = f->piece;
	memcpy(buf, f->data + f->at, n);
	f->at += n;
	return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f = {.data = data, .size = size};
	struct md_core c;
	volatile size_t sink = 0;
	int r;

	/* the first byte picks the piece size when it is not the ELF magic's */
	if (size && data[0] != ELFMAG0) {
		f.piece = data[0];
		f.data++;
		f.size--;
	}
	r = md_core_parse(feed_read, &f, &c);
	if (r < 0) {
		if (r != -EBADMSG && r != -E2BIG && r != -EPIPE && r != -ENOMEM)
			abort();
		if (!c.error[0] || c.threads || c.loads || c.auxv || c.files)
			abort();
		return 0;
	}
	if (!c.n_threads || c.consumed > f.size)
		abort();
	for (size_t i = 0; i < c.n_threads; i++) {
		struct md_context ctx;
		uint64_t sp, pc;

		if (md_linux_arch_core_context(&c.threads[i], &ctx, &sp, &pc) == 0)
			sink += (size_t)(sp ^ pc) + ctx.size;
	}
	for (size_t i = 0; i < c.n_loads; i++) {
		if (c.loads[i].vaddr + c.loads[i].memsz < c.loads[i].vaddr ||
		    c.loads[i].filesz > c.loads[i].memsz ||
		    (i && c.loads[i].vaddr < c.loads[i - 1].vaddr + c.loads[i - 1].memsz))
			abort();
	}
	for (size_t i = 0; i < c.n_files; i++) {
		if (c.files[i].start >= c.files[i].end)
			abort();
		sink += strlen(c.files[i].path);
	}
	sink += (size_t)md_core_auxv(&c, AT_ENTRY);
	(void)sink;
	md_core_done(&c);
	return 0;
}
