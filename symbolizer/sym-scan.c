/* SPDX-License-Identifier: MIT */
/*
 * The stack scan for Windows minidumps (sym-scan.h). x64 Windows code keeps no frame pointer
 * chain and its unwind data lives in the PE files, which the dump does not carry; what the dump
 * does carry is the thread's stack. Every 8-byte word from the stack pointer up to the end of the
 * captured stack that points into a module past its first page (the PE headers; code starts at
 * RVA 0x1000 or later) is taken as a return address. Stale return addresses left on the stack
 * are found as well: each such frame says found_by "scan", so a reader knows to weigh it. The
 * scan reads only the memory range that holds the stack pointer, through the reader (never
 * outside the dump), and is bounded in words and frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym-scan.h"

#define SCAN_FRAMES_MAX 256        /* frames per thread, as md-symbolize's FRAMES_MAX */
#define SCAN_WORDS_MAX  (1u << 17) /* stack words looked at per thread (1 MiB of stack) */
#define PE_HEADER_SIZE  0x1000     /* bytes of a PE image before its first section */

struct sym_scan {
	struct md_reader *r;
	const struct md_reader_module **by_base; /* modules with a size, sorted by base */
	size_t n;
};

bool sym_scan_wanted(struct md_reader *r)
{
	const struct md_reader_system_info *si;

	return md_reader_system_info(r, &si) == 0 && si->platform_id == MD_OS_WIN32_NT;
}

static int by_base_cmp(const void *a, const void *b)
{
	const struct md_reader_module *x = *(const struct md_reader_module *const *)a;
	const struct md_reader_module *y = *(const struct md_reader_module *const *)b;

	return x->base < y->base ? -1 : x->base > y->base;
}

int sym_scan_new(struct md_reader *r, struct sym_scan **ret_scan)
{
	const struct md_reader_module_list *mods = NULL;
	struct sym_scan *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return -ENOMEM;
	sc->r = r;
	if (md_reader_modules(r, &mods) == 0 && mods->count) {
		sc->by_base = calloc(mods->count, sizeof(*sc->by_base));
		if (!sc->by_base) {
			free(sc);
			return -ENOMEM;
		}
		for (size_t i = 0; i < mods->count; i++)
			if (mods->modules[i].size)
				sc->by_base[sc->n++] = &mods->modules[i];
		qsort(sc->by_base, sc->n, sizeof(*sc->by_base), by_base_cmp);
	}
	*ret_scan = sc;
	return 0;
}

void sym_scan_free(struct sym_scan *sc)
{
	if (!sc)
		return;
	free(sc->by_base);
	free(sc);
}

/* The module holding addr (the last one starting at or below it), or NULL. */
static const struct md_reader_module *module_at(const struct sym_scan *sc, uint64_t addr)
{
	size_t lo = 0, hi = sc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sc->by_base[mid]->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct md_reader_module *m = sc->by_base[lo - 1];
	return addr - m->base < m->size ? m : NULL;
}

/* The file name of a Windows (or POSIX) module path. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/'), *b = strrchr(path, '\\');

	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : path;
}

/* The memory that holds sp: the thread's own stack, else the MemoryList range holding it (a
 * dump may list stacks only there). Returns false when the dump holds no word at sp. */
static bool stack_region(const struct sym_scan *sc, const struct md_reader_thread *t, uint64_t sp,
                         struct md_reader_memory_range *ret)
{
	const struct md_reader_memory_list *list;

	if (t->stack_size >= 8 && sp >= t->stack_start &&
	    sp - t->stack_start <= t->stack_size - 8) {
		*ret = (struct md_reader_memory_range){
		    .start = t->stack_start, .size = t->stack_size, .rva = t->stack_rva};
		return true;
	}
	if (md_reader_memory_list(sc->r, &list) < 0)
		return false;
	for (size_t i = 0; i < list->count; i++) {
		const struct md_reader_memory_range *g = &list->ranges[i];

		if (g->size >= 8 && sp >= g->start && sp - g->start <= g->size - 8) {
			*ret = *g;
			return true;
		}
	}
	return false;
}

static json_t *frame(const struct sym_scan *sc, size_t index, uint64_t pc, const char *found_by)
{
	const struct md_reader_module *m = module_at(sc, pc);
	json_t *f = json_pack("{s:I, s:I, s:s}", "frame", (json_int_t)index, "pc", (json_int_t)pc,
	                      "found_by", found_by);

	if (!f)
		return NULL;
	if (!m) {
		json_object_set_new(f, "missing", json_string("no module maps the address"));
		return f;
	}
	json_object_set_new(f, "module", json_string(base_name(m->name)));
	json_object_set_new(f, "offset", json_integer((json_int_t)(pc - m->base)));
	json_object_set_new(f, "missing", json_string(SYM_SCAN_MISSING));
	return f;
}

json_t *sym_scan_thread(struct sym_scan *sc, const struct md_reader_thread *t, md_location ctx,
                        const char **ret_err)
{
	struct md_reader_context c;
	struct md_reader_memory_range g;
	json_t *frames;
	uint64_t sp;

	*ret_err = NULL;
	if (md_reader_context(sc->r, ctx, &c) < 0) {
		*ret_err = md_reader_error(sc->r);
		return NULL;
	}
	if (c.cpu != MD_READER_CPU_AMD64) {
		*ret_err = c.cpu == MD_READER_CPU_NONE ? "the thread has no context"
		                                       : "only x86_64 threads are unwound";
		return NULL;
	}
	frames = json_array();
	if (!frames || json_array_append_new(frames, frame(sc, 0, c.pc, "context")) < 0) {
		json_decref(frames);
		*ret_err = "out of memory";
		return NULL;
	}
	/* the return address of frame 0 is at its stack pointer or above; words are 8-aligned */
	sp = (c.sp + 7) & ~(uint64_t)7;
	if (sp < c.sp || !stack_region(sc, t, sp, &g))
		return frames; /* no stack in the dump: frame 0 only */
	for (uint64_t off = sp - g.start, i = 0;
	     off + 8 <= g.size && i < SCAN_WORDS_MAX && json_array_size(frames) < SCAN_FRAMES_MAX;
	     off += 8, i++) {
		const struct md_reader_module *m;
		uint64_t v;

		if (md_reader_read(sc->r, (uint64_t)g.rva + off, &v, 8) < 0)
			break;
		m = module_at(sc, v);
		if (!m || v - m->base < PE_HEADER_SIZE)
			continue;
		if (json_array_append_new(frames, frame(sc, json_array_size(frames), v, "scan")) <
		    0)
			break;
	}
	return frames;
}
