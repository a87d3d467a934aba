/* SPDX-License-Identifier: MIT */
/*
 * The ELF core stream the kernel writes for a crashing task (to a core file, a core_pattern
 * pipe or the coredump socket), read front to back: the ELF header, the program headers and
 * the PT_NOTE segment, which the kernel writes before any memory. Only what a minidump needs is
 * kept (every thread's registers, the signal, the auxiliary vector, the mapped files, the
 * process's name and ids); everything else is read past without being stored, so memory stays
 * bounded whatever the stream claims. The stream is hostile input: every count, size and offset
 * is checked before use, and a stream that breaks a bound is refused with -EBADMSG (or -E2BIG
 * past a limit below), with a sentence in md_core.error. Nothing here logs, knows a pid or
 * opens a file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-snapshot.h"

#define MD_CORE_PHNUM_MAX     65534u         /* program headers (PN_XNUM is refused) */
#define MD_CORE_PHOFF_MAX     (1u << 20)     /* bytes before the program headers */
#define MD_CORE_NOTES_MAX     (256ull << 20) /* bytes of the PT_NOTE segment */
#define MD_CORE_THREADS_MAX   65536u         /* NT_PRSTATUS notes kept */
#define MD_CORE_FILE_NOTE_MAX (16u << 20)    /* bytes of NT_FILE kept */
#define MD_CORE_FILES_MAX     (1u << 20)     /* entries of NT_FILE */
#define MD_CORE_AUXV_MAX      8192u          /* bytes of NT_AUXV kept */
#define MD_CORE_NOTE_NAME_MAX 64u            /* bytes of a note's name that are compared */
#define MD_CORE_GREGS_MAX     512u           /* bytes of a thread's pr_reg */
#define MD_CORE_FXSAVE_SIZE   512u           /* bytes of the x86 FXSAVE image */
#define MD_CORE_ERROR_MAX     160u

/* One thread: its NT_PRSTATUS and the first bytes of its floating-point regset. */
struct md_core_thread {
	uint32_t tid;       /* pr_pid: in the task's own pid namespace */
	int32_t cursig;     /* pr_cursig */
	uint32_t gregs_len; /* bytes in gregs */
	uint8_t gregs[MD_CORE_GREGS_MAX];
	bool has_fx; /* NT_X86_XSTATE (its first 512 bytes) or NT_PRFPREG */
	bool fx_from_xstate;
	uint8_t fx[MD_CORE_FXSAVE_SIZE];
};

/* A PT_LOAD segment: where the memory was and where its bytes are in the stream. */
struct md_core_load {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz; /* filesz < memsz: the rest was not dumped */
	uint32_t flags;          /* PF_R | PF_W | PF_X */
};

/* An NT_FILE entry: a file-backed mapping. path points into md_core.file_note. */
struct md_core_file {
	uint64_t start, end, pgoff; /* pgoff in bytes (page offset times the note's page size) */
	const char *path;
};

struct md_core {
	struct md_core_load *loads; /* sorted by vaddr as in the stream; NULL if none */
	size_t n_loads;
	struct md_core_thread *threads; /* threads[0] is the one that took the signal */
	size_t n_threads;
	bool has_siginfo;
	int32_t sig_signo, sig_errno, sig_code;
	uint64_t sig_addr; /* for the fault signals (SEGV, BUS, ILL, FPE, TRAP); else 0 */
	bool has_psinfo;
	uint32_t ps_uid, ps_gid;
	int32_t ps_pid, ps_ppid;
	char ps_fname[17];
	char ps_args[81];
	uint8_t *auxv; /* NT_AUXV bytes, at most MD_CORE_AUXV_MAX */
	size_t auxv_len;
	char *file_note; /* NT_FILE copied, the paths NUL-terminated in place */
	struct md_core_file *files;
	size_t n_files;
	uint64_t consumed; /* bytes of the stream read so far (it stops after the notes) */
	char error[MD_CORE_ERROR_MAX]; /* why the stream was refused */
};

/* Reads up to len bytes; returns the bytes read (0 at the end of the stream) or -errno. */
typedef long (*md_core_read_fn)(void *ctx, void *buf, size_t len);

/*
 * Reads the stream up to the end of its notes into ret (zeroed first). Returns 0; -EBADMSG for
 * a stream that is not a 64-bit little-endian ELF core of this architecture or breaks its own
 * layout; -E2BIG past a limit above; -EPIPE when it ends early; -ENOMEM; or read's -errno. On
 * error ret->error says why and whatever was allocated is freed.
 */
int md_core_parse(md_core_read_fn read, void *ctx, struct md_core *ret);

/* md_core_parse over an fd (a socket, a pipe or a file read from its current offset). */
int md_core_parse_fd(int fd, struct md_core *ret);

void md_core_done(struct md_core *c);

/* Values of NT_AUXV: 0 when absent. */
uint64_t md_core_auxv(const struct md_core *c, uint64_t type);

/* The ELF machine (EM_*) of this build; cores of another are refused. */
uint16_t md_linux_arch_elf_machine(void);

/*
 * Converts a core thread's registers into the minidump context of this architecture and gives
 * its stack pointer and program counter. -EBADMSG if gregs is too short for this layout.
 */
int md_linux_arch_core_context(const struct md_core_thread *t, struct md_context *ret,
                               uint64_t *ret_sp, uint64_t *ret_pc);
