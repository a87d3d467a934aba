/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's shared state: the dump's memory and modules, the unwinder's walk of one
 * thread, and the functions the helper's files call across each other (sym-modules.c finds
 * each module's ELF and debug file, sym-unwind.c walks the stacks, sym-frame.c names a frame,
 * md-symbolize.c drives them and prints). Internal to the helper; never used elsewhere.
 */
#pragma once

#include <elfutils/debuginfod.h>
#include <elfutils/libdwfl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-reader.h"

struct sym_walk;

#define SYM_MODULES_MAX 4096 /* modules reported to libdwfl; the rest are named only */

enum sym_found_by { SYM_FOUND_CONTEXT, SYM_FOUND_CFI, SYM_FOUND_FP, SYM_FOUND_SCAN };

struct sym_module {
	const struct md_reader_module *md;
	int fd;                     /* the file at the module's path, or -1 */
	int debug_fd;               /* the separate debug file found by build id, or -1 */
	debuginfod_client *dclient; /* asked for what fd and debug_fd lack, or NULL */
	Dwfl_Module *dwfl_mod;
	bool has_elf;         /* libdwfl loaded an ELF whose build id matched */
	uint64_t dwarf_bytes; /* .debug_* bytes on disk in its file or debug file */
	const char *source;   /* where the ELF came from: "file", "debug-file", "debuginfod" */
	char missing[320];    /* why there is no (or only a partial) symbol source; "" if none */
};

/* A file the caller opened for one module of the dump's module list (--module). */
struct sym_module_arg {
	long index; /* in the dump's module list */
	int fd, debug_fd;
};

struct sym_range {
	uint64_t start;
	uint64_t size;
	uint64_t rva;
};

struct sym {
	struct md_reader *r;
	const uint8_t *map; /* the dump, mapped read-only */
	size_t map_size;
	struct sym_range *ranges; /* MemoryList, sorted by start */
	size_t n_ranges;
	struct sym_module *modules;  /* in dump order */
	struct sym_module **by_base; /* sorted by base, for address lookup; n_modules of them */
	size_t n_modules;
	Dwfl *dwfl;
	bool debuginfod;
	debuginfod_client *dclient;
	uint64_t dwarf_max;    /* modules with more DWARF get names from symbols, no file:line */
	struct sym_walk *walk; /* the walk in progress */
	const struct md_reader_thread_list *threads;
	Elf *arch_elf; /* the ELF header that tells libdwfl the architecture */
};

/* sym-modules.c */

/* Reports the dump's modules to a new s->dwfl, with the files in args (n_args of them), and
 * loads each one's ELF so that every module's "missing" is known. Returns 0, or -ENOMEM; on
 * -EIO libdwfl failed (dwfl_errmsg says why). With no_elf (a Windows dump, walked by stack
 * scan), no file is read and every module's "missing" says no_elf. */
int sym_modules_load(struct sym *s, const struct sym_module_arg *args, size_t n_args,
                     const char *no_elf);

/* The module whose address range holds addr, or NULL. */
struct sym_module *sym_module_at(const struct sym *s, uint64_t addr);

/* The file name of a module's path, Linux or Windows ("C:\\windows\\system32\\ntdll.dll"). */
const char *sym_module_file_name(const struct sym_module *m);

/* Whether m's DWARF is small enough (--dwarf-max-kib) to be read for names and file:line. */
bool sym_module_use_dwarf(const struct sym *s, const struct sym_module *m);

/* One {"module", "code_id", "reason"} per module that lacks a symbol source, in base order. */
json_t *sym_modules_missing(const struct sym *s);

/* sym-unwind.c */

/* Indexes the dump's MemoryList for the unwinder. Returns 0 or -ENOMEM. */
int sym_memory_load(struct sym *s);

/* Reads the 8-byte word at addr from the dump's memory; false when the dump lacks it. */
bool sym_memory_read(const struct sym *s, uint64_t addr, uint64_t *ret);

/* Hands libdwfl the architecture and the thread callbacks. Returns 0, or -EIO (dwfl_errmsg
 * says why). */
int sym_unwind_attach(struct sym *s);

/* Unwinds thread t: a JSON array of frames, or NULL with *ret_err saying why. */
json_t *sym_unwind_thread(struct sym *s, const struct md_reader_thread *t, const char **ret_err);

/* sym-frame.c */

/* The function holding addr in mod (from DWARF when dwarf, else from the symbol table), with
 * its start; NULL when none. The name is owned by libdwfl. Cached. */
const char *sym_function_at(Dwfl_Module *mod, uint64_t addr, bool dwarf, uint64_t *ret_start);

/* Frame number index at pc as JSON: module, offset, function, file:line, or what is missing.
 * activation: pc is where the thread was, not a return address. */
json_t *sym_frame_describe(const struct sym *s, size_t index, uint64_t pc, bool activation,
                           enum sym_found_by by);
