/* SPDX-License-Identifier: MIT */
/*
 * Reading an ELF image of the target (linux-elf.c), for the module list (linux-modules.c): its
 * identifier, DT_SONAME and PT_LOAD program headers, from the target's memory or its file.
 * The image is the target's to forge: every count, offset and size read is bounded.
 */
#pragma once

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>

#include "linux-internal.h"

#define MD_LINUX_SONAME_MAX 256 /* bytes of a DT_SONAME, NUL included */

/* What one ELF image says about itself: its identifier and DT_SONAME. */
struct md_linux_elf_ident {
	enum md_module_id_kind kind;
	uint32_t id_len;
	uint8_t id[MD_BUILD_ID_MAX];
	char soname[MD_LINUX_SONAME_MAX];
	bool dynamic_read; /* the dynamic section was read (so a missing soname is final) */
};

/* Reads exactly len bytes of the target's memory: 0, -EFAULT for a short read, or -errno. */
int md_linux_read_exact(struct md_snapshot *s, uint64_t addr, void *buf, size_t len);

/* Whether eh is a 64-bit little-endian ELF header this code can read the program headers of. */
bool md_linux_elf_ehdr_ok(const Elf64_Ehdr *eh);

/* Build id and soname from the image whose ELF header eh was read at start in the target; the
 * module it becomes spans start to end. Fills what it finds in ret. */
void md_linux_elf_ident_from_memory(struct md_snapshot *s, uint64_t start, uint64_t end,
                                    const Elf64_Ehdr *eh, struct md_linux_elf_ident *ret);

/* Build id (section .note.gnu.build-id, else PT_NOTE), DT_SONAME and, when there is no build
 * id, the .text fold, from the ELF file. Fills only what ret still lacks. */
void md_linux_elf_ident_from_file(int fd, struct md_linux_elf_ident *ret);

/* The image's PT_LOAD program headers, read in the target's memory at start (where its ELF
 * header is); NULL if they cannot be read or make no sense. *ret_lo is the lowest PT_LOAD's
 * page, *ret_span the bytes from there to the end of the highest, page-rounded. Owned. */
Elf64_Phdr *md_linux_elf_read_loads(struct md_snapshot *s, uint64_t start, size_t *ret_n,
                                    uint64_t *ret_lo, uint64_t *ret_span);

/* Where file offset off of the image based at lo lies, relative to lo, from the PT_LOAD that
 * maps it; -ENOENT if none does. */
int md_linux_elf_offset_to_rel(const Elf64_Phdr *ph, size_t n, uint64_t lo, uint64_t off,
                               uint64_t *ret_rel);
