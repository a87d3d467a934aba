/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize: unwinds every thread of a minidump and names its frames, with elfutils. It is
 * the only program of minidumpd that parses ELF and DWARF, and it treats them (and the dump) as
 * hostile: it runs sandboxed (daemon/md-sandbox.c starts it as an unprivileged user with
 * rlimits and namespaces; it locks itself in with seccomp, sym-seccomp.c, before it reads any
 * input), it opens no file itself, and it answers one JSON document on stdout. It must never be
 * run with privileges and never be linked into the daemon. Under systemd it is instead an
 * instance of minidumpd-symbolize@.service (--request-on-stdin): the unit is its sandbox, and
 * the daemon's request on the connection (sym-request.c) brings the arguments and descriptors
 * that exec brings otherwise.
 *
 * Inputs are already-open read-only file descriptors: the dump (--dump-fd) and, per module of
 * the dump's module list, the file found at its path and the separate debug file
 * (/usr/lib/debug/.build-id/xx/rest.debug) the caller found for its build id
 * (--module INDEX:FD:DEBUGFD, -1 for none). A file is used only when its GNU build id equals
 * the one the dump recorded. With --debuginfod, libdebuginfod ($DEBUGINFOD_URLS) is asked for
 * what is still missing.
 *
 * Unwinding is libdwfl's (dwfl_attach_state with callbacks reading registers and memory from the
 * dump): CFI from .eh_frame/.debug_frame, else its frame-pointer fallback. Where it stops, a
 * stack scan looks for a return address into a known function and libdwfl goes on from there;
 * such frames say found_by "scan". A frame is labelled with how the unwinder got it from the
 * frame below: "cfi" when that frame's pc had CFI, else "fp"; frame 0 is "context". Windows
 * dumps have nothing libdwfl can unwind: their threads get frame 0 and a stack scan (sym-scan.c).
 */
#include <elfutils/debuginfod.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <elfutils/version.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "md-reader.h"
#include "sym-request.h"
#include "sym-scan.h"
#include "sym-seccomp.h"

#define FRAMES_MAX        256  /* frames walked per thread */
#define SCAN_WORDS        64   /* 8-byte stack words a scan looks at for a return address */
#define SCANS_MAX         32   /* scans per thread (each gives one frame) */
#define MODULES_MAX       4096 /* modules reported to libdwfl; the rest are named only */
#define BUDGET_MS_DEFAULT 5000 /* ms after which no further thread is walked */
#define DWARF_MAX_DEFAULT                                                                          \
	(1u << 20) /* bytes of DWARF on disk read for file:line (libc6-dbg's                       \
	            * 3.8 MiB of compressed DWARF take 60 ms to inflate) */
#define DWARF_REG_RSP 7
#define DWARF_REG_RBP 6
#define DWARF_REG_RIP 16

enum found_by { FOUND_CONTEXT, FOUND_CFI, FOUND_FP, FOUND_SCAN };
static const char *const found_by_names[] = {"context", "cfi", "fp", "scan"};

struct module {
	const struct md_reader_module *md;
	int fd;       /* the file at the module's path, or -1 */
	int debug_fd; /* the separate debug file found by build id, or -1 */
	Dwfl_Module *dwfl_mod;
	bool has_elf;         /* libdwfl loaded an ELF whose build id matched */
	uint64_t dwarf_bytes; /* .debug_* bytes on disk in its file or debug file */
	const char *source;   /* where the ELF came from: "file", "debug-file", "debuginfod" */
	char missing[320];    /* why there is no (or only a partial) symbol source; "" if none */
};

struct range {
	uint64_t start;
	uint64_t size;
	uint64_t rva;
};

struct walk {
	uint32_t tid;
	/* the registers the next dwfl_getthread_frames() starts from */
	Dwarf_Word regs[17];
	bool full_regs;         /* regs[0..16] all known (frame 0); else only rsp, rbp, rip */
	enum found_by first_by; /* how the first frame of the next walk was found */
	json_t *frames;
	uint64_t last_pc, last_sp, last_bp;
	bool last_activation;
	enum found_by next_by;
	bool stop; /* a frame failed a sanity check: no scan after it */
};

struct sym {
	struct md_reader *r;
	const uint8_t *map; /* the dump, mapped read-only */
	size_t map_size;
	struct range *ranges; /* MemoryList, sorted by start */
	size_t n_ranges;
	struct module *modules; /* in dump order */
	size_t n_modules;
	struct module **by_base; /* sorted by base, for address lookup */
	Dwfl *dwfl;
	bool debuginfod;
	debuginfod_client *dclient;
	uint64_t dwarf_max; /* modules with more DWARF get names from symbols, no file:line */
	struct walk *walk;  /* the walk in progress */
	const struct md_reader_thread_list *threads;
	Elf *arch_elf; /* the ELF header that tells libdwfl the architecture */
};

static struct sym *g_sym; /* the libdwfl find callbacks have no argument of ours */

/* Function lookups by address, cached: libdwfl searches a symbol table linearly, and the
 * threads of a process share most of their return addresses. */
#define NAME_CACHE_SIZE 8192 /* entries; a power of two */
struct name_entry {
	uint64_t addr;    /* lookup address + 1 (0: empty slot); bit 63 marks a DWARF lookup */
	const char *name; /* owned by libdwfl/libdw; NULL: no function there */
	uint64_t start;
};
static struct name_entry name_cache[NAME_CACHE_SIZE];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The file name of a module path, Linux or Windows ("C:\\windows\\system32\\ntdll.dll"). */
static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL, *b = path ? strrchr(path, '\\') : NULL;

	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : (path ? path : "");
}

static void hex(const uint8_t *b, size_t n, char *out, size_t out_size)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < out_size; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * i] = 0;
}

/* ---- Memory of the dump ---- */

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool mem_read(struct sym *s, uint64_t addr, uint64_t *ret)
{
	size_t lo = 0, hi = s->n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ranges[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo - 1 is the last range starting at or below addr */
	if (lo == 0)
		return false;
	const struct range *g = &s->ranges[lo - 1];
	if (addr - g->start > g->size || g->size - (addr - g->start) < 8)
		return false;
	memcpy(ret, s->map + g->rva + (addr - g->start), 8);
	return true;
}

/* ---- Modules ---- */

static struct module *module_at(struct sym *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_modules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->by_base[mid]->md->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct module *m = s->by_base[lo - 1];
	return addr - m->md->base < m->md->size ? m : NULL;
}

static int module_cmp(const void *a, const void *b)
{
	const struct module *x = *(struct module *const *)a, *y = *(struct module *const *)b;

	return x->md->base < y->md->base ? -1 : x->md->base > y->md->base;
}

/* Whether the ELF in fd has the GNU build id the dump recorded for m. Sets m->missing when not. */
static bool build_id_matches(struct module *m, int fd, const char *what)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *bits = NULL;
	char have[2 * MD_BUILD_ID_MAX + 1];
	ssize_t n;
	bool ok = false;

	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(m->missing, sizeof(m->missing), "%s is not an ELF file", what);
		goto out;
	}
	n = dwelf_elf_gnu_build_id(elf, &bits);
	if (n <= 0) {
		snprintf(m->missing, sizeof(m->missing), "%s has no build id", what);
		goto out;
	}
	if (m->md->build_id_len == 0) {
		snprintf(m->missing, sizeof(m->missing), "the dump has no build id for the module");
		goto out;
	}
	if ((size_t)n != m->md->build_id_len || memcmp(bits, m->md->build_id, (size_t)n) != 0) {
		hex(bits, (size_t)n, have, sizeof(have));
		snprintf(m->missing, sizeof(m->missing),
		         "build id mismatch: %s has %s, the dump %s", what, have, m->md->code_id);
		goto out;
	}
	ok = true;
out:
	if (elf)
		elf_end(elf);
	return ok;
}

/* Bytes of .debug_* sections in the ELF file in fd, as stored (compressed or not). */
static uint64_t dwarf_size(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t n = 0;

	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (name && strncmp(name, ".debug_", 7) == 0)
				n += sh.sh_size;
		}
	}
	if (elf)
		elf_end(elf);
	return n;
}

static bool use_dwarf(const struct sym *s, const struct module *m)
{
	return s->dwarf_max == 0 || m->dwarf_bytes <= s->dwarf_max;
}

/* libdwfl's find_elf: the module's own file, else its debug file, else debuginfod's. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                    char **file_name, Elf **elfp)
{
	struct module *m = *userdata;
	char saved[sizeof(m->missing)] = "";
	int fd = -1;

	(void)mod;
	(void)modname;
	(void)base;
	*elfp = NULL;
	if (!m)
		return -1;
	if (m->fd >= 0 && build_id_matches(m, m->fd, "the module's file")) {
		fd = dup(m->fd);
		m->source = "file";
	} else {
		if (m->fd < 0)
			snprintf(m->missing, sizeof(m->missing), "no file at the module's path");
		memcpy(saved, m->missing, sizeof(saved));
		if (m->debug_fd >= 0 && build_id_matches(m, m->debug_fd, "the debug file")) {
			fd = dup(m->debug_fd);
			m->source = "debug-file";
		} else if (g_sym->dclient && m->md->build_id_len) {
			char *path = NULL;
			int dfd = debuginfod_find_debuginfo(g_sym->dclient, m->md->build_id,
			                                    (int)m->md->build_id_len, &path);
			free(path);
			if (dfd >= 0 && build_id_matches(m, dfd, "debuginfod's file")) {
				fd = dfd;
				m->source = "debuginfod";
			} else if (dfd >= 0) {
				close(dfd);
			}
		}
		/* the first reason is the one that matters: the module's own file */
		if (fd >= 0) {
			snprintf(m->missing, sizeof(m->missing), "%s; symbols from %s", saved,
			         m->source);
		} else {
			memcpy(m->missing, saved, sizeof(saved));
		}
	}
	if (fd < 0)
		return -1;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!*elfp) {
		close(fd);
		return -1;
	}
	m->has_elf = true;
	m->dwarf_bytes = dwarf_size(fd);
	return fd;
}

/* libdwfl's find_debuginfo: the separate debug file found by build id, else debuginfod's. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct module *m = *userdata;
	char saved[sizeof(m->missing)];

	(void)mod;
	(void)modname;
	(void)base;
	(void)file_name;
	(void)debuglink_file;
	(void)debuglink_crc;
	if (!m || !m->source || strcmp(m->source, "file") != 0)
		return -1;
	memcpy(saved, m->missing, sizeof(saved));
	if (m->debug_fd >= 0 && build_id_matches(m, m->debug_fd, "the debug file")) {
		uint64_t n = dwarf_size(m->debug_fd);

		if (n > m->dwarf_bytes)
			m->dwarf_bytes = n;
		m->missing[0] = 0;
		return dup(m->debug_fd);
	}
	if (g_sym->dclient && m->md->build_id_len) {
		char *path = NULL;
		int dfd = debuginfod_find_debuginfo(g_sym->dclient, m->md->build_id,
		                                    (int)m->md->build_id_len, &path);
		free(path);
		if (dfd >= 0 && build_id_matches(m, dfd, "debuginfod's file")) {
			uint64_t n = dwarf_size(dfd);

			if (n > m->dwarf_bytes)
				m->dwarf_bytes = n;
			m->missing[0] = 0;
			return dfd;
		}
		if (dfd >= 0)
			close(dfd);
	}
	memcpy(m->missing, saved, sizeof(saved));
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

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
	if (!mem_read(arg, addr, &v))
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct walk *w = arg;

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

/* ---- Frames ---- */

/* Whether libdwfl has CFI for addr (the pc of a frame, minus one for a caller). */
static bool has_cfi(struct sym *s, uint64_t addr)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	struct module *m = module_at(s, addr);
	int tries = m && use_dwarf(s, m) ? 2 : 1; /* .debug_frame costs the whole DWARF */
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

/* The outermost function holding addr, from DWARF (as dump_syms names functions), else from the
 * symbol table. Returns its name (owned by libdw) and start, or NULL. */
static const char *function_lookup(Dwfl_Module *mod, uint64_t addr, bool dwarf,
                                   uint64_t *ret_start);

static const char *function_at(Dwfl_Module *mod, uint64_t addr, bool dwarf, uint64_t *ret_start)
{
	uint64_t key = (addr + 1) ^ (dwarf ? 1ull << 63 : 0);
	struct name_entry *e = &name_cache[(key * 0x9e3779b97f4a7c15ull) >> 51];
	const char *name;

	if (e->addr == key) {
		*ret_start = e->start;
		return e->name;
	}
	name = function_lookup(mod, addr, dwarf, ret_start);
	e->addr = key;
	e->name = name;
	e->start = name ? *ret_start : 0;
	return name;
}

static const char *function_lookup(Dwfl_Module *mod, uint64_t addr, bool dwarf, uint64_t *ret_start)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu;
	GElf_Off off;
	GElf_Sym sym;
	const char *name;

	/* the symbol table first: it also makes libdwfl find the debug file (and its size) */
	name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	if (name && GELF_ST_TYPE(sym.st_info) != STT_FUNC)
		name = NULL;
	cu = dwarf ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
	if (cu) {
		Dwarf_Die *scopes = NULL;
		int n = dwarf_getscopes(cu, addr - bias, &scopes);

		for (int i = n - 1; i >= 0; i--) {
			Dwarf_Attribute attr;
			Dwarf_Addr low;

			if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram)
				continue;
			name =
			    dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr));
			if (name && dwarf_lowpc(&scopes[i], &low) == 0) {
				*ret_start = low + bias;
				free(scopes);
				return name;
			}
			if (name) {
				/* non-contiguous: the entry pc names the start */
				if (dwarf_entrypc(&scopes[i], &low) == 0) {
					*ret_start = low + bias;
					free(scopes);
					return name;
				}
			}
			break;
		}
		free(scopes);
	}
	if (name)
		*ret_start = addr - off;
	return name;
}

static json_t *describe_frame(struct sym *s, size_t index, uint64_t pc, bool activation,
                              enum found_by by)
{
	/* a caller's pc is a return address: look up the call instruction before it */
	uint64_t lookup = activation || pc == 0 ? pc : pc - 1;
	struct module *m = module_at(s, lookup);
	json_t *f = json_pack("{s:I, s:I, s:s}", "frame", (json_int_t)index, "pc", (json_int_t)pc,
	                      "found_by", found_by_names[by]);
	uint64_t start;
	const char *name = NULL;

	if (!m) {
		json_object_set_new(f, "missing", json_string("no module maps the address"));
		return f;
	}
	json_object_set_new(f, "module", json_string(base_name(m->md->name)));
	json_object_set_new(f, "offset", json_integer((json_int_t)(pc - m->md->base)));
	if (m->has_elf && m->dwfl_mod)
		name = function_at(m->dwfl_mod, lookup, false, &start);
	/* with the symbol table read, the debug file's size is known */
	if (name && use_dwarf(s, m))
		name = function_at(m->dwfl_mod, lookup, true, &start);
	if (name && !use_dwarf(s, m) && !m->missing[0])
		snprintf(m->missing, sizeof(m->missing),
		         "file:line not read: %llu KiB of DWARF, over --dwarf-max-kib",
		         (unsigned long long)(m->dwarf_bytes >> 10));
	if (name) {
		/* symbol versions (__libc_start_main@@GLIBC_2.34) are not part of the name */
		const char *at = strchr(name, '@');

		json_object_set_new(f, "function",
		                    json_stringn(name, at ? (size_t)(at - name) : strlen(name)));
		json_object_set_new(f, "function_offset", json_integer((json_int_t)(pc - start)));
	}
	if (name && use_dwarf(s, m)) {
		Dwfl_Line *line = dwfl_module_getsrc(m->dwfl_mod, lookup);

		if (line) {
			int lineno = 0;
			const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);

			if (file && lineno > 0) {
				json_object_set_new(f, "file", json_string(file));
				json_object_set_new(f, "line", json_integer(lineno));
			}
		}
	}
	if (m->missing[0] && !name)
		json_object_set_new(f, "missing", json_string(m->missing));
	else if (!name)
		json_object_set_new(f, "missing", json_string("no symbol covers the address"));
	return f;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct sym *s = g_sym;
	struct walk *w = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0, bp = 0;
	bool activation = false;
	size_t n = json_array_size(w->frames);
	enum found_by by;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (dwfl_frame_reg(state, DWARF_REG_RSP, &sp) != 0)
		sp = 0;
	if (dwfl_frame_reg(state, DWARF_REG_RBP, &bp) != 0)
		bp = 0;
	by = w->next_by;
	if (by != FOUND_CONTEXT && by != FOUND_SCAN) {
		/* frames the unwinder recovered must make sense: a caller lives in a module and
		 * higher up the stack */
		if (pc == 0 || !module_at(s, pc - 1) || (sp && w->last_sp && sp <= w->last_sp)) {
			w->stop = pc == 0;
			return DWARF_CB_ABORT;
		}
	}
	if (n >= FRAMES_MAX)
		return DWARF_CB_ABORT;
	/* frame 0 of a thread is the context, not a return address */
	json_array_append_new(w->frames, describe_frame(s, n, pc, n == 0 ? true : activation, by));
	w->last_pc = pc;
	w->last_sp = sp;
	w->last_bp = bp;
	w->last_activation = n == 0 ? true : activation;
	w->next_by = has_cfi(s, w->last_activation ? pc : pc - 1) ? FOUND_CFI : FOUND_FP;
	return DWARF_CB_OK;
}

/* Looks up the stack from w->last_sp for a word that points into a known function. Returns
 * whether one was found, with the next walk's registers set. */
static bool scan(struct sym *s, struct walk *w, uint64_t from)
{
	for (int i = 0; i < SCAN_WORDS; i++) {
		uint64_t slot = from + 8 * (uint64_t)i, v;
		struct module *m;
		uint64_t start;

		if (!mem_read(s, slot, &v))
			return false;
		m = v ? module_at(s, v - 1) : NULL;
		if (!m)
			continue;
		/* with symbols, only an address inside a function counts; without (a Windows or
		 * unmatched module), any address inside the module, labelled scan */
		if (m->has_elf && (!m->dwfl_mod || !function_at(m->dwfl_mod, v - 1, false, &start)))
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

static json_t *walk_thread(struct sym *s, const struct md_reader_thread *t, const char **ret_err)
{
	struct md_reader_context ctx;
	struct walk w = {.tid = t->tid};
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
	w.first_by = FOUND_CONTEXT;
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
		w.first_by = FOUND_SCAN;
		if (w.regs[DWARF_REG_RIP] == w.last_pc && w.regs[DWARF_REG_RSP] <= w.last_sp)
			break;
	}
	s->walk = NULL;
	return w.frames;
}

/* Reports the modules (s->by_base) to libdwfl at their bases and loads their ELF files now, so
 * that "missing" is complete before the first thread is walked. */
static void report_modules(struct sym *s)
{
	dwfl_report_begin(s->dwfl);
	for (size_t i = 0; i < s->n_modules; i++) {
		struct module *m = s->by_base[i];
		void **ud = NULL;

		/* overlapping modules (a hostile dump) are named, not reported */
		if (i > 0 &&
		    s->by_base[i - 1]->md->base + s->by_base[i - 1]->md->size > m->md->base)
			continue;
		m->dwfl_mod = dwfl_report_module(s->dwfl, m->md->name, m->md->base,
		                                 m->md->base + m->md->size);
		if (m->dwfl_mod &&
		    dwfl_module_info(m->dwfl_mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
			*ud = m;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	/* load every module's ELF now, so "missing" is complete */
	for (size_t i = 0; i < s->n_modules; i++) {
		struct module *m = s->by_base[i];
		Dwarf_Addr bias;

		if (m->dwfl_mod)
			dwfl_module_getelf(m->dwfl_mod, &bias);
		/* a matching debug file counts before libdwfl asks for it */
		if (m->has_elf && m->debug_fd >= 0 && !m->dwarf_bytes) {
			uint64_t bytes = dwarf_size(m->debug_fd);

			if (bytes && build_id_matches(m, m->debug_fd, "the debug file"))
				m->dwarf_bytes = bytes;
		}
		if (m->has_elf && !m->dwarf_bytes && !m->missing[0] && !s->dclient)
			snprintf(m->missing, sizeof(m->missing), "no debug info");
	}
}

/* ---- Setup ---- */

static int usage(FILE *f, int code)
{
	fputs(
	    "Usage: md-symbolize --dump-fd FD [--module INDEX:FD:DEBUGFD]... [--all-threads]\n"
	    "                    [--budget-ms MS] [--debuginfod] [--debuginfod-urls URLS]\n"
	    "                    [--no-seccomp] [--dwarf-max-kib KIB (0: no limit; default 1024)]\n"
	    "       md-symbolize --request-on-stdin\n"
	    "Unwinds and symbolizes the threads of a minidump; prints JSON. Run by mdctl and\n"
	    "minidumpd inside their sandbox, or by minidumpd-symbolize@.service with the\n"
	    "daemon's request on stdin (the arguments above, and the descriptors), not by hand.\n",
	    f);
	return code;
}

/* With --request-on-stdin: failures are also answered, as {"error": "..."}, to the daemon. */
static bool answer_errors;
/* Descriptors the arguments may name: with --request-on-stdin only those the request brought
 * (3 up to this, exclusive). */
static int fd_end = INT_MAX;

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "md-symbolize: %s%s\n", what, detail);
	if (answer_errors) {
		char text[1024];
		json_t *j;

		snprintf(text, sizeof(text), "%s%s", what, detail);
		j = json_pack("{s:s}", "error", text);
		if (j && json_dumpf(j, stdout, JSON_COMPACT) == 0)
			fputc('\n', stdout);
		fflush(stdout);
		json_decref(j);
	}
	return 1;
}

/* A number from the command line or the request: digits only (a leading '-' where negative ones
 * are allowed), within [min, max]. */
static bool parse_num(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && min < 0)))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* A descriptor number: 3 or more and one the request brought, or -1 (none) where none_ok. */
static bool parse_fd(const char *s, bool none_ok, int *ret)
{
	long v;

	if (!parse_num(s, -1, INT_MAX, &v) || (v == -1 && !none_ok) || (v != -1 && v < 3) ||
	    v >= fd_end)
		return false;
	*ret = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dump-fd", required_argument, NULL, 'd'},
	    {"module", required_argument, NULL, 'm'},
	    {"all-threads", no_argument, NULL, 'a'},
	    {"budget-ms", required_argument, NULL, 'b'},
	    {"debuginfod", no_argument, NULL, 'D'},
	    {"no-seccomp", no_argument, NULL, 'S'},
	    {"dwarf-max-kib", required_argument, NULL, 'W'},
	    {"debuginfod-urls", required_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sym s = {0};
	struct md_reader_error rerr;
	const struct md_reader_module_list *mods = NULL;
	const struct md_reader_memory_list *mem = NULL;
	const struct md_reader_exception *exc = NULL;
	int dump_fd = -1, opt, ret;
	bool all_threads = false, seccomp = true, dwarf_max_set = false;
	long budget_ms = BUDGET_MS_DEFAULT;
	struct {
		long index;
		int fd, debug_fd;
	} *margs = NULL;
	size_t n_margs = 0;
	double t0 = now_ms();
	uint32_t crashing_tid = 0;
	bool has_crash = false, truncated = false;
	json_t *out, *threads, *missing;
	struct stat st;
	size_t walked = 0;
	struct sym_scan *scan = NULL;
	char **request_argv = NULL;

	if (argc == 2 && strcmp(argv[1], "--request-on-stdin") == 0) {
		/* an instance of minidumpd-symbolize@.service: the arguments and descriptors come
		 * from the daemon, on the connection that is stdin and stdout */
		char err[256];
		unsigned n_fds;

		answer_errors = true;
		ret = sym_request_receive(0, &argc, &request_argv, &n_fds, err, sizeof(err));
		if (ret < 0)
			return fail(err, "");
		argv = request_argv;
		fd_end = 3 + (int)n_fds;
	}
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (!parse_fd(optarg, false, &dump_fd))
				return fail("bad --dump-fd: ", optarg);
			break;
		case 'm': {
			char idx_s[16], fd_s[16], dfd_s[16];
			long idx;
			int fd, dfd, n = 0;

			/* INDEX:FD:DEBUGFD, nothing more */
			if (sscanf(optarg, "%15[0-9]:%15[-0-9]:%15[-0-9]%n", idx_s, fd_s, dfd_s,
			           &n) != 3 ||
			    optarg[n] != 0 || !parse_num(idx_s, 0, INT_MAX, &idx) ||
			    !parse_fd(fd_s, true, &fd) || !parse_fd(dfd_s, true, &dfd))
				return fail("bad --module: ", optarg);
			if (n_margs >= MODULES_MAX)
				break;
			void *p = realloc(margs, (n_margs + 1) * sizeof(*margs));
			if (!p)
				return fail("out of memory", "");
			margs = p;
			margs[n_margs].index = idx;
			margs[n_margs].fd = fd;
			margs[n_margs].debug_fd = dfd;
			n_margs++;
			break;
		}
		case 'a':
			all_threads = true;
			break;
		case 'b':
			if (!parse_num(optarg, 1, 3600000, &budget_ms))
				return fail("bad --budget-ms: ", optarg);
			break;
		case 'D':
			s.debuginfod = true;
			break;
		case 'S':
			/* the daemon never asks for it; only a person debugging the helper does */
			if (answer_errors)
				return fail("--no-seccomp is refused in a request", "");
			seccomp = false;
			break;
		case 'U':
			/* the request's way of passing what the spawn path passes in the
			 * environment; the cache goes to the instance's private /tmp */
			if (!*optarg || setenv("DEBUGINFOD_URLS", optarg, 1) < 0 ||
			    setenv("DEBUGINFOD_CACHE_PATH", "/tmp/md-symbolize-debuginfod", 1) < 0)
				return fail("bad --debuginfod-urls", "");
			s.debuginfod = true;
			break;
		case 'W': {
			long kib;

			if (!parse_num(optarg, 0, LONG_MAX >> 10, &kib))
				return fail("bad --dwarf-max-kib: ", optarg);
			s.dwarf_max = (uint64_t)kib << 10;
			dwarf_max_set = true;
			break;
		}
		case 'h':
			if (answer_errors)
				return fail("--help is not a request", "");
			return usage(stdout, 0);
		default:
			return answer_errors ? fail("a request with a bad argument", "")
			                     : usage(stderr, 2);
		}
	}
	if (dump_fd < 0 || optind != argc)
		return answer_errors ? fail("a request without --dump-fd, or with stray words", "")
		                     : usage(stderr, 2);
	if (answer_errors) {
		/* the budget holds here as in the spawn path, where the runner kills at its end */
		alarm((unsigned)budget_ms / 1000 + 2);
	}
	if (!dwarf_max_set)
		s.dwarf_max = DWARF_MAX_DEFAULT;
	if (s.debuginfod) {
		/* before the lock-down: libdebuginfod reads its configuration now */
		s.dclient = debuginfod_begin();
	}
	/* Nothing untrusted has been read yet; from here on the process may only compute on
	 * the fds it was given (and, with debuginfod, talk to the network). */
	if (seccomp) {
		ret = sym_seccomp_lock(s.debuginfod);
		if (ret < 0)
			return fail("seccomp: ", strerror(-ret));
	}
	g_sym = &s;
	if (fstat(dump_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return fail("the dump fd is not a non-empty regular file", "");
	s.map_size = (size_t)st.st_size;
	s.map = mmap(NULL, s.map_size, PROT_READ, MAP_PRIVATE, dump_fd, 0);
	if (s.map == MAP_FAILED)
		return fail("mmap of the dump: ", strerror(errno));
	ret = md_reader_open_buffer(s.map, s.map_size, &rerr, &s.r);
	if (ret < 0)
		return fail("not a readable minidump: ", rerr.message);
	if (md_reader_memory_list(s.r, &mem) == 0) {
		s.ranges = calloc(mem->count ? mem->count : 1, sizeof(*s.ranges));
		if (!s.ranges)
			return fail("out of memory", "");
		for (size_t i = 0; i < mem->count; i++) {
			const struct md_reader_memory_range *g = &mem->ranges[i];

			/* the reader checked the range lies in the file */
			if ((uint64_t)g->rva + g->size > s.map_size)
				continue;
			s.ranges[s.n_ranges++] =
			    (struct range){.start = g->start, .size = g->size, .rva = g->rva};
		}
		qsort(s.ranges, s.n_ranges, sizeof(*s.ranges), range_cmp);
	}
	ret = md_reader_threads(s.r, &s.threads);
	if (ret < 0)
		return fail("no thread list: ", md_reader_error(s.r));
	if (md_reader_exception(s.r, &exc) == 0 &&
	    exc->code != MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED) {
		crashing_tid = exc->thread_id;
		has_crash = true;
	}
	if (sym_scan_wanted(s.r) && sym_scan_new(s.r, &scan) < 0)
		return fail("out of memory", "");

	out = json_object();
	missing = json_array();
	s.dwfl = dwfl_begin(&dwfl_callbacks);
	if (!s.dwfl)
		return fail("dwfl_begin: ", dwfl_errmsg(-1));
	if (md_reader_modules(s.r, &mods) == 0 && mods->count) {
		size_t n = mods->count < MODULES_MAX ? mods->count : MODULES_MAX;

		s.modules = calloc(n, sizeof(*s.modules));
		s.by_base = calloc(n, sizeof(*s.by_base));
		if (!s.modules || !s.by_base)
			return fail("out of memory", "");
		for (size_t i = 0; i < n; i++) {
			struct module *m = &s.modules[i];

			m->md = &mods->modules[i];
			m->fd = m->debug_fd = -1;
			for (size_t k = 0; k < n_margs; k++) {
				if ((size_t)margs[k].index == i) {
					m->fd = margs[k].fd;
					m->debug_fd = margs[k].debug_fd;
				}
			}
			if (m->md->size)
				s.by_base[s.n_modules++] = m;
		}
		qsort(s.by_base, s.n_modules, sizeof(*s.by_base), module_cmp);
		if (scan) {
			/* nothing for libdwfl: module + offset only, and why */
			for (size_t i = 0; i < s.n_modules; i++)
				snprintf(s.by_base[i]->missing, sizeof(s.by_base[i]->missing), "%s",
				         SYM_SCAN_MISSING);
		} else {
			report_modules(&s);
		}
	}
	{
		/* libdwfl takes the architecture from an ELF header; the dump's is x86_64 (the
		 * only CPU unwound), so hand it one made up rather than any module's */
		static Elf64_Ehdr ehdr = {
		    .e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
		                EV_CURRENT},
		    .e_type = ET_CORE,
		    .e_machine = EM_X86_64,
		    .e_version = EV_CURRENT,
		    .e_ehsize = sizeof(Elf64_Ehdr),
		};
		elf_version(EV_CURRENT);
		s.arch_elf = elf_memory((char *)&ehdr, sizeof(ehdr));
		if (!s.arch_elf || !dwfl_attach_state(s.dwfl, s.arch_elf, 1, &thread_callbacks, &s))
			return fail("dwfl_attach_state: ", dwfl_errmsg(-1));
	}

	threads = json_array();
	/* the crashing thread first, then the others in dump order, within the budget */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s.threads->count; i++) {
			const struct md_reader_thread *t = &s.threads->threads[i];
			bool crashed = has_crash && t->tid == crashing_tid;
			const char *err = NULL, *name;
			json_t *frames, *th;

			if (pass == 0 ? !(crashed || (!has_crash && i == 0))
			              : (crashed || (!has_crash && i == 0)))
				continue;
			if (pass == 1 && !all_threads)
				break;
			if (pass == 1 && now_ms() - t0 > (double)budget_ms * 0.8) {
				truncated = true;
				break;
			}
			if (scan) {
				/* the crashing thread's registers at the fault are the exception's
				 * (Windows records the thread's own where the dump was written) */
				md_location ctx =
				    crashed && exc->context.data_size ? exc->context : t->context;

				frames = sym_scan_thread(scan, t, ctx, &err);
			} else {
				frames = walk_thread(&s, t, &err);
			}
			walked++;
			th = json_pack("{s:I, s:b}", "tid", (json_int_t)t->tid, "crashed", crashed);
			name = md_reader_thread_name(s.r, t->tid);
			if (name)
				json_object_set_new(th, "name", json_string(name));
			json_object_set_new(th, "frames", frames ? frames : json_array());
			if (err)
				json_object_set_new(th, "error", json_string(err));
			json_array_append_new(threads, th);
		}
	}
	for (size_t i = 0; i < s.n_modules; i++) {
		struct module *m = s.by_base[i];

		if (m->missing[0])
			json_array_append_new(
			    missing, json_pack("{s:s, s:s, s:s}", "module", base_name(m->md->name),
			                       "code_id", m->md->code_id, "reason", m->missing));
	}
	json_object_set_new(
	    out, "symbolizer",
	    json_pack("{s:s, s:s, s:f, s:I, s:I, s:b, s:o}", "version", MD_VERSION_STRING,
	              "elfutils", dwfl_version(s.dwfl) ? dwfl_version(s.dwfl) : "", "elapsed_ms",
	              now_ms() - t0, "threads_walked", (json_int_t)walked, "threads_total",
	              (json_int_t)s.threads->count, "truncated", truncated, "missing", missing));
	if (has_crash)
		json_object_set_new(out, "crashing_tid", json_integer(crashing_tid));
	json_object_set_new(out, "threads", threads);
	ret = json_dumpf(out, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF &&
	              fflush(stdout) == 0
	          ? 0
	          : 1;
	json_decref(out);
	dwfl_end(s.dwfl);
	if (s.arch_elf)
		elf_end(s.arch_elf); /* libdwfl does not take it over */
	if (s.dclient)
		debuginfod_end(s.dclient);
	sym_scan_free(scan);
	md_reader_free(s.r);
	free(request_argv);
	free(s.by_base);
	free(s.modules);
	free(s.ranges);
	free(margs);
	munmap((void *)s.map, s.map_size);
	return ret;
}
