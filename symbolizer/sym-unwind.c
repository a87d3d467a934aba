/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's unwinder: libdwfl walks a thread (dwfl_attach_state with callbacks reading
 * registers and memory from the dump): CFI from .eh_frame/.debug_frame, else its frame-pointer
 * fallback. Where it stops, a stack scan looks for a return address into a known function and
 * libdwfl goes on from there; such frames say found_by "scan". A frame is labelled with how the
 * unwinder got it from the frame below: "cfi" when that frame's pc had CFI, else "fp"; frame 0
 * is "context". Only x86_64 threads are unwound. Everything read comes from the dump, which is
 * hostile: every recovered frame is checked before it is believed.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym.h"

#define FRAMES_MAX    256 /* frames walked per thread */
#define SCAN_WORDS    64  /* 8-byte stack words a scan looks at for a return address */
#define SCANS_MAX     32  /* scans per thread (each gives one frame) */
#define DWARF_REG_RSP 7
#define DWARF_REG_RBP 6
#define DWARF_REG_RIP 16

/* The walk of one thread, across the libdwfl walks a scan restarts. */
struct sym_walk {
	struct sym *sym;
	uint32_t tid;
	/* the registers the next dwfl_getthread_frames() starts from */
	Dwarf_Word regs[17];
	bool full_regs;             /* regs[0..16] all known (frame 0); else only rsp, rbp, rip */
	enum sym_found_by first_by; /* how the first frame of the next walk was found */
	json_t *frames;
	uint64_t last_pc, last_sp, last_bp;
	bool last_activation;
	enum sym_found_by next_by;
	bool stop; /* a frame failed a sanity check: no scan after it */
};

/* ---- Memory of the dump ---- */

static int range_cmp(const void *a, const void *b)
{
	const struct sym_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int sym_memory_load(struct sym *s)
{
	const struct md_reader_memory_list *mem = NULL;

	if (md_reader_memory_list(s->r, &mem) != 0)
		return 0;
	s->ranges = calloc(mem->count ? mem->count : 1, sizeof(*s->ranges));
	if (!s->ranges)
		return -ENOMEM;
	for (size_t i = 0; i < mem->count; i++) {
		const struct md_reader_memory_range *g = &mem->ranges[i];

		/* the reader checked the range lies in the file */
		if ((uint64_t)g->rva + g->size > s->map_size)
			continue;
		s->ranges[s->n_ranges++] =
		    (struct sym_range){.start = g->start, .size = g->size, .rva = g->rva};
	}
	qsort(s->ranges, s->n_ranges, sizeof(*s->ranges), range_cmp);
	return 0;
}

/* bsearch: where the range elem lies from the address key. */
static int range_holds(const void *key, const void *elem)
{
	uint64_t addr = *(const uint64_t *)key;
	const struct sym_range *g = elem;

	if (addr < g->start)
		return -1;
	return addr - g->start < g->size ? 0 : 1;
}

bool sym_memory_read(const struct sym *s, uint64_t addr, uint64_t *ret)
{
	const struct sym_range *g;

	if (!s->n_ranges)
		return false; /* ranges may be NULL, which bsearch must not get */
	g = bsearch(&addr, s->ranges, s->n_ranges, sizeof(*s->ranges), range_holds);
	if (!g || g->size - (addr - g->start) < 8)
		return false;
	memcpy(ret, s->map + g->rva + (addr - g->start), 8);
	return true;
}

/* ---- Thread state callbacks ---- */

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	/* only dwfl_getthread_frames() is used, through cb_get_thread */
	(void)dwfl;
	(void)arg;
	(void)thread_argp;
	return 0;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct sym *s = arg;

	(void)dwfl;
	if (!s->walk || (pid_t)s->walk->tid != tid)
		return false;
	*thread_argp = s->walk;
	return true;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	uint64_t v;

	(void)dwfl;
	if (!sym_memory_read(arg, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct sym_walk *w = arg;

	if (w->full_regs)
		return dwfl_thread_state_registers(thread, 0, 17, w->regs);
	return dwfl_thread_state_registers(thread, DWARF_REG_RBP, 2, &w->regs[DWARF_REG_RBP]) &&
	       dwfl_thread_state_registers(thread, DWARF_REG_RIP, 1, &w->regs[DWARF_REG_RIP]);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = cb_next_thread,
    .get_thread = cb_get_thread,
    .memory_read = cb_memory_read,
    .set_initial_registers = cb_set_initial_registers,
};

int sym_unwind_attach(struct sym *s)
{
	/* libdwfl takes the architecture from an ELF header; the dump's is x86_64 (the only CPU
	 * unwound), so hand it one made up rather than any module's */
	static Elf64_Ehdr ehdr = {
	    .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT},
	    .e_type = ET_CORE,
	    .e_machine = EM_X86_64,
	    .e_version = EV_CURRENT,
	    .e_ehsize = sizeof(Elf64_Ehdr),
	};

	elf_version(EV_CURRENT);
	s->arch_elf = elf_memory((char *)&ehdr, sizeof(ehdr));
	if (!s->arch_elf || !dwfl_attach_state(s->dwfl, s->arch_elf, 1, &thread_callbacks, s))
		return -EIO;
	return 0;
}

/* ---- Frames ---- */

/* Whether libdwfl has CFI for addr (the pc of a frame, minus one for a caller). */
static bool has_cfi(const struct sym *s, uint64_t addr)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	struct sym_module *m = sym_module_at(s, addr);
	int tries =
	    m && sym_module_use_dwarf(s, m) ? 2 : 1; /* .debug_frame costs the whole DWARF */
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;
	Dwarf_Frame *frame;

	if (!mod)
		return false;
	for (int i = 0; i < tries; i++) {
		cfi = i == 0 ? dwfl_module_eh_cfi(mod, &bias) : dwfl_module_dwarf_cfi(mod, &bias);
		if (cfi && dwarf_cfi_addrframe(cfi, addr - bias, &frame) == 0) {
			free(frame);
			return true;
		}
	}
	return false;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct sym_walk *w = arg;
	struct sym *s = w->sym;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0, bp = 0;
	bool activation = false;
	size_t n = json_array_size(w->frames);
	enum sym_found_by by;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (dwfl_frame_reg(state, DWARF_REG_RSP, &sp) != 0)
		sp = 0;
	if (dwfl_frame_reg(state, DWARF_REG_RBP, &bp) != 0)
		bp = 0;
	by = w->next_by;
	if (by != SYM_FOUND_CONTEXT && by != SYM_FOUND_SCAN) {
		/* frames the unwinder recovered must make sense: a caller lives in a module and
		 * higher up the stack */
		if (pc == 0 || !sym_module_at(s, pc - 1) ||
		    (sp && w->last_sp && sp <= w->last_sp)) {
			w->stop = pc == 0;
			return DWARF_CB_ABORT;
		}
	}
	if (n >= FRAMES_MAX)
		return DWARF_CB_ABORT;
	/* frame 0 of a thread is the context, not a return address */
	json_array_append_new(w->frames,
	                      sym_frame_describe(s, n, pc, n == 0 ? true : activation, by));
	w->last_pc = pc;
	w->last_sp = sp;
	w->last_bp = bp;
	w->last_activation = n == 0 ? true : activation;
	w->next_by = has_cfi(s, w->last_activation ? pc : pc - 1) ? SYM_FOUND_CFI : SYM_FOUND_FP;
	return DWARF_CB_OK;
}

/* Looks up the stack from w->last_sp for a word that points into a known function. Returns
 * whether one was found, with the next walk's registers set. */
static bool scan(const struct sym *s, struct sym_walk *w, uint64_t from)
{
	for (int i = 0; i < SCAN_WORDS; i++) {
		uint64_t slot = from + 8 * (uint64_t)i, v;
		struct sym_module *m;
		uint64_t start;

		if (!sym_memory_read(s, slot, &v))
			return false;
		m = v ? sym_module_at(s, v - 1) : NULL;
		if (!m)
			continue;
		/* with symbols, only an address inside a function counts; without (a Windows or
		 * unmatched module), any address inside the module, labelled scan */
		if (m->has_elf &&
		    (!m->dwfl_mod || !sym_function_at(m->dwfl_mod, v - 1, false, &start)))
			continue;
		if (!m->has_elf && m->dwfl_mod && m->md->build_id_len && !m->missing[0])
			continue;
		w->regs[DWARF_REG_RIP] = v;
		w->regs[DWARF_REG_RSP] = slot + 8;
		w->regs[DWARF_REG_RBP] = w->last_bp;
		w->full_regs = false;
		return true;
	}
	return false;
}

json_t *sym_unwind_thread(struct sym *s, const struct md_reader_thread *t, const char **ret_err)
{
	struct md_reader_context ctx;
	struct sym_walk w = {.sym = s, .tid = t->tid};
	int scans = 0;

	*ret_err = NULL;
	if (md_reader_context(s->r, t->context, &ctx) < 0) {
		*ret_err = md_reader_error(s->r);
		return NULL;
	}
	if (ctx.cpu != MD_READER_CPU_AMD64) {
		*ret_err = ctx.cpu == MD_READER_CPU_NONE ? "the thread has no context"
		                                         : "only x86_64 threads are unwound";
		return NULL;
	}
	const md_context_amd64 *c = &ctx.u.amd64;
	Dwarf_Word regs[17] = {c->rax, c->rdx, c->rcx, c->rbx, c->rsi, c->rdi,
	                       c->rbp, c->rsp, c->r8,  c->r9,  c->r10, c->r11,
	                       c->r12, c->r13, c->r14, c->r15, c->rip};
	memcpy(w.regs, regs, sizeof(regs));
	w.full_regs = true;
	w.first_by = SYM_FOUND_CONTEXT;
	w.frames = json_array();
	s->walk = &w;
	for (;;) {
		size_t before = json_array_size(w.frames);
		uint64_t prev_sp = w.last_sp;

		w.next_by = w.first_by;
		w.last_sp = before ? w.last_sp : 0;
		/* 0: the unwinder reached the outermost frame (CFI says the return address is
		 * undefined, as in _start and clone3): nothing left to scan for */
		if (dwfl_getthread_frames(s->dwfl, (pid_t)t->tid, frame_cb, &w) == 0)
			break;
		if (json_array_size(w.frames) == before && before > 0)
			break; /* libdwfl could not even start from the scanned frame */
		if (w.stop || json_array_size(w.frames) >= FRAMES_MAX || ++scans > SCANS_MAX)
			break;
		/* scan from just above the last frame's own slot (for frame 0, from its sp) */
		if (!w.last_sp || (before && w.last_sp <= prev_sp))
			break;
		if (!scan(s, &w, w.last_sp))
			break;
		w.first_by = SYM_FOUND_SCAN;
		if (w.regs[DWARF_REG_RIP] == w.last_pc && w.regs[DWARF_REG_RSP] <= w.last_sp)
			break;
	}
	s->walk = NULL;
	return w.frames;
}
